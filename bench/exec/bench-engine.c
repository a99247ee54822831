/* Execution latency and throughput of the sandbox engine against bubblewrap,
 * same commands in the same run.
 *
 *   bench-engine [-n RUNS] [-t SECONDS] [-s STATE_DIR]
 *
 * For each of /bin/true, python3 -c pass, node -e 0 (skipped when not
 * installed): p50/p99 of RUNS sequential executions, then executions/s with
 * 2 and 8 concurrent callers for SECONDS each, for sbx_engine_run() and for
 * `bwrap --unshare-all --die-with-parent --ro-bind / / CMD` (posix_spawn +
 * waitpid). Prints medians and the engine/bwrap ratios. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"
#include "clock.h"
#include "engine.h"

struct cmd {
	const char *name;
	const char *argv[4]; /* argv[0] resolved to an absolute path */
	char path[256];
};

struct bench {
	struct sbx_engine *e;
	const struct cmd *cmd;
	bool use_bwrap;
	double seconds;
	atomic_long done;
	atomic_long failed;
	double deadline;
};

static bool find_exe(const char *name, char *out, size_t size)
{
	static const char *const dirs[] = {"/usr/local/bin", "/usr/bin", "/bin"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(out, size, "%s/%s", dirs[i], name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

static int run_engine(struct sbx_engine *e, const struct cmd *c)
{
	static char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/workspace",
			      "LANG=C.UTF-8"};
	Sbx__Limits l = SBX__LIMITS__INIT;
	l.has_cpu_time_ms = l.has_wall_time_ms = l.has_memory_kb = l.has_pids = true;
	l.has_fsize_kb = l.has_nofile = l.has_stack_kb = l.has_output_bytes = true;
	l.cpu_time_ms = 10000;
	l.wall_time_ms = 20000;
	l.memory_kb = 1024 * 1024;
	l.pids = 64;
	l.fsize_kb = 10240;
	l.nofile = 256;
	l.stack_kb = 8192;
	l.output_bytes = 65536;
	Sbx__SpawnRequest req = SBX__SPAWN_REQUEST__INIT;
	size_t n = 0;
	while (c->argv[n])
		n++;
	req.argv = (char **)c->argv;
	req.n_argv = n;
	req.env = env;
	req.n_env = 3;
	req.limits = &l;
	Sbx__ExecResult *res = NULL;
	int r = sbx_engine_run(e, &req, &res);
	if (r < 0)
		return r;
	bool ok = res->status == SBX__EXEC_STATUS__EXEC_STATUS_OK;
	if (!ok)
		fprintf(stderr, "engine: %s: status %d %s\n", c->name, res->status, res->error);
	sbx__exec_result__free_unpacked(res, NULL);
	return ok ? 0 : -EIO;
}

/* Sequential latency of both runners, interleaved run by run so that
 * noise from the rest of the host hits both alike. */
static void latency(struct sbx_engine *e, const struct cmd *c, bool with_bwrap, int runs,
		    double p50[2], double p99[2])
{
	double *t[2] = {calloc((size_t)runs, sizeof(double)), calloc((size_t)runs, sizeof(double))};
	int fails[2] = {0, 0};
	for (int i = 0; i < runs; i++)
		for (int k = 0; k < (with_bwrap ? 2 : 1); k++) {
			double t0 = (sbx_clock_mono_ns() / 1e9);
			int r = k ? bench_run_bwrap(c->argv) : run_engine(e, c);
			t[k][i] = ((sbx_clock_mono_ns() / 1e9) - t0) * 1000;
			fails[k] += r < 0;
		}
	for (int k = 0; k < (with_bwrap ? 2 : 1); k++) {
		bench_sort(t[k], runs);
		p50[k] = t[k][runs / 2];
		p99[k] = t[k][(runs * 99) / 100 >= runs ? runs - 1 : (runs * 99) / 100];
		if (fails[k])
			fprintf(stderr, "%s %s: %d of %d runs failed\n", k ? "bwrap" : "engine",
				c->name, fails[k], runs);
	}
	free(t[0]);
	free(t[1]);
}

static void *worker(void *arg)
{
	struct bench *b = arg;
	while ((sbx_clock_mono_ns() / 1e9) < b->deadline) {
		int r = b->use_bwrap ? bench_run_bwrap(b->cmd->argv) : run_engine(b->e, b->cmd);
		if (r < 0)
			atomic_fetch_add(&b->failed, 1);
		else
			atomic_fetch_add(&b->done, 1);
	}
	return NULL;
}

static double throughput(struct sbx_engine *e, const struct cmd *c, bool bwrap, int threads,
			 double seconds)
{
	struct bench b = {.e = e, .cmd = c, .use_bwrap = bwrap, .seconds = seconds};
	pthread_t th[16];
	double t0 = (sbx_clock_mono_ns() / 1e9);
	b.deadline = t0 + seconds;
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &b);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	double el = (sbx_clock_mono_ns() / 1e9) - t0;
	if (b.failed)
		fprintf(stderr, "%s %s x%d: %ld failed\n", bwrap ? "bwrap" : "engine", c->name,
			threads, (long)b.failed);
	return (double)b.done / el;
}

int main(int argc, char **argv)
{
	int runs = 200;
	double seconds = 3;
	const char *state = "/tmp/sbx-bench-state";
	for (int o; (o = getopt(argc, argv, "n:t:s:")) != -1;) {
		if (o == 'n')
			runs = atoi(optarg);
		else if (o == 't')
			seconds = atof(optarg);
		else if (o == 's')
			state = optarg;
		else {
			fprintf(stderr, "usage: %s [-n RUNS] [-t SECONDS] [-s STATE_DIR]\n", argv[0]);
			return 2;
		}
	}
	if (runs < 2)
		runs = 2;

	/* Before any thread: the engine forks its spawner here. */
	struct sbx_engine_config cfg;
	sbx_engine_config_init(&cfg);
	cfg.state_dir = state;
	cfg.trace = getenv("SBX_ENGINE_TRACE") != NULL;
	/* Knobs to measure what the pools buy. */
	cfg.no_netns_pool = getenv("SBX_BENCH_NO_NETNS_POOL") != NULL;
	cfg.no_cgroup_pool = getenv("SBX_BENCH_NO_CGROUP_POOL") != NULL;
	const char *warm = getenv("SANDBOX_WARM_POOL");
	cfg.warm_pool = warm ? (unsigned)strtoul(warm, NULL, 10) : 0;
	const char *only = getenv("SBX_BENCH_ONLY");
	struct sbx_engine *e;
	int r = sbx_engine_new(&cfg, &e);
	if (r < 0) {
		fprintf(stderr, "sbx_engine_new: %s\n", strerror(-r));
		return 1;
	}
	bool have_bwrap = system("bwrap --version >/dev/null 2>&1") == 0;

	struct cmd cmds[] = {
		{"true", {"true", NULL}, ""},
		{"python3 -c pass", {"python3", "-c", "pass", NULL}, ""},
		{"node -e 0", {"node", "-e", "0", NULL}, ""},
	};
	printf("engine cgroup mode: %s; %d sequential runs, %.1f s per throughput point\n",
	       sbx_engine_cgroup_mode(e), runs, seconds);
	printf("%-16s %-7s %9s %9s %10s %10s\n", "command", "runner", "p50 ms", "p99 ms", "x2 exec/s",
	       "x8 exec/s");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct cmd *c = &cmds[i];
		if (only && !strstr(c->name, only))
			continue;
		if (!find_exe(c->argv[0], c->path, sizeof(c->path))) {
			printf("%-16s skipped: not installed\n", c->name);
			continue;
		}
		c->argv[0] = c->path;
		double p50[2] = {0, 0}, p99[2] = {0, 0}, e2, e8, b2 = 0, b8 = 0;
		run_engine(e, c); /* warm caches for both */
		if (have_bwrap)
			bench_run_bwrap(c->argv);
		latency(e, c, have_bwrap, runs, p50, p99);
		double ep50 = p50[0], ep99 = p99[0], bp50 = p50[1], bp99 = p99[1];
		e2 = throughput(e, c, false, 2, seconds);
		e8 = throughput(e, c, false, 8, seconds);
		printf("%-16s %-7s %9.2f %9.2f %10.1f %10.1f\n", c->name, "engine", ep50, ep99, e2, e8);
		if (!have_bwrap)
			continue;
		b2 = throughput(e, c, true, 2, seconds);
		b8 = throughput(e, c, true, 8, seconds);
		printf("%-16s %-7s %9.2f %9.2f %10.1f %10.1f\n", c->name, "bwrap", bp50, bp99, b2, b8);
		printf("%-16s %-7s %9.2fx %8.2fx %9.2fx %9.2fx   (latency: lower is better; "
		       "throughput: higher)\n",
		       c->name, "ratio", ep50 / bp50, ep99 / bp99, e2 / b2, e8 / b8);
	}
	sbx_engine_free(e);
	return 0;
}
