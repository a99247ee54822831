/* cgroup detection, both flavours end to end, and cleanup: no per-execution
 * cgroup survives an execution, no parent survives the engine. */
#include <dirent.h>
#include <stdlib.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "engine_util.h"
#include "testlib.h"

/* The spawner is our only child process that names itself sbx-spawner.
 * (Other engines may run on the same host: only ours is counted.) */
static pid_t spawner_pid(void)
{
	DIR *d = opendir("/proc");
	pid_t found = 0;
	for (struct dirent *de; d && (de = readdir(d));) {
		char p[300], buf[512];
		snprintf(p, sizeof(p), "/proc/%s/stat", de->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		char *rp = strrchr(buf, ')');
		int ppid = 0;
		if (strstr(buf, "(sbx-spawner)") && rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 &&
		    ppid == getpid())
			found = atoi(de->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

/* Entries of every ".../sandboxd/<pid>" dir below `dir`: -1 if there is
 * none, else the number of per-execution cgroups (x*) in them. */
static int count_exec_cgroups(const char *dir, pid_t pid, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = -1;
	char want[32];
	snprintf(want, sizeof(want), "%d", (int)pid);
	const char *base = strrchr(dir, '/');
	bool in_sandboxd = base && strcmp(base, "/sandboxd") == 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (in_sandboxd && strcmp(de->d_name, want) == 0) {
			DIR *s = opendir(p);
			int c = 0;
			for (struct dirent *se; s && (se = readdir(s));)
				c += se->d_type == DT_DIR && se->d_name[0] == 'x';
			if (s)
				closedir(s);
			n = (n < 0 ? 0 : n) + c;
		} else if (depth < 6) {
			int c = count_exec_cgroups(p, pid, depth + 1);
			if (c >= 0)
				n = (n < 0 ? 0 : n) + c;
		}
	}
	closedir(d);
	return n;
}

static void run_checks(struct sbx_engine *e, const char *mode)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.cpu_time_ms = 200;
	Sbx__ExecResult *r = tu_sh(e, "while :; do :; done", &s);
	CHECKF(r->status == ST(TIME_LIMIT), "%s: status %d", mode, r->status);
	CHECKF(r->cpu_time_ms >= 200, "%s: cpu %llu", mode, (unsigned long long)r->cpu_time_ms);
	tu_free(r);

	/* The whole tree goes on a wall timeout, daemonized or not. */
	tu_spec_init(&s);
	s.lim.wall_time_ms = 400;
	r = tu_sh(e, "setsid sh -c 'sleep 100' & sleep 100", &s);
	CHECK_INT(r->status, ST(WALL_TIME_LIMIT));
	tu_free(r);
}

int main(void)
{
	enum sbx_cgroup_mode m = sbx_cgroup_detect(SBX_CGROUP_AUTO);
	printf("detected: %s\n", sbx_cgroup_mode_name(m));
	CHECK_STR(sbx_cgroup_mode_name(sbx_cgroup_detect(SBX_CGROUP_NONE)), "none");
	CHECK_STR(sbx_cgroup_mode_name(SBX_CG_V1), "v1");
	CHECK_STR(sbx_cgroup_mode_name(SBX_CG_V2), "v2");

	struct sbx_engine *e = tu_engine(SBX_CGROUP_AUTO);
	pid_t sp = spawner_pid();
	CHECK(sp > 0);
	/* The spawner is sbx-spawner (built next to this test), not a fork
	 * of the test with all its libraries: every sandbox forks from it. */
	char exe[PATH_MAX], link[64];
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)sp);
	ssize_t n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	CHECKF(n > 0 && strcmp(strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe, "sbx-spawner") == 0,
	       "spawner runs %s", exe);
	CHECK_STR(sbx_engine_cgroup_mode(e), sbx_cgroup_mode_name(m));
	run_checks(e, "auto");
	if (m == SBX_CG_V1) {
		struct tu_spec s;
		tu_spec_init(&s);
		Sbx__ExecResult *r = tu_sh(e, "cat /proc/self/cgroup", &s);
		/* Own cgroup namespace: the sandbox sees itself at the root. */
		CHECKF(strstr(tu_out(r), ":memory:/\n") != NULL, "%s", tu_out(r));
		tu_free(r);
		/* Only the pool (a few, ready for the next runs) remains, once
		 * the last run's init is reaped: its result may come first. */
		int n = count_exec_cgroups("/sys/fs/cgroup/memory", sp, 0);
		for (int i = 0; i < 100 && n > 4; i++) {
			usleep(10 * 1000);
			n = count_exec_cgroups("/sys/fs/cgroup/memory", sp, 0);
		}
		CHECKF(n >= 0 && n <= 4, "%d", n);
	}
	sbx_engine_free(e);
	/* Nothing of ours is left: not even the engine's parent dirs. */
	CHECK_INT(count_exec_cgroups("/sys/fs/cgroup/memory", sp, 0), -1);
	CHECK_INT(count_exec_cgroups("/sys/fs/cgroup/pids", sp, 0), -1);
	CHECK_INT(count_exec_cgroups("/sys/fs/cgroup/cpuacct", sp, 0), -1);

	/* cgroup v2, forced: on a hybrid host its memory/pids controllers
	 * are usually bound to v1, so only what v2 always has (cgroup.kill,
	 * cpu.stat, CLONE_INTO_CGROUP) can be checked here. */
	if (sbx_cgroup_detect(SBX_CGROUP_V2) == SBX_CG_V2) {
		int err;
		struct sbx_engine *e2 = tu_engine_try(SBX_CGROUP_V2, &err);
		CHECKF(e2 != NULL, "v2 engine: %d", err);
		if (e2) {
			pid_t sp2 = spawner_pid();
			CHECK_STR(sbx_engine_cgroup_mode(e2), "v2");
			run_checks(e2, "v2");
			const char *v2 = access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0
						 ? "/sys/fs/cgroup/unified"
						 : "/sys/fs/cgroup";
			int n = count_exec_cgroups(v2, sp2, 0);
			CHECKF(n >= 0 && n <= 4, "%d", n);
			sbx_engine_free(e2);
			CHECK_INT(count_exec_cgroups(v2, sp2, 0), -1);
		}
	} else {
		printf("note: no cgroup v2 mount, v2 not tested\n");
	}
	TEST_DONE();
}
