/* One measured round of bench-rpc: `callers` threads, each calling a peer
 * back to back until the round's time is up, every call timed. */
#ifndef BENCH_LOAD_H
#define BENCH_LOAD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "peer.h"

#define LOAD_MAX_CALLERS 256
/* Latency samples kept per round, over all callers (8 bytes each). A
 * caller that has filled its share stops early, so a round is bounded in
 * memory as well as in time. */
#define LOAD_MAX_SAMPLES (4u << 20)

struct load_opts {
	unsigned callers; /* 1..LOAD_MAX_CALLERS */
	unsigned duration_ms;
	/* NULL, or a flag raised asynchronously (SIGINT): callers stop at
	 * their next call. */
	const volatile sig_atomic_t *stop;
};

struct load_result {
	uint64_t calls;
	double seconds; /* first caller's start to last caller's end */
	double calls_per_s;
	double p50_us, p99_us;
};

/* Run one round. 0, or the first error of a caller (its call failed, or
 * it could not be set up), or -EINTR when *stop was raised. */
int load_run(const struct peer *p, const struct load_opts *o, struct load_result *ret);

#endif
