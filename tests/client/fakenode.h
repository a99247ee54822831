/* A fake sandboxd node for libsandbox's cluster tests: a raw nng rep socket
 * on its own thread that answers Health with a Node (its id, tag and a
 * load the test sets), and the routed methods with recognisable replies
 * naming it. Raw, so that it can hold a request (never answer it) while
 * it goes on answering Health. */
#ifndef SBX_TEST_FAKENODE_H
#define SBX_TEST_FAKENODE_H

#include <nng/nng.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define FAKE_EXECUTIONS 4

struct fake_node {
	char url[256];
	char id[32];
	char tag[9];
	nng_socket sock;
	pthread_t thread;
	bool running;
	atomic_bool stopping; /* fake_node_stop: the serving thread leaves */
	/* Set by the test at any time. */
	atomic_uint load_running, load_slots, load_objects;
	atomic_bool hang_health;   /* stop answering Health, keep the connection */
	atomic_bool exhausted;     /* Run/Execute/Create*: RESOURCE_EXHAUSTED */
	atomic_bool hold;          /* keep the next other request unanswered */
	atomic_int held;           /* requests held */
	char extra_id[64];         /* an untagged id this node also holds */
	/* Counts of requests received (Health apart), by method. */
	pthread_mutex_t lock;
	int count_run, count_create, count_get, count_list, count_other;
	char last_key[64];         /* RpcRequest.cluster_key of the last request */
	/* Executions it holds, newest first: "<tag>-...", started_at. */
	char exec_id[FAKE_EXECUTIONS][40];
	char exec_at[FAKE_EXECUTIONS][32];
};

/* Start a node called id listening on url (ipc:// or tcp://); executions
 * start at minute `minute` of a fixed hour, one per 2 minutes. */
int fake_node_start(struct fake_node *f, const char *id, const char *url, int minute);
/* Close its socket (its connections drop) and stop its thread. */
void fake_node_stop(struct fake_node *f);
int fake_node_count(struct fake_node *f, int *field);

#endif
