/* One object's lines: a circular array of heap lines that grows up to
 * max_lines slots, trimmed from the oldest end by count and bytes. Lines
 * are published while the lock is held, so the events of a topic leave in
 * seq order and a reader of the ring never sees a line before its event
 * could have been sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "ring.h"

static const char *const stream_names[] = {"stdout", "stderr", "exit"};

struct sbx_log_ring *sbx_log_ring_new(const char *id, struct sbx_logs *owner, uint32_t max_lines,
				      uint32_t max_bytes)
{
	struct sbx_log_ring *r;

	if (!id || !*id || strlen(id) > SBX_LOG_ID_MAX)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->owner = owner;
	r->max_lines = max_lines;
	r->max_bytes = max_bytes;
	r->next_seq = 1;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->topic, sizeof(r->topic), "logs/%s", id);
	return r;
}

void sbx_log_ring_free(struct sbx_log_ring *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->n; i++)
		free(r->slots[(r->head + i) % r->cap]);
	free(r->slots);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void drop_oldest(struct sbx_log_ring *r)
{
	struct log_line *l = r->slots[r->head];

	r->bytes -= LOG_LINE_COST(l->len);
	free(l);
	r->slots[r->head] = NULL;
	r->head = (r->head + 1) % r->cap;
	r->n--;
}

/* Make room for one more slot: grow (doubling, up to max_lines) or, when
 * at max_lines, drop the oldest. */
static int make_slot(struct sbx_log_ring *r)
{
	if (r->n < r->cap)
		return 0;
	if (r->cap >= r->max_lines) {
		drop_oldest(r);
		return 0;
	}
	uint32_t ncap = r->cap ? r->cap * 2 : 64;
	if (ncap > r->max_lines)
		ncap = r->max_lines;
	struct log_line **ns = malloc(ncap * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->n; i++)
		ns[i] = r->slots[(r->head + i) % r->cap];
	free(r->slots);
	r->slots = ns;
	r->cap = ncap;
	r->head = 0;
	return 0;
}

int64_t sbx_log_ring_add(struct sbx_log_ring *r, enum sbx_log_stream stream, const char *text,
			 size_t len, bool publish)
{
	struct log_line *l;
	struct timeval tv;
	int64_t seq;

	if (len > SBX_LOG_LINE_MAX || (unsigned)stream > SBX_LOG_EXIT)
		return -EINVAL;
	l = malloc(sizeof(*l) + len);
	if (!l)
		return -ENOMEM;
	gettimeofday(&tv, NULL);
	l->time_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	l->len = (uint32_t)len;
	l->stream = (uint8_t)stream;
	memcpy(l->text, text, len);

	pthread_mutex_lock(&r->lock);
	while (r->n > 0 && r->bytes + LOG_LINE_COST(len) > r->max_bytes)
		drop_oldest(r);
	if (make_slot(r) < 0) {
		pthread_mutex_unlock(&r->lock);
		free(l);
		return -ENOMEM;
	}
	l->seq = r->next_seq++;
	r->slots[(r->head + r->n) % r->cap] = l;
	r->n++;
	r->bytes += LOG_LINE_COST(len);
	seq = (int64_t)l->seq;
	/* A failed send is a loss every subscriber sees as a gap, and
	 * repairs from the ring: the seq stays taken. */
	if (publish)
		sbx_logs_publish(r->owner, r->topic, stream_names[stream], l->seq, l->time_us,
				 l->text, len);
	pthread_mutex_unlock(&r->lock);
	return seq;
}

int64_t sbx_log_ring_append(struct sbx_log_ring *r, enum sbx_log_stream stream,
			    const char *text, size_t len)
{
	return sbx_log_ring_add(r, stream, text, len, true);
}

static Sbx__LogLine *line_msg(const struct log_line *l)
{
	Sbx__LogLine *m = malloc(sizeof(*m));

	if (!m)
		return NULL;
	sbx__log_line__init(m);
	m->seq = l->seq;
	m->time_us = l->time_us;
	m->stream = strdup(stream_names[l->stream]);
	m->text.len = l->len;
	m->text.data = malloc(l->len ? l->len : 1);
	if (!m->stream || !m->text.data) {
		sbx__log_line__free_unpacked(m, NULL);
		return NULL;
	}
	memcpy(m->text.data, l->text, l->len);
	return m;
}

int sbx_log_ring_read(struct sbx_log_ring *r, const Sbx__GetLogsRequest *req, bool active,
		      Sbx__GetLogsReply *rep)
{
	uint32_t limit = req->limit && req->limit < SBX_LOG_GET_MAX_LINES ? req->limit
									   : SBX_LOG_GET_MAX_LINES;
	size_t bytes = 0;
	int rv = 0;

	pthread_mutex_lock(&r->lock);
	uint64_t first = r->n ? r->slots[r->head]->seq : r->next_seq;
	uint64_t from = req->from_seq > first ? req->from_seq : first;
	if (req->tail)
		from = r->next_seq - first > req->tail ? r->next_seq - req->tail : first;
	if (from > r->next_seq)
		from = r->next_seq;
	uint32_t skip = (uint32_t)(from - first);
	uint32_t want = r->n - skip < limit ? r->n - skip : limit;

	rep->first_seq = first;
	rep->last_seq = r->next_seq - 1;
	rep->active = active;
	rep->lines = calloc(want ? want : 1, sizeof(*rep->lines));
	if (!rep->lines)
		rv = -ENOMEM;
	for (uint32_t i = 0; rv == 0 && i < want; i++) {
		const struct log_line *l = r->slots[(r->head + skip + i) % r->cap];
		/* The byte cap never returns an empty reply for a long line. */
		if (i > 0 && bytes + l->len > SBX_LOG_GET_MAX_BYTES)
			break;
		rep->lines[i] = line_msg(l);
		if (!rep->lines[i]) {
			rv = -ENOMEM;
			break;
		}
		rep->n_lines++;
		bytes += l->len;
	}
	rep->next_seq = from + rep->n_lines;
	pthread_mutex_unlock(&r->lock);
	return rv;
}

void sbx_log_ring_usage(struct sbx_log_ring *r, size_t *lines, size_t *bytes)
{
	pthread_mutex_lock(&r->lock);
	*lines += r->n;
	*bytes += r->bytes;
	pthread_mutex_unlock(&r->lock);
}
