/* Live logs: a bounded ring of output lines per object id (sandbox,
 * session, deployment, execution), each line published on the events
 * socket as it is added (but an execution's own ring: kept for GetLogs
 * only), under topic "logs/<id>", with the ring's own sequence number as
 * the event's seq (proto/logs.proto). A client subscribes first, reads
 * the ring (GetLogs), then follows the events, deduplicating by seq.
 *
 * Limits: a ring keeps at most ring_lines lines and ring_bytes bytes
 * (text plus per-line overhead), the oldest going first; at most
 * max_rings rings exist, and making a new one drops the least recently
 * finished ring (no writer); when every ring has a writer, a new object
 * gets no ring (-ENOSPC) and its output is simply not logged.
 *
 * Thread-safe throughout; nothing here blocks on a subscriber. */
#ifndef SBX_LOGS_H
#define SBX_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"
#include "logs.pb-c.h"

struct sbx_events;
struct sbx_logs;
struct sbx_log_ring;

/* A line longer than this is cut into several lines. */
#define SBX_LOG_LINE_MAX 16384
/* Object ids up to this length get a ring. */
#define SBX_LOG_ID_MAX 128
/* Largest GetLogs reply, in lines and in text bytes. */
#define SBX_LOG_GET_MAX_LINES 10000
#define SBX_LOG_GET_MAX_BYTES (4u << 20)

enum sbx_log_stream { SBX_LOG_STDOUT = 0, SBX_LOG_STDERR = 1, SBX_LOG_EXIT = 2 };

struct sbx_logs_limits {
	uint32_t max_rings;  /* >= 1 */
	uint32_t ring_lines; /* >= 1 */
	uint32_t ring_bytes; /* >= SBX_LOG_LINE_MAX */
};

/* `ev` (NULL: keep lines without publishing) must outlive the result.
 * 0, -EINVAL (limits), -ENOMEM. */
int sbx_logs_new(const struct sbx_logs_limits *lim, struct sbx_events *ev,
		 struct sbx_logs **ret);
/* Every writer must be done. NULL is a no-op. */
void sbx_logs_free(struct sbx_logs *l);

/* Stop publishing (before the events socket closes); lines still go to
 * the rings. Waits for publishes in progress. NULL is a no-op. */
void sbx_logs_detach_events(struct sbx_logs *l);
/* Writers holding rings now (feeds not closed yet). */
unsigned sbx_logs_writers(struct sbx_logs *l);

/* Take id's ring for writing, creating it if needed. 0 and *ret, -EINVAL
 * (empty or too long id), -ENOSPC (every ring has a writer), -ENOMEM.
 * Release with sbx_logs_release. */
int sbx_logs_acquire(struct sbx_logs *l, const char *id, struct sbx_log_ring **ret);
/* The writer is done: the ring becomes the most recently finished one. */
void sbx_logs_release(struct sbx_logs *l, struct sbx_log_ring *r);

/* Add one line (text without its newline, len <= SBX_LOG_LINE_MAX) and
 * publish it. Returns its seq (>= 1) or -ENOMEM / -EINVAL. */
int64_t sbx_log_ring_append(struct sbx_log_ring *r, enum sbx_log_stream stream,
			    const char *text, size_t len);
/* sbx_log_ring_append that publishes only when `publish`: a ring kept
 * for replay (GetLogs) alone costs no event per line. */
int64_t sbx_log_ring_add(struct sbx_log_ring *r, enum sbx_log_stream stream, const char *text,
			 size_t len, bool publish);

/* GetLogs on id's ring (proto/logs.proto): at most `limit` lines
 * (0 or more than SBX_LOG_GET_MAX_LINES: that) and SBX_LOG_GET_MAX_BYTES of
 * text. 0 and *ret (free with sbx__get_logs_reply__free_unpacked), -ENOENT
 * (no ring for id), -ENOMEM. */
int sbx_logs_get(struct sbx_logs *l, const Sbx__GetLogsRequest *req, Sbx__GetLogsReply **ret);

struct sbx_logs_stats {
	size_t rings, lines, bytes;
};
void sbx_logs_stats(struct sbx_logs *l, struct sbx_logs_stats *ret);

/* A feed: one execution's output cut into lines and appended to the rings
 * of up to SBX_LOG_FEED_MAX ids (the object's and the execution's). Owned
 * by the running thread; not thread-safe itself. */
#define SBX_LOG_FEED_MAX 2
struct sbx_log_feed;

/* Rings that cannot be had (-ENOSPC) are skipped; ids may be NULL or
 * repeated. Lines of ids[i] are published when bit i of publish_mask is
 * set, else only kept. 0 or -ENOMEM. */
int sbx_log_feed_open(struct sbx_logs *l, const char *const ids[], size_t n,
		      unsigned publish_mask, struct sbx_log_feed **ret);
/* Output of stream 0 (stdout) or 1 (stderr), in any pieces: the engine's
 * on_output callback (daemon/sandbox/include/engine.h) with the feed as arg. */
void sbx_log_feed_write(void *feed, int stream, const void *data, size_t len);
/* Flush partial last lines, add one "exit" line with `exit_json` (NULL:
 * none), release the rings and free. NULL is a no-op. */
void sbx_log_feed_close(struct sbx_log_feed *f, const char *exit_json);

/* For the executor: a feed for the rings of `object_id` (published) and
 * `second_id` (published when publish_second, else kept for GetLogs
 * only: an execution's own ring; a deployment's is published), either may
 * be NULL or "", or NULL when `l` is NULL, no ring could be had, or out of
 * memory (the run then goes unlogged). Publishing a line twice costs every
 * subscriber a second event: about half the events throughput. */
struct sbx_log_feed *sbx_log_feed_for(struct sbx_logs *l, const char *object_id,
				      const char *second_id, bool publish_second);
/* Close a feed with the "exit" line of a run that returned `rc` and `res`
 * (NULL when rc < 0), after `dropped_bytes` of its output were lost on
 * the way from the spawner. NULL is a no-op. */
void sbx_log_feed_finish(struct sbx_log_feed *f, const char *execution_id, int rc,
			 const Sbx__ExecResult *res, uint64_t dropped_bytes);

#endif
