/* The sandbox-service sandboxes (sandbox-service-API.md) through the real
 * sandboxd and sandbox-gateway: every documented curl example of POST
 * /sandbox, GET /sandbox/{id}, POST /sandbox/{id}/execute, POST
 * /sandbox/{id}/files, GET /sandboxes and DELETE /sandbox/{id} as written,
 * with its documented reply shape; bad input per route; the gateway's
 * per-client rate limit (429 + Retry-After); and 64 concurrent clients
 * creating, executing and deleting for a bounded time. Restart survival is
 * in test-http-sessions.c, with the sessions. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

#define SANDBOX_SHAPE "id:s status:s runtime:s created_at:s timeout_ms:i memory_limit_mb:i node:s"
#define EXECUTE_SHAPE                                                                              \
	"sandbox_id:s success:b stdout:s stderr:s exit_code:i execution_time_ms:i error:S node:s"

static struct th_stack st;

/* POST /sandbox with body; on 200 with the documented shape, the new id
 * in id (else id is ""). Returns the reply (caller decrefs) or NULL. */
static json_t *create(const char *body, char *id, size_t idlen)
{
	struct th_resp r = {0};
	json_t *j;

	id[0] = '\0';
	th_http(st.base, "POST", "/sandbox", body, NULL, 0, &r);
	j = th_check_reply(&r, SANDBOX_SHAPE);
	if (j)
		snprintf(id, idlen, "%s", json_string_value(json_object_get(j, "id")));
	else
		printf("  (request was %s)\n", body);
	th_resp_fini(&r);
	return j;
}

/* POST /sandbox/{id}/execute; the reply (caller decrefs) or NULL. */
static json_t *execute(const char *id)
{
	struct th_resp r = {0};
	char path[128];
	json_t *j;

	snprintf(path, sizeof(path), "/sandbox/%s/execute", id);
	th_http(st.base, "POST", path, NULL, NULL, 120000, &r);
	j = th_check_reply(&r, EXECUTE_SHAPE);
	if (j)
		CHECK_STR(json_string_value(json_object_get(j, "sandbox_id")), id);
	th_resp_fini(&r);
	return j;
}

static void delete_ok(const char *id)
{
	struct th_resp r = {0};
	char path[128], ct[64];

	snprintf(path, sizeof(path), "/sandbox/%s", id);
	th_http(st.base, "DELETE", path, NULL, NULL, 0, &r);
	CHECKF(r.status == 204 && r.len == 0, "DELETE %s: %ld '%s'", path, r.status, r.body);
	CHECKF(!th_header(&r, "Content-Type", ct, sizeof(ct)), "204 with Content-Type %s", ct);
	th_resp_fini(&r);
}

/* "Basic Node.js Script", then "Get Sandbox Info" and "Execute Code" on it. */
static void test_basic_node(void)
{
	char id[64], path[128];
	struct th_resp r = {0};
	json_t *j;

	j = create("{\n"
		   "    \"runtime\": \"node\",\n"
		   "    \"code\": \"console.log(\\\"Hello, World!\\\");\"\n"
		   "  }",
		   id, sizeof(id));
	if (!j)
		return;
	CHECK_STR(th_str(j, "status"), "created");
	CHECK_STR(th_str(j, "runtime"), "node");
	CHECK_INT(json_integer_value(json_object_get(j, "timeout_ms")), 30000);
	CHECK_INT(json_integer_value(json_object_get(j, "memory_limit_mb")), 256);
	CHECKF(strlen(id) == 36 && id[8] == '-' && id[14] == '4', "id '%s' is not a UUID v4", id);
	CHECKF(strlen(th_str(j, "created_at")) >= 20 && th_str(j, "created_at")[10] == 'T',
	       "created_at '%s'", th_str(j, "created_at"));
	json_decref(j);

	snprintf(path, sizeof(path), "/sandbox/%s", id);
	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	j = th_check_reply(&r, SANDBOX_SHAPE);
	if (j)
		CHECK_STR(th_str(j, "status"), "created");
	json_decref(j);

	j = execute(id);
	if (j) {
		CHECK_STR(th_str(j, "stdout"), "Hello, World!\n");
		CHECK_STR(th_str(j, "stderr"), "");
		CHECK(json_is_true(json_object_get(j, "success")));
		CHECK_INT(json_integer_value(json_object_get(j, "exit_code")), 0);
	}
	json_decref(j);
	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	j = th_check_reply(&r, SANDBOX_SHAPE);
	if (j)
		CHECK_STR(th_str(j, "status"), "completed");
	json_decref(j);
	delete_ok(id);
	/* A failing run: "failed", success false, its exit code. */
	j = create("{\"runtime\": \"node\", \"code\": \"process.exit(3)\"}", id, sizeof(id));
	json_decref(j);
	j = *id ? execute(id) : NULL;
	if (j) {
		CHECK(json_is_false(json_object_get(j, "success")));
		CHECK_INT(json_integer_value(json_object_get(j, "exit_code")), 3);
		snprintf(path, sizeof(path), "/sandbox/%s", id);
		json_decref(j);
		th_http(st.base, "GET", path, NULL, NULL, 0, &r);
		j = th_check_reply(&r, SANDBOX_SHAPE);
		if (j)
			CHECK_STR(th_str(j, "status"), "failed");
	}
	json_decref(j);
	th_resp_fini(&r);
	if (*id)
		delete_ok(id);
}

/* "Bun with Environment Variables", as written. */
static void test_bun_env(void)
{
	char id[64];
	json_t *j =
		create("{\n"
		       "    \"runtime\": \"bun\",\n"
		       "    \"code\": \"console.log(\\\"Environment:\\\", process.env.NODE_ENV); "
		       "console.log(\\\"API Key:\\\", process.env.API_KEY);\",\n"
		       "    \"env_vars\": {\n"
		       "      \"NODE_ENV\": \"development\",\n"
		       "      \"API_KEY\": \"test-key-123\"\n"
		       "    }\n"
		       "  }",
		       id, sizeof(id));

	if (!j)
		return;
	CHECK_STR(th_str(j, "runtime"), "bun");
	json_decref(j);
	j = execute(id);
	if (j) {
		CHECK_STR(th_str(j, "stdout"), "Environment: development\nAPI Key: test-key-123\n");
		CHECK(json_is_true(json_object_get(j, "success")));
	}
	json_decref(j);
	delete_ok(id);
}

/* "TypeScript with Dependencies": install_deps runs bun install, which
 * needs the npm registry. Without it the execution fails with the
 * installer's error in stderr and the sandbox says why; never silently. */
static void test_typescript_deps(void)
{
	struct th_resp r = {0};
	char id[64], path[128];
	const char *out;
	json_t *j = create(
		"{\n"
		"    \"runtime\": \"typescript\",\n"
		"    \"code\": \"import { v4 as uuidv4 } from \\\"uuid\\\"; console.log(\\\"Random "
		"UUID:\\\", uuidv4());\",\n"
		"    \"install_deps\": true,\n"
		"    \"files\": [\n"
		"      {\n"
		"        \"path\": \"package.json\",\n"
		"        \"content\": \"{\\\"dependencies\\\": {\\\"uuid\\\": \\\"^9.0.0\\\", "
		"\\\"@types/uuid\\\": \\\"^9.0.0\\\"}}\"\n"
		"      }\n"
		"    ]\n"
		"  }",
		id, sizeof(id));

	if (!j)
		return;
	CHECK_STR(th_str(j, "runtime"), "typescript");
	json_decref(j);
	j = execute(id);
	if (!j)
		return;
	out = th_str(j, "stdout");
	if (json_is_true(json_object_get(j, "success"))) {
		CHECKF(strncmp(out, "Random UUID: ", 13) == 0 && strlen(out) == 13 + 36 + 1 &&
			       out[13 + 14] == '4',
		       "stdout '%s'", out);
	} else {
		/* The registry was out of reach: say so, loudly. */
		printf("note: TypeScript with Dependencies could not install: exit %lld, "
		       "stderr: %.400s\n",
		       json_integer_value(json_object_get(j, "exit_code")), th_str(j, "stderr"));
		CHECKF(*th_str(j, "stderr") && json_integer_value(json_object_get(j, "exit_code")),
		       "a failed install must explain itself: %s", th_str(j, "stderr"));
		snprintf(path, sizeof(path), "/sandbox/%s", id);
		th_http(st.base, "GET", path, NULL, NULL, 0, &r);
		CHECKF(r.status == 200 && strstr(r.body, "\"status\":\"failed\""), "%ld %s",
		       r.status, r.body);
		th_resp_fini(&r);
	}
	json_decref(j);
	delete_ok(id);
}

/* "Upload Files" as written, then proof that they arrived: the module is
 * usable and run.sh is executable, utils.js not. */
static void test_upload(void)
{
	struct th_resp r = {0};
	char id[64], path[128], want[256], id2[64], path2[128];
	json_t *j = create("{\"runtime\": \"node\", \"code\": \"const fs = require('fs'); "
			   "console.log(require('./utils.js').formatDate(new Date(0))); "
			   "console.log((fs.statSync('run.sh').mode & 0o111) !== 0, "
			   "(fs.statSync('utils.js').mode & 0o111) !== 0, "
			   "fs.readFileSync('run.sh', 'utf8'));\"}",
			   id, sizeof(id));

	if (!j)
		return;
	json_decref(j);
	snprintf(path, sizeof(path), "/sandbox/%s/files", id);
	th_http(st.base, "POST", path,
		"[\n"
		"    {\n"
		"      \"path\": \"utils.js\",\n"
		"      \"content\": \"exports.formatDate = (date) => date.toISOString();\"\n"
		"    },\n"
		"    {\n"
		"      \"path\": \"run.sh\",\n"
		"      \"content\": \"#!/bin/bash\\nnode index.js\",\n"
		"      \"is_executable\": true\n"
		"    }\n"
		"  ]",
		NULL, 0, &r);
	snprintf(want, sizeof(want),
		 "{\"message\":\"Files uploaded successfully\",\"sandbox_id\":\"%s\"}", id);
	CHECKF(r.status == 200 && strcmp(r.body, want) == 0, "%ld %s", r.status, r.body);
	th_resp_fini(&r);
	j = execute(id);
	if (j)
		CHECK_STR(th_str(j, "stdout"),
			  "1970-01-01T00:00:00.000Z\ntrue false #!/bin/bash\nnode index.js\n");
	json_decref(j);
	/* Symlink tricks: a run plants links to outside the workspace; an
	 * upload through them or onto them is refused. */
	json_decref(create("{\"runtime\": \"node\", \"code\": \"const fs = require('fs'); "
			   "fs.symlinkSync('/etc', 'dir'); fs.symlinkSync('/etc/passwd', 'file'); "
			   "console.log('planted')\"}",
			   id2, sizeof(id2)));
	j = *id2 ? execute(id2) : NULL;
	if (j) {
		CHECK_STR(th_str(j, "stdout"), "planted\n");
		snprintf(path2, sizeof(path2), "/sandbox/%s/files", id2);
		th_expect_error(st.base, "POST", path2, "[{\"path\": \"dir/evil\", \"content\": \"x\"}]", 400,
			     "symbolic link");
		th_expect_error(st.base, "POST", path2, "[{\"path\": \"file\", \"content\": \"x\"}]", 400,
			     "symbolic link");
		delete_ok(id2);
	}
	json_decref(j);
	/* A nested path creates its directories. */
	th_http(st.base, "POST", path, "[{\"path\": \"lib/deep/x.txt\", \"content\": \"x\"}]", NULL,
		0, &r);
	CHECKF(r.status == 200, "%ld %s", r.status, r.body);
	th_resp_fini(&r);
	delete_ok(id);
}

/* "List Sandboxes" and "Delete Sandbox". */
static void test_list_delete(void)
{
	struct th_resp r = {0};
	char a[64], b[64], path[128], why[256];
	json_t *j, *e;
	size_t i;
	int seen = 0;

	json_decref(create("{\"runtime\": \"node\", \"code\": \"1\"}", a, sizeof(a)));
	json_decref(create("{\"runtime\": \"bun\", \"code\": \"1\", \"timeout_ms\": 5000, "
			   "\"memory_limit_mb\": 128}",
			   b, sizeof(b)));
	th_http(st.base, "GET", "/sandboxes", NULL, NULL, 0, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && json_is_array(j), "GET /sandboxes: %ld %.300s", r.status, r.body);
	json_array_foreach(j, i, e)
	{
		CHECKF(th_json_shape(e, SANDBOX_SHAPE, why, sizeof(why)), "%s", why);
		if (strcmp(th_str(e, "id"), a) == 0)
			seen |= 1;
		if (strcmp(th_str(e, "id"), b) == 0) {
			seen |= 2;
			CHECK_INT(json_integer_value(json_object_get(e, "timeout_ms")), 5000);
			CHECK_INT(json_integer_value(json_object_get(e, "memory_limit_mb")), 128);
		}
	}
	CHECKF(seen == 3, "both new sandboxes listed: %d", seen);
	json_decref(j);
	th_resp_fini(&r);

	delete_ok(a);
	snprintf(path, sizeof(path), "/sandbox/%s", a);
	th_expect_error(st.base, "DELETE", path, NULL, 404, "not found");
	th_expect_error(st.base, "GET", path, NULL, 404, "not found");
	delete_ok(b);
	th_http(st.base, "GET", "/sandboxes", NULL, NULL, 0, &r);
	CHECKF(r.status == 200 && !strstr(r.body, a) && !strstr(r.body, b), "%ld %.300s", r.status,
	       r.body);
	th_resp_fini(&r);
}

/* Bad input for each route. */
static void test_bad_input(void)
{
	static const char unknown[] = "/sandbox/00000000-0000-4000-8000-000000000000";
	char id[64], path[160], *big, *many;
	size_t n;
	json_t *j;

	th_expect_error(st.base, "POST", "/sandbox", "{}", 400, "runtime");
	th_expect_error(st.base, "POST", "/sandbox", "{\"runtime\": \"node\"}", 400, "code");
	th_expect_error(st.base, "POST", "/sandbox", "{\"runtime\": 7, \"code\": \"1\"}", 400, "runtime");
	th_expect_error(st.base, "POST", "/sandbox", "{\"runtime\": \"brainfuck\", \"code\": \"1\"}", 400,
		     "unsupported runtime");
	th_expect_error(st.base, "POST", "/sandbox",
		     "{\"runtime\": \"node\", \"code\": \"1\", \"timeout_ms\": "
		     "\"soon\"}",
		     400, "timeout_ms");
	th_expect_error(st.base, "POST", "/sandbox",
		     "{\"runtime\": \"node\", \"code\": \"1\", \"timeout_ms\": "
		     "-5}",
		     400, "timeout_ms");
	th_expect_error(st.base, "POST", "/sandbox",
		     "{\"runtime\": \"node\", \"code\": \"1\", "
		     "\"memory_limit_mb\": 99999999}",
		     400, "memory_limit_mb");
	th_expect_error(st.base, "POST", "/sandbox",
		     "{\"runtime\": \"node\", \"code\": \"1\", \"mode\": "
		     "\"forever\"}",
		     400, "mode");
	th_expect_error(st.base, "POST", "/sandbox",
		     "{\"runtime\": \"node\", \"code\": \"1\", \"env_vars\": "
		     "[1]}",
		     400, "env_vars");
	th_expect_error(st.base, "POST", "/sandbox",
		     "{\"runtime\": \"node\", \"code\": \"1\", \"files\": "
		     "{\"a\": 1}}",
		     400, "files");
	th_expect_error(st.base, "POST", "/sandbox",
		     "{\"runtime\": \"node\", \"code\": \"1\", \"files\": "
		     "[{\"path\": \"../x\", \"content\": \"\"}]}",
		     400, "'../x'");
	th_expect_error(st.base, "POST", "/sandbox",
		     "{\"runtime\": \"node\", \"code\": \"1\", \"files\": "
		     "[{\"path\": \"/etc/x\", \"content\": \"\"}]}",
		     400, "'/etc/x'");
	th_expect_error(st.base, "POST", "/sandbox", "{\"runtime\": \"node\"", 400, "not valid JSON");
	th_expect_error(st.base, "POST", "/sandbox", "[]", 400, NULL);
	th_expect_error(st.base, "PUT", "/sandbox", "{}", 405, NULL);

	/* Unknown ids: 404 on every route that takes one. */
	th_expect_error(st.base, "GET", unknown, NULL, 404, "not found");
	th_expect_error(st.base, "DELETE", unknown, NULL, 404, "not found");
	snprintf(path, sizeof(path), "%s/execute", unknown);
	th_expect_error(st.base, "POST", path, NULL, 404, "not found");
	snprintf(path, sizeof(path), "%s/files", unknown);
	th_expect_error(st.base, "POST", path, "[{\"path\": \"a\", \"content\": \"b\"}]", 404, "not found");
	th_expect_error(st.base, "GET", "/sandbox/%2e%2e", NULL, 400, NULL);

	/* Uploads: traversal, wrong shapes, too many files, too big. */
	j = create("{\"runtime\": \"node\", \"code\": \"1\"}", id, sizeof(id));
	json_decref(j);
	if (!*id)
		return;
	snprintf(path, sizeof(path), "/sandbox/%s/files", id);
	th_expect_error(st.base, "POST", path, "[{\"path\": \"../x\", \"content\": \"evil\"}]", 400, "'../x'");
	th_expect_error(st.base, "POST", path, "[{\"path\": \"/etc/x\", \"content\": \"evil\"}]", 400,
		     "'/etc/x'");
	th_expect_error(st.base, "POST", path, "[{\"path\": \"a/../../x\", \"content\": \"evil\"}]", 400,
		     "'..'");
	th_expect_error(st.base, "POST", path, "[{\"path\": \"\", \"content\": \"x\"}]", 400, "empty");
	th_expect_error(st.base, "POST", path, "{\"files\": []}", 400, "array");
	th_expect_error(st.base, "POST", path, "[{\"path\": 1, \"content\": \"x\"}]", 400, "path");
	th_expect_error(st.base, "POST", path, "[{\"path\": \"a\", \"content\": 5}]", 400, "content");
	th_expect_error(st.base, "POST", path, "[{\"path\": \"a\", \"is_executable\": \"yes\"}]", 400,
		     "is_executable");
	/* 257 files (the daemon allows 256 per request). */
	many = malloc(257 * 48 + 16);
	n = (size_t)sprintf(many, "[");
	for (int i = 0; i < 257; i++)
		n += (size_t)sprintf(many + n, "%s{\"path\": \"f%d\", \"content\": \"x\"}",
				     i ? "," : "", i);
	sprintf(many + n, "]");
	th_expect_error(st.base, "POST", path, many, 400, "too many files");
	free(many);
	/* A body over the gateway's --max-body (16 MiB): 413. */
	big = malloc((17u << 20) + 64);
	n = (size_t)sprintf(big, "[{\"path\": \"big\", \"content\": \"");
	memset(big + n, 'a', 17u << 20);
	strcpy(big + n + (17u << 20), "\"}]");
	th_expect_error(st.base, "POST", path, big, 413, "larger than");
	th_expect_error(st.base, "POST", "/sandbox", big, 413, "larger than");
	free(big);
	delete_ok(id);
}

/* The limiter: a second gateway with a tiny limit in front of the same
 * daemon. Creating counts, reading and /health do not. */
static void test_rate_limit(void)
{
	char listen[64], base[64], log[300], ra[16];
	const char *args[] = {"--listen",     listen, "--rpc",	      st.rpc, "--threads", "2",
			      "--rate-limit", "2",    "--rate-burst", "2",    NULL};
	struct th_resp r = {0};
	long long until;
	pid_t gw;
	int port = tl_free_port();

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	snprintf(log, sizeof(log), "%s/gateway-limited.log", st.dir);
	gw = th_spawn("sandbox-gateway", args, log);
	if (gw <= 0) {
		CHECKF(false, "cannot start the rate-limited gateway");
		return;
	}
	until = sbx_clock_mono_ms() + 20000;
	do {
		th_http(base, "GET", "/health", NULL, NULL, 1000, &r);
		if (r.status != 200)
			th_sleep_ms(50);
	} while (r.status != 200 && sbx_clock_mono_ms() < until);
	CHECKF(r.status == 200, "the rate-limited gateway did not come up");

	/* Two tokens: two invalid creations spend them (400 from the
	 * daemon), the third is refused before the daemon sees it. */
	for (int i = 0; i < 2; i++) {
		th_http(base, "POST", "/sandbox", "{}", NULL, 0, &r);
		CHECKF(r.status == 400, "request %d: %ld %s", i, r.status, r.body);
	}
	th_http(base, "POST", "/sandbox", "{}", NULL, 0, &r);
	th_check_error(&r, 429, "rate limit exceeded: 2 requests per minute");
	CHECKF(th_header(&r, "Retry-After", ra, sizeof(ra)) && atoi(ra) >= 1 && atoi(ra) <= 30,
	       "Retry-After '%s' (one token every 30 s)",
	       th_header(&r, "Retry-After", ra, sizeof(ra)) ? ra : "");
	/* Other limited routes share the client's bucket. */
	th_http(base, "POST", "/run", "{\"command\": [\"/bin/true\"]}", NULL, 0, &r);
	CHECKF(r.status == 429, "POST /run: %ld", r.status);
	th_http(base, "POST", "/sessions", "{}", NULL, 0, &r);
	CHECKF(r.status == 429, "POST /sessions: %ld", r.status);
	/* Reads and health are not limited. */
	th_http(base, "GET", "/health", NULL, NULL, 0, &r);
	CHECKF(r.status == 200, "GET /health: %ld", r.status);
	th_http(base, "GET", "/sandboxes", NULL, NULL, 0, &r);
	CHECKF(r.status == 200, "GET /sandboxes: %ld", r.status);
	/* The unlimited gateway of the same daemon is not affected. */
	th_http(st.base, "POST", "/sandbox", "{}", NULL, 0, &r);
	CHECKF(r.status == 400, "unlimited gateway: %ld", r.status);
	th_resp_fini(&r);
	th_stop(gw, SIGTERM, 10000);
}

/* 64 clients create, execute and delete sandboxes for a bounded time.
 * Every answer is a documented one: 200 and 204, or 429 and 503 with a
 * Retry-After when the daemon is saturated. */
#define N_CLIENTS 64
#define LOAD_MS 10000

struct client {
	pthread_t t;
	long long until;
	int n_ok, n_busy, n_other;
	long other_status;
	char other_body[256];
};

static bool allowed(struct client *c, const struct th_resp *r, long want)
{
	char ra[16];

	if (r->status == want) {
		c->n_ok++;
		return true;
	}
	if ((r->status == 429 || r->status == 503) && th_header(r, "Retry-After", ra, sizeof(ra)) &&
	    atoi(ra) >= 1) {
		c->n_busy++;
		return false;
	}
	c->n_other++;
	c->other_status = r->status;
	snprintf(c->other_body, sizeof(c->other_body), "%s", r->body);
	return false;
}

static void *client_loop(void *arg)
{
	struct client *c = arg;
	struct th_resp r = {0};
	char id[64], path[128];

	while (sbx_clock_mono_ms() < c->until) {
		json_t *j;

		th_http(st.base, "POST", "/sandbox",
			"{\"runtime\": \"node\", \"code\": \"console.log(6 * 7)\"}", NULL, 60000,
			&r);
		if (!allowed(c, &r, 200)) {
			th_sleep_ms(20);
			continue;
		}
		j = th_json(&r);
		snprintf(id, sizeof(id), "%s", th_str(j, "id"));
		json_decref(j);
		snprintf(path, sizeof(path), "/sandbox/%s/execute", id);
		th_http(st.base, "POST", path, NULL, NULL, 60000, &r);
		if (allowed(c, &r, 200) && !strstr(r.body, "\"stdout\":\"42\\n\"")) {
			c->n_other++;
			snprintf(c->other_body, sizeof(c->other_body), "%s", r.body);
		}
		snprintf(path, sizeof(path), "/sandbox/%s", id);
		th_http(st.base, "DELETE", path, NULL, NULL, 60000, &r);
		allowed(c, &r, 204);
	}
	th_resp_fini(&r);
	return NULL;
}

static void test_concurrent(void)
{
	static struct client c[N_CLIENTS];
	long long until = sbx_clock_mono_ms() + LOAD_MS;
	int ok = 0, busy = 0, other = 0;
	struct th_resp r = {0};

	for (int i = 0; i < N_CLIENTS; i++) {
		c[i] = (struct client){.until = until};
		pthread_create(&c[i].t, NULL, client_loop, &c[i]);
	}
	for (int i = 0; i < N_CLIENTS; i++) {
		pthread_join(c[i].t, NULL);
		ok += c[i].n_ok;
		busy += c[i].n_busy;
		other += c[i].n_other;
		CHECKF(c[i].n_other == 0, "client %d: %d unexpected answers, last %ld %s", i,
		       c[i].n_other, c[i].other_status, c[i].other_body);
	}
	printf("%d clients for %d ms: %d answers 200/204, %d answers 429/503, %d others\n",
	       N_CLIENTS, LOAD_MS, ok, busy, other);
	CHECKF(ok > 0, "nothing succeeded under load");
	/* Every sandbox created was deleted again. */
	th_http(st.base, "GET", "/sandboxes", NULL, NULL, 0, &r);
	CHECKF(r.status == 200 && strcmp(r.body, "[]") == 0, "left over: %.300s", r.body);
	th_resp_fini(&r);
}

int main(void)
{

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_stack_start(&st, "sbx-http-sandboxes", NULL) == 0) {
		test_basic_node();
		test_bun_env();
		test_upload();
		test_list_delete();
		test_bad_input();
		test_typescript_deps();
		test_rate_limit();
		test_concurrent();
	}
	th_stack_stop(&st);
	curl_global_cleanup();
	TEST_DONE();
}
