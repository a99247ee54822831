#include "executor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uuid/uuid.h>

#include "cleanup.h"
#include "config.h"
#include "engine.h"
#include "limits.pb-c.h"
#include "log.h"
#include "logs/logs.h"

#define EXEC_MAX_ENV 256
#define EXEC_MAX_ENV_BYTES (64u << 10)
#define EXEC_MAX_FILES 256
#define EXEC_MAX_ARGS 4096
/* A service's time limits: the engine's largest. */
#define SERVICE_TIME_MS (24ull * 3600 * 1000)

/* Environment every execution starts from; the daemon's own never leaks. */
static const char *const base_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8",
};

struct sbx_executor {
	const struct sbx_config *cfg;
	const struct sbx_backend_ops *ops;
	void *backend;
	struct sbx_runtimes *rt;
	char *work_dir;

	pthread_mutex_t lock;     /* guards the counters and `inflight` */
	pthread_cond_t cond;
	struct sbx_executor_stats stats;
	/* Requests between registration and their end, for
	 * sbx_executor_cancel; nodes live on their callers' stacks, so the
	 * list is bounded by the RPC threads. */
	struct inflight *inflight;

	struct sbx_logs *logs;     /* live logs of object executions; NULL = none */

	sbx_exec_observer_fn observer;
	void *observer_arg;
	unsigned observing;        /* observer calls in progress */
	pthread_cond_t observed;   /* signalled when `observing` drops to 0 */
};

/* One request that sbx_executor_cancel can stop. */
struct inflight {
	struct inflight *next;
	const char *object_id, *execution_id;
	const char *log_id; /* Execute's live-output ring; NULL: none */
	struct sbx_engine_cancel token;
};

void sbx_executor_set_observer(struct sbx_executor *x, sbx_exec_observer_fn fn, void *arg)
{
	pthread_mutex_lock(&x->lock);
	while (x->observing)
		pthread_cond_wait(&x->observed, &x->lock);
	x->observer = fn;
	x->observer_arg = arg;
	pthread_mutex_unlock(&x->lock);
}

static void inflight_add(struct sbx_executor *x, struct inflight *f, const char *object_id,
			 const char *execution_id)
{
	f->log_id = NULL;
	f->object_id = object_id ? object_id : "";
	f->execution_id = execution_id ? execution_id : "";
	sbx_engine_cancel_init(&f->token);
	pthread_mutex_lock(&x->lock);
	f->next = x->inflight;
	x->inflight = f;
	pthread_mutex_unlock(&x->lock);
}

/* The execution id is known only once the request is checked. */
static void inflight_set_id(struct sbx_executor *x, struct inflight *f, const char *execution_id)
{
	pthread_mutex_lock(&x->lock);
	f->execution_id = execution_id;
	pthread_mutex_unlock(&x->lock);
}

static void inflight_remove(struct sbx_executor *x, struct inflight *f)
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

/* Tell the observer; `s` may be partly filled when the request failed. */
static void report(struct sbx_executor *x, struct sbx_rpc_call *call, const char *kind,
		   const char *object_id, const char *language, const Sbx__SpawnRequest *s,
		   int64_t started_ms, const Sbx__ExecResult *res, int error)
{
	struct sbx_exec_report rep = {
		.method = call->method ? call->method : "",
		.client = call->client ? call->client : "",
		.kind = kind,
		.object_id = object_id ? object_id : "",
		.language = language ? language : (s->n_argv ? s->argv[0] : ""),
		.execution_id = s->execution_id ? s->execution_id : "",
		.limits = s->limits,
		.started_ms = started_ms,
		.res = error < 0 ? NULL : res,
		.error = error,
	};
	sbx_exec_observer_fn fn;
	void *arg;

	pthread_mutex_lock(&x->lock);
	fn = x->observer;
	arg = x->observer_arg;
	x->observing += fn != NULL;
	pthread_mutex_unlock(&x->lock);
	if (!fn)
		return;
	fn(arg, &rep);
	pthread_mutex_lock(&x->lock);
	if (--x->observing == 0)
		pthread_cond_broadcast(&x->observed);
	pthread_mutex_unlock(&x->lock);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	sbx_runtimes_free(x->rt);
	pthread_cond_destroy(&x->cond);
	pthread_cond_destroy(&x->observed);
	pthread_mutex_destroy(&x->lock);
	free(x->work_dir);
	free(x);
}

struct sbx_runtimes *sbx_executor_runtimes(struct sbx_executor *x) { return x->rt; }
const char *sbx_executor_describe(struct sbx_executor *x) { return x->ops->describe(x->backend); }

void sbx_executor_stats(struct sbx_executor *x, struct sbx_executor_stats *ret)
{
	pthread_mutex_lock(&x->lock);
	*ret = x->stats;
	pthread_mutex_unlock(&x->lock);
}

/* Take a running slot, waiting in the bounded queue until the call's
 * deadline. A request stopped while it waits takes its slot at once: its
 * run ends without starting (the token is sticky). */
static int admit(struct sbx_executor *x, struct sbx_rpc_call *call, struct inflight *f)
{
	struct timespec until = { 0 };
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
			return sbx_rpc_error(call, -EAGAIN,
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
			return sbx_rpc_error(call, -ETIMEDOUT, "the request timed out waiting for a free sandbox");
		}
	}
	x->stats.running++;
	pthread_mutex_unlock(&x->lock);
	return 0;
}

static void release(struct sbx_executor *x, const Sbx__ExecResult *res)
{
	pthread_mutex_lock(&x->lock);
	x->stats.running--;
	x->stats.total++;
	if (!res || res->status != SBX__EXEC_STATUS__EXEC_STATUS_OK)
		x->stats.failed++;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

/* Defaults and maxima of each limit, by field name of sbx.Limits. */
struct limit_rule {
	const char *field;
	uint64_t def, max;
};

static void limit_rules(const struct sbx_config *c, struct limit_rule *rules)
{
	uint64_t max_ms = (uint64_t)c->max_execution_time_s * 1000;
	struct limit_rule r[] = {
		{ "cpu_time_ms", c->default_timeout_ms, max_ms },
		{ "wall_time_ms", c->default_timeout_ms, max_ms },
		{ "memory_kb", (uint64_t)c->default_memory_limit_mb * 1024, (uint64_t)c->max_memory_mb * 1024 },
		{ "pids", 128, 4096 },
		{ "fsize_kb", 65536, 1u << 20 },
		{ "nofile", 256, 4096 },
		{ "stack_kb", 8192, 1u << 20 },
		{ "output_bytes", c->max_output_bytes, c->max_output_bytes },
	};

	memcpy(rules, r, sizeof(r));
}

/* Fill every field of `out` from `in` or the default; refuse values over
 * the maximum (or 0). Walks the Limits descriptor, so a new limit is one
 * rule row. */
static int resolve_limits(const struct sbx_config *cfg, const Sbx__Limits *in, Sbx__Limits *out,
			  struct sbx_rpc_call *call)
{
	const ProtobufCMessageDescriptor *d = &sbx__limits__descriptor;
	struct limit_rule rules[8];
	bool wall_given = in && in->has_wall_time_ms, cpu_given = in && in->has_cpu_time_ms;

	limit_rules(cfg, rules);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const struct limit_rule *rule = NULL;
		uint64_t v;

		for (size_t j = 0; j < SBX_ARRAY_SIZE(rules); j++)
			if (strcmp(rules[j].field, f->name) == 0)
				rule = &rules[j];
		if (!rule)
			return sbx_rpc_error(call, -EINVAL, "limit '%s' has no rule", f->name);
		v = rule->def;
		if (in && *(protobuf_c_boolean *)((const char *)in + f->quantifier_offset)) {
			v = f->type == PROTOBUF_C_TYPE_UINT32 ? *(uint32_t *)((const char *)in + f->offset)
							      : *(uint64_t *)((const char *)in + f->offset);
			if (v == 0 || v > rule->max)
				return sbx_rpc_error(call, -EINVAL,
						     "limit '%s' must be from 1 to %llu, not %llu", f->name,
						     (unsigned long long)rule->max, (unsigned long long)v);
		}
		*(protobuf_c_boolean *)((char *)out + f->quantifier_offset) = 1;
		if (f->type == PROTOBUF_C_TYPE_UINT32)
			*(uint32_t *)((char *)out + f->offset) = (uint32_t)v;
		else
			*(uint64_t *)((char *)out + f->offset) = v;
	}
	/* A CPU limit alone leaves room for waiting (I/O, sleep) beyond it; a
	 * wall limit alone caps CPU at the same figure. */
	if (cpu_given && !wall_given)
		out->wall_time_ms = out->cpu_time_ms * 2 + 1000 < (uint64_t)cfg->max_execution_time_s * 1000
					    ? out->cpu_time_ms * 2 + 1000
					    : (uint64_t)cfg->max_execution_time_s * 1000;
	if (wall_given && !cpu_given)
		out->cpu_time_ms = out->wall_time_ms;
	return 0;
}

/* The environment of a spec: base, then "KEY=value" entries, a later entry
 * replacing an earlier one of the same key (getenv() would find the first). */
static int build_env_strv(Sbx__SpawnRequest *s, const char *const *env, size_t n_env, struct sbx_rpc_call *call)
{
	size_t n = SBX_ARRAY_SIZE(base_env), bytes = 0;

	if (n_env > EXEC_MAX_ENV)
		return sbx_rpc_error(call, -EINVAL, "at most %d environment variables are allowed", EXEC_MAX_ENV);
	s->env = calloc(n + n_env, sizeof(char *));
	if (!s->env)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(s->env[s->n_env++] = strdup(base_env[i])))
			return -ENOMEM;
	for (size_t i = 0; i < n_env; i++) {
		const char *eq = strchr(env[i], '=');
		size_t klen = eq ? (size_t)(eq - env[i]) : 0, j;

		if (!eq || klen == 0 || klen > 256)
			return sbx_rpc_error(call, -EINVAL, "environment variable '%.64s' is not KEY=value", env[i]);
		bytes += strlen(env[i]) + 1;
		if (bytes > EXEC_MAX_ENV_BYTES)
			return sbx_rpc_error(call, -EINVAL, "the environment is larger than %u bytes",
					     EXEC_MAX_ENV_BYTES);
		for (j = 0; j < s->n_env; j++)
			if (strncmp(s->env[j], env[i], klen + 1) == 0)
				break;
		if (j == s->n_env)
			s->n_env++;
		free(s->env[j]);
		if (!(s->env[j] = strdup(env[i])))
			return -ENOMEM;
	}
	return 0;
}

/* The environment of a Run or Execute request: its map entries as
 * KEY=value, after the keys are checked. */
static int build_env(Sbx__SpawnRequest *s, size_t n_env, Sbx__RunRequest__EnvEntry **env,
		     struct sbx_rpc_call *call)
{
	char **kv;
	int r = 0;

	if (n_env > EXEC_MAX_ENV)
		return sbx_rpc_error(call, -EINVAL, "at most %d environment variables are allowed", EXEC_MAX_ENV);
	kv = calloc(n_env ? n_env : 1, sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	for (size_t i = 0; i < n_env && r == 0; i++) {
		const char *k = env[i]->key, *v = env[i]->value;

		if (!*k || strchr(k, '=') || strlen(k) > 256)
			r = sbx_rpc_error(call, -EINVAL, "environment variable name '%.64s' is not valid", k);
		else if (asprintf(&kv[i], "%s=%s", k, v) < 0) {
			kv[i] = NULL;
			r = -ENOMEM;
		}
	}
	if (r == 0)
		r = build_env_strv(s, (const char *const *)kv, n_env, call);
	for (size_t i = 0; i < n_env; i++)
		free(kv[i]);
	free(kv);
	return r;
}

static int new_execution_id(char **ret)
{
	uuid_t u;
	char *s = malloc(37);

	if (!s)
		return -ENOMEM;
	uuid_generate_random(u);
	uuid_unparse_lower(u, s);
	*ret = s;
	return 0;
}

static int copy_argv(char ***dst, size_t *n_dst, const char *const *src, size_t n)
{
	*dst = calloc(n ? n : 1, sizeof(char *));
	if (!*dst)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!((*dst)[(*n_dst)++] = strdup(src[i])))
			return -ENOMEM;
	return 0;
}

/* A spawn request owning copies of everything, freed with
 * sbx__spawn_request__free_unpacked; files are shared with the RPC request
 * and detached before the free. */
static Sbx__SpawnRequest *spawn_new(void)
{
	Sbx__SpawnRequest *s = calloc(1, sizeof(*s));
	Sbx__Limits *l = calloc(1, sizeof(*l));

	if (!s || !l) {
		free(s);
		free(l);
		return NULL;
	}
	sbx__spawn_request__init(s);
	sbx__limits__init(l);
	s->limits = l;
	return s;
}

static void spawn_free(Sbx__SpawnRequest *s)
{
	if (!s)
		return;
	s->files = NULL; /* borrowed */
	s->n_files = 0;
	s->stdin.data = NULL;
	s->stdin.len = 0;
	sbx__spawn_request__free_unpacked(s, NULL);
}

void sbx_executor_set_logs(struct sbx_executor *x, struct sbx_logs *logs)
{
	pthread_mutex_lock(&x->lock);
	x->logs = logs;
	pthread_mutex_unlock(&x->lock);
}

/* Executions of objects (sandboxes, sessions) stream their output to the
 * rings of the object and of the execution (daemon/logs/); Run does not,
 * nor Execute unless it names a log_id. */
static struct sbx_log_feed *logs_feed(struct sbx_executor *x, const struct inflight *f,
				      const Sbx__SpawnRequest *s)
{
	const char *id = f->object_id[0] ? f->object_id : f->log_id;
	struct sbx_logs *logs;

	if (!id || !id[0] || !x->ops->run_stream)
		return NULL;
	pthread_mutex_lock(&x->lock);
	logs = x->logs;
	pthread_mutex_unlock(&x->lock);
	/* A log_id ring is the run's own already: no second one by
	 * execution id to push other objects' rings out. An object's run
	 * with a log_id (a deployment's service) feeds both. */
	/* The execution's own ring is kept for GetLogs, not published:
	 * live followers follow the object. */
	return sbx_log_feed_for(logs, id,
				!f->object_id[0] ? NULL : f->log_id ? f->log_id : s->execution_id,
				f->object_id[0] && f->log_id);
}

/* ExecuteRequest.log_id: "live-" and 1 to 59 of [A-Za-z0-9-], so that it
 * cannot name (and write into) another object's ring. */
static bool log_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n <= 5 || n > 64 || strncmp(id, "live-", 5) != 0)
		return false;
	return strspn(id + 5, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
	       n - 5;
}

static int run_spawn(struct sbx_executor *x, struct sbx_rpc_call *call, const Sbx__SpawnRequest *s,
		     struct inflight *f, int netns_fd, Sbx__ExecResult **ret)
{
	struct sbx_log_feed *feed = logs_feed(x, f, s);
	struct sbx_engine_stream st = {.on_output = feed ? sbx_log_feed_write : NULL,
				       .arg = feed,
				       .has_netns = netns_fd >= 0,
				       .netns_fd = netns_fd};
	int r = feed || st.has_netns ? x->ops->run_stream(x->backend, s, &f->token, &st, ret)
		: x->ops->run_cancellable ? x->ops->run_cancellable(x->backend, s, &f->token, ret)
					  : x->ops->run(x->backend, s, ret);

	sbx_log_feed_finish(feed, s->execution_id, r, r == 0 ? *ret : NULL, st.dropped_bytes);

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

int sbx_executor_check_language(struct sbx_executor *x, struct sbx_rpc_call *call,
				const char *language, const char *argv0)
{
	const char *off = language && *language ? sbx_runtimes_disabled(x->rt, language)
						: sbx_runtimes_disabled_argv0(x->rt, argv0);

	return off ? sbx_rpc_error(call, -EINVAL, "language %s is disabled on this server", off) : 0;
}

int sbx_executor_run(struct sbx_executor *x, struct sbx_rpc_call *call, const Sbx__RunRequest *req,
		 Sbx__ExecResult **ret)
{
	Sbx__SpawnRequest *s = spawn_new();
	Sbx__ExecResult *res = NULL;
	int64_t started = wall_ms();
	struct inflight f;
	int r;

	if (!s)
		return -ENOMEM;
	inflight_add(x, &f, NULL, NULL);
	if (req->n_argv == 0 || req->n_argv > EXEC_MAX_ARGS) {
		r = sbx_rpc_error(call, -EINVAL, "field 'command' must be a non-empty array of strings");
		goto out;
	}
	if ((r = sbx_executor_check_language(x, call, NULL, req->argv[0])) < 0)
		goto out;
	if (req->n_files > EXEC_MAX_FILES) {
		r = sbx_rpc_error(call, -EINVAL, "at most %d files are allowed", EXEC_MAX_FILES);
		goto out;
	}
	r = resolve_limits(x->cfg, req->limits, s->limits, call);
	if (r < 0)
		goto out;
	r = copy_argv(&s->argv, &s->n_argv, (const char *const *)req->argv, req->n_argv);
	if (r < 0)
		goto out;
	r = build_env(s, req->n_env, req->env, call);
	if (r < 0)
		goto out;
	r = new_execution_id(&s->execution_id);
	if (r < 0)
		goto out;
	if (req->cwd && *req->cwd && !(s->cwd = strdup(req->cwd))) {
		r = -ENOMEM;
		goto out;
	}
	s->stdin = req->stdin;
	s->files = req->files;
	s->n_files = req->n_files;
	inflight_set_id(x, &f, s->execution_id);
	r = admit(x, call, &f);
	if (r < 0)
		goto out;
	started = wall_ms();
	r = run_spawn(x, call, s, &f, -1, &res);
	release(x, res);
out:
	inflight_remove(x, &f);
	report(x, call, "run", NULL, NULL, s, started, res, r);
	if (r == 0)
		*ret = res;
	spawn_free(s);
	return r;
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

/* Compile in the workspace with the compiler's own limits; a failed
 * compile is the execution's result (RUNTIME_ERROR with its stderr). */
static int compile_step(struct sbx_executor *x, struct sbx_rpc_call *call, const char *const *argv, size_t n,
			Sbx__SpawnRequest *s, struct inflight *f, Sbx__ExecResult **ret_failed)
{
	Sbx__SpawnRequest c = *s;
	Sbx__Limits cl = *s->limits;
	Sbx__ExecResult *res = NULL;
	int r;

	c.argv = (char **)argv;
	c.n_argv = n;
	c.stdin.len = 0;
	c.limits = &cl;
	/* Compilers need more than the programs they build. */
	cl.cpu_time_ms = cl.wall_time_ms = 60000;
	cl.memory_kb = 2u << 20;
	cl.pids = 256;
	cl.fsize_kb = 1u << 20;
	cl.nofile = 1024;
	r = run_spawn(x, call, &c, f, -1, &res);
	if (r < 0)
		return r;
	if (res->status != SBX__EXEC_STATUS__EXEC_STATUS_OK) {
		if (!res->error || !res->error[0]) {
			free(res->error);
			res->error = strdup("compilation failed");
		}
		*ret_failed = res;
		return 0;
	}
	sbx__exec_result__free_unpacked(res, NULL);
	return 0;
}

int sbx_executor_execute(struct sbx_executor *x, struct sbx_rpc_call *call, const Sbx__ExecuteRequest *req,
		     Sbx__ExecResult **ret)
{
	const struct sbx_runtime *rt = sbx_runtimes_find(x->rt, req->language);
	Sbx__SpawnRequest *s = spawn_new();
	Sbx__File src = SBX__FILE__INIT, **files = NULL;
	Sbx__ExecResult *res = NULL;
	_cleanup_free_ char *ws = NULL;
	int64_t started = wall_ms();
	struct inflight f;
	size_t n = 0;
	int r;

	if (!s)
		return -ENOMEM;
	inflight_add(x, &f, NULL, NULL);
	if (req->log_id && *req->log_id) {
		if (!log_id_ok(req->log_id)) {
			r = sbx_rpc_error(call, -EINVAL,
					  "field 'log_id' must be 'live-' followed by 1 to 59 "
					  "letters, digits or '-'");
			goto out;
		}
		f.log_id = req->log_id;
	}
	if (!req->language || !*req->language) {
		r = sbx_rpc_error(call, -EINVAL, "field 'language' is required (one of: %s)",
				  sbx_runtimes_names(x->rt));
		goto out;
	}
	if ((r = sbx_executor_check_language(x, call, req->language, NULL)) < 0)
		goto out;
	if (!rt) {
		r = sbx_rpc_error(call, -EINVAL, "unsupported language '%.64s' (supported: %s)", req->language,
				  sbx_runtimes_names(x->rt));
		goto out;
	}
	if (req->n_files >= EXEC_MAX_FILES) {
		r = sbx_rpc_error(call, -EINVAL, "at most %d files are allowed", EXEC_MAX_FILES - 1);
		goto out;
	}
	r = resolve_limits(x->cfg, req->limits, s->limits, call);
	if (r < 0)
		goto out;
	while (n < SBX_RT_ARGV_MAX && rt->run[n])
		n++;
	r = copy_argv(&s->argv, &s->n_argv, rt->run, n);
	if (r < 0)
		goto out;
	/* protoc-c gives each map its own entry type; all are {base, key, value}. */
	r = build_env(s, req->n_env, (Sbx__RunRequest__EnvEntry **)req->env, call);
	if (r < 0)
		goto out;
	r = new_execution_id(&s->execution_id);
	if (r < 0)
		goto out;
	/* The source goes first so that a request file cannot replace it. */
	files = calloc(req->n_files + 1, sizeof(*files));
	if (!files) {
		r = -ENOMEM;
		goto out;
	}
	src.path = (char *)rt->source;
	src.content.data = (uint8_t *)req->code;
	src.content.len = req->code ? strlen(req->code) : 0;
	files[0] = &src;
	if (req->n_files)
		memcpy(files + 1, req->files, req->n_files * sizeof(*files));
	s->stdin = req->stdin;
	s->files = files;
	s->n_files = req->n_files + 1;
	inflight_set_id(x, &f, s->execution_id);
	r = admit(x, call, &f);
	if (r < 0)
		goto out;
	started = wall_ms();
	if (rt->compile[0]) {
		size_t nc = 0;

		while (nc < SBX_RT_ARGV_MAX && rt->compile[nc])
			nc++;
		r = workspace_new(x, s->execution_id, &ws);
		if (r == 0 && !(s->workspace = strdup(ws)))
			r = -ENOMEM;
		if (r == 0)
			r = compile_step(x, call, rt->compile, nc, s, &f, &res);
		/* The run finds the source and binary already there. */
		s->n_files = 0;
	}
	if (r == 0 && !res)
		r = run_spawn(x, call, s, &f, -1, &res);
	release(x, res);
	workspace_remove(ws);
out:
	inflight_remove(x, &f);
	report(x, call, "execute", NULL, rt ? rt->name : req->language, s, started, res, r);
	if (r == 0)
		*ret = res;
	free(files);
	spawn_free(s);
	return r;
}

int sbx_executor_spawn(struct sbx_executor *x, struct sbx_rpc_call *call, const struct sbx_exec_spec *spec,
		       Sbx__ExecResult **ret)
{
	Sbx__SpawnRequest *s = spawn_new();
	Sbx__ExecResult *res = NULL;
	int64_t started = wall_ms();
	struct inflight f;
	int r;

	if (!s)
		return -ENOMEM;
	inflight_add(x, &f, spec->object_id, NULL);
	f.log_id = spec->log_id;
	if (spec->n_argv == 0 || spec->n_argv > EXEC_MAX_ARGS) {
		r = sbx_rpc_error(call, -EINVAL, "field 'command' must be a non-empty array of strings");
		goto out;
	}
	for (size_t i = 0; i < spec->n_argv; i++)
		if (!spec->argv[i]) {
			r = sbx_rpc_error(call, -EINVAL, "field 'command' must be a non-empty array of strings");
			goto out;
		}
	if ((r = sbx_executor_check_language(x, call, spec->language, spec->argv[0])) < 0)
		goto out;
	r = resolve_limits(x->cfg, spec->limits, s->limits, call);
	if (r < 0)
		goto out;
	r = copy_argv(&s->argv, &s->n_argv, spec->argv, spec->n_argv);
	if (r < 0)
		goto out;
	r = build_env_strv(s, spec->env, spec->n_env, call);
	if (r < 0)
		goto out;
	r = new_execution_id(&s->execution_id);
	if (r < 0)
		goto out;
	if ((spec->cwd && *spec->cwd && !(s->cwd = strdup(spec->cwd))) || !(s->workspace = strdup(spec->workspace)) ||
	    (spec->tmp_dir && !(s->tmp_dir = strdup(spec->tmp_dir)))) {
		r = -ENOMEM;
		goto out;
	}
	s->network = spec->network;
	s->stdin = spec->stdin;
	if (spec->service) {
		if (!x->ops->run_stream) {
			r = sbx_rpc_error(call, -EOPNOTSUPP,
					  "long-running services need the native backend, not %s",
					  x->ops->name);
			goto out;
		}
		s->service = true;
		s->limits->wall_time_ms = s->limits->cpu_time_ms = SERVICE_TIME_MS;
	}
	inflight_set_id(x, &f, s->execution_id);
	r = spec->service ? 0 : admit(x, call, &f);
	if (r < 0)
		goto out;
	started = wall_ms();
	if (spec->compile && spec->n_compile)
		r = compile_step(x, call, spec->compile, spec->n_compile, s, &f, &res);
	if (r == 0 && !res)
		r = run_spawn(x, call, s, &f, spec->service ? spec->netns_fd : -1, &res);
	if (!spec->service)
		release(x, res);
out:
	inflight_remove(x, &f);
	report(x, call, spec->kind ? spec->kind : "spawn", spec->object_id, spec->language, s, started,
	       res, r);
	if (r == 0)
		*ret = res;
	spawn_free(s);
	return r;
}

int sbx_executor_own(struct sbx_executor *x, const char *dir) { return x->ops->own_workspace(x->backend, dir); }
