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
#include "node.h"
#include "volume.h"

extern char **environ;

/* Disk limits (daemon/volume/): volumes are loop-mounted ext4 images.
 * Their mounts are made in a mount namespace of the daemon's own, entered
 * here while single-threaded and before the spawner is forked (its
 * namespace is then made from ours and sees every volume), so that they
 * all die with the daemon, kill -9 included. Entered with disk limits off
 * too: volumes made before they were turned off are still mounted. The
 * docker backend's containers are made by dockerd, in the host's
 * namespace: its volumes are mounted there (a restart replaces the mounts
 * a kill -9 left). Without loop devices or mke2fs the daemon refuses to
 * start, unless disk limits are off (0), which it says loudly: never
 * silently unlimited. */
static int disk_setup(const struct sbx_config *c)
{
	const char *off = "; or set SANDBOX_DISK_LIMIT_MB=0 to run without disk limits";
	bool on = c->default_disk_limit_mb > 0;
	char err[512];
	int r = 0;

	if (!on)
		log_warn("disk limits are OFF (SANDBOX_DISK_LIMIT_MB=0): workspaces, sessions' /tmp "
			 "and deployments can fill the host's disk");
	if (strcmp(c->backend, "docker") != 0 && (r = sbx_volume_private_ns()) < 0) {
		sbx_log(on ? SBX_LOG_ERROR : SBX_LOG_WARN, NULL,
			"disk volumes need a mount namespace of the daemon's own, and unshare "
			"failed: %s (CAP_SYS_ADMIN is needed)%s",
			strerror(-r), on ? off : "");
		return on ? r : 0;
	}
	/* A volume made, mounted and removed: what is missing shows now. */
	if (on && (r = sbx_volume_probe(c->state_dir, err, sizeof(err))) < 0) {
		log_error("%s%s", err, off);
		return r;
	}
	return 0;
}

/* The actions that print and exit (--help, --version, --print-config,
 * --markdown): false once done, true when the daemon is to serve. */
static bool act(enum sbx_config_action action, const struct sbx_config *c)
{
	switch (action) {
	case SBX_ACTION_HELP:
		sbx_config_usage(stdout, "sandboxd");
		return false;
	case SBX_ACTION_VERSION:
		printf("sandboxd %s\n", SBX_VERSION);
		return false;
	case SBX_ACTION_PRINT:
		sbx_config_print(c, stdout);
		return false;
	case SBX_ACTION_MARKDOWN:
		sbx_config_markdown(stdout);
		return false;
	case SBX_ACTION_SERVE:
		break;
	}
	return true;
}

/* Serves until SIGTERM or SIGINT, then finishes in-flight requests. */
static int serve(struct sbx_daemon *d)
{
	sigset_t sigs;
	int r, sig;

	/* Block the stop signals before any thread exists, so every thread
	 * inherits the mask and sigwait() below is the only receiver. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = sbx_daemon_start(d);
	if (r < 0) {
		log_error("cannot start: %s", strerror(-r));
		return r;
	}
	log_info("sandboxd %s serving RPC on %s, events on %s, state in %s, backend %s",
		 SBX_VERSION, d->cfg.rpc_url, d->cfg.events_url, d->cfg.state_dir,
		 sbx_executor_describe(d->exec));
	sigwait(&sigs, &sig);
	log_info("%s received, finishing in-flight requests", strsignal(sig));
	sbx_daemon_stop(d, 30000);
	return 0;
}

int main(int argc, char **argv)
{
	struct sbx_daemon d = { 0 };
	enum sbx_config_action action;
	char err[512];
	int r;

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
	if (!act(action, &d.cfg)) {
		sbx_config_fini(&d.cfg);
		return 0;
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
	/* The node's id before anything makes an id (they carry its tag). */
	if (sbx_node_identity(&d.cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		sbx_config_fini(&d.cfg);
		return 1;
	}
	log_info("node %s (tag %s)", d.cfg.node_id, d.cfg.node_tag);
	sbx_node_warn_exposure(&d.cfg);
	if (disk_setup(&d.cfg) < 0) {
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
	r = serve(&d);
	sbx_executor_free(d.exec);
	sbx_config_fini(&d.cfg);
	if (r < 0)
		return 1;
	log_info("stopped");
	return 0;
}
