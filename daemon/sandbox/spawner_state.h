/* Internals of the spawner (see engine.h for the public side).
 *
 * One file per kernel concern, nsjail style. Each concern is a struct
 * sbx_module with the same hooks; sbx_modules[] lists them in the one order
 * in which they run, so the containment sequence reads top to bottom in
 * child.c:
 *
 *   spawner start   init()      once: detect, pre-build, pre-compile
 *   before clone    prepare()   per execution, in the spawner
 *   after clone     parent()    in the spawner; the child waits meanwhile
 *   in the child    child()     as pid 1 of the new pid namespace, still
 *                               holding its capabilities in the new user ns
 *   payload         exec()      in pid 2, right before execve()
 *   after reap      teardown()  in the spawner; collects numbers, cleans up
 *   spawner exit    fini()
 *
 * Hooks return 0 or a negative errno. child()/exec() run after clone() in a
 * copy of the single-threaded spawner: they may use libc freely but must
 * not allocate on paths that can run often, and report failures through
 * sbx_child_fail() (status pipe) rather than logging. */
#ifndef SBX_SANDBOX_H
#define SBX_SANDBOX_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "sentence.h"

/* The ids the sandbox user has inside its user namespace. */
#define SBX_INSIDE_UID 1000
#define SBX_INSIDE_GID 1000
#define SBX_WORKSPACE "/workspace"

enum sbx_cgroup_mode { SBX_CG_NONE, SBX_CG_V1, SBX_CG_V2 };

/* cgroup v1 controllers the engine uses, one hierarchy each. */
enum { SBX_V1_MEMORY, SBX_V1_PIDS, SBX_V1_CPUACCT, SBX_V1_N };

struct sbx_cgroup_slot {
	int dfd[SBX_V1_N]; /* v1: one dir per controller; v2: dfd[0] only; -1 = absent */
	unsigned id;
};

/* Spawner-wide state: lives in the spawner process only. */
struct sbx_ctx {
	struct sbx_engine_config cfg; /* state_dir points at state_dir_buf */
	char state_dir_buf[256];
	char root[300]; /* where the prepared read-only root is mounted */
	long ncpu;
	int epfd;
	int ctl_fd; /* SEQPACKET to the daemon: execution sockets arrive here */

	/* cgroup.c / cgroup2.c */
	enum sbx_cgroup_mode cg_mode;
	int cg_parent[SBX_V1_N]; /* parent dirs of the per-execution cgroups */
	char cg_parent_path[SBX_V1_N][320];
	bool cg_has_memsw, cg_v2_memory, cg_v2_pids, cg_v2_kill, cg_v2_peak;
	struct sbx_cgroup_slot *cg_pool;
	unsigned cg_pool_len;
	unsigned cg_next_id;

	/* net.c: fresh, never-used network namespaces */
	int *netns_pool;
	unsigned netns_pool_len;
	int host_netns;

	/* seccomp.c: the policy compiled once */
	struct sock_fprog seccomp_prog;

	/* spawner.c */
	struct sbx_exec *running, *queued_head, *queued_tail, *reaped;
	unsigned n_running;
	uint64_t next_exec_id;
	bool stopping;
};

enum sbx_kill_reason {
	SBX_KILL_NONE,
	SBX_KILL_WALL,
	SBX_KILL_CPU,
	SBX_KILL_OUTPUT,
	SBX_KILL_CANCEL,
	SBX_KILL_SHUTDOWN,
};

/* What an epoll event points at. */
struct sbx_watch {
	struct sbx_exec *ex;
	int kind;
};

struct sbx_outbuf {
	char *data;
	size_t len, alloc, cap; /* cap = the output limit; data grows up to it */
	uint64_t total;		/* bytes the sandbox wrote, kept or not */
	int fd;
	bool truncated;
	struct sbx_watch w;
};

/* Child → spawner messages on the status pipe (each < PIPE_BUF, atomic). */
enum sbx_child_msg_kind {
	SBX_MSG_SETUP_ERROR = 1, /* set-up failed: INTERNAL_ERROR */
	SBX_MSG_EXEC_ERROR,	 /* execve() failed: RUNTIME_ERROR, exit 127 */
	SBX_MSG_EXIT,		 /* init saw the payload end: wstatus, rusage */
	SBX_MSG_TRACE,		 /* per-module timings (cfg.trace) */
};

#define SBX_TRACE_SLOTS 16
/* text: room for a sentence with a long path, the message staying below
 * PIPE_BUF; longer ones are cut at a word (common/sentence.h). */
struct sbx_child_msg {
	uint32_t kind;
	int32_t err;
	int32_t wstatus;
	uint32_t cpu_ms;
	uint64_t maxrss_kb;
	uint32_t trace_us[SBX_TRACE_SLOTS];
	char text[2048];
};

enum sbx_exec_state { EX_READING, EX_QUEUED, EX_RUNNING, EX_REPLYING, EX_DEAD };

/* One execution, from its socket arriving to its reply being written. */
struct sbx_exec {
	struct sbx_exec *next, *prev;
	enum sbx_exec_state state;
	uint64_t id;
	int fd; /* the execution socket (daemon's peer end) */
	struct sbx_watch w_sock, w_pidfd, w_timer, w_stdin;

	/* request read */
	uint8_t hdr[8];
	size_t hdr_got;
	uint8_t *reqbuf;
	size_t req_len, req_got;
	Sbx__SpawnRequest *req;

	/* fds of the running sandbox (-1 when closed) */
	int stdin_w, pidfd, timerfd, status_r, go_w;
	/* child-side ends, closed in the spawner right after clone */
	int child_stdin, child_stdout, child_stderr, child_status, child_go;
	size_t stdin_off;
	struct sbx_outbuf out[2];
	pid_t pid;
	bool reaped;
	int init_wstatus;

	/* per-module state */
	struct sbx_cgroup_slot cg;
	int netns_fd;	     /* net.c: netns to enter, -1 = clone a new one */
	int caller_netns_fd; /* net.c: the daemon's netns for this run, -1 = none */
	/* mnt.c: detached mount trees the spawner cloned (open_tree) from the
	 * host dirs to bind, so the child never walks a host path: [0] the
	 * workspace, [1] the /tmp dir, [2 + i] the request's bind i; -1 =
	 * none. In the child they sit at fds 5.. (child.c). */
	int *mnt_fds;
	unsigned n_mnt_fds;

	uint64_t t_start, t_exit, t_deadline_wall;
	uint64_t cpu_used_ns;
	bool have_cpu, have_peak, oom; /* filled by cgroup teardown */
	char **argv, **envp;	       /* NULL-terminated copies for execve */
	enum sbx_kill_reason kill;
	char error[SBX_SENTENCE_MAX]; /* spawner-side failure, INTERNAL_ERROR */
	uint64_t trace_ns[8];

	/* live output (SpawnRequest.stream_output, spawner_stream.c): the
	 * unsent tail of a frame the socket took only part of, and what was
	 * dropped because the daemon did not keep up */
	uint8_t *sfrag;
	size_t sfrag_len, sfrag_off;
	uint64_t sdrop_chunks, sdrop_bytes;

	/* reply write */
	uint8_t *reply;
	size_t reply_len, reply_off;
	bool replying;
};

struct sbx_module {
	const char *name;
	int (*init)(struct sbx_ctx *ctx);
	void (*fini)(struct sbx_ctx *ctx);
	int (*prepare)(struct sbx_ctx *ctx, struct sbx_exec *ex);
	int (*parent)(struct sbx_ctx *ctx, struct sbx_exec *ex);
	int (*child)(const struct sbx_ctx *ctx, struct sbx_exec *ex);
	int (*exec)(const struct sbx_ctx *ctx, struct sbx_exec *ex);
	void (*teardown)(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res);
};

extern const struct sbx_module sbx_user_module, sbx_cgroup_module, sbx_net_module, sbx_uts_module,
	sbx_mnt_module, sbx_files_module, sbx_pid_module, sbx_rlimit_module, sbx_caps_module,
	sbx_seccomp_module;

/* The fixed order (child.c). */
extern const struct sbx_module *const sbx_modules[];
extern const unsigned sbx_n_modules;

/* child.c: run every module's child() then, in pid 2, exec() and
 * execve(). Never returns. Called right after clone() in the child. */
_Noreturn void sbx_child_main(const struct sbx_ctx *ctx, struct sbx_exec *ex);

/* child.c: report a failure to the spawner and _exit(). */
_Noreturn void sbx_child_fail(const struct sbx_exec *ex, enum sbx_child_msg_kind kind, int err,
			      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* child.c: write one message on the status pipe (best effort). */
void sbx_child_send(const struct sbx_exec *ex, const struct sbx_child_msg *m);

/* cgroup.c: dispatch to v1 / v2. Detection runs before the spawner forks
 * (so the daemon can answer sbx_engine_cgroup_mode() without a round trip). */
enum sbx_cgroup_mode sbx_cgroup_detect(enum sbx_cgroup_pref pref);
const char *sbx_cgroup_mode_name(enum sbx_cgroup_mode m);
/* Current usage of the execution's cgroup, for CPU-limit polling;
 * -ENOENT without cgroups. */
int sbx_cgroup_cpu_ns(const struct sbx_ctx *ctx, const struct sbx_exec *ex, uint64_t *ret_ns);

/* cgroup2.c: the v2 half behind cgroup.c. */
int sbx_cgroup2_init(struct sbx_ctx *ctx);
int sbx_cgroup2_setup(struct sbx_ctx *ctx, struct sbx_exec *ex);
int sbx_cgroup2_cpu_ns(int dfd, uint64_t *ret_ns);
void sbx_cgroup2_collect(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res);
int sbx_cgroup2_kill(int dfd);

/* Idle-time work (spawner.c calls them when epoll has nothing): top up
 * the cgroup / netns pools. Return true if they did something. */
bool sbx_cgroup_refill(struct sbx_ctx *ctx);
bool sbx_net_refill(struct sbx_ctx *ctx);

/* Create <mount><own cgroup>/sandboxd/<pid> (ctrl: v1 controller name, or
 * NULL for v2), removing leftovers of dead spawners. */
int sbx_cgroup_make_parent(const char *mount, const char *ctrl, char *path, size_t size,
			   int *ret_fd);
/* The value of `key` in "key value" lines, 0 if absent. */
uint64_t sbx_cg_keyed(const char *text, const char *key);

/* cgroup_util (in cgroup.c): small file helpers on a dir fd. */
int sbx_cg_write(int dfd, const char *file, const char *val);
int sbx_cg_read(int dfd, const char *file, char *buf, size_t size);
int sbx_cg_read_u64(int dfd, const char *file, uint64_t *ret);
/* rmdir that retries briefly: a cgroup whose last task just exited may
 * still be busy for a moment. */
int sbx_cg_rmdir(int parent_dfd, const char *name);

/* seccomp.c: build the policy into *ret_prog (caller frees ->filter). The
 * test suite also dumps it. */
int sbx_seccomp_build(struct sock_fprog *ret_prog);

/* mnt.c: the mount plan, data first (tested on its own). */
struct sbx_mount_entry {
	const char *path; /* absolute, inside and on the host */
	bool is_dir;
	bool optional; /* skip if missing on the host */
	bool copy;     /* a small file snapshotted into the skeleton, not bound */
};
extern const struct sbx_mount_entry sbx_mnt_plan[];
extern const unsigned sbx_mnt_plan_len;
/* mnt.c: close the execution's mount trees (ex->mnt_fds); idempotent. */
void sbx_mnt_release(struct sbx_exec *ex);

/* files.c: is `path` a safe relative path inside the workspace? (no "..",
 * not absolute, no empty components, bounded length) */
bool sbx_file_path_ok(const char *path);

/* spawner.c: the spawner process's main loop. Never returns. `ctl_fd` is
 * the control socket; the first thing sent on it is an int: 0 when the
 * spawner is ready, or the negative errno that stopped it. */
_Noreturn void sbx_spawner_main(const struct sbx_engine_config *cfg, enum sbx_cgroup_mode mode,
				int ctl_fd);

/* Monotonic clock in ns. */
uint64_t sbx_now_ns(void);

#endif
