/* POST /admin/api/test (sandbox-service-API.md, "Test API Endpoint")
 * through the real sandbox-gateway and sandboxd: the seed's example, a
 * sandbox created, read and deleted through it with a body and headers,
 * inner statuses reported inside a 200, every bad input refused with 400,
 * concurrent requests on a gateway of two HTTP threads (the inner request
 * must not wait for the thread its outer request holds), the client's API
 * key forwarded, and the rate limit spent once, by the caller. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

#define REPLY_SHAPE "status:i headers:o body:s duration_ms:n"
#define N_CONCURRENT 12

static struct th_stack st;

static const char *jstr(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
}

/* POST /admin/api/test with `request` from base, with outer headers; the
 * 200 reply (caller decrefs) or NULL. */
static json_t *test_call(const char *base, const char *request, const char *const *headers)
{
	struct th_resp r = {0};
	json_t *j;

	th_http(base, "POST", "/admin/api/test", request, headers, 0, &r);
	j = th_check_reply(&r, REPLY_SHAPE);
	if (!j)
		printf("  (request %s)\n", request);
	th_resp_fini(&r);
	return j;
}

static long inner_status(const json_t *j)
{
	return (long)json_integer_value(json_object_get(j, "status"));
}

/* The seed's example. */
static void test_health(void)
{
	json_t *j = test_call(st.base, "{\"method\": \"GET\", \"path\": \"/health\"}", NULL);
	json_t *h, *body;

	if (!j)
		return;
	CHECK_INT(inner_status(j), 200);
	h = json_object_get(j, "headers");
	CHECK_STR(jstr(h, "content-type"), "application/json");
	CHECK(strstr(jstr(j, "body"), "\"status\"") != NULL);
	body = json_loads(jstr(j, "body"), 0, NULL);
	CHECK_STR(jstr(body, "status"), "ok");
	json_decref(body);
	CHECK(json_number_value(json_object_get(j, "duration_ms")) >= 0);
	CHECK(json_object_get(j, "truncated") == NULL);
	json_decref(j);
}

/* POST with a body and headers, then GET and DELETE, all through the test
 * endpoint; the sandbox is really gone afterwards. */
static void test_sandbox_round_trip(void)
{
	char req[512], path[128];
	struct th_resp r = {0};
	json_t *j, *sb;
	const char *id;

	j = test_call(
		st.base,
		"{\"method\": \"POST\", \"path\": \"/sandbox\", \"headers\": "
		"{\"Content-Type\": \"application/json\", \"X-Trace\": \"t1\", \"X-Empty\": \"\"}, "
		"\"body\": \"{\\\"runtime\\\": \\\"node\\\", \\\"code\\\": "
		"\\\"console.log(1)\\\"}\"}",
		NULL);
	if (!j)
		return;
	CHECKF(inner_status(j) == 200, "POST /sandbox: %ld %s", inner_status(j), jstr(j, "body"));
	sb = json_loads(jstr(j, "body"), 0, NULL);
	json_decref(j);
	id = jstr(sb, "id");
	CHECK(*id);
	CHECK_STR(jstr(sb, "runtime"), "node");
	if (!*id)
		goto out;

	snprintf(req, sizeof(req), "{\"method\": \"GET\", \"path\": \"/sandbox/%s\"}", id);
	j = test_call(st.base, req, NULL);
	if (j) {
		json_t *got = json_loads(jstr(j, "body"), 0, NULL);

		CHECK_INT(inner_status(j), 200);
		CHECK_STR(jstr(got, "id"), id);
		json_decref(got);
	}
	json_decref(j);

	/* The body alone, without a Content-Type: the gateway adds one. */
	snprintf(req, sizeof(req), "{\"method\": \"DELETE\", \"path\": \"/sandbox/%s\"}", id);
	j = test_call(st.base, req, NULL);
	if (j) {
		CHECK_INT(inner_status(j), 204);
		CHECK_STR(jstr(j, "body"), "");
	}
	json_decref(j);
	snprintf(path, sizeof(path), "/sandbox/%s", id);
	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	CHECK_INT(r.status, 404);
	th_resp_fini(&r);
out:
	json_decref(sb);
}

/* Whatever the gateway answers is reported, not turned into an error. */
static void test_inner_statuses(void)
{
	static const struct {
		const char *request;
		long status;
		const char *in_body;
	} cases[] = {
		{"{\"method\": \"GET\", \"path\": \"/no/such/endpoint\"}", 404, "no endpoint"},
		{"{\"method\": \"PATCH\", \"path\": \"/health\"}", 405, "not allowed"},
		{"{\"method\": \"GET\", \"path\": \"/sandbox/../health\"}", 400, "'..'"},
		{"{\"method\": \"GET\", \"path\": "
		 "\"/sandbox/00000000-0000-4000-8000-000000000000\"}",
		 404, "not found"},
		{"{\"method\": \"POST\", \"path\": \"/sandbox\", \"body\": \"{not json\"}", 400,
		 "not valid JSON"},
		{"{\"method\": \"GET\", \"path\": \"/admin/api/logs?lines=2\"}", 200, "["},
		{"{\"method\": \"PUT\", \"path\": \"/admin/api/test\\u0041\"}", 404, "no endpoint"},
	};

	for (size_t i = 0; i < SBX_ARRAY_SIZE(cases); i++) {
		json_t *j = test_call(st.base, cases[i].request, NULL);

		if (!j)
			continue;
		CHECKF(inner_status(j) == cases[i].status, "%s: inner %ld, want %ld",
		       cases[i].request, inner_status(j), cases[i].status);
		CHECKF(strstr(jstr(j, "body"), cases[i].in_body) != NULL, "%s: body %s",
		       cases[i].request, jstr(j, "body"));
		json_decref(j);
	}
}

/* A body over 1 KiB goes in one piece (no Expect: 100-continue wait). */
static void test_large_body(void)
{
	size_t n = 64 * 1024;
	_cleanup_free_ char *code = malloc(n + 1), *req = NULL;
	json_t *in, *j;

	if (!code)
		return;
	memset(code, ' ', n);
	memcpy(code, "console.log(2)", 14);
	code[n] = '\0';
	in = json_pack("{s:s, s:s, s:s++}", "method", "POST", "path", "/sandbox", "body",
		       "{\"runtime\": \"node\", \"code\": \"", code, "\"}");
	req = json_dumps(in, JSON_COMPACT);
	json_decref(in);
	j = req ? test_call(st.base, req, NULL) : NULL;
	if (j) {
		json_t *sb = json_loads(jstr(j, "body"), 0, NULL);
		char del[256];

		CHECKF(inner_status(j) == 200, "large POST /sandbox: %ld %s", inner_status(j),
		       jstr(j, "body"));
		CHECKF(json_number_value(json_object_get(j, "duration_ms")) < 900,
		       "large body took %g ms",
		       json_number_value(json_object_get(j, "duration_ms")));
		snprintf(del, sizeof(del), "{\"method\": \"DELETE\", \"path\": \"/sandbox/%s\"}",
			 jstr(sb, "id"));
		json_decref(test_call(st.base, del, NULL));
		json_decref(sb);
	}
	json_decref(j);
}

static void test_bad_requests(void)
{
	static const struct {
		const char *body;
		const char *want;
	} cases[] = {
		{"{\"method\": \"POST\", \"path\": \"/admin/api/test\"}", "/admin/api/test"},
		{"{\"method\": \"POST\", \"path\": \"/admin/api/test/\"}", "/admin/api/test"},
		{"{\"method\": \"POST\", \"path\": \"/admin/api/tes%74?x=1\"}", "/admin/api/test"},
		{"{\"method\": \"GET\", \"path\": \"//evil.com/x\"}", "not a URL"},
		{"{\"method\": \"GET\", \"path\": \"http://x\"}", "'path'"},
		{"{\"method\": \"GET\", \"path\": \"/a/http://x\"}", "not a URL"},
		{"{\"method\": \"GET\", \"path\": \"health\"}", "start with '/'"},
		{"{\"method\": \"GET\", \"path\": \"\"}", "start with '/'"},
		{"{\"method\": \"GET\", \"path\": \"/a b\"}", "spaces"},
		{"{\"method\": \"GET\", \"path\": \"/a\\r\\nX: y\"}", "control"},
		{"{\"method\": \"GET\", \"path\": \"/a#b\"}", "'#'"},
		{"{\"method\": \"GET\", \"path\": \"/\\u00e9\"}", "non-ASCII"},
		{"{\"method\": \"GET\", \"path\": \"/a\\u0000b\"}", "not valid JSON"},
		{"{\"method\": \"FETCH\", \"path\": \"/health\"}", "'method' must be one of"},
		{"{\"method\": \"get\", \"path\": \"/health\"}", "'method' must be one of"},
		{"{\"method\": \"HEAD\", \"path\": \"/health\"}", "'method' must be one of"},
		{"{\"method\": 1, \"path\": \"/health\"}", "'method' must be one of"},
		{"{\"method\": \"GET\", \"path\": [\"/health\"]}", "'path' must be a string"},
		{"{\"method\": \"GET\", \"path\": \"/health\", \"headers\": [\"a\"]}", "'headers'"},
		{"{\"method\": \"GET\", \"path\": \"/health\", \"headers\": \"a\"}", "'headers'"},
		{"{\"method\": \"GET\", \"path\": \"/health\", \"headers\": {\"a\": 1}}",
		 "'headers'"},
		{"{\"method\": \"GET\", \"path\": \"/health\", \"headers\": {\"a b\": \"1\"}}",
		 "header name"},
		{"{\"method\": \"GET\", \"path\": \"/health\", \"headers\": {\"X\": \"a\\r\\nY: "
		 "b\"}}",
		 "line break"},
		{"{\"method\": \"GET\", \"path\": \"/health\", \"headers\": {\"Host\": "
		 "\"evil.com\"}}",
		 "set by the gateway"},
		{"{\"method\": \"GET\", \"path\": \"/health\", \"headers\": {\"content-length\": "
		 "\"9\"}}",
		 "set by the gateway"},
		{"{\"method\": \"POST\", \"path\": \"/sandbox\", \"body\": {\"runtime\": "
		 "\"node\"}}",
		 "'body' must be a string"},
		{"{\"method\": \"GET\"}", "'path' is required"},
		{"{\"path\": \"/health\"}", "'method' is required"},
		{"{\"method\": \"GET\", \"path\": \"/health\"", "not valid JSON"},
		{"{\"method\": \"GET\", \"method\": \"POST\", \"path\": \"/health\"}",
		 "not valid JSON"},
		{"[\"GET\", \"/health\"]", "JSON object"},
		{"\"GET /health\"", "JSON object"},
		{"", "JSON object"},
	};
	char long_path[2100 + 64];
	struct th_resp r = {0};

	for (size_t i = 0; i < SBX_ARRAY_SIZE(cases); i++) {
		th_http(st.base, "POST", "/admin/api/test", cases[i].body, NULL, 0, &r);
		if (!th_check_error(&r, 400, cases[i].want))
			printf("  (body %s)\n", cases[i].body);
		th_resp_fini(&r);
	}
	snprintf(long_path, sizeof(long_path), "{\"method\": \"GET\", \"path\": \"/%02100d\"}", 0);
	th_http(st.base, "POST", "/admin/api/test", long_path, NULL, 0, &r);
	th_check_error(&r, 400, "2048 bytes");
	th_resp_fini(&r);
	th_http(st.base, "GET", "/admin/api/test", NULL, NULL, 0, &r);
	th_check_error(&r, 405, "POST");
	th_resp_fini(&r);
}

/* Two HTTP threads, twelve outer requests at once: each inner request needs
 * a thread while its outer one waits. */
struct concurrent {
	json_t *reply;
};

static void *concurrent_one(void *arg)
{
	struct concurrent *c = arg;
	struct th_resp r = {0};

	th_http(st.base, "POST", "/admin/api/test",
		"{\"method\": \"GET\", \"path\": \"/admin/api/status\"}", NULL, 20000, &r);
	c->reply = r.status == 200 ? th_json(&r) : NULL;
	if (!c->reply)
		printf("  concurrent: %ld %s\n", r.status, r.body);
	th_resp_fini(&r);
	return NULL;
}

static void test_concurrent(void)
{
	struct concurrent c[N_CONCURRENT] = {0};
	pthread_t t[N_CONCURRENT];
	long long t0 = sbx_clock_mono_ms();

	for (int i = 0; i < N_CONCURRENT; i++)
		CHECK(pthread_create(&t[i], NULL, concurrent_one, &c[i]) == 0);
	for (int i = 0; i < N_CONCURRENT; i++) {
		pthread_join(t[i], NULL);
		CHECKF(c[i].reply && inner_status(c[i].reply) == 200, "concurrent request %d", i);
		json_decref(c[i].reply);
	}
	CHECKF(sbx_clock_mono_ms() - t0 < 10000, "%d concurrent test requests took %lld ms",
	       N_CONCURRENT, sbx_clock_mono_ms() - t0);
}

/* With an API key: the caller's key goes with the inner request unless
 * the inner headers name one. */
static void test_api_key(void)
{
	static const char *const bearer[] = {"Authorization: Bearer s3cret-key", NULL};
	static const char *const xkey[] = {"X-API-Key: s3cret-key", NULL};
	const char *args[] = {"--api-key", "s3cret-key", NULL};
	const char *list = "{\"method\": \"GET\", \"path\": \"/sandboxes\"}";
	struct th_stack sec;
	json_t *j;

	if (th_stack_start(&sec, "http-admin-test-key", args) < 0)
		return;
	j = test_call(sec.base, list, NULL);
	if (j)
		CHECKF(inner_status(j) == 401, "no key: inner %ld", inner_status(j));
	json_decref(j);
	j = test_call(sec.base, list, bearer);
	if (j)
		CHECKF(inner_status(j) == 200, "bearer: inner %ld %s", inner_status(j),
		       jstr(j, "body"));
	json_decref(j);
	j = test_call(sec.base, list, xkey);
	if (j)
		CHECKF(inner_status(j) == 200, "X-API-Key: inner %ld", inner_status(j));
	json_decref(j);
	j = test_call(sec.base,
		      "{\"method\": \"GET\", \"path\": \"/sandboxes\", \"headers\": "
		      "{\"X-API-Key\": \"s3cret-key\"}}",
		      NULL);
	if (j)
		CHECKF(inner_status(j) == 200, "inner key: inner %ld", inner_status(j));
	json_decref(j);
	/* The inner headers win over the caller's key. */
	j = test_call(sec.base,
		      "{\"method\": \"GET\", \"path\": \"/sandboxes\", \"headers\": "
		      "{\"authorization\": \"Bearer wrong\"}}",
		      bearer);
	if (j)
		CHECKF(inner_status(j) == 401, "wrong inner key: inner %ld", inner_status(j));
	json_decref(j);
	th_stack_stop(&sec);
}

/* A reply past 1 MiB is cut there and says so: /run printing 1.5 MB (the
 * daemon keeps 1 MiB of it, and the JSON around it is more). */
static void test_truncated(void)
{
	const char *run = "{\"method\": \"POST\", \"path\": \"/run\", \"body\": "
			  "\"{\\\"command\\\": [\\\"/bin/sh\\\", \\\"-c\\\", \\\"head -c "
			  "1500000 /dev/zero | tr '\\\\\\\\0' x\\\"]}\"}";
	struct th_resp r = {0};
	char why[256];
	json_t *j;

	if (!th_sandboxes_possible(why, sizeof(why))) {
		printf("truncation not tested: %s\n", why);
		return;
	}
	th_http(st.base, "POST", "/admin/api/test", run, NULL, 0, &r);
	j = th_check_reply(&r, REPLY_SHAPE " truncated:b");
	th_resp_fini(&r);
	if (!j)
		return;
	CHECKF(inner_status(j) == 200, "/run: inner %ld %.200s", inner_status(j), jstr(j, "body"));
	CHECK(json_is_true(json_object_get(j, "truncated")));
	CHECK_INT(json_string_length(json_object_get(j, "body")), 1u << 20);
	CHECK(strncmp(jstr(j, "body"), "{\"stdout\":\"xxx", 14) == 0);
	json_decref(j);
}

/* RATE_LIMIT_BURST=2: two sandboxes created through the test endpoint,
 * the third refused with the gateway's own 429, counted once each (the
 * test client and the gateway's inner requests share 127.0.0.1); routes
 * that spend no token still work. */
static void test_rate_limit(void)
{
	const char *create = "{\"method\": \"POST\", \"path\": \"/sandbox\", \"body\": "
			     "\"{\\\"runtime\\\": \\\"node\\\", \\\"code\\\": \\\"1\\\"}\"}";
	struct th_stack rl;
	struct th_resp r = {0};
	char buf[32];
	json_t *j;

	setenv("RATE_LIMIT_PER_MINUTE", "2", 1);
	setenv("RATE_LIMIT_BURST", "2", 1);
	if (th_stack_start(&rl, "http-admin-test-rate", NULL) < 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		j = test_call(rl.base, create, NULL);
		if (j)
			CHECKF(inner_status(j) == 200, "create %d: inner %ld %s", i,
			       inner_status(j), jstr(j, "body"));
		json_decref(j);
	}
	th_http(rl.base, "POST", "/admin/api/test", create, NULL, 0, &r);
	th_check_error(&r, 429, "rate limit");
	CHECK(th_header(&r, "Retry-After", buf, sizeof(buf)) != NULL);
	th_resp_fini(&r);
	j = test_call(rl.base, "{\"method\": \"GET\", \"path\": \"/sandboxes\"}", NULL);
	if (j)
		CHECK_INT(inner_status(j), 200);
	json_decref(j);
	th_stack_stop(&rl);
out:
	unsetenv("RATE_LIMIT_PER_MINUTE");
	unsetenv("RATE_LIMIT_BURST");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (th_stack_start(&st, "http-admin-test", NULL) < 0)
		TEST_DONE();
	test_health();
	test_bad_requests();
	test_inner_statuses();
	test_sandbox_round_trip();
	test_large_body();
	test_concurrent();
	test_truncated();
	th_stack_stop(&st);
	test_api_key();
	test_rate_limit();
	TEST_DONE();
}
