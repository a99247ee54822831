/* Cluster mode (README "Cluster") through real processes: the helpers
 * test-cluster*.c and bench-cluster share (test-cluster-util.c), and the
 * parts of test-cluster's main. A cluster is th_cluster's: nodes node-1..N
 * and gateways that each reach every node over loopback TCP. */
#ifndef SBX_TEST_CLUSTER_H
#define SBX_TEST_CLUSTER_H

#include <jansson.h>
#include <stdbool.h>

#include "harness.h"
#include "httpc.h"

/* A node as a gateway's /admin/api/status lists it: -1 not listed, 0
 * down, 1 up. */
struct cl_view {
	int listed; /* nodes listed */
	int up[TH_MAX_NODES];
	bool partial; /* the reply's "partial" */
	long status;  /* the HTTP status */
};

/* GET base/admin/api/status into *v (index = node-N - 1). The body, or
 * NULL when it is no JSON object (caller decrefs). */
json_t *cl_status(const struct th_cluster *c, const char *base, struct cl_view *v);

/* Poll cl_status every 50 ms until node i's state is want[i] for every i
 * of want_n (-1: any) and "nodes" lists want_n of them; the milliseconds
 * it took, or -1 after timeout_ms (the last view in *last when not NULL). */
long cl_wait_view(const struct th_cluster *c, const char *base, const int *want, int want_n,
		  int timeout_ms, struct cl_view *last);

/* The index of the node with this id, or of the node whose tag begins id
 * (cl_node_of_tag); -1 when none. */
int cl_node_index(const struct th_cluster *c, const char *node_id);
int cl_node_of_tag(const struct th_cluster *c, const char *id);

/* method base+path with body, waiting up to timeout_ms (0: 60 s); CHECKs
 * the status is want and returns the parsed body (NULL when not JSON or
 * another status; the reply is printed then). */
#define cl_json(base, method, path, body, want, timeout_ms)                                        \
	cl_json_(__FILE__, __LINE__, (base), (method), (path), (body), (want), (timeout_ms))
json_t *cl_json_(const char *file, int line, const char *base, const char *method, const char *path,
		 const char *body, long want, long timeout_ms);

/* ---- test-cluster's parts (one cluster for all of them) ---------------- */

extern struct th_cluster cl;
/* Every node's extra flags: two execution slots, no disk images. */
extern const char *const cl_node_args[];

/* Objects the parts share: made by test-cluster.c's placement part. */
struct cl_objects {
	char sandbox[6][40];
	int n_sandboxes;
	char session[3][40];
	int n_sessions;
	char deployment[2][40];
	int n_deployments;
};
extern struct cl_objects objs;

/* A reply of `what` names no node ("node" is got): one failure per what,
 * not one per reply. */
void cl_no_node(const char *what, const char *got);

/* The node index an object id names (by its tag), CHECKed to be one. */
int cl_owner(const char *id);

/* test-cluster-live.c */
void test_logs(void);
void test_execute_stream(void);
void test_proxy(void);
/* test-cluster-kill.c */
void test_kill_and_restart(void);

#endif
