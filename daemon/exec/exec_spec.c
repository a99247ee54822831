/* Parse: a spec (a Run or Execute request, or an object's execution)
 * checked and turned into the backend's SpawnRequest, limits resolved
 * against the daemon's defaults and maxima. Nothing runs here. */
#include "executor_internal.h"
#include "netpolicy/bridge.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "clock.h"
#include "daemon_config.h"
#include "limits.pb-c.h"
#include "nodeid.h"

#define EXEC_MAX_ENV 256
#define EXEC_MAX_ENV_BYTES (64u << 10)
#define EXEC_MAX_FILES 256
#define EXEC_MAX_ARGS 4096
/* A service's time limits: the engine's largest. */
#define SERVICE_TIME_MS (24ull * 3600 * 1000)

/* Environment every execution starts from; the daemon's own never leaks. */
static const char *const base_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"HOME=/tmp",
	"TMPDIR=/tmp",
	"LANG=C.UTF-8",
};

/* Defaults and maxima of each limit, by field name of sbx.Limits. */
struct limit_rule {
	const char *field;
	uint64_t def, max;
};

static void limit_rules(const struct sbx_config *c, struct limit_rule *rules)
{
	uint64_t max_ms = (uint64_t)c->max_execution_time_s * 1000;
	struct limit_rule r[] = {
		{"cpu_time_ms", c->default_timeout_ms, max_ms},
		{"wall_time_ms", c->default_timeout_ms, max_ms},
		{"memory_kb", (uint64_t)c->default_memory_limit_mb * 1024,
		 (uint64_t)c->max_memory_mb * 1024},
		{"pids", 128, 4096},
		{"fsize_kb", 65536, 1u << 20},
		{"nofile", 256, 4096},
		{"stack_kb", 8192, 1u << 20},
		{"output_bytes", c->max_output_bytes, c->max_output_bytes},
	};

	memcpy(rules, r, sizeof(r));
}

static bool limit_has(const Sbx__Limits *l, const ProtobufCFieldDescriptor *f)
{
	return l && *(const protobuf_c_boolean *)((const char *)l + f->quantifier_offset);
}

static uint64_t limit_get(const Sbx__Limits *l, const ProtobufCFieldDescriptor *f)
{
	return f->type == PROTOBUF_C_TYPE_UINT32 ? *(const uint32_t *)((const char *)l + f->offset)
						 : *(const uint64_t *)((const char *)l + f->offset);
}

static void limit_set(Sbx__Limits *l, const ProtobufCFieldDescriptor *f, uint64_t v)
{
	*(protobuf_c_boolean *)((char *)l + f->quantifier_offset) = 1;
	if (f->type == PROTOBUF_C_TYPE_UINT32)
		*(uint32_t *)((char *)l + f->offset) = (uint32_t)v;
	else
		*(uint64_t *)((char *)l + f->offset) = v;
}

void exec_limits_overlay(Sbx__Limits *out, const Sbx__Limits *in)
{
	const ProtobufCMessageDescriptor *d = &sbx__limits__descriptor;

	for (unsigned i = 0; in && i < d->n_fields; i++)
		if (limit_has(in, &d->fields[i]))
			limit_set(out, &d->fields[i], limit_get(in, &d->fields[i]));
}

static const struct limit_rule *limit_rule_of(const struct limit_rule *rules, size_t n,
					      const char *field)
{
	for (size_t j = 0; j < n; j++)
		if (strcmp(rules[j].field, field) == 0)
			return &rules[j];
	return NULL;
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
		const struct limit_rule *rule =
			limit_rule_of(rules, SBX_ARRAY_SIZE(rules), f->name);
		uint64_t v;

		if (!rule)
			return sbx_rpc_error(call, -EINVAL, "limit '%s' has no rule", f->name);
		v = rule->def;
		if (limit_has(in, f)) {
			v = limit_get(in, f);
			if (v == 0 || v > rule->max)
				return sbx_rpc_error(call, -EINVAL,
						     "limit '%s' must be from 1 to %llu, not %llu",
						     f->name, (unsigned long long)rule->max,
						     (unsigned long long)v);
		}
		limit_set(out, f, v);
	}
	/* A CPU limit alone leaves room for waiting (I/O, sleep) beyond it; a
	 * wall limit alone caps CPU at the same figure. */
	if (cpu_given && !wall_given)
		out->wall_time_ms =
			out->cpu_time_ms * 2 + 1000 < (uint64_t)cfg->max_execution_time_s * 1000
				? out->cpu_time_ms * 2 + 1000
				: (uint64_t)cfg->max_execution_time_s * 1000;
	if (wall_given && !cpu_given)
		out->cpu_time_ms = out->wall_time_ms;
	return 0;
}

/* The runtime row's compile limit named like a Limits field; 0: none. */
static uint64_t row_compile_limit(const struct sbx_runtime_limits *rl, const char *field)
{
	const struct {
		const char *field;
		uint64_t v;
	} m[] = {
		{"cpu_time_ms", rl->cpu_time_ms}, {"wall_time_ms", rl->wall_time_ms},
		{"memory_kb", rl->memory_kb},	  {"pids", rl->pids},
		{"fsize_kb", rl->fsize_kb},	  {"nofile", rl->nofile},
	};

	for (size_t i = 0; i < SBX_ARRAY_SIZE(m); i++)
		if (strcmp(m[i].field, field) == 0)
			return m[i].v;
	return 0;
}

/* ExecuteRequest.compile_limits: each field given from 1 to the larger of
 * the daemon's maximum and the row's own compile limit (compilers need
 * more than the programs they build). Without a compile step: unused. */
static int set_compile_limits(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	const Sbx__Limits *in = j->spec->compile_request_limits;
	const ProtobufCMessageDescriptor *d = &sbx__limits__descriptor;
	struct limit_rule rules[8];

	if (!in || !j->compile)
		return 0;
	limit_rules(x->cfg, rules);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const struct limit_rule *rule =
			limit_rule_of(rules, SBX_ARRAY_SIZE(rules), f->name);
		uint64_t v = limit_get(in, f), max = rule ? rule->max : 0;

		if (j->compile_limits && row_compile_limit(j->compile_limits, f->name) > max)
			max = row_compile_limit(j->compile_limits, f->name);
		if (limit_has(in, f) && (v == 0 || v > max))
			return sbx_rpc_error(call, -EINVAL,
					     "compile limit '%s' must be from 1 to %llu, not %llu",
					     f->name, (unsigned long long)max,
					     (unsigned long long)v);
	}
	j->compile_request = in;
	return 0;
}

/* The environment of a spec: base, then "KEY=value" entries, a later entry
 * replacing an earlier one of the same key (getenv() would find the first). */
static int build_env_strv(Sbx__SpawnRequest *s, const char *const *env, size_t n_env,
			  struct sbx_rpc_call *call)
{
	size_t n = SBX_ARRAY_SIZE(base_env), bytes = 0;

	if (n_env > EXEC_MAX_ENV)
		return sbx_rpc_error(call, -EINVAL, "at most %d environment variables are allowed",
				     EXEC_MAX_ENV);
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
			return sbx_rpc_error(call, -EINVAL,
					     "environment variable '%.64s' is not KEY=value",
					     env[i]);
		bytes += strlen(env[i]) + 1;
		if (bytes > EXEC_MAX_ENV_BYTES)
			return sbx_rpc_error(call, -EINVAL,
					     "the environment is larger than %u bytes",
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
static int build_env_map(Sbx__SpawnRequest *s, Sbx__RunRequest__EnvEntry *const *env, size_t n_env,
			 struct sbx_rpc_call *call)
{
	char **kv;
	int r = 0;

	if (n_env > EXEC_MAX_ENV)
		return sbx_rpc_error(call, -EINVAL, "at most %d environment variables are allowed",
				     EXEC_MAX_ENV);
	kv = calloc(n_env ? n_env : 1, sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	for (size_t i = 0; i < n_env && r == 0; i++) {
		const char *k = env[i]->key, *v = env[i]->value;

		if (!*k || strchr(k, '=') || strlen(k) > 256)
			r = sbx_rpc_error(call, -EINVAL,
					  "environment variable name '%.64s' is not valid", k);
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

/* A UUID that names this node (its tag first, nodeid.h). */
static int new_execution_id(const char *tag, char **ret)
{
	char *s = malloc(SBX_UUID_LEN + 1);

	if (!s)
		return -ENOMEM;
	sbx_tagged_uuid(tag, s);
	*ret = s;
	return 0;
}

/* src then more (the request's args), copied. */
static int copy_argv(char ***dst, size_t *n_dst, const char *const *src, size_t n,
		     const char *const *more, size_t n_more)
{
	*dst = calloc(n + n_more ? n + n_more : 1, sizeof(char *));
	if (!*dst)
		return -ENOMEM;
	for (size_t i = 0; i < n + n_more; i++)
		if (!((*dst)[(*n_dst)++] = strdup(i < n ? src[i] : more[i - n])))
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

int exec_job_init(struct sbx_executor *x, struct exec_job *j)
{
	j->s = spawn_new();
	if (!j->s)
		return -ENOMEM;
	j->started_ms = sbx_clock_wall_ms();
	exec_inflight_add(x, &j->f, j->spec->object_id);
	return 0;
}

void exec_job_fini(struct exec_job *j)
{
	if (j->net) {
		sbx_bridge_release(j->bridge, j->net, j->spec->install);
		j->s->bridge = NULL;
		sbx__bridge_net__free_unpacked(j->net, NULL);
	}
	if (j->compile_res)
		sbx__exec_result__free_unpacked(j->compile_res, NULL);
	free(j->compile_own);
	free(j->files);
	free(j->ws);
	spawn_free(j->s);
}

static size_t strv_len(const char *const *v, size_t max)
{
	size_t n = 0;

	while (n < max && v[n])
		n++;
	return n;
}

/* Judge0's compiler_options: after the compiler itself, before the row's
 * own arguments (gcc -O0 -o main main.c), or after them all for a row
 * whose script passes them on. The strings are the spec's. */
static int add_compiler_options(struct sbx_rpc_call *call, struct exec_job *j)
{
	const struct sbx_exec_spec *spec = j->spec;
	size_t n = j->n_compile + spec->n_compiler_options;
	size_t at = j->rt->compile_options_last ? j->n_compile : 1;

	if (spec->n_compiler_options > EXEC_MAX_ARGS)
		return sbx_rpc_error(call, -EINVAL, "at most %d compiler options are allowed",
				     EXEC_MAX_ARGS);
	j->compile_own = calloc(n + 1, sizeof(*j->compile_own));
	if (!j->compile_own)
		return -ENOMEM;
	memcpy(j->compile_own, j->compile, at * sizeof(*j->compile_own));
	for (size_t i = 0; i < spec->n_compiler_options; i++)
		if (!(j->compile_own[at + i] = spec->compiler_options[i]))
			return sbx_rpc_error(call, -EINVAL, "compiler options must be strings");
	memcpy(j->compile_own + at + spec->n_compiler_options, j->compile + at,
	       (j->n_compile - at) * sizeof(*j->compile_own));
	j->compile = j->compile_own;
	j->n_compile = n;
	return 0;
}

/* Code in a language: the row's run argv, its source file first (so that
 * a request file cannot replace it), its compile step. */
static int check_code(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	const struct sbx_exec_spec *spec = j->spec;
	int r;

	if (!spec->language || !*spec->language)
		return sbx_rpc_error(call, -EINVAL, "field 'language' is required (one of: %s)",
				     sbx_runtimes_names(x->rt));
	if ((r = sbx_executor_check_language(x, call, spec->language, NULL)) < 0)
		return r;
	j->rt = sbx_runtimes_find(x->rt, spec->language);
	if (!j->rt)
		return sbx_rpc_error(call, -EINVAL, "unsupported language '%.64s' (supported: %s)",
				     spec->language, sbx_runtimes_names(x->rt));
	j->n_compile = strv_len(j->rt->compile, SBX_RT_ARGV_MAX);
	j->compile = j->n_compile ? j->rt->compile : NULL;
	j->compile_limits = &j->rt->compile_limits;
	if (j->compile && spec->n_compiler_options && (r = add_compiler_options(call, j)) < 0)
		return r;
	sbx__file__init(&j->src);
	j->src.path = (char *)j->rt->source;
	j->src.content.data = (uint8_t *)spec->code;
	j->src.content.len = strlen(spec->code);
	return 0;
}

/* A final command, and the compile step its caller built. */
static int check_command(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	const struct sbx_exec_spec *spec = j->spec;
	bool ok = spec->n_argv > 0 && spec->n_argv <= EXEC_MAX_ARGS;

	for (size_t i = 0; ok && i < spec->n_argv; i++)
		ok = spec->argv[i] != NULL;
	if (!ok)
		return sbx_rpc_error(call, -EINVAL,
				     "field 'command' must be a non-empty array of strings");
	j->compile = spec->n_compile ? spec->compile : NULL;
	j->n_compile = j->compile ? spec->n_compile : 0;
	j->compile_limits = spec->compile_limits;
	return sbx_executor_check_language(x, call, spec->language, spec->argv[0]);
}

/* What runs (a command or code, in a language the configuration allows),
 * with how many files, and where its live output goes. */
static int check_program(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	const struct sbx_exec_spec *spec = j->spec;
	size_t n_src = spec->code != NULL;
	int r;

	if (spec->log_id && *spec->log_id && !spec->object_id && !log_id_ok(spec->log_id))
		return sbx_rpc_error(call, -EINVAL,
				     "field 'log_id' must be 'live-' followed by 1 to 59 "
				     "letters, digits or '-'");
	j->f.log_id = spec->log_id && *spec->log_id ? spec->log_id : NULL;
	r = spec->code ? check_code(x, call, j) : check_command(x, call, j);
	if (r < 0)
		return r;
	if (spec->n_args > EXEC_MAX_ARGS)
		return sbx_rpc_error(call, -EINVAL, "at most %d arguments are allowed",
				     EXEC_MAX_ARGS);
	for (size_t i = 0; i < spec->n_args; i++)
		if (!spec->args[i])
			return sbx_rpc_error(call, -EINVAL, "arguments must be strings");
	if (spec->n_files + n_src > EXEC_MAX_FILES)
		return sbx_rpc_error(call, -EINVAL, "at most %zu files are allowed",
				     EXEC_MAX_FILES - n_src);
	return 0;
}

/* The spec's files, the source first. */
static int copy_files(struct exec_job *j)
{
	const struct sbx_exec_spec *spec = j->spec;
	size_t n = spec->code != NULL;

	if (n + spec->n_files == 0)
		return 0;
	j->files = calloc(n + spec->n_files, sizeof(*j->files));
	if (!j->files)
		return -ENOMEM;
	if (n)
		j->files[0] = &j->src;
	if (spec->n_files)
		memcpy(j->files + n, spec->files, spec->n_files * sizeof(*j->files));
	j->s->files = j->files;
	j->s->n_files = n + spec->n_files;
	return 0;
}

static int set_limits(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	return resolve_limits(x->cfg, j->spec->limits, j->s->limits, call);
}

static int set_argv(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	Sbx__SpawnRequest *s = j->s;

	if (j->spec->code)
		return copy_argv(&s->argv, &s->n_argv, j->rt->run,
				 strv_len(j->rt->run, SBX_RT_ARGV_MAX), j->spec->args,
				 j->spec->n_args);
	return copy_argv(&s->argv, &s->n_argv, j->spec->argv, j->spec->n_argv, j->spec->args,
			 j->spec->n_args);
}

static int set_env(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	if (j->spec->env_map)
		return build_env_map(j->s, j->spec->env_map, j->spec->n_env_map, call);
	return build_env_strv(j->s, j->spec->env, j->spec->n_env, call);
}

/* A run limit the request left unset, raised to the row's floor (never
 * past the daemon's maximum for it). */
static void raise_floor(const struct sbx_config *cfg, const Sbx__Limits *in, Sbx__Limits *out,
			const struct sbx_runtime_limits *fl)
{
	uint64_t max_ms = (uint64_t)cfg->max_execution_time_s * 1000,
		 max_kb = (uint64_t)cfg->max_memory_mb * 1024;

#define RAISE(field, max)                                                                          	if (fl->field && !(in && in->has_##field) && out->field < fl->field)                      		out->field = fl->field < (max) ? fl->field : (max);
	RAISE(cpu_time_ms, max_ms)
	RAISE(wall_time_ms, max_ms)
	RAISE(memory_kb, max_kb)
	RAISE(pids, 4096u)
	RAISE(fsize_kb, 1u << 20)
	RAISE(nofile, 4096u)
#undef RAISE
}

/* A "KEY=value" of the row, unless the request set KEY (its own wins). */
static int add_row_env(Sbx__SpawnRequest *s, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	char **v;

	for (size_t i = SBX_ARRAY_SIZE(base_env); i < s->n_env; i++)
		if (strncmp(s->env[i], kv, klen + 1) == 0)
			return 0;
	v = realloc(s->env, (s->n_env + 1) * sizeof(char *));
	if (!v)
		return -ENOMEM;
	s->env = v;
	return (s->env[s->n_env++] = strdup(kv)) ? 0 : -ENOMEM;
}

/* What the language's toolchain needs in the sandbox, from its runtimes
 * row: code in a language, or a command that names one (a sandbox's
 * entry point). Its compile step shares the binds and environment. */
static int set_toolchain(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	const struct sbx_runtime *rt = j->rt;
	Sbx__SpawnRequest *s = j->s;
	size_t n = 0;
	int r = 0;

	if (!rt && j->spec->language && *j->spec->language)
		rt = sbx_runtimes_find(x->rt, j->spec->language);
	if (!rt)
		return 0;
	for (size_t i = 0; r == 0 && i < SBX_RT_ENV_MAX && rt->env[i]; i++)
		r = add_row_env(s, rt->env[i]);
	if (r < 0)
		return r;
	raise_floor(x->cfg, j->spec->limits, s->limits, &rt->run_floor);
	while (n < SBX_RT_BINDS_MAX && rt->binds[n])
		n++;
	if (!n)
		return 0;
	s->binds = calloc(n, sizeof(*s->binds));
	if (!s->binds)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		Sbx__BindMount *b = malloc(sizeof(*b));

		if (!b)
			return -ENOMEM;
		sbx__bind_mount__init(b);
		s->binds[s->n_binds++] = b;
		if (!(b->source = strdup(rt->binds[i])))
			return -ENOMEM;
	}
	return 0;
}

static int set_execution_id(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	int r = new_execution_id(x->cfg->node_tag, &j->s->execution_id);

	if (r == 0)
		exec_inflight_set_id(x, &j->f, j->s->execution_id);
	return r;
}

/* The bridge's resolv.conf over the host's: the one bind a link adds. */
static int add_resolv_bind(Sbx__SpawnRequest *s, const char *resolv)
{
	Sbx__BindMount **v = realloc(s->binds, (s->n_binds + 1) * sizeof(*v));
	Sbx__BindMount *b = malloc(sizeof(*b));

	if (v)
		s->binds = v;
	if (!v || !b) {
		free(b);
		return -ENOMEM;
	}
	sbx__bind_mount__init(b);
	s->binds[s->n_binds++] = b;
	if (!(b->source = strdup(resolv)) || !(b->target = strdup("/etc/resolv.conf")))
		return -ENOMEM;
	return 0;
}

static int set_network(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	const char *resolv;

	if (!j->spec->network)
		return 0;
	if (!x->bridge && j->spec->install) {
		j->s->network = true;
		return 0;
	}
	if (!x->bridge)
		return sbx_rpc_error(call, -EINVAL, "network access is off: NETWORK_MODE is none");
	int r = sbx_bridge_acquire(x->bridge, j->spec->install, &j->net, &resolv);
	if (r == -EAGAIN)
		return sbx_rpc_error(call, r,
				     "every address of SANDBOX_BRIDGE_SUBNET is in use; try again");
	if (r < 0)
		return sbx_rpc_error(call, r, "cannot set up the sandbox's network");
	j->bridge = x->bridge;
	j->s->bridge = j->net;
	return add_resolv_bind(j->s, resolv);
}

static int set_places(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	const struct sbx_exec_spec *spec = j->spec;
	Sbx__SpawnRequest *s = j->s;

	if ((spec->cwd && *spec->cwd && !(s->cwd = strdup(spec->cwd))) ||
	    (spec->workspace && !(s->workspace = strdup(spec->workspace))) ||
	    (spec->tmp_dir && !(s->tmp_dir = strdup(spec->tmp_dir))))
		return -ENOMEM;
	s->merge_stderr = spec->merge_stderr;
	s->want_output = spec->want_output;
	s->stdin = spec->stdin;
	return copy_files(j);
}

static int set_service(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	if (!j->spec->service)
		return 0;
	if (!x->ops->run_stream)
		return sbx_rpc_error(call, -EOPNOTSUPP,
				     "long-running services need the native backend, not %s",
				     x->ops->name);
	j->s->service = true;
	j->s->limits->wall_time_ms = j->s->limits->cpu_time_ms = SERVICE_TIME_MS;
	return 0;
}

/* The spec into j->s, in this order: the first refusal is the one the
 * caller hears, as it always was. */
static int (*const prepare_steps[])(struct sbx_executor *, struct sbx_rpc_call *,
				    struct exec_job *) = {
	check_program,	    /* log_id, a command or code in an allowed language, files */
	set_limits,	    /* the daemon's defaults; refused above its maxima */
	set_compile_limits, /* the request's compile limits, up to the row's */
	set_argv,	    /* the command, or the runtime's run argv */
	set_env,	    /* base environment, then the spec's */
	set_toolchain,	    /* the language row's binds, environment, run-limit floors */
	set_execution_id,   /* the history's id; sbx_executor_cancel can find it */
	set_places,	    /* cwd, workspace, /tmp, stdin, files */
	set_network,	    /* a bridge link, the host's namespace (install), or refused */
	set_service,	    /* a service: live output, the engine's longest limits */
};

int exec_job_prepare(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < SBX_ARRAY_SIZE(prepare_steps); i++)
		r = prepare_steps[i](x, call, j);
	return r;
}

int sbx_executor_run(struct sbx_executor *x, struct sbx_rpc_call *call, const Sbx__RunRequest *req,
		     Sbx__ExecResult **ret)
{
	const struct sbx_exec_spec spec = {
		.argv = (const char *const *)req->argv,
		.n_argv = req->n_argv,
		.files = req->files,
		.n_files = req->n_files,
		.env_map = req->env,
		.n_env_map = req->n_env,
		.limits = req->limits,
		.cwd = req->cwd,
		.stdin = req->stdin,
		.kind = "run",
		.network = req->network,
	};

	int r = sbx_executor_spawn(x, call, &spec, ret);

	if (r == 0)
		sbx_exec_result_show(*ret);
	return r;
}

int sbx_executor_execute(struct sbx_executor *x, struct sbx_rpc_call *call,
			 const Sbx__ExecuteRequest *req, Sbx__ExecResult **ret)
{
	const struct sbx_exec_spec spec = {
		.language = req->language,
		.code = req->code ? req->code : "",
		.files = req->files,
		.n_files = req->n_files,
		/* protoc-c gives each map its own entry type; all are {base, key, value}. */
		.env_map = (Sbx__RunRequest__EnvEntry *const *)req->env,
		.n_env_map = req->n_env,
		.limits = req->limits,
		.stdin = req->stdin,
		.kind = "execute",
		.log_id = req->log_id,
		.args = (const char *const *)req->args,
		.n_args = req->n_args,
		.compiler_options = (const char *const *)req->compiler_options,
		.n_compiler_options = req->n_compiler_options,
		.compile_request_limits = req->compile_limits,
		.merge_stderr = req->merge_stderr,
		.want_output = req->want_output,
		.network = req->network,
	};

	int r = sbx_executor_spawn(x, call, &spec, ret);

	if (r == 0)
		sbx_exec_result_show(*ret);
	return r;
}
