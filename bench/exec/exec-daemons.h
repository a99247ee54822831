/* The sandboxd daemons bench-exec measures (exec-daemons.c): one per
 * runner, each on its own ipc:// URL and state dir, and the probes that
 * say whether a backend can run on this host before a daemon is started
 * for it. */
#ifndef BENCH_EXEC_DAEMONS_H
#define BENCH_EXEC_DAEMONS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "proc.h"
#include "sandbox.h"

/* A sandboxd under test, with its own URL and state dir. */
struct bench_daemon {
	struct bench_proc proc;
	struct sbx_client *client;
	char rpc[PATH_MAX + 16], events[PATH_MAX + 16], state[PATH_MAX];
};

/* The image the docker backend runs in unless SANDBOX_DOCKER_IMAGE says. */
#define BENCH_DOCKER_IMAGE "sandboxd-runtime:latest"

/* `name` in /usr/bin, /usr/local/bin or /bin: true with its path in out. */
bool bench_find_exe(const char *name, char *out, size_t size);

/* 0 when backend `name` (docker, nsjail or gvisor) can run here as far as
 * the bench can tell without a daemon: the engine answers and has the
 * image (DOCKER_HOST, SANDBOX_DOCKER_IMAGE: what the daemon reads too; the
 * image's name goes to *ret_detail), the nsjail binary (SANDBOX_NSJAIL_PATH
 * or nsjail) or runsc is there (its path in *ret_detail). Else -errno and a
 * sentence in why. ret_detail points to static or environment storage. */
int bench_backend_probe(const char *name, const char **ret_detail, char *why, size_t len);

/* Start `sandboxd` --warm-pool WARM[0] --warm-pool-python WARM[1]
 * --warm-pool-node WARM[2] [--backend BACKEND] on DIR/TAG-*.sock and
 * DIR/TAG-state and connect to it. 0; -ECHILD when it exited at start-up,
 * or another -errno (why filled in). The daemon is left to stop to the
 * caller either way. */
int bench_daemon_start(struct bench_daemon *d, const char *sandboxd, const char *dir,
		       const char *tag, const char *backend, const int warm[3], char *why,
		       size_t len);
/* Disconnect and stop it (SIGTERM, then SIGKILL); a never-started one is
 * fine. */
void bench_daemon_stop(struct bench_daemon *d);

#endif
