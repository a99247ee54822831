/* An object kind (sandbox, session, deployment) as the lifecycle sees it:
 * one table of operations per kind, each kind's state private to its own
 * .c file behind them, so that create, delete, load, sweep and list are
 * written once (lifecycle.c), as redis' dictType and nng's ops tables do.
 *
 * Internal to daemon/objects/: other modules go through sandbox_obj.h,
 * session.h and deployment.h. */
#ifndef SBX_OBJECTS_KIND_H
#define SBX_OBJECTS_KIND_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "objects.h"
#include "objects.pb-c.h"
#include "registry.h"

struct sbx_rpc_call;
struct sbx_store_object;

struct sbx_kind {
	/* First: the registry's view (noun for messages, free on the last
	 * reference), so that kind_of() is a cast. */
	struct sbx_obj_type type;
	const char *plural;   /* "sandboxes": "too many sandboxes (limit N)" */
	const char *id_field; /* the requests' id field: "field 'id' is required" */
	const char *counter;  /* the store's counter of creations, or NULL */
	size_t registry;      /* offsetof(struct sbx_objects, <its registry>) */
	/* Its List reply: the message and its repeated field of replies. */
	const ProtobufCMessageDescriptor *list;
	const char *list_field;

	/* offsetof its `char *workspace` (files out: files_rpc.c); 0: it has
	 * none of its own (deployments: their sandbox's). */
	size_t workspace;

	/* Its record in the store (proto/objects.proto). */
	const ProtobufCMessageDescriptor *record;

	/* Fill row: the record packed (sbx_objects_pack) and the columns
	 * status, owner and used_ms (id, kind and created_ms are the
	 * lifecycle's). Called with obj->lock held. */
	int (*save)(struct sbx_obj *obj, struct sbx_store_object *row);
	/* Build the object of row `id` from its record (the message of
	 * `record`), in phase LIVE with one reference: *ret NULL skips it
	 * (logged); *ret_changed asks for it to be written back once every
	 * kind is loaded. */
	int (*load)(struct sbx_objects *o, const char *id, const ProtobufCMessage *rec,
		    struct sbx_obj **ret, bool *ret_changed);
	/* Its reply message (heap), or NULL (-ENOMEM). Takes obj->lock. */
	ProtobufCMessage *(*reply)(struct sbx_obj *obj);
	/* What goes with it once its row is gone (a deployment's sandbox),
	 * unlocked; NULL: nothing. call->error is set on failure. */
	int (*forget)(struct sbx_obj *obj, struct sbx_rpc_call *call);
	/* Sweep, unlocked: idle bookkeeping that is not expiry (a service's
	 * last request, a deployment scaling to zero). NULL: none. */
	void (*tick)(struct sbx_objects *o, struct sbx_obj *obj, int64_t now_ms);
	/* Sweep, with obj->lock held: true deletes it now. NULL: never. */
	bool (*expired)(struct sbx_objects *o, struct sbx_obj *obj, int64_t now_ms);
	/* " (node, oneshot)": what the "created" log line adds. NULL: "". */
	void (*describe)(struct sbx_obj *obj, char *buf, size_t len);
};

extern const struct sbx_kind sbx_sandbox_kind, sbx_session_kind, sbx_deployment_kind;

static inline const struct sbx_kind *sbx_kind_of(const struct sbx_obj *obj)
{
	return (const struct sbx_kind *)obj->type;
}

/* The registry of a kind. */
struct sbx_registry *sbx_objects_registry(struct sbx_objects *o, const struct sbx_kind *k);

/* Create obj (sbx_obj_init'ed, its fields set; the caller keeps its
 * reference): add it to its registry (-EAGAIN "too many ..."), run setup
 * (files, processes: kind-specific), then save it and, with ret, build its
 * reply. Any failure undoes it all: unlinked, its row and what setup made
 * removed. 0 or -errno with call->error set. */
int sbx_objects_create(struct sbx_objects *o, struct sbx_obj *obj, struct sbx_rpc_call *call,
		       int (*setup)(struct sbx_obj *obj, struct sbx_rpc_call *call,
				    const void *arg),
		       const void *arg, ProtobufCMessage **ret);
/* Delete object `id` of kind k: unlinked, its row deleted, kind->forget
 * run; its files go with the last reference. check (may be NULL) may
 * refuse first (-errno with call->error). -EINVAL (no id), -ENOENT. */
int sbx_objects_delete(struct sbx_objects *o, const struct sbx_kind *k, struct sbx_rpc_call *call,
		       const char *id,
		       int (*check)(struct sbx_obj *obj, struct sbx_rpc_call *call));
/* A new reference to object `id` of kind k, or NULL with call->error set
 * and *ret_err -EINVAL (no id) or -ENOENT. ret_err may be NULL. */
struct sbx_obj *sbx_objects_get(struct sbx_objects *o, const struct sbx_kind *k,
				struct sbx_rpc_call *call, const char *id, int *ret_err);
/* The reply of object `id` (Get). */
int sbx_objects_get_reply(struct sbx_objects *o, const struct sbx_kind *k,
			  struct sbx_rpc_call *call, const char *id, ProtobufCMessage **ret);
/* The List reply of kind k: every object's reply, oldest first. */
int sbx_objects_list(struct sbx_objects *o, const struct sbx_kind *k, ProtobufCMessage **ret);
/* Start-up: load every stored object of every kind (in the order of
 * sbx_kinds: deployments find their sandboxes loaded). */
int sbx_objects_load(struct sbx_objects *o);
/* Write obj's row if it is live; call with obj->lock held. */
int sbx_objects_save_locked(struct sbx_objects *o, struct sbx_obj *obj);
/* Files out of object `id`'s workspace (files_rpc.c; files_out.h says
 * what is read and how), within the configured caps. */
int sbx_objects_list_files(struct sbx_objects *o, const struct sbx_kind *k,
			   struct sbx_rpc_call *call, const char *id, const char *path,
			   uint32_t max_depth, Sbx__ListFilesReply **ret);
int sbx_objects_download(struct sbx_objects *o, const struct sbx_kind *k,
			 struct sbx_rpc_call *call, const char *id, const char *path,
			 Sbx__FileContent **ret);
/* For kind->save: m packed into row->record (heap; the lifecycle frees
 * it). -ENOMEM. */
int sbx_objects_pack(const ProtobufCMessage *m, struct sbx_store_object *row);

#endif
