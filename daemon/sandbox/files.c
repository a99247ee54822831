/* The workspace's contents: the request's files, written by the child
 * after pivot_root, as the sandbox user, under a dir fd of /workspace.
 *
 * Writing from inside means even a mistake here is confined to what the
 * sandbox can see and do anyway. Paths are refused if absolute or holding
 * ".." (sbx_file_path_ok, checked again by the daemon side); every
 * component is opened with O_NOFOLLOW, and the file itself is created with
 * O_EXCL after removing what was there, so a symlink planted by an earlier
 * execution of a session ("link" -> /etc/x) is replaced, never followed. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "module.h"
#include "spawner_state.h"
#include "workspace.h"

#define MAX_FILE_PATH 1024

bool sbx_file_path_ok(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	if (n == 0 || n > MAX_FILE_PATH || path[0] == '/' || path[n - 1] == '/')
		return false;
	for (const char *c = path; *c;) {
		const char *e = strchrnul(c, '/');
		size_t len = (size_t)(e - c);
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = *e ? e + 1 : e;
	}
	return true;
}

static int put_file(int wsfd, const Sbx__File *f)
{
	char path[MAX_FILE_PATH + 1];
	if (!sbx_file_path_ok(f->path))
		return -EINVAL;
	strcpy(path, f->path);
	int dfd = dup(wsfd);
	if (dfd < 0)
		return -errno;
	char *comp = path;
	for (char *slash; (slash = strchr(comp, '/')); comp = slash + 1) {
		*slash = 0;
		if (mkdirat(dfd, comp, 0755) < 0 && errno != EEXIST) {
			int r = -errno;
			close(dfd);
			return r;
		}
		int nfd = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int r = -errno;
		close(dfd);
		if (nfd < 0)
			return r;
		dfd = nfd;
	}
	struct stat st;
	if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode) || unlinkat(dfd, comp, 0) < 0) {
			close(dfd);
			return S_ISDIR(st.st_mode) ? -EISDIR : -errno;
		}
	}
	int fd = openat(dfd, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			f->is_executable ? 0755 : 0644);
	int r = fd < 0 ? -errno : 0;
	close(dfd);
	if (r < 0)
		return r;
	r = sbx_write_full(fd, f->content.data, f->content.len);
	close(fd);
	return r;
}

static int files_child(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	const Sbx__SpawnRequest *req = ex->req;
	/* Files belong to the sandbox user: act as it for file system checks
	 * (setresuid in user.c resets fsuid again). */
	setfsgid(SBX_INSIDE_GID);
	setfsuid(SBX_INSIDE_UID);
	if (req->n_files > 0) {
		int wsfd = open(SBX_WORKSPACE, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (wsfd < 0)
			sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "open %s", SBX_WORKSPACE);
		for (size_t i = 0; i < req->n_files; i++) {
			int r = put_file(wsfd, req->files[i]);
			if (r < 0)
				sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, -r, "write file %s",
					       req->files[i]->path);
		}
		close(wsfd);
	}
	const char *cwd = req->cwd[0] ? req->cwd : SBX_WORKSPACE;
	if (chdir(cwd) < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "cwd %s", cwd);
	return 0;
}

const struct sbx_module sbx_files_module = {
	.name = "files",
	.child = files_child,
};
