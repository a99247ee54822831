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

#endif
