/* A small ustar writer: the request's files as the tar archive that the
 * Docker Engine's archive endpoint (PUT /containers/{id}/archive) unpacks
 * into the workspace. Entries belong to uid/gid 1000 (the sandbox user),
 * with a directory entry for each parent, so the user owns everything the
 * request created. (The engine does not apply a "./" entry to the
 * extraction root: the root's owner comes from the image, see docker.h.)
 * Library code: no logging. */
#ifndef SBX_DOCKER_TAR_H
#define SBX_DOCKER_TAR_H

#include "buf.h"
#include "engine.pb-c.h"

/* Owner of every entry. */
#define SBX_TAR_UID 1000
#define SBX_TAR_GID 1000

/* Append the archive of files[0..n) to out (its max bounds the archive).
 * Paths must be relative without ".." (sbx_engine_check() tested that) and
 * fit ustar's name fields (at most 255 bytes).
 * 0; -ENAMETOOLONG (a path does not fit); -E2BIG (out's maximum);
 * -ENOMEM. On error out holds a partial archive: reset it. */
int sbx_tar_files(struct sbx_buf *out, Sbx__File *const *files, size_t n);

#endif
