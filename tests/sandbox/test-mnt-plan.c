/* Data-level checks: the mount plan, file path rules, request checks. */
#include <string.h>

#include "engine.h"
#include "mnt.h"
#include "testlib.h"
#include "workspace.h"

static void test_plan(void)
{
	bool usr = false;
	for (unsigned i = 0; i < sbx_mnt_plan_len; i++) {
		const struct sbx_mount_entry *m = &sbx_mnt_plan[i];
		CHECKF(m->path[0] == '/', "%s", m->path);
		/* Nothing secret or writable from the host. */
		CHECK(strcmp(m->path, "/etc/shadow") != 0);
		CHECK(strcmp(m->path, "/etc/passwd") != 0); /* generated instead */
		CHECK(strncmp(m->path, "/root", 5) != 0);
		CHECK(strncmp(m->path, "/home", 5) != 0);
		CHECK(strncmp(m->path, "/var", 4) != 0);
		CHECK(strncmp(m->path, "/proc", 5) != 0);
		CHECK(strncmp(m->path, "/sys", 4) != 0);
		if (strncmp(m->path, "/dev/", 5) == 0)
			CHECKF(strcmp(m->path, "/dev/null") == 0 || strcmp(m->path, "/dev/zero") == 0 ||
				       strcmp(m->path, "/dev/full") == 0 ||
				       strcmp(m->path, "/dev/random") == 0 ||
				       strcmp(m->path, "/dev/urandom") == 0,
			       "%s", m->path);
		usr |= strcmp(m->path, "/usr") == 0 && !m->optional;
	}
	CHECK(usr);
}

static void test_file_paths(void)
{
	static const char *const good[] = {"a", "a.py", "dir/a", "a/b/c.txt", ".hidden", "..x",
					   "x..", "a/.b"};
	static const char *const bad[] = {"", "/etc/x", "../x", "a/../../x", "a/..", "..", ".",
					  "a//b", "a/", "./a", "a/./b"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECKF(sbx_file_path_ok(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(!sbx_file_path_ok(bad[i]), "%s", bad[i]);
	char longp[2000];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	CHECK(!sbx_file_path_ok(longp));
}

static void test_request_check(void)
{
	char *argv[] = {"/bin/true"};
	Sbx__Limits l = SBX__LIMITS__INIT;
	l.has_cpu_time_ms = l.has_wall_time_ms = l.has_memory_kb = l.has_pids = true;
	l.has_fsize_kb = l.has_nofile = l.has_stack_kb = l.has_output_bytes = true;
	l.cpu_time_ms = l.wall_time_ms = 1000;
	l.memory_kb = 65536;
	l.pids = 4;
	l.nofile = 16;
	l.stack_kb = 1024;
	Sbx__SpawnRequest req = SBX__SPAWN_REQUEST__INIT;
	req.argv = argv;
	req.n_argv = 1;
	req.limits = &l;
	const char *why = NULL;
	CHECK_INT(sbx_engine_check(&req, &why), 0);

	Sbx__BindMount b = SBX__BIND_MOUNT__INIT, *bp = &b;
	req.binds = &bp;
	req.n_binds = 1;
	b.source = "/opt/runtime";
	CHECK_INT(sbx_engine_check(&req, &why), 0);
	static const char *const reserved[] = {"/proc", "/proc/x", "/dev", "/tmp", "/workspace",
					       "/", "relative", "/a/../b"};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		b.target = (char *)reserved[i];
		CHECKF(sbx_engine_check(&req, &why) < 0, "%s", reserved[i]);
	}
	req.n_binds = 0;
	char *env[] = {"NOEQUALS"};
	req.env = env;
	req.n_env = 1;
	CHECK(sbx_engine_check(&req, &why) < 0);
	req.n_env = 0;
	req.cwd = "../x";
	CHECK(sbx_engine_check(&req, &why) < 0);
	req.cwd = "";
	l.has_pids = false;
	CHECK(sbx_engine_check(&req, &why) < 0);
}

int main(void)
{
	test_plan();
	test_file_paths();
	test_request_check();
	TEST_DONE();
}
