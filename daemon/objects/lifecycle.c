/* The life of every object kind, written once over its ops table
 * (kind.h): create, delete, load, sweep, list. */
#include "kind.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "daemon_config.h"
#include "envelope.h"
#include "log.h"
#include "rpc_server.h"
#include "store.h"

struct sbx_registry *sbx_objects_registry(struct sbx_objects *o, const struct sbx_kind *k)
{
	return *(struct sbx_registry **)((char *)o + k->registry);
}

int sbx_objects_pack(const ProtobufCMessage *m, struct sbx_store_object *row)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);

	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(m, buf);
	row->record = buf;
	row->record_len = n;
	return 0;
}

/* Write obj's row, whatever its phase; call with obj->lock held. */
static int save(struct sbx_objects *o, struct sbx_obj *obj)
{
	const struct sbx_kind *k = sbx_kind_of(obj);
	struct sbx_store_object row = {
		.id = obj->id,
		.kind = k->type.noun,
		.status = "",
		.owner = "",
		.created_ms = obj->created_ms,
	};
	int r = k->save(obj, &row);

	if (r == 0)
		r = sbx_store_put_object(o->store, &row);
	free((void *)row.record);
	return r;
}

int sbx_objects_save_locked(struct sbx_objects *o, struct sbx_obj *obj)
{
	return obj->phase == SBX_OBJ_LIVE ? save(o, obj) : 0;
}

/* obj is unlinked and its registry reference is the caller's: delete its
 * row, then what goes with it; its files go with the last reference. */
static int forget(struct sbx_objects *o, struct sbx_obj *obj, struct sbx_rpc_call *call,
		  const char *why)
{
	const struct sbx_kind *k = sbx_kind_of(obj);
	struct sbx_rpc_call scratch = {.method = "sweep"};
	int r;

	pthread_mutex_lock(&obj->lock);
	obj->phase = SBX_OBJ_GONE;
	sbx_store_delete_object(o->store, obj->id);
	pthread_mutex_unlock(&obj->lock);
	r = k->forget ? k->forget(obj, call ? call : &scratch) : 0;
	sbx_log(SBX_LOG_INFO, obj->id, "%s deleted (%s)", k->type.noun, why);
	sbx_obj_unref(obj);
	return r;
}

int sbx_objects_create(struct sbx_objects *o, struct sbx_obj *obj, struct sbx_rpc_call *call,
		       int (*setup)(struct sbx_obj *obj, struct sbx_rpc_call *call,
				    const void *arg),
		       const void *arg, ProtobufCMessage **ret)
{
	const struct sbx_kind *k = sbx_kind_of(obj);
	struct sbx_registry *reg = sbx_objects_registry(o, k);
	char detail[160] = "";
	int r = sbx_registry_add(reg, obj);

	if (r == -EAGAIN)
		return sbx_rpc_error(call, -EAGAIN, "too many %s (limit %u)", k->plural,
				     sbx_registry_max(reg));
	if (r < 0)
		return r;
	/* Phase NEW until saved: a failure removes what setup made. */
	r = setup ? setup(obj, call, arg) : 0;
	if (r == 0) {
		pthread_mutex_lock(&obj->lock);
		obj->phase = SBX_OBJ_LIVE;
		r = save(o, obj);
		if (r < 0)
			obj->phase = SBX_OBJ_NEW;
		pthread_mutex_unlock(&obj->lock);
	}
	if (r == 0 && ret && !(*ret = k->reply(obj)))
		r = -ENOMEM;
	if (r < 0) {
		/* Undo quietly: call->error keeps the reason of the failure. */
		struct sbx_rpc_call scratch = {.method = call->method};

		pthread_mutex_lock(&obj->lock);
		if (obj->phase == SBX_OBJ_LIVE)
			sbx_store_delete_object(o->store, obj->id);
		obj->phase = SBX_OBJ_GONE;
		pthread_mutex_unlock(&obj->lock);
		if (k->forget)
			k->forget(obj, &scratch);
		if (sbx_registry_unlink(reg, obj))
			sbx_obj_unref(obj);
		return r;
	}
	if (k->counter)
		sbx_store_counter_add(o->store, k->counter, 1, NULL);
	if (k->describe)
		k->describe(obj, detail, sizeof(detail));
	sbx_log(SBX_LOG_INFO, obj->id, "%s created%s", k->type.noun, detail);
	return 0;
}

struct sbx_obj *sbx_objects_get(struct sbx_objects *o, const struct sbx_kind *k,
				struct sbx_rpc_call *call, const char *id, int *ret_err)
{
	struct sbx_obj *obj = NULL;
	int err;

	if (!id || !*id)
		err = sbx_rpc_error(call, -EINVAL, "field '%s' is required", k->id_field);
	else if (!(obj = sbx_registry_get(sbx_objects_registry(o, k), id)))
		err = sbx_rpc_error(call, -ENOENT, "%s '%.64s' not found", k->type.noun, id);
	else
		err = 0;
	if (ret_err)
		*ret_err = err;
	return obj;
}

int sbx_objects_get_reply(struct sbx_objects *o, const struct sbx_kind *k,
			  struct sbx_rpc_call *call, const char *id, ProtobufCMessage **ret)
{
	int r = 0;
	struct sbx_obj *obj = sbx_objects_get(o, k, call, id, &r);

	if (!obj)
		return r;
	*ret = k->reply(obj);
	sbx_obj_unref(obj);
	return *ret ? 0 : -ENOMEM;
}

int sbx_objects_delete(struct sbx_objects *o, const struct sbx_kind *k, struct sbx_rpc_call *call,
		       const char *id, int (*check)(struct sbx_obj *obj, struct sbx_rpc_call *call))
{
	int r = 0;
	struct sbx_obj *obj = sbx_objects_get(o, k, call, id, &r);

	if (!obj)
		return r;
	if (check && (r = check(obj, call)) < 0) {
		sbx_obj_unref(obj);
		return r;
	}
	/* A concurrent delete (or expiry) got there first. */
	if (!sbx_registry_unlink(sbx_objects_registry(o, k), obj))
		r = sbx_rpc_error(call, -ENOENT, "%s '%.64s' not found", k->type.noun, id);
	else
		r = forget(o, obj, call, "by request"); /* the registry's reference */
	sbx_obj_unref(obj);
	return r;
}

int sbx_objects_list(struct sbx_objects *o, const struct sbx_kind *k, ProtobufCMessage **ret)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(k->list, k->list_field);
	ProtobufCMessage *m, ***items;
	struct sbx_obj **list;
	size_t n, *count;
	int r = sbx_registry_list(sbx_objects_registry(o, k), &list, &n);

	if (r < 0)
		return r;
	m = sbx_message_new(k->list);
	if (!m || !f || f->label != PROTOBUF_C_LABEL_REPEATED)
		goto nomem;
	items = (ProtobufCMessage ***)((char *)m + f->offset);
	count = (size_t *)((char *)m + f->quantifier_offset);
	*items = calloc(n ? n : 1, sizeof(**items));
	for (size_t i = 0; *items && i < n; i++) {
		if (!((*items)[i] = k->reply(list[i])))
			break;
		(*count)++;
	}
	if (*count < n)
		goto nomem;
	sbx_registry_list_free(list, n);
	*ret = m;
	return 0;
nomem:
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	sbx_registry_list_free(list, n);
	return -ENOMEM;
}

/* The kinds in load order: a deployment finds its sandbox loaded. */
static const struct sbx_kind *const kinds[] = {&sbx_sandbox_kind, &sbx_session_kind,
					       &sbx_deployment_kind};

struct loading {
	struct sbx_objects *o;
	const struct sbx_kind *k;
	struct sbx_obj **changed; /* to write back after the walk */
	size_t n_changed, cap;
};

static int load_one(void *arg, const struct sbx_store_object *row)
{
	struct loading *l = arg;
	struct sbx_obj *obj = NULL;
	bool changed = false;
	ProtobufCMessage *rec =
		protobuf_c_message_unpack(l->k->record, NULL, row->record_len, row->record);
	int r;

	if (!rec) {
		log_warn("state store: ignoring %s '%.64s': its record cannot be read",
			 l->k->type.noun, row->id);
		return 0;
	}
	r = l->k->load(l->o, row->id, rec, &obj, &changed);
	protobuf_c_message_free_unpacked(rec, NULL);
	if (r < 0 || !obj)
		return r;
	r = sbx_registry_restore(sbx_objects_registry(l->o, l->k), obj);
	if (r == 0 && changed) {
		if (l->n_changed == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 16;
			struct sbx_obj **p = realloc(l->changed, cap * sizeof(*p));

			if (!p)
				r = -ENOMEM;
			else {
				l->changed = p;
				l->cap = cap;
			}
		}
		if (r == 0)
			l->changed[l->n_changed++] = sbx_obj_ref(obj);
	}
	sbx_obj_unref(obj);
	return r;
}

int sbx_objects_load(struct sbx_objects *o)
{
	struct loading l = {.o = o};
	int r = 0;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds) && r == 0; i++) {
		l.k = kinds[i];
		r = sbx_store_each_object(o->store, kinds[i]->type.noun, load_one, &l);
	}
	/* Written back now: the store was busy with the walks. */
	for (size_t i = 0; i < l.n_changed; i++) {
		struct sbx_obj *obj = l.changed[i];

		pthread_mutex_lock(&obj->lock);
		if (r == 0)
			r = sbx_objects_save_locked(o, obj);
		pthread_mutex_unlock(&obj->lock);
		sbx_obj_unref(obj);
	}
	free(l.changed);
	return r;
}

void sbx_objects_sweep(struct sbx_objects *o)
{
	int64_t now = sbx_clock_wall_ms();

	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
		const struct sbx_kind *k = kinds[i];
		struct sbx_registry *reg = sbx_objects_registry(o, k);
		struct sbx_obj **list;
		size_t n;

		if (sbx_registry_list(reg, &list, &n) < 0)
			continue;
		for (size_t j = 0; j < n; j++) {
			struct sbx_obj *obj = list[j];
			bool expired;

			if (k->tick)
				k->tick(o, obj, now);
			if (!k->expired)
				continue;
			/* Checked and unlinked under the object's lock, so
			 * that no use starts in between; the registry's
			 * reference then comes here and goes in forget(). */
			pthread_mutex_lock(&obj->lock);
			expired = k->expired(o, obj, now) && sbx_registry_unlink(reg, obj);
			pthread_mutex_unlock(&obj->lock);
			if (expired)
				forget(o, obj, NULL, "idle");
		}
		sbx_registry_list_free(list, n);
	}
}

struct sbx_objects *sbx_objects_enter_call(struct sbx_objects *o, struct sbx_rpc_call *call,
					   const char *unavailable)
{
	if (o && sbx_objects_enter(o) == 0)
		return o;
	sbx_rpc_error(call, -ESHUTDOWN, "%s", unavailable);
	return NULL;
}
