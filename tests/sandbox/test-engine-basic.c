/* End-to-end engine behaviour: output, stdin, environment, exit codes,
 * signals, files, cwd, errors. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "engine_util.h"
#include "testlib.h"

static void test_echo(struct sbx_engine *e)
{
	Sbx__ExecResult *r = tu_sh(e, "echo hello; echo oops >&2", NULL);
	CHECK_INT(r->status, ST(OK));
	CHECK_STR(tu_out(r), "hello\n");
	CHECK_STR(tu_err(r), "oops\n");
	CHECK_INT(r->exit_code, 0);
	CHECK_INT(r->signal, 0);
	CHECK(!r->stdout_truncated && !r->stderr_truncated);
	tu_free(r);
}

static void test_stdin(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.stdin_data = "line one\nline two\n";
	Sbx__ExecResult *r = tu_sh(e, "wc -l; cat", &s);
	CHECK_INT(r->status, ST(OK));
	CHECK_STR(tu_out(r), "2\n");
	tu_free(r);

	/* Larger than a pipe buffer: fed by the event loop. */
	static char big[300000];
	memset(big, 'x', sizeof(big) - 1);
	s.stdin_data = big;
	r = tu_sh(e, "wc -c", &s);
	CHECK_STR(tu_out(r), "299999\n");
	tu_free(r);

	/* A payload that never reads its input still finishes. */
	r = tu_sh(e, "exit 0", &s);
	CHECK_INT(r->status, ST(OK));
	tu_free(r);
}

static void test_env(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.env[0] = "A=1";
	s.env[1] = "B=two words";
	s.env[2] = "PATH=/usr/bin:/bin";
	s.argv[0] = "/usr/bin/env";
	Sbx__ExecResult *r = tu_run(e, &s, NULL);
	CHECK_INT(r->status, ST(OK));
	CHECK_STR(tu_out(r), "A=1\nB=two words\nPATH=/usr/bin:/bin\n");
	tu_free(r);
}

static void test_exit_codes(struct sbx_engine *e)
{
	Sbx__ExecResult *r = tu_sh(e, "exit 3", NULL);
	CHECK_INT(r->status, ST(RUNTIME_ERROR));
	CHECK_INT(r->exit_code, 3);
	CHECK_INT(r->signal, 0);
	tu_free(r);

	r = tu_sh(e, "kill -TERM $$", NULL);
	CHECK_INT(r->status, ST(SIGNALED));
	CHECK_INT(r->signal, 15);
	CHECK_INT(r->exit_code, 128 + 15);
	tu_free(r);

	r = tu_py(e, "import os; os.abort()", NULL);
	CHECK_INT(r->status, ST(SIGNALED));
	CHECK_INT(r->signal, 6);
	tu_free(r);

	r = tu_py(e, "import ctypes; ctypes.string_at(0)", NULL);
	CHECK_INT(r->status, ST(SIGNALED));
	CHECK_INT(r->signal, 11);
	tu_free(r);
}

static void test_missing_binary(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.argv[0] = "/no/such/binary";
	Sbx__ExecResult *r = tu_run(e, &s, NULL);
	CHECK_INT(r->status, ST(RUNTIME_ERROR));
	CHECK_INT(r->exit_code, 127);
	CHECKF(strstr(r->error, "No such file or directory") != NULL, "%s", r->error);
	tu_free(r);

	s.argv[0] = "no-such-command-anywhere";
	r = tu_run(e, &s, NULL);
	CHECK_INT(r->status, ST(RUNTIME_ERROR));
	CHECK_INT(r->exit_code, 127);
	tu_free(r);
}

static void test_files_cwd(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	tu_add_file(&s, "main.py", "print('from file')\n", false);
	tu_add_file(&s, "sub/dir/run.sh", "#!/bin/sh\necho run $(pwd)\n", true);
	Sbx__ExecResult *r = tu_sh(e, "python3 main.py && ./sub/dir/run.sh && cd sub && pwd", &s);
	CHECK_INT(r->status, ST(OK));
	CHECK_STR(tu_out(r), "from file\nrun /workspace\n/workspace/sub\n");
	tu_free(r);

	s.cwd = "/workspace/sub/dir";
	r = tu_sh(e, "pwd; ls -l run.sh | cut -c1-10; id -u", &s);
	CHECK_STR(tu_out(r), "/workspace/sub/dir\n-rwxr-xr-x\n1000\n");
	tu_free(r);
}

static void test_host_workspace(struct sbx_engine *e)
{
	char *ws = tl_tmpdir("sbx-ws");
	struct tu_spec s;
	tu_spec_init(&s);
	s.workspace = ws;
	tu_add_file(&s, "in.txt", "data\n", false);
	Sbx__ExecResult *r = tu_sh(e, "cat in.txt > out.txt; echo more >> out.txt", &s);
	CHECK_INT(r->status, ST(OK));
	tu_free(r);
	char p[512];
	snprintf(p, sizeof(p), "%s/out.txt", ws);
	FILE *f = fopen(p, "r");
	char buf[64] = "";
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
	}
	const char *got = buf;
	CHECK_STR(got, "data\nmore\n");
	/* A second run sees the first one's files (sessions). */
	s.n_files = 0;
	r = tu_sh(e, "cat out.txt", &s);
	CHECK_STR(tu_out(r), "data\nmore\n");
	tu_free(r);
	free(ws);
}

/* A session's /tmp: a host directory that outlives each run. */
static void test_host_tmp(struct sbx_engine *e)
{
	char *tmp = tl_tmpdir("sbx-tmp"), p[512];
	struct tu_spec s;
	tu_spec_init(&s);
	s.tmp_dir = tmp;
	Sbx__ExecResult *r = tu_sh(e, "echo hello > /tmp/test.txt", &s);
	CHECK_INT(r->status, ST(OK));
	tu_free(r);
	r = tu_sh(e, "cat /tmp/test.txt", &s);
	CHECK_STR(tu_out(r), "hello\n");
	tu_free(r);
	snprintf(p, sizeof(p), "%s/test.txt", tmp);
	CHECK(access(p, F_OK) == 0);
	/* Without it, /tmp is fresh again. */
	s.tmp_dir = NULL;
	r = tu_sh(e, "cat /tmp/test.txt", &s);
	CHECK(r->exit_code != 0);
	tu_free(r);
	/* A symlink is not a directory to bind. */
	snprintf(p, sizeof(p), "%s-link", tmp);
	CHECK(symlink("/etc", p) == 0);
	s.tmp_dir = p;
	r = tu_sh(e, "ls /tmp", &s);
	CHECK_INT(r->status, ST(INTERNAL_ERROR));
	tu_free(r);
	unlink(p);
	free(tmp);
}

static void test_invalid(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.argv[0] = "/bin/true";
	s.lim.has_memory_kb = false;
	int rc;
	Sbx__ExecResult *r = tu_run(e, &s, &rc);
	CHECK_INT(rc, -EINVAL);
	CHECK(strstr(r->error, "limit") != NULL);
	tu_free(r);

	tu_spec_init(&s);
	s.argv[0] = "/bin/true";
	tu_add_file(&s, "../escape", "x", false);
	r = tu_run(e, &s, &rc);
	CHECK_INT(rc, -EINVAL);
	tu_free(r);

	tu_spec_init(&s);
	r = tu_run(e, &s, &rc); /* empty argv */
	CHECK_INT(rc, -EINVAL);
	tu_free(r);
}

static void test_isolation_basics(struct sbx_engine *e)
{
	Sbx__ExecResult *r =
		tu_sh(e, "echo $$; hostname; id -u; id -G; ls /proc | grep -c '^[0-9]'", NULL);
	CHECK_INT(r->status, ST(OK));
	/* pid 2 (the engine's init is 1), own host name, uid 1000 without
	 * groups, and /proc shows only the sandbox (init, sh, ls, grep). */
	CHECKF(strncmp(tu_out(r), "2\nsandbox\n1000\n1000\n", 20) == 0, "%s", tu_out(r));
	tu_free(r);
	CHECK(strcmp(sbx_engine_cgroup_mode(e), "v1") == 0 ||
	      strcmp(sbx_engine_cgroup_mode(e), "v2") == 0 ||
	      strcmp(sbx_engine_cgroup_mode(e), "none") == 0);
}

int main(void)
{
	struct sbx_engine *e = tu_engine(SBX_CGROUP_AUTO);
	test_echo(e);
	test_stdin(e);
	test_env(e);
	test_exit_codes(e);
	test_missing_binary(e);
	test_files_cwd(e);
	test_host_workspace(e);
	test_host_tmp(e);
	test_invalid(e);
	test_isolation_basics(e);
	sbx_engine_free(e);
	TEST_DONE();
}
