/* User namespace: the sandbox runs as uid/gid 1000 inside, which is the
 * unprivileged host_uid/host_gid outside. No other id is mapped: inside
 * root does not exist, so nothing the sandbox does can act as host root.
 *
 * The maps must be written from outside by a process holding CAP_SETUID in
 * the parent namespace, so the spawner writes them right after clone()
 * while the child waits on the "go" pipe. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "module.h"
#include "spawner_state.h"
#include "workspace.h"

static int write_proc(int dfd, const char *file, const char *buf)
{
	_cleanup_close_ int fd = openat(dfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, buf, strlen(buf));
	if (n < 0)
		return -errno;
	return (size_t)n == strlen(buf) ? 0 : -EIO;
}

static int user_parent(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	char path[64], map[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)ex->pid);
	_cleanup_close_ int dfd = open(path, O_DIRECTORY | O_PATH | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	int r;
	snprintf(map, sizeof(map), "%d %u 1\n", SBX_INSIDE_UID, ctx->cfg.host_uid);
	if ((r = write_proc(dfd, "uid_map", map)) < 0)
		return r;
	/* setgroups must be denied before an unprivileged gid_map could be
	 * written; we deny it anyway so the (empty) supplementary group list
	 * can never be replaced from inside. */
	if ((r = write_proc(dfd, "setgroups", "deny")) < 0)
		return r;
	snprintf(map, sizeof(map), "%d %u 1\n", SBX_INSIDE_GID, ctx->cfg.host_gid);
	return write_proc(dfd, "gid_map", map);
}

static int user_child(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	/* Wait for the maps (and the cgroup placement): until then the
	 * child may create no file and must not run anything. EOF without
	 * the byte means the spawner gave up on us. */
	char c;
	ssize_t n;
	do
		n = read(ex->child_go, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(1);
	/* A pre-built sandbox's request comes on the same pipe (warm.c). */
	if (!ex->warm) {
		close(ex->child_go);
		ex->child_go = -1;
	}
	return 0;
}

static int user_exec(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	/* Groups are already empty (the spawner cleared its own before any
	 * clone, and setgroups is denied). */
	if (setresgid(SBX_INSIDE_GID, SBX_INSIDE_GID, SBX_INSIDE_GID) < 0)
		return -errno;
	if (setresuid(SBX_INSIDE_UID, SBX_INSIDE_UID, SBX_INSIDE_UID) < 0)
		return -errno;
	return 0;
}

const struct sbx_module sbx_user_module = {
	.name = "user",
	.parent = user_parent,
	.child = user_child,
	.exec = user_exec,
};
