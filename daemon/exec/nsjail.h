/* The `nsjail` backend (SANDBOX_BACKEND=nsjail): each execution is one
 * `nsjail --mode o` process (google/nsjail), with the request's limits
 * mapped to its flags (time_limit, rlimit_*, cgroup_mem_max,
 * cgroup_pids_max), a read-only view of the host's /usr, /bin, /lib*, /etc,
 * a tmpfs /tmp, the workspace bind-mounted at /workspace, uid/gid 1000
 * inside mapped to 100000 outside, and a new network namespace unless the
 * request asks for the network.
 *
 * The binary is sandbox.nsjail_path (SANDBOX_NSJAIL_PATH; a bare name is
 * looked up on PATH). Debian bookworm packages no nsjail: without one,
 * open() says "nsjail backend unavailable: nsjail not found on PATH" and
 * the daemon exits 1.
 *
 * Differences from native: cpu_time_ms and memory_peak_kb are 0; a
 * memory-limit kill is reported as SIGNALED (SIGKILL), nsjail does not say
 * that the cgroup's OOM killer sent it. */
#ifndef SBX_NSJAIL_H
#define SBX_NSJAIL_H

#include "backend.h"

int sbx_nsjail_open(const struct sbx_config *cfg, void **ret_state);
void sbx_nsjail_close(void *state);
int sbx_nsjail_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret);
int sbx_nsjail_own_workspace(void *state, const char *dir);
const char *sbx_nsjail_describe(void *state);

#endif
