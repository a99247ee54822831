/* The gvisor backend against Debian's runsc: the real sandboxd, started
 * with --backend gvisor, runs the shared run/execute/limit checks
 * (backend_cases.h) over RPC, then CPU time and peak memory reported, a
 * wall-time kill that takes background children along, a signal reported,
 * /etc/shadow absent, only loopback; coreutils' ls and stat (which this
 * gVisor refuses without the daemon's preload, gvisor_compat.c); and
 * nothing left behind (cgroups, runsc state, processes).
 *
 * Skips (exit 77, saying why) when runsc is not on PATH, when not root
 * (the backend creates cgroups), or when runsc cannot start a sandbox on
 * this kernel (`runsc do /bin/true` fails: its words are printed). */
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

static bool on_path(const char *name, char *ret, size_t len)
{
	const char *path = getenv("PATH");

	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		const char *e = strchrnul(p, ':');

		snprintf(ret, len, "%.*s/%s", (int)(e - p), p, name);
		if (e > p && access(ret, X_OK) == 0)
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

/* Can runsc start a sandbox here at all? Its state goes to a directory of
 * the test's; the output of a refusal is printed. */
static bool runsc_works(const char *runsc, const char *dir)
{
	char cmd[PATH_MAX * 3];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s/probe' && '%s' --root='%s/probe' --network=none do /bin/true "
		 ">'%s/probe.log' 2>&1 || { cat '%s/probe.log'; exit 1; }",
		 dir, runsc, dir, dir, dir);
	st = system(cmd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Processes whose command line names the daemon's state directory (runsc,
 * the Sentry and the gofer carry --root=<state>/gvisor/runsc). */
static int stray_processes(const char *state)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (dir && (e = readdir(dir))) {
		char p[300], buf[8192];
		FILE *f;
		size_t len;

		if (atoi(e->d_name) <= 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		f = fopen(p, "re");
		len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		for (size_t i = 0; i < len; i++)
			buf[i] = buf[i] ? buf[i] : ' ';
		buf[len] = 0;
		if (strstr(buf, state) && strstr(buf, "runsc")) {
			fprintf(stderr, "left running: %s %s\n", e->d_name, buf);
			n++;
		}
	}
	if (dir)
		closedir(dir);
	return n;
}

/* While the daemon runs, after the executions (a wall-time kill among
 * them): no runsc state and no bundle are left in <state>/gvisor. */
static int stale_entries(const char *state)
{
	char p[PATH_MAX];
	int n = 0;

	for (int i = 0; i < 2; i++) {
		DIR *dir;
		struct dirent *e;

		snprintf(p, sizeof(p), "%s/gvisor%s", state, i ? "/runsc" : "");
		dir = opendir(p);
		CHECKF(dir != NULL, "%s: missing", p);
		while (dir && (e = readdir(dir)))
			if (i ? e->d_name[0] != '.' : strncmp(e->d_name, "b-", 2) == 0) {
				fprintf(stderr, "left behind: %s/%s\n", p, e->d_name);
				n++;
			}
		if (dir)
			closedir(dir);
	}
	return n;
}

/* ls, stat and du of coreutils 9 pass AT_NO_AUTOMOUNT to statx and
 * fstatat, which runsc 20221219 answers with EINVAL ("ls: cannot access
 * '/': Invalid argument"); the preload clears it. The program's own
 * environment carries no LD_PRELOAD for it. */
static void check_coreutils(void)
{
	json_t *j = bc_expect(
		"Run", "EXEC_STATUS_OK", 0,
		"{\"argv\": [\"sh\", \"-c\", \"ls -d / /usr /workspace && ls /workspace/sub && "
		"stat -c '%s %U' /workspace/sub/a.txt && ls -l /workspace/sub | grep -c '^-r' && "
		"du -s /workspace >/dev/null && echo ${LD_PRELOAD-unset}\"], "
		"\"files\": [{\"path\": \"sub/a.txt\", \"content\": \"hello\"}]}");

	CHECK_STR(bc_s(j, "stdout"), "/\n/usr\n/workspace\na.txt\n5 sandbox\n1\nunset\n");
	CHECK_STR(bc_s(j, "stderr"), "");
	json_decref(j);
}

int main(void)
{
	const char *args[] = {"--backend", "gvisor", NULL};
	char runsc[PATH_MAX], p[PATH_MAX];
	struct stat sb;
	int st;

	if (!on_path("runsc", runsc, sizeof(runsc)))
		SKIP("no runsc on PATH (Debian: apt-get install runsc)");
	if (geteuid() != 0)
		SKIP("not root: the gvisor backend creates cgroups");
	bc_daemon = &d;
	if (th_daemon_init(&d, "sbx-gvisor") < 0)
		SKIP("no temporary directory");
	if (!runsc_works(runsc, d.dir)) {
		th_daemon_fini(&d);
		SKIP("runsc cannot start a sandbox on this kernel (its words above)");
	}
	if (!bc_backend_up("gvisor", args))
		return tl_done();
	bc_check_run();
	bc_check_execute();
	bc_check_limits();
	bc_check_accounting();
	bc_check_exact_rlimits();
	bc_check_containment(true);
	bc_check_session();
	check_coreutils();
	CHECK_INT(stale_entries(d.state), 0);

	st = th_daemon_stop(&d, 15000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %#x", st);
	CHECK_INT(stray_processes(d.state), 0);
	snprintf(p, sizeof(p), "%s/gvisor", d.state);
	CHECKF(stat(p, &sb) < 0, "%s left behind", p);
	th_daemon_fini(&d);
	TEST_DONE();
}
