/* The admin page in a real headless Chromium: a sandboxd and a
 * sandbox-gateway (tests/integration/stack.h), one sandbox running a
 * never-ending program, a session, a deployment and an execution with
 * output, then tests/admin/admin-page.mjs drives Chromium through /admin —
 * every panel, the live log of a session run, the load charts, resources,
 * Force stop — and saves screenshots. Afterwards the execution must have
 * ended: the page's button really stopped the process. Without namespaces
 * only the sandbox is made (nothing could run). Skips (77) without node or
 * Chromium. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "driver.h"
#include "harness.h"
#include "httpc.h"
#include "rpcc.h"
#include "stack.h"
#include "testlib.h"

static struct th_stack st;

#define rpc(method, request, timeout_ms) th_rpc_json(st.rpc, (method), (request), (timeout_ms))

static const char *jstr(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
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

/* POST base+path with body; the reply's string `key` into ret[size] ("-"
 * when there is none). */
static void make(const char *path, const char *body, const char *key, char *ret, size_t size)
{
	struct th_resp r = {0};
	json_t *j;

	th_http(st.base, "POST", path, body, NULL, 60000, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && j, "POST %s: %ld %s", path, r.status, r.body);
	snprintf(ret, size, "%s", *jstr(j, key) ? jstr(j, key) : "-");
	printf("%s: %s %s\n", path, key, ret);
	json_decref(j);
	th_resp_fini(&r);
}

/* A session, a deployment (scaled to zero when idle) and an execution
 * that prints to stdout and stderr. */
static void make_objects(char *session, char *deployment, char *execution, size_t size)
{
	make("/sessions", "{\"language\": \"python\"}", "session_id", session, size);
	make("/faas/deploy",
	     "{\"runtime\": \"node\", \"entry_point\": \"server.js\", \"auto_scale\": "
	     "{\"min_instances\": 0}, \"code\": \"console.log('deployment up'); "
	     "require('http').createServer((q, s) => s.end('hi')).listen(3000)\"}",
	     "deployment_id", deployment, size);
	make("/api/v1/execute",
	     "{\"language\": \"python\", \"code\": \"import sys\\nprint('admin-page-output')\\n"
	     "print('admin-page-stderr', file=sys.stderr)\"}",
	     "execution_id", execution, size);
}

static void delete_objects(const char *session, const char *deployment)
{
	char path[160];
	struct th_resp r = {0};

	if (strcmp(deployment, "-") != 0) {
		snprintf(path, sizeof(path), "/faas/deployments/%s", deployment);
		th_http(st.base, "DELETE", path, NULL, NULL, 30000, &r);
		CHECKF(r.status == 204, "DELETE %s: %ld", path, r.status);
		th_resp_fini(&r);
	}
	if (strcmp(session, "-") != 0) {
		snprintf(path, sizeof(path), "/sessions/%s", session);
		th_http(st.base, "DELETE", path, NULL, NULL, 30000, &r);
		th_resp_fini(&r);
	}
}

int main(void)
{
	const char *out = getenv("SBX_TEST_OUT_DIR");
	char driver[1024], why[256], req[256];
	char session[64] = "-", deployment[64] = "-", execution[64] = "-";
	struct th_bg_exec x = {.timeout_ms = 90000};
	bool running = false;
	const char *id;
	json_t *sb;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ta_require_driver("admin-page.mjs", driver, sizeof(driver));
	out = out ? out : "admin-page-output";

	/* Two pre-built sandboxes: the page shows the pool's table. */
	if (th_stack_start(&st, "admin-page", (const char *const[]){"--warm-pool", "2", NULL}) < 0)
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
		x.url = st.rpc;
		snprintf(x.id, sizeof(x.id), "%s", id);
		CHECK(th_bg_exec_start(&x) == 0);
		running = wait_status(id, "running", true, 15000);
		CHECKF(running, "sandbox %s never showed status running", id);
		make_objects(session, deployment, execution, sizeof(session));
	} else {
		printf("no running execution: %s\n", why);
	}

	rc = th_run_node(driver,
			   (const char *const[]){st.base, id, session, deployment, execution, out,
						 NULL},
			   90000);
	delete_objects(session, deployment);
	if (rc == 77) {
		/* Chromium cannot start here: the driver said why. */
		if (x.id[0]) {
			snprintf(req, sizeof(req), "{\"id\": \"%s\"}", id);
			json_decref(rpc("DeleteSandbox", req, 10000));
			th_bg_exec_join(&x, -1);
			th_rep_fini(&x.rep);
		}
		json_decref(sb);
		th_stack_stop(&st);
		exit(77);
	}
	CHECKF(rc == 0, "the browser driver failed (exit %d)", rc);

	if (x.id[0]) {
		/* Force stop must have ended the execution, well before its
		 * 45 s limit. */
		if (th_bg_exec_join(&x, 15000)) {
			CHECK(wait_status(id, "running", false, 5000));
		} else {
			CHECKF(false, "the execution still runs after Force stop");
			snprintf(req, sizeof(req), "{\"id\": \"%s\"}", id);
			json_decref(rpc("DeleteSandbox", req, 10000));
			th_bg_exec_join(&x, -1);
		}
		th_rep_fini(&x.rep);
	}
out:
	json_decref(sb);
	th_stack_stop(&st);
	TEST_DONE();
}
