/* bench-cluster: what cluster mode buys (README "Cluster"). Three real
 * sandboxd nodes with two execution slots each (MAX_CONCURRENT_EXECUTIONS
 * =2) on loopback TCP, and three real gateways: one reaching node-1 only,
 * one node-1 and node-2, one all three. The same callers load each
 * gateway in turn — rounds interleaved, so a slow moment of this shared
 * machine hits every node count alike — and the figures are medians of
 * the rounds.
 *
 * The load that scales: POST /run of `sleep 0.1` (I/O-bound: a run holds
 * a slot, not a core), where one node's two slots cap its runs/s and
 * three nodes should give about three times as many (target: >= 2.7x).
 * For reference the CPU-bound load, /bin/true, with 1 and 3 nodes: on
 * this 2-core machine every node shares the same two cores, so CPU-bound
 * work cannot scale here; on one host per node it would.
 *
 * usage: bench-cluster [--rounds N] [--seconds S] [--callers C]
 *   defaults: 5 rounds of 4 s per node count, 12 callers. Binaries come
 *   from $SBX_BIN_DIR (default: this program's directory).
 * Exit status: 0, or 1 when it could not measure. */
#include <curl/curl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"
#include "clock.h"
#include "harness.h"
#include "stack.h"
#include "test-cluster.h"

#define MAX_CALLERS 64
#define MAX_ROUNDS 16
#define MAX_SAMPLES 65536

static const char io_body[] = "{\"command\": [\"/bin/sleep\", \"0.1\"]}";
static const char cpu_body[] = "{\"command\": [\"/bin/true\"]}";

struct caller {
	const char *url, *body;
	long long until_ms;
	unsigned n, errors;
	unsigned per_node[TH_MAX_NODES];
	double *lat_ms; /* MAX_SAMPLES */
	char first_error[256];
};

static struct th_cluster cluster;

struct sink {
	char buf[4096];
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t take = size * n, room = sizeof(s->buf) - 1 - s->len;

	memcpy(s->buf + s->len, p, take < room ? take : room);
	s->len += take < room ? take : room;
	s->buf[s->len] = '\0';
	return take;
}

/* The node a /run reply names ("node"), or -1. */
static int reply_node(const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	int k = cl_node_index(&cluster, th_str(j, "node"));

	json_decref(j);
	return k;
}

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	CURL *h = curl_easy_init();
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	struct sink s;

	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	while (sbx_clock_mono_ms() < c->until_ms) {
		double t0 = (double)sbx_clock_mono_us();
		long status = 0;
		int k;

		s.len = 0;
		s.buf[0] = '\0';
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			if (!c->errors++)
				snprintf(c->first_error, sizeof(c->first_error), "%ld %.200s",
					 status, s.buf);
			continue;
		}
		if (c->n < MAX_SAMPLES)
			c->lat_ms[c->n] = ((double)sbx_clock_mono_us() - t0) / 1000.0;
		c->n++;
		if ((k = reply_node(s.buf)) >= 0)
			c->per_node[k]++;
	}
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	return NULL;
}

/* One round of `seconds` against gateway g: runs/s and p50 (ms); the
 * runs each node answered into per_node. -1 when a run failed. */
static int round_of(int g, const char *body, int callers, int seconds, double *rps, double *p50,
		    unsigned per_node[TH_MAX_NODES])
{
	static struct caller cs[MAX_CALLERS];
	static double all[MAX_CALLERS * 256];
	pthread_t th[MAX_CALLERS];
	char url[128];
	unsigned total = 0, errors = 0;
	int n_all = 0;
	long long t0 = sbx_clock_mono_ms();

	snprintf(url, sizeof(url), "%s/run", cluster.gws[g].base);
	for (int i = 0; i < callers; i++) {
		cs[i] = (struct caller){
			.url = url, .body = body, .until_ms = t0 + seconds * 1000LL};
		cs[i].lat_ms = malloc(MAX_SAMPLES * sizeof(double));
		if (!cs[i].lat_ms)
			return -1;
		pthread_create(&th[i], NULL, caller_main, &cs[i]);
	}
	memset(per_node, 0, sizeof(unsigned) * TH_MAX_NODES);
	for (int i = 0; i < callers; i++) {
		unsigned kept;

		pthread_join(th[i], NULL);
		total += cs[i].n;
		errors += cs[i].errors;
		if (cs[i].errors)
			fprintf(stderr, "  caller %d: %u errors, first: %s\n", i, cs[i].errors,
				cs[i].first_error);
		for (int k = 0; k < TH_MAX_NODES; k++)
			per_node[k] += cs[i].per_node[k];
		/* An even sample of each caller's latencies. */
		kept = cs[i].n < MAX_SAMPLES ? cs[i].n : MAX_SAMPLES;
		for (unsigned k = 0; k < 256 && kept; k++)
			all[n_all++] = cs[i].lat_ms[(unsigned long long)k * kept / 256];
		free(cs[i].lat_ms);
	}
	/* Runs still finishing at the end are counted in the time they took. */
	*rps = total / ((double)(sbx_clock_mono_ms() - t0) / 1000.0);
	*p50 = n_all ? bench_median(all, n_all) : 0;
	return errors || !total ? -1 : 0;
}

struct series {
	const char *name;
	int gw; /* the gateway reaching the first gw + 1 nodes */
	double rps[MAX_ROUNDS], p50[MAX_ROUNDS];
	double med_rps, med_p50;
};

/* `rounds` interleaved rounds over the series; medians into them. */
static int measure(struct series *s, int n, const char *body, int rounds, int seconds, int callers)
{
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < n; i++) {
			unsigned per[TH_MAX_NODES];

			if (round_of(s[i].gw, body, callers, seconds, &s[i].rps[r], &s[i].p50[r],
				     per) < 0) {
				fprintf(stderr, "bench-cluster: %s: runs failed\n", s[i].name);
				return -1;
			}
			printf("  round %d  %-8s %7.1f runs/s  p50 %7.1f ms  (per node %u/%u/%u)\n",
			       r + 1, s[i].name, s[i].rps[r], s[i].p50[r], per[0], per[1], per[2]);
		}
	for (int i = 0; i < n; i++) {
		s[i].med_rps = bench_median(s[i].rps, rounds);
		s[i].med_p50 = bench_median(s[i].p50, rounds);
	}
	return 0;
}

/* Three nodes and three gateways (1, 2, 3 nodes each), all up. */
static int start(void)
{
	static const char *const node_args[] = {"--max-concurrent",
						"2",
						"--disk-limit-mb",
						"0",
						"--min-free-disk-mb",
						"0",
						"--log-level",
						"warn",
						NULL};
	static const char *const gw_args[] = {"--log-level", "warn", NULL};
	static const int up[] = {1, 1, 1};

	if (th_cluster_init(&cluster, "sbx-bench-cluster", 3, 3) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (th_cluster_node_start(&cluster, i, node_args) < 0)
			return -1;
	for (int g = 0; g < 3; g++)
		if (th_cluster_gw_start(&cluster, g, g + 1, gw_args) < 0)
			return -1;
	for (int g = 0; g < 3; g++) {
		struct cl_view v = {0};

		if (!th_wait_http(cluster.gws[g].base, "/health", 200, 30000) ||
		    cl_wait_view(&cluster, cluster.gws[g].base, up, g + 1, 30000, &v) < 0) {
			fprintf(stderr,
				"bench-cluster: gateway %d does not see its %d nodes up (status "
				"%ld, %d listed)\n",
				g + 1, g + 1, v.status, v.listed);
			th_dump_logs();
			return -1;
		}
	}
	return 0;
}

static void set_bin_dir(void)
{
	char self[PATH_MAX];
	ssize_t n;

	if (getenv("SBX_BIN_DIR"))
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		setenv("SBX_BIN_DIR", dirname(self), 1);
	}
}

static int run(int rounds, int seconds, int callers)
{
	struct series io[3] = {{.name = "1 node", .gw = 0},
			       {.name = "2 nodes", .gw = 1},
			       {.name = "3 nodes", .gw = 2}};
	struct series cpu[2] = {{.name = "1 node", .gw = 0}, {.name = "3 nodes", .gw = 2}};
	unsigned per[TH_MAX_NODES];
	double warm_rps, warm_p50;

	/* Warm up: every gateway's connections, the page cache. */
	for (int g = 0; g < 3; g++)
		if (round_of(g, io_body, callers, 1, &warm_rps, &warm_p50, per) < 0)
			return -1;
	printf("I/O-bound: POST /run `sleep 0.1`, %d callers, 2 slots per node, %d rounds x %d s\n",
	       callers, rounds, seconds);
	if (measure(io, 3, io_body, rounds, seconds, callers) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		printf("  %-8s %7.1f runs/s  p50 %7.1f ms  (median of %d rounds)\n", io[i].name,
		       io[i].med_rps, io[i].med_p50, rounds);
	printf("  3 nodes vs 1: %.2fx runs/s, p50 %.2fx (target >= 2.7x runs/s: %s)\n",
	       io[2].med_rps / io[0].med_rps, io[2].med_p50 / io[0].med_p50,
	       io[2].med_rps / io[0].med_rps >= 2.7 ? "met" : "MISSED");
	printf("  2 nodes vs 1: %.2fx runs/s\n", io[1].med_rps / io[0].med_rps);

	printf("\nCPU-bound, for reference: POST /run `/bin/true`, %d callers, %d rounds x %d s\n",
	       callers, rounds, seconds);
	if (measure(cpu, 2, cpu_body, rounds, seconds, callers) < 0)
		return -1;
	for (int i = 0; i < 2; i++)
		printf("  %-8s %7.1f runs/s  p50 %7.1f ms\n", cpu[i].name, cpu[i].med_rps,
		       cpu[i].med_p50);
	printf("  3 nodes vs 1: %.2fx runs/s — this machine has %ld cores, shared by every node: "
	       "CPU-bound work cannot scale here (one host per node would)\n",
	       cpu[1].med_rps / cpu[0].med_rps, sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 5, seconds = 4, callers = 12, rc;
	char why[256];

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--rounds") == 0)
			rounds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--callers") == 0)
			callers = atoi(argv[i + 1]);
	}
	if (argc % 2 == 0 || rounds < 1 || rounds > MAX_ROUNDS || seconds < 1 || seconds > 600 ||
	    callers < 1 || callers > MAX_CALLERS) {
		fprintf(stderr,
			"usage: bench-cluster [--rounds 1-%d] [--seconds 1-600] [--callers "
			"1-%d]\n",
			MAX_ROUNDS, MAX_CALLERS);
		return 1;
	}
	if (!th_sandboxes_possible(why, sizeof(why))) {
		printf("bench-cluster: not measured (%s)\n", why);
		return 0;
	}
	set_bin_dir();
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = start() < 0 ? -1 : run(rounds, seconds, callers);
	if (rc < 0)
		th_dump_logs();
	th_cluster_fini(&cluster);
	curl_global_cleanup();
	return rc < 0 ? 1 : 0;
}
