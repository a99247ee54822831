#include "gw_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "envelope.h"
#include "log.h"
#include "sandbox.h"

enum kind {
	K_STR,
	K_U32,
	K_SIZE,	  /* bytes, with an optional k/m/g (KiB/MiB/GiB) suffix */
	K_LISTEN, /* HOST:PORT, [V6]:PORT, :PORT */
	K_HOST,
	K_PORT,
	K_LOG_LEVEL,
	K_LOG_FORMAT,
};

struct opt {
	const char *flag; /* without "--"; NULL: environment only */
	const char *env;  /* NULL: flag only */
	enum kind kind;
	size_t off;
	uint64_t min, max;
	const char *arg, *help;
};

#define F(field) offsetof(struct gw_config, field)

static const struct opt opts[] = {
	{"listen", NULL, K_LISTEN, 0, 0, 0, "HOST:PORT",
	 "address to serve HTTP on (default 127.0.0.1:8070)"},
	{NULL, "SANDBOX_HOST", K_HOST, 0, 0, 0, NULL, NULL},
	{NULL, "SANDBOX_PORT", K_PORT, 0, 0, 0, NULL, NULL},
	{"rpc", "SANDBOXD_RPC", K_STR, F(rpc_url), 0, 0, "URL",
	 "the daemon's RPC socket (default " SBX_DEFAULT_RPC_URL ")"},
	{"events", "SANDBOXD_EVENTS", K_STR, F(events_url), 0, 0, "URL",
	 "the daemon's event socket (default " SBX_DEFAULT_EVENTS_URL ")"},
	{"max-body", NULL, K_SIZE, F(max_body), 1, SBX_ENVELOPE_MAX, "BYTES",
	 "largest request body, suffix k/m/g allowed (default 16m)"},
	{"request-timeout", NULL, K_U32, F(request_timeout_ms), 1, 3600000, "MS",
	 "how long one RPC may take (default 60000)"},
	{"threads", NULL, K_U32, F(threads), 1, 256, "N", "HTTP worker threads (default 4)"},
	{"max-connections", NULL, K_U32, F(max_connections), 1, 65536, "N",
	 "open HTTP connections at most (default 1024)"},
	{"connection-timeout", NULL, K_U32, F(conn_timeout_s), 1, 86400, "S",
	 "close an idle HTTP connection after S seconds (default 30)"},
	{"drain-timeout", NULL, K_U32, F(drain_timeout_ms), 0, 600000, "MS",
	 "on SIGTERM, wait this long for in-flight requests (default 10000)"},
	{"rate-limit", "RATE_LIMIT_PER_MINUTE", K_U32, F(rate_limit_per_minute), 0, 1000000, "N",
	 "requests a minute per client IP that create or run, 0 = no limit (default 0)"},
	{"rate-burst", "RATE_LIMIT_BURST", K_U32, F(rate_limit_burst), 1, 1000000, "N",
	 "requests a client may make at once before the limit applies (default 10)"},
	{"rate-clients", NULL, K_U32, F(rate_limit_clients), 1, 1000000, "N",
	 "client addresses the rate limiter tracks at most (default 10000)"},
	{"max-log-streams", "MAX_LOG_STREAMS", K_U32, F(max_log_streams), 1, 65536, "N",
	 "live log streams (SSE/NDJSON) open at once, 429 beyond (default 256)"},
	{"log-keepalive", "LOG_STREAM_KEEPALIVE", K_U32, F(log_keepalive_s), 1, 3600, "S",
	 "keep-alive comment on an idle log stream every S seconds (default 15)"},
	{"proxy-timeout", "PROXY_TIMEOUT_MS", K_U32, F(proxy_timeout_ms), 1, 3600000, "MS",
	 "/faas and /proxy: how long a service may take to send its response headers "
	 "(default 60000)"},
	{"proxy-cache", "PROXY_CACHE_MS", K_U32, F(proxy_cache_ms), 0, 60000, "MS",
	 "/faas and /proxy: reuse the daemon's answer of where a service is for MS "
	 "(default 1000; 0: ask for every request)"},
	{"log-level", "LOG_LEVEL", K_LOG_LEVEL, F(log_level), 0, 0, "LEVEL",
	 "error, warn, info or debug (default info)"},
	{"log-format", "LOG_FORMAT", K_LOG_FORMAT, F(log_format), 0, 0, "FORMAT",
	 "text or json (default text)"},
};

static void defaults(struct gw_config *c)
{
	*c = (struct gw_config){
		.host = "127.0.0.1",
		.port = 8070,
		.rpc_url = SBX_DEFAULT_RPC_URL,
		.events_url = SBX_DEFAULT_EVENTS_URL,
		.max_body = 16u << 20,
		.request_timeout_ms = 60000,
		.threads = 4,
		.max_connections = 1024,
		.conn_timeout_s = 30,
		.drain_timeout_ms = 10000,
		.log_level = SBX_LOG_INFO,
		.log_format = SBX_LOG_TEXT,
		.rate_limit_burst = 10,
		.rate_limit_clients = 10000,
		.max_log_streams = 256,
		.log_keepalive_s = 15,
		.proxy_timeout_ms = 60000,
		.proxy_cache_ms = 1000,
	};
}

/* A decimal integer, nothing else: no sign, no spaces, no trailing bytes. */
static int parse_uint(const char *s, uint64_t *ret, int allow_suffix)
{
	uint64_t v, mul = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (allow_suffix && *end && !end[1]) {
		switch (*end) {
		case 'k':
		case 'K':
			mul = 1u << 10;
			end++;
			break;
		case 'm':
		case 'M':
			mul = 1u << 20;
			end++;
			break;
		case 'g':
		case 'G':
			mul = 1u << 30;
			end++;
			break;
		}
	}
	if (*end || v > UINT64_MAX / mul)
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

static int set_host(struct gw_config *c, const char *h, size_t len)
{
	if (len == 0 || len >= sizeof(c->host) || memchr(h, '\0', len))
		return -EINVAL;
	memcpy(c->host, h, len);
	c->host[len] = '\0';
	return 0;
}

static int set_port(struct gw_config *c, const char *s)
{
	uint64_t v;

	if (parse_uint(s, &v, 0) < 0 || v > 65535)
		return -EINVAL;
	c->port = (uint16_t)v;
	return 0;
}

static int set_listen(struct gw_config *c, const char *s)
{
	const char *colon;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		if (set_host(c, s + 1, (size_t)(close - s - 1)) < 0)
			return -EINVAL;
		return set_port(c, close + 2);
	}
	colon = strrchr(s, ':');
	if (!colon || strchr(s, ':') != colon)
		return -EINVAL;
	if (colon > s && set_host(c, s, (size_t)(colon - s)) < 0)
		return -EINVAL;
	return set_port(c, colon + 1);
}

/* Apply one value; `from` names its source for the error sentence. */
static int apply(struct gw_config *c, const struct opt *o, const char *v, const char *from,
		 char *err, size_t errlen)
{
	char *base = (char *)c;
	uint64_t n;
	int r;

	switch (o->kind) {
	case K_STR:
		if (!*v) {
			snprintf(err, errlen, "%s must not be empty", from);
			return -EINVAL;
		}
		*(const char **)(base + o->off) = v;
		return 0;
	case K_U32:
	case K_SIZE:
		if (parse_uint(v, &n, o->kind == K_SIZE) < 0 || n < o->min || n > o->max) {
			snprintf(err, errlen,
				 "%s must be an integer from %" PRIu64 " to %" PRIu64 ", not '%s'",
				 from, o->min, o->max, v);
			return -EINVAL;
		}
		if (o->kind == K_SIZE)
			*(uint64_t *)(base + o->off) = n;
		else
			*(uint32_t *)(base + o->off) = (uint32_t)n;
		return 0;
	case K_LISTEN:
		if (set_listen(c, v) < 0) {
			snprintf(err, errlen,
				 "%s must be HOST:PORT, [IPV6]:PORT or :PORT with a port up to "
				 "65535, not '%s'",
				 from, v);
			return -EINVAL;
		}
		return 0;
	case K_HOST:
		if (set_host(c, v, strlen(v)) < 0) {
			snprintf(err, errlen, "%s must be a host name or address", from);
			return -EINVAL;
		}
		return 0;
	case K_PORT:
		if (set_port(c, v) < 0) {
			snprintf(err, errlen, "%s must be a port from 0 to 65535, not '%s'", from,
				 v);
			return -EINVAL;
		}
		return 0;
	case K_LOG_LEVEL:
	case K_LOG_FORMAT:
		r = o->kind == K_LOG_LEVEL ? sbx_log_level_parse(v) : sbx_log_format_parse(v);
		if (r < 0) {
			snprintf(err, errlen, "%s must be %s, not '%s'", from,
				 o->kind == K_LOG_LEVEL ? "error, warn, info or debug"
							: "text or json",
				 v);
			return -EINVAL;
		}
		*(int *)(base + o->off) = r;
		return 0;
	}
	return -EINVAL;
}

static const char *env_get(char **envp, const char *name)
{
	size_t nl = strlen(name);

	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, name, nl) == 0 && (*e)[nl] == '=')
			return *e + nl + 1;
	return NULL;
}

static const struct opt *find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(opts); i++)
		if (opts[i].flag && strlen(opts[i].flag) == len &&
		    strncmp(opts[i].flag, name, len) == 0)
			return &opts[i];
	return NULL;
}

int gw_config_load(struct gw_config *cfg, int argc, char **argv, char **envp,
		   enum gw_config_action *ret_action, char *err, size_t errlen)
{
	enum gw_config_action action = GW_ACTION_RUN;
	struct gw_config c;
	char from[64];

	defaults(&c);
	for (size_t i = 0; i < SBX_ARRAY_SIZE(opts); i++) {
		const char *v = opts[i].env ? env_get(envp, opts[i].env) : NULL;

		if (!v)
			continue;
		snprintf(from, sizeof(from), "$%s", opts[i].env);
		if (apply(&c, &opts[i], v, from, err, errlen) < 0)
			return -EINVAL;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *v;
		const struct opt *o;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			action = GW_ACTION_HELP;
			continue;
		}
		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			action = GW_ACTION_VERSION;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
			return -EINVAL;
		}
		name = a + 2;
		eq = strchr(name, '=');
		o = find_flag(name, eq ? (size_t)(eq - name) : strlen(name));
		if (!o) {
			snprintf(err, errlen, "unknown option '%s' (see --help)", a);
			return -EINVAL;
		}
		if (eq) {
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			snprintf(err, errlen, "--%s needs a value (%s)", o->flag, o->arg);
			return -EINVAL;
		}
		snprintf(from, sizeof(from), "--%s", o->flag);
		if (apply(&c, o, v, from, err, errlen) < 0)
			return -EINVAL;
	}
	if (c.max_connections < c.threads) {
		snprintf(err, errlen, "--max-connections (%u) must be at least --threads (%u)",
			 c.max_connections, c.threads);
		return -EINVAL;
	}
	*cfg = c;
	*ret_action = action;
	return 0;
}

void gw_config_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTION]...\n"
		"Serve sandboxd's JSON/HTTP API by translating requests into its RPCs.\n\n",
		prog);
	for (size_t i = 0; i < SBX_ARRAY_SIZE(opts); i++) {
		char left[64];

		if (!opts[i].flag)
			continue;
		snprintf(left, sizeof(left), "--%s %s", opts[i].flag, opts[i].arg);
		fprintf(f, "  %-28s %s%s%s%s\n", left, opts[i].help, opts[i].env ? " [$" : "",
			opts[i].env ? opts[i].env : "", opts[i].env ? "]" : "");
	}
	fprintf(f, "  %-28s %s\n  %-28s %s\n\n", "--help", "print this help and exit", "--version",
		"print the version and exit");
	fprintf(f, "Environment: SANDBOX_HOST and SANDBOX_PORT set the listen address; flags\n"
		   "override the environment. Invalid values exit with status 2.\n");
}
