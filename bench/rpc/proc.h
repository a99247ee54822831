/* Helper processes of a benchmark (the servers under test): started with
 * fork+exec, told to stop with SIGTERM, killed if they ignore it. A child
 * also gets SIGTERM when the benchmark dies, so none outlives it. */
#ifndef BENCH_PROC_H
#define BENCH_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct bench_proc {
	const char *name; /* for messages; not owned */
	pid_t pid;
	bool exited; /* reaped; status holds its wait status */
	int status;
};

/* Start argv[0] (a path, not searched in PATH) with argv. 0 or -errno;
 * an exec failure shows later as an exit status of 127. */
int bench_proc_spawn(struct bench_proc *p, const char *name, char *const argv[]);
/* true while the child runs (reaps it when it has exited). */
bool bench_proc_running(struct bench_proc *p);
/* SIGTERM, wait at most grace_ms, then SIGKILL. Returns 0 when the child
 * exited with status 0 (before or now), -ECHILD when it failed or died of
 * a signal, -ETIMEDOUT when it had to be killed. A never-started child
 * (pid 0) is ok. */
int bench_proc_stop(struct bench_proc *p, unsigned grace_ms);
/* "exit status 3", "signal 9" or "running": for error messages. */
const char *bench_proc_describe(const struct bench_proc *p, char *buf, size_t len);

#endif
