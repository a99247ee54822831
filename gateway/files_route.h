/* Files out of a workspace over HTTP: GET /sandbox/{id}/files/{path...}
 * and GET /sessions/{session_id}/files/{path...} answer the file's raw
 * bytes (the listing rows are plain RPC rows). */
#ifndef SBX_GW_FILES_ROUTE_H
#define SBX_GW_FILES_ROUTE_H

struct gw_request;
struct gw_server;

/* A gw_handler_fn for a `*` row whose rpc is a Download*File method: the
 * rest of the path, percent-decoded, is the request's `path`; the reply
 * is the file's bytes with its Content-Type (by extension), or
 * {"error": ...} with the mapped status like every route. */
int gw_files_download_handler(struct gw_server *srv, struct gw_request *req);

#endif
