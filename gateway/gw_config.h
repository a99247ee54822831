/* sandbox-gateway's configuration: one struct, filled from the environment
 * and then from command-line flags (flags win), validated once. Every key is
 * a row of one table in config.c, which also prints --help. */
#ifndef SBX_GW_CONFIG_H
#define SBX_GW_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "options.h"

#define GW_HOST_MAX 256
#define GW_CLUSTER_KEY_MAX 1024 /* the cluster key's bytes with the NUL */

struct gw_config {
	char host[GW_HOST_MAX];	     /* listen address: a name or a numeric address */
	uint16_t port;		     /* 0: any free port */
	/* The daemons' RPC and event sockets: one URL (one daemon, as before
	 * clusters) or several, comma-separated (a cluster's nodes, README
	 * "Cluster"); owned, freed by gw_config_fini. */
	struct sbx_opt_list rpc, events;
	/* "tcp://NAME:PORT" whose every address is a node; "": none (point
	 * into argv/env/literal). */
	const char *rpc_dns, *events_dns;
	/* Sent with every RPC and to the nodes' proxy tunnels; "": none. From
	 * --cluster-key or the file --cluster-key-file names (read once). */
	char cluster_key[GW_CLUSTER_KEY_MAX];
	const char *cluster_key_file;
	uint64_t max_body;	     /* request body bytes */
	uint32_t request_timeout_ms; /* per RPC */
	uint32_t threads;	     /* libmicrohttpd thread pool size */
	uint32_t max_connections;
	uint32_t conn_timeout_s;   /* idle HTTP connection timeout */
	uint32_t drain_timeout_ms; /* on SIGTERM: how long in-flight requests may finish */
	int log_level;		   /* enum sbx_log_level */
	int log_format;		   /* enum sbx_log_format */
	/* Per client IP, on the routes that create or run (gateway/ratelimit.h):
	 * requests a minute (0: no limit), burst, and how many clients the
	 * table tracks at most. */
	uint32_t rate_limit_per_minute;
	uint32_t rate_limit_burst;
	uint32_t rate_limit_clients;
	/* HTTP log streams (gateway/logstream.h): open at most, 429 beyond;
	 * seconds between keep-alive comments of an idle stream. */
	uint32_t max_log_streams;
	uint32_t log_keepalive_s;
	/* Reverse proxy (gateway/proxy.h): how long the upstream may take to
	 * send its response headers (and to accept the connection). */
	uint32_t proxy_timeout_ms;
	/* ...and how long the daemon's answer of where a service is holds. */
	uint32_t proxy_cache_ms;
	/* GET /docs' viewer (gateway/admin_page.h); "": the default beside
	 * the binary (points into argv/env/literal). */
	const char *docs_dir;
};

enum gw_config_action {
	GW_ACTION_RUN,
	GW_ACTION_HELP,
	GW_ACTION_VERSION,
	GW_ACTION_MARKDOWN, /* --help-markdown: the README's table */
};

/* Defaults, then envp (NULL-terminated "NAME=value" strings), then argv.
 * Strings in *cfg may point into argv and envp, which must outlive it.
 * Returns 0 and the action (free *cfg with gw_config_fini), or -EINVAL
 * with one sentence in err (an unknown flag, a missing or bad value, an
 * unreadable key file: the caller exits 2) and *cfg untouched; -ENOMEM. */
int gw_config_load(struct gw_config *cfg, int argc, char **argv, char **envp,
		   enum gw_config_action *ret_action, char *err, size_t errlen);
/* Free what gw_config_load allocated; the struct is the caller's. */
void gw_config_fini(struct gw_config *cfg);

/* The --help text, generated from the table. */
void gw_config_usage(FILE *f, const char *prog);
/* The README's table of the gateway's settings, from the same rows. */
void gw_config_markdown(FILE *f);

#endif
