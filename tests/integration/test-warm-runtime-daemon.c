/* Warm interpreters through the real daemon: the same Execute RPCs
 * (language python, or node: argv[1]) on a sandboxd without warm
 * interpreters and on one with --warm-pool-python 2 (--warm-pool-node 2)
 * give the same stdout, stderr, exit code, signal, status and error text.
 * The engine-level test (tests/sandbox/test-warm-runtime.c) covers more
 * snippets; this one covers what the
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
#include "warm_runtimes.h"

#define PAUSE_MS 700
#define MIN_AGE_TICKS 30

struct snippet {
	const char *name, *code, *stdin_data;
	int cpu_ms, wall_ms, memory_mb;
};

static const struct snippet py_snippets[] = {
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

static const struct snippet node_snippets[] = {
	{.name = "log", .code = "console.log(1)\n"},
	{.name = "error", .code = "function f() {\n  throw new Error('boom');\n}\nf();\n"},
	{.name = "syntax", .code = "console.log(1);\nlet x = ;\n"},
	{.name = "esm", .code = "import os from 'os';\nconsole.log(typeof os.cpus, import.meta.url);\n"},
	{.name = "exit", .code = "console.log('a');\nprocess.exit(3);\n"},
	{.name = "stdin", .code = "console.log(require('fs').readFileSync(0, 'utf8').split('').reverse().join(''));\n",
	 .stdin_data = "abc"},
	{.name = "argv", .code = "console.log(process.argv, __filename, process.cwd(),\n"
	 "  Object.entries(process.env).sort());\n"},
	{.name = "rejection", .code = "Promise.reject(new Error('r'));\n"},
	{.name = "signal", .code = "process.kill(process.pid, 'SIGSEGV');\n"},
	{.name = "cpu", .code = "for (;;) {}\n", .cpu_ms = 800},
	{.name = "wall", .code = "console.log('s');\nsetTimeout(() => {}, 20000);\n", .wall_ms = 1000},
	{.name = "memory", .code = "const a = [];\nfor (;;) a.push(Buffer.alloc(1 << 20, 1));\n",
	 .memory_mb = 128},
};

struct runtime {
	const char *language, *bin, *flag; /* language, bin first: tw_pick */
	const struct snippet *snippets;
	size_t n_snippets;
	const char *probe; /* prints how long ago its process started, in ticks */
};

static const struct runtime runtimes[] = {
	{"python", "/usr/bin/python3", "--warm-pool-python", py_snippets, SBX_ARRAY_SIZE(py_snippets),
	 TW_PY_PRINT_AGE},
	{"node", "/usr/bin/node", "--warm-pool-node", node_snippets, SBX_ARRAY_SIZE(node_snippets),
	 TW_NODE_PRINT_AGE},
};
static const struct runtime *rt;

static const char *const compared[] = {"stdout", "stderr", "exit_code", "signal", "status",
				       "error", "stdout_truncated", "stderr_truncated"};

/* The Execute request of sn as JSON (caller frees). */
static char *request(const struct snippet *sn)
{
	json_t *j = json_pack("{s:s, s:s}", "language", rt->language, "code", sn->code);
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
	const struct snippet probe = {.name = "probe", .code = rt->probe};
	struct th_rep r = execute(d, &probe);
	long age = atol(th_rep_str(&r, "stdout"));
	th_rep_fini(&r);
	return age;
}

/* The warm daemon's pool of rt, as GetStats reports it (its memory is
 * what a ready interpreter holds). */
static void print_pool(const struct th_daemon *d)
{
	struct th_rep r = th_rpc(d->rpc, 10000, "GetStats", "{}");
	json_t *pools = th_rep_get(&r, "warm_pools");
	size_t i;
	json_t *p;
	json_array_foreach(pools, i, p) {
		char *s = json_dumps(p, JSON_COMPACT);
		printf("warm pool: %s\n", s ? s : "?");
		free(s);
	}
	th_rep_fini(&r);
}

int main(int argc, char **argv)
{
	rt = tw_pick(argc, argv, runtimes, SBX_ARRAY_SIZE(runtimes), sizeof(runtimes[0]));
	struct th_daemon cold, warm;
	if (th_daemon_init(&cold, "sbx-warm-runtime") < 0)
		return 1;
	th_daemon_init_in(&warm, cold.dir, "warm");
	const char *const cold_args[] = {rt->flag, "0", NULL};
	const char *const warm_args[] = {rt->flag, "2", NULL};
	unsetenv("SANDBOX_WARM_POOL_PYTHON");
	unsetenv("SANDBOX_WARM_POOL_NODE");
	th_daemon_start(&cold, cold_args);
	th_daemon_start(&warm, warm_args);
	th_daemon_up_or_skip(&cold);
	th_daemon_up_or_skip(&warm);
	/* The first execution shows the pool the environment. */
	struct th_rep r = execute(&warm, &rt->snippets[0]);
	th_rep_fini(&r);
	for (size_t i = 0; i < rt->n_snippets; i++) {
		const struct snippet *sn = &rt->snippets[i];
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
	th_sleep_ms(PAUSE_MS);
	print_pool(&warm);
	th_daemon_stop(&warm, 15000);
	th_daemon_stop(&cold, 15000);
	th_daemon_fini(&warm);
	th_daemon_fini(&cold);
	TEST_DONE();
}
