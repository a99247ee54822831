/* test-cluster's live parts (test-cluster.h): a sandbox's output followed
 * through the gateway that did not make it, for a sandbox on node-3;
 * POST /api/v1/execute/stream on every node; /faas/{id}/ of deployments
 * on two nodes through both gateways, which can reach them only through
 * the nodes' tunnels (TCP), 8 MiB bodies both ways, a persistent
 * sandbox's dev server at /proxy/{id}/, and the tunnel's refusals without
 * the key. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "nodeid.h"
#include "test-cluster.h"
#include "testlib.h"

#define LOG_LINES 6

/* ---- an SSE follower ------------------------------------------------------ */

struct follower {
	char url[256];
	pthread_t t;
	char *buf;
	size_t len;
	long status;
	volatile bool connected;
	int lines;			  /* "line-N" messages seen, in order */
	long long line_ms[LOG_LINES + 1]; /* when each arrived */
	bool saw_exit, out_of_order;
};

/* One SSE frame: its data line is a log entry {stream, message, ...}. */
static void on_frame(struct follower *f, const char *frame)
{
	const char *data = strstr(frame, "data: ");
	json_t *j = data ? json_loads(data + 6, 0, NULL) : NULL;
	const char *stream = th_str(j, "stream"), *msg = th_str(j, "message");

	if (strcmp(stream, "exit") == 0) {
		f->saw_exit = true;
	} else if (strcmp(stream, "stdout") == 0 && strncmp(msg, "line-", 5) == 0) {
		int n = atoi(msg + 5);

		if (n != f->lines + 1 || n > LOG_LINES)
			f->out_of_order = true;
		else
			f->line_ms[f->lines++] = sbx_clock_mono_ms();
	}
	json_decref(j);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct follower *f = arg;
	size_t take = size * n, pos = 0;
	char *nb = realloc(f->buf, f->len + take + 1), *end;

	if (!nb)
		return 0;
	f->buf = nb;
	memcpy(f->buf + f->len, p, take);
	f->len += take;
	f->buf[f->len] = '\0';
	while (!f->saw_exit && (end = strstr(f->buf + pos, "\n\n"))) {
		*end = '\0';
		on_frame(f, f->buf + pos);
		pos = (size_t)(end - f->buf) + 2;
	}
	memmove(f->buf, f->buf + pos, f->len - pos + 1);
	f->len -= pos;
	return f->saw_exit ? 0 : take;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct follower *f = arg;

	if (size * n == 2 && p[0] == '\r')
		f->connected = true;
	return size * n;
}

static void *follow_main(void *arg)
{
	struct follower *f = arg;
	CURL *h = curl_easy_init();

	curl_easy_setopt(h, CURLOPT_URL, f->url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->status);
	f->connected = true;
	curl_easy_cleanup(h);
	return NULL;
}

/* A sandbox printing LOG_LINES lines, 250 ms apart, made through gateway
 * 1 until one is on node (bounded: objects go to the node holding the
 * fewest, so the others fill up first); its id, or "". The others made on
 * the way are deleted at the end. */
static void sandbox_on(int node, char *id, size_t idlen)
{
	static const char body[] = "{\"runtime\": \"shell\", \"code\": \"for i in 1 2 3 4 5 6; do "
				   "echo line-$i; sleep 0.25; done\"}";
	char others[8][40], path[96];
	int n_others = 0;

	id[0] = '\0';
	for (int tries = 0; tries < 8 && !id[0]; tries++) {
		json_t *j = cl_json(cl.gws[0].base, "POST", "/sandbox", body, 200, 0);
		const char *got = th_str(j, "id");

		if (j && cl_owner(got) == node)
			snprintf(id, idlen, "%s", got);
		else if (j)
			snprintf(others[n_others++], sizeof(others[0]), "%s", got);
		json_decref(j);
		if (!id[0])
			th_sleep_ms(600); /* the gateway's next look at the nodes' loads */
	}
	for (int i = 0; i < n_others; i++) {
		snprintf(path, sizeof(path), "/sandbox/%.39s", others[i]);
		json_decref(cl_json(cl.gws[0].base, "DELETE", path, NULL, 204, 0));
	}
	CHECKF(id[0], "no sandbox placed on %s in 8 tries", cl.nodes[node].id);
}

void test_logs(void)
{
	struct follower f = {0};
	char id[40], path[96];
	long long done_ms;
	json_t *j;

	sandbox_on(2, id, sizeof(id));
	if (!id[0])
		return;
	snprintf(f.url, sizeof(f.url), "%s/admin/api/sandboxes/%s/logs?follow=true", cl.gws[1].base,
		 id);
	pthread_create(&f.t, NULL, follow_main, &f);
	for (int i = 0; i < 5000 && !f.connected; i++)
		th_sleep_ms(1);
	snprintf(path, sizeof(path), "/sandbox/%s/execute", id);
	j = cl_json(cl.gws[0].base, "POST", path, "{}", 200, 0);
	done_ms = sbx_clock_mono_ms();
	CHECK(json_is_true(json_object_get(j, "success")));
	json_decref(j);
	pthread_join(f.t, NULL);
	free(f.buf);
	printf("followed %s on %s through gateway 2: status %ld, %d lines, first %lld ms before "
	       "the execution's end\n",
	       id, cl.nodes[2].id, f.status, f.lines, f.lines ? done_ms - f.line_ms[0] : -1);
	CHECK_INT(f.status, 200);
	CHECK_INT(f.lines, LOG_LINES);
	CHECK(!f.out_of_order);
	CHECK(f.saw_exit);
	/* Live: the first line came while the sandbox still ran (it runs
	 * 1.5 s after printing it). */
	CHECKF(f.lines && done_ms - f.line_ms[0] >= 800, "first line only %lld ms before the end",
	       f.lines ? done_ms - f.line_ms[0] : -1);
	snprintf(path, sizeof(path), "/sandbox/%s", id);
	json_decref(cl_json(cl.gws[1].base, "DELETE", path, NULL, 204, 0));
}

/* Output events, then the result naming its node; on every node. */
void test_execute_stream(void)
{
	static const char body[] =
		"{\"language\": \"shell\", \"code\": \"echo one; sleep 0.2; echo two\"}";
	bool used[3] = {false};
	int nodes = 0;

	for (int i = 0; i < 6 && nodes < 3; i++) {
		struct th_resp r = {0};
		const char *one, *two, *res;
		json_t *j = NULL;
		int k;

		th_http(cl.gws[1].base, "POST", "/api/v1/execute/stream", body, NULL, 30000, &r);
		one = strstr(r.body,
			     "event: stdout\ndata: {\"seq\":1,\"stream\":\"stdout\",\"data\":"
			     "\"one\\n\"}");
		two = strstr(r.body, "\"data\":\"two\\n\"}");
		res = strstr(r.body, "event: result\ndata: ");
		if (res)
			j = json_loads(res + 20, JSON_DISABLE_EOF_CHECK, NULL);
		k = cl_node_index(&cl, th_str(j, "node"));
		CHECKF(r.status == 200 && one && two && res && one < two && two < res,
		       "execute/stream: %ld\n%.1000s", r.status, r.body);
		if (res && k < 0)
			cl_no_node("POST /api/v1/execute/stream", th_str(j, "node"));
		CHECK_STR(th_str(j, "stdout"), "one\ntwo\n");
		if (k >= 0 && !used[k])
			nodes++, used[k] = true;
		json_decref(j);
		th_resp_fini(&r);
	}
	printf("execute/stream through gateway 2: output from %d nodes\n", nodes);
	CHECK(nodes >= 2);
}

/* ---- the proxy over the tunnels ------------------------------------------- */

/* Does pid see a tmpfs at dir (th_cluster_gw_start's hiding)? */
static bool hides(pid_t pid, const char *dir)
{
	char path[64], line[1024], want[400];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	snprintf(want, sizeof(want), " %s ", dir);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, want) && strstr(line, " - tmpfs ");
	if (f)
		fclose(f);
	return found;
}

/* CONNECT target:3000 through node k's tunnel with key (NULL: none): the
 * tunnel's answer to the CONNECT. */
static long tunnel_connect(int k, const char *key, const char *target)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hd = NULL;
	char url[128], proxy[96], auth[128];
	long code = 0;

	snprintf(url, sizeof(url), "http://%s:3000/", target);
	snprintf(proxy, sizeof(proxy), "http://%s", cl.nodes[k].tunnel + strlen("tcp://"));
	if (key) {
		snprintf(auth, sizeof(auth), "Proxy-Authorization: Bearer %s", key);
		hd = curl_slist_append(hd, auth);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROXY, proxy);
	curl_easy_setopt(h, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXYHEADER, hd);
	curl_easy_setopt(h, CURLOPT_HEADEROPT, (long)CURLHEADER_SEPARATE);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_HTTP_CONNECTCODE, &code);
	curl_easy_cleanup(h);
	curl_slist_free_all(hd);
	return code;
}

/* A download counted, not kept (httpc's th_http keeps it whole). */
struct count {
	size_t bytes, not_x;
};

static size_t count_x(char *p, size_t size, size_t n, void *arg)
{
	struct count *c = arg;

	for (size_t i = 0; i < size * n; i++)
		c->not_x += p[i] != 'x';
	c->bytes += size * n;
	return size * n;
}

/* 8 MiB each way through the tunnel, streamed (the gateway's buffers are
 * far smaller). */
static void test_proxy_bodies(const char *id)
{
	size_t big = 8u << 20;
	char path[128], url[256], want[32], *body = malloc(big + 1);
	struct th_resp r = {0};
	struct count c = {0};
	long status = 0;
	CURL *h;

	if (!body)
		return;
	memset(body, 'y', big);
	body[big] = '\0';
	snprintf(path, sizeof(path), "/faas/%s/upload", id);
	th_http(cl.gws[1].base, "POST", path, body, NULL, 60000, &r);
	snprintf(want, sizeof(want), "\"got\":%zu", big);
	CHECKF(r.status == 200 && strstr(r.body, want), "8 MiB up through the tunnel: %ld %.200s",
	       r.status, r.body);
	th_resp_fini(&r);
	free(body);

	snprintf(url, sizeof(url), "%s/faas/%s/big", cl.gws[0].base, id);
	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_x);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	CHECKF(status == 200 && c.bytes == big && c.not_x == 0,
	       "8 MiB down through the tunnel: %ld, %zu bytes, %zu not 'x'", status, c.bytes,
	       c.not_x);
}

/* sandbox-service's "Persistent Node.js Server": made through gateway 1,
 * reached at /proxy/{id}/ through gateway 2. */
static void test_dev_server(void)
{
	static const char body[] =
		"{\"runtime\": \"node\", \"mode\": \"persistent\", \"dev_server\": true, "
		"\"code\": \"require('http').createServer((q, s) => s.end('dev ' + q.url))"
		".listen(3000)\"}";
	char path[128];
	struct th_resp r = {0};
	json_t *j = cl_json(cl.gws[0].base, "POST", "/sandbox", body, 200, 60000);
	const char *id = th_str(j, "id");

	if (!j) {
		json_decref(j);
		return;
	}
	snprintf(path, sizeof(path), "/proxy/%s/x?y=1", id);
	th_http(cl.gws[1].base, "GET", path, NULL, NULL, 30000, &r);
	CHECKF(r.status == 200 && strcmp(r.body, "dev /x?y=1") == 0,
	       "dev server of %s (on %s) through gateway 2: %ld %.200s", id,
	       cl_owner(id) >= 0 ? cl.nodes[cl_owner(id)].id : "?", r.status, r.body);
	th_resp_fini(&r);
	snprintf(path, sizeof(path), "/sandbox/%s", id);
	json_decref(cl_json(cl.gws[1].base, "DELETE", path, NULL, 204, 30000));
	json_decref(j);
}

void test_proxy(void)
{
	char path[128], uuid[SBX_UUID_LEN + 1];

	for (int g = 0; g < 2; g++)
		CHECKF(hides(cl.gws[g].pid, cl.dir),
		       "gateway %d sees the nodes' directory: the proxy could use their sockets",
		       g + 1);
	for (int d = 0; d < objs.n_deployments; d++)
		for (int g = 0; g < 2; g++) {
			json_t *j;

			snprintf(path, sizeof(path), "/faas/%s/hello?from=%d", objs.deployment[d],
				 g);
			j = cl_json(cl.gws[g].base, "GET", path, NULL, 200, 60000);
			const char *want = path;

			snprintf(path, sizeof(path), "/hello?from=%d", g);
			CHECK_STR(th_str(j, "path"), want);
			CHECK_STR(th_str(j, "node"), "x");
			json_decref(j);
		}
	long long t0 = sbx_clock_mono_ms();

	if (objs.n_deployments)
		test_proxy_bodies(objs.deployment[objs.n_deployments - 1]);
	printf("8 MiB up and down through a tunnel: %lld ms\n", sbx_clock_mono_ms() - t0);
	t0 = sbx_clock_mono_ms();
	test_dev_server();
	printf("a dev server made and reached through the other gateway: %lld ms\n",
	       sbx_clock_mono_ms() - t0);
	/* What a node exposes between hosts wants the key. */
	sbx_tagged_uuid(NULL, uuid);
	CHECK_INT(tunnel_connect(0, NULL, uuid), 407);
	CHECK_INT(tunnel_connect(0, "wrong-key", uuid), 407);
	CHECK_INT(tunnel_connect(0, cl.key, uuid), 404);
	CHECK_INT(tunnel_connect(1, cl.key, "not-a-uuid"), 404);
}
