/* The sandbox engine: runs one argv at a time in a fresh set of namespaces,
 * cgroups, rlimits, dropped capabilities and a seccomp policy, and reports
 * what happened as an sbx.ExecResult.
 *
 * All kernel work (clone, mount, seccomp) is done by a single-threaded
 * privileged helper, the spawner, forked by sbx_engine_new() before the
 * process has threads. The calling side only talks to it over sockets, so
 * sbx_engine_run() is safe to call from any number of threads. */
#ifndef SBX_ENGINE_H
#define SBX_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "admin.pb-c.h"
#include "api.pb-c.h"
#include "engine.pb-c.h"

struct sbx_engine;

enum sbx_cgroup_pref {
	SBX_CGROUP_AUTO = 0, /* v1 if its memory hierarchy is mounted, else v2, else none */
	SBX_CGROUP_V1,
	SBX_CGROUP_V2,
	SBX_CGROUP_NONE, /* no cgroups: memory and pids limits are not enforced */
};

/* The state directory of sandboxd and of `sandboxd --run` unless told
 * otherwise (their option tables' default). */
#define SBX_ENGINE_DEFAULT_STATE_DIR "/var/lib/sandboxd"

struct sbx_engine_config {
	/* Directory the engine owns (created 0700 if missing): the read-only
	 * root skeleton lives here. Required, absolute. */
	const char *state_dir;
	/* Executions running at once; more wait in the spawner's queue.
	 * 0 = number of CPUs * 4. */
	unsigned max_concurrent;
	/* Host uid/gid the sandbox user (uid/gid 1000 inside) maps to. Must
	 * not be 0. 0 = 100000. */
	uint32_t host_uid, host_gid;
	/* Size caps of the private tmpfs mounts (KiB). 0 = 65536. The fresh
	 * workspace tmpfs uses workspace_kb. */
	uint64_t tmp_kb, workspace_kb;
	/* Largest packed SpawnRequest accepted (bytes). 0 = 64 MiB. */
	uint64_t max_request_bytes;
	/* Output beyond limits.output_bytes is read and discarded; once this
	 * many bytes were discarded the sandbox is killed. 0 = 16 MiB. */
	uint64_t output_drain_bytes;
	/* Pre-created network namespaces kept ready. 0 = 4; set
	 * no_netns_pool to create one per execution. */
	unsigned netns_pool;
	bool no_netns_pool;
	/* Take a pooled network namespace back after its execution when it
	 * holds nothing (net.c says what is checked), up to 16 kept, instead
	 * of dropping it: creating and destroying one is a large part of an
	 * execution's cost. Its loopback's packet counters carry over. */
	bool netns_reuse;
	/* Pre-created per-execution cgroups kept ready (each used once).
	 * 0 = 4; set no_cgroup_pool to mkdir one per execution. */
	unsigned cgroup_pool;
	bool no_cgroup_pool;
	/* Pre-built sandboxes kept ready (warm.c): namespaces cloned, root
	 * mounted and pivoted, waiting for a request; each is used by one
	 * execution, then dies. Only requests without a host workspace, host
	 * /tmp, binds or network take one. 0 = off (no default: the daemon
	 * passes its setting). */
	unsigned warm_pool;
	/* Pre-built sandboxes whose python interpreter is already started
	 * (warm_runtime.c), for executions of the python runtime's command
	 * (`/usr/bin/python3 -u main.py` with main.py among the request's
	 * files, no host workspace, binds or network); each is used by one
	 * execution, then dies. 0 = off. */
	unsigned warm_pool_python;
	/* The same for the node runtime's command (`/usr/bin/node main.js`
	 * with main.js among the request's files and no package.json). */
	unsigned warm_pool_node;
	enum sbx_cgroup_pref cgroup;
	/* Print per-phase timings of every execution to stderr (spawner side). */
	bool trace;
};

/* Fill *cfg with the defaults above (state_dir stays NULL). */
void sbx_engine_config_init(struct sbx_engine_config *cfg);

/* Detect cgroups, fork the spawner and wait until it has built the
 * read-only root. MUST be called before the process starts any thread
 * (nng does so later) and from the thread that lives as long as the
 * engine: the spawner dies with that thread (PR_SET_PDEATHSIG).
 * Returns 0 and *ret, or -EINVAL (bad config), -EPERM (namespaces
 * forbidden), -errno of the failed step. */
int sbx_engine_new(const struct sbx_engine_config *cfg, struct sbx_engine **ret);

/* Stop the spawner: kills every running sandbox, removes the engine's
 * cgroups and waits for the spawner to exit. Calls to sbx_engine_run()
 * and sbx_engine_warm_pools() must have returned. NULL is a no-op. */
void sbx_engine_free(struct sbx_engine *e);

/* Run one execution. Blocking; thread-safe. On 0, *ret is the result
 * (any status: TIME_LIMIT, INTERNAL_ERROR with error text, ...), to free
 * with sbx__exec_result__free_unpacked(*ret, NULL).
 * -EINVAL: the request is malformed; *ret is then a result whose `error`
 *          says why (status INTERNAL_ERROR), also to be freed.
 * -ENOMEM, -EIO (spawner gone), -EMSGSIZE (request too large): *ret is
 *          left untouched. */
int sbx_engine_run(struct sbx_engine *e, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret);

/* A cancel token: lets another thread stop an execution started with
 * sbx_engine_run_cancellable(). Caller memory, one execution at a time;
 * init before the run, fini after it returned. */
struct sbx_engine_cancel {
	pthread_mutex_t lock;
	int fd;         /* the execution's socket while it runs, else -1 */
	bool cancelled; /* sticky: a run started after the cancel stops at once */
};

void sbx_engine_cancel_init(struct sbx_engine_cancel *t);
void sbx_engine_cancel_fini(struct sbx_engine_cancel *t);

/* sbx_engine_run that `t` (NULL: none) can cancel. A cancelled execution
 * (before, while queued in the spawner or while running) returns 0 with a
 * result of status STOPPED, signal SIGKILL, exit code 137 and error
 * "stopped": the spawner closes the socket only once the sandbox's init is
 * reaped, so when the run returns every process of it is gone. */
int sbx_engine_run_cancellable(struct sbx_engine *e, const Sbx__SpawnRequest *req,
			       struct sbx_engine_cancel *t, Sbx__ExecResult **ret);

/* Live output of one execution (sbx_engine_run_stream). Caller memory. */
struct sbx_engine_stream {
	/* Called on the running thread with each chunk of stdout (stream 0)
	 * or stderr (1) as the spawner read it, in order, before the run
	 * returns; chunks split lines anywhere. The spawner does not wait
	 * for it: while it lags, chunks are dropped (never the result's
	 * output), so it should be quick. */
	void (*on_output)(void *arg, int stream, const void *data, size_t len);
	void *arg;
	/* Set when the run returns: chunks (and their bytes) the spawner
	 * dropped because the socket was full. */
	uint64_t dropped_chunks, dropped_bytes;
	/* In: with has_netns, the sandbox joins netns_fd (a network namespace
	 * of the caller's, loopback up, held open by the caller) instead of a
	 * fresh one, so the caller can connect to the ports it listens on.
	 * Ignored when the request asks for the network. */
	bool has_netns;
	int netns_fd;
};

/* sbx_engine_run_cancellable (t may be NULL) that also streams the
 * output to `s` (NULL: like sbx_engine_run_cancellable). Everything the
 * sandbox writes is streamed, past limits.output_bytes too; the result is
 * the same as without streaming. */
int sbx_engine_run_stream(struct sbx_engine *e, const Sbx__SpawnRequest *req,
			  struct sbx_engine_cancel *t, struct sbx_engine_stream *s,
			  Sbx__ExecResult **ret);

/* Cancel the execution of `t`: half-close its socket, which the spawner
 * reads as "kill it" (EOF on the execution socket). Thread-safe,
 * non-blocking, idempotent. */
void sbx_engine_cancel(struct sbx_engine_cancel *t);

/* Check a request without running it. Returns 0, or -EINVAL with a
 * static sentence in *ret_why. Used by sbx_engine_run(); exported for the
 * RPC layer that wants to refuse early. */
int sbx_engine_check(const Sbx__SpawnRequest *req, const char **ret_why);

/* Network namespaces for services (sbx_engine_stream.has_netns): a new
 * one with loopback up, owned by the host's user namespace (the sandbox
 * gets no capability over it), as an fd in *ret_fd; and a socket created
 * inside one, e.g. to connect to a service's port. Both work on the
 * calling thread only and leave it where it was. 0 / the socket, or
 * -errno. */
int sbx_engine_netns_new(int *ret_fd);
int sbx_engine_netns_socket(int netns_fd, int domain, int type);

/* This process's cgroup path (from /proc/self/cgroup; "" for the root)
 * for a v1 controller `ctrl`, or on v2 (ctrl NULL). 0, -ENOENT (not in
 * such a hierarchy) or -errno. */
int sbx_engine_own_cgroup(const char *ctrl, char *buf, size_t size);

/* cgroup v2's "no internal processes" rule: a cgroup other than the root
 * that holds processes cannot hand controllers (memory, pids) to its
 * children. Under systemd (Delegate=yes) or in a container our own cgroup
 * is such a one: the processes of `pids` found in `dir` (an absolute
 * path under the v2 mount) move into `dir`/SBX_CG_SUPERVISOR, a leaf, so
 * that `dir` can delegate; sbx_engine_own_cgroup still answers `dir` for
 * them. 0 (also when `dir` is the hierarchy's root, exempt from the
 * rule), -EBUSY when other processes stay there (not ours to move: the
 * controllers cannot be enabled), or -errno. */
#define SBX_CG_SUPERVISOR "sandboxd-supervisor"
int sbx_engine_cgroup2_vacate(const char *dir, const pid_t *pids, size_t n_pids);

/* "v2", "v1" or "none": the cgroup flavour in use. */
const char *sbx_engine_cgroup_mode(const struct sbx_engine *e);

/* Does a memory cgroup controller hold every sandbox to its memory limit
 * (v1's memory hierarchy, or v2 with memory delegated to the spawner)?
 * Without one nothing does: RLIMIT_AS would break every runtime that
 * reserves address space (node, the JVM, Go). */
bool sbx_engine_memory_enforced(const struct sbx_engine *e);

/* The state of the pools of pre-built sandboxes (warm_pool), one message
 * per kind that is on (size > 0): none when every pool is off. Asks the
 * spawner, at most once per 100 ms (a younger answer is given again), and
 * waits at most 250 ms; a spawner too busy to answer in time gets its
 * previous answer given instead. Thread-safe. 0 with *ret (NULL
 * when *ret_n is 0; the caller frees each with sbx__warm_pool__free_unpacked
 * and then the array, as a repeated field of a message is freed), or
 * -ETIMEDOUT (no answer yet, ever), -EIO (spawner gone), -ENOMEM; *ret is
 * then untouched. */
int sbx_engine_warm_pools(struct sbx_engine *e, Sbx__WarmPool ***ret, size_t *ret_n);

#endif
