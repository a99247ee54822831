/* bench-rpc: the latency and throughput of sandboxd's Health RPC through
 * libsandbox, against a bare nng rep echo server measured in the same run
 * (same machine, same moment, same number of caller threads), so that the
 * ratio says what the envelope, the dispatch and libsandbox cost on top of
 * nng itself. Both servers run as child processes on temporary ipc://
 * paths; rounds of the two alternate, and every figure printed is the
 * median over rounds.
 *
 * `bench-rpc --serve-echo URL [--contexts N]` is the echo server's own
 * entry point: the benchmark starts itself in that mode. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "echo-server.h"
#include "load.h"
#include "peer.h"
#include "proc.h"
#include "sandbox.h"

#define MAX_CONFIGS 8
#define MAX_ROUNDS 51
#define CONNECT_WAIT_MS 5000
#define STOP_GRACE_MS 5000

/* The targets this benchmark checks (printed, never fatal). */
#define TARGET_P50_RATIO 1.3
#define TARGET_RPS 20000.0
#define TARGET_RPS_CALLERS 4

enum { PEER_ECHO, PEER_SANDBOXD, N_PEERS };

struct bench_opts {
	unsigned rounds;
	unsigned duration_ms;
	unsigned warmup_ms;
	unsigned contexts; /* server contexts, the same for both */
	unsigned callers[MAX_CONFIGS];
	size_t n_configs;
	const char *sandboxd; /* NULL: next to this binary */
	int only;	      /* -1, or the one peer to measure (for profiling) */
	bool verbose;
};

struct bench {
	struct bench_opts o;
	char dir[64];
	char echo_url[PATH_MAX], rpc_url[PATH_MAX], events_url[PATH_MAX], state_dir[PATH_MAX];
	char self[PATH_MAX], sandboxd[PATH_MAX];
	struct bench_proc procs[N_PEERS];
	struct echo_peer *echo;
	struct sbx_client *client;
	struct peer peers[N_PEERS];
	struct load_result res[MAX_CONFIGS][N_PEERS][MAX_ROUNDS];
};

/* The one piece of global state: raised by SIGINT/SIGTERM so that a round
 * in progress ends early and the children and temp files are cleaned up. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-rpc [options]\n"
		"  --rounds N          measured rounds per configuration and server (default 5)\n"
		"  --duration-ms MS    length of one round (default 2000)\n"
		"  --warmup-ms MS      unmeasured calls before each configuration (default 300)\n"
		"  --callers LIST      caller thread counts, comma-separated (default 1,4,16)\n"
		"  --contexts N        RPC contexts of both servers (default 64)\n"
		"  --sandboxd PATH     the daemon to measure (default: $SANDBOXD_BIN, else the\n"
		"                      sandboxd next to this binary, else build/bin/sandboxd)\n"
		"  --only echo|sandboxd  measure one server only (to profile it; no ratios)\n"
		"  -v, --verbose       print every round\n");
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static int parse_callers(const char *s, struct bench_opts *o)
{
	char buf[128], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	o->n_configs = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_configs == MAX_CONFIGS ||
		    parse_uint(tok, 1, LOAD_MAX_CALLERS, &o->callers[o->n_configs]) < 0)
			return -EINVAL;
		o->n_configs++;
	}
	return o->n_configs ? 0 : -EINVAL;
}

/* 0, 1 for --help, or -EINVAL after a message. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	enum { O_ROUNDS = 256, O_DURATION, O_WARMUP, O_CALLERS, O_CONTEXTS, O_SANDBOXD, O_ONLY };
	static const struct option lopts[] = {
		{"rounds", required_argument, NULL, O_ROUNDS},
		{"duration-ms", required_argument, NULL, O_DURATION},
		{"warmup-ms", required_argument, NULL, O_WARMUP},
		{"callers", required_argument, NULL, O_CALLERS},
		{"contexts", required_argument, NULL, O_CONTEXTS},
		{"sandboxd", required_argument, NULL, O_SANDBOXD},
		{"only", required_argument, NULL, O_ONLY},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int ch, r = 0;

	*o = (struct bench_opts){.rounds = 5,
				 .duration_ms = 2000,
				 .warmup_ms = 300,
				 .contexts = 64,
				 .callers = {1, 4, 16},
				 .n_configs = 3,
				 .only = -1};
	while (r == 0 && (ch = getopt_long(argc, argv, "vh", lopts, NULL)) != -1) {
		switch (ch) {
		case O_ROUNDS:
			r = parse_uint(optarg, 1, MAX_ROUNDS, &o->rounds);
			break;
		case O_DURATION:
			r = parse_uint(optarg, 10, 600000, &o->duration_ms);
			break;
		case O_WARMUP:
			r = parse_uint(optarg, 0, 60000, &o->warmup_ms);
			break;
		case O_CALLERS:
			r = parse_callers(optarg, o);
			break;
		case O_CONTEXTS:
			r = parse_uint(optarg, 1, 4096, &o->contexts);
			break;
		case O_SANDBOXD:
			o->sandboxd = optarg;
			break;
		case O_ONLY:
			o->only = strcmp(optarg, "echo") == 0	    ? PEER_ECHO
				  : strcmp(optarg, "sandboxd") == 0 ? PEER_SANDBOXD
								    : -1;
			r = o->only < 0 ? -EINVAL : 0;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			r = -EINVAL;
		}
	}
	if (r == 0 && optind < argc)
		r = -EINVAL;
	if (r < 0) {
		fprintf(stderr, "bench-rpc: bad arguments\n");
		usage(stderr);
	}
	return r;
}

/* The daemon: --sandboxd, $SANDBOXD_BIN, the sibling of this binary (both
 * live in BUILD/bin), build/bin/sandboxd. */
static int find_sandboxd(struct bench *b)
{
	const char *env = getenv("SANDBOXD_BIN");
	char *slash;

	if (b->o.sandboxd || (env && *env)) {
		snprintf(b->sandboxd, sizeof(b->sandboxd), "%s",
			 b->o.sandboxd ? b->o.sandboxd : env);
	} else {
		snprintf(b->sandboxd, sizeof(b->sandboxd), "%s", b->self);
		slash = strrchr(b->sandboxd, '/');
		if (slash &&
		    (size_t)(slash + 1 - b->sandboxd) + sizeof("sandboxd") <= sizeof(b->sandboxd))
			strcpy(slash + 1, "sandboxd");
		if (access(b->sandboxd, X_OK) < 0)
			snprintf(b->sandboxd, sizeof(b->sandboxd), "build/bin/sandboxd");
	}
	if (access(b->sandboxd, X_OK) < 0) {
		fprintf(stderr,
			"bench-rpc: no sandboxd at %s (build it, or pass --sandboxd PATH)\n",
			b->sandboxd);
		return -ENOENT;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int start_servers(struct bench *b)
{
	char contexts[16];
	int r;

	snprintf(contexts, sizeof(contexts), "%u", b->o.contexts);
	snprintf(b->echo_url, sizeof(b->echo_url), "ipc://%s/echo.sock", b->dir);
	snprintf(b->rpc_url, sizeof(b->rpc_url), "ipc://%s/rpc.sock", b->dir);
	snprintf(b->events_url, sizeof(b->events_url), "ipc://%s/events.sock", b->dir);
	snprintf(b->state_dir, sizeof(b->state_dir), "%s/state", b->dir);

	char *echo_argv[] = {b->self, "--serve-echo", b->echo_url, "--contexts", contexts, NULL};
	/* clang-format off */
	char *daemon_argv[] = {
		b->sandboxd,
		"--rpc", b->rpc_url,
		"--events", b->events_url,
		"--state-dir", b->state_dir,
		"--rpc-contexts", contexts,
		"--log-level", "warn",
		NULL,
	};
	/* clang-format on */

	r = bench_proc_spawn(&b->procs[PEER_ECHO], "echo server", echo_argv);
	if (r == 0)
		r = bench_proc_spawn(&b->procs[PEER_SANDBOXD], "sandboxd", daemon_argv);
	if (r < 0) {
		fprintf(stderr, "bench-rpc: cannot start the servers: %s\n", strerror(-r));
		return r;
	}

	r = echo_peer_open(b->echo_url, CONNECT_WAIT_MS, &b->echo);
	if (r < 0) {
		fprintf(stderr, "bench-rpc: cannot connect to the echo server at %s: %s\n",
			b->echo_url, strerror(-r));
		return r;
	}
	struct sbx_client_opts co = {.rpc_url = b->rpc_url, .connect_wait_ms = CONNECT_WAIT_MS};
	r = sbx_client_open(&co, &b->client);
	if (r == 0 && !sbx_client_connected(b->client))
		r = -ECONNREFUSED;
	if (r < 0) {
		fprintf(stderr, "bench-rpc: cannot connect to sandboxd at %s: %s\n", b->rpc_url,
			strerror(-r));
		return r;
	}
	b->peers[PEER_ECHO] = (struct peer){&echo_peer_ops, b->echo};
	b->peers[PEER_SANDBOXD] = (struct peer){&sandboxd_peer_ops, b->client};
	return 0;
}

/* Close the clients and stop the servers; -ECHILD if a server failed. */
static int stop_servers(struct bench *b)
{
	char why[64];
	int r = 0;

	sbx_client_close(b->client);
	b->client = NULL;
	echo_peer_close(b->echo);
	b->echo = NULL;
	for (int i = 0; i < N_PEERS; i++) {
		if (bench_proc_stop(&b->procs[i], STOP_GRACE_MS) < 0 && !stop_requested) {
			fprintf(stderr, "bench-rpc: %s ended badly: %s\n", b->procs[i].name,
				bench_proc_describe(&b->procs[i], why, sizeof(why)));
			r = -ECHILD;
		}
	}
	return r;
}

static int servers_alive(struct bench *b)
{
	char why[64];

	for (int i = 0; i < N_PEERS; i++) {
		if (!bench_proc_running(&b->procs[i])) {
			fprintf(stderr, "bench-rpc: %s is gone (%s)\n", b->procs[i].name,
				bench_proc_describe(&b->procs[i], why, sizeof(why)));
			return -ECHILD;
		}
	}
	return 0;
}

static int run_one(struct bench *b, int peer, unsigned callers, unsigned ms,
		   struct load_result *ret)
{
	struct load_opts lo = {.callers = callers, .duration_ms = ms, .stop = &stop_requested};
	struct load_result scratch;
	int r;

	r = load_run(&b->peers[peer], &lo, ret ? ret : &scratch);
	if (r < 0 && r != -EINTR)
		fprintf(stderr, "bench-rpc: %s with %u callers: %s\n", b->peers[peer].ops->name,
			callers, strerror(-r));
	return r;
}

/* Every configuration: a warm-up of each server, then rounds of the two
 * alternately, the first of each pair alternating too, so that drift in
 * the machine's load falls on both. */
static int run_all(struct bench *b)
{
	int r;

	for (size_t c = 0; c < b->o.n_configs; c++) {
		unsigned callers = b->o.callers[c];

		fprintf(stderr, "bench-rpc: %u caller%s, %u rounds x %u ms per server...\n",
			callers, callers == 1 ? "" : "s", b->o.rounds, b->o.duration_ms);
		for (int p = 0; p < N_PEERS && b->o.warmup_ms; p++) {
			if (b->o.only >= 0 && p != b->o.only)
				continue;
			r = run_one(b, p, callers, b->o.warmup_ms, NULL);
			if (r < 0)
				return r;
		}
		for (unsigned i = 0; i < b->o.rounds; i++) {
			for (int k = 0; k < N_PEERS; k++) {
				int p = (int)((k + i) % N_PEERS);
				struct load_result *res = &b->res[c][p][i];

				if (b->o.only >= 0 && p != b->o.only)
					continue;
				r = run_one(b, p, callers, b->o.duration_ms, res);
				if (r == 0)
					r = servers_alive(b);
				if (r < 0)
					return r;
				if (b->o.verbose)
					printf("  round %u  callers %3u  %-8s  p50 %8.1f us  p99 "
					       "%8.1f us  %9.0f calls/s\n",
					       i + 1, callers, b->peers[p].ops->name, res->p50_us,
					       res->p99_us, res->calls_per_s);
			}
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of one field of rounds[0..n); the mean of the middle two when n
 * is even. */
static double median_of(const struct load_result *rounds, unsigned n, size_t field)
{
	double v[MAX_ROUNDS];

	for (unsigned i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&rounds[i] + field);
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* (max - min) / median of a field, in percent: how noisy the rounds were. */
static double spread_of(const struct load_result *rounds, unsigned n, size_t field)
{
	double lo = 1e300, hi = 0, med = median_of(rounds, n, field);

	for (unsigned i = 0; i < n; i++) {
		double v = *(const double *)((const char *)&rounds[i] + field);

		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	return med > 0 ? (hi - lo) / med * 100 : 0;
}

#define MEDIAN(rounds, n, f) median_of(rounds, n, offsetof(struct load_result, f))

static void report_table(const struct bench *b)
{
	const unsigned n = b->o.rounds;

	printf("\nbench-rpc: sandboxd Health via libsandbox vs bare nng req/rep echo\n");
	printf("  %u rounds x %u ms per configuration and server, medians of rounds; "
	       "%u server contexts\n",
	       n, b->o.duration_ms, b->o.contexts);
	printf("  sandboxd: %s\n\n", b->sandboxd);
	printf("  callers  server      p50 us    p99 us     calls/s  calls/s spread\n");
	for (size_t c = 0; c < b->o.n_configs; c++) {
		for (int p = 0; p < N_PEERS; p++) {
			const struct load_result *r = b->res[c][p];

			if (b->o.only >= 0 && p != b->o.only)
				continue;
			printf("  %7u  %-8s  %8.1f  %8.1f  %10.0f  %13.1f%%\n", b->o.callers[c],
			       b->peers[p].ops->name, MEDIAN(r, n, p50_us), MEDIAN(r, n, p99_us),
			       MEDIAN(r, n, calls_per_s),
			       spread_of(r, n, offsetof(struct load_result, calls_per_s)));
		}
	}
}

static void report_ratios(const struct bench *b)
{
	const unsigned n = b->o.rounds;

	printf("\n  callers  p50 sandboxd/echo  p99 sandboxd/echo  calls/s sandboxd/echo  "
	       "target p50 <= %.2fx\n",
	       TARGET_P50_RATIO);
	for (size_t c = 0; c < b->o.n_configs; c++) {
		const struct load_result *e = b->res[c][PEER_ECHO], *s = b->res[c][PEER_SANDBOXD];
		double p50 = MEDIAN(s, n, p50_us) / MEDIAN(e, n, p50_us);
		double p99 = MEDIAN(s, n, p99_us) / MEDIAN(e, n, p99_us);
		double rps = MEDIAN(s, n, calls_per_s) / MEDIAN(e, n, calls_per_s);

		printf("  %7u  %16.2fx  %16.2fx  %20.2fx  %s\n", b->o.callers[c], p50, p99, rps,
		       p50 <= TARGET_P50_RATIO ? "met" : "MISSED");
	}
}

static void report_rps_target(const struct bench *b)
{
	printf("\n  target: >= %.0f Health RPC/s with %d callers: ", TARGET_RPS,
	       TARGET_RPS_CALLERS);
	for (size_t c = 0; c < b->o.n_configs; c++) {
		const struct load_result *s = b->res[c][PEER_SANDBOXD], *e = b->res[c][PEER_ECHO];
		double rps = MEDIAN(s, b->o.rounds, calls_per_s);

		if (b->o.callers[c] != TARGET_RPS_CALLERS)
			continue;
		printf("%.0f/s, %s", rps, rps >= TARGET_RPS ? "met" : "MISSED");
		/* The echo server is the ceiling nng sets on this machine. */
		if (b->o.only < 0)
			printf(" (echo reached %.0f/s)", MEDIAN(e, b->o.rounds, calls_per_s));
		printf("\n");
		return;
	}
	printf("not measured (add %d to --callers)\n", TARGET_RPS_CALLERS);
}

static void report(const struct bench *b)
{
	report_table(b);
	if (b->o.only < 0)
		report_ratios(b);
	if (b->o.only != PEER_ECHO)
		report_rps_target(b);
}

static int serve_echo(int argc, char **argv)
{
	unsigned contexts = 64;
	int r;

	if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--contexts") == 0 &&
			   parse_uint(argv[4], 1, 4096, &contexts) == 0)) {
		fprintf(stderr, "usage: bench-rpc --serve-echo URL [--contexts N]\n");
		return 2;
	}
	r = echo_server_run(argv[2], contexts);
	if (r < 0)
		fprintf(stderr, "echo-server: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	struct bench *b;
	ssize_t n;
	int r;

	if (argc >= 2 && strcmp(argv[1], "--serve-echo") == 0)
		return serve_echo(argc, argv);

	setvbuf(stdout, NULL, _IOLBF, 0);
	b = calloc(1, sizeof(*b));
	if (!b)
		return 1;
	r = parse_args(argc, argv, &b->o);
	if (r != 0) {
		free(b);
		return r > 0 ? 0 : 2;
	}
	n = readlink("/proc/self/exe", b->self, sizeof(b->self) - 1);
	if (n <= 0 || find_sandboxd(b) < 0) {
		free(b);
		return 1;
	}
	snprintf(b->dir, sizeof(b->dir), "/tmp/bench-rpc.XXXXXX");
	if (!mkdtemp(b->dir)) {
		fprintf(stderr, "bench-rpc: cannot create a temporary directory: %s\n",
			strerror(errno));
		free(b);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = start_servers(b);
	if (r == 0)
		r = run_all(b);
	if (stop_servers(b) < 0 && r == 0)
		r = -ECHILD;
	remove_tree(b->dir);
	if (r == 0)
		report(b);
	else if (r == -EINTR || stop_requested)
		fprintf(stderr, "bench-rpc: interrupted\n");
	free(b);
	return r == 0 ? 0 : 1;
}
