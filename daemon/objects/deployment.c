/* See deployment.h. */
#include "deployment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "daemon_config.h"
#include "envelope.h"
#include "log.h"
#include "registry.h"
#include "sandbox_obj.h"
#include "service.h"
#include "store.h"

struct sbx_deployment {
	struct sbx_obj obj;
	/* Set at creation, then read-only. */
	struct sbx_objects *o;
	char *sandbox_id;
	uint32_t min_instances, max_instances, scale_down_s;

	pthread_mutex_t lock; /* guards the rest, and orders the store writes */
	int64_t last_request_ms;
	bool scaled_down, deleted;
};

static void deployment_free(struct sbx_obj *obj)
{
	struct sbx_deployment *d = (struct sbx_deployment *)obj;

	free(d->sandbox_id);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static const struct sbx_obj_type deployment_type = {"deployment", deployment_free};

static struct sbx_deployment *deployment_alloc(void)
{
	struct sbx_deployment *d = calloc(1, sizeof(*d));

	if (d)
		pthread_mutex_init(&d->lock, NULL);
	return d;
}

/* Call with d->lock held. */
static int save_locked(struct sbx_objects *o, struct sbx_deployment *d)
{
	struct sbx_store_deployment rec = {
		.id = d->obj.id,
		.sandbox_id = d->sandbox_id,
		.created_ms = d->obj.created_ms,
		.last_request_ms = d->last_request_ms,
		.min_instances = d->min_instances,
		.max_instances = d->max_instances,
		.scale_down_s = d->scale_down_s,
		.scaled_down = d->scaled_down,
	};

	return d->deleted ? 0 : sbx_store_put_deployment(o->store, &rec);
}

static const char *status_word(enum sbx_service_state st)
{
	switch (st) {
	case SBX_SERVICE_RUNNING:
		return "Running";
	case SBX_SERVICE_STARTING:
		return "Starting";
	case SBX_SERVICE_EXITED:
		return "Failed";
	default:
		return "Stopped";
	}
}

static Sbx__Deployment *deployment_reply(struct sbx_objects *o, struct sbx_deployment *d)
{
	struct sbx_rpc_call call = {.method = "GetDeployment"};
	Sbx__Deployment *m = (Sbx__Deployment *)sbx_message_new(&sbx__deployment__descriptor);
	Sbx__AutoScale *as = (Sbx__AutoScale *)sbx_message_new(&sbx__auto_scale__descriptor);
	struct sbx_service_info info = {.state = SBX_SERVICE_STOPPED};
	Sbx__Sandbox *sb = NULL;
	bool scaled_down;
	int64_t last;

	if (!m || !as) {
		if (m)
			protobuf_c_message_free_unpacked(&m->base, NULL);
		if (as)
			protobuf_c_message_free_unpacked(&as->base, NULL);
		return NULL;
	}
	m->auto_scale = as;
	pthread_mutex_lock(&d->lock);
	scaled_down = d->scaled_down;
	last = d->last_request_ms;
	pthread_mutex_unlock(&d->lock);
	sbx_sandbox_service_info(o, d->sandbox_id, &info);
	sbx_sandbox_get(o, &call, d->sandbox_id, &sb);
	as->min_instances = d->min_instances;
	as->max_instances = d->max_instances;
	as->scale_down_after_minutes = d->scale_down_s / 60;
	if (d->scale_down_s % 60)
		as->scale_down_after_seconds = d->scale_down_s;
	m->deployment_id = strdup(d->obj.id);
	m->sandbox_id = strdup(d->sandbox_id);
	m->status = strdup(status_word(info.state));
	m->created_at = sbx_iso8601(d->obj.created_ms);
	m->last_request_at = sbx_iso8601(last);
	m->runtime = strdup(sb ? sb->runtime : "");
	m->entry_point = strdup(sb ? sb->entry_point : "");
	m->memory_mb = sb ? sb->memory_limit_mb : 0;
	m->dev_server = sb ? sb->dev_server : false;
	m->restarts = info.starts > 1 ? info.starts - 1 : 0;
	m->note = strdup(scaled_down && info.state == SBX_SERVICE_STOPPED
				 ? "scaled to zero: the next request starts it"
				 : info.note);
	if (asprintf(&m->url, "/faas/%s/", d->obj.id) < 0)
		m->url = NULL;
	if (sb)
		protobuf_c_message_free_unpacked(&sb->base, NULL);
	if (!m->deployment_id || !m->sandbox_id || !m->status || !m->created_at ||
	    !m->last_request_at || !m->runtime || !m->entry_point || !m->note || !m->url) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return NULL;
	}
	return m;
}

static int check_deploy(struct sbx_objects *o, struct sbx_rpc_call *call,
			const Sbx__DeployRequest *req)
{
	const Sbx__AutoScale *as = req->auto_scale;

	if (!as)
		return 0;
	if (as->max_instances && as->max_instances < as->min_instances)
		return sbx_rpc_error(call, -EINVAL,
				     "auto_scale.max_instances (%u) is below min_instances (%u)",
				     as->max_instances, as->min_instances);
	if (as->max_instances > o->cfg->max_deployments)
		return sbx_rpc_error(call, -EINVAL, "auto_scale.max_instances must be at most %u",
				     o->cfg->max_deployments);
	if (as->scale_down_after_minutes > 100000 || as->scale_down_after_seconds > 6000000)
		return sbx_rpc_error(call, -EINVAL,
				     "auto_scale.scale_down_after_minutes is too large");
	return 0;
}

int sbx_deployment_create(struct sbx_objects *o, struct sbx_rpc_call *call,
			  const Sbx__DeployRequest *req, Sbx__Deployment **ret)
{
	Sbx__CreateSandboxRequest creq = SBX__CREATE_SANDBOX_REQUEST__INIT;
	const Sbx__AutoScale *as = req->auto_scale;
	struct sbx_deployment *d;
	Sbx__Sandbox *sb = NULL;
	_cleanup_free_ char *sock = NULL;
	int r;

	r = check_deploy(o, call, req);
	if (r < 0)
		return r;
	d = deployment_alloc();
	if (!d)
		return -ENOMEM;
	sbx_obj_init(&d->obj, &deployment_type);
	d->obj.created_ms = d->last_request_ms = sbx_now_ms();
	d->min_instances = as ? as->min_instances : 1;
	d->max_instances = as && as->max_instances ? as->max_instances : 1;
	d->o = o;
	d->scale_down_s = as && as->scale_down_after_seconds ? as->scale_down_after_seconds
			  : as && as->scale_down_after_minutes
				  ? as->scale_down_after_minutes * 60
				  : o->cfg->scale_down_after_minutes * 60;
	r = sbx_registry_add(o->deployments, &d->obj);
	if (r < 0) {
		sbx_obj_unref(&d->obj);
		return r == -EAGAIN
			       ? sbx_rpc_error(call, -EAGAIN, "too many deployments (limit %u)",
					       sbx_registry_max(o->deployments))
			       : r;
	}
	creq.runtime = req->runtime;
	creq.code = req->code;
	creq.entry_point = req->entry_point;
	creq.memory_limit_mb = req->memory_limit_mb;
	creq.n_env_vars = req->n_env_vars;
	creq.env_vars = (Sbx__CreateSandboxRequest__EnvVarsEntry **)req->env_vars;
	creq.n_files = req->n_files;
	creq.files = req->files;
	creq.mode = (char *)"persistent";
	creq.install_deps = true;
	creq.dev_server = req->dev_server;
	/* The sandbox's volume holds the installed packages too. */
	creq.disk_limit_mb = req->disk_limit_mb;
	r = sbx_sandbox_create_owned(o, call, &creq, d->obj.id, &sb);
	if (r == 0 && !(d->sandbox_id = strdup(sb->id)))
		r = -ENOMEM;
	if (r == 0) {
		pthread_mutex_lock(&d->lock);
		r = save_locked(o, d);
		pthread_mutex_unlock(&d->lock);
	}
	if (sb)
		protobuf_c_message_free_unpacked(&sb->base, NULL);
	if (r < 0) {
		struct sbx_rpc_call scratch = {.method = "Deploy"};

		if (d->sandbox_id)
			sbx_sandbox_delete_owned(o, &scratch, d->sandbox_id);
		if (sbx_registry_unlink(o->deployments, &d->obj))
			sbx_obj_unref(&d->obj);
		sbx_obj_unref(&d->obj);
		return r;
	}
	sbx_log(SBX_LOG_INFO, d->obj.id, "deployment created (sandbox %s)", d->sandbox_id);
	/* Answer once it serves (or could not): a 200 means "curl it now". */
	if (sbx_sandbox_open_proxy(o, call, d->sandbox_id, 0, &sock) < 0)
		call->error[0] = '\0';
	*ret = deployment_reply(o, d);
	sbx_obj_unref(&d->obj);
	return *ret ? 0 : -ENOMEM;
}

static struct sbx_deployment *lookup(struct sbx_objects *o, struct sbx_rpc_call *call,
				     const char *id)
{
	return (struct sbx_deployment *)sbx_objects_lookup(o->deployments, "deployment", "id",
							    call, id, NULL);
}

static int lookup_error(const char *id)
{
	return !id || !*id ? -EINVAL : -ENOENT;
}

int sbx_deployment_get(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		       Sbx__Deployment **ret)
{
	struct sbx_deployment *d = lookup(o, call, id);

	if (!d)
		return lookup_error(id);
	*ret = deployment_reply(o, d);
	sbx_obj_unref(&d->obj);
	return *ret ? 0 : -ENOMEM;
}

static ProtobufCMessage *deployment_item(struct sbx_obj *obj)
{
	struct sbx_deployment *d = (struct sbx_deployment *)obj;
	Sbx__Deployment *m = deployment_reply(d->o, d);

	return m ? &m->base : NULL;
}

int sbx_deployment_list(struct sbx_objects *o, struct sbx_rpc_call *call,
			Sbx__ListDeploymentsReply **ret)
{
	(void)call;
	return sbx_objects_list(o->deployments, &sbx__list_deployments_reply__descriptor,
				"deployments", deployment_item, (ProtobufCMessage **)ret);
}

int sbx_deployment_delete(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id)
{
	struct sbx_deployment *d;
	struct sbx_obj *obj;
	int r;

	if (!id || !*id)
		return sbx_rpc_error(call, -EINVAL, "field 'id' is required");
	if (sbx_registry_remove(o->deployments, id, &obj) < 0)
		return sbx_rpc_error(call, -ENOENT, "deployment '%.64s' not found", id);
	d = (struct sbx_deployment *)obj;
	pthread_mutex_lock(&d->lock);
	d->deleted = true;
	sbx_store_delete_deployment(o->store, d->obj.id);
	pthread_mutex_unlock(&d->lock);
	r = sbx_sandbox_delete_owned(o, call, d->sandbox_id);
	if (r == -ENOENT) {
		call->error[0] = '\0';
		r = 0;
	}
	sbx_log(SBX_LOG_INFO, d->obj.id, "deployment deleted");
	sbx_obj_unref(&d->obj);
	return r;
}

int sbx_deployment_update_files(struct sbx_objects *o, struct sbx_rpc_call *call,
				const Sbx__UpdateDeploymentFilesRequest *req,
				Sbx__UpdateDeploymentFilesReply **ret)
{
	struct sbx_deployment *d;
	Sbx__UpdateDeploymentFilesReply *m;
	bool package_json = false;
	int r;

	if (req->n_files == 0)
		return sbx_rpc_error(call, -EINVAL, "field 'files' must hold at least one file");
	d = lookup(o, call, req->id);
	if (!d)
		return lookup_error(req->id);
	r = sbx_sandbox_write_files(o, call, d->sandbox_id, req->files, req->n_files,
				    &package_json);
	/* A new package.json needs an install, which only a start does. */
	if (r == 0 && (req->restart_dev_server || package_json)) {
		pthread_mutex_lock(&d->lock);
		d->scaled_down = false;
		save_locked(o, d);
		pthread_mutex_unlock(&d->lock);
		r = sbx_sandbox_restart(o, call, d->sandbox_id);
	}
	m = r == 0 ? (Sbx__UpdateDeploymentFilesReply *)sbx_message_new(
			     &sbx__update_deployment_files_reply__descriptor)
		   : NULL;
	if (m) {
		m->message = strdup(req->restart_dev_server || package_json
					    ? "Files updated; the service restarts"
					    : "Files updated");
		m->deployment_id = strdup(d->obj.id);
		m->files_written = (uint32_t)req->n_files;
		if (!m->message || !m->deployment_id) {
			protobuf_c_message_free_unpacked(&m->base, NULL);
			m = NULL;
		}
	}
	sbx_obj_unref(&d->obj);
	if (r < 0)
		return r;
	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}

int sbx_deployment_open_proxy(struct sbx_objects *o, struct sbx_rpc_call *call,
			      const Sbx__OpenProxyRequest *req, Sbx__OpenProxyReply **ret)
{
	_cleanup_free_ char *sock = NULL;
	_cleanup_free_ char *target = NULL;
	Sbx__OpenProxyReply *m;
	int r;

	if (!req->kind || !*req->kind || strcmp(req->kind, "faas") == 0) {
		struct sbx_deployment *d = lookup(o, call, req->id);

		if (!d)
			return lookup_error(req->id);
		pthread_mutex_lock(&d->lock);
		d->last_request_ms = sbx_now_ms();
		if (d->scaled_down) {
			d->scaled_down = false;
			save_locked(o, d);
			sbx_log(SBX_LOG_INFO, d->obj.id, "woken by a request");
		}
		pthread_mutex_unlock(&d->lock);
		target = strdup(d->sandbox_id);
		sbx_obj_unref(&d->obj);
	} else if (strcmp(req->kind, "proxy") == 0) {
		target = strdup(req->id ? req->id : "");
	} else {
		return sbx_rpc_error(call, -EINVAL, "field 'kind' must be 'faas' or 'proxy'");
	}
	if (!target)
		return -ENOMEM;
	r = sbx_sandbox_open_proxy(o, call, target, req->wait_ms, &sock);
	if (r < 0)
		return r;
	m = (Sbx__OpenProxyReply *)sbx_message_new(&sbx__open_proxy_reply__descriptor);
	if (!m)
		return -ENOMEM;
	m->socket_path = TAKE_PTR(sock);
	m->target_id = strdup(req->id ? req->id : "");
	if (!m->target_id) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

static int load_one(void *arg, const struct sbx_store_deployment *rec)
{
	struct sbx_objects *o = arg;
	struct sbx_deployment *d = deployment_alloc();
	int r;

	if (!d)
		return -ENOMEM;
	if (sbx_obj_init_id(&d->obj, &deployment_type, rec->id) < 0) {
		log_warn("state store: ignoring a deployment with a bad id '%.64s'", rec->id);
		free(d);
		return 0;
	}
	d->sandbox_id = strdup(rec->sandbox_id);
	d->obj.created_ms = rec->created_ms;
	d->last_request_ms = rec->last_request_ms;
	d->min_instances = rec->min_instances;
	d->max_instances = rec->max_instances;
	d->o = o;
	d->scale_down_s = rec->scale_down_s;
	d->scaled_down = rec->scaled_down;
	if (!d->sandbox_id) {
		sbx_obj_unref(&d->obj);
		return -ENOMEM;
	}
	if (sbx_sandbox_set_owned(o, d->sandbox_id, d->obj.id) < 0)
		sbx_log(SBX_LOG_WARN, d->obj.id, "its sandbox %s is gone", d->sandbox_id);
	r = sbx_registry_restore(o->deployments, &d->obj);
	sbx_obj_unref(&d->obj);
	return r;
}

int sbx_deployments_load(struct sbx_objects *o)
{
	return sbx_store_each_deployment(o->store, load_one, o);
}

void sbx_deployments_sweep(struct sbx_objects *o, int64_t now_ms)
{
	struct sbx_obj **list;
	size_t n;

	if (sbx_registry_list(o->deployments, &list, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct sbx_deployment *d = (struct sbx_deployment *)list[i];
		struct sbx_service_info info;
		bool idle;

		if (d->min_instances > 0 || sbx_sandbox_service_info(o, d->sandbox_id, &info) < 0 ||
		    info.state == SBX_SERVICE_STOPPED || info.state == SBX_SERVICE_EXITED)
			continue;
		/* Requests on connections the gateway keeps count too. */
		pthread_mutex_lock(&d->lock);
		if (info.last_activity_ms > d->last_request_ms)
			d->last_request_ms = info.last_activity_ms;
		idle = !d->deleted && now_ms - d->last_request_ms > (int64_t)d->scale_down_s * 1000;
		pthread_mutex_unlock(&d->lock);
		if (!idle)
			continue;
		sbx_log(SBX_LOG_INFO, d->obj.id, "idle for %us: scaling to zero", d->scale_down_s);
		sbx_sandbox_stop(o, d->sandbox_id);
		pthread_mutex_lock(&d->lock);
		d->scaled_down = true;
		save_locked(o, d);
		pthread_mutex_unlock(&d->lock);
	}
	sbx_registry_list_free(list, n);
}
