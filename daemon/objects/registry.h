/* A registry of shared objects of one kind (sandboxes, sessions): id ->
 * object, with a limit on how many may exist, and reference counting so
 * that an object held by the registry and by in-flight RPCs is freed only
 * when the last of them lets go (a delete during an execution unlinks the
 * object; the runner's reference keeps it alive until the run returns).
 *
 * Objects embed struct sbx_obj as their first member. Thread-safe. */
#ifndef SBX_REGISTRY_H
#define SBX_REGISTRY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define SBX_ID_LEN 36 /* a lowercase UUID */

struct sbx_obj;

struct sbx_obj_type {
	const char *noun; /* "sandbox", "session": for messages */
	/* Called once, by the sbx_obj_unref that drops the last reference. */
	void (*free)(struct sbx_obj *o);
};

/* Where an object is in its life (the lifecycle's, kind.h). */
enum sbx_obj_phase {
	SBX_OBJ_NEW,  /* being created: not stored yet; a failure removes its files */
	SBX_OBJ_LIVE, /* stored: every change is written back */
	SBX_OBJ_GONE, /* deleted: never written again; its files go with the last reference */
};

struct sbx_obj {
	const struct sbx_obj_type *type;
	atomic_uint refs;
	struct sbx_obj *next; /* registry chain; guarded by the registry */
	bool linked;	      /* in a registry; guarded by the registry */
	char id[SBX_ID_LEN + 1];
	int64_t created_ms; /* ms since the epoch; orders listings */
	/* Guards the phase and the kind's mutable fields, and orders the
	 * store writes of the object. */
	pthread_mutex_t lock;
	enum sbx_obj_phase phase;
};

struct sbx_registry;

/* Initialise an object with one reference (the caller's), a fresh id and
 * phase NEW. The id is a UUID whose first 8 hex digits are `tag`, the
 * node's (nodeid.h; NULL or "": a plain random UUID). */
void sbx_obj_init(struct sbx_obj *o, const struct sbx_obj_type *type, const char *tag);
/* Same, with a given id and phase LIVE (objects loaded from the store).
 * -EINVAL when `id` is not a lowercase UUID (nothing initialised). */
int sbx_obj_init_id(struct sbx_obj *o, const struct sbx_obj_type *type, const char *id);
struct sbx_obj *sbx_obj_ref(struct sbx_obj *o);
/* NULL is a no-op. */
void sbx_obj_unref(struct sbx_obj *o);
/* true when `id` has the shape of an object id (checked before any use). */
bool sbx_id_valid(const char *id);

/* A registry holding at most `max` objects. */
int sbx_registry_new(unsigned max, struct sbx_registry **ret);
/* Drop the registry's references of the objects still in it. NULL is ok. */
void sbx_registry_free(struct sbx_registry *r);

/* Add o, taking a reference of its own. -EAGAIN when the registry is full,
 * -EEXIST when the id is taken. */
int sbx_registry_add(struct sbx_registry *r, struct sbx_obj *o);
/* The object of `id` with a new reference for the caller, or NULL. */
struct sbx_obj *sbx_registry_get(struct sbx_registry *r, const char *id);
/* Unlink `id`; the registry's reference goes to the caller through *ret.
 * -ENOENT when absent (a concurrent delete got there first). */
int sbx_registry_remove(struct sbx_registry *r, const char *id, struct sbx_obj **ret);
/* Unlink o if it is still linked; true when this call unlinked it: the
 * registry's reference then goes to the caller. */
bool sbx_registry_unlink(struct sbx_registry *r, struct sbx_obj *o);
/* Add an object brought back from the store: like sbx_registry_add, but
 * beyond the limit too (a lowered limit must not lose objects; creating
 * more fails until enough are gone). */
int sbx_registry_restore(struct sbx_registry *r, struct sbx_obj *o);
size_t sbx_registry_count(struct sbx_registry *r);
unsigned sbx_registry_max(struct sbx_registry *r);
/* A snapshot of every object, oldest first (then by id: a stable order
 * for clients that page by eye), each with a reference for the caller:
 * release with sbx_registry_list_free. */
int sbx_registry_list(struct sbx_registry *r, struct sbx_obj ***ret, size_t *ret_n);
void sbx_registry_list_free(struct sbx_obj **list, size_t n);

#endif
