/* One object's ring (ring.c), shared by logs.c (the registry) and
 * get.c. Private to daemon/logs/. */
#ifndef SBX_LOGS_RING_H
#define SBX_LOGS_RING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "logs.h"

struct log_line {
	uint64_t seq;
	int64_t time_us;
	uint32_t len;
	uint8_t stream;
	char text[];
};

/* Bytes a line counts against ring_bytes. */
#define LOG_LINE_COST(len) (sizeof(struct log_line) + (len))

struct sbx_log_ring {
	/* registry links, guarded by the registry's lock */
	struct sbx_log_ring *hnext;          /* hash chain */
	struct sbx_log_ring *lru_prev, *lru_next; /* finished rings, oldest first */
	unsigned writers;
	bool in_table;
	unsigned refs;                       /* registry 1 + writers + readers */

	pthread_mutex_t lock;                /* the fields below; held across a publish */
	struct sbx_logs *owner;              /* publishes (logs.c) */
	uint32_t max_lines, max_bytes;
	struct log_line **slots;             /* circular, `cap` slots */
	uint32_t cap, head, n;               /* head = oldest */
	uint64_t bytes;
	uint64_t next_seq;                   /* seq of the next line, from 1 */
	char topic[sizeof("logs/") + SBX_LOG_ID_MAX];
	char id[SBX_LOG_ID_MAX + 1];
};

struct sbx_log_ring *sbx_log_ring_new(const char *id, struct sbx_logs *owner, uint32_t max_lines,
				      uint32_t max_bytes);
/* logs.c: send one line's event, unless the events are detached. */
void sbx_logs_publish(struct sbx_logs *l, const char *topic, const char *kind, uint64_t seq,
		      int64_t time_us, const void *data, size_t len);
void sbx_log_ring_free(struct sbx_log_ring *r);
/* Fill a GetLogs reply from the ring. 0 or -ENOMEM. */
int sbx_log_ring_read(struct sbx_log_ring *r, const Sbx__GetLogsRequest *req, bool active,
		      Sbx__GetLogsReply *rep);
/* Lines and bytes held, under the ring's lock. */
void sbx_log_ring_usage(struct sbx_log_ring *r, size_t *lines, size_t *bytes);

#endif
