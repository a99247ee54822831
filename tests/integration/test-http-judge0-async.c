/* Judge0's asynchronous submissions (wait=false, its default) through the
 * real sandbox-gateway and sandboxd (daemon/judge0/): the token, reading
 * it back (fields, Base64), the list and its meta, batches, delete, the
 * bounded queue (503 queue is full), a daemon restart with a finished, a
 * running and a queued submission in its state store, and callback_url:
 * Judge0's PUT to a receiver on loopback (which the daemon is told to
 * allow) that fails the first try, and the addresses refused. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"
#include "zipw.h"

static struct th_stack st;

static json_t *request(const char *method, const char *path, const char *body, long want)
{
	struct th_resp r = {0};
	json_t *j;

	th_http(st.base, method, path, body, NULL, 0, &r);
	CHECKF(r.status == want, "%s %s %s -> %ld %s", method, path, body ? body : "", r.status,
	       r.body);
	j = r.status == want ? th_json(&r) : NULL;
	th_resp_fini(&r);
	return j;
}

/* POST a submission without wait: its token (caller frees), or NULL. */
static char *submit(const char *body)
{
	json_t *j = request("POST", "/judge0/submissions", body, 201);
	char why[160], *t = NULL;

	if (j) {
		CHECKF(th_json_shape(j, "token:s", why, sizeof(why)), "%s", why);
		t = strdup(json_string_value(json_object_get(j, "token")));
	}
	json_decref(j);
	return t;
}

/* The status id, from `status` or `status_id`, whichever fields asked. */
static int status_of(const json_t *j)
{
	json_t *id = json_object_get(j, "status_id");

	return (int)json_integer_value(id ? id
					  : json_object_get(json_object_get(j, "status"), "id"));
}

/* GET the token until its status is at least `least` (20 s at most). */
static json_t *wait_status(const char *token, int least, const char *query)
{
	char path[256];

	snprintf(path, sizeof(path), "/judge0/submissions/%s%s", token, query ? query : "");
	for (int i = 0; i < 400; i++) {
		json_t *j = request("GET", path, NULL, 200);

		if (!j || status_of(j) >= least)
			return j;
		json_decref(j);
		th_sleep_ms(50);
	}
	CHECKF(false, "%s never reached status %d", token, least);
	return NULL;
}

static void test_roundtrip(void)
{
	char *t = submit("{\"source_code\": \"print(input())\", \"language_id\": 71,"
			 " \"stdin\": \"async\", \"expected_output\": \"async\"}");
	json_t *j;
	char why[200];

	if (!t)
		return;
	j = wait_status(t, 3, NULL);
	if (j) {
		CHECKF(th_json_shape(j,
				     "stdout:s time:s memory:i stderr:z token:s compile_output:z "
				     "message:z status:o",
				     why, sizeof(why)),
		       "%s", why);
		CHECK_INT(status_of(j), 3);
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "async\n");
		CHECK_STR(json_string_value(json_object_get(j, "token")), t);
	}
	json_decref(j);
	j = wait_status(t, 3, "?base64_encoded=true&fields=stdin,stdout,finished_at,status_id");
	if (j) {
		CHECKF(th_json_shape(j, "stdin:s stdout:s status_id:i finished_at:s", why,
				     sizeof(why)),
		       "%s", why);
		CHECK_STR(json_string_value(json_object_get(j, "stdin")), "YXN5bmM=\n");
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "YXN5bmMK\n");
	}
	json_decref(j);
	/* Deleting answers with it, Base64 forced; then it is gone. */
	{
		char path[128];

		snprintf(path, sizeof(path), "/judge0/submissions/%s?fields=stdout", t);
		j = request("DELETE", path, NULL, 200);
		if (j)
			CHECK_STR(json_string_value(json_object_get(j, "stdout")), "YXN5bmMK\n");
		json_decref(j);
		th_expect_error(st.base, "GET", path, NULL, 404, "not found");
	}
	free(t);
	/* A compile error, asynchronously. */
	t = submit("{\"source_code\": \"fn main() { x }\", \"language_id\": 73}");
	j = t ? wait_status(t, 3, "?fields=status,compile_output") : NULL;
	if (j) {
		/* rust may not be installed: then 422 above failed already. */
		CHECK_INT(status_of(j), 6);
	}
	json_decref(j);
	free(t);
	th_expect_error(st.base, "GET", "/judge0/submissions/5ca1ab1e-0000-4000-8000-000000000000",
			NULL, 404, "not found");
	th_expect_error(st.base, "GET", "/judge0/submissions/x?fields=nope", NULL, 400,
			"invalid fields: [nope]");
}

/* A batch's files are capped in all (24 MiB inflated): of four
 * submissions with 7 MiB each, the fourth is refused in its place. On a
 * stack whose queue takes them. */
static void test_batch_files_cap(void)
{
	const struct zipw_entry e[] = {{.name = "big", .size = 7u << 20}};
	char *zip = zipw_make_base64(e, 1), *text;
	json_t *list = json_array(), *j, *last;
	struct th_resp r = {0};

	for (int i = 0; i < 4; i++)
		json_array_append_new(list, json_pack("{s:s, s:i, s:s}", "source_code",
						      "import os\nprint(os.path.getsize('big'))",
						      "language_id", 71, "additional_files",
						      zip ? zip : ""));
	j = json_pack("{s:o}", "submissions", list);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	th_http(st.base, "POST", "/judge0/submissions/batch", text, NULL, 0, &r);
	j = th_json(&r);
	last = json_array_get(j, 3);
	/* Not the body in the message: it is 4 archives of Base64. */
	CHECKF(r.status == 201 && json_array_size(j) == 4 &&
		       json_object_get(json_array_get(j, 2), "token") &&
		       json_object_get(last, "additional_files") && !json_object_get(last, "token"),
	       "%ld %.300s", r.status, r.body);
	th_resp_fini(&r);
	json_decref(j);
	free(text);
	free(zip);
}

/* Queued with additional_files: the daemon that runs it writes them too
 * (they travel in the kept submission); additional_files is echoed as
 * sent, Base64. */
static void test_additional_files(void)
{
	const struct zipw_entry e[] = {
		{.name = "compile", .content = "echo ok > built\n"},
		{.name = "run", .content = "cat built data/in.txt\n"},
		{.name = "data/in.txt", .content = "queued\n"},
	};
	char *zip = zipw_make_base64(e, 3), *text, *t;
	json_t *b = json_pack("{s:i, s:s}", "language_id", 89, "additional_files", zip ? zip : "");
	json_t *j = NULL;

	text = json_dumps(b, JSON_COMPACT);
	t = submit(text);
	if (t)
		j = wait_status(t, 3, "?fields=status_id,stdout,additional_files");
	if (j) {
		CHECK_INT(status_of(j), 3);
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "ok\nqueued\n");
		CHECK_STR(json_string_value(json_object_get(j, "additional_files")), zip);
	}
	json_decref(j);
	json_decref(b);
	free(text);
	free(t);
	free(zip);
}

static void test_batch_and_list(void)
{
	json_t *j, *subs;
	char path[512];
	const char *a, *b;
	struct th_resp r = {0};

	j = request("POST", "/judge0/submissions/batch",
		    "{\"submissions\": [{\"source_code\": \"print('one')\", \"language_id\": 71},"
		    " {\"source_code\": \"print(2)\", \"language_id\": 123456789},"
		    " {\"source_code\": \"\", \"language_id\": 71},"
		    " {\"source_code\": \"print('four')\", \"language_id\": 71}]}",
		    201);
	if (!j)
		return;
	CHECK_INT(json_array_size(j), 4);
	CHECK_STR(json_string_value(
			  json_array_get(json_object_get(json_array_get(j, 1), "language_id"), 0)),
		  "language with id 123456789 doesn't exist");
	CHECK_STR(json_string_value(
			  json_array_get(json_object_get(json_array_get(j, 2), "source_code"), 0)),
		  "can't be blank");
	a = json_string_value(json_object_get(json_array_get(j, 0), "token"));
	b = json_string_value(json_object_get(json_array_get(j, 3), "token"));
	CHECK(a && b);
	if (a && b) {
		json_decref(wait_status(a, 3, NULL));
		json_decref(wait_status(b, 3, NULL));
		snprintf(path, sizeof(path),
			 "/judge0/submissions/batch?tokens=%s,%s,nope&fields=stdout,token", a, b);
		subs = request("GET", path, NULL, 200);
		CHECK_STR(
			json_string_value(json_object_get(
				json_array_get(json_object_get(subs, "submissions"), 0), "stdout")),
			"one\n");
		CHECK_STR(
			json_string_value(json_object_get(
				json_array_get(json_object_get(subs, "submissions"), 1), "stdout")),
			"four\n");
		CHECK(json_is_null(json_array_get(json_object_get(subs, "submissions"), 2)));
		json_decref(subs);
	}
	/* Newest first, with will_paginate's meta. */
	subs = request("GET", "/judge0/submissions?page=1&per_page=1&fields=token", NULL, 200);
	if (subs) {
		json_t *meta = json_object_get(subs, "meta");
		char why[200];

		CHECKF(th_json_shape(meta,
				     "current_page:i next_page:i prev_page:z total_pages:i "
				     "total_count:i",
				     why, sizeof(why)),
		       "%s", why);
		CHECK_INT(json_array_size(json_object_get(subs, "submissions")), 1);
		CHECK_STR(
			json_string_value(json_object_get(
				json_array_get(json_object_get(subs, "submissions"), 0), "token")),
			b);
	}
	json_decref(subs);
	json_decref(j);
	th_expect_error(st.base, "GET", "/judge0/submissions?page=0", NULL, 400, "invalid page: 0");
	th_expect_error(st.base, "GET", "/judge0/submissions?per_page=-2", NULL, 400,
			"invalid per_page: -2");
	th_expect_error(st.base, "GET", "/judge0/submissions/batch?tokens=", NULL, 400,
			"there should be at least one submission in a batch");
	th_expect_error(st.base, "POST", "/judge0/submissions/batch", "{\"submissions\": []}", 400,
			"there should be at least one submission in a batch");
	/* Every one invalid: 422 with the list of errors. */
	th_http(st.base, "POST", "/judge0/submissions/batch",
		"{\"submissions\": [{\"language_id\": 71}]}", NULL, 0, &r);
	CHECK_INT(r.status, 422);
	CHECK_STR(r.body, "[{\"source_code\":[\"can't be blank\"]}]");
	th_resp_fini(&r);
}

/* One worker and room for two: the third waiting is refused, a batch
 * that does not fit too; one waiting cannot be deleted. Then a restart
 * with one running and two queued: all three finish after it. */
static void test_queue_and_restart(void)
{
	const char *sleeper = "{\"source_code\": \"import time\\ntime.sleep(2)\\nprint('slept')\","
			      " \"language_id\": 71}";
	char *t[3] = {0}, *done = NULL, path[128];
	const char *dargs[] = {"--rpc",
			       st.rpc,
			       "--events",
			       st.events,
			       "--state-dir",
			       st.state,
			       "--judge0-workers",
			       "1",
			       "--judge0-max-queue-size",
			       "2",
			       NULL};
	json_t *j;
	struct th_resp r = {0};

	done = submit("{\"source_code\": \"print('before')\", \"language_id\": 71}");
	json_decref(done ? wait_status(done, 3, NULL) : NULL);
	t[0] = submit(sleeper);
	json_decref(t[0] ? wait_status(t[0], 2, NULL) : NULL);
	t[1] = submit(sleeper);
	t[2] = submit(sleeper);
	th_http(st.base, "POST", "/judge0/submissions", sleeper, NULL, 0, &r);
	CHECK_INT(r.status, 503);
	CHECK_STR(r.body, "{\"error\":\"queue is full\"}");
	th_resp_fini(&r);
	if (t[2]) {
		snprintf(path, sizeof(path), "/judge0/submissions/%s", t[2]);
		th_expect_error(st.base, "DELETE", path, NULL, 400,
				"submission cannot be deleted because its status is 1 (In Queue)");
	}
	/* The daemon stops (its running one ends first) and starts again on
	 * the same state directory. */
	th_stop(st.daemon, SIGTERM, 15000);
	st.daemon = th_spawn("sandboxd", dargs, st.daemon_log);
	CHECK(st.daemon > 0 && th_wait_http(st.base, "/health", 200, 30000));
	j = done ? wait_status(done, 3, "?fields=stdout,status") : NULL;
	if (j)
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "before\n");
	json_decref(j);
	for (int i = 0; i < 3; i++) {
		j = t[i] ? wait_status(t[i], 3, "?fields=stdout,status") : NULL;
		if (j) {
			CHECK_INT(status_of(j), 3);
			CHECK_STR(json_string_value(json_object_get(j, "stdout")), "slept\n");
		}
		json_decref(j);
		free(t[i]);
	}
	free(done);
}

/* A receiver on loopback: the first connection is closed unanswered, the
 * second gets its request read whole and a 200. */
struct receiver {
	int fd, port;
	pthread_t thread;
	char method[16];
	char body[8192];
	int connections;
};

static void *receive(void *arg)
{
	struct receiver *rc = arg;

	for (int n = 0; n < 2; n++) {
		int c = accept(rc->fd, NULL, NULL);
		char buf[16384];
		size_t len = 0;
		ssize_t k;
		char *end = NULL;
		long want = -1;

		if (c < 0)
			return NULL;
		rc->connections++;
		/* Read headers and the Content-Length body. */
		while (len < sizeof(buf) - 1 &&
		       (k = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += (size_t)k;
			buf[len] = 0;
			end = strstr(buf, "\r\n\r\n");
			if (end && want < 0) {
				char *cl = strcasestr(buf, "content-length:");

				want = cl ? strtol(cl + 15, NULL, 10) : 0;
			}
			if (end && (long)(len - (size_t)(end + 4 - buf)) >= want)
				break;
		}
		if (n == 1 && end) {
			sscanf(buf, "%15s", rc->method);
			snprintf(rc->body, sizeof(rc->body), "%s", end + 4);
			(void)!write(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
		}
		close(c);
	}
	return NULL;
}

static int receiver_start(struct receiver *rc)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	rc->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rc->fd < 0 || bind(rc->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(rc->fd, 4) < 0 || getsockname(rc->fd, (struct sockaddr *)&a, &al) < 0)
		return -1;
	rc->port = ntohs(a.sin_port);
	return pthread_create(&rc->thread, NULL, receive, rc) == 0 ? 0 : -1;
}

static void test_callback(void)
{
	struct receiver rc = {0};
	char body[512], *t;
	json_t *j;
	struct th_resp r = {0};

	CHECK(receiver_start(&rc) == 0);
	snprintf(body, sizeof(body),
		 "{\"source_code\": \"print('called back')\", \"language_id\": 71,"
		 " \"callback_url\": \"http://127.0.0.1:%d/judge0\"}",
		 rc.port);
	t = submit(body);
	/* Two tries: the first connection is closed, the second answered. */
	for (int i = 0; i < 300 && !rc.body[0]; i++)
		th_sleep_ms(50);
	pthread_join(rc.thread, NULL);
	close(rc.fd);
	CHECK_INT(rc.connections, 2);
	CHECK_STR(rc.method, "PUT");
	j = json_loads(rc.body, 0, NULL);
	CHECKF(j, "callback body: %s", rc.body);
	if (j && t) {
		char why[200];

		CHECKF(th_json_shape(j,
				     "stdout:s time:s memory:i stderr:z token:s "
				     "compile_output:z message:z status:o",
				     why, sizeof(why)),
		       "%s", why);
		CHECK_STR(json_string_value(json_object_get(j, "token")), t);
		/* Base64, as Judge0 sends it: "called back\n". */
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "Y2FsbGVkIGJhY2sK\n");
		CHECK_INT(status_of(j), 3);
	}
	json_decref(j);
	free(t);
	/* Loopback that is not listed, private, link-local: 422 at once. */
	for (int i = 0; i < 3; i++) {
		static const char *const urls[] = {"http://127.0.0.2:9/x", "http://10.0.0.1/x",
						   "http://169.254.169.254/latest/meta-data"};

		snprintf(body, sizeof(body),
			 "{\"source_code\": \"print(1)\", \"language_id\": 71,"
			 " \"callback_url\": \"%s\"}",
			 urls[i]);
		th_http(st.base, "POST", "/judge0/submissions", body, NULL, 0, &r);
		CHECK_INT(r.status, 422);
		CHECKF(strstr(r.body, "{\"callback_url\":[\"host ") == r.body, "%s", r.body);
		th_resp_fini(&r);
	}
	th_http(st.base, "POST", "/judge0/submissions",
		"{\"source_code\": \"print(1)\", \"language_id\": 71,"
		" \"callback_url\": \"gopher://127.0.0.1/\"}",
		NULL, 0, &r);
	CHECK_INT(r.status, 422);
	CHECK_STR(r.body, "{\"callback_url\":[\"must be an http or https URL\"]}");
	th_resp_fini(&r);
}

static json_int_t total_count(const json_t *list)
{
	return json_integer_value(json_object_get(json_object_get(list, "meta"), "total_count"));
}

/* JUDGE0_KEEP_MAX: the oldest finished submissions go first. */
static void test_retention(void)
{
	const char *args[] = {"--judge0-keep-max", "2", NULL};
	struct th_stack saved = st;
	char *t[4] = {0};
	json_t *j;

	if (th_stack_start(&st, "sbx-http-judge0-keep", args) < 0) {
		st = saved;
		return;
	}
	for (int i = 0; i < 4; i++) {
		t[i] = submit("{\"source_code\": \"print(1)\", \"language_id\": 71}");
		json_decref(t[i] ? wait_status(t[i], 3, NULL) : NULL);
	}
	/* The trim follows each finish: a moment after the last one shows. */
	for (int k = 0;; k++) {
		j = request("GET", "/judge0/submissions?fields=token", NULL, 200);
		if (!j || k == 100 || total_count(j) == 2)
			break;
		json_decref(j);
		th_sleep_ms(50);
	}
	CHECK_INT(total_count(j), 2);
	/* The newest two are kept. */
	CHECK_STR(json_string_value(json_object_get(
			  json_array_get(json_object_get(j, "submissions"), 0), "token")),
		  t[3]);
	json_decref(j);
	if (t[0]) {
		char path[128];

		snprintf(path, sizeof(path), "/judge0/submissions/%s", t[0]);
		th_expect_error(st.base, "GET", path, NULL, 404, "not found");
	}
	for (int i = 0; i < 4; i++)
		free(t[i]);
	test_batch_files_cap();
	th_stack_stop(&st);
	st = saved;
}

int main(void)
{
	const char *args[] = {
		"--judge0-workers", "1", "--judge0-max-queue-size", "2", "--judge0-callback-allow",
		"127.0.0.1/32",	    NULL};

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_stack_start(&st, "sbx-http-judge0-async", args) == 0) {
		test_roundtrip();
		test_additional_files();
		test_batch_and_list();
		test_callback();
		test_queue_and_restart();
	}
	th_stack_stop(&st);
	test_retention();
	curl_global_cleanup();
	TEST_DONE();
}
