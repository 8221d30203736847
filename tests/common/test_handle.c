/* SPDX-License-Identifier: MIT */
/* Handle tables: ids, stale and foreign ids, capacity, reverse lookup, drain, threads. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "ava/abi.h"
#include "ava/handle.h"
#include "check.h"
#include "handle-private.h"

#define INDEX_OF(id) ((uint32_t)((id)&0xffffffu))
#define GEN_OF(id)   ((uint32_t)(((id) >> 24) & 0xffffffu))
#define EPOCH_OF(id) ((uint8_t)((id) >> 56))

static int objs[64];

static void test_basic(void)
{
	ava_handle_table *t;
	uint64_t a, b, again;
	void *p;

	CHECK_INT(ava_handle_table_new(7, 0, &t), -EINVAL);
	CHECK_INT(ava_handle_table_new(7, 1u << 24, &t), -EINVAL);
	CHECK_INT(ava_handle_table_new(7, 16, &t), 0);
	CHECK_INT(ava_handle_table_count(t), 0);

	CHECK_INT(ava_handle_table_insert(t, 1, NULL, &a), -EINVAL);
	CHECK_INT(ava_handle_table_insert(t, 0, &objs[0], &a), -EINVAL);
	CHECK_INT(ava_handle_table_insert(t, 256, &objs[0], &a), -EINVAL);

	CHECK_INT(ava_handle_table_insert(t, 3, &objs[0], &a), 0);
	CHECK_INT(ava_handle_table_insert(t, 3, &objs[1], &b), 0);
	CHECK(a != 0 && b != 0 && a != b);
	CHECK(INDEX_OF(a) != 0 && INDEX_OF(b) != 0);
	CHECK_INT(AVA_HANDLE_TYPE_OF(a), 3);
	CHECK_INT(EPOCH_OF(a), 7);
	CHECK(a != (uint64_t)(uintptr_t)&objs[0]); /* never a host pointer */
	CHECK_INT(ava_handle_table_count(t), 2);

	/* Reverse lookup: the same pointer gets the same id; another type is refused. */
	CHECK_INT(ava_handle_table_insert(t, 3, &objs[0], &again), 0);
	CHECK(again == a);
	CHECK_INT(ava_handle_table_count(t), 2);
	CHECK_INT(ava_handle_table_insert(t, 4, &objs[0], &again), -EEXIST);

	CHECK_INT(ava_handle_table_lookup(t, a, 3, &p), 0);
	CHECK(p == &objs[0]);
	CHECK_INT(ava_handle_table_lookup(t, b, 3, &p), 0);
	CHECK(p == &objs[1]);

	/* Wrong type: the id is live but the caller expects another type. */
	CHECK_INT(ava_handle_table_lookup(t, a, 4, &p), -EINVAL);
	CHECK_INT(ava_handle_table_remove(t, a, 4), -EINVAL);
	/* A forged tag on a live index/generation is not that object. */
	CHECK_INT(
	    ava_handle_table_lookup(t, (a & ~(UINT64_C(0xff) << 48)) | UINT64_C(4) << 48, 4, &p),
	    -ENOENT);
	/* Another table's epoch. */
	CHECK_INT(
	    ava_handle_table_lookup(t, (a & ~(UINT64_C(0xff) << 56)) | UINT64_C(8) << 56, 3, &p),
	    -ENOENT);
	/* Unknown, zero and out-of-range indexes. */
	CHECK_INT(ava_handle_table_lookup(t, 0, 3, &p), -ENOENT);
	CHECK_INT(ava_handle_table_lookup(t, (a & ~UINT64_C(0xffffff)) | 0xffffff, 3, &p), -ENOENT);
	CHECK_INT(ava_handle_table_lookup(t, (a & ~UINT64_C(0xffffff)), 3, &p), -ENOENT);
	CHECK_INT(ava_handle_table_lookup(t, UINT64_MAX, 3, &p), -ENOENT);

	/* Remove makes the id stale; a reused slot gets a new generation. */
	CHECK_INT(ava_handle_table_remove(t, a, 3), 0);
	CHECK_INT(ava_handle_table_count(t), 1);
	CHECK_INT(ava_handle_table_lookup(t, a, 3, &p), -ENOENT);
	CHECK_INT(ava_handle_table_remove(t, a, 3), -ENOENT);
	CHECK_INT(ava_handle_table_insert(t, 3, &objs[2], &again), 0);
	CHECK_INT(INDEX_OF(again), INDEX_OF(a));
	CHECK_INT(GEN_OF(again), GEN_OF(a) + 1);
	CHECK_INT(ava_handle_table_lookup(t, a, 3, &p), -ENOENT);
	CHECK_INT(ava_handle_table_lookup(t, again, 3, &p), 0);
	CHECK(p == &objs[2]);
	/* The removed pointer is no longer known to the reverse map. */
	CHECK_INT(ava_handle_table_insert(t, 5, &objs[0], &a), 0);
	CHECK_INT(AVA_HANDLE_TYPE_OF(a), 5);

	ava_handle_table_free(t);
	ava_handle_table_free(NULL);
}

static void test_epochs(void)
{
	ava_handle_table *t1, *t2;
	uint64_t a;
	void *p;

	CHECK_INT(ava_handle_table_new(1, 8, &t1), 0);
	CHECK_INT(ava_handle_table_new(2, 8, &t2), 0);
	CHECK_INT(ava_handle_table_insert(t1, 1, &objs[0], &a), 0);
	CHECK_INT(ava_handle_table_insert(t2, 1, &objs[5], &(uint64_t){ 0 }), 0);
	/* Same index and generation in t2, but the epoch differs. */
	CHECK_INT(ava_handle_table_lookup(t2, a, 1, &p), -ENOENT);
	CHECK_INT(ava_handle_table_remove(t2, a, 1), -ENOENT);
	CHECK_INT(ava_handle_table_count(t2), 1);
	ava_handle_table_free(t1);
	ava_handle_table_free(t2);
}

static void test_full(void)
{
	ava_handle_table *t;
	uint64_t ids[4], x;

	CHECK_INT(ava_handle_table_new(0, 4, &t), 0);
	for (int i = 0; i < 4; i++)
		CHECK_INT(ava_handle_table_insert(t, 1, &objs[i], &ids[i]), 0);
	CHECK_INT(ava_handle_table_insert(t, 1, &objs[4], &x), -ENOSPC);
	/* A pointer already present still resolves when full. */
	CHECK_INT(ava_handle_table_insert(t, 1, &objs[2], &x), 0);
	CHECK(x == ids[2]);
	CHECK_INT(ava_handle_table_remove(t, ids[1], 1), 0);
	CHECK_INT(ava_handle_table_insert(t, 1, &objs[4], &x), 0);
	CHECK_INT(ava_handle_table_insert(t, 1, &objs[5], &x), -ENOSPC);
	CHECK_INT(ava_handle_table_count(t), 4);
	ava_handle_table_free(t);
}

static void test_retire(void)
{
	ava_handle_table *t;
	uint64_t a, b;
	void *p;

	CHECK_INT(ava_handle_table_new(0, 2, &t), 0);
	CHECK_INT(ava_handle_table_insert(t, 1, &objs[0], &a), 0);
	CHECK_INT(ava_handle_table_set_generation_for_test(t, INDEX_OF(a), 0xfffffe), 0);
	CHECK_INT(ava_handle_table_lookup(t, a, 1, &p), -ENOENT); /* generation moved on */
	a = (a & ~(UINT64_C(0xffffff) << 24)) | UINT64_C(0xfffffe) << 24;
	CHECK_INT(ava_handle_table_remove(t, a, 1), 0);
	/* Generation 0xffffff: the last one this slot can carry. */
	CHECK_INT(ava_handle_table_insert(t, 1, &objs[1], &b), 0);
	CHECK_INT(INDEX_OF(b), INDEX_OF(a));
	CHECK_INT(GEN_OF(b), 0xffffff);
	CHECK_INT(ava_handle_table_remove(t, b, 1), 0);
	/* The slot is retired: the next insert gets a fresh index, never generation 0 again. */
	CHECK_INT(ava_handle_table_insert(t, 1, &objs[2], &a), 0);
	CHECK(INDEX_OF(a) != INDEX_OF(b));
	CHECK_INT(ava_handle_table_lookup(t, b, 1, &p), -ENOENT);
	CHECK_INT(ava_handle_table_lookup(t, b & ~(UINT64_C(0xffffff) << 24), 1, &p), -ENOENT);
	CHECK_INT(ava_handle_table_count(t), 1);
	ava_handle_table_free(t);
}

struct drained {
	int n;
	void *ptrs[16];
	uint16_t types[16];
	uint32_t refs[16];
	ava_handle_table *t;
};

static void drain_fn(uint16_t type, void *ptr, uint32_t refs, void *ctx)
{
	struct drained *d = ctx;

	d->refs[d->n] = refs;
	d->types[d->n] = type;
	d->ptrs[d->n++] = ptr;
	/* fn may use the table: the entry is already gone. */
	CHECK_INT(ava_handle_table_count(d->t), 5u - (unsigned)d->n);
}

/* Retain/release: an entry lives while the guest holds a reference. */
static void test_refs(void)
{
	ava_handle_table *t;
	uint64_t id, again;
	void *p;
	int removed;

	CHECK_INT(ava_handle_table_new(3, 16, &t), 0);
	CHECK_INT(ava_handle_table_insert(t, 1, &objs[0], &id), 0);
	CHECK_INT(ava_handle_table_ref(t, id, 1), 0); /* created */
	CHECK_INT(ava_handle_table_ref(t, id, 1), 0); /* retained */
	CHECK_INT(ava_handle_table_ref(t, id, 2), -EINVAL);
	CHECK_INT(ava_handle_table_unref(t, id, 1, &removed), 0);
	CHECK_INT(removed, 0);
	CHECK_INT(ava_handle_table_lookup(t, id, 1, &p), 0);
	/* Shown again (an info query): same id, no new reference. */
	CHECK_INT(ava_handle_table_insert(t, 1, &objs[0], &again), 0);
	CHECK(again == id);
	CHECK_INT(ava_handle_table_unref(t, id, 1, &removed), 0);
	CHECK_INT(removed, 1);
	CHECK_INT(ava_handle_table_lookup(t, id, 1, &p), -ENOENT);
	CHECK_INT(ava_handle_table_unref(t, id, 1, &removed), -ENOENT);
	CHECK_INT(removed, 0);
	/* A borrowed entry goes at its first release. */
	CHECK_INT(ava_handle_table_insert(t, 2, &objs[1], &id), 0);
	CHECK_INT(ava_handle_table_unref(t, id, 2, &removed), 0);
	CHECK_INT(removed, 1);
	ava_handle_table_free(t);
}

static void test_drain(void)
{
	struct drained d = { 0 };
	ava_handle_table *t;
	uint64_t ids[6];

	CHECK_INT(ava_handle_table_new(0, 16, &t), 0);
	d.t = t;
	for (int i = 0; i < 6; i++)
		CHECK_INT(ava_handle_table_insert(t, (uint16_t)(1 + i % 2), &objs[i], &ids[i]), 0);
	CHECK_INT(ava_handle_table_remove(t, ids[2], 1), 0);
	/* Reusing a slot must not change creation order: objs[6] is newest. */
	CHECK_INT(ava_handle_table_insert(t, 1, &objs[6], &ids[2]), 0);
	CHECK_INT(ava_handle_table_remove(t, ids[0], 1), 0);
	/* objs[5] is referenced twice by the guest, objs[4] once, the rest borrowed. */
	CHECK_INT(ava_handle_table_ref(t, ids[5], 2), 0);
	CHECK_INT(ava_handle_table_ref(t, ids[5], 2), 0);
	CHECK_INT(ava_handle_table_ref(t, ids[4], 1), 0);
	ava_handle_table_drain(t, drain_fn, &d);
	CHECK_INT(d.n, 5);
	CHECK_INT(d.refs[0], 0);
	CHECK_INT(d.refs[1], 2);
	CHECK_INT(d.refs[2], 1);
	CHECK(d.ptrs[0] == &objs[6] && d.types[0] == 1);
	CHECK(d.ptrs[1] == &objs[5] && d.types[1] == 2);
	CHECK(d.ptrs[2] == &objs[4] && d.types[2] == 1);
	CHECK(d.ptrs[3] == &objs[3] && d.types[3] == 2);
	CHECK(d.ptrs[4] == &objs[1] && d.types[4] == 2);
	CHECK_INT(ava_handle_table_count(t), 0);
	for (int i = 0; i < 6; i++) {
		void *p;

		CHECK_INT(ava_handle_table_lookup(t, ids[i], AVA_HANDLE_TYPE_OF(ids[i]), &p),
			  -ENOENT);
	}
	ava_handle_table_drain(t, drain_fn, &d); /* empty: no calls */
	CHECK_INT(d.n, 5);
	ava_handle_table_free(t);
}

/* Many objects: growth of slots and of the reverse map keep every mapping. */
static void test_many(void)
{
	enum { N = 50000 };
	static char many[N];
	static uint64_t ids[N];
	ava_handle_table *t;
	void *p;

	CHECK_INT(ava_handle_table_new(9, N, &t), 0);
	for (int i = 0; i < N; i++)
		CHECK_INT(ava_handle_table_insert(t, 2, &many[i], &ids[i]), 0);
	CHECK_INT(ava_handle_table_insert(t, 2, &objs[0], &(uint64_t){ 0 }), -ENOSPC);
	for (int i = 0; i < N; i += 7) {
		uint64_t again;

		CHECK_INT(ava_handle_table_lookup(t, ids[i], 2, &p), 0);
		CHECK(p == &many[i]);
		CHECK_INT(ava_handle_table_insert(t, 2, &many[i], &again), 0);
		CHECK(again == ids[i]);
	}
	for (int i = 0; i < N; i += 2)
		CHECK_INT(ava_handle_table_remove(t, ids[i], 2), 0);
	CHECK_INT(ava_handle_table_count(t), N / 2);
	for (int i = 1; i < N; i += 2) {
		CHECK_INT(ava_handle_table_lookup(t, ids[i], 2, &p), 0);
		CHECK(p == &many[i]);
	}
	ava_handle_table_free(t);
}

enum { THREADS = 8, PER_THREAD = 2000 };
static char thread_objs[THREADS][PER_THREAD];
static uint64_t thread_ids[THREADS][PER_THREAD];

struct worker {
	ava_handle_table *t;
	int n;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		void *p;

		if (ava_handle_table_insert(w->t, 1, &thread_objs[w->n][i], &thread_ids[w->n][i]))
			return "insert failed";
		/* Every thread also inserts a shared pointer: all must get one id. */
		if (ava_handle_table_insert(w->t, 1, &objs[i % 8], &(uint64_t){ 0 }))
			return "shared insert failed";
		if (ava_handle_table_lookup(w->t, thread_ids[w->n][i], 1, &p) ||
		    p != &thread_objs[w->n][i])
			return "lookup failed";
		if (i % 3 == 0 && ava_handle_table_remove(w->t, thread_ids[w->n][i], 1))
			return "remove failed";
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[THREADS];
	struct worker w[THREADS];
	ava_handle_table *t;
	unsigned expect = 8;

	CHECK_INT(ava_handle_table_new(0, THREADS * PER_THREAD + 8, &t), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ t, i };
		CHECK_INT(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		void *res;

		CHECK_INT(pthread_join(th[i], &res), 0);
		if (res)
			fprintf(stderr, "thread %d: %s\n", i, (const char *)res);
		CHECK(res == NULL);
	}
	for (int i = 0; i < PER_THREAD; i++)
		expect += i % 3 != 0;
	expect = 8 + (expect - 8) * THREADS;
	CHECK_INT(ava_handle_table_count(t), expect);
	/* All ids distinct and still mapped. */
	for (int n = 0; n < THREADS; n++) {
		for (int i = 0; i < PER_THREAD; i++) {
			void *p;
			int r = ava_handle_table_lookup(t, thread_ids[n][i], 1, &p);

			if (i % 3 == 0) {
				CHECK_INT(r, -ENOENT);
			} else {
				CHECK_INT(r, 0);
				CHECK(p == &thread_objs[n][i]);
			}
		}
	}
	ava_handle_table_free(t);
}

int main(void)
{
	test_basic();
	test_epochs();
	test_full();
	test_retire();
	test_drain();
	test_refs();
	test_many();
	test_threads();
	printf("test_handle: ok\n");
	return 0;
}
