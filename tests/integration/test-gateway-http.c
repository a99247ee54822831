/* The real sandboxd and sandbox-gateway on temporary ipc sockets and a free
 * loopback port, driven with libcurl: documented bodies, every error path
 * (404, 405 + Allow, 400, 413, 503, 504), concurrency, RPCs that do not
 * block HTTP threads, clients leaving mid-RPC, daemon restart, draining
 * on SIGTERM, and the command line. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "methods.h"
#include "testlib.h"

#define MAX_BODY (1 << 20)
#define REQUEST_TIMEOUT_MS 1500

static struct th_daemon d;
static char base[64], listen_arg[64];
static pid_t gw_pid;

/* One request; body NULL for none. chunked_len > 0 streams that many bytes
 * without a Content-Length. Paths go as written ("/../"), and a body is
 * kept up to 64 KiB. */
static void http(const char *method, const char *path, const char *body, size_t chunked_len,
		 long timeout_ms, struct th_resp *r)
{
	th_request(&(struct th_req){.base = base,
				    .method = method,
				    .path = path,
				    .body = body,
				    .chunked_len = chunked_len,
				    .timeout_ms = timeout_ms ? timeout_ms : 15000,
				    .path_as_is = true,
				    .max_body = 64 * 1024 - 1},
		   r);
}

/* The body is {"error": "<non-empty sentence>"} served as JSON. */
static void check_error_body(const struct th_resp *r, const char *want)
{
	json_t *j = json_loads(r->body, 0, NULL);
	const char *e = json_string_value(json_object_get(j, "error"));
	char ct[128];

	CHECKF(e && *e && json_object_size(j) == 1, "body: %s", r->body);
	if (want && e)
		CHECK_STR(e, want);
	CHECK_STR(th_header(r, "Content-Type", ct, sizeof(ct)), "application/json");
	json_decref(j);
}

static void start_gateway(void)
{
	char max_body[32], timeout[32], gw_log[340];
	const char *args[] = {"--listen",	   listen_arg, "--rpc",	     d.rpc,
			      "--events",	   d.events,   "--max-body", max_body,
			      "--request-timeout", timeout,    "--threads",  "2",
			      "--drain-timeout",   "5000",     NULL};

	snprintf(gw_log, sizeof(gw_log), "%s/gateway.log", d.dir);
	snprintf(max_body, sizeof(max_body), "%d", MAX_BODY);
	snprintf(timeout, sizeof(timeout), "%d", REQUEST_TIMEOUT_MS);
	gw_pid = th_spawn("sandbox-gateway", args, gw_log);
	CHECK(gw_pid > 0);
}

static void test_health(void)
{
	struct th_resp r = {0};
	json_t *j;
	char ct[128];

	http("GET", "/health", NULL, 0, 0, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body,
		  "{\"status\":\"ok\",\"service\":\"sandbox-service\",\"version\":\"" SBX_VERSION
		  "\"}");
	CHECK_STR(th_header(&r, "Content-Type", ct, sizeof(ct)), "application/json");

	/* HEAD: same status, no body. */
	http("HEAD", "/health", NULL, 0, 0, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.len, 0);
	/* Unknown query parameters are ignored; a trailing slash too. */
	http("GET", "/health/?verbose=1&x", NULL, 0, 0, &r);
	CHECKF(r.status == 200, "%ld %s", r.status, r.body);

	http("GET", "/api/v1/health", NULL, 0, 0, &r);
	CHECK_INT(r.status, 200);
	j = json_loads(r.body, 0, NULL);
	CHECKF(json_object_size(j) == 4, "%s", r.body);
	/* The executor spells the daemon's "ok" as "healthy" (an alias on a
	 * string field), and the keys come in the dialect's order. */
	CHECK_STR(json_string_value(json_object_get(j, "status")), "healthy");
	CHECKF(strncmp(r.body, "{\"status\":\"healthy\",\"version\":", 30) == 0, "%s", r.body);
	CHECK_STR(json_string_value(json_object_get(j, "version")), SBX_VERSION);
	CHECK(json_is_integer(json_object_get(j, "uptime_seconds")));
	CHECK(json_integer_value(json_object_get(j, "uptime_seconds")) >= 0);
	CHECK(json_is_string(json_object_get(j, "backend")));
	json_decref(j);

	http("GET", "/api/v1/config", NULL, 0, 0, &r);
	CHECK_INT(r.status, 200);
	j = json_loads(r.body, 0, NULL);
	CHECKF(json_is_object(j), "%s", r.body);
	CHECK(json_is_string(json_object_get(j, "backend")));
	CHECK(json_is_string(json_object_get(j, "network_mode")));
	CHECK(json_is_integer(json_object_get(j, "max_concurrent_executions")));
	CHECK(json_is_boolean(json_object_get(j, "enable_audit_log")));
	CHECK(json_is_array(json_object_get(j, "languages")));
	json_decref(j);
	th_resp_fini(&r);
}

static void test_errors(void)
{
	struct th_resp r = {0};
	char big[2100], buf[128]; /* a path past the gateway's 2048 bytes */
	char *huge;

	http("GET", "/no/such/endpoint", NULL, 0, 0, &r);
	CHECK_INT(r.status, 404);
	check_error_body(&r, NULL);

	http("POST", "/health", "{}", 0, 0, &r);
	CHECK_INT(r.status, 405);
	check_error_body(&r, NULL);
	CHECK_STR(th_header(&r, "Allow", buf, sizeof(buf)), "GET, HEAD");
	http("DELETE", "/api/v1/config", NULL, 0, 0, &r);
	CHECK_INT(r.status, 405);
	CHECK_STR(th_header(&r, "Allow", buf, sizeof(buf)), "GET, HEAD");
	http("GET", "/run", NULL, 0, 0, &r);
	CHECK_INT(r.status, 405);
	CHECK_STR(th_header(&r, "Allow", buf, sizeof(buf)), "POST");

	/* Traversal is refused, not resolved to /health. */
	http("GET", "/sandbox/../health", NULL, 0, 0, &r);
	CHECK_INT(r.status, 400);
	check_error_body(&r, NULL);
	http("GET", "/api/v1/%2e%2e/health", NULL, 0, 0, &r);
	CHECK_INT(r.status, 400);
	http("GET", "/heal%zzth", NULL, 0, 0, &r);
	CHECK_INT(r.status, 400);

	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	http("GET", big, NULL, 0, 0, &r);
	CHECK_INT(r.status, 414);

	/* Malformed JSON, and JSON of the wrong types (the mapper's sentence). */
	http("POST", "/run", "{\"command\": [\"/bin/true\"", 0, 0, &r);
	CHECK_INT(r.status, 400);
	check_error_body(&r, NULL);
	CHECKF(strstr(r.body, "not valid JSON") != NULL, "%s", r.body);
	http("POST", "/run", "[1, 2", 0, 0, &r);
	CHECK_INT(r.status, 400);
	http("POST", "/run", "{\"command\": 5}", 0, 0, &r);
	if (sbx_method_find("Run")) {
		CHECKF(r.status == 400, "%ld %s", r.status, r.body);
		check_error_body(&r, NULL);
	} else {
		CHECKF(r.status == 501, "%ld %s", r.status, r.body);
	}
	http("POST", "/api/v1/execute", "{\"code\": 1, \"code\": 2}", 0, 0, &r);
	CHECK_INT(r.status, 400);

	/* Too large: refused from Content-Length before the body is read... */
	huge = malloc(MAX_BODY * 2 + 1);
	memset(huge, ' ', MAX_BODY * 2);
	huge[0] = '{';
	huge[MAX_BODY * 2 - 1] = '}';
	huge[MAX_BODY * 2] = '\0';
	http("POST", "/run", huge, 0, 0, &r);
	CHECKF(r.status == 413, "%ld curl %d", r.status, r.code);
	check_error_body(&r, NULL);
	/* ...at the limit it is accepted (and then checked)... */
	huge[MAX_BODY - 1] = '}';
	huge[MAX_BODY] = '\0';
	http("POST", "/run", huge, 0, 0, &r);
	CHECKF(r.status != 413 && r.status >= 400, "%ld %s", r.status, r.body);
	free(huge);
	/* ...and without a Content-Length it is counted as it arrives. */
	http("POST", "/run", NULL, MAX_BODY + MAX_BODY / 2, 0, &r);
	CHECKF(r.status == 413, "%ld curl %d", r.status, r.code);
	http("POST", "/run", NULL, 8 * MAX_BODY, 0, &r);
	CHECKF(r.status == 413 || r.code != CURLE_OK, "%ld curl %d", r.status, r.code);

	/* The gateway still serves after all that. */
	http("GET", "/health", NULL, 0, 0, &r);
	CHECK_INT(r.status, 200);
	th_resp_fini(&r);
}

struct worker {
	pthread_t t;
	const char *path;
	long timeout_ms;
	int n;
	atomic_int *ok;
	long last_status;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct th_resp r = {0};

	for (int i = 0; i < w->n; i++) {
		http("GET", w->path, NULL, 0, w->timeout_ms, &r);
		w->last_status = r.status;
		if (r.status == 200)
			atomic_fetch_add(w->ok, 1);
		th_resp_fini(&r);
	}
	return NULL;
}

static void test_concurrency(void)
{
	struct worker w[32];
	atomic_int ok = 0;

	for (int i = 0; i < 32; i++) {
		w[i] = (struct worker){
			.path = i % 2 ? "/health" : "/api/v1/config", .n = 4, .ok = &ok};
		pthread_create(&w[i].t, NULL, work, &w[i]);
	}
	for (int i = 0; i < 32; i++)
		pthread_join(w[i].t, NULL);
	CHECK_INT(atomic_load(&ok), 32 * 4);
}

/* With the daemon frozen, RPCs wait in suspended connections: the two
 * HTTP threads keep serving, calls time out with 504, and a client that
 * leaves mid-call does no harm when its reply arrives later. */
static void test_not_blocking(void)
{
	struct worker w[8], quitter = {.path = "/api/v1/health", .timeout_ms = 300, .n = 1};
	atomic_int ok = 0;
	long long t0;
	struct th_resp r = {0};

	CHECK(th_freeze(d.pid, 5000) == 0);
	quitter.ok = &ok;
	pthread_create(&quitter.t, NULL, work, &quitter);
	/* /api/v1/health: /health may be answered from the gateway's cache. */
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){.path = "/api/v1/health", .n = 1, .ok = &ok};
		pthread_create(&w[i].t, NULL, work, &w[i]);
	}
	th_sleep_ms(200);
	t0 = sbx_clock_mono_ms();
	http("GET", "/nope", NULL, 0, 0, &r);
	CHECK_INT(r.status, 404);
	CHECKF(sbx_clock_mono_ms() - t0 < 1000, "404 took %lld ms", sbx_clock_mono_ms() - t0);
	for (int i = 0; i < 8; i++) {
		pthread_join(w[i].t, NULL);
		CHECK_INT(w[i].last_status, 504);
	}
	pthread_join(quitter.t, NULL);
	CHECK_INT(quitter.last_status, 0);
	CHECK_INT(atomic_load(&ok), 0);

	/* A call in flight when its client goes away, answered afterwards. */
	quitter.last_status = -1;
	quitter.timeout_ms = 200;
	pthread_create(&quitter.t, NULL, work, &quitter);
	pthread_join(quitter.t, NULL);
	CHECK_INT(quitter.last_status, 0);
	kill(d.pid, SIGCONT);
	/* Its reply now comes back to a connection nobody reads. */
	th_sleep_ms(100);
	http("GET", "/health", NULL, 0, 0, &r);
	CHECK_INT(r.status, 200);
	th_resp_fini(&r);
}

static void test_daemon_restart(void)
{
	long long until;
	struct th_resp r = {0};
	char buf[32];
	int st;

	st = th_stop(d.pid, SIGTERM, 10000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon status %#x", st);
	until = sbx_clock_mono_ms() + 5000;
	do {
		http("GET", "/health", NULL, 0, 0, &r);
	} while (r.status != 503 && sbx_clock_mono_ms() < until);
	CHECK_INT(r.status, 503);
	check_error_body(&r, "sandbox daemon is unavailable");
	CHECK(th_header(&r, "Retry-After", buf, sizeof(buf)) != NULL);
	http("GET", "/api/v1/config", NULL, 0, 0, &r);
	CHECK_INT(r.status, 503);
	/* Errors that need no daemon still work. */
	http("GET", "/nope", NULL, 0, 0, &r);
	CHECK_INT(r.status, 404);

	CHECK(th_daemon_start(&d, NULL) > 0);
	CHECKF(th_wait_http(base, "/health", 200, 10000),
	       "the gateway did not reconnect to the restarted daemon");
	http("GET", "/api/v1/config", NULL, 0, 0, &r);
	CHECK_INT(r.status, 200);
	th_resp_fini(&r);
}

/* SIGTERM: a request in flight still gets its answer, then exit 0. */
static void test_drain(void)
{
	struct worker w = {.path = "/health", .n = 1, .timeout_ms = 10000};
	atomic_int ok = 0;
	int st;

	w.ok = &ok;
	CHECK(th_freeze(d.pid, 5000) == 0);
	pthread_create(&w.t, NULL, work, &w);
	th_sleep_ms(300);
	kill(gw_pid, SIGTERM);
	th_sleep_ms(300);
	kill(d.pid, SIGCONT);
	pthread_join(w.t, NULL);
	CHECKF(w.last_status == 200, "in-flight request got %ld", w.last_status);
	st = th_stop(gw_pid, SIGTERM, 10000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "gateway status %#x", st);
}

static int run_gateway(const char *const args[], const char *log)
{
	pid_t pid = th_spawn("sandbox-gateway", args, log);
	int st = -1;

	if (pid < 0 || th_wait(pid, 10000, &st) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_command_line(void)
{
	char log[300];

	snprintf(log, sizeof(log), "%s/cli.log", d.dir);
	CHECK_INT(run_gateway((const char *[]){"--help", NULL}, log), 0);
	CHECK_INT(run_gateway((const char *[]){"--version", NULL}, log), 0);
	CHECK_INT(run_gateway((const char *[]){"--threads", "0", NULL}, log), 2);
	CHECK_INT(run_gateway((const char *[]){"--listen", "nowhere", NULL}, log), 2);
	CHECK_INT(run_gateway((const char *[]){"--max-body", "-5", NULL}, log), 2);
	CHECK_INT(run_gateway((const char *[]){"--frobnicate", NULL}, log), 2);
	/* The port is taken by nobody, but the address is not ours. */
	CHECK_INT(
		run_gateway((const char *[]){"--listen", "192.0.2.1:1", "--rpc", d.rpc, NULL}, log),
		1);
}

int main(void)
{
	int port = tl_free_port();

	if (th_daemon_init(&d, "sbx-gw-http") < 0 || port < 0)
		SKIP("no temporary directory or free port");
	snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%d", port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	CHECK(th_daemon_start(&d, NULL) > 0);
	start_gateway();
	if (!th_wait_http(base, "/health", 200, 15000)) {
		tl_fail(__FILE__, __LINE__, "wait_health", "the gateway never answered /health");
		th_daemon_fini(&d);
		return tl_done();
	}
	test_health();
	test_errors();
	test_concurrency();
	test_not_blocking();
	test_daemon_restart();
	test_drain();
	test_command_line();

	th_daemon_stop(&d, 10000);
	curl_global_cleanup();
	th_daemon_fini(&d);
	TEST_DONE();
}
