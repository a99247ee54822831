#include "daemon_config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "backend.h"
#include "buf.h"
#include "runtimes.h"
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
	{ "sandbox.default_disk_limit_mb", "SANDBOX_DISK_LIMIT_MB", "disk-limit-mb",
	  U(default_disk_limit_mb), "512", 0, 1048576,
	  "size of the workspace (and a session's /tmp) of each sandbox, session and deployment, "
	  "enforced by the kernel (a loop-mounted ext4 image); 0 = no disk limits" },
	{ "sandbox.max_disk_limit_mb", "SANDBOX_MAX_DISK_LIMIT_MB", "max-disk-limit-mb",
	  U(max_disk_limit_mb), "4096", 16, 1048576, "largest disk limit a request may ask" },
	{ "sandbox.min_free_disk_mb", "MIN_FREE_DISK_MB", "min-free-disk-mb", U(min_free_disk_mb),
	  "1024", 0, 1048576000,
	  "new objects are refused (HTTP 507) while the state directory's file system has less free" },
	{ "sandbox.max_concurrent_sandboxes", "MAX_CONCURRENT_EXECUTIONS", "max-concurrent",
	  U(max_concurrent), "10", 1, 4096, "executions running at once" },
	{ "sandbox.max_queued", "SANDBOX_MAX_QUEUED", "max-queued", U(max_queued), "64", 0, 65536,
	  "executions waiting for a slot before RESOURCE_EXHAUSTED" },
	{ "sandbox.max_output_bytes", "SANDBOX_MAX_OUTPUT_BYTES", "max-output-bytes",
	  U(max_output_bytes), "1048576", 1024, 67108864, "stdout/stderr kept per stream" },
	{ "sandbox.network_mode", "NETWORK_MODE", "network-mode", S(network_mode), "none", 0, 0,
	  "network of executions: none (loopback only)" },
	{ "sandbox.read_only_root", "READ_ONLY_ROOT", "read-only-root", B(read_only_root), "true", 0,
	  0, "the sandbox's root file system is read-only (always: false is refused)" },
	{ "sandbox.drop_all_capabilities", "DROP_ALL_CAPABILITIES", "drop-all-capabilities",
	  B(drop_all_capabilities), "true", 0, 0,
	  "sandboxed processes hold no capabilities (always: false is refused)" },
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

/* Remember a sentence about something the configuration ignored. */
static void warn(struct sbx_config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct sbx_config *c, const char *fmt, ...)
{
	va_list ap;
	char *w;

	if (c->n_warnings >= SBX_CONFIG_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&w, fmt, ap) >= 0)
		c->warnings[c->n_warnings++] = w;
	va_end(ap);
}

/* ENABLE_<LANGUAGE> and [languages]: one setting per language of the
 * runtimes table (and per alias: the executor seed's ENABLE_JAVASCRIPT is
 * node's), so a new runtime row brings its setting with it. */
static int set_language(struct sbx_config *c, int li, const char *v, const char *from, char *err,
			size_t errlen)
{
	bool on;

	if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
		on = true;
	else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
		on = false;
	else {
		snprintf(err, errlen, "%s must be true or false, not '%s'", from, v);
		return -EINVAL;
	}
	if (on)
		c->languages_off &= ~(1u << li);
	else
		c->languages_off |= 1u << li;
	return 0;
}

static int language_env(struct sbx_config *c, char **envp, char *err, size_t errlen)
{
	for (; envp && *envp; envp++) {
		const char *e = *envp, *eq = strchr(e, '=');
		char name[64], from[80];
		int li, r;

		if (strncmp(e, "ENABLE_", 7) != 0 || !eq || (size_t)(eq - e - 7) >= sizeof(name))
			continue;
		memcpy(name, e + 7, (size_t)(eq - e - 7));
		name[eq - e - 7] = 0;
		li = sbx_runtime_language_index(name);
		if (li < 0 || li >= 32)
			continue; /* ENABLE_AUDIT_LOG, the seeds' ENABLE_CODE_EXECUTION, ... */
		snprintf(from, sizeof(from), "ENABLE_%s", name);
		if ((r = set_language(c, li, eq + 1, from, err, errlen)) < 0)
			return r;
	}
	return 0;
}

static int toml_cb(void *arg, const char *key, const struct sbx_toml_value *v, char *err,
		   size_t errlen)
{
	struct sbx_config *c = arg;
	const struct opt *o = find_opt(key);
	char num[32], from[64];

	/* The seed's [server] host and port: the gateway's --listen
	 * (SANDBOX_HOST, SANDBOX_PORT). */
	if (!o && (strcmp(key, "server.host") == 0 || strcmp(key, "server.port") == 0))
		return 0;
	snprintf(num, sizeof(num), v->type == SBX_TOML_BOOL ? (v->num ? "true" : "false") : "%lld", v->num);
	if (!o && strncmp(key, "languages.", 10) == 0) {
		int li = sbx_runtime_language_index(key + 10);

		if (li >= 0 && li < 32) {
			snprintf(from, sizeof(from), "line %d: %.40s", v->line, key);
			return set_language(c, li, v->type == SBX_TOML_STRING ? v->str : num, from, err,
					    errlen);
		}
	}
	if (!o) {
		warn(c, "config.toml: unknown key \"%s\" ignored (line %d)", key, v->line);
		return 0;
	}
	snprintf(from, sizeof(from), "line %d", v->line);
	if (v->type == SBX_TOML_STRING)
		return set_value(c, o, v->str, from, err, errlen);
	return set_value(c, o, num, from, err, errlen);
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

/* Sandboxes walk no host path (their dirs are handed to them as mount
 * trees), but a gateway running as another user walks to the deployments'
 * sockets: say so when a directory on the way keeps it out. */
static void check_proxy_reach(struct sbx_config *c)
{
	char dir[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", *c->proxy_dir ? c->proxy_dir : c->state_dir,
			     *c->proxy_dir ? "" : "/proxy") >= sizeof(dir))
		return;
	for (char *s = strrchr(dir, '/'); s && s != dir; s = strrchr(dir, '/')) {
		*s = 0;
		if (stat(dir, &st) == 0 && !(st.st_mode & S_IXOTH)) {
			warn(c,
			     "a gateway running as another user cannot reach the deployments' sockets "
			     "in %s%s: %s is not searchable by others (chmod o+x it, or set --proxy-dir "
			     "to a directory that user can reach)",
			     *c->proxy_dir ? c->proxy_dir : c->state_dir, *c->proxy_dir ? "" : "/proxy",
			     dir);
			return;
		}
	}
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
	/* The seeds' hardening switches: what they ask is always so here. */
	if (!c->read_only_root) {
		snprintf(err, errlen, "READ_ONLY_ROOT (sandbox.read_only_root) cannot be false: the "
				      "sandbox's root is always read-only (set it to true or leave it out)");
		return -EINVAL;
	}
	if (!c->drop_all_capabilities) {
		snprintf(err, errlen, "DROP_ALL_CAPABILITIES (sandbox.drop_all_capabilities) cannot be "
				      "false: sandboxed processes never hold capabilities (set it to "
				      "true or leave it out)");
		return -EINVAL;
	}
	if (strcmp(c->network_mode, "none") != 0) {
		snprintf(err, errlen, "network mode '%s' is not supported (supported: none)", c->network_mode);
		return -EINVAL;
	}
	/* A forwarder socket is <proxy dir>/<uuid>.sock, and a unix socket's
	 * path has 108 bytes: say so now rather than at the first deployment. */
	size_t sun_max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1 - 1 - 36 - 5;
	size_t proxy_len = *c->proxy_dir ? strlen(c->proxy_dir) : strlen(c->state_dir) + 6;
	if (proxy_len > sun_max) {
		snprintf(err, errlen,
			 "the deployments' socket directory %s%s is %zu bytes long, too long for "
			 "unix socket paths (at most %zu); set --proxy-dir (SANDBOXD_PROXY_DIR) to a "
			 "shorter directory",
			 *c->proxy_dir ? c->proxy_dir : c->state_dir, *c->proxy_dir ? "" : "/proxy",
			 proxy_len, sun_max);
		return -EINVAL;
	}
	check_proxy_reach(c);
	if (c->default_timeout_ms > (uint64_t)c->max_execution_time_s * 1000) {
		snprintf(err, errlen, "default timeout %u ms is above the maximum execution time %u s",
			 c->default_timeout_ms, c->max_execution_time_s);
		return -EINVAL;
	}
	if (c->default_disk_limit_mb && c->default_disk_limit_mb < 16) {
		snprintf(err, errlen, "default disk limit %u MB is below the smallest, 16 MB (0 turns disk limits off)",
			 c->default_disk_limit_mb);
		return -EINVAL;
	}
	if (c->default_disk_limit_mb > c->max_disk_limit_mb) {
		snprintf(err, errlen, "default disk limit %u MB is above the maximum %u MB",
			 c->default_disk_limit_mb, c->max_disk_limit_mb);
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
	if ((r = language_env(c, envp, err, errlen)) < 0)
		return r;
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
	for (unsigned i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
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
	for (unsigned i = 0; sbx_runtime_language_name(i); i++)
		fprintf(f, "languages.%s = %s\n", sbx_runtime_language_name(i),
			c->languages_off & (1u << i) ? "false" : "true");
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
	fprintf(f, "Languages (environment variable, config.toml key; default true; an alias\n"
		   "works too, e.g. ENABLE_JAVASCRIPT for node):\n");
	for (unsigned i = 0; sbx_runtime_language_name(i); i++) {
		char up[32];
		size_t j;

		for (j = 0; sbx_runtime_language_name(i)[j] && j < sizeof(up) - 1; j++)
			up[j] = (char)toupper((unsigned char)sbx_runtime_language_name(i)[j]);
		up[j] = 0;
		fprintf(f, "  ENABLE_%-14s languages.%s\n", up, sbx_runtime_language_name(i));
	}
	fprintf(f, "  --print-config        print the resolved configuration and exit\n"
		   "  --run                 run one command in a sandbox without a daemon (see --run --help)\n"
		   "  -h, --help            this text\n"
		   "  -V, --version         print the version\n\n"
		   "Exit status: 0 on a clean shutdown (SIGTERM/SIGINT), 1 on a runtime failure,\n"
		   "2 on a configuration error.\n");
}
