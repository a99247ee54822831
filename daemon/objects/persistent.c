/* Persistent sandboxes (mode "persistent"): the sandbox's entry point
 * kept running as a service (daemon/service/service.h) listening on port
 * 3000 of its own loopback, started at creation, by ExecuteSandbox and by
 * proxied requests, stopped with the sandbox. Deployments are built on
 * them (deployment.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "clock.h"
#include "daemon_config.h"
#include "executor.h"
#include "files.h"
#include "log.h"
#include "sandbox_int.h"
#include "forward.h"
#include "service.h"

/* The port a persistent sandbox's service listens on (the seed's). */
#define SERVICE_PORT 3000

static const struct sbx_service_ops service_ops;

/* Give a persistent sandbox its service (stopped), within the limit of
 * MAX_DEPLOYMENTS processes. */
int sbx_sandbox_service_attach(struct sbx_objects *o, struct sbx_sandbox *s,
			       struct sbx_rpc_call *call)
{
	_cleanup_free_ char *path = NULL;
	int r;

	pthread_mutex_lock(&o->lock);
	r = o->services >= o->cfg->max_deployments ? -EAGAIN : 0;
	o->services += r == 0;
	pthread_mutex_unlock(&o->lock);
	if (r < 0)
		return call ? sbx_rpc_error(
				      call, -EAGAIN,
				      "too many deployments and persistent sandboxes (limit %u)",
				      o->cfg->max_deployments)
			    : r;
	r = sbx_forward_socket_path(o->proxy_dir, s->obj.id, &path);
	if (r == 0)
		r = sbx_service_new(path, SERVICE_PORT, o->cfg->service_ready_timeout_ms,
				    &service_ops, s, &s->svc);
	if (r < 0) {
		pthread_mutex_lock(&o->lock);
		o->services--;
		pthread_mutex_unlock(&o->lock);
		sbx_log(SBX_LOG_ERROR, s->obj.id, "cannot set up the service: %s", strerror(-r));
	}
	return r;
}

/* ---- persistent sandboxes: the service's side (service.h) ---- */

/* The last non-empty line of a run's stderr, at most `max` bytes, or "". */
static void last_line(const ProtobufCBinaryData *err, char *buf, size_t max)
{
	size_t end = err->data ? err->len : 0, start;

	while (end > 0 && (err->data[end - 1] == '\n' || err->data[end - 1] == '\r'))
		end--;
	start = end;
	while (start > 0 && err->data[start - 1] != '\n')
		start--;
	if (end - start >= max)
		start = end - (max - 1);
	if (end > start)
		memcpy(buf, err->data + start, end - start);
	buf[end - start] = '\0';
}

/* How a run ended, for the status note: what happened, and the last line
 * the process wrote to stderr ("Cannot find module 'express'"). */
static char *ended_note(int r, const struct sbx_rpc_call *call, const Sbx__ExecResult *res,
			bool installing)
{
	const char *what = installing ? "dependency installation" : "the process";
	char *note = NULL, tail[128];
	int n;

	if (r < 0)
		n = asprintf(&note, "could not start: %s",
			     call->error[0] ? call->error : strerror(-r));
	else if (res->status == SBX__EXEC_STATUS__EXEC_STATUS_STOPPED)
		return strdup("stopped");
	else {
		last_line(&res->stderr, tail, sizeof(tail));
		if (res->status == SBX__EXEC_STATUS__EXEC_STATUS_OK)
			n = asprintf(&note, "%s exited with code %d%s%s", what, res->exit_code,
				     *tail ? ": " : "", tail);
		else
			n = asprintf(&note, "%s ended: %s%s%s", what,
				     res->error && *res->error ? res->error : "killed",
				     *tail ? ": " : "", tail);
	}
	return n < 0 ? NULL : note;
}

static int service_run(void *arg, int netns_fd, char **ret_note)
{
	struct sbx_sandbox *s = arg;
	struct sbx_objects *o = s->o;
	struct sbx_rpc_call call = {.method = "service", .client = ""};
	Sbx__ExecResult *res = NULL;
	bool install, failed_install = false;
	int r;

	pthread_mutex_lock(&s->obj.lock);
	install = s->install_deps && !s->deps_installed;
	sbx_sandbox_transition(o, s, SBX__SANDBOX_STATE__SANDBOX_RUNNING, NULL);
	pthread_mutex_unlock(&s->obj.lock);

	r = install ? sbx_sandbox_install(o, &call, s, &res) : 0;
	if (r == 0 && res)
		failed_install = true;
	else if (r == 0) {
		if (install) {
			pthread_mutex_lock(&s->obj.lock);
			s->deps_installed = true;
			pthread_mutex_unlock(&s->obj.lock);
		}
		r = sbx_sandbox_run(o, &call, s, netns_fd, &res);
	}
	*ret_note = ended_note(r, &call, res, failed_install);

	pthread_mutex_lock(&s->obj.lock);
	if (r == 0) {
		s->executions++;
		s->exit_code = res->exit_code;
	}
	/* Not written back when the daemon's shutdown stopped it (see
	 * sbx_sandbox_transition). */
	sbx_sandbox_transition(o, s,
			       r == 0 && !failed_install &&
					       res->status == SBX__EXEC_STATUS__EXEC_STATUS_OK &&
					       res->exit_code == 0
				       ? SBX__SANDBOX_STATE__SANDBOX_COMPLETED
			       : r == 0 && res->status == SBX__EXEC_STATUS__EXEC_STATUS_STOPPED
				       ? SBX__SANDBOX_STATE__SANDBOX_COMPLETED
				       : SBX__SANDBOX_STATE__SANDBOX_FAILED,
			       *ret_note);
	pthread_mutex_unlock(&s->obj.lock);
	if (res)
		sbx__exec_result__free_unpacked(res, NULL);
	return r;
}

static void service_cancel(void *arg)
{
	struct sbx_sandbox *s = arg;

	sbx_executor_cancel(s->o->exec, s->obj.id);
}

static const struct sbx_service_ops service_ops = {service_run, service_cancel};

/* A persistent sandbox's "execute": (re)start its process unless it runs;
 * the output goes to its live logs. */
int sbx_sandbox_persistent_execute(struct sbx_rpc_call *call, struct sbx_sandbox *s,
				   Sbx__SandboxExecution **ret)
{
	Sbx__ExecResult res = SBX__EXEC_RESULT__INIT;
	int r = sbx_service_start(s->svc);

	if (r < 0)
		return sbx_rpc_error(call, r == -EBUSY ? -EBUSY : -EIO,
				     "the sandbox's process cannot be started: %s", strerror(-r));
	pthread_mutex_lock(&s->obj.lock);
	s->last_used_ms = sbx_clock_wall_ms();
	pthread_mutex_unlock(&s->obj.lock);
	res.status = SBX__EXEC_STATUS__EXEC_STATUS_OK;
	res.execution_id = (char *)"";
	res.error = (char *)"";
	*ret = sbx_sandbox_execution_reply(s->obj.id, &res);
	return *ret ? 0 : -ENOMEM;
}

static int lookup_service(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
			  struct sbx_sandbox **ret)
{
	int r = 0;
	struct sbx_sandbox *s = sbx_sandbox_lookup(o, call, id, &r);

	if (!s)
		return r;
	if (!s->svc) {
		sbx_obj_unref(&s->obj);
		return sbx_rpc_error(
			call, -EBUSY,
			"sandbox '%.64s' is not persistent: it has no process to reach", id);
	}
	*ret = s;
	return 0;
}

/* How long to wait for a port: the configured bound, less when the
 * caller asks for less, and never past its deadline (less a second to
 * answer in). */
static uint32_t ready_wait_ms(struct sbx_objects *o, const struct sbx_rpc_call *call,
			      uint32_t wait_ms)
{
	uint32_t ms = o->cfg->service_ready_timeout_ms;

	if (wait_ms && wait_ms < ms)
		ms = wait_ms;
	if (call->deadline_ms) {
		int64_t left = (int64_t)call->deadline_ms - sbx_clock_wall_ms() - 1000;

		ms = left < 100 ? 100 : left < ms ? (uint32_t)left : ms;
	}
	return ms;
}

int sbx_sandbox_open_proxy(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
			   uint32_t wait_ms, char **ret_socket)
{
	struct sbx_sandbox *s = NULL;
	struct sbx_service_info info;
	int r = lookup_service(o, call, id, &s);

	if (r < 0)
		return r;
	pthread_mutex_lock(&s->obj.lock);
	s->last_used_ms = sbx_clock_wall_ms();
	if (s->obj.phase == SBX_OBJ_GONE)
		r = sbx_rpc_error(call, -ENOENT, "sandbox '%.64s' not found", id);
	pthread_mutex_unlock(&s->obj.lock);
	if (r < 0) {
		sbx_obj_unref(&s->obj);
		return r;
	}
	/* Scaled to zero or ended: this request wakes it. */
	r = sbx_service_start(s->svc);
	if (r == 0)
		r = sbx_service_wait_ready(s->svc, ready_wait_ms(o, call, wait_ms));
	if (r == -ETIMEDOUT)
		sbx_rpc_error(call, -ETIMEDOUT,
			      "the service of '%s' did not accept connections on port %d in time",
			      id, SERVICE_PORT);
	else if (r < 0) {
		sbx_service_info(s->svc, &info);
		sbx_rpc_error(call, -ECONNREFUSED, "the service of '%s' is not running: %s", id,
			      info.note[0] ? info.note : strerror(-r));
		r = -ECONNREFUSED;
	} else if (!(*ret_socket = strdup(sbx_service_socket(s->svc))))
		r = -ENOMEM;
	sbx_obj_unref(&s->obj);
	return r;
}

int sbx_sandbox_restart(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id)
{
	struct sbx_sandbox *s = NULL;
	int r = lookup_service(o, call, id, &s);

	if (r < 0)
		return r;
	sbx_service_stop(s->svc);
	r = sbx_service_start(s->svc);
	if (r < 0)
		sbx_rpc_error(call, -EIO, "the service cannot be started: %s", strerror(-r));
	sbx_obj_unref(&s->obj);
	return r < 0 ? -EIO : 0;
}

int sbx_sandbox_stop(struct sbx_objects *o, const char *id)
{
	struct sbx_obj *obj = sbx_registry_get(o->sandboxes, id);
	struct sbx_sandbox *s = (struct sbx_sandbox *)obj;

	if (!s)
		return -ENOENT;
	if (s->svc)
		sbx_service_stop(s->svc);
	sbx_obj_unref(&s->obj);
	return 0;
}

int sbx_sandbox_service_info(struct sbx_objects *o, const char *id, struct sbx_service_info *ret)
{
	struct sbx_obj *obj = sbx_registry_get(o->sandboxes, id);
	struct sbx_sandbox *s = (struct sbx_sandbox *)obj;
	int r = s && s->svc ? 0 : -ENOENT;

	if (r == 0) {
		sbx_service_info(s->svc, ret);
		/* "Starting" until somebody knocks: knock once. */
		if (ret->state == SBX_SERVICE_STARTING && sbx_service_wait_ready(s->svc, 0) == 0)
			sbx_service_info(s->svc, ret);
	}
	if (s)
		sbx_obj_unref(&s->obj);
	return r;
}

int sbx_sandbox_write_files(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
			    Sbx__File **files, size_t n, bool *ret_package_json)
{
	struct sbx_sandbox *s;
	int r = sbx_files_check(files, n, o->cfg->max_files, o->cfg->max_upload_bytes, call);

	if (r < 0)
		return r;
	s = sbx_sandbox_lookup(o, call, id, &r);
	if (!s)
		return r;
	r = sbx_files_write(s->workspace, files, n, call);
	*ret_package_json = false;
	for (size_t i = 0; r == 0 && i < n; i++)
		if (strcmp(files[i]->path, "package.json") == 0)
			*ret_package_json = true;
	pthread_mutex_lock(&s->obj.lock);
	/* New dependencies are installed by the next start. */
	if (*ret_package_json)
		s->deps_installed = false;
	s->last_used_ms = sbx_clock_wall_ms();
	sbx_objects_save_locked(o, &s->obj);
	pthread_mutex_unlock(&s->obj.lock);
	sbx_obj_unref(&s->obj);
	return r;
}

/* The processes of persistent sandboxes: started again after a restart
 * (once the daemon is up: their output goes to the live logs) when they
 * ran when it stopped (loaded "running"), stopped at shutdown without a
 * trace in the store (so that the next start brings them back). */
static void each_service(struct sbx_objects *o, bool start)
{
	struct sbx_obj **list;
	size_t n;

	if (sbx_registry_list(o->sandboxes, &list, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct sbx_sandbox *s = (struct sbx_sandbox *)list[i];
		bool running;

		if (!s->svc)
			continue;
		pthread_mutex_lock(&s->obj.lock);
		running = s->state == SBX__SANDBOX_STATE__SANDBOX_RUNNING;
		pthread_mutex_unlock(&s->obj.lock);
		if (!start)
			sbx_service_stop(s->svc);
		/* A running process is left alone by the start. */
		else if (running && sbx_service_start(s->svc) < 0)
			sbx_log(SBX_LOG_ERROR, s->obj.id, "cannot start its process again");
	}
	sbx_registry_list_free(list, n);
}

void sbx_sandboxes_start_services(struct sbx_objects *o)
{
	each_service(o, true);
}

void sbx_sandboxes_stop_services(struct sbx_objects *o)
{
	pthread_mutex_lock(&o->lock);
	o->services_stopping = true;
	pthread_mutex_unlock(&o->lock);
	each_service(o, false);
}
