/* The daemon's configuration: one struct filled, in increasing precedence,
 * from built-in defaults, config.toml, environment variables and flags, as
 * listed by the one table in config.c, and validated once. */
#ifndef SBX_DAEMON_CONFIG_H
#define SBX_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SBX_CONFIG_MAX_WARNINGS 32

struct sbx_config {
	char *config_file;
	char *rpc_url;
	char *events_url;
	char *state_dir;
	char *proxy_dir;
	char *backend;
	char *docker_host;
	char *docker_image;
	char *nsjail_path;
	char *network_mode;
	/* NETWORK_MODE=bridge (daemon/netpolicy/): the lists as given (parsed
	 * by validate, again by the bridge), the subnet, upstream resolver
	 * and the instance tag that names the nft table and interfaces. */
	char *egress_allow, *install_allow, *bridge_subnet, *dns_upstream, *net_instance;
	uint32_t egress_max_connections;
	char *cgroup; /* sbx_config_cgroup_pref */
	char *api_key;
	char *socket_group;
	gid_t socket_gid; /* socket_group's, (gid_t)-1 for none */
	/* Cluster mode (README "Cluster"). node_id: "" until main resolves
	 * it (node.h: given, or state_dir/node-id); node_tag follows it. */
	char *node_id;
	char *cluster_key;	/* "" = none; the key file's text once loaded */
	char *cluster_key_file; /* read once by sbx_config_load */
	char *tunnel_url;	/* "" = no proxy tunnel, else tcp://HOST:PORT */
	char node_tag[9];	/* SBX_NODE_TAG_LEN + 1; "" until resolved */
	char *log_level;
	char *log_format;
	uint32_t default_timeout_ms;
	uint32_t default_memory_limit_mb;
	uint32_t max_execution_time_s;
	uint32_t max_memory_mb;
	uint32_t default_disk_limit_mb; /* 0 = disk limits off */
	uint32_t max_disk_limit_mb;
	uint32_t min_free_disk_mb;
	uint32_t max_concurrent;
	uint32_t max_queued;
	uint32_t warm_pool; /* pre-built sandboxes kept ready; 0 = off */
	uint32_t warm_pool_python; /* the same with python started; 0 = off */
	uint32_t warm_pool_node; /* the same with node started; 0 = off */
	uint32_t max_output_bytes;
	uint32_t rate_limit_per_minute;
	uint32_t rate_limit_burst;
	uint32_t rpc_contexts;
	uint32_t rpc_workers;
	uint32_t session_idle_s;
	uint32_t cleanup_interval_s;
	uint32_t sandbox_idle_s;
	uint32_t max_sandboxes;
	uint32_t max_deployments;
	uint32_t service_ready_timeout_ms;
	uint32_t scale_down_after_minutes;
	uint32_t max_sessions;
	uint32_t max_files;
	uint32_t max_upload_bytes;
	uint32_t files_download_max_bytes;
	uint32_t files_list_max_entries;
	uint32_t history_max;
	/* Judge0 submissions (daemon/judge0/). */
	uint32_t judge0_workers, judge0_max_queue, judge0_keep_max, judge0_keep_s;
	char *judge0_callback_allow;
	bool netns_reuse; /* engine.h: netns_reuse */
	bool allow_unlimited_memory;
	uint32_t history_max_age_s;    /* 0: kept until history_max pushes them out */
	uint32_t history_output_bytes; /* per stream kept with each execution; 0: none */
	uint32_t log_ring_lines;
	uint32_t logs_max_rings;
	uint32_t logs_ring_lines;
	uint32_t logs_ring_bytes;
	bool enable_audit_log;
	/* Seed settings that can only be true (validate refuses false). */
	bool read_only_root;
	bool drop_all_capabilities;
	/* ENABLE_<LANGUAGE> / [languages]: bit i set = the runtimes table's
	 * language i (sbx_runtime_language_name) is disabled. */
	uint64_t languages_off;
	/* What the configuration ignored (unknown config.toml keys), one
	 * sentence each, for sandboxd to log once logging is set up. */
	char *warnings[SBX_CONFIG_MAX_WARNINGS];
	unsigned n_warnings;
};

/* What sbx_config_load found on the command line besides settings. */
enum sbx_config_action {
	SBX_ACTION_SERVE,
	SBX_ACTION_HELP,
	SBX_ACTION_VERSION,
	SBX_ACTION_PRINT,
	SBX_ACTION_MARKDOWN, /* --help-markdown: the README's table */
};

/* Fill c from defaults, the config file (--config / SANDBOX_CONFIG), `envp`
 * and argv. On error returns -EINVAL with one sentence in err; c must still
 * be released with sbx_config_fini. */
int sbx_config_load(struct sbx_config *c, int argc, char **argv, char **envp,
		    enum sbx_config_action *ret_action, char *err, size_t errlen);
void sbx_config_fini(struct sbx_config *c);

/* cgroup as engine.h's enum sbx_cgroup_pref (auto 0, v1, v2, none), or
 * -EINVAL. */
int sbx_config_cgroup_pref(const struct sbx_config *c);
/* Every setting as `table.key = value` lines (the api key masked). */
void sbx_config_print(const struct sbx_config *c, FILE *f);
/* The --help text, generated from the table. */
void sbx_config_usage(FILE *f, const char *prog);
/* The README's table of settings (flag, environment, key, default,
 * meaning), generated from the same rows. */
void sbx_config_markdown(FILE *f);

#endif
