/* The generic route handler: JSON body + query string + path parameters ->
 * the route's RPC request message (common/json_pb.h, through the route's
 * dialect) -> an async RPC with the connection suspended -> the reply
 * message as JSON, or an error mapped through common/status.h.
 *
 * Order of checks: body JSON syntax (400), RPC known to the method table
 * (501), body fields (400), query parameters (400), path parameters (400).
 * Path parameters are set last, so they win over body and query fields of
 * the same name; unknown query parameters are ignored like unknown keys. */
#ifndef SBX_GW_RPC_HANDLER_H
#define SBX_GW_RPC_HANDLER_H

#include "json_pb.h"
#include "request.h"
#include "respond.h"

struct gw_server;

/* A gw_handler_fn (gateway/router.h) for every row without a handler.
 *
 * Before mapping, the dialect's `defaults` fill the keys the body lacks.
 * The client's API key, `Authorization: Bearer KEY` or else `X-API-Key:
 * KEY`, goes with the RPC; the daemon decides whether it is needed. A 400
 * from the daemon that quotes a canonical field the dialect renames is
 * respelled with the seed's name. */
int gw_rpc_handler(struct gw_server *srv, struct gw_request *req);

/* Check, once at start-up, the parts of the rows' dialects the handler
 * relies on: `defaults` must be a JSON object. 0, or -EINVAL with a
 * sentence naming the row in err. */
int gw_rpc_check_routes(const struct gw_route *table, size_t n, char *err, size_t errlen);

/* The pieces of the generic handler, for hand-written routes that make
 * RPCs the same way (gateway/logstream.c). */

/* The request message of RPC `rpc` from req's JSON body (with dl's
 * defaults), query string and path parameters, through dialect dl (NULL:
 * canonical). 0 and *ret (free with protobuf_c_message_free_unpacked); 1
 * when the request was answered already (400 bad input, 501 unknown RPC);
 * or a negative errno. */
int gw_rpc_build_request(struct gw_request *req, const char *rpc, const struct jpb_dialect *dl,
			 ProtobufCMessage **ret);
/* Suspend req and start `rpc` with msg (packed before this returns) under
 * the HTTP client's API key and address; on_resume runs on an HTTP thread
 * once the call is over, with req->call_err and req->reply set (also when
 * the call could not start). Always returns 0. */
int gw_rpc_start(struct gw_server *srv, struct gw_request *req, const char *rpc,
		 const ProtobufCMessage *msg, gw_resume_fn on_resume);
/* gw_rpc_respond_failure for a call gw_rpc_start made: its error is
 * req->call_err (or a reply without a status other than OK: -EBADMSG). */
int gw_rpc_respond_call_failure(struct gw_request *req);

/* Answer a failed RPC of the request's route the way the generic handler
 * does: err < 0 is a transport error (503, 504, ...), else req->reply holds
 * a status other than OK, mapped through common/status.h with the daemon's
 * message. For hand-written routes that make an RPC of their own. */
int gw_rpc_respond_failure(struct gw_request *req, int err);

/* The HTTP status and the sentence (into msg[size]) for libsandbox's
 * transport error err (a call that got no answer) of a call that went to
 * `node` (sbx_call_opts.node; NULL or "": unknown): 503 for a daemon or
 * node that is down or went away (the sentence names the node), 504 for a
 * timeout, ...; 502 for an error the table does not know. */
int gw_rpc_transport_status(int err, const char *node, char *msg, size_t size);

/* An answer merged from a cluster's nodes (sbx_call_opts.partial: those
 * that did not answer, "" when none) puts their names in the header
 * X-Sandboxd-Partial (into hdrs[0]; hdrs[1] is left as the end); a reply
 * object that lists the nodes (stats, status: a "nodes" array) also gets
 * "partial": true|false. 0, or -ENOMEM. */
int gw_rpc_mark_partial(json_t *out, const char *partial, struct gw_header hdrs[2]);

/* The HTTP client's API key: `Authorization: Bearer KEY`, else
 * `X-API-Key: KEY`; NULL when it sent neither. Points into the
 * connection's headers: valid while the request is being handled. */
const char *gw_client_api_key(struct MHD_Connection *conn);
/* The HTTP client's address as text ("198.51.100.23", "::1") into buf;
 * "" when libmicrohttpd cannot tell. */
void gw_client_address(struct MHD_Connection *conn, char *buf, size_t size);

/* Query parameters per request at most; more is a 400. */
#define GW_MAX_QUERY_PARAMS 64

#endif
