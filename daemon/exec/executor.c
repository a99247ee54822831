#include "executor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uuid/uuid.h>

#include "cleanup.h"
#include "config.h"
#include "limits.pb-c.h"
#include "log.h"

#define EXEC_MAX_ENV 256
#define EXEC_MAX_ENV_BYTES (64u << 10)
#define EXEC_MAX_FILES 256
#define EXEC_MAX_ARGS 4096

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

	pthread_mutex_t lock;     /* guards the counters */
	pthread_cond_t cond;
	struct sbx_executor_stats stats;
};

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
	r = sbx_runtimes_new(&x->rt);
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
 * deadline. */
static int admit(struct sbx_executor *x, struct sbx_rpc_call *call)
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
		while (x->stats.running >= x->cfg->max_concurrent && r == 0)
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

/* The environment: base, then the request's entries; keys are checked. */
static int build_env(Sbx__SpawnRequest *s, size_t n_env, Sbx__RunRequest__EnvEntry **env,
		     struct sbx_rpc_call *call)
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
		const char *k = env[i]->key, *v = env[i]->value;

		if (!*k || strchr(k, '=') || strlen(k) > 256)
			return sbx_rpc_error(call, -EINVAL, "environment variable name '%.64s' is not valid", k);
		bytes += strlen(k) + strlen(v) + 2;
		if (bytes > EXEC_MAX_ENV_BYTES)
			return sbx_rpc_error(call, -EINVAL, "the environment is larger than %u bytes",
					     EXEC_MAX_ENV_BYTES);
		if (asprintf(&s->env[s->n_env], "%s=%s", k, v) < 0)
			return -ENOMEM;
		s->n_env++;
	}
	return 0;
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

static int run_spawn(struct sbx_executor *x, struct sbx_rpc_call *call, const Sbx__SpawnRequest *s,
		     Sbx__ExecResult **ret)
{
	int r = x->ops->run(x->backend, s, ret);

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

int sbx_executor_run(struct sbx_executor *x, struct sbx_rpc_call *call, const Sbx__RunRequest *req,
		 Sbx__ExecResult **ret)
{
	Sbx__SpawnRequest *s = spawn_new();
	Sbx__ExecResult *res = NULL;
	int r;

	if (!s)
		return -ENOMEM;
	if (req->n_argv == 0 || req->n_argv > EXEC_MAX_ARGS) {
		r = sbx_rpc_error(call, -EINVAL, "field 'command' must be a non-empty array of strings");
		goto out;
	}
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
	r = admit(x, call);
	if (r < 0)
		goto out;
	r = run_spawn(x, call, s, &res);
	release(x, res);
	if (r == 0)
		*ret = res;
out:
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
			Sbx__SpawnRequest *s, Sbx__ExecResult **ret_failed)
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
	r = run_spawn(x, call, &c, &res);
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
	size_t n = 0;
	int r;

	if (!s)
		return -ENOMEM;
	if (!req->language || !*req->language) {
		r = sbx_rpc_error(call, -EINVAL, "field 'language' is required (one of: %s)",
				  sbx_runtimes_names(x->rt));
		goto out;
	}
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
	r = admit(x, call);
	if (r < 0)
		goto out;
	if (rt->compile[0]) {
		size_t nc = 0;

		while (nc < SBX_RT_ARGV_MAX && rt->compile[nc])
			nc++;
		r = workspace_new(x, s->execution_id, &ws);
		if (r == 0 && !(s->workspace = strdup(ws)))
			r = -ENOMEM;
		if (r == 0)
			r = compile_step(x, call, rt->compile, nc, s, &res);
		/* The run finds the source and binary already there. */
		s->n_files = 0;
	}
	if (r == 0 && !res)
		r = run_spawn(x, call, s, &res);
	release(x, res);
	workspace_remove(ws);
	if (r == 0)
		*ret = res;
out:
	free(files);
	spawn_free(s);
	return r;
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

int sbx_executor_spawn(struct sbx_executor *x, struct sbx_rpc_call *call, const struct sbx_exec_spec *spec,
		       Sbx__ExecResult **ret)
{
	Sbx__SpawnRequest *s = spawn_new();
	Sbx__ExecResult *res = NULL;
	int r;

	if (!s)
		return -ENOMEM;
	if (spec->n_argv == 0 || spec->n_argv > EXEC_MAX_ARGS) {
		r = sbx_rpc_error(call, -EINVAL, "field 'command' must be a non-empty array of strings");
		goto out;
	}
	for (size_t i = 0; i < spec->n_argv; i++)
		if (!spec->argv[i]) {
			r = sbx_rpc_error(call, -EINVAL, "field 'command' must be a non-empty array of strings");
			goto out;
		}
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
	r = admit(x, call);
	if (r < 0)
		goto out;
	if (spec->compile && spec->n_compile)
		r = compile_step(x, call, spec->compile, spec->n_compile, s, &res);
	if (r == 0 && !res)
		r = run_spawn(x, call, s, &res);
	release(x, res);
	if (r == 0)
		*ret = res;
out:
	spawn_free(s);
	return r;
}

int sbx_executor_own(struct sbx_executor *x, const char *dir) { return x->ops->own_workspace(x->backend, dir); }
