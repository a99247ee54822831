/* The client's node set (private to libsandbox). A client of one daemon has
 * one node and nothing else (what it knows of it comes from the Health
 * calls its user makes); a cluster client (several URLs or rpc_dns) also
 * runs a poller thread that asks every node for its Health every
 * CLUSTER_POLL_MS, and a DNS watch (client/urls.h) when rpc_dns is set.
 *
 * Locking: c->lock guards the node array, every node's fields and the
 * call count. It is never held across an nng call nor a user callback. */
#ifndef SBX_CLUSTER_H
#define SBX_CLUSTER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common.pb-c.h"
#include "conn.h"
#include "sandbox.h"
#include "urls.h"

#define CLUSTER_MAX_NODES 64
#define CLUSTER_POLL_MS 500
#define CLUSTER_HEALTH_TIMEOUT_MS 1000
#define CLUSTER_DNS_MS 5000
/* A node DNS no longer names is dropped at once when it is down, and
 * after this long when it still answers (a task being replaced). */
#define CLUSTER_DNS_GRACE_MS 30000
#define CLUSTER_URL_MAX 256

struct node {
	struct sbx_client *c;
	struct sbx_conn *conn;
	char address[CLUSTER_URL_MAX];
	char id[SBX_NODE_NAME_MAX];
	char tag[9];
	bool up;
	bool from_dns;
	bool health_pending;
	uint32_t running, queued, slots, objects, tunnel_port;
	uint64_t memory_total_mb, memory_available_mb;
	uint32_t in_flight;        /* this client's calls on it */
	uint32_t pending_creates;  /* of those, PLACE calls */
	uint32_t refs;             /* calls and health checks holding it */
	uint64_t dns_missing_ms;   /* monotonic; 0: DNS names it */
	struct node *next_dead;
};

struct sbx_client {
	bool cluster;
	char *auth_token;
	char *cluster_key;
	char *dns_url;             /* NULL: no rpc_dns */
	uint32_t timeout_ms;
	atomic_uint_fast64_t next_id;

	pthread_mutex_t lock;
	pthread_cond_t cond;       /* poller wake-ups, calls draining */
	struct node *nodes[CLUSTER_MAX_NODES];
	size_t n_nodes;
	struct node *dead;         /* removed, freed once unreferenced */
	unsigned rotor;            /* ties rotate */
	unsigned calls;            /* routed calls not yet completed */
	bool closing;
	bool poll_now;
	pthread_t poller;
	bool poller_started;
	struct sbx_dns_watch *dns; /* with rpc_dns */
};

/* A node's name: its id, else its address. Under c->lock. */
const char *cluster_node_name(const struct node *n);
/* Start the poller (and resolver) threads of a cluster client. */
int cluster_start(struct sbx_client *c);
/* Stop them (before the connections close). */
void cluster_stop(struct sbx_client *c);
/* A new node dialling url; not yet in the set. */
int cluster_node_new(struct sbx_client *c, const char *url, struct node **ret);
/* Free a node whose connection is shut down and unreferenced. */
void cluster_node_free(struct node *n);
/* What a Health answer says of n (its id, tag, load). Under c->lock. */
void cluster_node_update(struct node *n, const Sbx__Node *m);
/* Fill an sbx.Node message (fresh strings) from n. Under c->lock. */
int cluster_node_message(const struct node *n, Sbx__Node **ret);
/* Pack an RPC envelope of this client: its auth token unless auth is set,
 * its cluster key. */
int cluster_pack(struct sbx_client *c, const char *method, uint64_t id, uint64_t deadline_wall_ms,
		 const char *auth, const char *client, const ProtobufCMessage *req, void **ret_buf,
		 size_t *ret_len);

#endif
