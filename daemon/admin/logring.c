#include "logring.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

struct sbx_logring {
	pthread_mutex_t lock;
	size_t cap, next, n; /* next: slot of the next push */
	struct sbx_logring_line lines[];
};

int sbx_logring_new(size_t lines, struct sbx_logring **ret)
{
	struct sbx_logring *r;

	if (lines == 0 || lines > 100000)
		return -EINVAL;
	r = calloc(1, sizeof(*r) + lines * sizeof(r->lines[0]));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->cap = lines;
	*ret = r;
	return 0;
}

void sbx_logring_free(struct sbx_logring *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Copy at most max - 1 bytes, not splitting a UTF-8 character. */
static void copy_cut(char *dst, const char *src, size_t max)
{
	size_t n = strlen(src);

	if (n >= max) {
		n = max - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = 0;
}

void sbx_logring_push(struct sbx_logring *r, int64_t ms, enum sbx_log_level level, const char *id,
		      const char *msg)
{
	struct sbx_logring_line *l;

	pthread_mutex_lock(&r->lock);
	l = &r->lines[r->next];
	l->ms = ms;
	l->level = level;
	if (id && strlen(id) < sizeof(l->id))
		memcpy(l->id, id, strlen(id) + 1);
	else
		l->id[0] = 0;
	copy_cut(l->msg, msg ? msg : "", sizeof(l->msg));
	r->next = (r->next + 1) % r->cap;
	if (r->n < r->cap)
		r->n++;
	pthread_mutex_unlock(&r->lock);
}

size_t sbx_logring_tail(struct sbx_logring *r, size_t n, struct sbx_logring_line *out)
{
	size_t first;

	pthread_mutex_lock(&r->lock);
	if (n > r->n)
		n = r->n;
	first = (r->next + r->cap - n) % r->cap;
	for (size_t i = 0; i < n; i++)
		out[i] = r->lines[(first + i) % r->cap];
	pthread_mutex_unlock(&r->lock);
	return n;
}

void sbx_logring_sink(void *arg, enum sbx_log_level level, const char *id, const char *msg)
{
	sbx_logring_push(arg, sbx_clock_wall_ms(), level, id, msg);
}
