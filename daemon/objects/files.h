/* Files written by the daemon (as root) into workspaces that sandboxes own
 * and may have filled with traps: symlinks ("link" -> /etc), FIFOs that
 * would block an open for writing, hard links. Every path is relative to a
 * workspace dir fd and walked one component at a time with O_NOFOLLOW, so
 * nothing is ever written outside the workspace. */
#ifndef SBX_OBJ_FILES_H
#define SBX_OBJ_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "common.pb-c.h"
#include "rpc_server.h"

#define SBX_FILE_PATH_MAX 1024
#define SBX_FILE_DEPTH_MAX 64

/* Why `p` is not an acceptable relative path (a sentence fragment: "is
 * absolute", "has a '.' or '..' component"...), or NULL when it is: the
 * rule of every path a request names below a workspace, uploads and
 * downloads alike. */
const char *sbx_files_path_problem(const char *p);

/* Check a request's files before touching the disk: at most max_files,
 * at most max_bytes of content in all, each path relative, non-empty, at
 * most SBX_FILE_PATH_MAX bytes and SBX_FILE_DEPTH_MAX components, with no
 * "", "." or ".." component. 0, or -EINVAL with call->error saying which. */
int sbx_files_check(Sbx__File *const *files, size_t n, unsigned max_files, uint64_t max_bytes,
		    struct sbx_rpc_call *call);

/* Write checked files below the directory `workspace` (created by the
 * daemon, owned by the sandbox user): missing directories are created,
 * files replaced (mode 0755 if is_executable, else 0644), everything owned
 * by the workspace's owner. A path through a symlink or onto anything but
 * a regular file with one link is refused: -EINVAL with call->error; a
 * file that does not fit (the workspace's disk limit): -ENOSPC with
 * call->error. Files before the failing one stay written. */
int sbx_files_write(const char *workspace, Sbx__File *const *files, size_t n,
		    struct sbx_rpc_call *call);

/* true when `path` exists below `workspace` as a regular file (not through
 * a symlink). */
int sbx_files_exists(const char *workspace, const char *path);

/* Remove a directory tree without following symlinks; ENOENT is success. */
int sbx_files_rmtree(const char *path);

/* mkdir `path` with `mode` (exactly: umask aside), succeeding if it is
 * already a directory. */
int sbx_files_mkdir(const char *path, unsigned mode);

#endif
