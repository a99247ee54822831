/* The RPC server: an nng rep socket served by a pool of contexts, each a
 * small state machine driven by its aio callback (nng's demo/async/server.c).
 * Requests are decoded from the envelope, checked (method, auth, deadline)
 * and dispatched through a handler table indexed like the method table.
 * Handlers flagged SBX_RPC_INLINE run on the nng callback thread and must not
 * block; the others run on a pool of worker threads, so one slow execution
 * never holds up health checks or other clients. */
#ifndef SBX_RPC_SERVER_H
#define SBX_RPC_SERVER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentence.h"

struct sbx_rpc_server;

/* What a handler knows about the request it serves. */
struct sbx_rpc_call {
	const char *method;
	uint64_t id;
	uint64_t deadline_ms;    /* ms since the epoch, 0 = none */
	/* RpcRequest.client: who asked (the gateway's HTTP client address),
	 * "" when the caller did not say. Valid during the call. */
	const char *client;
	char error[SBX_SENTENCE_MAX]; /* user-facing sentence for a failed call */
};

/* Returns 0 with *ret_reply set (a heap message of the method's output type,
 * freed by the server with protobuf_c_message_free_unpacked), or a negative
 * errno mapped to a status by sbx_status_from_errno, with call->error set
 * through sbx_rpc_error(). */
typedef int (*sbx_rpc_handler_fn)(void *state, struct sbx_rpc_call *call,
				  const ProtobufCMessage *req, ProtobufCMessage **ret_reply);

enum {
	SBX_RPC_INLINE = 1 << 0, /* fast and non-blocking: run on the nng thread */
	SBX_RPC_PUBLIC = 1 << 1, /* served without the API key (health checks) */
};

struct sbx_rpc_handler {
	const char *method;      /* a method of the service descriptor */
	sbx_rpc_handler_fn fn;
	unsigned flags;
};

struct sbx_rpc_server_opts {
	const char *url;
	unsigned contexts;       /* requests served at once */
	unsigned workers;        /* threads for non-inline handlers */
	const char *api_key;     /* "" or NULL: no authentication */
	/* "" or NULL: none; else every request (Health too) must carry it
	 * in RpcRequest.cluster_key, or is answered UNAUTHENTICATED. */
	const char *cluster_key;
	/* "" or NULL: none; else every empty string field named "node" of a
	 * reply, at any depth, is set to it (cluster mode). */
	const char *node_id;
	const struct sbx_rpc_handler *handlers;
	size_t n_handlers;
	void *state;             /* passed to every handler */
};

/* Listen and start serving. -EINVAL when a handler names no method of the
 * table or the URL is bad, -EADDRINUSE when another daemon listens there. */
int sbx_rpc_server_start(const struct sbx_rpc_server_opts *opts, struct sbx_rpc_server **ret);
/* Stop taking requests, let in-flight ones reply (waiting at most
 * grace_ms), then close. NULL is ok. */
void sbx_rpc_server_stop(struct sbx_rpc_server *s, unsigned grace_ms);

/* Whether `got` is the key `want`, compared in constant time: the time
 * taken depends on want's length only, never on where the two differ or
 * on got's length, so a key cannot be guessed byte by byte. */
bool sbx_rpc_key_ok(const char *want, const char *got);

/* printf into call->error; returns `err` so handlers can `return sbx_rpc_error(...)`. */
int sbx_rpc_error(struct sbx_rpc_call *call, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
