/* Cluster mode (issue 13, README "Cluster") with real processes: three
 * sandboxd nodes (node-1..3, each its own state directory, RPC, events
 * and proxy tunnel on loopback TCP, one cluster key, two execution slots)
 * and two sandbox-gateways that each list all three. The gateways run
 * where the nodes' directories are hidden (th_cluster_gw_start), so all
 * they do goes over TCP.
 *
 * This file: every gateway lists the three nodes up with their tags
 * (and sandboxctl nodes does); runs and objects are spread over the nodes
 * and every id begins with its node's tag; an object made through one
 * gateway is read, run and deleted through the other; the lists merge
 * every node's objects (and page across them) and the status and stats
 * add up.
 * test-cluster-live.c: live logs and the proxy across nodes.
 * test-cluster-kill.c: kill -9 of a node under load, and its restart.
 * At the end every process stops cleanly, without a sanitizer report. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"
#include "nodeid.h"
#include "stack.h"
#include "test-cluster.h"
#include "testlib.h"

/* Longer than the gateways' Health poll (500 ms) and its round trip. */
#define PLACE_GAP_MS 800

struct th_cluster cl;
struct cl_objects objs;

const char *const cl_node_args[] = {
	"--max-concurrent", "2", "--disk-limit-mb", "0", "--min-free-disk-mb", "0", NULL};

int cl_owner(const char *id)
{
	int k = cl_node_of_tag(&cl, id);

	CHECKF(k >= 0, "id %s begins with the tag of no node", id);
	return k;
}

void cl_no_node(const char *what, const char *got)
{
	static char seen[32][96];
	static int n_seen;

	for (int i = 0; i < n_seen; i++)
		if (strcmp(seen[i], what) == 0)
			return;
	if (n_seen < 32)
		snprintf(seen[n_seen++], sizeof(seen[0]), "%s", what);
	tl_fail(__FILE__, __LINE__, "\"node\" names a node",
		"%s: the reply names no node (\"node\": %s); further replies of it not reported",
		what, got);
}

/* j["node"] names node k (the owner by tag). */
static void check_node_field(const json_t *j, int k, const char *what)
{
	const char *node = th_str(j, "node");

	if (cl_node_index(&cl, node) < 0) {
		cl_no_node(what, node);
		return;
	}
	CHECKF(k >= 0 && cl_node_index(&cl, node) == k, "%s: \"node\" is %s, its id's tag says %s",
	       what, node, k >= 0 ? cl.nodes[k].id : "(no node)");
}

/* Has any node or gateway exited (a flag refused, a crash at start)? */
static bool one_exited(void)
{
	pid_t *pids[TH_MAX_NODES + TH_MAX_GWS];
	int n = 0, st;

	for (int i = 0; i < cl.n_nodes; i++)
		pids[n++] = &cl.nodes[i].pid;
	for (int i = 0; i < cl.n_gws; i++)
		pids[n++] = &cl.gws[i].pid;
	for (int i = 0; i < n; i++)
		if (*pids[i] > 0 && th_wait(*pids[i], 0, &st) == 0) {
			printf("pid %d exited at start (wait status %#x)\n", (int)*pids[i], st);
			*pids[i] = 0;
			return true;
		}
	return false;
}

static int start_cluster(void)
{
	static const int all_up[] = {1, 1, 1};
	long long until = sbx_clock_mono_ms() + 30000;
	struct cl_view v = {0};
	int g = 0;

	if (th_cluster_init(&cl, "sbx-cluster", 3, 2) < 0) {
		tl_fail(__FILE__, __LINE__, "th_cluster_init", "no directory or ports");
		return -1;
	}
	for (int i = 0; i < 3; i++)
		if (th_cluster_node_start(&cl, i, cl_node_args) < 0)
			return -1;
	for (int i = 0; i < 2; i++)
		if (th_cluster_gw_start(&cl, i, 3, NULL) < 0)
			return -1;
	/* Both gateways list the three nodes up. */
	while (g < 2 && !one_exited() && sbx_clock_mono_ms() < until) {
		if (cl_wait_view(&cl, cl.gws[g].base, all_up, 3, 0, &v) >= 0)
			g++;
		else
			th_sleep_ms(100);
	}
	if (g < 2) {
		tl_fail(__FILE__, __LINE__, "cluster up",
			"gateway %d: /admin/api/status %ld, %d nodes listed, up %d %d %d", g + 1,
			v.status, v.listed, v.up[0], v.up[1], v.up[2]);
		return -1;
	}
	return 0;
}

/* nodes (a JSON array) lists the three nodes, each up with its tag,
 * address, slots and tunnel port. */
static void check_nodes(const json_t *nodes, const char *what)
{
	bool seen[3] = {false};

	CHECKF(json_array_size(nodes) == 3, "%s: %zu nodes", what, json_array_size(nodes));
	for (size_t i = 0; i < json_array_size(nodes); i++) {
		json_t *n = json_array_get(nodes, i);
		int k = cl_node_index(&cl, th_str(n, "id"));
		char tag[SBX_NODE_TAG_LEN + 1];
		const char *want_tag = tag;

		CHECKF(k >= 0, "%s: unknown node %s", what, th_str(n, "id"));
		if (k < 0)
			continue;
		seen[k] = true;
		sbx_node_tag(cl.nodes[k].id, tag);
		CHECK_STR(th_str(n, "tag"), want_tag);
		CHECK_STR(th_str(n, "address"), cl.nodes[k].rpc);
		CHECKF(json_is_true(json_object_get(n, "up")), "%s: %s not up", what,
		       cl.nodes[k].id);
		CHECK_INT(json_integer_value(json_object_get(n, "slots")), 2);
		CHECK_INT(json_integer_value(json_object_get(n, "tunnel_port")),
			  atoi(strrchr(cl.nodes[k].tunnel, ':') + 1));
		CHECK(json_integer_value(json_object_get(n, "memory_total_mb")) > 0);
	}
	CHECKF(seen[0] && seen[1] && seen[2], "%s: not every node listed", what);
}

/* /admin/api/status and /api/v1/stats through both gateways, and
 * `sandboxctl nodes --json` (libsandbox's cluster mode of its own) list
 * the three nodes. */
static void test_nodes_listed(void)
{
	char *bin = tl_bin("sandboxctl"), cmd[1024], out[16384];
	size_t len = 0;
	json_t *j;
	FILE *f;

	for (int g = 0; g < 2; g++) {
		const char *paths[] = {"/admin/api/status", "/api/v1/stats"};

		for (int p = 0; p < 2; p++) {
			j = cl_json(cl.gws[g].base, "GET", paths[p], NULL, 200, 0);
			check_nodes(json_object_get(j, "nodes"), paths[p]);
			CHECKF(json_is_false(json_object_get(j, "partial")),
			       "%s: partial not false", paths[p]);
			json_decref(j);
		}
	}
	snprintf(cmd, sizeof(cmd), "%s --rpc %s,%s --rpc %s --cluster-key %s nodes --json 2>&1",
		 bin, cl.nodes[0].rpc, cl.nodes[1].rpc, cl.nodes[2].rpc, cl.key);
	f = popen(cmd, "r");
	while (f && len < sizeof(out) - 1 && !feof(f) && !ferror(f))
		len += fread(out + len, 1, sizeof(out) - 1 - len, f);
	out[len] = '\0';
	CHECKF(f && pclose(f) == 0, "sandboxctl nodes failed:\n%s", out);
	j = json_loads(out, 0, NULL);
	CHECKF(json_is_array(j), "sandboxctl nodes --json: %s", out);
	check_nodes(j, "sandboxctl nodes --json");
	json_decref(j);
	free(bin);
}

/* ---- placement ----------------------------------------------------------- */

struct call {
	const char *base, *path, *body;
	int delay_ms; /* before sending */
	long status;
	char node[40], exec_id[40];
};

static void *call_main(void *arg)
{
	struct call *c = arg;
	struct th_resp r = {0};
	json_t *j;

	th_sleep_ms(c->delay_ms);
	th_http(c->base, "POST", c->path, c->body, NULL, 60000, &r);
	c->status = r.status;
	j = th_json(&r);
	snprintf(c->node, sizeof(c->node), "%s", th_str(j, "node"));
	snprintf(c->exec_id, sizeof(c->exec_id), "%s", th_str(j, "execution_id"));
	if (r.status != 200)
		printf("POST %s: %ld %.300s\n", c->path, r.status, r.body);
	json_decref(j);
	th_resp_fini(&r);
	return NULL;
}

/* n calls of path at once, alternating the gateways: how many distinct
 * nodes ran them (each call CHECKed to be 200 naming a node). */
static int spread(const char *path, const char *body, int n, char exec_ids[][40])
{
	struct call c[8];
	pthread_t t[8];
	bool used[3] = {false};
	int nodes = 0;

	for (int i = 0; i < n && i < 8; i++) {
		c[i] = (struct call){.base = cl.gws[i % 2].base, .path = path, .body = body};
		pthread_create(&t[i], NULL, call_main, &c[i]);
	}
	for (int i = 0; i < n && i < 8; i++) {
		int k;

		pthread_join(t[i], NULL);
		k = cl_node_index(&cl, c[i].node);
		CHECKF(c[i].status == 200, "POST %s: %ld", path, c[i].status);
		if (c[i].status == 200 && k < 0)
			cl_no_node(path, c[i].node);
		if (k >= 0 && !used[k])
			nodes++, used[k] = true;
		if (exec_ids) {
			snprintf(exec_ids[i], 40, "%s", c[i].exec_id);
			CHECKF(k < 0 || cl_node_of_tag(&cl, c[i].exec_id) == k,
			       "execution %s ran on %s: not its tag's node", c[i].exec_id,
			       c[i].node);
		}
	}
	printf("%d x POST %s: %d nodes\n", n, path, nodes);
	return nodes;
}

/* Answers {node, path, got: bytes of the body}; /big: 8 MiB of 'x'. */
static const char node_server[] =
	"require('http').createServer((q, s) => {"
	"  let n = 0; q.on('data', d => n += d.length);"
	"  q.on('end', () => {"
	"    if (q.url === '/big') return s.end('x'.repeat(8 << 20));"
	"    s.setHeader('content-type', 'application/json');"
	"    s.end(JSON.stringify({node: process.env.NODE, path: q.url, got: n}));"
	"  });"
	"}).listen(3000, '127.0.0.1');";

/* POST /faas/deploy through gateway g; the id into objs. */
static void deploy(int g)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:{s:s}}", "runtime", "node", "code", node_server,
			      "entry_point", "server.js", "env_vars", "NODE", "x");
	char *text = json_dumps(b, JSON_COMPACT);
	json_t *j = cl_json(cl.gws[g].base, "POST", "/faas/deploy", text, 200, 120000);
	const char *id = th_str(j, "deployment_id");

	if (j && cl_owner(id) >= 0) {
		snprintf(objs.deployment[objs.n_deployments++], 40, "%s", id);
		check_node_field(j, cl_owner(id), "POST /faas/deploy");
	}
	json_decref(j);
	json_decref(b);
	free(text);
}

/* How many distinct nodes own these ids. */
static int owners(char ids[][40], int n)
{
	bool used[3] = {false};
	int count = 0;

	for (int i = 0; i < n; i++) {
		int k = cl_owner(ids[i]);

		if (k >= 0 && !used[k])
			count++, used[k] = true;
	}
	return count;
}

static char exec_ids[8][40];
static int n_exec_ids;

/* Six runs through gateway 1, each started 60 ms after the one before and
 * 150 ms shorter: two per node (the first three fill one slot each), and
 * on each node the later one ends first. A node's history is in the order
 * runs ended, the merged list in the order they started: the paging of
 * test_lists must not mix them up. */
static void staggered_runs(void)
{
	struct call c[6];
	pthread_t t[6];
	char bodies[6][96];

	for (int i = 0; i < 6; i++) {
		snprintf(bodies[i], sizeof(bodies[i]), "{\"command\": [\"/bin/sleep\", \"%.2f\"]}",
			 0.95 - 0.15 * i);
		c[i] = (struct call){.base = cl.gws[0].base,
				     .path = "/run",
				     .body = bodies[i],
				     .delay_ms = 60 * i};
		pthread_create(&t[i], NULL, call_main, &c[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		CHECKF(c[i].status == 200, "staggered run %d: %ld", i, c[i].status);
	}
}

static void test_placement(void)
{
	CHECK(spread("/run", "{\"command\": [\"/bin/sh\", \"-c\", \"sleep 0.3\"]}", 6, NULL) >= 2);
	CHECK(spread("/execute",
		     "{\"language\": \"python\", \"code\": \"import time; time.sleep(0.3)\"}", 6,
		     NULL) >= 2);
	CHECK(spread("/api/v1/execute", "{\"language\": \"shell\", \"code\": \"sleep 0.3\"}", 6,
		     exec_ids) >= 2);
	n_exec_ids = 6;
	staggered_runs();

	/* Objects go to the node holding the fewest; a gateway learns the
	 * counts from the nodes' Health every 500 ms (its own creates it
	 * counts at once, the other gateway's at the next poll): creates
	 * through alternating gateways are PLACE_GAP_MS apart. */
	deploy(0);
	th_sleep_ms(PLACE_GAP_MS);
	deploy(1);
	CHECKF(objs.n_deployments == 2 && owners(objs.deployment, 2) == 2,
	       "the two deployments are on one node");
	for (int i = 0; i < 6; i++) {
		json_t *j = cl_json(cl.gws[i % 2].base, "POST", "/sandbox",
				    "{\"runtime\": \"shell\", \"code\": \"echo hi\"}", 200, 0);
		const char *id = th_str(j, "id");

		if (j && cl_owner(id) >= 0) {
			check_node_field(j, cl_owner(id), "POST /sandbox");
			snprintf(objs.sandbox[objs.n_sandboxes++], 40, "%s", id);
		}
		json_decref(j);
		th_sleep_ms(PLACE_GAP_MS);
	}
	for (int i = 0; i < 3; i++) {
		json_t *j = cl_json(cl.gws[i % 2].base, "POST", "/sessions", "{}", 200, 0);
		const char *id = th_str(j, "session_id");

		if (j && cl_owner(id) >= 0)
			snprintf(objs.session[objs.n_sessions++], 40, "%s", id);
		json_decref(j);
		th_sleep_ms(PLACE_GAP_MS);
	}
	printf("sandboxes on %d nodes, sessions on %d\n", owners(objs.sandbox, objs.n_sandboxes),
	       owners(objs.session, objs.n_sessions));
	CHECK(owners(objs.sandbox, objs.n_sandboxes) >= 2);
	CHECK(owners(objs.session, objs.n_sessions) >= 2);
}

/* ---- routing by id --------------------------------------------------------- */

static void test_routing(void)
{
	char path[160];
	json_t *j;

	/* Sandbox i was made through gateway i % 2: use the other. */
	for (int i = 0; i < objs.n_sandboxes; i++) {
		const char *other = cl.gws[1 - i % 2].base, *id = objs.sandbox[i];

		snprintf(path, sizeof(path), "/sandbox/%s", id);
		j = cl_json(other, "GET", path, NULL, 200, 0);
		CHECK_STR(th_str(j, "id"), id);
		check_node_field(j, cl_owner(id), "GET /sandbox/{id}");
		json_decref(j);
		snprintf(path, sizeof(path), "/sandbox/%s/execute", id);
		j = cl_json(other, "POST", path, "{}", 200, 0);
		CHECK(json_is_true(json_object_get(j, "success")));
		CHECK_STR(th_str(j, "stdout"), "hi\n");
		check_node_field(j, cl_owner(id), "POST /sandbox/{id}/execute");
		json_decref(j);
	}
	for (int i = 0; i < objs.n_sessions; i++) {
		const char *other = cl.gws[1 - i % 2].base, *id = objs.session[i];

		snprintf(path, sizeof(path), "/sessions/%s", id);
		j = cl_json(other, "GET", path, NULL, 200, 0);
		check_node_field(j, cl_owner(id), "GET /sessions/{id}");
		json_decref(j);
		snprintf(path, sizeof(path), "/sessions/%s/run", id);
		j = cl_json(other, "POST", path, "{\"command\": [\"/bin/echo\", \"in session\"]}",
			    200, 0);
		CHECK_STR(th_str(j, "stdout"), "in session\n");
		json_decref(j);
	}
	for (int i = 0; i < objs.n_deployments; i++) {
		snprintf(path, sizeof(path), "/faas/deployments/%s", objs.deployment[i]);
		j = cl_json(cl.gws[1 - i % 2].base, "GET", path, NULL, 200, 0);
		CHECK_STR(th_str(j, "status"), "Running");
		json_decref(j);
	}
	for (int i = 0; i < n_exec_ids; i++) {
		snprintf(path, sizeof(path), "/api/v1/executions/%.39s", exec_ids[i]);
		j = cl_json(cl.gws[1 - i % 2].base, "GET", path, NULL, 200, 0);
		CHECK_STR(th_str(j, "execution_id"), exec_ids[i]);
		json_decref(j);
	}

	/* Made through gateway 1 (i = 4), deleted through 2, gone from both. */
	snprintf(path, sizeof(path), "/sandbox/%s", objs.sandbox[4]);
	json_decref(cl_json(cl.gws[1].base, "DELETE", path, NULL, 204, 0));
	th_expect_error(cl.gws[0].base, "GET", path, NULL, 404, "not found");
	th_expect_error(cl.gws[1].base, "GET", path, NULL, 404, "not found");
	memmove(objs.sandbox[4], objs.sandbox[5], 40);
	objs.n_sandboxes--;

	/* Ids no node made: of a node's tag, and of no node's tag. */
	char tag[SBX_NODE_TAG_LEN + 1], uuid[SBX_UUID_LEN + 1];

	sbx_node_tag(cl.nodes[1].id, tag);
	sbx_tagged_uuid(tag, uuid);
	snprintf(path, sizeof(path), "/sandbox/%s", uuid);
	th_expect_error(cl.gws[0].base, "GET", path, NULL, 404, "not found");
	sbx_tagged_uuid("0badc0de", uuid);
	snprintf(path, sizeof(path), "/sessions/%s", uuid);
	th_expect_error(cl.gws[1].base, "GET", path, NULL, 404, "not found");
}

/* ---- merged lists ----------------------------------------------------------- */

/* GET path through gateway g: a JSON array (the executions' are too),
 * without X-Sandboxd-Partial; each of ids[0..n) is in it under `key`,
 * named by its node. Returns the array (caller decrefs). */
static json_t *check_list(int g, const char *path, const char *key, char ids[][40], int n)
{
	struct th_resp r = {0};
	char hdr[256];
	json_t *a;

	th_http(cl.gws[g].base, "GET", path, NULL, NULL, 0, &r);
	a = th_json(&r);
	CHECKF(r.status == 200 && json_is_array(a), "GET %s: %ld %.300s", path, r.status, r.body);
	CHECKF(!th_header(&r, "X-Sandboxd-Partial", hdr, sizeof(hdr)),
	       "GET %s: partial (%s) with every node up", path, hdr);
	th_resp_fini(&r);
	for (int i = 0; i < n; i++) {
		bool found = false;

		for (size_t e = 0; e < json_array_size(a) && !found; e++) {
			json_t *o = json_array_get(a, e);

			if (strcmp(th_str(o, key), ids[i]) == 0) {
				found = true;
				check_node_field(o, cl_owner(ids[i]), path);
			}
		}
		CHECKF(found, "GET %s through gateway %d: %s missing", path, g + 1, ids[i]);
	}
	return a;
}

/* Whether started_at is one of the pages' cursors' (n of them). */
static bool at_cursor(const char *started_at, char cursors[][40], int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(started_at, cursors[i]) == 0)
			return true;
	return false;
}

/* The ids of a (a JSON array) in order, leaving out those started at a
 * cursor's time; how many are kept. */
static size_t ids_off_cursors(const json_t *a, char cursors[][40], int n, const char **ids,
			      size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < json_array_size(a) && k < max; i++)
		if (!at_cursor(th_str(json_array_get(a, i), "started_at"), cursors, n))
			ids[k++] = th_str(json_array_get(a, i), "execution_id");
	return k;
}

/* GET /api/v1/executions in pages of 7 (?before=<the last one's id>):
 * together the whole list `all`, newest first across the nodes. Ties in
 * time with a page's last execution are left out of the comparison: the
 * other nodes are paged with started_before=<its started_at> (the plan),
 * which cannot tell apart runs started in the same millisecond on two
 * nodes (reported, not failed). */
static void check_paging(int g, const json_t *all)
{
	char path[160], last[40] = "", cursors[64][40];
	const char *want[1000], *got[1000];
	json_t *pages = json_array();
	size_t n_want, n_got, first_diff = 0;
	int n_cursors = 0;

	for (int page = 0; page < 64; page++) {
		json_t *a;
		size_t n;

		snprintf(path, sizeof(path), "/api/v1/executions?limit=7%s%s",
			 last[0] ? "&before=" : "", last);
		a = cl_json(cl.gws[g].base, "GET", path, NULL, 200, 0);
		n = json_array_size(a);
		json_array_extend(pages, a);
		if (n) {
			json_t *l = json_array_get(a, n - 1);

			snprintf(last, sizeof(last), "%s", th_str(l, "execution_id"));
			snprintf(cursors[n_cursors++], sizeof(cursors[0]), "%s",
				 th_str(l, "started_at"));
		}
		json_decref(a);
		if (n < 7)
			break;
	}
	n_want = ids_off_cursors(all, cursors, n_cursors, want, 1000);
	n_got = ids_off_cursors(pages, cursors, n_cursors, got, 1000);
	while (first_diff < n_want && first_diff < n_got &&
	       strcmp(want[first_diff], got[first_diff]) == 0)
		first_diff++;
	CHECKF(n_want == n_got && first_diff == n_want,
	       "paging through gateway %d: %zu executions in pages, %zu in the whole list (those "
	       "not at a page's time); they differ from item %zu: %s, the whole list has %s",
	       g + 1, n_got, n_want, first_diff, first_diff < n_got ? got[first_diff] : "(end)",
	       first_diff < n_want ? want[first_diff] : "(end)");
	if (n_want == n_got && first_diff == n_want &&
	    json_array_size(pages) != json_array_size(all))
		printf("note: paging through gateway %d held %zu executions, the whole list %zu: "
		       "runs started in the same millisecond as a page's last one\n",
		       g + 1, json_array_size(pages), json_array_size(all));
	json_decref(pages);
}

static void test_lists(void)
{
	for (int g = 0; g < 2; g++) {
		json_t *sb = check_list(g, "/sandboxes", "id", objs.sandbox, objs.n_sandboxes);
		json_t *ad =
			check_list(g, "/admin/api/sandboxes", "id", objs.sandbox, objs.n_sandboxes);
		json_t *ex = check_list(g, "/api/v1/executions?limit=1000", "execution_id",
					exec_ids, n_exec_ids);
		json_t *st = cl_json(cl.gws[g].base, "GET", "/admin/api/status", NULL, 200, 0);
		json_t *stats = cl_json(cl.gws[g].base, "GET", "/api/v1/stats", NULL, 200, 0);
		json_t *by_lang = json_object_get(stats, "executions_by_language"), *v;
		long long per_node[3] = {0}, langs = 0;
		const char *k, *prev = NULL;

		json_decref(
			check_list(g, "/sessions", "session_id", objs.session, objs.n_sessions));
		json_decref(check_list(g, "/faas/deployments", "deployment_id", objs.deployment,
				       objs.n_deployments));
		for (size_t e = 0; e < json_array_size(ex); e++) {
			json_t *x = json_array_get(ex, e);
			int n = cl_node_index(&cl, th_str(x, "node"));

			if (n >= 0)
				per_node[n]++;
			CHECKF(!prev || strcmp(prev, th_str(x, "started_at")) >= 0,
			       "executions not newest first: %s before %s", prev,
			       th_str(x, "started_at"));
			prev = th_str(x, "started_at");
		}
		printf("gateway %d: %zu executions listed (%lld, %lld, %lld per node)\n", g + 1,
		       json_array_size(ex), per_node[0], per_node[1], per_node[2]);
		CHECK(per_node[0] > 0 && per_node[1] > 0 && per_node[2] > 0);
		check_paging(g, ex);
		/* The sums of the nodes' counters are what their lists hold. */
		CHECK_INT(json_integer_value(json_object_get(stats, "total_executions")),
			  json_array_size(ex));
		json_object_foreach(by_lang, k, v) langs += json_integer_value(v);
		CHECK_INT(langs, json_array_size(ex));
		CHECK_INT(json_integer_value(json_object_get(st, "active_sandboxes")),
			  json_array_size(ad));
		CHECK_INT(json_array_size(sb), json_array_size(ad));
		CHECK(json_integer_value(json_object_get(st, "total_sandboxes_created")) >=
		      (long long)json_array_size(ad));
		json_decref(sb);
		json_decref(ad);
		json_decref(ex);
		json_decref(st);
		json_decref(stats);
	}
}

/* Every process stops on SIGTERM with status 0 (a sanitizer's report,
 * leaks included, makes it non-zero) and no log holds a report. */
static void test_clean_exit(void)
{
	for (int i = 0; i < cl.n_gws + cl.n_nodes; i++) {
		bool gw = i < cl.n_gws;
		pid_t *pid = gw ? &cl.gws[i].pid : &cl.nodes[i - cl.n_gws].pid;
		const char *log = gw ? cl.gws[i].log : cl.nodes[i - cl.n_gws].log;
		int ws = *pid > 0 ? th_stop(*pid, SIGTERM, 15000) : -1;
		bool report = false;
		char line[512];
		FILE *f = fopen(log, "re");

		*pid = 0;
		CHECKF(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "%s: wait status %#x", log, ws);
		while (f && fgets(line, sizeof(line), f))
			report = report || strstr(line, "Sanitizer") ||
				 strstr(line, "runtime error");
		if (f)
			fclose(f);
		CHECKF(!report, "%s holds a sanitizer report", log);
	}
}

int main(void)
{
	long long t0 = sbx_clock_mono_ms();
	struct {
		const char *name;
		void (*fn)(void);
	} parts[] = {
		{"nodes listed", test_nodes_listed},
		{"placement", test_placement},
		{"routing by id", test_routing},
		{"merged lists", test_lists},
		{"live logs", test_logs},
		{"execute/stream", test_execute_stream},
		{"proxy through the tunnel", test_proxy},
		{"kill -9 and restart", test_kill_and_restart},
		{"clean exit", test_clean_exit},
	};

	th_require_sandboxes();
	if (start_cluster() == 0) {
		printf("cluster up in %lld ms\n", sbx_clock_mono_ms() - t0);
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			long long t = sbx_clock_mono_ms();
			int failed = tl_failed;

			parts[i].fn();
			printf("-- %s: %lld ms%s\n", parts[i].name, sbx_clock_mono_ms() - t,
			       tl_failed > failed ? ", FAILED" : "");
		}
	}
	th_cluster_fini(&cl);
	printf("total %lld ms\n", sbx_clock_mono_ms() - t0);
	TEST_DONE();
}
