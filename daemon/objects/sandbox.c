#include "sandbox_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "clock.h"
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
#include "words.h"

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
	sbx_objects_dirs_release(s->obj.id, s->dir, s->obj.phase != SBX_OBJ_LIVE);
	free(s->runtime);
	free(s->entry_point);
	sbx_env_fini(&s->env);
	free(s->dir);
	free(s->workspace);
	free(s->note);
	free(s);
}

#define KIND (&sbx_sandbox_kind)

/* The seed's words of the states and modes: replies, the store. */
static const char *const state_words[] = {
	[SBX__SANDBOX_STATE__SANDBOX_CREATED] = "created",
	[SBX__SANDBOX_STATE__SANDBOX_RUNNING] = "running",
	[SBX__SANDBOX_STATE__SANDBOX_COMPLETED] = "completed",
	[SBX__SANDBOX_STATE__SANDBOX_FAILED] = "failed",
};
static const char *const mode_words[] = {
	[SBX__SANDBOX_MODE__SANDBOX_ONESHOT] = "oneshot",
	[SBX__SANDBOX_MODE__SANDBOX_PERSISTENT] = "persistent",
};


static void set_state(struct sbx_sandbox *s, Sbx__SandboxState to, const char *note)
{
	s->state = to;
	free(s->note);
	s->note = note ? strdup(note) : NULL;
}

int sbx_sandbox_transition(struct sbx_objects *o, struct sbx_sandbox *s, Sbx__SandboxState to,
			   const char *note)
{
	bool shutdown;

	set_state(s, to, note);
	pthread_mutex_lock(&o->lock);
	shutdown = o->services_stopping;
	pthread_mutex_unlock(&o->lock);
	if (s->svc && shutdown)
		return 0;
	return sbx_objects_save_locked(o, &s->obj);
}

static int sandbox_save(struct sbx_obj *obj, struct sbx_store_object *row)
{
	struct sbx_sandbox *s = (struct sbx_sandbox *)obj;
	_cleanup_free_ char *env = NULL;
	Sbx__SandboxRecord rec = SBX__SANDBOX_RECORD__INIT;
	int r = sbx_env_pack(&s->env, &env, &rec.env.len);

	if (r < 0)
		return r;
	rec.env.data = (uint8_t *)env;
	rec.state = s->state;
	rec.note = s->note ? s->note : "";
	rec.runtime = s->runtime;
	rec.mode = s->mode;
	rec.entry_point = s->entry_point;
	rec.created_ms = s->obj.created_ms;
	rec.last_used_ms = row->used_ms = s->last_used_ms;
	rec.timeout_ms = s->timeout_ms;
	rec.memory_limit_mb = s->memory_limit_mb;
	rec.executions = s->executions;
	rec.exit_code = s->exit_code;
	rec.install_deps = s->install_deps;
	rec.network = s->network;
	rec.dev_server = s->dev_server;
	rec.deps_installed = s->deps_installed;
	row->owner = rec.owner = s->owner;
	row->status = sbx_word_of(state_words, SBX_N_WORDS(state_words), s->state);
	return sbx_objects_pack(&rec.base, row);
}

static ProtobufCMessage *sandbox_reply(struct sbx_obj *obj)
{
	struct sbx_sandbox *s = (struct sbx_sandbox *)obj;
	Sbx__Sandbox *m = (Sbx__Sandbox *)sbx_message_new(&sbx__sandbox__descriptor);

	if (!m)
		return NULL;
	pthread_mutex_lock(&s->obj.lock);
	m->id = strdup(s->obj.id);
	m->status = strdup(sbx_word_of(state_words, SBX_N_WORDS(state_words), s->state));
	m->runtime = strdup(s->runtime);
	m->created_at = sbx_iso8601(s->obj.created_ms);
	m->last_used_at = sbx_iso8601(s->last_used_ms);
	m->mode = strdup(sbx_word_of(mode_words, SBX_N_WORDS(mode_words), s->mode));
	m->entry_point = strdup(s->entry_point);
	m->note = strdup(s->note ? s->note : "");
	m->timeout_ms = s->timeout_ms;
	m->memory_limit_mb = s->memory_limit_mb;
	m->dev_server = s->dev_server;
	m->install_deps = s->install_deps;
	m->network = s->network;
	m->executions = s->executions;
	m->exit_code = s->exit_code;
	pthread_mutex_unlock(&s->obj.lock);
	if (!m->id || !m->status || !m->runtime || !m->created_at || !m->last_used_at || !m->mode ||
	    !m->entry_point || !m->note) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return NULL;
	}
	return &m->base;
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

/* A request's mode: "" is oneshot; -1 when it is no mode. */
static int req_mode(const char *mode)
{
	return mode && *mode ? sbx_word_value(mode_words, SBX_N_WORDS(mode_words), mode)
			     : SBX__SANDBOX_MODE__SANDBOX_ONESHOT;
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
	if (req_mode(req->mode) < 0)
		return sbx_rpc_error(call, -EINVAL,
				     "field 'mode' must be 'oneshot' or 'persistent', not '%.32s'",
				     req->mode);
	if ((r = sbx_objects_check_network(o, call, req->network)) < 0)
		return r;
	if (req->dev_server && req_mode(req->mode) != SBX__SANDBOX_MODE__SANDBOX_PERSISTENT)
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

struct setup {
	struct sbx_objects *o;
	const struct sbx_runtime *rt;
	const Sbx__CreateSandboxRequest *req;
	uint32_t disk_mb;
};

/* Its files, and a persistent sandbox's process, started at once (a
 * failure after this stops it with the last reference). */
static int sandbox_setup(struct sbx_obj *obj, struct sbx_rpc_call *call, const void *arg)
{
	struct sbx_sandbox *s = (struct sbx_sandbox *)obj;
	const struct setup *a = arg;
	int r = sbx_objects_mkdirs(a->o, a->o->sandboxes_dir, s->obj.id, a->disk_mb, &s->dir,
				   &s->workspace, NULL);

	if (r == 0)
		r = write_initial_files(s, a->rt, a->req, call);
	if (r == 0 && s->mode == SBX__SANDBOX_MODE__SANDBOX_PERSISTENT)
		r = sbx_sandbox_service_attach(a->o, s, call);
	/* "running" is set first: a process that ends at once then leaves
	 * its own status, not ours. */
	if (r == 0 && s->svc) {
		pthread_mutex_lock(&s->obj.lock);
		sbx_sandbox_transition(a->o, s, SBX__SANDBOX_STATE__SANDBOX_RUNNING, NULL);
		pthread_mutex_unlock(&s->obj.lock);
		if (sbx_service_start(s->svc) < 0) {
			pthread_mutex_lock(&s->obj.lock);
			sbx_sandbox_transition(a->o, s, SBX__SANDBOX_STATE__SANDBOX_FAILED,
					       "its process could not be started");
			pthread_mutex_unlock(&s->obj.lock);
		}
	}
	return r;
}

static void sandbox_describe(struct sbx_obj *obj, char *buf, size_t len)
{
	struct sbx_sandbox *s = (struct sbx_sandbox *)obj;

	snprintf(buf, len, " (%s, %s)", s->runtime,
		 sbx_word_of(mode_words, SBX_N_WORDS(mode_words), s->mode));
}

int sbx_sandbox_create_owned(struct sbx_objects *o, struct sbx_rpc_call *call,
			     const Sbx__CreateSandboxRequest *req, const char *owner,
			     Sbx__Sandbox **ret)
{
	struct setup a = {.o = o, .req = req};
	struct sbx_sandbox *s;
	int r;

	r = check_create(o, call, req, &a.rt);
	if (r == 0)
		r = sbx_objects_disk_limit(o, call, req->disk_limit_mb, &a.disk_mb);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	sbx_obj_init(&s->obj, &KIND->type, o->cfg->node_tag);
	s->o = o;
	s->owned = owner != NULL;
	snprintf(s->owner, sizeof(s->owner), "%s", owner ? owner : "");
	s->dev_server = req->dev_server;
	s->runtime = strdup(a.rt->name);
	s->mode = (Sbx__SandboxMode)req_mode(req->mode);
	s->entry_point = strdup(req->entry_point ? req->entry_point : "");
	s->timeout_ms = req->timeout_ms ? req->timeout_ms : o->cfg->default_timeout_ms;
	s->memory_limit_mb =
		req->memory_limit_mb ? req->memory_limit_mb : o->cfg->default_memory_limit_mb;
	s->install_deps = req->install_deps;
	s->network = req->network;
	s->obj.created_ms = s->last_used_ms = sbx_clock_wall_ms();
	r = s->runtime && s->entry_point ? 0 : -ENOMEM;
	if (r == 0)
		r = sbx_env_merge(&s->env, (void *const *)req->env_vars, req->n_env_vars, call);
	if (r == 0)
		r = sbx_objects_create(o, &s->obj, call, sandbox_setup, &a,
				       (ProtobufCMessage **)ret);
	sbx_obj_unref(&s->obj);
	return r;
}

struct sbx_sandbox *sbx_sandbox_lookup(struct sbx_objects *o, struct sbx_rpc_call *call,
				       const char *id, int *ret_err)
{
	return (struct sbx_sandbox *)sbx_objects_get(o, KIND, call, id, ret_err);
}

int sbx_sandbox_get(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		    Sbx__Sandbox **ret)
{
	return sbx_objects_get_reply(o, KIND, call, id, (ProtobufCMessage **)ret);
}

int sbx_sandbox_state(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		      Sbx__SandboxState *ret)
{
	int r = 0;
	struct sbx_sandbox *s = sbx_sandbox_lookup(o, call, id, &r);

	if (!s)
		return r;
	pthread_mutex_lock(&s->obj.lock);
	*ret = s->state;
	pthread_mutex_unlock(&s->obj.lock);
	sbx_obj_unref(&s->obj);
	return 0;
}

int sbx_sandbox_list(struct sbx_objects *o, struct sbx_rpc_call *call,
		     Sbx__ListSandboxesReply **ret)
{
	(void)call;
	return sbx_objects_list(o, KIND, (ProtobufCMessage **)ret);
}

/* A deployment's sandbox goes with the deployment only. */
static int check_not_owned(struct sbx_obj *obj, struct sbx_rpc_call *call)
{
	if (!((struct sbx_sandbox *)obj)->owned)
		return 0;
	return sbx_rpc_error(call, -EBUSY,
			     "sandbox '%.64s' belongs to a deployment: delete the deployment",
			     obj->id);
}

int sbx_sandbox_delete(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id)
{
	return sbx_objects_delete(o, KIND, call, id, check_not_owned);
}

int sbx_sandbox_delete_owned(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id)
{
	return sbx_objects_delete(o, KIND, call, id, NULL);
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
	s = sbx_sandbox_lookup(o, call, req->id, &r);
	if (!s)
		return r;
	r = sbx_files_write(s->workspace, req->files, req->n_files, call);
	if (r == 0) {
		pthread_mutex_lock(&s->obj.lock);
		s->last_used_ms = sbx_clock_wall_ms();
		r = sbx_objects_save_locked(o, &s->obj);
		pthread_mutex_unlock(&s->obj.lock);
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
	static const char npm[] =
		"{ [ ! -f package.json ] || npm install --no-audit --no-fund; } && "
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
		.install = true,
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
		sbx_log(SBX_LOG_INFO, s->obj.id,
			"installing %zu imported package(s) not in package.json", n_missing);
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
		.network = s->network,
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
	int r = 0;
	struct sbx_sandbox *s = sbx_sandbox_lookup(o, call, id, &r);
	Sbx__ExecResult *res = NULL;
	Sbx__SandboxExecution *m = NULL;
	int64_t started = sbx_clock_wall_ms();
	_cleanup_free_ char *prev_note = NULL;
	Sbx__SandboxState prev_state;
	bool install;

	if (!s)
		return r;
	if (s->svc) {
		r = sbx_sandbox_persistent_execute(call, s, ret);
		sbx_obj_unref(&s->obj);
		return r;
	}
	pthread_mutex_lock(&s->obj.lock);
	if (s->state == SBX__SANDBOX_STATE__SANDBOX_RUNNING || s->obj.phase == SBX_OBJ_GONE) {
		r = s->obj.phase == SBX_OBJ_GONE
			    ? sbx_rpc_error(call, -ENOENT, "sandbox '%s' not found", id)
			    : sbx_rpc_error(call, -EBUSY, "sandbox '%s' is already running", id);
		pthread_mutex_unlock(&s->obj.lock);
		sbx_obj_unref(&s->obj);
		return r;
	}
	prev_state = s->state;
	prev_note = s->note ? strdup(s->note) : NULL;
	install = s->install_deps && !s->deps_installed;
	s->last_used_ms = started;
	sbx_sandbox_transition(o, s, SBX__SANDBOX_STATE__SANDBOX_RUNNING, NULL);
	pthread_mutex_unlock(&s->obj.lock);

	r = install ? sbx_sandbox_install(o, call, s, &res) : 0;
	if (r == 0 && !res) {
		if (install) {
			pthread_mutex_lock(&s->obj.lock);
			s->deps_installed = true;
			pthread_mutex_unlock(&s->obj.lock);
		}
		/* The executor's observer records it in the history. */
		r = sbx_sandbox_run(o, call, s, -1, &res);
	}
	if (r == 0 && !(m = sbx_sandbox_execution_reply(s->obj.id, res)))
		r = -ENOMEM;

	pthread_mutex_lock(&s->obj.lock);
	s->last_used_ms = sbx_clock_wall_ms();
	if (r == 0) {
		s->executions++;
		s->exit_code = m->exit_code;
		/* Stopped by sbx_executor_cancel (AdminForceStop). */
		bool stopped = res->status == SBX__EXEC_STATUS__EXEC_STATUS_STOPPED;

		sbx_sandbox_transition(o, s,
				       m->success ? SBX__SANDBOX_STATE__SANDBOX_COMPLETED
						  : SBX__SANDBOX_STATE__SANDBOX_FAILED,
				       stopped ? "stopped by an administrator"
				       : install && !s->deps_installed
					       ? "dependency installation failed"
					       : NULL);
	} else {
		/* Not run at all (queue full, bad limits): as it was before. */
		sbx_sandbox_transition(o, s, prev_state, prev_note);
	}
	pthread_mutex_unlock(&s->obj.lock);
	if (res)
		sbx__exec_result__free_unpacked(res, NULL);
	sbx_obj_unref(&s->obj);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

static int sandbox_load(struct sbx_objects *o, const char *id, const ProtobufCMessage *m,
			struct sbx_obj **ret, bool *ret_changed)
{
	const Sbx__SandboxRecord *rec = (const Sbx__SandboxRecord *)m;
	struct sbx_sandbox *s = calloc(1, sizeof(*s));
	bool was_running = rec->state == SBX__SANDBOX_STATE__SANDBOX_RUNNING;
	int r;

	if (!s)
		return -ENOMEM;
	if (sbx_obj_init_id(&s->obj, &KIND->type, id) < 0) {
		log_warn("state store: ignoring a sandbox with a bad id '%.64s'", id);
		free(s);
		return 0;
	}
	s->o = o;
	s->runtime = strdup(rec->runtime);
	s->mode = rec->mode == SBX__SANDBOX_MODE__SANDBOX_PERSISTENT
			  ? SBX__SANDBOX_MODE__SANDBOX_PERSISTENT
			  : SBX__SANDBOX_MODE__SANDBOX_ONESHOT;
	s->entry_point = strdup(rec->entry_point);
	s->timeout_ms = rec->timeout_ms;
	s->memory_limit_mb = rec->memory_limit_mb;
	s->install_deps = rec->install_deps;
	s->network = rec->network;
	s->dev_server = rec->dev_server;
	s->deps_installed = rec->deps_installed;
	s->obj.created_ms = rec->created_ms;
	s->last_used_ms = rec->last_used_ms;
	s->executions = rec->executions;
	s->exit_code = rec->exit_code;
	s->owned = *rec->owner != '\0';
	snprintf(s->owner, sizeof(s->owner), "%s", rec->owner);
	/* Its process died with the previous daemon (the spawner and its
	 * sandboxes do not outlive it): say so instead of "running". A state
	 * of a newer daemon reads as failed. */
	set_state(s,
		  was_running || rec->state >= SBX_N_WORDS(state_words)
			  ? SBX__SANDBOX_STATE__SANDBOX_FAILED
			  : rec->state,
		  was_running  ? "sandboxd stopped while this sandbox was running"
		  : *rec->note ? rec->note
			       : NULL);
	r = sbx_env_unpack((const char *)rec->env.data, rec->env.len, &s->env);
	if (r == 0 && (!s->runtime || !s->entry_point))
		r = -ENOMEM;
	if (r == 0)
		r = sbx_objects_opendirs(o->sandboxes_dir, s->obj.id, &s->dir, &s->workspace, NULL);
	if (r < 0) {
		sbx_obj_unref(&s->obj);
		return r;
	}
	/* A persistent sandbox's process died with the daemon: it starts
	 * again once loading is done (sbx_sandboxes_start_services). */
	if (s->mode == SBX__SANDBOX_MODE__SANDBOX_PERSISTENT &&
	    sbx_sandbox_service_attach(o, s, NULL) == 0 && was_running)
		set_state(s, SBX__SANDBOX_STATE__SANDBOX_RUNNING, NULL);
	if (was_running)
		sbx_log(SBX_LOG_WARN, s->obj.id, "was running when sandboxd stopped: %s",
			s->state == SBX__SANDBOX_STATE__SANDBOX_RUNNING ? "starting it again"
									: "now failed");
	*ret_changed = was_running;
	*ret = &s->obj;
	return 0;
}

/* Proxied requests on kept connections count as use. */
static void sandbox_tick(struct sbx_objects *o, struct sbx_obj *obj, int64_t now_ms)
{
	struct sbx_sandbox *s = (struct sbx_sandbox *)obj;
	struct sbx_service_info info = {0};

	(void)o;
	(void)now_ms;
	if (!s->svc)
		return;
	sbx_service_info(s->svc, &info);
	pthread_mutex_lock(&s->obj.lock);
	if (info.last_activity_ms > s->last_used_ms)
		s->last_used_ms = info.last_activity_ms;
	pthread_mutex_unlock(&s->obj.lock);
}

/* Not running and idle longer than cfg->sandbox_idle_s. A persistent
 * sandbox expires with its process running (it goes with the last
 * reference); a deployment's, never. */
static bool sandbox_expired(struct sbx_objects *o, struct sbx_obj *obj, int64_t now_ms)
{
	struct sbx_sandbox *s = (struct sbx_sandbox *)obj;

	return (s->state != SBX__SANDBOX_STATE__SANDBOX_RUNNING || s->svc) && !s->owned &&
	       now_ms - s->last_used_ms > (int64_t)o->cfg->sandbox_idle_s * 1000;
}

const struct sbx_kind sbx_sandbox_kind = {
	.type = {"sandbox", sandbox_free},
	.plural = "sandboxes",
	.id_field = "id",
	.counter = "sandboxes_created",
	.registry = offsetof(struct sbx_objects, sandboxes),
	.list = &sbx__list_sandboxes_reply__descriptor,
	.list_field = "sandboxes",
	.workspace = offsetof(struct sbx_sandbox, workspace),
	.record = &sbx__sandbox_record__descriptor,
	.save = sandbox_save,
	.load = sandbox_load,
	.reply = sandbox_reply,
	.tick = sandbox_tick,
	.expired = sandbox_expired,
	.describe = sandbox_describe,
};
