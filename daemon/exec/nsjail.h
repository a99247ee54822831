/* The `nsjail` backend (SANDBOX_BACKEND=nsjail): each execution is one
 * `nsjail --mode=o` process (google/nsjail 3.x), as the native engine's
 * sandbox as it can be:
 * - limits: the memory and pids limits on a cgroup per execution that the
 *   daemon makes and nsjail puts its own under (nsjail_cg.h, v1 or v2);
 *   CPU time polled from that cgroup (every process counts) with
 *   RLIMIT_CPU as a backstop; wall time kept by the daemon to the
 *   millisecond; fsize and stack exact (rlimits nsjail inherits), nofile;
 *   output capped by the daemon;
 * - results: the statuses, CPU time and peak memory of native, from the
 *   cgroup (an OOM kill is MEMORY_LIMIT);
 * - a kill ends the tree: nsjail's child dies with it (PR_SET_PDEATHSIG)
 *   and it is PID 1 of its namespace; the cgroups are then emptied;
 * - the root: the host's /usr, /bin, /sbin, /lib* and native's few /etc
 *   files read-only, our own passwd and group, five /dev nodes, a tmpfs
 *   /tmp (or the request's tmp_dir), the workspace at /workspace; uid/gid
 *   1000 inside mapped to 100000 outside; only loopback unless the request
 *   asks for the network.
 *
 * The binary is sandbox.nsjail_path (SANDBOX_NSJAIL_PATH; a bare name is
 * looked up on PATH). Debian bookworm packages no nsjail: without one,
 * open() says "nsjail backend unavailable: nsjail not found on PATH" and
 * the daemon exits 1.
 *
 * Differences from native: the program is PID 1 of its PID namespace (a
 * signal it sends itself with the default action is ignored, orphans are
 * its children); the seccomp policy is native's without its socket-family
 * filter (kafel, nsjail.c); no pools
 * of pre-built sandboxes, sessions' live logs or cancellation. */
#ifndef SBX_NSJAIL_H
#define SBX_NSJAIL_H

#include "backend.h"

int sbx_nsjail_open(const struct sbx_config *cfg, void **ret_state);
void sbx_nsjail_close(void *state);
int sbx_nsjail_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret);
/* own_workspace and describe: sbx_runner_own_workspace and
 * sbx_runner_describe (runner.h). */

#endif
