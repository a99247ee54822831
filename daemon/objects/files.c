#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdio.h"

/* Deeper trees than this are left for the next removal attempt: each level
 * holds a dir fd. */
#define RMTREE_DEPTH_MAX 256

const char *sbx_files_path_problem(const char *p)
{
	size_t n = strlen(p), depth = 0;

	if (n == 0)
		return "is empty";
	if (n > SBX_FILE_PATH_MAX)
		return "is too long";
	if (p[0] == '/')
		return "is absolute";
	for (const char *c = p; *c;) {
		const char *e = strchrnul(c, '/');
		size_t len = (size_t)(e - c);

		if (len == 0)
			return "has an empty component";
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return "has a '.' or '..' component";
		if (len > 255)
			return "has a component longer than 255 bytes";
		if (++depth > SBX_FILE_DEPTH_MAX)
			return "is too deep";
		c = *e ? e + 1 : e;
	}
	if (p[n - 1] == '/')
		return "ends with '/'";
	return NULL;
}

int sbx_files_check(Sbx__File *const *files, size_t n, unsigned max_files, uint64_t max_bytes,
		    struct sbx_rpc_call *call)
{
	uint64_t bytes = 0;

	if (n > max_files)
		return sbx_rpc_error(call, -EINVAL,
				     "too many files: at most %u are allowed per request",
				     max_files);
	for (size_t i = 0; i < n; i++) {
		const char *p = files[i]->path ? files[i]->path : "", *why = sbx_files_path_problem(p);

		if (why)
			return sbx_rpc_error(call, -EINVAL,
					     "file path '%.128s' %s: paths must be relative to the "
					     "workspace, without '..'",
					     p, why);
		bytes += files[i]->content.len;
		if (bytes > max_bytes)
			return sbx_rpc_error(call, -EINVAL,
					     "the files are larger than %llu bytes in all",
					     (unsigned long long)max_bytes);
	}
	return 0;
}

/* Open the directory `name` below dfd, creating it; never through a
 * symlink. Returns the fd or -errno (-ELOOP/-ENOTDIR: not a real dir). */
static int open_dir(int dfd, const char *name, uid_t uid, gid_t gid)
{
	int fd;

	if (mkdirat(dfd, name, 0755) == 0) {
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && fchown(fd, uid, gid) < 0) {
			int r = -errno;

			close(fd);
			return r;
		}
		return fd < 0 ? -errno : fd;
	}
	if (errno != EEXIST)
		return -errno;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int write_one(int wsfd, const Sbx__File *f, uid_t uid, gid_t gid, struct sbx_rpc_call *call)
{
	char path[SBX_FILE_PATH_MAX + 1], *comp = path, *slash;
	mode_t mode = f->is_executable || f->executable ? 0755 : 0644;
	_cleanup_close_ int dfd = dup(wsfd), fd = -1;
	struct stat st;
	int r;

	if (dfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s", f->path);
	for (; (slash = strchr(comp, '/')); comp = slash + 1) {
		*slash = 0;
		r = open_dir(dfd, comp, uid, gid);
		if (r == -ELOOP || r == -ENOTDIR)
			return sbx_rpc_error(call, -EINVAL,
					     "file path '%.128s' goes through '%.128s', which is "
					     "not a directory (a symbolic link?)",
					     f->path, comp);
		if (r < 0)
			return r;
		close(dfd);
		dfd = r;
	}
	/* O_NONBLOCK: a FIFO planted by a run must not hang this thread. */
	fd = openat(dfd, comp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
	if (fd < 0 && (errno == ELOOP || errno == EISDIR || errno == ENXIO || errno == EACCES))
		return sbx_rpc_error(call, -EINVAL,
				     "file path '%.128s' names a symbolic link or a directory",
				     f->path);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	/* A hard link would make the write land on another file too. */
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		return sbx_rpc_error(call, -EINVAL,
				     "file path '%.128s' names something other than a plain file",
				     f->path);
	if (ftruncate(fd, 0) < 0 || fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
		return -errno;
	if (fcntl(fd, F_SETFL, 0) < 0)
		return -errno;
	return sbx_write_full(fd, f->content.data, f->content.len);
}

int sbx_files_write(const char *workspace, Sbx__File *const *files, size_t n,
		    struct sbx_rpc_call *call)
{
	_cleanup_close_ int wsfd = open(workspace, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int r;

	if (wsfd < 0 || fstat(wsfd, &st) < 0)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		/* Re-checked here: this is the function that touches the disk. */
		if (sbx_files_path_problem(files[i]->path ? files[i]->path : ""))
			return sbx_rpc_error(call, -EINVAL, "file path '%.128s' is not valid",
					     files[i]->path);
		/* Owned like the workspace, i.e. by the sandbox user. */
		r = write_one(wsfd, files[i], st.st_uid, st.st_gid, call);
		/* The workspace's volume is full: its disk limit. */
		if (r == -ENOSPC || r == -EDQUOT)
			return sbx_rpc_error(call, -ENOSPC,
					     "file '%.128s' does not fit: the workspace is full "
					     "(disk limit reached)",
					     files[i]->path);
		if (r < 0)
			return r;
	}
	return 0;
}

int sbx_files_exists(const char *workspace, const char *path)
{
	_cleanup_close_ int wsfd = open(workspace, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (wsfd < 0 || sbx_files_path_problem(path))
		return false;
	/* One component is all the callers need (package.json). */
	if (strchr(path, '/'))
		return false;
	return fstatat(wsfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Empty the directory dfd (consumed). */
static int rm_children(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int r = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((e = readdir(d))) {
		int fd;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno != EISDIR && errno != EPERM) {
			r = -errno;
			continue;
		}
		if (depth >= RMTREE_DEPTH_MAX) {
			r = -ELOOP;
			continue;
		}
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		int rr = rm_children(fd, depth + 1);

		if (rr < 0)
			r = rr;
		if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			r = -errno;
	}
	closedir(d);
	return r;
}

int sbx_files_rmtree(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = rm_children(fd, 0);
	if (rmdir(path) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

int sbx_files_mkdir(const char *path, unsigned mode)
{
	struct stat st;

	if (mkdir(path, mode) < 0) {
		if (errno != EEXIST)
			return -errno;
		if (lstat(path, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	return chmod(path, mode) < 0 ? -errno : 0;
}
