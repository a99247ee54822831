/* An object's environment: "KEY=value" strings, one per key, bounded in
 * count and bytes, filled from proto maps and kept in the store as one
 * blob of NUL-terminated strings. */
#ifndef SBX_OBJ_ENV_H
#define SBX_OBJ_ENV_H

#include <stddef.h>

#include "rpc_server.h"

#define SBX_ENV_MAX 256
#define SBX_ENV_MAX_BYTES (64u << 10)

struct sbx_env {
	char **v;
	size_t n;
};

void sbx_env_fini(struct sbx_env *e);
/* *ret (zeroed or finalised) becomes a copy of e. */
int sbx_env_copy(struct sbx_env *ret, const struct sbx_env *e);

/* Set the entries of a proto map<string,string> (every protoc-c map entry
 * is {base, key, value}, hence the cast of the entry type) over e: a key
 * already there gets the new value. Checks names and the limits: -EINVAL
 * with call->error; e is unchanged on failure. */
int sbx_env_merge(struct sbx_env *e, void *const *entries, size_t n, struct sbx_rpc_call *call);

/* The blob form for the store, and back. */
int sbx_env_pack(const struct sbx_env *e, char **ret, size_t *ret_len);
int sbx_env_unpack(const char *blob, size_t len, struct sbx_env *ret);

/* A copy of e as proto map entries of the descriptor `entry` (a heap
 * array of heap messages, for replies). */
int sbx_env_to_map(const struct sbx_env *e, const void *entry_descriptor, void ***ret,
		   size_t *ret_n);

#endif
