/* The spawner's state, shared by its event loop (spawner.c,
 * spawner_exec.c) and the modules' hooks (module.h): struct sbx_ctx, one
 * per spawner, and struct sbx_exec, one per execution.
 *
 * What stays shared and why: the loop owns both and hands them to every
 * hook; the per-module fields (cgroup, net, mnt, seccomp sections below)
 * are written by their own module only, and read by the loop where it
 * must act on them itself (killing through the cgroup, polling its CPU
 * time, closing mount trees of an execution that never started). They
 * sit in these structs, not behind per-module pointers, so the child
 * reads them after clone() without allocating. Each module's types and
 * functions are in its own header (cgroup.h, net.h, mnt.h, seccomp_policy.h). */
#ifndef SBX_SPAWNER_STATE_H
#define SBX_SPAWNER_STATE_H

#include <linux/filter.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "engine.h"
#include "net.h"
#include "sentence.h"

/* Spawner-wide state: lives in the spawner process only. */
struct sbx_ctx {
	struct sbx_engine_config cfg; /* state_dir points at state_dir_buf */
	char state_dir_buf[256];
	char root[300]; /* where the prepared read-only root is mounted */
	long ncpu;
	int epfd;
	int ctl_fd;	      /* SEQPACKET to the daemon: execution sockets arrive here */
	sigset_t sig_ignored; /* signals whose disposition is not SIG_DFL */

	/* cgroup.c / cgroup2.c */
	enum sbx_cgroup_mode cg_mode;
	int cg_parent[SBX_V1_N]; /* parent dirs of the per-execution cgroups */
	char cg_parent_path[SBX_V1_N][320];
	bool cg_has_memsw, cg_v2_memory, cg_v2_pids, cg_v2_kill, cg_v2_peak;
	struct sbx_cgroup_slot *cg_pool;
	unsigned cg_pool_len;
	unsigned cg_next_id;

	/* net.c: fresh, never-used network namespaces (private to net.c) */
	struct sbx_net *net;

	/* warm.c: pre-built sandboxes waiting for a request (one pool per
	 * kind: any command, python) */
	struct sbx_warm *warm;

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

/* EX_DRAINING: the result is sent (its payload ended and nothing else of
 * the sandbox was left), the init is still on its way out. */
enum sbx_exec_state { EX_READING, EX_QUEUED, EX_RUNNING, EX_REPLYING, EX_DRAINING, EX_DEAD };

struct sbx_child_report; /* spawner_exec.c: what the child said on the status pipe */

/* One execution, from its socket arriving to its reply being written. */
struct sbx_exec {
	struct sbx_exec *next, *prev;
	enum sbx_exec_state state;
	uint64_t id;
	/* warm.c: a pre-built sandbox (no execution yet). Its child stops
	 * before the first module that reads the request and waits for the
	 * request on the go pipe. */
	bool warm;
	/* warm_runtime.c: a pre-built sandbox whose payload runs a
	 * runtime's command ahead of the request, blocked opening its
	 * script; pid 1 gets the request (files, rlimits, the script). Its
	 * pool (warm.h: SBX_WARM_PYTHON, SBX_WARM_NODE; 0 = none). Set on
	 * the execution that takes one too (which pool it counts in). */
	unsigned warm_rt;
	bool pooled; /* warm.c: runs in a pre-built sandbox (counted in use) */
	int fd;	     /* the execution socket (daemon's peer end) */
	struct sbx_watch w_sock, w_pidfd, w_timer, w_stdin, w_status;

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
	struct sbx_outbuf both; /* want_output: both streams as read; fd unused */
	pid_t pid;
	struct sbx_child_report *rep; /* NULL until started */
	bool replied;		      /* the result went before the reap (spawner_exec.c) */
	bool reaped;
	int init_wstatus;

	/* per-module state */
	struct sbx_cgroup_slot cg;
	int netns_fd;	     /* net.c: netns to enter, -1 = clone a new one */
	bool netns_ours;     /* net.c: netns_fd is the spawner's own (host-owned), reusable */
	int caller_netns_fd; /* net.c: the daemon's netns for this run, -1 = none */
	/* net.c: req->bridge's host end, 0 = none (teardown deletes it) */
	unsigned bridge_ifindex;
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

#endif
