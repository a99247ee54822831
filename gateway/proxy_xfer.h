/* Internal to the reverse proxy (gateway/proxy.h): the state of one
 * proxied request, shared by its two sides, the libmicrohttpd side
 * (proxy.c) and the curl side (proxy_engine.c). */
#ifndef SBX_GW_PROXY_XFER_H
#define SBX_GW_PROXY_XFER_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy.h"
#include "request.h"
#include "sandbox.h"

#define UP_MAX (256u << 10)   /* request body bytes between client and curl */
#define DOWN_MAX (256u << 10) /* response body bytes between curl and client */
#define RESP_HEADERS_MAX 100  /* response headers kept; more are dropped */
#define RESP_HEADER_BYTES (64u << 10)

/* A bounded ring of bytes. The storage is allocated on first use, so a
 * bodiless request costs nothing. */
struct px_fifo {
	char *data;
	size_t cap, head, len;
};

/* Room left, and copies in (as much as fits) and out (as much as there
 * is); both return the bytes copied. */
size_t px_fifo_room(const struct px_fifo *f);
size_t px_fifo_put(struct px_fifo *f, const char *p, size_t n);
size_t px_fifo_get(struct px_fifo *f, char *p, size_t n);

/* Where a service is (OpenProxy's answer): its forwarder's unix socket on
 * this host, or, for a node on another host that has a proxy tunnel, that
 * tunnel, which reaches the same socket by name (README "Cluster"). */
struct px_where {
	char path[256];		      /* OpenProxyReply.socket_path */
	char proxy[288];	      /* "http://HOST:PORT" of the tunnel; "": the socket */
	char node[SBX_NODE_NAME_MAX]; /* the owner node, for errors; "" when unknown */
};

enum px_phase {
	PX_OPENING,   /* OpenProxy in flight */
	PX_STREAMING, /* the transfer runs */
	PX_DISCARD,   /* OpenProxy failed during the body: drop it, answer at its end */
	PX_DONE,      /* answered */
};

/* One proxied request. References: the request's (dropped when
 * libmicrohttpd completes it), the engine's while the transfer runs, the
 * response's while libmicrohttpd holds it. Fields above `lock` belong to
 * the libmicrohttpd thread driving the request, or are set before the
 * transfer is submitted and read-only after. */
struct px {
	struct gw_request *req; /* reference held */
	struct gw_proxy_engine *eng;
	enum px_phase phase;
	enum gw_req_state saved_state; /* req->state to restore after a resume */
	bool body_expected;
	int open_err; /* PX_DISCARD: the OpenProxy outcome to answer */
	CURL *easy;
	struct curl_slist *hdrs;
	struct curl_slist *proxy_hdrs; /* to the tunnel only: its key */
	char *url;
	/* Through a node's tunnel: errors before the service answered name
	 * the node (fail_buf holds the sentence). */
	bool tunnel;
	char node[SBX_NODE_NAME_MAX];
	char fail_buf[192];
	struct px *prev, *next; /* engine thread: active list */

	pthread_mutex_t lock; /* guards what follows */
	int refs;
	struct px_fifo up, down;
	bool up_done; /* the client's body is over */
	/* The service's last sign of life: submitted, body bytes taken,
	 * body over, headers, response bytes. With none for the proxy timeout
	 * the transfer fails: 504 before the headers (also when the service
	 * stops reading a body), a cut response after them, like nginx's
	 * proxy_read_timeout. Not while the client is the slow one (curl's
	 * receiving paused). */
	uint64_t progress_ms;
	bool mhd_waiting; /* connection suspended until the transfer moves */
	bool read_paused, write_paused;
	bool kick;   /* the engine should unpause */
	bool cancel; /* the client is gone */
	bool headers_done;
	long status;
	size_t n_hv, hv_bytes;
	char *hv[RESP_HEADERS_MAX]; /* "Name\0value" */
	int64_t content_length;	    /* -1: unknown */
	char *connection;	    /* the response's Connection header */
	bool done;		    /* the transfer ended */
	bool ok;		    /* ... completely */
	int fail_status;	    /* done before headers: the HTTP status */
	const char *fail_msg;
};

/* OpenProxy's answers by kind and id, for ttl_ms (0: nothing is kept;
 * proxy_cache.c). Thread-safe. */
struct px_cache;
struct px_cache *px_cache_new(uint32_t ttl_ms);
void px_cache_free(struct px_cache *c);
/* Where kind/id is, if kept and fresh (a local socket also still there). */
bool px_cache_get(struct px_cache *c, const char *kind, const char *id, struct px_where *ret);
void px_cache_put(struct px_cache *c, const char *kind, const char *id, const struct px_where *w);
void px_cache_drop(struct px_cache *c, const char *kind, const char *id);
/* The engine's cache (NULL: none). */
struct px_cache *px_engine_cache(struct gw_proxy_engine *e);
/* Drop a reference; the last one frees the transfer and drops the
 * request's reference. */
void px_unref(struct px *p);
/* p->lock held, any thread: let the engine unpause the transfer. */
void px_kick(struct px *p);
/* p->lock held, any thread: the transfer moved; resume a waiting client.
 * The lock orders this against px_suspend() (proxy.c): no wake-up is lost
 * between deciding to wait and waiting. */
void px_wake(struct px *p);
/* Hand a set-up transfer (p->easy) to the engine, which takes a reference.
 * 0, or -ESHUTDOWN once the engine is stopping. */
int px_engine_submit(struct gw_proxy_engine *e, struct px *p);
/* Is the header `name` (len bytes) hop-by-hop (RFC 9110, 7.6.1)? */
bool px_hop_by_hop(const char *name, size_t len);
/* Does the comma-separated token list `list` (NULL: empty) name `name`? */
bool px_list_has(const char *list, const char *name, size_t len);

#endif
