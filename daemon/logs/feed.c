/* One execution's output cut into lines for the rings of its object and
 * of itself. Each stream has its own partial line, so stdout and stderr
 * interleave by whole lines. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_status.h"
#include "logs.h"

struct sbx_log_feed {
	struct sbx_logs *logs;
	struct sbx_log_ring *rings[SBX_LOG_FEED_MAX];
	bool publish[SBX_LOG_FEED_MAX];
	size_t n_rings;
	size_t plen[2];
	char partial[2][SBX_LOG_LINE_MAX];
};

int sbx_log_feed_open(struct sbx_logs *l, const char *const ids[], size_t n,
		      unsigned publish_mask, struct sbx_log_feed **ret)
{
	struct sbx_log_feed *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->logs = l;
	for (size_t i = 0; i < n && i < SBX_LOG_FEED_MAX; i++) {
		bool dup = false;
		if (!ids[i] || !*ids[i])
			continue;
		for (size_t j = 0; j < i; j++)
			dup |= ids[j] && strcmp(ids[j], ids[i]) == 0;
		if (!dup && sbx_logs_acquire(l, ids[i], &f->rings[f->n_rings]) == 0)
			f->publish[f->n_rings++] = publish_mask & (1u << i);
	}
	*ret = f;
	return 0;
}

static void emit(struct sbx_log_feed *f, enum sbx_log_stream s, const char *text, size_t len)
{
	for (size_t i = 0; i < f->n_rings; i++)
		sbx_log_ring_add(f->rings[i], s, text, len, f->publish[i]);
}

void sbx_log_feed_write(void *arg, int stream, const void *data, size_t len)
{
	struct sbx_log_feed *f = arg;
	const char *p = data, *end = p + len;

	if (stream < 0 || stream > 1 || f->n_rings == 0)
		return;
	char *part = f->partial[stream];
	size_t *plen = &f->plen[stream];
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		/* Whole lines straight from the chunk; a piece joins the
		 * partial line, which is cut when full. */
		if (*plen == 0 && nl && n <= SBX_LOG_LINE_MAX) {
			emit(f, (enum sbx_log_stream)stream, p, n);
			p = nl + 1;
			continue;
		}
		size_t room = SBX_LOG_LINE_MAX - *plen;
		size_t take = n < room ? n : room;
		memcpy(part + *plen, p, take);
		*plen += take;
		p += take;
		if (*plen == SBX_LOG_LINE_MAX || (nl && p == nl)) {
			emit(f, (enum sbx_log_stream)stream, part, *plen);
			*plen = 0;
			if (nl && p == nl)
				p++;
		}
	}
}

void sbx_log_feed_close(struct sbx_log_feed *f, const char *exit_json)
{
	if (!f)
		return;
	for (int s = 0; s < 2; s++)
		if (f->plen[s])
			emit(f, (enum sbx_log_stream)s, f->partial[s], f->plen[s]);
	if (exit_json)
		emit(f, SBX_LOG_EXIT, exit_json, strnlen(exit_json, SBX_LOG_LINE_MAX));
	for (size_t i = 0; i < f->n_rings; i++)
		sbx_logs_release(f->logs, f->rings[i]);
	free(f);
}

struct sbx_log_feed *sbx_log_feed_for(struct sbx_logs *l, const char *object_id,
				      const char *second_id, bool publish_second)
{
	const char *ids[] = {object_id, second_id};
	struct sbx_log_feed *f;

	if (!l || sbx_log_feed_open(l, ids, 2, publish_second ? 3u : 1u, &f) < 0)
		return NULL;
	if (f->n_rings == 0) {
		sbx_log_feed_close(f, NULL);
		return NULL;
	}
	return f;
}

void sbx_log_feed_finish(struct sbx_log_feed *f, const char *execution_id, int rc,
			 const Sbx__ExecResult *res, uint64_t dropped_bytes)
{
	const ProtobufCEnumValue *v = NULL;
	const char *status = "INTERNAL_ERROR";
	char json[512];

	if (!f)
		return;
	if (rc == 0 && res)
		v = protobuf_c_enum_descriptor_get_value(&sbx__exec_status__descriptor,
							 sbx_exec_status_shown(res->status));
	if (v && strncmp(v->name, "EXEC_STATUS_", 12) == 0)
		status = v->name + 12;
	/* Execution ids are uuids (no JSON escaping needed); cut to be sure. */
	snprintf(json, sizeof(json),
		 "{\"execution_id\":\"%.64s\",\"status\":\"%s\",\"exit_code\":%d,"
		 "\"dropped_bytes\":%" PRIu64 "}",
		 execution_id ? execution_id : "", status, rc == 0 && res ? res->exit_code : -1,
		 dropped_bytes);
	sbx_log_feed_close(f, json);
}
