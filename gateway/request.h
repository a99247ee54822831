/* One HTTP request in flight through the gateway.
 *
 * Lifetime: created on libmicrohttpd's first access-handler call for the
 * request with one reference, owned by the connection and dropped when
 * libmicrohttpd reports the request completed (MHD_OPTION_NOTIFY_COMPLETED,
 * which also covers a client that went away). Anything that may outlive
 * that point, above all an RPC completion callback on an nng thread, holds
 * its own reference (gw_request_ref) and drops it when done. After
 * completion the connection is gone: gw_request_resume() then does nothing.
 *
 * Threads: the request is driven by one libmicrohttpd thread at a time;
 * only the fields under `lock` are touched by other threads. */
#ifndef SBX_GW_REQUEST_H
#define SBX_GW_REQUEST_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "router.h"
#include "sandbox.h"

struct gw_server;
struct gw_request;

enum gw_req_state {
	GW_REQ_BODY,	  /* receiving the body */
	GW_REQ_REFUSED,	  /* refused from its headers; answered at the final call */
	GW_REQ_DISCARD,	  /* body past the limit: dropping the rest, then 413 */
	GW_REQ_HANDLING,  /* the handler runs, or runs again after a resume */
	GW_REQ_SUSPENDED, /* connection suspended, waiting for gw_request_resume */
	GW_REQ_RESPONDED, /* a response is queued */
};

/* Runs on a libmicrohttpd thread once a suspended request's connection is
 * resumed; it must queue the response. Returns 0 or a negative errno (the
 * caller then answers 500 if nothing was queued). */
typedef int (*gw_resume_fn)(struct gw_server *srv, struct gw_request *req);

struct gw_request {
	struct gw_server *srv;
	struct MHD_Connection *conn;
	uint64_t id;
	char method[16];
	char log_path[160]; /* sanitised, truncated: for the access log */
	uint64_t start_us;
	enum gw_req_state state;
	int status; /* HTTP status queued; 0 while none */
	struct gw_match match;
	struct sbx_buf body; /* at most the server's max_body bytes */
	uint64_t body_seen;  /* bytes received, also those discarded */
	gw_resume_fn on_resume;
	int refusal_status; /* GW_REQ_REFUSED: what to answer */
	char refusal[256];
	const char *refusal_hdr[2]; /* one header (name, value) or { NULL } */
	char refusal_value[24];	    /* room for a computed refusal_hdr value */
	/* A log stream answering this request (gateway/logstream.h), told
	 * when the request is gone; one reference. HTTP thread only. */
	struct gw_logstream *stream;
	/* A streaming route's state (gateway/proxy.c), released once
	 * libmicrohttpd is done with the request (it may live on a little
	 * longer, held by the transfer and the response). */
	void *stream_state;
	void (*stream_release)(void *state);
	/* A hand-written handler's state while the request is suspended
	 * (gateway/admin_test.c), freed with ctx_free when the last reference
	 * goes; NULL: none. Set on the HTTP thread before suspending. */
	void *ctx;
	void (*ctx_free)(void *ctx);

	/* The node the request's RPC went to (its id, else its address) and,
	 * for a call answered by every node, those that did not answer
	 * (comma-separated; libsandbox's sbx_call_opts.node and .partial).
	 * Written by the call before its callback, read after the resume. */
	char node[SBX_NODE_NAME_MAX];
	char partial[SBX_PARTIAL_MAX];

	pthread_mutex_t lock; /* guards what follows */
	int refs;
	bool gone; /* completed: conn must not be touched */
	bool resume_sent;
	int call_err; /* RPC result, for on_resume */
	struct sbx_reply reply;
};

/* A request with one reference, or NULL when out of memory. method and url
 * are copied for the access log. */
struct gw_request *gw_request_new(struct gw_server *srv, struct MHD_Connection *conn,
				  const char *method, const char *url);
struct gw_request *gw_request_ref(struct gw_request *req);
/* Drop a reference; the last one frees the request. NULL is ok. */
void gw_request_unref(struct gw_request *req);

/* Suspend the connection (from the access handler only) until
 * gw_request_resume(); on_resume then queues the response. */
void gw_request_suspend(struct gw_request *req, gw_resume_fn on_resume);
/* Store an RPC outcome (err, and on 0 the reply, whose ownership moves to
 * the request) and resume the connection. Any thread; non-blocking; once
 * per suspend. Does nothing to a connection that is already gone. */
void gw_request_finish_call(struct gw_request *req, int err, struct sbx_reply *reply);
/* Resume the connection, if suspended and still there, without an RPC
 * outcome: for streaming routes, whose wake-ups come from transfers. Any
 * thread; non-blocking; does nothing after the first call per suspend. */
void gw_request_resume(struct gw_request *req);
/* The access handler saw the connection back after a suspend. */
void gw_request_resumed(struct gw_request *req);
/* libmicrohttpd is done with the request (NOTIFY_COMPLETED): the
 * connection may no longer be touched. Returns whether it was still
 * suspended (only at daemon shutdown). */
bool gw_request_gone(struct gw_request *req);

/* Does the request announce a body (Content-Length other than 0, or
 * Transfer-Encoding)? */
bool gw_request_has_body(struct MHD_Connection *conn);

#endif
