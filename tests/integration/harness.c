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
#include <sys/stat.h>
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

int th_daemon_init(struct th_daemon *d, const char *prefix)
{
	memset(d, 0, sizeof(*d));
	d->dir = tl_tmpdir(prefix);
	if (!d->dir)
		return -1;
	chmod(d->dir, 0711);
	snprintf(d->rpc, sizeof(d->rpc), "ipc://%s/rpc.sock", d->dir);
	snprintf(d->events, sizeof(d->events), "ipc://%s/events.sock", d->dir);
	snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/sandboxd.log", d->dir);
	return 0;
}

void th_daemon_init_in(struct th_daemon *d, const char *dir, const char *name)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->rpc, sizeof(d->rpc), "ipc://%s/%s.sock", dir, name);
	snprintf(d->events, sizeof(d->events), "ipc://%s/%s-events.sock", dir, name);
	snprintf(d->state, sizeof(d->state), "%s/%s-state", dir, name);
	snprintf(d->log, sizeof(d->log), "%s/%s.log", dir, name);
}

pid_t th_daemon_start(struct th_daemon *d, const char *const args[])
{
	const char *argv[32] = {"--rpc", d->rpc, "--events", d->events, "--state-dir", d->state};
	size_t n = 6;

	for (; args && *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	d->pid = th_spawn("sandboxd", argv, d->log);
	return d->pid;
}

int th_daemon_stop(struct th_daemon *d, int timeout_ms)
{
	int st = th_stop(d->pid, SIGTERM, timeout_ms);

	d->pid = 0;
	return st;
}

void th_daemon_fini(struct th_daemon *d)
{
	if (tl_failed)
		th_dump_logs();
	if (d->dir && !getenv("SBX_KEEP_TMP"))
		th_rmtree(d->dir);
	else if (d->dir)
		printf("kept %s\n", d->dir);
	free(d->dir);
	d->dir = NULL;
}

int th_count_procs(const char *marker)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char p[300], buf[4096];
		size_t len;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		f = fopen(p, "re");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t i = 0; i < len; i++)
			buf[i] = buf[i] ? buf[i] : ' ';
		buf[len] = 0;
		n += strstr(buf, marker) != NULL;
	}
	if (d)
		closedir(d);
	return n;
}

long th_proc_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			kb = strtol(line + fl + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return kb;
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
