/* The mount namespace (mnt.c): the plan of what the read-only root holds,
 * data first (tested on its own), and the execution's mount trees. */
#ifndef SBX_MNT_H
#define SBX_MNT_H

#include <stdbool.h>

struct sbx_exec;

struct sbx_mount_entry {
	const char *path; /* absolute, inside and on the host */
	bool is_dir;
	bool optional; /* skip if missing on the host */
	bool copy;     /* a small file snapshotted into the skeleton, not bound */
};
extern const struct sbx_mount_entry sbx_mnt_plan[];
extern const unsigned sbx_mnt_plan_len;

/* Close the execution's mount trees (ex->mnt_fds); idempotent. */
void sbx_mnt_release(struct sbx_exec *ex);

#endif
