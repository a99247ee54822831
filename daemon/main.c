/* sandboxd: parse the configuration, start serving, wait for SIGTERM or
 * SIGINT, finish in-flight replies, exit 0. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_run.h"
#include "daemon.h"
#include "executor.h"
#include "log.h"

extern char **environ;

int main(int argc, char **argv)
{
	struct sbx_daemon d = { 0 };
	enum sbx_config_action action;
	char err[512];
	sigset_t sigs;
	int r, sig;

	/* OpenSandbox's CLI mode: one sandboxed command, no daemon. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--run") == 0)
			return sbx_cli_run(argc, argv);

	r = sbx_config_load(&d.cfg, argc, argv, environ, &action, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "sandboxd: %s\n", err);
		sbx_config_fini(&d.cfg);
		return 2;
	}
	switch (action) {
	case SBX_ACTION_HELP:
		sbx_config_usage(stdout, "sandboxd");
		sbx_config_fini(&d.cfg);
		return 0;
	case SBX_ACTION_VERSION:
		printf("sandboxd %s\n", SBX_VERSION);
		sbx_config_fini(&d.cfg);
		return 0;
	case SBX_ACTION_PRINT:
		sbx_config_print(&d.cfg, stdout);
		sbx_config_fini(&d.cfg);
		return 0;
	case SBX_ACTION_SERVE:
		break;
	}
	sbx_log_setup(sbx_log_level_parse(d.cfg.log_level), sbx_log_format_parse(d.cfg.log_format));
	for (unsigned i = 0; i < d.cfg.n_warnings; i++)
		log_warn("%s", d.cfg.warnings[i]);

	/* Searchable but not listable: a gateway running as another user
	 * reaches the deployments' sockets in <state>/proxy. (Sandboxes get
	 * their workspaces as mount trees: they walk no host path.) */
	if (mkdir(d.cfg.state_dir, 0711) < 0 && errno != EEXIST) {
		log_error("cannot create state directory %s: %s", d.cfg.state_dir, strerror(errno));
		sbx_config_fini(&d.cfg);
		return 1;
	}
	/* The backend forks the privileged spawner: before any thread. */
	r = sbx_executor_new(&d.cfg, &d.exec);
	if (r < 0) {
		log_error("cannot start the %s backend: %s", d.cfg.backend, strerror(-r));
		sbx_config_fini(&d.cfg);
		return 1;
	}
	/* Block the stop signals before any thread exists, so every thread
	 * inherits the mask and sigwait() below is the only receiver. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = sbx_daemon_start(&d);
	if (r < 0) {
		log_error("cannot start: %s", strerror(-r));
		sbx_executor_free(d.exec);
		sbx_config_fini(&d.cfg);
		return 1;
	}
	log_info("sandboxd %s serving RPC on %s, events on %s, state in %s, backend %s", SBX_VERSION,
		 d.cfg.rpc_url, d.cfg.events_url, d.cfg.state_dir, sbx_executor_describe(d.exec));
	sigwait(&sigs, &sig);
	log_info("%s received, finishing in-flight requests", strsignal(sig));
	sbx_daemon_stop(&d, 30000);
	sbx_executor_free(d.exec);
	sbx_config_fini(&d.cfg);
	log_info("stopped");
	return 0;
}
