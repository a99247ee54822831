/* `sandboxd --run`: see cli_run.h. Parsing fills one SpawnRequest (data),
 * then the engine runs it; nothing here touches the kernel itself. */
#include "cli_run.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "engine.h"
#include "fdio.h"
#include "options.h"

#define CLI_MAX_STDIN (64u << 20)
#define CLI_MAX_ENV 256
#define CLI_MAX_BINDS 32

/* What the flags fill: the request's parts before they become one. */
struct run_opts {
	Sbx__Limits lim;
	bool wall_set;
	char *env[CLI_MAX_ENV + 3];
	size_t n_env;
	Sbx__BindMount binds[CLI_MAX_BINDS], *bindp[CLI_MAX_BINDS];
	char bindbuf[CLI_MAX_BINDS][1024];
	size_t n_binds;
	const char *workspace;
	bool net;
	const char *state_dir;
};

static int set_wall(void *cfg, const char *v)
{
	struct run_opts *ro = cfg;

	ro->wall_set = true;
	return sbx_opts_parse_uint(v, false, &ro->lim.wall_time_ms);
}

static int add_env(void *cfg, const char *v)
{
	struct run_opts *ro = cfg;

	if (ro->n_env >= SBX_ARRAY_SIZE(ro->env) || !strchr(v, '='))
		return -EINVAL;
	ro->env[ro->n_env++] = (char *)v;
	return 0;
}

static int add_bind(void *cfg, const char *v)
{
	struct run_opts *ro = cfg;
	Sbx__BindMount *bm = &ro->binds[ro->n_binds];
	char *b, *colon;

	if (ro->n_binds >= CLI_MAX_BINDS || strlen(v) >= sizeof(ro->bindbuf[0]))
		return -EINVAL;
	b = strcpy(ro->bindbuf[ro->n_binds], v);
	colon = strchr(b, ':');
	sbx__bind_mount__init(bm);
	if (colon)
		*colon = 0;
	bm->source = b;
	bm->target = colon ? colon + 1 : "";
	ro->bindp[ro->n_binds++] = bm;
	return 0;
}

#define LIMIT(flag_, type_, field_, def_, max_, arg_, help_)                                       \
	{                                                                                          \
		.flag = flag_, .type = type_, .offset = offsetof(struct run_opts, lim.field_),     \
		.def = def_, .max = max_, .arg = arg_, .help = help_                               \
	}
#define CUSTOM(flag_, set_, arg_, help_)                                                           \
	{                                                                                          \
		.flag = flag_, .type = SBX_OPT_CUSTOM, .set = set_, .arg = arg_, .help = help_     \
	}

/* The flags of `sandboxd --run`, one row each (common/options.h); --help
 * and the defaults follow from them. */
static const struct sbx_opt rows[] = {
	{.flag = "run", .type = SBX_OPT_IGNORE, .help = "this mode (anywhere before --)"},
	LIMIT("time", SBX_OPT_U64, cpu_time_ms, "5000", UINT64_MAX, "MS", "CPU time limit"),
	{.flag = "wall",
	 .type = SBX_OPT_CUSTOM,
	 .set = set_wall,
	 .arg = "MS",
	 .help = "wall clock limit",
	 .def_help = "3 x --time"},
	LIMIT("mem", SBX_OPT_U64, memory_kb, "2097152", UINT64_MAX, "KB", "memory limit"),
	LIMIT("fsize", SBX_OPT_U64, fsize_kb, "10240", UINT64_MAX, "KB",
	      "largest file it may write"),
	LIMIT("nofile", SBX_OPT_U32, nofile, "64", 1u << 20, "N", "open files"),
	LIMIT("pids", SBX_OPT_U32, pids, "128", 1u << 20, "N", "processes and threads"),
	LIMIT("stack", SBX_OPT_U64, stack_kb, "8192", UINT64_MAX, "KB", "stack size"),
	LIMIT("output", SBX_OPT_U64, output_bytes, "16777216", UINT64_MAX, "BYTES",
	      "kept stdout/stderr bytes each"),
	CUSTOM("env", add_env, "K=V", "add to the (otherwise minimal) environment; repeatable"),
	CUSTOM("bind", add_bind, "SRC[:DST]", "read-only bind of a host path; repeatable"),
	{.flag = "workspace",
	 .type = SBX_OPT_REF,
	 .offset = offsetof(struct run_opts, workspace),
	 .arg = "DIR",
	 .help = "host dir mounted read-write at /workspace (kept)"},
	{.flag = "net",
	 .type = SBX_OPT_SWITCH,
	 .offset = offsetof(struct run_opts, net),
	 .help = "share the host network",
	 .def_help = "loopback only"},
	{.flag = "state-dir",
	 .type = SBX_OPT_REF,
	 .offset = offsetof(struct run_opts, state_dir),
	 .def = SBX_ENGINE_DEFAULT_STATE_DIR,
	 .arg = "DIR",
	 .help = "engine state"},
	{.flag = "help", .type = SBX_OPT_ACTION, .min = 1, .help = "this text"},
};

/* getopt_long's rules with "+": options end at the command. Values are
 * refused as "invalid value for --time: abc", whatever the row. */
static const struct sbx_opts table =
	SBX_OPTS(rows, SBX_OPTS_IN_ORDER | SBX_OPTS_TERSE, "unrecognized option '%s'",
		 "option '%s' requires an argument", "unexpected argument '%s'",
		 .ambiguous = "option '%s' is ambiguous; possibilities:");

static void usage(FILE *f)
{
	fputs("Usage: sandboxd --run [OPTIONS] -- COMMAND [ARGS...]\n"
	      "Run COMMAND once in a fresh sandbox (no daemon needed) and exit with its\n"
	      "exit code (128+N if killed by signal N, 125 if the sandbox failed).\n\n",
	      f);
	sbx_opts_usage(&table, f);
	fputs("Standard input is passed through (unless it is a terminal).\n", f);
}

/* Fill ro from argv: 1 and the command's index in *ret, or 0 and the exit
 * code in *ret (0 after --help, 2 on bad usage). */
static int parse_args(int argc, char **argv, struct run_opts *ro, int *ret)
{
	struct sbx_opts_iter it;
	const struct sbx_opt *o;
	const char *v;
	char err[256];
	int r, help = 0;

	*ro = (struct run_opts){
		.lim = SBX__LIMITS__INIT,
		.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/workspace", "LANG=C.UTF-8"},
		.n_env = 3};
	if (sbx_opts_defaults(&table, ro, err, sizeof(err)) < 0)
		abort(); /* a row's own default is refused: a bug in the table */
	sbx_opts_iter_init(&it, &table, argc, argv);
	while ((r = sbx_opts_next(&it, &o, &v, err, sizeof(err))) > 0) {
		if (sbx_opts_apply_arg(&table, ro, o, v, &help, err, sizeof(err)) < 0) {
			fprintf(stderr, "sandboxd: %s\n", err);
			*ret = 2;
			return 0;
		}
		if (help) {
			usage(stdout);
			*ret = 0;
			return 0;
		}
	}
	if (r < 0)
		fprintf(stderr, "sandboxd: %s\n", err);
	if (r < 0 || it.pos >= argc) {
		usage(stderr);
		*ret = 2;
		return 0;
	}
	*ret = it.pos;
	return 1;
}

static int read_stdin(ProtobufCBinaryData *out)
{
	if (isatty(0))
		return 0;
	size_t cap = 65536, len = 0;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= CLI_MAX_STDIN) {
				free(buf);
				return -EFBIG;
			}
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(0, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out->data = buf;
	out->len = len;
	return 0;
}

/* The exit code of a finished run, after saying why when it is not the
 * command's own. */
static int exit_code(const Sbx__ExecResult *res)
{
	switch (res->status) {
	case SBX__EXEC_STATUS__EXEC_STATUS_OK:
	case SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR:
		if (res->error[0] && res->exit_code == 127 && res->signal == 0 &&
		    strstr(res->error, "exec"))
			fprintf(stderr, "sandboxd: %s\n", res->error);
		return res->exit_code;
	case SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR:
		fprintf(stderr, "sandboxd: %s\n", res->error);
		return 125;
	default:
		fprintf(stderr, "sandboxd: %s\n", res->error);
		return res->signal ? 128 + res->signal : res->exit_code ? res->exit_code : 1;
	}
}

/* One engine, one run of req. */
static int run(Sbx__SpawnRequest *req, const char *state_dir)
{
	struct sbx_engine_config cfg;
	struct sbx_engine *e = NULL;
	Sbx__ExecResult *res = NULL;
	int r, code;

	sbx_engine_config_init(&cfg);
	cfg.state_dir = state_dir;
	cfg.max_concurrent = 1;
	cfg.netns_pool = 1;
	cfg.no_netns_pool = true; /* one run: a pool would only cost */
	cfg.no_cgroup_pool = true;
	cfg.trace = getenv("SBX_ENGINE_TRACE") != NULL;
	r = sbx_engine_new(&cfg, &e);
	if (r < 0) {
		fprintf(stderr, "sandboxd: cannot start the sandbox engine: %s\n", strerror(-r));
		return 125;
	}
	r = sbx_engine_run(e, req, &res);
	sbx_engine_free(e);
	if (r < 0 && !res) {
		fprintf(stderr, "sandboxd: %s\n", strerror(-r));
		return 125;
	}
	/* Nobody to tell when stdout or stderr is gone. */
	(void)sbx_write_full(1, res->stdout.data, res->stdout.len);
	(void)sbx_write_full(2, res->stderr.data, res->stderr.len);
	code = exit_code(res);
	sbx__exec_result__free_unpacked(res, NULL);
	return code;
}

int sbx_cli_run(int argc, char **argv)
{
	Sbx__SpawnRequest req = SBX__SPAWN_REQUEST__INIT;
	_cleanup_free_ uint8_t *stdin_buf = NULL;
	struct run_opts *ro;
	int r, cmd;

	/* About 70 KiB of bind paths: not for the stack of a small thread. */
	ro = malloc(sizeof(*ro));
	if (!ro) {
		fprintf(stderr, "sandboxd: %s\n", strerror(ENOMEM));
		return 125;
	}
	if (!parse_args(argc, argv, ro, &cmd)) {
		free(ro);
		return cmd;
	}
	ro->lim.has_cpu_time_ms = ro->lim.has_wall_time_ms = ro->lim.has_memory_kb = true;
	ro->lim.has_pids = ro->lim.has_fsize_kb = ro->lim.has_nofile = true;
	ro->lim.has_stack_kb = ro->lim.has_output_bytes = true;
	if (!ro->wall_set)
		ro->lim.wall_time_ms = ro->lim.cpu_time_ms * 3;
	req.argv = argv + cmd;
	req.n_argv = (size_t)(argc - cmd);
	req.env = ro->env;
	req.n_env = ro->n_env;
	req.binds = ro->bindp;
	req.n_binds = ro->n_binds;
	req.limits = &ro->lim;
	if (ro->workspace)
		req.workspace = (char *)ro->workspace;
	req.network = ro->net;
	/* req only borrows the buffer; this owns it. */
	r = read_stdin(&req.stdin);
	stdin_buf = req.stdin.data;
	if (r < 0)
		fprintf(stderr, "sandboxd: reading stdin: %s\n", strerror(-r));
	else
		r = run(&req, ro->state_dir);
	free(ro);
	return r < 0 ? 125 : r;
}
