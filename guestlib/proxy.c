/* SPDX-License-Identifier: MIT */
/*
 * Proxies and the handle checks of a call (proxy.h). The registry's lock
 * and the quarantine's are leaves (conn.h): nothing else is taken under
 * them, and the handle_gone hooks run with neither held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "conn.h"
#include "hooks.h"
#include "proxy.h"

/* Tells the API's guest sources that the application's handle p is gone (no lock held). */
static void proxy_tell_gone(struct conn *c, const struct proxy *p, uint64_t id)
{
	ava_guestlib_hooks_handle_gone(c->api, (uint16_t)AVA_HANDLE_TYPE_OF(id), p);
}

/* The retired proxies of every session. quarantine_lock is a leaf (conn.h: lock order). */
static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;
static struct proxy *quarantine[AVA_GUESTLIB_PROXY_QUARANTINE];
static unsigned quarantine_next;

void ava_guestlib_proxy_registry_init(struct proxy_registry *reg)
{
	pthread_mutex_init(&reg->lock, NULL);
}

void ava_guestlib_proxy_atfork_child(void)
{
	pthread_mutex_init(&quarantine_lock, NULL);
}

static size_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (size_t)x;
}

/*
 * A proxy the application may still point at (a released object, a session
 * that ended): unregistered, so lookups miss, but its memory stays readable
 * for a while, dispatch included, so a loader that reads a stale handle's
 * dispatch table reaches us and gets the invalid-handle error, not freed
 * memory. The oldest retired proxy is freed when the quarantine is full.
 */
static void proxy_retire(struct proxy *p)
{
	p->id = 0;
	p->next_id = p->next_ptr = NULL;
	pthread_mutex_lock(&quarantine_lock);
	struct proxy *old = quarantine[quarantine_next];
	quarantine[quarantine_next] = p;
	quarantine_next = (quarantine_next + 1) % AVA_GUESTLIB_PROXY_QUARANTINE;
	pthread_mutex_unlock(&quarantine_lock);
	free(old);
}

/* Grows the tables to at least twice n. Caller holds the lock. */
static int registry_grow(struct proxy_registry *reg)
{
	size_t nb = reg->n_buckets ? reg->n_buckets * 2 : 64;
	struct proxy **by_id = calloc(nb, sizeof(*by_id));
	struct proxy **by_ptr = calloc(nb, sizeof(*by_ptr));
	if (!by_id || !by_ptr) {
		free(by_id);
		free(by_ptr);
		return -ENOMEM;
	}
	for (size_t b = 0; b < reg->n_buckets; b++) {
		struct proxy *p = reg->by_id[b];
		while (p) {
			struct proxy *next = p->next_id;
			size_t h = hash_u64(p->id) & (nb - 1);
			p->next_id = by_id[h];
			by_id[h] = p;
			h = hash_u64((uint64_t)(uintptr_t)p) & (nb - 1);
			p->next_ptr = by_ptr[h];
			by_ptr[h] = p;
			p = next;
		}
	}
	free(reg->by_id);
	free(reg->by_ptr);
	reg->by_id = by_id;
	reg->by_ptr = by_ptr;
	reg->n_buckets = nb;
	return 0;
}

/* The live proxy at address ptr, or NULL. Caller holds the lock. */
static struct proxy *registry_find_ptr(struct proxy_registry *reg, const void *ptr)
{
	if (!reg->n_buckets)
		return NULL;
	struct proxy *p = reg->by_ptr[hash_u64((uint64_t)(uintptr_t)ptr) & (reg->n_buckets - 1)];
	while (p && (const void *)p != ptr)
		p = p->next_ptr;
	return p;
}

static void registry_remove(struct proxy_registry *reg, struct proxy *p)
{
	struct proxy **pp = &reg->by_id[hash_u64(p->id) & (reg->n_buckets - 1)];
	while (*pp != p)
		pp = &(*pp)->next_id;
	*pp = p->next_id;
	pp = &reg->by_ptr[hash_u64((uint64_t)(uintptr_t)p) & (reg->n_buckets - 1)];
	while (*pp != p)
		pp = &(*pp)->next_ptr;
	*pp = p->next_ptr;
	reg->n--;
}

void *ava_guestlib_proxy_of_id(struct conn *c, uint64_t id, bool add_ref)
{
	struct proxy_registry *reg = &c->proxies;
	if (id == 0)
		return NULL;
	pthread_mutex_lock(&reg->lock);
	struct proxy *p = NULL;
	if (reg->n_buckets) {
		p = reg->by_id[hash_u64(id) & (reg->n_buckets - 1)];
		while (p && p->id != id)
			p = p->next_id;
	}
	if (!p && (reg->n < reg->n_buckets || registry_grow(reg) == 0)) {
		p = calloc(1, sizeof(*p));
		if (p) {
			p->dispatch = c->api->proxy_dispatch;
			p->id = id;
			size_t h = hash_u64(id) & (reg->n_buckets - 1);
			p->next_id = reg->by_id[h];
			reg->by_id[h] = p;
			h = hash_u64((uint64_t)(uintptr_t)p) & (reg->n_buckets - 1);
			p->next_ptr = reg->by_ptr[h];
			reg->by_ptr[h] = p;
			reg->n++;
		}
	}
	if (p && add_ref)
		p->refs++;
	pthread_mutex_unlock(&reg->lock);
	if (!p)
		ava_guestlib_say("out of memory for a %s handle; the application gets NULL",
				 c->api->abi->name);
	return p;
}

bool ava_guestlib_proxy_id_of(struct conn *c, const void *ptr, uint64_t *ret_id)
{
	struct proxy_registry *reg = &c->proxies;
	if (!ptr) {
		*ret_id = 0;
		return true;
	}
	pthread_mutex_lock(&reg->lock);
	struct proxy *p = registry_find_ptr(reg, ptr);
	if (p)
		*ret_id = p->id;
	pthread_mutex_unlock(&reg->lock);
	return p != NULL;
}

void ava_guestlib_proxy_count(struct conn *c, const void *ptr, int delta)
{
	struct proxy_registry *reg = &c->proxies;
	uint64_t id = 0;
	pthread_mutex_lock(&reg->lock);
	struct proxy *p = registry_find_ptr(reg, ptr);
	if (p && delta > 0) {
		p->refs++;
	} else if (p) {
		if (p->refs > 0)
			p->refs--;
		id = p->id;
		if (p->refs == 0)
			registry_remove(reg, p);
		else
			p = NULL;
	}
	pthread_mutex_unlock(&reg->lock);
	if (p && delta < 0) {
		/* before retiring: the pointer cannot be handed out again meanwhile */
		proxy_tell_gone(c, p, id);
		proxy_retire(p);
	}
}

void ava_guestlib_proxy_drop_all(struct conn *c)
{
	struct proxy_registry *reg = &c->proxies;
	pthread_mutex_lock(&reg->lock);
	struct proxy **by_id = reg->by_id, **by_ptr = reg->by_ptr;
	size_t nb = reg->n_buckets;
	reg->by_id = reg->by_ptr = NULL;
	reg->n_buckets = reg->n = 0;
	pthread_mutex_unlock(&reg->lock);
	for (size_t b = 0; b < nb; b++) {
		struct proxy *p = by_id[b];
		while (p) {
			struct proxy *next = p->next_id;
			proxy_tell_gone(c, p, p->id);
			proxy_retire(p);
			p = next;
		}
	}
	free(by_id);
	free(by_ptr); /* (leaked before tests/guestlib/test_proxy caught it) */
}

/* Records where the dead handle was; returns false, for `return bad_handle_at(...)`. */
static bool bad_handle_at(struct ava_guestlib_bad_handle *b, unsigned arg, uint16_t type)
{
	b->arg = (int)arg;
	b->type = type;
	return false;
}

static bool handle_ok(uint64_t id, uint16_t type)
{
	return id == 0 || AVA_HANDLE_TYPE_OF(id) == type;
}

bool ava_guestlib_proxy_handles_valid(const struct ava_abi_fn *fn, const struct ava_gen_plan *plan,
				      void *const *args, struct ava_guestlib_bad_handle *ret_bad)
{
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind == AVA_ABI_HANDLE) {
			if (!handle_ok((uint64_t)(uintptr_t) * (void *const *)args[i],
				       v->handle_type))
				return bad_handle_at(ret_bad, i, v->handle_type);
			continue;
		}
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_IN) ||
		    (v->elem != AVA_ABI_ELEM_HANDLE && v->elem != AVA_ABI_ELEM_STRUCT))
			continue;
		const uint8_t *p = *(void *const *)args[i];
		if (!p || plan->count[i] > v->max_count)
			continue; /* encode_args reports the size problem */
		for (uint64_t k = 0; k < plan->count[i]; k++) {
			const uint8_t *el = p + (size_t)k * v->size_bytes;
			uint64_t id;
			if (v->elem == AVA_ABI_ELEM_HANDLE) {
				memcpy(&id, el, 8);
				if (!handle_ok(id, v->handle_type))
					return bad_handle_at(ret_bad, i, v->handle_type);
			}
			for (unsigned f = 0; v->elem == AVA_ABI_ELEM_STRUCT && f < v->n_fields;
			     f++) {
				memcpy(&id, el + v->fields[f].offset_bytes, 8);
				if (!handle_ok(id, v->fields[f].handle_type))
					return bad_handle_at(ret_bad, i, v->fields[f].handle_type);
			}
		}
	}
	return true;
}

/* An 8-byte word of an element or bytes buffer, proxy pointer to handle id. */
static bool word_to_id(struct conn *c, uint8_t *word, bool strict)
{
	void *ptr;
	uint64_t id;
	memcpy(&ptr, word, sizeof(ptr));
	if (!ava_guestlib_proxy_id_of(c, ptr, &id))
		return !strict; /* a :scan word that is no proxy is plain data */
	memcpy(word, &id, sizeof(id));
	return true;
}

/* Fails the call: argument i is no live proxy of type type. */
static int bad_proxy(struct ava_guestlib_call *call, unsigned i, uint16_t type)
{
	bad_handle_at(&call->bad, i, type);
	return ava_guestlib_call_fail(call, AVA_STATUS_BAD_HANDLE);
}

int ava_guestlib_proxy_to_ids(struct ava_guestlib_call *call)
{
	struct conn *c = call->c;
	const struct ava_abi_fn *fn = call->fn;
	const struct ava_gen_plan *plan = &call->plan;
	void *const *args = call->args;
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind == AVA_ABI_HANDLE) {
			uint64_t id;
			if (!ava_guestlib_proxy_id_of(c, *(void *const *)args[i], &id))
				return bad_proxy(call, i, v->handle_type);
			ava_guestlib_call_send_arg(call, i, (void *)(uintptr_t)id);
			continue;
		}
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_IN))
			continue;
		bool typed = v->elem == AVA_ABI_ELEM_BYTES && plan->handle_type[i];
		bool scan = v->elem == AVA_ABI_ELEM_BYTES && (v->flags & AVA_ABI_V_SCAN);
		if (v->elem != AVA_ABI_ELEM_HANDLE && v->elem != AVA_ABI_ELEM_STRUCT && !typed &&
		    !scan)
			continue;
		const uint8_t *p = *(void *const *)args[i];
		size_t bytes;
		if (!p || plan->count[i] == 0 || plan->count[i] > v->max_count ||
		    __builtin_mul_overflow((size_t)plan->count[i], (size_t)v->size_bytes, &bytes))
			continue; /* encode_args reports the size problem */
		uint8_t *copy = malloc(bytes);
		if (ava_guestlib_call_own(call, copy) < 0)
			return ava_guestlib_call_fail(call, AVA_STATUS_NO_MEMORY);
		memcpy(copy, p, bytes);
		ava_guestlib_call_send_arg(call, i, copy);
		if (v->elem == AVA_ABI_ELEM_BYTES) {
			for (size_t off = 0; off + 8 <= bytes; off += 8)
				if (!word_to_id(c, copy + off, typed))
					return bad_proxy(call, i, plan->handle_type[i]);
			continue;
		}
		for (uint64_t k = 0; k < plan->count[i]; k++) {
			uint8_t *el = copy + (size_t)k * v->size_bytes;
			if (v->elem == AVA_ABI_ELEM_HANDLE && !word_to_id(c, el, true))
				return bad_proxy(call, i, v->handle_type);
			for (unsigned f = 0; v->elem == AVA_ABI_ELEM_STRUCT && f < v->n_fields; f++)
				if (!word_to_id(c, el + v->fields[f].offset_bytes, true))
					return bad_proxy(call, i, v->fields[f].handle_type);
		}
	}
	return 0;
}

/* An 8-byte handle id in application memory becomes its proxy. */
static void word_to_proxy(struct conn *c, uint8_t *word, bool add_ref)
{
	uint64_t id;
	memcpy(&id, word, sizeof(id));
	void *p = ava_guestlib_proxy_of_id(c, id, add_ref);
	memcpy(word, &p, sizeof(p));
}

void ava_guestlib_proxy_count_call(struct conn *c, const struct ava_abi_fn *fn, void *const *args)
{
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind != AVA_ABI_HANDLE || !*(void *const *)args[i])
			continue;
		if (v->flags & AVA_ABI_V_DEALLOCATES)
			ava_guestlib_proxy_count(c, *(void *const *)args[i], -1);
		else if (v->flags & AVA_ABI_V_RETAINS)
			ava_guestlib_proxy_count(c, *(void *const *)args[i], +1);
	}
}

void ava_guestlib_proxy_from_ids(struct ava_guestlib_call *call)
{
	struct conn *c = call->c;
	const struct ava_abi_fn *fn = call->fn;
	const struct ava_gen_plan *plan = &call->plan;
	const struct ava_abi_view *call_views = call->views, *rv = call->reply_views;
	void *const *args = call->args;
	void *ret = call->ret;
	const struct ava_guestlib_fn *gf = call->gf;
	bool success = ava_guestlib_succeeded(gf, args, ret);
	if (ret && fn->ret.kind == AVA_ABI_HANDLE)
		word_to_proxy(c, ret, success && (fn->ret.flags & AVA_ABI_V_ALLOCATES));
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_OUT) ||
		    !call_views[i].present || !rv[1 + i].count || !(call->written & (1u << i)))
			continue; /* (what a failed call left untouched holds no ids) */
		uint8_t *dst = *(void *const *)args[i];
		size_t bytes = (size_t)rv[1 + i].count * v->size_bytes;
		bool owned = success && (v->flags & AVA_ABI_V_ALLOCATES);
		if (v->elem == AVA_ABI_ELEM_BYTES && plan->handle_type[i]) {
			for (size_t off = 0; off + 8 <= bytes; off += 8)
				word_to_proxy(c, dst + off, false);
		} else if (v->elem == AVA_ABI_ELEM_HANDLE) {
			for (size_t off = 0; off < bytes; off += 8)
				word_to_proxy(c, dst + off, owned);
		} else if (v->elem == AVA_ABI_ELEM_STRUCT) {
			for (uint64_t k = 0; k < rv[1 + i].count; k++)
				for (unsigned f = 0; f < v->n_fields; f++)
					word_to_proxy(c,
						      dst + (size_t)k * v->size_bytes +
							  v->fields[f].offset_bytes,
						      owned);
		}
	}
	if (success)
		ava_guestlib_proxy_count_call(c, fn, args);
}
