/* Child processes for integration tests: the real sandboxd and
 * sandbox-gateway binaries, started on temporary sockets and always
 * stopped — at exit (atexit), and by the kernel if the test itself dies
 * (PR_SET_PDEATHSIG). Their output goes to log files that th_dump_logs()
 * prints when a test failed. */
#ifndef SBX_TEST_HARNESS_H
#define SBX_TEST_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

/* Start $SBX_BIN_DIR/name with args (NULL-terminated, without argv[0]),
 * stdout and stderr appended to log_path. Returns the pid, or -1 (the
 * reason is printed). The child is killed at exit unless reaped before. */
pid_t th_spawn(const char *name, const char *const args[], const char *log_path);

/* Wait up to timeout_ms for pid to exit; 0 and the wait status in
 * *ret_status, or -ETIMEDOUT. */
int th_wait(pid_t pid, int timeout_ms, int *ret_status);

/* Send sig, then wait up to timeout_ms (then SIGKILL). Returns the wait
 * status. */
int th_stop(pid_t pid, int sig, int timeout_ms);

/* SIGSTOP pid and wait (bounded) until every one of its threads is
 * stopped: the signal only starts a group stop, and under load a thread
 * may run on for a while. Returns 0 or -ETIMEDOUT. */
int th_freeze(pid_t pid, int timeout_ms);

void th_sleep_ms(int ms);

/* `node script args...` (args NULL-terminated, the first TH_NODE_ARGS
 * kept), its output with the test's, killed after timeout_ms: its exit
 * status, 127 when node could not be run, or -1 when it did not finish or
 * died of a signal. */
#define TH_NODE_ARGS 8
int th_run_node(const char *script, const char *const args[], int timeout_ms);

/* A sandboxd of one test and its files: ipc sockets, state directory and
 * log in a directory of the test. */
struct th_daemon {
	char *dir; /* made and owned by th_daemon_init; NULL after th_daemon_init_in */
	char rpc[320], events[320], state[320], log[320];
	pid_t pid; /* 0: not started or stopped */
};

/* Make a temporary directory named after prefix, 0711 (the sandbox user
 * reaches workspaces below it), and d's paths in it: rpc.sock and
 * events.sock, state, sandboxd.log. 0, or -1 when no directory could be
 * made. */
int th_daemon_init(struct th_daemon *d, const char *prefix);
/* The paths of another daemon `name` in dir: name.sock, name-events.sock,
 * name-state, name.log. */
void th_daemon_init_in(struct th_daemon *d, const char *dir, const char *name);
/* Start sandboxd on d's sockets and state directory, args (NULL-terminated
 * list or NULL) after those, its output appended to d's log. Returns the
 * pid, also in d->pid, or -1. */
pid_t th_daemon_start(struct th_daemon *d, const char *const args[]);
/* th_stop(d->pid, SIGTERM, timeout_ms): the wait status. */
int th_daemon_stop(struct th_daemon *d, int timeout_ms);
/* Print the logs when a test failed; remove d's directory unless
 * SBX_KEEP_TMP is set (then say where it is). */
void th_daemon_fini(struct th_daemon *d);

/* How many processes have `marker` in their command line. */
int th_count_procs(const char *marker);

/* A "Name: <n> kB" line of /proc/<pid>/status (field "VmRSS", "VmHWM"):
 * n, or -1. */
long th_proc_status_kb(pid_t pid, const char *field);

/* Print every log file given to th_spawn (call when tests failed). */
void th_dump_logs(void);

/* Remove a directory tree (the test's temporary directory). */
void th_rmtree(const char *dir);

/* ---- a cluster: sandboxd nodes and gateways on loopback TCP ------------ */

#define TH_MAX_NODES 4
#define TH_MAX_GWS 4

/* A node of a cluster: sandboxd with --node-id, RPC, events and the proxy
 * tunnel on TCP ports of 127.0.0.1, and the cluster's key. */
struct th_node {
	char id[32];			      /* "node-1", ... */
	char rpc[64], events[64], tunnel[64]; /* tcp://127.0.0.1:PORT */
	char state[320], log[320];
	pid_t pid; /* 0: not running */
};

/* A gateway of a cluster, on a TCP port of 127.0.0.1. */
struct th_gw {
	char listen[64], base[64]; /* "127.0.0.1:PORT", "http://127.0.0.1:PORT" */
	char log[320];
	pid_t pid; /* 0: not running */
};

struct th_cluster {
	char *dir;    /* every node's state and every log */
	char key[40]; /* the cluster key (random hex) */
	int n_nodes, n_gws;
	struct th_node nodes[TH_MAX_NODES];
	struct th_gw gws[TH_MAX_GWS];
};

/* Make a temporary directory named after prefix (0711), a random key and
 * the names of n_nodes nodes (node-1..node-N: free ports, state dir
 * node-N-state, log node-N.log) and n_gws gateways (gw-N.log). Nothing is
 * started. 0, or -1 (no directory, no ports, or too many). */
int th_cluster_init(struct th_cluster *c, const char *prefix, int n_nodes, int n_gws);
/* Start node i: --rpc, --events, --tunnel, --state-dir, --node-id and
 * --cluster-key, then args (NULL-terminated or NULL). Again after a stop
 * or kill: the same ports, state and id. The pid (also in the node), or
 * -1. */
pid_t th_cluster_node_start(struct th_cluster *c, int i, const char *const args[]);
/* SIGKILL node i and reap it, as a crash would; its processes' children
 * are left to what the daemon arranged for them. */
void th_cluster_node_kill(struct th_cluster *c, int i);
/* Start gateway i on the first `nodes` nodes (--rpc and --events list
 * them, --cluster-key), args after. The gateway runs in a mount
 * namespace of its own where the cluster's directory is an empty tmpfs:
 * it reaches the nodes over TCP only, never through a unix socket in
 * their state (the proxy's forwarder sockets). The pid, or -1 (printed). */
pid_t th_cluster_gw_start(struct th_cluster *c, int i, int nodes, const char *const args[]);
/* Stop every gateway, then every node (SIGTERM, bounded); print the logs
 * when a test failed; remove the directory unless SBX_KEEP_TMP is set. */
void th_cluster_fini(struct th_cluster *c);

#endif
