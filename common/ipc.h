/* nng helpers shared by every process: URLs, errors. */
#ifndef SBX_IPC_H
#define SBX_IPC_H

/* For an ipc:// URL, create the socket's directory (one level, mode 0755)
 * if missing, so that `--rpc ipc:///run/sandboxd/rpc.sock` works on a
 * fresh machine. Other URLs: nothing to do. Returns 0 or -errno. A stale
 * socket file left by a killed process is not removed here: nng unlinks a
 * socket that no one answers on. */
int sbx_ipc_prepare(const char *url);

/* An nng error as a negative errno: 0 for 0; -ETIMEDOUT; -ECANCELED for a
 * closed socket or cancelled operation; -ECONNREFUSED when the peer is
 * not there or went away; -ENOMEM; -E2BIG for a message past the
 * receiver's maximum; -EIO for the rest. */
int sbx_errno_from_nng(int rv);

#endif
