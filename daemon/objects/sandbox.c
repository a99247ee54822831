#include "sandbox_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "daemon_config.h"
#include "env.h"
#include "envelope.h"
#include "executor.h"
#include "files.h"
#include "imports.h"
#include "log.h"
#include "registry.h"
#include "service.h"
#include "store.h"

/* Limits of the dependency installation phase (npm/bun install): it
 * downloads, so it gets more time and memory than a run, within the
 * configured maxima. */
#define INSTALL_WALL_MS 300000u
#define INSTALL_MEMORY_MB 1024u


static void sandbox_free(struct sbx_obj *obj)
{
	struct sbx_sandbox *s = (struct sbx_sandbox *)obj;

	/* Its process first: it uses the workspace and calls back into s. */
	if (s->svc) {
		sbx_service_free(s->svc);
		pthread_mutex_lock(&s->o->lock);
		s->o->services--;
		pthread_mutex_unlock(&s->o->lock);
	}
	/* The last reference unmounts the volume, and a deleted sandbox's
	 * takes its files along: never earlier, an execution may still be
	 * using them. */
	sbx_objects_dirs_release(s->obj.id, s->dir, s->deleted);
	free(s->runtime);
	free(s->mode);
	free(s->entry_point);
	sbx_env_fini(&s->env);
	free(s->dir);
	free(s->workspace);
	free(s->note);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct sbx_obj_type sandbox_type = {"sandbox", sandbox_free};

static struct sbx_sandbox *sandbox_alloc(void)
{
	struct sbx_sandbox *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->status, sizeof(s->status), "created");
	return s;
}

void sbx_sandbox_set_status(struct sbx_sandbox *s, const char *status, const char *note)
{
	snprintf(s->status, sizeof(s->status), "%s", status);
	free(s->note);
	s->note = note ? strdup(note) : NULL;
}

/* Write the sandbox's row; call with s->lock held. A deleted sandbox is
 * not written back. */
int sbx_sandbox_save_locked(struct sbx_objects *o, struct sbx_sandbox *s)
{
	_cleanup_free_ char *env = NULL;
	struct sbx_store_sandbox rec = {
		.id = s->obj.id,
		.status = s->status,
		.runtime = s->runtime,
		.mode = s->mode,
		.entry_point = s->entry_point,
		.note = s->note ? s->note : "",
		.created_ms = s->obj.created_ms,
		.last_used_ms = s->last_used_ms,
		.timeout_ms = s->timeout_ms,
		.memory_limit_mb = s->memory_limit_mb,
		.executions = s->executions,
		.exit_code = s->exit_code,
		.install_deps = s->install_deps,
		.dev_server = s->dev_server,
		.deps_installed = s->deps_installed,
	};
	int r;

	if (s->deleted)
		return 0;
	r = sbx_env_pack(&s->env, &env, &rec.env_len);
	if (r < 0)
		return r;
	rec.env = env;
	return sbx_store_put_sandbox(o->store, &rec);
}

static Sbx__Sandbox *sandbox_reply(struct sbx_sandbox *s)
{
	Sbx__Sandbox *m = (Sbx__Sandbox *)sbx_message_new(&sbx__sandbox__descriptor);

	if (!m)
		return NULL;
	pthread_mutex_lock(&s->lock);
	m->id = strdup(s->obj.id);
	m->status = strdup(s->status);
	m->runtime = strdup(s->runtime);
	m->created_at = sbx_iso8601(s->obj.created_ms);
	m->last_used_at = sbx_iso8601(s->last_used_ms);
	m->mode = strdup(s->mode);
	m->entry_point = strdup(s->entry_point);
	m->note = strdup(s->note ? s->note : "");
	m->timeout_ms = s->timeout_ms;
	m->memory_limit_mb = s->memory_limit_mb;
	m->dev_server = s->dev_server;
	m->install_deps = s->install_deps;
	m->executions = s->executions;
	m->exit_code = s->exit_code;
	pthread_mutex_unlock(&s->lock);
	if (!m->id || !m->status || !m->runtime || !m->created_at || !m->last_used_at || !m->mode ||
	    !m->entry_point || !m->note) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return NULL;
	}
	return m;
}

/* A whitespace in entry_point makes it a command ("bun dev", "npm start"),
 * run by /bin/sh -c in the workspace; otherwise it is a file to run with
 * the runtime ("index.js", "src/server.ts"). */
static bool entry_is_command(const char *ep)
{
	for (const char *c = ep; *c; c++)
		if (isspace((unsigned char)*c))
			return true;
	return false;
}

static bool is_persistent(const char *mode)
{
	return mode && strcmp(mode, "persistent") == 0;
}

static int check_create(struct sbx_objects *o, struct sbx_rpc_call *call,
			const Sbx__CreateSandboxRequest *req, const struct sbx_runtime **ret_rt)
{
	const struct sbx_config *c = o->cfg;
	struct sbx_runtimes *rts = sbx_executor_runtimes(o->exec);
	const struct sbx_runtime *rt;
	Sbx__File ep = SBX__FILE__INIT, *epv[1] = {&ep};
	int r;

	if (!req->runtime || !*req->runtime)
		return sbx_rpc_error(call, -EINVAL, "field 'runtime' is required (one of: %s)",
				     sbx_runtimes_names(rts));
	if ((r = sbx_executor_check_language(o->exec, call, req->runtime, NULL)) < 0)
		return r;
	rt = sbx_runtimes_find(rts, req->runtime);
	if (!rt)
		return sbx_rpc_error(call, -EINVAL, "unsupported runtime '%.64s' (supported: %s)",
				     req->runtime, sbx_runtimes_names(rts));
	if ((!req->code || !*req->code) && (!req->entry_point || !*req->entry_point))
		return sbx_rpc_error(call, -EINVAL,
				     "field 'code' is required (or an 'entry_point')");
	if (req->mode && *req->mode && strcmp(req->mode, "oneshot") != 0 &&
	    strcmp(req->mode, "persistent") != 0)
		return sbx_rpc_error(call, -EINVAL,
				     "field 'mode' must be 'oneshot' or 'persistent', not '%.32s'",
				     req->mode);
	if (req->dev_server && !is_persistent(req->mode))
		return sbx_rpc_error(call, -EINVAL,
				     "field 'dev_server' needs 'mode': 'persistent' (a dev server "
				     "keeps running)");
	if (req->timeout_ms > (uint64_t)c->max_execution_time_s * 1000)
		return sbx_rpc_error(call, -EINVAL, "field 'timeout_ms' must be at most %llu",
				     (unsigned long long)c->max_execution_time_s * 1000);
	if (req->memory_limit_mb > c->max_memory_mb)
		return sbx_rpc_error(call, -EINVAL, "field 'memory_limit_mb' must be at most %u",
				     c->max_memory_mb);
	if (req->code && strlen(req->code) > c->max_upload_bytes)
		return sbx_rpc_error(call, -EINVAL, "field 'code' is larger than %u bytes",
				     c->max_upload_bytes);
	if (req->entry_point && strlen(req->entry_point) > SBX_FILE_PATH_MAX)
		return sbx_rpc_error(call, -EINVAL, "field 'entry_point' is longer than %d bytes",
				     SBX_FILE_PATH_MAX);
	if (req->entry_point && *req->entry_point && !entry_is_command(req->entry_point)) {
		ep.path = req->entry_point;
		r = sbx_files_check(epv, 1, 1, UINT64_MAX, call);
		if (r < 0)
			return r;
	}
	r = sbx_files_check(req->files, req->n_files, c->max_files, c->max_upload_bytes, call);
	if (r < 0)
		return r;
	*ret_rt = rt;
	return 0;
}

/* The code goes to the entry point's file, else the runtime's source file;
 * request files come after it, so a file of the same name wins (FaaS-style
 * requests ship the real index.ts as a file). */
static int write_initial_files(struct sbx_sandbox *s, const struct sbx_runtime *rt,
			       const Sbx__CreateSandboxRequest *req, struct sbx_rpc_call *call)
{
	Sbx__File code = SBX__FILE__INIT, *cv[1] = {&code};
	int r;

	if (req->code && *req->code) {
		code.path = *s->entry_point && !entry_is_command(s->entry_point)
				    ? s->entry_point
				    : (char *)rt->source;
		code.content.data = (uint8_t *)req->code;
		code.content.len = strlen(req->code);
		r = sbx_files_write(s->workspace, cv, 1, call);
		if (r < 0)
			return r;
	}
	return sbx_files_write(s->workspace, req->files, req->n_files, call);
}

int sbx_sandbox_create(struct sbx_objects *o, struct sbx_rpc_call *call,
		       const Sbx__CreateSandboxRequest *req, Sbx__Sandbox **ret)
{
	return sbx_sandbox_create_owned(o, call, req, NULL, ret);
}

int sbx_sandbox_create_owned(struct sbx_objects *o, struct sbx_rpc_call *call,
			     const Sbx__CreateSandboxRequest *req, const char *owner,
			     Sbx__Sandbox **ret)
{
	const struct sbx_runtime *rt = NULL;
	struct sbx_sandbox *s;
	uint32_t disk_mb = 0;
	int r;

	r = check_create(o, call, req, &rt);
	if (r == 0)
		r = sbx_objects_disk_limit(o, call, req->disk_limit_mb, &disk_mb);
	if (r < 0)
		return r;
	s = sandbox_alloc();
	if (!s)
		return -ENOMEM;
	sbx_obj_init(&s->obj, &sandbox_type);
	s->o = o;
	s->owned = owner != NULL;
	snprintf(s->owner, sizeof(s->owner), "%s", owner ? owner : "");
	s->dev_server = req->dev_server;
	s->runtime = strdup(rt->name);
	s->mode = strdup(is_persistent(req->mode) ? "persistent" : "oneshot");
	s->entry_point = strdup(req->entry_point ? req->entry_point : "");
	s->timeout_ms = req->timeout_ms ? req->timeout_ms : o->cfg->default_timeout_ms;
	s->memory_limit_mb =
		req->memory_limit_mb ? req->memory_limit_mb : o->cfg->default_memory_limit_mb;
	s->install_deps = req->install_deps;
	s->obj.created_ms = s->last_used_ms = sbx_now_ms();
	if (!s->runtime || !s->mode || !s->entry_point) {
		sbx_obj_unref(&s->obj);
		return -ENOMEM;
	}
	r = sbx_env_merge(&s->env, (void *const *)req->env_vars, req->n_env_vars, call);
	if (r < 0) {
		sbx_obj_unref(&s->obj);
		return r;
	}
	r = sbx_registry_add(o->sandboxes, &s->obj);
	if (r < 0) {
		sbx_obj_unref(&s->obj);
		return r == -EAGAIN ? sbx_rpc_error(call, -EAGAIN, "too many sandboxes (limit %u)",
						    sbx_registry_max(o->sandboxes))
				    : r;
	}
	/* From here on, a failure deletes the sandbox and its directory. */
	s->deleted = true;
	r = sbx_objects_mkdirs(o, o->sandboxes_dir, s->obj.id, disk_mb, &s->dir, &s->workspace,
			       NULL);
	if (r == 0)
		r = write_initial_files(s, rt, req, call);
	if (r == 0 && is_persistent(s->mode))
		r = sbx_sandbox_service_attach(o, s, call);
	/* A persistent sandbox starts at once (a failure below stops it with
	 * the last reference). "running" is set first: a process that ends
	 * at once then leaves its own status, not ours. */
	if (r == 0 && s->svc) {
		pthread_mutex_lock(&s->lock);
		sbx_sandbox_set_status(s, "running", NULL);
		pthread_mutex_unlock(&s->lock);
		if (sbx_service_start(s->svc) < 0) {
			pthread_mutex_lock(&s->lock);
			sbx_sandbox_set_status(s, "failed", "its process could not be started");
			pthread_mutex_unlock(&s->lock);
		}
	}
	if (r == 0) {
		pthread_mutex_lock(&s->lock);
		s->deleted = false;
		r = sbx_sandbox_save_locked(o, s);
		s->deleted = r < 0;
		pthread_mutex_unlock(&s->lock);
	}
	if (r == 0 && !(*ret = sandbox_reply(s)))
		r = -ENOMEM;
	if (r < 0) {
		pthread_mutex_lock(&s->lock);
		if (!s->deleted)
			sbx_store_delete_sandbox(o->store, s->obj.id);
		s->deleted = true;
		pthread_mutex_unlock(&s->lock);
		if (sbx_registry_unlink(o->sandboxes, &s->obj))
			sbx_obj_unref(&s->obj);
		sbx_obj_unref(&s->obj);
		return r;
	}
	sbx_store_counter_add(o->store, "sandboxes_created", 1, NULL);
	sbx_log(SBX_LOG_INFO, s->obj.id, "sandbox created (%s, %s)", s->runtime, s->mode);
	sbx_obj_unref(&s->obj);
	return 0;
}

struct sbx_sandbox *sbx_sandbox_lookup(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id)
{
	return (struct sbx_sandbox *)sbx_objects_lookup(o->sandboxes, "sandbox", "id", call, id,
							 NULL);
}

int sbx_sandbox_lookup_error(const char *id)
{
	return !id || !*id ? -EINVAL : -ENOENT;
}

int sbx_sandbox_get(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		    Sbx__Sandbox **ret)
{
	struct sbx_sandbox *s = sbx_sandbox_lookup(o, call, id);
	Sbx__Sandbox *m;

	if (!s)
		return sbx_sandbox_lookup_error(id);
	m = sandbox_reply(s);
	sbx_obj_unref(&s->obj);
	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}


static ProtobufCMessage *sandbox_item(struct sbx_obj *obj)
{
	Sbx__Sandbox *m = sandbox_reply((struct sbx_sandbox *)obj);

	return m ? &m->base : NULL;
}

int sbx_sandbox_list(struct sbx_objects *o, struct sbx_rpc_call *call,
		     Sbx__ListSandboxesReply **ret)
{
	(void)call;
	return sbx_objects_list(o->sandboxes, &sbx__list_sandboxes_reply__descriptor,
				"sandboxes", sandbox_item, (ProtobufCMessage **)ret);
}

/* Unlink s (already removed from the registry, whose reference the caller
 * holds) from the store; its files go with the last reference. */
static void forget(struct sbx_objects *o, struct sbx_sandbox *s, const char *why)
{
	pthread_mutex_lock(&s->lock);
	s->deleted = true;
	sbx_store_delete_sandbox(o->store, s->obj.id);
	pthread_mutex_unlock(&s->lock);
	sbx_log(SBX_LOG_INFO, s->obj.id, "sandbox deleted (%s)", why);
	sbx_obj_unref(&s->obj);
}

static int delete_sandbox(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
			  bool owner)
{
	struct sbx_sandbox *s;
	bool unlinked;

	if (!id || !*id)
		return sbx_rpc_error(call, -EINVAL, "field 'id' is required");
	s = sbx_sandbox_lookup(o, call, id);
	if (!s)
		return -ENOENT;
	if (s->owned && !owner) {
		sbx_obj_unref(&s->obj);
		return sbx_rpc_error(call, -EBUSY,
				     "sandbox '%.64s' belongs to a deployment: delete the deployment",
				     id);
	}
	unlinked = sbx_registry_unlink(o->sandboxes, &s->obj);
	if (!unlinked) {
		sbx_obj_unref(&s->obj);
		return sbx_rpc_error(call, -ENOENT, "sandbox '%.64s' not found", id);
	}
	/* The registry's reference goes in forget(), ours here. */
	forget(o, s, "by request");
	sbx_obj_unref(&s->obj);
	return 0;
}

int sbx_sandbox_delete(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id)
{
	return delete_sandbox(o, call, id, false);
}

int sbx_sandbox_delete_owned(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id)
{
	return delete_sandbox(o, call, id, true);
}

int sbx_sandbox_set_owned(struct sbx_objects *o, const char *id, const char *owner)
{
	struct sbx_obj *obj = sbx_registry_get(o->sandboxes, id);
	struct sbx_sandbox *s = (struct sbx_sandbox *)obj;

	if (!obj)
		return -ENOENT;
	s->owned = true;
	snprintf(s->owner, sizeof(s->owner), "%s", owner);
	sbx_obj_unref(obj);
	return 0;
}

int sbx_sandbox_upload(struct sbx_objects *o, struct sbx_rpc_call *call,
		       const Sbx__UploadFilesRequest *req, Sbx__UploadFilesReply **ret)
{
	struct sbx_sandbox *s;
	Sbx__UploadFilesReply *m;
	int r;

	if (req->n_files == 0)
		return sbx_rpc_error(call, -EINVAL, "field 'files' must hold at least one file");
	r = sbx_files_check(req->files, req->n_files, o->cfg->max_files, o->cfg->max_upload_bytes,
			    call);
	if (r < 0)
		return r;
	s = sbx_sandbox_lookup(o, call, req->id);
	if (!s)
		return sbx_sandbox_lookup_error(req->id);
	r = sbx_files_write(s->workspace, req->files, req->n_files, call);
	if (r == 0) {
		pthread_mutex_lock(&s->lock);
		s->last_used_ms = sbx_now_ms();
		r = sbx_sandbox_save_locked(o, s);
		pthread_mutex_unlock(&s->lock);
	}
	m = r == 0 ? (Sbx__UploadFilesReply *)sbx_message_new(&sbx__upload_files_reply__descriptor)
		   : NULL;
	if (m && (!(m->message = strdup("Files uploaded successfully")) ||
		  !(m->sandbox_id = strdup(s->obj.id)))) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		m = NULL;
	}
	sbx_obj_unref(&s->obj);
	if (r < 0)
		return r;
	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}

/* argv with every element equal to rt->source replaced by `file`. */
static size_t runtime_argv(const char *const *tmpl, const struct sbx_runtime *rt, const char *file,
			   const char **out)
{
	size_t n = 0;

	for (; n < SBX_RT_ARGV_MAX && tmpl[n]; n++)
		out[n] = *file && strcmp(tmpl[n], rt->source) == 0 ? file : tmpl[n];
	out[n] = NULL;
	return n;
}

/* npm/bun install in the workspace, with the network, once: what
 * package.json declares, then what the sources import without declaring
 * (imports.h). 0 and *ret NULL when it succeeded (or was not needed); 0
 * and *ret the failed result otherwise. */
int sbx_sandbox_install(struct sbx_objects *o, struct sbx_rpc_call *call, struct sbx_sandbox *s,
			 Sbx__ExecResult **ret)
{
	/* The names come as "$@", never through the shell's parser. */
	static const char npm[] = "{ [ ! -f package.json ] || npm install --no-audit --no-fund; } && "
				  "{ [ $# -eq 0 ] || npm install --no-audit --no-fund \"$@\"; }";
	static const char bun[] = "{ [ ! -f package.json ] || bun install; } && "
				  "{ [ $# -eq 0 ] || bun add \"$@\"; }";
	const struct sbx_config *c = o->cfg;
	bool use_npm = strcmp(s->runtime, "node") == 0;
	const char *argv[4 + SBX_IMPORTS_MAX] = {"/bin/sh", "-c", use_npm ? npm : bun, "install"};
	char **missing = NULL;
	size_t n_missing = 0;
	Sbx__Limits l = SBX__LIMITS__INIT;
	Sbx__ExecResult *res = NULL;
	struct sbx_exec_spec spec = {
		.argv = argv,
		.n_argv = 4,
		.env = (const char *const *)s->env.v,
		.n_env = s->env.n,
		.limits = &l,
		.workspace = s->workspace,
		.network = true,
		.kind = "install",
		.object_id = s->obj.id,
		.language = s->runtime,
	};
	int r;

	*ret = NULL;
	r = sbx_imports_missing(s->workspace, &missing, &n_missing);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_missing; i++)
		argv[spec.n_argv++] = missing[i];
	if (!sbx_files_exists(s->workspace, "package.json") && n_missing == 0) {
		sbx_imports_free(missing, n_missing);
		return 0; /* nothing to install */
	}
	if (n_missing)
		sbx_log(SBX_LOG_INFO, s->obj.id, "installing %zu imported package(s) not in package.json",
			n_missing);
	l.has_wall_time_ms = true;
	l.wall_time_ms = INSTALL_WALL_MS < (uint64_t)c->max_execution_time_s * 1000
				 ? INSTALL_WALL_MS
				 : (uint64_t)c->max_execution_time_s * 1000;
	l.has_memory_kb = true;
	l.memory_kb = (uint64_t)(INSTALL_MEMORY_MB < c->max_memory_mb ? INSTALL_MEMORY_MB
								      : c->max_memory_mb) *
		      1024;
	l.has_pids = true;
	l.pids = 512;
	l.has_nofile = true;
	l.nofile = 4096;
	r = sbx_executor_spawn(o->exec, call, &spec, &res);
	sbx_imports_free(missing, n_missing);
	if (r < 0)
		return r;
	if (res->status == SBX__EXEC_STATUS__EXEC_STATUS_OK && res->exit_code == 0) {
		sbx__exec_result__free_unpacked(res, NULL);
		return 0;
	}
	*ret = res;
	return 0;
}

/* Run the entry point: once (oneshot, netns_fd -1), or as the sandbox's
 * service in its namespace (persistent). */
int sbx_sandbox_run(struct sbx_objects *o, struct sbx_rpc_call *call, struct sbx_sandbox *s,
		     int netns_fd, Sbx__ExecResult **ret)
{
	struct sbx_runtimes *rts = sbx_executor_runtimes(o->exec);
	const struct sbx_runtime *rt = sbx_runtimes_find(rts, s->runtime);
	const char *argv[SBX_RT_ARGV_MAX + 1], *compile[SBX_RT_ARGV_MAX + 1];
	const char *file = s->entry_point;
	Sbx__Limits l = SBX__LIMITS__INIT;
	struct sbx_exec_spec spec = {
		.argv = argv,
		.env = (const char *const *)s->env.v,
		.n_env = s->env.n,
		.limits = &l,
		.workspace = s->workspace,
		.kind = netns_fd >= 0 ? "service" : "sandbox",
		.object_id = s->obj.id,
		.language = s->runtime,
		.service = netns_fd >= 0,
		.netns_fd = netns_fd,
		.log_id = s->owner[0] ? s->owner : NULL,
	};

	int r = sbx_executor_check_language(o->exec, call, s->runtime, NULL);

	if (r < 0)
		return r;
	if (!rt)
		return sbx_rpc_error(call, -EBUSY, "runtime '%s' is no longer installed",
				     s->runtime);
	l.has_wall_time_ms = true;
	l.wall_time_ms = s->timeout_ms;
	l.has_memory_kb = true;
	l.memory_kb = (uint64_t)s->memory_limit_mb * 1024;
	if (*file && entry_is_command(file)) {
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = file;
		spec.n_argv = 3;
	} else {
		spec.n_argv = runtime_argv(rt->run, rt, file, argv);
		spec.n_compile = runtime_argv(rt->compile, rt, file, compile);
		spec.compile = spec.n_compile ? compile : NULL;
		spec.compile_limits = &rt->compile_limits;
	}
	return sbx_executor_spawn(o->exec, call, &spec, ret);
}

Sbx__SandboxExecution *sbx_sandbox_execution_reply(const char *id, Sbx__ExecResult *res)
{
	Sbx__SandboxExecution *m =
		(Sbx__SandboxExecution *)sbx_message_new(&sbx__sandbox_execution__descriptor);

	if (!m)
		return NULL;
	m->sandbox_id = strdup(id);
	m->execution_id = strdup(res->execution_id ? res->execution_id : "");
	m->error = strdup(res->error ? res->error : "");
	if (!m->sandbox_id || !m->execution_id || !m->error) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return NULL;
	}
	m->success = res->status == SBX__EXEC_STATUS__EXEC_STATUS_OK && res->exit_code == 0;
	m->status = sbx_exec_status_shown(res->status);
	m->exit_code = res->exit_code;
	m->execution_time_ms = res->wall_time_ms;
	/* The output moves over instead of being copied. */
	m->stdout = res->stdout;
	m->stderr = res->stderr;
	res->stdout = (ProtobufCBinaryData){0};
	res->stderr = (ProtobufCBinaryData){0};
	return m;
}

int sbx_sandbox_execute(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
			Sbx__SandboxExecution **ret)
{
	struct sbx_sandbox *s = sbx_sandbox_lookup(o, call, id);
	Sbx__ExecResult *res = NULL;
	Sbx__SandboxExecution *m = NULL;
	int64_t started = sbx_now_ms();
	_cleanup_free_ char *prev_note = NULL;
	char prev_status[16];
	bool install;
	int r;

	if (!s)
		return sbx_sandbox_lookup_error(id);
	if (s->svc) {
		r = sbx_sandbox_persistent_execute(call, s, ret);
		sbx_obj_unref(&s->obj);
		return r;
	}
	pthread_mutex_lock(&s->lock);
	if (s->running || s->deleted) {
		r = s->deleted ? sbx_rpc_error(call, -ENOENT, "sandbox '%s' not found", id)
			       : sbx_rpc_error(call, -EBUSY, "sandbox '%s' is already running", id);
		pthread_mutex_unlock(&s->lock);
		sbx_obj_unref(&s->obj);
		return r;
	}
	snprintf(prev_status, sizeof(prev_status), "%s", s->status);
	prev_note = s->note ? strdup(s->note) : NULL;
	s->running = true;
	install = s->install_deps && !s->deps_installed;
	sbx_sandbox_set_status(s, "running", NULL);
	s->last_used_ms = started;
	sbx_sandbox_save_locked(o, s);
	pthread_mutex_unlock(&s->lock);

	r = install ? sbx_sandbox_install(o, call, s, &res) : 0;
	if (r == 0 && !res) {
		if (install) {
			pthread_mutex_lock(&s->lock);
			s->deps_installed = true;
			pthread_mutex_unlock(&s->lock);
		}
		/* The executor's observer records it in the history. */
		r = sbx_sandbox_run(o, call, s, -1, &res);
	}
	if (r == 0 && !(m = sbx_sandbox_execution_reply(s->obj.id, res)))
		r = -ENOMEM;

	pthread_mutex_lock(&s->lock);
	s->running = false;
	s->last_used_ms = sbx_now_ms();
	if (r == 0) {
		s->executions++;
		s->exit_code = m->exit_code;
		/* Stopped by sbx_executor_cancel (AdminForceStop). */
		bool stopped = res->status == SBX__EXEC_STATUS__EXEC_STATUS_STOPPED;

		sbx_sandbox_set_status(s, m->success ? "completed" : "failed",
			   stopped ? "stopped by an administrator"
			   : install && !s->deps_installed ? "dependency installation failed"
							   : NULL);
	} else {
		/* Not run at all (queue full, bad limits): as it was before. */
		sbx_sandbox_set_status(s, prev_status, prev_note);
	}
	sbx_sandbox_save_locked(o, s);
	pthread_mutex_unlock(&s->lock);
	if (res)
		sbx__exec_result__free_unpacked(res, NULL);
	sbx_obj_unref(&s->obj);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

static int load_one(void *arg, const struct sbx_store_sandbox *rec)
{
	struct sbx_objects *o = arg;
	struct sbx_sandbox *s = sandbox_alloc();
	bool was_running = strcmp(rec->status, "running") == 0;
	int r;

	if (!s)
		return -ENOMEM;
	if (sbx_obj_init_id(&s->obj, &sandbox_type, rec->id) < 0) {
		log_warn("state store: ignoring a sandbox with a bad id '%.64s'", rec->id);
		free(s);
		return 0;
	}
	s->o = o;
	s->runtime = strdup(rec->runtime);
	s->mode = strdup(rec->mode);
	s->entry_point = strdup(rec->entry_point);
	s->timeout_ms = rec->timeout_ms;
	s->memory_limit_mb = rec->memory_limit_mb;
	s->install_deps = rec->install_deps;
	s->dev_server = rec->dev_server;
	s->deps_installed = rec->deps_installed;
	s->obj.created_ms = rec->created_ms;
	s->last_used_ms = rec->last_used_ms;
	s->executions = rec->executions;
	s->exit_code = rec->exit_code;
	/* Its process died with the previous daemon (the spawner and its
	 * sandboxes do not outlive it): say so instead of "running". */
	sbx_sandbox_set_status(s, was_running ? "failed" : rec->status,
		   was_running ? "sandboxd stopped while this sandbox was running" : rec->note);
	r = sbx_env_unpack(rec->env, rec->env_len, &s->env);
	if (r == 0 && (!s->runtime || !s->mode || !s->entry_point))
		r = -ENOMEM;
	if (r == 0)
		r = sbx_objects_opendirs(o->sandboxes_dir, s->obj.id, &s->dir, &s->workspace, NULL);
	if (r < 0) {
		sbx_obj_unref(&s->obj);
		return r;
	}
	/* A persistent sandbox's process died with the daemon: it starts
	 * again once loading is done. */
	if (is_persistent(s->mode) && sbx_sandbox_service_attach(o, s, NULL) == 0 && was_running) {
		sbx_sandbox_set_status(s, "running", NULL);
		s->restart = true;
	}
	/* Written back after the walk: the store is busy with it now. */
	s->dirty = was_running;
	r = sbx_registry_restore(o->sandboxes, &s->obj);
	sbx_obj_unref(&s->obj);
	return r;
}

int sbx_sandboxes_load(struct sbx_objects *o)
{
	struct sbx_obj **list;
	size_t n;
	int r = sbx_store_each_sandbox(o->store, load_one, o);

	if (r < 0 || (r = sbx_registry_list(o->sandboxes, &list, &n)) < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct sbx_sandbox *s = (struct sbx_sandbox *)list[i];

		pthread_mutex_lock(&s->lock);
		if (s->dirty) {
			sbx_log(SBX_LOG_WARN, s->obj.id, "was running when sandboxd stopped: %s",
				s->restart ? "starting it again" : "now failed");
			r = sbx_sandbox_save_locked(o, s);
			s->dirty = false;
		}
		pthread_mutex_unlock(&s->lock);
	}
	sbx_registry_list_free(list, n);
	return r;
}

void sbx_sandboxes_sweep(struct sbx_objects *o, int64_t now_ms)
{
	int64_t idle_ms = (int64_t)o->cfg->sandbox_idle_s * 1000;
	struct sbx_obj **list;
	size_t n;

	if (sbx_registry_list(o->sandboxes, &list, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct sbx_sandbox *s = (struct sbx_sandbox *)list[i];
		struct sbx_service_info info = {0};
		bool expired;

		if (s->svc)
			sbx_service_info(s->svc, &info);
		/* Unlinked under the sandbox's lock, so that no execution starts
		 * between the check and the unlink. The registry's reference
		 * comes to this thread and goes in forget(). */
		pthread_mutex_lock(&s->lock);
		/* Proxied requests on kept connections count as use. */
		if (info.last_activity_ms > s->last_used_ms)
			s->last_used_ms = info.last_activity_ms;
		/* A persistent sandbox expires with its process running (it
		 * goes with the last reference); a deployment's, never. */
		expired = (!s->running || s->svc) && !s->owned &&
			  now_ms - s->last_used_ms > idle_ms &&
			  sbx_registry_unlink(o->sandboxes, &s->obj);
		pthread_mutex_unlock(&s->lock);
		if (expired)
			forget(o, s, "idle");
	}
	sbx_registry_list_free(list, n);
}
