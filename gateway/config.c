#include "gw_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "envelope.h"
#include "log.h"
#include "options.h"
#include "sandbox.h"

static int host_n(struct gw_config *c, const char *h, size_t len)
{
	if (len == 0 || len >= sizeof(c->host) || memchr(h, '\0', len))
		return -EINVAL;
	memcpy(c->host, h, len);
	c->host[len] = '\0';
	return 0;
}

static int set_port(void *cfg, const char *s)
{
	struct gw_config *c = cfg;
	uint64_t v;

	if (sbx_opts_parse_uint(s, false, &v) < 0 || v > 65535)
		return -EINVAL;
	c->port = (uint16_t)v;
	return 0;
}

static int set_host(void *cfg, const char *h)
{
	return host_n(cfg, h, strlen(h));
}

static int set_listen(void *cfg, const char *s)
{
	struct gw_config *c = cfg;
	const char *colon;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		if (host_n(c, s + 1, (size_t)(close - s - 1)) < 0)
			return -EINVAL;
		return set_port(c, close + 2);
	}
	colon = strrchr(s, ':');
	if (!colon || strchr(s, ':') != colon)
		return -EINVAL;
	if (colon > s && host_n(c, s, (size_t)(colon - s)) < 0)
		return -EINVAL;
	return set_port(c, colon + 1);
}

static int set_cluster_key(void *cfg, const char *v)
{
	struct gw_config *c = cfg;
	size_t n = strlen(v);

	if (n >= sizeof(c->cluster_key))
		return -EINVAL;
	memcpy(c->cluster_key, v, n + 1);
	return 0;
}

static int set_log_level(void *cfg, const char *v)
{
	int r = sbx_log_level_parse(v);

	if (r >= 0)
		((struct gw_config *)cfg)->log_level = r;
	return r < 0 ? -EINVAL : 0;
}

static int set_log_format(void *cfg, const char *v)
{
	int r = sbx_log_format_parse(v);

	if (r >= 0)
		((struct gw_config *)cfg)->log_format = r;
	return r < 0 ? -EINVAL : 0;
}

#define F(field) offsetof(struct gw_config, field)
#define U32(flag_, env_, field_, def_, min_, max_, arg_, help_)                                    \
	{                                                                                          \
		.flag = flag_, .env = env_, .type = SBX_OPT_U32, .offset = F(field_), .def = def_, \
		.min = min_, .max = max_, .arg = arg_, .help = help_                               \
	}
#define CUSTOM(flag_, env_, set_, def_, must_, arg_, help_, ...)                                   \
	{                                                                                          \
		.flag = flag_, .env = env_, .type = SBX_OPT_CUSTOM, .set = set_, .def = def_,      \
		.must = must_, .arg = arg_, .help = help_, __VA_ARGS__                             \
	}

#define REF(flag_, env_, field_, def_, arg_, help_)                                                \
	{                                                                                          \
		.flag = flag_, .env = env_, .type = SBX_OPT_REF, .offset = F(field_), .def = def_, \
		.arg = arg_, .help = help_                                                         \
	}
#define LIST(flag_, env_, field_, def_, help_)                                                     \
	{                                                                                          \
		.flag = flag_, .env = env_, .type = SBX_OPT_LIST, .offset = F(field_),             \
		.def = def_, .arg = "URL", .help = help_, .flags = SBX_OPT_NONEMPTY                \
	}
#define ACTION(flag_, short_, action_, help_)                                                      \
	{                                                                                          \
		.flag = flag_, .short_flag = short_, .type = SBX_OPT_ACTION, .min = action_,       \
		.help = help_                                                                      \
	}

/* One row per setting (common/options.h); --help and the defaults follow
 * from them. */
static const struct sbx_opt rows[] = {
	CUSTOM("listen", NULL, set_listen, "127.0.0.1:8070",
	       "be HOST:PORT, [IPV6]:PORT or :PORT with a port up to 65535", "HOST:PORT",
	       "address to serve HTTP on"),
	CUSTOM(NULL, "SANDBOX_HOST", set_host, NULL, "be a host name or address", NULL,
	       "the host of --listen", .flags = SBX_OPT_NO_ECHO),
	CUSTOM(NULL, "SANDBOX_PORT", set_port, NULL, "be a port from 0 to 65535", NULL,
	       "the port of --listen"),
	LIST("rpc", "SANDBOXD_RPC", rpc, SBX_DEFAULT_RPC_URL,
	     "the daemon's RPC socket, or each node's of a cluster: repeated or comma-separated "
	     "(no default with --rpc-dns)"),
	REF("rpc-dns", "SANDBOXD_RPC_DNS", rpc_dns, "", "tcp://NAME:PORT",
	    "cluster nodes' RPC sockets: every address of NAME, resolved again every few seconds"),
	LIST("events", "SANDBOXD_EVENTS", events, SBX_DEFAULT_EVENTS_URL,
	     "the daemon's event socket, or each node's: repeated or comma-separated "
	     "(no default with --events-dns)"),
	REF("events-dns", "SANDBOXD_EVENTS_DNS", events_dns, "", "tcp://NAME:PORT",
	    "cluster nodes' event sockets: every address of NAME, resolved again every few "
	    "seconds"),
	CUSTOM("cluster-key", "SANDBOX_CLUSTER_KEY", set_cluster_key, NULL, "be at most 1023 bytes",
	       "KEY", "the key the cluster's nodes require (RPC and proxy tunnel)",
	       .flags = SBX_OPT_NO_ECHO | SBX_OPT_SECRET),
	REF("cluster-key-file", "SANDBOX_CLUSTER_KEY_FILE", cluster_key_file, NULL, "PATH",
	    "read the cluster key from this file (one line; Swarm and Kubernetes secrets)"),
	{.flag = "max-body",
	 .type = SBX_OPT_SIZE,
	 .offset = F(max_body),
	 .def = "16m",
	 .min = 1,
	 .max = SBX_ENVELOPE_MAX,
	 .arg = "BYTES",
	 .help = "largest request body, suffix k/m/g allowed; 413 beyond"},
	U32("request-timeout", NULL, request_timeout_ms, "60000", 1, 3600000, "MS",
	    "how long one RPC may take; 504 beyond"),
	U32("threads", NULL, threads, "4", 1, 256, "N", "HTTP worker threads"),
	U32("max-connections", NULL, max_connections, "1024", 1, 65536, "N",
	    "open HTTP connections at most"),
	U32("connection-timeout", NULL, conn_timeout_s, "30", 1, 86400, "S",
	    "close an idle HTTP connection after S seconds"),
	U32("drain-timeout", NULL, drain_timeout_ms, "10000", 0, 600000, "MS",
	    "on SIGTERM, wait this long for in-flight requests"),
	U32("rate-limit", "RATE_LIMIT_PER_MINUTE", rate_limit_per_minute, "0", 0, 1000000, "N",
	    "requests a minute per client IP that create or run, 0 = no limit"),
	U32("rate-burst", "RATE_LIMIT_BURST", rate_limit_burst, "10", 1, 1000000, "N",
	    "requests a client may make at once before the limit applies"),
	U32("rate-clients", NULL, rate_limit_clients, "10000", 1, 1000000, "N",
	    "client addresses the rate limiter tracks at most"),
	U32("max-log-streams", "MAX_LOG_STREAMS", max_log_streams, "256", 1, 65536, "N",
	    "live log streams (SSE/NDJSON) open at once, 429 beyond"),
	U32("log-keepalive", "LOG_STREAM_KEEPALIVE", log_keepalive_s, "15", 1, 3600, "S",
	    "keep-alive comment on an idle log stream every S seconds"),
	U32("proxy-timeout", "PROXY_TIMEOUT_MS", proxy_timeout_ms, "60000", 1, 3600000, "MS",
	    "/faas and /proxy: how long a service may take to send its response headers"),
	U32("proxy-cache", "PROXY_CACHE_MS", proxy_cache_ms, "1000", 0, 60000, "MS",
	    "/faas and /proxy: reuse the daemon's answer of where a service is for MS "
	    "(0: ask for every request)"),
	REF("docs-dir", "SANDBOX_DOCS_DIR", docs_dir, "", "DIR",
	    "GET /docs' viewer, npm swagger-ui-dist's files (empty: share/sandboxd/swagger-ui "
	    "beside the binary's bin directory, where the build and make install put it)"),
	CUSTOM("log-level", "LOG_LEVEL", set_log_level, "info", "be error, warn, info or debug",
	       "LEVEL", "error, warn, info or debug"),
	CUSTOM("log-format", "LOG_FORMAT", set_log_format, "text", "be text or json", "FORMAT",
	       "text or json"),
	ACTION("help", 'h', GW_ACTION_HELP, "print this help and exit"),
	ACTION("help-markdown", 0, GW_ACTION_MARKDOWN,
	       "print the settings as the Markdown table of README.md and exit"),
	ACTION("version", 'V', GW_ACTION_VERSION, "print the version and exit"),
};

/* Exact flags, as the gateway has always read them: no abbreviations, no
 * "-hV", and a positional argument is refused where it stands. */
static const struct sbx_opts table =
	SBX_OPTS(rows, SBX_OPTS_EXACT | SBX_OPTS_ENV_DOLLAR, "unknown option '%s' (see --help)",
		 "%s needs a value (%s)", "unexpected argument '%s' (see --help)");

/* The default socket is no node of the cluster that the DNS form finds:
 * dropped then, unless the environment or a flag named it. */
static void drop_default(struct sbx_opt_list *l, const char *dns, char **envp, const char *env)
{
	if (*dns && !l->from_argv && !sbx_opts_getenv(envp, env)) {
		free(l->joined);
		l->joined = NULL;
	}
}

/* What no single row can check; the key file is read here, once. */
static int check(struct gw_config *c, char **envp, char *err, size_t errlen)
{
	if (c->max_connections < c->threads) {
		snprintf(err, errlen, "--max-connections (%u) must be at least --threads (%u)",
			 c->max_connections, c->threads);
		return -EINVAL;
	}
	drop_default(&c->rpc, c->rpc_dns, envp, "SANDBOXD_RPC");
	drop_default(&c->events, c->events_dns, envp, "SANDBOXD_EVENTS");
	if (c->cluster_key_file && *c->cluster_key_file) {
		if (*c->cluster_key) {
			snprintf(err, errlen,
				 "set the cluster key with --cluster-key or --cluster-key-file, "
				 "not both");
			return -EINVAL;
		}
		return sbx_opts_read_file(c->cluster_key_file, "--cluster-key-file", c->cluster_key,
					  sizeof(c->cluster_key), err, errlen);
	}
	return 0;
}

int gw_config_load(struct gw_config *cfg, int argc, char **argv, char **envp,
		   enum gw_config_action *ret_action, char *err, size_t errlen)
{
	int action = GW_ACTION_RUN;
	struct gw_config c = {0};

	int r;

	if ((r = sbx_opts_defaults(&table, &c, err, errlen)) < 0 ||
	    (r = sbx_opts_env(&table, &c, envp, err, errlen)) < 0 ||
	    (r = sbx_opts_argv(&table, &c, argc, argv, &action, err, errlen)) < 0 ||
	    (r = check(&c, envp, err, errlen)) < 0) {
		gw_config_fini(&c);
		return r == -ENOMEM ? r : -EINVAL;
	}
	*cfg = c;
	*ret_action = action;
	return 0;
}

void gw_config_fini(struct gw_config *cfg)
{
	sbx_opts_fini(&table, cfg);
	explicit_bzero(cfg->cluster_key, sizeof(cfg->cluster_key));
}

void gw_config_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTION]...\n"
		"Serve sandboxd's JSON/HTTP API by translating requests into its RPCs.\n\n",
		prog);
	sbx_opts_usage(&table, f);
	fprintf(f, "\nFlags override the environment. Invalid values exit with status 2.\n");
}

void gw_config_markdown(FILE *f)
{
	sbx_opts_markdown(&table, f);
}
