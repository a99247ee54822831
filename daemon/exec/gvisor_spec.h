/* The gvisor backend's OCI side (gvisor_spec.c): the read-only root of
 * mount points and each execution's bundle (config.json). */
#ifndef SBX_GVISOR_SPEC_H
#define SBX_GVISOR_SPEC_H

#include "engine.pb-c.h"

/* The sandbox user, inside and on the host (no user namespace). */
#define SBX_GVISOR_ID 1000

/* The sandbox's own /etc/passwd and /etc/group, bound read-only. */
struct sbx_gvisor_ids {
	const char *passwd, *group;
};

/* Make `root`: mount points for native's host view, /etc/passwd and
 * /etc/group, /tmp, /workspace, /proc, /dev, /sys. 0 or -errno. */
int sbx_gvisor_make_root(const char *root);
/* Create directory `bundle` with the config.json of one execution of
 * `exe` (argv[0] resolved) in workspace `ws`. 0 or -errno. */
int sbx_gvisor_write_bundle(const char *root, const struct sbx_gvisor_ids *ids,
			    const Sbx__SpawnRequest *req, const char *ws, const char *exe,
			    const char *bundle);

#endif
