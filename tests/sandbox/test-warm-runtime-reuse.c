/* Warm interpreters (daemon/sandbox/warm_runtime.c): nothing one run
 * leaves behind reaches the next run from the pool of pre-started
 * interpreters (python or node: argv[1]).
 *
 * Each round, one run (itself from the pool) plants what a python
 * snippet can: files in /tmp, /dev/shm and the workspace (a module that
 * would shadow the standard library's json), processes left running, SysV
 * shared memory, an abstract and a path unix socket held open by a
 * background process, an environment variable, and changes to imported
 * modules and sys.modules (node: files, a module in node_modules, a
 * detached process, environment and globals). The next run, from the pool, must find none
 * of it. That both came from the pool is measured, not assumed: each
 * prints how long ago its interpreter started (a cold one starts right
 * before it runs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "engine_util.h"
#include "testlib.h"
#include "warm_runtimes.h"

#define ROUNDS 3
#define PAUSE_US 800000
#define MIN_AGE_TICKS 40

#define AGE "import os, sys, json\n" TW_PY_AGE "print('age', round(now * 100) - start)\n"

static const char plant[] = AGE
	"import ctypes, socket, subprocess, time\n"
	"for d in ('/tmp', '/dev/shm', '/workspace'):\n"
	"    open(d + '/planted', 'w').write('secret')\n"
	"open('/workspace/json.py', 'w').write('PLANTED = 1\\n')\n"
	"libc = ctypes.CDLL(None, use_errno=True)\n"
	"assert libc.shmget(0, 4096, 0o1666) >= 0\n"
	"subprocess.Popen(['sleep', '1000'])\n"
	"code = ('import socket, time\\n'\n"
	"        'a = socket.socket(socket.AF_UNIX); a.bind(\"\\\\0sbx-planted\"); a.listen()\\n'\n"
	"        'p = socket.socket(socket.AF_UNIX); p.bind(\"/tmp/planted.sock\"); p.listen()\\n'\n"
	"        'open(\"/tmp/ready\", \"w\").close(); time.sleep(1000)\\n')\n"
	"subprocess.Popen([sys.executable, '-c', code])\n"
	"for i in range(200):\n"
	"    if os.path.exists('/tmp/ready'): break\n"
	"    time.sleep(0.05)\n"
	"assert '@sbx-planted' in open('/proc/net/unix').read()\n"
	"os.environ['SBX_PLANTED'] = 'secret'; os.putenv('SBX_PLANTED2', 'secret')\n"
	"json.PLANTED = 1; sys.modules['sbx_planted'] = json; sys.path.insert(0, '/tmp')\n"
	"import builtins; builtins.sbx_planted = 1\n"
	"print('planted')\n";

static const char check[] = AGE
	"def n(p):\n"
	"    return len(os.listdir(p))\n"
	"print('tmp', n('/tmp'), 'shm', n('/dev/shm'), 'workspace', sorted(os.listdir('/workspace')))\n"
	"ipc = sum(len(open('/proc/sysvipc/' + f).readlines()) - 1 for f in ('shm', 'msg', 'sem'))\n"
	"print('ipc', ipc, 'unix', len(open('/proc/net/unix').readlines()) - 1)\n"
	"procs = [p for p in os.listdir('/proc') if p.isdigit()]\n"
	"print('procs', sorted(open('/proc/%s/comm' % p).read().strip() for p in procs))\n"
	"print('env', [k for k in os.environ if 'PLANTED' in k])\n"
	"import builtins\n"
	"print('modules', hasattr(json, 'PLANTED'), 'sbx_planted' in sys.modules, "
	"'/tmp' in sys.path, hasattr(builtins, 'sbx_planted'), json.__file__.startswith('/usr'))\n";

static const char *const clean = "tmp 0 shm 0 workspace ['main.py']\n"
				 "ipc 0 unix 0\n"
				 "procs ['python3', 'sbx-spawner']\n"
				 "env []\n"
				 "modules False False False False True\n";

#define NODE_AGE TW_NODE_AGE "const cp = require('child_process');\nconsole.log('age', age);\n"

static const char node_plant[] = NODE_AGE
	"for (const d of ['/tmp', '/dev/shm', '/workspace']) fs.writeFileSync(d + '/planted', 'secret');\n"
	"fs.mkdirSync('/workspace/node_modules/planted', {recursive: true});\n"
	"fs.writeFileSync('/workspace/node_modules/planted/index.js', 'module.exports = 1;');\n"
	"cp.spawn('sleep', ['1000'], {detached: true, stdio: 'ignore'}).unref();\n"
	"process.env.SBX_PLANTED = 'secret'; globalThis.sbxPlanted = 1;\n"
	"require('fs').sbxPlanted = 1;\n"
	"console.log('planted');\n";

static const char node_check[] = NODE_AGE
	"const n = (p) => fs.readdirSync(p).length;\n"
	"console.log('tmp', n('/tmp'), 'shm', n('/dev/shm'), 'workspace', fs.readdirSync('/workspace'));\n"
	"const procs = fs.readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p));\n"
	"console.log('procs', procs.map((p) => fs.readFileSync('/proc/' + p + '/comm', 'utf8').trim()).sort());\n"
	"console.log('env', Object.keys(process.env).filter((k) => k.includes('PLANTED')));\n"
	"let found = true;\n"
	"try { require.resolve('planted'); } catch (e) { found = false; }\n"
	"console.log('modules', found, typeof globalThis.sbxPlanted, typeof fs.sbxPlanted);\n";

static const char *const node_clean = "tmp 0 shm 0 workspace [ 'main.js' ]\n"
				      "procs [ 'node', 'sbx-spawner' ]\n"
				      "env []\n"
				      "modules false undefined undefined\n";

struct runtime {
	const char *name, *bin, *env_var, *script; /* name, bin first: tw_pick */
	const char *argv[4];
	const char *first, *plant, *check, *clean;
};

static const struct runtime runtimes[] = {
	{"python", "/usr/bin/python3", "SANDBOX_WARM_POOL_PYTHON", "main.py", {"/usr/bin/python3", "-u", "main.py"},
	 "print('age', 0)\n", plant, check, clean},
	{"node", "/usr/bin/node", "SANDBOX_WARM_POOL_NODE", "main.js", {"/usr/bin/node", "main.js"},
	 "console.log('age', 0)\n", node_plant, node_check, node_clean},
};
static const struct runtime *rt;

static Sbx__ExecResult *run(struct sbx_engine *e, const char *code, long *ret_age)
{
	struct tu_spec s;
	tu_spec_init(&s);
	for (int i = 0; rt->argv[i]; i++)
		s.argv[i] = rt->argv[i];
	s.lim.wall_time_ms = 20000;
	tu_add_file(&s, rt->script, code, false);
	Sbx__ExecResult *r = tu_run(e, &s, NULL);
	int used = 0;
	*ret_age = -1;
	if (sscanf(tu_out(r), "age %ld\n%n", ret_age, &used) != 1 || used == 0)
		tu_dump("run", r);
	return r;
}

int main(int argc, char **argv)
{
	rt = tw_pick(argc, argv, runtimes, SBX_ARRAY_SIZE(runtimes), sizeof(runtimes[0]));
	setenv(rt->env_var, "2", 1);
	struct sbx_engine *e = tu_engine(SBX_CGROUP_AUTO);
	long age;
	/* The first run shows the pool its environment: cold. */
	Sbx__ExecResult *r = run(e, rt->first, &age);
	tu_free(r);
	for (int i = 0; i < ROUNDS; i++) {
		usleep(PAUSE_US);
		r = run(e, rt->plant, &age);
		if (r->status != ST(OK))
			tu_dump("plant", r);
		CHECK_INT(r->status, ST(OK));
		CHECK(strstr(tu_out(r), "planted\n") != NULL);
		CHECKF(age >= MIN_AGE_TICKS, "round %d: planting run %ld ticks old: not pooled", i,
		       age);
		tu_free(r);

		usleep(PAUSE_US);
		r = run(e, rt->check, &age);
		CHECK_INT(r->status, ST(OK));
		const char *items = strchr(tu_out(r), '\n');
		CHECK_STR(items ? items + 1 : "", rt->clean);
		CHECKF(age >= MIN_AGE_TICKS, "round %d: checking run %ld ticks old: not pooled", i,
		       age);
		tu_free(r);
	}
	sbx_engine_free(e);
	TEST_DONE();
}
