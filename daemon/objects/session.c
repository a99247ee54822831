#include "session.h"

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
#include "log.h"
#include "kind.h"
#include "registry.h"
#include "store.h"

#define DEFAULT_CWD "/workspace"
#define CWD_MAX 1024

struct sbx_session {
	struct sbx_obj obj;
	char *dir, *workspace, *tmp;

	/* Guarded by obj.lock. */
	struct sbx_env env;
	char *cwd;
	int64_t last_used_ms;
	uint32_t runs;
	bool network; /* its runs get outbound network (set at create) */
	unsigned active; /* runs in flight: never expired meanwhile */
};

#define KIND (&sbx_session_kind)

static void session_free(struct sbx_obj *obj)
{
	struct sbx_session *s = (struct sbx_session *)obj;

	/* Unmounted when freed (a deleted session's files removed): the
	 * last reference, never earlier, a run may still be using them. */
	sbx_objects_dirs_release(s->obj.id, s->dir, s->obj.phase != SBX_OBJ_LIVE);
	sbx_env_fini(&s->env);
	free(s->cwd);
	free(s->dir);
	free(s->workspace);
	free(s->tmp);
	free(s);
}

static int session_save(struct sbx_obj *obj, struct sbx_store_object *row)
{
	struct sbx_session *s = (struct sbx_session *)obj;
	_cleanup_free_ char *env = NULL;
	Sbx__SessionRecord rec = SBX__SESSION_RECORD__INIT;
	int r = sbx_env_pack(&s->env, &env, &rec.env.len);

	if (r < 0)
		return r;
	rec.env.data = (uint8_t *)env;
	rec.cwd = s->cwd;
	rec.created_ms = s->obj.created_ms;
	rec.last_used_ms = row->used_ms = s->last_used_ms;
	rec.runs = s->runs;
	rec.network = s->network;
	return sbx_objects_pack(&rec.base, row);
}

static ProtobufCMessage *session_reply(struct sbx_obj *obj)
{
	struct sbx_session *s = (struct sbx_session *)obj;
	Sbx__Session *m = (Sbx__Session *)sbx_message_new(&sbx__session__descriptor);
	int r;

	if (!m)
		return NULL;
	pthread_mutex_lock(&s->obj.lock);
	m->session_id = strdup(s->obj.id);
	m->cwd = strdup(s->cwd);
	m->created_at = sbx_iso8601(s->obj.created_ms);
	m->last_used_at = sbx_iso8601(s->last_used_ms);
	m->runs = s->runs;
	m->network = s->network;
	r = sbx_env_to_map(&s->env, &sbx__session__env_entry__descriptor, (void ***)&m->env,
			   &m->n_env);
	pthread_mutex_unlock(&s->obj.lock);
	if (r < 0 || !m->session_id || !m->cwd || !m->created_at || !m->last_used_at) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return NULL;
	}
	return &m->base;
}

/* Its files: a workspace and a /tmp, in a volume of arg's size. */
static int session_setup(struct sbx_obj *obj, struct sbx_rpc_call *call, const void *arg)
{
	struct sbx_session *s = (struct sbx_session *)obj;
	struct sbx_objects *o = ((void *const *)arg)[0];
	const uint32_t *disk_mb = ((void *const *)arg)[1];

	(void)call;
	return sbx_objects_mkdirs(o, o->sessions_dir, s->obj.id, *disk_mb, &s->dir, &s->workspace,
				  &s->tmp);
}

int sbx_session_create(struct sbx_objects *o, struct sbx_rpc_call *call,
		       const Sbx__CreateSessionRequest *req, Sbx__Session **ret)
{
	struct sbx_session *s;
	uint32_t disk_mb;
	const void *arg[2] = {o, &disk_mb};
	int r = sbx_objects_check_network(o, call, req->network);

	if (r == 0)
		r = sbx_objects_disk_limit(o, call, req->disk_limit_mb, &disk_mb);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	sbx_obj_init(&s->obj, &KIND->type, o->cfg->node_tag);
	s->network = req->network;
	s->obj.created_ms = s->last_used_ms = sbx_clock_wall_ms();
	s->cwd = strdup(DEFAULT_CWD);
	r = s->cwd ? sbx_env_merge(&s->env, (void *const *)req->env, req->n_env, call) : -ENOMEM;
	if (r == 0)
		r = sbx_objects_create(o, &s->obj, call, session_setup, arg,
				       (ProtobufCMessage **)ret);
	sbx_obj_unref(&s->obj);
	return r;
}

static struct sbx_session *lookup(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
				  int *ret_err)
{
	return (struct sbx_session *)sbx_objects_get(o, KIND, call, id, ret_err);
}

int sbx_session_get(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		    Sbx__Session **ret)
{
	return sbx_objects_get_reply(o, KIND, call, id, (ProtobufCMessage **)ret);
}

int sbx_session_list(struct sbx_objects *o, struct sbx_rpc_call *call, Sbx__ListSessionsReply **ret)
{
	(void)call;
	return sbx_objects_list(o, KIND, (ProtobufCMessage **)ret);
}

int sbx_session_delete(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id)
{
	return sbx_objects_delete(o, KIND, call, id, NULL);
}

int sbx_session_run(struct sbx_objects *o, struct sbx_rpc_call *call,
		    const Sbx__SessionRunRequest *req, Sbx__ExecResult **ret)
{
	struct sbx_env env = {0};
	_cleanup_free_ char *cwd = NULL;
	struct sbx_session *s;
	Sbx__ExecResult *res = NULL;
	int64_t started = sbx_clock_wall_ms();
	int r = 0;

	if (req->n_command == 0)
		return sbx_rpc_error(call, -EINVAL,
				     "field 'command' must be a non-empty array of strings");
	s = lookup(o, call, req->session_id, &r);
	if (!s)
		return r;
	pthread_mutex_lock(&s->obj.lock);
	/* This run's environment: the session's, then the request's on top. */
	r = s->obj.phase == SBX_OBJ_GONE
		    ? sbx_rpc_error(call, -ENOENT, "session '%s' not found", s->obj.id)
		    : sbx_env_copy(&env, &s->env);
	if (r == 0)
		r = sbx_env_merge(&env, (void *const *)req->env, req->n_env, call);
	if (r == 0 && !(cwd = strdup(s->cwd)))
		r = -ENOMEM;
	if (r == 0) {
		s->active++;
		s->last_used_ms = started;
	}
	pthread_mutex_unlock(&s->obj.lock);
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
			.network = s->network,
		};

		/* The executor's observer records it in the history. */
		r = sbx_executor_spawn(o->exec, call, &spec, &res);
		pthread_mutex_lock(&s->obj.lock);
		s->active--;
		s->last_used_ms = sbx_clock_wall_ms();
		if (r == 0)
			s->runs++;
		sbx_objects_save_locked(o, &s->obj);
		pthread_mutex_unlock(&s->obj.lock);
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
	pthread_mutex_lock(&s->obj.lock);
	r = sbx_env_merge(&s->env, (void *const *)req->env, req->n_env, call);
	if (r == 0) {
		s->last_used_ms = sbx_clock_wall_ms();
		r = sbx_objects_save_locked(o, &s->obj);
	}
	pthread_mutex_unlock(&s->obj.lock);
	if (r == 0 && !(*ret = (Sbx__Session *)session_reply(&s->obj)))
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
	pthread_mutex_lock(&s->obj.lock);
	if (dup) {
		free(s->cwd);
		s->cwd = dup;
		s->last_used_ms = sbx_clock_wall_ms();
		r = sbx_objects_save_locked(o, &s->obj);
	} else {
		r = -ENOMEM;
	}
	pthread_mutex_unlock(&s->obj.lock);
	if (r == 0 && !(*ret = (Sbx__Session *)session_reply(&s->obj)))
		r = -ENOMEM;
	sbx_obj_unref(&s->obj);
	return r;
}

static int session_load(struct sbx_objects *o, const char *id, const ProtobufCMessage *m,
			struct sbx_obj **ret, bool *ret_changed)
{
	const Sbx__SessionRecord *rec = (const Sbx__SessionRecord *)m;
	struct sbx_session *s = calloc(1, sizeof(*s));
	int r;

	(void)ret_changed;
	if (!s)
		return -ENOMEM;
	if (sbx_obj_init_id(&s->obj, &KIND->type, id) < 0) {
		log_warn("state store: ignoring a session with a bad id '%.64s'", id);
		free(s);
		return 0;
	}
	s->obj.created_ms = rec->created_ms;
	s->last_used_ms = rec->last_used_ms;
	s->runs = rec->runs;
	s->network = rec->network;
	s->cwd = strdup(rec->cwd[0] == '/' ? rec->cwd : DEFAULT_CWD);
	r = sbx_env_unpack((const char *)rec->env.data, rec->env.len, &s->env);
	if (r == 0 && !s->cwd)
		r = -ENOMEM;
	if (r == 0)
		r = sbx_objects_opendirs(o->sessions_dir, s->obj.id, &s->dir, &s->workspace,
					 &s->tmp);
	if (r < 0) {
		sbx_obj_unref(&s->obj);
		return r;
	}
	*ret = &s->obj;
	return 0;
}

/* Without a run in flight, idle longer than cfg->session_idle_s. */
static bool session_expired(struct sbx_objects *o, struct sbx_obj *obj, int64_t now_ms)
{
	struct sbx_session *s = (struct sbx_session *)obj;

	return s->active == 0 && now_ms - s->last_used_ms > (int64_t)o->cfg->session_idle_s * 1000;
}

const struct sbx_kind sbx_session_kind = {
	.type = {"session", session_free},
	.plural = "sessions",
	.id_field = "session_id",
	.counter = "sessions_created",
	.registry = offsetof(struct sbx_objects, sessions),
	.list = &sbx__list_sessions_reply__descriptor,
	.list_field = "sessions",
	.workspace = offsetof(struct sbx_session, workspace),
	.record = &sbx__session_record__descriptor,
	.save = session_save,
	.load = session_load,
	.reply = session_reply,
	.expired = session_expired,
};
