#include "harness.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "testlib.h"

#define MAX_CHILDREN 16

/* Test-process bookkeeping: which children to kill at exit. */
static struct {
	pid_t pid;
	char log[512];
} children[MAX_CHILDREN];
static bool atexit_done;

void th_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void kill_all(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid > 0) {
			kill(children[i].pid, SIGKILL);
			waitpid(children[i].pid, NULL, 0);
			children[i].pid = 0;
		}
}

static void forget(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid == pid)
			children[i].pid = 0;
}

pid_t th_spawn(const char *name, const char *const args[], const char *log_path)
{
	char *bin = tl_bin(name);
	const char *argv[32];
	pid_t parent = getpid(), pid;
	int n = 0, slot = -1;

	/* Prefer a slot never used, so that every log stays listed. */
	for (int i = 0; i < MAX_CHILDREN && slot < 0; i++)
		if (children[i].pid == 0 && !children[i].log[0])
			slot = i;
	for (int i = 0; i < MAX_CHILDREN && slot < 0; i++)
		if (children[i].pid == 0)
			slot = i;
	if (!bin || slot < 0)
		return -1;
	if (!atexit_done) {
		atexit(kill_all);
		atexit_done = true;
	}
	argv[n++] = bin;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		free(bin);
		return -1;
	}
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		/* Die with the test, whatever way it ends. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(bin, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	children[slot].pid = pid;
	snprintf(children[slot].log, sizeof(children[slot].log), "%s", log_path);
	free(bin);
	return pid;
}

int th_wait(pid_t pid, int timeout_ms, int *ret_status)
{
	long long until = sbx_clock_mono_ms() + timeout_ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			forget(pid);
			*ret_status = st;
			return 0;
		}
		if (r < 0 || sbx_clock_mono_ms() >= until)
			return -ETIMEDOUT;
		th_sleep_ms(10);
	}
}

int th_stop(pid_t pid, int sig, int timeout_ms)
{
	int st = -1;

	kill(pid, sig);
	if (th_wait(pid, timeout_ms, &st) < 0) {
		fprintf(stderr, "pid %d did not exit within %d ms of signal %d: killing it\n", pid,
			timeout_ms, sig);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		forget(pid);
	}
	return st;
}

/* Are all threads of pid in state 'T' (stopped)? */
static bool all_stopped(pid_t pid)
{
	char path[64], line[512];
	struct dirent *de;
	bool stopped = true;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (stopped && (de = readdir(d))) {
		char *paren;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* "tid (comm) S ...": the state follows the last ')'. */
		if (fgets(line, sizeof(line), f) && (paren = strrchr(line, ')')))
			stopped = paren[1] == ' ' && (paren[2] == 'T' || paren[2] == 't');
		fclose(f);
	}
	closedir(d);
	return stopped;
}

int th_freeze(pid_t pid, int timeout_ms)
{
	long long until = sbx_clock_mono_ms() + timeout_ms;

	kill(pid, SIGSTOP);
	while (!all_stopped(pid)) {
		if (sbx_clock_mono_ms() >= until)
			return -ETIMEDOUT;
		th_sleep_ms(5);
	}
	return 0;
}

void th_dump_logs(void)
{
	char seen[MAX_CHILDREN][512];
	int n_seen = 0;

	for (int i = 0; i < MAX_CHILDREN; i++) {
		bool dup = false;
		char line[1024];
		FILE *f;

		if (!children[i].log[0])
			continue;
		for (int j = 0; j < n_seen; j++)
			dup = dup || strcmp(seen[j], children[i].log) == 0;
		if (dup)
			continue;
		snprintf(seen[n_seen++], sizeof(seen[0]), "%s", children[i].log);
		f = fopen(children[i].log, "r");
		if (!f)
			continue;
		fprintf(stderr, "---- %s ----\n", children[i].log);
		while (fgets(line, sizeof(line), f))
			fputs(line, stderr);
		fclose(f);
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

void th_rmtree(const char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
