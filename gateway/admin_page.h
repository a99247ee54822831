/* The gateway's two hand-written admin routes: the static admin page
 * (admin_page.c) and the API documentation generated from the route table
 * (admin_docs.c). Both are
 * gw_handler_fn (gateway/router.h) for GW_HANDLER rows of gateway/routes.c. */
#ifndef SBX_GW_ADMIN_PAGE_H
#define SBX_GW_ADMIN_PAGE_H

#include "request.h"

struct gw_server;

/* GET /admin: gateway/admin/index.html, compiled into the binary. 200 with
 * Content-Type text/html; charset=utf-8, a strong ETag (304 when the
 * client's If-None-Match has it), Cache-Control no-cache (revalidate, so a
 * new gateway's page is picked up at once) and a Content-Security-Policy
 * that lets the page reach nothing but this origin. */
int gw_admin_page_handler(struct gw_server *srv, struct gw_request *req);

/* GET /admin/api/docs: a bare JSON array, one object per row of the table
 * the server serves (srv->routes), in table order: {method, path,
 * description, parameters: [{name, param_type, required, description}],
 * example_request, example_response}. Parameters come from the pattern's
 * `{name}` segments ("path", required) and, for RPC rows, from the request
 * message's fields through the row's dialect ("query" for GET and DELETE,
 * else "body"); hand-written rows list theirs from a table in
 * gateway/admin_docs.c. example_request (the seed's curl command) and
 * example_response (the answer) come from a table of examples keyed by
 * method and pattern, sandbox-service-API.md's endpoints; null for rows it
 * has no example of. */
int gw_admin_docs_handler(struct gw_server *srv, struct gw_request *req);

#endif
