#include "harness.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
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

/* In the child, before exec: a mount namespace of its own in which dir is
 * an empty tmpfs (th_cluster_gw_start). Without CAP_SYS_ADMIN, in a user
 * namespace of its own too (the process keeps its files' access as other). */
static void hide_dir(const char *dir)
{
	int r = unshare(CLONE_NEWNS);

	if (r < 0 && errno == EPERM)
		r = unshare(CLONE_NEWUSER | CLONE_NEWNS);
	if (r < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0711") <
		    0) {
		fprintf(stderr, "cannot hide %s from this process: %s\n", dir, strerror(errno));
		_exit(126);
	}
}

static pid_t spawn(const char *name, const char *const args[], const char *log_path,
		   const char *hide)
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
		if (hide)
			hide_dir(hide);
		execv(bin, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	children[slot].pid = pid;
	snprintf(children[slot].log, sizeof(children[slot].log), "%s", log_path);
	free(bin);
	return pid;
}

pid_t th_spawn(const char *name, const char *const args[], const char *log_path)
{
	return spawn(name, args, log_path, NULL);
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

int th_run_node(const char *script, const char *const args[], int timeout_ms)
{
	const char *argv[TH_NODE_ARGS + 3] = {"node", script};
	int status;
	pid_t pid;

	for (int i = 0; args && args[i] && i < TH_NODE_ARGS; i++)
		argv[i + 2] = args[i];
	/* Ordered with the script's output, and nothing left to duplicate in
	 * the forked child. */
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp("node", (char *const *)argv);
		printf("cannot run node: %s\n", strerror(errno));
		_exit(127);
	}
	if (th_wait(pid, timeout_ms, &status) < 0) {
		printf("  %s did not finish in %d s\n", script, timeout_ms / 1000);
		th_stop(pid, SIGKILL, 5000);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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

/* ---- a cluster ------------------------------------------------------- */

/* A free port of 127.0.0.1 that none of taken[0..n) is. */
static int other_free_port(const int *taken, int n)
{
	for (int tries = 0; tries < 32; tries++) {
		int p = tl_free_port(), dup = 0;

		for (int i = 0; i < n; i++)
			dup |= taken[i] == p;
		if (p > 0 && !dup)
			return p;
	}
	return -1;
}

static int random_key(char *out, size_t size)
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, b, sizeof(b)) : -1;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(b) || size < 2 * sizeof(b) + 4)
		return -1;
	snprintf(out, size, "ck-");
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 3 + 2 * i, 3, "%02x", b[i]);
	return 0;
}

int th_cluster_init(struct th_cluster *c, const char *prefix, int n_nodes, int n_gws)
{
	int ports[3 * TH_MAX_NODES + TH_MAX_GWS], np = 0;

	memset(c, 0, sizeof(*c));
	if (n_nodes < 1 || n_nodes > TH_MAX_NODES || n_gws < 0 || n_gws > TH_MAX_GWS ||
	    random_key(c->key, sizeof(c->key)) < 0)
		return -1;
	c->dir = tl_tmpdir(prefix);
	if (!c->dir)
		return -1;
	chmod(c->dir, 0711);
	c->n_nodes = n_nodes;
	c->n_gws = n_gws;
	for (int i = 0; i < n_nodes + n_gws; i++)
		for (int k = 0; k < (i < n_nodes ? 3 : 1); k++, np++)
			if ((ports[np] = other_free_port(ports, np)) < 0)
				return -1;
	np = 0;
	for (int i = 0; i < n_nodes; i++) {
		struct th_node *n = &c->nodes[i];
		char id[16];

		snprintf(id, sizeof(id), "node-%d", i + 1);
		snprintf(n->id, sizeof(n->id), "%s", id);
		snprintf(n->rpc, sizeof(n->rpc), "tcp://127.0.0.1:%d", ports[np++]);
		snprintf(n->events, sizeof(n->events), "tcp://127.0.0.1:%d", ports[np++]);
		snprintf(n->tunnel, sizeof(n->tunnel), "tcp://127.0.0.1:%d", ports[np++]);
		snprintf(n->state, sizeof(n->state), "%s/%s-state", c->dir, id);
		snprintf(n->log, sizeof(n->log), "%s/%s.log", c->dir, id);
	}
	for (int i = 0; i < n_gws; i++, np++) {
		struct th_gw *g = &c->gws[i];

		snprintf(g->listen, sizeof(g->listen), "127.0.0.1:%d", ports[np]);
		snprintf(g->base, sizeof(g->base), "http://127.0.0.1:%d", ports[np]);
		snprintf(g->log, sizeof(g->log), "%s/gw-%d.log", c->dir, i + 1);
	}
	return 0;
}

pid_t th_cluster_node_start(struct th_cluster *c, int i, const char *const args[])
{
	struct th_node *n = &c->nodes[i];
	const char *argv[32] = {"--rpc",     n->rpc,	"--events",	 n->events,
				"--tunnel",  n->tunnel, "--state-dir",	 n->state,
				"--node-id", n->id,	"--cluster-key", c->key};
	size_t k = 12;

	for (; args && *args && k < 31; args++)
		argv[k++] = *args;
	argv[k] = NULL;
	n->pid = th_spawn("sandboxd", argv, n->log);
	return n->pid;
}

void th_cluster_node_kill(struct th_cluster *c, int i)
{
	struct th_node *n = &c->nodes[i];
	int st;

	if (n->pid <= 0)
		return;
	kill(n->pid, SIGKILL);
	if (th_wait(n->pid, 10000, &st) < 0)
		fprintf(stderr, "%s (pid %d) did not die of SIGKILL in 10 s\n", n->id, n->pid);
	n->pid = 0;
}

pid_t th_cluster_gw_start(struct th_cluster *c, int i, int nodes, const char *const args[])
{
	struct th_gw *g = &c->gws[i];
	char rpc[TH_MAX_NODES * 64], events[TH_MAX_NODES * 64];
	const char *argv[32] = {"--listen", g->listen, "--rpc",		rpc,
				"--events", events,    "--cluster-key", c->key};
	size_t k = 8, r = 0, e = 0;

	rpc[0] = events[0] = '\0';
	for (int n = 0; n < nodes && n < c->n_nodes; n++) {
		r += (size_t)snprintf(rpc + r, sizeof(rpc) - r, "%s%s", n ? "," : "",
				      c->nodes[n].rpc);
		e += (size_t)snprintf(events + e, sizeof(events) - e, "%s%s", n ? "," : "",
				      c->nodes[n].events);
	}
	for (; args && *args && k < 31; args++)
		argv[k++] = *args;
	argv[k] = NULL;
	g->pid = spawn("sandbox-gateway", argv, g->log, c->dir);
	return g->pid;
}

void th_cluster_fini(struct th_cluster *c)
{
	if (tl_failed)
		th_dump_logs();
	for (int i = 0; i < c->n_gws; i++)
		if (c->gws[i].pid > 0)
			th_stop(c->gws[i].pid, SIGTERM, 10000);
	for (int i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].pid > 0)
			th_stop(c->nodes[i].pid, SIGTERM, 15000);
	for (int i = 0; i < c->n_gws; i++)
		c->gws[i].pid = 0;
	for (int i = 0; i < c->n_nodes; i++)
		c->nodes[i].pid = 0;
	if (c->dir && !getenv("SBX_KEEP_TMP"))
		th_rmtree(c->dir);
	else if (c->dir)
		printf("kept %s\n", c->dir);
	free(c->dir);
	c->dir = NULL;
}
