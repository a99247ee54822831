/* Live log streams over HTTP: Server-Sent Events (default) or NDJSON
 * (`Accept: application/x-ndjson`) fed by the daemon's events socket.
 *
 * One subscriber for the gateway's lifetime, on the "logs/" prefix: its
 * thread only queues each event on the streams of its topic (a hash of
 * streams by id, bounded per stream; past the bound the event is dropped
 * and the gap is refilled from the daemon's ring with GetLogs later), so
 * a slow HTTP client never slows the subscriber nor the daemon. Opening
 * and closing an nng sub socket per stream is what this avoids (closing
 * one under a flood can hang in nng 1.5.2).
 *
 * A stream's bytes are made on the HTTP thread, in the libmicrohttpd
 * content reader: ring lines fetched with GetLogs, then queued events, in
 * seq order, each seq once. With nothing to send the reader suspends the
 * connection and returns 0; an event, a fetched page, a finished
 * execution or the keep-alive tick resumes it. */
#ifndef SBX_GW_LOGSTREAM_H
#define SBX_GW_LOGSTREAM_H

#include <stdint.h>

#include "request.h"

struct gw_server;
struct gw_logstreams;
struct gw_logstream;

/* The streams of srv: subscribes to srv->cfg.events and events_dns (every
 * node's publisher; "logs/") and starts the keep-alive thread. 0, -ENOMEM,
 * -EINVAL (bad URL). */
int gw_logstreams_new(struct gw_server *srv, struct gw_logstreams **ret);
/* Shutting down: every stream ends now (its client sees the end of the
 * response); new ones are refused. Non-blocking. */
void gw_logstreams_end_all(struct gw_logstreams *h);
/* After libmicrohttpd stopped: stop the threads, unsubscribe, free. NULL
 * is ok. */
void gw_logstreams_free(struct gw_logstreams *h);

/* For GET /metrics: the streams open now and the event bytes dropped
 * from streams' queues since start. NULL h: zeros. Any thread. */
void gw_logstreams_stats(struct gw_logstreams *h, unsigned *ret_streams,
			 uint64_t *ret_dropped_bytes);

/* libmicrohttpd is done with req (NOTIFY_COMPLETED): free its stream, if
 * any. HTTP thread. */
void gw_logstream_request_gone(struct gw_request *req);

/* Route handlers (gateway/router.h rows).
 *
 * GET /admin/api/sandboxes/{id}/logs?lines=N&follow=true: without follow,
 * the row's RPC (AdminSandboxLogs) the generic way; with it, a stream of
 * entries {timestamp, level ("INFO" stdout, "ERROR" stderr), message,
 * sandbox_id, seq, stream ("stdout"|"stderr"|"exit")}: the last `lines`
 * (default 100, at most 10000) kept lines, or those after the request's
 * Last-Event-ID, then live ones. 404 when the daemon has no logs for id
 * and no sandbox of that id; 429 past MAX_LOG_STREAMS. */
int gw_logs_sandbox_handler(struct gw_server *srv, struct gw_request *req);
/* GET /faas/deployments/{id}/logs?lines=N&follow=true: the same stream;
 * without follow, the last `lines` lines as a JSON array of {timestamp,
 * level, message, sandbox_id}. */
int gw_logs_deployment_handler(struct gw_server *srv, struct gw_request *req);
/* GET /sessions/{session_id}/logs?lines=N&follow=true: a session's runs'
 * output, the same as a deployment's. */
int gw_logs_session_handler(struct gw_server *srv, struct gw_request *req);
/* POST /api/v1/execute/stream: the row's RPC (Execute) with the row's
 * dialect, its output streamed live (SSE `event: stdout|stderr`, data
 * {"stream", "data"}), then `event: result` with the body the
 * non-streaming route answers, then the end. A request the daemon refuses
 * before any output is answered with the usual error status. */
int gw_execute_stream_handler(struct gw_server *srv, struct gw_request *req);

#endif
