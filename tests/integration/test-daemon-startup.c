/* What sandboxd checks before it serves:
 *
 * - No memory cgroup controller for the sandboxes (here forced with
 *   --cgroup none; under systemd-nspawn on a hybrid host, v1 read-only and
 *   v2 without memory, it was the real case): it refuses to start with a
 *   sentence saying what to do, unless SANDBOX_ALLOW_UNLIMITED_MEMORY is
 *   set, and then it says loudly that memory is not limited.
 * - --socket-group: the RPC and events sockets become root:GROUP 0660
 *   (the systemd unit's way to let the gateway in: systemd chowns
 *   RuntimeDirectory= back to root before every command it starts, so a
 *   setgid directory cannot carry the group). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define GROUP 47124

static bool log_has(const struct th_daemon *d, const char *needle)
{
	char buf[16384];
	FILE *f = fopen(d->log, "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

/* Wait until path is a socket of group GROUP (the daemon hands it over
 * right after it listens), at most 10 s. */
static bool socket_handed(const char *path, struct stat *st)
{
	for (int i = 0; i < 200; i++) {
		if (stat(path, st) == 0 && S_ISSOCK(st->st_mode) && st->st_gid == GROUP)
			return true;
		th_sleep_ms(50);
	}
	return false;
}

int main(void)
{
	if (geteuid() != 0)
		SKIP("sandboxd needs root");
	struct th_daemon d;
	if (th_daemon_init(&d, "sbx-startup") < 0)
		SKIP("no temporary directory");

	/* Refused: no memory controller. */
	const char *none[] = {"--cgroup", "none", "--disk-limit-mb", "0", NULL};
	pid_t pid = th_daemon_start(&d, none);
	int st = -1;
	CHECK(pid > 0 && th_wait(pid, 20000, &st) == 0);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) != 0, "status %d", st);
	CHECK(log_has(&d, "no memory cgroup controller can hold the sandboxes to their memory "
			  "limit (cgroup none)"));
	CHECK(log_has(&d, "SANDBOX_ALLOW_UNLIMITED_MEMORY=true"));
	d.pid = 0;

	/* Allowed, said loudly; the sockets handed to the group. */
	const char *allowed[] = {"--cgroup",	   "none", "--disk-limit-mb", "0",
				 "--allow-unlimited-memory", "true", "--socket-group",  "47124",
				 NULL};
	CHECK(th_daemon_start(&d, allowed) > 0);
	struct stat rpc, events;
	CHECK(socket_handed(d.rpc + strlen("ipc://"), &rpc));
	CHECK(socket_handed(d.events + strlen("ipc://"), &events));
	CHECKF((rpc.st_mode & 07777) == 0660, "rpc.sock mode %o", rpc.st_mode & 07777);
	CHECKF((events.st_mode & 07777) == 0660, "events.sock mode %o", events.st_mode & 07777);
	CHECK(rpc.st_uid == 0 && events.st_uid == 0);
	CHECK(log_has(&d, "memory limits are NOT enforced"));
	CHECK(th_daemon_stop(&d, 30000) == 0);
	th_daemon_fini(&d);
	TEST_DONE();
}
