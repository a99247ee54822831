/* Piston v2 (engineer-man/piston api/src/api/v2.js) against the real
 * sandboxd and sandbox-gateway: GET /api/v2/runtimes, POST
 * /api/v2/execute with every field of its stage object, the status
 * mapping (RE, SG, TO, OL, EL), a compiled language, version selectors,
 * file encodings, and Piston's {"message": ...} errors with its sentences
 * (gateway/SEED-DIFFERENCES.md). */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "stack.h"
#include "testlib.h"

/* The stage object: Piston's keys in its order. */
#define STAGE_KEYS                                                                                 \
	"stdout:s stderr:s output:s code:%c signal:%c message:%c status:%c cpu_time:i "            \
	"wall_time:i memory:i"
/* The daemon's limits in this test: 4 KiB of output, 60 s of time. */
#define MAX_OUTPUT "4096"
#define MAX_SECONDS "60"

static struct th_stack st;
static char python_version[32]; /* the installed python, "x.y.z" */
static bool have_rust;

/* POST /api/v2/execute; the 200 reply (caller decrefs) or NULL after a
 * recorded failure. */
static json_t *execute_ok(const char *body)
{
	struct th_resp r = {0};
	json_t *j;

	th_http(st.base, "POST", "/api/v2/execute", body, NULL, 0, &r);
	j = r.status == 200 ? th_json(&r) : NULL;
	CHECKF(j && json_is_object(json_object_get(j, "run")),
	       "want 200, got %ld %.300s (request %.200s)", r.status, r.body, body);
	th_resp_fini(&r);
	return j;
}

/* A Piston error: this status, Content-Type JSON, exactly {"message": s}
 * with s containing want. */
static void expect_message(const char *method, const char *path, const char *body, long status,
			   const char *want)
{
	struct th_resp r = {0};
	json_t *j;
	const char *m;
	char ct[64];

	th_http(st.base, method, path, body, NULL, 0, &r);
	j = th_json(&r);
	m = json_string_value(json_object_get(j, "message"));
	CHECKF(r.status == status && m && json_object_size(j) == 1 && strstr(m, want) &&
		       th_header(&r, "Content-Type", ct, sizeof(ct)) &&
		       strcmp(ct, "application/json") == 0,
	       "want %ld {\"message\": \"...%s...\"}, got %ld %.300s (request %.200s)", status,
	       want, r.status, r.body, body ? body : "");
	json_decref(j);
	th_resp_fini(&r);
}

/* Stage s has Piston's shape, this stdout (NULL: any), status (NULL:
 * null, which also means code is an integer and signal null), signal. */
static void check_stage(json_t *s, const char *out, const char *status, const char *signal,
			const char *message)
{
	char spec[160], why[160];
	const char *msg;

	snprintf(spec, sizeof(spec), STAGE_KEYS, status && signal ? 'z' : 'i', signal ? 's' : 'z',
		 status ? 's' : 'z', status ? 's' : 'z');
	CHECKF(th_json_shape(s, spec, why, sizeof(why)), "%s", why);
	if (out)
		CHECK_STR(th_str(s, "stdout"), out);
	if (status)
		CHECK_STR(th_str(s, "status"), status);
	if (signal)
		CHECK_STR(th_str(s, "signal"), signal);
	msg = json_string_value(json_object_get(s, "message"));
	if (message)
		CHECKF(msg && strstr(msg, message), "message '%s', want '%s'", msg ? msg : "null",
		       message);
	CHECK(json_integer_value(json_object_get(s, "wall_time")) >= 0);
	CHECK(json_integer_value(json_object_get(s, "memory")) >= 0);
}

/* GET /api/v2/runtimes: installed languages with semver versions. */
static void test_runtimes(void)
{
	struct th_resp r = {0};
	regex_t re;
	json_t *j, *v;
	size_t i;
	bool python = false;

	regcomp(&re, "^[0-9]+\\.[0-9]+\\.[0-9]+$", REG_EXTENDED | REG_NOSUB);
	th_http(st.base, "GET", "/api/v2/runtimes", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);
	j = th_json(&r);
	CHECKF(json_is_array(j) && json_array_size(j) > 0, "%.300s", r.body);
	json_array_foreach(j, i, v)
	{
		const char *lang = th_str(v, "language"), *ver = th_str(v, "version");
		char why[160];

		CHECKF(th_json_shape(v,
				     json_object_get(v, "runtime")
					     ? "language:s version:s aliases:a runtime:s"
					     : "language:s version:s aliases:a",
				     why, sizeof(why)),
		       "element %zu: %s", i, why);
		CHECKF(regexec(&re, ver, 0, NULL, 0) == 0, "%s version '%s' is not x.y.z", lang,
		       ver);
		if (strcmp(lang, "python") == 0) {
			python = true;
			snprintf(python_version, sizeof(python_version), "%s", ver);
			CHECK(strncmp(ver, "3.", 2) == 0);
		}
		if (strcmp(lang, "rust") == 0)
			have_rust = true;
		/* bun runs typescript when it is installed (the runtimes table). */
		if (strcmp(lang, "typescript") == 0 && json_object_get(v, "runtime"))
			CHECKF(strcmp(th_str(v, "runtime"), "bun") == 0 ||
				       strcmp(th_str(v, "runtime"), "tsx") == 0,
			       "typescript runtime '%s'", th_str(v, "runtime"));
	}
	CHECKF(python, "python is not installed (scripts/deps.sh): %.300s", r.body);
	regfree(&re);
	json_decref(j);
	th_resp_fini(&r);
}

/* Every field of a successful run, stdin with Piston's trailing newline,
 * and the reply's language and version. */
static void test_success(void)
{
	json_t *j =
		execute_ok("{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"name\": "
			   "\"main.py\", \"content\": \"import sys\\nprint(repr(sys.stdin.read()))"
			   "\\nprint('err', file=sys.stderr)\"}], \"stdin\": \"abc\"}");

	if (j) {
		json_t *run = json_object_get(j, "run");
		char why[160];

		CHECKF(th_json_shape(j, "language:s version:s run:o", why, sizeof(why)), "%s", why);
		CHECK_STR(th_str(j, "language"), "python");
		CHECKF(strcmp(th_str(j, "version"), python_version) == 0, "%s",
		       th_str(j, "version"));
		check_stage(run, "'abc\\n'\n", NULL, NULL, NULL);
		CHECK_STR(th_str(run, "stderr"), "err\n");
		CHECK_STR(th_str(run, "output"), "'abc\\n'\nerr\n");
		CHECK(!json_object_get(j, "compile"));
		CHECK_INT(json_integer_value(json_object_get(run, "code")), 0);
		/* Bytes: a python interpreter takes more than a megabyte. */
		CHECK(json_integer_value(json_object_get(run, "memory")) > (1 << 20));
	}
	json_decref(j);
}

/* args after the program's own argv; output interleaved in the order of
 * the writes. */
static void test_args_output(void)
{
	json_t *j = execute_ok(
		"{\"language\": \"python\", \"version\": \"3\", \"args\": [\"a\", "
		"\"b c\", \"\"], \"files\": [{\"content\": \"import sys, time\\n"
		"print(sys.argv[1:], flush=True)\\nfor i in range(3):\\n"
		"  print(i, flush=True); time.sleep(0.05)\\n"
		"  print('e%d' % i, file=sys.stderr, flush=True); time.sleep(0.05)\"}]}");

	if (j) {
		json_t *run = json_object_get(j, "run");

		check_stage(run, "['a', 'b c', '']\n0\n1\n2\n", NULL, NULL, NULL);
		CHECK_STR(th_str(run, "stderr"), "e0\ne1\ne2\n");
		CHECK_STR(th_str(run, "output"), "['a', 'b c', '']\n0\ne0\n1\ne1\n2\ne2\n");
	}
	json_decref(j);
}

/* Selectors as semver.satisfies reads them; aliases answer with the
 * language's name. */
static void test_versions(void)
{
	char body[512], major[8], want[64];
	const char *sel[] = {"*", "3.x", "^3", ">=3.0.0 <4", "3", python_version, NULL};
	json_t *j;

	snprintf(major, sizeof(major), "%.*s", (int)strcspn(python_version, "."), python_version);
	for (int i = 0; sel[i]; i++) {
		snprintf(body, sizeof(body),
			 "{\"language\": \"py\", \"version\": \"%s\", \"files\": [{\"content\": "
			 "\"print(7)\"}]}",
			 sel[i]);
		j = execute_ok(body);
		if (j) {
			CHECK_STR(th_str(j, "language"), "python");
			CHECK_STR(th_str(json_object_get(j, "run"), "stdout"), "7\n");
		}
		json_decref(j);
	}
	expect_message("POST", "/api/v2/execute",
		       "{\"language\": \"python\", \"version\": \"2.x\", \"files\": [{\"content\": "
		       "\"print 1\"}]}",
		       400, "python-2.x runtime is unknown");
	expect_message(
		"POST", "/api/v2/execute",
		"{\"language\": \"python\", \"version\": \"latest\", \"files\": [{\"content\": "
		"\"1\"}]}",
		400, "python-latest runtime is unknown");
	expect_message("POST", "/api/v2/execute",
		       "{\"language\": \"brainfuck\", \"version\": \"*\", \"files\": [{\"content\": "
		       "\"1\"}]}",
		       400, "brainfuck-* runtime is unknown");
	/* Piston compares names exactly. */
	expect_message("POST", "/api/v2/execute",
		       "{\"language\": \"Python\", \"version\": \"*\", \"files\": [{\"content\": "
		       "\"1\"}]}",
		       400, "Python-* runtime is unknown");
	snprintf(want, sizeof(want), "python-%s.99.0 runtime is unknown", major);
	snprintf(body, sizeof(body),
		 "{\"language\": \"python\", \"version\": \"%s.99.0\", \"files\": [{\"content\": "
		 "\"1\"}]}",
		 major);
	expect_message("POST", "/api/v2/execute", body, 400, want);
}

/* isolate's statuses as job.js reports them. */
static void test_statuses(void)
{
	json_t *j;

	j = execute_ok("{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		       "\"print('x')\\nraise SystemExit(3)\"}]}");
	if (j) {
		json_t *run = json_object_get(j, "run");

		check_stage(run, "x\n", "RE", NULL, "Exited with error status 3");
		CHECK_INT(json_integer_value(json_object_get(run, "code")), 3);
	}
	json_decref(j);
	j = execute_ok("{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		       "\"import os\\nos.kill(os.getpid(), 11)\"}]}");
	if (j)
		check_stage(json_object_get(j, "run"), "", "SG", "SIGSEGV",
			    "Caught fatal signal 11");
	json_decref(j);
	j = execute_ok("{\"language\": \"python\", \"version\": \"*\", \"run_timeout\": 500, "
		       "\"files\": [{\"content\": \"import time\\nprint('s', flush=True)\\n"
		       "time.sleep(30)\"}]}");
	if (j) {
		json_t *run = json_object_get(j, "run");

		check_stage(run, "s\n", "TO", "SIGKILL", "Time limit exceeded");
		CHECK(json_integer_value(json_object_get(run, "wall_time")) >= 500);
		CHECK(json_integer_value(json_object_get(run, "wall_time")) < 10000);
	}
	json_decref(j);
	j = execute_ok("{\"language\": \"python\", \"version\": \"*\", \"run_cpu_time\": 300, "
		       "\"files\": [{\"content\": \"while True: pass\"}]}");
	if (j)
		check_stage(json_object_get(j, "run"), "", "TO", "SIGKILL", "Time limit exceeded");
	json_decref(j);
	/* The daemon keeps MAX_OUTPUT bytes of each stream. */
	j = execute_ok("{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		       "\"print('o' * 100000)\"}]}");
	if (j) {
		check_stage(json_object_get(j, "run"), NULL, "OL", "SIGKILL",
			    "stdout length exceeded");
		CHECK(strlen(th_str(json_object_get(j, "run"), "stdout")) <=
		      (size_t)atoi(MAX_OUTPUT));
	}
	json_decref(j);
	j = execute_ok("{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		       "\"import sys\\nsys.stderr.write('e' * 100000)\"}]}");
	if (j)
		check_stage(json_object_get(j, "run"), "", "EL", "SIGKILL",
			    "stderr length exceeded");
	json_decref(j);
	/* Out of memory is the cgroup's SIGKILL: isolate's SG. */
	j = execute_ok("{\"language\": \"python\", \"version\": \"*\", \"run_memory_limit\": "
		       "67108864, \"files\": [{\"content\": \"x = bytearray(512 << 20)\\n"
		       "print(len(x))\"}]}");
	if (j)
		check_stage(json_object_get(j, "run"), "", "SG", "SIGKILL",
			    "Caught fatal signal 9");
	json_decref(j);
}

/* Files beside the program: utf8, base64, hex; the first utf8 file is the
 * program even when it is not the first. */
static void test_files(void)
{
	json_t *j = execute_ok(
		"{\"language\": \"python\", \"version\": \"*\", \"files\": ["
		"{\"name\": \"b.bin\", \"content\": \"AAEC/w==\", \"encoding\": \"base64\"},"
		"{\"name\": \"main.py\", \"content\": \"print(open('b.bin','rb').read(), "
		"open('h.bin','rb').read(), repr(open('t.txt').read()), "
		"open('file4.code').read())\"},"
		"{\"name\": \"h.bin\", \"content\": \"48690a\", \"encoding\": \"hex\"},"
		"{\"name\": \"t.txt\", \"content\": \"caf\\u00e9\\u0000\", \"encoding\": \"utf8\"},"
		"{\"content\": \"nameless\"}]}");

	if (j)
		check_stage(json_object_get(j, "run"),
			    "b'\\x00\\x01\\x02\\xff' b'Hi\\n' 'café\\x00' nameless\n", NULL, NULL,
			    NULL);
	json_decref(j);
}

/* A compiled language: the compile stage of its own, with its own limits;
 * a failed compile is also the run (v2.js). */
static void test_compiled(void)
{
	json_t *j;

	if (!have_rust) {
		printf("  rust is not installed: compile stage not tested\n");
		return;
	}
	j = execute_ok("{\"language\": \"rust\", \"version\": \"*\", \"args\": [\"x\"], "
		       "\"compile_timeout\": 60000, \"compile_memory_limit\": -1, \"files\": "
		       "[{\"content\": \"fn main() { println!(\\\"hi {:?}\\\", "
		       "std::env::args().skip(1).collect::<Vec<_>>()); }\"}]}");
	if (j) {
		check_stage(json_object_get(j, "compile"), "", NULL, NULL, NULL);
		check_stage(json_object_get(j, "run"), "hi [\"x\"]\n", NULL, NULL, NULL);
		CHECK_INT(
			json_integer_value(json_object_get(json_object_get(j, "compile"), "code")),
			0);
	}
	json_decref(j);
	j = execute_ok("{\"language\": \"rs\", \"version\": \"*\", \"files\": [{\"content\": "
		       "\"fn main() { nope }\"}]}");
	if (j) {
		json_t *compile = json_object_get(j, "compile"), *run = json_object_get(j, "run");

		CHECK_STR(th_str(j, "language"), "rust");
		check_stage(compile, "", "RE", NULL, "Exited with error status");
		CHECK(strstr(th_str(compile, "stderr"), "E0425") != NULL);
		CHECK(strstr(th_str(compile, "output"), "E0425") != NULL);
		CHECKF(json_equal(compile, run), "run is not the failed compile: %s",
		       th_str(run, "stderr"));
	}
	json_decref(j);
	/* compile_timeout is the compile step's wall time. */
	j = execute_ok("{\"language\": \"rust\", \"version\": \"*\", \"compile_timeout\": 20, "
		       "\"files\": [{\"content\": \"fn main() {}\"}]}");
	if (j) {
		check_stage(json_object_get(j, "compile"), "", "TO", "SIGKILL",
			    "Time limit exceeded (wall clock)");
		CHECK(json_equal(json_object_get(j, "compile"), json_object_get(j, "run")));
	}
	json_decref(j);
}

/* Piston's sentences for what get_job() refuses, and ours for what it
 * leaves to chance. */
static void test_bad_input(void)
{
	static const struct {
		const char *body, *want;
	} bad[] = {
		{"{\"language\": ", "the request body is not valid JSON"},
		{"{\"version\": \"*\", \"files\": []}", "language is required as a string"},
		{"{\"language\": 3, \"version\": \"*\", \"files\": []}",
		 "language is required as a string"},
		{"{\"language\": \"python\", \"files\": []}", "version is required as a string"},
		{"{\"language\": \"python\", \"version\": \"*\"}", "files is required as an array"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"name\": \"a\"}]}",
		 "files[0].content is required as a string"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": []}",
		 "files must include at least one utf8 encoded file"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		 "\"AA==\", "
		 "\"encoding\": \"base64\"}]}",
		 "files must include at least one utf8 encoded file"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": \"1\"}, "
		 "{\"content\": \"@@\", \"encoding\": \"base64\"}]}",
		 "files[1].content is not valid base64"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": \"1\"}, "
		 "{\"content\": \"abc\", \"encoding\": \"hex\"}]}",
		 "files[1].content is not valid hex"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": \"1\"}, "
		 "{\"content\": \"1\", \"encoding\": \"utf16\"}]}",
		 "files[1].encoding must be one of utf8, base64, hex"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		 "\"1\"}], "
		 "\"run_timeout\": \"soon\"}",
		 "If specified, run_timeout must be a number"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		 "\"1\"}], "
		 "\"run_timeout\": 60001}",
		 "run_timeout cannot exceed the configured limit of 60000"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		 "\"1\"}], "
		 "\"run_cpu_time\": -5}",
		 "run_cpu_time must be non-negative"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		 "\"1\"}], "
		 "\"compile_memory_limit\": 1e15}",
		 "compile_memory_limit cannot exceed the configured limit of "},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		 "\"1\"}], "
		 "\"args\": [1]}",
		 "args must be an array of strings"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		 "\"1\"}], "
		 "\"stdin\": 5}",
		 "stdin must be a string"},
		{"{\"language\": \"py\\u0000thon\", \"version\": \"*\", \"files\": [{\"content\": "
		 "\"1\"}]}",
		 "language and version must not contain NUL characters"},
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": "
		 "\"print(1)\\u0000\"}]}",
		 "files[0].content must not contain NUL characters"},
		/* The daemon's refusal keeps Piston's error key. */
		{"{\"language\": \"python\", \"version\": \"*\", \"files\": [{\"content\": \"1\"}, "
		 "{\"name\": \"../x\", \"content\": \"1\"}]}",
		 "without '..'"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_message("POST", "/api/v2/execute", bad[i].body, 400, bad[i].want);
	/* -1 is "no limit": the server's largest; 0 is "not given". */
	json_decref(execute_ok("{\"language\": \"python\", \"version\": \"*\", \"files\": "
			       "[{\"content\": \"print(1)\"}], \"run_memory_limit\": -1, "
			       "\"compile_memory_limit\": -1, \"run_timeout\": 0}"));
	/* Fractions of a millisecond round up. */
	json_decref(execute_ok("{\"language\": \"python\", \"version\": \"*\", \"files\": "
			       "[{\"content\": \"print(1)\"}], \"run_timeout\": 1500.5, "
			       "\"run_memory_limit\": 100000000.5}"));
}

int main(void)
{
	const char *const daemon_args[] = {"--max-output-bytes", MAX_OUTPUT, "--max-execution-time",
					   MAX_SECONDS, NULL};

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_stack_start(&st, "sbx-http-piston", daemon_args) == 0) {
		test_runtimes();
		test_success();
		test_args_output();
		test_versions();
		test_statuses();
		test_files();
		test_compiled();
		test_bad_input();
	}
	th_stack_stop(&st);
	curl_global_cleanup();
	TEST_DONE();
}
