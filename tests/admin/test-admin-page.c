/* The admin page in a real headless Chromium: a sandboxd and a
 * sandbox-gateway (tests/integration/stack.h), one sandbox running a
 * never-ending program, then tests/admin/admin-page.mjs drives Chromium
 * through /admin — list, resources, Force stop — and saves a screenshot.
 * Afterwards the execution must have ended: the page's button really
 * stopped the process. Skips (77) without node or Chromium. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "harness.h"
#include "json_pb.h"
#include "methods.h"
#include "sandbox.h"
#include "stack.h"
#include "testlib.h"

static struct th_stack st;

/* method(JSON request) over RPC; the reply as JSON (caller decrefs), or
 * NULL with the status printed. */
static json_t *rpc(const char *method, const char *request, unsigned timeout_ms)
{
	struct sbx_client_opts o = {
		.rpc_url = st.rpc, .timeout_ms = timeout_ms, .connect_wait_ms = 10000};
	const sbx_method *m = sbx_method_find(method);
	json_t *in = json_loads(request, 0, NULL), *out = NULL;
	ProtobufCMessage *req = NULL;
	struct sbx_client *c = NULL;
	struct sbx_reply r = {0};
	char err[256];
	int e;

	if (!m || !in || jpb_from_json(m->input, in, NULL, &req, err, sizeof(err)) < 0) {
		printf("  bad test request %s %s\n", method, request);
		json_decref(in);
		return NULL;
	}
	json_decref(in);
	e = sbx_client_open(&o, &c);
	if (e == 0)
		e = sbx_call(c, method, req, 0, &r);
	if (e < 0)
		printf("  %s: %s\n", method, strerror(-e));
	else if (!r.msg)
		printf("  %s: status %d: %s\n", method, r.status, r.message ? r.message : "");
	else
		out = jpb_to_json(r.msg, NULL);
	sbx_reply_fini(&r);
	sbx_client_close(c);
	protobuf_c_message_free_unpacked(req, NULL);
	return out;
}

static const char *jstr(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
}

struct exec_run {
	char request[128];
	json_t *reply;
};

/* The long execution: returns when the sandbox's program is killed. */
static void *exec_thread(void *arg)
{
	struct exec_run *x = arg;

	x->reply = rpc("ExecuteSandbox", x->request, 90000);
	return NULL;
}

/* The sandbox's status, polled until it is `want` or timeout_ms passed. */
static bool wait_status(const char *id, const char *want, bool equal, int timeout_ms)
{
	char req[128];
	long long until = sbx_clock_mono_ms() + timeout_ms;

	snprintf(req, sizeof(req), "{\"id\": \"%s\"}", id);
	do {
		json_t *j = rpc("GetSandbox", req, 5000);
		bool hit = j && (strcmp(jstr(j, "status"), want) == 0) == equal;

		json_decref(j);
		if (hit)
			return true;
		th_sleep_ms(100);
	} while (sbx_clock_mono_ms() < until);
	return false;
}

/* node admin-page.mjs BASE ID OUT; its exit status, or -1. */
static int run_driver(const char *driver, const char *id, const char *out_dir)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("node", "node", driver, st.base, id, out_dir, (char *)NULL);
		printf("SKIP: cannot run node: %s\n", strerror(errno));
		_exit(77);
	}
	if (th_wait(pid, 75000, &status) < 0) {
		printf("  the browser driver did not finish in 75 s\n");
		th_stop(pid, SIGKILL, 5000);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(void)
{
	const char *src = getenv("SBX_SOURCE_DIR"), *out = getenv("SBX_TEST_OUT_DIR");
	char driver[1024], why[256], req[256];
	struct exec_run x = {0};
	bool running = false;
	pthread_t thread;
	const char *id;
	json_t *sb;
	int rc;

	/* Ordered with the driver's output, and nothing left to duplicate
	 * in the forked child. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/usr/bin/chromium", X_OK) != 0 && !getenv("CHROMIUM"))
		SKIP("/usr/bin/chromium is not installed (Debian package chromium, "
		     "scripts/deps.sh)");
	if (system("node --version >/dev/null 2>&1") != 0)
		SKIP("node is not installed");
	snprintf(driver, sizeof(driver), "%s/tests/admin/admin-page.mjs", src ? src : ".");
	if (access(driver, R_OK) != 0)
		SKIP("%s not found (set SBX_SOURCE_DIR)", driver);
	out = out ? out : "admin-page-output";

	if (th_stack_start(&st, "admin-page", NULL) < 0)
		TEST_DONE();
	sb = rpc("CreateSandbox",
		 "{\"runtime\": \"node\", \"timeout_ms\": 45000, \"code\": "
		 "\"console.log('up'); setInterval(() => {}, 1000);\"}",
		 10000);
	CHECK(sb != NULL);
	id = jstr(sb, "id");
	if (!*id)
		goto out;
	printf("sandbox %s\n", id);

	/* A running sandbox shows Force stop at its best; without namespaces
	 * the page still lists and stops a created one. */
	if (th_sandboxes_possible(why, sizeof(why))) {
		snprintf(x.request, sizeof(x.request), "{\"id\": \"%s\"}", id);
		CHECK(pthread_create(&thread, NULL, exec_thread, &x) == 0);
		running = wait_status(id, "running", true, 15000);
		CHECKF(running, "sandbox %s never showed status running", id);
	} else {
		printf("no running execution: %s\n", why);
	}

	rc = run_driver(driver, id, out);
	if (rc == 77) {
		/* Chromium cannot start here: the driver said why. */
		if (x.request[0]) {
			snprintf(req, sizeof(req), "{\"id\": \"%s\"}", id);
			json_decref(rpc("DeleteSandbox", req, 10000));
			pthread_join(thread, NULL);
			json_decref(x.reply);
		}
		json_decref(sb);
		th_stack_stop(&st);
		exit(77);
	}
	CHECKF(rc == 0, "the browser driver failed (exit %d)", rc);

	if (x.request[0]) {
		struct timespec until;

		/* Force stop must have ended the execution, well before its
		 * 45 s limit. */
		until = sbx_clock_deadline(CLOCK_REALTIME, 15000);
		if (pthread_timedjoin_np(thread, NULL, &until) == 0) {
			CHECK(wait_status(id, "running", false, 5000));
		} else {
			CHECKF(false, "the execution still runs after Force stop");
			snprintf(req, sizeof(req), "{\"id\": \"%s\"}", id);
			json_decref(rpc("DeleteSandbox", req, 10000));
			pthread_join(thread, NULL);
		}
		json_decref(x.reply);
	}
out:
	json_decref(sb);
	th_stack_stop(&st);
	TEST_DONE();
}
