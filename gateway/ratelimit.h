/* Per-client rate limiting: a token bucket per client IP address
 * (sandbox-executor-README.md, RATE_LIMIT_PER_MINUTE and RATE_LIMIT_BURST).
 * A bucket holds at most `burst` tokens, gains `per_minute` tokens a
 * minute, and each rate-limited request takes one.
 *
 * The table of clients is bounded: at most max_clients buckets, allocated
 * once. When it is full, the least recently seen client's bucket is
 * reused, which gives that client a full bucket again when it returns; a
 * caller can only profit from this by cycling through more than
 * max_clients addresses in less time than a bucket takes to fill.
 *
 * Thread-safe: one mutex around the table (a lookup is a hash probe and a
 * list move). */
#ifndef SBX_GW_RATELIMIT_H
#define SBX_GW_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

struct gw_ratelimit;

/* A limiter of per_minute tokens a minute and bursts of `burst` (both at
 * least 1) for at most max_clients (at least 1) addresses. Returns 0,
 * -EINVAL or -ENOMEM. */
int gw_ratelimit_new(uint32_t per_minute, uint32_t burst, uint32_t max_clients,
		     struct gw_ratelimit **ret);
/* NULL is ok. */
void gw_ratelimit_free(struct gw_ratelimit *rl);

/* Take a token for the client at sa (AF_INET or AF_INET6; an IPv4-mapped
 * IPv6 address counts as its IPv4 address; any other family shares one
 * bucket) at now_us (CLOCK_MONOTONIC microseconds). Returns 0 when
 * allowed, else the whole seconds (at least 1) until the client's next
 * token. */
uint32_t gw_ratelimit_take(struct gw_ratelimit *rl, const struct sockaddr *sa, uint64_t now_us);

#endif
