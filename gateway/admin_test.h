/* POST /admin/api/test (sandbox-service-API.md, "Test API Endpoint"): the
 * gateway makes an HTTP request to itself and reports what it answered.
 * A gw_handler_fn (gateway/router.h) for a GW_HANDLER row of
 * gateway/routes.c. */
#ifndef SBX_GW_ADMIN_TEST_H
#define SBX_GW_ADMIN_TEST_H

#include "request.h"

struct gw_server;

/* Inner response bodies are kept up to this many bytes; past it the body
 * is cut and the reply has "truncated": true. */
#define GW_ADMIN_TEST_BODY_MAX (1u << 20)
/* Inner requests in flight at once; more is a 429. */
#define GW_ADMIN_TEST_MAX 16
/* Request headers per inner request. */
#define GW_ADMIN_TEST_HEADERS_MAX 64

/* Body {method: GET|POST|PUT|DELETE|PATCH, path: "/...", headers: {name:
 * string} (optional), body: string (optional)}. Sends it to this
 * gateway's own listen address (never another host: `path` must start
 * with one '/', hold no "://", control byte, space or '#', be at most
 * GW_PATH_MAX bytes and not lead back to this route) with the client's
 * Authorization / X-API-Key unless `headers` set one, Content-Type
 * application/json when a body is given without one, and the gateway's
 * request timeout (plus a second, so that an inner 504 is still seen).
 *
 * 200 {status, headers: {lower-case name: value}, body, duration_ms
 * (number, ms)[, truncated: true]}: any inner status, 404 included;
 * truncated when the body passed GW_ADMIN_TEST_BODY_MAX or was still
 * coming at the timeout (a followed log stream). 400 for a bad request
 * body, 429 past GW_ADMIN_TEST_MAX, 502 when the inner request failed,
 * 504 when it timed out before any answer, 503 while shutting down.
 *
 * The request runs on a thread of its own while the connection is
 * suspended, so no HTTP thread waits; it goes through the whole gateway
 * path, rate limit included. Invalid UTF-8 in the inner body becomes
 * U+FFFD. */
int gw_admin_test_handler(struct gw_server *srv, struct gw_request *req);

#endif
