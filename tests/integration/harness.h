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

/* Print every log file given to th_spawn (call when tests failed). */
void th_dump_logs(void);

/* Remove a directory tree (the test's temporary directory). */
void th_rmtree(const char *dir);

#endif
