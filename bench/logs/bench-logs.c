/* bench-logs: live log lines from a sandbox to several followers.
 *
 *   bench-logs [-n LINES] [-s SUBSCRIBERS] [-r ROUNDS] [--sandboxd PATH]
 *
 * Starts the real sandboxd (the sibling of this binary, or --sandboxd) on
 * temporary ipc:// URLs with rings big enough for every line, then each
 * round: a fresh shell sandbox whose code is `seq 1 LINES`, SUBSCRIBERS
 * followers (sbx_logs_follow, the path of `sandboxctl logs`: live events,
 * gaps filled from the ring with GetLogs) started before ExecuteSandbox,
 * each checking that it gets 1..LINES once and in order, then the "exit"
 * line. A subscriber's rate is LINES / (its exit line - the call's start);
 * a round's figure is its slowest subscriber's.
 *
 * Peer, same round: the same lines through plain pipes, `seq 1 LINES | tee`
 * to SUBSCRIBERS readers in this process that check every line the same
 * way: what the kernel alone costs, no sandbox, no daemon, no loss possible.
 *
 * Prints medians over the rounds and the target: >= 50,000 lines/s to 4
 * subscribers with zero loss (no line missing, repeated, out of order or
 * dropped on the way from the spawner). Exit status: 0 when it measured (a
 * missed target is printed, not fatal), 1 when it could not, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "benchlib.h"
#include "clock.h"
#include "proc.h"
#include "sandbox.h"

#define MAX_SUBS 16
#define MAX_ROUNDS 15
#define MAX_LINES 10000000
#define CALL_TIMEOUT_MS 300000
#define CONNECT_WAIT_MS 30000
#define STOP_GRACE_MS 15000
#define TARGET_LINES_S 50000.0

/* Lines "1", "2", ... checked as they come; shared by both runners. */
struct check {
	uint64_t next; /* value expected next, from 1 */
	uint64_t bad;  /* lines that were not the expected value */
};

static void check_line(struct check *c, const char *p, size_t len)
{
	uint64_t v = 0;
	bool ok = len > 0 && len <= 19;
	for (size_t i = 0; ok && i < len; i++) {
		ok = p[i] >= '0' && p[i] <= '9';
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (!ok || v != c->next)
		c->bad++;
	c->next = (ok ? v : c->next) + 1;
}

/* ---- sandboxd: followers ---------------------------------------------- */

struct follower {
	const char *rpc, *events, *id;
	pthread_t t;
	double t0, t_exit;
	struct check chk;
	uint64_t lines, lost, dropped_bytes, exits;
	int rc;
};

static int on_line(void *arg, uint64_t seq, int64_t time_us, const char *stream, const void *text,
		   size_t len)
{
	struct follower *f = arg;
	(void)seq;
	(void)time_us;
	if (strcmp(stream, "exit") == 0) {
		char json[512];
		const char *d;
		f->t_exit = (sbx_clock_mono_ns() / 1e9);
		f->exits++;
		snprintf(json, sizeof(json), "%.*s", (int)len, (const char *)text);
		if ((d = strstr(json, "\"dropped_bytes\":")))
			f->dropped_bytes = strtoull(d + 16, NULL, 10);
		return 0;
	}
	f->lines++;
	check_line(&f->chk, text, len);
	return 0;
}

static void *follow_thread(void *arg)
{
	struct follower *f = arg;
	struct sbx_client_opts co = {.rpc_url = f->rpc,
				     .timeout_ms = CALL_TIMEOUT_MS,
				     .connect_wait_ms = CONNECT_WAIT_MS};
	struct sbx_logs_follow_opts o = {
		.events_url = f->events, .id = f->id, .follow = 1, .until_exit = 1};
	struct sbx_client *c = NULL;

	f->chk.next = 1;
	f->rc = sbx_client_open(&co, &c);
	if (f->rc == 0)
		f->rc = sbx_logs_follow(c, &o, on_line, f);
	f->lost = o.lost;
	sbx_client_close(c);
	return NULL;
}

static int call(struct sbx_client *c, const char *method, const ProtobufCMessage *q,
		struct sbx_reply *r)
{
	int rv = sbx_call(c, method, q, CALL_TIMEOUT_MS, r);
	if (rv < 0) {
		fprintf(stderr, "bench-logs: %s: %s\n", method, strerror(-rv));
		return rv;
	}
	if (r->status != 0) {
		fprintf(stderr, "bench-logs: %s: status %d %s\n", method, r->status,
			r->message ? r->message : "");
		sbx_reply_fini(r);
		return -EIO;
	}
	return 0;
}

struct round_result {
	double slowest, fastest; /* lines/s of the slowest and fastest subscriber */
	double exec_ms;
	uint64_t bad; /* lines missing, wrong, repeated or out of order, all subscribers */
};

static int sandboxd_round(struct sbx_client *c, const char *rpc, const char *events, long lines,
			  int subs, struct round_result *res)
{
	Sbx__CreateSandboxRequest cq = SBX__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__ExecuteSandboxRequest eq = SBX__EXECUTE_SANDBOX_REQUEST__INIT;
	struct follower f[MAX_SUBS];
	struct sbx_reply r;
	char code[64], id[128];
	int rv;

	snprintf(code, sizeof(code), "seq 1 %ld\n", lines);
	cq.runtime = "shell";
	cq.code = code;
	cq.timeout_ms = CALL_TIMEOUT_MS;
	if ((rv = call(c, "CreateSandbox", &cq.base, &r)) < 0)
		return rv;
	snprintf(id, sizeof(id), "%s", ((Sbx__Sandbox *)r.msg)->id);
	sbx_reply_fini(&r);

	memset(f, 0, sizeof(f));
	for (int i = 0; i < subs; i++) {
		f[i] = (struct follower){.rpc = rpc, .events = events, .id = id};
		pthread_create(&f[i].t, NULL, follow_thread, &f[i]);
	}
	/* Let them subscribe (a late one catches up from the ring: correct,
	 * only slower, which the figure shows). */
	usleep(300 * 1000);
	double t0 = (sbx_clock_mono_ns() / 1e9);
	eq.id = id;
	rv = call(c, "ExecuteSandbox", &eq.base, &r);
	res->exec_ms = ((sbx_clock_mono_ns() / 1e9) - t0) * 1000;
	if (rv == 0) {
		const Sbx__SandboxExecution *e = (const Sbx__SandboxExecution *)r.msg;
		if (!e->success)
			fprintf(stderr, "bench-logs: execution failed: %s\n",
				e->error ? e->error : "");
		sbx_reply_fini(&r);
	}
	res->slowest = 1e18;
	res->fastest = 0;
	res->bad = 0;
	for (int i = 0; i < subs; i++) {
		pthread_join(f[i].t, NULL);
		double rate = f[i].exits ? (double)lines / (f[i].t_exit - t0) : 0;
		uint64_t bad = f[i].chk.bad + f[i].lost + (uint64_t)labs(lines - (long)f[i].lines);
		if (f[i].rc < 0)
			fprintf(stderr, "bench-logs: follower %d: %s\n", i, strerror(-f[i].rc));
		if (bad || f[i].dropped_bytes || f[i].exits != 1)
			fprintf(stderr,
				"bench-logs: follower %d: %" PRIu64 " lines, %" PRIu64
				" wrong, %" PRIu64 " lost, %" PRIu64
				" bytes dropped by the spawner, %" PRIu64 " exit lines\n",
				i, f[i].lines, f[i].chk.bad, f[i].lost, f[i].dropped_bytes,
				f[i].exits);
		res->bad += bad + (f[i].dropped_bytes ? 1 : 0) + (f[i].exits != 1);
		if (rate < res->slowest)
			res->slowest = rate;
		if (rate > res->fastest)
			res->fastest = rate;
	}
	Sbx__DeleteSandboxRequest dq = SBX__DELETE_SANDBOX_REQUEST__INIT;
	dq.id = id;
	if (call(c, "DeleteSandbox", &dq.base, &r) == 0)
		sbx_reply_fini(&r);
	return rv;
}

/* ---- peer: seq | tee to plain pipes ------------------------------------ */

struct reader {
	int fd;
	pthread_t t;
	double t_end;
	struct check chk;
	uint64_t lines;
};

static void *read_thread(void *arg)
{
	struct reader *r = arg;
	static __thread char buf[1 << 16];
	char line[32];
	size_t ll = 0;
	ssize_t n;

	r->chk.next = 1;
	while ((n = read(r->fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line))
					line[ll++] = buf[i];
				continue;
			}
			r->lines++;
			check_line(&r->chk, line, ll);
			ll = 0;
		}
	}
	r->t_end = (sbx_clock_mono_ns() / 1e9);
	close(r->fd);
	return NULL;
}

static int pipe_round(long lines, int subs, struct round_result *res)
{
	struct reader rd[MAX_SUBS];
	int fds[MAX_SUBS][2];
	char cmd[128 + MAX_SUBS * 16];
	size_t off;
	pid_t pid;

	/* Readers' pipes at fds 3.. in the child; tee writes to all. */
	off = (size_t)snprintf(cmd, sizeof(cmd), "seq 1 %ld | tee", lines);
	for (int i = 1; i < subs; i++)
		off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, " /dev/fd/%d", 3 + i);
	snprintf(cmd + off, sizeof(cmd) - off, " >/dev/fd/3");
	for (int i = 0; i < subs; i++)
		if (pipe(fds[i]) < 0)
			return -errno;
	double t0 = (sbx_clock_mono_ns() / 1e9);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Move the write ends above the target numbers first. */
		int hi[MAX_SUBS];
		for (int i = 0; i < subs; i++) {
			close(fds[i][0]);
			hi[i] = fcntl(fds[i][1], F_DUPFD, 64);
		}
		for (int i = 0; i < subs; i++) {
			dup2(hi[i], 3 + i);
			close(hi[i]);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < subs; i++) {
		close(fds[i][1]);
		rd[i] = (struct reader){.fd = fds[i][0]};
		pthread_create(&rd[i].t, NULL, read_thread, &rd[i]);
	}
	int st;
	waitpid(pid, &st, 0);
	res->slowest = 1e18;
	res->fastest = 0;
	res->bad = 0;
	res->exec_ms = 0;
	for (int i = 0; i < subs; i++) {
		pthread_join(rd[i].t, NULL);
		double rate = (double)lines / (rd[i].t_end - t0);
		res->bad += rd[i].chk.bad + (uint64_t)labs(lines - (long)rd[i].lines);
		if (rate < res->slowest)
			res->slowest = rate;
		if (rate > res->fastest)
			res->fastest = rate;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* ---- main -------------------------------------------------------------- */

static int find_sandboxd(const char *opt, char *out, size_t size)
{
	if (opt) {
		snprintf(out, size, "%s", opt);
	} else {
		ssize_t n = readlink("/proc/self/exe", out, size - sizeof("sandboxd"));
		char *slash;
		if (n <= 0)
			return -errno;
		out[n] = 0;
		if (!(slash = strrchr(out, '/')))
			return -ENOENT;
		strcpy(slash + 1, "sandboxd");
	}
	if (access(out, X_OK) < 0) {
		fprintf(stderr, "bench-logs: no sandboxd at %s (build it, or pass --sandboxd)\n",
			out);
		return -ENOENT;
	}
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n LINES] [-s SUBSCRIBERS] [-r ROUNDS] [--sandboxd PATH]\n"
		"  -n LINES        lines the sandbox prints, `seq 1 LINES` (default 1000000)\n"
		"  -s SUBSCRIBERS  followers of its logs (default 4, max %d)\n"
		"  -r ROUNDS       rounds; medians are printed (default 3, max %d)\n"
		"  --sandboxd PATH the daemon (default: the sandboxd next to this binary)\n",
		argv0, MAX_SUBS, MAX_ROUNDS);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"sandboxd", required_argument, NULL, 'S'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	long lines = 1000000;
	int subs = 4, rounds = 3, status = 1;
	const char *sandboxd_opt = NULL;
	char sandboxd[PATH_MAX], dir[] = "/tmp/sbx-bench-logs-XXXXXX";
	char rpc[PATH_MAX + 16], events[PATH_MAX + 16], state[PATH_MAX];
	char ring_lines[32], ring_bytes[32], max_out[32];
	struct bench_proc proc = {0};
	struct sbx_client *c = NULL;
	double sbx[MAX_ROUNDS], sbx_fast[MAX_ROUNDS], peer[MAX_ROUNDS], exec_ms[MAX_ROUNDS];
	uint64_t bad = 0, peer_bad = 0;

	for (int o; (o = getopt_long(argc, argv, "n:s:r:h", lo, NULL)) != -1;) {
		switch (o) {
		case 'n':
			lines = atol(optarg);
			break;
		case 's':
			subs = atoi(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'S':
			sandboxd_opt = optarg;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (optind != argc || lines < 1 || lines > MAX_LINES || subs < 1 || subs > MAX_SUBS ||
	    rounds < 1 || rounds > MAX_ROUNDS) {
		usage(argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (find_sandboxd(sandboxd_opt, sandboxd, sizeof(sandboxd)) < 0)
		return 1;
	if (!mkdtemp(dir)) {
		perror("bench-logs: mkdtemp");
		return 1;
	}
	chmod(dir, 0711); /* sandboxes reach their workspaces through it */
	snprintf(rpc, sizeof(rpc), "ipc://%s/rpc.sock", dir);
	snprintf(events, sizeof(events), "ipc://%s/events.sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	/* Every line kept, in the sandbox's ring and in the execution's: a
	 * follower that lost live events must find them there. */
	snprintf(ring_lines, sizeof(ring_lines), "%ld", lines + 16);
	long rb = (lines + 16) * 64 + (1 << 20);
	snprintf(ring_bytes, sizeof(ring_bytes), "%ld", rb < (1l << 30) ? rb : (1l << 30));
	/* The whole output fits the result too, so the execution succeeds. */
	long mo = lines * 8 + (1 << 20);
	snprintf(max_out, sizeof(max_out), "%ld", mo < (64l << 20) ? mo : (64l << 20));
	/* clang-format off */
	char *args[] = {
		sandboxd, "--rpc", rpc, "--events", events, "--state-dir", state,
		"--logs-ring-lines", ring_lines, "--logs-ring-bytes", ring_bytes,
		"--max-output-bytes", max_out, "--log-level", "warn", NULL,
	};
	/* clang-format on */
	if (bench_proc_spawn(&proc, "sandboxd", args) < 0) {
		fprintf(stderr, "bench-logs: cannot start %s\n", sandboxd);
		goto out;
	}
	struct sbx_client_opts co = {.rpc_url = rpc, .timeout_ms = CALL_TIMEOUT_MS};
	if (sbx_client_open(&co, &c) < 0)
		goto out;
	for (int waited = 0; !sbx_client_connected(c); waited += 10) {
		if (!bench_proc_running(&proc) || waited >= CONNECT_WAIT_MS) {
			fprintf(stderr, "bench-logs: sandboxd did not start\n");
			goto out;
		}
		usleep(10 * 1000);
	}

	printf("bench-logs: seq 1 %ld in a shell sandbox, %d followers (sbx_logs_follow), %d "
	       "rounds\n",
	       lines, subs, rounds);
	for (int i = 0; i < rounds; i++) {
		struct round_result a = {0}, b = {0};
		if (sandboxd_round(c, rpc, events, lines, subs, &a) < 0 ||
		    pipe_round(lines, subs, &b) < 0) {
			fprintf(stderr, "bench-logs: round %d could not measure\n", i + 1);
			goto out;
		}
		sbx[i] = a.slowest;
		sbx_fast[i] = a.fastest;
		exec_ms[i] = a.exec_ms;
		peer[i] = b.slowest;
		bad += a.bad;
		peer_bad += b.bad;
		fprintf(stderr,
			"  round %d: sandboxd slowest %.0f fastest %.0f lines/s (execution %.0f "
			"ms), "
			"%" PRIu64 " bad | pipes slowest %.0f lines/s\n",
			i + 1, a.slowest, a.fastest, a.exec_ms, a.bad, b.slowest);
	}
	double m = bench_median(sbx, rounds), mp = bench_median(peer, rounds);
	printf("%-34s %14s %14s\n", "lines/s per subscriber (median)", "slowest", "fastest");
	printf("%-34s %14.0f %14.0f\n", "sandboxd (sandbox -> followers)", m,
	       bench_median(sbx_fast, rounds));
	printf("%-34s %14.0f\n", "peer: seq | tee to plain pipes", mp);
	printf("%-34s %13.3fx\n", "ratio sandboxd / pipes", m / mp);
	printf("execution (ExecuteSandbox call) median %.0f ms; lines lost, wrong, repeated or "
	       "dropped: %" PRIu64 " (pipes %" PRIu64 ")\n",
	       bench_median(exec_ms, rounds), bad, peer_bad);
	printf("target >= %.0f lines/s to %d subscribers with zero loss: %s\n", TARGET_LINES_S,
	       subs, m >= TARGET_LINES_S && bad == 0 ? "met" : "MISSED");
	status = 0;
out:
	sbx_client_close(c);
	if (bench_proc_stop(&proc, STOP_GRACE_MS) == -ETIMEDOUT)
		fprintf(stderr, "bench-logs: sandboxd had to be killed\n");
	char rm[sizeof(dir) + 16];
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	if (system(rm) != 0)
		fprintf(stderr, "bench-logs: could not remove %s\n", dir);
	return status;
}
