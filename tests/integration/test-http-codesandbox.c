/* codesandbox-rust's POST /execute and GET /languages
 * (codesandbox-rust-README.md) against the real sandboxd and
 * sandbox-gateway: the README's curl examples as written (python,
 * typescript, rust), the reply shape we chose for them
 * (gateway/SEED-DIFFERENCES.md), and bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "stack.h"
#include "testlib.h"

#define EXEC_SHAPE "stdout:s stderr:s exit_code:i status:s execution_time_ms:i error:z node:s"
#define FAIL_SHAPE "stdout:s stderr:s exit_code:i status:s execution_time_ms:i error:s node:s"

static struct th_stack st;

/* POST /execute body; a 200 of shape `shape` with this stdout, stderr
 * (NULL: any), exit code and status. */
static void execute(const char *body, const char *shape, const char *out, const char *err,
		    int exit_code, const char *status)
{
	struct th_resp r = {0};
	json_t *j;

	th_http(st.base, "POST", "/execute", body, NULL, 0, &r);
	j = th_check_reply(&r, shape);
	if (j) {
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), out);
		if (err)
			CHECK_STR(json_string_value(json_object_get(j, "stderr")), err);
		CHECK_INT(json_integer_value(json_object_get(j, "exit_code")), exit_code);
		CHECK_STR(json_string_value(json_object_get(j, "status")), status);
		CHECK(json_integer_value(json_object_get(j, "execution_time_ms")) >= 0);
	} else {
		printf("  (request was %s)\n", body);
	}
	json_decref(j);
	th_resp_fini(&r);
}

static void execute_error(const char *body, long status, const char *want)
{
	struct th_resp r = {0};

	th_http(st.base, "POST", "/execute", body, NULL, 0, &r);
	if (!th_check_error(&r, status, want))
		printf("  (request was %s)\n", body);
	th_resp_fini(&r);
}

/* "Get Supported Languages": the installed ones, each with its version;
 * the README's three must be there. */
static void test_languages(void)
{
	static const char *const want[] = {"python", "typescript", "rust"};
	struct th_resp r = {0};
	json_t *j, *v;
	size_t i;

	th_http(st.base, "GET", "/languages", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);
	j = th_json(&r);
	CHECKF(json_is_array(j) && json_array_size(j) >= 3, "%s", r.body);
	json_array_foreach(j, i, v)
	{
		char why[160];

		CHECKF(th_json_shape(v, "name:s version:s aliases:a source_file:s compiled:b", why,
				     sizeof(why)),
		       "element %zu: %s", i, why);
		CHECKF(*json_string_value(json_object_get(v, "version")), "%s has no version",
		       json_string_value(json_object_get(v, "name")));
	}
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		bool found = false;

		json_array_foreach(j, i, v)
		{
			const char *name = json_string_value(json_object_get(v, "name"));

			found = found || (name && strcmp(name, want[k]) == 0);
		}
		CHECKF(found, "'%s' is not installed (scripts/deps.sh): %s", want[k], r.body);
	}
	json_decref(j);
	th_resp_fini(&r);
}

/* "Execute Code" and "Testing", as written. */
static void test_documented(void)
{
	execute("{\n"
		"    \"language\": \"python\",\n"
		"    \"code\": \"print(\\\"Hello from Rust codesandbox!\\\")\",\n"
		"    \"timeout\": 30\n"
		"  }",
		EXEC_SHAPE, "Hello from Rust codesandbox!\n", "", 0, "success");
	execute("{\"language\": \"python\", \"code\": \"print(2 + 2)\"}", EXEC_SHAPE, "4\n", "", 0,
		"success");
	execute("{\"language\": \"typescript\", \"code\": \"console.log(\\\"Hello "
		"TypeScript!\\\")\"}",
		EXEC_SHAPE, "Hello TypeScript!\n", "", 0, "success");
	execute("{\"language\": \"rust\", \"code\": \"fn main() { println!(\\\"Hello Rust!\\\"); "
		"}\"}",
		EXEC_SHAPE, "Hello Rust!\n", "", 0, "success");
}

static void test_outcomes(void)
{
	struct th_resp r = {0};
	json_t *j;

	/* A program's failure is a 200 with status "error" and the reason. */
	execute("{\"language\": \"python\", \"code\": \"import sys\\nprint('x')\\nsys.exit(3)\"}",
		FAIL_SHAPE, "x\n", "", 3, "error");
	/* A compile error: rustc's message in stderr. */
	th_http(st.base, "POST", "/execute",
		"{\"language\": \"rust\", \"code\": \"fn main() { nope }\"}", NULL, 0, &r);
	j = th_check_reply(&r, FAIL_SHAPE);
	if (j) {
		CHECK_STR(json_string_value(json_object_get(j, "status")), "error");
		CHECK(strstr(json_string_value(json_object_get(j, "stderr")), "E0425") != NULL);
		CHECK(json_integer_value(json_object_get(j, "exit_code")) != 0);
	}
	json_decref(j);
	/* timeout is seconds of wall time; the partial output is kept. */
	execute("{\"language\": \"python\", \"timeout\": 1,"
		" \"code\": \"import time\\nprint('start', flush=True)\\ntime.sleep(30)\"}",
		FAIL_SHAPE, "start\n", "", 137, "timeout");
	th_resp_fini(&r);
}

static void test_bad_input(void)
{
	execute_error("{\"language\": \"python\", \"code\": ", 400, "not valid JSON");
	execute_error("{\"language\": \"brainfuck\", \"code\": \"DISPLAY 'HI'.\"}", 400,
		      "unsupported language 'brainfuck' (supported: python, ");
	execute_error("{\"code\": \"print(1)\"}", 400, "'language'");
	execute_error("{\"language\": \"python\", \"code\": 42}", 400, "'code'");
	execute_error("{\"language\": [\"python\"], \"code\": \"print(1)\"}", 400, "'language'");
	execute_error("{\"language\": \"python\", \"code\": \"print(1)\", \"timeout\": \"soon\"}",
		      400, "'timeout'");
	execute_error("{\"language\": \"python\", \"code\": \"print(1)\", \"timeout\": 100000}",
		      400, "(from 'timeout' x 1000) must be from 1 to ");
	execute_error("{\"language\": \"python\", \"code\": \"print(1)\", \"timeout\": 0}", 400,
		      "'timeout'");
}

int main(void)
{

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_stack_start(&st, "sbx-http-codesandbox", NULL) == 0) {
		test_languages();
		test_documented();
		test_outcomes();
		test_bad_input();
	}
	th_stack_stop(&st);
	curl_global_cleanup();
	TEST_DONE();
}
