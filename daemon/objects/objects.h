/* The daemon's stateful objects: sandboxes (sandbox.c) and sessions
 * (session.c), their registries and limits, the state store that brings
 * them back after a restart, and the sweeper thread that expires idle ones.
 *
 * On disk, below the state directory (0711):
 *   sandboxd.db                      the store (daemon/store/)
 *   sandboxes/<id>/disk.img          a sandbox's volume (volume.h), mounted on
 *   sandboxes/<id>/vol/workspace/    its files, /workspace inside
 *   sessions/<id>/disk.img           a session's volume, mounted on
 *   sessions/<id>/vol/workspace/, tmp/   its files and its /tmp
 * Without disk limits (SANDBOX_DISK_LIMIT_MB=0, or objects made before
 * them) workspace/ and tmp/ are directly in <id>/.
 * Every directory on those paths is searchable by others (the sandbox
 * user reaches its bind mounts through them) but only workspace/ and
 * tmp/ belong to the sandbox user.
 *
 * Volumes are mounted in the calling process's mount namespace: sandboxd
 * enters a private one first (main.c), so that none outlives it. */
#ifndef SBX_OBJECTS_H
#define SBX_OBJECTS_H

#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct sbx_config;
struct sbx_executor;
struct sbx_registry;
struct sbx_rpc_call;
struct sbx_store;

struct sbx_objects {
	const struct sbx_config *cfg;
	struct sbx_executor *exec;
	struct sbx_store *store;
	struct sbx_registry *sandboxes, *sessions, *deployments;
	char *sandboxes_dir, *sessions_dir;
	char *proxy_dir; /* forwarder sockets of services (cfg->proxy_dir) */

	pthread_mutex_t lock;	/* guards the fields below */
	unsigned services;	/* persistent sandboxes with a service (<= max_deployments) */
	bool services_stopping; /* shutdown: services end without saving */
	pthread_cond_t cond;
	bool stopping, sweeper_started;
	unsigned in_flight; /* RPCs using the objects (sbx_objects_enter) */
	pthread_t sweeper;
};

/* Open the store in cfg->state_dir, bring back the objects it holds
 * (sandboxes that were running are marked failed; directories without an
 * object are removed) and start the sweeper. exec must outlive the
 * result. 0 or -errno (the reason is logged). */
int sbx_objects_open(const struct sbx_config *cfg, struct sbx_executor *exec,
		     struct sbx_objects **ret);
/* Stop the sweeper and free everything, unless RPCs still use the objects
 * (the server gave up waiting for them): then it is left to the process
 * exit. NULL is a no-op. */
void sbx_objects_close(struct sbx_objects *o);

/* Bracket every use by an RPC handler. enter fails with -ESHUTDOWN once
 * closing began. */
int sbx_objects_enter(struct sbx_objects *o);
void sbx_objects_leave(struct sbx_objects *o);
/* The same for an RPC handler, whose daemon may lack the objects or the
 * part of them it serves (o NULL: in-process test daemons, or a daemon
 * shutting down): o, or NULL with call->error the sentence `unavailable`
 * (answer -ESHUTDOWN: UNAVAILABLE). Leave with sbx_objects_leave. */
struct sbx_objects *sbx_objects_enter_call(struct sbx_objects *o, struct sbx_rpc_call *call,
					   const char *unavailable);

/* Delete idle objects now, and scale idle deployments to zero (the
 * sweeper calls this every cfg->cleanup_interval_s). */
void sbx_objects_sweep(struct sbx_objects *o);

/* Helpers of sandbox.c and session.c. */
/* Create <base>/<id> (0711, root) and in it workspace/ and, when ret_tmp
 * is given, tmp/, both owned by the sandbox user. With disk_mb > 0 these
 * two live in a volume of that size (volume.h): <id>/disk.img mounted on
 * <id>/vol. Paths through ret_*; nothing is left behind on failure
 * (logged). */
int sbx_objects_mkdirs(struct sbx_objects *o, const char *base, const char *id, uint32_t disk_mb,
		       char **ret_dir, char **ret_ws, char **ret_tmp);
/* At load: the paths of <base>/<id>'s files, its volume mounted again.
 * An object made before disk limits (no disk.img) keeps its plain,
 * unlimited directories, with a warning; a volume that cannot be mounted
 * is logged and leaves the workspace path missing, so that nothing runs
 * or is written there without its limit. -ENOMEM. */
int sbx_objects_opendirs(const char *base, const char *id, char **ret_dir, char **ret_ws,
			 char **ret_tmp);
/* Unmount dir's volume (when mounted) and, with `remove`, delete dir with
 * the image in it. NULL dir is a no-op. Logs failures. */
void sbx_objects_dirs_release(const char *id, const char *dir, bool remove);
/* The disk limit of a new object asking for req_mb (0 = the default),
 * checked against the maximum (-EINVAL), and whether the state directory
 * has MIN_FREE_DISK_MB free for it (-ENOSPC: HTTP 507); call->error says
 * which. */
int sbx_objects_disk_limit(struct sbx_objects *o, struct sbx_rpc_call *call, uint32_t req_mb,
			   uint32_t *ret_mb);
/* A new object asking for outbound network (want): only where
 * NETWORK_MODE is bridge (-EINVAL, call->error says why, as Execute
 * does). */
int sbx_objects_check_network(struct sbx_objects *o, struct sbx_rpc_call *call, bool want);

/* A wall-clock time in ms since the epoch (sbx_clock_wall_ms) in ISO 8601
 * form (UTC, ms). */
char *sbx_iso8601(int64_t ms);
/* The reverse: "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC; "+00:00" for Z too)
 * into ms since the epoch. 0 or -EINVAL. */
int sbx_iso8601_parse(const char *s, int64_t *ret_ms);

#endif
