/* bench-exec: isolated executions through the RPC (issue 4, item 8).
 *
 *   bench-exec [-n RUNS] [-t SECONDS] [-r ROUNDS] [--backends LIST] [--backend-runs N]
 *              [--sandboxd PATH] [--only NAME] [--warm-pool N] [--warm-pool-python N]
 *              [--warm-pool-node N] [--gap MS]
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
 * Warm runner (issue 14): a second sandboxd started with --warm-pool N
 * (default 8; the first one runs with --warm-pool 0), measured the same
 * way, with the ratios warm/bwrap (against the targets) and warm/sandboxd.
 * It also keeps --warm-pool-python N (default 8) sandboxes with the python
 * interpreter already started, and --warm-pool-node N (default 8) with
 * node's. Snippets run as Execute RPCs (language
 * python, code print(1); language node, code console.log(1)) on both
 * daemons against a cold `bwrap ... python3 -c 'print(1)'` (node -e
 * 'console.log(1)'), with their own targets (python warm <= 0.25x bwrap,
 * node <= 0.5x).
 * A daemon refills its pool once its execution is over, i.e. during the
 * next runner's call: --gap MS idles after each sequential call so that
 * refill lands in the gap instead (a service that is not saturated).
 *
 * The other backends (issues 7 and 16): for each of docker, nsjail and
 * gvisor (--backends), a sandboxd started with --backend NAME on its own URL
 * and state dir, when the backend can run here: a Docker engine answers on
 * DOCKER_HOST (default unix:///var/run/docker.sock) and has the image
 * (SANDBOX_DOCKER_IMAGE, default sandboxd-runtime:latest); the nsjail
 * binary (SANDBOX_NSJAIL_PATH, default nsjail) or runsc is installed.
 * Otherwise, or when that daemon exits at start-up, "NAME: skipped (why)".
 * A container or jail per execution costs tens to hundreds of ms, so each
 * makes only N sequential runs per round (--backend-runs, default 20,
 * spread among the others' calls of the same rounds; 0: none of them), and
 * its rows come with the ratios NAME/bwrap and NAME/native. Snippets are
 * native figures: the backends run the commands only.
 *
 * Exit status: 0 when it measured (a missed target is printed, not fatal),
 * 1 when it could not (daemon did not start, every call failed), 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
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
#include "benchlib.h"
#include "clock.h"
#include "exec-daemons.h"

#define MAX_ROUNDS 15
#define MAX_RUNS 100000
#define CALL_TIMEOUT_MS 60000
#define MAX_CALLERS 8

struct cmd {
	const char *name;
	const char *argv[4];	  /* argv[0] resolved to an absolute path */
	const char *docker_argv0; /* its path in the runtime image */
	char path[256];
	/* A snippet: sandboxd runs it as an Execute RPC (bwrap runs argv);
	 * NULL = a Run RPC of argv. p50_target: the warm/bwrap p50 target. */
	const char *language, *code;
	double p50_target;
};

/* The runners from R_BACKEND on are the other backends' daemons: a
 * runner's name is also its --backend. */
enum runner { R_RPC, R_BWRAP, R_WARM, R_DOCKER, R_NSJAIL, R_GVISOR, N_RUNNERS };
#define R_BACKEND R_DOCKER
static const char *const runner_name[N_RUNNERS] = {"sandboxd", "bwrap",	 "warm",
						   "docker",   "nsjail", "gvisor"};

/* What one command is measured with: the clients of the daemons (NULL:
 * that runner is off) and the docker copy of the command (argv[0] at its
 * path in the image; nsjail and gvisor see the host's paths). */
struct ctx {
	struct sbx_client *client[N_RUNNERS];
	const struct cmd *cmd;
	struct cmd dcmd;
};

/* One figure per round, medians taken at the end. */
struct figures {
	double p50[MAX_ROUNDS], p99[MAX_ROUNDS], x2[MAX_ROUNDS], x8[MAX_ROUNDS];
};

struct load {
	const struct ctx *x;
	enum runner runner;
	double deadline;
	atomic_long done, failed;
};

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
			cmd->name, rep.status, rep.message ? rep.message : "",
			res ? (int)res->status : -1, res && res->error ? res->error : "");
	sbx_reply_fini(&rep);
	return r;
}

/* One Execute RPC of cmd's snippet; 0 only when it succeeded. */
static int execute_rpc(struct sbx_client *c, const struct cmd *cmd, bool verbose)
{
	Sbx__ExecuteRequest req = SBX__EXECUTE_REQUEST__INIT;
	req.language = (char *)cmd->language;
	req.code = (char *)cmd->code;
	struct sbx_reply rep;
	int r = sbx_call(c, "Execute", &req.base, CALL_TIMEOUT_MS, &rep);
	if (r < 0) {
		if (verbose)
			fprintf(stderr, "bench-exec: Execute %s: %s\n", cmd->name, strerror(-r));
		return r;
	}
	const Sbx__ExecResult *res = (const Sbx__ExecResult *)rep.msg;
	r = rep.status == 0 && res && res->status == SBX__EXEC_STATUS__EXEC_STATUS_OK ? 0 : -EIO;
	if (r < 0 && verbose)
		fprintf(stderr, "bench-exec: Execute %s: rpc status %d %s, exec status %d %s\n",
			cmd->name, rep.status, rep.message ? rep.message : "",
			res ? (int)res->status : -1, res && res->error ? res->error : "");
	sbx_reply_fini(&rep);
	return r;
}

static int call(struct sbx_client *c, const struct cmd *cmd, bool verbose)
{
	return cmd->language ? execute_rpc(c, cmd, verbose) : run_rpc(c, cmd, verbose);
}

static int run_one(const struct ctx *x, enum runner k)
{
	switch (k) {
	case R_RPC:
		return call(x->client[R_RPC], x->cmd, false);
	case R_WARM:
		return call(x->client[R_WARM], x->cmd, false);
	case R_BWRAP:
		return bench_run_bwrap(x->cmd->argv);
	default:
		return run_rpc(x->client[k], k == R_DOCKER ? &x->dcmd : x->cmd, false);
	}
}

static bool on(const struct ctx *x, int k)
{
	return k == R_BWRAP || x->client[k];
}

/* Sequential latency, the runners interleaved call by call: `runs` calls
 * each for sandboxd, bwrap and warm, `bruns` for each other backend spread
 * among them. */
static int latency(const struct ctx *x, int runs, int bruns, int gap_ms, int round,
		   struct figures f[N_RUNNERS])
{
	const struct timespec gap = {.tv_sec = gap_ms / 1000,
				     .tv_nsec = (gap_ms % 1000) * 1000000L};
	double *t[N_RUNNERS] = {NULL};
	int n[N_RUNNERS], got[N_RUNNERS] = {0};
	int fails[N_RUNNERS] = {0}, r = 0;
	for (int k = 0; k < N_RUNNERS; k++)
		n[k] = k >= R_BACKEND ? bruns : runs;
	for (int k = 0; k < N_RUNNERS; k++)
		if (on(x, k) && !(t[k] = calloc((size_t)n[k], sizeof(double)))) {
			r = -ENOMEM;
			goto out;
		}
	for (int i = 0; i < runs; i++)
		for (int k = 0; k < N_RUNNERS; k++) {
			/* a backend: its share of the calls up to this step */
			int due = k >= R_BACKEND ? (int)((long)(i + 1) * bruns / runs) - got[k] : 1;
			for (int j = 0; on(x, k) && j < due; j++) {
				double t0 = (sbx_clock_mono_ns() / 1e9);
				fails[k] += run_one(x, (enum runner)k) < 0;
				t[k][got[k]++] = ((sbx_clock_mono_ns() / 1e9) - t0) * 1000;
				/* Idle time after each call: what a daemon does then
				 * (the warm pool refills) stays out of the next call. */
				if (gap_ms)
					nanosleep(&gap, NULL);
			}
		}
	for (int k = 0; k < N_RUNNERS; k++) {
		if (!on(x, k))
			continue;
		bench_sort(t[k], n[k]);
		f[k].p50[round] = t[k][n[k] / 2];
		int i99 = (n[k] * 99) / 100;
		f[k].p99[round] = t[k][i99 >= n[k] ? n[k] - 1 : i99];
		if (fails[k]) {
			fprintf(stderr, "bench-exec: %s %s: %d of %d sequential runs failed\n",
				runner_name[k], x->cmd->name, fails[k], n[k]);
			if (fails[k] == n[k])
				r = -EIO;
		}
	}
out:
	for (int k = 0; k < N_RUNNERS; k++)
		free(t[k]);
	return r;
}

static void *caller(void *arg)
{
	struct load *l = arg;
	while ((sbx_clock_mono_ns() / 1e9) < l->deadline) {
		if (run_one(l->x, l->runner) < 0)
			atomic_fetch_add(&l->failed, 1);
		else
			atomic_fetch_add(&l->done, 1);
	}
	return NULL;
}

/* Completed executions per second with `callers` callers for `seconds`
 * (each caller finishes its last call, so the window is measured). */
static double throughput(const struct ctx *x, enum runner k, int callers, double seconds)
{
	struct load l = {.x = x, .runner = k};
	pthread_t th[MAX_CALLERS];
	int started = 0;
	double t0 = (sbx_clock_mono_ns() / 1e9);
	l.deadline = t0 + seconds;
	for (; started < callers; started++)
		if (pthread_create(&th[started], NULL, caller, &l) != 0)
			break;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	double el = (sbx_clock_mono_ns() / 1e9) - t0;
	if (l.failed)
		fprintf(stderr, "bench-exec: %s %s x%d: %ld calls failed\n", runner_name[k],
			x->cmd->name, callers, (long)l.failed);
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
		"usage: %s [-n RUNS] [-t SECONDS] [-r ROUNDS]\n"
		"          [--backends LIST] [--backend-runs N] [--sandboxd PATH] [--only NAME]\n"
		"          [--warm-pool N] [--warm-pool-python N] [--warm-pool-node N] [--gap MS]\n"
		"  -n RUNS          sequential runs per round and runner (default 100)\n"
		"  -t SECONDS       duration of each throughput point (default 2)\n"
		"  -r ROUNDS        interleaved rounds; medians are printed (default 3, max %d)\n"
		"  --backends LIST  the other backends to measure, comma-separated (default\n"
		"                   docker,nsjail,gvisor; each skipped, saying why, where it\n"
		"                   cannot run)\n"
		"  --backend-runs N sequential runs per round of each of them (default 20; 0:\n"
		"                   none of them; --docker-runs is the same option)\n"
		"  --sandboxd PATH  the daemon (default: the sandboxd next to this binary)\n"
		"  --only NAME      only commands whose name contains NAME (true, python, node)\n"
		"  --warm-pool N    also measure a sandboxd with N pre-built sandboxes, next to\n"
		"                   the one without (default 8; 0: do not)\n"
		"  --warm-pool-python N  that sandboxd's warm python interpreters (default 8)\n"
		"  --warm-pool-node N    that sandboxd's warm node interpreters (default 8)\n"
		"  --gap MS         idle time after each sequential call (default 0), so that a\n"
		"                   daemon's refills do not land on the next runner's call\n",
		argv0, MAX_ROUNDS);
}

struct opts {
	int runs, rounds, backend_runs, gap_ms;
	int warm[3]; /* --warm-pool, --warm-pool-python, --warm-pool-node */
	double seconds;
	const char *sandboxd, *only;
	bool backend[N_RUNNERS]; /* --backends, by runner (from R_BACKEND on) */
};

/* --backends: every word must name a backend runner. */
static int parse_backends(const char *list, bool on[N_RUNNERS])
{
	char buf[128], *save = NULL;
	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return -EINVAL;
	memset(on, 0, N_RUNNERS * sizeof(on[0]));
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int k = R_BACKEND;
		while (k < N_RUNNERS && strcmp(w, runner_name[k]) != 0)
			k++;
		if (k == N_RUNNERS) {
			fprintf(stderr, "bench-exec: --backends: no backend %s\n", w);
			return -EINVAL;
		}
		on[k] = true;
	}
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"sandboxd", required_argument, NULL, 'S'},
					   {"only", required_argument, NULL, 'O'},
					   {"backend-runs", required_argument, NULL, 'D'},
					   {"docker-runs", required_argument, NULL, 'D'},
					   {"backends", required_argument, NULL, 'B'},
					   {"warm-pool", required_argument, NULL, 'W'},
					   {"warm-pool-python", required_argument, NULL, 'P'},
					   {"warm-pool-node", required_argument, NULL, 'N'},
					   {"gap", required_argument, NULL, 'G'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	*o = (struct opts){
		.runs = 100, .rounds = 3, .backend_runs = 20, .warm = {8, 8, 8}, .seconds = 2};
	const char *backends = "docker,nsjail,gvisor";
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
		case 'D':
			o->backend_runs = atoi(optarg);
			break;
		case 'B':
			backends = optarg;
			break;
		case 'W':
			o->warm[0] = atoi(optarg);
			break;
		case 'P':
			o->warm[1] = atoi(optarg);
			break;
		case 'N':
			o->warm[2] = atoi(optarg);
			break;
		case 'G':
			o->gap_ms = atoi(optarg);
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
	    o->rounds > MAX_ROUNDS || !(o->seconds > 0 && o->seconds <= 600) ||
	    o->backend_runs < 0 || o->backend_runs == 1 || o->backend_runs > MAX_RUNS ||
	    parse_backends(backends, o->backend) < 0 || o->warm[0] < 0 || o->warm[0] > 64 ||
	    o->warm[1] < 0 || o->warm[1] > 64 || o->warm[2] < 0 || o->warm[2] > 64 ||
	    o->gap_ms < 0 || o->gap_ms > 10000) {
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
	printf("%-16s %-13s %9.2f %9.2f %10.1f %10.1f\n", name, runner,
	       bench_median(f->p50, rounds), bench_median(f->p99, rounds),
	       bench_median(f->x2, rounds), bench_median(f->x8, rounds));
}

/* a/b of the medians; latencies and executions/s alike. */
static void print_ratio(const char *name, const char *label, const struct figures *a,
			const struct figures *b, int rounds, double r[4])
{
	r[0] = bench_median(a->p50, rounds) / bench_median(b->p50, rounds);
	r[1] = bench_median(a->p99, rounds) / bench_median(b->p99, rounds);
	r[2] = bench_median(a->x2, rounds) / bench_median(b->x2, rounds);
	r[3] = bench_median(a->x8, rounds) / bench_median(b->x8, rounds);
	printf("%-16s %-13s %8.2fx %8.2fx %9.2fx %9.2fx\n", name, label, r[0], r[1], r[2], r[3]);
}

/* A snippet's target is its warm p50 against a cold interpreter under
 * bwrap (issue 14: python <= 0.25x, node <= 0.5x). */
static void print_snippet_ratios(const struct cmd *cmd, const struct figures f[N_RUNNERS],
				 bool warm, int rounds)
{
	double r[4];
	print_ratio(cmd->name, "ratio", &f[R_RPC], &f[R_BWRAP], rounds, r);
	if (!warm)
		return;
	print_ratio(cmd->name, "warm/bwrap", &f[R_WARM], &f[R_BWRAP], rounds, r);
	printf("%-16s %-13s p50 %s (target <= %.2fx)\n", "", "target",
	       r[0] <= cmd->p50_target ? "met" : "MISSED", cmd->p50_target);
	print_ratio(cmd->name, "warm/sandboxd", &f[R_WARM], &f[R_RPC], rounds, r);
}

static void print_ratios(const struct ctx *x, const struct figures f[N_RUNNERS], int rounds)
{
	const struct cmd *cmd = x->cmd;
	const char *name = cmd->name;
	bool warm = on(x, R_WARM);
	double r[4];
	if (cmd->language)
		return print_snippet_ratios(cmd, f, warm, rounds);
	print_ratio(name, "ratio", &f[R_RPC], &f[R_BWRAP], rounds, r);
	printf("%-16s %-13s p50 %s (target <= 0.50x); exec/s x2 %s, x8 %s (target >= 2.00x)\n", "",
	       "target", r[0] <= 0.5 ? "met" : "MISSED", r[2] >= 2 ? "met" : "MISSED",
	       r[3] >= 2 ? "met" : "MISSED");
	if (warm) {
		print_ratio(name, "warm/bwrap", &f[R_WARM], &f[R_BWRAP], rounds, r);
		printf("%-16s %-13s p50 %s (target <= 0.50x); exec/s x2 %s, x8 %s (target >= "
		       "2.00x)\n",
		       "", "target", r[0] <= 0.5 ? "met" : "MISSED", r[2] >= 2 ? "met" : "MISSED",
		       r[3] >= 2 ? "met" : "MISSED");
		print_ratio(name, "warm/sandboxd", &f[R_WARM], &f[R_RPC], rounds, r);
	}
	for (int k = R_BACKEND; k < N_RUNNERS; k++) {
		char label[2][32];
		if (!on(x, k))
			continue;
		snprintf(label[0], sizeof(label[0]), "%s/bwrap", runner_name[k]);
		snprintf(label[1], sizeof(label[1]), "%s/native", runner_name[k]);
		print_ratio(name, label[0], &f[k], &f[R_BWRAP], rounds, r);
		print_ratio(name, label[1], &f[k], &f[R_RPC], rounds, r);
	}
}

/* Warm the page cache and the daemons' pools for all; a backend that
 * cannot run this command is left out of it, saying so. */
static int warm_up(struct ctx *x)
{
	const struct cmd *cmd = x->cmd;
	if (call(x->client[R_RPC], cmd, true) < 0 || bench_run_bwrap(cmd->argv) < 0) {
		fprintf(stderr, "bench-exec: %s does not run; skipped\n", cmd->name);
		return -EIO;
	}
	if (x->client[R_WARM] && call(x->client[R_WARM], cmd, true) < 0) {
		fprintf(stderr, "bench-exec: %s does not run with the warm pool\n", cmd->name);
		return -EIO;
	}
	for (int k = R_BACKEND; k < N_RUNNERS; k++) {
		const struct cmd *c = k == R_DOCKER ? &x->dcmd : cmd;
		if (x->client[k] && run_rpc(x->client[k], c, true) < 0) {
			printf("%-16s %s: skipped (%s does not run on it)\n", cmd->name,
			       runner_name[k], c->argv[0]);
			x->client[k] = NULL;
		}
	}
	return 0;
}

static int bench_cmd(struct ctx *x, const struct opts *o)
{
	const struct cmd *cmd = x->cmd;
	struct figures f[N_RUNNERS];
	memset(f, 0, sizeof(f));
	if (warm_up(x) < 0)
		return -EIO;
	for (int round = 0; round < o->rounds; round++) {
		int r = latency(x, o->runs, o->backend_runs, o->gap_ms, round, f);
		if (r < 0)
			return r;
		for (int k = 0; k < N_RUNNERS; k++)
			if (on(x, k))
				f[k].x2[round] = throughput(x, (enum runner)k, 2, o->seconds);
		for (int k = 0; k < N_RUNNERS; k++)
			if (on(x, k))
				f[k].x8[round] = throughput(x, (enum runner)k, 8, o->seconds);
		fprintf(stderr, "  round %d %-16s", round + 1, cmd->name);
		for (int k = 0; k < N_RUNNERS; k++)
			if (on(x, k))
				fprintf(stderr, "%s %s p50 %.2f ms x8 %.1f/s", k ? " |" : "",
					runner_name[k], f[k].p50[round], f[k].x8[round]);
		fputc('\n', stderr);
	}
	for (int k = 0; k < N_RUNNERS; k++)
		if (on(x, k))
			print_row(cmd->name, runner_name[k], &f[k], o->rounds);
	print_ratios(x, f, o->rounds);
	return 0;
}

/* Start the daemons of the runners o asks for: native and warm or fail;
 * each other backend or a line saying why it is skipped. */
static int start_daemons(const struct opts *o, const char *sandboxd, const char *dir,
			 struct bench_daemon d[N_RUNNERS])
{
	static const int cold[3] = {0, 0, 0};
	bool use_warm = o->warm[0] > 0 || o->warm[1] > 0 || o->warm[2] > 0;
	char why[512];
	int r = bench_daemon_start(&d[R_RPC], sandboxd, dir, "native", NULL, cold, why,
				   sizeof(why));
	if (r == 0 && use_warm)
		r = bench_daemon_start(&d[R_WARM], sandboxd, dir, "warm", NULL, o->warm, why,
				       sizeof(why));
	if (r < 0) {
		fprintf(stderr, "bench-exec: %s\n", why);
		return -ECHILD;
	}
	printf("bench-exec: Run RPC through libsandbox vs bwrap --unshare-all --die-with-parent "
	       "--ro-bind / /\n  sandboxd: %s (--max-concurrent 8)\n",
	       sandboxd);
	if (use_warm)
		printf("  warm: a second sandboxd --warm-pool %d --warm-pool-python %d "
		       "--warm-pool-node %d (--max-concurrent 8)\n",
		       o->warm[0], o->warm[1], o->warm[2]);
	for (int k = R_BACKEND; k < N_RUNNERS; k++) {
		const char *name = runner_name[k], *detail = "";
		r = -EINVAL;
		if (!o->backend[k])
			snprintf(why, sizeof(why), "not in --backends");
		else if (o->backend_runs == 0)
			snprintf(why, sizeof(why), "--backend-runs 0");
		else if ((r = bench_backend_probe(name, &detail, why, sizeof(why))) == 0)
			r = bench_daemon_start(&d[k], sandboxd, dir, name, name, cold, why,
					       sizeof(why));
		if (r < 0) {
			bench_daemon_stop(&d[k]);
			printf("  %s: skipped (%s)\n", name, why);
			continue;
		}
		printf("  %s: a sandboxd --backend %s (--max-concurrent 8), %s %s; %d sequential "
		       "runs per round\n",
		       name, name, k == R_DOCKER ? "image" : "binary", detail, o->backend_runs);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	char sandboxd[PATH_MAX], dir[] = "/tmp/sbx-bench-exec-XXXXXX";
	if (parse(argc, argv, &o) < 0)
		return 2;
	/* Per-round progress goes to stderr: keep the table in order with it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (find_sandboxd(&o, sandboxd, sizeof(sandboxd)) < 0)
		return 1;
	if (system("bwrap --version >/dev/null 2>&1") != 0) {
		fprintf(stderr,
			"bench-exec: bwrap is not installed (apt-get install bubblewrap)\n");
		return 1;
	}
	if (!mkdtemp(dir)) {
		perror("bench-exec: mkdtemp");
		return 1;
	}
	/* Sandboxes run as another uid and reach their workspaces under
	 * state/ through this directory. */
	chmod(dir, 0711);

	struct bench_daemon d[N_RUNNERS];
	int status = 1, measured = 0;
	bool died = false;
	memset(d, 0, sizeof(d));
	if (start_daemons(&o, sandboxd, dir, d) < 0)
		goto out;

	struct cmd cmds[] = {
		{"true", {"true", NULL}, "/bin/true", "", NULL, NULL, 0},
		{"python3 -c pass",
		 {"python3", "-c", "pass", NULL},
		 "/usr/bin/python3",
		 "",
		 NULL,
		 NULL,
		 0},
		{"node -e 0", {"node", "-e", "0", NULL}, "/usr/bin/node", "", NULL, NULL, 0},
		/* Snippets (Execute, native and warm only). */
		{"python print(1)",
		 {"python3", "-c", "print(1)", NULL},
		 "/usr/bin/python3",
		 "",
		 "python",
		 "print(1)",
		 0.25},
		{"node log(1)",
		 {"node", "-e", "console.log(1)", NULL},
		 "/usr/bin/node",
		 "",
		 "node",
		 "console.log(1)",
		 0.5},
	};
	printf("  %d rounds; per round %d sequential runs per runner (%d ms idle after each), "
	       "%.1f s per throughput point; medians over rounds\n",
	       o.rounds, o.runs, o.gap_ms, o.seconds);
	printf("%-16s %-13s %9s %9s %10s %10s\n", "command", "runner", "p50 ms", "p99 ms",
	       "x2 exec/s", "x8 exec/s");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && !died; i++) {
		struct cmd *cmd = &cmds[i];
		if (o.only && !strstr(cmd->name, o.only))
			continue;
		if (!bench_find_exe(cmd->argv[0], cmd->path, sizeof(cmd->path))) {
			printf("%-16s skipped: not installed\n", cmd->name);
			continue;
		}
		cmd->argv[0] = cmd->path;
		struct ctx x = {.cmd = cmd};
		for (int k = 0; k < N_RUNNERS; k++)
			if (!cmd->language || k < R_BACKEND)
				x.client[k] = d[k].client;
		x.dcmd = *cmd;
		x.dcmd.argv[0] = cmd->docker_argv0;
		if (bench_cmd(&x, &o) == 0)
			measured++;
		for (int k = 0; k < N_RUNNERS; k++)
			if (d[k].client && !bench_proc_running(&d[k].proc)) {
				fprintf(stderr, "bench-exec: sandboxd %s died\n", runner_name[k]);
				died = true;
			}
	}
	status = measured > 0 && !died ? 0 : 1;
out:
	for (int k = N_RUNNERS - 1; k >= 0; k--)
		bench_daemon_stop(&d[k]);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return status;
}
