/* SPDX-License-Identifier: MIT */
#include "quota.h"

#include <errno.h>
#include <stdlib.h>

/* The objects of one session, by handle id. */
struct ava_quota_session {
	uint64_t id;
	struct ava_map objects;		       /* handle id -> struct ava_quota_object */
	struct ava_quota_object *objects_head; /* the same objects, for release */
};

struct ava_quota_object {
	struct ava_quota_account *account;
	struct ava_quota_session *session;
	uint64_t handle;
	uint64_t bytes;
	uint64_t refs;
	uint64_t n_objects; /* 0 or 1: counted against max_objects */
	uint64_t parent;    /* handle this object holds a reference on, or 0 */
	struct ava_quota_object *a_prev, *a_next; /* account->objects */
	struct ava_quota_object *s_prev, *s_next; /* session->objects_head */
};

struct ava_quota_resv {
	struct ava_quota_account *account; /* NULL once the account was finished */
	uint64_t bytes;
	uint64_t n_objects;
	struct ava_quota_resv *prev, *next; /* account->resvs */
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Whether have + want stays within limit (no overflow: compares against the room left). */
static int fits(uint64_t have, uint64_t want, uint64_t limit)
{
	return have <= limit && want <= limit - have;
}

void ava_quota_init(struct ava_quota *q)
{
	ava_map_init(&q->sessions);
}

void ava_quota_fini(struct ava_quota *q)
{
	size_t pos = 0;
	struct ava_quota_session *s;

	/* Only reached with live objects if an account was not finished: free, don't account. */
	while ((s = ava_map_next(&q->sessions, &pos, NULL))) {
		struct ava_quota_object *o = s->objects_head;
		while (o) {
			struct ava_quota_object *next = o->s_next;
			free(o);
			o = next;
		}
		ava_map_fini(&s->objects);
		free(s);
	}
	ava_map_fini(&q->sessions);
}

void ava_quota_account_init(struct ava_quota_account *a, uint64_t limit_bytes, uint64_t max_objects)
{
	*a = (struct ava_quota_account){ .limit_bytes = limit_bytes, .max_objects = max_objects };
}

void ava_quota_set_limit(struct ava_quota_account *a, uint64_t limit_bytes, uint64_t max_objects)
{
	a->limit_bytes = limit_bytes;
	a->max_objects = max_objects;
}

int ava_quota_reserve(struct ava_quota_account *a, uint64_t bytes, uint64_t n_objects,
		      struct ava_quota_resv **ret_resv)
{
	*ret_resv = NULL;
	if (!fits(sat_add(a->used_bytes, a->reserved_bytes), bytes, a->limit_bytes)) {
		a->n_refused++;
		return -EDQUOT;
	}
	if (!fits(sat_add(a->n_objects, a->reserved_objects), n_objects, a->max_objects)) {
		a->n_refused++;
		return -ENOSPC;
	}
	struct ava_quota_resv *r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct ava_quota_resv){ .account = a, .bytes = bytes, .n_objects = n_objects };
	r->next = a->resvs;
	if (a->resvs)
		a->resvs->prev = r;
	a->resvs = r;
	a->reserved_bytes += bytes;
	a->reserved_objects += n_objects;
	*ret_resv = r;
	return 0;
}

/* Unlinks r from its account, giving its bytes and objects back, and frees it. */
static void resv_free(struct ava_quota_resv *r)
{
	struct ava_quota_account *a = r->account;

	if (a) {
		a->reserved_bytes -= r->bytes;
		a->reserved_objects -= r->n_objects;
		if (r->prev)
			r->prev->next = r->next;
		else
			a->resvs = r->next;
		if (r->next)
			r->next->prev = r->prev;
	}
	free(r);
}

void ava_quota_abort(struct ava_quota_resv *resv)
{
	if (resv)
		resv_free(resv);
}

static struct ava_quota_session *session_get(const struct ava_quota *q, uint64_t id)
{
	return ava_map_get(&q->sessions, id);
}

static void session_free(struct ava_quota *q, struct ava_quota_session *s)
{
	ava_map_del(&q->sessions, s->id);
	ava_map_fini(&s->objects);
	free(s);
}

/* Takes o out of every list and index, returns its bytes to its account, frees it. */
static void object_release(struct ava_quota *q, struct ava_quota_object *o)
{
	struct ava_quota_account *a = o->account;
	struct ava_quota_session *s = o->session;

	a->used_bytes -= o->bytes;
	a->n_objects -= o->n_objects;
	if (o->a_prev)
		o->a_prev->a_next = o->a_next;
	else
		a->objects = o->a_next;
	if (o->a_next)
		o->a_next->a_prev = o->a_prev;

	if (o->s_prev)
		o->s_prev->s_next = o->s_next;
	else
		s->objects_head = o->s_next;
	if (o->s_next)
		o->s_next->s_prev = o->s_prev;
	ava_map_del(&s->objects, o->handle);
	if (!s->objects_head)
		session_free(q, s);
	free(o);
}

int ava_quota_commit(struct ava_quota *q, struct ava_quota_resv *resv, uint64_t session,
		     uint64_t handle)
{
	struct ava_quota_account *a = resv->account;
	struct ava_quota_session *s = NULL;
	struct ava_quota_object *o = NULL;
	int new_session = 0;
	int ret;

	if (!a) {
		ret = -ESRCH;
		goto out;
	}
	s = session_get(q, session);
	if (s && ava_map_get(&s->objects, handle)) {
		ret = -EEXIST;
		goto out;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			ret = -ENOMEM;
			goto out;
		}
		s->id = session;
		ava_map_init(&s->objects);
		ret = ava_map_put(&q->sessions, session, s);
		if (ret < 0) {
			free(s);
			s = NULL;
			goto out;
		}
		new_session = 1;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		ret = -ENOMEM;
		goto out;
	}
	ret = ava_map_put(&s->objects, handle, o);
	if (ret < 0)
		goto out;

	*o = (struct ava_quota_object){ .account = a,
					.session = s,
					.handle = handle,
					.bytes = resv->bytes,
					.refs = 1,
					.n_objects = resv->n_objects ? 1 : 0 };
	o->a_next = a->objects;
	if (a->objects)
		a->objects->a_prev = o;
	a->objects = o;
	o->s_next = s->objects_head;
	if (s->objects_head)
		s->objects_head->s_prev = o;
	s->objects_head = o;

	/* The reservation's bytes become used; resv_free below gives back the reserved side. */
	a->used_bytes += o->bytes;
	a->n_objects += o->n_objects;
	if (a->used_bytes > a->peak_bytes)
		a->peak_bytes = a->used_bytes;
	if (a->n_objects > a->peak_objects)
		a->peak_objects = a->n_objects;
	o = NULL;
	new_session = 0;
	ret = 0;
out:
	free(o);
	if (new_session)
		session_free(q, s);
	resv_free(resv);
	return ret;
}

int64_t ava_quota_ref(struct ava_quota *q, uint64_t session, uint64_t handle)
{
	struct ava_quota_session *s = session_get(q, session);
	struct ava_quota_object *o = s ? ava_map_get(&s->objects, handle) : NULL;

	if (!o)
		return -ENOENT;
	if (o->refs < INT64_MAX)
		o->refs++;
	return (int64_t)o->refs;
}

int64_t ava_quota_unref(struct ava_quota *q, uint64_t session, uint64_t handle)
{
	struct ava_quota_session *s = session_get(q, session);
	struct ava_quota_object *o = s ? ava_map_get(&s->objects, handle) : NULL;

	if (!o)
		return -ENOENT;
	if (--o->refs > 0)
		return (int64_t)o->refs;
	/* Releasing a child lets go of its parent (one level per call: chains are short). */
	uint64_t parent = o->parent;
	object_release(q, o);
	if (parent) {
		int64_t left = ava_quota_unref(q, session, parent);
		(void)left; /* -ENOENT: the parent went with its session already */
	}
	return 0;
}

int ava_quota_keep(struct ava_quota *q, uint64_t session, uint64_t child, uint64_t parent)
{
	struct ava_quota_session *s = session_get(q, session);
	struct ava_quota_object *c = s ? ava_map_get(&s->objects, child) : NULL;
	struct ava_quota_object *p = s ? ava_map_get(&s->objects, parent) : NULL;

	if (!c || !p || c == p || c->parent)
		return -ENOENT;
	if (p->refs < INT64_MAX)
		p->refs++;
	c->parent = parent;
	return 0;
}

uint64_t ava_quota_release_session(struct ava_quota *q, uint64_t session)
{
	struct ava_quota_session *s = session_get(q, session);
	uint64_t bytes = 0;

	if (!s)
		return 0;
	/* The last object_release frees s itself. */
	struct ava_quota_object *o = s->objects_head;
	while (o) {
		struct ava_quota_object *next = o->s_next;
		bytes += o->bytes;
		object_release(q, o);
		o = next;
	}
	return bytes;
}

uint64_t ava_quota_release_account(struct ava_quota *q, struct ava_quota_account *a)
{
	uint64_t bytes = 0;

	while (a->objects) {
		bytes += a->objects->bytes;
		object_release(q, a->objects);
	}
	return bytes;
}

void ava_quota_account_fini(struct ava_quota *q, struct ava_quota_account *a)
{
	ava_quota_release_account(q, a);
	for (struct ava_quota_resv *r = a->resvs; r; r = r->next)
		r->account = NULL;
	a->resvs = NULL;
	a->reserved_bytes = 0;
	a->reserved_objects = 0;
}

int64_t ava_quota_object_bytes(const struct ava_quota *q, uint64_t session, uint64_t handle)
{
	struct ava_quota_session *s = session_get(q, session);
	struct ava_quota_object *o = s ? ava_map_get(&s->objects, handle) : NULL;

	if (!o)
		return -ENOENT;
	return o->bytes > INT64_MAX ? INT64_MAX : (int64_t)o->bytes;
}
