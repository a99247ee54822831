/* libsandbox: the C client of sandboxd's RPC layer (nng req/rep carrying the
 * protobuf envelope of proto/rpc.proto). Every RPC user links it, the gateway
 * included.
 *
 * Conventions: functions return 0 or a negative errno; ret_* are written only
 * on success. A client is thread-safe: any number of calls, sync or async,
 * may be in flight at once. Transport errors are distinct from RPC statuses:
 *   -ECONNREFUSED  the daemon is not connected (down, or not yet up)
 *   -ETIMEDOUT     no reply before the call's timeout
 *   -EBADMSG       the daemon's reply could not be decoded
 *   -ENOENT        no such method in the method table
 *   -E2BIG         the request is larger than SBX_ENVELOPE_MAX
 * and in cluster mode (several nodes, README "Cluster"):
 *   -EHOSTDOWN     the call names an object of a node that is down (or of
 *                  no node up while some node is down); nothing was sent
 *   -ECONNRESET    the node went away while the call was on it: it may
 *                  have run, so it is not retried anywhere
 * A call that reached the daemon returns 0 and reports the daemon's answer in
 * struct sbx_reply (status SBX_OK or another gRPC code, see common/status.h). */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define SBX_DEFAULT_RPC_URL "ipc:///run/sandboxd/rpc.sock"
#define SBX_DEFAULT_EVENTS_URL "ipc:///run/sandboxd/events.sock"

struct sbx_client;

/* Room for a node's name (its id, else its address) with the NUL. */
#define SBX_NODE_NAME_MAX 64
/* Room for the names of the nodes a fan-out call missed, with the NUL. */
#define SBX_PARTIAL_MAX 512

struct sbx_client_opts {
	/* NULL: SBX_DEFAULT_RPC_URL. One daemon's URL, or several separated by
	 * commas: each is a node of a cluster (README "Cluster"). One URL and
	 * no rpc_dns is a client of one daemon, exactly as before clusters. */
	const char *rpc_url;
	/* "tcp://NAME:PORT": every address NAME resolves to is a node
	 * (Swarm's tasks.<service>, a Kubernetes headless Service), resolved
	 * again every few seconds. NULL or "": none. */
	const char *rpc_dns;
	/* Sent with every call (RpcRequest.cluster_key); NULL: none. */
	const char *cluster_key;
	const char *auth_token;    /* sent with every call; NULL: none */
	uint32_t timeout_ms;       /* default per-call timeout; 0: 30000 */
	/* How long sbx_client_open waits for the first connection; 0: do not
	 * wait (calls fail with -ECONNREFUSED until the daemon is up). */
	uint32_t connect_wait_ms;
};

struct sbx_reply {
	int status;                /* gRPC status code of the daemon's answer */
	char *message;             /* the daemon's error sentence, "" when OK */
	ProtobufCMessage *msg;     /* reply message when status is OK, else NULL */
};

/* Open a client that dials opts->rpc_url and redials after the daemon
 * restarts. Blocks at most connect_wait_ms. */
int sbx_client_open(const struct sbx_client_opts *opts, struct sbx_client **ret);
/* Close; in-flight async calls complete with -ECANCELED first, and every
 * callback has returned when this returns. NULL is ok. */
void sbx_client_close(struct sbx_client *c);
/* 1 when at least one connection to the daemon is up. */
int sbx_client_connected(struct sbx_client *c);

/* Blocking call of `method` (a name in the method table) with request `req`
 * (a message of the method's input type). timeout_ms 0: the client default.
 * On 0, *ret holds the answer: release it with sbx_reply_fini. */
int sbx_call(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
	     uint32_t timeout_ms, struct sbx_reply *ret);

/* Completion of an async call, run on an nng thread: do not block in it.
 * err is 0 or a transport error as above; on 0 the callback owns *reply
 * and must sbx_reply_fini it. */
typedef void (*sbx_call_cb)(void *arg, int err, struct sbx_reply *reply);

/* Start a call; cb runs exactly once, unless this returns an error. The
 * request is packed before this returns: req may be freed at once. */
int sbx_call_async(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
		   uint32_t timeout_ms, sbx_call_cb cb, void *arg);
/* Per-call settings of a caller acting for others (the gateway). */
struct sbx_call_opts {
	uint32_t timeout_ms;       /* 0: the client default */
	const char *auth_token;    /* this call's API key; NULL: the client's */
	const char *client;        /* who the call is for (history, audit); NULL: none */
	/* Out, NULL or SBX_NODE_NAME_MAX bytes: the node the call went to last
	 * (its id, else its address), written before cb runs, also on a
	 * transport error; "" when it went to none. */
	char *node;
	/* Out, NULL or SBX_PARTIAL_MAX bytes: for a call answered by every
	 * node (lists, stats, status), the names of the nodes that did not
	 * answer, comma-separated; "" when none was missed. */
	char *partial;
};

/* sbx_call with per-call settings; o may be NULL. */
int sbx_call_opts(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
		  const struct sbx_call_opts *o, struct sbx_reply *ret);

/* ---- cluster --------------------------------------------------------- */

/* A node as the client sees it now. */
struct sbx_node {
	char id[SBX_NODE_NAME_MAX];   /* "" until it answered once */
	char tag[9];                  /* its ids' first 8 hex digits; "" until known */
	char address[256];            /* the RPC URL it is dialled at */
	int up;                       /* answered its last health check */
	uint32_t running, queued, slots, objects;
	uint64_t memory_total_mb, memory_available_mb;
	uint32_t tunnel_port;         /* its proxy tunnel's TCP port; 0 = none */
	uint32_t in_flight;           /* this client's calls on it now */
};

/* The nodes this client knows, in a stable order; *ret is an array of *n
 * to free(). One node when the client has one URL. */
int sbx_client_nodes(struct sbx_client *c, struct sbx_node **ret, size_t *n);
/* The node named `name` (an id or an address): 0, -ENOENT. */
int sbx_client_node(struct sbx_client *c, const char *name, struct sbx_node *ret);

/* sbx_call_async with per-call settings; o may be NULL. */
int sbx_call_async_opts(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
			const struct sbx_call_opts *o, sbx_call_cb cb, void *arg);
/* The same with only this call's own API key; NULL: the client's. */
int sbx_call_async_auth(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
			uint32_t timeout_ms, const char *auth_token, sbx_call_cb cb, void *arg);

void sbx_reply_fini(struct sbx_reply *r);

/* ---- events (the daemon's pub socket) -------------------------------- */

/* One event as published (proto/rpc.proto Event); pointers are valid
 * during the callback only. */
struct sbx_event {
	const char *topic;         /* "logs/<id>", "state/<id>" */
	uint64_t seq;              /* per topic, from 1 */
	int64_t time_us;
	const char *kind;          /* "stdout", "stderr", "exit", "state", ... */
	const void *data;          /* never NULL, also when len is 0 */
	size_t len;
};

/* Runs on the subscription's own thread, one event at a time, in arrival
 * order. Keep it short: while it runs, events queue in the connection's
 * socket buffers and the daemon's bounded per-subscriber queue, and past
 * that the daemon drops them for this subscriber (a gap in seq, never a
 * stall of the daemon). */
typedef void (*sbx_event_cb)(void *arg, const struct sbx_event *ev);

struct sbx_subscription;

/* Subscribe to the events whose topic starts with topic_prefix ("" = all)
 * on events_url (NULL: SBX_DEFAULT_EVENTS_URL; ipc:// or tcp://),
 * redialling when the daemon restarts. Returns 0 once the subscription is
 * set up locally (not proof that the daemon is connected), -EINVAL (no
 * callback or prefix, another URL scheme), -ENOMEM. */
int sbx_subscribe_open(const char *events_url, const char *topic_prefix, sbx_event_cb cb,
		       void *arg, struct sbx_subscription **ret);
/* The same with several publishers (cluster mode): events_url may name
 * several, comma-separated, and events_dns ("tcp://NAME:PORT", resolved
 * again every few seconds) adds every address of NAME. The callback still
 * runs one event at a time. */
struct sbx_subscribe_opts {
	const char *events_url;    /* NULL and no events_dns: SBX_DEFAULT_EVENTS_URL */
	const char *events_dns;    /* NULL or "": none */
	const char *topic_prefix;
	sbx_event_cb cb;
	void *arg;
};
int sbx_subscribe_open_opts(const struct sbx_subscribe_opts *o, struct sbx_subscription **ret);
/* 1 when connected to the daemon's pub socket (to at least one). */
int sbx_subscribe_connected(struct sbx_subscription *s);
/* Stop; when it returns, the callback is not running and will not run
 * again. Never waits for the daemon: at most for the callback in progress.
 * NULL is ok. */
void sbx_subscribe_close(struct sbx_subscription *s);

/* ---- live logs ------------------------------------------------------- */

/* One output line of an object: stream "stdout", "stderr" or "exit" (the
 * end of one execution: text is JSON). Return non-zero to stop. */
typedef int (*sbx_log_line_cb)(void *arg, uint64_t seq, int64_t time_us, const char *stream,
			       const void *text, size_t len);

struct sbx_logs_follow_opts {
	const char *events_url;    /* NULL: SBX_DEFAULT_EVENTS_URL; or several, comma-separated */
	const char *events_dns;    /* as sbx_subscribe_opts.events_dns */
	const char *id;            /* sandbox, session or execution id */
	uint32_t tail;             /* start with the last `tail` kept lines; 0: all kept */
	int follow;                /* then follow live lines */
	/* With follow: stop at once when no execution is writing after the
	 * replay, else after the next live "exit" line (or when there are no
	 * logs yet: after the first execution's). */
	int until_exit;
	uint32_t idle_ms;          /* with follow: stop after this long without a line; 0: never */
	/* Out: lines the daemon no longer had when asked (ring overrun). */
	uint64_t lost;
};

/* Print-once log following: subscribe to logs/<id> first, replay the ring
 * with GetLogs, then deliver live lines, each seq once and in order; a gap
 * in the events (a subscriber too slow for the daemon) is filled from the
 * ring. Blocks on the calling thread, which runs cb. Returns 0 (done, or
 * cb asked to stop), -ENOENT (no logs for id and not following), a
 * transport error of sbx_call, or -EPROTO when the daemon refused a
 * GetLogs (message printed to nobody: see the status in the return). */
int sbx_logs_follow(struct sbx_client *c, struct sbx_logs_follow_opts *o, sbx_log_line_cb cb,
		    void *arg);

#endif
