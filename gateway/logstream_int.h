/* What gateway/logstream.c (the machinery) and gateway/logroutes.c (the
 * handlers) share. Private to those two files. */
#ifndef SBX_GW_LOGSTREAM_INT_H
#define SBX_GW_LOGSTREAM_INT_H

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "logs.pb-c.h"
#include "logstream.h"
#include "rpc_handler.h"
#include "sandbox.h"

/* The daemon keeps rings for ids up to this long (daemon/logs/logs.h). */
#define GW_LS_ID_MAX 128

enum gw_ls_kind {
	GW_LS_FOLLOW, /* an object's log entries */
	GW_LS_EXEC,   /* one Execute's output, then its result */
};

enum gw_ls_phase {
	GW_LS_SETUP,	 /* no response yet: the request is suspended */
	GW_LS_STREAMING, /* the response is queued; the reader runs */
	GW_LS_DONE,	 /* over: the reader ends the response */
};

enum { GW_LS_STDOUT, GW_LS_STDERR, GW_LS_EXIT };

/* An execution stream's last GetLogs, after the result came. */
enum { GW_LS_FINAL_NONE, GW_LS_FINAL_FETCHING, GW_LS_FINAL_DONE };

/* One queued event. */
struct gw_ls_event {
	struct gw_ls_event *next;
	uint64_t seq;
	int64_t time_us;
	uint8_t stream;
	size_t len;
	char data[];
};

/* One stream. References: the hub while registered, the request until it
 * is gone, the response until libmicrohttpd frees it, each call in
 * flight. */
struct gw_logstream {
	struct gw_logstreams *hub;
	struct gw_server *srv;
	struct gw_request *req; /* a reference */
	struct MHD_Connection *conn;
	enum gw_ls_kind kind;
	bool ndjson;
	char id[GW_LS_ID_MAX + 1];
	char api_key[256]; /* the client's, for the stream's own calls; "" none */
	char peer[INET6_ADDRSTRLEN];
	struct gw_logstream *hnext; /* hub bucket, under the hub's lock */
	bool registered;	    /* under the hub's lock */

	pthread_mutex_t lock; /* everything below */
	int refs;
	enum gw_ls_phase phase;
	bool suspended;			 /* by the reader; resumed by gw_ls_wake */
	bool gone;			 /* the request completed: conn is dead */
	bool closing;			 /* end the response now */
	bool setup_woken;		 /* GW_LS_EXEC set-up: the request was resumed */
	struct gw_ls_event *head, *tail; /* queued events, arrival order */
	size_t n_pending, pending_bytes;
	bool dropped;  /* events were dropped since the queue drained */
	uint64_t next; /* the next seq to send */
	uint64_t lost; /* lines reported lost */
	bool need_fetch, fetching;
	uint64_t fetch_covers, settled_covers;
	uint64_t retry_at_ms;
	Sbx__GetLogsReply *fetched; /* a page being sent */
	size_t fetched_i;
	bool fetch_started_applying;
	/* A page ended before what was sent once: believed a new ring only
	 * when the next, fresh page says so too (a page read before the
	 * events we delivered meanwhile says the same, wrongly). */
	bool ring_doubt;
	uint64_t last_event_ms, last_write_ms;
	bool check_due, ka_due;
	struct sbx_buf out; /* formatted, from out_off on not sent yet */
	size_t out_off;
	/* GW_LS_EXEC */
	bool result_ready;
	int final_state;
	char *exec_json;  /* the result event's data */
	bool exec_failed; /* exec_json is {"error"} for an `error` event */
	int exec_err;
	struct sbx_reply exec_reply;
	void *setup; /* the handler's set-up state (logroutes.c), freed with s */
};

/* A stream for req with one reference (the caller's); NULL: no memory. */
struct gw_logstream *gw_ls_new(struct gw_logstreams *h, struct gw_request *req,
			       enum gw_ls_kind kind, const char *id);
void gw_ls_ref(struct gw_logstream *s);
void gw_ls_unref(struct gw_logstream *s);
/* Start receiving events for s->id: -EBUSY past MAX_LOG_STREAMS,
 * -ESHUTDOWN while shutting down. */
int gw_ls_register(struct gw_logstream *s);
/* Stop receiving; idempotent. */
void gw_ls_unregister(struct gw_logstream *s);
/* Under s->lock: the reader (or the set-up) has something to do. */
void gw_ls_wake(struct gw_logstream *s);
/* Queue the streaming 200 on s->req; the stream leaves GW_LS_SETUP. */
int gw_ls_respond(struct gw_logstream *s);
/* Under s->lock: an event with a JSON data object (result, error). */
void gw_ls_emit_raw(struct gw_logstream *s, const char *event, const char *json);

/* Formatting, shared with the non-following answer. */
void gw_ls_json_escape(struct sbx_buf *b, const void *text, size_t len);
void gw_ls_iso8601(int64_t time_us, char *buf, size_t size);
/* {timestamp, level, message, sandbox_id[, seq, stream]} of one line. */
void gw_ls_entry_json(struct sbx_buf *b, const char *id, uint64_t seq, int64_t time_us, int code,
		      const void *text, size_t len, bool seq_and_stream);
/* "stdout" -> GW_LS_STDOUT ...; -1 for other kinds. */
int gw_ls_stream_code(const char *kind);
/* The hub of srv (gateway/gw_server.h). */
struct gw_logstreams *gw_ls_hub(struct gw_server *srv);

#endif
