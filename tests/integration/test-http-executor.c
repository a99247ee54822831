/* sandbox-executor's POST /api/v1/execute and GET /api/v1/health
 * (sandbox-executor-README.md) against the real sandboxd and
 * sandbox-gateway: the README's curl examples as written with the
 * documented result object, bad input, limits, and API keys forwarded from
 * HTTP to the daemon. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpc.h"
#include "stack.h"
#include "testlib.h"

#define OK_SHAPE                                                                                   \
	"execution_id:s status:s stdout:s stderr:s execution_time_ms:i memory_used_mb:n "          \
	"exit_code:i error:z node:s"
#define HISTORY_SHAPE                                                                              \
	"execution_id:s language:s status:s exit_code:i signal:z execution_time_ms:i "             \
	"memory_used_mb:n started_at:s client:s kind:s object_id:z stdout:s stderr:s "             \
	"compile_output:s stdout_truncated:b stderr_truncated:b compile_output_truncated:b node:s"
#define FAIL_SHAPE                                                                                 \
	"execution_id:s status:s stdout:s stderr:s execution_time_ms:i memory_used_mb:n "          \
	"exit_code:i error:s node:s"

static struct th_stack st;

static bool is_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !isxdigit(s[i]))
			return false;
	return true;
}

/* POST body; a 200 of `shape` with this status and exit code. Returns the
 * reply (caller decrefs) for further checks, or NULL. */
static json_t *execute(const char *base, const char *body, const char *shape, const char *status,
		       int exit_code)
{
	struct th_resp r = {0};
	json_t *j;

	th_http(base, "POST", "/api/v1/execute", body, NULL, 0, &r);
	j = th_check_reply(&r, shape);
	th_resp_fini(&r);
	if (!j) {
		printf("  (request was %s)\n", body);
		return NULL;
	}
	CHECK(is_uuid(json_string_value(json_object_get(j, "execution_id"))));
	CHECK_STR(json_string_value(json_object_get(j, "status")), status);
	CHECK_INT(json_integer_value(json_object_get(j, "exit_code")), exit_code);
	CHECK(json_integer_value(json_object_get(j, "execution_time_ms")) >= 0);
	CHECK(json_number_value(json_object_get(j, "memory_used_mb")) >= 0);
	return j;
}

static void execute_out(const char *body, const char *out)
{
	json_t *j = execute(st.base, body, OK_SHAPE, "success", 0);

	if (j) {
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), out);
		CHECK_STR(json_string_value(json_object_get(j, "stderr")), "");
	}
	json_decref(j);
}

static void execute_error(const char *body, long status, const char *want)
{
	struct th_resp r = {0};

	th_http(st.base, "POST", "/api/v1/execute", body, NULL, 0, &r);
	if (!th_check_error(&r, status, want))
		printf("  (request was %s)\n", body);
	th_resp_fini(&r);
}

/* "Health Check": {"status": "healthy", version, uptime_seconds, backend}. */
static void test_health(const char *base, const char *const *headers)
{
	struct th_resp r = {0};
	json_t *j;

	th_http(base, "GET", "/api/v1/health", NULL, headers, 0, &r);
	j = th_check_reply(&r, "status:s version:s uptime_seconds:i backend:s");
	if (j) {
		CHECK_STR(json_string_value(json_object_get(j, "status")), "healthy");
		CHECK_STR(json_string_value(json_object_get(j, "version")), SBX_VERSION);
		CHECK(json_integer_value(json_object_get(j, "uptime_seconds")) >= 0);
		CHECK_STR(json_string_value(json_object_get(j, "backend")), "native");
	}
	json_decref(j);
	th_resp_fini(&r);
}

/* "Test Your Installation" and "Common Use Cases", as written. */
static void test_documented(void)
{
	bool libs;
	json_t *j;

	/* Test 1. The README shows "...!\n4"; print() ends its line. */
	j = execute(st.base,
		    "{\n"
		    "    \"code\": \"print(\\\"Hello from secure sandbox!\\\")\\nprint(2 + 2)\",\n"
		    "    \"language\": \"python\",\n"
		    "    \"timeout\": 30\n"
		    "  }",
		    OK_SHAPE, "success", 0);
	if (j) {
		CHECK_STR(json_string_value(json_object_get(j, "stdout")),
			  "Hello from secure sandbox!\n4\n");
		CHECK_STR(json_string_value(json_object_get(j, "stderr")), "");
		CHECK(json_number_value(json_object_get(j, "memory_used_mb")) > 0);
	}
	json_decref(j);
	/* Test 2. */
	execute_out("{\n"
		    "    \"code\": \"console.log(\\\"Hello from Node.js!\\\");\\nconsole.log(3 * "
		    "7);\",\n"
		    "    \"language\": \"javascript\",\n"
		    "    \"timeout\": 30\n"
		    "  }",
		    "Hello from Node.js!\n21\n");
	/* Execute JavaScript with JSON. */
	execute_out(
		"{\n"
		"    \"code\": \"const data = {result: 42}; console.log(JSON.stringify(data));\",\n"
		"    \"language\": \"javascript\"\n"
		"  }",
		"{\"result\":42}\n");
	/* Execute Shell Commands: Hello, a date, then ls -la of the workspace. */
	j = execute(st.base,
		    "{\n"
		    "    \"code\": \"echo Hello\\ndate\\nls -la\",\n"
		    "    \"language\": \"shell\"\n"
		    "  }",
		    OK_SHAPE, "success", 0);
	if (j) {
		const char *out = json_string_value(json_object_get(j, "stdout"));
		const char *date = out ? strchr(out, '\n') : NULL;
		const char *ls = date ? strchr(date + 1, '\n') : NULL;

		CHECKF(out && strncmp(out, "Hello\n", 6) == 0, "%s", out);
		CHECKF(date && ls && memmem(date, (size_t)(ls - date), " 20", 3), "%s", out);
		CHECKF(ls && strncmp(ls + 1, "total ", 6) == 0, "%s", out);
		CHECKF(ls && strstr(ls, " main.sh\n"), "%s", out);
	}
	json_decref(j);
	/* Execute Python with Libraries: pandas and numpy are the host's, if
	 * any; without them the documented shape reports the import error. */
	libs = system("/usr/bin/python3 -c 'import pandas, numpy' 2>/dev/null") == 0;
	j = execute(st.base,
		    "{\n"
		    "    \"code\": \"import pandas as pd\\nimport numpy as np\\n"
		    "print(np.array([1,2,3]).sum())\",\n"
		    "    \"language\": \"python\"\n"
		    "  }",
		    libs ? OK_SHAPE : FAIL_SHAPE, libs ? "success" : "error", libs ? 0 : 1);
	if (j && libs)
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "6\n");
	else if (j)
		CHECK(strstr(json_string_value(json_object_get(j, "stderr")),
			     "ModuleNotFoundError") != NULL);
	json_decref(j);
}

static void test_outcomes(void)
{
	json_t *j;

	j = execute(st.base, "{\"code\": \"import sys\\nsys.exit(3)\", \"language\": \"python\"}",
		    FAIL_SHAPE, "error", 3);
	if (j)
		CHECK_STR(json_string_value(json_object_get(j, "error")), "exited with code 3");
	json_decref(j);
	/* timeout (s) over: "timeout", the partial output kept. */
	j = execute(st.base,
		    "{\"code\": \"echo start; sleep 30\", \"language\": \"bash\", \"timeout\": 1}",
		    FAIL_SHAPE, "timeout", 137);
	if (j) {
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "start\n");
		CHECK(json_integer_value(json_object_get(j, "execution_time_ms")) >= 900);
	}
	json_decref(j);
	/* A CPU-bound loop is a timeout too. */
	j = execute(st.base,
		    "{\"code\": \"while True: pass\", \"language\": \"python\", \"timeout\": 1}",
		    FAIL_SHAPE, "timeout", 137);
	json_decref(j);
	/* Output past the daemon's cap: kept up to the cap, "output_limit". */
	j = execute(st.base, "{\"code\": \"print('a' * 300000)\", \"language\": \"python\"}",
		    FAIL_SHAPE, "output_limit", 0);
	if (j)
		CHECK_INT(strlen(json_string_value(json_object_get(j, "stdout"))), 65536);
	json_decref(j);
}

/* GET /api/v1/executions/{id} of a run: what it printed, as the history
 * keeps it (this daemon: --history-output-bytes 1000). */
static json_t *history_of(json_t *run)
{
	char path[128];
	struct th_resp r = {0};
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/executions/%.64s",
		 json_string_value(json_object_get(run, "execution_id")));
	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	j = th_check_reply(&r, HISTORY_SHAPE);
	th_resp_fini(&r);
	return j;
}

static void test_history_output(void)
{
	json_t *run, *h;

	run = execute(st.base,
		      "{\"code\": \"import sys\\nprint('out')\\nprint('err', file=sys.stderr)\\n"
		      "sys.exit(3)\", \"language\": \"python\"}",
		      FAIL_SHAPE, "error", 3);
	h = run ? history_of(run) : NULL;
	if (h) {
		CHECK_STR(th_str(h, "stdout"), "out\n");
		CHECK_STR(th_str(h, "stderr"), "err\n");
		CHECK_STR(th_str(h, "compile_output"), "");
		CHECK(!json_is_true(json_object_get(h, "stdout_truncated")));
	}
	json_decref(h);
	json_decref(run);
	/* Past the history's cap: its first bytes, marked truncated. */
	run = execute(st.base, "{\"code\": \"print('a' * 5000)\", \"language\": \"python\"}",
		      OK_SHAPE, "success", 0);
	h = run ? history_of(run) : NULL;
	if (h) {
		CHECK_INT(strlen(th_str(h, "stdout")), 1000);
		CHECK(json_is_true(json_object_get(h, "stdout_truncated")));
	}
	json_decref(h);
	json_decref(run);
	if (access("/usr/bin/rustc", X_OK) != 0)
		return;
	run = execute(st.base,
		      "{\"code\": \"fn main() { let x: u8 = 1.5; }\", \"language\": \"rust\"}",
		      FAIL_SHAPE, "error", 1);
	h = run ? history_of(run) : NULL;
	if (h)
		CHECK(strstr(th_str(h, "compile_output"), "mismatched types") != NULL);
	json_decref(h);
	json_decref(run);
}

static void test_bad_input(void)
{
	execute_error("{\"code\": \"print(1)\", ", 400, "not valid JSON");
	execute_error("{\"code\": \"print(1)\", \"language\": \"brainfuck\"}", 400,
		      "unsupported language 'brainfuck' (supported: python, ");
	execute_error("{\"code\": \"print(1)\"}", 400, "'language'");
	execute_error("{\"code\": [\"print(1)\"], \"language\": \"python\"}", 400, "'code'");
	execute_error("{\"code\": \"print(1)\", \"language\": \"python\", \"timeout\": \"1m\"}",
		      400, "'timeout'");
	execute_error("{\"code\": \"print(1)\", \"language\": \"python\", \"timeout\": 100000}",
		      400, "limit 'wall_time_ms' (from 'timeout' x 1000) must be from 1 to ");
	execute_error("{\"code\": \"print(1)\", \"language\": \"python\", \"limits\": "
		      "{\"memory_kb\": 99999999999}}",
		      400, "limit 'memory_kb' must be from 1 to ");
}

/* A daemon with SANDBOX_API_KEY: HTTP clients pass the key as a Bearer
 * token or X-API-Key; health stays public. */
static void test_api_key(void)
{
	static const char *const bearer[] = {"Authorization: Bearer s3cret-key", NULL};
	static const char *const xkey[] = {"X-API-Key: s3cret-key", NULL};
	static const char *const wrong[] = {"Authorization: Bearer nope", NULL};
	static const char *const basic[] = {"Authorization: Basic czNjcmV0LWtleQ==", NULL};
	const char *args[] = {"--api-key", "s3cret-key", "--max-output-bytes", "65536", NULL};
	const char *body = "{\"code\": \"print(1)\", \"language\": \"python\"}";
	struct th_stack sec;
	struct th_resp r = {0};
	char buf[128], node[64];
	json_t *j;

	if (th_stack_start(&sec, "sbx-http-apikey", args) < 0)
		return;
	test_health(sec.base, NULL);
	th_http(sec.base, "GET", "/health", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);

	th_http(sec.base, "POST", "/api/v1/execute", body, NULL, 0, &r);
	th_check_error(&r, 401, NULL);
	CHECK_STR(r.body, "{\"error\":\"a valid API key is required\"}");
	CHECK(th_header(&r, "WWW-Authenticate", buf, sizeof(buf)) != NULL);
	th_http(sec.base, "POST", "/api/v1/execute", body, wrong, 0, &r);
	th_check_error(&r, 401, "a valid API key is required");
	th_http(sec.base, "POST", "/api/v1/execute", body, basic, 0, &r);
	th_check_error(&r, 401, "a valid API key is required");
	th_http(sec.base, "POST", "/run", "{\"command\": [\"/bin/true\"]}", NULL, 0, &r);
	th_check_error(&r, 401, "a valid API key is required");
	th_http(sec.base, "GET", "/languages", NULL, NULL, 0, &r);
	th_check_error(&r, 401, "a valid API key is required");

	th_http(sec.base, "POST", "/api/v1/execute", body, bearer, 0, &r);
	j = th_check_reply(&r, OK_SHAPE);
	if (j)
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "1\n");
	json_decref(j);
	th_http(sec.base, "POST", "/api/v1/execute", body, xkey, 0, &r);
	j = th_check_reply(&r, OK_SHAPE);
	json_decref(j);
	th_http(sec.base, "POST", "/run", "{\"command\": [\"/bin/echo\", \"hi\"]}", xkey, 0, &r);
	CHECK(th_cut_node(&r, node, sizeof(node)));
	CHECK_STR(r.body, "{\"stdout\":\"hi\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");
	th_resp_fini(&r);
	th_stack_stop(&sec);
}

int main(void)
{
	const char *args[] = {"--max-output-bytes", "65536", "--history-output-bytes", "1000",
			      NULL};

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_stack_start(&st, "sbx-http-executor", args) == 0) {
		test_health(st.base, NULL);
		test_documented();
		test_outcomes();
		test_history_output();
		test_bad_input();
		test_api_key();
	}
	th_stack_stop(&st);
	curl_global_cleanup();
	TEST_DONE();
}
