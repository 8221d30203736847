/*
 * The ids test API, version 2 (test codegen-golden-ids): ids_v1.abi is the
 * manifest of version 1, which declared only ids_first and ids_second.
 * Version 2 inserts ids_inserted before them and appends ids_appended; with
 * ava_call_ids the old functions keep their call ids.
 */
#ifndef IDS_H
#define IDS_H

typedef enum ids_err {
	IDS_OK = 0,
	IDS_ERR = 1,
} ids_err;

typedef struct ids_obj_s *ids_obj;

ids_err ids_inserted(ids_obj obj, int x);
ids_err ids_first(ids_obj obj, int x);
ids_err ids_second(int x, int y);
ids_err ids_appended(void);

#endif /* IDS_H */
