/* Every limit and the status it produces; partial output on timeouts. */
#include <string.h>

#include "engine_util.h"
#include "testlib.h"

static void test_cpu(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.cpu_time_ms = 300;
	s.lim.wall_time_ms = 5000;
	Sbx__ExecResult *r = tu_sh(e, "echo start; while :; do :; done", &s);
	CHECK_INT(r->status, ST(TIME_LIMIT));
	CHECK_STR(tu_out(r), "start\n");
	CHECKF(r->cpu_time_ms >= 300 && r->cpu_time_ms < 1500, "cpu %llu",
	       (unsigned long long)r->cpu_time_ms);
	CHECK(r->wall_time_ms < 3000);
	tu_free(r);

	/* CPU spent by several processes adds up. */
	r = tu_sh(e, "(while :; do :; done) & (while :; do :; done) & wait", &s);
	CHECK_INT(r->status, ST(TIME_LIMIT));
	tu_free(r);
}

static void test_wall(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.wall_time_ms = 500;
	Sbx__ExecResult *r = tu_sh(e, "echo partial; echo err >&2; sleep 30; echo never", &s);
	CHECK_INT(r->status, ST(WALL_TIME_LIMIT));
	CHECK_STR(tu_out(r), "partial\n");
	CHECK_STR(tu_err(r), "err\n");
	CHECK_INT(r->signal, 9);
	CHECKF(r->wall_time_ms >= 500 && r->wall_time_ms < 2500, "wall %llu",
	       (unsigned long long)r->wall_time_ms);
	tu_free(r);
}

static void test_memory(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.memory_kb = 64 * 1024;
	Sbx__ExecResult *r = tu_py(e, "b = bytearray(200 * 1024 * 1024); print('survived')", &s);
	CHECKF(r->status == ST(MEMORY_LIMIT), "status %d", r->status);
	CHECK(strstr(tu_out(r), "survived") == NULL);
	tu_free(r);

	/* Within the limit: peak memory is reported. */
	r = tu_py(e, "b = bytearray(20 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])", &s);
	CHECK_INT(r->status, ST(OK));
	CHECKF(r->memory_peak_kb >= 20 * 1024 && r->memory_peak_kb < 64 * 1024, "peak %llu",
	       (unsigned long long)r->memory_peak_kb);
	tu_free(r);
}

static void test_pids(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.pids = 5;
	Sbx__ExecResult *r = tu_py(e,
				   "import os\n"
				   "n = 0\n"
				   "try:\n"
				   "    for i in range(50):\n"
				   "        if os.fork() == 0:\n"
				   "            import time; time.sleep(5); os._exit(0)\n"
				   "        n += 1\n"
				   "except OSError as e:\n"
				   "    print('fork failed after', n)\n",
				   &s);
	CHECK_INT(r->status, ST(OK));
	CHECKF(strncmp(tu_out(r), "fork failed after ", 18) == 0, "%s", tu_out(r));
	CHECKF(atoi(tu_out(r) + 18) <= 5, "%s", tu_out(r));
	/* The sleeping children died with the sandbox: no 5 s wait. */
	CHECK(r->wall_time_ms < 4000);
	tu_free(r);
}

static void test_fsize(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.fsize_kb = 1024;
	Sbx__ExecResult *r = tu_sh(e, "exec head -c 2000000 /dev/zero > /tmp/f", &s);
	CHECK_INT(r->status, ST(SIGNALED));
	CHECK_INT(r->signal, 25); /* SIGXFSZ */
	tu_free(r);
	r = tu_py(e,
		  "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
		  "try:\n  open('/workspace/f','wb').write(b'x'*2000000)\n"
		  "except OSError as e: print(e.errno)",
		  &s);
	CHECK_STR(tu_out(r), "27\n"); /* EFBIG */
	tu_free(r);
}

static void test_nofile(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.nofile = 10;
	Sbx__ExecResult *r = tu_py(e,
				   "fs = []\n"
				   "try:\n"
				   "    for i in range(100): fs.append(open('/dev/null'))\n"
				   "except OSError as e: print('EMFILE', e.errno, len(fs) < 10)\n",
				   &s);
	CHECK_STR(tu_out(r), "EMFILE 24 True\n");
	tu_free(r);
}

static void test_output(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.output_bytes = 1000;
	Sbx__ExecResult *r = tu_sh(e, "head -c 5000 /dev/zero | tr '\\0' a; echo done >&2", &s);
	CHECK_INT(r->status, ST(OUTPUT_LIMIT));
	CHECK_INT(r->stdout.len, 1000);
	CHECK(r->stdout_truncated);
	CHECK(!r->stderr_truncated);
	CHECK_STR(tu_err(r), "done\n");
	tu_free(r);

	/* Endless output: drained, counted, then the sandbox is killed long
	 * before its wall limit; memory stays bounded by the limit. */
	s.lim.wall_time_ms = 20000;
	r = tu_sh(e, "yes", &s);
	CHECK_INT(r->status, ST(OUTPUT_LIMIT));
	CHECK_INT(r->stdout.len, 1000);
	CHECK(r->wall_time_ms < 15000);
	tu_free(r);
}

static void test_stack(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.stack_kb = 1024;
	Sbx__ExecResult *r = tu_sh(e, "ulimit -s", &s);
	CHECK_STR(tu_out(r), "1024\n");
	tu_free(r);
	r = tu_sh(e, "ulimit -c; ulimit -n", &s);
	CHECK_STR(tu_out(r), "0\n64\n");
	tu_free(r);
}

int main(void)
{
	struct sbx_engine *e = tu_engine(SBX_CGROUP_AUTO);
	bool cg = strcmp(sbx_engine_cgroup_mode(e), "none") != 0;
	test_cpu(e);
	test_wall(e);
	if (cg && strcmp(sbx_engine_cgroup_mode(e), "v1") == 0) {
		test_memory(e);
		test_pids(e);
	} else {
		printf("note: memory/pids limits need cgroup memory+pids controllers (mode %s)\n",
		       sbx_engine_cgroup_mode(e));
	}
	test_fsize(e);
	test_nofile(e);
	test_output(e);
	test_stack(e);
	sbx_engine_free(e);
	TEST_DONE();
}
