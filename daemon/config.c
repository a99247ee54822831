#include "daemon_config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
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
#include "netpolicy/egress.h"
#include "engine.h"
#include "log.h"
#include "nodeid.h"
#include "options.h"
#include "tunnel/tunnel.h"
#include "toml.h"
#include "words.h"

#define S(field) SBX_OPT_STR, offsetof(struct sbx_config, field)
#define U(field) SBX_OPT_U32, offsetof(struct sbx_config, field)
#define B(field) SBX_OPT_BOOL, offsetof(struct sbx_config, field)
/* ROW(key, env, flag, S/U/B(field), default, min, max, help, more...) */
#define ROW(...) ROW_(__VA_ARGS__)
#define ROW_(key_, env_, flag_, type_, offset_, def_, min_, max_, help_, ...)                      \
	{                                                                                          \
		.key = key_, .env = env_, .flag = flag_, .type = type_, .offset = offset_,         \
		.def = def_, .min = min_, .max = max_, .help = help_, __VA_ARGS__                  \
	}
#define ACTION(flag_, short_, action, help_)                                                       \
	{                                                                                          \
		.flag = flag_, .short_flag = short_, .type = SBX_OPT_ACTION, .min = action,        \
		.help = help_                                                                      \
	}

/* One row per setting (common/options.h): its config.toml key (table.key),
 * the environment variable of the seeds, the long option, type and field,
 * default, range and help. --help, --print-config and the README's table
 * are generated from these rows. */
static const struct sbx_opt rows[] = {
	ROW(NULL, "SANDBOX_CONFIG", "config", S(config_file), NULL, 0, 0, "config.toml to read",
	    .arg = "FILE"),
	ROW("daemon.rpc", "SANDBOXD_RPC", "rpc", S(rpc_url), "ipc:///run/sandboxd/rpc.sock", 0, 0,
	    "nng URL of the RPC (req/rep) socket"),
	ROW("daemon.events", "SANDBOXD_EVENTS", "events", S(events_url),
	    "ipc:///run/sandboxd/events.sock", 0, 0, "nng URL of the events (pub/sub) socket"),
	ROW("daemon.socket_group", "SANDBOXD_SOCKET_GROUP", "socket-group", S(socket_group), "", 0,
	    0,
	    "group (name or number) whose members may connect to the ipc:// sockets (they "
	    "become root:GROUP, mode 0660; the systemd unit sets sandboxd)",
	    .def_help = "none: as the umask leaves them", .arg = "GROUP"),
	ROW("daemon.state_dir", "SANDBOXD_STATE_DIR", "state-dir", S(state_dir),
	    SBX_ENGINE_DEFAULT_STATE_DIR, 0, 0, "directory for workspaces, objects and history"),
	ROW("daemon.proxy_dir", "SANDBOXD_PROXY_DIR", "proxy-dir", S(proxy_dir), "", 0, 0,
	    "directory of the forwarder sockets of deployments and dev servers (the gateway "
	    "connects to them)",
	    .def_help = "state_dir/proxy"),
	ROW("daemon.rpc_contexts", "SANDBOXD_RPC_CONTEXTS", "rpc-contexts", U(rpc_contexts), "64",
	    1, 4096, "RPC requests served at once"),
	ROW("daemon.rpc_workers", "SANDBOXD_RPC_WORKERS", "rpc-workers", U(rpc_workers), "16", 1,
	    1024, "threads running slow RPC handlers"),
	ROW("daemon.api_key", "SANDBOX_API_KEY", "api-key", S(api_key), "", 0, 0,
	    "when set, every RPC must carry this token", .def_help = "none (off)",
	    .flags = SBX_OPT_SECRET),
	ROW("daemon.node_id", "SANDBOX_NODE_ID", "node-id", S(node_id), "", 0, 0,
	    "this node's id in a cluster ([A-Za-z0-9._-], at most 63); its tag starts every id "
	    "the node makes",
	    .def_help = "state_dir/node-id, made once"),
	ROW("daemon.cluster_key", "SANDBOX_CLUSTER_KEY", "cluster-key", S(cluster_key), "", 0, 0,
	    "when set, every RPC (Health too) and every tunnel connection must carry this key",
	    .def_help = "none (off)", .flags = SBX_OPT_SECRET),
	ROW(NULL, "SANDBOX_CLUSTER_KEY_FILE", "cluster-key-file", S(cluster_key_file), "", 0, 0,
	    "file holding the cluster key (a Swarm or Kubernetes secret; read once at start)",
	    .arg = "FILE", .def_help = "none"),
	ROW("daemon.tunnel", "SANDBOXD_TUNNEL", "tunnel", S(tunnel_url), "", 0, 0,
	    "tcp://HOST:PORT of the proxy tunnel, an HTTP CONNECT listener that reaches this "
	    "node's deployments and dev servers from other hosts",
	    .def_help = "off"),
	ROW("sandbox.backend", "SANDBOX_BACKEND", "backend", S(backend), "native", 0, 0,
	    "isolation backend: native, docker, nsjail or gvisor"),
	ROW("sandbox.docker_host", "DOCKER_HOST", "docker-host", S(docker_host),
	    "unix:///var/run/docker.sock", 0, 0,
	    "Docker Engine socket of the docker backend (unix:// only)"),
	ROW("sandbox.docker_image", "SANDBOX_DOCKER_IMAGE", "docker-image", S(docker_image),
	    "sandboxd-runtime:latest", 0, 0, "image the docker backend runs executions in"),
	ROW("sandbox.nsjail_path", "SANDBOX_NSJAIL_PATH", "nsjail-path", S(nsjail_path), "nsjail",
	    0, 0, "nsjail binary of the nsjail backend (a bare name is looked up on PATH)"),
	ROW("sandbox.default_timeout_ms", "SANDBOX_TIMEOUT_MS", "timeout-ms", U(default_timeout_ms),
	    "30000", 1, 86400000, "default wall-time limit of an execution"),
	ROW("sandbox.default_memory_limit_mb", "SANDBOX_MEMORY_LIMIT_MB", "memory-limit-mb",
	    U(default_memory_limit_mb), "256", 1, 1048576, "default memory limit of an execution"),
	ROW("sandbox.max_execution_time", "MAX_EXECUTION_TIME", "max-execution-time",
	    U(max_execution_time_s), "3600", 1, 86400, "largest time limit a request may ask (s)"),
	ROW("sandbox.max_memory_mb", "MAX_MEMORY_MB", "max-memory-mb", U(max_memory_mb), "4096", 1,
	    1048576, "largest memory limit a request may ask"),
	ROW("sandbox.default_disk_limit_mb", "SANDBOX_DISK_LIMIT_MB", "disk-limit-mb",
	    U(default_disk_limit_mb), "512", 0, 1048576,
	    "size of the workspace (and a session's /tmp) of each sandbox, session and deployment, "
	    "enforced by the kernel (a loop-mounted ext4 image); 0 = no disk limits"),
	ROW("sandbox.max_disk_limit_mb", "SANDBOX_MAX_DISK_LIMIT_MB", "max-disk-limit-mb",
	    U(max_disk_limit_mb), "4096", 16, 1048576, "largest disk limit a request may ask"),
	ROW("sandbox.min_free_disk_mb", "MIN_FREE_DISK_MB", "min-free-disk-mb", U(min_free_disk_mb),
	    "1024", 0, 1048576000,
	    "new objects are refused (HTTP 507) while the state directory's file system has less "
	    "free; 0 = no check"),
	ROW("sandbox.max_concurrent_sandboxes", "MAX_CONCURRENT_EXECUTIONS", "max-concurrent",
	    U(max_concurrent), "10", 1, 4096, "executions running at once"),
	ROW("sandbox.warm_pool", "SANDBOX_WARM_POOL", "warm-pool", U(warm_pool), "0", 0, 64,
	    "sandboxes built ahead of time, each used by one execution (no host workspace, "
	    "binds or network); 0 = off"),
	ROW("sandbox.warm_pool_python", "SANDBOX_WARM_POOL_PYTHON", "warm-pool-python",
	    U(warm_pool_python), "0", 0, 64,
	    "sandboxes built ahead of time with the python interpreter already started, each "
	    "used by one python execution (no host workspace, binds or network); 0 = off"),
	ROW("sandbox.warm_pool_node", "SANDBOX_WARM_POOL_NODE", "warm-pool-node",
	    U(warm_pool_node), "0", 0, 64,
	    "sandboxes built ahead of time with node already started, each used by one node "
	    "execution (no host workspace, binds, network or package.json); 0 = off"),
	ROW("sandbox.netns_reuse", "SANDBOX_NETNS_REUSE", "netns-reuse", B(netns_reuse), "true", 0,
	    0,
	    "an execution's loopback-only network namespace serves a later one when it holds no "
	    "socket any more (its lo counters carry over); false = a new one each time"),
	ROW("sandbox.cgroup", "SANDBOX_CGROUP", "cgroup", S(cgroup), "auto", 0, 0,
	    "cgroup hierarchy of the native backend's sandboxes: auto (v1 where its memory "
	    "hierarchy is writable, else v2), v1, v2 or none"),
	ROW("sandbox.allow_unlimited_memory", "SANDBOX_ALLOW_UNLIMITED_MEMORY",
	    "allow-unlimited-memory", B(allow_unlimited_memory), "false", 0, 0,
	    "start the native backend even where no memory cgroup controller can hold the "
	    "sandboxes to their memory limit (any of them may then use all the host's memory)"),
	ROW("sandbox.max_queued", "SANDBOX_MAX_QUEUED", "max-queued", U(max_queued), "64", 0, 65536,
	    "executions waiting for a slot before RESOURCE_EXHAUSTED"),
	ROW("sandbox.max_output_bytes", "SANDBOX_MAX_OUTPUT_BYTES", "max-output-bytes",
	    U(max_output_bytes), "1048576", 1024, 67108864, "stdout/stderr kept per stream"),
	ROW("sandbox.network_mode", "NETWORK_MODE", "network-mode", S(network_mode), "none", 0, 0,
	    "network of executions: none (loopback only) or bridge (executions that ask get "
	    "outbound network under SANDBOX_EGRESS_ALLOW); host is refused"),
	ROW("network.egress_allow", "SANDBOX_EGRESS_ALLOW", "egress-allow", S(egress_allow), "", 0,
	    0,
	    "bridge mode: where sandboxes may connect, comma-separated: CIDR, IP, IP:port, "
	    "CIDR:port, domain name, name:port (*.name for subdomains), * = every public address "
	    "and name",
	    .def_help = "nothing"),
	ROW("network.install_allow", "SANDBOX_INSTALL_ALLOW", "install-allow", S(install_allow),
	    "registry.npmjs.org:443,registry.yarnpkg.com:443", 0, 0,
	    "bridge mode: also allowed to a sandbox's npm/bun install phase (same syntax)"),
	ROW("network.bridge_subnet", "SANDBOX_BRIDGE_SUBNET", "bridge-subnet", S(bridge_subnet),
	    "10.213.0.0/16", 0, 0,
	    "bridge mode: IPv4 subnet (/8 to /29) cut into one /31 per sandbox; its first /31 is "
	    "the sandboxes' resolver address"),
	ROW("network.dns_upstream", "SANDBOX_DNS_UPSTREAM", "dns-upstream", S(dns_upstream), "", 0,
	    0, "bridge mode: IP[:port] the daemon's resolver asks for allowlisted names",
	    .def_help = "first nameserver of /etc/resolv.conf"),
	ROW("network.egress_max_connections", "SANDBOX_EGRESS_MAX_CONNECTIONS",
	    "egress-max-connections", U(egress_max_connections), "64", 1, 65535,
	    "bridge mode: connections one sandbox may have open through the firewall"),
	ROW("network.instance", "SANDBOX_NET_INSTANCE", "net-instance", S(net_instance), "0", 0, 0,
	    "bridge mode: 1-4 of [a-z0-9] naming this daemon's nft table (inet sandboxd_TAG) and "
	    "interfaces (sbxTAG.N); two daemons on one host need different tags and subnets"),
	ROW("sandbox.read_only_root", "READ_ONLY_ROOT", "read-only-root", B(read_only_root), "true",
	    0, 0, "the sandbox's root file system is read-only (always: false is refused)"),
	ROW("sandbox.drop_all_capabilities", "DROP_ALL_CAPABILITIES", "drop-all-capabilities",
	    B(drop_all_capabilities), "true", 0, 0,
	    "sandboxed processes hold no capabilities (always: false is refused)"),
	ROW("sandbox.cleanup_interval_seconds", "SANDBOX_CLEANUP_INTERVAL", "cleanup-interval",
	    U(cleanup_interval_s), "30", 1, 86400, "how often idle objects are reclaimed"),
	ROW("sandbox.session_idle_seconds", "SESSION_IDLE_TIMEOUT", "session-idle",
	    U(session_idle_s), "300", 1, 604800, "idle time after which a session expires"),
	ROW("sandbox.sandbox_idle_seconds", "SANDBOX_IDLE_TIMEOUT", "sandbox-idle",
	    U(sandbox_idle_s), "3600", 1, 2592000,
	    "idle time after which a sandbox that is not running is deleted"),
	ROW("sandbox.max_sandboxes", "MAX_SANDBOXES", "max-sandboxes", U(max_sandboxes), "1000", 1,
	    1000000, "sandboxes that may exist at once"),
	ROW("sandbox.max_deployments", "MAX_DEPLOYMENTS", "max-deployments", U(max_deployments),
	    "50", 1, 100000, "deployments and persistent sandboxes that may exist at once"),
	ROW("sandbox.service_ready_timeout_ms", "SERVICE_READY_TIMEOUT_MS", "ready-timeout-ms",
	    U(service_ready_timeout_ms), "60000", 100, 3600000,
	    "how long a proxied request waits for a (re)starting service to accept connections"),
	ROW("sandbox.scale_down_after_minutes", "SCALE_DOWN_AFTER_MINUTES", "scale-down-minutes",
	    U(scale_down_after_minutes), "10", 1, 100000,
	    "idle minutes before a deployment with min_instances 0 is stopped, unless it says"),
	ROW("sandbox.max_sessions", "MAX_SESSIONS", "max-sessions", U(max_sessions), "1000", 1,
	    1000000, "sessions that may exist at once"),
	ROW("sandbox.max_files", "SANDBOX_MAX_FILES", "max-files", U(max_files), "256", 1, 65536,
	    "files one request may write into a workspace"),
	ROW("sandbox.max_upload_bytes", "SANDBOX_MAX_UPLOAD_BYTES", "max-upload-bytes",
	    U(max_upload_bytes), "16777216", 1, 60000000, "bytes of files one request may write"),
	/* Below the RPC message limit (SBX_ENVELOPE_MAX, 64 MiB): a reply
	 * carries the whole file. */
	ROW("sandbox.files_download_max_bytes", "FILES_DOWNLOAD_MAX_BYTES",
	    "files-download-max-bytes", U(files_download_max_bytes), "8388608", 1, 60000000,
	    "bytes of one file read out of a workspace (larger: 409)"),
	/* 25000 entries of at most 1 KiB of path, 1 KiB of link text and
	 * their other fields stay below the RPC message limit. */
	ROW("sandbox.files_list_max_entries", "FILES_LIST_MAX_ENTRIES", "files-list-max-entries",
	    U(files_list_max_entries), "10000", 1, 25000,
	    "entries one listing of a workspace returns at most (then truncated)"),
	ROW("sandbox.history_max", "SANDBOX_HISTORY_MAX", "history-max", U(history_max), "10000", 1,
	    10000000, "executions kept in the history"),
	ROW("judge0.workers", "JUDGE0_WORKERS", "judge0-workers", U(judge0_workers), "2", 1, 64,
	    "threads running queued Judge0 submissions"),
	ROW("judge0.max_queue_size", "JUDGE0_MAX_QUEUE_SIZE", "judge0-max-queue-size",
	    U(judge0_max_queue), "100", 1, 100000,
	    "Judge0 submissions waiting to run; more are refused (503 queue is full)"),
	ROW("judge0.keep_max", "JUDGE0_KEEP_MAX", "judge0-keep-max", U(judge0_keep_max), "1000", 1,
	    1000000, "finished Judge0 submissions kept; the oldest go first"),
	ROW("judge0.keep_seconds", "JUDGE0_KEEP_SECONDS", "judge0-keep-seconds", U(judge0_keep_s),
	    "86400", 60, 315360000, "finished Judge0 submissions are dropped after this (s)"),
	ROW("judge0.callback_allow", "JUDGE0_CALLBACK_ALLOW", "judge0-callback-allow",
	    S(judge0_callback_allow), "", 0, 0,
	    "where Judge0 callbacks may also go, besides public addresses: CIDRs, addresses and "
	    "host names, blank- or comma-separated (loopback, private and link-local ranges only "
	    "when listed)"),
	ROW("sandbox.history_max_age_seconds", "SANDBOX_HISTORY_MAX_AGE", "history-max-age",
	    U(history_max_age_s), "604800", 0, 315360000,
	    "seconds an execution stays in the history; 0 = until history_max pushes it out"),
	ROW("sandbox.history_output_bytes", "HISTORY_OUTPUT_BYTES", "history-output-bytes",
	    U(history_output_bytes), "65536", 0, 16777216,
	    "bytes of stdout, of stderr and of compile output kept with each execution in the "
	    "history; 0 = none"),
	ROW("logging.ring_lines", "SANDBOXD_LOG_RING_LINES", "log-ring-lines", U(log_ring_lines),
	    "1000", 10, 100000, "recent daemon log lines kept in memory for the admin API"),
	ROW("logs.max_rings", "SANDBOXD_LOGS_MAX_RINGS", "logs-max-rings", U(logs_max_rings), "256",
	    1, 65536,
	    "objects whose live output lines are kept (the least recently finished goes)"),
	ROW("logs.ring_lines", "SANDBOXD_LOGS_RING_LINES", "logs-ring-lines", U(logs_ring_lines),
	    "20000", 1, 10000000, "output lines kept per sandbox, session or execution"),
	ROW("logs.ring_bytes", "SANDBOXD_LOGS_RING_BYTES", "logs-ring-bytes", U(logs_ring_bytes),
	    "2097152", 65536, 1073741824,
	    "bytes of output lines kept per sandbox, session or execution"),
	ROW("limits.rate_limit_per_minute", "RATE_LIMIT_PER_MINUTE", "rate-limit",
	    U(rate_limit_per_minute), "0", 0, 1000000, "requests per client per minute, 0 = off"),
	ROW("limits.rate_limit_burst", "RATE_LIMIT_BURST", "rate-burst", U(rate_limit_burst), "10",
	    1, 1000000, "requests a client may burst"),
	ROW("audit.enabled", "ENABLE_AUDIT_LOG", "audit", B(enable_audit_log), "true", 0, 0,
	    "write the JSON-lines audit log in the state dir"),
	ROW("logging.level", "LOG_LEVEL", "log-level", S(log_level), "info", 0, 0,
	    "error, warn, info or debug"),
	ROW("logging.format", "LOG_FORMAT", "log-format", S(log_format), "text", 0, 0,
	    "text or json"),
	ACTION("print-config", 0, SBX_ACTION_PRINT, "print the resolved configuration and exit"),
	ACTION("help", 'h', SBX_ACTION_HELP, "this text"),
	ACTION("help-markdown", 0, SBX_ACTION_MARKDOWN,
	       "the settings as the Markdown table of README.md's Configuration"),
	ACTION("version", 'V', SBX_ACTION_VERSION, "print the version"),
};

/* getopt_long's rules, as sandboxd has always read its flags; the first
 * positional argument is refused once every option is read. */
static const struct sbx_opts table = SBX_OPTS(
	rows, SBX_OPTS_KEY_IN_ERRORS, "unknown or incomplete option '%s' (see --help)",
	"unknown or incomplete option '%s' (see --help)", "unexpected argument '%s' (see --help)");

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

	if (sbx_opts_parse_bool(v, &on) < 0) {
		snprintf(err, errlen, "%s must be true or false, not '%s'", from, v);
		return -EINVAL;
	}
	if (on)
		c->languages_off &= ~(UINT64_C(1) << li);
	else
		c->languages_off |= UINT64_C(1) << li;
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
		if (li < 0 || li >= SBX_RT_LANGUAGES_MAX)
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
	const struct sbx_opt *o = sbx_opts_find_key(&table, key);
	char num[32], from[64];

	/* The seed's [server] host and port: the gateway's --listen
	 * (SANDBOX_HOST, SANDBOX_PORT). */
	if (!o && (strcmp(key, "server.host") == 0 || strcmp(key, "server.port") == 0))
		return 0;
	snprintf(num, sizeof(num), v->type == SBX_TOML_BOOL ? (v->num ? "true" : "false") : "%lld",
		 v->num);
	if (!o && strncmp(key, "languages.", 10) == 0) {
		int li = sbx_runtime_language_index(key + 10);

		if (li >= 0 && li < SBX_RT_LANGUAGES_MAX) {
			snprintf(from, sizeof(from), "line %d: %.40s", v->line, key);
			return set_language(c, li, v->type == SBX_TOML_STRING ? v->str : num, from,
					    err, errlen);
		}
	}
	if (!o) {
		warn(c, "config.toml: unknown key \"%s\" ignored (line %d)", key, v->line);
		return 0;
	}
	snprintf(from, sizeof(from), "line %d", v->line);
	if (v->type == SBX_TOML_STRING)
		return sbx_opts_set(&table, c, o, v->str, from, err, errlen);
	return sbx_opts_set(&table, c, o, num, from, err, errlen);
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
		snprintf(err, errlen, "cannot open config file %s: %s", c->config_file,
			 strerror(errno));
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
			     "a gateway running as another user cannot reach the deployments' "
			     "sockets "
			     "in %s%s: %s is not searchable by others (chmod o+x it, or set "
			     "--proxy-dir "
			     "to a directory that user can reach)",
			     *c->proxy_dir ? c->proxy_dir : c->state_dir,
			     *c->proxy_dir ? "" : "/proxy", dir);
			return;
		}
	}
}

/* A forwarder socket is <proxy dir>/<uuid>.sock, and a unix socket's path
 * has 108 bytes: say so now rather than at the first deployment. */
static int check_proxy_len(const struct sbx_config *c, char *err, size_t errlen)
{
	size_t sun_max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1 - 1 - 36 - 5;
	size_t proxy_len = *c->proxy_dir ? strlen(c->proxy_dir) : strlen(c->state_dir) + 6;

	if (proxy_len <= sun_max)
		return 0;
	snprintf(err, errlen,
		 "the deployments' socket directory %s%s is %zu bytes long, too long for unix "
		 "socket paths (at most %zu); set --proxy-dir (SANDBOXD_PROXY_DIR) to a shorter "
		 "directory",
		 *c->proxy_dir ? c->proxy_dir : c->state_dir, *c->proxy_dir ? "" : "/proxy",
		 proxy_len, sun_max);
	return -EINVAL;
}

/* Longest cluster key a key file may hold. */
#define CLUSTER_KEY_MAX 4096

/* --cluster-key-file: read once, here, so that a missing or empty secret
 * stops the start rather than leave the node open; one trailing newline
 * (editors and `echo` add it) is not part of the key. */
static int load_key_file(struct sbx_config *c, char *err, size_t errlen)
{
	char buf[CLUSTER_KEY_MAX + 2];
	size_t n;
	FILE *f;

	if (*c->cluster_key) {
		snprintf(err, errlen,
			 "set the cluster key once: either --cluster-key (SANDBOX_CLUSTER_KEY) or "
			 "--cluster-key-file (SANDBOX_CLUSTER_KEY_FILE), not both");
		return -EINVAL;
	}
	f = fopen(c->cluster_key_file, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read the cluster key file %s: %s",
			 c->cluster_key_file, strerror(errno));
		return -EINVAL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n > CLUSTER_KEY_MAX) {
		snprintf(err, errlen, "the cluster key file %s holds more than %d bytes",
			 c->cluster_key_file, CLUSTER_KEY_MAX);
		return -EINVAL;
	}
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = 0;
	if (n == 0 || strlen(buf) != n) {
		snprintf(err, errlen, "the cluster key file %s is %s", c->cluster_key_file,
			 n ? "not text (it holds a NUL byte)" : "empty");
		return -EINVAL;
	}
	free(c->cluster_key);
	c->cluster_key = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return c->cluster_key ? 0 : -ENOMEM;
}

static int validate_cluster(struct sbx_config *c, char *err, size_t errlen)
{
	struct sbx_tunnel_addr a;
	int r;

	if (*c->node_id && !sbx_node_id_valid(c->node_id)) {
		snprintf(err, errlen,
			 "node id '%.80s' is not valid: use 1 to %d letters, digits, '.', '_' or "
			 "'-', not starting with '.' or '-'",
			 c->node_id, SBX_NODE_ID_MAX);
		return -EINVAL;
	}
	if (*c->cluster_key_file && (r = load_key_file(c, err, errlen)) < 0)
		return r;
	if (*c->tunnel_url && sbx_tunnel_parse_url(c->tunnel_url, &a) < 0) {
		snprintf(err, errlen,
			 "tunnel '%.200s' must be tcp://HOST:PORT (an IPv4 or IPv6 address, or a "
			 "host name, and a port from 0 to 65535)",
			 c->tunnel_url);
		return -EINVAL;
	}
	return 0;
}

/* NETWORK_MODE and the bridge's settings. */
static int check_network(const struct sbx_config *c, char *err, size_t errlen)
{
	_cleanup_free_ struct sbx_egress_policy *p = malloc(sizeof(*p));
	const char *lists[][2] = {{"SANDBOX_EGRESS_ALLOW", c->egress_allow},
				  {"SANDBOX_INSTALL_ALLOW", c->install_allow}};
	char why[200];
	uint32_t addr;
	uint16_t port;
	uint8_t prefix;
	size_t n = strlen(c->net_instance);

	if (strcmp(c->network_mode, "host") == 0) {
		snprintf(err, errlen,
			 "NETWORK_MODE=host is refused: a sandbox in the host's network namespace "
			 "reaches the host's loopback services, the cloud metadata address and "
			 "every network the host can; use NETWORK_MODE=bridge with "
			 "SANDBOX_EGRESS_ALLOW");
		return -EINVAL;
	}
	if (strcmp(c->network_mode, "none") != 0 && strcmp(c->network_mode, "bridge") != 0) {
		snprintf(err, errlen, "NETWORK_MODE '%s' is not one of none or bridge",
			 c->network_mode);
		return -EINVAL;
	}
	if (strcmp(c->network_mode, "bridge") == 0 && strcmp(c->backend, "native") != 0) {
		snprintf(err, errlen,
			 "NETWORK_MODE=bridge needs SANDBOX_BACKEND=native (the %s backend keeps "
			 "sandboxes on loopback only)",
			 c->backend);
		return -EINVAL;
	}
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < SBX_ARRAY_SIZE(lists); i++)
		if (sbx_egress_parse(lists[i][1], p, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", lists[i][0], why);
			return -EINVAL;
		}
	if (sbx_egress_parse_cidr(c->bridge_subnet, &addr, &prefix) < 0 || prefix < 8 ||
	    prefix > 29) {
		snprintf(err, errlen,
			 "SANDBOX_BRIDGE_SUBNET '%s' is not an IPv4 CIDR from /8 to /29 (e.g. "
			 "10.213.0.0/16)",
			 c->bridge_subnet);
		return -EINVAL;
	}
	if (*c->dns_upstream && sbx_egress_parse_hostport(c->dns_upstream, &addr, &port) < 0) {
		snprintf(err, errlen, "SANDBOX_DNS_UPSTREAM '%s' is not an IPv4 address[:port]",
			 c->dns_upstream);
		return -EINVAL;
	}
	if (n < 1 || n > 4 ||
	    strspn(c->net_instance, "abcdefghijklmnopqrstuvwxyz0123456789") != n) {
		snprintf(err, errlen, "SANDBOX_NET_INSTANCE '%s' is not 1 to 4 of [a-z0-9]",
			 c->net_instance);
		return -EINVAL;
	}
	return 0;
}

int sbx_config_cgroup_pref(const struct sbx_config *c)
{
	/* enum sbx_cgroup_pref's order */
	static const char *const names[] = {"auto", "v1", "v2", "none"};
	int v = sbx_word_value(names, SBX_N_WORDS(names), c->cgroup);

	return v < 0 ? -EINVAL : v;
}

/* socket_group named: it must exist (its id is what chown wants). */
static int validate_socket_group(struct sbx_config *c, char *err, size_t errlen)
{
	char buf[4096];
	struct group g, *found = NULL;

	c->socket_gid = (gid_t)-1;
	if (!*c->socket_group)
		return 0;
	if (strspn(c->socket_group, "0123456789") == strlen(c->socket_group) &&
	    strlen(c->socket_group) < 10) {
		c->socket_gid = (gid_t)strtoul(c->socket_group, NULL, 10);
		return 0;
	}
	if (getgrnam_r(c->socket_group, &g, buf, sizeof(buf), &found) != 0 || !found) {
		snprintf(err, errlen,
			 "socket group '%.64s' (SANDBOXD_SOCKET_GROUP) does not exist: create it "
			 "(groupadd --system %.64s) or leave the setting empty",
			 c->socket_group, c->socket_group);
		return -EINVAL;
	}
	c->socket_gid = found->gr_gid;
	return 0;
}

static int validate(struct sbx_config *c, char *err, size_t errlen)
{
	int r = validate_cluster(c, err, errlen);

	if (r == 0)
		r = validate_socket_group(c, err, errlen);
	if (r < 0)
		return r;
	if (sbx_log_level_parse(c->log_level) < 0) {
		snprintf(err, errlen, "log level must be error, warn, info or debug, not '%s'",
			 c->log_level);
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
		snprintf(err, errlen,
			 "READ_ONLY_ROOT (sandbox.read_only_root) cannot be false: the "
			 "sandbox's root is always read-only (set it to true or leave it out)");
		return -EINVAL;
	}
	if (!c->drop_all_capabilities) {
		snprintf(err, errlen,
			 "DROP_ALL_CAPABILITIES (sandbox.drop_all_capabilities) cannot be "
			 "false: sandboxed processes never hold capabilities (set it to "
			 "true or leave it out)");
		return -EINVAL;
	}
	if (sbx_config_cgroup_pref(c) < 0) {
		snprintf(err, errlen, "cgroup must be auto, v1, v2 or none, not '%.32s'", c->cgroup);
		return -EINVAL;
	}
	if (check_network(c, err, errlen) < 0)
		return -EINVAL;
	if (check_proxy_len(c, err, errlen) < 0)
		return -EINVAL;
	check_proxy_reach(c);
	if (c->default_timeout_ms > (uint64_t)c->max_execution_time_s * 1000) {
		snprintf(err, errlen,
			 "default timeout %u ms is above the maximum execution time %u s",
			 c->default_timeout_ms, c->max_execution_time_s);
		return -EINVAL;
	}
	if (c->default_disk_limit_mb && c->default_disk_limit_mb < 16) {
		snprintf(err, errlen,
			 "default disk limit %u MB is below the smallest, 16 MB (0 turns disk "
			 "limits off)",
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

/* The config file: the last --config (or its abbreviation, as for every
 * flag) before the first error, else $SANDBOX_CONFIG. */
static const char *config_path(int argc, char **argv, char **envp)
{
	const char *path = sbx_opts_getenv(envp, "SANDBOX_CONFIG"), *v;
	const struct sbx_opt *o;
	struct sbx_opts_iter it;
	char err[8];

	sbx_opts_iter_init(&it, &table, argc, argv);
	while (sbx_opts_next(&it, &o, &v, err, sizeof(err)) > 0)
		if (o->offset == offsetof(struct sbx_config, config_file) && o->type == SBX_OPT_STR)
			path = v;
	return path;
}

int sbx_config_load(struct sbx_config *c, int argc, char **argv, char **envp,
		    enum sbx_config_action *ret_action, char *err, size_t errlen)
{
	int action = SBX_ACTION_SERVE, r;
	const char *path;

	*c = (struct sbx_config){0};
	if ((r = sbx_opts_defaults(&table, c, err, errlen)) < 0)
		return r;
	/* The config file comes first so that env and flags override it. */
	path = config_path(argc, argv, envp);
	if (path && *path) {
		c->config_file = strdup(path);
		if (!c->config_file)
			return -ENOMEM;
		if ((r = load_file(c, err, errlen)) < 0)
			return r;
	}
	if ((r = language_env(c, envp, err, errlen)) < 0)
		return r;
	if ((r = sbx_opts_env(&table, c, envp, err, errlen)) < 0)
		return r;
	if ((r = sbx_opts_argv(&table, c, argc, argv, &action, err, errlen)) < 0)
		return r;
	if ((r = validate(c, err, errlen)) < 0)
		return r;
	*ret_action = action;
	return 0;
}

void sbx_config_fini(struct sbx_config *c)
{
	sbx_opts_fini(&table, c);
	for (unsigned i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	*c = (struct sbx_config){0};
}

void sbx_config_print(const struct sbx_config *c, FILE *f)
{
	sbx_opts_print(&table, c, f);
	for (unsigned i = 0; sbx_runtime_language_name(i); i++)
		fprintf(f, "languages.%s = %s\n", sbx_runtime_language_name(i),
			c->languages_off & (UINT64_C(1) << i) ? "false" : "true");
}

void sbx_config_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTIONS]\n"
		"       %s --run [OPTIONS] -- CMD [ARG...]   (see --run --help)\n\n"
		"sandboxd runs untrusted code in isolated Linux sandboxes and serves the RPC API\n"
		"(protobuf over nng) that sandbox-gateway and sandboxctl use.\n\n"
		"Options (flags win over the environment, which wins over config.toml):\n",
		prog, prog);
	sbx_opts_usage(&table, f);
	fprintf(f, "\nLanguages (environment variable, config.toml key; default true; an alias\n"
		   "works too, e.g. ENABLE_JAVASCRIPT for node):\n");
	for (unsigned i = 0; sbx_runtime_language_name(i); i++) {
		char up[32];
		size_t j;

		for (j = 0; sbx_runtime_language_name(i)[j] && j < sizeof(up) - 1; j++)
			up[j] = (char)toupper((unsigned char)sbx_runtime_language_name(i)[j]);
		up[j] = 0;
		fprintf(f, "  ENABLE_%-14s languages.%s\n", up, sbx_runtime_language_name(i));
	}
	fprintf(f,
		"\nExit status: 0 on a clean shutdown (SIGTERM/SIGINT), 1 on a runtime failure,\n"
		"2 on a configuration error.\n");
}

void sbx_config_markdown(FILE *f)
{
	sbx_opts_markdown(&table, f);
}
