/* An external runner per execution (nsjail, runsc): what the backends that
 * start one program per run share. Its pipes pumped with caps and
 * deadlines, its workspace and files, its result. Each backend keeps only
 * what differs: its argv, what its child does before exec, how it reads
 * the runner's exit. */
#ifndef SBX_RUNNER_H
#define SBX_RUNNER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "buf.h"
#include "nsjail_cg.h"

/* A backend's own, set at open (struct sbx_runner lives as long as it). */
struct sbx_runner {
	const char *name; /* the runner's, in "<name> could not run" */
	char work[PATH_MAX]; /* fresh workspaces (and the user list) live here */
	char passwd[PATH_MAX + 16], group[PATH_MAX + 16]; /* the sandbox's own */
	uid_t owner; /* the sandbox user as the host sees it: owns the files */
	/* Added to the request's CPU limit: the runner's own start counts
	 * in the cgroup when it is in it. */
	uint64_t cpu_extra_ms;
	/* At a limit, kill the run's cgroups too: what holds the pipes is
	 * not a child of the killed runner. */
	bool kill_cgroup;
	struct sbx_nsjail_cg cg;
	char describe[PATH_MAX + 64]; /* "<kind> (<path>, cgroup v2)" */
};

enum sbx_runner_kill { SBX_RUNNER_KILL_NONE, SBX_RUNNER_KILL_WALL, SBX_RUNNER_KILL_CPU,
		       SBX_RUNNER_KILL_OUTPUT };

/* What one run collected. */
struct sbx_runner_io {
	struct sbx_buf out[2], log; /* stdout, stderr; the runner's messages (fd 3) */
	bool truncated[2];
	uint64_t dropped;
	enum sbx_runner_kill kill;
	bool oom;
};

struct sbx_runner_job {
	pid_t pid;
	const struct sbx_runner *rn;
	const struct sbx_nsjail_cg_run *cg;
	const Sbx__SpawnRequest *req;
	long long t0;
	/* In the forked child, before the pipes become 0-3 and exec
	 * (async-signal-safe calls only); `arg` is the backend's. */
	void (*child)(const struct sbx_runner_job *j);
	const void *arg;
};

/* Prepare (the resolved argv[0] and so on), run, decide: the backend's
 * part of a run, in the workspace `ws` whose files are written. */
typedef int (*sbx_runner_fn)(void *state, const Sbx__SpawnRequest *req, const char *ws,
			     struct sbx_runner_io *io, Sbx__ExecResult *res, char *err,
			     size_t len);

/* `name` with a '/' as is (if an executable file), else the first match
 * on `path_var`. */
bool sbx_runner_find_exec(const char *name, const char *path_var, char *ret, size_t len);
/* rn->passwd and rn->group: the sandbox's user list, in rn->work. */
int sbx_runner_write_ids(struct sbx_runner *rn);
int sbx_runner_rm_tree(const char *dir);
/* The last step of a backend's open: the cgroups (rn->cg) and
 * rn->describe, for `kind` running the runner at `path`. */
int sbx_runner_open_cg(struct sbx_runner *rn, const char *kind, const char *path);
/* The backend table's own_workspace and describe for a backend whose
 * state begins with its struct sbx_runner: a workspace the executor made
 * is the sandbox user's; the line for the logs. */
int sbx_runner_own_workspace(void *state, const char *dir);
const char *sbx_runner_describe(void *state);
/* The cgroups, the work directory when rm_work, then state itself (which
 * begins with its struct sbx_runner; NULL is nothing to close). */
void sbx_runner_close(void *state, bool rm_work);
/* argv[0] as the runner must exec it: a bare name resolved on the
 * request's PATH (the host's /usr is the sandbox's); a path as is, looked
 * up inside. False when a bare name is found nowhere. */
bool sbx_runner_resolve(const Sbx__SpawnRequest *req, char *exe, size_t len);
/* Start argv with stdin, stdout, stderr and its log (fd 3) on pipes,
 * pump, reap: *ret_status the wait status. */
int sbx_runner_spawn_wait(char **argv, struct sbx_runner_job *j, struct sbx_runner_io *io,
			  int *ret_status, uint64_t *ret_wall);
/* A whole run: checks, workspace and files, run(state, ...), the result
 * (-EINVAL for a request the engine refuses, as sbx_engine_run). */
int sbx_runner_run(const struct sbx_runner *rn, const Sbx__SpawnRequest *req, sbx_runner_fn run,
		   void *state, Sbx__ExecResult **ret);
/* The line at e (a runner's log), copied to buf: the failure's sentence. */
const char *sbx_runner_log_line(const char *e, char *buf, size_t len);
/* res->exit_code and res->signal from the runner's wait status st: both
 * runners exit 128+N when the program died of signal N. The code. */
int sbx_runner_exit_code(int st, Sbx__ExecResult *res);
/* The sentences of a run's end (status, err), the same for every runner:
 * argv[0] found nowhere (exit code 127), a limit. */
void sbx_runner_not_found(const Sbx__SpawnRequest *req, Sbx__ExecResult *res, char *err,
			  size_t len);
void sbx_runner_cpu_limit(const Sbx__Limits *l, Sbx__ExecResult *res, char *err, size_t len);
void sbx_runner_wall_limit(const Sbx__Limits *l, Sbx__ExecResult *res, char *err, size_t len);
void sbx_runner_memory_limit(const Sbx__Limits *l, Sbx__ExecResult *res, char *err, size_t len);
/* The last of a backend's decisions, when no runner failure and no time or
 * memory limit applies: the output limit, the signal, the exit code, OK. */
void sbx_runner_decide_exit(const Sbx__Limits *l, int code, int sig,
			    const struct sbx_runner_io *io, Sbx__ExecResult *res, char *err,
			    size_t len);

#endif
