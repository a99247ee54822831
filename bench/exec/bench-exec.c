/* bench-exec: isolated executions through the RPC (issue 4, item 8).
 *
 *   bench-exec [-n RUNS] [-t SECONDS] [-r ROUNDS] [--docker-runs N] [--sandboxd PATH]
 *              [--only NAME] [--warm-pool N] [--warm-pool-python N]
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
 * Third runner (issue 7): a second sandboxd started with --backend docker on
 * its own URL and state dir, when a Docker engine answers on DOCKER_HOST
 * (default unix:///var/run/docker.sock) and has the image
 * (SANDBOX_DOCKER_IMAGE, default sandboxd-runtime:latest); otherwise, or
 * when that daemon exits at start-up, "docker: skipped (why)". A container
 * per execution costs ~250 ms, so it makes only N sequential runs per round
 * (--docker-runs, default 20, spread among the others; 0: no docker), and
 * its rows come with the ratios docker/bwrap and docker/native.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "benchlib.h"
#include "clock.h"
#include "proc.h"
#include "sandbox.h"

#define MAX_ROUNDS 15
#define MAX_RUNS 100000
#define CALL_TIMEOUT_MS 60000
#define CONNECT_WAIT_MS 30000
#define STOP_GRACE_MS 15000
#define MAX_CALLERS 8
#define PROBE_TIMEOUT_S 5
#define DEFAULT_IMAGE "sandboxd-runtime:latest"

struct cmd {
	const char *name;
	const char *argv[4];	   /* argv[0] resolved to an absolute path */
	const char *docker_argv0; /* its path in the runtime image */
	char path[256];
	/* A snippet: sandboxd runs it as an Execute RPC (bwrap runs argv);
	 * NULL = a Run RPC of argv. p50_target: the warm/bwrap p50 target. */
	const char *language, *code;
	double p50_target;
};

enum runner { R_RPC, R_BWRAP, R_DOCKER, R_WARM, N_RUNNERS };
static const char *const runner_name[N_RUNNERS] = {"sandboxd", "bwrap", "docker", "warm"};

/* A sandboxd under test, with its own URL and state dir. */
struct daemon {
	struct bench_proc proc;
	struct sbx_client *client;
	char rpc[PATH_MAX + 16], events[PATH_MAX + 16], state[PATH_MAX];
};

/* What one command is measured with: the clients of the two daemons (NULL:
 * that runner is off) and the docker copy of the command (argv[0] at its
 * path in the image). */
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
	case R_DOCKER:
		return run_rpc(x->client[R_DOCKER], &x->dcmd, false);
	case R_WARM:
		return call(x->client[R_WARM], x->cmd, false);
	default:
		return bench_run_bwrap(x->cmd->argv);
	}
}

static bool on(const struct ctx *x, int k)
{
	return k == R_BWRAP || x->client[k];
}

/* Sequential latency, the runners interleaved call by call: `runs` calls
 * each for sandboxd and bwrap, `druns` for docker spread among them. */
static int latency(const struct ctx *x, int runs, int druns, int gap_ms, int round,
		   struct figures f[N_RUNNERS])
{
	const struct timespec gap = {.tv_sec = gap_ms / 1000,
				     .tv_nsec = (gap_ms % 1000) * 1000000L};
	double *t[N_RUNNERS] = {NULL};
	int n[N_RUNNERS] = {runs, runs, druns, runs}, got[N_RUNNERS] = {0};
	int fails[N_RUNNERS] = {0}, r = 0;
	for (int k = 0; k < N_RUNNERS; k++)
		if (on(x, k) && !(t[k] = calloc((size_t)n[k], sizeof(double)))) {
			r = -ENOMEM;
			goto out;
		}
	for (int i = 0; i < runs; i++)
		for (int k = 0; k < N_RUNNERS; k++) {
			/* docker: its share of the calls up to this step */
			int due = k == R_DOCKER ? (int)((long)(i + 1) * druns / runs) - got[k] : 1;
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
		"usage: %s [-n RUNS] [-t SECONDS] [-r ROUNDS] [--docker-runs N] [--sandboxd PATH]\n"
		"          [--only NAME] [--warm-pool N] [--warm-pool-python N] [--warm-pool-node N]\n"
		"          [--gap MS]\n"
		"  -n RUNS          sequential runs per round and runner (default 100)\n"
		"  -t SECONDS       duration of each throughput point (default 2)\n"
		"  -r ROUNDS        interleaved rounds; medians are printed (default 3, max %d)\n"
		"  --docker-runs N  sequential runs per round of the docker backend (default 20;\n"
		"                   0: do not measure it)\n"
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
	int runs, rounds, docker_runs, gap_ms;
	int warm[3]; /* --warm-pool, --warm-pool-python, --warm-pool-node */
	double seconds;
	const char *sandboxd, *only;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"sandboxd", required_argument, NULL, 'S'},
					   {"only", required_argument, NULL, 'O'},
					   {"docker-runs", required_argument, NULL, 'D'},
					   {"warm-pool", required_argument, NULL, 'W'},
					   {"warm-pool-python", required_argument, NULL, 'P'},
					   {"warm-pool-node", required_argument, NULL, 'N'},
					   {"gap", required_argument, NULL, 'G'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	*o = (struct opts){
		.runs = 100, .rounds = 3, .docker_runs = 20, .warm = {8, 8, 8},
		.seconds = 2};
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
			o->docker_runs = atoi(optarg);
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
	    o->docker_runs < 0 || o->docker_runs == 1 || o->docker_runs > MAX_RUNS ||
	    o->warm[0] < 0 || o->warm[0] > 64 || o->warm[1] < 0 || o->warm[1] > 64 ||
	    o->warm[2] < 0 || o->warm[2] > 64 || o->gap_ms < 0 || o->gap_ms > 10000) {
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

/* HTTP status of GET `path` from the engine on unix socket `sock`, or
 * -errno (reason filled in). HTTP/1.0: the engine closes after answering. */
static int docker_get(const char *sock, const char *path, char *why, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = PROBE_TIMEOUT_S};
	char buf[512];
	int fd, r, code = 0;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		snprintf(why, len, "socket path too long: %s", sock);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(why, len, "socket: %s", strerror(-r));
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		snprintf(why, len, "no Docker engine answers on unix://%s: %s", sock, strerror(-r));
		close(fd);
		return r;
	}
	int n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\nHost: docker\r\n\r\n", path);
	ssize_t got = n > 0 && n < (int)sizeof(buf) ? send(fd, buf, (size_t)n, MSG_NOSIGNAL) : -1;
	if (got == n)
		got = recv(fd, buf, sizeof(buf) - 1, 0);
	r = got > 0 ? 0 : got == 0 ? -EPROTO : -errno;
	if (r == 0) {
		buf[got] = 0;
		if (sscanf(buf, "HTTP/%*d.%*d %d", &code) != 1)
			r = -EPROTO;
	}
	close(fd);
	if (r < 0) {
		snprintf(why, len, "Docker engine on unix://%s: GET %s: %s", sock, path,
			 strerror(-r));
		return r;
	}
	return code;
}

/* 0 when the docker backend can run here; else -errno and why not. The
 * daemon reads the same DOCKER_HOST and SANDBOX_DOCKER_IMAGE. */
static int docker_probe(const char **image, char *why, size_t len)
{
	const char *host = getenv("DOCKER_HOST");
	const char *sock = "/var/run/docker.sock";
	char path[512];
	*image = getenv("SANDBOX_DOCKER_IMAGE");
	if (!*image || !**image)
		*image = DEFAULT_IMAGE;
	if (host && *host) {
		if (strncmp(host, "unix://", 7) != 0) {
			snprintf(why, len, "DOCKER_HOST %s is not a unix:// socket", host);
			return -EINVAL;
		}
		sock = host + 7;
	}
	int code = docker_get(sock, "/version", why, len);
	if (code >= 0 && code != 200) {
		snprintf(why, len, "the engine on unix://%s answers %d to /version", sock, code);
		return -EPROTO;
	}
	if (code < 0)
		return code;
	snprintf(path, sizeof(path), "/images/%s/json", *image);
	code = docker_get(sock, path, why, len);
	if (code == 404) {
		snprintf(why, len, "image %s is missing (docker build -t %s -f "
			 "docker/Dockerfile.runtime docker)", *image, *image);
		return -ENOENT;
	}
	if (code >= 0 && code != 200) {
		snprintf(why, len, "the engine answers %d to GET %.200s", code, path);
		return -EPROTO;
	}
	return code < 0 ? code : 0;
}

/* Start `sandboxd` --warm-pool WARM[0] --warm-pool-python WARM[1]
 * --warm-pool-node WARM[2] [--backend BACKEND] on DIR/TAG-*.sock and DIR/TAG-state and connect to it. -ECHILD
 * when it exited at start-up (why filled in). */
static int daemon_start(struct daemon *d, const char *sandboxd, const char *dir, const char *tag,
			const char *backend, const int warm[3], char *why, size_t len)
{
	char pool[3][16];
	for (int i = 0; i < 3; i++)
		snprintf(pool[i], sizeof(pool[i]), "%d", warm[i]);
	snprintf(d->rpc, sizeof(d->rpc), "ipc://%s/%s-rpc.sock", dir, tag);
	snprintf(d->events, sizeof(d->events), "ipc://%s/%s-events.sock", dir, tag);
	snprintf(d->state, sizeof(d->state), "%s/%s-state", dir, tag);
	/* clang-format off */
	char *argv[] = {
		(char *)sandboxd,
		"--rpc", d->rpc,
		"--events", d->events,
		"--state-dir", d->state,
		"--max-concurrent", "8", /* so 8 callers run at once */
		"--log-level", "warn",
		"--warm-pool", pool[0],
		"--warm-pool-python", pool[1],
		"--warm-pool-node", pool[2],
		backend ? "--backend" : NULL, (char *)backend,
		NULL,
	};
	/* clang-format on */
	int r = bench_proc_spawn(&d->proc, tag, argv);
	if (r < 0) {
		snprintf(why, len, "cannot start %s: %s", sandboxd, strerror(-r));
		return r;
	}
	struct sbx_client_opts co = {.rpc_url = d->rpc};
	r = sbx_client_open(&co, &d->client);
	if (r < 0) {
		snprintf(why, len, "cannot connect to %.200s: %s", d->rpc, strerror(-r));
		return r;
	}
	/* Poll, so a daemon that gives up at start-up is seen at once. */
	const struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
	for (int waited = 0; !sbx_client_connected(d->client); waited += 10) {
		if (!bench_proc_running(&d->proc)) {
			char st[64];
			snprintf(why, len, "sandboxd%s%s exited at start-up (%s; its error is above)",
				 backend ? " --backend " : "", backend ? backend : "",
				 bench_proc_describe(&d->proc, st, sizeof(st)));
			return -ECHILD;
		}
		if (waited >= CONNECT_WAIT_MS) {
			snprintf(why, len, "cannot connect to sandboxd at %.200s", d->rpc);
			return -ETIMEDOUT;
		}
		nanosleep(&tick, NULL);
	}
	return 0;
}

static void daemon_stop(struct daemon *d)
{
	sbx_client_close(d->client);
	d->client = NULL;
	if (bench_proc_stop(&d->proc, STOP_GRACE_MS) == -ETIMEDOUT)
		fprintf(stderr, "bench-exec: %s sandboxd had to be killed\n", d->proc.name);
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

static void print_ratios(const struct cmd *cmd, const struct figures f[N_RUNNERS], bool docker,
			 bool warm, int rounds)
{
	const char *name = cmd->name;
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
	if (docker) {
		print_ratio(name, "docker/bwrap", &f[R_DOCKER], &f[R_BWRAP], rounds, r);
		print_ratio(name, "docker/native", &f[R_DOCKER], &f[R_RPC], rounds, r);
	}
}

static int bench_cmd(struct ctx *x, const struct opts *o)
{
	const struct cmd *cmd = x->cmd;
	struct figures f[N_RUNNERS];
	memset(f, 0, sizeof(f));
	/* Warm the page cache and the daemons' pools for all. */
	if (call(x->client[R_RPC], cmd, true) < 0 || bench_run_bwrap(cmd->argv) < 0) {
		fprintf(stderr, "bench-exec: %s does not run; skipped\n", cmd->name);
		return -EIO;
	}
	if (x->client[R_WARM] && call(x->client[R_WARM], cmd, true) < 0) {
		fprintf(stderr, "bench-exec: %s does not run with the warm pool\n", cmd->name);
		return -EIO;
	}
	if (x->client[R_DOCKER] && run_rpc(x->client[R_DOCKER], &x->dcmd, true) < 0) {
		printf("%-16s docker: skipped (%s does not run in the image)\n", cmd->name,
		       x->dcmd.argv[0]);
		x->client[R_DOCKER] = NULL;
	}
	for (int round = 0; round < o->rounds; round++) {
		int r = latency(x, o->runs, o->docker_runs, o->gap_ms, round, f);
		if (r < 0)
			return r;
		for (int k = 0; k < N_RUNNERS; k++)
			if (on(x, k))
				f[k].x2[round] = throughput(x, (enum runner)k, 2, o->seconds);
		for (int k = 0; k < N_RUNNERS; k++)
			if (on(x, k))
				f[k].x8[round] = throughput(x, (enum runner)k, 8, o->seconds);
		fprintf(stderr, "  round %d %-16s sandboxd p50 %.2f ms x8 %.1f/s | bwrap p50 %.2f ms x8 %.1f/s",
			round + 1, cmd->name, f[R_RPC].p50[round], f[R_RPC].x8[round],
			f[R_BWRAP].p50[round], f[R_BWRAP].x8[round]);
		if (on(x, R_WARM))
			fprintf(stderr, " | warm p50 %.2f ms x8 %.1f/s", f[R_WARM].p50[round],
				f[R_WARM].x8[round]);
		if (on(x, R_DOCKER))
			fprintf(stderr, " | docker p50 %.2f ms x8 %.1f/s", f[R_DOCKER].p50[round],
				f[R_DOCKER].x8[round]);
		fputc('\n', stderr);
	}
	for (int k = 0; k < N_RUNNERS; k++)
		if (on(x, k))
			print_row(cmd->name, runner_name[k], &f[k], o->rounds);
	print_ratios(cmd, f, on(x, R_DOCKER), on(x, R_WARM), o->rounds);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	char sandboxd[PATH_MAX], dir[] = "/tmp/sbx-bench-exec-XXXXXX", why[512];
	const char *image = DEFAULT_IMAGE;
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

	struct daemon native = {0}, docker = {0}, warm = {0};
	int status = 1, measured = 0;
	static const int cold[3] = {0, 0, 0};
	bool use_warm = o.warm[0] > 0 || o.warm[1] > 0 || o.warm[2] > 0;
	if (daemon_start(&native, sandboxd, dir, "native", NULL, cold, why, sizeof(why)) < 0 ||
	    (use_warm &&
	     daemon_start(&warm, sandboxd, dir, "warm", NULL, o.warm, why, sizeof(why)) < 0)) {
		fprintf(stderr, "bench-exec: %s\n", why);
		goto out;
	}
	bool use_docker = false;
	if (o.docker_runs == 0)
		snprintf(why, sizeof(why), "--docker-runs 0");
	else if (docker_probe(&image, why, sizeof(why)) == 0)
		use_docker = daemon_start(&docker, sandboxd, dir, "docker", "docker", cold, why,
					  sizeof(why)) == 0;
	if (!use_docker)
		daemon_stop(&docker);

	struct cmd cmds[] = {
		{"true", {"true", NULL}, "/bin/true", "", NULL, NULL, 0},
		{"python3 -c pass", {"python3", "-c", "pass", NULL}, "/usr/bin/python3", "", NULL, NULL, 0},
		{"node -e 0", {"node", "-e", "0", NULL}, "/usr/bin/node", "", NULL, NULL, 0},
		/* Snippets (Execute; docker runs the command as Run). */
		{"python print(1)", {"python3", "-c", "print(1)", NULL}, "/usr/bin/python3", "",
		 "python", "print(1)", 0.25},
		{"node log(1)", {"node", "-e", "console.log(1)", NULL}, "/usr/bin/node", "", "node",
		 "console.log(1)", 0.5},
	};
	printf("bench-exec: Run RPC through libsandbox vs bwrap --unshare-all --die-with-parent "
	       "--ro-bind / /\n  sandboxd: %s (--max-concurrent 8)\n",
	       sandboxd);
	if (use_warm)
		printf("  warm: a second sandboxd --warm-pool %d --warm-pool-python %d "
		       "--warm-pool-node %d (--max-concurrent 8)\n",
		       o.warm[0], o.warm[1], o.warm[2]);
	if (use_docker)
		printf("  docker: a second sandboxd --backend docker (--max-concurrent 8), image %s; "
		       "%d sequential runs per round\n",
		       image, o.docker_runs);
	else
		printf("  docker: skipped (%s)\n", why);
	printf("  %d rounds; per round %d sequential runs per runner (%d ms idle after each), "
	       "%.1f s per throughput point; medians over rounds\n",
	       o.rounds, o.runs, o.gap_ms, o.seconds);
	printf("%-16s %-13s %9s %9s %10s %10s\n", "command", "runner", "p50 ms", "p99 ms",
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
		struct ctx x = {.client = {native.client, NULL, use_docker ? docker.client : NULL,
					   warm.client},
				.cmd = cmd};
		if (cmd->language)
			x.client[R_DOCKER] = NULL; /* a snippet is a native figure */
		x.dcmd = *cmd;
		x.dcmd.argv[0] = cmd->docker_argv0;
		if (bench_cmd(&x, &o) == 0)
			measured++;
		if (!bench_proc_running(&native.proc)) {
			fprintf(stderr, "bench-exec: sandboxd died\n");
			measured = 0;
			break;
		}
		if (use_warm && !bench_proc_running(&warm.proc)) {
			fprintf(stderr, "bench-exec: sandboxd --warm-pool died\n");
			measured = 0;
			break;
		}
		if (use_docker && !bench_proc_running(&docker.proc)) {
			fprintf(stderr, "bench-exec: sandboxd --backend docker died\n");
			measured = 0;
			break;
		}
	}
	status = measured > 0 ? 0 : 1;
out:
	daemon_stop(&docker);
	daemon_stop(&warm);
	daemon_stop(&native);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return status;
}
