/* Where the services are (proxy_xfer.h): OpenProxy's answers, kept for a
 * short while so that a busy deployment costs one daemon round trip per
 * `ttl` instead of one per request. Safe because the daemon's forwarder
 * wakes a service that was stopped meanwhile (and makes a connection wait
 * for a restarting one), a deleted service's socket is gone (checked at
 * each use), and an entry is dropped as soon as a request through it
 * fails. */
#include "proxy_xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

#define SLOTS 256 /* direct-mapped by a hash of kind and id */

struct px_cache_slot {
	char key[96]; /* "kind/id" */
	struct px_where where;
	uint64_t until_ms;
};

struct px_cache {
	uint32_t ttl_ms;
	pthread_mutex_t lock;
	struct px_cache_slot slot[SLOTS];
};

struct px_cache *px_cache_new(uint32_t ttl_ms)
{
	struct px_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ttl_ms = ttl_ms;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void px_cache_free(struct px_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The slot of kind/id, its key in `key`; NULL when the key is too long
 * to be cached. */
static struct px_cache_slot *slot_of(struct px_cache *c, const char *kind, const char *id,
				     char key[96])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	int n = snprintf(key, 96, "%s/%s", kind, id);

	if (n < 0 || n >= 96)
		return NULL;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &c->slot[h % SLOTS];
}

bool px_cache_get(struct px_cache *c, const char *kind, const char *id, struct px_where *ret)
{
	struct px_cache_slot *s;
	char key[96];
	bool hit;

	if (!c || !c->ttl_ms || !(s = slot_of(c, kind, id, key)))
		return false;
	pthread_mutex_lock(&c->lock);
	hit = strcmp(s->key, key) == 0 && (uint64_t)sbx_clock_mono_ms() < s->until_ms;
	if (hit)
		*ret = s->where;
	pthread_mutex_unlock(&c->lock);
	/* The daemon removes the socket of a deleted service: then ask it.
	 * (Another host's socket is not seen from here: its tunnel answers
	 * 404 instead, and the failed request drops the entry.) */
	if (hit && !*ret->proxy && access(ret->path, F_OK) != 0) {
		px_cache_drop(c, kind, id);
		hit = false;
	}
	return hit;
}

void px_cache_put(struct px_cache *c, const char *kind, const char *id, const struct px_where *w)
{
	struct px_cache_slot *s;
	char key[96];

	if (!c || !c->ttl_ms || !(s = slot_of(c, kind, id, key)))
		return;
	pthread_mutex_lock(&c->lock);
	strcpy(s->key, key);
	s->where = *w;
	s->until_ms = sbx_clock_mono_ms() + c->ttl_ms;
	pthread_mutex_unlock(&c->lock);
}

void px_cache_drop(struct px_cache *c, const char *kind, const char *id)
{
	struct px_cache_slot *s;
	char key[96];

	if (!c || !(s = slot_of(c, kind, id, key)))
		return;
	pthread_mutex_lock(&c->lock);
	if (strcmp(s->key, key) == 0)
		s->key[0] = '\0';
	pthread_mutex_unlock(&c->lock);
}
