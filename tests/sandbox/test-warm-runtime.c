/* Warm interpreters (daemon/sandbox/warm_runtime.c): a snippet run by an
 * interpreter started ahead of its request gives exactly what a cold
 * `python3 -u main.py` (`node main.js`) gives; argv[1] says which
 * runtime ("python" or "node"). Python: stdout, stderr, exit code, signal, status,
 * error text and truncation, for every kind of ending (output, uncaught
 * exceptions, SyntaxError, SystemExit with a code or a message,
 * KeyboardInterrupt, signals, recursion, each limit) and for everything
 * the script can see of how it was started (argv, __main__ and its
 * globals, __file__, sys.path, the frame stack, cwd, environment, rlimits,
 * loaded modules, the workspace). Node: console output, thrown errors and
 * their stacks, syntax errors, ES module syntax (which node re-reads the
 * script for), process.exit, unhandled rejections, argv, __filename,
 * require.main, files, stdin, environment and each limit.
 *
 * Each snippet runs as the daemon runs python code (the runtime's argv,
 * the daemon's base environment, the code as main.py) on an engine
 * without pools and on one with the python pool, and the two results
 * must be equal. That the warm run took a pre-started interpreter is
 * measured, not assumed: after the same pause, a probe on the warm engine
 * finds its interpreter started long before it ran. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "engine_util.h"
#include "testlib.h"
#include "warm_runtimes.h"

/* The pause that lets the pool start an interpreter again, and the least
 * age (clock ticks of 10 ms) the probe's interpreter must have to count
 * as pre-started (a cold one runs its first line ~3 ticks after exec). */
#define PAUSE_US 600000
#define MIN_AGE_TICKS 30

struct snippet {
	const char *name, *code, *stdin_data;
	const char *pkg; /* node: a package.json beside main.js */
	uint64_t cpu_ms, wall_ms, memory_kb, output_bytes, fsize_kb;
};

static const struct snippet py_snippets[] = {
	{.name = "print", .code = "print(1)\n"},
	{.name = "exception", .code = "def f():\n    raise ValueError('boom')\n\nf()\n"},
	{.name = "chained", .code = "try:\n    1/0\nexcept Exception as e:\n    raise KeyError('k') from e\n"},
	{.name = "syntax", .code = "print(1)\nx = (\nprint(2)\n"},
	{.name = "indent", .code = "if True:\nprint(1)\n"},
	{.name = "exit3", .code = "import sys\nprint('a')\nsys.exit(3)\n"},
	{.name = "exitmsg", .code = "import sys\nsys.exit('bad thing')\n"},
	{.name = "exitnone", .code = "raise SystemExit\n"},
	{.name = "kbint", .code = "print('x', flush=True)\nraise KeyboardInterrupt\n"},
	{.name = "stdin", .code = "import sys\nprint(sys.stdin.read().upper(), end='')\n", .stdin_data = "hello\nworld\n"},
	{.name = "files", .code = "import os\nopen('out.txt', 'w').write('x')\n"
	 "print(sorted(os.listdir('.')), os.getcwd(), os.stat('main.py').st_size)\n"},
	{.name = "argv", .code = "import sys, os\nprint(sys.argv, sys.orig_argv, __file__, sys.path[0], __name__)\n"
	 "print(sorted(globals()), __spec__, __cached__, type(__loader__).__name__)\n"
	 "print(sys.flags, sys.executable)\n"},
	{.name = "frames", .code = "import sys, inspect, traceback\ntraceback.print_stack()\n"
	 "print(sys._getframe().f_back, len(inspect.stack()))\n"},
	{.name = "warnings", .code = "import warnings\nwarnings.warn('deep', stacklevel=2)\nwarnings.warn('here')\n"},
	{.name = "env", .code = "import os\nprint(sorted(os.environ.items()))\n"},
	{.name = "modules", .code = "import sys\nprint(sorted(sys.modules))\n"},
	{.name = "rlimits", .code = "import resource as r\nprint([r.getrlimit(x) for x in (r.RLIMIT_CPU, r.RLIMIT_FSIZE, "
	 "r.RLIMIT_NOFILE, r.RLIMIT_STACK, r.RLIMIT_NPROC, r.RLIMIT_CORE, r.RLIMIT_MEMLOCK)])\n",
	 /* Not whole seconds: RLIMIT_CPU, the backstop behind the cgroup's
	  * CPU limit, gets the interpreter's start-up on top in a warm run
	  * (warm_runtime.c), which shows as one second more when the limit
	  * is whole seconds. */
	 .cpu_ms = 2500, .fsize_kb = 4096},
	{.name = "ids", .code = "import os\nprint(os.getpid(), os.getppid(), os.getuid(), os.getgid(), os.umask(0))\n"},
	{.name = "recursion", .code = "def f(n):\n    return f(n + 1)\n\nf(0)\n"},
	{.name = "unicode", .code = "print('h\\u00e9 \\u2713')\nimport sys\nprint(sys.stdout.encoding)\n"},
	{.name = "atexit", .code = "import atexit\natexit.register(lambda: print('bye'))\nraise SystemExit(5)\n"},
	{.name = "abort", .code = "import os\nprint('before', flush=True)\nos.abort()\n"},
	{.name = "kill", .code = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"},
	{.name = "cpu", .code = "while True:\n    pass\n", .cpu_ms = 500},
	{.name = "wall", .code = "import time\nprint('start', flush=True)\ntime.sleep(30)\n", .wall_ms = 700},
	{.name = "memory", .code = "b = bytearray(300 * 1024 * 1024)\nprint('survived')\n", .memory_kb = 64 * 1024},
	{.name = "output", .code = "print('x' * 100000)\n", .output_bytes = 1000},
	{.name = "fsize", .code = "open('big', 'wb').write(b'x' * 3000000)\n", .fsize_kb = 1024},
	{.name = "threads", .code = "import threading\nt = threading.Thread(target=lambda: print('thread'))\n"
	 "t.start(); t.join()\n"},
	{.name = "fork", .code = "import os\npid = os.fork()\nif pid == 0:\n    print('child')\n    os._exit(7)\n"
		 "print(os.waitpid(pid, 0)[1] >> 8)\n"},
};

static const struct snippet node_snippets[] = {
	{.name = "log", .code = "console.log(1)\n"},
	{.name = "error", .code = "function f() {\n  throw new Error('boom');\n}\nf();\n"},
	{.name = "syntax", .code = "console.log(1);\nlet x = ;\n"},
	{.name = "esm", .code = "import fs from 'fs';\nconsole.log(typeof fs.readFileSync, import.meta.url);\n"},
	{.name = "esm-error", .code = "import os from 'os';\nthrow new TypeError(typeof os);\n"},
	/* Read before main.js: a pre-started node could not have, so these
	 * start cold, and must still give what a cold start gives. */
	{.name = "pkg-module", .code = "console.log(typeof require, typeof module);\n",
	 .pkg = "{\"type\": \"module\"}\n"},
	{.name = "pkg-bad", .code = "console.log(1);\n", .pkg = "{not json\n"},
	{.name = "exit3", .code = "console.log('a');\nprocess.exit(3);\n"},
	{.name = "exitcode", .code = "process.exitCode = 4;\nconsole.error('e');\n"},
	{.name = "argv", .code = "console.log(process.argv, process.execArgv, __filename, __dirname,\n"
	 "  require.main === module, module.id, module.paths, process.cwd());\n"},
	{.name = "stack", .code = "console.log(new Error('here').stack);\n"},
	{.name = "files", .code = "const fs = require('fs');\nfs.writeFileSync('out.txt', 'x');\n"
	 "console.log(fs.readdirSync('.').sort(), fs.statSync('main.js').size);\n"},
	{.name = "stdin", .code = "console.log(require('fs').readFileSync(0, 'utf8').toUpperCase());\n",
	 .stdin_data = "hello\nworld\n"},
	{.name = "rejection", .code = "Promise.reject(new Error('r'));\n"},
	{.name = "await", .code = "const y = await Promise.resolve(5);\nconsole.log(y);\n"},
	{.name = "env", .code = "console.log(Object.entries(process.env).sort());\n"},
	{.name = "ids", .code = "console.log(process.pid, process.ppid, process.getuid(), process.getgid(),\n"
	 "  process.umask());\n"},
	{.name = "kill", .code = "process.kill(process.pid, 'SIGKILL');\n"},
	{.name = "cpu", .code = "for (;;) {}\n", .cpu_ms = 800},
	{.name = "wall", .code = "console.log('start');\nsetTimeout(() => {}, 30000);\n", .wall_ms = 1000},
	{.name = "memory", .code = "const a = [];\nfor (;;) a.push(Buffer.alloc(1 << 20, 1));\n",
	 .memory_kb = 128 * 1024},
	{.name = "output", .code = "console.log('x'.repeat(100000));\n", .output_bytes = 1000},
	{.name = "fsize", .code = "require('fs').writeFileSync('big', Buffer.alloc(3000000));\n",
	 .fsize_kb = 1024},
};

struct runtime {
	const char *name, *bin, *env_var, *script; /* name, bin first: tw_pick */
	const char *argv[4];
	const struct snippet *snippets;
	size_t n_snippets;
	const char *probe; /* prints how long ago its process started, in ticks */
	uint64_t memory_kb; /* the limit snippets run with unless they say */
	const char *spin;   /* an endless loop */
};

static const struct runtime runtimes[] = {
	{"python", "/usr/bin/python3", "SANDBOX_WARM_POOL_PYTHON", "main.py",
	 {"/usr/bin/python3", "-u", "main.py"}, py_snippets, SBX_ARRAY_SIZE(py_snippets),
	 TW_PY_PRINT_AGE, 256 * 1024, "while True:\n    pass\n"},
	{"node", "/usr/bin/node", "SANDBOX_WARM_POOL_NODE", "main.js", {"/usr/bin/node", "main.js"},
	 node_snippets, SBX_ARRAY_SIZE(node_snippets),
	 TW_NODE_PRINT_AGE, 512 * 1024, "for (;;) {}\n"},
};
static const struct runtime *rt;

/* The daemon's base environment (daemon/exec/exec_spec.c). */
static const char *const base_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp",
				       "TMPDIR=/tmp", "LANG=C.UTF-8", NULL};

static Sbx__ExecResult *run_code(struct sbx_engine *e, const struct snippet *sn)
{
	struct tu_spec s;
	tu_spec_init(&s);
	for (int i = 0; base_env[i]; i++)
		s.env[i] = base_env[i];
	for (int i = 0; rt->argv[i]; i++)
		s.argv[i] = rt->argv[i];
	s.stdin_data = sn->stdin_data;
	s.lim.memory_kb = rt->memory_kb;
	if (sn->cpu_ms)
		s.lim.cpu_time_ms = sn->cpu_ms;
	if (sn->wall_ms)
		s.lim.wall_time_ms = sn->wall_ms;
	if (sn->memory_kb)
		s.lim.memory_kb = sn->memory_kb;
	if (sn->output_bytes)
		s.lim.output_bytes = sn->output_bytes;
	if (sn->fsize_kb)
		s.lim.fsize_kb = sn->fsize_kb;
	tu_add_file(&s, rt->script, sn->code, false);
	if (sn->pkg)
		tu_add_file(&s, "package.json", sn->pkg, false);
	return tu_run(e, &s, NULL);
}

static bool same_bytes(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void compare(const char *name, const Sbx__ExecResult *cold, const Sbx__ExecResult *warm)
{
	bool same = cold->status == warm->status && cold->exit_code == warm->exit_code &&
		    cold->signal == warm->signal && strcmp(cold->error, warm->error) == 0 &&
		    cold->stdout_truncated == warm->stdout_truncated &&
		    cold->stderr_truncated == warm->stderr_truncated &&
		    same_bytes(&cold->stdout, &warm->stdout) &&
		    same_bytes(&cold->stderr, &warm->stderr);
	if (!same) {
		fprintf(stderr, "%s: cold and warm differ\n", name);
		tu_dump("cold", cold);
		tu_dump("warm", warm);
	}
	CHECKF(same, "%s", name);
}

/* The probe: how long ago its interpreter started, in clock ticks. */
static long probe_age(struct sbx_engine *e)
{
	const struct snippet probe = {.name = "probe", .code = rt->probe};
	Sbx__ExecResult *r = run_code(e, &probe);
	long ticks = -1;
	if (r->status != ST(OK) || sscanf(tu_out(r), "%ld", &ticks) != 1)
		tu_dump("probe", r);
	CHECK_INT(r->status, ST(OK));
	tu_free(r);
	return ticks;
}

/* A CPU limit of whole seconds: RLIMIT_CPU (whole seconds, per process)
 * and the cgroup's CPU time run out together, and on a cold start either
 * may end the run (SIGXCPU or the spawner's SIGKILL, a race). A warm run
 * is ended by the spawner, always: its backstop has the interpreter's
 * start-up on top. */
static void cpu_whole_seconds(struct sbx_engine *e)
{
	const struct snippet spin = {.name = "spin", .code = rt->spin, .cpu_ms = 1000};
	for (int i = 0; i < 2; i++) {
		usleep(PAUSE_US);
		Sbx__ExecResult *r = run_code(e, &spin);
		if (r->signal != 9)
			tu_dump("spin", r);
		CHECK_INT(r->status, ST(TIME_LIMIT));
		CHECK_INT(r->signal, 9);
		tu_free(r);
	}
}

static struct sbx_engine *engine(const char *pool)
{
	setenv(rt->env_var, pool, 1);
	unsetenv("SANDBOX_WARM_POOL");
	return tu_engine(SBX_CGROUP_AUTO);
}

int main(int argc, char **argv)
{
	rt = tw_pick(argc, argv, runtimes, SBX_ARRAY_SIZE(runtimes), sizeof(runtimes[0]));
	struct sbx_engine *cold = engine("0"), *warm = engine("2");
	/* The first request shows the pool the environment to start
	 * its interpreters with: a miss. */
	Sbx__ExecResult *r = run_code(warm, &rt->snippets[0]);
	CHECK_INT(r->status, ST(OK));
	tu_free(r);
	const char *only = getenv("SBX_TEST_ONLY"); /* one snippet, by name */
	for (size_t i = 0; i < rt->n_snippets; i++) {
		const struct snippet *sn = &rt->snippets[i];
		if (only && strcmp(only, sn->name) != 0)
			continue;
		Sbx__ExecResult *c = run_code(cold, sn);
		usleep(PAUSE_US);
		long age = probe_age(warm);
		CHECKF(age >= MIN_AGE_TICKS, "%s: the probe's interpreter is %ld ticks old: "
		       "the pool did not serve it", sn->name, age);
		usleep(PAUSE_US);
		Sbx__ExecResult *w = run_code(warm, sn);
		compare(sn->name, c, w);
		fprintf(stderr, "%s: cold %llu ms, warm %llu ms (wall)\n", sn->name,
			(unsigned long long)c->wall_time_ms, (unsigned long long)w->wall_time_ms);
		tu_free(c);
		tu_free(w);
	}
	if (!only)
		cpu_whole_seconds(warm);
	/* The warm engine's spawner was forked holding the cold one's
	 * socket: it goes first, or the cold spawner never sees its EOF. */
	sbx_engine_free(warm);
	sbx_engine_free(cold);
	TEST_DONE();
}
