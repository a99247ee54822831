/* Pre-built sandboxes (daemon/sandbox/warm.c): nothing one execution
 * leaves behind reaches the next execution that starts from the pool.
 *
 * Each round, one run plants everything it can (files in /tmp, /dev/shm
 * and the workspace, processes left running in the background, SysV
 * shared memory, message queue and semaphore, an abstract and a path unix
 * socket held open by a background process, an environment variable) and
 * checks that it did; the next run, from the pool, must find none of it.
 * That the next run really came from the pool is measured, not assumed:
 * its payload process (pid 2) was forked long before it ran the request,
 * while a cold start forks it right before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_util.h"
#include "testlib.h"

#define ROUNDS 3
/* The pause before each checking run, and the least age (in clock ticks
 * of 10 ms) its payload process must have when it runs to count as
 * pre-built. */
#define PAUSE_US 800000
#define MIN_AGE_TICKS 40

#define AGE                                                                                        \
	"echo age $(( $(cut -d' ' -f1 /proc/uptime | tr -d .) - $(cut -d' ' -f22 /proc/$$/stat) "  \
	"))"

/* Run by the planting execution; prints "planted" only if every item is
 * really there while it runs. */
static const char plant[] =
	"set -e\n"
	"echo secret > /tmp/planted; echo secret > /dev/shm/planted\n"
	"echo secret > /workspace/planted; mkdir /tmp/dir; touch /tmp/.hidden\n"
	"ipcmk -M 4096 >/dev/null; ipcmk -Q >/dev/null; ipcmk -S 1 >/dev/null\n"
	"test $(tail -n +2 /proc/sysvipc/shm | wc -l) = 1\n"
	"test $(tail -n +2 /proc/sysvipc/msg | wc -l) = 1\n"
	"test $(tail -n +2 /proc/sysvipc/sem | wc -l) = 1\n"
	"nohup sleep 1000 >/dev/null 2>&1 &\n"
	"python3 -c \"import socket, time, os\n"
	"a = socket.socket(socket.AF_UNIX); a.bind('\\0sbx-planted'); a.listen()\n"
	"p = socket.socket(socket.AF_UNIX); p.bind('/tmp/planted.sock'); p.listen()\n"
	"open('/tmp/ready', 'w').close()\n"
	"time.sleep(1000)\" >/dev/null 2>&1 &\n"
	"i=0; while [ ! -e /tmp/ready ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n"
	"grep -q '@sbx-planted' /proc/net/unix\n"
	"grep -q /tmp/planted.sock /proc/net/unix\n"
	"test -n \"$SBX_PLANTED\"\n"
	"echo planted\n";

/* Run by the checking execution: the age of its process first (clock
 * ticks: uptime less field 22 of /proc/PID/stat), then one line per item. */
static const char check[] = AGE
	"\n"
	"echo tmp $(ls -A /tmp | wc -l)\n"
	"echo shm $(ls -A /dev/shm | wc -l)\n"
	"echo workspace $(ls -A /workspace | wc -l)\n"
	"echo ipc $(tail -q -n +2 /proc/sysvipc/shm /proc/sysvipc/msg /proc/sysvipc/sem | wc -l)\n"
	"echo unix $(tail -n +2 /proc/net/unix | wc -l)\n"
	"n=0; for p in /proc/[0-9]*; do c=$(cat $p/comm 2>/dev/null) || continue;\n"
	"  case $c in sleep|python3) n=$((n+1));; esac; done; echo procs $n\n"
	"echo env $(env | grep -c PLANTED)\n";

static const char *const clean = "tmp 0\nshm 0\nworkspace 0\nipc 0\nunix 0\nprocs 0\nenv 0\n";

static void round_trip(struct sbx_engine *e, int round)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.env[0] = "PATH=/usr/local/bin:/usr/bin:/bin";
	s.env[1] = "SBX_PLANTED=secret";
	s.lim.wall_time_ms = 20000;
	Sbx__ExecResult *r = tu_sh(e, plant, &s);
	if (r->status != ST(OK) || strcmp(tu_out(r), "planted\n") != 0)
		tu_dump("plant", r);
	CHECK_INT(r->status, ST(OK));
	CHECK_STR(tu_out(r), "planted\n");
	tu_free(r);

	usleep(PAUSE_US); /* the pool refills meanwhile */
	tu_spec_init(&s);
	r = tu_sh(e, check, &s);
	CHECK_INT(r->status, ST(OK));
	const char *out = tu_out(r);
	long ticks = -1;
	int used = 0;
	CHECK(sscanf(out, "age %ld\n%n", &ticks, &used) == 1 && used > 0);
	const char *items = out + used;
	CHECK_STR(items, clean);
	if (ticks < MIN_AGE_TICKS)
		fprintf(stderr,
			"round %d: the checking run's process is only %ld ticks old: it did "
			"not come from the pool\n",
			round, ticks);
	CHECK(ticks >= MIN_AGE_TICKS);
	tu_free(r);
}

/* A request a pre-built sandbox cannot serve (the network) starts cold,
 * with the pool on, and still gets its own fresh sandbox. */
static void cold_next_to_warm(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.network = true;
	Sbx__ExecResult *r =
		tu_sh(e, AGE "; ls -A /tmp /dev/shm /workspace | grep -v : | grep . | wc -l", &s);
	CHECK_INT(r->status, ST(OK));
	int n = -1, age = -1;
	CHECK(sscanf(tu_out(r), "age %d\n%d", &age, &n) == 2);
	CHECK_INT(n, 0);
	CHECK(age >= 0 && age < MIN_AGE_TICKS);
	tu_free(r);
}

int main(void)
{
	if (access("/usr/bin/ipcmk", X_OK) != 0)
		SKIP("ipcmk (util-linux) is not installed");
	setenv("SANDBOX_WARM_POOL", "2", 1);
	struct sbx_engine *e = tu_engine(SBX_CGROUP_AUTO);
	Sbx__ExecResult *r = tu_sh(e, "command -v python3", NULL);
	if (r->status != ST(OK))
		SKIP("python3 is not reachable inside the sandbox");
	tu_free(r);
	for (int i = 0; i < ROUNDS; i++)
		round_trip(e, i);
	cold_next_to_warm(e);
	sbx_engine_free(e);
	TEST_DONE();
}
