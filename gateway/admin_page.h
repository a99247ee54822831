/* The gateway's hand-written page routes: the static admin page and its
 * files (admin_page.c), the API documentation generated from the route
 * table (admin_docs.c, openapi.c) and the page that renders it (docs_page.c).
 * All are gw_handler_fn (gateway/router.h) for GW_HANDLER rows of
 * gateway/routes.c. */
#ifndef SBX_GW_ADMIN_PAGE_H
#define SBX_GW_ADMIN_PAGE_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "request.h"
#include "router.h"

struct gw_server;

/* GET /admin: gateway/admin/index.html, compiled into the binary. 200 with
 * Content-Type text/html; charset=utf-8, a strong ETag (304 when the
 * client's If-None-Match has it), Cache-Control no-cache (revalidate, so a
 * new gateway's page is picked up at once) and a Content-Security-Policy
 * that lets the page reach nothing but this origin. */
int gw_admin_page_handler(struct gw_server *srv, struct gw_request *req);
/* GET /admin/assets/{name}: the pages' script and style files (admin.js,
 * admin-objects.js, admin-charts.js, admin.css, docs.js), compiled in the
 * same way, with the same headers; 404 {"error"} for any other name. */
int gw_admin_asset_handler(struct gw_server *srv, struct gw_request *req);

/* GET /docs: a page rendering GET /openapi.json with swagger-ui, whose
 * files (npm swagger-ui-dist) the gateway serves from --docs-dir (default:
 * share/sandboxd/swagger-ui beside the binary's bin directory, where the
 * build and `make install` put them). 200 text/html as for /admin; when
 * the viewer is not installed, 503 with a text/html page saying how to
 * install it and where the document is. */
int gw_docs_page_handler(struct gw_server *srv, struct gw_request *req);
/* GET /docs/{path}: one file of the viewer's directory. Only names of
 * [A-Za-z0-9._-] segments not starting with '.', of a known type (.js,
 * .css, .html, .png, .json, .map), opened beneath the directory without
 * following any symbolic link, regular files of at most GW_DOCS_FILE_MAX
 * bytes; ETag from size and mtime (304 on a match). 404 {"error"} for
 * anything else, 503 when the viewer is not installed. */
#define GW_DOCS_FILE_MAX (16u << 20)
int gw_docs_file_handler(struct gw_server *srv, struct gw_request *req);

/* Shared by the page handlers: does the request's If-None-Match name etag;
 * the headers every page and file gets (no-cache, nosniff, no referrer,
 * and the Content-Security-Policy csp unless NULL); the /docs page itself
 * (admin_page.c holds the compiled-in files). */
bool gw_etag_matches(struct MHD_Connection *conn, const char *etag);
void gw_page_headers(struct MHD_Response *resp, const char *csp);
int gw_docs_html_send(struct gw_request *req);

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

/* What the docs say of a hand-written row (a table in admin_docs.c, read
 * by both documents): one parameter... */
struct gw_doc_param {
	const char *name, *param_type; /* param_type: "path", "query" or "body" */
	bool required;
	const char *description;
};
/* ...and the handler: its description, its parameters (ending at the
 * first without a name) and the media type of its answer (NULL: JSON). */
struct gw_handler_doc {
	gw_handler_fn fn;
	const char *description;
	struct gw_doc_param params[6];
	const char *media;
};
/* The table's row for fn, or a row saying only "Served by a hand-written
 * handler"; never NULL. */
const struct gw_handler_doc *gw_handler_doc_find(gw_handler_fn fn);
/* The field at dotted `path` ("limits.wall_time_ms") under message d, or
 * NULL. */
const ProtobufCFieldDescriptor *gw_doc_resolve(const ProtobufCMessageDescriptor *d,
					       const char *path);

/* GET /openapi.json (openapi.c): gw_openapi_document() of the server's
 * own table, its server URL from the request's Host header. */
int gw_openapi_handler(struct gw_server *srv, struct gw_request *req);
/* The OpenAPI 3.1 document of the n rows of table: one operation per row
 * (a later row with an earlier one's method and pattern, which never
 * matches, is left out), `*` segments as a {path} parameter; request and
 * reply schemas from the RPC's messages through the row's dialect (its
 * names, scales, enum words, defaults, error key); hand-written rows from
 * gw_handler_doc_find(). server_url may be NULL. NULL on allocation
 * failure. */
json_t *gw_openapi_document(const struct gw_route *table, size_t n, const char *server_url);

#endif
