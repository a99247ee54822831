/* Reused network namespaces (daemon/sandbox/net.c, netns_reuse): an
 * execution's loopback-only namespace serves a later one only when it
 * holds nothing. Proved, not assumed: each run prints its namespace's
 * cookie (SO_NETNS_COOKIE, 71: a 64-bit counter the kernel never hands
 * out twice, unlike the namespace's inode, which a new namespace takes
 * over as soon as the old one is freed), so the test sees which runs
 * shared one.
 *
 * - Runs that leave nothing do get reused (otherwise the rest proves
 *   nothing and the speed-up is not there).
 * - A run that leaves a socket behind (a TCP connection in TIME_WAIT,
 *   which outlives its processes for a minute) never has its namespace
 *   served to a later run.
 * - A run that listened on ports and kept sockets open until it was
 *   killed leaves a namespace that a later run finds empty: the same
 *   ports bind again and the kernel lists no socket.
 * - With netns_reuse off, no two runs share one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_util.h"
#include "testlib.h"

#define RUNS 8

/* The namespace's cookie and the number of sockets the kernel lists in
 * it, then whether ports 5555 (tcp) and 5556 (udp) bind. */
static const char probe[] =
	"import os, socket\n"
	"print(int.from_bytes(socket.socket().getsockopt(socket.SOL_SOCKET, 71, 8), 'little'))\n"
	"n = 0\n"
	"for f in ('tcp', 'tcp6', 'udp', 'udp6', 'raw', 'unix', 'packet', 'icmp'):\n"
	"    try:\n"
	"        n += len(open('/proc/net/' + f).readlines()) - 1\n"
	"    except FileNotFoundError:\n"
	"        pass\n"
	"print('sockets', n)\n"
	"t = socket.socket(); t.bind(('127.0.0.1', 5555))\n"
	"u = socket.socket(type=socket.SOCK_DGRAM); u.bind(('127.0.0.1', 5556))\n"
	"print('bound')\n";

/* Leaves a TIME_WAIT: the client closes first. */
static const char time_wait[] =
	"import os, socket\n"
	"print(int.from_bytes(socket.socket().getsockopt(socket.SOL_SOCKET, 71, 8), 'little'))\n"
	"s = socket.socket(); s.bind(('127.0.0.1', 5555)); s.listen()\n"
	"c = socket.create_connection(('127.0.0.1', 5555)); a, _ = s.accept()\n"
	"c.close(); a.close(); s.close()\n"
	"print('tw', sum('06' == l.split()[3] for l in open('/proc/net/tcp').readlines()[1:]))\n";

/* Holds listening, connected and datagram sockets in a background
 * process when the run ends (killed with the sandbox). */
static const char holder[] =
	"import os, socket, time\n"
	"print(int.from_bytes(socket.socket().getsockopt(socket.SOL_SOCKET, 71, 8), 'little'), flush=True)\n"
	"s = socket.socket(); s.bind(('127.0.0.1', 5555)); s.listen()\n"
	"u = socket.socket(type=socket.SOCK_DGRAM); u.bind(('127.0.0.1', 5556))\n"
	"x = socket.socket(socket.AF_UNIX); x.bind('\\0sbx-netns-planted'); x.listen()\n"
	"if os.fork() == 0:\n"
	"    time.sleep(1000)\n"
	"print('holding', flush=True)\n";

/* rest as a pointer (CHECK_STR tests its arguments for NULL). */
static const char *str(const char *s)
{
	return s;
}

static void run(struct sbx_engine *e, const char *code, char *ns, size_t nslen, char *rest,
		size_t restlen)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.wall_time_ms = 10000;
	Sbx__ExecResult *r = tu_py(e, code, &s);
	const char *out = tu_out(r);
	const char *nl = strchr(out, '\n');
	if (r->status != ST(OK) || !nl)
		tu_dump("run", r);
	CHECK_INT(r->status, ST(OK));
	snprintf(ns, nslen, "%.*s", nl ? (int)(nl - out) : 0, out);
	snprintf(rest, restlen, "%s", nl ? nl + 1 : "");
	tu_free(r);
}

static struct sbx_engine *engine(bool reuse)
{
	setenv("SANDBOX_NETNS_REUSE", reuse ? "true" : "false", 1);
	return tu_engine(SBX_CGROUP_AUTO);
}

int main(void)
{
	char ns[RUNS][64], rest[256], first[64];
	struct sbx_engine *e = engine(true);
	int shared = 0;

	/* Clean runs, one after the other: namespaces come back. */
	for (int i = 0; i < RUNS; i++) {
		run(e, probe, ns[i], sizeof(ns[i]), rest, sizeof(rest));
		CHECK_STR(str(rest), "sockets 0\nbound\n");
		for (int j = 0; j < i; j++)
			if (strcmp(ns[i], ns[j]) == 0) {
				shared++;
				break;
			}
	}
	printf("clean runs: %d of %d ran in a namespace an earlier run had\n", shared, RUNS - 1);
	CHECKF(shared >= RUNS / 2, "only %d reuses", shared);

	/* A TIME_WAIT left behind: that namespace is never served again. */
	run(e, time_wait, first, sizeof(first), rest, sizeof(rest));
	CHECK_STR(str(rest), "tw 1\n");
	for (int i = 0; i < RUNS; i++) {
		run(e, probe, ns[i], sizeof(ns[i]), rest, sizeof(rest));
		CHECKF(strcmp(ns[i], first) != 0, "run %d was given the namespace with a TIME_WAIT",
		       i);
		CHECK_STR(str(rest), "sockets 0\nbound\n");
	}

	/* Sockets held until the sandbox was killed: gone with it; whoever
	 * gets that namespace next finds it empty. */
	for (int k = 0; k < 3; k++) {
		run(e, holder, first, sizeof(first), rest, sizeof(rest));
		CHECK_STR(str(rest), "holding\n");
		run(e, probe, ns[0], sizeof(ns[0]), rest, sizeof(rest));
		CHECK_STR(str(rest), "sockets 0\nbound\n");
	}
	sbx_engine_free(e);

	/* Off: every run its own. */
	e = engine(false);
	shared = 0;
	for (int i = 0; i < RUNS / 2; i++) {
		run(e, probe, ns[i], sizeof(ns[i]), rest, sizeof(rest));
		for (int j = 0; j < i; j++)
			shared += strcmp(ns[i], ns[j]) == 0;
	}
	CHECK_INT(shared, 0);
	sbx_engine_free(e);
	TEST_DONE();
}
