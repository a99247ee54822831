#include "session.h"

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
#include "log.h"
#include "registry.h"
#include "store.h"

#define DEFAULT_CWD "/workspace"
#define CWD_MAX 1024

struct sbx_session {
	struct sbx_obj obj;
	char *dir, *workspace, *tmp;

	pthread_mutex_t lock; /* guards the rest, and orders the store writes */
	struct sbx_env env;
	char *cwd;
	int64_t last_used_ms;
	uint32_t runs;
	unsigned active; /* runs in flight: never expired meanwhile */
	bool deleted;
};

static void session_free(struct sbx_obj *obj)
{
	struct sbx_session *s = (struct sbx_session *)obj;

	/* Unmounted when freed (a deleted session's files removed): the
	 * last reference, never earlier, a run may still be using them. */
	sbx_objects_dirs_release(s->obj.id, s->dir, s->deleted);
	sbx_env_fini(&s->env);
	free(s->cwd);
	free(s->dir);
	free(s->workspace);
	free(s->tmp);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct sbx_obj_type session_type = {"session", session_free};

static struct sbx_session *session_alloc(void)
{
	struct sbx_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

static int save_locked(struct sbx_objects *o, struct sbx_session *s)
{
	_cleanup_free_ char *env = NULL;
	struct sbx_store_session rec = {
		.id = s->obj.id,
		.cwd = s->cwd,
		.created_ms = s->obj.created_ms,
		.last_used_ms = s->last_used_ms,
		.runs = s->runs,
	};
	int r;

	if (s->deleted)
		return 0;
	r = sbx_env_pack(&s->env, &env, &rec.env_len);
	if (r < 0)
		return r;
	rec.env = env;
	return sbx_store_put_session(o->store, &rec);
}

static Sbx__Session *session_reply(struct sbx_session *s)
{
	Sbx__Session *m = (Sbx__Session *)sbx_message_new(&sbx__session__descriptor);
	int r;

	if (!m)
		return NULL;
	pthread_mutex_lock(&s->lock);
	m->session_id = strdup(s->obj.id);
	m->cwd = strdup(s->cwd);
	m->created_at = sbx_iso8601(s->obj.created_ms);
	m->last_used_at = sbx_iso8601(s->last_used_ms);
	m->runs = s->runs;
	r = sbx_env_to_map(&s->env, &sbx__session__env_entry__descriptor, (void ***)&m->env,
			   &m->n_env);
	pthread_mutex_unlock(&s->lock);
	if (r < 0 || !m->session_id || !m->cwd || !m->created_at || !m->last_used_at) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return NULL;
	}
	return m;
}

int sbx_session_create(struct sbx_objects *o, struct sbx_rpc_call *call,
		       const Sbx__CreateSessionRequest *req, Sbx__Session **ret)
{
	struct sbx_session *s;
	uint32_t disk_mb;
	int r = sbx_objects_disk_limit(o, call, req->disk_limit_mb, &disk_mb);

	if (r < 0)
		return r;
	s = session_alloc();
	if (!s)
		return -ENOMEM;
	sbx_obj_init(&s->obj, &session_type);
	s->obj.created_ms = s->last_used_ms = sbx_now_ms();
	s->cwd = strdup(DEFAULT_CWD);
	if (!s->cwd) {
		sbx_obj_unref(&s->obj);
		return -ENOMEM;
	}
	r = sbx_env_merge(&s->env, (void *const *)req->env, req->n_env, call);
	if (r < 0) {
		sbx_obj_unref(&s->obj);
		return r;
	}
	r = sbx_registry_add(o->sessions, &s->obj);
	if (r < 0) {
		sbx_obj_unref(&s->obj);
		return r == -EAGAIN ? sbx_rpc_error(call, -EAGAIN, "too many sessions (limit %u)",
						    sbx_registry_max(o->sessions))
				    : r;
	}
	s->deleted = true; /* until saved: a failure removes what was made */
	r = sbx_objects_mkdirs(o, o->sessions_dir, s->obj.id, disk_mb, &s->dir, &s->workspace,
			       &s->tmp);
	if (r == 0) {
		pthread_mutex_lock(&s->lock);
		s->deleted = false;
		r = save_locked(o, s);
		s->deleted = r < 0;
		pthread_mutex_unlock(&s->lock);
	}
	if (r == 0 && !(*ret = session_reply(s)))
		r = -ENOMEM;
	if (r < 0) {
		pthread_mutex_lock(&s->lock);
		if (!s->deleted)
			sbx_store_delete_session(o->store, s->obj.id);
		s->deleted = true;
		pthread_mutex_unlock(&s->lock);
		if (sbx_registry_unlink(o->sessions, &s->obj))
			sbx_obj_unref(&s->obj);
		sbx_obj_unref(&s->obj);
		return r;
	}
	sbx_store_counter_add(o->store, "sessions_created", 1, NULL);
	sbx_log(SBX_LOG_INFO, s->obj.id, "session created");
	sbx_obj_unref(&s->obj);
	return 0;
}

static struct sbx_session *lookup(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
				  int *ret_err)
{
	return (struct sbx_session *)sbx_objects_lookup(o->sessions, "session", "session_id", call,
							 id, ret_err);
}

int sbx_session_get(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		    Sbx__Session **ret)
{
	int r = 0;
	struct sbx_session *s = lookup(o, call, id, &r);
	Sbx__Session *m;

	if (!s)
		return r;
	m = session_reply(s);
	sbx_obj_unref(&s->obj);
	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}


static ProtobufCMessage *session_item(struct sbx_obj *obj)
{
	Sbx__Session *m = session_reply((struct sbx_session *)obj);

	return m ? &m->base : NULL;
}

int sbx_session_list(struct sbx_objects *o, struct sbx_rpc_call *call, Sbx__ListSessionsReply **ret)
{
	(void)call;
	return sbx_objects_list(o->sessions, &sbx__list_sessions_reply__descriptor,
				"sessions", session_item, (ProtobufCMessage **)ret);
}

/* s holds the registry's reference, handed over by the unlink. */
static void forget(struct sbx_objects *o, struct sbx_session *s, const char *why)
{
	pthread_mutex_lock(&s->lock);
	s->deleted = true;
	sbx_store_delete_session(o->store, s->obj.id);
	pthread_mutex_unlock(&s->lock);
	sbx_log(SBX_LOG_INFO, s->obj.id, "session deleted (%s)", why);
	sbx_obj_unref(&s->obj);
}

int sbx_session_delete(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id)
{
	struct sbx_obj *obj;

	if (!id || !*id)
		return sbx_rpc_error(call, -EINVAL, "field 'session_id' is required");
	if (sbx_registry_remove(o->sessions, id, &obj) < 0)
		return sbx_rpc_error(call, -ENOENT, "session '%.64s' not found", id);
	forget(o, (struct sbx_session *)obj, "by request");
	return 0;
}

int sbx_session_run(struct sbx_objects *o, struct sbx_rpc_call *call,
		    const Sbx__SessionRunRequest *req, Sbx__ExecResult **ret)
{
	struct sbx_env env = {0};
	_cleanup_free_ char *cwd = NULL;
	struct sbx_session *s;
	Sbx__ExecResult *res = NULL;
	int64_t started = sbx_now_ms();
	int r = 0;

	if (req->n_command == 0)
		return sbx_rpc_error(call, -EINVAL,
				     "field 'command' must be a non-empty array of strings");
	s = lookup(o, call, req->session_id, &r);
	if (!s)
		return r;
	pthread_mutex_lock(&s->lock);
	/* This run's environment: the session's, then the request's on top. */
	r = s->deleted ? sbx_rpc_error(call, -ENOENT, "session '%s' not found", s->obj.id)
		       : sbx_env_copy(&env, &s->env);
	if (r == 0)
		r = sbx_env_merge(&env, (void *const *)req->env, req->n_env, call);
	if (r == 0 && !(cwd = strdup(s->cwd)))
		r = -ENOMEM;
	if (r == 0) {
		s->active++;
		s->last_used_ms = started;
	}
	pthread_mutex_unlock(&s->lock);
	if (r == 0) {
		struct sbx_exec_spec spec = {
			.argv = (const char *const *)req->command,
			.n_argv = req->n_command,
			.env = (const char *const *)env.v,
			.n_env = env.n,
			.limits = req->limits,
			.cwd = cwd,
			.stdin = req->stdin,
			.workspace = s->workspace,
			.tmp_dir = s->tmp,
			.kind = "session",
			.object_id = s->obj.id,
		};

		/* The executor's observer records it in the history. */
		r = sbx_executor_spawn(o->exec, call, &spec, &res);
		pthread_mutex_lock(&s->lock);
		s->active--;
		s->last_used_ms = sbx_now_ms();
		if (r == 0)
			s->runs++;
		save_locked(o, s);
		pthread_mutex_unlock(&s->lock);
	}
	sbx_env_fini(&env);
	sbx_obj_unref(&s->obj);
	if (r < 0)
		return r;
	sbx_exec_result_show(res);
	*ret = res;
	return 0;
}

int sbx_session_set_env(struct sbx_objects *o, struct sbx_rpc_call *call,
			const Sbx__SetSessionEnvRequest *req, Sbx__Session **ret)
{
	int r = 0;
	struct sbx_session *s = lookup(o, call, req->session_id, &r);

	if (!s)
		return r;
	pthread_mutex_lock(&s->lock);
	r = sbx_env_merge(&s->env, (void *const *)req->env, req->n_env, call);
	if (r == 0) {
		s->last_used_ms = sbx_now_ms();
		r = save_locked(o, s);
	}
	pthread_mutex_unlock(&s->lock);
	if (r == 0 && !(*ret = session_reply(s)))
		r = -ENOMEM;
	sbx_obj_unref(&s->obj);
	return r;
}

int sbx_session_set_cwd(struct sbx_objects *o, struct sbx_rpc_call *call,
			const Sbx__SetSessionCwdRequest *req, Sbx__Session **ret)
{
	const char *cwd = req->cwd ? req->cwd : "";
	struct sbx_session *s;
	char *dup;
	int r = 0;

	/* Inside the sandbox; whether it exists is up to the next run (a
	 * run may create it first). */
	if (cwd[0] != '/' || strlen(cwd) > CWD_MAX)
		return sbx_rpc_error(call, -EINVAL,
				     "field 'cwd' must be an absolute path of at most %d bytes",
				     CWD_MAX);
	s = lookup(o, call, req->session_id, &r);
	if (!s)
		return r;
	dup = strdup(cwd);
	pthread_mutex_lock(&s->lock);
	if (dup) {
		free(s->cwd);
		s->cwd = dup;
		s->last_used_ms = sbx_now_ms();
		r = save_locked(o, s);
	} else {
		r = -ENOMEM;
	}
	pthread_mutex_unlock(&s->lock);
	if (r == 0 && !(*ret = session_reply(s)))
		r = -ENOMEM;
	sbx_obj_unref(&s->obj);
	return r;
}

static int load_one(void *arg, const struct sbx_store_session *rec)
{
	struct sbx_objects *o = arg;
	struct sbx_session *s = session_alloc();
	int r;

	if (!s)
		return -ENOMEM;
	if (sbx_obj_init_id(&s->obj, &session_type, rec->id) < 0) {
		log_warn("state store: ignoring a session with a bad id '%.64s'", rec->id);
		free(s);
		return 0;
	}
	s->obj.created_ms = rec->created_ms;
	s->last_used_ms = rec->last_used_ms;
	s->runs = rec->runs;
	s->cwd = strdup(rec->cwd[0] == '/' ? rec->cwd : DEFAULT_CWD);
	r = sbx_env_unpack(rec->env, rec->env_len, &s->env);
	if (r == 0 && !s->cwd)
		r = -ENOMEM;
	if (r == 0)
		r = sbx_objects_opendirs(o->sessions_dir, s->obj.id, &s->dir, &s->workspace,
					 &s->tmp);
	if (r == 0)
		r = sbx_registry_restore(o->sessions, &s->obj);
	sbx_obj_unref(&s->obj);
	return r;
}

int sbx_sessions_load(struct sbx_objects *o)
{
	return sbx_store_each_session(o->store, load_one, o);
}

void sbx_sessions_sweep(struct sbx_objects *o, int64_t now_ms)
{
	int64_t idle_ms = (int64_t)o->cfg->session_idle_s * 1000;
	struct sbx_obj **list;
	size_t n;

	if (sbx_registry_list(o->sessions, &list, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct sbx_session *s = (struct sbx_session *)list[i];
		bool expired;

		/* As for sandboxes: checked and unlinked under the lock. */
		pthread_mutex_lock(&s->lock);
		expired = s->active == 0 && now_ms - s->last_used_ms > idle_ms &&
			  sbx_registry_unlink(o->sessions, &s->obj);
		pthread_mutex_unlock(&s->lock);
		if (expired)
			forget(o, s, "idle");
	}
	sbx_registry_list_free(list, n);
}
