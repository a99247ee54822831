/* The registry of rings: a hash table by id, reference counts (the table,
 * each writer and each reader hold one), and an LRU list of finished rings
 * (no writer) from which the oldest goes when the table is full. */
#include "logs.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "ring.h"

#define LOGS_BUCKETS 1024

struct sbx_logs {
	struct sbx_logs_limits lim;
	pthread_rwlock_t ev_lock; /* readers: publishers; writer: detach */
	struct sbx_events *ev;
	unsigned writers;         /* all rings' writers */
	pthread_mutex_t lock; /* the table, the LRU list, writers and refs */
	struct sbx_log_ring *buckets[LOGS_BUCKETS];
	struct sbx_log_ring *lru_head, *lru_tail; /* oldest first */
	size_t n_rings;
};

static size_t id_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % LOGS_BUCKETS;
}

int sbx_logs_new(const struct sbx_logs_limits *lim, struct sbx_events *ev,
		 struct sbx_logs **ret)
{
	struct sbx_logs *l;

	if (!lim || lim->max_rings < 1 || lim->ring_lines < 1 ||
	    lim->ring_bytes < LOG_LINE_COST(SBX_LOG_LINE_MAX))
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->lim = *lim;
	l->ev = ev;
	pthread_mutex_init(&l->lock, NULL);
	pthread_rwlock_init(&l->ev_lock, NULL);
	*ret = l;
	return 0;
}

void sbx_logs_free(struct sbx_logs *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < LOGS_BUCKETS; i++)
		for (struct sbx_log_ring *r = l->buckets[i], *n; r; r = n) {
			n = r->hnext;
			sbx_log_ring_free(r);
		}
	pthread_mutex_destroy(&l->lock);
	pthread_rwlock_destroy(&l->ev_lock);
	free(l);
}

static struct sbx_log_ring *find(struct sbx_logs *l, const char *id)
{
	for (struct sbx_log_ring *r = l->buckets[id_hash(id)]; r; r = r->hnext)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

static void lru_unlink(struct sbx_logs *l, struct sbx_log_ring *r)
{
	if (r->lru_prev)
		r->lru_prev->lru_next = r->lru_next;
	else if (l->lru_head == r)
		l->lru_head = r->lru_next;
	if (r->lru_next)
		r->lru_next->lru_prev = r->lru_prev;
	else if (l->lru_tail == r)
		l->lru_tail = r->lru_prev;
	r->lru_prev = r->lru_next = NULL;
}

static void lru_append(struct sbx_logs *l, struct sbx_log_ring *r)
{
	r->lru_prev = l->lru_tail;
	r->lru_next = NULL;
	if (l->lru_tail)
		l->lru_tail->lru_next = r;
	else
		l->lru_head = r;
	l->lru_tail = r;
}

/* Drop one reference; the last one frees. Called with the lock held. */
static void unref_locked(struct sbx_log_ring *r)
{
	if (--r->refs == 0)
		sbx_log_ring_free(r);
}

/* Take the ring out of the table (its readers keep it alive). */
static void evict(struct sbx_logs *l, struct sbx_log_ring *r)
{
	struct sbx_log_ring **p = &l->buckets[id_hash(r->id)];

	while (*p && *p != r)
		p = &(*p)->hnext;
	if (*p)
		*p = r->hnext;
	lru_unlink(l, r);
	r->in_table = false;
	l->n_rings--;
	unref_locked(r);
}

int sbx_logs_acquire(struct sbx_logs *l, const char *id, struct sbx_log_ring **ret)
{
	struct sbx_log_ring *r;

	if (!id || !*id || strlen(id) > SBX_LOG_ID_MAX)
		return -EINVAL;
	pthread_mutex_lock(&l->lock);
	r = find(l, id);
	if (!r) {
		if (l->n_rings >= l->lim.max_rings) {
			if (!l->lru_head) {
				pthread_mutex_unlock(&l->lock);
				return -ENOSPC;
			}
			evict(l, l->lru_head);
		}
		r = sbx_log_ring_new(id, l, l->lim.ring_lines, l->lim.ring_bytes);
		if (!r) {
			pthread_mutex_unlock(&l->lock);
			return -ENOMEM;
		}
		r->refs = 1;
		r->in_table = true;
		r->hnext = l->buckets[id_hash(id)];
		l->buckets[id_hash(id)] = r;
		l->n_rings++;
	} else if (r->writers == 0) {
		lru_unlink(l, r);
	}
	r->writers++;
	r->refs++;
	l->writers++;
	pthread_mutex_unlock(&l->lock);
	*ret = r;
	return 0;
}

void sbx_logs_release(struct sbx_logs *l, struct sbx_log_ring *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&l->lock);
	/* Only a table member with no writers sits in the LRU list. */
	l->writers--;
	if (--r->writers == 0 && r->in_table)
		lru_append(l, r);
	unref_locked(r);
	pthread_mutex_unlock(&l->lock);
}

int sbx_logs_get(struct sbx_logs *l, const Sbx__GetLogsRequest *req, Sbx__GetLogsReply **ret)
{
	struct sbx_log_ring *r;
	Sbx__GetLogsReply *rep;
	bool active;
	int rv;

	pthread_mutex_lock(&l->lock);
	r = req->id ? find(l, req->id) : NULL;
	if (r) {
		r->refs++;
		active = r->writers > 0;
	}
	pthread_mutex_unlock(&l->lock);
	if (!r)
		return -ENOENT;
	rep = malloc(sizeof(*rep));
	if (rep) {
		sbx__get_logs_reply__init(rep);
		rv = sbx_log_ring_read(r, req, active, rep);
	} else {
		rv = -ENOMEM;
	}
	pthread_mutex_lock(&l->lock);
	unref_locked(r);
	pthread_mutex_unlock(&l->lock);
	if (rv < 0) {
		if (rep)
			sbx__get_logs_reply__free_unpacked(rep, NULL);
		return rv;
	}
	*ret = rep;
	return 0;
}

void sbx_logs_stats(struct sbx_logs *l, struct sbx_logs_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	pthread_mutex_lock(&l->lock);
	ret->rings = l->n_rings;
	for (size_t i = 0; i < LOGS_BUCKETS; i++)
		for (struct sbx_log_ring *r = l->buckets[i]; r; r = r->hnext)
			sbx_log_ring_usage(r, &ret->lines, &ret->bytes);
	pthread_mutex_unlock(&l->lock);
}

void sbx_logs_publish(struct sbx_logs *l, const char *topic, const char *kind, uint64_t seq,
		      int64_t time_us, const void *data, size_t len)
{
	pthread_rwlock_rdlock(&l->ev_lock);
	/* A failed send is a gap that subscribers repair from the ring. */
	if (l->ev)
		sbx_events_send(l->ev, topic, kind, seq, time_us, data, len);
	pthread_rwlock_unlock(&l->ev_lock);
}

void sbx_logs_detach_events(struct sbx_logs *l)
{
	if (!l)
		return;
	pthread_rwlock_wrlock(&l->ev_lock);
	l->ev = NULL;
	pthread_rwlock_unlock(&l->ev_lock);
}

unsigned sbx_logs_writers(struct sbx_logs *l)
{
	unsigned n;

	pthread_mutex_lock(&l->lock);
	n = l->writers;
	pthread_mutex_unlock(&l->lock);
	return n;
}
