/* libsandbox's cluster mode against three fake nodes (tests/client/
 * fakenode.c) over real nng: the routing table covers every method; spread
 * by load with one retry; placement; by-id routing by tag, the search for
 * untagged ids, -EHOSTDOWN; fan-out merges and partial answers; health
 * (down within 2 s of a hang, up again); -ECONNRESET never retried; the DNS
 * form; the cluster key on the wire; close with a call in flight. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.pb-c.h"
#include "api.pb-c.h"
#include "clock.h"
#include "cluster.h"
#include "fakenode.h"
#include "methods.h"
#include "nodeid.h"
#include "route.h"
#include "sandbox.h"
#include "status.h"
#include "testlib.h"

static struct fake_node fa, fb, fc;
/* CHECK_STR of an array (its address is never NULL: say so once). */
static const char *str(const char *s) { return s; }
static struct sbx_client *cl;

static void table_covers_every_method(void)
{
	for (size_t i = 0; i < sbx_method_count(); i++) {
		const sbx_method *m = sbx_method_at(i);
		const struct sbx_route *rt = sbx_route_find(m->name);

		CHECKF(rt != NULL, "method %s has no routing row", m->name);
		if (rt && rt->kind == ROUTE_BY_ID) {
			const ProtobufCFieldDescriptor *f =
				protobuf_c_message_descriptor_get_field_by_name(m->input, rt->id_field);

			CHECKF(f && f->type == PROTOBUF_C_TYPE_STRING, "%s.%s is not a string field", m->name,
			       rt->id_field);
		}
		CHECKF(!rt || rt->kind != ROUTE_FANOUT || rt->merge != MERGE_NONE, "%s has no merge rule",
		       m->name);
	}
	/* No row for a method that does not exist. */
	for (size_t i = 0; i < sbx_route_count(); i++)
		CHECKF(sbx_method_find(sbx_route_at(i)->method) != NULL, "row %s names no method",
		       sbx_route_at(i)->method);
}

static bool node_up(const char *name)
{
	struct sbx_node n;

	return sbx_client_node(cl, name, &n) == 0 && n.up;
}

/* Wait until name's up flag is `up`; how long it took, or -1. */
static int64_t wait_up(const char *name, bool up, int64_t max_ms)
{
	int64_t t0 = sbx_clock_mono_ms();

	while (sbx_clock_mono_ms() - t0 < max_ms) {
		if (node_up(name) == up)
			return sbx_clock_mono_ms() - t0;
		usleep(10000);
	}
	return -1;
}

static int run_on(char node[SBX_NODE_NAME_MAX], int *status)
{
	Sbx__RunRequest q = SBX__RUN_REQUEST__INIT;
	struct sbx_call_opts o = { .node = node, .timeout_ms = 3000 };
	struct sbx_reply rep;
	int r = sbx_call_opts(cl, "Run", &q.base, &o, &rep);

	if (r == 0) {
		*status = rep.status;
		if (rep.status == SBX_OK)
			CHECK_STR(((Sbx__ExecResult *)rep.msg)->node, node);
		sbx_reply_fini(&rep);
	}
	return r;
}

static void spread(void)
{
	char node[SBX_NODE_NAME_MAX];
	int st = -1, on_b = 0, on_c = 0;

	int a_runs = fake_node_count(&fa, &fa.count_run);

	/* a is full: no work while b and c are free; ties rotate. */
	atomic_store(&fa.load_running, 4);
	usleep(1200 * 1000); /* the next health round carries it */
	for (int i = 0; i < 12; i++) {
		CHECK_INT(run_on(node, &st), 0);
		CHECK_INT(st, SBX_OK);
		on_b += strcmp(node, "node-b") == 0;
		on_c += strcmp(node, "node-c") == 0;
	}
	CHECK_INT(fake_node_count(&fa, &fa.count_run), a_runs);
	CHECK_INT(on_b + on_c, 12);
	CHECKF(on_b >= 3 && on_c >= 3, "b %d, c %d", on_b, on_c);

	/* b refuses (RESOURCE_EXHAUSTED): the call moves on to c, once. */
	atomic_store(&fb.exhausted, true);
	int b0 = fake_node_count(&fb, &fb.count_run), c0 = fake_node_count(&fc, &fc.count_run);
	for (int i = 0; i < 6; i++) {
		CHECK_INT(run_on(node, &st), 0);
		CHECK_INT(st, SBX_OK);
		CHECK_STR(str(node), "node-c");
	}
	CHECK(fake_node_count(&fb, &fb.count_run) > b0);
	CHECK_INT(fake_node_count(&fc, &fc.count_run) - c0, 6);

	/* Everyone refuses: two tries, not three. */
	atomic_store(&fc.exhausted, true);
	atomic_store(&fa.exhausted, true);
	int total0 = fake_node_count(&fa, &fa.count_run) + fake_node_count(&fb, &fb.count_run) +
		     fake_node_count(&fc, &fc.count_run);
	CHECK_INT(run_on(node, &st), 0);
	CHECK_INT(st, SBX_RESOURCE_EXHAUSTED);
	CHECK_INT(fake_node_count(&fa, &fa.count_run) + fake_node_count(&fb, &fb.count_run) +
			  fake_node_count(&fc, &fc.count_run) - total0,
		  2);
	atomic_store(&fa.exhausted, false);
	atomic_store(&fb.exhausted, false);
	atomic_store(&fc.exhausted, false);
	atomic_store(&fa.load_running, 0);
}

/* Create on the emptiest node; then the id finds its node by tag. */
static void place_and_by_id(void)
{
	Sbx__CreateSandboxRequest cq = SBX__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__GetSandboxRequest gq = SBX__GET_SANDBOX_REQUEST__INIT;
	char node[SBX_NODE_NAME_MAX], id[64] = "";
	struct sbx_call_opts o = { .node = node };
	struct sbx_reply rep;

	atomic_store(&fa.load_objects, 5);
	atomic_store(&fb.load_objects, 1);
	atomic_store(&fc.load_objects, 3);
	usleep(1200 * 1000);
	CHECK_INT(sbx_call_opts(cl, "CreateSandbox", &cq.base, &o, &rep), 0);
	CHECK_INT(rep.status, SBX_OK);
	CHECK_STR(str(node), "node-b");
	if (rep.msg)
		snprintf(id, sizeof(id), "%s", ((Sbx__Sandbox *)rep.msg)->id);
	sbx_reply_fini(&rep);
	CHECK(strncmp(id, fb.tag, 8) == 0);

	int a0 = fake_node_count(&fa, &fa.count_get), c0 = fake_node_count(&fc, &fc.count_get);
	gq.id = id;
	for (int i = 0; i < 3; i++) {
		CHECK_INT(sbx_call_opts(cl, "GetSandbox", &gq.base, &o, &rep), 0);
		CHECK_INT(rep.status, SBX_OK);
		CHECK_STR(str(node), "node-b");
		sbx_reply_fini(&rep);
	}
	CHECK_INT(fake_node_count(&fa, &fa.count_get) - a0, 0);
	CHECK_INT(fake_node_count(&fc, &fc.count_get) - c0, 0);

	/* An id of no known tag: asked in turn until someone has it. */
	gq.id = fc.extra_id;
	CHECK_INT(sbx_call_opts(cl, "GetSandbox", &gq.base, &o, &rep), 0);
	CHECK_INT(rep.status, SBX_OK);
	CHECK_STR(str(node), "node-c");
	sbx_reply_fini(&rep);
	/* Nobody has it, every node up: NOT_FOUND. */
	gq.id = "live-nobody";
	CHECK_INT(sbx_call_opts(cl, "GetSandbox", &gq.base, &o, &rep), 0);
	CHECK_INT(rep.status, SBX_NOT_FOUND);
	sbx_reply_fini(&rep);
}

/* The fake nodes' pools (fakenode.c) summed by kind: "exec" of all three
 * (k = 0, 1, 2) first, in node order, then node-b's "python". */
static void check_pools(Sbx__WarmPool **p, size_t n)
{
	CHECK_INT(n, 2);
	if (n != 2)
		return;
	CHECK_STR(p[0]->kind, "exec");
	CHECK_INT(p[0]->size, 6);
	CHECK_INT(p[0]->ready, 0 + 1 + 2);
	CHECK_INT(p[0]->in_use, 3);
	CHECK_INT(p[0]->built, 10 + 11 + 12);
	CHECK_INT(p[0]->taken, 15);
	CHECK_INT(p[0]->misses, 3);
	CHECK_INT(p[0]->failed, 3);
	CHECK(p[0]->refill_per_s == 1.5);
	CHECK_INT(p[0]->memory_kb, 1000 + 2000 + 3000);
	CHECK_STR(p[1]->kind, "python");
	CHECK_INT(p[1]->size, 4);
	CHECK_INT(p[1]->ready, 4);
	CHECK_INT(p[1]->in_use, 0);
	CHECK_INT(p[1]->built, 7);
	CHECK_INT(p[1]->memory_kb, 7000);
}

static void fan_out(void)
{
	Sbx__ListSandboxesRequest lq = SBX__LIST_SANDBOXES_REQUEST__INIT;
	Sbx__GetStatsRequest sq = SBX__GET_STATS_REQUEST__INIT;
	Sbx__AdminStatusRequest aq = SBX__ADMIN_STATUS_REQUEST__INIT;
	Sbx__AdminLogsRequest gq = SBX__ADMIN_LOGS_REQUEST__INIT;
	char partial[SBX_PARTIAL_MAX];
	struct sbx_call_opts o = { .partial = partial };
	struct sbx_reply rep;

	CHECK_INT(sbx_call_opts(cl, "ListSandboxes", &lq.base, &o, &rep), 0);
	CHECK_INT(rep.status, SBX_OK);
	if (rep.msg) {
		const Sbx__ListSandboxesReply *l = (const Sbx__ListSandboxesReply *)rep.msg;

		CHECK_INT(l->n_sandboxes, 6);
		/* Node order, each node's own order. */
		CHECK(l->n_sandboxes == 6 && !strcmp(l->sandboxes[0]->node, "node-a") &&
		      !strcmp(l->sandboxes[1]->id, "two") && !strcmp(l->sandboxes[5]->node, "node-c"));
	}
	CHECK_STR(str(partial), "");
	sbx_reply_fini(&rep);

	CHECK_INT(sbx_call_opts(cl, "GetStats", &sq.base, &o, &rep), 0);
	if (rep.msg) {
		const Sbx__StatsReply *s = (const Sbx__StatsReply *)rep.msg;
		uint64_t py = 0;

		CHECK_INT(s->total_executions, 30);
		CHECK_INT(s->successful_executions, 24);
		/* (10*100 + 10*200 + 10*200) / 30 */
		CHECK(s->average_execution_time_ms > 166.6 && s->average_execution_time_ms < 166.7);
		CHECK_INT(s->uptime_seconds, 'c');
		CHECK_INT(s->n_executions_by_language, 4);
		for (size_t i = 0; i < s->n_executions_by_language; i++)
			if (!strcmp(s->executions_by_language[i]->key, "python"))
				py = s->executions_by_language[i]->value;
		CHECK_INT(py, 9);
		CHECK_INT(s->n_nodes, 3);
		CHECK(s->n_nodes == 3 && !strcmp(s->nodes[1]->id, "node-b") && s->nodes[1]->up &&
		      !strcmp(s->nodes[1]->tag, fb.tag) && !strcmp(s->nodes[1]->address, fb.url));
		check_pools(s->warm_pools, s->n_warm_pools);
	}
	sbx_reply_fini(&rep);

	CHECK_INT(sbx_call_opts(cl, "AdminStatus", &aq.base, &o, &rep), 0);
	if (rep.msg) {
		const Sbx__AdminStatusReply *s = (const Sbx__AdminStatusReply *)rep.msg;

		CHECK_INT(s->active_sandboxes, 6);
		CHECK(s->memory_usage && s->memory_usage->used == 750 && s->memory_usage->total == 3000 &&
		      s->memory_usage->percentage == 25);
		CHECK_INT(s->n_nodes, 3);
		check_pools(s->warm_pools, s->n_warm_pools);
	}
	sbx_reply_fini(&rep);

	/* Oldest first across nodes, the newest `lines` kept. */
	gq.lines = 4;
	CHECK_INT(sbx_call_opts(cl, "AdminLogs", &gq.base, &o, &rep), 0);
	if (rep.msg) {
		const Sbx__AdminLogsReply *l = (const Sbx__AdminLogsReply *)rep.msg;

		CHECK_INT(l->n_lines, 4);
		for (size_t i = 1; i < l->n_lines; i++)
			CHECK(strcmp(l->lines[i - 1]->timestamp, l->lines[i]->timestamp) <= 0);
		CHECK(l->n_lines == 4 && !strcmp(l->lines[3]->timestamp, fc.exec_at[0]));
	}
	sbx_reply_fini(&rep);
}

/* Executions of a at minutes 0,2,4,6, b 1,3,5,7, c 20..26: pages of 3. */
static void executions_paged(void)
{
	Sbx__ListExecutionsRequest q = SBX__LIST_EXECUTIONS_REQUEST__INIT;
	char seen[16][40];
	size_t n_seen = 0;
	struct sbx_reply rep;

	q.limit = 3;
	for (int page = 0; page < 6; page++) {
		const Sbx__ListExecutionsReply *l;

		CHECK_INT(sbx_call(cl, "ListExecutions", &q.base, 3000, &rep), 0);
		CHECK_INT(rep.status, SBX_OK);
		if (!rep.msg)
			break;
		l = (const Sbx__ListExecutionsReply *)rep.msg;
		CHECK(l->n_executions <= 3);
		for (size_t i = 0; i < l->n_executions && n_seen < 16; i++) {
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", l->executions[i]->started_at);
		}
		if (l->n_executions == 0) {
			sbx_reply_fini(&rep);
			break;
		}
		static char before[40];
		snprintf(before, sizeof(before), "%s", l->executions[l->n_executions - 1]->execution_id);
		q.before = before;
		sbx_reply_fini(&rep);
	}
	/* Every execution once, newest first. */
	CHECK_INT(n_seen, 12);
	for (size_t i = 1; i < n_seen; i++)
		CHECKF(strcmp(seen[i - 1], seen[i]) > 0, "%s then %s", seen[i - 1], seen[i]);
}

/* c stops answering Health but keeps its connection: down within 2 s,
 * missing from fan-outs (named partial); up again when it answers. */
static void health(void)
{
	Sbx__ListSandboxesRequest lq = SBX__LIST_SANDBOXES_REQUEST__INIT;
	char partial[SBX_PARTIAL_MAX];
	struct sbx_call_opts o = { .partial = partial };
	struct sbx_reply rep;
	int64_t took;

	atomic_store(&fc.hang_health, true);
	took = wait_up("node-c", false, 4000);
	CHECKF(took >= 0 && took < 2000, "down after %lld ms", (long long)took);
	CHECK_INT(sbx_call_opts(cl, "ListSandboxes", &lq.base, &o, &rep), 0);
	if (rep.msg)
		CHECK_INT(((Sbx__ListSandboxesReply *)rep.msg)->n_sandboxes, 4);
	CHECK_STR(str(partial), "node-c");
	sbx_reply_fini(&rep);
	atomic_store(&fc.hang_health, false);
	took = wait_up("node-c", true, 4000);
	CHECKF(took >= 0 && took < 2000, "up after %lld ms", (long long)took);
}

/* c closes: down at once; its ids are -EHOSTDOWN naming it. */
static void host_down(void)
{
	Sbx__GetSandboxRequest gq = SBX__GET_SANDBOX_REQUEST__INIT;
	char node[SBX_NODE_NAME_MAX], id[SBX_UUID_LEN + 1];
	struct sbx_call_opts o = { .node = node };
	struct sbx_reply rep;
	int64_t took;

	fake_node_stop(&fc);
	took = wait_up("node-c", false, 2000);
	CHECKF(took >= 0 && took < 500, "down after %lld ms", (long long)took);
	sbx_tagged_uuid(fc.tag, id);
	gq.id = id;
	int asked = fake_node_count(&fa, &fa.count_get) + fake_node_count(&fb, &fb.count_get);
	CHECK_INT(sbx_call_opts(cl, "GetSandbox", &gq.base, &o, &rep), -EHOSTDOWN);
	CHECK_STR(str(node), "node-c");
	/* Nothing was sent anywhere. */
	CHECK_INT(fake_node_count(&fa, &fa.count_get) + fake_node_count(&fb, &fb.count_get), asked);
	/* Untagged and nowhere else: maybe on c. */
	gq.id = "live-somewhere";
	CHECK_INT(sbx_call_opts(cl, "GetSandbox", &gq.base, &o, &rep), -EHOSTDOWN);
	CHECK_STR(str(node), "node-c");
}

static void expect_err(void *arg, int err, struct sbx_reply *reply)
{
	atomic_int *got = arg;

	if (err == 0)
		sbx_reply_fini(reply);
	atomic_store(got, err == 0 ? 1 : err);
}

/* b holds a Run and goes away: -ECONNRESET, and a never sees it. */
static void reset(void)
{
	Sbx__RunRequest q = SBX__RUN_REQUEST__INIT;
	char node[SBX_NODE_NAME_MAX];
	struct sbx_call_opts o = { .node = node, .timeout_ms = 5000 };
	atomic_int got = 0;

	atomic_store(&fa.load_running, 4);
	usleep(1200 * 1000);
	int a0 = fake_node_count(&fa, &fa.count_run);
	atomic_store(&fb.hold, true);
	CHECK_INT(sbx_call_async_opts(cl, "Run", &q.base, &o, expect_err, &got), 0);
	for (int i = 0; i < 300 && atomic_load(&fb.held) == 0; i++)
		usleep(10000);
	CHECK_INT(atomic_load(&fb.held), 1);
	fake_node_stop(&fb);
	for (int i = 0; i < 300 && atomic_load(&got) == 0; i++)
		usleep(10000);
	CHECK_INT(atomic_load(&got), -ECONNRESET);
	CHECK_STR(str(node), "node-b");
	usleep(100 * 1000);
	CHECK_INT(fake_node_count(&fa, &fa.count_run), a0);
}

/* Closing with a call held by a node: the call ends with -ECANCELED. */
static void close_in_flight(const char *url)
{
	struct sbx_client_opts co = { .rpc_url = url, .connect_wait_ms = 3000 };
	Sbx__RunRequest q = SBX__RUN_REQUEST__INIT;
	struct sbx_client *c = NULL;
	atomic_int got = 0;

	CHECK_INT(sbx_client_open(&co, &c), 0);
	if (!c)
		return;
	atomic_store(&fa.hold, true);
	CHECK_INT(sbx_call_async(c, "Run", &q.base, 10000, expect_err, &got), 0);
	for (int i = 0; i < 300 && atomic_load(&fa.held) == 0; i++)
		usleep(10000);
	sbx_client_close(c);
	CHECK_INT(atomic_load(&got), -ECANCELED);
	atomic_store(&fa.hold, false);
}

/* One URL: no routing; node names the reply's node, else the URL. */
static void single_node(const char *url)
{
	struct sbx_client_opts co = { .rpc_url = url, .connect_wait_ms = 3000, .cluster_key = "ck" };
	Sbx__RunRequest q = SBX__RUN_REQUEST__INIT;
	char node[SBX_NODE_NAME_MAX];
	struct sbx_call_opts o = { .node = node };
	struct sbx_node *nodes = NULL;
	struct sbx_client *c = NULL;
	struct sbx_reply rep;
	size_t n = 0;

	CHECK_INT(sbx_client_open(&co, &c), 0);
	if (!c)
		return;
	CHECK_INT(sbx_call_opts(c, "Run", &q.base, &o, &rep), 0);
	CHECK_STR(str(node), "node-a");
	sbx_reply_fini(&rep);
	CHECK_INT(sbx_call_opts(c, "Health", NULL, &o, &rep), 0);
	CHECK_STR(str(node), url);
	sbx_reply_fini(&rep);
	CHECK_STR(fa.last_key, "ck");
	CHECK_INT(sbx_client_nodes(c, &nodes, &n), 0);
	CHECK_INT(n, 1);
	/* What the Health call said of the node. */
	CHECK(n == 1 && nodes[0].up && !strcmp(nodes[0].address, url) && !strcmp(nodes[0].id, "node-a") &&
	      nodes[0].slots == 4);
	free(nodes);
	sbx_client_close(c);
}

/* rpc_dns: every address of localhost is a node; 127.0.0.1 answers (::1
 * too when the fake could listen there). */
static void dns(void)
{
	struct fake_node fd;
	char url[128], dns_url[128], v6[128];
	int port = tl_free_port();
	struct sbx_client_opts co = { .rpc_dns = dns_url, .connect_wait_ms = 5000 };
	struct sbx_client *c = NULL;
	struct sbx_node *nodes = NULL;
	struct sbx_reply rep;
	size_t n = 0;
	bool v4 = false;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	snprintf(v6, sizeof(v6), "tcp://[::1]:%d", port);
	snprintf(dns_url, sizeof(dns_url), "tcp://localhost:%d", port);
	if (fake_node_start(&fd, "node-d", url, 40) < 0) {
		CHECK(!"fake node on tcp");
		return;
	}
	CHECK_INT(sbx_client_open(&co, &c), 0);
	if (c) {
		CHECK(sbx_client_connected(c));
		CHECK_INT(sbx_call(c, "Health", NULL, 2000, &rep), 0);
		sbx_reply_fini(&rep);
		CHECK_INT(sbx_client_nodes(c, &nodes, &n), 0);
		CHECK(n >= 1 && n <= 2);
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(nodes[i].address, url)) {
				v4 = true;
				CHECK(nodes[i].up);
				CHECK_STR(nodes[i].id, "node-d");
			} else {
				CHECK_STR(nodes[i].address, str(v6));
			}
		}
		CHECK(v4);
		free(nodes);
		sbx_client_close(c);
	}
	fake_node_stop(&fd);
	struct sbx_client_opts bad = { .rpc_dns = "tcp://localhost" };
	CHECK_INT(sbx_client_open(&bad, &c), -EINVAL);
	bad.rpc_dns = "ipc:///x";
	CHECK_INT(sbx_client_open(&bad, &c), -EINVAL);
}

/* A node DNS stops naming (a Swarm task killed: its replacement gets a new
 * address) is remembered by its tag: its objects answer -EHOSTDOWN naming
 * it, not NOT_FOUND, and fan-outs list it down, until it answers again. */
static void dns_dropped(void)
{
	struct fake_node fd;
	char url[128], dns_url[128], node[SBX_NODE_NAME_MAX], partial[SBX_PARTIAL_MAX], id[40];
	int port = tl_free_port();
	struct sbx_client_opts co = { .rpc_dns = dns_url, .connect_wait_ms = 5000 };
	struct sbx_call_opts o = { .node = node, .partial = partial, .timeout_ms = 2000 };
	Sbx__GetSandboxRequest gq = SBX__GET_SANDBOX_REQUEST__INIT;
	struct sbx_client *c = NULL;
	struct sbx_reply rep;
	int64_t t0;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	snprintf(dns_url, sizeof(dns_url), "tcp://localhost:%d", port);
	if (fake_node_start(&fd, "node-d", url, 40) < 0 || sbx_client_open(&co, &c) < 0) {
		CHECK(!"fake node and client");
		return;
	}
	for (t0 = sbx_clock_mono_ms(); sbx_clock_mono_ms() - t0 < 3000;) {
		struct sbx_node n;

		if (sbx_client_node(c, "node-d", &n) == 0 && n.up)
			break;
		usleep(10000);
	}
	sbx_tagged_uuid(fd.tag, id);
	gq.id = id;
	fake_node_stop(&fd);
	usleep(200 * 1000);
	cluster_dns_merge(c, NULL, 0); /* DNS names nobody now */
	CHECK_INT(sbx_call_opts(c, "GetSandbox", &gq.base, &o, &rep), -EHOSTDOWN);
	CHECK_STR(str(node), "node-d");
	CHECK_INT(sbx_call_opts(c, "ListSandboxes", NULL, &o, &rep), -ECONNREFUSED);
	/* Back at the same address: the watch names it again, it answers. */
	if (fake_node_start(&fd, "node-d", url, 40) < 0) {
		CHECK(!"fake node restarted");
		sbx_client_close(c);
		return;
	}
	int r = -1;
	for (t0 = sbx_clock_mono_ms(); r != 0 && sbx_clock_mono_ms() - t0 < 15000; usleep(50000)) {
		r = sbx_call_opts(c, "GetSandbox", &gq.base, &o, &rep);
		if (r == 0) {
			CHECK_INT(rep.status, SBX_OK);
			sbx_reply_fini(&rep);
		}
	}
	CHECK_INT(r, 0);
	CHECK_STR(str(node), "node-d");
	sbx_client_close(c);
	fake_node_stop(&fd);
}

/* sandboxctl nodes over the three nodes: repeated and comma-separated
 * --rpc, every node listed up with its id. */
static void ctl_nodes(const char *ua, const char *ub, const char *uc)
{
	char *ctl = tl_bin("sandboxctl"), cmd[1400], out[8192];
	size_t n;
	FILE *p;
	int up = 0;

	snprintf(cmd, sizeof(cmd), "%s --cluster-key ck --rpc %s --rpc '%s,%s' nodes --json", ctl, ua, ub,
		 uc);
	p = popen(cmd, "r");
	free(ctl);
	if (!p) {
		CHECK(!"popen sandboxctl");
		return;
	}
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	int rc = pclose(p);
	CHECK_INT(rc, 0);
	for (const char *q = out; (q = strstr(q, "\"up\": true")); q++)
		up++;
	CHECK_INT(up, 3);
	CHECKF(strstr(out, "\"node-a\"") && strstr(out, "\"node-b\"") && strstr(out, "\"node-c\""),
	       "%s", out);
}

int main(void)
{
	char *dir = tl_tmpdir("sbx-cluster"), ua[256], ub[256], uc[256], list[800];
	struct sbx_client_opts co = { .rpc_url = list, .connect_wait_ms = 3000, .cluster_key = "ck",
				      .timeout_ms = 5000 };

	table_covers_every_method();
	snprintf(ua, sizeof(ua), "ipc://%s/a.sock", dir);
	snprintf(ub, sizeof(ub), "ipc://%s/b.sock", dir);
	snprintf(uc, sizeof(uc), "ipc://%s/c.sock", dir);
	snprintf(list, sizeof(list), "%s, %s,%s", ua, ub, uc);
	if (fake_node_start(&fa, "node-a", ua, 0) < 0 || fake_node_start(&fb, "node-b", ub, 1) < 0 ||
	    fake_node_start(&fc, "node-c", uc, 20) < 0)
		SKIP("cannot listen on %s", dir);
	snprintf(fc.extra_id, sizeof(fc.extra_id), "live-held-by-c");

	single_node(ua);
	ctl_nodes(ua, ub, uc);
	CHECK_INT(sbx_client_open(&co, &cl), 0);
	CHECK(wait_up("node-a", true, 3000) >= 0 && wait_up("node-b", true, 3000) >= 0 &&
	      wait_up("node-c", true, 3000) >= 0);
	CHECK_STR(fb.last_key, "ck");
	spread();
	place_and_by_id();
	fan_out();
	executions_paged();
	health();
	host_down();
	reset();
	sbx_client_close(cl);
	close_in_flight(ua);
	fake_node_stop(&fa);
	dns();
	dns_dropped();
	free(dir);
	TEST_DONE();
}
