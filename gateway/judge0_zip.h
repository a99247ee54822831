/* Judge0's additional_files: a zip archive, read in memory (libzip) into
 * the files Execute writes in the workspace before the compile and the
 * run (gateway/judge0_zip.c). The gateway reads it, not the daemon: the
 * submission is checked once, a bad archive is Judge0's 422 at submission
 * rather than a failed run, and the daemon, its queue and every backend
 * take plain files as for any other Execute. */
#ifndef SBX_GW_JUDGE0_ZIP_H
#define SBX_GW_JUDGE0_ZIP_H

#include <stddef.h>

#include "common.pb-c.h"

/* What an archive may hold. Well under the request body and the RPC
 * envelope: the submission carries the archive and its files both. */
#define GW_J0_ZIP_MAX_FILES 128	       /* entries, directories included */
#define GW_J0_ZIP_MAX_TOTAL (8u << 20) /* bytes, uncompressed, all files */
#define GW_J0_ZIP_MAX_PATH 255	       /* bytes of an entry's name */

/* The files of archive zip (len bytes): regular files only, each path
 * relative to the workspace (no absolute path, no "." or ".." component,
 * no empty component), none twice and none both a file and a directory;
 * directories are implied by their files. Refused: symlinks, devices,
 * FIFOs, sockets, encrypted entries, more than the maxima above by the
 * sizes the archive declares or by what its entries really inflate to.
 * 0 with *ret (an array of *n_ret new files; gw_j0_files_free), -EINVAL
 * with why set to a sentence, -ENOMEM. */
int gw_j0_unzip(const void *zip, size_t len, Sbx__File ***ret, size_t *n_ret, char *why,
		size_t why_size);
/* Free n files and their array; NULL is fine. */
void gw_j0_files_free(Sbx__File **files, size_t n);

#endif
