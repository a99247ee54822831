/* Files out of a workspace: listing it and reading one file, done by the
 * daemon (root) in a directory a sandbox filled as it liked: symbolic links
 * to /etc/shadow or the state dir, links in a middle directory, hard links,
 * FIFOs, sockets, and files swapped for links while they are read.
 *
 * Every path is opened beneath the workspace's dir fd with openat2()
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV; O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC): the kernel walks
 * the whole path and refuses any link in it, so nothing outside the
 * workspace is reached, and what is read is read from that fd alone (no
 * second lookup of the name, no time-of-check window).
 *
 * Functions return 0 or a negative errno with call->error set to a
 * sentence: -EINVAL a bad path, or one naming something other than what
 * is asked (a link, a directory, a FIFO...); -ENOENT nothing there;
 * -EFBIG a file over the cap; -EBUSY the file is leased by a process of
 * the sandbox, or the workspace cannot be opened; -ENOSYS no openat2
 * (Linux < 5.6). Library code: nothing is logged. */
#ifndef SBX_OBJ_FILES_OUT_H
#define SBX_OBJ_FILES_OUT_H

#include <stdint.h>

#include "objects.pb-c.h"
#include "rpc_server.h"

/* Levels of directories a listing enters at most (as deep as an upload
 * may write). */
#define SBX_FILES_LIST_DEPTH_MAX 64
/* Bytes of a symlink's text a listing shows. */
#define SBX_FILES_TARGET_MAX 1024

/* Open `path` (relative, checked by sbx_files_path_problem; "" is dirfd
 * itself, reopened) beneath dirfd with `flags` (O_RDONLY, O_DIRECTORY...)
 * plus O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, refusing every
 * symbolic link, magic link and mount crossing on the way. The fd, or
 * -errno as openat2 says (-ELOOP: a link; -EXDEV: a mount). */
int sbx_files_open_beneath(int dirfd, const char *path, int flags);

/* List the workspace below `dir` ("" or NULL: all of it) at most
 * max_depth levels deep (0 or more than SBX_FILES_LIST_DEPTH_MAX: that)
 * and at most max_entries entries; past either bound the reply says
 * truncated, with a note. Symlinks are listed as such, never followed. */
int sbx_files_list(const char *workspace, const char *dir, uint32_t max_depth, uint32_t max_entries,
		   struct sbx_rpc_call *call, Sbx__ListFilesReply **ret);

/* Read the regular file `path` of the workspace (one link only), at most
 * max_bytes: larger, also when it grows while read, is -EFBIG. */
int sbx_files_read(const char *workspace, const char *path, uint64_t max_bytes,
		   struct sbx_rpc_call *call, Sbx__FileContent **ret);

/* The content type of a file name by its extension (case-insensitive);
 * "application/octet-stream" when unknown. Static strings. */
const char *sbx_files_content_type(const char *name);

#endif
