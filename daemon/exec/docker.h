/* The `docker` backend (SANDBOX_BACKEND=docker): every execution is a
 * container of sandbox.docker_image, created, started, attached to, waited
 * for and removed through the Docker Engine API on its unix socket
 * (sandbox.docker_host / DOCKER_HOST), never through the docker CLI.
 *
 * Isolation per container: user 1000:1000, read-only root, tmpfs /tmp,
 * /workspace (a tmpfs, an anonymous volume when files are written into it,
 * or the request's host directory), NetworkMode none, all capabilities
 * dropped, no-new-privileges, memory (swap included) and pids limits in the
 * container's cgroup, nofile/fsize/cpu/stack rlimits, logging driver none.
 *
 * CPU time and peak memory come from a parent cgroup of the container's
 * (docker_cg.h): under the engine's cgroupfs driver only, else 0.
 *
 * Differences from native, reported as such: the CPU time includes the
 * container's init (docker-init) and runc's set-up in it; the CPU
 * limit is RLIMIT_CPU, per process; the memory limit is at least 6 MiB (the
 * engine's minimum), the open-files limit at least 16 (runc's own need); a program that exits with 128+N looks killed by N.
 * Workspace directories must be paths the engine sees (same host). The
 * image needs the runtimes at the runtimes table's paths and a /workspace
 * owned by 1000:1000 (a fresh volume takes its owner from the image):
 * docker/Dockerfile.runtime builds such an image. */
#ifndef SBX_DOCKER_H
#define SBX_DOCKER_H

#include "backend.h"

/* Checks that an engine answers and the image exists; logs the reason and
 * returns -ECONNREFUSED / -ENOENT / -EINVAL when not. */
int sbx_docker_open(const struct sbx_config *cfg, void **ret_state);
void sbx_docker_close(void *state);
int sbx_docker_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret);
/* chown to 1000:1000, the user inside the container. */
int sbx_docker_own_workspace(void *state, const char *dir);
const char *sbx_docker_describe(void *state);

#endif
