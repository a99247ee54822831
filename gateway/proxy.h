/* The gateway's streaming reverse proxy: /faas/{id}/... (deployments) and
 * /proxy/{id}/... (a persistent sandbox's dev server).
 *
 * Per request: the daemon's OpenProxy RPC names a unix socket whose every
 * connection it forwards to the service's port 3000; libcurl then sends
 * the request there and the answer back, both bodies streamed through
 * bounded buffers (no body is ever held whole, whatever its size):
 *
 *   client -> MHD upload calls -> `up` buffer -> curl read callback
 *   client <- MHD content reader <- `down` buffer <- curl write callback
 *
 * A full `up` suspends the client's connection until curl drained it; an
 * empty one pauses curl's sending. A full `down` pauses curl's receiving;
 * an empty one suspends the client's connection until curl wrote more.
 *
 * In cluster mode a service on a node reached over tcp:// that reports a
 * proxy tunnel is reached through that tunnel instead of the socket:
 * libcurl's HTTP proxy, CONNECT <the socket's name>:3000 with the cluster
 * key (README "Cluster"); the rest is the same.
 *
 * Status and headers pass through, hop-by-hop headers (Connection,
 * Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade and those
 * the Connection header names) are dropped both ways, X-Forwarded-For,
 * -Host, -Proto and -Prefix are set. Errors before the service answered:
 * OpenProxy's status through the usual table (404, 503, 504...; 503
 * naming the node when its owner is down), 502 when the service refused or
 * closed the connection or the node's tunnel failed (naming the node),
 * 504 when its response headers took longer than the proxy timeout. */
#ifndef SBX_GW_PROXY_H
#define SBX_GW_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "router.h"

struct gw_server;
struct gw_request;
struct gw_proxy_engine;

/* The engine: one thread driving every proxied transfer of a server with
 * one curl multi handle. timeout_ms: how long a service may take to
 * accept and to send its response headers; cache_ms: how long OpenProxy's
 * answer for an id is reused (0: ask for every request). Returns 0,
 * -ENOMEM, or -EIO when libcurl or the thread cannot be set up. */
int gw_proxy_engine_new(uint32_t timeout_ms, uint32_t cache_ms, struct gw_proxy_engine **ret);
/* Fail every transfer still running (their clients get 503, or a cut
 * response when its headers were sent already), refuse new ones and join
 * the thread. Blocks briefly. Idempotent. */
void gw_proxy_engine_stop(struct gw_proxy_engine *e);
/* Free a stopped engine, after libmicrohttpd stopped (its connections
 * may still wake the engine until then). NULL is ok. */
void gw_proxy_engine_free(struct gw_proxy_engine *e);

/* The gw_stream_fn (gateway/router.h) of the proxy rows; the row's
 * stream_arg is the OpenProxy kind ("faas" or "proxy") and the pattern
 * has an `{id}` parameter and may end in `*`. */
int gw_proxy_stream(struct gw_server *srv, struct gw_request *req, const char *upload,
		    size_t *upload_size);

/* A proxy row: method on pattern, for OpenProxy kind. */
#define GW_PROXY(method, pattern, kind)                                                            \
	GW_STREAM(method, pattern, "OpenProxy", gw_proxy_stream, kind)

/* The proxy rows of every method a service may be asked with. */
#define GW_PROXY_ROWS(pattern, kind)                                                               \
	GW_PROXY("GET", pattern, kind), GW_PROXY("HEAD", pattern, kind),                           \
		GW_PROXY("POST", pattern, kind), GW_PROXY("PUT", pattern, kind),                   \
		GW_PROXY("DELETE", pattern, kind), GW_PROXY("PATCH", pattern, kind),               \
		GW_PROXY("OPTIONS", pattern, kind)

#endif
