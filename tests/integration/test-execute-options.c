/* Execute's options for Piston and Judge0 (proto/api.proto, issue #15)
 * through the real daemon: args reach the program's argv, compiler
 * options the compiler's, merge_stderr makes fd 2 the stdout pipe (order
 * of the writes kept), want_output interleaves both streams as read, the
 * compile step's own result comes back (also when it failed), and the
 * compile limits of the request apply and are checked. Run on a daemon
 * with a warm exec pool too (argv[1] "warm"): merge_stderr must never
 * take a pre-built sandbox whose stderr is a pipe of its own. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpcc.h"

static const struct th_daemon *d;

static struct th_rep execute(const char *fmt, const char *json_tail)
{
	struct th_rep r = th_rpc(d->rpc, 120000, "Execute", fmt, json_tail);
	return r;
}

static const char *sub_str(const struct th_rep *r, const char *obj, const char *key)
{
	json_t *o = th_rep_get(r, obj);
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void args_reach_argv(void)
{
	struct th_rep r =
		execute("{\"language\": \"python\", \"code\": \"import sys\\nprint(sys.argv[1:])\","
			" \"args\": %s}",
			"[\"a b\", \"-c\", \"\"]");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "stdout"), "['a b', '-c', '']\n");
	CHECK(th_rep_get(&r, "compile") == NULL);
	th_rep_fini(&r);
}

/* Three writes, 2 on stderr between 1 and 3, with pauses so that the
 * spawner reads them one at a time even on separate pipes. */
#define WRITES                                                                                     \
	"import os, time\\nos.write(1, b'1')\\ntime.sleep(0.1)\\nos.write(2, b'2')\\n"             \
	"time.sleep(0.1)\\nos.write(1, b'3')\\n"

static void merge_and_output(void)
{
	struct th_rep r = execute("{\"language\": \"python\", \"code\": \"" WRITES "\", %s}",
				  "\"merge_stderr\": true");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "stdout"), "123");
	CHECK_STR(th_rep_str(&r, "stderr"), "");
	CHECK_STR(th_rep_str(&r, "output"), "");
	th_rep_fini(&r);

	r = execute("{\"language\": \"python\", \"code\": \"" WRITES "\", %s}",
		    "\"want_output\": true");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "stdout"), "13");
	CHECK_STR(th_rep_str(&r, "stderr"), "2");
	CHECK_STR(th_rep_str(&r, "output"), "123");
	CHECK(!th_rep_bool(&r, "output_truncated"));
	th_rep_fini(&r);

	/* The interleaved copy is capped like each stream. */
	r = execute("{\"language\": \"python\", \"code\": \"import sys\\nprint('x' * 50)\\n"
		    "print('y' * 50, file=sys.stderr)\", %s}",
		    "\"want_output\": true, \"limits\": {\"output_bytes\": 60}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECKF(strlen(th_rep_str(&r, "output")) == 60, "output of %zu bytes",
	       strlen(th_rep_str(&r, "output")));
	CHECK(th_rep_bool(&r, "output_truncated"));
	th_rep_fini(&r);
}

#define RUST_CFG                                                                                   \
	"#[cfg(sbx_opt)] fn which() -> &'static str { \\\"opt\\\" }\\n"                            \
	"#[cfg(not(sbx_opt))] fn which() -> &'static str { \\\"plain\\\" }\\n"                     \
	"fn main() { let a: Vec<String> = std::env::args().skip(1).collect(); "                    \
	"println!(\\\"{} {:?}\\\", which(), a); }\\n"

static void compiled(void)
{
	struct th_rep r =
		execute("{\"language\": \"rust\", \"code\": \"" RUST_CFG "\", %s}",
			"\"args\": [\"x\"], \"compiler_options\": [\"--cfg\", \"sbx_opt\"],"
			" \"want_output\": true");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "status"), "EXEC_STATUS_OK");
	CHECK_STR(th_rep_str(&r, "stdout"), "opt [\"x\"]\n");
	CHECK_STR(sub_str(&r, "compile", "status"), "EXEC_STATUS_OK");
	CHECK(json_integer_value(json_object_get(th_rep_get(&r, "compile"), "wall_time_ms")) > 0);
	th_rep_fini(&r);

	r = execute("{\"language\": \"rust\", \"code\": \"" RUST_CFG "\"%s}", "");
	CHECK_STR(th_rep_str(&r, "stdout"), "plain []\n");
	th_rep_fini(&r);

	/* A failed compile is the result, and its own compile result too. */
	r = execute(
		"{\"language\": \"rust\", \"code\": \"fn main() { let x: u8 = \\\"s\\\"; }\", %s}",
		"\"want_output\": true");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "status"), "EXEC_STATUS_RUNTIME_ERROR");
	CHECK_STR(th_rep_str(&r, "error"), "exited with code 1");
	CHECK_STR(sub_str(&r, "compile", "status"), "EXEC_STATUS_RUNTIME_ERROR");
	CHECK_STR(sub_str(&r, "compile", "error"), "exited with code 1");
	CHECK(strstr(sub_str(&r, "compile", "stderr"), "mismatched types") != NULL);
	CHECK(strstr(sub_str(&r, "compile", "output"), "mismatched types") != NULL);
	CHECK_STR(th_rep_str(&r, "stderr"), sub_str(&r, "compile", "stderr"));
	th_rep_fini(&r);
}

static void compile_limits(void)
{
	/* The request's compile limit wins over the row's 60 s. */
	struct th_rep r = execute("{\"language\": \"rust\", \"code\": \"fn main() {}\", %s}",
				  "\"compile_limits\": {\"cpu_time_ms\": 1, \"wall_time_ms\": 5}");
	TH_CHECK_STATUS(r, SBX_OK);
	const char *st = sub_str(&r, "compile", "status");
	CHECKF(strcmp(st, "EXEC_STATUS_TIME_LIMIT") == 0 ||
		       strcmp(st, "EXEC_STATUS_WALL_TIME_LIMIT") == 0,
	       "compile status %s", st);
	CHECK_STR(th_rep_str(&r, "error"), sub_str(&r, "compile", "error"));
	CHECK_STR(th_rep_str(&r, "stdout"), "");
	th_rep_fini(&r);

	/* Up to the larger of the row's own (2 GiB for rustc) and the
	 * daemon's maximum, not past both. */
	r = execute("{\"language\": \"rust\", \"code\": \"fn main() {}\", %s}",
		    "\"compile_limits\": {\"memory_kb\": 1099511627776}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECK(strstr(r.msg, "compile limit 'memory_kb' must be from 1 to ") != NULL);
	th_rep_fini(&r);
	r = execute("{\"language\": \"rust\", \"code\": \"fn main() {}\", %s}",
		    "\"compile_limits\": {\"pids\": 0}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	th_rep_fini(&r);
}

int main(int argc, char **argv)
{
	bool warm = argc > 1 && strcmp(argv[1], "warm") == 0;
	const char *const warm_args[] = {"--warm-pool", "2", NULL};
	struct th_daemon dm;

	if (th_daemon_init(&dm, "sbx-exec-options") < 0)
		return 1;
	th_daemon_start(&dm, warm ? warm_args : NULL);
	th_daemon_up_or_skip(&dm);
	d = &dm;
	args_reach_argv();
	merge_and_output();
	if (access("/usr/bin/rustc", X_OK) == 0) {
		compiled();
		compile_limits();
	} else {
		printf("no /usr/bin/rustc: the compile cases are left out\n");
	}
	th_daemon_stop(&dm, 15000);
	th_daemon_fini(&dm);
	TEST_DONE();
}
