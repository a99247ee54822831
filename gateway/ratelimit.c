#include "ratelimit.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define NONE UINT32_MAX
/* Refills are sums of doubles: the token promised at exactly the reported
 * second can come out as 0.9999999999. A billionth of a token is at most
 * 60 ns early (at 1 a minute). */
#define TOKEN_SLACK 1e-9

/* An address as the table keys it: 16 bytes and the family. */
struct key {
	uint8_t addr[16];
	uint8_t family;
};

struct bucket {
	struct key key;
	double tokens;
	uint64_t last_us;      /* when tokens was last brought up to date */
	uint32_t hnext;	       /* next in its hash chain */
	uint32_t lprev, lnext; /* LRU list: head most recent */
};

struct gw_ratelimit {
	pthread_mutex_t lock;
	double per_us; /* tokens gained per microsecond */
	double burst;
	uint32_t n, used; /* buckets allocated, buckets in use */
	uint32_t mask;	  /* hash heads - 1 */
	uint64_t seed;	  /* so that nobody can pick addresses that collide */
	uint32_t *heads;
	struct bucket *b;
	uint32_t lru_head, lru_tail;
};

static void key_of(const struct sockaddr *sa, struct key *k)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(k, 0, sizeof(*k));
	if (sa && sa->sa_family == AF_INET) {
		k->family = 4;
		memcpy(k->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
			k->family = 4;
			memcpy(k->addr, a + 12, 4);
		} else {
			k->family = 6;
			memcpy(k->addr, a, 16);
		}
	}
}

/* FNV-1a, seeded. */
static uint32_t hash(const struct gw_ratelimit *rl, const struct key *k)
{
	uint64_t h = 1469598103934665603ull ^ rl->seed;
	const uint8_t *p = (const uint8_t *)k;

	for (size_t i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return (uint32_t)(h ^ (h >> 32)) & rl->mask;
}

int gw_ratelimit_new(uint32_t per_minute, uint32_t burst, uint32_t max_clients,
		     struct gw_ratelimit **ret)
{
	struct gw_ratelimit *rl;
	uint32_t heads = 1;

	if (per_minute == 0 || burst == 0 || max_clients == 0 || max_clients > (1u << 24))
		return -EINVAL;
	while (heads < max_clients)
		heads <<= 1;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	rl->heads = malloc(heads * sizeof(*rl->heads));
	rl->b = calloc(max_clients, sizeof(*rl->b));
	if (!rl->heads || !rl->b) {
		gw_ratelimit_free(rl);
		return -ENOMEM;
	}
	memset(rl->heads, 0xff, heads * sizeof(*rl->heads));
	if (getrandom(&rl->seed, sizeof(rl->seed), GRND_NONBLOCK) != sizeof(rl->seed))
		rl->seed = (uint64_t)(uintptr_t)rl;
	rl->per_us = per_minute / 60e6;
	rl->burst = burst;
	rl->n = max_clients;
	rl->mask = heads - 1;
	rl->lru_head = rl->lru_tail = NONE;
	pthread_mutex_init(&rl->lock, NULL);
	*ret = rl;
	return 0;
}

void gw_ratelimit_free(struct gw_ratelimit *rl)
{
	if (!rl)
		return;
	if (rl->heads && rl->b)
		pthread_mutex_destroy(&rl->lock);
	free(rl->heads);
	free(rl->b);
	free(rl);
}

static void lru_unlink(struct gw_ratelimit *rl, uint32_t i)
{
	struct bucket *b = &rl->b[i];

	if (b->lprev != NONE)
		rl->b[b->lprev].lnext = b->lnext;
	else
		rl->lru_head = b->lnext;
	if (b->lnext != NONE)
		rl->b[b->lnext].lprev = b->lprev;
	else
		rl->lru_tail = b->lprev;
}

static void lru_push(struct gw_ratelimit *rl, uint32_t i)
{
	struct bucket *b = &rl->b[i];

	b->lprev = NONE;
	b->lnext = rl->lru_head;
	if (rl->lru_head != NONE)
		rl->b[rl->lru_head].lprev = i;
	rl->lru_head = i;
	if (rl->lru_tail == NONE)
		rl->lru_tail = i;
}

static void hash_unlink(struct gw_ratelimit *rl, uint32_t i)
{
	uint32_t *p = &rl->heads[hash(rl, &rl->b[i].key)];

	while (*p != NONE && *p != i)
		p = &rl->b[*p].hnext;
	if (*p == i)
		*p = rl->b[i].hnext;
}

/* The client's bucket, made the most recent; a new one (full) when the
 * client is not in the table, taking the least recent one's place when
 * the table is full. */
static struct bucket *lookup(struct gw_ratelimit *rl, const struct key *k, uint64_t now_us)
{
	uint32_t h = hash(rl, k), i;

	for (i = rl->heads[h]; i != NONE; i = rl->b[i].hnext) {
		if (memcmp(&rl->b[i].key, k, sizeof(*k)) == 0) {
			lru_unlink(rl, i);
			lru_push(rl, i);
			return &rl->b[i];
		}
	}
	if (rl->used < rl->n) {
		i = rl->used++;
	} else {
		i = rl->lru_tail;
		lru_unlink(rl, i);
		hash_unlink(rl, i);
	}
	rl->b[i] = (struct bucket){
		.key = *k,
		.tokens = rl->burst,
		.last_us = now_us,
		.hnext = rl->heads[h],
	};
	rl->heads[h] = i;
	lru_push(rl, i);
	return &rl->b[i];
}

uint32_t gw_ratelimit_take(struct gw_ratelimit *rl, const struct sockaddr *sa, uint64_t now_us)
{
	struct bucket *b;
	uint32_t wait_s = 0;
	struct key k;
	double need;

	key_of(sa, &k);
	pthread_mutex_lock(&rl->lock);
	b = lookup(rl, &k, now_us);
	if (now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) * rl->per_us;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_us = now_us;
	}
	if (b->tokens >= 1.0 - TOKEN_SLACK) {
		b->tokens -= 1.0;
	} else {
		/* Whole seconds, rounded up: a client that waits this long
		 * finds a token. */
		need = (1.0 - TOKEN_SLACK - b->tokens) / rl->per_us / 1e6;
		wait_s = need >= 86400.0 ? 86400 : (uint32_t)need;
		if ((double)wait_s < need)
			wait_s++;
		if (wait_s < 1)
			wait_s = 1;
	}
	pthread_mutex_unlock(&rl->lock);
	return wait_s;
}
