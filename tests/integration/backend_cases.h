/* The shared run/execute/limit checks of the isolation backends
 * (backend_cases.c). Set bc_daemon to a started sandboxd first. */
#ifndef SBX_TEST_BACKEND_CASES_H
#define SBX_TEST_BACKEND_CASES_H

#include <jansson.h>
#include <stdbool.h>

#include "harness.h"

extern struct th_daemon *bc_daemon;

/* Call method with a JSON request; the reply as JSON (NULL on a non-OK
 * status, which is stored in *ret_status). */
json_t *bc_call(const char *method, int *ret_status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A string / integer member of j ("" / 0 when absent). */
const char *bc_s(json_t *j, const char *k);
long long bc_i(json_t *j, const char *k);
/* Run a request (RPC Run or Execute) and check status and exit code
 * (-999: any). */
json_t *bc_expect(const char *method, const char *status, int exit_code, const char *req);

/* echo, exit code, stdin, env, files and cwd, missing program, non-root
 * read-only root, no network. */
void bc_check_run(void);
/* python, node, bash through Execute. */
void bc_check_execute(void);
/* wall and CPU time, memory, output cap, file size, pids. */
void bc_check_limits(void);
/* A session keeps its files between runs. */
void bc_check_session(void);
/* Accounting: CPU time and peak memory (a backend that reports them), a
 * real SIGSEGV. */
void bc_check_accounting(void);
/* The runner backends' rlimits reach the program exactly (docker raises a
 * small nofile: its runc needs more). */
void bc_check_exact_rlimits(void);
/* A wall-time kill takes background children, the root is native's view,
 * only loopback works (ask_network: and a request for the network is
 * refused: NETWORK_MODE none). */
void bc_check_containment(bool ask_network);
/* Start bc_daemon (initialised) with args and check that Health names
 * `backend`; false (the daemon finished) when it does not answer. */
bool bc_backend_up(const char *backend, const char *const args[]);

#endif
