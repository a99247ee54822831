/* GET /metrics (README "Metrics") against the real sandboxd and gateway:
 * after executions that succeed, fail and time out, the exposition counts
 * exactly those, `promtool check metrics` accepts it (and refuses a broken
 * one, so the check can fail), and a real Prometheus on loopback, with a
 * temporary configuration and data directory, scrapes the gateway and
 * answers PromQL queries about the executions with the same figures.
 * In cluster mode every node's samples carry its node label, and a node
 * that is gone shows sandboxd_up 0.
 * SKIP (77) when sandboxes are impossible here, or when promtool or
 * prometheus is not installed (Debian's `prometheus`, scripts/deps.sh). */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

/* Prometheus' start-up and first scrapes on a loaded sanitizer host. */
#define PROM_WAIT_MS 90000

static struct th_stack st;

/* The absolute path of `name` in $PATH (and the sbin directories, which
 * a non-root PATH may lack) into out, or false. */
static bool find_binary(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	char dirs[4096];

	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/usr/bin:/sbin:/bin", path ? path : "");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(out, size, "%s/%s", d, name);
		if (*d && access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* POST an execution to the sandbox-executor route; the HTTP status. */
static long execute(const char *code, int timeout_s)
{
	char body[512];
	struct th_resp r = {0};
	long status;

	snprintf(body, sizeof(body),
		 "{\"language\": \"python\", \"code\": \"%s\", \"timeout\": %d}", code, timeout_s);
	th_http(st.base, "POST", "/api/v1/execute", body, NULL, 60000, &r);
	status = r.status;
	if (status != 200)
		printf("  execute %s: %ld %s\n", code, r.status, r.body);
	th_resp_fini(&r);
	return status;
}

/* The value of the sample line that begins with `prefix` (its labels
 * included), or -1 when there is none. */
static double sample(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* Run a shell command line; its exit code, or -1. */
static int run(const char *cmd)
{
	int status = system(cmd);

	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The exposition, written to path; the text in *ret (caller frees). */
static bool scrape(const char *path, char **ret)
{
	struct th_resp r = {0};
	char ct[128];
	FILE *f;

	th_http(st.base, "GET", "/metrics", NULL, NULL, 30000, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(th_header(&r, "Content-Type", ct, sizeof(ct)),
		  "text/plain; version=0.0.4; charset=utf-8");
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (r.status != 200 || !f) {
		if (f)
			fclose(f);
		th_resp_fini(&r);
		return false;
	}
	fwrite(r.body, 1, r.len, f);
	fclose(f);
	*ret = r.body;
	r.body = NULL;
	th_resp_fini(&r);
	return true;
}

/* The executions the test made, as the exposition counts them. */
static void check_exposition(const char *text)
{
	char node[128] = "", key[512];
	const char *p = strstr(text, "sandboxd_up{node=\"");
	double tl, wtl;

	CHECK(p != NULL);
	if (p)
		sscanf(p + strlen("sandboxd_up{node=\""), "%127[^\"]", node);
	CHECK(node[0] != '\0');
#define EXEC(status)                                                                               \
	(snprintf(key, sizeof(key),                                                                \
		  "sandboxd_executions_total{node=\"%s\",kind=\"execute\",language=\"python\","    \
		  "status=\"%s\"}",                                                                \
		  node, status),                                                                   \
	 sample(text, key))
	CHECK_INT(EXEC("ok"), 1);
	CHECK_INT(EXEC("runtime_error"), 1);
	tl = EXEC("time_limit");
	wtl = EXEC("wall_time_limit");
	CHECKF((tl > 0 ? tl : 0) + (wtl > 0 ? wtl : 0) == 1, "time limits: %g + %g", tl, wtl);
#undef EXEC
	/* A language that is no runtime is counted as "other": the label
	 * values stay the runtimes table's. */
	snprintf(key, sizeof(key),
		 "sandboxd_executions_total{node=\"%s\",kind=\"execute\",language=\"other\","
		 "status=\"invalid\"}",
		 node);
	CHECK_INT(sample(text, key), 1);
	CHECK(strstr(text, "nosuchlanguage") == NULL);
	snprintf(key, sizeof(key), "sandboxd_execution_run_seconds_count{node=\"%s\"}", node);
	CHECK_INT(sample(text, key), 3);
	snprintf(key, sizeof(key), "sandboxd_execution_run_seconds_sum{node=\"%s\"}", node);
	CHECKF(sample(text, key) >= 0.9, "run seconds %g: the timed-out run alone took 1 s",
	       sample(text, key));
	snprintf(key, sizeof(key), "sandboxd_execution_request_seconds_count{node=\"%s\"}", node);
	CHECK_INT(sample(text, key), 4); /* the invalid one too */
	snprintf(key, sizeof(key),
		 "sandboxd_execution_request_seconds_bucket{node=\"%s\",le=\"+Inf\"}", node);
	CHECK_INT(sample(text, key), 4);
	snprintf(key, sizeof(key), "sandboxd_execution_slots{node=\"%s\"}", node);
	CHECK(sample(text, key) >= 1);
	snprintf(key, sizeof(key), "sandboxd_process_resident_memory_bytes{node=\"%s\"}", node);
	CHECK(sample(text, key) > 1e6);
	snprintf(key, sizeof(key), "sandboxd_process_open_fds{node=\"%s\"}", node);
	CHECK(sample(text, key) >= 3);

	CHECK_INT(sample(text, "sandbox_gateway_http_requests_total{route=\"/api/v1/execute\","
			       "method=\"POST\",code=\"200\"}"),
		  3);
	CHECK_INT(sample(text, "sandbox_gateway_http_requests_total{route=\"/api/v1/execute\","
			       "method=\"POST\",code=\"400\"}"),
		  1);
	CHECK_INT(sample(text, "sandbox_gateway_http_requests_total{route=\"unmatched\","
			       "method=\"\",code=\"404\"}"),
		  1);
	CHECK_INT(sample(text, "sandbox_gateway_rpc_calls_total{method=\"Execute\",status=\"OK\"}"),
		  3);
	CHECK_INT(sample(text, "sandbox_gateway_rpc_calls_total{method=\"Execute\","
			       "status=\"INVALID_ARGUMENT\"}"),
		  1);
	CHECK_INT(sample(text, "sandbox_gateway_daemon_up"), 1);
	CHECK(sample(text, "process_resident_memory_bytes") > 1e6);
	CHECK(sample(text, "process_open_fds") >= 3);
	/* Each family announced once. */
	for (const char *fam = strstr(text, "# TYPE "); fam; fam = strstr(fam + 1, "# TYPE ")) {
		char name[128], again[160];

		sscanf(fam + 7, "%127s", name);
		snprintf(again, sizeof(again), "# TYPE %s ", name);
		CHECKF(strstr(fam + 1, again) == NULL, "family %s announced twice", name);
	}
}

/* promtool accepts the exposition and refuses a broken one. */
static void check_promtool(const char *promtool, const char *dir, const char *file)
{
	char cmd[2048], bad[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' check metrics < '%s'", promtool, file);
	CHECK_INT(run(cmd), 0);
	snprintf(bad, sizeof(bad), "%s/bad.txt", dir);
	f = fopen(bad, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("# TYPE x_total counter\nx_total 1\n# TYPE x_total counter\nx_total 2\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' check metrics < '%s' 2>/dev/null", promtool, bad);
	CHECK(run(cmd) != 0);
}

/* GET path of Prometheus' HTTP API; its JSON, or NULL. */
static json_t *prom_get(const char *base, const char *path)
{
	struct th_resp r = {0};
	json_t *j = NULL;

	th_http(base, "GET", path, NULL, NULL, 10000, &r);
	if (r.status == 200)
		j = th_json(&r);
	th_resp_fini(&r);
	return j;
}

/* Run PromQL `query`; the vector's samples as {label value of `by`:
 * value} in a JSON object (caller frees), or NULL when the query failed
 * or found nothing. */
static json_t *prom_query(const char *base, const char *query, const char *by)
{
	char *q = curl_easy_escape(NULL, query, 0);
	char path[1024];
	json_t *j, *res, *out = NULL, *s;
	size_t i;

	snprintf(path, sizeof(path), "/api/v1/query?query=%s", q ? q : "");
	curl_free(q);
	j = prom_get(base, path);
	res = json_object_get(json_object_get(j, "data"), "result");
	if (json_is_array(res) && json_array_size(res) > 0) {
		out = json_object();
		json_array_foreach(res, i, s)
		{
			const char *k = json_string_value(
				json_object_get(json_object_get(s, "metric"), by));
			const char *v =
				json_string_value(json_array_get(json_object_get(s, "value"), 1));

			json_object_set_new(out, k ? k : "", json_real(v ? strtod(v, NULL) : -1));
		}
	}
	json_decref(j);
	return out;
}

static double get_num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return v ? json_real_value(v) : 0;
}

/* Prometheus' configuration: the gateway as its one target, every second. */
static bool write_config(const char *path, const char *target)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fprintf(f,
		"global:\n"
		"  scrape_interval: 1s\n"
		"  evaluation_interval: 1s\n"
		"scrape_configs:\n"
		"  - job_name: sandboxd\n"
		"    metrics_path: /metrics\n"
		"    static_configs:\n"
		"      - targets: ['%s']\n",
		target);
	return fclose(f) == 0;
}

/* A real Prometheus scrapes the gateway; PromQL sees the executions. */
static void check_prometheus(const char *prometheus, const char *dir)
{
	char config[512], data[512], listen[64], base[96], flag_cfg[600], flag_data[600],
		flag_listen[96], log[512];
	const char *args[] = {flag_cfg, flag_data, flag_listen, "--log.level=warn", NULL};
	json_t *by_status = NULL, *up = NULL, *http = NULL;
	int64_t until;
	pid_t pid;

	snprintf(config, sizeof(config), "%s/prometheus.yml", dir);
	snprintf(data, sizeof(data), "%s/prometheus-data", dir);
	snprintf(log, sizeof(log), "%s/prometheus.log", dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", tl_free_port());
	snprintf(base, sizeof(base), "http://%s", listen);
	CHECK(write_config(config, st.listen));
	snprintf(flag_cfg, sizeof(flag_cfg), "--config.file=%s", config);
	snprintf(flag_data, sizeof(flag_data), "--storage.tsdb.path=%s", data);
	snprintf(flag_listen, sizeof(flag_listen), "--web.listen-address=%s", listen);
	pid = th_spawn(prometheus, args, log);
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	until = sbx_clock_mono_ms() + PROM_WAIT_MS;
	/* Ready, scraped once, and the counters as the test made them (a
	 * scrape may have come before the last execution's completion). */
	while (sbx_clock_mono_ms() < until) {
		json_decref(up);
		json_decref(by_status);
		up = prom_query(base, "up{job=\"sandboxd\"}", "job");
		by_status = prom_query(
			base, "sum by (status) (sandboxd_executions_total{kind=\"execute\"})",
			"status");
		if (get_num(up, "sandboxd") == 1 && get_num(by_status, "ok") == 1 &&
		    get_num(by_status, "runtime_error") == 1 && get_num(by_status, "invalid") == 1)
			break;
		th_sleep_ms(500);
	}
	CHECKF(get_num(up, "sandboxd") == 1, "prometheus never scraped the gateway (up %g)",
	       get_num(up, "sandboxd"));
	CHECK_INT(get_num(by_status, "ok"), 1);
	CHECK_INT(get_num(by_status, "runtime_error"), 1);
	CHECK_INT(get_num(by_status, "invalid"), 1);
	CHECK_INT(get_num(by_status, "time_limit") + get_num(by_status, "wall_time_limit"), 1);
	http = prom_query(base,
			  "sum by (code) (sandbox_gateway_http_requests_total"
			  "{route=\"/api/v1/execute\",method=\"POST\"})",
			  "code");
	CHECK_INT(get_num(http, "200"), 3);
	CHECK_INT(get_num(http, "400"), 1);
	json_decref(http);
	/* A histogram as PromQL reads it: the +Inf bucket is the count. */
	http = prom_query(
		base, "sum by (le) (sandboxd_execution_request_seconds_bucket{le=\"+Inf\"})", "le");
	CHECK_INT(get_num(http, "+Inf"), 4);
	json_decref(http);
	json_decref(up);
	json_decref(by_status);
	printf("  prometheus answered on %s\n", base);
	CHECKF(WIFEXITED(th_stop(pid, SIGTERM, 20000)), "prometheus did not stop on SIGTERM");
}

/* The sum of the values of every sample line beginning with prefix
 * (labels after it may differ), and how many there were. */
static double sum_samples(const char *text, const char *prefix, int *ret_n)
{
	size_t n = strlen(prefix);
	double sum = 0;

	*ret_n = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *sp;

		if (strncmp(p, prefix, n) != 0 || !(sp = strchr(p, ' ')))
			continue;
		sum += strtod(sp + 1, NULL);
		(*ret_n)++;
	}
	return sum;
}

/* Poll base's /metrics until every line of want[] is there (bounded);
 * the last text (caller frees). */
static char *wait_metrics(const char *base, const char *const want[], int timeout_ms)
{
	int64_t until = sbx_clock_mono_ms() + timeout_ms;
	struct th_resp r = {0};
	char *text = NULL;

	do {
		bool all = true;

		th_http(base, "GET", "/metrics", NULL, NULL, 30000, &r);
		for (int i = 0; want[i] && r.status == 200; i++)
			all = all && strstr(r.body, want[i]) != NULL;
		if (r.status == 200 && all)
			break;
		th_sleep_ms(200);
	} while (sbx_clock_mono_ms() < until);
	for (int i = 0; want[i]; i++)
		CHECKF(r.body && strstr(r.body, want[i]), "/metrics lacks %s", want[i]);
	text = r.body;
	r.body = NULL;
	th_resp_fini(&r);
	return text;
}

/* Cluster mode: two nodes behind one gateway; each node's figures carry
 * its node label, and a node that is gone shows sandboxd_up 0. */
static void check_cluster(void)
{
	static const char *const both_up[] = {"sandboxd_up{node=\"node-1\"} 1\n",
					      "sandboxd_up{node=\"node-2\"} 1\n", NULL};
	static const char *const one_down[] = {"sandboxd_up{node=\"node-1\"} 1\n",
					       "sandboxd_up{node=\"node-2\"} 0\n", NULL};
	const char *const node_args[] = {"--max-concurrent", "2", NULL};
	struct th_cluster c;
	struct th_resp r = {0};
	char *text;
	int n;

	if (th_cluster_init(&c, "sbx-metrics-cluster", 2, 1) < 0) {
		tl_fail(__FILE__, __LINE__, "th_cluster_init", "no directory or ports");
		return;
	}
	if (th_cluster_node_start(&c, 0, node_args) < 0 ||
	    th_cluster_node_start(&c, 1, node_args) < 0 ||
	    th_cluster_gw_start(&c, 0, 2, NULL) < 0) {
		tl_fail(__FILE__, __LINE__, "cluster start", "a node or the gateway did not start");
		th_cluster_fini(&c);
		return;
	}
	free(wait_metrics(c.gws[0].base, both_up, 30000));
	for (int i = 0; i < 4; i++) {
		th_http(c.gws[0].base, "POST", "/api/v1/execute",
			"{\"language\": \"python\", \"code\": \"print(1)\"}", NULL, 60000, &r);
		CHECK_INT(r.status, 200);
	}
	th_resp_fini(&r);
	text = wait_metrics(c.gws[0].base, both_up, 10000);
	if (text) {
		CHECK_INT(sum_samples(text, "sandboxd_executions_total{node=\"node-", &n), 4);
		CHECKF(n >= 1 && n <= 2, "%d execution rows", n);
		sum_samples(text, "sandboxd_process_open_fds{node=\"node-", &n);
		CHECK_INT(n, 2);
		CHECK_INT(sum_samples(text, "sandboxd_execution_request_seconds_count{node=", &n),
			  4);
		CHECK_INT(n, 2);
		CHECK(strstr(text, "# TYPE sandboxd_executions_total counter\n") ==
		      strstr(text, "# TYPE sandboxd_executions_total"));
	}
	free(text);
	th_cluster_node_kill(&c, 1);
	text = wait_metrics(c.gws[0].base, one_down, 30000);
	if (text) {
		sum_samples(text, "sandboxd_process_open_fds{node=\"node-", &n);
		CHECK_INT(n, 1);
	}
	free(text);
	th_cluster_fini(&c);
}

/* With an API key set, /metrics wants it like every route: 401 without,
 * the figures with it. */
static void check_api_key(void)
{
	const char *const args[] = {"--api-key", "s3cret-key", NULL};
	const char *const auth[] = {"Authorization: Bearer s3cret-key", NULL};
	struct th_stack k;
	struct th_resp r = {0};

	if (th_stack_start(&k, "metrics-key", args) < 0)
		return;
	th_http(k.base, "GET", "/metrics", NULL, NULL, 30000, &r);
	CHECK_INT(r.status, 401);
	CHECK(strstr(r.body, "\"error\"") != NULL);
	th_http(k.base, "GET", "/metrics", NULL, auth, 30000, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(sample(r.body, "sandbox_gateway_daemon_up"), 1);
	th_resp_fini(&r);
	th_stack_stop(&k);
}

int main(void)
{
	char promtool[512], prometheus[512], file[512], *text = NULL, *dir;
	struct th_resp r = {0};

	th_require_sandboxes();
	if (!find_binary("promtool", promtool, sizeof(promtool)) ||
	    !find_binary("prometheus", prometheus, sizeof(prometheus)))
		SKIP("promtool or prometheus is not installed (Debian package prometheus, "
		     "scripts/deps.sh)");
	if (th_stack_start(&st, "metrics", NULL) < 0)
		TEST_DONE();
	dir = tl_tmpdir("metrics-prom");
	CHECK(dir != NULL);

	CHECK_INT(execute("print(42)", 10), 200);
	CHECK_INT(execute("import sys; sys.exit(3)", 10), 200);
	CHECK_INT(execute("while True: pass", 1), 200);
	th_http(st.base, "POST", "/api/v1/execute",
		"{\"language\": \"nosuchlanguage\", \"code\": \"1\"}", NULL, 30000, &r);
	CHECK_INT(r.status, 400);
	th_resp_fini(&r);
	th_http(st.base, "GET", "/no/such/route", NULL, NULL, 30000, &r);
	CHECK_INT(r.status, 404);
	th_resp_fini(&r);

	snprintf(file, sizeof(file), "%s/metrics.txt", dir ? dir : "/tmp");
	if (dir && scrape(file, &text)) {
		check_exposition(text);
		check_promtool(promtool, dir, file);
		check_prometheus(prometheus, dir);
	}
	free(text);
	th_stack_stop(&st);
	check_api_key();
	check_cluster();
	if (dir && !getenv("SBX_KEEP_TMP"))
		th_rmtree(dir);
	free(dir);
	TEST_DONE();
}
