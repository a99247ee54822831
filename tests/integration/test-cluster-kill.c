/* test-cluster's kill -9 (test-cluster.h): six threads run `sleep 0.2`
 * through /run on both gateways; one node is killed with SIGKILL.
 *
 * Every request ends (no client timeout); the only failures are requests
 * that were on the dead node when it died, each 503 naming it and saying
 * it went away; the others keep succeeding on the other nodes; nothing
 * runs twice. The last is watched from outside: each run's shell carries
 * a marker of its request in its argv, and a thread of this test scans
 * /proc for them (the sandboxes are isolated, so they cannot tell us), so
 * a request run on two nodes (a retry after it was accepted) shows as two
 * processes — and the node a process ran under (its sandboxd ancestor)
 * must be the node the reply names. The history agrees: each surviving
 * node recorded as many runs as replies named it.
 *
 * While the node is down, the gateways say so within ~2 s: its objects
 * answer 503 naming it, lists come with X-Sandboxd-Partial naming it,
 * /admin/api/status shows it up=false and "partial": true. Restarted on
 * the same state directory, its objects serve again. */
#include <curl/curl.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "test-cluster.h"
#include "testlib.h"

#define LOAD_THREADS 6
#define MAX_REQS 1024
#define MARKER "sbx-cluster-load-"
#define MAX_PIDS 4

struct req {
	long long start_ms, end_ms;
	long status;
	CURLcode code;
	int node; /* named by the reply, -1: none */
	char error[240];
	/* what the /proc watcher saw run it */
	pid_t pids[MAX_PIDS];
	int n_pids, ran_on; /* ran_on: the node index of the process, -1 unknown */
};

static struct req reqs[MAX_REQS];
static atomic_int n_reqs;
static atomic_bool stop_load, stop_watch;
static pid_t node_pids[TH_MAX_NODES];

static void one_request(struct req *q, int slot, int g)
{
	struct th_resp r = {0};
	char body[160];
	json_t *j;

	snprintf(body, sizeof(body),
		 "{\"command\": [\"/bin/sh\", \"-c\", \"sleep 0.2; true\", \"" MARKER "%d\"]}",
		 slot);
	q->start_ms = sbx_clock_mono_ms();
	th_http(cl.gws[g].base, "POST", "/run", body, NULL, 15000, &r);
	q->end_ms = sbx_clock_mono_ms();
	q->status = r.status;
	q->code = r.code;
	j = th_json(&r);
	q->node = cl_node_index(&cl, th_str(j, "node"));
	snprintf(q->error, sizeof(q->error), "%s", r.status == 200 ? "" : r.body);
	json_decref(j);
	th_resp_fini(&r);
}

static void *load_main(void *arg)
{
	int t = (int)(intptr_t)arg;

	for (int i = 0; !atomic_load(&stop_load); i++) {
		int slot = atomic_fetch_add(&n_reqs, 1);

		if (slot >= MAX_REQS)
			break;
		one_request(&reqs[slot], slot, (t + i) % 2);
	}
	return NULL;
}

/* ---- the /proc watcher ----------------------------------------------------- */

static pid_t parent_of(pid_t pid)
{
	char path[64], line[512], *p;
	pid_t ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f && fgets(line, sizeof(line), f) && (p = strrchr(line, ')')))
		sscanf(p + 2, "%*c %d", &ppid);
	if (f)
		fclose(f);
	return ppid;
}

/* The node whose sandboxd pid is an ancestor of pid, or -1. */
static int node_ancestor(pid_t pid)
{
	for (int depth = 0; depth < 16 && pid > 1; depth++) {
		pid = parent_of(pid);
		for (int k = 0; k < cl.n_nodes; k++)
			if (node_pids[k] > 0 && pid == node_pids[k])
				return k;
	}
	return -1;
}

static void saw(int slot, pid_t pid)
{
	struct req *q = &reqs[slot];

	for (int i = 0; i < q->n_pids; i++)
		if (q->pids[i] == pid)
			return;
	if (q->n_pids == 0)
		q->ran_on = node_ancestor(pid);
	if (q->n_pids < MAX_PIDS)
		q->pids[q->n_pids++] = pid;
}

/* The request slot a process runs for: its argv is a run's shell
 * ("/bin/sh -c ... MARKER<slot>"); else -1. */
static int marker_of(pid_t pid)
{
	char path[64], buf[512], *m;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	for (size_t i = 0; i < len; i++)
		buf[i] = buf[i] ? buf[i] : ' ';
	buf[len] = '\0';
	if (strncmp(buf, "/bin/sh -c ", 11) != 0 || !(m = strstr(buf, MARKER)))
		return -1;
	return atoi(m + strlen(MARKER));
}

static void scan_once(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		pid_t pid;
		int slot;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = (pid_t)atoi(e->d_name);
		slot = marker_of(pid);
		/* A run, not the shell's own child between fork and exec of
		 * `sleep` (it has the shell's argv for that moment). */
		if (slot >= 0 && slot < MAX_REQS && marker_of(parent_of(pid)) != slot)
			saw(slot, pid);
	}
	if (d)
		closedir(d);
}

static void *watch_main(void *arg)
{
	while (!atomic_load(&stop_watch)) {
		scan_once();
		th_sleep_ms(20);
	}
	return NULL;
}

/* ---- helpers ------------------------------------------------------------------ */

/* Runs ("kind": "run") each node's history holds, through gateway 1. */
static void runs_per_node(long long out[TH_MAX_NODES])
{
	json_t *a = cl_json(cl.gws[0].base, "GET", "/api/v1/executions?limit=1000", NULL, 200, 0);

	memset(out, 0, sizeof(long long) * TH_MAX_NODES);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *x = json_array_get(a, i);
		int k = cl_node_index(&cl, th_str(x, "node"));

		if (k >= 0 && strcmp(th_str(x, "kind"), "run") == 0)
			out[k]++;
	}
	CHECKF(json_array_size(a) < 1000, "the history outgrew one page");
	json_decref(a);
}

/* The node holding most of the objects test-cluster.c made, a deployment
 * first (its service must come back with the node). */
static int pick_victim(void)
{
	int score[TH_MAX_NODES] = {0}, best = 0;

	for (int i = 0; i < objs.n_sandboxes; i++)
		score[cl_owner(objs.sandbox[i]) & 3] += 4;
	for (int i = 0; i < objs.n_sessions; i++)
		score[cl_owner(objs.session[i]) & 3] += 2;
	for (int i = 0; i < objs.n_deployments; i++)
		score[cl_owner(objs.deployment[i]) & 3] += 16;
	for (int k = 1; k < cl.n_nodes; k++)
		if (score[k] > score[best])
			best = k;
	return best;
}

/* An object of node k among ids, or NULL. */
static const char *of_node(char ids[][40], int n, int k)
{
	for (int i = 0; i < n; i++)
		if (cl_owner(ids[i]) == k)
			return ids[i];
	return NULL;
}

/* method path through both gateways answers 503 naming node k, down. */
static void expect_down(const char *method, const char *path, const char *body, int k)
{
	for (int g = 0; g < 2; g++) {
		struct th_resp r = {0};
		char ra[32];

		th_http(cl.gws[g].base, method, path, body, NULL, 10000, &r);
		if (th_check_error(&r, 503, cl.nodes[k].id))
			CHECKF(strstr(r.body, "down") &&
				       th_header(&r, "Retry-After", ra, sizeof(ra)),
			       "%s %s: %s (no \"down\" or no Retry-After)", method, path, r.body);
		th_resp_fini(&r);
	}
}

/* While node k is down: its objects, the lists, the status. */
static void check_while_down(int k)
{
	const char *sb = of_node(objs.sandbox, objs.n_sandboxes, k);
	const char *se = of_node(objs.session, objs.n_sessions, k);
	const char *de = of_node(objs.deployment, objs.n_deployments, k);
	char path[128], hdr[256];
	struct th_resp r = {0};
	struct cl_view v;
	json_t *j;

	if (sb) {
		snprintf(path, sizeof(path), "/sandbox/%s", sb);
		expect_down("GET", path, NULL, k);
		snprintf(path, sizeof(path), "/sandbox/%s/execute", sb);
		expect_down("POST", path, "{}", k);
	}
	if (se) {
		snprintf(path, sizeof(path), "/sessions/%s", se);
		expect_down("GET", path, NULL, k);
	}
	if (de) {
		snprintf(path, sizeof(path), "/faas/deployments/%s", de);
		expect_down("GET", path, NULL, k);
		snprintf(path, sizeof(path), "/faas/%s/", de);
		expect_down("GET", path, NULL, k);
	}
	const char *lists[] = {"/sandboxes", "/sessions", "/faas/deployments", "/api/v1/executions",
			       "/admin/api/sandboxes"};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		th_http(cl.gws[i % 2].base, "GET", lists[i], NULL, NULL, 10000, &r);
		CHECKF(r.status == 200 && th_header(&r, "X-Sandboxd-Partial", hdr, sizeof(hdr)) &&
			       strstr(hdr, cl.nodes[k].id),
		       "GET %s with %s down: %ld, X-Sandboxd-Partial: %s", lists[i], cl.nodes[k].id,
		       r.status, th_header(&r, "X-Sandboxd-Partial", hdr, sizeof(hdr)) ?: "(none)");
		th_resp_fini(&r);
	}
	for (int g = 0; g < 2; g++) {
		j = cl_status(&cl, cl.gws[g].base, &v);
		CHECKF(v.status == 200 && v.partial && v.listed == 3 && v.up[k] == 0 &&
			       v.up[(k + 1) % 3] == 1 && v.up[(k + 2) % 3] == 1,
		       "status through gateway %d: %ld partial %d, up %d %d %d", g + 1, v.status,
		       v.partial, v.up[0], v.up[1], v.up[2]);
		json_decref(j);
	}
	j = cl_json(cl.gws[1].base, "GET", "/api/v1/stats", NULL, 200, 0);
	CHECK(json_is_true(json_object_get(j, "partial")));
	json_decref(j);
}

/* ---- the part ---------------------------------------------------------------- */

/* How long after the reap a gateway may still send on its connection to a
 * killed node (loaded hosts: tens of ms). */
#define CLOSE_SLACK_MS 250

/* The outcome of every request of the load, against the SIGKILL of node k
 * at kill_ms (dead at dead_ms, known down by both gateways down_ms after
 * the kill); the requests that succeeded per node into ok[]. Returns how
 * many failed. */
static int check_requests(int k, long long kill_ms, long long dead_ms, long long down_ms,
			  long long ok[])
{
	int n = atomic_load(&n_reqs), failed = 0, after = 0, seen = 0, twice = 0;

	n = n > MAX_REQS ? MAX_REQS : n;
	for (int i = 0; i < n; i++) {
		struct req *q = &reqs[i];

		seen += q->n_pids > 0;
		twice += q->n_pids > 1;
		CHECKF(q->n_pids <= 1, "request %d ran %d times (pids %d, %d)", i, q->n_pids,
		       q->pids[0], q->pids[1]);
		CHECKF(q->code == CURLE_OK, "request %d: %s after %lld ms", i,
		       curl_easy_strerror(q->code), q->end_ms - q->start_ms);
		if (q->status == 200) {
			if (q->node < 0)
				cl_no_node("POST /run (the load)", "?");
			CHECKF(q->node != k || q->start_ms < dead_ms,
			       "request %d ran on the dead node after it died", i);
			CHECKF(q->node < 0 || q->ran_on < 0 || q->ran_on == q->node,
			       "request %d ran under %s but the reply names %s", i,
			       cl.nodes[q->ran_on & 3].id,
			       q->node >= 0 ? cl.nodes[q->node].id : "-");
			if (q->node >= 0)
				ok[q->node]++;
			after += q->start_ms > kill_ms + down_ms;
			continue;
		}
		failed++;
		/* Sent before the gateway's connection to the dead node closed
		 * (nng hears of the TCP close a little after the reap), a
		 * request cannot be told from one the node had taken: it is
		 * "went away", never run twice. Past that, it goes elsewhere. */
		CHECKF(q->status == 503 && strstr(q->error, cl.nodes[k].id) &&
			       strstr(q->error, "went away") && q->start_ms < dead_ms + CLOSE_SLACK_MS,
		       "request %d (started %lld ms after the kill): %ld %s", i,
		       q->start_ms - kill_ms, q->status, q->error);
		CHECKF(q->ran_on < 0 || q->ran_on == k, "failed request %d ran on %s", i,
		       cl.nodes[q->ran_on & 3].id);
	}
	printf("%d requests: %d failed (in flight on %s), %d succeeded after the gateways knew; "
	       "the watcher saw %d of them run, %d twice; per node ok %lld %lld %lld\n",
	       n, failed, cl.nodes[k].id, after, seen, twice, ok[0], ok[1], ok[2]);
	CHECKF(failed >= 1 && failed <= LOAD_THREADS, "%d failed", failed);
	CHECKF(after >= 10, "only %d requests succeeded after the kill", after);
	CHECKF(seen >= n / 2, "the watcher saw only %d of %d runs", seen, n);
	return failed;
}

/* Restarted: up again, its objects serve. */
static void check_restarted(int k)
{
	static const int all_up[] = {1, 1, 1};
	const char *sb = of_node(objs.sandbox, objs.n_sandboxes, k);
	const char *se = of_node(objs.session, objs.n_sessions, k);
	const char *de = of_node(objs.deployment, objs.n_deployments, k);
	char path[128];
	json_t *j;

	for (int g = 0; g < 2; g++) {
		long ms = cl_wait_view(&cl, cl.gws[g].base, all_up, 3, 20000, NULL);

		printf("gateway %d sees %s up again %ld ms later\n", g + 1, cl.nodes[k].id, ms);
		CHECK(ms >= 0);
		if (sb) {
			snprintf(path, sizeof(path), "/sandbox/%s/execute", sb);
			j = cl_json(cl.gws[g].base, "POST", path, "{}", 200, 0);
			CHECK_STR(th_str(j, "stdout"), "hi\n");
			json_decref(j);
		}
		if (se) {
			snprintf(path, sizeof(path), "/sessions/%s", se);
			json_decref(cl_json(cl.gws[g].base, "GET", path, NULL, 200, 0));
		}
		if (de) {
			snprintf(path, sizeof(path), "/faas/%s/back", de);
			j = cl_json(cl.gws[g].base, "GET", path, NULL, 200, 60000);
			CHECK_STR(th_str(j, "path"), "/back");
			json_decref(j);
		}
		j = cl_json(cl.gws[g].base, "GET", "/admin/api/status", NULL, 200, 0);
		CHECK(json_is_false(json_object_get(j, "partial")));
		json_decref(j);
	}
	printf("%s's objects back: sandbox %s, session %s, deployment %s\n", cl.nodes[k].id,
	       sb ? sb : "-", se ? se : "-", de ? de : "-");
}

void test_kill_and_restart(void)
{
	static const int down[3][3] = {{0, 1, 1}, {1, 0, 1}, {1, 1, 0}};
	int k = pick_victim();
	long long before[TH_MAX_NODES], after[TH_MAX_NODES], ok[TH_MAX_NODES] = {0}, kill_ms,
							     dead_ms;
	long down_ms[2];
	int failed;
	pthread_t load[LOAD_THREADS], watch;

	runs_per_node(before);
	for (int i = 0; i < cl.n_nodes; i++)
		node_pids[i] = cl.nodes[i].pid;
	for (int i = 0; i < MAX_REQS; i++)
		reqs[i].ran_on = -1;
	pthread_create(&watch, NULL, watch_main, NULL);
	for (int t = 0; t < LOAD_THREADS; t++)
		pthread_create(&load[t], NULL, load_main, (void *)(intptr_t)t);
	th_sleep_ms(1500);

	kill_ms = sbx_clock_mono_ms();
	th_cluster_node_kill(&cl, k);
	/* Dead and reaped: a request sent after this cannot have been
	 * accepted by it (a process with many threads takes a while to die). */
	dead_ms = sbx_clock_mono_ms();
	printf("killed %s: dead %lld ms after SIGKILL\n", cl.nodes[k].id, dead_ms - kill_ms);
	for (int g = 0; g < 2; g++) {
		down_ms[g] = cl_wait_view(&cl, cl.gws[g].base, down[k], 3, 10000, NULL);
		if (down_ms[g] >= 0)
			down_ms[g] = (long)(sbx_clock_mono_ms() - kill_ms);
		printf("gateway %d marked %s down %ld ms after kill -9\n", g + 1, cl.nodes[k].id,
		       down_ms[g]);
		CHECKF(down_ms[g] >= 0 && down_ms[g] <= 2500, "marked down after %ld ms",
		       down_ms[g]);
	}
	check_while_down(k);
	while (sbx_clock_mono_ms() < kill_ms + 3000)
		th_sleep_ms(50);
	atomic_store(&stop_load, true);
	for (int t = 0; t < LOAD_THREADS; t++)
		pthread_join(load[t], NULL);
	atomic_store(&stop_watch, true);
	pthread_join(watch, NULL);
	failed = check_requests(k, kill_ms, dead_ms,
				down_ms[0] > down_ms[1] ? down_ms[0] : down_ms[1], ok);

	CHECK(th_cluster_node_start(&cl, k, cl_node_args) > 0);
	check_restarted(k);
	/* Each node's history: exactly the runs that replies named it. The
	 * dead node's runs that were cut short were never recorded, but one
	 * that ended as it died may be without its reply having left. */
	runs_per_node(after);
	for (int i = 0; i < cl.n_nodes; i++)
		CHECKF(after[i] - before[i] >= ok[i] &&
			       after[i] - before[i] <= ok[i] + (i == k ? failed : 0),
		       "%s recorded %lld runs, replies named it %lld", cl.nodes[i].id,
		       after[i] - before[i], ok[i]);
}
