/* RPCs to the real sandboxd for integration tests: a request written as
 * JSON (printf-style), mapped onto the method's input by the one mapper as
 * the gateway and sandboxctl do, sent through libsandbox on a client of
 * its own, the reply kept as JSON. */
#ifndef SBX_TEST_RPCC_H
#define SBX_TEST_RPCC_H

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness.h"
#include "status.h"
#include "testlib.h"

/* One call's outcome; th_rep_fini releases it. */
struct th_rep {
	int status;    /* the reply's SBX_* status; -1: no reply (see err) */
	int err;       /* 0, or the negative errno of connecting or calling */
	char msg[512]; /* the reply's sentence */
	json_t *j;     /* the reply message as JSON, when the reply has one */
};

/* method(fmt, ...) on the daemon at url, waiting up to timeout_ms (and up
 * to 10 s for the daemon to accept the connection). A request that is no
 * JSON or does not map onto the method's input is printed and answered
 * with status -1. */
struct th_rep th_rpc(const char *url, unsigned timeout_ms, const char *method, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct th_rep th_vrpc(const char *url, unsigned timeout_ms, const char *method, const char *fmt,
		      va_list ap) __attribute__((format(printf, 4, 0)));
void th_rep_fini(struct th_rep *r);

/* r's JSON reply: j[key]; as a string ("" when not one); as an integer
 * (-12345 when not one); true only when it is true. */
json_t *th_rep_get(const struct th_rep *r, const char *key);
const char *th_rep_str(const struct th_rep *r, const char *key);
long long th_rep_int(const struct th_rep *r, const char *key);
bool th_rep_bool(const struct th_rep *r, const char *key);

/* CHECK that rep has status want, naming both and the reply's sentence. */
#define TH_CHECK_STATUS(rep, want)                                                                 \
	CHECKF((rep).status == (want), "status %s, want %s (%s)", sbx_status_name((rep).status),   \
	       sbx_status_name(want), (rep).msg)

/* method(request) on url: the reply as JSON (caller decrefs), or NULL with
 * the reason printed (the errno of the call, or the status and sentence of
 * a reply without a message). */
json_t *th_rpc_json(const char *url, const char *method, const char *request, unsigned timeout_ms);

/* Health answered OK by the daemon d started; when it did not and the
 * daemon has exited, print its log and SKIP (the kernel refused what it
 * needs: namespaces, cgroups). */
void th_daemon_up_or_skip(const struct th_daemon *d);

/* ExecuteSandbox of one sandbox on a thread of its own, for tests that
 * act on the execution (delete, force-stop, kill the daemon) meanwhile. */
struct th_bg_exec {
	const char *url;     /* the daemon */
	unsigned timeout_ms; /* 0: 60 s */
	char id[64];	     /* the sandbox */
	pthread_t thread;
	struct th_rep rep; /* the call's outcome, once joined */
	int64_t ended_ms;  /* sbx_clock_mono_ms() when the call returned */
};

/* Start the call; 0 or -errno (the thread could not be made). */
int th_bg_exec_start(struct th_bg_exec *b);
/* Wait for the call to return: timeout_ms < 0 without a bound. True when
 * it returned; false when it still runs (join again later). */
bool th_bg_exec_join(struct th_bg_exec *b, int timeout_ms);

#endif
