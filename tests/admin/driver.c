#include "driver.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define MAX_ARGS 8

void ta_require_driver(const char *script, char *path, size_t size)
{
	const char *src = getenv("SBX_SOURCE_DIR");

	if (access("/usr/bin/chromium", X_OK) != 0 && !getenv("CHROMIUM"))
		SKIP("/usr/bin/chromium is not installed (Debian package chromium, "
		     "scripts/deps.sh)");
	if (system("node --version >/dev/null 2>&1") != 0)
		SKIP("node is not installed");
	snprintf(path, size, "%s/tests/admin/%s", src ? src : ".", script);
	if (access(path, R_OK) != 0)
		SKIP("%s not found (set SBX_SOURCE_DIR)", path);
}

int ta_run_driver(const char *path, const char *const args[], int timeout_ms)
{
	const char *argv[MAX_ARGS + 3] = {"node", path};
	int status, n = 2;
	pid_t pid;

	for (; args && args[n - 2] && n < MAX_ARGS + 2; n++)
		argv[n] = args[n - 2];
	/* Ordered with the driver's output, and nothing left to duplicate
	 * in the forked child. */
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp("node", (char *const *)argv);
		printf("SKIP: cannot run node: %s\n", strerror(errno));
		_exit(77);
	}
	if (th_wait(pid, timeout_ms, &status) < 0) {
		printf("  the browser driver did not finish in %d s\n", timeout_ms / 1000);
		th_stop(pid, SIGKILL, 5000);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
