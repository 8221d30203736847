/* SPDX-License-Identifier: MIT */
/*
 * Memory and object quotas (hv-router/quota.c): the exact boundary,
 * reserve/commit/abort, reference counts, session and account release,
 * limits lowered on reload, and a randomised run of interleaved
 * reservations that checks the limit invariant after every step.
 */
#include <errno.h>
#include <stdint.h>

#include "ava/policy.h"
#include "check.h"
#include "quota.h"

#define MIB (1ull << 20)

_Static_assert(AVA_QUOTA_UNLIMITED == AVA_POLICY_UNLIMITED, "policy and quota agree on unlimited");

/* Reserves and commits bytes as one object under (session, handle). */
static void alloc_ok(struct ava_quota *q, struct ava_quota_account *a, uint64_t bytes,
		     uint64_t session, uint64_t handle)
{
	struct ava_quota_resv *r;
	CHECK_INT(ava_quota_reserve(a, bytes, 1, &r), 0);
	CHECK(r != NULL);
	CHECK_INT(ava_quota_commit(q, r, session, handle), 0);
}

static void test_boundary(void)
{
	struct ava_quota q;
	struct ava_quota_account a;
	struct ava_quota_resv *r1, *r2, *r3;

	ava_quota_init(&q);
	ava_quota_account_init(&a, 100 * MIB, AVA_QUOTA_UNLIMITED);

	/* Exactly at the limit passes; one byte over fails. */
	CHECK_INT(ava_quota_reserve(&a, 100 * MIB + 1, 1, &r1), -EDQUOT);
	CHECK(r1 == NULL);
	CHECK_INT(ava_quota_reserve(&a, 100 * MIB, 1, &r1), 0);
	CHECK_INT(a.reserved_bytes, 100 * MIB);
	CHECK_INT(ava_quota_reserve(&a, 1, 1, &r2), -EDQUOT);
	ava_quota_abort(r1);
	CHECK_INT(a.reserved_bytes, 0);
	CHECK_INT(a.reserved_objects, 0);

	/* Reserved and used both count: 60 used + 30 reserved leaves exactly 10. */
	alloc_ok(&q, &a, 60 * MIB, 1, 10);
	CHECK_INT(ava_quota_reserve(&a, 30 * MIB, 1, &r1), 0);
	CHECK_INT(ava_quota_reserve(&a, 10 * MIB + 1, 1, &r2), -EDQUOT);
	CHECK_INT(ava_quota_reserve(&a, 10 * MIB, 1, &r2), 0);
	CHECK_INT(ava_quota_reserve(&a, 1, 0, &r3), -EDQUOT);
	CHECK_INT(a.n_refused, 4);
	/* A failed call gives its bytes back; a successful one makes them used. */
	ava_quota_abort(r1);
	CHECK_INT(ava_quota_commit(&q, r2, 1, 11), 0);
	CHECK_INT(a.used_bytes, 70 * MIB);
	CHECK_INT(a.reserved_bytes, 0);
	CHECK_INT(a.n_objects, 2);
	CHECK_INT(a.peak_bytes, 70 * MIB);
	CHECK_INT(ava_quota_object_bytes(&q, 1, 11), 10 * MIB);

	/* Unlimited is unlimited, without overflow. */
	struct ava_quota_account u;
	ava_quota_account_init(&u, AVA_QUOTA_UNLIMITED, AVA_QUOTA_UNLIMITED);
	CHECK_INT(ava_quota_reserve(&u, UINT64_MAX, 1, &r1), 0);
	CHECK_INT(ava_quota_reserve(&u, 1, 1, &r2), -EDQUOT); /* 2^64 bytes is past any device */
	ava_quota_abort(r1);

	/* A zero limit refuses any bytes but allows zero-byte objects. */
	struct ava_quota_account z;
	ava_quota_account_init(&z, 0, AVA_QUOTA_UNLIMITED);
	CHECK_INT(ava_quota_reserve(&z, 1, 1, &r1), -EDQUOT);
	CHECK_INT(ava_quota_reserve(&z, 0, 1, &r1), 0);
	CHECK_INT(ava_quota_commit(&q, r1, 9, 1), 0);
	CHECK_INT(z.n_objects, 1);

	ava_quota_account_fini(&q, &z);
	ava_quota_account_fini(&q, &u);
	ava_quota_account_fini(&q, &a);
	CHECK_INT(a.used_bytes, 0);
	ava_quota_fini(&q);
}

static void test_objects(void)
{
	struct ava_quota q;
	struct ava_quota_account a;
	struct ava_quota_resv *r1, *r2;

	ava_quota_init(&q);
	ava_quota_account_init(&a, AVA_QUOTA_UNLIMITED, 3);
	alloc_ok(&q, &a, 0, 1, 1);
	alloc_ok(&q, &a, 5, 1, 2);
	/* The cap counts reservations too: the third is reserved, a fourth refused. */
	CHECK_INT(ava_quota_reserve(&a, 0, 1, &r1), 0);
	CHECK_INT(ava_quota_reserve(&a, 0, 1, &r2), -ENOSPC);
	/* A reservation of no object (a resize, say) is not counted against the cap. */
	CHECK_INT(ava_quota_reserve(&a, 7, 0, &r2), 0);
	CHECK_INT(ava_quota_commit(&q, r2, 1, 99), 0);
	CHECK_INT(a.n_objects, 2);
	/* Committing a key already live refuses and gives the reservation back. */
	CHECK_INT(ava_quota_commit(&q, r1, 1, 2), -EEXIST);
	CHECK_INT(a.reserved_objects, 0);
	CHECK_INT(ava_quota_object_bytes(&q, 1, 2), 5);
	/* The cap is by key, not by bytes: releasing a 0-byte object frees a slot. */
	alloc_ok(&q, &a, 0, 2, 1);
	CHECK_INT(ava_quota_reserve(&a, 0, 1, &r1), -ENOSPC);
	CHECK_INT(ava_quota_unref(&q, 1, 1), 0);
	CHECK_INT(ava_quota_reserve(&a, 0, 1, &r1), 0);
	ava_quota_abort(r1);
	CHECK_INT(a.peak_objects, 3);
	ava_quota_account_fini(&q, &a);
	ava_quota_fini(&q);
}

static void test_refcount(void)
{
	struct ava_quota q;
	struct ava_quota_account a;

	ava_quota_init(&q);
	ava_quota_account_init(&a, 10 * MIB, AVA_QUOTA_UNLIMITED);
	alloc_ok(&q, &a, 4 * MIB, 7, 100);
	CHECK_INT(ava_quota_ref(&q, 7, 100), 2);
	CHECK_INT(ava_quota_ref(&q, 7, 100), 3);
	/* Same handle id in another session is another key. */
	CHECK_INT(ava_quota_ref(&q, 8, 100), -ENOENT);
	CHECK_INT(ava_quota_unref(&q, 8, 100), -ENOENT);
	CHECK_INT(ava_quota_unref(&q, 7, 101), -ENOENT);
	/* Bytes come back only when the count reaches zero. */
	CHECK_INT(ava_quota_unref(&q, 7, 100), 2);
	CHECK_INT(a.used_bytes, 4 * MIB);
	CHECK_INT(ava_quota_unref(&q, 7, 100), 1);
	CHECK_INT(a.used_bytes, 4 * MIB);
	CHECK_INT(ava_quota_unref(&q, 7, 100), 0);
	CHECK_INT(a.used_bytes, 0);
	CHECK_INT(a.n_objects, 0);
	/* Gone: a further release is not accounted, and the key can be reused. */
	CHECK_INT(ava_quota_unref(&q, 7, 100), -ENOENT);
	alloc_ok(&q, &a, 1, 7, 100);
	CHECK_INT(a.peak_bytes, 4 * MIB);
	ava_quota_account_fini(&q, &a);
	ava_quota_fini(&q);
}

static void test_release(void)
{
	struct ava_quota q;
	struct ava_quota_account a, b;
	struct ava_quota_resv *r;

	ava_quota_init(&q);
	ava_quota_account_init(&a, 100, 100);
	ava_quota_account_init(&b, 100, 100);
	/* Tenant a: sessions 1 and 2; tenant b: session 3. */
	for (uint64_t h = 1; h <= 5; h++) {
		alloc_ok(&q, &a, 3, 1, h);
		alloc_ok(&q, &a, 4, 2, h);
		alloc_ok(&q, &b, 5, 3, h);
	}
	CHECK_INT(ava_quota_ref(&q, 1, 1), 2); /* refs don't hold a session's objects back */
	CHECK_INT(a.used_bytes, 35);
	CHECK_INT(a.n_objects, 10);

	/* Session 1 disconnects: only its objects return. */
	CHECK_INT(ava_quota_reserve(&a, 10, 1, &r), 0); /* its in-flight call: the caller's */
	CHECK_INT(ava_quota_release_session(&q, 1), 15);
	CHECK_INT(a.used_bytes, 20);
	CHECK_INT(a.n_objects, 5);
	CHECK_INT(a.reserved_bytes, 10);
	CHECK_INT(ava_quota_object_bytes(&q, 1, 1), -ENOENT);
	CHECK_INT(ava_quota_object_bytes(&q, 2, 1), 4);
	CHECK_INT(ava_quota_release_session(&q, 1), 0);
	CHECK_INT(ava_quota_release_session(&q, 12345), 0);
	ava_quota_abort(r);

	/* Account a released: session 2 goes too, b is untouched. */
	CHECK_INT(ava_quota_release_account(&q, &a), 20);
	CHECK_INT(a.used_bytes, 0);
	CHECK_INT(a.n_objects, 0);
	CHECK_INT(ava_quota_object_bytes(&q, 2, 3), -ENOENT);
	CHECK_INT(b.used_bytes, 25);
	CHECK_INT(ava_quota_object_bytes(&q, 3, 5), 5);

	/* Finishing b with a reservation outstanding: committing it later only frees it. */
	CHECK_INT(ava_quota_reserve(&b, 50, 1, &r), 0);
	ava_quota_account_fini(&q, &b);
	CHECK_INT(b.used_bytes, 0);
	CHECK_INT(ava_quota_commit(&q, r, 3, 77), -ESRCH);
	CHECK_INT(ava_quota_object_bytes(&q, 3, 77), -ENOENT);

	ava_quota_account_fini(&q, &a);
	ava_quota_fini(&q);
}

static void test_lowered_limit(void)
{
	struct ava_quota q;
	struct ava_quota_account a;
	struct ava_quota_resv *r;

	ava_quota_init(&q);
	ava_quota_account_init(&a, 100, 10);
	alloc_ok(&q, &a, 40, 1, 1);
	alloc_ok(&q, &a, 40, 1, 2);
	CHECK_INT(ava_quota_reserve(&a, 10, 1, &r), 0);

	/* Lowered below usage: usage and the reservation stay, new ones are refused. */
	ava_quota_set_limit(&a, 50, 1);
	CHECK_INT(a.used_bytes, 80);
	CHECK_INT(ava_quota_commit(&q, r, 1, 3), 0);
	CHECK_INT(a.used_bytes, 90);
	CHECK_INT(ava_quota_reserve(&a, 0, 0, &r), -EDQUOT);
	CHECK_INT(ava_quota_reserve(&a, 1, 1, &r), -EDQUOT);
	/* Dropping to the new limit lets the next reservation in, exactly at it. */
	CHECK_INT(ava_quota_unref(&q, 1, 1), 0);
	CHECK_INT(ava_quota_reserve(&a, 1, 0, &r), -EDQUOT); /* 50 used + 1 */
	CHECK_INT(ava_quota_unref(&q, 1, 3), 0);
	CHECK_INT(ava_quota_reserve(&a, 10, 0, &r), 0); /* 40 + 10 = 50 */
	ava_quota_abort(r);
	CHECK_INT(ava_quota_reserve(&a, 0, 1, &r), -ENOSPC); /* 1 object live, cap 1 */
	/* Raising it again takes effect at once. */
	ava_quota_set_limit(&a, 1000, 5);
	CHECK_INT(ava_quota_reserve(&a, 960, 1, &r), 0);
	ava_quota_abort(r);
	ava_quota_account_fini(&q, &a);
	ava_quota_fini(&q);
}

/*
 * Many interleaved reservations, commits, aborts, retains and releases over
 * several sessions and two accounts, with a fixed seed. After every step
 * the accounts must match a shadow model and used + reserved must stay
 * within the limit whenever the last change was a new reservation.
 */
#define N_SESS	  6
#define N_HANDLES 64
#define N_PENDING 32

struct shadow {
	uint64_t bytes[N_SESS][N_HANDLES]; /* 0 with refs 0: absent */
	uint64_t refs[N_SESS][N_HANDLES];
	int acct[N_SESS][N_HANDLES];
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(uint64_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (rng_state >> 33) % n;
}

static void test_random(void)
{
	static struct shadow sh;
	struct ava_quota q;
	struct ava_quota_account acc[2];
	struct {
		struct ava_quota_resv *r;
		int acct;
		uint64_t bytes;
	} pend[N_PENDING] = { 0 };
	uint64_t limit[2] = { 1000, 777 }, refused = 0, committed = 0;

	ava_quota_init(&q);
	ava_quota_account_init(&acc[0], limit[0], 20);
	ava_quota_account_init(&acc[1], limit[1], AVA_QUOTA_UNLIMITED);
	for (int step = 0; step < 200000; step++) {
		int op = (int)rng(100);
		int s = (int)rng(N_SESS), h = (int)rng(N_HANDLES), p = (int)rng(N_PENDING);
		int ac = s % 2; /* even sessions belong to account 0, odd to 1 */
		int did_reserve = 0;

		if (op < 35 && !pend[p].r) {
			uint64_t bytes = rng(300);
			struct ava_quota_resv *r;
			struct ava_quota_account *a = &acc[ac];
			uint64_t before = a->used_bytes + a->reserved_bytes;
			uint64_t live = a->n_objects + a->reserved_objects;
			int ret = ava_quota_reserve(a, bytes, 1, &r);
			/* Refused exactly when it would not fit. */
			int want = before + bytes > limit[ac]  ? -EDQUOT
				   : live + 1 > a->max_objects ? -ENOSPC
							       : 0;
			CHECK_INT(ret, want);
			if (ret == 0) {
				pend[p].r = r;
				pend[p].acct = ac;
				pend[p].bytes = bytes;
				did_reserve = 1;
			} else {
				refused++;
			}
		} else if (op < 60 && pend[p].r) {
			/* Commit under a session of the reservation's account. */
			int cs = (int)(rng(N_SESS / 2) * 2) + pend[p].acct;
			int ret = ava_quota_commit(&q, pend[p].r, (uint64_t)cs, (uint64_t)h);
			if (sh.refs[cs][h]) {
				CHECK_INT(ret, -EEXIST);
			} else {
				CHECK_INT(ret, 0);
				sh.bytes[cs][h] = pend[p].bytes;
				sh.refs[cs][h] = 1;
				sh.acct[cs][h] = pend[p].acct;
				committed++;
			}
			pend[p].r = NULL;
		} else if (op < 70 && pend[p].r) {
			ava_quota_abort(pend[p].r);
			pend[p].r = NULL;
		} else if (op < 78) {
			int64_t ret = ava_quota_ref(&q, (uint64_t)s, (uint64_t)h);
			if (sh.refs[s][h])
				CHECK_INT(ret, (int64_t)++sh.refs[s][h]);
			else
				CHECK_INT(ret, -ENOENT);
		} else if (op < 97) {
			int64_t ret = ava_quota_unref(&q, (uint64_t)s, (uint64_t)h);
			if (sh.refs[s][h])
				CHECK_INT(ret, (int64_t)--sh.refs[s][h]);
			else
				CHECK_INT(ret, -ENOENT);
		} else if (op < 99) {
			uint64_t want = 0;
			for (int i = 0; i < N_HANDLES; i++) {
				want += sh.refs[s][i] ? sh.bytes[s][i] : 0;
				sh.refs[s][i] = 0;
			}
			CHECK_INT(ava_quota_release_session(&q, (uint64_t)s), want);
		} else {
			/* A reload moves the limit; existing usage may end up above it. */
			limit[ac] = 500 + rng(1000);
			ava_quota_set_limit(&acc[ac], limit[ac],
					    ac == 0 ? 10 + rng(20) : UINT64_MAX);
		}

		/* The accounts agree with the shadow model after every step. */
		uint64_t used[2] = { 0, 0 }, objs[2] = { 0, 0 }, resv[2] = { 0, 0 };
		for (int i = 0; i < N_SESS; i++)
			for (int j = 0; j < N_HANDLES; j++)
				if (sh.refs[i][j]) {
					used[sh.acct[i][j]] += sh.bytes[i][j];
					objs[sh.acct[i][j]]++;
				}
		for (int i = 0; i < N_PENDING; i++)
			if (pend[i].r)
				resv[pend[i].acct] += pend[i].bytes;
		for (int i = 0; i < 2; i++) {
			CHECK_INT(acc[i].used_bytes, used[i]);
			CHECK_INT(acc[i].n_objects, objs[i]);
			CHECK_INT(acc[i].reserved_bytes, resv[i]);
			CHECK(acc[i].peak_bytes >= acc[i].used_bytes);
		}
		/* The invariant: a reservation never took an account past its limit. */
		if (did_reserve)
			CHECK(acc[ac].used_bytes + acc[ac].reserved_bytes <= limit[ac]);
	}
	printf("quota random run: %" PRIu64 " commits, %" PRIu64 " refusals, peaks %" PRIu64
	       "/%" PRIu64 " bytes\n",
	       committed, refused, acc[0].peak_bytes, acc[1].peak_bytes);
	CHECK(committed > 1000 && refused > 1000); /* both paths exercised */
	for (int i = 0; i < N_PENDING; i++)
		ava_quota_abort(pend[i].r);
	ava_quota_account_fini(&q, &acc[0]);
	ava_quota_account_fini(&q, &acc[1]);
	CHECK_INT(acc[0].reserved_bytes + acc[1].reserved_bytes, 0);
	ava_quota_fini(&q);
}

/* A child (sub-buffer) keeps its parent's bytes charged until the child goes. */
static void test_parent(void)
{
	struct ava_quota q;
	struct ava_quota_account a;

	ava_quota_init(&q);
	ava_quota_account_init(&a, 10 * MIB, AVA_QUOTA_UNLIMITED);
	alloc_ok(&q, &a, 6 * MIB, 3, 50); /* the buffer */
	alloc_ok(&q, &a, 0, 3, 51);	  /* its sub-buffer: no bytes of its own */
	CHECK_INT(ava_quota_keep(&q, 3, 51, 50), 0);
	CHECK_INT(ava_quota_keep(&q, 3, 51, 50), -ENOENT); /* one parent per child */
	CHECK_INT(ava_quota_keep(&q, 3, 52, 50), -ENOENT); /* no such child */
	CHECK_INT(ava_quota_keep(&q, 3, 50, 50), -ENOENT);
	/* The application releases the buffer: its storage lives on in the sub-buffer. */
	CHECK_INT(ava_quota_unref(&q, 3, 50), 1);
	CHECK_INT(a.used_bytes, 6 * MIB);
	struct ava_quota_resv *r = NULL;
	CHECK_INT(ava_quota_reserve(&a, 6 * MIB, 1, &r), -EDQUOT);
	/* Releasing the sub-buffer lets both go. */
	CHECK_INT(ava_quota_unref(&q, 3, 51), 0);
	CHECK_INT(a.used_bytes, 0);
	CHECK_INT(a.n_objects, 0);
	CHECK_INT(ava_quota_unref(&q, 3, 50), -ENOENT);
	/* At session end everything goes, parents and children alike. */
	alloc_ok(&q, &a, 1 * MIB, 4, 60);
	alloc_ok(&q, &a, 0, 4, 61);
	CHECK_INT(ava_quota_keep(&q, 4, 61, 60), 0);
	CHECK_INT(ava_quota_release_session(&q, 4), 1 * MIB);
	CHECK_INT(a.used_bytes, 0);
	ava_quota_account_fini(&q, &a);
	ava_quota_fini(&q);
}

int main(void)
{
	test_boundary();
	test_objects();
	test_refcount();
	test_release();
	test_lowered_limit();
	test_random();
	test_parent();
	printf("test_quota: ok\n");
	return 0;
}
