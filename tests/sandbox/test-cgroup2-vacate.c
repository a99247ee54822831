/* cgroup v2's "no internal processes" rule (sbx_engine_cgroup2_vacate):
 * under systemd (Delegate=yes) or in a container, sandboxd starts in a
 * cgroup that is not the root and holds its own processes, and such a
 * cgroup cannot hand the memory and pids controllers to the sandboxes'
 * cgroups below it. The test puts itself (the engine's daemon) into a
 * fresh cgroup of that kind and starts an engine there:
 *
 * - the spawner and the daemon leave it for <own>/sandboxd-supervisor, so
 *   it holds no process, and a sandbox still runs;
 * - a controller the hierarchy offers can then be enabled for <own>'s
 *   children (before, the kernel said EBUSY) — shown with whichever one
 *   the root hands down, if any (on a hybrid host v2 often has none);
 * - a second engine started from the supervisor leaf still works under
 *   <own>/sandboxd, not inside the leaf;
 * - a process that is not sandboxd's stays where it is, and the call says
 *   EBUSY. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "engine_util.h"
#include "testlib.h"

static char mount_path[64], own[PATH_MAX / 2];

/* a pointer (CHECK_STR tests its arguments for NULL) */
static const char *str(const char *s)
{
	return s;
}

static int put(const char *dir, const char *file, const char *val)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* Does dir/file list pid (one per line)? */
static bool lists(const char *dir, const char *file, pid_t pid)
{
	char p[PATH_MAX], line[32];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	FILE *f = fopen(p, "re");
	bool found = false;
	while (f && fgets(line, sizeof(line), f))
		found |= atoi(line) == pid;
	if (f)
		fclose(f);
	return found;
}

static bool empty(const char *dir)
{
	char p[PATH_MAX], buf[64];
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	FILE *f = fopen(p, "re");
	bool none = f && !fgets(buf, sizeof(buf), f);
	if (f)
		fclose(f);
	return none;
}

static void cleanup(void)
{
	char p[PATH_MAX];
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	put(mount_path, "cgroup.procs", pid);
	snprintf(p, sizeof(p), "%s/" SBX_CG_SUPERVISOR, own);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/sandboxd", own);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/kid", own);
	rmdir(p);
	rmdir(own);
}

static void run_true(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	Sbx__ExecResult *r = tu_sh(e, "echo ran", &s);
	CHECK_INT(r->status, ST(OK));
	CHECK_STR(tu_out(r), "ran\n");
	tu_free(r);
}

/* The first controller the root hands down, "" if none. */
static void offered(char *ctl, size_t size)
{
	char p[PATH_MAX], buf[256] = "";
	snprintf(p, sizeof(p), "%s/cgroup.controllers", own);
	FILE *f = fopen(p, "re");
	if (f && !fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	if (f)
		fclose(f);
	snprintf(ctl, size, "%.*s", (int)strcspn(buf, " \n"), buf);
}

int main(void)
{
	if (sbx_cgroup_detect(SBX_CGROUP_V2) != SBX_CG_V2)
		SKIP("no cgroup v2 hierarchy here");
	snprintf(mount_path, sizeof(mount_path), "%s",
		 access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0
			 ? "/sys/fs/cgroup/unified"
			 : "/sys/fs/cgroup");
	char here[PATH_MAX / 4];
	if (sbx_engine_own_cgroup(NULL, here, sizeof(here)) < 0)
		SKIP("this process is in no cgroup v2");
	snprintf(own, sizeof(own), "%s%s/sbx-vacate-%d", mount_path, here, (int)getpid());
	if (mkdir(own, 0755) < 0)
		SKIP("cannot create a cgroup at %s: %s", own, strerror(errno));
	atexit(cleanup);
	char self[16];
	snprintf(self, sizeof(self), "%d", (int)getpid());
	CHECK_INT(put(own, "cgroup.procs", self), 0);

	/* The rule itself, before: a controller on for own's children fails
	 * while own holds this process. */
	char ctl[32], plus[40];
	offered(ctl, sizeof(ctl));
	snprintf(plus, sizeof(plus), "+%s", ctl);
	if (ctl[0])
		CHECK_INT(put(own, "cgroup.subtree_control", plus), -EBUSY);
	else
		printf("note: the root hands no controller down to v2 here; the kernel's EBUSY "
		       "is not shown, only the move\n");

	struct sbx_engine *e = tu_engine(SBX_CGROUP_V2);
	run_true(e);
	char leaf[PATH_MAX];
	snprintf(leaf, sizeof(leaf), "%s/" SBX_CG_SUPERVISOR, own);
	CHECK(empty(own));
	CHECK(lists(leaf, "cgroup.procs", getpid()));
	char seen[PATH_MAX / 2];
	CHECK_INT(sbx_engine_own_cgroup(NULL, seen, sizeof(seen)), 0);
	CHECK_STR(str(seen), own + strlen(mount_path));
	if (ctl[0]) {
		CHECK_INT(put(own, "cgroup.subtree_control", plus), 0);
		plus[0] = '-';
		put(own, "cgroup.subtree_control", plus);
	}

	/* A second engine, born in the leaf, works under own/sandboxd. */
	struct sbx_engine *e2 = tu_engine(SBX_CGROUP_V2);
	run_true(e2);
	char sbxdir[PATH_MAX];
	snprintf(sbxdir, sizeof(sbxdir), "%s/sandboxd", own);
	CHECK(access(sbxdir, F_OK) == 0);
	CHECK(empty(own));
	sbx_engine_free(e2);
	sbx_engine_free(e);

	/* A process that is not ours stays, and the call says so. */
	CHECK_INT(put(own, "cgroup.procs", self), 0);
	pid_t stranger = fork();
	if (stranger == 0) {
		pause();
		_exit(0);
	}
	const pid_t ours[] = {getpid()};
	CHECK_INT(sbx_engine_cgroup2_vacate(own, ours, 1), -EBUSY);
	CHECK(lists(own, "cgroup.procs", stranger));
	CHECK(!lists(own, "cgroup.procs", getpid()));
	kill(stranger, SIGKILL);
	waitpid(stranger, NULL, 0);

	/* The hierarchy's root is exempt from the rule: left alone. */
	CHECK_INT(sbx_engine_cgroup2_vacate(mount_path, ours, 1), 0);
	char rootleaf[PATH_MAX];
	snprintf(rootleaf, sizeof(rootleaf), "%s/" SBX_CG_SUPERVISOR, mount_path);
	CHECK(access(rootleaf, F_OK) < 0);
	TEST_DONE();
}
