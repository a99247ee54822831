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
#include <unistd.h>

#include "cleanup.h"

static const struct sbx_runtime table[] = {
	{"python",
	 {"python3", "py"},
	 "main.py",
	 "/usr/bin/python3",
	 {"/usr/bin/python3", "--version"},
	 {0},
	 {"/usr/bin/python3", "-u", "main.py"},
	 {0}},
	{"node",
	 {"javascript", "js", "nodejs"},
	 "main.js",
	 "/usr/bin/node",
	 {"/usr/bin/node", "--version"},
	 {0},
	 {"/usr/bin/node", "main.js"},
	 {0}},
	{"bun",
	 {0},
	 "index.ts",
	 "/usr/bin/bun",
	 {"/usr/bin/bun", "--version"},
	 {0},
	 {"/usr/bin/bun", "run", "index.ts"},
	 {0}},
	{"typescript",
	 {"ts"},
	 "main.ts",
	 "/usr/bin/bun",
	 {"/usr/bin/bun", "--version"},
	 {0},
	 {"/usr/bin/bun", "run", "main.ts"},
	 {0}},
	{"typescript",
	 {"ts"},
	 "main.ts",
	 "/usr/bin/tsx",
	 {"/usr/bin/tsx", "--version"},
	 {0},
	 {"/usr/bin/tsx", "main.ts"},
	 {0}},
	{"shell",
	 {"bash", "sh"},
	 "main.sh",
	 "/bin/bash",
	 {"/bin/bash", "--version"},
	 {0},
	 {"/bin/bash", "main.sh"},
	 {0}},
	{"rust",
	 {"rs"},
	 "main.rs",
	 "/usr/bin/rustc",
	 {"/usr/bin/rustc", "--version"},
	 {"/usr/bin/rustc", "-C", "opt-level=1", "-o", "main", "main.rs"},
	 {"./main"},
	 {.cpu_time_ms = 60000,
	  .wall_time_ms = 60000,
	  .memory_kb = 2u << 20,
	  .pids = 256,
	  .fsize_kb = 1u << 20,
	  .nofile = 1024}},
};

#define N_ROWS SBX_ARRAY_SIZE(table)

struct sbx_runtimes {
	const struct sbx_runtime *installed[N_ROWS];
	size_t n;
	char names[256];
	uint32_t off;		/* languages the configuration disabled (bit = language index) */
	pthread_mutex_t lock;	/* guards versions */
	char *versions[N_ROWS]; /* indexed like installed[] */
};

static bool is_exec(const char *path)
{
	return access(path, X_OK) == 0;
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

/* The languages are the table's distinct names, in table order. */
const char *sbx_runtime_language_name(unsigned i)
{
	unsigned n = 0;

	for (size_t k = 0; k < N_ROWS; k++) {
		bool seen = false;

		for (size_t j = 0; j < k && !seen; j++)
			seen = strcmp(table[j].name, table[k].name) == 0;
		if (!seen && n++ == i)
			return table[k].name;
	}
	return NULL;
}

int sbx_runtime_language_index(const char *name)
{
	const char *l;

	for (size_t k = 0; name && k < N_ROWS; k++) {
		if (!names_row(&table[k], name))
			continue;
		for (unsigned i = 0; (l = sbx_runtime_language_name(i)); i++)
			if (strcmp(l, table[k].name) == 0)
				return (int)i;
	}
	return -1;
}

int sbx_runtimes_new(uint32_t disabled, struct sbx_runtimes **ret)
{
	struct sbx_runtimes *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return -ENOMEM;
	pthread_mutex_init(&rt->lock, NULL);
	rt->off = disabled;
	for (size_t i = 0; i < N_ROWS; i++) {
		int li = sbx_runtime_language_index(table[i].name);

		if ((li >= 0 && li < 32 && (disabled & (1u << li))) || !is_exec(table[i].probe) ||
		    sbx_runtimes_find(rt, table[i].name))
			continue;
		rt->installed[rt->n++] = &table[i];
		snprintf(rt->names + strlen(rt->names), sizeof(rt->names) - strlen(rt->names),
			 "%s%s", rt->n > 1 ? ", " : "", table[i].name);
	}
	*ret = rt;
	return 0;
}

const char *sbx_runtimes_disabled(const struct sbx_runtimes *rt, const char *name)
{
	int li = sbx_runtime_language_index(name);

	return li >= 0 && li < 32 && (rt->off & (1u << li))
		       ? sbx_runtime_language_name((unsigned)li)
		       : NULL;
}

const char *sbx_runtimes_disabled_argv0(const struct sbx_runtimes *rt, const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : argv0;
	if (!rt->off || !base || !*base)
		return NULL;
	for (size_t k = 0; k < N_ROWS; k++) {
		const char *pb = strrchr(table[k].probe, '/');
		const char *l = sbx_runtimes_disabled(rt, table[k].name);

		if (l &&
		    (names_row(&table[k], base) || strcmp(pb ? pb + 1 : table[k].probe, base) == 0))
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

/* Run the trusted, installed binary's --version on the host and keep the
 * first line. Output is bounded; a hung binary is killed after 5 s. */
static char *read_version(const struct sbx_runtime *r)
{
	char buf[256] = "", *nl;
	posix_spawn_file_actions_t fa;
	int fds[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return strdup("");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	if (posix_spawn(&pid, r->version[0], &fa, NULL, (char **)r->version,
			(char *[]){"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", NULL}) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	while (pid > 0 && len < sizeof(buf) - 1 &&
	       poll(&(struct pollfd){.fd = fds[0], .events = POLLIN}, 1, 5000) > 0 &&
	       (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fds[0]);
	if (pid > 0) {
		kill(pid, SIGKILL); /* it has exited or is no use to us any more */
		waitpid(pid, &status, 0);
	}
	nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	return strdup(buf);
}

const char *sbx_runtimes_version(struct sbx_runtimes *rt, const struct sbx_runtime *r)
{
	const char *v = "";

	pthread_mutex_lock(&rt->lock);
	for (size_t i = 0; i < rt->n; i++) {
		if (rt->installed[i] != r)
			continue;
		if (!rt->versions[i])
			rt->versions[i] = read_version(r);
		v = rt->versions[i] ? rt->versions[i] : "";
		break;
	}
	pthread_mutex_unlock(&rt->lock);
	return v;
}
