/* The `gvisor` backend (SANDBOX_BACKEND=gvisor): each execution is one
 * `runsc run` of an OCI bundle the daemon writes (gVisor's user-space
 * kernel between the program and the host's):
 * - the root: a read-only directory of mount points with the host's /usr
 *   (and merged-usr links), native's few /etc files, our own passwd and
 *   group bound read-only, a tmpfs /tmp (or the request's tmp_dir), the
 *   workspace at /workspace read-write; /proc, /dev and /sys are gVisor's
 *   own; uid/gid 1000, the same ids on the host (the gofer writes the
 *   workspace as them: no user namespace);
 * - `--network=none`: loopback only, also when the request asks for the
 *   network (gVisor's netstack would need a host namespace wired to it);
 * - limits: runsc, the Sentry and the gofer join per-execution cgroups the
 *   daemon makes (nsjail_cg.h; runsc runs with --ignore-cgroups), so
 *   memory (the request's plus GVISOR_MEM_OVERHEAD for the Sentry), host
 *   tasks and CPU time cover the whole sandbox; CPU time polled from the
 *   cgroup (allowing GVISOR_CPU_OVERHEAD_MS for runsc's own start); wall
 *   time kept by the daemon; inside, the spec's rlimits
 *   (fsize, stack, nofile, nproc = the pids limit, CPU as a backstop);
 * - results: native's statuses; CPU time and peak memory are the
 *   cgroup's, so they include the Sentry's own (tens of MB, some ms);
 * - a kill ends everything in the cgroups, then `runsc delete --force`;
 *   runsc's state lives under <state_dir>/gvisor and goes at close.
 *
 * The binary is `runsc` on PATH (Debian: apt-get install runsc). Without
 * it open() says "gvisor backend unavailable: runsc not found on PATH" and
 * the daemon exits 1. No pools, live logs or cancellation. */
#ifndef SBX_GVISOR_H
#define SBX_GVISOR_H

#include "backend.h"

int sbx_gvisor_open(const struct sbx_config *cfg, void **ret_state);
void sbx_gvisor_close(void *state);
int sbx_gvisor_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret);
/* own_workspace and describe: sbx_runner_own_workspace and
 * sbx_runner_describe (runner.h). */

#endif
