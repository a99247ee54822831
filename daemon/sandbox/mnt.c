/* Mount namespace: the sandbox's root file system.
 *
 * The read-only part of the root is the same for every execution, so the
 * spawner builds it once, at start, in its own private mount namespace
 * under <state_dir>/root: a bind of a skeleton directory (mount points,
 * a generated passwd/group, /dev symlinks) with the host's /usr, the merged-
 * usr symlinks, an /etc subset and the /dev nodes bound onto it. Every
 * clone(CLONE_NEWNS) then gets a copy of that tree for free; the child only
 * adds what is per execution (tmpfs /tmp, /dev/shm and /workspace, the
 * request's binds, a fresh /proc) and pivots into it.
 *
 * Because the child's mount namespace is created together with its user
 * namespace, every mount copied from the spawner is locked (MNT_LOCKED and
 * its flags, e.g. read-only): the sandbox cannot unmount or remount them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdio.h"
#include "mnt.h"
#include "spawner_exec.h"
#include "module.h"
#include "spawner_state.h"
#include "workspace.h"

/* What the read-only root shows of the host. Symlinks on the host (merged
 * /usr: /bin -> usr/bin) are recreated as the same symlinks. Small /etc
 * files are copied into the skeleton when the engine starts rather than
 * bound: every mount in the tree is copied by each clone(CLONE_NEWNS) and
 * torn down when the sandbox ends, so fewer mounts make every execution
 * cheaper. (A change to them on the host shows after an engine restart.) */
const struct sbx_mount_entry sbx_mnt_plan[] = {
	{"/usr", true, false, false},
	{"/bin", true, true, false},
	{"/sbin", true, true, false},
	{"/lib", true, true, false},
	{"/lib32", true, true, false},
	{"/lib64", true, true, false},
	{"/libx32", true, true, false},
	{"/etc/hosts", false, true, true},
	{"/etc/resolv.conf", false, true, true},
	{"/etc/nsswitch.conf", false, true, true},
	{"/etc/ld.so.cache", false, true, true},
	{"/etc/ld.so.conf", false, true, true},
	{"/etc/ld.so.conf.d", true, true, false},
	{"/etc/alternatives", true, true, false},
	{"/etc/ssl/certs", true, true, false},
	{"/etc/localtime", false, true, true},
	{"/etc/mime.types", false, true, true},
	/* Device nodes: bound (not created), so no CAP_MKNOD is ever needed
	 * and nothing but these five exists. Kept writable: /dev/null is. */
	{"/dev/null", false, false, false},
	{"/dev/zero", false, false, false},
	{"/dev/full", false, false, false},
	{"/dev/random", false, false, false},
	{"/dev/urandom", false, false, false},
};
const unsigned sbx_mnt_plan_len = SBX_ARRAY_SIZE(sbx_mnt_plan);

/* The sandbox's own identity, instead of the host's user list. */
static const char passwd_txt[] = "root:x:0:0:root:/root:/bin/sh\n"
				 "sandbox:x:1000:1000:sandbox:/workspace:/bin/sh\n"
				 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group_txt[] = "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n";

static int touch(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (content) {
		size_t n = strlen(content);
		if (ftruncate(fd, 0) < 0 || write(fd, content, n) != (ssize_t)n)
			r = -EIO;
	}
	close(fd);
	return r;
}

/* Snapshot a host file (symlinks followed) into the skeleton. */
static int copy_file(const char *src, const char *dst)
{
	char tmp[PATH_MAX + 8], buf[65536];
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s.new", dst);
	_cleanup_close_ int out =
		open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (out < 0)
		return -errno;
	for (size_t total = 0;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > (16u << 20) || write(out, buf, (size_t)n) != n)
			return -EFBIG;
	}
	return rename(tmp, dst) < 0 ? -errno : 0;
}

/* Create the skeleton entry for `e` under skel; returns 1 when it must be
 * bind-mounted, 0 when done (symlink or absent optional), <0 on error. */
static int skel_entry(const char *skel, const struct sbx_mount_entry *e)
{
	char dst[PATH_MAX], link[PATH_MAX];
	struct stat st;
	if (lstat(e->path, &st) < 0)
		return e->optional ? 0 : -errno;
	snprintf(dst, sizeof(dst), "%s%s", skel, e->path);
	char *slash = strrchr(dst, '/');
	*slash = 0;
	int r = sbx_mkdir_p(dst, 0755);
	*slash = '/';
	if (r < 0)
		return r;
	if (e->copy) {
		unlink(dst); /* an older skeleton may have a mount point here */
		r = copy_file(e->path, dst);
		return r < 0 && e->optional ? 0 : r;
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(e->path, link, sizeof(link) - 1);
		if (n < 0)
			return -errno;
		link[n] = 0;
		/* An absolute link would, before pivot_root, resolve on the host. */
		if (link[0] == '/')
			return e->optional ? 0 : -ELOOP;
		unlink(dst);
		return symlink(link, dst) < 0 && errno != EEXIST ? -errno : 0;
	}
	if (S_ISDIR(st.st_mode))
		r = mkdir(dst, 0755) < 0 && errno != EEXIST ? -errno : 0;
	else
		r = touch(dst, NULL);
	return r < 0 ? r : 1;
}

static int remount_ro(const char *path, unsigned long extra)
{
	/* MS_REMOUNT must repeat the flags the mount already has, or the
	 * kernel refuses to clear locked ones. */
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		return -errno;
	unsigned long fl = MS_REMOUNT | MS_BIND | MS_RDONLY | extra;
	if (sv.f_flag & ST_NOSUID)
		fl |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		fl |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		fl |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		fl |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		fl |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		fl |= MS_RELATIME;
	return mount(NULL, path, NULL, fl, NULL) < 0 ? -errno : 0;
}

static int mnt_init(struct sbx_ctx *ctx)
{
	char skel[300], p[PATH_MAX];
	int r;
	/* A private mount namespace for the spawner, so the prepared root
	 * never shows on the host; slave, so host mounts made later (a new
	 * session dir on another fs) still propagate in. */
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;

	snprintf(skel, sizeof(skel), "%s/skel", ctx->cfg.state_dir);
	snprintf(ctx->root, sizeof(ctx->root), "%s/root", ctx->cfg.state_dir);
	static const char *const dirs[] = {"",	   "/tmp",	  "/dev",  "/dev/shm", "/proc",
					   "/etc", SBX_WORKSPACE, "/root", "/home"};
	for (size_t i = 0; i < SBX_ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s%s", skel, dirs[i]);
		if ((r = sbx_mkdir_p(p, 0755)) < 0)
			return r;
	}
	if (mkdir(ctx->root, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(p, sizeof(p), "%s/etc/passwd", skel);
	if ((r = touch(p, passwd_txt)) < 0)
		return r;
	snprintf(p, sizeof(p), "%s/etc/group", skel);
	if ((r = touch(p, group_txt)) < 0)
		return r;
	static const char *const devlinks[][2] = {{"/proc/self/fd", "fd"},
						  {"/proc/self/fd/0", "stdin"},
						  {"/proc/self/fd/1", "stdout"},
						  {"/proc/self/fd/2", "stderr"}};
	for (size_t i = 0; i < SBX_ARRAY_SIZE(devlinks); i++) {
		snprintf(p, sizeof(p), "%s/dev/%s", skel, devlinks[i][1]);
		if (symlink(devlinks[i][0], p) < 0 && errno != EEXIST)
			return -errno;
	}

	for (unsigned i = 0; i < sbx_mnt_plan_len; i++)
		if ((r = skel_entry(skel, &sbx_mnt_plan[i])) < 0)
			return r;
	if (mount(skel, ctx->root, NULL, MS_BIND, NULL) < 0)
		return -errno;
	if ((r = remount_ro(ctx->root, MS_NOSUID | MS_NODEV)) < 0)
		return r;
	for (unsigned i = 0; i < sbx_mnt_plan_len; i++) {
		const struct sbx_mount_entry *e = &sbx_mnt_plan[i];
		struct stat st;
		if (e->copy || lstat(e->path, &st) < 0 || S_ISLNK(st.st_mode))
			continue;
		bool dev = strncmp(e->path, "/dev/", 5) == 0;
		snprintf(p, sizeof(p), "%s%s", ctx->root, e->path);
		if (mount(e->path, p, NULL, MS_BIND | (dev ? 0 : MS_REC), NULL) < 0)
			return -errno;
		if (!dev && (r = remount_ro(p, MS_NOSUID | MS_NODEV)) < 0)
			return r;
	}
	/* The child's mount namespace copies the spawner's cwd: starting there
	 * lets the child reach the root without walking state_dir (0700, and
	 * the child's capabilities do not count on the host). */
	if (chdir(ctx->root) < 0)
		return -errno;
	return 0;
}

static void mnt_fini(struct sbx_ctx *ctx)
{
	/* The mounts die with the spawner's mount namespace. */
}

/* Host directories and files reach the sandbox as mount trees the spawner
 * clones (open_tree(OPEN_TREE_CLONE)) before clone(), with its host
 * privileges, and the child attaches with move_mount(): the child never
 * resolves a host path. Its capabilities count in its own user namespace
 * only, so a path through a directory that is not searchable by others
 * (a 0700 state dir parent, anything under /root) would fail for it, and
 * an O_PATH fd would not help: open_tree() or a bind of /proc/self/fd/N in
 * the child refuses (EINVAL) a mount of the spawner's namespace. A
 * detached tree may be attached in another mount namespace: that is what
 * the child does. */
static int tree_of_fd(int fd)
{
	int t = (int)syscall(SYS_open_tree, fd, "",
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	return t < 0 ? -errno : t;
}

static int ensure_target(const struct sbx_ctx *ctx, const struct stat *sst, const char *target,
			 char *err, size_t errlen)
{
	char p[PATH_MAX + 320];
	struct stat st;
	snprintf(p, sizeof(p), "%s%s", ctx->root, target);
	if (stat(p, &st) == 0)
		return 0;
	/* Create the mount point in the skeleton (the root is a read-only
	 * bind of it); only possible outside the host-bound directories. */
	snprintf(p, sizeof(p), "%s/skel%s", ctx->cfg.state_dir, target);
	char *slash = strrchr(p, '/');
	*slash = 0;
	int r = sbx_mkdir_p(p, 0755);
	*slash = '/';
	if (r == 0)
		r = S_ISDIR(sst->st_mode) ? (mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0)
					  : touch(p, NULL);
	snprintf(p, sizeof(p), "%s%s", ctx->root, target);
	if (r < 0 || stat(p, &st) < 0) {
		sbx_sentence(err, errlen, "bind target %s cannot be created: %s", target,
			     strerror(r < 0 ? -r : ENOENT));
		return r < 0 ? r : -ENOENT;
	}
	return 0;
}

/* A request's bind: the operator's host path (symlinks followed, as
 * mount(2) would), read-only inside. */
static int prepare_bind(struct sbx_ctx *ctx, struct sbx_exec *ex, const Sbx__BindMount *b,
			int *ret_tree)
{
	const char *t = b->target[0] ? b->target : b->source;
	struct stat st;
	int r;

	_cleanup_close_ int fd = open(b->source, O_PATH | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		sbx_sentence(ex->error, sizeof(ex->error), "bind source %s: %s", b->source,
			     strerror(-r));
		return r;
	}
	if ((r = ensure_target(ctx, &st, t, ex->error, sizeof(ex->error))) < 0)
		return r;
	if ((r = tree_of_fd(fd)) < 0) {
		sbx_sentence(ex->error, sizeof(ex->error), "cannot bind %s: %s", b->source,
			     strerror(-r));
		return r;
	}
	*ret_tree = r;
	return 0;
}

/* A host directory bound read-write into the sandbox (workspace, /tmp of a
 * session): the sandbox user owns it. A symlink is refused (it would let a
 * session redirect the bind); its parents are the daemon's own. "" is no
 * directory. */
static int prepare_host_dir(struct sbx_ctx *ctx, struct sbx_exec *ex, const char *dir,
			    const char *what, int *ret_tree)
{
	int r;

	if (!dir[0])
		return 0;
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		struct stat st;
		r = -errno;
		if (r == -ELOOP || (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)))
			sbx_sentence(ex->error, sizeof(ex->error),
				     "%s %s is a symbolic link, not a directory", what, dir);
		else
			sbx_sentence(ex->error, sizeof(ex->error), "%s %s: %s", what, dir,
				     strerror(-r));
		return r;
	}
	if (fchown(fd, ctx->cfg.host_uid, ctx->cfg.host_gid) < 0 || fchmod(fd, 0755) < 0) {
		r = -errno;
		sbx_sentence(ex->error, sizeof(ex->error),
			     "%s %s cannot be given to the sandbox user: %s", what, dir,
			     strerror(-r));
		return r;
	}
	if ((r = tree_of_fd(fd)) < 0) {
		sbx_sentence(ex->error, sizeof(ex->error), "cannot bind %s %s: %s", what, dir,
			     strerror(-r));
		return r;
	}
	/* Like the tmpfs it stands for: no set-uid programs, no devices. */
	struct mount_attr a = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	if (syscall(SYS_mount_setattr, r, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0 &&
	    errno != ENOSYS) {
		int e = errno;
		close(r);
		sbx_sentence(ex->error, sizeof(ex->error), "cannot bind %s %s: %s", what, dir,
			     strerror(e));
		return -e;
	}
	*ret_tree = r;
	return 0;
}

void sbx_mnt_release(struct sbx_exec *ex)
{
	for (unsigned i = 0; ex->mnt_fds && i < ex->n_mnt_fds; i++)
		if (ex->mnt_fds[i] >= 0)
			close(ex->mnt_fds[i]);
	sbx_exec_mem_free(ex, ex->mnt_fds);
	ex->mnt_fds = NULL;
	ex->n_mnt_fds = 0;
}

static int mnt_prepare(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	const Sbx__SpawnRequest *req = ex->req;
	int r;

	ex->mnt_fds = sbx_exec_mem_alloc(ex, (2 + req->n_binds) * sizeof(int));
	if (!ex->mnt_fds)
		return -ENOMEM;
	ex->n_mnt_fds = 2 + (unsigned)req->n_binds;
	for (unsigned i = 0; i < ex->n_mnt_fds; i++)
		ex->mnt_fds[i] = -1;
	for (size_t i = 0; i < req->n_binds; i++)
		if ((r = prepare_bind(ctx, ex, req->binds[i], &ex->mnt_fds[2 + i])) < 0)
			return r;
	if ((r = prepare_host_dir(ctx, ex, req->workspace, "workspace", &ex->mnt_fds[0])) < 0)
		return r;
	return prepare_host_dir(ctx, ex, req->tmp_dir, "tmp_dir", &ex->mnt_fds[1]);
}

/* The child has its copies: the spawner's go with the mount trees. */
static int mnt_parent(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	sbx_mnt_release(ex);
	return 0;
}

/* In the child: attach a tree the spawner cloned onto `target` (relative
 * to the new root), then let go of it. */
static void attach(const struct sbx_exec *ex, int *tree, const char *target, const char *what)
{
	if (syscall(SYS_move_mount, *tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "bind %s", what);
	close(*tree);
	*tree = -1;
}

static int set_ro(const char *path)
{
	struct mount_attr a = {.attr_set =
				       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &a, sizeof(a)) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	return remount_ro(path, MS_NOSUID | MS_NODEV);
}

static int mnt_child(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	const Sbx__SpawnRequest *req = ex->req;
	char opts[96], target[PATH_MAX];
	const unsigned long nsd = MS_NOSUID | MS_NODEV;

	/* The copied root is locked (it came from the spawner's, more
	 * privileged namespace) and pivot_root refuses to move a locked
	 * mount. A recursive bind made here is not locked at its top (its
	 * children stay locked, and read-only): put one over the copy and
	 * step into it. */
	int tfd = (int)syscall(SYS_open_tree, AT_FDCWD, ".",
			       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tfd < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "open_tree root");
	if (syscall(SYS_move_mount, tfd, "", AT_FDCWD, ".", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "move_mount root");
	if (fchdir(tfd) < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "enter root");
	close(tfd);

	/* Private /tmp and /dev/shm: nothing crosses between executions and
	 * their size is capped (their pages also count in the memory cgroup). */
	snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
		 (unsigned long long)ctx->cfg.tmp_kb * 1024);
	if (ex->mnt_fds[1] >= 0) {
		/* A session's /tmp outlives the run: its host directory. */
		attach(ex, &ex->mnt_fds[1], "tmp", "/tmp");
	} else if (mount("tmpfs", "tmp", "tmpfs", nsd, opts) < 0) {
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "mount /tmp");
	}
	if (mount("tmpfs", "dev/shm", "tmpfs", nsd | MS_NOEXEC, opts) < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "mount /dev/shm");
	if (ex->mnt_fds[0] >= 0) {
		attach(ex, &ex->mnt_fds[0], "workspace", SBX_WORKSPACE);
	} else {
		/* A fresh workspace: tmpfs owned by the sandbox user, gone with
		 * the mount namespace, never touching the host disk. */
		snprintf(opts, sizeof(opts), "mode=0755,uid=%d,gid=%d,size=%llu", SBX_INSIDE_UID,
			 SBX_INSIDE_GID, (unsigned long long)ctx->cfg.workspace_kb * 1024);
		if (mount("tmpfs", "workspace", "tmpfs", nsd, opts) < 0)
			sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "mount workspace tmpfs");
	}
	for (size_t i = 0; i < req->n_binds; i++) {
		const Sbx__BindMount *b = req->binds[i];
		const char *t = b->target[0] ? b->target : b->source;
		snprintf(target, sizeof(target), ".%s", t);
		attach(ex, &ex->mnt_fds[2 + i], target, t);
		int r = set_ro(target);
		if (r < 0)
			sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, -r, "read-only %s", t);
	}
	/* /proc of the new pid namespace: shows only the sandbox's processes. */
	if (mount("proc", "proc", "proc", nsd | MS_NOEXEC, NULL) < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "mount /proc");
	/* pivot_root(".", ".") stacks the old root on the new one; detaching
	 * it leaves no path back to the host's file system. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "detach old root");
	if (chdir("/") < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "chdir /");
	return 0;
}

const struct sbx_module sbx_mnt_module = {
	.name = "mnt",
	.init = mnt_init,
	.fini = mnt_fini,
	.prepare = mnt_prepare,
	.parent = mnt_parent,
	.child = mnt_child,
};
