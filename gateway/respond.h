/* Queueing HTTP responses for a request. Every body is JSON
 * (Content-Type: application/json); errors are {"error": "sentence"}
 * (a seed's own key where its dialect says so: Piston's "message").
 * Call on the libmicrohttpd thread driving the request, at most once. */
#ifndef SBX_GW_RESPOND_H
#define SBX_GW_RESPOND_H

#include <jansson.h>

#include "request.h"

struct gw_header {
	const char *name, *value;
};

/* Queue `status` with body (reference stolen; NULL: no body) and the
 * headers hdrs (ending with {0}, or NULL). Returns 0, or -EIO when
 * libmicrohttpd refused (the caller then closes the connection). */
int gw_respond(struct gw_request *req, int status, json_t *body, const struct gw_header *hdrs);

/* Queue resp, built by the caller (a stream: gateway/logstream.c), with
 * `status`; resp is destroyed here (libmicrohttpd keeps its own reference
 * while it sends). */
int gw_respond_response(struct gw_request *req, int status, struct MHD_Response *resp);

/* Queue `status` with a body that is already JSON text (copied). */
int gw_respond_text(struct gw_request *req, int status, const char *json_text);

/* Queue {"error": <printf result>} with `status` and hdrs as above; the
 * key is the route's dialect's error_key when it has one. */
int gw_respond_error(struct gw_request *req, int status, const struct gw_header *hdrs,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
