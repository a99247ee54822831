/* The nsjail backend against a real nsjail: the real sandboxd, started with
 * --backend nsjail, runs the shared run/execute/limit checks
 * (backend_cases.h) over RPC, then what the sandbox-service seed asks of a
 * backend: CPU time and peak memory reported, a fork bomb held by the pids
 * limit, a wall-time kill that takes background children along, a signal
 * reported, /etc/shadow absent, no network, the seccomp policy; and no
 * cgroup left behind.
 *
 * Skips (exit 77, saying why) when no nsjail binary is found
 * (SANDBOX_NSJAIL_PATH, else nsjail on PATH) or when not root (nsjail maps
 * the sandbox user and creates cgroups). */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend_cases.h"
#include "clock.h"
#include "status.h"
#include "testlib.h"

static struct th_daemon d;
static pid_t daemon_pid;

static bool find_nsjail(char *ret, size_t len)
{
	const char *env = getenv("SANDBOX_NSJAIL_PATH"), *path = getenv("PATH");

	if (env && *env) {
		snprintf(ret, len, "%s", env);
		return access(ret, X_OK) == 0;
	}
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		const char *e = strchrnul(p, ':');

		snprintf(ret, len, "%.*s/nsjail", (int)(e - p), p);
		if (e > p && access(ret, X_OK) == 0)
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

static void check_containment(void)
{
	long long t0;
	json_t *j;

	/* A fork bomb is held by the pids limit: forks fail before 32
	 * processes, and the sleeping children end with the run. */
	t0 = sbx_clock_mono_ms();
	j = bc_expect("Run", "EXEC_STATUS_OK", 0,
		      "{\"argv\": [\"python3\", \"-c\", \"import os, time\\nn = 0\\n"
		      "try:\\n while True:\\n  if os.fork() == 0: time.sleep(30); os._exit(0)\\n"
		      "  n += 1\\nexcept OSError: print('held', 0 < n < 32)\"], "
		      "\"limits\": {\"pids\": 32}}");
	CHECK_STR(bc_s(j, "stdout"), "held True\n");
	CHECKF(sbx_clock_mono_ms() - t0 < 10000, "the fork bomb took %lld ms",
	       sbx_clock_mono_ms() - t0);
	json_decref(j);

	/* The seccomp policy: no user namespace inside, no ptrace. */
	j = bc_expect("Run", "EXEC_STATUS_OK", 0,
		      "{\"argv\": [\"python3\", \"-c\", \"import ctypes, os\\n"
		      "libc = ctypes.CDLL(None, use_errno=True)\\n"
		      "print(libc.unshare(0x10000000), ctypes.get_errno() == 1, "
		      "libc.ptrace(16, 1, 0, 0), ctypes.get_errno() == 1)\"]}");
	CHECK_STR(bc_s(j, "stdout"), "-1 True -1 True\n");
	json_decref(j);
}

/* Nothing of the daemon's is left under the memory and pids hierarchies. */
static int leftovers(void)
{
	static const char *const dirs[] = {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
					   "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup"};
	char own[PATH_MAX], line[512], name[64];
	int n = 0;
	FILE *f;

	snprintf(name, sizeof(name), "sandboxd-nsjail.%d", (int)daemon_pid);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct stat st;
		char p[PATH_MAX * 2];

		f = fopen("/proc/self/cgroup", "re");
		own[0] = 0;
		while (f && fgets(line, sizeof(line), f)) {
			const char *ctrl = strrchr(dirs[i], '/') + 1, *c2 = strchr(line, ':');

			if (c2 && (strstr(c2, ctrl) || (i == 3 && strncmp(line, "0::", 3) == 0)))
				snprintf(own, sizeof(own), "%s", strrchr(line, ':') + 1);
		}
		if (f)
			fclose(f);
		own[strcspn(own, "\n")] = 0;
		snprintf(p, sizeof(p), "%s%s/%s", dirs[i], strcmp(own, "/") ? own : "", name);
		if (stat(p, &st) == 0) {
			fprintf(stderr, "left behind: %s\n", p);
			n++;
		}
	}
	return n;
}

int main(void)
{
	char nsjail[PATH_MAX];
	const char *args[] = {"--backend", "nsjail", "--nsjail-path", nsjail, NULL};
	int st;

	if (!find_nsjail(nsjail, sizeof(nsjail)))
		SKIP("no nsjail binary (set SANDBOX_NSJAIL_PATH or put nsjail on PATH; Ubuntu "
		     "packages it as nsjail, elsewhere build it from github.com/google/nsjail)");
	if (geteuid() != 0)
		SKIP("not root: the nsjail backend maps the sandbox user and creates cgroups");
	bc_daemon = &d;
	if (th_daemon_init(&d, "sbx-nsjail") < 0)
		SKIP("no temporary directory");
	if (!bc_backend_up("nsjail", args))
		return tl_done();
	bc_check_run();
	bc_check_execute();
	bc_check_limits();
	bc_check_accounting();
	bc_check_exact_rlimits();
	check_containment();
	bc_check_containment(false);
	bc_check_session();

	daemon_pid = d.pid;
	st = th_daemon_stop(&d, 15000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %#x", st);
	CHECK_INT(leftovers(), 0);
	th_daemon_fini(&d);
	TEST_DONE();
}
