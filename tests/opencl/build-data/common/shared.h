#define SHARED_VAL 5
