/* Live log streams over HTTP (gateway/logstream.h) against the real
 * sandboxd and sandbox-gateway: a sandbox printing numbered lines is
 * followed with GET /admin/api/sandboxes/{id}/logs?follow=true as SSE and
 * as NDJSON from before its execution, and by a client that connects
 * mid-run (history, then live); each gets every line once, in order, with
 * seq rising by one and the SSE framing right. Then Last-Event-ID resume,
 * unknown ids (404), a client that leaves mid-stream (the gateway stays
 * healthy and ASan-clean), 100k lines without loss, POST
 * /api/v1/execute/stream (output events, then the non-streaming result),
 * and MAX_LOG_STREAMS=2 (429, and a dead idle client's slot freed by the
 * keep-alive). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
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

#define RESULT_SHAPE                                                                               \
	"execution_id:s status:s stdout:s stderr:s execution_time_ms:i memory_used_mb:n "          \
	"exit_code:i error:z node:s"

static struct th_stack st;

/* ---- a streaming client ------------------------------------------------ */

struct sc {
	char url[512];
	const char *accept;	  /* NULL: SSE */
	char last_event_id[24];	  /* "" none */
	unsigned long stop_after; /* lines, then leave (0: at the exit line) */
	long timeout_ms;
	pthread_t t;

	char *buf;
	size_t len;
	atomic_bool connected;
	atomic_ulong lines; /* stdout/stderr lines seen */
	long status;
	CURLcode code;
	bool ndjson_type, sse_type, no_cache;
	uint64_t first_seq, last_seq;
	unsigned long next_text; /* expected number on the next stdout line */
	unsigned long bad_frame, bad_order, wrong_text, keepalives, lost;
	bool saw_exit;
	char why[256]; /* the first problem */
};

static void problem(struct sc *c, unsigned long *counter, const char *what, const char *frame)
{
	(*counter)++;
	if (!c->why[0])
		snprintf(c->why, sizeof(c->why), "%s: %.180s", what, frame);
}

/* One entry (the data of an SSE frame, or an NDJSON line). */
static void on_entry(struct sc *c, const char *json, uint64_t id, const char *event)
{
	json_t *j = json_loads(json, 0, NULL);
	char why[160];
	const char *stream, *msg;
	uint64_t seq;

	if (j && json_object_get(j, "lost")) {
		c->lost += (unsigned long)json_integer_value(json_object_get(j, "lost"));
		json_decref(j);
		return;
	}
	if (!j || !th_json_shape(j, "timestamp:s level:s message:s sandbox_id:s seq:i stream:s",
				 why, sizeof(why))) {
		problem(c, &c->bad_frame, "entry shape", json);
		json_decref(j);
		return;
	}
	seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
	stream = json_string_value(json_object_get(j, "stream"));
	msg = json_string_value(json_object_get(j, "message"));
	if ((id && id != seq) || (event && strcmp(event, stream) != 0))
		problem(c, &c->bad_frame, "id/event disagree with the entry", json);
	if (strcmp(json_string_value(json_object_get(j, "level")),
		   strcmp(stream, "stderr") == 0 ? "ERROR" : "INFO") != 0)
		problem(c, &c->bad_frame, "level", json);
	if (c->last_seq && seq != c->last_seq + 1)
		problem(c, &c->bad_order, "seq not last + 1", json);
	if (!c->first_seq)
		c->first_seq = seq;
	c->last_seq = seq;
	if (strcmp(stream, "exit") == 0) {
		c->saw_exit = true;
	} else {
		char want[32];

		if (strcmp(stream, "stdout") == 0) {
			if (!c->next_text)
				c->next_text = strtoul(msg, NULL, 10);
			snprintf(want, sizeof(want), "%lu", c->next_text++);
			if (strcmp(msg, want) != 0)
				problem(c, &c->wrong_text, "text", json);
		}
		atomic_fetch_add(&c->lines, 1);
	}
	json_decref(j);
}

/* One SSE frame: comments only, or exactly id, event, data. */
static void on_frame(struct sc *c, char *frame)
{
	char *id = NULL, *event = NULL, *data = NULL, *save = NULL;
	int n = 0;

	if (frame[0] == ':') {
		if (strcmp(frame, ": keep-alive") == 0)
			c->keepalives++;
		else
			problem(c, &c->bad_frame, "comment", frame);
		return;
	}
	for (char *l = strtok_r(frame, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
		if (n == 0 && strncmp(l, "id: ", 4) == 0)
			id = l + 4;
		else if (n <= 1 && strncmp(l, "event: ", 7) == 0)
			event = l + 7;
		else if (n <= 2 && strncmp(l, "data: ", 6) == 0)
			data = l + 6;
		else
			problem(c, &c->bad_frame, "line", l);
	}
	if (!event || !data) {
		problem(c, &c->bad_frame, "frame without event or data", frame);
		return;
	}
	if (strcmp(event, "lost") == 0) {
		on_entry(c, data, 0, NULL);
		return;
	}
	if (!id)
		problem(c, &c->bad_frame, "frame without id", event);
	on_entry(c, data, id ? strtoull(id, NULL, 10) : 0, event);
}

static bool done(struct sc *c)
{
	return c->stop_after ? atomic_load(&c->lines) >= c->stop_after : c->saw_exit;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sc *c = arg;
	size_t take = size * n, pos = 0;
	const char *sep = c->ndjson_type ? "\n" : "\n\n";
	size_t sl = strlen(sep);
	char *nb = realloc(c->buf, c->len + take + 1), *end;

	if (!nb)
		return 0;
	c->buf = nb;
	memcpy(c->buf + c->len, p, take);
	c->len += take;
	c->buf[c->len] = '\0';
	/* Frames in place; what is left of a partial one moves once. */
	while (!done(c) && (end = strstr(c->buf + pos, sep))) {
		*end = '\0';
		if (c->ndjson_type) {
			if (end == c->buf + pos)
				c->keepalives++;
			else
				on_entry(c, c->buf + pos, 0, NULL);
		} else {
			on_frame(c, c->buf + pos);
		}
		pos = (size_t)(end - c->buf) + sl;
	}
	memmove(c->buf, c->buf + pos, c->len - pos + 1);
	c->len -= pos;
	return done(c) ? 0 : take; /* 0: leave */
}

static size_t on_hdr(char *p, size_t size, size_t n, void *arg)
{
	struct sc *c = arg;
	size_t len = size * n;

	if (len >= 14 && strncasecmp(p, "Content-Type: ", 14) == 0) {
		c->sse_type = strncmp(p + 14, "text/event-stream", 17) == 0;
		c->ndjson_type = strncmp(p + 14, "application/x-ndjson", 20) == 0;
	}
	if (len >= 15 && strncasecmp(p, "Cache-Control: ", 15) == 0)
		c->no_cache = strncmp(p + 15, "no-cache", 8) == 0;
	if (len == 2 && p[0] == '\r')
		atomic_store(&c->connected, true);
	return len;
}

static void *sc_run(void *arg)
{
	struct sc *c = arg;
	CURL *h = curl_easy_init();
	struct curl_slist *hd = NULL;
	char line[96];

	if (c->accept) {
		snprintf(line, sizeof(line), "Accept: %s", c->accept);
		hd = curl_slist_append(hd, line);
	}
	if (c->last_event_id[0]) {
		snprintf(line, sizeof(line), "Last-Event-ID: %s", c->last_event_id);
		hd = curl_slist_append(hd, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms ? c->timeout_ms : 40000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_hdr);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c->code = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
	atomic_store(&c->connected, true); /* also on failure: nobody waits */
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	return NULL;
}

static void sc_start(struct sc *c, const char *id, const char *query)
{
	snprintf(c->url, sizeof(c->url), "%s/admin/api/sandboxes/%s/logs?follow=true%s", st.base,
		 id, query ? query : "");
	pthread_create(&c->t, NULL, sc_run, c);
}

static void sc_wait_connected(struct sc *c)
{
	for (int i = 0; i < 10000 && !atomic_load(&c->connected); i++)
		th_sleep_ms(1);
}

static void sc_join(struct sc *c)
{
	pthread_join(c->t, NULL);
	free(c->buf);
	c->buf = NULL;
}

/* A follower that got exactly lines first..last (stdout numbers from 1 in
 * the run), then the exit line. */
static void check_follower(const char *name, struct sc *c, bool ndjson, uint64_t first_seq,
			   unsigned long lines)
{
	printf("%s: status %ld, %lu lines, seq %llu..%llu, %lu keep-alives%s%s\n", name, c->status,
	       atomic_load(&c->lines), (unsigned long long)c->first_seq,
	       (unsigned long long)c->last_seq, c->keepalives, c->why[0] ? ", first problem: " : "",
	       c->why);
	CHECK_INT(c->status, 200);
	CHECK(ndjson ? c->ndjson_type : c->sse_type);
	CHECK(c->no_cache);
	CHECK_INT(c->first_seq, first_seq);
	CHECK_INT(atomic_load(&c->lines), lines);
	CHECK(c->saw_exit);
	CHECK_INT(c->bad_frame, 0);
	CHECK_INT(c->bad_order, 0);
	CHECK_INT(c->wrong_text, 0);
	CHECK_INT(c->lost, 0);
}

/* ---- helpers ------------------------------------------------------------ */

static bool new_sandbox(const char *code, char *id, size_t idlen)
{
	struct th_resp r = {0};
	json_t *body = json_pack("{s:s, s:s}", "runtime", "shell", "code", code), *j;
	char *text = json_dumps(body, 0);

	th_http(st.base, "POST", "/sandbox", text, NULL, 0, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && json_string_value(json_object_get(j, "id")),
	       "POST /sandbox: %ld %s", r.status, r.body);
	snprintf(id, idlen, "%s", j ? json_string_value(json_object_get(j, "id")) ?: "" : "");
	json_decref(j);
	json_decref(body);
	free(text);
	th_resp_fini(&r);
	return id[0];
}

static void execute(const char *id)
{
	struct th_resp r = {0};
	char path[160];

	snprintf(path, sizeof(path), "/sandbox/%s/execute", id);
	th_http(st.base, "POST", path, "{}", NULL, 120000, &r);
	CHECKF(r.status == 200 && strstr(r.body, "\"success\":true"), "execute: %ld %.300s",
	       r.status, r.body);
	th_resp_fini(&r);
}

static void *execute_thread(void *id)
{
	execute(id);
	return NULL;
}

static void health_ok(void)
{
	struct th_resp r = {0};

	th_http(st.base, "GET", "/health", NULL, NULL, 5000, &r);
	CHECK_INT(r.status, 200);
	th_resp_fini(&r);
}

/* ---- the tests ------------------------------------------------------------ */

/* 1..400 in four bursts. */
static const char *four_bursts =
	"for b in 0 1 2 3; do seq $((b*100+1)) $((b*100+100)); sleep 0.3; done\n";

static void test_follow(char *id, size_t idlen)
{
	struct sc a = {0}, b = {.accept = "application/x-ndjson"}, c = {0};
	char q[32];

	if (!new_sandbox(four_bursts, id, idlen))
		return;
	/* Before the run: no output yet, the streams wait. */
	sc_start(&a, id, NULL);
	sc_start(&b, id, NULL);
	sc_wait_connected(&a);
	sc_wait_connected(&b);
	pthread_t ex;
	pthread_create(&ex, NULL, execute_thread, id);
	/* c connects mid-run: all kept history, then live. */
	for (int i = 0; i < 20000 && atomic_load(&a.lines) < 150; i++)
		th_sleep_ms(1);
	CHECK(atomic_load(&a.lines) >= 150);
	printf("the mid-run client comes at line %lu of 400\n", atomic_load(&a.lines));
	snprintf(q, sizeof(q), "&lines=%d", 10000);
	sc_start(&c, id, q);
	pthread_join(ex, NULL);
	sc_join(&a);
	sc_join(&b);
	sc_join(&c);
	check_follower("SSE from the start", &a, false, 1, 400);
	check_follower("NDJSON from the start", &b, true, 1, 400);
	check_follower("SSE from mid-run", &c, false, 1, 400);
	CHECK_INT(a.last_seq, 401);
}

static void test_resume(const char *id)
{
	struct sc a = {0}, b = {0};
	char q[32];

	/* Last-Event-ID: 150 resumes at 151, whatever `lines` says. */
	snprintf(a.last_event_id, sizeof(a.last_event_id), "150");
	sc_start(&a, id, "&lines=5");
	sc_join(&a);
	check_follower("Last-Event-ID 150", &a, false, 151, 250);
	/* lines=5 without it: the last five kept lines (the exit line last). */
	snprintf(q, sizeof(q), "&lines=%d", 5);
	sc_start(&b, id, q);
	sc_join(&b);
	check_follower("lines=5", &b, false, 397, 4);
}

static void test_not_found(void)
{
	struct th_resp r = {0};

	th_http(st.base, "GET",
		"/admin/api/sandboxes/00000000-0000-4000-8000-000000000000/logs?follow=true", NULL,
		NULL, 5000, &r);
	th_check_error(&r, 404, "not found");
	th_http(st.base, "GET", "/faas/deployments/nope/logs?follow=true", NULL, NULL, 5000, &r);
	th_check_error(&r, 404, "not found");
	th_http(st.base, "GET", "/faas/deployments/nope/logs", NULL, NULL, 5000, &r);
	th_check_error(&r, 404, "not found");
	th_http(st.base, "GET", "/admin/api/sandboxes/x/logs?follow=maybe", NULL, NULL, 5000, &r);
	th_check_error(&r, 400, "follow");
	th_http(st.base, "GET", "/admin/api/sandboxes/x/logs?follow=true&lines=10001", NULL, NULL,
		5000, &r);
	th_check_error(&r, 400, "lines");
	th_resp_fini(&r);
}

/* Without follow the route answers as before (AdminSandboxLogs). */
static void test_no_follow(const char *id)
{
	struct th_resp r = {0};
	char path[160];
	json_t *j;

	snprintf(path, sizeof(path), "/admin/api/sandboxes/%s/logs?lines=3&follow=false", id);
	th_http(st.base, "GET", path, NULL, NULL, 5000, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && json_is_array(j) && json_array_size(j) == 3, "%ld %.200s",
	       r.status, r.body);
	json_decref(j);
	th_resp_fini(&r);
}

/* 100k lines followed without loss; a second client leaves mid-stream. */
static void test_100k(void)
{
	static const char *script = "for b in 0 1 2 3 4 5 6 7 8 9; do seq $((b*10000+1)) "
				    "$((b*10000+10000)); sleep 0.1; done\n";
	struct sc a = {.timeout_ms = 50000}, quitter = {.stop_after = 2000};
	long long t0 = sbx_clock_mono_ms();
	char id[64];

	if (!new_sandbox(script, id, sizeof(id)))
		return;
	sc_start(&a, id, NULL);
	sc_start(&quitter, id, NULL);
	sc_wait_connected(&a);
	sc_wait_connected(&quitter);
	execute(id);
	sc_join(&quitter);
	sc_join(&a);
	printf("100k lines followed in %lld ms\n", sbx_clock_mono_ms() - t0);
	check_follower("100k", &a, false, 1, 100000);
	CHECK_INT(a.last_seq, 100001);
	CHECK(atomic_load(&quitter.lines) >= 2000);
	health_ok();
}

static void test_execute_stream(void)
{
	static const char *body =
		"{\"language\": \"shell\", \"code\": \"echo one; sleep 0.2; echo two >&2; echo "
		"three\"}";
	struct th_resp r = {0}, plain = {0};
	const char *p;
	const char *want[3] = {
		"event: stdout\ndata: {\"seq\":1,\"stream\":\"stdout\",\"data\":\"one\\n\"}",
		"event: stderr\ndata: {\"seq\":2,\"stream\":\"stderr\",\"data\":\"two\\n\"}",
		"event: stdout\ndata: {\"seq\":3,\"stream\":\"stdout\",\"data\":\"three\\n\"}"};
	json_t *j, *k;

	th_http(st.base, "POST", "/api/v1/execute/stream", body, NULL, 30000, &r);
	CHECK_INT(r.status, 200);
	p = r.body;
	for (int i = 0; i < 3; i++) {
		const char *at = strstr(p, want[i]);

		CHECKF(at != NULL, "no '%s' in order in:\n%s", want[i], r.body);
		p = at ? at + strlen(want[i]) : p;
	}
	p = strstr(p, "event: result\ndata: ");
	CHECKF(p != NULL, "no result event in:\n%s", r.body);
	if (p) {
		char *end = strstr(p, "\n\n");

		CHECKF(end && end[2] == '\0', "the result is not the last event:\n%s", p);
		if (end)
			*end = '\0';
		j = json_loads(p + 20, 0, NULL);
		th_http(st.base, "POST", "/api/v1/execute", body, NULL, 30000, &plain);
		k = th_json(&plain);
		char why[160] = "";
		CHECKF(j && th_json_shape(j, RESULT_SHAPE, why, sizeof(why)), "result: %s %s", why,
		       p + 20);
		CHECKF(k && th_json_shape(k, RESULT_SHAPE, why, sizeof(why)), "plain: %s", why);
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "one\nthree\n");
		CHECK_STR(json_string_value(json_object_get(j, "stderr")), "two\n");
		CHECK_STR(json_string_value(json_object_get(j, "status")), "success");
		json_decref(j);
		json_decref(k);
	}
	/* A client cannot name the ring another object's output goes to. */
	th_http(st.base, "POST", "/api/v1/execute",
		"{\"language\": \"shell\", \"code\": \"echo x\", \"log_id\": \"victim\"}", NULL,
		30000, &r);
	th_check_error(&r, 400, "log_id");
	/* Refused before any output: the usual error status. */
	th_http(st.base, "POST", "/api/v1/execute/stream",
		"{\"language\": \"brainfuck\", \"code\": \"x\"}", NULL, 30000, &r);
	th_check_error(&r, 400, "brainfuck");
	th_resp_fini(&r);
	th_resp_fini(&plain);
}

/* The gateway stops cleanly: exit 0, and no sanitizer report. */
static void check_gateway_exit(struct th_stack *s)
{
	int ws = th_stop(s->gw, SIGTERM, 10000);
	FILE *f = fopen(s->gw_log, "r");
	char line[512];
	bool report = false;

	s->gw = 0;
	CHECKF(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "gateway wait status %#x", ws);
	while (f && fgets(line, sizeof(line), f))
		report = report || strstr(line, "Sanitizer") || strstr(line, "runtime error");
	if (f)
		fclose(f);
	CHECK(!report);
}

/* MAX_LOG_STREAMS=2: the third stream is a 429; a client that went away
 * from an idle stream is found by the keep-alive (1 s here) and its slot
 * freed. */
static void test_limit(void)
{
	struct sc a = {.timeout_ms = 15000}, b = {.timeout_ms = 2500};
	struct th_resp r = {0};
	char id[64], path[200], hdr[16];
	bool admitted = false;

	setenv("MAX_LOG_STREAMS", "2", 1);
	setenv("LOG_STREAM_KEEPALIVE", "1", 1);
	if (th_stack_start(&st, "sbx-logstream-limit", NULL) < 0)
		return;
	if (!new_sandbox("echo hi", id, sizeof(id)))
		goto out;
	/* An execution quiet for 3 s still gets its headers and keep-alives
	 * at once. */
	th_http(st.base, "POST", "/api/v1/execute/stream",
		"{\"language\": \"shell\", \"code\": \"sleep 3; echo late\"}", NULL, 30000, &r);
	CHECKF(r.status == 200 && strncmp(r.body, ": keep-alive\n\n", 14) == 0 &&
		       strstr(r.body, "\"data\":\"late\\n\"") && strstr(r.body, "event: result\n"),
	       "%ld %s", r.status, r.body);
	sc_start(&a, id, NULL);
	sc_start(&b, id, NULL);
	sc_wait_connected(&a);
	sc_wait_connected(&b);
	snprintf(path, sizeof(path), "/admin/api/sandboxes/%s/logs?follow=true", id);
	th_http(st.base, "GET", path, NULL, NULL, 5000, &r);
	th_check_error(&r, 429, "too many log streams");
	CHECK(th_header(&r, "Retry-After", hdr, sizeof(hdr)) != NULL);
	/* b leaves after 2.5 s (its timeout); the gateway notices at the next
	 * keep-alive. */
	sc_join(&b);
	CHECK(b.keepalives >= 1);
	for (int i = 0; i < 50 && !admitted; i++) {
		th_http(st.base, "GET", path, NULL, NULL, 300, &r);
		/* A stream never ends: admitted is a 200 that times out. */
		admitted = r.code == CURLE_OPERATION_TIMEDOUT && r.status == 200;
		if (!admitted)
			th_sleep_ms(100);
	}
	CHECKF(admitted, "the dead client's slot was not freed: last answer %ld %s", r.status,
	       r.body);
	th_resp_fini(&r);
	check_gateway_exit(&st);
	sc_join(&a);
out:
	th_stack_stop(&st);
}

static const char *const ring_args[] = {"--logs-ring-lines", "200000", "--logs-ring-bytes",
					"33554432", NULL};

int main(void)
{
	char id[64] = "";

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* Rings that hold the whole 100k run, so that a follower that falls
	 * behind (under ASan) is refilled from the ring rather than told of
	 * lost lines. */
	if (th_stack_start(&st, "sbx-logstream", ring_args) == 0) {
		long long t0 = sbx_clock_mono_ms();

		test_follow(id, sizeof(id));
		if (id[0]) {
			test_resume(id);
			test_no_follow(id);
		}
		test_not_found();
		test_100k();
		test_execute_stream();
		check_gateway_exit(&st);
		printf("first stack: %lld ms\n", sbx_clock_mono_ms() - t0);
	}
	th_stack_stop(&st);
	test_limit();
	curl_global_cleanup();
	TEST_DONE();
}
