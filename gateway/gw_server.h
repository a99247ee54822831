/* The gateway's HTTP server: libmicrohttpd with an epoll thread pool in
 * front of one libsandbox client. All of the gateway's state is this one
 * struct, passed explicitly; two servers can run in one process.
 *
 * A request that waits for an RPC never blocks an HTTP thread: its
 * connection is suspended while the call is in flight and resumed from the
 * call's completion callback (gateway/request.h). */
#ifndef SBX_GW_SERVER_H
#define SBX_GW_SERVER_H

#include <microhttpd.h>
#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "gw_config.h"
#include "metrics.h"
#include "proxy.h"
#include "ratelimit.h"
#include "router.h"
#include "sandbox.h"

#define GW_ADMIN_TEST_HEADER "X-Sandboxd-Admin-Test"
/* On an answer merged from a cluster's nodes that missed some: their
 * names, comma-separated (README "Cluster"). */
#define GW_PARTIAL_HEADER "X-Sandboxd-Partial"

/* The last successful answer of a GW_RPC_CACHED route. */
struct gw_reply_cache {
	pthread_mutex_t lock;
	uint64_t until_ms;  /* CLOCK_MONOTONIC; 0: empty */
	int status;
	char *body;         /* JSON text */
};

struct gw_server {
	struct gw_config cfg;
	const struct gw_route *routes;
	size_t n_routes;
	struct gw_reply_cache *cache; /* one per route, used by cached rows */
	struct sbx_client *client;
	struct gw_ratelimit *ratelimit; /* NULL: no rate limit */
	struct gw_logstreams *logs;	/* live log streams (gateway/logstream.h) */
	struct gw_proxy_engine *proxy;	/* /faas and /proxy transfers */
	struct gw_metrics *metrics;	/* GET /metrics' counters (gateway/metrics.h) */
	struct MHD_Daemon *mhd;
	int listen_fd; /* ours again after MHD_quiesce_daemon */
	uint16_t port; /* bound port */
	atomic_uint_fast64_t next_id;
	atomic_bool draining; /* SIGTERM: new requests get 503 */
	atomic_uint admin_tests; /* POST /admin/api/test requests in flight */
	/* Random, per server: POST /admin/api/test's inner requests carry it
	 * in GW_ADMIN_TEST_HEADER, and skip the rate limit, which the outer
	 * request already paid for the real client. */
	char admin_test_token[33];

	/* Read-held while starting an RPC, write-held to close the client, so
	 * no call starts on a closed client. */
	pthread_rwlock_t calls_lock;
	bool closed;

	pthread_mutex_t lock; /* guards the counts, signals `changed` */
	pthread_cond_t changed;
	unsigned in_flight; /* requests begun, not yet completed */
	unsigned suspended; /* connections suspended, not yet back */
};

/* A server for cfg (copied; its strings must outlive the server) serving
 * the n rows of routes (checked with gw_router_check; err gets the reason).
 * Nothing is opened yet. Returns 0, -EINVAL, -ENOMEM. */
int gw_server_new(const struct gw_config *cfg, const struct gw_route *routes, size_t n,
		  struct gw_server **ret, char *err, size_t errlen);
/* Open the daemon client (it connects in the background: until the daemon
 * is up, requests answer 503) and start serving HTTP. Returns 0, or a
 * negative errno with a sentence in err (-EADDRINUSE, -EINVAL for a bad
 * address or RPC URL, ...). */
int gw_server_start(struct gw_server *srv, char *err, size_t errlen);
/* Stop accepting, let requests in flight finish for up to
 * cfg.drain_timeout_ms, cancel RPCs and proxied transfers still pending
 * (their requests answer 503), stop libmicrohttpd. Blocks. Returns 0, or -EBUSY when a connection
 * could not be resumed: libmicrohttpd was then left running and the server
 * must not be freed (exit instead). */
int gw_server_shutdown(struct gw_server *srv);
/* Free a server that was never started or was shut down. NULL is ok. */
void gw_server_free(struct gw_server *srv);

/* Start RPC `method` with message msg (packed before this returns) for a
 * request, with the HTTP client's API key auth_token and address client
 * (both copied; NULL: none);
 * cb runs exactly once on an nng thread unless this returns an error:
 * -ESHUTDOWN when the server is closing, or libsandbox's errors. node
 * (SBX_NODE_NAME_MAX bytes) and partial (SBX_PARTIAL_MAX) receive the node
 * the call went to and the nodes a fan-out missed, written before cb runs;
 * both "" on an error here; either may be NULL. */
int gw_server_call(struct gw_server *srv, const char *method, const ProtobufCMessage *msg,
		   const char *auth_token, const char *client, char *node, char *partial,
		   sbx_call_cb cb, void *arg);

/* libsandbox's view of the node `name` (an id or an address: a request's
 * `node`): 0, -ENOENT, or -ESHUTDOWN when the server is closing. */
int gw_server_node(struct gw_server *srv, const char *name, struct sbx_node *ret);

/* Bookkeeping for gateway/request.c. */
void gw_server_count_suspended(struct gw_server *srv, int delta);

#endif
