/* The daemon's recent log lines, for AdminLogs: a fixed-size ring in
 * memory, fed by the log sink (common/log.h). Pushing never allocates or
 * fails; the oldest line goes when the ring is full. Thread-safe. */
#ifndef SBX_LOGRING_H
#define SBX_LOGRING_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

/* Longer messages are cut (on a UTF-8 boundary). */
#define SBX_LOGRING_MSG_MAX 512

struct sbx_logring_line {
	int64_t ms; /* wall clock, ms since the epoch */
	enum sbx_log_level level;
	char id[40]; /* the object the line is about, "" = none */
	char msg[SBX_LOGRING_MSG_MAX];
};

struct sbx_logring;

/* A ring of `lines` lines (1..100000). 0 or -EINVAL / -ENOMEM. */
int sbx_logring_new(size_t lines, struct sbx_logring **ret);
/* NULL is a no-op. */
void sbx_logring_free(struct sbx_logring *r);

/* Add a line; id may be NULL; ids longer than 39 bytes are dropped. */
void sbx_logring_push(struct sbx_logring *r, int64_t ms, enum sbx_log_level level, const char *id,
		      const char *msg);

/* Copy the newest min(n, lines held) lines, oldest first, into out (room
 * for n). Returns how many were copied. */
size_t sbx_logring_tail(struct sbx_logring *r, size_t n, struct sbx_logring_line *out);

/* The sink callback (struct sbx_log_sink.fn) with arg = the ring. */
void sbx_logring_sink(void *arg, enum sbx_log_level level, const char *id, const char *msg);

#endif
