/* The gateway's reverse proxy (gateway/proxy.h): the real sandbox-gateway
 * against a fake daemon answering OpenProxy and a small HTTP service on a
 * unix socket, both in this process (proxyfix.h). Paths, queries and
 * headers forwarded intact, hop-by-hop headers dropped, X-Forwarded-*
 * set, 50 MB up and down without the gateway's memory growing by as
 * much, and the errors: 404 from OpenProxy, 502 when it says the service is down (UNAVAILABLE), 502, 504. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "proxyfix.h"
#include "testlib.h"

#define BIG (50ull << 20)
#define PROXY_TIMEOUT_MS 1500
#define RSS_GROWTH_MAX_KB (30 << 10)

static char base[64];
static pid_t gw;
static struct pf_fixture *fx;

static bool has(const struct th_resp *r, const char *s)
{
	return r->body && strstr(r->body, s);
}

static bool has_header(const struct th_resp *r, const char *line)
{
	return strcasestr(r->headers, line) != NULL;
}

static void test_get_forwarded(void)
{
	const char *hdrs[] = {"X-Custom: hello",
			      "Proxy-Authorization: Basic eDp5",
			      "TE: trailers",
			      "Connection: keep-alive, X-Drop-Me",
			      "X-Drop-Me: 1",
			      "X-Forwarded-For: 203.0.113.9",
			      NULL};
	struct th_resp r = {0};
	char want[128], last[128];

	th_http(base, "GET", "/faas/dep1/echo/a%20b/c?x=1&y=two+words&z&e=%26", NULL, hdrs, 0, &r);
	CHECK_INT(r.status, 200);
	CHECKF(has(&r, "GET /echo/a%20b/c?x=1&y=two+words&z&e=%26 HTTP/1.1\r\n"), "body: %s",
	       r.body);
	snprintf(want, sizeof(want), "\r\nHost: %s\r\n", base + 7);
	CHECKF(has(&r, want), "client's Host kept: %s", r.body);
	snprintf(want, sizeof(want), "\r\nX-Forwarded-Host: %s\r\n", base + 7);
	CHECK(has(&r, want));
	CHECK(has(&r, "\r\nX-Custom: hello\r\n"));
	CHECK(has(&r, "\r\nX-Forwarded-For: 203.0.113.9, 127.0.0.1\r\n"));
	CHECK(has(&r, "\r\nX-Forwarded-Proto: http\r\n"));
	CHECK(has(&r, "\r\nX-Forwarded-Prefix: /faas/dep1\r\n"));
	CHECKF(!has(&r, "Proxy-Authorization") && !has(&r, "\r\nTE:") && !has(&r, "X-Drop-Me") &&
		       !has(&r, "\r\nConnection: keep-alive, X"),
	       "hop-by-hop headers reached the service: %s", r.body);
	CHECK(!has(&r, "Expect:"));
	CHECK(has_header(&r, "\nX-Backend: yes\r\n"));
	CHECK(has_header(&r, "\nSet-Cookie: a=1\r\n") && has_header(&r, "\nSet-Cookie: b=2\r\n"));
	CHECKF(!has_header(&r, "\nKeep-Alive:") && !has_header(&r, "\nX-Hop:"),
	       "hop-by-hop headers reached the client: %s", r.headers);
	pf_last_open(fx, last, sizeof(last));
	CHECKF(strcmp(last, "faas/dep1") == 0, "OpenProxy for %s", last);
	th_resp_fini(&r);

	/* No trailing slash: the service's root. */
	th_http(base, "GET", "/faas/dep1", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);
	th_resp_fini(&r);
	th_http(base, "GET", "/proxy/sbx9/echo", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);
	CHECK(has(&r, "GET /echo HTTP/1.1\r\n"));
	CHECK(has(&r, "\r\nX-Forwarded-Prefix: /proxy/sbx9\r\n"));
	pf_last_open(fx, last, sizeof(last));
	CHECKF(strcmp(last, "proxy/sbx9") == 0, "OpenProxy for %s", last);
	th_resp_fini(&r);
	th_http(base, "GET", "/proxy/sbx9?q=1", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body, "ok");
	th_resp_fini(&r);

	/* Status, methods and a small body pass through. */
	th_http(base, "GET", "/faas/dep1/status/418", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 418);
	CHECK_STR(r.body, "status");
	th_resp_fini(&r);
	th_http(base, "DELETE", "/faas/dep1/echo", NULL, NULL, 0, &r);
	CHECK(r.status == 200 && has(&r, "DELETE /echo HTTP/1.1\r\n"));
	th_resp_fini(&r);
	th_http(base, "PATCH", "/faas/dep1/echo", "{\"a\":1}", NULL, 0, &r);
	CHECK(r.status == 200 && has(&r, "PATCH /echo HTTP/1.1\r\n") &&
	      has(&r, "\r\nContent-Length: 7\r\n"));
	th_resp_fini(&r);
	th_http(base, "HEAD", "/faas/dep1/download?n=1000", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);
	th_resp_fini(&r);
}

struct big {
	uint64_t left, n, sum;
};

static size_t big_read(char *p, size_t size, size_t n, void *arg)
{
	struct big *b = arg;
	size_t k = size * n < b->left ? size * n : (size_t)b->left;

	for (size_t i = 0; i < k; i++)
		p[i] = (char)pf_byte(b->n + i);
	b->sum = pf_sum(b->sum, p, k);
	b->n += k;
	b->left -= k;
	return k;
}

static size_t big_write(char *p, size_t size, size_t n, void *arg)
{
	struct big *b = arg;

	b->sum = pf_sum(b->sum, p, size * n);
	b->n += size * n;
	return size * n;
}

static size_t small_write(char *p, size_t size, size_t n, void *arg)
{
	struct th_resp *r = arg;

	if (r->len + size * n < 256) {
		memcpy(r->headers + r->len, p, size * n);
		r->len += size * n;
		r->headers[r->len] = 0;
	}
	return size * n;
}

/* POST len bytes (chunked: without a Content-Length) to path. */
static long upload(const char *path, uint64_t len, bool chunked, char *answer, size_t size)
{
	struct big b = {.left = len};
	struct curl_slist *h = NULL;
	struct th_resp r = {0};
	char url[256], want[128];
	CURL *c = curl_easy_init();
	long status = 0;

	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, big_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &b);
	if (chunked)
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
	else
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, small_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	{
		size_t n = strnlen(r.headers, size - 1);

		memcpy(answer, r.headers, n);
		answer[n] = '\0';
	}
	snprintf(want, sizeof(want), "bytes=%llu sum=%llx", (unsigned long long)b.n,
		 (unsigned long long)b.sum);
	if (status == 200)
		CHECKF(strcmp(r.headers, want) == 0, "service got '%s', sent '%s'", r.headers,
		       want);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

static void test_big(void)
{
	long before = th_proc_status_kb(gw, "VmHWM"), after;
	struct big b = {0}, want = {0};
	char url[256], answer[256];
	long status = 0;
	CURL *c;

	CHECK_INT(upload("/faas/dep1/upload", BIG, false, answer, sizeof(answer)), 200);
	CHECK_INT(upload("/faas/dep1/upload", 5u << 20, true, answer, sizeof(answer)), 200);

	c = curl_easy_init();
	snprintf(url, sizeof(url), "%s/faas/dep1/download?n=%llu", base, (unsigned long long)BIG);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, big_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
	CHECK(curl_easy_perform(c) == CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	CHECK_INT(status, 200);
	CHECK_INT(b.n, BIG);
	for (uint64_t i = 0; i < BIG; i += 4096) {
		unsigned char blk[4096];

		for (size_t j = 0; j < sizeof(blk); j++)
			blk[j] = pf_byte(i + j);
		want.sum = pf_sum(want.sum, blk, sizeof(blk));
	}
	CHECKF(b.sum == want.sum, "download checksum %llx, want %llx", (unsigned long long)b.sum,
	       (unsigned long long)want.sum);

	after = th_proc_status_kb(gw, "VmHWM");
	printf("gateway VmHWM: %ld kB before, %ld kB after 50 MB up and 50 MB down\n", before,
	       after);
	CHECKF(before > 0 && after - before < RSS_GROWTH_MAX_KB, "VmHWM grew by %ld kB",
	       after - before);
}

/* Proxied answers keep the client's connection (no "Connection: close"
 * from answering before the final call), also error answers. */
static void test_keepalive(void)
{
	const char *paths[] = {"/faas/dep1/", "/faas/dep1/echo", "/faas/missing/", "/faas/dep1/x"};
	CURL *c = curl_easy_init();
	char url[256];

	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, big_write);
	for (size_t i = 0; i < SBX_ARRAY_SIZE(paths); i++) {
		struct big b = {0};
		long conns = -1;

		snprintf(url, sizeof(url), "%s%s", base, paths[i]);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		CHECK(curl_easy_perform(c) == CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
		CHECKF(conns == (i == 0), "%s: %ld new connections", paths[i], conns);
	}
	curl_easy_cleanup(c);
}

/* Many proxied transfers at once, each checked: small GETs, 1 MiB up and
 * down, errors. */
#define CONC_THREADS 16
#define CONC_ROUNDS 12
static atomic_int conc_bad;

static void *conc_main(void *arg)
{
	long id = (long)arg;
	CURL *c = curl_easy_init();
	struct th_resp *r = calloc(1, sizeof(*r));
	uint64_t want_sum = 0;
	char answer[128];

	for (uint64_t k = 0; k < 1u << 20; k++) {
		unsigned char byte = pf_byte(k);

		want_sum = pf_sum(want_sum, &byte, 1);
	}

	for (int i = 0; i < CONC_ROUNDS; i++) {
		struct big b = {0};
		char url[256];
		long status = 0, expect = 200;
		CURLcode rc;
		int kind = (int)((id + i) % 4);

		curl_easy_reset(c);
		if (kind == 0) {
			snprintf(url, sizeof(url), "%s/faas/dep%ld/echo", base, id);
		} else if (kind == 1) {
			snprintf(url, sizeof(url), "%s/faas/dep%ld/download?n=%u", base, id,
				 1u << 20);
		} else if (kind == 2) {
			snprintf(url, sizeof(url), "%s/faas/dep%ld/upload", base, id);
			b.left = 1u << 20;
			curl_easy_setopt(c, CURLOPT_POST, 1L);
			curl_easy_setopt(c, CURLOPT_READFUNCTION, big_read);
			curl_easy_setopt(c, CURLOPT_READDATA, &b);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b.left);
		} else {
			snprintf(url, sizeof(url), "%s/faas/missing/x", base);
			expect = 404;
		}
		curl_easy_setopt(c, CURLOPT_URL, url);
		if (kind == 2) {
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, small_write);
			curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
		} else {
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, big_write);
			curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		}
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
		r->len = 0;
		r->headers[0] = 0;
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		snprintf(answer, sizeof(answer), "bytes=%llu sum=%llx", (unsigned long long)b.n,
			 (unsigned long long)b.sum);
		if (rc != CURLE_OK || status != expect || (kind == 1 && b.n != 1u << 20) ||
		    (kind == 1 && b.sum != want_sum) ||
		    (kind == 2 && strcmp(r->headers, answer) != 0)) {
			fprintf(stderr, "concurrent %s: %s, status %ld, %llu bytes\n", url,
				curl_easy_strerror(rc), status, (unsigned long long)b.n);
			atomic_fetch_add(&conc_bad, 1);
		}
	}
	free(r);
	curl_easy_cleanup(c);
	return NULL;
}

static void test_concurrent(void)
{
	pthread_t t[CONC_THREADS];

	for (long i = 0; i < CONC_THREADS; i++)
		pthread_create(&t[i], NULL, conc_main, (void *)i);
	for (int i = 0; i < CONC_THREADS; i++)
		pthread_join(t[i], NULL);
	CHECKF(atomic_load(&conc_bad) == 0, "%d of %d concurrent transfers failed",
	       atomic_load(&conc_bad), CONC_THREADS * CONC_ROUNDS);
}

static void test_errors(void)
{
	struct th_resp r = {0};
	char answer[256];
	long long t0;

	th_http(base, "GET", "/faas/missing/", NULL, NULL, 0, &r);
	th_check_error(&r, 404, "not found");
	th_resp_fini(&r);
	th_http(base, "GET", "/faas/down/x", NULL, NULL, 0, &r);
	th_check_error(&r, 502, "not running");
	th_resp_fini(&r);
	th_http(base, "GET", "/faas/nolisten/", NULL, NULL, 0, &r);
	th_check_error(&r, 502, NULL);
	th_resp_fini(&r);

	t0 = sbx_clock_mono_ms();
	th_http(base, "GET", "/proxy/hang/", NULL, NULL, 0, &r);
	th_check_error(&r, 504, NULL);
	CHECKF(sbx_clock_mono_ms() - t0 < PROXY_TIMEOUT_MS + 3000, "504 after %lld ms",
	       sbx_clock_mono_ms() - t0);
	th_resp_fini(&r);

	/* The service fails while the body is still streaming. */
	CHECK_INT(upload("/faas/nolisten/upload", 20u << 20, false, answer, sizeof(answer)), 502);
	CHECK_INT(upload("/faas/missing/upload", 20u << 20, false, answer, sizeof(answer)), 404);
	upload("/faas/dep1/close", 20u << 20, false, answer, sizeof(answer));
	t0 = sbx_clock_mono_ms();
	upload("/faas/hang/upload", 2u << 20, true, answer, sizeof(answer));
	CHECKF(sbx_clock_mono_ms() - t0 < 30000, "an upload to a hung service took %lld ms",
	       sbx_clock_mono_ms() - t0);

	/* A service that stalls mid-response: cut after the proxy timeout. */
	{
		CURL *c = curl_easy_init();
		struct big b = {0};
		char url[256];
		CURLcode rc;

		snprintf(url, sizeof(url), "%s/faas/dep1/stall", base);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, big_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
		t0 = sbx_clock_mono_ms();
		rc = curl_easy_perform(c);
		CHECKF(rc != CURLE_OK && rc != CURLE_OPERATION_TIMEDOUT && b.n == 1u << 20,
		       "a stalled response: %s after %llu bytes", curl_easy_strerror(rc),
		       (unsigned long long)b.n);
		CHECKF(sbx_clock_mono_ms() - t0 < PROXY_TIMEOUT_MS + 2500, "cut after %lld ms",
		       sbx_clock_mono_ms() - t0);
		curl_easy_cleanup(c);
	}

	/* Clients that leave mid-download, mid-upload and while waiting. */
	for (int i = 0; i < 8; i++) {
		CURL *c = curl_easy_init();
		struct big b = {0};
		char url[256];

		snprintf(url, sizeof(url), "%s%s", base,
			 i % 2 ? "/faas/dep1/download?n=52428800" : "/proxy/hang/");
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, big_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, i % 2 ? 30L : 200L);
		curl_easy_perform(c);
		curl_easy_cleanup(c);
	}
	{
		CURL *c = curl_easy_init();
		struct big b = {.left = 50u << 20};
		char url[256];

		snprintf(url, sizeof(url), "%s/faas/dep1/upload", base);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, big_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &b);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(50u << 20));
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 100L);
		curl_easy_perform(c);
		curl_easy_cleanup(c);
	}

	/* Still serving. */
	th_http(base, "GET", "/faas/dep1/", NULL, NULL, 0, &r);
	CHECK_INT(r.status, 200);
	th_resp_fini(&r);
}

int main(void)
{
	char *dir = tl_tmpdir("sbx-proxy");
	char listen[64], timeout[16];
	int port = tl_free_port(), st;
	struct th_resp r = {0};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	fx = pf_start(dir);
	if (!fx) {
		CHECK(!"fixture started");
		TEST_DONE();
	}
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	snprintf(timeout, sizeof(timeout), "%d", PROXY_TIMEOUT_MS);
	{
		char log[300], events[300];
		const char *args[] = {"--listen",	 listen,     "--rpc",
				      pf_rpc_url(fx),	 "--events", events,
				      "--proxy-timeout", timeout,    NULL};

		snprintf(log, sizeof(log), "%s/gateway.log", dir);
		snprintf(events, sizeof(events), "ipc://%s/events.sock", dir);
		gw = th_spawn("sandbox-gateway", args, log);
	}
	CHECK(gw > 0);
	for (long long until = sbx_clock_mono_ms() + 20000;
	     gw > 0 && sbx_clock_mono_ms() < until;) {
		th_resp_fini(&r);
		memset(&r, 0, sizeof(r));
		th_http(base, "GET", "/faas/dep1/", NULL, NULL, 1000, &r);
		if (r.status == 200)
			break;
		th_sleep_ms(50);
	}
	CHECKF(r.status == 200, "the gateway did not come up: %ld", r.status);
	th_resp_fini(&r);
	if (r.status == 200 || gw > 0) {
		test_get_forwarded();
		test_keepalive();
		test_big();
		test_concurrent();
		test_errors();
	}
	if (gw > 0) {
		st = th_stop(gw, SIGTERM, 15000);
		CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "gateway exit status %#x", st);
	}
	if (tl_failed)
		th_dump_logs();
	pf_stop(fx);
	th_rmtree(dir);
	free(dir);
	curl_global_cleanup();
	TEST_DONE();
}
