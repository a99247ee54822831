/* A sandboxd and a sandbox-gateway for one integration test: a temporary
 * directory for their ipc sockets, state and logs, a free loopback port,
 * both started through harness.h (so killed with the test) and stopped by
 * th_stack_stop. Several stacks may run in one test. */
#ifndef SBX_TEST_STACK_H
#define SBX_TEST_STACK_H

#include <stdbool.h>
#include <sys/types.h>

struct th_stack {
	char *dir;
	char rpc[256], events[256], state[256], daemon_log[256], gw_log[256];
	char listen[64];
	char base[64]; /* "http://127.0.0.1:PORT", for th_http */
	pid_t daemon, gw;
};

/* Start both, with extra daemon arguments (NULL-terminated list or NULL),
 * and wait (bounded) until the gateway answers GET /health with 200.
 * Returns 0, or -1 after recording a test failure and printing the logs. */
int th_stack_start(struct th_stack *s, const char *name, const char *const daemon_args[]);

/* SIGTERM both (bounded waits), remove the directory unless SBX_KEEP_TMP
 * is set, and print the logs first when any test failed. */
void th_stack_stop(struct th_stack *s);

/* Can this kernel give sandboxd its namespaces? Probed in a child: user,
 * mount and pid namespaces. When false, `why` says what failed. */
bool th_sandboxes_possible(char *why, size_t whylen);
/* SKIP (exit 77) with the reason unless th_sandboxes_possible. */
void th_require_sandboxes(void);

#endif
