/* Judge0 CE's API under /judge0 (judge0/judge0 docs/api) against the real
 * sandboxd and sandbox-gateway: languages and statuses, synchronous
 * submissions (wait=true) with every status the installed languages can
 * provoke, fields, Base64 both ways, Judge0's 422s and 400s. The
 * differences from Judge0 CE are gateway/SEED-DIFFERENCES.md's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "stack.h"
#include "testlib.h"
#include "zipw.h"

static struct th_stack st;

static bool have_rust; /* Judge0's 73 is installed */
static bool have_c;    /* and 50 */
static bool have_asm;  /* and 45 */

/* POST /judge0/submissions?QUERY with body: the 201's JSON (caller
 * decrefs), or NULL after a failed check. */
static json_t *submit(const char *query, const char *body)
{
	char path[512];
	struct th_resp r = {0};
	json_t *j;

	snprintf(path, sizeof(path), "/judge0/submissions?%s", query);
	th_http(st.base, "POST", path, body, NULL, 0, &r);
	CHECKF(r.status == 201, "%s -> %ld %s", body, r.status, r.body);
	j = r.status == 201 ? th_json(&r) : NULL;
	th_resp_fini(&r);
	return j;
}

static int status_id(const json_t *j)
{
	return (int)json_integer_value(json_object_get(json_object_get(j, "status"), "id"));
}

static const char *str(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* A python submission with wait=true: its status id and, when want_out is
 * not NULL, its stdout. */
static void expect_status(const char *body, int want, const char *want_out)
{
	json_t *j = submit("wait=true", body);

	if (!j)
		return;
	CHECKF(status_id(j) == want, "%s: status %d, not %d: %s", body, status_id(j), want,
	       json_dumps(j, JSON_COMPACT));
	if (want_out)
		CHECK_STR(str(j, "stdout"), want_out);
	json_decref(j);
}

/* The default fields, in Judge0's order, with the documented types. */
static void test_default_reply(void)
{
	struct th_resp r = {0};
	json_t *j, *s;
	char why[200];

	th_http(st.base, "POST", "/judge0/submissions?wait=true",
		"{\"source_code\": \"print(input())\", \"language_id\": 71, \"stdin\": \"Judge0\","
		" \"expected_output\": \"Judge0\"}",
		NULL, 0, &r);
	CHECKF(r.status == 201, "%ld %s", r.status, r.body);
	j = th_json(&r);
	CHECKF(th_json_shape(j,
			     "stdout:s time:s memory:i stderr:z token:s compile_output:z "
			     "message:z status:o",
			     why, sizeof(why)),
	       "%s: %s", why, r.body);
	CHECK_STR(str(j, "stdout"), "Judge0\n");
	/* "0.012": seconds as a decimal string. */
	CHECKF(str(j, "time") && strspn(str(j, "time"), "0123456789.") == strlen(str(j, "time")),
	       "%s", r.body);
	CHECK_INT(strlen(str(j, "token")), 36);
	/* Kept, as Judge0 keeps it: read back by its token. */
	if (str(j, "token")) {
		char path[128];
		json_t *k;

		snprintf(path, sizeof(path), "/judge0/submissions/%s?fields=stdout,status_id,stdin",
			 str(j, "token"));
		th_resp_fini(&r);
		th_http(st.base, "GET", path, NULL, NULL, 0, &r);
		CHECKF(r.status == 200, "%s: %ld %s", path, r.status, r.body);
		k = th_json(&r);
		CHECK_STR(str(k, "stdout"), "Judge0\n");
		CHECK_STR(str(k, "stdin"), "Judge0");
		CHECK_INT(json_integer_value(json_object_get(k, "status_id")), 3);
		json_decref(k);
	}
	s = json_object_get(j, "status");
	CHECK(th_json_shape(s, "id:i description:s", why, sizeof(why)));
	CHECK_INT(status_id(j), 3);
	CHECK_STR(str(s, "description"), "Accepted");
	json_decref(j);
	th_resp_fini(&r);
}

/* Every status id python can reach, by Judge0's rules. */
static void test_statuses_provoked(void)
{
	/* expected_output compares after Judge0's strip: trailing blanks of
	 * each line and of the whole. */
	expect_status("{\"source_code\": \"print('a  ')\\nprint('b')\", \"language_id\": 71,"
		      " \"expected_output\": \"a\\nb\\n\\n\"}",
		      3, "a  \nb\n");
	expect_status("{\"source_code\": \"print(1)\", \"language_id\": 71,"
		      " \"expected_output\": \"2\"}",
		      4, "1\n");
	expect_status("{\"source_code\": \"while True: pass\", \"language_id\": 71,"
		      " \"cpu_time_limit\": 0.5, \"cpu_extra_time\": 0.2}",
		      5, NULL);
	expect_status("{\"source_code\": \"import time\\ntime.sleep(5)\", \"language_id\": 71,"
		      " \"wall_time_limit\": 1}",
		      5, NULL);
	/* The signals Judge0 names; python ignores SIGXFSZ, so it is reset. */
	expect_status("{\"source_code\": \"import os\\nos.kill(os.getpid(), 11)\","
		      " \"language_id\": 71}",
		      7, NULL);
	expect_status("{\"source_code\": \"import os, signal\\nsignal.signal(25, signal.SIG_DFL)"
		      "\\nos.kill(os.getpid(), 25)\", \"language_id\": 71}",
		      8, NULL);
	expect_status("{\"source_code\": \"import os\\nos.kill(os.getpid(), 8)\","
		      " \"language_id\": 71}",
		      9, NULL);
	expect_status("{\"source_code\": \"import os\\nos.abort()\", \"language_id\": 71}", 10,
		      NULL);
	expect_status("{\"source_code\": \"import sys\\nsys.exit(3)\", \"language_id\": 71}", 11,
		      NULL);
	expect_status("{\"source_code\": \"import os\\nos.kill(os.getpid(), 10)\","
		      " \"language_id\": 71}",
		      12, NULL);
}

/* max_file_size is the run's RLIMIT_FSIZE (isolate's -f), in KB: a write
 * past Judge0's default 1024 KB is SIGXFSZ, status 8; under a larger one
 * the same program is Accepted. */
static void test_max_file_size(void)
{
	static const char writer[] = "import os, signal\\nsignal.signal(25, signal.SIG_DFL)\\n"
				     "with open('big', 'wb') as f: f.write(b'x' * 2000000)\\n"
				     "print(os.path.getsize('big'))";
	char body[512];
	json_t *j;

	snprintf(body, sizeof(body), "{\"source_code\": \"%s\", \"language_id\": 71}", writer);
	j = submit("wait=true&fields=status_id,message,stdout", body);
	if (j) {
		CHECK_INT(json_integer_value(json_object_get(j, "status_id")), 8);
		CHECK_STR(str(j, "message"), "Caught fatal signal 25");
	}
	json_decref(j);
	snprintf(body, sizeof(body),
		 "{\"source_code\": \"%s\", \"language_id\": 71, \"max_file_size\": 2048}", writer);
	expect_status(body, 3, "2000000\n");
}

/* A submission with additional_files (the archive's entries): the reply
 * with fields, or NULL after a failed check. */
static json_t *submit_files(const char *fields, const char *source, int language,
			    const char *options, const struct zipw_entry *e, size_t n)
{
	char *zip = zipw_make_base64(e, n), path[128], *text;
	json_t *b =
		json_pack("{s:s?, s:i, s:s?, s:s}", "source_code", source, "language_id", language,
			  "compiler_options", options, "additional_files", zip ? zip : "");
	json_t *j;

	snprintf(path, sizeof(path), "wait=true&fields=%s", fields);
	text = json_dumps(b, JSON_COMPACT);
	j = submit(path, text);
	free(text);
	free(zip);
	json_decref(b);
	return j;
}

/* 422 with want in additional_files' messages, for python code and the
 * archive of entries e (NULL: zip64, Base64 text as it is). */
static void expect_refused_files(const struct zipw_entry *e, size_t n, const char *zip64,
				 const char *want)
{
	char *zip = e ? zipw_make_base64(e, n) : NULL;
	json_t *b = json_pack("{s:s, s:i, s:s}", "source_code", "print(1)", "language_id", 71,
			      "additional_files",
			      zip     ? zip
			      : zip64 ? zip64
				      : "");
	char *text = json_dumps(b, JSON_COMPACT);
	struct th_resp r = {0};
	const char *m;
	json_t *j;

	th_http(st.base, "POST", "/judge0/submissions?wait=true", text, NULL, 0, &r);
	j = th_json(&r);
	m = json_string_value(json_array_get(json_object_get(j, "additional_files"), 0));
	CHECKF(r.status == 422 && m && strstr(m, want), "%ld %s (want %s)", r.status, r.body, want);
	json_decref(j);
	th_resp_fini(&r);
	json_decref(b);
	free(text);
	free(zip);
}

/* additional_files: the archive's files are in the workspace; Multi-file
 * programs (89) run its compile and run scripts; bad archives are 422. */
static void test_additional_files(void)
{
	const struct zipw_entry data[] = {
		{.name = "lib/"},
		{.name = "lib/util.py", .content = "X = 42\n"},
		{.name = "data.txt", .content = "from the archive\n"},
	};
	const struct zipw_entry project[] = {
		{.name = "compile",
		 .content = "echo \"compiling with $*\"\n"
			    "printf '#!/bin/sh\\necho built %s\\n' \"$1\" > prog\n"
			    "chmod +x prog\n"},
		{.name = "run", .content = "./prog\necho \"args: $*\"\n"},
	};
	const struct zipw_entry link[] = {{.name = "l", .content = "/etc", .mode = 0120777}};
	const struct zipw_entry own[] = {{.name = "main.py", .content = "print(2)\n"}};
	struct th_resp r = {0};
	json_t *j;

	j = submit_files("stdout,status_id",
			 "import sys\nsys.path.insert(0, 'lib')\nimport util\n"
			 "print(util.X, open('data.txt').read().strip())",
			 71, NULL, data, 3);
	if (j) {
		CHECK_INT(json_integer_value(json_object_get(j, "status_id")), 3);
		CHECK_STR(str(j, "stdout"), "42 from the archive\n");
	}
	json_decref(j);
	j = submit_files("stdout,compile_output,status_id,language_id", NULL, 89, "fast", project,
			 2);
	if (j) {
		CHECK_INT(json_integer_value(json_object_get(j, "status_id")), 3);
		CHECK_STR(str(j, "compile_output"), "compiling with fast\n");
		CHECK_STR(str(j, "stdout"), "built fast\nargs: \n");
	}
	json_decref(j);
	/* A run script that does not parse is a compilation error. */
	j = submit_files("status_id", "if then fi", 89, NULL, project, 1);
	if (j)
		CHECK_INT(json_integer_value(json_object_get(j, "status_id")), 6);
	json_decref(j);
	expect_refused_files(NULL, 0, "aGVsbG8=", "is not a valid zip archive");
	expect_refused_files(link, 1, NULL, "l is not a regular file or a directory");
	expect_refused_files(own, 1, NULL,
			     "must not contain main.py, the submission's source file");
	th_http(st.base, "POST", "/judge0/submissions?wait=true", "{\"language_id\": 89}", NULL, 0,
		&r);
	CHECK_INT(r.status, 422);
	CHECK_STR(r.body, "{\"additional_files\":[\"can't be blank\"]}");
	th_resp_fini(&r);
}

/* The asm row's compile is a script of two tools: compiler options
 * reach nasm (a -D defines a macro the program tests). */
static void test_asm_options(void)
{
	static const char prog[] = "section .data\n"
				   "yes: db \"yes\", 10\n"
				   "no: db \"no\", 10\n"
				   "section .text\n"
				   "global _start\n"
				   "_start:\n"
				   "%ifdef GREET\n"
				   "mov rsi, yes\n"
				   "mov rdx, 4\n"
				   "%else\n"
				   "mov rsi, no\n"
				   "mov rdx, 3\n"
				   "%endif\n"
				   "mov rax, 1\n"
				   "mov rdi, 1\n"
				   "syscall\n"
				   "mov rax, 60\n"
				   "xor rdi, rdi\n"
				   "syscall\n";
	const char *const options[] = {NULL, "-DGREET"}, *const want[] = {"no\n", "yes\n"};

	if (!have_asm) {
		printf("  (nasm is not installed: no assembly compiler options)\n");
		return;
	}
	for (int i = 0; i < 2; i++) {
		json_t *b = json_pack("{s:s, s:i, s:s?}", "source_code", prog, "language_id", 45,
				      "compiler_options", options[i]);
		char *text = json_dumps(b, JSON_COMPACT);

		expect_status(text, 3, want[i]);
		free(text);
		json_decref(b);
	}
}

/* C, where the signals are the program's own doing. */
static void test_c_signals(void)
{
	if (!have_c) {
		printf("  (C is not installed: no SIGSEGV or SIGFPE from a C program)\n");
		return;
	}
	expect_status("{\"source_code\": \"int main(void) { volatile int *p = 0; return *p; }\","
		      " \"language_id\": 50}",
		      7, NULL);
	/* Both operands from stdin: no compiler can fold the division away
	 * (gcc turns 1 / z into a comparison). */
	expect_status("{\"source_code\": \"#include <stdio.h>\\nint main(void) { int a = 1, z = 1; "
		      "scanf(\\\"%d %d\\\", &a, &z); printf(\\\"%d\\\\n\\\", a / z); }\","
		      " \"language_id\": 50, \"stdin\": \"7 0\"}",
		      9, NULL);
	expect_status("{\"source_code\": \"#include <stdio.h>\\nint main(void) { int n; "
		      "scanf(\\\"%d\\\", &n); printf(\\\"%d\\\\n\\\", 2 * n); }\","
		      " \"language_id\": 50, \"stdin\": \"21\", \"expected_output\": \"42\"}",
		      3, "42\n");
	expect_status("{\"source_code\": \"int main(void) { return x; }\", \"language_id\": 50}", 6,
		      NULL);
}

/* NZEC's details: exit_code, message as isolate words it, stderr. */
static void test_runtime_error_fields(void)
{
	json_t *j = submit("wait=true&fields=stderr,exit_code,exit_signal,message,status_id",
			   "{\"source_code\": \"import sys\\nprint('oops', file=sys.stderr)\\n"
			   "sys.exit(4)\", \"language_id\": 71}");
	char why[200];

	if (!j)
		return;
	CHECKF(th_json_shape(j, "status_id:i stderr:s exit_code:i exit_signal:z message:s", why,
			     sizeof(why)),
	       "%s", why);
	CHECK_INT(json_integer_value(json_object_get(j, "status_id")), 11);
	CHECK_STR(str(j, "stderr"), "oops\n");
	CHECK_INT(json_integer_value(json_object_get(j, "exit_code")), 4);
	CHECK_STR(str(j, "message"), "Exited with error status 4");
	json_decref(j);
	j = submit(
		"wait=true&fields=exit_signal,message",
		"{\"source_code\": \"import os\\nos.kill(os.getpid(), 11)\", \"language_id\": 71}");
	if (j) {
		CHECK_INT(json_integer_value(json_object_get(j, "exit_signal")), 11);
		CHECK_STR(str(j, "message"), "Caught fatal signal 11");
	}
	json_decref(j);
}

/* A compiled language: a compile error is status 6 with the compiler's
 * output; warnings of a good compile are compile_output too; arguments
 * and compiler options reach the program and the compiler. */
static void test_compiled(void)
{
	json_t *j;

	if (!have_rust) {
		printf("  (rust is not installed: no compiled language to try)\n");
		return;
	}
	j = submit("wait=true", "{\"source_code\": \"fn main() { x }\", \"language_id\": 73}");
	if (j) {
		CHECK_INT(status_id(j), 6);
		CHECKF(str(j, "compile_output") && strstr(str(j, "compile_output"), "E0425"), "%s",
		       str(j, "compile_output"));
		CHECK(json_is_null(json_object_get(j, "time")));
		CHECK(json_is_null(json_object_get(j, "stdout")));
	}
	json_decref(j);
	j = submit("wait=true&fields=stdout,compile_output,status",
		   "{\"source_code\": \"fn main() { let unused = 1; let a: Vec<String> = "
		   "std::env::args().skip(1).collect(); println!(\\\"{:?}\\\", a); }\","
		   " \"language_id\": 73, \"command_line_arguments\": \"x 'y z' w;\","
		   " \"compiler_options\": \"-C debuginfo=0\"}");
	if (j) {
		CHECK_INT(status_id(j), 3);
		CHECK_STR(str(j, "stdout"), "[\"x\", \"y z\", \"w\"]\n");
		CHECKF(str(j, "compile_output") && strstr(str(j, "compile_output"), "unused"), "%s",
		       str(j, "compile_output"));
	}
	json_decref(j);
	/* A compiler option the compiler refuses is a compilation error. */
	j = submit("wait=true", "{\"source_code\": \"fn main() {}\", \"language_id\": 73,"
				" \"compiler_options\": \"--no-such-option\"}");
	if (j)
		CHECK_INT(status_id(j), 6);
	json_decref(j);
}

/* base64_encoded=true: inputs decoded, text outputs encoded as Ruby's
 * encode64 (a newline after each 60 characters and at the end). */
static void test_base64(void)
{
	json_t *j;

	/* print("hello, " + input()) and stdin "Judge0" */
	j = submit("wait=true&base64_encoded=true&fields=stdout,stderr,message,status",
		   "{\"source_code\": \"cHJpbnQoImhlbGxvLCAiICsgaW5wdXQoKSk=\", "
		   "\"language_id\": 71, \"stdin\": \"SnVkZ2Uw\","
		   " \"expected_output\": \"aGVsbG8sIEp1ZGdlMA==\"}");
	if (j) {
		CHECK_STR(str(j, "stdout"), "aGVsbG8sIEp1ZGdlMAo=\n");
		CHECK(json_is_null(json_object_get(j, "stderr")));
		CHECK_INT(status_id(j), 3);
	}
	json_decref(j);
	/* print("x" * 50): 51 bytes, 68 characters of Base64 in two lines. */
	j = submit("wait=true&base64_encoded=true&fields=stdout",
		   "{\"source_code\": \"cHJpbnQoIngiICogNTAp\", \"language_id\": 71}");
	if (j)
		CHECK_STR(str(j, "stdout"),
			  "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\n"
			  "eHh4eHgK\n");
	json_decref(j);
	/* Output that is not UTF-8 without Base64: Judge0's error, with the
	 * token, still 201. */
	j = submit("wait=true",
		   "{\"source_code\": \"import sys\\nsys.stdout.buffer.write(b'\\\\xfe')\","
		   " \"language_id\": 71}");
	if (j) {
		CHECK_STR(str(j, "error"),
			  "some attributes for this submission cannot be converted "
			  "to UTF-8, use base64_encoded=true query parameter");
		CHECK_INT(strlen(str(j, "token") ? str(j, "token") : ""), 36);
	}
	json_decref(j);
}

/* fields: a subset in Judge0's order whatever the order asked, `*`, and
 * unknown names. */
static void test_fields(void)
{
	json_t *j;
	char why[200];
	struct th_resp r = {0};

	j = submit("wait=true&fields=status,language,time,stdout",
		   "{\"source_code\": \"print(1)\", \"language_id\": 71, \"number_of_runs\": 2}");
	if (j) {
		CHECKF(th_json_shape(j, "stdout:s time:s status:o language:o", why, sizeof(why)),
		       "%s", why);
		CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "language"), "id")),
			  71);
	}
	json_decref(j);
	j = submit("wait=true&fields=*", "{\"source_code\": \"print(1)\", \"language_id\": 71,"
					 " \"cpu_time_limit\": 2, \"memory_limit\": 65536}");
	if (j) {
		CHECK_INT(json_object_size(j), 40);
		CHECK_STR(str(j, "cpu_time_limit"), "2.0");
		CHECK_STR(str(j, "cpu_extra_time"), "1.0");
		CHECK_STR(str(j, "wall_time_limit"), "10.0");
		CHECK_INT(json_integer_value(json_object_get(j, "memory_limit")), 65536);
		CHECK_INT(json_integer_value(json_object_get(j, "stack_limit")), 64000);
		CHECK_INT(json_integer_value(json_object_get(j, "number_of_runs")), 1);
		CHECK_STR(str(j, "source_code"), "print(1)");
		CHECK_INT(json_integer_value(json_object_get(j, "exit_code")), 0);
		CHECK(str(j, "created_at") && str(j, "finished_at"));
	}
	json_decref(j);
	th_http(st.base, "POST", "/judge0/submissions?wait=true&fields=time,foo,bar",
		"{\"source_code\": \"print(1)\", \"language_id\": 71}", NULL, 0, &r);
	th_check_error(&r, 400, "invalid fields: [foo, bar]");
	th_resp_fini(&r);
}

/* 422 {field: [messages]} with Judge0's words, in its validation order. */
static void test_invalid(void)
{
	struct th_resp r = {0};
	json_t *j;

	th_http(st.base, "POST", "/judge0/submissions?wait=true",
		"{\"language_id\": 150000, \"number_of_runs\": 0, \"cpu_time_limit\": \"abc\","
		" \"wall_time_limit\": 100000, \"memory_limit\": 1, \"enable_network\": true}",
		NULL, 0, &r);
	CHECK_INT(r.status, 422);
	CHECK_STR(r.body, "{\"source_code\":[\"can't be blank\"],"
			  "\"number_of_runs\":[\"must be greater than 0\"],"
			  "\"cpu_time_limit\":[\"is not a number\"],"
			  "\"wall_time_limit\":[\"must be less than or equal to 20.0\"],"
			  "\"memory_limit\":[\"must be greater than or equal to 2048\"],"
			  "\"language_id\":[\"language with id 150000 doesn't exist\"],"
			  "\"enable_network\":[\"enabling network is not allowed\"]}");
	th_resp_fini(&r);
	th_http(st.base, "POST", "/judge0/submissions?wait=true", "{\"source_code\": \"x\"}", NULL,
		0, &r);
	CHECK_INT(r.status, 422);
	j = th_json(&r);
	CHECK_STR(json_string_value(json_array_get(json_object_get(j, "language_id"), 0)),
		  "can't be blank");
	json_decref(j);
	th_resp_fini(&r);
	th_http(st.base, "POST", "/judge0/submissions?wait=true",
		"{\"source_code\": \"print(1)\", \"language_id\": 71, \"compiler_options\": "
		"\"-O2\"}",
		NULL, 0, &r);
	CHECK_INT(r.status, 422);
	CHECK_STR(r.body, "{\"compiler_options\":[\"setting compiler options is only allowed for "
			  "compiled languages\"]}");
	th_resp_fini(&r);
	th_http(st.base, "POST", "/judge0/submissions?wait=true&base64_encoded=true",
		"{\"source_code\": \"not base64!\", \"language_id\": 71}", NULL, 0, &r);
	CHECK_INT(r.status, 422);
	CHECK_STR(r.body, "{\"source_code\":[\"is not valid Base64\"]}");
	th_resp_fini(&r);
	/* The daemon sends callbacks, for queued submissions only. */
	th_http(st.base, "POST", "/judge0/submissions?wait=true",
		"{\"source_code\": \"print(1)\", \"language_id\": 71,"
		" \"callback_url\": \"http://example.com/\"}",
		NULL, 0, &r);
	CHECK_INT(r.status, 422);
	CHECK_STR(r.body, "{\"callback_url\":[\"callbacks are sent for submissions made with "
			  "wait=false only\"]}");
	th_resp_fini(&r);
	th_expect_error(st.base, "POST", "/judge0/submissions?wait=true", "{\"source_code\": ", 400,
			"not valid JSON");
}

static void test_languages(void)
{
	struct th_resp r = {0};
	json_t *j, *v;
	size_t i;
	char why[200];
	int last = 0;
	bool python = false;

	th_http(st.base, "GET", "/judge0/languages", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);
	j = th_json(&r);
	CHECKF(json_is_array(j) && json_array_size(j) > 0, "%s", r.body);
	json_array_foreach(j, i, v)
	{
		int id = (int)json_integer_value(json_object_get(v, "id"));

		CHECKF(th_json_shape(v, "id:i name:s", why, sizeof(why)), "%s", why);
		CHECKF(id > last, "ids in order: %d after %d", id, last);
		last = id;
		have_rust |= id == 73;
		have_c |= id == 50;
		have_asm |= id == 45;
		if (id == 71) {
			python = true;
			/* "Python (3.11.2)": the installed version. */
			CHECKF(strncmp(str(v, "name"), "Python (3.", 10) == 0, "%s",
			       str(v, "name"));
		}
	}
	CHECK(python);
	json_decref(j);
	th_resp_fini(&r);
	th_http(st.base, "GET", "/judge0/languages/71", NULL, NULL, 0, &r);
	j = th_json(&r);
	CHECK_INT(r.status, 200);
	CHECKF(th_json_shape(j, "id:i name:s is_archived:b source_file:s compile_cmd:z run_cmd:z",
			     why, sizeof(why)),
	       "%s", why);
	json_decref(j);
	th_resp_fini(&r);
	th_expect_error(st.base, "GET", "/judge0/languages/150000", NULL, 404,
			"language with id 150000 doesn't exist");
	/* The unprefixed /languages is still codesandbox's. */
	th_http(st.base, "GET", "/languages", NULL, NULL, 0, &r);
	j = th_json(&r);
	CHECKF(json_is_array(j) && json_object_get(json_array_get(j, 0), "source_file"), "%s",
	       r.body);
	json_decref(j);
	th_resp_fini(&r);
}

static void test_statuses(void)
{
	static const char *const want[] = {
		"In Queue",
		"Processing",
		"Accepted",
		"Wrong Answer",
		"Time Limit Exceeded",
		"Compilation Error",
		"Runtime Error (SIGSEGV)",
		"Runtime Error (SIGXFSZ)",
		"Runtime Error (SIGFPE)",
		"Runtime Error (SIGABRT)",
		"Runtime Error (NZEC)",
		"Runtime Error (Other)",
		"Internal Error",
		"Exec Format Error",
	};
	struct th_resp r = {0};
	json_t *j;

	th_http(st.base, "GET", "/judge0/statuses", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);
	j = th_json(&r);
	CHECK_INT(json_array_size(j), 14);
	for (size_t i = 0; i < 14; i++) {
		json_t *v = json_array_get(j, i);

		CHECK_INT(json_integer_value(json_object_get(v, "id")), i + 1);
		CHECK_STR(str(v, "description"), want[i]);
	}
	json_decref(j);
	th_resp_fini(&r);
}

/* A daemon whose maxima are below Judge0's: they are the bounds, and the
 * defaults over them come down to them. */
static void test_daemon_maxima(void)
{
	const char *args[] = {"--max-execution-time",
			      "3",
			      "--timeout-ms",
			      "3000",
			      "--max-memory-mb",
			      "100",
			      "--memory-limit-mb",
			      "100",
			      NULL};
	struct th_stack low;
	struct th_resp r = {0};
	json_t *j;

	if (th_stack_start(&low, "sbx-http-judge0-low", args) < 0)
		return;
	th_http(low.base, "POST",
		"/judge0/submissions?wait=true&fields=status,memory_limit,cpu_time_limit,"
		"wall_time_limit",
		"{\"source_code\": \"print(1)\", \"language_id\": 71}", NULL, 0, &r);
	CHECK_INT(r.status, 201);
	CHECK_STR(r.body,
		  "{\"cpu_time_limit\":\"3.0\",\"wall_time_limit\":\"3.0\","
		  "\"memory_limit\":102400,\"status\":{\"id\":3,\"description\":\"Accepted\"}}");
	th_resp_fini(&r);
	th_http(low.base, "POST", "/judge0/submissions?wait=true",
		"{\"source_code\": \"print(1)\", \"language_id\": 71, \"memory_limit\": 200000,"
		" \"cpu_time_limit\": 5}",
		NULL, 0, &r);
	CHECK_INT(r.status, 422);
	j = th_json(&r);
	CHECK_STR(r.body, "{\"cpu_time_limit\":[\"must be less than or equal to 3.0\"],"
			  "\"memory_limit\":[\"must be less than or equal to 102400\"]}");
	json_decref(j);
	th_resp_fini(&r);
	th_stack_stop(&low);
}

int main(void)
{
	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_stack_start(&st, "sbx-http-judge0", NULL) == 0) {
		test_languages();
		test_statuses();
		test_default_reply();
		test_statuses_provoked();
		test_runtime_error_fields();
		test_c_signals();
		test_max_file_size();
		test_additional_files();
		test_asm_options();
		test_compiled();
		test_base64();
		test_fields();
		test_invalid();
	}
	th_stack_stop(&st);
	test_daemon_maxima();
	curl_global_cleanup();
	TEST_DONE();
}
