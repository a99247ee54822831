/* See deployment.h. */
#include "deployment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "clock.h"
#include "daemon_config.h"
#include "envelope.h"
#include "log.h"
#include "kind.h"
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

	/* Guarded by obj.lock. */
	int64_t last_request_ms;
	Sbx__DeploymentState state; /* changed by transition() alone */
};

#define KIND (&sbx_deployment_kind)

/* The store's status column of each state. */
static const char *const state_words[] = {
	[SBX__DEPLOYMENT_STATE__DEPLOYMENT_ACTIVE] = "active",
	[SBX__DEPLOYMENT_STATE__DEPLOYMENT_SCALED_DOWN] = "scaled_down",
};

static void deployment_free(struct sbx_obj *obj)
{
	struct sbx_deployment *d = (struct sbx_deployment *)obj;

	free(d->sandbox_id);
	free(d);
}

static int deployment_save(struct sbx_obj *obj, struct sbx_store_object *row)
{
	struct sbx_deployment *d = (struct sbx_deployment *)obj;
	Sbx__DeploymentRecord rec = SBX__DEPLOYMENT_RECORD__INIT;

	rec.sandbox_id = d->sandbox_id;
	rec.created_ms = d->obj.created_ms;
	rec.last_request_ms = row->used_ms = d->last_request_ms;
	rec.min_instances = d->min_instances;
	rec.max_instances = d->max_instances;
	rec.scale_down_s = d->scale_down_s;
	rec.state = d->state;
	row->status = state_words[d->state];
	return sbx_objects_pack(&rec.base, row);
}

/* Move d to `to` and write it back; call with d->obj.lock held. */
static void transition(struct sbx_objects *o, struct sbx_deployment *d, Sbx__DeploymentState to)
{
	d->state = to;
	sbx_objects_save_locked(o, &d->obj);
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

static ProtobufCMessage *deployment_reply(struct sbx_obj *obj)
{
	struct sbx_deployment *d = (struct sbx_deployment *)obj;
	struct sbx_objects *o = d->o;
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
	pthread_mutex_lock(&d->obj.lock);
	scaled_down = d->state == SBX__DEPLOYMENT_STATE__DEPLOYMENT_SCALED_DOWN;
	last = d->last_request_ms;
	pthread_mutex_unlock(&d->obj.lock);
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
	return &m->base;
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

/* Its sandbox: persistent, owned by the deployment, started at once. */
static int deployment_setup(struct sbx_obj *obj, struct sbx_rpc_call *call, const void *arg)
{
	struct sbx_deployment *d = (struct sbx_deployment *)obj;
	const Sbx__DeployRequest *req = arg;
	Sbx__CreateSandboxRequest creq = SBX__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__Sandbox *sb = NULL;
	int r;

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
	creq.network = req->network;
	/* The sandbox's volume holds the installed packages too. */
	creq.disk_limit_mb = req->disk_limit_mb;
	r = sbx_sandbox_create_owned(d->o, call, &creq, d->obj.id, &sb);
	if (r == 0 && !(d->sandbox_id = strdup(sb->id)))
		r = -ENOMEM;
	if (sb)
		protobuf_c_message_free_unpacked(&sb->base, NULL);
	return r;
}

/* Its sandbox goes with it. */
static int deployment_forget(struct sbx_obj *obj, struct sbx_rpc_call *call)
{
	struct sbx_deployment *d = (struct sbx_deployment *)obj;
	int r = d->sandbox_id ? sbx_sandbox_delete_owned(d->o, call, d->sandbox_id) : 0;

	if (r == -ENOENT) {
		call->error[0] = '\0';
		r = 0;
	}
	return r;
}

static void deployment_describe(struct sbx_obj *obj, char *buf, size_t len)
{
	snprintf(buf, len, " (sandbox %s)", ((struct sbx_deployment *)obj)->sandbox_id);
}

int sbx_deployment_create(struct sbx_objects *o, struct sbx_rpc_call *call,
			  const Sbx__DeployRequest *req, Sbx__Deployment **ret)
{
	const Sbx__AutoScale *as = req->auto_scale;
	struct sbx_deployment *d;
	_cleanup_free_ char *sock = NULL;
	int r;

	r = check_deploy(o, call, req);
	if (r < 0)
		return r;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	sbx_obj_init(&d->obj, &KIND->type, o->cfg->node_tag);
	d->obj.created_ms = d->last_request_ms = sbx_clock_wall_ms();
	d->min_instances = as ? as->min_instances : 1;
	d->max_instances = as && as->max_instances ? as->max_instances : 1;
	d->o = o;
	d->scale_down_s = as && as->scale_down_after_seconds ? as->scale_down_after_seconds
			  : as && as->scale_down_after_minutes
				  ? as->scale_down_after_minutes * 60
				  : o->cfg->scale_down_after_minutes * 60;
	r = sbx_objects_create(o, &d->obj, call, deployment_setup, req, NULL);
	if (r == 0) {
		/* Answer once it serves (or could not): a 200 means "curl it
		 * now". */
		if (sbx_sandbox_open_proxy(o, call, d->sandbox_id, 0, &sock) < 0)
			call->error[0] = '\0';
		*ret = (Sbx__Deployment *)deployment_reply(&d->obj);
		r = *ret ? 0 : -ENOMEM;
	}
	sbx_obj_unref(&d->obj);
	return r;
}

static struct sbx_deployment *lookup(struct sbx_objects *o, struct sbx_rpc_call *call,
				     const char *id, int *ret_err)
{
	return (struct sbx_deployment *)sbx_objects_get(o, KIND, call, id, ret_err);
}

int sbx_deployment_get(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		       Sbx__Deployment **ret)
{
	return sbx_objects_get_reply(o, KIND, call, id, (ProtobufCMessage **)ret);
}

int sbx_deployment_list(struct sbx_objects *o, struct sbx_rpc_call *call,
			Sbx__ListDeploymentsReply **ret)
{
	(void)call;
	return sbx_objects_list(o, KIND, (ProtobufCMessage **)ret);
}

int sbx_deployment_delete(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id)
{
	return sbx_objects_delete(o, KIND, call, id, NULL);
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
	d = lookup(o, call, req->id, &r);
	if (!d)
		return r;
	r = sbx_sandbox_write_files(o, call, d->sandbox_id, req->files, req->n_files,
				    &package_json);
	/* A new package.json needs an install, which only a start does. */
	if (r == 0 && (req->restart_dev_server || package_json)) {
		pthread_mutex_lock(&d->obj.lock);
		transition(o, d, SBX__DEPLOYMENT_STATE__DEPLOYMENT_ACTIVE);
		pthread_mutex_unlock(&d->obj.lock);
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
		struct sbx_deployment *d = lookup(o, call, req->id, &r);

		if (!d)
			return r;
		pthread_mutex_lock(&d->obj.lock);
		d->last_request_ms = sbx_clock_wall_ms();
		if (d->state == SBX__DEPLOYMENT_STATE__DEPLOYMENT_SCALED_DOWN) {
			transition(o, d, SBX__DEPLOYMENT_STATE__DEPLOYMENT_ACTIVE);
			sbx_log(SBX_LOG_INFO, d->obj.id, "woken by a request");
		}
		pthread_mutex_unlock(&d->obj.lock);
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

static int deployment_load(struct sbx_objects *o, const char *id, const ProtobufCMessage *m,
			   struct sbx_obj **ret, bool *ret_changed)
{
	const Sbx__DeploymentRecord *rec = (const Sbx__DeploymentRecord *)m;
	struct sbx_deployment *d = calloc(1, sizeof(*d));

	(void)ret_changed;
	if (!d)
		return -ENOMEM;
	if (sbx_obj_init_id(&d->obj, &KIND->type, id) < 0) {
		log_warn("state store: ignoring a deployment with a bad id '%.64s'", id);
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
	d->state = rec->state == SBX__DEPLOYMENT_STATE__DEPLOYMENT_SCALED_DOWN
			   ? SBX__DEPLOYMENT_STATE__DEPLOYMENT_SCALED_DOWN
			   : SBX__DEPLOYMENT_STATE__DEPLOYMENT_ACTIVE;
	if (!d->sandbox_id) {
		sbx_obj_unref(&d->obj);
		return -ENOMEM;
	}
	if (sbx_sandbox_set_owned(o, d->sandbox_id, d->obj.id) < 0)
		sbx_log(SBX_LOG_WARN, d->obj.id, "its sandbox %s is gone", d->sandbox_id);
	*ret = &d->obj;
	return 0;
}

/* With min_instances 0, idle longer than scale_down_s: scale to zero. */
static void deployment_tick(struct sbx_objects *o, struct sbx_obj *obj, int64_t now_ms)
{
	struct sbx_deployment *d = (struct sbx_deployment *)obj;
	struct sbx_service_info info;
	bool idle;

	if (d->min_instances > 0 || sbx_sandbox_service_info(o, d->sandbox_id, &info) < 0 ||
	    info.state == SBX_SERVICE_STOPPED || info.state == SBX_SERVICE_EXITED)
		return;
	/* Requests on connections the gateway keeps count too. */
	pthread_mutex_lock(&d->obj.lock);
	if (info.last_activity_ms > d->last_request_ms)
		d->last_request_ms = info.last_activity_ms;
	idle = d->obj.phase == SBX_OBJ_LIVE &&
	       now_ms - d->last_request_ms > (int64_t)d->scale_down_s * 1000;
	pthread_mutex_unlock(&d->obj.lock);
	if (!idle)
		return;
	sbx_log(SBX_LOG_INFO, d->obj.id, "idle for %us: scaling to zero", d->scale_down_s);
	sbx_sandbox_stop(o, d->sandbox_id);
	pthread_mutex_lock(&d->obj.lock);
	transition(o, d, SBX__DEPLOYMENT_STATE__DEPLOYMENT_SCALED_DOWN);
	pthread_mutex_unlock(&d->obj.lock);
}

const struct sbx_kind sbx_deployment_kind = {
	.type = {"deployment", deployment_free},
	.plural = "deployments",
	.id_field = "id",
	.registry = offsetof(struct sbx_objects, deployments),
	.list = &sbx__list_deployments_reply__descriptor,
	.list_field = "deployments",
	.record = &sbx__deployment_record__descriptor,
	.save = deployment_save,
	.load = deployment_load,
	.reply = deployment_reply,
	.forget = deployment_forget,
	.tick = deployment_tick,
	.describe = deployment_describe,
};
