/* The gvisor backend's OCI side (gvisor_spec.c): the read-only root of
 * mount points and each execution's bundle (config.json). */
#ifndef SBX_GVISOR_SPEC_H
#define SBX_GVISOR_SPEC_H

#include "engine.pb-c.h"

/* The sandbox user, inside and on the host (no user namespace). */
#define SBX_GVISOR_ID 1000

/* The sandbox's own /etc/passwd and /etc/group, bound read-only; and,
 * when not NULL, its /etc/ld.so.preload naming SBX_GVISOR_COMPAT_SO, bound
 * from `compat` (gvisor_compat.c says why). */
struct sbx_gvisor_ids {
	const char *passwd, *group;
	const char *preload, *compat;
};

/* Where the sandbox sees sbx-gvisor-compat.so. */
#define SBX_GVISOR_COMPAT_SO "/etc/sbx-gvisor-compat.so"

/* Make `root`: mount points for native's host view, /etc/passwd,
 * /etc/group, /etc/ld.so.preload, SBX_GVISOR_COMPAT_SO, /tmp, /workspace,
 * /proc, /dev, /sys. 0 or -errno. */
int sbx_gvisor_make_root(const char *root);
/* Create directory `bundle` with the config.json of one execution of
 * `exe` (argv[0] resolved) in workspace `ws`. 0 or -errno. */
int sbx_gvisor_write_bundle(const char *root, const struct sbx_gvisor_ids *ids,
			    const Sbx__SpawnRequest *req, const char *ws, const char *exe,
			    const char *bundle);

#endif
