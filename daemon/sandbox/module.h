/* The module interface of the spawner (nsjail's containProc as data).
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
 * copy of the single-threaded spawner (the hooks after the pid module's in
 * the payload, which shares that copy with the init until its execve(),
 * the init waiting: pid.c): they may use libc freely but must not allocate
 * on paths that can run often, and report failures through
 * sbx_child_fail() (status pipe) rather than logging. The state the hooks
 * share is in spawner_state.h. */
#ifndef SBX_MODULE_H
#define SBX_MODULE_H

#include <stdint.h>

#include "engine.pb-c.h"

struct sbx_ctx;
struct sbx_exec;

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
	/* CLOCK_MONOTONIC when sent: TRACE right before execve(), EXIT
	 * right before the init exits (cfg.trace: exec..exit, exit..reap) */
	uint64_t mono_ns;
	char text[2048];
};

/* child.c: run every module's child() then, in pid 2, exec() and
 * execve(). Never returns. Called right after clone() in the child. */
_Noreturn void sbx_child_main(const struct sbx_ctx *ctx, struct sbx_exec *ex);
/* child.c: the payload's side of the pid module's clone (pid.c): the
 * modules after it, every exec(), execve(). Never returns. */
_Noreturn void sbx_child_payload(struct sbx_exec *ex);

/* child.c: report a failure to the spawner and _exit(). */
_Noreturn void sbx_child_fail(const struct sbx_exec *ex, enum sbx_child_msg_kind kind, int err,
			      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* child.c: write one message on the status pipe (best effort). */
void sbx_child_send(const struct sbx_exec *ex, const struct sbx_child_msg *m);

#endif
