/* bench-exec: isolated executions through the RPC (issue 4, item 8).
 *
 *   bench-exec [-n RUNS] [-t SECONDS] [-r ROUNDS] [--sandboxd PATH] [--only NAME]
 *
 * Starts the real sandboxd (the sibling of this binary, or --sandboxd) on a
 * temporary ipc:// URL and state dir, then for /bin/true, python3 -c pass
 * and node -e 0 (skipped when not installed) measures `Run` RPCs through
 * libsandbox against `bwrap --unshare-all --die-with-parent --ro-bind / /
 * CMD` started standalone, in the same run: p50/p99 of RUNS sequential
 * executions (the two runners interleaved call by call), then executions/s
 * with 2 and 8 concurrent callers for SECONDS each. All of it ROUNDS times,
 * interleaved, so a burst of noise from the shared host hits both runners;
 * prints the medians over the rounds and the ratios against the targets
 * (p50 <= 0.5x bwrap, executions/s >= 2x bwrap).
 *
 * Exit status: 0 when it measured (a missed target is printed, not fatal),
 * 1 when it could not (daemon did not start, every call failed), 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "proc.h"
#include "sandbox.h"

extern char **environ;

#define MAX_ROUNDS 15
#define MAX_RUNS 100000
#define CALL_TIMEOUT_MS 60000
#define CONNECT_WAIT_MS 30000
#define STOP_GRACE_MS 15000
#define MAX_CALLERS 8

struct cmd {
	const char *name;
	const char *argv[4]; /* argv[0] resolved to an absolute path */
	char path[256];
};

enum runner { R_RPC, R_BWRAP, N_RUNNERS };
static const char *const runner_name[N_RUNNERS] = {"sandboxd", "bwrap"};

/* One figure per round, medians taken at the end. */
struct figures {
	double p50[MAX_ROUNDS], p99[MAX_ROUNDS], x2[MAX_ROUNDS], x8[MAX_ROUNDS];
};

struct load {
	struct sbx_client *client;
	const struct cmd *cmd;
	enum runner runner;
	double deadline;
	atomic_long done, failed;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool find_exe(const char *name, char *out, size_t size)
{
	static const char *const dirs[] = {"/usr/bin", "/usr/local/bin", "/bin"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, size, "%s/%s", dirs[i], name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* One Run RPC; 0 only when the execution itself succeeded. */
static int run_rpc(struct sbx_client *c, const struct cmd *cmd, bool verbose)
{
	Sbx__RunRequest req = SBX__RUN_REQUEST__INIT;
	size_t n = 0;
	while (cmd->argv[n])
		n++;
	req.argv = (char **)cmd->argv;
	req.n_argv = n;
	struct sbx_reply rep;
	int r = sbx_call(c, "Run", &req.base, CALL_TIMEOUT_MS, &rep);
	if (r < 0) {
		if (verbose)
			fprintf(stderr, "bench-exec: Run %s: %s\n", cmd->name, strerror(-r));
		return r;
	}
	const Sbx__ExecResult *res = (const Sbx__ExecResult *)rep.msg;
	r = rep.status == 0 && res && res->status == SBX__EXEC_STATUS__EXEC_STATUS_OK ? 0 : -EIO;
	if (r < 0 && verbose)
		fprintf(stderr, "bench-exec: Run %s: rpc status %d %s, exec status %d %s\n",
			cmd->name, rep.status, rep.message ? rep.message : "", res ? (int)res->status : -1,
			res && res->error ? res->error : "");
	sbx_reply_fini(&rep);
	return r;
}

static int run_bwrap(const struct cmd *c)
{
	const char *argv[16] = {"bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/",
				"/"};
	size_t n = 6;
	for (size_t i = 0; c->argv[i]; i++)
		argv[n++] = c->argv[i];
	argv[n] = NULL;
	pid_t pid;
	int r = posix_spawnp(&pid, "bwrap", NULL, NULL, (char **)argv, environ);
	if (r)
		return -r;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static int run_one(struct sbx_client *c, const struct cmd *cmd, enum runner k)
{
	return k == R_RPC ? run_rpc(c, cmd, false) : run_bwrap(cmd);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_ROUNDS];
	memcpy(s, v, (size_t)n * sizeof(double));
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Sequential latency, the runners interleaved call by call. */
static int latency(struct sbx_client *c, const struct cmd *cmd, int runs, int round,
		   struct figures f[N_RUNNERS])
{
	double *t[N_RUNNERS];
	int fails[N_RUNNERS] = {0, 0};
	for (int k = 0; k < N_RUNNERS; k++)
		if (!(t[k] = calloc((size_t)runs, sizeof(double))))
			return -ENOMEM;
	for (int i = 0; i < runs; i++)
		for (int k = 0; k < N_RUNNERS; k++) {
			double t0 = now_s();
			fails[k] += run_one(c, cmd, (enum runner)k) < 0;
			t[k][i] = (now_s() - t0) * 1000;
		}
	int r = 0;
	for (int k = 0; k < N_RUNNERS; k++) {
		qsort(t[k], (size_t)runs, sizeof(double), cmp_double);
		f[k].p50[round] = t[k][runs / 2];
		int i99 = (runs * 99) / 100;
		f[k].p99[round] = t[k][i99 >= runs ? runs - 1 : i99];
		if (fails[k]) {
			fprintf(stderr, "bench-exec: %s %s: %d of %d sequential runs failed\n",
				runner_name[k], cmd->name, fails[k], runs);
			if (fails[k] == runs)
				r = -EIO;
		}
		free(t[k]);
	}
	return r;
}

static void *caller(void *arg)
{
	struct load *l = arg;
	while (now_s() < l->deadline) {
		if (run_one(l->client, l->cmd, l->runner) < 0)
			atomic_fetch_add(&l->failed, 1);
		else
			atomic_fetch_add(&l->done, 1);
	}
	return NULL;
}

/* Completed executions per second with `callers` callers for `seconds`
 * (each caller finishes its last call, so the window is measured). */
static double throughput(struct sbx_client *c, const struct cmd *cmd, enum runner k, int callers,
			 double seconds)
{
	struct load l = {.client = c, .cmd = cmd, .runner = k};
	pthread_t th[MAX_CALLERS];
	int started = 0;
	double t0 = now_s();
	l.deadline = t0 + seconds;
	for (; started < callers; started++)
		if (pthread_create(&th[started], NULL, caller, &l) != 0)
			break;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	double el = now_s() - t0;
	if (l.failed)
		fprintf(stderr, "bench-exec: %s %s x%d: %ld calls failed\n", runner_name[k],
			cmd->name, callers, (long)l.failed);
	return started == callers ? (double)l.done / el : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n RUNS] [-t SECONDS] [-r ROUNDS] [--sandboxd PATH] [--only NAME]\n"
		"  -n RUNS          sequential runs per round and runner (default 100)\n"
		"  -t SECONDS       duration of each throughput point (default 2)\n"
		"  -r ROUNDS        interleaved rounds; medians are printed (default 3, max %d)\n"
		"  --sandboxd PATH  the daemon (default: the sandboxd next to this binary)\n"
		"  --only NAME      only commands whose name contains NAME (true, python, node)\n",
		argv0, MAX_ROUNDS);
}

struct opts {
	int runs, rounds;
	double seconds;
	const char *sandboxd, *only;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"sandboxd", required_argument, NULL, 'S'},
					   {"only", required_argument, NULL, 'O'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	*o = (struct opts){.runs = 100, .rounds = 3, .seconds = 2};
	for (int c; (c = getopt_long(argc, argv, "n:t:r:h", lo, NULL)) != -1;) {
		switch (c) {
		case 'n':
			o->runs = atoi(optarg);
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'r':
			o->rounds = atoi(optarg);
			break;
		case 'S':
			o->sandboxd = optarg;
			break;
		case 'O':
			o->only = optarg;
			break;
		default:
			usage(argv[0]);
			return -EINVAL;
		}
	}
	if (optind != argc || o->runs < 2 || o->runs > MAX_RUNS || o->rounds < 1 ||
	    o->rounds > MAX_ROUNDS || !(o->seconds > 0 && o->seconds <= 600)) {
		usage(argv[0]);
		return -EINVAL;
	}
	return 0;
}

/* --sandboxd, else the sibling of this binary (both live in BUILD/bin). */
static int find_sandboxd(const struct opts *o, char *out, size_t size)
{
	if (o->sandboxd) {
		snprintf(out, size, "%s", o->sandboxd);
	} else {
		ssize_t n = readlink("/proc/self/exe", out, size - sizeof("sandboxd"));
		if (n <= 0)
			return -errno;
		out[n] = 0;
		char *slash = strrchr(out, '/');
		if (!slash)
			return -ENOENT;
		strcpy(slash + 1, "sandboxd");
	}
	if (access(out, X_OK) < 0) {
		fprintf(stderr, "bench-exec: no sandboxd at %s (build it, or pass --sandboxd)\n",
			out);
		return -ENOENT;
	}
	return 0;
}

static void print_row(const char *name, const char *runner, const struct figures *f, int rounds)
{
	printf("%-16s %-9s %9.2f %9.2f %10.1f %10.1f\n", name, runner, median(f->p50, rounds),
	       median(f->p99, rounds), median(f->x2, rounds), median(f->x8, rounds));
}

static void print_ratios(const char *name, const struct figures f[N_RUNNERS], int rounds)
{
	double p50 = median(f[R_RPC].p50, rounds) / median(f[R_BWRAP].p50, rounds);
	double p99 = median(f[R_RPC].p99, rounds) / median(f[R_BWRAP].p99, rounds);
	double x2 = median(f[R_RPC].x2, rounds) / median(f[R_BWRAP].x2, rounds);
	double x8 = median(f[R_RPC].x8, rounds) / median(f[R_BWRAP].x8, rounds);
	printf("%-16s %-9s %8.2fx %8.2fx %9.2fx %9.2fx\n", name, "ratio", p50, p99, x2, x8);
	printf("%-16s %-9s p50 %s (target <= 0.50x); exec/s x2 %s, x8 %s (target >= 2.00x)\n", "",
	       "target", p50 <= 0.5 ? "met" : "MISSED", x2 >= 2 ? "met" : "MISSED",
	       x8 >= 2 ? "met" : "MISSED");
}

static int bench_cmd(struct sbx_client *c, struct cmd *cmd, const struct opts *o)
{
	struct figures f[N_RUNNERS];
	memset(f, 0, sizeof(f));
	/* Warm the page cache and the daemon's pools for both. */
	if (run_rpc(c, cmd, true) < 0 || run_bwrap(cmd) < 0) {
		fprintf(stderr, "bench-exec: %s does not run; skipped\n", cmd->name);
		return -EIO;
	}
	for (int round = 0; round < o->rounds; round++) {
		int r = latency(c, cmd, o->runs, round, f);
		if (r < 0)
			return r;
		for (int k = 0; k < N_RUNNERS; k++)
			f[k].x2[round] = throughput(c, cmd, (enum runner)k, 2, o->seconds);
		for (int k = 0; k < N_RUNNERS; k++)
			f[k].x8[round] = throughput(c, cmd, (enum runner)k, 8, o->seconds);
		fprintf(stderr, "  round %d %-16s sandboxd p50 %.2f ms x8 %.1f/s | bwrap p50 %.2f ms x8 %.1f/s\n",
			round + 1, cmd->name, f[R_RPC].p50[round], f[R_RPC].x8[round],
			f[R_BWRAP].p50[round], f[R_BWRAP].x8[round]);
	}
	for (int k = 0; k < N_RUNNERS; k++)
		print_row(cmd->name, runner_name[k], &f[k], o->rounds);
	print_ratios(cmd->name, f, o->rounds);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	char sandboxd[PATH_MAX], dir[] = "/tmp/sbx-bench-exec-XXXXXX";
	char rpc[PATH_MAX + 16], events[PATH_MAX + 16], state[PATH_MAX];
	if (parse(argc, argv, &o) < 0)
		return 2;
	/* Per-round progress goes to stderr: keep the table in order with it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (find_sandboxd(&o, sandboxd, sizeof(sandboxd)) < 0)
		return 1;
	if (system("bwrap --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "bench-exec: bwrap is not installed (apt-get install bubblewrap)\n");
		return 1;
	}
	if (!mkdtemp(dir)) {
		perror("bench-exec: mkdtemp");
		return 1;
	}
	/* Sandboxes run as another uid and reach their workspaces under
	 * state/ through this directory. */
	chmod(dir, 0711);
	snprintf(rpc, sizeof(rpc), "ipc://%s/rpc.sock", dir);
	snprintf(events, sizeof(events), "ipc://%s/events.sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);

	/* clang-format off */
	char *dargv[] = {
		sandboxd,
		"--rpc", rpc,
		"--events", events,
		"--state-dir", state,
		"--max-concurrent", "8", /* so 8 callers run at once */
		"--log-level", "warn",
		NULL,
	};
	/* clang-format on */
	struct bench_proc daemon;
	struct sbx_client *c = NULL;
	int status = 1, measured = 0;
	int r = bench_proc_spawn(&daemon, "sandboxd", dargv);
	if (r < 0) {
		fprintf(stderr, "bench-exec: cannot start %s: %s\n", sandboxd, strerror(-r));
		goto out;
	}
	struct sbx_client_opts co = {.rpc_url = rpc, .connect_wait_ms = CONNECT_WAIT_MS};
	r = sbx_client_open(&co, &c);
	if (r == 0 && !sbx_client_connected(c))
		r = -ECONNREFUSED;
	if (r < 0) {
		fprintf(stderr, "bench-exec: cannot connect to sandboxd at %s: %s\n", rpc,
			strerror(-r));
		goto out;
	}

	struct cmd cmds[] = {
		{"true", {"true", NULL}, ""},
		{"python3 -c pass", {"python3", "-c", "pass", NULL}, ""},
		{"node -e 0", {"node", "-e", "0", NULL}, ""},
	};
	printf("bench-exec: Run RPC through libsandbox vs bwrap --unshare-all --die-with-parent "
	       "--ro-bind / /\n  sandboxd: %s (--max-concurrent 8)\n"
	       "  %d rounds; per round %d sequential runs per runner, %.1f s per throughput "
	       "point; medians over rounds\n",
	       sandboxd, o.rounds, o.runs, o.seconds);
	printf("%-16s %-9s %9s %9s %10s %10s\n", "command", "runner", "p50 ms", "p99 ms",
	       "x2 exec/s", "x8 exec/s");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct cmd *cmd = &cmds[i];
		if (o.only && !strstr(cmd->name, o.only))
			continue;
		if (!find_exe(cmd->argv[0], cmd->path, sizeof(cmd->path))) {
			printf("%-16s skipped: not installed\n", cmd->name);
			continue;
		}
		cmd->argv[0] = cmd->path;
		if (bench_cmd(c, cmd, &o) == 0)
			measured++;
		if (!bench_proc_running(&daemon)) {
			fprintf(stderr, "bench-exec: sandboxd died\n");
			measured = 0;
			break;
		}
	}
	status = measured > 0 ? 0 : 1;
out:
	sbx_client_close(c);
	if (bench_proc_stop(&daemon, STOP_GRACE_MS) == -ETIMEDOUT)
		fprintf(stderr, "bench-exec: sandboxd had to be killed\n");
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return status;
}
