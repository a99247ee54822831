#include "gvisor_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

/* What the root shows of the host, read-only, as native's
 * (daemon/sandbox/mnt.c): a symlink on the host is the same symlink. */
static const char *const host_ro[] = {
	"/usr",		     "/bin",		  "/sbin",	       "/lib",
	"/lib32",	     "/lib64",		  "/libx32",	       "/etc/hosts",
	"/etc/resolv.conf",  "/etc/nsswitch.conf", "/etc/ld.so.cache", "/etc/ld.so.conf",
	"/etc/ld.so.conf.d", "/etc/alternatives", "/etc/ssl/certs",    "/etc/localtime",
	"/etc/mime.types"};

/* A mount point below the root for host path p (a directory or an empty
 * file, as p is), or the same symlink. Parents are made as needed. */
static int make_point(const char *root, const char *p)
{
	char dst[PATH_MAX * 3], link[PATH_MAX];
	ssize_t len = readlink(p, link, sizeof(link) - 1);
	struct stat st;
	int fd;

	snprintf(dst, sizeof(dst), "%s%s", root, p);
	for (char *s = dst + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (len > 0) {
		link[len] = 0;
		return symlink(link, dst) < 0 && errno != EEXIST ? -errno : 0;
	}
	if (lstat(p, &st) < 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return mkdir(dst, 0755) < 0 && errno != EEXIST ? -errno : 0;
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Directories of the root open to everyone: it is mounted read-only, and
 * gVisor checks permissions before the mount's flags, so that a write
 * there fails as on native's root, "Read-only file system" (not
 * "Permission denied"). */
static int open_dir(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	return flag == FTW_D && S_ISDIR(st->st_mode) && chmod(p, 0777) < 0 ? -errno : 0;
}

/* The root directory: mount points for host_ro, our files in /etc, /tmp,
 * /workspace. Built once; runsc sees it read-only. */
int sbx_gvisor_make_root(const char *root)
{
	static const char *const own[] = {"/tmp", "/workspace", "/proc", "/dev", "/sys"};
	/* Empty unless bound over: an empty ld.so.preload preloads nothing. */
	static const char *const files[] = {"/etc/passwd", "/etc/group", "/etc/ld.so.preload",
					    SBX_GVISOR_COMPAT_SO};
	char p[PATH_MAX * 3];
	int r = mkdir(root, 0755) < 0 && errno != EEXIST ? -errno : 0;

	for (size_t i = 0; i < SBX_ARRAY_SIZE(host_ro) && r == 0; i++)
		r = make_point(root, host_ro[i]);
	for (size_t i = 0; i < SBX_ARRAY_SIZE(own) && r == 0; i++) {
		snprintf(p, sizeof(p), "%s%s", root, own[i]);
		r = mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
	}
	for (size_t i = 0; i < SBX_ARRAY_SIZE(files) && r == 0; i++) {
		snprintf(p, sizeof(p), "%s%s", root, files[i]);
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		r = fd < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
	}
	return r < 0 ? r : nftw(root, open_dir, 16, FTW_PHYS);
}

static int add_mount(json_t *mounts, const char *type, const char *src, const char *dst,
		     bool ro, const char *opt)
{
	json_t *m = json_pack("{s:s, s:s, s:s, s:[s, s]}", "destination", dst, "type", type,
			      "source", src, "options", type[0] == 'b' ? "rbind" : opt,
			      ro ? "ro" : "rw");

	return m && json_array_append_new(mounts, m) == 0 ? 0 : -ENOMEM;
}

/* The mounts: host_ro read-only (symlinks are in the root already), our
 * passwd and group (and preload), the request's binds, /tmp, the
 * workspace. */
static json_t *mounts(const struct sbx_gvisor_ids *ids, const Sbx__SpawnRequest *req,
		      const char *ws)
{
	json_t *m = json_array();
	struct stat st;
	char tmpopt[64];
	int r = m ? 0 : -ENOMEM;

	for (size_t i = 0; i < SBX_ARRAY_SIZE(host_ro) && r == 0; i++)
		if (lstat(host_ro[i], &st) == 0 && !S_ISLNK(st.st_mode))
			r = add_mount(m, "bind", host_ro[i], host_ro[i], true, NULL);
	if (r == 0)
		r = add_mount(m, "bind", ids->passwd, "/etc/passwd", true, NULL);
	if (r == 0)
		r = add_mount(m, "bind", ids->group, "/etc/group", true, NULL);
	if (r == 0 && ids->preload && ids->compat)
		r = add_mount(m, "bind", ids->preload, "/etc/ld.so.preload", true, NULL);
	if (r == 0 && ids->preload && ids->compat)
		r = add_mount(m, "bind", ids->compat, SBX_GVISOR_COMPAT_SO, true, NULL);
	for (size_t i = 0; i < req->n_binds && r == 0; i++)
		r = add_mount(m, "bind", req->binds[i]->source,
			      req->binds[i]->target[0] ? req->binds[i]->target
						       : req->binds[i]->source,
			      true, NULL);
	snprintf(tmpopt, sizeof(tmpopt), "size=%d", 64 << 20);
	if (r == 0)
		r = req->tmp_dir[0] ? add_mount(m, "bind", req->tmp_dir, "/tmp", false, NULL)
				    : add_mount(m, "tmpfs", "tmpfs", "/tmp", false, tmpopt);
	if (r == 0)
		r = add_mount(m, "bind", ws, "/workspace", false, NULL);
	if (r < 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* The spec's rlimits: exact sizes; CPU seconds a backstop a second after
 * the daemon's polled limit; nproc the pids limit (gVisor's tasks are not
 * host tasks: the host pids cgroup cannot count them). */
static json_t *rlimits(const Sbx__Limits *l)
{
	const struct {
		const char *name;
		uint64_t v;
	} rl[] = {{"RLIMIT_CPU", (l->cpu_time_ms + 999) / 1000 + 1},
		  {"RLIMIT_FSIZE", l->fsize_kb * 1024},
		  {"RLIMIT_STACK", l->stack_kb * 1024},
		  {"RLIMIT_NOFILE", l->nofile},
		  {"RLIMIT_NPROC", l->pids},
		  {"RLIMIT_CORE", 0}};
	json_t *a = json_array();

	for (size_t i = 0; a && i < SBX_ARRAY_SIZE(rl); i++)
		if (json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "type", rl[i].name,
						       "hard", (json_int_t)rl[i].v, "soft",
						       (json_int_t)rl[i].v)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *process(const Sbx__SpawnRequest *req, const char *exe)
{
	json_t *args = json_array(), *env = json_array();
	int r = args && env ? json_array_append_new(args, json_string(exe)) : -1;

	for (size_t i = 1; i < req->n_argv && r == 0; i++)
		r = json_array_append_new(args, json_string(req->argv[i]));
	for (size_t i = 0; i < req->n_env && r == 0; i++)
		r = json_array_append_new(env, json_string(req->env[i]));
	if (r < 0) {
		json_decref(args);
		json_decref(env);
		return NULL;
	}
	return json_pack("{s:{s:i, s:i}, s:o, s:o, s:s, s:o*, s:b}", "user", "uid", SBX_GVISOR_ID,
			 "gid", SBX_GVISOR_ID, "args", args, "env", env, "cwd",
			 req->cwd[0] ? req->cwd : "/workspace", "rlimits", rlimits(req->limits),
			 "noNewPrivileges", 1);
}

/* <bundle>/config.json for one execution. */
int sbx_gvisor_write_bundle(const char *root, const struct sbx_gvisor_ids *ids,
			    const Sbx__SpawnRequest *req, const char *ws, const char *exe,
			    const char *bundle)
{
	char p[PATH_MAX + 16];
	json_t *ns = json_pack("[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid", "type",
			       "network", "type", "ipc", "type", "uts", "type", "mount");
	json_t *spec = json_pack("{s:s, s:o*, s:{s:s, s:b}, s:s, s:o*, s:{s:o*}}", "ociVersion",
				 "1.0.0", "process", process(req, exe), "root", "path", root,
				 "readonly", 1, "hostname", "sandbox", "mounts",
				 mounts(ids, req, ws), "linux", "namespaces", ns);
	int r;

	if (!spec || !json_object_get(spec, "process") || !json_object_get(spec, "mounts")) {
		json_decref(spec);
		return -ENOMEM;
	}
	if (mkdir(bundle, 0700) < 0) {
		json_decref(spec);
		return -errno;
	}
	snprintf(p, sizeof(p), "%s/config.json", bundle);
	r = json_dump_file(spec, p, JSON_COMPACT) < 0 ? -EIO : 0;
	json_decref(spec);
	return r;
}

