/* Piston v2's POST /api/v2/execute (engineer-man/piston, api/src/api/v2.js
 * and job.js), the route that cannot be a dialect: a `version` selector
 * matched against the installed versions (common/semver.h), the first
 * utf8 file as the program, files in base64 or hex, limits in Piston's
 * units with -1 for "as much as the server allows", and the stage object
 * whose code, signal, message and status are derived as Piston derives
 * them from isolate. Differences: gateway/SEED-DIFFERENCES.md.
 *
 * A request makes two RPCs: ListLanguages (which language and version,
 * and the largest limits) and then Execute. Errors are Piston's
 * {"message": ...}: 400 for what Piston refuses, with its sentences. */
#ifndef SBX_GW_PISTON_H
#define SBX_GW_PISTON_H

struct gw_server;
struct gw_request;

/* A gw_handler_fn (gateway/router.h) for the row of POST /api/v2/execute. */
int gw_piston_execute_handler(struct gw_server *srv, struct gw_request *req);

/* Bounds of one request, beyond the body limit. */
#define GW_PISTON_MAX_FILES 256
#define GW_PISTON_MAX_ARGS 4096

#endif
