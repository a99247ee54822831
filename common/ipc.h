/* nng helpers shared by every process: URLs, errors. */
#ifndef SBX_IPC_H
#define SBX_IPC_H

#include <sys/types.h>

/* For an ipc:// URL, create the socket's directory (one level, mode 0755)
 * if missing, so that `--rpc ipc:///run/sandboxd/rpc.sock` works on a
 * fresh machine. Other URLs: nothing to do. Returns 0 or -errno. A stale
 * socket file left by a killed process is not removed here: nng unlinks a
 * socket that no one answers on. */
int sbx_ipc_prepare(const char *url);

/* For an ipc:// URL whose socket now exists: hand it to group `gid`,
 * mode 0660, so that members of the group (the gateway under systemd) may
 * connect and nobody else may. The directory is left as it is. Other
 * URLs, or gid (gid_t)-1: nothing to do. 0 or -errno. */
int sbx_ipc_share(const char *url, gid_t gid);

/* An nng error as a negative errno: 0 for 0; -ETIMEDOUT; -ECANCELED for a
 * closed socket or cancelled operation; -ECONNREFUSED when the peer is
 * not there or went away; -ENOMEM; -E2BIG for a message past the
 * receiver's maximum; -EIO for the rest. */
int sbx_errno_from_nng(int rv);

#endif
