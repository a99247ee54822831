/* A cluster node (README "Cluster") as the real sandboxd shows it, over
 * RPC on tcp://127.0.0.1 with the proxy tunnel on: its node id made once
 * and kept across a restart (same id and tag, objects made after the
 * restart carry the tag), --node-id overriding it and a bad one refused;
 * every id it makes tagged and every reply naming the node; Health's load
 * (slots as configured, running up during a `sleep`, memory, the tunnel's
 * port); GetStats and AdminStatus listing the node; started_before; a
 * deployment reached with libcurl through the tunnel as an HTTP proxy
 * (CONNECT); and the cluster key required by RPC (Health too) and by the
 * tunnel (407 without it). */
#include <curl/curl.h>
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"
#include "envelope.h"
#include "harness.h"
#include "httpc.h"
#include "json_pb.h"
#include "methods.h"
#include "nodeid.h"
#include "rpcc.h"
#include "testlib.h"

#define KEY "cluster-k3y-for-the-test"

static struct th_daemon d;
static char node_id[64], tag[SBX_NODE_TAG_LEN + 1];

/* For CHECK_STR on arrays (whose address is never NULL). */
static const char *S(const char *p)
{
	return p;
}

/* method(json) with RpcRequest.cluster_key = key (libsandbox's cluster
 * options are the client's; this sends the envelope itself). */
static struct th_rep keyed(const char *key, const char *method, const char *json)
{
	const sbx_method *m = sbx_method_find(method);
	Sbx__RpcRequest env = SBX__RPC_REQUEST__INIT;
	struct th_rep out = {.status = -1};
	ProtobufCMessage *req = NULL, *pl = NULL;
	Sbx__RpcReply *reply = NULL;
	json_t *in = json_loads(json, 0, NULL);
	uint8_t *payload = NULL, *buf = NULL;
	nng_socket s;
	nng_msg *msg;
	char err[256];

	if (!m || !in || jpb_from_json(m->input, in, NULL, &req, err, sizeof(err)) < 0) {
		fprintf(stderr, "bad test request %s %s\n", method, json);
		json_decref(in);
		return out;
	}
	json_decref(in);
	env.payload.len = protobuf_c_message_get_packed_size(req);
	env.payload.data = payload = malloc(env.payload.len + 1);
	protobuf_c_message_pack(req, payload);
	env.method = (char *)method;
	env.id = 7;
	env.cluster_key = (char *)key;
	buf = malloc(sbx__rpc_request__get_packed_size(&env));
	sbx__rpc_request__pack(&env, buf);
	if (nng_req0_open(&s) == 0) {
		nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 60000);
		if (nng_dial(s, d.rpc, NULL, 0) == 0 &&
		    nng_send(s, buf, sbx__rpc_request__get_packed_size(&env), 0) == 0 &&
		    nng_recvmsg(s, &msg, 0) == 0) {
			if (sbx_envelope_unpack_reply(nng_msg_body(msg), nng_msg_len(msg), &reply) ==
			    0) {
				out.status = reply->status;
				snprintf(out.msg, sizeof(out.msg), "%s",
					 reply->message ? reply->message : "");
				if (reply->status == SBX_OK &&
				    sbx_payload_unpack(m->output, &reply->payload, &pl) == 0) {
					out.j = jpb_to_json(pl, NULL);
					protobuf_c_message_free_unpacked(pl, NULL);
				}
				sbx__rpc_reply__free_unpacked(reply, NULL);
			}
			nng_msg_free(msg);
		}
		nng_close(s);
	}
	protobuf_c_message_free_unpacked(req, NULL);
	free(payload);
	free(buf);
	return out;
}

/* A call to the daemon, with the key when `key` is not NULL. */
static struct th_rep call(const char *key, const char *method, const char *json)
{
	return key ? keyed(key, method, json) : th_rpc(d.rpc, 60000, method, "%s", json);
}

static bool tagged(const char *id)
{
	char t[SBX_NODE_TAG_LEN + 1];

	return sbx_id_tag(id, t) && strcmp(t, tag) == 0;
}

/* Start sandboxd on d with the tunnel, the rpc on tcp and `extra`. */
static void start(const char *const *extra)
{
	const char *args[16] = {"--tunnel", "tcp://127.0.0.1:0", "--max-concurrent", "3",
				"--disk-limit-mb", "0", "--log-level", "debug"};
	size_t n = 8;

	for (; extra && *extra && n < 15; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	CHECK(th_daemon_start(&d, args) > 0);
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	size_t len = strlen(arg), add = size * n;

	if (len + add < 4096) {
		memcpy((char *)arg + len, p, add);
		((char *)arg)[len + add] = 0;
	}
	return add;
}

/* GET http://<target>:3000/path through the tunnel on `port` with libcurl
 * as the gateway does it: the HTTP status, the CONNECT's in *ret_connect. */
static long through_tunnel(unsigned port, const char *target, const char *key, char *body,
			   long *ret_connect)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[128], proxy[64], auth[128];
	long code = 0;

	body[0] = 0;
	snprintf(url, sizeof(url), "http://%s:3000/through/the/tunnel", target);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROXY, proxy);
	curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "");
	if (key) {
		snprintf(auth, sizeof(auth), "Proxy-Authorization: Bearer %s", key);
		h = curl_slist_append(h, auth);
		curl_easy_setopt(c, CURLOPT_PROXYHEADER, h);
		curl_easy_setopt(c, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 90L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_HTTP_CONNECTCODE, ret_connect);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return code;
}

static const char server_js[] =
	"require('http').createServer((q, s) => s.end('served ' + q.url))"
	".listen(3000, '127.0.0.1');";

/* Deploy the server; its id into id. */
static void deploy(const char *key, char *id, size_t idlen)
{
	json_t *b = json_pack("{s:s, s:s}", "runtime", "node", "code", server_js);
	char *txt = json_dumps(b, JSON_COMPACT);
	struct th_rep r = call(key, "Deploy", txt);

	TH_CHECK_STATUS(r, SBX_OK);
	snprintf(id, idlen, "%s", th_rep_str(&r, "deployment_id"));
	CHECKF(tagged(id), "deployment %s lacks tag %s", id, tag);
	CHECK_STR(th_rep_str(&r, "node"), S(node_id));
	th_rep_fini(&r);
	free(txt);
	json_decref(b);
}

/* OpenProxy, then the service through the tunnel with `key` (expect
 * 200) and, when the node has a key, without it (407). */
static void reach(const char *key, const char *dep)
{
	char req[160], target[64], body[4096];
	const char *sock, *base;
	struct th_rep r, h;
	long connect = 0;
	unsigned port;

	snprintf(req, sizeof(req), "{\"kind\":\"faas\",\"id\":\"%s\",\"wait_ms\":60000}", dep);
	r = call(key, "OpenProxy", req);
	TH_CHECK_STATUS(r, SBX_OK);
	sock = th_rep_str(&r, "socket_path");
	base = strrchr(sock, '/');
	snprintf(target, sizeof(target), "%.*s", base ? (int)strcspn(base + 1, ".") : 0,
		 base ? base + 1 : "");
	port = (unsigned)th_rep_int(&r, "tunnel_port");
	h = call(key, "Health", "{}");
	CHECK(port > 0);
	CHECK_INT(port, json_integer_value(json_object_get(th_rep_get(&h, "node"), "tunnel_port")));
	CHECK_INT(through_tunnel(port, target, key, body, &connect), 200);
	CHECK_INT(connect, 200);
	CHECKF(strcmp(body, "served /through/the/tunnel") == 0, "body '%s'", body);
	if (key) {
		CHECK_INT(through_tunnel(port, target, NULL, body, &connect), 0);
		CHECK_INT(connect, 407);
		CHECK_INT(through_tunnel(port, target, "wrong", body, &connect), 0);
		CHECK_INT(connect, 407);
	}
	th_rep_fini(&h);
	th_rep_fini(&r);
}

static void *bg_sleep(void *arg)
{
	*(struct th_rep *)arg = th_rpc(d.rpc, 60000, "Run", "{\"argv\":[\"/bin/sleep\",\"2\"]}");
	return NULL;
}

/* Health's load: slots as configured, running up during a sleep. */
static void test_load(void)
{
	struct th_rep h = call(NULL, "Health", "{}"), bg;
	json_t *n = th_rep_get(&h, "node");
	long long running = 0;
	pthread_t t;

	CHECK(n != NULL);
	CHECK_INT(json_integer_value(json_object_get(n, "slots")), 3);
	CHECK_INT(json_integer_value(json_object_get(n, "running")), 0);
	CHECK(json_integer_value(json_object_get(n, "memory_total_mb")) > 0);
	CHECK(json_integer_value(json_object_get(n, "memory_available_mb")) > 0);
	CHECK(json_integer_value(json_object_get(n, "memory_available_mb")) <=
	      json_integer_value(json_object_get(n, "memory_total_mb")));
	CHECK(json_integer_value(json_object_get(n, "tunnel_port")) > 0);
	th_rep_fini(&h);
	CHECK(pthread_create(&t, NULL, bg_sleep, &bg) == 0);
	for (int i = 0; i < 100 && running < 1; i++) {
		h = call(NULL, "Health", "{}");
		running = json_integer_value(json_object_get(th_rep_get(&h, "node"), "running"));
		th_rep_fini(&h);
		th_sleep_ms(20);
	}
	CHECK_INT(running, 1);
	pthread_join(t, NULL);
	TH_CHECK_STATUS(bg, SBX_OK);
	CHECK_STR(th_rep_str(&bg, "node"), S(node_id));
	th_rep_fini(&bg);
	h = call(NULL, "Health", "{}");
	CHECK_INT(json_integer_value(json_object_get(th_rep_get(&h, "node"), "running")), 0);
	th_rep_fini(&h);
}

/* Every id tagged, every reply naming the node; started_before. */
static void test_ids_and_replies(void)
{
	struct th_rep r = call(NULL, "Run", "{\"argv\":[\"/bin/true\"]}"), l, s;
	char eid[64], req[160];
	json_t *e;

	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "node"), S(node_id));
	th_rep_fini(&r);
	r = call(NULL, "CreateSandbox", "{\"runtime\":\"python\",\"code\":\"print(1)\"}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECKF(tagged(th_rep_str(&r, "id")), "sandbox %s", th_rep_str(&r, "id"));
	CHECK_STR(th_rep_str(&r, "node"), S(node_id));
	th_rep_fini(&r);
	r = call(NULL, "CreateSession", "{}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECKF(tagged(th_rep_str(&r, "session_id")), "session %s", th_rep_str(&r, "session_id"));
	CHECK_STR(th_rep_str(&r, "node"), S(node_id));
	th_rep_fini(&r);
	r = call(NULL, "ListSandboxes", "{}");
	e = json_array_get(th_rep_get(&r, "sandboxes"), 0);
	CHECK_STR(th_str(e, "node"), S(node_id));
	th_rep_fini(&r);
	/* The history: newest first, tagged; started_before cuts it. */
	l = call(NULL, "ListExecutions", "{}");
	TH_CHECK_STATUS(l, SBX_OK);
	e = json_array_get(th_rep_get(&l, "executions"), 0);
	snprintf(eid, sizeof(eid), "%s", th_str(e, "execution_id"));
	CHECKF(tagged(eid), "execution %s", eid);
	CHECK_STR(th_str(e, "node"), S(node_id));
	snprintf(req, sizeof(req), "{\"started_before\":\"%s\"}", th_str(e, "started_at"));
	s = call(NULL, "ListExecutions", req);
	TH_CHECK_STATUS(s, SBX_OK);
	CHECK(json_array_size(th_rep_get(&s, "executions")) ==
	      json_array_size(th_rep_get(&l, "executions")) - 1);
	th_rep_fini(&s);
	s = call(NULL, "ListExecutions", "{\"started_before\":\"2000-01-01T00:00:00.000Z\"}");
	CHECK_INT(json_array_size(th_rep_get(&s, "executions")), 0);
	th_rep_fini(&s);
	s = call(NULL, "ListExecutions", "{\"started_before\":\"last tuesday\"}");
	TH_CHECK_STATUS(s, SBX_INVALID_ARGUMENT);
	th_rep_fini(&s);
	snprintf(req, sizeof(req), "{\"execution_id\":\"%s\"}", eid);
	s = call(NULL, "GetExecution", req);
	CHECK_STR(th_rep_str(&s, "node"), S(node_id));
	th_rep_fini(&s);
	th_rep_fini(&l);
	/* GetStats and AdminStatus list this node, up. */
	for (int i = 0; i < 2; i++) {
		s = call(NULL, i ? "AdminStatus" : "GetStats", "{}");
		TH_CHECK_STATUS(s, SBX_OK);
		CHECK_INT(json_array_size(th_rep_get(&s, "nodes")), 1);
		e = json_array_get(th_rep_get(&s, "nodes"), 0);
		CHECK_STR(th_str(e, "id"), S(node_id));
		CHECK_STR(th_str(e, "tag"), S(tag));
		CHECK(json_is_true(json_object_get(e, "up")));
		CHECK_INT(json_integer_value(json_object_get(e, "objects")), 2);
		th_rep_fini(&s);
	}
}

/* After a restart with the key: the same node; RPC and the tunnel want
 * the key. */
static void test_keyed(const char *dep)
{
	struct th_rep r = th_rpc(d.rpc, 60000, "Health", "{}");
	char req[128];

	TH_CHECK_STATUS(r, SBX_UNAUTHENTICATED);
	CHECKF(strstr(r.msg, "cluster key") != NULL, "%s", r.msg);
	th_rep_fini(&r);
	r = keyed("not the key", "Health", "{}");
	TH_CHECK_STATUS(r, SBX_UNAUTHENTICATED);
	th_rep_fini(&r);
	r = keyed("", "ListSandboxes", "{}");
	TH_CHECK_STATUS(r, SBX_UNAUTHENTICATED);
	th_rep_fini(&r);
	r = keyed(KEY, "Health", "{}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_str(th_rep_get(&r, "node"), "id"), S(node_id));
	CHECK_STR(th_str(th_rep_get(&r, "node"), "tag"), S(tag));
	th_rep_fini(&r);
	r = keyed(KEY, "CreateSandbox", "{\"runtime\":\"python\",\"code\":\"print(1)\"}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECKF(tagged(th_rep_str(&r, "id")), "sandbox %s after the restart", th_rep_str(&r, "id"));
	th_rep_fini(&r);
	snprintf(req, sizeof(req), "{\"id\":\"%s\"}", dep);
	r = keyed(KEY, "GetDeployment", req);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "node"), S(node_id));
	th_rep_fini(&r);
	reach(KEY, dep);
}

int main(void)
{
	char dep[64] = "", path[600], text[80] = "";
	struct th_rep r;
	FILE *f;
	int st;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	CHECK(th_daemon_init(&d, "sbx-node-tunnel") == 0);
	snprintf(d.rpc, sizeof(d.rpc), "tcp://127.0.0.1:%d", tl_free_port());
	start(NULL);
	th_daemon_up_or_skip(&d);
	r = call(NULL, "Health", "{}");
	snprintf(node_id, sizeof(node_id), "%s", th_str(th_rep_get(&r, "node"), "id"));
	th_rep_fini(&r);
	sbx_node_tag(node_id, tag);
	CHECKF(strlen(node_id) == 36, "node id '%s'", node_id);
	snprintf(path, sizeof(path), "%s/node-id", d.state);
	if ((f = fopen(path, "re"))) {
		CHECK(fgets(text, sizeof(text), f) != NULL);
		fclose(f);
	}
	CHECK(strncmp(text, node_id, 36) == 0);
	test_load();
	test_ids_and_replies();
	deploy(NULL, dep, sizeof(dep));
	reach(NULL, dep);
	th_daemon_stop(&d, 30000);

	/* The same state with a key: the same node, the key wanted. */
	start((const char *const[]){"--cluster-key", KEY, NULL});
	for (int i = 0; i < 500; i++) {
		r = keyed(KEY, "Health", "{}");
		st = r.status;
		th_rep_fini(&r);
		if (st == SBX_OK)
			break;
		th_sleep_ms(20);
	}
	test_keyed(dep);
	th_daemon_stop(&d, 30000);

	/* --node-id wins; a bad one is refused at start. */
	start((const char *const[]){"--node-id", "node-seven", NULL});
	th_daemon_up_or_skip(&d);
	snprintf(node_id, sizeof(node_id), "node-seven");
	sbx_node_tag(node_id, tag);
	r = call(NULL, "Run", "{\"argv\":[\"/bin/true\"]}");
	CHECK_STR(th_rep_str(&r, "node"), S(node_id));
	th_rep_fini(&r);
	r = call(NULL, "ListExecutions", "{\"limit\":1}");
	CHECKF(tagged(th_str(json_array_get(th_rep_get(&r, "executions"), 0), "execution_id")),
	       "execution of node-seven");
	th_rep_fini(&r);
	th_daemon_stop(&d, 30000);
	start((const char *const[]){"--node-id", "not a node id", NULL});
	CHECK(th_wait(d.pid, 10000, &st) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2);
	d.pid = 0;
	th_daemon_fini(&d);
	curl_global_cleanup();
	TEST_DONE();
}
