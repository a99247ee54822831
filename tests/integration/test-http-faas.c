/* FaaS deployments and persistent sandboxes (sandbox-service-API.md,
 * "FaaS/Serverless API", "Proxy Endpoints", "Persistent Node.js Server")
 * through the real sandboxd and sandbox-gateway: deploy, list, get,
 * update files (hot reload changes the answer), undeploy (204, then 404);
 * requests proxied to the service on port 3000 of the sandbox's own
 * loopback; scale to zero and wake; a restart of sandboxd (kill -9) brings
 * a deployment back; the service cannot reach the host; a service that
 * exits answers 502 and one that never listens 504; bad input per route.
 * The seed's own example (bun + express, installed from the npm registry
 * at deploy time) runs when the registry is reachable and says so when it
 * is not. */
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

#define DEPLOY_SHAPE                                                                               \
	"deployment_id:s url:s sandbox_id:s status:s created_at:s runtime:s memory_mb:i node:s"

static struct th_stack st;

/* A node web server with no dependencies: answers {"v": VERSION, "path"}
 * and, on /probe, whether it can reach the host's gateway port. */
static const char node_server[] =
	"const http = require('http'); const net = require('net');"
	"const V = process.env.V || 'one';"
	"http.createServer((q, s) => {"
	"  if (q.url === '/probe') {"
	"    const c = net.connect(Number(process.env.GW_PORT), '127.0.0.1');"
	"    c.on('connect', () => { s.end('reached'); c.destroy(); });"
	"    c.on('error', e => s.end('blocked ' + e.code));"
	"    return;"
	"  }"
	"  let n = 0; q.on('data', d => n += d.length);"
	"  q.on('end', () => { s.setHeader('content-type', 'application/json');"
	"    s.end(JSON.stringify({v: V, path: q.url, method: q.method, got: n})); });"
	"}).listen(3000, '127.0.0.1', () => console.log('listening'));";

/* POST /faas/deploy; the new id in id ("" on failure). */
static json_t *deploy(const char *body, char *id, size_t idlen)
{
	struct th_resp r = {0};
	json_t *j;

	id[0] = '\0';
	th_http(st.base, "POST", "/faas/deploy", body, NULL, 120000, &r);
	j = th_check_reply(&r, DEPLOY_SHAPE);
	if (j)
		snprintf(id, idlen, "%s", th_str(j, "deployment_id"));
	else
		printf("  (request was %.300s)\n", body);
	th_resp_fini(&r);
	return j;
}

static char *node_deploy_body(const char *extra)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "runtime", "node", "code",
			      node_server, "entry_point", "server.js", "env_vars", "V", "one",
			      "GW_PORT", strrchr(st.listen, ':') + 1);
	char *txt;

	if (extra) {
		json_t *e = json_loads(extra, 0, NULL);

		json_object_update(b, e);
		json_decref(e);
	}
	txt = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return txt;
}

/* GET base+path until 200 or timeout; the last response's body parsed. */
static json_t *get_json(const char *path, long want, long timeout_ms)
{
	struct th_resp r = {0};
	json_t *j = NULL;

	th_http(st.base, "GET", path, NULL, NULL, timeout_ms, &r);
	CHECKF(r.status == want, "GET %s: %ld %.300s", path, r.status, r.body);
	if (r.status == want)
		j = th_json(&r);
	th_resp_fini(&r);
	return j;
}

static const char *deployment_status(const char *id, char *buf, size_t len)
{
	char path[160];
	json_t *j;

	snprintf(path, sizeof(path), "/faas/deployments/%s", id);
	j = get_json(path, 200, 0);
	snprintf(buf, len, "%s", j ? th_str(j, "status") : "(none)");
	json_decref(j);
	return buf;
}

/* Deploy, list, get, proxy (path, query, body), hot reload, undeploy. */
static void test_lifecycle(void)
{
	_cleanup_free_ char *body = node_deploy_body(NULL);
	char id[64], path[200], buf[32];
	struct th_resp r = {0};
	json_t *j = deploy(body, id, sizeof(id)), *l;
	size_t i;
	bool found = false;

	if (!j)
		return;
	CHECK_STR(th_str(j, "status"), "Running");
	CHECK_STR(th_str(j, "runtime"), "node");
	CHECK(json_integer_value(json_object_get(j, "memory_mb")) == 256);
	snprintf(path, sizeof(path), "/faas/%s/", id);
	CHECKF(strcmp(th_str(j, "url"), path) == 0, "url %s", th_str(j, "url"));
	json_decref(j);

	l = get_json("/faas/deployments", 200, 0);
	for (i = 0; l && i < json_array_size(l); i++) {
		char why[256];

		CHECKF(th_json_shape(json_array_get(l, i), DEPLOY_SHAPE, why, sizeof(why)), "%s",
		       why);
		found |= strcmp(th_str(json_array_get(l, i), "deployment_id"), id) == 0;
	}
	CHECKF(found, "deployment %s not listed", id);
	json_decref(l);
	CHECK_STR(deployment_status(id, buf, sizeof(buf)), "Running");

	/* Through the proxy: path and query intact, a body upstream. */
	snprintf(path, sizeof(path), "/faas/%s/api/status?x=1&y=two", id);
	j = get_json(path, 200, 30000);
	if (j) {
		CHECK_STR(th_str(j, "v"), "one");
		CHECK_STR(th_str(j, "path"), "/api/status?x=1&y=two");
	}
	json_decref(j);
	snprintf(path, sizeof(path), "/faas/%s/echo", id);
	th_http(st.base, "POST", path, "0123456789", NULL, 30000, &r);
	CHECKF(r.status == 200 && strstr(r.body, "\"got\":10") && strstr(r.body, "\"POST\""),
	       "POST through the proxy: %ld %.300s", r.status, r.body);
	/* 50 MB upstream, through the gateway and the daemon's forwarder into
	 * the sandbox (the gateway's buffering is test-proxy.c's business). */
	{
		size_t big = 50u << 20;
		char *body = malloc(big + 1);

		if (body) {
			memset(body, 'x', big);
			body[big] = '\0';
			th_resp_fini(&r);
			th_http(st.base, "POST", path, body, NULL, 120000, &r);
			CHECKF(r.status == 200 && strstr(r.body, "\"got\":52428800"),
			       "50 MB through the proxy: %ld %.300s", r.status, r.body);
			printf("50 MB POST through /faas/{id}/: %ld %.80s\n", r.status, r.body);
			free(body);
		}
	}

	/* Hot reload: new code, restart, new answer. */
	snprintf(path, sizeof(path), "/faas/deployments/%s/files", id);
	th_http(st.base, "PUT", path,
		"{\"files\": [{\"path\": \"server.js\", \"content\": \"require('http')."
		"createServer((q, s) => s.end(JSON.stringify({v: 'two', path: q.url})))."
		"listen(3000)\"}]}",
		NULL, 60000, &r);
	CHECKF(r.status == 200, "PUT files: %ld %.300s", r.status, r.body);
	snprintf(path, sizeof(path), "/faas/%s/", id);
	j = get_json(path, 200, 30000);
	if (j)
		CHECK_STR(th_str(j, "v"), "two");
	json_decref(j);

	snprintf(path, sizeof(path), "/faas/deployments/%s", id);
	th_http(st.base, "DELETE", path, NULL, NULL, 30000, &r);
	CHECKF(r.status == 204 && r.len == 0, "DELETE: %ld %.200s", r.status, r.body);
	th_expect_error(st.base, "DELETE", path, NULL, 404, "not found");
	th_expect_error(st.base, "GET", path, NULL, 404, "not found");
	snprintf(path, sizeof(path), "/faas/%s/", id);
	th_expect_error(st.base, "GET", path, NULL, 404, "not found");
	th_resp_fini(&r);
}

/* min_instances 0: stopped when idle, started again by the next request,
 * which waits for the port and then succeeds. */
static void test_scale_to_zero(void)
{
	_cleanup_free_ char *body =
		node_deploy_body("{\"auto_scale\": {\"min_instances\": 0, \"max_instances\": 2, "
				 "\"scale_down_after_seconds\": 2}}");
	char id[64], path[200], buf[32];
	json_t *j = deploy(body, id, sizeof(id));
	long long until;

	if (!j)
		return;
	json_decref(j);
	until = sbx_clock_mono_ms() + 20000;
	while (strcmp(deployment_status(id, buf, sizeof(buf)), "Stopped") != 0 &&
	       sbx_clock_mono_ms() < until)
		th_sleep_ms(200);
	CHECKF(strcmp(buf, "Stopped") == 0, "status %s after 20 s idle", buf);
	snprintf(path, sizeof(path), "/faas/%s/woken", id);
	j = get_json(path, 200, 30000);
	if (j)
		CHECK_STR(th_str(j, "path"), "/woken");
	json_decref(j);
	CHECK_STR(deployment_status(id, buf, sizeof(buf)), "Running");
	snprintf(path, sizeof(path), "/faas/deployments/%s", id);
	th_expect_error(st.base, "DELETE", "/faas/deployments/no-such-id", NULL, 404, "not found");
	{
		struct th_resp r = {0};

		th_http(st.base, "DELETE", path, NULL, NULL, 30000, &r);
		CHECKF(r.status == 204, "DELETE: %ld", r.status);
		th_resp_fini(&r);
	}
}

/* The service has its own loopback: the gateway's port on the host is out
 * of reach. */
static void test_isolation(const char *id)
{
	char path[200];
	struct th_resp r = {0};

	snprintf(path, sizeof(path), "/faas/%s/probe", id);
	th_http(st.base, "GET", path, NULL, NULL, 30000, &r);
	CHECKF(r.status == 200 && strncmp(r.body, "blocked ECONNREFUSED", 20) == 0,
	       "the service reached the host's gateway port: %ld %.200s", r.status, r.body);
	th_resp_fini(&r);
}

/* kill -9 sandboxd, start it on the same state: the deployment answers. */
static void test_restart(void)
{
	const char *dargs[] = {"--rpc",
			       st.rpc,
			       "--events",
			       st.events,
			       "--state-dir",
			       st.state,
			       "--cleanup-interval",
			       "1",
			       "--ready-timeout-ms",
			       "3000",
			       NULL};
	_cleanup_free_ char *body = node_deploy_body(NULL);
	char id[64], path[200];
	json_t *j = deploy(body, id, sizeof(id));
	int status;

	if (!j)
		return;
	json_decref(j);
	test_isolation(id);
	CHECK(kill(st.daemon, SIGKILL) == 0);
	CHECK(th_wait(st.daemon, 10000, &status) == 0);
	st.daemon = th_spawn("sandboxd", dargs, st.daemon_log);
	CHECK(st.daemon > 0);
	snprintf(path, sizeof(path), "/faas/%s/after-restart", id);
	for (long long until = sbx_clock_mono_ms() + 30000; sbx_clock_mono_ms() < until;
	     th_sleep_ms(200)) {
		struct th_resp r = {0};

		th_http(st.base, "GET", path, NULL, NULL, 5000, &r);
		status = (int)r.status;
		th_resp_fini(&r);
		if (status == 200)
			break;
	}
	j = get_json(path, 200, 30000);
	if (j)
		CHECK_STR(th_str(j, "path"), "/after-restart");
	json_decref(j);
}

/* A service that exits is "down" (502); one that never listens times out
 * (504, after the daemon's ready timeout of 3 s here). */
static void test_down(void)
{
	char id[64], path[200];
	json_t *j;

	j = deploy("{\"runtime\": \"node\", \"code\": \"console.log('bye'); process.exit(3)\"}", id,
		   sizeof(id));
	json_decref(j);
	if (*id) {
		snprintf(path, sizeof(path), "/faas/%s/", id);
		th_expect_error(st.base, "GET", path, NULL, 502, "exited with code 3");
	}
	j = deploy("{\"runtime\": \"node\", \"code\": \"setInterval(() => {}, 1000)\"}", id,
		   sizeof(id));
	if (j)
		CHECK_STR(th_str(j, "status"), "Starting");
	json_decref(j);
	if (*id) {
		snprintf(path, sizeof(path), "/faas/%s/", id);
		th_expect_error(st.base, "GET", path, NULL, 504, "in time");
	}
}

/* "Persistent Node.js Server" as written, reached at /proxy/{id}/. */
static void test_persistent_sandbox(void)
{
	struct th_resp r = {0};
	char id[64] = "", path[200];
	json_t *j;

	th_http(st.base, "POST", "/sandbox",
		"{\n"
		"    \"runtime\": \"node\",\n"
		"    \"code\": \"const http = require(\\\"http\\\"); const server = "
		"http.createServer((req, res) => { res.writeHead(200, {\\\"Content-Type\\\": "
		"\\\"text/plain\\\"}); res.end(\\\"Hello from sandbox!\\\"); }); "
		"server.listen(3000, "
		"() => console.log(\\\"Server running on port 3000\\\"));\",\n"
		"    \"mode\": \"persistent\",\n"
		"    \"dev_server\": true,\n"
		"    \"timeout_ms\": 300000\n"
		"  }",
		NULL, 0, &r);
	j = th_check_reply(
		&r, "id:s status:s runtime:s created_at:s timeout_ms:i memory_limit_mb:i node:s");
	if (j) {
		snprintf(id, sizeof(id), "%s", th_str(j, "id"));
		CHECK_STR(th_str(j, "status"), "running");
	}
	json_decref(j);
	if (!*id)
		return;
	snprintf(path, sizeof(path), "/proxy/%s/", id);
	th_http(st.base, "GET", path, NULL, NULL, 30000, &r);
	CHECKF(r.status == 200 && strcmp(r.body, "Hello from sandbox!") == 0, "%ld '%.200s'",
	       r.status, r.body);
	snprintf(path, sizeof(path), "/sandbox/%s", id);
	th_http(st.base, "DELETE", path, NULL, NULL, 30000, &r);
	CHECKF(r.status == 204, "DELETE: %ld", r.status);
	snprintf(path, sizeof(path), "/proxy/%s/", id);
	th_expect_error(st.base, "GET", path, NULL, 404, "not found");
	th_resp_fini(&r);
}

static void test_bad_input(void)
{
	th_expect_error(st.base, "POST", "/faas/deploy", "{\"runtime\": \"node\"", 400, NULL);
	th_expect_error(st.base, "POST", "/faas/deploy", "{}", 400, "runtime");
	th_expect_error(st.base, "POST", "/faas/deploy", "{\"runtime\": 3, \"code\": \"x\"}", 400,
			"runtime");
	th_expect_error(st.base, "POST", "/faas/deploy",
			"{\"runtime\": \"brainfuck\", \"code\": \"x\"}", 400, "unsupported runtime");
	th_expect_error(st.base, "POST", "/faas/deploy",
			"{\"runtime\": \"node\", \"code\": \"x\", \"files\": [{\"path\": "
			"\"../escape.js\", \"content\": \"x\"}]}",
			400, "..");
	th_expect_error(st.base, "POST", "/faas/deploy",
			"{\"runtime\": \"node\", \"code\": \"x\", \"memory_limit_mb\": 99999999}",
			400, "memory_limit_mb");
	th_expect_error(
		st.base, "POST", "/faas/deploy",
		"{\"runtime\": \"node\", \"code\": \"x\", \"auto_scale\": {\"min_instances\": 3, "
		"\"max_instances\": 1}}",
		400, "max_instances");
	th_expect_error(st.base, "PUT", "/faas/deployments/nope/files",
			"{\"files\": [{\"path\": \"a.js\", \"content\": \"x\"}]}", 404,
			"not found");
	th_expect_error(st.base, "GET", "/faas/deployments/nope", NULL, 404, "not found");
	th_expect_error(st.base, "GET", "/faas/nope/", NULL, 404, "not found");
	th_expect_error(st.base, "GET", "/proxy/nope/", NULL, 404, "not found");
}

/* Is the npm registry reachable (TCP to registry.npmjs.org:443 in 3 s)? */
static bool registry_reachable(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	bool ok = false;

	if (getaddrinfo("registry.npmjs.org", "443", &hints, &ai) != 0)
		return false;
	for (struct addrinfo *a = ai; a && !ok; a = a->ai_next) {
		int fd = socket(a->ai_family, SOCK_STREAM, 0);
		struct timeval tv = {3, 0};

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(ai);
	return ok;
}

/* The seed's "Deploy Function" example as written, then its "Update
 * Files in Deployment" example: express comes from the registry. */
static void test_seed_example(void)
{
	char id[64], path[200];
	struct th_resp r = {0};
	json_t *j;

	if (access("/usr/bin/bun", X_OK) != 0 || !registry_reachable()) {
		printf("note: the seed's bun + express deployment is not tried: %s\n",
		       access("/usr/bin/bun", X_OK) != 0 ? "no /usr/bin/bun"
							 : "registry.npmjs.org is out of reach");
		return;
	}
	j = deploy(
		"{\n"
		"    \"runtime\": \"bun\",\n"
		"    \"code\": \"console.log(\\\"Hello FaaS!\\\");\",\n"
		"    \"entry_point\": \"bun dev\",\n"
		"    \"files\": [\n"
		"      {\n"
		"        \"path\": \"package.json\",\n"
		"        \"content\": \"{\\\"name\\\": \\\"my-function\\\", \\\"scripts\\\": "
		"{\\\"dev\\\": \\\"bun run --hot index.ts\\\"}}\"\n"
		"      },\n"
		"      {\n"
		"        \"path\": \"index.ts\",\n"
		"        \"content\": \"import express from \\\"express\\\"; const app = "
		"express(); "
		"app.get(\\\"/\\\", (req, res) => res.json({message: \\\"Hello from FaaS!\\\"})); "
		"app.listen(3000);\"\n"
		"      }\n"
		"    ],\n"
		"    \"auto_scale\": {\n"
		"      \"min_instances\": 0,\n"
		"      \"max_instances\": 5,\n"
		"      \"scale_down_after_minutes\": 10\n"
		"    }\n"
		"  }",
		id, sizeof(id));
	if (!j)
		return;
	CHECK_STR(th_str(j, "status"), "Running");
	json_decref(j);
	snprintf(path, sizeof(path), "/faas/%s/", id);
	th_http(st.base, "GET", path, NULL, NULL, 60000, &r);
	CHECKF(r.status == 200 && strcmp(r.body, "{\"message\":\"Hello from FaaS!\"}") == 0,
	       "%ld %.300s", r.status, r.body);
	snprintf(path, sizeof(path), "/faas/deployments/%s/files", id);
	th_http(st.base, "PUT", path,
		"{\n"
		"    \"files\": [\n"
		"      {\n"
		"        \"path\": \"index.ts\",\n"
		"        \"content\": \"import express from \\\"express\\\"; const app = "
		"express(); "
		"app.get(\\\"/\\\", (req, res) => res.json({message: \\\"Updated via API!\\\", "
		"timestamp: new Date().toISOString()})); app.listen(3000);\"\n"
		"      }\n"
		"    ],\n"
		"    \"restart_dev_server\": true\n"
		"  }",
		NULL, 60000, &r);
	CHECKF(r.status == 200, "PUT: %ld %.300s", r.status, r.body);
	snprintf(path, sizeof(path), "/faas/%s/", id);
	th_http(st.base, "GET", path, NULL, NULL, 60000, &r);
	CHECKF(r.status == 200 && strstr(r.body, "\"message\":\"Updated via API!\""), "%ld %.300s",
	       r.status, r.body);
	snprintf(path, sizeof(path), "/faas/deployments/%s", id);
	th_http(st.base, "DELETE", path, NULL, NULL, 30000, &r);
	CHECKF(r.status == 204, "DELETE: %ld", r.status);
	th_resp_fini(&r);
}

int main(void)
{
	const char *dargs[] = {"--cleanup-interval", "1", "--ready-timeout-ms", "3000", NULL};

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_stack_start(&st, "sbx-http-faas", dargs) == 0) {
		test_bad_input();
		test_lifecycle();
		test_persistent_sandbox();
		test_scale_to_zero();
		test_down();
		test_restart();
	}
	th_stack_stop(&st);
	/* The seed's example on a daemon with the stock ready timeout: the
	 * first install of express may take seconds. */
	if (th_stack_start(&st, "sbx-http-faas-seed", NULL) == 0)
		test_seed_example();
	th_stack_stop(&st);
	curl_global_cleanup();
	TEST_DONE();
}
