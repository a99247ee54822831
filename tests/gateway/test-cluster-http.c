/* The gateway in cluster mode (README "Cluster") against two fake nodes
 * (tests/client/fakenode.h), in process: answers merged from every node
 * list the nodes and say whether they are partial (body and
 * X-Sandboxd-Partial), an object of a node that is down is a 503 naming
 * it, a request whose node goes away while running it is a 503 saying it
 * was not retried. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fakenode.h"
#include "httpc.h"
#include "inproc.h"
#include "nodeid.h"
#include "testlib.h"

static struct fake_node node_a, node_b;
static const char *base; /* the gateway's */

/* GET path until its JSON's "partial" is `want` (3 s at most); the last
 * answer in *r. */
static json_t *wait_partial(const char *path, bool want, struct th_resp *r)
{
	uint64_t until = (uint64_t)sbx_clock_mono_ms() + 3000;

	for (;;) {
		json_t *j;

		th_resp_fini(r);
		th_http(base, "GET", path, NULL, NULL, 5000, r);
		j = th_json(r);
		if ((j && json_is_boolean(json_object_get(j, "partial")) &&
		     json_is_true(json_object_get(j, "partial")) == want) ||
		    (uint64_t)sbx_clock_mono_ms() > until)
			return j;
		json_decref(j);
		usleep(50 * 1000);
	}
}

static int count_up(const json_t *nodes)
{
	size_t i;
	json_t *n;
	int up = 0;

	json_array_foreach(nodes, i, n) up += json_is_true(json_object_get(n, "up"));
	return up;
}

/* node-a's and node-b's pools as JSON: the "exec" ones summed, then
 * node-b's "python", every documented key there. */
static bool warm_pools_ok(const json_t *a)
{
	const json_t *e = json_array_get(a, 0), *p = json_array_get(a, 1);
	char why[128];
	static const char shape[] = "kind:s size:i ready:i in_use:i built:i taken:i misses:i "
				    "failed:i refill_per_s:n memory_kb:i";

	return json_array_size(a) == 2 && th_json_shape(e, shape, why, sizeof(why)) &&
	       th_json_shape(p, shape, why, sizeof(why)) &&
	       !strcmp(json_string_value(json_object_get(e, "kind")), "exec") &&
	       json_integer_value(json_object_get(e, "size")) == 4 &&
	       json_integer_value(json_object_get(e, "ready")) == 1 &&
	       json_integer_value(json_object_get(e, "built")) == 21 &&
	       json_integer_value(json_object_get(e, "memory_kb")) == 3000 &&
	       json_number_value(json_object_get(e, "refill_per_s")) == 1.0 &&
	       !strcmp(json_string_value(json_object_get(p, "kind")), "python") &&
	       json_integer_value(json_object_get(p, "size")) == 4;
}

static void test_all_up(void)
{
	struct th_resp r = {0};
	char hdr[128];
	json_t *j = wait_partial("/api/v1/stats", false, &r), *nodes;

	CHECKF(r.status == 200, "%ld %s", r.status, r.body);
	nodes = json_object_get(j, "nodes");
	CHECKF(json_array_size(nodes) == 2 && count_up(nodes) == 2, "%s", r.body);
	CHECKF(json_is_false(json_object_get(j, "partial")), "%s", r.body);
	CHECK(th_header(&r, "X-Sandboxd-Partial", hdr, sizeof(hdr)) == NULL);
	/* Counters summed over the nodes; warm pools by kind (fakenode.c:
	 * "exec" on both, "python" on node-b). */
	CHECKF(json_integer_value(json_object_get(j, "total_executions")) == 20, "%s", r.body);
	CHECKF(warm_pools_ok(json_object_get(j, "warm_pools")), "%s", r.body);
	json_decref(j);
	th_resp_fini(&r);

	th_http(base, "GET", "/admin/api/status", NULL, NULL, 5000, &r);
	j = th_json(&r);
	CHECKF(th_json_shape(j,
			     "uptime:n active_sandboxes:i total_sandboxes_created:i backend_type:s "
			     "version:s memory_usage:o cpu_usage:z nodes:a warm_pools:a partial:b",
			     hdr, sizeof(hdr)),
	       "%s: %s", hdr, r.body);
	CHECKF(json_integer_value(json_object_get(j, "active_sandboxes")) == 4, "%s", r.body);
	CHECKF(warm_pools_ok(json_object_get(j, "warm_pools")), "%s", r.body);
	json_decref(j);
	th_resp_fini(&r);
}

static void test_one_down(void)
{
	struct th_resp r = {0};
	char hdr[128], id[SBX_UUID_LEN + 1], path[128];
	json_t *j;

	fake_node_stop(&node_b);
	j = wait_partial("/api/v1/stats", true, &r);
	CHECKF(r.status == 200 && json_is_true(json_object_get(j, "partial")), "%ld %s", r.status,
	       r.body);
	CHECKF(count_up(json_object_get(j, "nodes")) == 1, "%s", r.body);
	CHECKF(th_header(&r, "X-Sandboxd-Partial", hdr, sizeof(hdr)) && !strcmp(hdr, "node-b"),
	       "%s", r.headers);
	json_decref(j);
	th_resp_fini(&r);

	j = wait_partial("/admin/api/status", true, &r);
	CHECKF(json_array_size(json_object_get(j, "nodes")) == 2, "%s", r.body);
	json_decref(j);
	th_resp_fini(&r);

	/* A list: still the bare array the seed shows, the header says. */
	th_http(base, "GET", "/sandboxes", NULL, NULL, 5000, &r);
	CHECKF(r.status == 200 && r.body[0] == '[', "%ld %s", r.status, r.body);
	CHECKF(th_header(&r, "X-Sandboxd-Partial", hdr, sizeof(hdr)) && !strcmp(hdr, "node-b"),
	       "%s", r.headers);
	th_resp_fini(&r);

	/* An object of the node that is down. */
	sbx_tagged_uuid(node_b.tag, id);
	snprintf(path, sizeof(path), "/sandbox/%s", id);
	th_http(base, "GET", path, NULL, NULL, 5000, &r);
	CHECKF(r.status == 503 && strstr(r.body, "{\"error\":\"node node-b that holds this object "
						 "is down; retry when it is back\"}"),
	       "%ld %s", r.status, r.body);
	CHECKF(th_header(&r, "Retry-After", hdr, sizeof(hdr)) && !strcmp(hdr, "1"), "%s",
	       r.headers);
	th_resp_fini(&r);
}

static void *execute(void *arg)
{
	th_http(base, "POST", "/api/v1/execute", "{\"language\": \"python\", \"code\": \"1\"}",
		NULL, 10000, arg);
	return NULL;
}

/* node-a takes the run, then goes away before answering. */
static void test_gone_while_running(void)
{
	struct th_resp r = {0};
	uint64_t until = (uint64_t)sbx_clock_mono_ms() + 5000;
	pthread_t t;

	atomic_store(&node_a.hold, true);
	pthread_create(&t, NULL, execute, &r);
	while (atomic_load(&node_a.held) == 0 && (uint64_t)sbx_clock_mono_ms() < until)
		usleep(10 * 1000);
	CHECK_INT(atomic_load(&node_a.held), 1);
	fake_node_stop(&node_a);
	pthread_join(t, NULL);
	CHECKF(r.status == 503 && strstr(r.body, "node node-a went away while running this "
						 "request; it was not retried"),
	       "%ld %s", r.status, r.body);
	th_resp_fini(&r);
}

int main(void)
{
	char *dir = tl_tmpdir("gw-cluster"), rpc[640], events[300];
	char *argv[] = {"sandbox-gateway", "--listen", "127.0.0.1:0", "--rpc", rpc,
			"--events",	   events,     NULL};
	struct gw_inproc gw;
	char url_a[300], url_b[300];

	signal(SIGPIPE, SIG_IGN);
	if (!dir)
		return 1;
	snprintf(url_a, sizeof(url_a), "ipc://%s/a.sock", dir);
	snprintf(url_b, sizeof(url_b), "ipc://%s/b.sock", dir);
	snprintf(rpc, sizeof(rpc), "%s,%s", url_a, url_b);
	snprintf(events, sizeof(events), "ipc://%s/events.sock", dir);
	if (fake_node_start(&node_a, "node-a", url_a, 0) < 0 ||
	    fake_node_start(&node_b, "node-b", url_b, 1) < 0) {
		fprintf(stderr, "cannot start the fake nodes in %s\n", dir);
		return 1;
	}
	if (gw_inproc_start(&gw, argv) < 0)
		return 1;
	base = gw.base;
	test_all_up();
	test_one_down();
	test_gone_while_running();
	gw_inproc_stop(&gw);
	fake_node_stop(&node_a);
	fake_node_stop(&node_b);
	rmdir(dir);
	free(dir);
	TEST_DONE();
}
