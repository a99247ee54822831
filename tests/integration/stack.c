#include "stack.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "httpc.h"
#include "testlib.h"

#define MAX_DAEMON_ARGS 16

bool th_sandboxes_possible(char *why, size_t whylen)
{
	pid_t pid = fork();
	int st = 0;

	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return false;
	}
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) == 0 ? 0 : errno & 0x7f);
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return true;
	snprintf(why, whylen, "unshare(user, mount, pid namespaces): %s",
		 WIFEXITED(st) ? strerror(WEXITSTATUS(st)) : "the probe died");
	return false;
}

void th_require_sandboxes(void)
{
	char why[256];

	if (!th_sandboxes_possible(why, sizeof(why)))
		SKIP("%s", why);
}

int th_stack_start(struct th_stack *s, const char *name, const char *const daemon_args[])
{
	memset(s, 0, sizeof(*s));

	const char *dargs[8 + MAX_DAEMON_ARGS] = {"--rpc",   s->rpc,	    "--events",
						  s->events, "--state-dir", s->state};
	const char *gargs[] = {"--listen", s->listen,	"--rpc", s->rpc, "--events",
			       s->events,  "--threads", "2",	 NULL};
	int port = tl_free_port(), n = 6;

	s->dir = tl_tmpdir(name);
	if (!s->dir || port < 0) {
		tl_fail(__FILE__, __LINE__, "th_stack_start", "no temporary directory or port");
		return -1;
	}
	/* mkdtemp makes it 0700; sandboxes would work below that
	 * (test-http-errors.c), a gateway running as another user reaching
	 * the deployments' sockets would not. */
	chmod(s->dir, 0711);
	snprintf(s->rpc, sizeof(s->rpc), "ipc://%s/rpc.sock", s->dir);
	snprintf(s->events, sizeof(s->events), "ipc://%s/events.sock", s->dir);
	snprintf(s->state, sizeof(s->state), "%s/state", s->dir);
	snprintf(s->daemon_log, sizeof(s->daemon_log), "%s/sandboxd.log", s->dir);
	snprintf(s->gw_log, sizeof(s->gw_log), "%s/gateway.log", s->dir);
	snprintf(s->listen, sizeof(s->listen), "127.0.0.1:%d", port);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", port);
	for (int i = 0; daemon_args && daemon_args[i] && i < MAX_DAEMON_ARGS; i++)
		dargs[n++] = daemon_args[i];
	dargs[n] = NULL;
	s->daemon = th_spawn("sandboxd", dargs, s->daemon_log);
	s->gw = th_spawn("sandbox-gateway", gargs, s->gw_log);
	if (s->daemon <= 0 || s->gw <= 0 || !th_wait_http(s->base, "/health", 200, 30000)) {
		tl_fail(__FILE__, __LINE__, "th_stack_start",
			"sandboxd and sandbox-gateway did not come up in 30 s");
		th_dump_logs();
		return -1;
	}
	return 0;
}

void th_stack_stop(struct th_stack *s)
{
	if (tl_failed)
		th_dump_logs();
	if (s->gw > 0)
		th_stop(s->gw, SIGTERM, 10000);
	if (s->daemon > 0)
		th_stop(s->daemon, SIGTERM, 15000);
	s->gw = s->daemon = 0;
	if (s->dir && !getenv("SBX_KEEP_TMP"))
		th_rmtree(s->dir);
	else if (s->dir)
		printf("kept %s\n", s->dir);
	free(s->dir);
	s->dir = NULL;
}
