/* libsandbox: the C client of sandboxd's RPC layer (nng req/rep carrying the
 * protobuf envelope of proto/rpc.proto). Every RPC user links it, the gateway
 * included.
 *
 * Conventions: functions return 0 or a negative errno; ret_* are written only
 * on success. A client is thread-safe: any number of calls, sync or async,
 * may be in flight at once. Transport errors are distinct from RPC statuses:
 *   -ECONNREFUSED  the daemon is not connected (down, or not yet up)
 *   -ETIMEDOUT     no reply before the call's timeout
 *   -EBADMSG       the daemon's reply could not be decoded
 *   -ENOENT        no such method in the method table
 *   -E2BIG         the request is larger than SBX_ENVELOPE_MAX
 * A call that reached the daemon returns 0 and reports the daemon's answer in
 * struct sbx_reply (status SBX_OK or another gRPC code, see common/status.h). */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#define SBX_DEFAULT_RPC_URL "ipc:///run/sandboxd/rpc.sock"
#define SBX_DEFAULT_EVENTS_URL "ipc:///run/sandboxd/events.sock"

struct sbx_client;

struct sbx_client_opts {
	const char *rpc_url;       /* NULL: SBX_DEFAULT_RPC_URL */
	const char *auth_token;    /* sent with every call; NULL: none */
	uint32_t timeout_ms;       /* default per-call timeout; 0: 30000 */
	/* How long sbx_client_open waits for the first connection; 0: do not
	 * wait (calls fail with -ECONNREFUSED until the daemon is up). */
	uint32_t connect_wait_ms;
};

struct sbx_reply {
	int status;                /* gRPC status code of the daemon's answer */
	char *message;             /* the daemon's error sentence, "" when OK */
	ProtobufCMessage *msg;     /* reply message when status is OK, else NULL */
};

/* Open a client that dials opts->rpc_url and redials after the daemon
 * restarts. Blocks at most connect_wait_ms. */
int sbx_client_open(const struct sbx_client_opts *opts, struct sbx_client **ret);
/* Close; in-flight async calls complete with -ECANCELED first, and every
 * callback has returned when this returns. NULL is ok. */
void sbx_client_close(struct sbx_client *c);
/* 1 when at least one connection to the daemon is up. */
int sbx_client_connected(struct sbx_client *c);

/* Blocking call of `method` (a name in the method table) with request `req`
 * (a message of the method's input type). timeout_ms 0: the client default.
 * On 0, *ret holds the answer: release it with sbx_reply_fini. */
int sbx_call(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
	     uint32_t timeout_ms, struct sbx_reply *ret);

/* Completion of an async call, run on an nng thread: do not block in it.
 * err is 0 or a transport error as above; on 0 the callback owns *reply
 * and must sbx_reply_fini it. */
typedef void (*sbx_call_cb)(void *arg, int err, struct sbx_reply *reply);

/* Start a call; cb runs exactly once, unless this returns an error. The
 * request is packed before this returns: req may be freed at once. */
int sbx_call_async(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
		   uint32_t timeout_ms, sbx_call_cb cb, void *arg);
/* The same with this call's own API key (a gateway forwarding its
 * clients' keys); NULL: the client's. */
int sbx_call_async_auth(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
			uint32_t timeout_ms, const char *auth_token, sbx_call_cb cb, void *arg);

void sbx_reply_fini(struct sbx_reply *r);

#endif
