/* A server under test as the caller threads of bench-rpc see it: an ops
 * table, one row per kind of server, so the load loop is the same code for
 * the echo reference and for sandboxd. */
#ifndef BENCH_PEER_H
#define BENCH_PEER_H

struct peer_ops {
	const char *name;
	/* State of one caller thread, made on that thread. 0 or -errno. */
	int (*caller_new)(void *peer, void **ret_caller);
	/* One blocking request/reply round trip, checked. 0 or -errno. */
	int (*call)(void *caller);
	/* NULL is ok. */
	void (*caller_free)(void *caller);
};

struct peer {
	const struct peer_ops *ops;
	void *state;
};

/* Raw nng req clients of the echo server: one req socket shared by all
 * callers, one context (and aio) per caller thread; each call sends a
 * packed Health request envelope, so the bytes on the wire match the
 * sandboxd peer's request. */
extern const struct peer_ops echo_peer_ops;
struct echo_peer;
/* Dial url, retrying for at most wait_ms while the server comes up. */
int echo_peer_open(const char *url, unsigned wait_ms, struct echo_peer **ret);
void echo_peer_close(struct echo_peer *p);

/* libsandbox: sbx_call(c, "Health", NULL, ...) on one sbx_client shared by
 * all callers; each reply must be status OK with a HealthReply. The peer
 * state is the struct sbx_client *. */
extern const struct peer_ops sandboxd_peer_ops;

#endif
