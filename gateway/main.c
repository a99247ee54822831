/* sandbox-gateway: read the configuration, serve HTTP until SIGINT or
 * SIGTERM, let in-flight requests finish (bounded), exit 0. Bad
 * configuration exits 2, a failure to start exits 1. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gw_config.h"
#include "log.h"
#include "routes.h"
#include "gw_server.h"

extern char **environ;

/* The start-up line's daemons: the one URL as always, or every node's URL
 * and the DNS name that finds more. */
static void log_started(const struct gw_config *cfg, uint16_t port)
{
	const char *urls = cfg->rpc.joined ? cfg->rpc.joined : "", *dns = cfg->rpc_dns;
	bool v6 = strchr(cfg->host, ':');

	if (!*dns && !strchr(urls, ','))
		log_info("sandbox-gateway %s listening on %s%s%s:%u, daemon at %s", SBX_VERSION,
			 v6 ? "[" : "", cfg->host, v6 ? "]" : "", port, urls);
	else
		log_info("sandbox-gateway %s listening on %s%s%s:%u, cluster nodes at %s%s%s%s",
			 SBX_VERSION, v6 ? "[" : "", cfg->host, v6 ? "]" : "", port, urls,
			 *urls && *dns ? " and " : "", *dns ? "every address of " : "", dns);
}

int main(int argc, char **argv)
{
	enum gw_config_action action;
	struct gw_server *srv = NULL;
	struct gw_config cfg;
	char err[512];
	sigset_t sigs;
	int r, sig;

	if (gw_config_load(&cfg, argc, argv, environ, &action, err, sizeof(err)) < 0) {
		fprintf(stderr, "sandbox-gateway: %s\n", err);
		return 2;
	}
	if (action != GW_ACTION_RUN) {
		if (action == GW_ACTION_HELP)
			gw_config_usage(stdout, "sandbox-gateway");
		else if (action == GW_ACTION_MARKDOWN)
			gw_config_markdown(stdout);
		else
			printf("sandbox-gateway %s\n", SBX_VERSION);
		gw_config_fini(&cfg);
		return 0;
	}
	sbx_log_setup(cfg.log_level, cfg.log_format);

	/* Block the stop signals before any thread exists, so every thread
	 * inherits the mask and sigwait() below is the only receiver. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = gw_server_new(&cfg, gw_routes, gw_n_routes, &srv, err, sizeof(err));
	if (r == 0)
		r = gw_server_start(srv, err, sizeof(err));
	if (r < 0) {
		log_error("cannot start: %s", err);
		gw_server_free(srv);
		gw_config_fini(&cfg);
		return 1;
	}
	log_started(&cfg, srv->port);
	sigwait(&sigs, &sig);
	log_info("%s received, finishing in-flight requests", strsignal(sig));
	if (gw_server_shutdown(srv) < 0)
		return 1;
	gw_server_free(srv);
	gw_config_fini(&cfg);
	log_info("stopped");
	return 0;
}
