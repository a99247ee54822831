/* bench-proxy: requests/s and p50 latency of a small GET through the
 * gateway's reverse proxy (/faas/{id}/, gateway/proxy.h) against the same
 * service hit directly on its unix socket, in the same run. The service
 * and a fake daemon answering OpenProxy run in this process
 * (tests/integration/proxyfix.h); sandbox-gateway is the real binary.
 *
 * Both targets are loaded by the same client: C threads, each with one
 * keep-alive libcurl handle, for a fixed time per round; rounds alternate
 * between the targets and the figures are medians of rounds.
 *
 * A third target, the gateway answering 404 from OpenProxy alone, shows
 * how much of the difference is the per-request RPC to the daemon.
 *
 * Then the same with the real thing: sandboxd and the gateway, a node web
 * server deployed through POST /faas/deploy, hit through /faas/{id}/ and
 * directly on the daemon's forwarder socket (which relays into the
 * sandbox's network namespace). Skipped when sandboxes cannot run here.
 *
 * usage: bench-proxy [--rounds N] [--seconds S] [--clients C]
 *   defaults: 5 rounds of 2 s per target, 8 clients. Binaries come from
 *   $SBX_BIN_DIR (default: this program's directory).
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

#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "proxyfix.h"
#include "stack.h"
#include "testlib.h"

#define MAX_CLIENTS 64
#define MAX_SAMPLES (1u << 20)

struct target {
	const char *name;
	char url[256];
	const char *unix_path; /* NULL: TCP */
	long status;	       /* the answer expected */
};

struct client {
	const struct target *t;
	long long until_ms;
	unsigned n, errors;
	unsigned *lat_us; /* MAX_SAMPLES */
};

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	CURL *h = curl_easy_init();

	curl_easy_setopt(h, CURLOPT_URL, c->t->url);
	if (c->t->unix_path)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->t->unix_path);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	while (sbx_clock_mono_ms() < c->until_ms) {
		int64_t took_us = sbx_clock_mono_us();
		long status = 0;

		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		took_us = sbx_clock_mono_us() - took_us;
		if (status != c->t->status) {
			c->errors++;
			continue;
		}
		if (c->n < MAX_SAMPLES)
			c->lat_us[c->n] = (unsigned)took_us;
		c->n++;
	}
	curl_easy_cleanup(h);
	return NULL;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One round: req/s and p50 (µs). */
static int round_of(const struct target *t, int clients, int seconds, double *rps, double *p50)
{
	static unsigned all[MAX_CLIENTS * 4096];
	struct client cs[MAX_CLIENTS];
	pthread_t th[MAX_CLIENTS];
	size_t n_all = 0;
	unsigned total = 0, errors = 0;

	for (int i = 0; i < clients; i++) {
		cs[i] = (struct client){.t = t, .until_ms = sbx_clock_mono_ms() + seconds * 1000LL};
		cs[i].lat_us = malloc(MAX_SAMPLES * sizeof(unsigned));
		pthread_create(&th[i], NULL, client_main, &cs[i]);
	}
	for (int i = 0; i < clients; i++) {
		pthread_join(th[i], NULL);
		total += cs[i].n;
		errors += cs[i].errors;
		/* An even sample of each client's latencies. */
		for (unsigned k = 0; k < 4096 && cs[i].n; k++)
			all[n_all++] =
				cs[i].lat_us[(uint64_t)k *
					     (cs[i].n < MAX_SAMPLES ? cs[i].n : MAX_SAMPLES) /
					     4096];
		free(cs[i].lat_us);
	}
	if (errors || !total) {
		fprintf(stderr, "%s: %u errors, %u answers\n", t->name, errors, total);
		return -1;
	}
	qsort(all, n_all, sizeof(*all), cmp_uint);
	*rps = (double)total / seconds;
	*p50 = all[n_all / 2];
	return 0;
}

/* Median req/s and p50 of each of n targets over `rounds` interleaved
 * rounds, printed; -1 when a round failed. */
static int measure(struct target *t, int n, int rounds, int seconds, int clients, double *ret_rps,
		   double *ret_p50)
{
	double rps[3][64], p50[3][64];

	for (int i = 0; i < rounds; i++)
		for (int k = 0; k < n; k++)
			if (round_of(&t[k], clients, seconds, &rps[k][i], &p50[k][i]) < 0)
				return -1;
	for (int k = 0; k < n; k++) {
		qsort(rps[k], (size_t)rounds, sizeof(double), cmp_double);
		qsort(p50[k], (size_t)rounds, sizeof(double), cmp_double);
		ret_rps[k] = rps[k][rounds / 2];
		ret_p50[k] = p50[k][rounds / 2];
		printf("  %-26s %9.0f req/s   p50 %7.0f us\n", t[k].name, ret_rps[k], ret_p50[k]);
	}
	printf("  gateway/direct: %.2fx req/s, p50 +%.0f us\n", ret_rps[0] / ret_rps[1],
	       ret_p50[0] - ret_p50[1]);
	return 0;
}

/* The real daemon and gateway, a deployed node server. */
static int bench_real(int rounds, int seconds, int clients)
{
	static const char body[] =
		"{\"runtime\": \"node\", \"entry_point\": \"server.js\", \"code\": "
		"\"require('http').createServer((q, s) => s.end('ok')).listen(3000)\"}";
	struct target t[2] = {{.name = "gateway /faas/{id}/ (real)", .status = 200},
			      {.name = "forwarder socket directly", .status = 200}};
	char why[256], path[512];
	double rps[2], p50[2];
	struct th_stack st;
	struct th_resp r = {0};
	json_t *j;
	int rc = -1;

	if (!th_sandboxes_possible(why, sizeof(why))) {
		printf("real deployment: not measured (%s)\n", why);
		return 0;
	}
	if (th_stack_start(&st, "sbx-bench-proxy-real", NULL) < 0)
		return -1;
	th_http(st.base, "POST", "/faas/deploy", body, NULL, 60000, &r);
	j = r.status == 200 ? th_json(&r) : NULL;
	if (!j || !json_is_string(json_object_get(j, "status")) ||
	    strcmp(json_string_value(json_object_get(j, "status")), "Running") != 0) {
		fprintf(stderr, "bench-proxy: deploy failed: %ld %s\n", r.status, r.body);
		goto out;
	}
	snprintf(t[0].url, sizeof(t[0].url), "%s/faas/%s/", st.base,
		 json_string_value(json_object_get(j, "deployment_id")));
	snprintf(t[1].url, sizeof(t[1].url), "http://localhost/");
	snprintf(path, sizeof(path), "%s/proxy/%s.sock", st.state,
		 json_string_value(json_object_get(j, "sandbox_id")));
	t[1].unix_path = path;
	printf("real deployment (node http server in a sandbox), %d clients:\n", clients);
	rc = measure(t, 2, rounds, seconds, clients, rps, p50);
out:
	json_decref(j);
	th_resp_fini(&r);
	th_stack_stop(&st);
	return rc;
}

int main(int argc, char **argv)
{
	int rounds = 5, seconds = 2, clients = 8, port = tl_free_port();
	double rps[3], p50[3];
	/* The third: the gateway answering from OpenProxy alone (the fake
	 * daemon says NOT_FOUND), to show what the RPC costs of the total. */
	struct target t[3] = {{.name = "gateway /faas/{id}/", .status = 200},
			      {.name = "service directly", .status = 200},
			      {.name = "OpenProxy only (404)", .status = 404}};
	char *dir = tl_tmpdir("sbx-bench-proxy"), listen[64], base[64], self[PATH_MAX];
	struct pf_fixture *fx;
	struct th_resp r = {0};
	pid_t gw;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--rounds") == 0)
			rounds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--clients") == 0)
			clients = atoi(argv[i + 1]);
	}
	if (rounds < 1 || rounds > 64 || seconds < 1 || clients < 1 || clients > MAX_CLIENTS) {
		fprintf(stderr,
			"usage: bench-proxy [--rounds 1-64] [--seconds S] [--clients 1-64]\n");
		return 1;
	}
	if (!getenv("SBX_BIN_DIR")) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (n > 0) {
			self[n] = 0;
			setenv("SBX_BIN_DIR", dirname(self), 1);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fx = pf_start(dir);
	if (!fx)
		return 1;
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	{
		char log[300], events[300];
		const char *args[] = {"--listen",     listen,	  "--rpc",
				      pf_rpc_url(fx), "--events", events,
				      "--log-level",  "warn",	  NULL};

		snprintf(log, sizeof(log), "%s/gateway.log", dir);
		snprintf(events, sizeof(events), "ipc://%s/events.sock", dir);
		gw = th_spawn("sandbox-gateway", args, log);
	}
	for (long long until = sbx_clock_mono_ms() + 20000;
	     gw > 0 && sbx_clock_mono_ms() < until;) {
		th_resp_fini(&r);
		memset(&r, 0, sizeof(r));
		th_http(base, "GET", "/faas/bench/", NULL, NULL, 1000, &r);
		if (r.status == 200)
			break;
		th_sleep_ms(50);
	}
	if (gw <= 0 || r.status != 200) {
		fprintf(stderr, "bench-proxy: the gateway did not come up\n");
		th_dump_logs();
		return 1;
	}
	th_resp_fini(&r);
	snprintf(t[0].url, sizeof(t[0].url), "%s/faas/bench/", base);
	snprintf(t[1].url, sizeof(t[1].url), "http://localhost/");
	t[1].unix_path = pf_service_path(fx);
	snprintf(t[2].url, sizeof(t[2].url), "%s/faas/missing/", base);

	printf("bench-proxy: GET of a 2-byte body, %d keep-alive clients, %d rounds x %d s per "
	       "target\n",
	       clients, rounds, seconds);
	if (measure(t, 3, rounds, seconds, clients, rps, p50) < 0) {
		th_stop(gw, SIGTERM, 15000);
		return 1;
	}
	th_stop(gw, SIGTERM, 15000);
	pf_stop(fx);
	th_rmtree(dir);
	free(dir);
	r.status = bench_real(rounds, seconds, clients);
	curl_global_cleanup();
	return r.status < 0 ? 1 : 0;
}
