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
#include "methods.h"
#include "testlib.h"

#define MAX_BODY (1 << 20)
#define REQUEST_TIMEOUT_MS 1500

static char *dir, rpc_url[256], events_url[256], state_dir[256], daemon_log[256], gw_log[256];
static char base[64], listen_arg[64];
static pid_t daemon_pid, gw_pid;

struct resp {
	long status;
	CURLcode code;
	char body[64 * 1024];
	size_t len;
	char headers[8192];
	size_t hlen;
};

struct upload {
	size_t left;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t take = size * n;

	if (take > sizeof(r->body) - 1 - r->len)
		take = sizeof(r->body) - 1 - r->len;
	memcpy(r->body + r->len, p, take);
	r->len += take;
	r->body[r->len] = '\0';
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t take = size * n;

	if (take > sizeof(r->headers) - 1 - r->hlen)
		take = sizeof(r->headers) - 1 - r->hlen;
	memcpy(r->headers + r->hlen, p, take);
	r->hlen += take;
	r->headers[r->hlen] = '\0';
	return size * n;
}

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t give = size * n < u->left ? size * n : u->left;

	memset(p, ' ', give);
	u->left -= give;
	return give;
}

enum { CHUNKED = 1 };

/* One request; body NULL for none. chunked_len > 0 streams that many bytes
 * without a Content-Length. */
static void http(const char *method, const char *path, const char *body, size_t chunked_len,
		 long timeout_ms, struct resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct upload up = {chunked_len};
	char url[2600];

	r->status = 0;
	r->code = CURLE_OK;
	r->len = r->hlen = 0;
	r->body[0] = r->headers[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms ? timeout_ms : 15000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	} else if (chunked_len) {
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	r->code = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* Value of header `name` of the final response, or NULL. */
static const char *header(const struct resp *r, const char *name, char *buf, size_t size)
{
	const char *p = r->headers, *last = NULL;
	size_t nl = strlen(name);

	/* Interim responses (100 Continue) come first: keep the last match. */
	for (; (p = strstr(p, "\n")); p++)
		if (strncasecmp(p + 1, name, nl) == 0 && p[1 + nl] == ':')
			last = p + 2 + nl;
	if (!last)
		return NULL;
	while (*last == ' ')
		last++;
	snprintf(buf, size, "%.*s", (int)strcspn(last, "\r\n"), last);
	return buf;
}

/* The body is {"error": "<non-empty sentence>"} served as JSON. */
static void check_error_body(const struct resp *r, const char *want)
{
	json_t *j = json_loads(r->body, 0, NULL);
	const char *e = json_string_value(json_object_get(j, "error"));
	char ct[128];

	CHECKF(e && *e && json_object_size(j) == 1, "body: %s", r->body);
	if (want && e)
		CHECK_STR(e, want);
	CHECK_STR(header(r, "Content-Type", ct, sizeof(ct)), "application/json");
	json_decref(j);
}

static void start_daemon(void)
{
	const char *args[] = {"--rpc",	     rpc_url,	"--events", events_url,
			      "--state-dir", state_dir, NULL};

	daemon_pid = th_spawn("sandboxd", args, daemon_log);
	CHECK(daemon_pid > 0);
}

static void start_gateway(void)
{
	char max_body[32], timeout[32];
	const char *args[] = {"--listen",	   listen_arg, "--rpc",	     rpc_url,
			      "--events",	   events_url, "--max-body", max_body,
			      "--request-timeout", timeout,    "--threads",  "2",
			      "--drain-timeout",   "5000",     NULL};

	snprintf(max_body, sizeof(max_body), "%d", MAX_BODY);
	snprintf(timeout, sizeof(timeout), "%d", REQUEST_TIMEOUT_MS);
	gw_pid = th_spawn("sandbox-gateway", args, gw_log);
	CHECK(gw_pid > 0);
}

/* Poll GET /health until it answers `status` (bounded). */
static bool wait_health(long status, int timeout_ms)
{
	long long until = sbx_clock_mono_ms() + timeout_ms;
	struct resp r;

	do {
		http("GET", "/health", NULL, 0, 1000, &r);
		if (r.code == CURLE_OK && r.status == status)
			return true;
		th_sleep_ms(50);
	} while (sbx_clock_mono_ms() < until);
	return false;
}

static void test_health(void)
{
	struct resp r;
	json_t *j;
	char ct[128];

	http("GET", "/health", NULL, 0, 0, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body,
		  "{\"status\":\"ok\",\"service\":\"sandbox-service\",\"version\":\"" SBX_VERSION
		  "\"}");
	CHECK_STR(header(&r, "Content-Type", ct, sizeof(ct)), "application/json");

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
}

static void test_errors(void)
{
	struct resp r;
	char big[2100], buf[128]; /* a path past the gateway's 2048 bytes */
	char *huge;

	http("GET", "/no/such/endpoint", NULL, 0, 0, &r);
	CHECK_INT(r.status, 404);
	check_error_body(&r, NULL);

	http("POST", "/health", "{}", 0, 0, &r);
	CHECK_INT(r.status, 405);
	check_error_body(&r, NULL);
	CHECK_STR(header(&r, "Allow", buf, sizeof(buf)), "GET, HEAD");
	http("DELETE", "/api/v1/config", NULL, 0, 0, &r);
	CHECK_INT(r.status, 405);
	CHECK_STR(header(&r, "Allow", buf, sizeof(buf)), "GET, HEAD");
	http("GET", "/run", NULL, 0, 0, &r);
	CHECK_INT(r.status, 405);
	CHECK_STR(header(&r, "Allow", buf, sizeof(buf)), "POST");

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
	struct resp *r = malloc(sizeof(*r));

	for (int i = 0; i < w->n; i++) {
		http("GET", w->path, NULL, 0, w->timeout_ms, r);
		w->last_status = r->status;
		if (r->status == 200)
			atomic_fetch_add(w->ok, 1);
	}
	free(r);
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
	struct resp r;

	CHECK(th_freeze(daemon_pid, 5000) == 0);
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
	kill(daemon_pid, SIGCONT);
	/* Its reply now comes back to a connection nobody reads. */
	th_sleep_ms(100);
	http("GET", "/health", NULL, 0, 0, &r);
	CHECK_INT(r.status, 200);
}

static void test_daemon_restart(void)
{
	long long until;
	struct resp r;
	char buf[32];
	int st;

	st = th_stop(daemon_pid, SIGTERM, 10000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon status %#x", st);
	until = sbx_clock_mono_ms() + 5000;
	do {
		http("GET", "/health", NULL, 0, 0, &r);
	} while (r.status != 503 && sbx_clock_mono_ms() < until);
	CHECK_INT(r.status, 503);
	check_error_body(&r, "sandbox daemon is unavailable");
	CHECK(header(&r, "Retry-After", buf, sizeof(buf)) != NULL);
	http("GET", "/api/v1/config", NULL, 0, 0, &r);
	CHECK_INT(r.status, 503);
	/* Errors that need no daemon still work. */
	http("GET", "/nope", NULL, 0, 0, &r);
	CHECK_INT(r.status, 404);

	start_daemon();
	CHECKF(wait_health(200, 10000), "the gateway did not reconnect to the restarted daemon");
	http("GET", "/api/v1/config", NULL, 0, 0, &r);
	CHECK_INT(r.status, 200);
}

/* SIGTERM: a request in flight still gets its answer, then exit 0. */
static void test_drain(void)
{
	struct worker w = {.path = "/health", .n = 1, .timeout_ms = 10000};
	atomic_int ok = 0;
	int st;

	w.ok = &ok;
	CHECK(th_freeze(daemon_pid, 5000) == 0);
	pthread_create(&w.t, NULL, work, &w);
	th_sleep_ms(300);
	kill(gw_pid, SIGTERM);
	th_sleep_ms(300);
	kill(daemon_pid, SIGCONT);
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

	snprintf(log, sizeof(log), "%s/cli.log", dir);
	CHECK_INT(run_gateway((const char *[]){"--help", NULL}, log), 0);
	CHECK_INT(run_gateway((const char *[]){"--version", NULL}, log), 0);
	CHECK_INT(run_gateway((const char *[]){"--threads", "0", NULL}, log), 2);
	CHECK_INT(run_gateway((const char *[]){"--listen", "nowhere", NULL}, log), 2);
	CHECK_INT(run_gateway((const char *[]){"--max-body", "-5", NULL}, log), 2);
	CHECK_INT(run_gateway((const char *[]){"--frobnicate", NULL}, log), 2);
	/* The port is taken by nobody, but the address is not ours. */
	CHECK_INT(run_gateway((const char *[]){"--listen", "192.0.2.1:1", "--rpc", rpc_url, NULL},
			      log),
		  1);
}

int main(void)
{
	int port = tl_free_port();

	dir = tl_tmpdir("sbx-gw-http");
	if (!dir || port < 0)
		SKIP("no temporary directory or free port");
	snprintf(rpc_url, sizeof(rpc_url), "ipc://%s/rpc.sock", dir);
	snprintf(events_url, sizeof(events_url), "ipc://%s/events.sock", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(daemon_log, sizeof(daemon_log), "%s/sandboxd.log", dir);
	snprintf(gw_log, sizeof(gw_log), "%s/gateway.log", dir);
	snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%d", port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	start_daemon();
	start_gateway();
	if (!wait_health(200, 15000)) {
		tl_fail(__FILE__, __LINE__, "wait_health", "the gateway never answered /health");
		th_dump_logs();
		th_rmtree(dir);
		return tl_done();
	}
	test_health();
	test_errors();
	test_concurrency();
	test_not_blocking();
	test_daemon_restart();
	test_drain();
	test_command_line();

	if (tl_failed)
		th_dump_logs();
	th_stop(daemon_pid, SIGTERM, 10000);
	curl_global_cleanup();
	if (!getenv("SBX_KEEP_TMP"))
		th_rmtree(dir);
	else
		printf("kept %s\n", dir);
	free(dir);
	TEST_DONE();
}
