/* Warm python through the real daemon: the same Execute RPCs (language
 * python) on a sandboxd without warm interpreters and on one with
 * --warm-pool-python 2 give the same stdout, stderr, exit code, signal,
 * status and error text. The engine-level test (tests/sandbox/
 * test-warm-python.c) covers more snippets; this one covers what the
 * daemon adds: its runtime row, base environment and limits, the request
 * a client really sends. That the warm daemon ran them from its pool is
 * measured: after the same pause, a probe's interpreter started long
 * before it ran. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "rpcc.h"

#define PAUSE_MS 700
#define MIN_AGE_TICKS 30

struct snippet {
	const char *name, *code, *stdin_data;
	int cpu_ms, wall_ms, memory_mb;
};

static const struct snippet snippets[] = {
	{.name = "print", .code = "print(1)\n"},
	{.name = "exception", .code = "def f():\n    raise ValueError('boom')\n\nf()\n"},
	{.name = "syntax", .code = "print(1)\nx = (\n"},
	{.name = "exit", .code = "import sys\nprint('a')\nsys.exit(3)\n"},
	{.name = "exitmsg", .code = "import sys\nsys.exit('bad thing')\n"},
	{.name = "stdin", .code = "import sys\nprint(sys.stdin.read()[::-1])\n", .stdin_data = "abc"},
	{.name = "argv",
	 .code = "import sys, os\nprint(sys.argv, sys.orig_argv, __file__, sys.path[0], os.getcwd())\n"
		 "print(sorted(os.environ.items()), sorted(globals()))\n"},
	{.name = "frames", .code = "import traceback\ntraceback.print_stack()\n"},
	{.name = "signal", .code = "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"},
	{.name = "recursion", .code = "def f(n):\n    return f(n + 1)\n\nf(0)\n"},
	{.name = "cpu", .code = "while True:\n    pass\n", .cpu_ms = 500},
	{.name = "wall", .code = "import time\nprint('s', flush=True)\ntime.sleep(20)\n",
	 .wall_ms = 600},
	{.name = "memory", .code = "b = bytearray(300 << 20)\nprint('survived')\n", .memory_mb = 64},
};

static const char *const compared[] = {"stdout", "stderr", "exit_code", "signal", "status",
				       "error", "stdout_truncated", "stderr_truncated"};

/* The Execute request of sn as JSON (caller frees). */
static char *request(const struct snippet *sn)
{
	json_t *j = json_pack("{s:s, s:s}", "language", "python", "code", sn->code);
	json_t *lim = json_object();
	if (sn->stdin_data)
		json_object_set_new(j, "stdin", json_string(sn->stdin_data));
	if (sn->cpu_ms)
		json_object_set_new(lim, "cpu_time_ms", json_integer(sn->cpu_ms));
	if (sn->wall_ms)
		json_object_set_new(lim, "wall_time_ms", json_integer(sn->wall_ms));
	if (sn->memory_mb)
		json_object_set_new(lim, "memory_kb", json_integer(sn->memory_mb * 1024));
	json_object_set_new(j, "limits", lim);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static struct th_rep execute(const struct th_daemon *d, const struct snippet *sn)
{
	char *body = request(sn);
	struct th_rep r = th_rpc(d->rpc, 60000, "Execute", "%s", body);
	free(body);
	TH_CHECK_STATUS(r, SBX_OK);
	return r;
}

static void compare(const char *name, const struct th_rep *cold, const struct th_rep *warm)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(compared); i++) {
		json_t *a = th_rep_get(cold, compared[i]), *b = th_rep_get(warm, compared[i]);
		bool same = (!a && !b) || (a && b && json_equal(a, b));
		if (!same) {
			char *sa = a ? json_dumps(a, JSON_ENCODE_ANY) : NULL;
			char *sb = b ? json_dumps(b, JSON_ENCODE_ANY) : NULL;
			printf("%s: %s differs:\n  cold %.400s\n  warm %.400s\n", name, compared[i],
			       sa ? sa : "(none)", sb ? sb : "(none)");
			free(sa);
			free(sb);
		}
		CHECKF(same, "%s: %s", name, compared[i]);
	}
}

static long probe_age(const struct th_daemon *d)
{
	static const struct snippet probe = {
		.name = "probe",
		.code = "now = float(open('/proc/uptime').read().split()[0])\n"
			"start = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19])\n"
			"print(round(now * 100) - start)\n"};
	struct th_rep r = execute(d, &probe);
	long age = atol(th_rep_str(&r, "stdout"));
	th_rep_fini(&r);
	return age;
}

int main(void)
{
	if (access("/usr/bin/python3", X_OK) != 0)
		SKIP("/usr/bin/python3 is not installed");
	struct th_daemon cold, warm;
	if (th_daemon_init(&cold, "sbx-warm-python") < 0)
		return 1;
	th_daemon_init_in(&warm, cold.dir, "warm");
	static const char *const cold_args[] = {"--warm-pool-python", "0", NULL};
	static const char *const warm_args[] = {"--warm-pool-python", "2", NULL};
	unsetenv("SANDBOX_WARM_POOL_PYTHON");
	th_daemon_start(&cold, cold_args);
	th_daemon_start(&warm, warm_args);
	th_daemon_up_or_skip(&cold);
	th_daemon_up_or_skip(&warm);
	/* The first python execution shows the pool the environment. */
	struct th_rep r = execute(&warm, &snippets[0]);
	th_rep_fini(&r);
	for (size_t i = 0; i < SBX_ARRAY_SIZE(snippets); i++) {
		const struct snippet *sn = &snippets[i];
		struct th_rep c = execute(&cold, sn);
		th_sleep_ms(PAUSE_MS);
		long age = probe_age(&warm);
		CHECKF(age >= MIN_AGE_TICKS, "%s: the probe's interpreter is %ld ticks old", sn->name,
		       age);
		th_sleep_ms(PAUSE_MS);
		struct th_rep w = execute(&warm, sn);
		compare(sn->name, &c, &w);
		th_rep_fini(&c);
		th_rep_fini(&w);
	}
	th_daemon_stop(&warm, 15000);
	th_daemon_stop(&cold, 15000);
	th_daemon_fini(&warm);
	th_daemon_fini(&cold);
	TEST_DONE();
}
