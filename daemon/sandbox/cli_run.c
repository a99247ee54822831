/* `sandboxd --run`: see cli_run.h. Parsing fills one SpawnRequest (data),
 * then the engine runs it; nothing here touches the kernel itself. */
#include "cli_run.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "engine.h"
#include "fdio.h"

#define CLI_MAX_STDIN (64u << 20)
#define CLI_MAX_ENV 256
#define CLI_MAX_BINDS 32

static const char usage[] =
	"Usage: sandboxd --run [OPTIONS] -- COMMAND [ARGS...]\n"
	"Run COMMAND once in a fresh sandbox (no daemon needed) and exit with its\n"
	"exit code (128+N if killed by signal N, 125 if the sandbox failed).\n"
	"\n"
	"  --time MS        CPU time limit (default 5000)\n"
	"  --wall MS        wall clock limit (default 3 x --time)\n"
	"  --mem KB         memory limit (default 2097152)\n"
	"  --fsize KB       largest file it may write (default 10240)\n"
	"  --nofile N       open files (default 64)\n"
	"  --pids N         processes and threads (default 128)\n"
	"  --stack KB       stack size (default 8192)\n"
	"  --output BYTES   kept stdout/stderr bytes each (default 16777216)\n"
	"  --env K=V        add to the (otherwise minimal) environment; repeatable\n"
	"  --bind SRC[:DST] read-only bind of a host path; repeatable\n"
	"  --workspace DIR  host dir mounted read-write at /workspace (kept)\n"
	"  --net            share the host network (default: loopback only)\n"
	"  --state-dir DIR  engine state (default /var/lib/sandboxd)\n"
	"  --help           this text\n"
	"Standard input is passed through (unless it is a terminal).\n";

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
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

enum { O_TIME = 256, O_WALL, O_MEM, O_FSIZE, O_NOFILE, O_PIDS, O_STACK, O_OUTPUT, O_ENV,
       O_BIND, O_WS, O_NET, O_STATE, O_HELP, O_RUN };

int sbx_cli_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"run", no_argument, NULL, O_RUN},
		{"time", required_argument, NULL, O_TIME},
		{"wall", required_argument, NULL, O_WALL},
		{"mem", required_argument, NULL, O_MEM},
		{"fsize", required_argument, NULL, O_FSIZE},
		{"nofile", required_argument, NULL, O_NOFILE},
		{"pids", required_argument, NULL, O_PIDS},
		{"stack", required_argument, NULL, O_STACK},
		{"output", required_argument, NULL, O_OUTPUT},
		{"env", required_argument, NULL, O_ENV},
		{"bind", required_argument, NULL, O_BIND},
		{"workspace", required_argument, NULL, O_WS},
		{"net", no_argument, NULL, O_NET},
		{"state-dir", required_argument, NULL, O_STATE},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	Sbx__Limits lim = SBX__LIMITS__INIT;
	lim.has_cpu_time_ms = lim.has_wall_time_ms = lim.has_memory_kb = lim.has_pids = true;
	lim.has_fsize_kb = lim.has_nofile = lim.has_stack_kb = lim.has_output_bytes = true;
	lim.cpu_time_ms = 5000;
	lim.memory_kb = 2097152;
	lim.fsize_kb = 10240;
	lim.nofile = 64;
	lim.pids = 128;
	lim.stack_kb = 8192;
	lim.output_bytes = 16u << 20;
	bool wall_set = false;
	char *env[CLI_MAX_ENV + 3] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/workspace",
				      "LANG=C.UTF-8"};
	size_t n_env = 3;
	Sbx__BindMount binds[CLI_MAX_BINDS], *bindp[CLI_MAX_BINDS];
	char bindbuf[CLI_MAX_BINDS][1024];
	size_t n_binds = 0;
	Sbx__SpawnRequest req = SBX__SPAWN_REQUEST__INIT;
	const char *state_dir = "/var/lib/sandboxd";
	uint64_t v = 0;

	optind = 1;
	opterr = 1;
	for (int c; (c = getopt_long(argc, argv, "+", opts, NULL)) != -1;) {
		int bad = 0;
		switch (c) {
		case O_RUN:
			break;
		case O_TIME:
			bad = parse_u64(optarg, &lim.cpu_time_ms);
			break;
		case O_WALL:
			bad = parse_u64(optarg, &lim.wall_time_ms);
			wall_set = true;
			break;
		case O_MEM:
			bad = parse_u64(optarg, &lim.memory_kb);
			break;
		case O_FSIZE:
			bad = parse_u64(optarg, &lim.fsize_kb);
			break;
		case O_NOFILE:
			bad = parse_u64(optarg, &v) ?: v > 1u << 20 ? -EINVAL : 0;
			lim.nofile = (uint32_t)v;
			break;
		case O_PIDS:
			bad = parse_u64(optarg, &v) ?: v > 1u << 20 ? -EINVAL : 0;
			lim.pids = (uint32_t)v;
			break;
		case O_STACK:
			bad = parse_u64(optarg, &lim.stack_kb);
			break;
		case O_OUTPUT:
			bad = parse_u64(optarg, &lim.output_bytes);
			break;
		case O_ENV:
			if (n_env >= SBX_ARRAY_SIZE(env) || !strchr(optarg, '='))
				bad = -EINVAL;
			else
				env[n_env++] = optarg;
			break;
		case O_BIND: {
			if (n_binds >= CLI_MAX_BINDS || strlen(optarg) >= sizeof(bindbuf[0])) {
				bad = -EINVAL;
				break;
			}
			char *b = strcpy(bindbuf[n_binds], optarg), *colon = strchr(b, ':');
			sbx__bind_mount__init(&binds[n_binds]);
			if (colon)
				*colon = 0;
			binds[n_binds].source = b;
			binds[n_binds].target = colon ? colon + 1 : "";
			bindp[n_binds] = &binds[n_binds];
			n_binds++;
			break;
		}
		case O_WS:
			req.workspace = optarg;
			break;
		case O_NET:
			req.network = true;
			break;
		case O_STATE:
			state_dir = optarg;
			break;
		case O_HELP:
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "sandboxd: invalid value for --%s: %s\n",
				opts[c - O_TIME + 1].name, optarg);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!wall_set)
		lim.wall_time_ms = lim.cpu_time_ms * 3;
	req.argv = argv + optind;
	req.n_argv = (size_t)(argc - optind);
	req.env = env;
	req.n_env = n_env;
	req.binds = bindp;
	req.n_binds = n_binds;
	req.limits = &lim;
	/* req only borrows the buffer; this owns it. */
	_cleanup_free_ uint8_t *stdin_buf = NULL;
	int r = read_stdin(&req.stdin);
	stdin_buf = req.stdin.data;
	if (r < 0) {
		fprintf(stderr, "sandboxd: reading stdin: %s\n", strerror(-r));
		return 125;
	}

	struct sbx_engine_config cfg;
	sbx_engine_config_init(&cfg);
	cfg.state_dir = state_dir;
	cfg.max_concurrent = 1;
	cfg.netns_pool = 1;
	cfg.no_netns_pool = true; /* one run: a pool would only cost */
	cfg.no_cgroup_pool = true;
	cfg.trace = getenv("SBX_ENGINE_TRACE") != NULL;
	struct sbx_engine *e = NULL;
	r = sbx_engine_new(&cfg, &e);
	if (r < 0) {
		fprintf(stderr, "sandboxd: cannot start the sandbox engine: %s\n", strerror(-r));
		return 125;
	}
	Sbx__ExecResult *res = NULL;
	r = sbx_engine_run(e, &req, &res);
	sbx_engine_free(e);
	if (r < 0 && !res) {
		fprintf(stderr, "sandboxd: %s\n", strerror(-r));
		return 125;
	}
	/* Nobody to tell when stdout or stderr is gone. */
	(void)sbx_write_full(1, res->stdout.data, res->stdout.len);
	(void)sbx_write_full(2, res->stderr.data, res->stderr.len);
	int code;
	switch (res->status) {
	case SBX__EXEC_STATUS__EXEC_STATUS_OK:
	case SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR:
		code = res->exit_code;
		if (res->error[0] && res->exit_code == 127 && res->signal == 0 &&
		    strstr(res->error, "exec"))
			fprintf(stderr, "sandboxd: %s\n", res->error);
		break;
	case SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR:
		fprintf(stderr, "sandboxd: %s\n", res->error);
		code = 125;
		break;
	default:
		fprintf(stderr, "sandboxd: %s\n", res->error);
		code = res->signal ? 128 + res->signal : res->exit_code ? res->exit_code : 1;
		break;
	}
	sbx__exec_result__free_unpacked(res, NULL);
	return code;
}
