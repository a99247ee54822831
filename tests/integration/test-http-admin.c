/* sandbox-service's admin API (sandbox-service-API.md, "Admin API
 * Endpoints") and the admin page through the real sandbox-gateway and
 * sandboxd: every route's documented JSON shape, key for key and in order,
 * unknown ids, bad query values, wrong methods, force-stop of a running
 * execution, the docs generated from the route table, and the page's
 * headers. Sandboxes are made over RPC so that this test does not depend on
 * the /sandbox routes. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cleanup.h"
#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "rpcc.h"
#include "stack.h"
#include "testlib.h"

#define SANDBOX_SHAPE                                                                              \
	"id:s status:s runtime:s created_at:s uptime:n memory_mb:n cpu_percentage:n "              \
	"dev_server_url:%c allocated_port:%c is_persistent:b container_id:%c node:s"
#define STATUS_SHAPE                                                                               \
	"uptime:n active_sandboxes:i total_sandboxes_created:i backend_type:s version:s "          \
	"memory_usage:o cpu_usage:o nodes:a warm_pools:a partial:b"
#define USAGE_SHAPE "used:n total:n percentage:n"
#define RESOURCES_SHAPE "memory:o cpu:o disk:o network:o"
#define FORCE_STOP_SHAPE "success:b message:s"
#define DOC_SHAPE "method:s path:s description:s parameters:a example_request:%c example_response:%c"
#define PARAM_SHAPE "name:s param_type:s required:b description:s"
#define NO_SUCH_ID "00000000-0000-4000-8000-000000000000"

static struct th_stack st;

#define rpc(method, request, timeout_ms) th_rpc_json(st.rpc, (method), (request), (timeout_ms))

static const char *jstr(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
}

/* GET path: a 200 of `spec` (NULL: any object; caller decrefs), or NULL. */
static json_t *get(const char *path, const char *spec)
{
	struct th_resp r = {0};
	json_t *j;

	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	if (spec) {
		j = th_check_reply(&r, spec);
	} else {
		j = r.status == 200 ? th_json(&r) : NULL;
		CHECKF(json_is_object(j), "GET %s: %ld %s", path, r.status, r.body);
		if (!json_is_object(j)) {
			json_decref(j);
			j = NULL;
		}
	}
	if (!j)
		printf("  (GET %s)\n", path);
	th_resp_fini(&r);
	return j;
}

/* A 200 whose body is a JSON array (caller decrefs), or NULL. */
static json_t *get_array(const char *method, const char *path)
{
	struct th_resp r = {0};
	char ct[128];
	json_t *j;

	th_http(st.base, method, path, NULL, NULL, 0, &r);
	CHECKF(r.status == 200, "%s %s: %ld %s", method, path, r.status, r.body);
	CHECK_STR(th_header(&r, "Content-Type", ct, sizeof(ct)), "application/json");
	j = th_json(&r);
	CHECKF(json_is_array(j), "%s %s: not an array: %s", method, path, r.body);
	th_resp_fini(&r);
	if (!json_is_array(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

#define expect_error(method, path, status, want)                                                   \
	th_expect_error(st.base, (method), (path), NULL, (status), (want))

static bool shape(const json_t *j, const char *spec, const char *what)
{
	char why[256];
	bool ok = th_json_shape(j, spec, why, sizeof(why));

	CHECKF(ok, "%s: %s", what, why);
	return ok;
}

/* The sandbox object of the admin list and details: the optional keys are
 * null when unset (a oneshot sandbox without a dev server has none). */
static void check_sandbox(const json_t *j, const char *id)
{
	char spec[256];

	snprintf(spec, sizeof(spec), SANDBOX_SHAPE, 'z', 'z', 'z');
	if (!shape(j, spec, "admin sandbox"))
		return;
	CHECK_STR(jstr(j, "id"), id);
	CHECK_STR(jstr(j, "runtime"), "node");
	CHECK(strlen(jstr(j, "created_at")) >= 20);
	CHECK(json_number_value(json_object_get(j, "uptime")) >= 0);
	CHECK(json_number_value(json_object_get(j, "memory_mb")) >= 0);
	CHECK(json_number_value(json_object_get(j, "cpu_percentage")) >= 0);
	CHECK(json_is_false(json_object_get(j, "is_persistent")));
}

static void test_status(int min_active, int min_total)
{
	json_t *j = get("/admin/api/status", STATUS_SHAPE);
	json_t *mem, *cpu;

	if (!j)
		return;
	CHECK(json_number_value(json_object_get(j, "uptime")) >= 0);
	CHECK(json_integer_value(json_object_get(j, "active_sandboxes")) >= min_active);
	CHECK(json_integer_value(json_object_get(j, "total_sandboxes_created")) >= min_total);
	CHECK(json_integer_value(json_object_get(j, "total_sandboxes_created")) >=
	      json_integer_value(json_object_get(j, "active_sandboxes")));
	/* "Docker|Nsjail" in the document; this stack runs the native backend. */
	CHECK_STR(jstr(j, "backend_type"), "Native");
	CHECK_STR(jstr(j, "version"), SBX_VERSION);
	mem = json_object_get(j, "memory_usage");
	cpu = json_object_get(j, "cpu_usage");
	if (shape(mem, USAGE_SHAPE, "memory_usage")) {
		double used = json_number_value(json_object_get(mem, "used"));
		double total = json_number_value(json_object_get(mem, "total"));
		double pct = json_number_value(json_object_get(mem, "percentage"));

		CHECK(total > 0 && used > 0 && used <= total);
		CHECKF(pct > 0 && pct <= 100 && abs((int)(pct - used * 100 / total)) <= 1,
		       "memory %g of %g MB is not %g%%", used, total, pct);
	}
	if (shape(cpu, USAGE_SHAPE, "cpu_usage")) {
		double used = json_number_value(json_object_get(cpu, "used"));

		CHECK(json_number_value(json_object_get(cpu, "total")) == 100.0);
		CHECK(used >= 0 && used <= 100);
		CHECK(json_number_value(json_object_get(cpu, "percentage")) == used);
	}
	json_decref(j);
}

/* The host's part of the status, alone. */
static void test_host_resources(void)
{
	json_t *j = get("/admin/api/resources", "memory_usage:o cpu_usage:o");

	if (!j)
		return;
	if (shape(json_object_get(j, "memory_usage"), USAGE_SHAPE, "memory_usage"))
		CHECK(json_number_value(
			      json_object_get(json_object_get(j, "memory_usage"), "total")) > 0);
	shape(json_object_get(j, "cpu_usage"), USAGE_SHAPE, "cpu_usage");
	json_decref(j);
}

static void test_sandboxes(const char *id)
{
	json_t *list = get_array("GET", "/admin/api/sandboxes"), *j;
	char path[256];
	size_t i;
	bool found = false;

	json_array_foreach(list, i, j) {
		if (strcmp(jstr(j, "id"), id) != 0)
			continue;
		found = true;
		check_sandbox(j, id);
	}
	CHECKF(found, "sandbox %s is not in the admin list", id);
	json_decref(list);

	snprintf(path, sizeof(path), "/admin/api/sandboxes/%s", id);
	j = get(path, NULL);
	if (j)
		check_sandbox(j, id);
	json_decref(j);
	expect_error("GET", "/admin/api/sandboxes/" NO_SUCH_ID, 404, NO_SUCH_ID);
	expect_error("GET", "/admin/api/sandboxes/" NO_SUCH_ID "/resources", 404, NULL);
	expect_error("GET", "/admin/api/sandboxes/" NO_SUCH_ID "/logs", 404, NULL);
	expect_error("POST", "/admin/api/sandboxes/" NO_SUCH_ID "/force-stop", 404, NULL);
	expect_error("DELETE", "/admin/api/sandboxes", 405, "GET");
	expect_error("GET", "/admin/api/sandboxes/x/force-stop", 405, "POST");
	expect_error("POST", "/admin/api/status", 405, NULL);
	expect_error("GET", "/admin/api/nothing-here", 404, NULL);
}

static void test_resources(const char *id)
{
	char path[256];
	json_t *j, *m;

	snprintf(path, sizeof(path), "/admin/api/sandboxes/%s/resources", id);
	j = get(path, RESOURCES_SHAPE);
	if (!j)
		return;
	m = json_object_get(j, "memory");
	if (shape(m, "used:n limit:n percentage:n", "resources.memory"))
		CHECKF(json_number_value(json_object_get(m, "limit")) == 256,
		       "memory limit %g MB, want the default 256",
		       json_number_value(json_object_get(m, "limit")));
	shape(json_object_get(j, "cpu"), "percentage:n cores:n", "resources.cpu");
	shape(json_object_get(j, "disk"), "read_bytes:n write_bytes:n used:n limit:n percentage:n",
	      "resources.disk");
	shape(json_object_get(j, "network"), "bytes_in:n bytes_out:n", "resources.network");
	json_decref(j);
}

/* Each line {timestamp, level, message, sandbox_id}; at most `max`. */
static void check_log_lines(const json_t *a, size_t max, const char *sandbox_id)
{
	size_t i;
	json_t *l;

	CHECKF(json_array_size(a) <= max, "%zu log lines, asked for %zu", json_array_size(a), max);
	json_array_foreach(a, i, l) {
		const char *level = jstr(l, "level");
		char spec[128];

		snprintf(spec, sizeof(spec), "timestamp:s level:s message:s sandbox_id:%c",
			 json_is_string(json_object_get(l, "sandbox_id")) ? 's' : 'z');
		if (!shape(l, spec, "log line"))
			break;
		CHECKF(strcmp(level, "INFO") == 0 || strcmp(level, "WARN") == 0 ||
			       strcmp(level, "ERROR") == 0 || strcmp(level, "DEBUG") == 0,
		       "log level '%s'", level);
		if (sandbox_id)
			CHECK_STR(jstr(l, "sandbox_id"), sandbox_id);
	}
}

static void test_logs(const char *id)
{
	char path[256];
	json_t *a;

	a = get_array("GET", "/admin/api/logs?lines=3");
	if (a) {
		CHECKF(json_array_size(a) > 0, "the system log is empty");
		check_log_lines(a, 3, NULL);
	}
	json_decref(a);
	a = get_array("GET", "/admin/api/logs");
	if (a)
		check_log_lines(a, 100, NULL);
	json_decref(a);
	snprintf(path, sizeof(path), "/admin/api/sandboxes/%s/logs?lines=50", id);
	a = get_array("GET", path);
	if (a)
		check_log_lines(a, 50, id);
	json_decref(a);
	/* follow=true streams in a later version; now it is answered at once. */
	snprintf(path, sizeof(path), "/admin/api/sandboxes/%s/logs?lines=2&follow=false", id);
	a = get_array("GET", path);
	if (a)
		check_log_lines(a, 2, id);
	json_decref(a);
	expect_error("GET", "/admin/api/logs?lines=many", 400, "lines");
	expect_error("GET", "/admin/api/logs?lines=-1", 400, "lines");
}

static const char *status_of(const char *id, char *buf, size_t size)
{
	char path[256];
	json_t *j;

	snprintf(path, sizeof(path), "/admin/api/sandboxes/%s", id);
	j = get(path, NULL);
	snprintf(buf, size, "%s", jstr(j, "status"));
	json_decref(j);
	return buf;
}

/* Force stop of a running execution: the documented {success, message},
 * the execution ends long before its limit, the status is no longer
 * running and the sandbox stays listed. */
static void test_force_stop_running(void)
{
	struct th_bg_exec x = {.url = st.rpc, .timeout_ms = 90000};
	char path[256], status[64], why[256], request[128];
	struct th_resp r = {0};
	long long t0;
	json_t *sb, *j;
	const char *id;

	if (!th_sandboxes_possible(why, sizeof(why))) {
		printf("force-stop of a running execution not tested: %s\n", why);
		return;
	}
	sb = rpc("CreateSandbox",
		 "{\"runtime\": \"node\", \"timeout_ms\": 60000, \"code\": "
		 "\"setInterval(() => {}, 1000);\"}",
		 10000);
	id = jstr(sb, "id");
	CHECK(*id);
	if (!*id)
		goto out;
	snprintf(request, sizeof(request), "{\"id\": \"%s\"}", id);
	snprintf(x.id, sizeof(x.id), "%s", id);
	CHECK(th_bg_exec_start(&x) == 0);
	t0 = sbx_clock_mono_ms();
	while (strcmp(status_of(id, status, sizeof(status)), "running") != 0 &&
	       sbx_clock_mono_ms() - t0 < 15000)
		th_sleep_ms(100);
	CHECKF(strcmp(status, "running") == 0, "status '%s', want running", status);
	test_status(1, 2);
	test_resources(id);

	snprintf(path, sizeof(path), "/admin/api/sandboxes/%s/force-stop", id);
	t0 = sbx_clock_mono_ms();
	th_http(st.base, "POST", path, NULL, NULL, 0, &r);
	j = th_check_reply(&r, FORCE_STOP_SHAPE);
	th_resp_fini(&r);
	if (j) {
		CHECK(json_is_true(json_object_get(j, "success")));
		CHECK(*jstr(j, "message"));
	}
	json_decref(j);
	if (!th_bg_exec_join(&x, 15000)) {
		CHECKF(false, "the execution still runs after force-stop");
		json_decref(rpc("DeleteSandbox", request, 10000));
		th_bg_exec_join(&x, -1);
	} else {
		CHECKF(sbx_clock_mono_ms() - t0 < 10000, "force-stop took %lld ms",
		       sbx_clock_mono_ms() - t0);
		printf("force-stop: the execution ended %lld ms after the request: %s\n",
		       sbx_clock_mono_ms() - t0, x.rep.j ? jstr(x.rep.j, "error") : "(no reply)");
	}
	th_rep_fini(&x.rep);
	CHECKF(strcmp(status_of(id, status, sizeof(status)), "running") != 0, "status still '%s'",
	       status);
	/* Stopping what is stopped is no error. */
	th_http(st.base, "POST", path, NULL, NULL, 0, &r);
	json_decref(th_check_reply(&r, FORCE_STOP_SHAPE));
	th_resp_fini(&r);
	json_decref(rpc("DeleteSandbox", request, 10000));
out:
	json_decref(sb);
}

/* The seed's endpoints have both examples; the JSON ones parse. Routes the
 * table lacks (the proxy rows may be absent) are skipped. */
static void test_docs_examples(json_t *docs)
{
	static const char *const seed[][2] = {
		{"GET", "/health"},
		{"POST", "/sandbox"},
		{"GET", "/sandbox/{id}"},
		{"POST", "/sandbox/{id}/execute"},
		{"POST", "/sandbox/{id}/files"},
		{"GET", "/sandboxes"},
		{"DELETE", "/sandbox/{id}"},
		{"GET", "/admin/api/status"},
		{"GET", "/admin/api/sandboxes"},
		{"GET", "/admin/api/sandboxes/{id}"},
		{"GET", "/admin/api/sandboxes/{id}/logs"},
		{"POST", "/admin/api/sandboxes/{id}/force-stop"},
		{"GET", "/admin/api/sandboxes/{id}/resources"},
		{"GET", "/admin/api/logs"},
		{"GET", "/admin/api/docs"},
		{"POST", "/admin/api/test"},
		{"POST", "/faas/deploy"},
		{"GET", "/faas/deployments"},
		{"GET", "/faas/deployments/{id}"},
		{"PUT", "/faas/deployments/{id}/files"},
		{"DELETE", "/faas/deployments/{id}"},
		{NULL, "/faas/{id}/*"},
		{NULL, "/proxy/{id}/*"},
	};
	size_t i, k, found = 0;
	json_t *d;

	for (k = 0; k < SBX_ARRAY_SIZE(seed); k++) {
		json_array_foreach(docs, i, d) {
			const char *req = json_string_value(json_object_get(d, "example_request"));
			const char *resp = json_string_value(json_object_get(d, "example_response"));
			json_t *parsed;

			if ((seed[k][0] && strcmp(jstr(d, "method"), seed[k][0]) != 0) ||
			    strcmp(jstr(d, "path"), seed[k][1]) != 0)
				continue;
			found++;
			CHECKF(req && strncmp(req, "curl ", 5) == 0, "%s %s: example_request %s",
			       jstr(d, "method"), seed[k][1], req ? req : "null");
			CHECKF(resp && *resp, "%s %s: no example_response", jstr(d, "method"),
			       seed[k][1]);
			if (!resp || (*resp != '{' && *resp != '['))
				continue;
			parsed = json_loads(resp, 0, NULL);
			CHECKF(parsed != NULL, "%s %s: example_response is not JSON: %s",
			       jstr(d, "method"), seed[k][1], resp);
			json_decref(parsed);
		}
	}
	/* All but the proxy rows, which another change adds. */
	CHECKF(found >= SBX_ARRAY_SIZE(seed) - 2, "%zu of the seed's endpoints documented", found);
}

/* The docs list every row of the route table: the admin routes among them,
 * with their path parameter. */
static void test_docs(void)
{
	static const char *const want[][2] = {
		{"GET", "/health"},
		{"GET", "/admin"},
		{"GET", "/admin/api/status"},
		{"GET", "/admin/api/resources"},
		{"GET", "/admin/api/sandboxes"},
		{"GET", "/admin/api/sandboxes/{id}"},
		{"POST", "/admin/api/sandboxes/{id}/force-stop"},
		{"GET", "/admin/api/sandboxes/{id}/resources"},
		{"GET", "/admin/api/sandboxes/{id}/logs"},
		{"GET", "/admin/api/logs"},
		{"GET", "/admin/api/docs"},
		{"POST", "/admin/api/test"},
	};
	json_t *a = get_array("GET", "/admin/api/docs"), *d, *p;
	size_t i, k, n;

	if (!a)
		return;
	json_array_foreach(a, i, d) {
		char spec[128];

		/* The examples are strings where the table has them, else null. */
		snprintf(spec, sizeof(spec), DOC_SHAPE,
			 json_is_string(json_object_get(d, "example_request")) ? 's' : 'z',
			 json_is_string(json_object_get(d, "example_response")) ? 's' : 'z');
		if (!shape(d, spec, "docs entry"))
			break;
		json_array_foreach(json_object_get(d, "parameters"), k, p)
			shape(p, PARAM_SHAPE, "docs parameter");
	}
	test_docs_examples(a);
	for (k = 0; k < SBX_ARRAY_SIZE(want); k++) {
		bool found = false;

		json_array_foreach(a, i, d) {
			if (strcmp(jstr(d, "method"), want[k][0]) != 0 ||
			    strcmp(jstr(d, "path"), want[k][1]) != 0)
				continue;
			found = true;
			if (strstr(want[k][1], "{id}")) {
				p = json_array_get(json_object_get(d, "parameters"), 0);
				CHECK_STR(jstr(p, "name"), "id");
				CHECK_STR(jstr(p, "param_type"), "path");
				CHECK(json_is_true(json_object_get(p, "required")));
			}
			if (strcmp(want[k][1], "/admin/api/logs") == 0) {
				bool lines = false;

				json_array_foreach(json_object_get(d, "parameters"), n, p) {
					lines |= strcmp(jstr(p, "name"), "lines") == 0 &&
						 strcmp(jstr(p, "param_type"), "query") == 0;
				}
				CHECKF(lines, "GET /admin/api/logs documents no query 'lines'");
			}
			break;
		}
		CHECKF(found, "the docs lack %s %s", want[k][0], want[k][1]);
	}
	json_decref(a);
}

/* The page: HTML and its own files, cacheable only with revalidation. */
static void test_page(void)
{
	static const char *const paths[] = {"/admin", "/admin/"};
	char etag[128], inm[160], buf[256];
	struct th_resp r = {0};

	for (size_t i = 0; i < SBX_ARRAY_SIZE(paths); i++) {
		th_http(st.base, "GET", paths[i], NULL, NULL, 0, &r);
		CHECKF(r.status == 200, "GET %s: %ld", paths[i], r.status);
		CHECK_STR(th_header(&r, "Content-Type", buf, sizeof(buf)),
			  "text/html; charset=utf-8");
		CHECK_STR(th_header(&r, "Cache-Control", buf, sizeof(buf)), "no-cache");
		CHECK(th_header(&r, "Content-Security-Policy", buf, sizeof(buf)) != NULL);
		CHECK_STR(th_header(&r, "X-Content-Type-Options", buf, sizeof(buf)), "nosniff");
		CHECK(strncasecmp(r.body, "<!DOCTYPE html>", 15) == 0);
		CHECK(strstr(r.body, "<title>sandboxd admin</title>") != NULL);
		/* Nothing from elsewhere: no CDN, no remote script or style. */
		CHECK(strstr(r.body, "http://") == NULL && strstr(r.body, "https://") == NULL);
		/* Its script and style are files of the gateway, never inline. */
		CHECK(strstr(r.body, "<script src=\"/admin/assets/admin.js\">") != NULL);
		CHECK(strstr(r.body, "<script>") == NULL && strstr(r.body, "<style>") == NULL);
		CHECK(th_header(&r, "ETag", etag, sizeof(etag)) != NULL);
		th_resp_fini(&r);
	}
	th_http(st.base, "GET", "/admin/assets/admin.js", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(th_header(&r, "Content-Type", buf, sizeof(buf)), "text/javascript; charset=utf-8");
	CHECK(strstr(r.body, "/admin/api/") != NULL);
	CHECK(strstr(r.body, "http://") == NULL && strstr(r.body, "https://") == NULL);
	th_resp_fini(&r);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	th_http(st.base, "GET", "/admin", NULL, (const char *const[]){inm, NULL}, 0, &r);
	CHECK_INT(r.status, 304);
	CHECK_INT(r.len, 0);
	th_resp_fini(&r);
	th_http(st.base, "GET", "/admin", NULL,
		(const char *const[]){"If-None-Match: \"other\"", NULL}, 0, &r);
	CHECK_INT(r.status, 200);
	th_resp_fini(&r);
	expect_error("POST", "/admin", 405, "GET");
}

int main(void)
{
	json_t *sb;
	const char *id;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (th_stack_start(&st, "http-admin", NULL) < 0)
		TEST_DONE();
	test_page();
	test_docs();
	test_status(0, 0);
	test_host_resources();

	sb = rpc("CreateSandbox", "{\"runtime\": \"node\", \"code\": \"console.log(1)\"}", 10000);
	id = jstr(sb, "id");
	CHECK(*id);
	if (*id) {
		test_status(1, 1);
		test_sandboxes(id);
		test_resources(id);
		test_logs(id);
	}
	json_decref(sb);
	test_force_stop_running();
	th_stack_stop(&st);
	TEST_DONE();
}
