#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "buf.h"
#include "cleanup.h"
#include "log.h"
#include "toml.h"

enum opt_type { OPT_STR, OPT_U32, OPT_BOOL };

/* One row per setting. `key` is its config.toml name (table.key), `env`
 * the environment variable of the seeds, `flag` the long option. */
struct opt {
	const char *key;
	const char *env;
	const char *flag;
	enum opt_type type;
	size_t offset;
	const char *def;
	uint32_t min, max;
	const char *help;
};

#define S(field) OPT_STR, offsetof(struct sbx_config, field)
#define U(field) OPT_U32, offsetof(struct sbx_config, field)
#define B(field) OPT_BOOL, offsetof(struct sbx_config, field)

static const struct opt opts[] = {
	{ "daemon.rpc", "SANDBOXD_RPC", "rpc", S(rpc_url), "ipc:///run/sandboxd/rpc.sock", 0, 0,
	  "nng URL of the RPC (req/rep) socket" },
	{ "daemon.events", "SANDBOXD_EVENTS", "events", S(events_url),
	  "ipc:///run/sandboxd/events.sock", 0, 0, "nng URL of the events (pub/sub) socket" },
	{ "daemon.state_dir", "SANDBOXD_STATE_DIR", "state-dir", S(state_dir), "/var/lib/sandboxd", 0,
	  0, "directory for workspaces, objects and history" },
	{ "daemon.proxy_dir", "SANDBOXD_PROXY_DIR", "proxy-dir", S(proxy_dir), "", 0, 0,
	  "directory of the forwarder sockets of deployments and dev servers (the gateway "
	  "connects to them); empty = <state-dir>/proxy" },
	{ "daemon.rpc_contexts", "SANDBOXD_RPC_CONTEXTS", "rpc-contexts", U(rpc_contexts), "64", 1,
	  4096, "RPC requests served at once" },
	{ "daemon.rpc_workers", "SANDBOXD_RPC_WORKERS", "rpc-workers", U(rpc_workers), "16", 1, 1024,
	  "threads running slow RPC handlers" },
	{ "daemon.api_key", "SANDBOX_API_KEY", "api-key", S(api_key), "", 0, 0,
	  "when set, every RPC must carry this token" },
	{ "sandbox.backend", "SANDBOX_BACKEND", "backend", S(backend), "native", 0, 0,
	  "isolation backend: native, docker or nsjail" },
	{ "sandbox.docker_host", "DOCKER_HOST", "docker-host", S(docker_host),
	  "unix:///var/run/docker.sock", 0, 0, "Docker Engine socket of the docker backend (unix:// only)" },
	{ "sandbox.docker_image", "SANDBOX_DOCKER_IMAGE", "docker-image", S(docker_image),
	  "sandboxd-runtime:latest", 0, 0, "image the docker backend runs executions in" },
	{ "sandbox.nsjail_path", "SANDBOX_NSJAIL_PATH", "nsjail-path", S(nsjail_path), "nsjail", 0, 0,
	  "nsjail binary of the nsjail backend (a bare name is looked up on PATH)" },
	{ "sandbox.default_timeout_ms", "SANDBOX_TIMEOUT_MS", "timeout-ms", U(default_timeout_ms),
	  "30000", 1, 86400000, "default wall-time limit of an execution" },
	{ "sandbox.default_memory_limit_mb", "SANDBOX_MEMORY_LIMIT_MB", "memory-limit-mb",
	  U(default_memory_limit_mb), "256", 1, 1048576, "default memory limit of an execution" },
	{ "sandbox.max_execution_time", "MAX_EXECUTION_TIME", "max-execution-time",
	  U(max_execution_time_s), "3600", 1, 86400, "largest time limit a request may ask (s)" },
	{ "sandbox.max_memory_mb", "MAX_MEMORY_MB", "max-memory-mb", U(max_memory_mb), "4096", 1,
	  1048576, "largest memory limit a request may ask" },
	{ "sandbox.max_concurrent_sandboxes", "MAX_CONCURRENT_EXECUTIONS", "max-concurrent",
	  U(max_concurrent), "10", 1, 4096, "executions running at once" },
	{ "sandbox.max_queued", "SANDBOX_MAX_QUEUED", "max-queued", U(max_queued), "64", 0, 65536,
	  "executions waiting for a slot before RESOURCE_EXHAUSTED" },
	{ "sandbox.max_output_bytes", "SANDBOX_MAX_OUTPUT_BYTES", "max-output-bytes",
	  U(max_output_bytes), "1048576", 1024, 67108864, "stdout/stderr kept per stream" },
	{ "sandbox.network_mode", "NETWORK_MODE", "network-mode", S(network_mode), "none", 0, 0,
	  "network of executions: none (loopback only)" },
	{ "sandbox.cleanup_interval_seconds", "SANDBOX_CLEANUP_INTERVAL", "cleanup-interval",
	  U(cleanup_interval_s), "30", 1, 86400, "how often idle objects are reclaimed" },
	{ "sandbox.session_idle_seconds", "SESSION_IDLE_TIMEOUT", "session-idle", U(session_idle_s),
	  "300", 1, 604800, "idle time after which a session expires" },
	{ "sandbox.sandbox_idle_seconds", "SANDBOX_IDLE_TIMEOUT", "sandbox-idle", U(sandbox_idle_s),
	  "3600", 1, 2592000, "idle time after which a sandbox that is not running is deleted" },
	{ "sandbox.max_sandboxes", "MAX_SANDBOXES", "max-sandboxes", U(max_sandboxes), "1000", 1,
	  1000000, "sandboxes that may exist at once" },
	{ "sandbox.max_deployments", "MAX_DEPLOYMENTS", "max-deployments", U(max_deployments), "50",
	  1, 100000, "deployments and persistent sandboxes that may exist at once" },
	{ "sandbox.service_ready_timeout_ms", "SERVICE_READY_TIMEOUT_MS", "ready-timeout-ms",
	  U(service_ready_timeout_ms), "60000", 100, 3600000,
	  "how long a proxied request waits for a (re)starting service to accept connections" },
	{ "sandbox.scale_down_after_minutes", "SCALE_DOWN_AFTER_MINUTES", "scale-down-minutes",
	  U(scale_down_after_minutes), "10", 1, 100000,
	  "idle minutes before a deployment with min_instances 0 is stopped, unless it says" },
	{ "sandbox.max_sessions", "MAX_SESSIONS", "max-sessions", U(max_sessions), "1000", 1, 1000000,
	  "sessions that may exist at once" },
	{ "sandbox.max_files", "SANDBOX_MAX_FILES", "max-files", U(max_files), "256", 1, 65536,
	  "files one request may write into a workspace" },
	{ "sandbox.max_upload_bytes", "SANDBOX_MAX_UPLOAD_BYTES", "max-upload-bytes",
	  U(max_upload_bytes), "16777216", 1, 60000000, "bytes of files one request may write" },
	{ "sandbox.history_max", "SANDBOX_HISTORY_MAX", "history-max", U(history_max), "10000", 1,
	  10000000, "executions kept in the history" },
	{ "logging.ring_lines", "SANDBOXD_LOG_RING_LINES", "log-ring-lines", U(log_ring_lines), "1000",
	  10, 100000, "recent daemon log lines kept in memory for the admin API" },
	{ "logs.max_rings", "SANDBOXD_LOGS_MAX_RINGS", "logs-max-rings", U(logs_max_rings), "256", 1,
	  65536, "objects whose live output lines are kept (the least recently finished goes)" },
	{ "logs.ring_lines", "SANDBOXD_LOGS_RING_LINES", "logs-ring-lines", U(logs_ring_lines),
	  "20000", 1, 10000000, "output lines kept per sandbox, session or execution" },
	{ "logs.ring_bytes", "SANDBOXD_LOGS_RING_BYTES", "logs-ring-bytes", U(logs_ring_bytes),
	  "2097152", 65536, 1073741824, "bytes of output lines kept per sandbox, session or execution" },
	{ "limits.rate_limit_per_minute", "RATE_LIMIT_PER_MINUTE", "rate-limit", U(rate_limit_per_minute),
	  "0", 0, 1000000, "requests per client per minute, 0 = off" },
	{ "limits.rate_limit_burst", "RATE_LIMIT_BURST", "rate-burst", U(rate_limit_burst), "10", 1,
	  1000000, "requests a client may burst" },
	{ "audit.enabled", "ENABLE_AUDIT_LOG", "audit", B(enable_audit_log), "true", 0, 0,
	  "write the JSON-lines audit log in the state dir" },
	{ "logging.level", "LOG_LEVEL", "log-level", S(log_level), "info", 0, 0,
	  "error, warn, info or debug" },
	{ "logging.format", "LOG_FORMAT", "log-format", S(log_format), "text", 0, 0, "text or json" },
};

static void *field(struct sbx_config *c, const struct opt *o) { return (char *)c + o->offset; }

static int set_value(struct sbx_config *c, const struct opt *o, const char *v, const char *from,
		     char *err, size_t errlen)
{
	char *end, *dup;
	unsigned long long n;

	switch (o->type) {
	case OPT_STR:
		dup = strdup(v);
		if (!dup)
			return -ENOMEM;
		free(*(char **)field(c, o));
		*(char **)field(c, o) = dup;
		return 0;
	case OPT_U32:
		errno = 0;
		n = strtoull(v, &end, 10);
		if (!*v || *end || errno || v[0] == '-' || n < o->min || n > o->max) {
			snprintf(err, errlen, "%s: %s must be an integer from %u to %u, not '%s'", from,
				 o->key, o->min, o->max, v);
			return -EINVAL;
		}
		*(uint32_t *)field(c, o) = (uint32_t)n;
		return 0;
	case OPT_BOOL:
		if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
			*(bool *)field(c, o) = true;
		else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
			*(bool *)field(c, o) = false;
		else {
			snprintf(err, errlen, "%s: %s must be true or false, not '%s'", from, o->key, v);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

static const struct opt *find_opt(const char *key)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(opts); i++)
		if (strcmp(opts[i].key, key) == 0)
			return &opts[i];
	return NULL;
}

static int toml_cb(void *arg, const char *key, const struct sbx_toml_value *v, char *err,
		   size_t errlen)
{
	const struct opt *o = find_opt(key);
	char num[32], from[64];

	/* The seed's [server] table configures the gateway, not the daemon. */
	if (!o && strncmp(key, "server.", 7) == 0)
		return 0;
	if (!o) {
		snprintf(err, errlen, "line %d: unknown setting '%s'", v->line, key);
		return -EINVAL;
	}
	snprintf(from, sizeof(from), "line %d", v->line);
	if (v->type == SBX_TOML_STRING)
		return set_value(arg, o, v->str, from, err, errlen);
	snprintf(num, sizeof(num), v->type == SBX_TOML_BOOL ? (v->num ? "true" : "false") : "%lld", v->num);
	return set_value(arg, o, num, from, err, errlen);
}

/* Bytes of config.toml read; the rest is ignored. */
#define CONFIG_FILE_MAX ((1u << 20) - 1)

static int load_file(struct sbx_config *c, char *err, size_t errlen)
{
	_cleanup_free_ char *text = NULL;
	struct sbx_buf b;
	char chunk[4096], sub[512];
	size_t n;
	FILE *f;
	int r;

	f = fopen(c->config_file, "re");
	if (!f) {
		snprintf(err, errlen, "cannot open config file %s: %s", c->config_file, strerror(errno));
		return -EINVAL;
	}
	/* As large as the file, not the maximum: a config is a few lines. */
	sbx_buf_init(&b, CONFIG_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < CONFIG_FILE_MAX)
		if (sbx_buf_append_some(&b, chunk, n) == 0) {
			sbx_buf_fini(&b);
			fclose(f);
			return -ENOMEM;
		}
	fclose(f);
	text = sbx_buf_steal(&b, NULL);
	if (!text)
		return -ENOMEM;
	r = sbx_toml_parse(text, toml_cb, c, sub, sizeof(sub));
	if (r < 0)
		snprintf(err, errlen, "%s: %s", c->config_file, sub);
	return r;
}

static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int validate(struct sbx_config *c, char *err, size_t errlen)
{
	if (sbx_log_level_parse(c->log_level) < 0) {
		snprintf(err, errlen, "log level must be error, warn, info or debug, not '%s'", c->log_level);
		return -EINVAL;
	}
	if (sbx_log_format_parse(c->log_format) < 0) {
		snprintf(err, errlen, "log format must be text or json, not '%s'", c->log_format);
		return -EINVAL;
	}
	if (!sbx_backend_find(c->backend)) {
		snprintf(err, errlen, "backend '%s' is not available (available: %s)", c->backend,
			 sbx_backend_names());
		return -EINVAL;
	}
	if (strcmp(c->network_mode, "none") != 0) {
		snprintf(err, errlen, "network mode '%s' is not supported (supported: none)", c->network_mode);
		return -EINVAL;
	}
	if (c->default_timeout_ms > (uint64_t)c->max_execution_time_s * 1000) {
		snprintf(err, errlen, "default timeout %u ms is above the maximum execution time %u s",
			 c->default_timeout_ms, c->max_execution_time_s);
		return -EINVAL;
	}
	if (c->default_memory_limit_mb > c->max_memory_mb) {
		snprintf(err, errlen, "default memory limit %u MB is above the maximum %u MB",
			 c->default_memory_limit_mb, c->max_memory_mb);
		return -EINVAL;
	}
	return 0;
}

int sbx_config_load(struct sbx_config *c, int argc, char **argv, char **envp,
		    enum sbx_config_action *ret_action, char *err, size_t errlen)
{
	struct option lopts[SBX_ARRAY_SIZE(opts) + 5];
	enum sbx_config_action action = SBX_ACTION_SERVE;
	const char *v;
	size_t n = 0;
	int r, ch, idx;

	*c = (struct sbx_config){ 0 };
	for (size_t i = 0; i < SBX_ARRAY_SIZE(opts); i++) {
		r = set_value(c, &opts[i], opts[i].def, "default", err, errlen);
		if (r < 0)
			return r;
		lopts[n++] = (struct option){ opts[i].flag, required_argument, NULL, 1000 + (int)i };
	}
	lopts[n++] = (struct option){ "config", required_argument, NULL, 'c' };
	lopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[n++] = (struct option){ "version", no_argument, NULL, 'V' };
	lopts[n++] = (struct option){ "print-config", no_argument, NULL, 'p' };
	lopts[n] = (struct option){ 0 };

	/* The config file comes first so that env and flags override it. */
	v = env_get(envp, "SANDBOX_CONFIG");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			v = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			v = argv[i] + 9;
	}
	if (v && *v) {
		c->config_file = strdup(v);
		if (!c->config_file)
			return -ENOMEM;
		r = load_file(c, err, errlen);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < SBX_ARRAY_SIZE(opts); i++) {
		v = env_get(envp, opts[i].env);
		if (v && (r = set_value(c, &opts[i], v, opts[i].env, err, errlen)) < 0)
			return r;
	}
	/* 0, not 1: glibc then forgets where an earlier call stopped inside a
	 * cluster of short options ("-Xh" refused at X would hand this call
	 * the "h", read from the earlier call's argv). */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hV", lopts, &idx)) != -1) {
		char from[64];

		switch (ch) {
		case 'c':
			break;
		case 'h':
			action = SBX_ACTION_HELP;
			break;
		case 'V':
			action = SBX_ACTION_VERSION;
			break;
		case 'p':
			action = SBX_ACTION_PRINT;
			break;
		case '?':
		case ':':
			/* A short option is a letter inside argv[optind] or the
			 * one before it, not necessarily the whole argument. */
			if (optopt > 0 && optopt < 256)
				snprintf(err, errlen, "unknown or incomplete option '-%c' (see --help)",
					 optopt);
			else
				snprintf(err, errlen, "unknown or incomplete option '%s' (see --help)",
					 argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(from, sizeof(from), "--%s", opts[ch - 1000].flag);
			r = set_value(c, &opts[ch - 1000], optarg, from, err, errlen);
			if (r < 0)
				return r;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	r = validate(c, err, errlen);
	if (r < 0)
		return r;
	*ret_action = action;
	return 0;
}

void sbx_config_fini(struct sbx_config *c)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(opts); i++)
		if (opts[i].type == OPT_STR)
			free(*(char **)field(c, &opts[i]));
	free(c->config_file);
	*c = (struct sbx_config){ 0 };
}

void sbx_config_print(const struct sbx_config *c, FILE *f)
{
	struct sbx_config *cc = (struct sbx_config *)c;

	for (size_t i = 0; i < SBX_ARRAY_SIZE(opts); i++) {
		const struct opt *o = &opts[i];

		switch (o->type) {
		case OPT_STR:
			fprintf(f, "%s = \"%s\"\n", o->key,
				o->offset == offsetof(struct sbx_config, api_key) && *c->api_key
					? "********"
					: *(char **)field(cc, o));
			break;
		case OPT_U32:
			fprintf(f, "%s = %u\n", o->key, *(uint32_t *)field(cc, o));
			break;
		case OPT_BOOL:
			fprintf(f, "%s = %s\n", o->key, *(bool *)field(cc, o) ? "true" : "false");
			break;
		}
	}
}

void sbx_config_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTIONS]\n"
		"       %s --run [--time MS] [--mem KB] [--fsize KB] [--nofile N] -- CMD [ARG...]\n\n"
		"sandboxd runs untrusted code in isolated Linux sandboxes and serves the RPC API\n"
		"(protobuf over nng) that sandbox-gateway and sandboxctl use.\n\n"
		"Options (flag, environment variable, config.toml key; flags win over the\n"
		"environment, which wins over the file):\n"
		"  --config FILE         SANDBOX_CONFIG  config.toml to read\n",
		prog, prog);
	for (size_t i = 0; i < SBX_ARRAY_SIZE(opts); i++)
		fprintf(f, "  --%-20s%s\n      %s (env %s, key %s, default \"%s\")\n", opts[i].flag,
			opts[i].type == OPT_BOOL ? " BOOL" : opts[i].type == OPT_U32 ? " N" : " VALUE",
			opts[i].help, opts[i].env, opts[i].key, opts[i].def);
	fprintf(f, "  --print-config        print the resolved configuration and exit\n"
		   "  --run                 run one command in a sandbox without a daemon (see --run --help)\n"
		   "  -h, --help            this text\n"
		   "  -V, --version         print the version\n\n"
		   "Exit status: 0 on a clean shutdown (SIGTERM/SIGINT), 1 on a runtime failure,\n"
		   "2 on a configuration error.\n");
}
