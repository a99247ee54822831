#include "runtimes.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

/* The table's size as a constant for the arrays below; runtime_table.c
 * may not grow past it unnoticed (sbx_runtimes_new refuses). */
#define N_ROWS 64
#define VERSION_MS 20000

struct sbx_runtimes {
	const struct sbx_runtime *installed[N_ROWS];
	size_t n;
	char names[1024];
	uint64_t off;		/* languages the configuration disabled (bit = language index) */
	pthread_mutex_t lock;	/* guards versions */
	char *versions[N_ROWS]; /* indexed like installed[] */
};

static bool is_exec(const char *path)
{
	return access(path, X_OK) == 0;
}

/* Its binary and every host path it binds are there. */
static bool is_installed(const struct sbx_runtime *r)
{
	if (!is_exec(r->probe))
		return false;
	for (size_t i = 0; i < SBX_RT_BINDS_MAX && r->binds[i]; i++)
		if (access(r->binds[i], R_OK) != 0)
			return false;
	return true;
}

static bool is_off(uint64_t off, int li)
{
	return li >= 0 && li < SBX_RT_LANGUAGES_MAX && (off & (UINT64_C(1) << li));
}

static bool names_row(const struct sbx_runtime *r, const char *name)
{
	if (strcasecmp(r->name, name) == 0)
		return true;
	for (size_t j = 0; j < SBX_ARRAY_SIZE(r->aliases) && r->aliases[j]; j++)
		if (strcasecmp(r->aliases[j], name) == 0)
			return true;
	return false;
}

/* Row k's name is a language not seen in an earlier row. */
static bool first_of_name(size_t k)
{
	for (size_t j = 0; j < k; j++)
		if (strcmp(sbx_runtime_table[j].name, sbx_runtime_table[k].name) == 0)
			return false;
	return true;
}

/* The languages are the table's distinct names, in table order. */
const char *sbx_runtime_language_name(unsigned i)
{
	unsigned n = 0;

	for (size_t k = 0; k < sbx_runtime_table_len; k++)
		if (first_of_name(k) && n++ == i)
			return sbx_runtime_table[k].name;
	return NULL;
}

int sbx_runtime_language_index(const char *name)
{
	int li = 0;

	for (size_t k = 0; name && k < sbx_runtime_table_len; k++) {
		if (!first_of_name(k))
			continue;
		for (size_t j = k; j < sbx_runtime_table_len; j++)
			if (strcmp(sbx_runtime_table[j].name, sbx_runtime_table[k].name) == 0 &&
			    names_row(&sbx_runtime_table[j], name))
				return li;
		li++;
	}
	return -1;
}

int sbx_runtimes_new(uint64_t disabled, struct sbx_runtimes **ret)
{
	struct sbx_runtimes *rt;

	if (sbx_runtime_table_len > N_ROWS || !sbx_runtime_language_name(0) ||
	    sbx_runtime_language_name(SBX_RT_LANGUAGES_MAX))
		return -E2BIG;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	pthread_mutex_init(&rt->lock, NULL);
	rt->off = disabled;
	for (size_t i = 0; i < sbx_runtime_table_len; i++) {
		int li = sbx_runtime_language_index(sbx_runtime_table[i].name);

		if (is_off(disabled, li) || !is_installed(&sbx_runtime_table[i]) ||
		    sbx_runtimes_find(rt, sbx_runtime_table[i].name))
			continue;
		rt->installed[rt->n++] = &sbx_runtime_table[i];
		snprintf(rt->names + strlen(rt->names), sizeof(rt->names) - strlen(rt->names),
			 "%s%s", rt->n > 1 ? ", " : "", sbx_runtime_table[i].name);
	}
	*ret = rt;
	return 0;
}

const char *sbx_runtimes_disabled(const struct sbx_runtimes *rt, const char *name)
{
	int li = sbx_runtime_language_index(name);

	return is_off(rt->off, li) ? sbx_runtime_language_name((unsigned)li) : NULL;
}

const char *sbx_runtimes_disabled_argv0(const struct sbx_runtimes *rt, const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : argv0;
	if (!rt->off || !base || !*base)
		return NULL;
	for (size_t k = 0; k < sbx_runtime_table_len; k++) {
		const char *pb = strrchr(sbx_runtime_table[k].probe, '/');
		const char *l = sbx_runtimes_disabled(rt, sbx_runtime_table[k].name);

		if (l && (names_row(&sbx_runtime_table[k], base) ||
			  strcmp(pb ? pb + 1 : sbx_runtime_table[k].probe, base) == 0))
			return l;
	}
	return NULL;
}

void sbx_runtimes_free(struct sbx_runtimes *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->n; i++)
		free(rt->versions[i]);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}

const struct sbx_runtime *sbx_runtimes_find(const struct sbx_runtimes *rt, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < rt->n; i++)
		if (names_row(rt->installed[i], name))
			return rt->installed[i];
	return NULL;
}

const struct sbx_runtime *sbx_runtimes_at(const struct sbx_runtimes *rt, size_t i)
{
	return i < rt->n ? rt->installed[i] : NULL;
}

const char *sbx_runtimes_names(const struct sbx_runtimes *rt)
{
	return rt->names;
}

/* Milliseconds left until `deadline` (CLOCK_MONOTONIC), at least 0. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/* One version argv running on the host: its output so far. */
struct vproc {
	pid_t pid; /* -1: could not start */
	int fd;	   /* the read end of its stdout and stderr; -1 when done */
	char buf[256];
	size_t len;
};

/* Start the trusted, installed binary's version argv in a process group
 * of its own (a shell pipeline is killed whole). */
static void version_start(const struct sbx_runtime *r, struct vproc *p)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int fds[2];

	p->pid = -1;
	p->fd = -1;
	p->len = 0; /* p is the caller's stack: versions_fill ends buf at len */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	/* Nothing to read: the daemon's stdin is not the tool's. */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	if (posix_spawn(&p->pid, r->version[0], &fa, &at, (char **)r->version,
			(char *[]){"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", NULL}) != 0)
		p->pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[1]);
	if (p->pid > 0)
		p->fd = fds[0];
	else
		close(fds[0]);
}

/* Read what they print, all at once, until each ends, fills its buffer
 * or VERSION_MS passes (a JVM compiler's -version takes seconds on a busy
 * host: together the wait is the slowest one's, not the sum). */
static void versions_collect(struct vproc *p, size_t n)
{
	struct pollfd pfd[N_ROWS];
	struct vproc *of[N_ROWS];
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += VERSION_MS / 1000;
	for (;;) {
		size_t k = 0;
		int left = ms_left(&deadline);

		for (size_t i = 0; i < n; i++)
			if (p[i].fd >= 0) {
				of[k] = &p[i];
				pfd[k++] = (struct pollfd){.fd = p[i].fd, .events = POLLIN};
			}
		if (k == 0 || left == 0 || poll(pfd, k, left) <= 0)
			break;
		for (size_t j = 0; j < k; j++) {
			struct vproc *q = of[j];
			ssize_t got;

			if (!pfd[j].revents)
				continue;
			got = read(q->fd, q->buf + q->len, sizeof(q->buf) - 1 - q->len);
			if (got > 0)
				q->len += (size_t)got;
			if (got <= 0 || q->len == sizeof(q->buf) - 1) {
				close(q->fd);
				q->fd = -1;
			}
		}
	}
}

/* Every installed row's version not known yet, asked in parallel; the
 * first line of each is kept. Called with rt->lock held. */
static void versions_fill(struct sbx_runtimes *rt)
{
	struct vproc p[N_ROWS];
	int status;

	for (size_t i = 0; i < rt->n; i++)
		if (!rt->versions[i])
			version_start(rt->installed[i], &p[i]);
		else
			p[i] = (struct vproc){.pid = -1, .fd = -1};
	versions_collect(p, rt->n);
	for (size_t i = 0; i < rt->n; i++) {
		if (p[i].fd >= 0)
			close(p[i].fd);
		if (p[i].pid > 0) {
			kill(-p[i].pid, SIGKILL); /* it has exited or is no use to us any more */
			waitpid(p[i].pid, &status, 0);
		}
		if (rt->versions[i])
			continue;
		p[i].buf[p[i].len] = 0;
		p[i].buf[strcspn(p[i].buf, "\n")] = 0;
		rt->versions[i] = strdup(p[i].buf);
	}
}

const char *sbx_runtimes_version(struct sbx_runtimes *rt, const struct sbx_runtime *r)
{
	const char *v = "";

	pthread_mutex_lock(&rt->lock);
	for (size_t i = 0; i < rt->n; i++) {
		if (rt->installed[i] != r)
			continue;
		if (!rt->versions[i])
			versions_fill(rt);
		v = rt->versions[i] ? rt->versions[i] : "";
		break;
	}
	pthread_mutex_unlock(&rt->lock);
	return v;
}
