#include "docker_cg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgdir.h"
#include "log.h"

#define PREFIX "sandboxd-docker."
/* runc may still be tearing the container's cgroup down for a moment
 * after the engine said it was removed. */
#define RMDIR_TRIES 50
#define RMDIR_PAUSE_NS 10000000L

/* The first number of dir/file, or after "key " in its lines; 0 when
 * absent. */
static unsigned long long read_u64(const char *dir, const char *file, const char *key)
{
	char p[PATH_MAX + 64], buf[2048];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (!key)
		return strtoull(buf, NULL, 10);
	for (const char *l = buf; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, strlen(key)) == 0 && l[strlen(key)] == ' ')
			return strtoull(l + strlen(key) + 1, NULL, 10);
	return 0;
}

/* rmdir path and the empty cgroups below it (depth: the container's and
 * a dead daemon's e<n>/<container>), retrying while busy. Processes are
 * never killed: a container still running in it is the engine's. */
static void rm_empty(const char *path, int depth)
{
	char sub[PATH_MAX];
	DIR *d = depth > 0 ? opendir(path) : NULL;
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.' &&
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) < sizeof(sub))
			rm_empty(sub, depth - 1);
	if (d)
		closedir(d);
	for (int i = 0; i < RMDIR_TRIES; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return;
		if (errno != EBUSY)
			break;
		nanosleep(&(struct timespec){0, RMDIR_PAUSE_NS}, NULL);
	}
	log_warn("docker backend: could not remove cgroup %s: %s", path, strerror(errno));
}

/* Every cgroup and cgroup2 mount of this process's view, with the
 * hierarchies read: v1 those with the memory and cpuacct controllers, v2
 * the unified one. */
static int find_mounts(struct sbx_docker_cg *cg, int version)
{
	char line[1024], point[512], type[32], opts[512];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	cg->mem = cg->cpu = -1;
	while (fgets(line, sizeof(line), f) && cg->n_mounts < SBX_DOCKER_CG_MOUNTS) {
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %511s", point) != 1 ||
		    sscanf(sep, " - %31s %*s %511s", type, opts) != 2 ||
		    (strcmp(type, "cgroup") != 0 && strcmp(type, "cgroup2") != 0) ||
		    strlen(point) >= sizeof(cg->mounts[0]))
			continue;
		int i = cg->n_mounts++;
		memcpy(cg->mounts[i], point, strlen(point) + 1); /* fits: checked above */
		if (version == 2 && strcmp(type, "cgroup2") == 0)
			cg->mem = cg->cpu = i;
		else if (version == 1 && strcmp(type, "cgroup") == 0 && strstr(opts, "memory"))
			cg->mem = i;
		else if (version == 1 && strcmp(type, "cgroup") == 0 && strstr(opts, "cpuacct"))
			cg->cpu = i;
	}
	fclose(f);
	return cg->mem >= 0 && cg->cpu >= 0 ? 0 : -ENOENT;
}

/* Directories of daemons that are gone, in every hierarchy. */
static void remove_stale(const struct sbx_docker_cg *cg)
{
	for (int i = 0; i < cg->n_mounts; i++)
		sbx_cgdir_remove_stale(cg->mounts[i], PREFIX, rm_empty, 2);
}

void sbx_docker_cg_open(struct sbx_docker_cg *cg, const char *driver, const char *version)
{
	int v = version ? atoi(version) : 0;

	memset(cg, 0, sizeof(*cg));
	snprintf(cg->name, sizeof(cg->name), PREFIX "%d", (int)getpid());
	if (!driver || strcmp(driver, "cgroupfs") != 0 || (v != 1 && v != 2)) {
		log_warn("docker backend: the engine's cgroup driver is %s (cgroup v%s): CPU time "
			 "and peak memory are reported as 0 (they need the cgroupfs driver: "
			 "dockerd --exec-opt native.cgroupdriver=cgroupfs)",
			 driver ? driver : "unknown", version ? version : "?");
		return;
	}
	if (find_mounts(cg, v) < 0) {
		log_warn("docker backend: no cgroup v%d %s mounted here: CPU time and peak memory "
			 "are reported as 0",
			 v, v == 1 ? "memory and cpuacct hierarchies" : "hierarchy");
		return;
	}
	remove_stale(cg);
	cg->version = v;
}

void sbx_docker_cg_close(struct sbx_docker_cg *cg)
{
	char path[PATH_MAX];

	for (int i = 0; cg->version && i < cg->n_mounts; i++)
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", cg->mounts[i], cg->name) <
		    sizeof(path))
			rm_empty(path, 2);
	cg->version = 0;
}

void sbx_docker_cg_parent(struct sbx_docker_cg *cg, char *buf, size_t size)
{
	if (!cg->version) {
		snprintf(buf, size, "%s", "");
		return;
	}
	snprintf(buf, size, "/%s/e%u", cg->name, atomic_fetch_add(&cg->seq, 1));
}

int sbx_docker_cg_collect(struct sbx_docker_cg *cg, const char *parent, Sbx__ExecResult *res)
{
	char mem[PATH_MAX], cpu[PATH_MAX];
	struct stat st;

	if (!cg->version || !parent[0])
		return 0;
	snprintf(mem, sizeof(mem), "%s%s", cg->mounts[cg->mem], parent);
	snprintf(cpu, sizeof(cpu), "%s%s", cg->mounts[cg->cpu], parent);
	if (stat(mem, &st) < 0 || stat(cpu, &st) < 0) {
		/* The engine made it, but not in our view of the hierarchy. */
		if (!atomic_exchange(&cg->warned, true))
			log_warn("docker backend: the engine's cgroup %s is not visible here (is "
				 "sandboxd in a cgroup namespace of its own?): CPU time and peak "
				 "memory are reported as 0",
				 mem);
		return -ENOENT;
	}
	if (cg->version == 1) {
		res->cpu_time_ms = read_u64(cpu, "cpuacct.usage", NULL) / 1000000;
		res->memory_peak_kb = read_u64(mem, "memory.max_usage_in_bytes", NULL) / 1024;
	} else {
		res->cpu_time_ms = read_u64(cpu, "cpu.stat", "usage_usec") / 1000;
		/* memory.peak: kernel 5.19 and later; 0 before. */
		res->memory_peak_kb = read_u64(mem, "memory.peak", NULL) / 1024;
	}
	return 0;
}

void sbx_docker_cg_remove(const struct sbx_docker_cg *cg, const char *parent)
{
	char path[PATH_MAX];

	for (int i = 0; cg->version && parent[0] && i < cg->n_mounts; i++)
		if ((size_t)snprintf(path, sizeof(path), "%s%s", cg->mounts[i], parent) <
		    sizeof(path))
			rm_empty(path, 1);
}
