/* Act: the one pipeline every execution takes (Run, Execute, objects'
 * runs, services): admit -> optional compile step with its runtime row's
 * limits -> spawn -> release -> report. exec_spec.c checked the spec and
 * built the SpawnRequest first. */
#include "executor_internal.h"

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "logs/logs.h"

/* Executions of objects (sandboxes, sessions) stream their output to the
 * rings of the object and of the execution (daemon/logs/); Run does not,
 * nor Execute unless it names a log_id. */
static struct sbx_log_feed *logs_feed(struct sbx_executor *x, const struct inflight *f,
				      const Sbx__SpawnRequest *s)
{
	const char *id = f->object_id[0] ? f->object_id : f->log_id;

	if (!id || !id[0] || !x->ops->run_stream)
		return NULL;
	/* A log_id ring is the run's own already: no second one by
	 * execution id to push other objects' rings out. An object's run
	 * with a log_id (a deployment's service) feeds both. */
	/* The execution's own ring is kept for GetLogs, not published:
	 * live followers follow the object. */
	return sbx_log_feed_for(exec_logs(x), id,
				!f->object_id[0] ? NULL
				: f->log_id	 ? f->log_id
						 : s->execution_id,
				f->object_id[0] && f->log_id);
}

static int run_spawn(struct sbx_executor *x, struct sbx_rpc_call *call, const Sbx__SpawnRequest *s,
		     struct exec_job *j, int netns_fd, Sbx__ExecResult **ret)
{
	struct inflight *f = &j->f;
	struct sbx_log_feed *feed = logs_feed(x, f, s);
	struct sbx_engine_stream st = {.on_output = feed ? sbx_log_feed_write : NULL,
				       .arg = feed,
				       .has_netns = netns_fd >= 0,
				       .netns_fd = netns_fd};
	int r = feed || st.has_netns	  ? x->ops->run_stream(x->backend, s, &f->token, &st, ret)
		: x->ops->run_cancellable ? x->ops->run_cancellable(x->backend, s, &f->token, ret)
					  : x->ops->run(x->backend, s, ret);

	sbx_log_feed_finish(feed, s->execution_id, r, r == 0 ? *ret : NULL, st.dropped_bytes);
	j->log_dropped_bytes += st.dropped_bytes;

	if (r == -EINVAL && *ret && (*ret)->error && (*ret)->error[0]) {
		sbx_rpc_error(call, -EINVAL, "%s", (*ret)->error);
		sbx__exec_result__free_unpacked(*ret, NULL);
		*ret = NULL;
		return -EINVAL;
	}
	if (r < 0 && r != -EINVAL) {
		sbx_log(SBX_LOG_ERROR, s->execution_id, "backend failed: %s", strerror(-r));
		return sbx_rpc_error(call, -EIO, "the sandbox could not be started");
	}
	return r;
}

/* A copy to own twice: the failed compile is the result and its compile. */
static Sbx__ExecResult *result_dup(const Sbx__ExecResult *res)
{
	size_t n = sbx__exec_result__get_packed_size(res);
	uint8_t *buf = malloc(n ? n : 1);
	Sbx__ExecResult *dup = NULL;

	if (buf) {
		sbx__exec_result__pack(res, buf);
		dup = sbx__exec_result__unpack(NULL, n, buf);
	}
	free(buf);
	return dup;
}

/* Join two byte strings into *dst (protobuf-c's allocator: malloc). */
static int bytes_join(ProtobufCBinaryData *dst, const ProtobufCBinaryData *a,
		      const ProtobufCBinaryData *b)
{
	uint8_t *d = malloc(a->len + b->len + 1);

	if (!d)
		return -ENOMEM;
	if (a->len)
		memcpy(d, a->data, a->len);
	if (b->len)
		memcpy(d + a->len, b->data, b->len);
	free(dst->data);
	dst->data = d;
	dst->len = a->len + b->len;
	return 0;
}

/* merge_stderr and want_output for a backend without them (docker,
 * nsjail): stderr after stdout, and the same as the interleaved output.
 * The native spawner gives both exactly (fd 2 is fd 1; reads in order),
 * so there is nothing to do: no stderr, and an output when anything ran. */
static void result_complete(const struct sbx_exec_spec *spec, Sbx__ExecResult *res)
{
	ProtobufCBinaryData none = {0};

	if (spec->merge_stderr && res->stderr.len &&
	    bytes_join(&res->stdout, &res->stdout, &res->stderr) == 0) {
		bytes_join(&res->stderr, &none, &none);
		res->stdout_truncated |= res->stderr_truncated;
		res->stderr_truncated = false;
	}
	if (spec->want_output && !res->output.len && (res->stdout.len || res->stderr.len) &&
	    bytes_join(&res->output, &res->stdout, &res->stderr) == 0)
		res->output_truncated = res->stdout_truncated || res->stderr_truncated;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -errno : 0;
}

/* A host workspace for a compile step and its run, removed afterwards. */
static int workspace_new(struct sbx_executor *x, const char *id, char **ret)
{
	char *dir;
	int r;

	if (asprintf(&dir, "%s/%s", x->work_dir, id) < 0)
		return -ENOMEM;
	if (mkdir(dir, 0700) < 0) {
		r = -errno;
		free(dir);
		return r;
	}
	r = x->ops->own_workspace(x->backend, dir);
	if (r < 0) {
		rmdir(dir);
		free(dir);
		return r;
	}
	*ret = dir;
	return 0;
}

static void workspace_remove(const char *dir)
{
	if (dir)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Compile in the workspace with the runtime row's compile limits; a failed
 * compile is the execution's result (RUNTIME_ERROR with its stderr). */
static int compile_step(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	const struct sbx_runtime_limits *rl = j->compile_limits;
	Sbx__SpawnRequest c = *j->s;
	Sbx__Limits cl = *j->s->limits;
	Sbx__ExecResult *res = NULL;
	int r;

	c.argv = (char **)j->compile;
	c.n_argv = j->n_compile;
	c.stdin.len = 0;
	c.limits = &cl;
	if (rl) {
		cl.cpu_time_ms = rl->cpu_time_ms ? rl->cpu_time_ms : cl.cpu_time_ms;
		cl.wall_time_ms = rl->wall_time_ms ? rl->wall_time_ms : cl.wall_time_ms;
		cl.memory_kb = rl->memory_kb ? rl->memory_kb : cl.memory_kb;
		cl.pids = rl->pids ? rl->pids : cl.pids;
		cl.fsize_kb = rl->fsize_kb ? rl->fsize_kb : cl.fsize_kb;
		cl.nofile = rl->nofile ? rl->nofile : cl.nofile;
	}
	exec_limits_overlay(&cl, j->compile_request);
	r = run_spawn(x, call, &c, j, -1, &res);
	if (r < 0)
		return r;
	result_complete(j->spec, res);
	if (res->status != SBX__EXEC_STATUS__EXEC_STATUS_OK) {
		if (!res->error || !res->error[0]) {
			free(res->error);
			res->error = strdup("compilation failed");
		}
		res->compile = result_dup(res);
		j->res = res;
		return res->compile && res->error ? 0 : -ENOMEM;
	}
	j->compile_res = res;
	return 0;
}

/* With a slot taken (or none needed): compile, then run. */
static int run_steps(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	int r = 0;

	j->started_ms = sbx_clock_wall_ms();
	if (j->compile) {
		/* Execute's compile step and run share a workspace of their own. */
		if (!j->spec->workspace) {
			r = workspace_new(x, j->s->execution_id, &j->ws);
			if (r == 0 && !(j->s->workspace = strdup(j->ws)))
				r = -ENOMEM;
		}
		if (r == 0)
			r = compile_step(x, call, j);
		/* The run finds the source and binary already there. */
		j->s->n_files = 0;
	}
	if (r == 0 && !j->res) {
		r = run_spawn(x, call, j->s, j, j->spec->service ? j->spec->netns_fd : -1,
			      &j->res);
		if (r == 0) {
			result_complete(j->spec, j->res);
			j->res->compile = j->compile_res;
			j->compile_res = NULL;
		}
	}
	return r;
}

/* A service takes no admission slot: its owner bounds how many run. */
static int run_admitted(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	int r;

	if (j->spec->service) {
		j->t_slot = sbx_clock_mono_us();
		r = run_steps(x, call, j);
		j->t_steps_end = sbx_clock_mono_us();
		return r;
	}
	j->t_ask = sbx_clock_mono_us();
	r = exec_admit(x, call, &j->f);
	if (r < 0)
		return r;
	j->t_slot = sbx_clock_mono_us();
	r = run_steps(x, call, j);
	j->t_steps_end = sbx_clock_mono_us();
	exec_release(x, j->res);
	return r;
}

/* The runtime's name for code (Execute names it even when refused before
 * it was checked), else the spec's language, else argv[0]. */
static const char *report_language(struct sbx_executor *x, const struct exec_job *j)
{
	const struct sbx_runtime *rt = j->rt;

	if (!rt && j->spec->code)
		rt = sbx_runtimes_find(x->rt, j->spec->language);
	if (rt)
		return rt->name;
	if (j->spec->language)
		return j->spec->language;
	return j->s->n_argv ? j->s->argv[0] : "";
}

/* The program's own wall time in µs: the run's, and the compile step's
 * when one ran apart from it (a failed compile is the result itself). */
static int64_t program_us(const Sbx__ExecResult *res)
{
	uint64_t ms = res->wall_time_ms;

	if (res->compile && res->compile->status == SBX__EXEC_STATUS__EXEC_STATUS_OK)
		ms += res->compile->wall_time_ms;
	return (int64_t)ms * 1000;
}

/* Fill rep's durations from j's times (report()). */
static void report_times(const struct exec_job *j, int error, struct sbx_exec_report *rep)
{
	int64_t now = sbx_clock_mono_us();

	rep->total_us = now - j->t_begin;
	rep->queue_us = j->t_ask && j->t_slot ? j->t_slot - j->t_ask : -1;
	rep->run_us = rep->setup_us = -1;
	if (error == 0 && j->res && j->t_slot && j->t_steps_end) {
		int64_t with_slot = j->t_steps_end - j->t_slot;

		rep->run_us = program_us(j->res);
		if (rep->run_us > with_slot)
			rep->run_us = with_slot;
		rep->setup_us = with_slot - rep->run_us;
	}
}

/* Tell the observer; j->s may be partly filled when the request failed. */
static void report(struct sbx_executor *x, struct sbx_rpc_call *call, const struct exec_job *j,
		   int error)
{
	const struct sbx_exec_spec *spec = j->spec;
	const Sbx__SpawnRequest *s = j->s;
	struct sbx_exec_report rep = {
		.method = call->method ? call->method : "",
		.client = call->client ? call->client : "",
		.kind = spec->kind ? spec->kind : "spawn",
		.object_id = spec->object_id ? spec->object_id : "",
		.language = report_language(x, j),
		.execution_id = s->execution_id ? s->execution_id : "",
		.limits = s->limits,
		.started_ms = j->started_ms,
		.res = error < 0 ? NULL : j->res,
		.error = error,
		.log_dropped_bytes = j->log_dropped_bytes,
	};

	report_times(j, error, &rep);
	exec_notify(x, &rep);
}

int sbx_executor_spawn(struct sbx_executor *x, struct sbx_rpc_call *call,
		       const struct sbx_exec_spec *spec, Sbx__ExecResult **ret)
{
	struct exec_job j = {.spec = spec, .t_begin = sbx_clock_mono_us()};
	int r = exec_job_init(x, &j);

	if (r < 0)
		return r;
	r = exec_job_prepare(x, call, &j);
	if (r == 0)
		r = run_admitted(x, call, &j);
	workspace_remove(j.ws);
	exec_inflight_remove(x, &j.f);
	report(x, call, &j, r);
	if (r == 0)
		*ret = j.res;
	else if (j.res)
		sbx__exec_result__free_unpacked(j.res, NULL);
	exec_job_fini(&j);
	return r;
}
