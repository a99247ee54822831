/* The executor: its backend and runtimes, admission (a running slot or a
 * place in the bounded queue), the registry of executions in flight that
 * sbx_executor_cancel stops, and the observer told about each request.
 * What an execution does is the pipeline's (pipeline.c). */
#include "executor_internal.h"
#include "netpolicy/bridge.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cleanup.h"
#include "daemon_config.h"
#include "log.h"

void sbx_executor_set_observer(struct sbx_executor *x, sbx_exec_observer_fn fn, void *arg)
{
	pthread_mutex_lock(&x->lock);
	while (x->observing)
		pthread_cond_wait(&x->observed, &x->lock);
	x->observer = fn;
	x->observer_arg = arg;
	pthread_mutex_unlock(&x->lock);
}

void exec_inflight_add(struct sbx_executor *x, struct inflight *f, const char *object_id)
{
	f->log_id = NULL;
	f->object_id = object_id ? object_id : "";
	f->execution_id = "";
	sbx_engine_cancel_init(&f->token);
	pthread_mutex_lock(&x->lock);
	f->next = x->inflight;
	x->inflight = f;
	pthread_mutex_unlock(&x->lock);
}

/* The execution id is known only once the request is checked. */
void exec_inflight_set_id(struct sbx_executor *x, struct inflight *f, const char *execution_id)
{
	pthread_mutex_lock(&x->lock);
	f->execution_id = execution_id;
	pthread_mutex_unlock(&x->lock);
}

void exec_inflight_remove(struct sbx_executor *x, struct inflight *f)
{
	pthread_mutex_lock(&x->lock);
	for (struct inflight **p = &x->inflight; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	pthread_mutex_unlock(&x->lock);
	sbx_engine_cancel_fini(&f->token);
}

int sbx_executor_cancel(struct sbx_executor *x, const char *id)
{
	int n = 0;

	if (!id || !*id)
		return 0;
	pthread_mutex_lock(&x->lock);
	for (struct inflight *f = x->inflight; f; f = f->next) {
		if (strcmp(f->object_id, id) != 0 && strcmp(f->execution_id, id) != 0)
			continue;
		if (!x->ops->run_cancellable) {
			n = -EOPNOTSUPP;
			break;
		}
		sbx_engine_cancel(&f->token);
		n++;
	}
	/* A request waiting in admit() for a slot: its run stops at once
	 * (the token is sticky), so wake it rather than let it wait. */
	if (n > 0)
		pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
	return n;
}

void exec_notify(struct sbx_executor *x, const struct sbx_exec_report *rep)
{
	sbx_exec_observer_fn fn;
	void *arg;

	pthread_mutex_lock(&x->lock);
	fn = x->observer;
	arg = x->observer_arg;
	x->observing += fn != NULL;
	pthread_mutex_unlock(&x->lock);
	if (!fn)
		return;
	fn(arg, rep);
	pthread_mutex_lock(&x->lock);
	if (--x->observing == 0)
		pthread_cond_broadcast(&x->observed);
	pthread_mutex_unlock(&x->lock);
}

int sbx_executor_new(const struct sbx_config *cfg, struct sbx_executor **ret)
{
	struct sbx_executor *x;
	int r;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->cfg = cfg;
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->cond, NULL);
	pthread_cond_init(&x->observed, NULL);
	x->ops = sbx_backend_find(cfg->backend);
	if (!x->ops) {
		r = -EINVAL;
		goto fail;
	}
	if (asprintf(&x->work_dir, "%s/work", cfg->state_dir) < 0) {
		x->work_dir = NULL;
		r = -ENOMEM;
		goto fail;
	}
	if (mkdir(x->work_dir, 0711) < 0 && errno != EEXIST) {
		r = -errno;
		goto fail;
	}
	r = sbx_runtimes_new(cfg->languages_off, &x->rt);
	if (r < 0)
		goto fail;
	r = x->ops->open(cfg, &x->backend);
	if (r < 0)
		goto fail;
	/* After the backend: the engine forks its spawner before any thread,
	 * and the bridge starts the resolver's. */
	if (strcmp(cfg->network_mode, "bridge") == 0) {
		char err[512];

		r = sbx_bridge_new(cfg, &x->bridge, err, sizeof(err));
		if (r < 0) {
			sbx_log(SBX_LOG_ERROR, NULL, "NETWORK_MODE=bridge: %s", err);
			x->ops->close(x->backend);
			goto fail;
		}
	}
	*ret = x;
	return 0;
fail:
	sbx_runtimes_free(x->rt);
	free(x->work_dir);
	free(x);
	return r;
}

void sbx_executor_free(struct sbx_executor *x)
{
	if (!x)
		return;
	x->ops->close(x->backend);
	/* After the engine: no sandbox is left to use a link. */
	sbx_bridge_free(x->bridge);
	sbx_runtimes_free(x->rt);
	pthread_cond_destroy(&x->cond);
	pthread_cond_destroy(&x->observed);
	pthread_mutex_destroy(&x->lock);
	free(x->work_dir);
	free(x);
}

struct sbx_runtimes *sbx_executor_runtimes(struct sbx_executor *x)
{
	return x->rt;
}
const char *sbx_executor_describe(struct sbx_executor *x)
{
	return x->ops->describe(x->backend);
}

void sbx_executor_stats(struct sbx_executor *x, struct sbx_executor_stats *ret)
{
	pthread_mutex_lock(&x->lock);
	*ret = x->stats;
	pthread_mutex_unlock(&x->lock);
}

int sbx_executor_warm_pools(struct sbx_executor *x, Sbx__WarmPool ***ret, size_t *ret_n)
{
	int r = x->ops->warm_pools ? x->ops->warm_pools(x->backend, ret, ret_n) : -EOPNOTSUPP;

	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*ret = NULL;
		*ret_n = 0;
	}
	return 0;
}

/* A request stopped while it waits takes its slot at once: its run ends
 * without starting (the token is sticky). */
int exec_admit(struct sbx_executor *x, struct sbx_rpc_call *call, struct inflight *f)
{
	struct timespec until = {0};
	int r = 0;

	if (call->deadline_ms) {
		until.tv_sec = (time_t)(call->deadline_ms / 1000);
		until.tv_nsec = (long)(call->deadline_ms % 1000) * 1000000;
	}
	pthread_mutex_lock(&x->lock);
	if (x->stats.running >= x->cfg->max_concurrent) {
		if (x->stats.queued >= x->cfg->max_queued) {
			x->stats.rejected++;
			pthread_mutex_unlock(&x->lock);
			return sbx_rpc_error(
				call, -EAGAIN,
				"too many executions: %u running and %u waiting; retry later",
				x->cfg->max_concurrent, x->cfg->max_queued);
		}
		x->stats.queued++;
		while (x->stats.running >= x->cfg->max_concurrent && r == 0 && !f->token.cancelled)
			r = call->deadline_ms ? pthread_cond_timedwait(&x->cond, &x->lock, &until)
					      : pthread_cond_wait(&x->cond, &x->lock);
		x->stats.queued--;
		if (r != 0) {
			x->stats.rejected++;
			pthread_mutex_unlock(&x->lock);
			return sbx_rpc_error(call, -ETIMEDOUT,
					     "the request timed out waiting for a free sandbox");
		}
	}
	x->stats.running++;
	pthread_mutex_unlock(&x->lock);
	return 0;
}

void exec_release(struct sbx_executor *x, const Sbx__ExecResult *res)
{
	pthread_mutex_lock(&x->lock);
	x->stats.running--;
	x->stats.total++;
	if (!res || res->status != SBX__EXEC_STATUS__EXEC_STATUS_OK)
		x->stats.failed++;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

void sbx_executor_set_logs(struct sbx_executor *x, struct sbx_logs *logs)
{
	pthread_mutex_lock(&x->lock);
	x->logs = logs;
	pthread_mutex_unlock(&x->lock);
}

struct sbx_logs *exec_logs(struct sbx_executor *x)
{
	struct sbx_logs *logs;

	pthread_mutex_lock(&x->lock);
	logs = x->logs;
	pthread_mutex_unlock(&x->lock);
	return logs;
}

int sbx_executor_check_language(struct sbx_executor *x, struct sbx_rpc_call *call,
				const char *language, const char *argv0)
{
	const char *off = language && *language ? sbx_runtimes_disabled(x->rt, language)
						: sbx_runtimes_disabled_argv0(x->rt, argv0);

	return off ? sbx_rpc_error(call, -EINVAL, "language %s is disabled on this server", off)
		   : 0;
}

int sbx_executor_own(struct sbx_executor *x, const char *dir)
{
	return x->ops->own_workspace(x->backend, dir);
}
