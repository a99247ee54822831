/* The pools of pre-built sandboxes made visible (issue 14, item 3): the
 * real sandboxd with --warm-pool 2 and a gateway. The pool fills (ready
 * 2, built and a refill rate, memory held when there are cgroups); a run
 * takes one (taken + 1, in use back to 0 when it ended); more runs at
 * once than the pool holds all succeed, the rest counted as misses; the
 * same figures in GetStats, AdminStatus, /api/v1/stats,
 * /admin/api/status and sandboxctl. A Stats call stays prompt while the spawner runs a
 * burst of executions, and while it is frozen (SIGSTOP) the daemon gives
 * its previous answer within its bounded wait. With --warm-pool 0 nothing
 * is listed. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.pb-c.h"
#include "api.pb-c.h"
#include "cleanup.h"
#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "rpcc.h"
#include "sandbox.h"
#include "stack.h"
#include "testlib.h"

#define POOL 2
/* Runs at once, more than the pool holds. */
#define WIDE 6
/* The burst that keeps the spawner busy: threads, runs each. */
#define BURST_THREADS 6
#define BURST_RUNS 8
/* A Stats call's bound: the engine waits 250 ms for the spawner, the rest
 * is the RPC path of a sanitizer build on a loaded host. */
#define STATS_BOUND_MS 1500

#define POOL_SHAPE                                                                                 \
	"kind:s size:i ready:i in_use:i built:i taken:i misses:i failed:i refill_per_s:n "         \
	"memory_kb:i"

static struct th_stack st;
static struct sbx_client *cl;

/* The "exec" pool of a Stats (or AdminStatus) reply, copied into *ret;
 * false when the call failed or lists none. *ret_ms: how long it took. */
static bool exec_pool(const char *method, Sbx__WarmPool *ret, int64_t *ret_ms, size_t *ret_n)
{
	Sbx__GetStatsRequest sq = SBX__GET_STATS_REQUEST__INIT;
	Sbx__AdminStatusRequest aq = SBX__ADMIN_STATUS_REQUEST__INIT;
	bool stats = strcmp(method, "GetStats") == 0, found = false;
	int64_t t0 = sbx_clock_mono_ms();
	struct sbx_reply r;
	Sbx__WarmPool **v;
	size_t n;

	if (sbx_call(cl, method, stats ? &sq.base : &aq.base, 10000, &r) < 0)
		return false;
	if (ret_ms)
		*ret_ms = sbx_clock_mono_ms() - t0;
	if (r.status != SBX_OK || !r.msg) {
		printf("  %s: %s %s\n", method, sbx_status_name(r.status), r.message);
		sbx_reply_fini(&r);
		return false;
	}
	v = stats ? ((Sbx__StatsReply *)r.msg)->warm_pools
		  : ((Sbx__AdminStatusReply *)r.msg)->warm_pools;
	n = stats ? ((Sbx__StatsReply *)r.msg)->n_warm_pools
		  : ((Sbx__AdminStatusReply *)r.msg)->n_warm_pools;
	if (ret_n)
		*ret_n = n;
	for (size_t i = 0; i < n && !found; i++) {
		if (strcmp(v[i]->kind, "exec") != 0)
			continue;
		*ret = *v[i];
		ret->kind = NULL; /* freed with the reply */
		found = true;
	}
	sbx_reply_fini(&r);
	return found;
}

/* Poll GetStats (bounded) until the exec pool has `ready` ready, none in
 * use, and counts at least `seen` executions (taken + misses: answers are
 * reused for 100 ms, so a run shows a little later); the last figures in
 * *p. */
static bool wait_pool(unsigned ready, uint64_t seen, int timeout_ms, Sbx__WarmPool *p)
{
	int64_t until = sbx_clock_mono_ms() + timeout_ms;

	do {
		if (exec_pool("GetStats", p, NULL, NULL) && p->ready == ready && p->in_use == 0 &&
		    p->taken + p->misses >= seen)
			return true;
		th_sleep_ms(50);
	} while (sbx_clock_mono_ms() < until);
	return false;
}

/* Run argv (JSON array text) on the daemon at url: did it exit 0? */
static bool run_ok_at(const char *url, const char *argv_json)
{
	struct th_rep r = th_rpc(url, 30000, "Run", "{\"argv\": %s}", argv_json);
	bool ok = r.status == SBX_OK && th_rep_int(&r, "exit_code") == 0;

	if (!ok)
		printf("  Run %s: status %d, %s %s\n", argv_json, r.status, r.msg,
		       r.j ? th_rep_str(&r, "error") : "");
	th_rep_fini(&r);
	return ok;
}

static bool run_ok(const char *argv_json)
{
	return run_ok_at(st.rpc, argv_json);
}

static void *run_sleep(void *arg)
{
	*(bool *)arg = run_ok("[\"/bin/sleep\", \"1\"]");
	return NULL;
}

static void *run_burst(void *arg)
{
	bool ok = true;

	for (int i = 0; i < BURST_RUNS; i++)
		ok &= run_ok("[\"/bin/true\"]");
	*(bool *)arg = ok;
	return NULL;
}

/* Did the daemon say it runs without cgroups (its start-up line)? */
static bool no_cgroups(void)
{
	char line[1024];
	bool none = false;
	FILE *f = fopen(st.daemon_log, "r");

	while (f && fgets(line, sizeof(line), f))
		none |= strstr(line, "native (no cgroups)") != NULL;
	if (f)
		fclose(f);
	return none;
}

/* Filled, and what a fill shows. */
static void test_filled(void)
{
	Sbx__WarmPool p = SBX__WARM_POOL__INIT;

	CHECKF(wait_pool(POOL, 0, 30000, &p), "the pool never reported %u ready (ready %u)", POOL,
	       p.ready);
	CHECK_INT(p.size, POOL);
	CHECK(p.built >= POOL);
	CHECK_INT(p.failed, 0);
	CHECKF(p.refill_per_s > 0, "refill_per_s %g after %llu builds", p.refill_per_s,
	       (unsigned long long)p.built);
	if (no_cgroups())
		printf("  the daemon runs without cgroups: memory_kb not checked\n");
	else
		CHECKF(p.memory_kb > 0, "memory_kb %llu with %u ready",
		       (unsigned long long)p.memory_kb, p.ready);
}

/* One run takes one pre-built sandbox, and gives it back to nobody. */
static void test_one_run(void)
{
	Sbx__WarmPool a = SBX__WARM_POOL__INIT, b = SBX__WARM_POOL__INIT;

	CHECK(wait_pool(POOL, 0, 30000, &a));
	CHECK(run_ok("[\"/bin/true\"]"));
	CHECKF(wait_pool(POOL, a.taken + a.misses + 1, 30000, &b),
	       "in use %u, ready %u after the run", b.in_use, b.ready);
	CHECK_INT(b.taken, a.taken + 1);
	CHECK_INT(b.misses, a.misses);
	CHECK(b.built >= a.built + 1); /* refilled */
}

/* More at once than the pool holds: every run succeeds, each either a hit
 * or a miss; while they run, the taken ones show in use. */
static void test_wide(void)
{
	pthread_t t[WIDE];
	bool ok[WIDE];
	Sbx__WarmPool a = SBX__WARM_POOL__INIT, mid = SBX__WARM_POOL__INIT,
		      b = SBX__WARM_POOL__INIT;
	bool saw_in_use = false;

	CHECK(wait_pool(POOL, 0, 30000, &a));
	for (int i = 0; i < WIDE; i++)
		CHECK(pthread_create(&t[i], NULL, run_sleep, &ok[i]) == 0);
	for (int i = 0; i < 80 && !saw_in_use; i++) {
		th_sleep_ms(25);
		saw_in_use = exec_pool("GetStats", &mid, NULL, NULL) && mid.in_use > 0;
	}
	for (int i = 0; i < WIDE; i++) {
		pthread_join(t[i], NULL);
		CHECKF(ok[i], "run %d of %d at once failed", i, WIDE);
	}
	CHECKF(saw_in_use, "no pooled sandbox showed in use while %d runs slept", WIDE);
	CHECK(wait_pool(POOL, a.taken + a.misses + WIDE, 30000, &b));
	CHECKF(b.misses > a.misses, "%d runs at once on a pool of %d: no miss counted", WIDE, POOL);
	CHECKF(b.taken > a.taken, "%d runs at once on a full pool: none took one", WIDE);
	CHECK_INT(b.failed, a.failed);
	CHECKF((b.taken - a.taken) + (b.misses - a.misses) == WIDE,
	       "taken +%llu, misses +%llu for %d runs", (unsigned long long)(b.taken - a.taken),
	       (unsigned long long)(b.misses - a.misses), WIDE);
}

/* A burst of executions keeps the spawner busy: Stats still answers, in
 * bounded time, with the pool listed. */
static void test_busy(void)
{
	pthread_t t[BURST_THREADS];
	bool ok[BURST_THREADS];
	int64_t ms, worst = 0;
	int calls = 0;
	Sbx__WarmPool p = SBX__WARM_POOL__INIT;

	for (int i = 0; i < BURST_THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, run_burst, &ok[i]) == 0);
	th_sleep_ms(50);
	for (int i = 0; i < 20; i++, calls++) {
		bool listed = exec_pool("GetStats", &p, &ms, NULL);

		CHECKF(listed, "GetStats %d during the burst lists no pool", i);
		if (ms > worst)
			worst = ms;
		th_sleep_ms(20);
	}
	for (int i = 0; i < BURST_THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECKF(ok[i], "a run of burst thread %d failed", i);
	}
	printf("  %d GetStats during %d runs: slowest %lld ms\n", calls, BURST_THREADS * BURST_RUNS,
	       (long long)worst);
	CHECKF(worst < STATS_BOUND_MS, "a GetStats took %lld ms while the spawner was busy",
	       (long long)worst);
}

/* The spawner of daemon `daemon`: its child named sbx-spawner; 0 if none. */
static pid_t spawner_of(pid_t daemon)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d && !found && (e = readdir(d))) {
		char path[300], buf[512], comm[64];
		int pid = atoi(e->d_name), ppid = 0;
		FILE *f;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if (!(f = fopen(path, "r")))
			continue;
		/* "pid (comm) state ppid": comm has no spaces here. */
		if (fgets(buf, sizeof(buf), f) &&
		    sscanf(buf, "%*d (%63[^)]) %*c %d", comm, &ppid) == 2 && ppid == daemon &&
		    strcmp(comm, "sbx-spawner") == 0)
			found = pid;
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/* A spawner that does not answer at all (stopped): GetStats and
 * AdminStatus answer within the bound with the previous figures. */
static void test_frozen(void)
{
	pid_t sp = spawner_of(st.daemon);
	Sbx__WarmPool before = SBX__WARM_POOL__INIT, p = SBX__WARM_POOL__INIT;
	int64_t ms = 0;

	CHECKF(sp > 0, "no sbx-spawner child of sandboxd %d", (int)st.daemon);
	if (sp <= 0)
		return;
	/* Past the reuse of answers: the pool really is full again after
	 * the burst before the spawner stops (it cannot refill while). */
	th_sleep_ms(150);
	CHECK(wait_pool(POOL, 0, 30000, &before));
	CHECK(th_freeze(sp, 5000) == 0);
	th_sleep_ms(150); /* past the 100 ms an answer is reused (engine.c) */
	CHECK(exec_pool("GetStats", &p, &ms, NULL));
	CHECKF(ms >= 200 && ms < STATS_BOUND_MS, "GetStats took %lld ms with the spawner stopped",
	       (long long)ms);
	CHECK_INT(p.ready, before.ready);
	CHECK_INT(p.built, before.built);
	CHECK(exec_pool("AdminStatus", &p, &ms, NULL));
	CHECKF(ms < STATS_BOUND_MS, "AdminStatus took %lld ms with the spawner stopped",
	       (long long)ms);
	kill(sp, SIGCONT);
	/* Back: fresh answers again, and runs go on. */
	CHECK(run_ok("[\"/bin/true\"]"));
	CHECK(wait_pool(POOL, before.taken + before.misses + 1, 30000, &p));
	CHECK(p.taken > before.taken);
}

/* The gateway's JSON: /api/v1/stats and /admin/api/status list the pool
 * with every documented key, as the RPC does. */
static void test_http(const char *base, size_t want_n, unsigned want_size)
{
	static const char *const paths[] = {"/api/v1/stats", "/admin/api/status"};

	for (size_t i = 0; i < SBX_ARRAY_SIZE(paths); i++) {
		struct th_resp r = {0};
		json_t *j, *a, *e;
		char why[256];

		th_http(base, "GET", paths[i], NULL, NULL, 10000, &r);
		CHECKF(r.status == 200, "GET %s: %ld %s", paths[i], r.status, r.body);
		j = th_json(&r);
		a = json_object_get(j, "warm_pools");
		CHECKF(json_is_array(a) && json_array_size(a) == want_n, "GET %s: %s", paths[i],
		       r.body);
		if (want_n && (e = json_array_get(a, 0))) {
			CHECKF(th_json_shape(e, POOL_SHAPE, why, sizeof(why)), "GET %s: %s: %s",
			       paths[i], why, r.body);
			CHECK_STR(json_string_value(json_object_get(e, "kind")), "exec");
			CHECK_INT(json_integer_value(json_object_get(e, "size")), want_size);
			CHECK(json_integer_value(json_object_get(e, "built")) >= want_size);
			CHECK(json_integer_value(json_object_get(e, "taken")) >= 1);
		}
		json_decref(j);
		th_resp_fini(&r);
	}
}

/* sandboxctl stats and admin status print the pool with the rest. */
static void test_sandboxctl(void)
{
	static const char *const cmds[] = {"stats", "admin status"};
	char *bin = tl_bin("sandboxctl"), cmd[1024], out[32768];

	for (size_t i = 0; i < SBX_ARRAY_SIZE(cmds); i++) {
		size_t len = 0;
		const char *kind;
		json_t *j, *e;
		FILE *f;

		snprintf(cmd, sizeof(cmd), "%s --rpc %s %s 2>&1", bin, st.rpc, cmds[i]);
		f = popen(cmd, "r");
		while (f && len < sizeof(out) - 1 && !feof(f) && !ferror(f))
			len += fread(out + len, 1, sizeof(out) - 1 - len, f);
		out[len] = '\0';
		CHECKF(f && pclose(f) == 0, "sandboxctl %s failed:\n%s", cmds[i], out);
		j = json_loads(out, 0, NULL);
		e = json_array_get(json_object_get(j, "warm_pools"), 0);
		kind = json_string_value(json_object_get(e, "kind"));
		CHECKF(kind && !strcmp(kind, "exec") &&
			       json_integer_value(json_object_get(e, "size")) == POOL,
		       "sandboxctl %s: %s", cmds[i], out);
		json_decref(j);
	}
	free(bin);
}

/* --warm-pool 0: the pool is off, nothing listed anywhere. */
static void test_off(void)
{
	struct th_stack off = {0};
	struct sbx_client *keep = cl;
	struct sbx_client_opts o = {.connect_wait_ms = 10000};
	Sbx__WarmPool p = SBX__WARM_POOL__INIT;
	size_t n = 99;

	if (th_stack_start(&off, "warm-off", (const char *const[]){"--warm-pool", "0", NULL}) < 0)
		return;
	o.rpc_url = off.rpc;
	CHECK(sbx_client_open(&o, &cl) == 0);
	CHECK(run_ok_at(off.rpc, "[\"/bin/true\"]"));
	CHECK(!exec_pool("GetStats", &p, NULL, &n));
	CHECK_INT(n, 0);
	n = 99;
	CHECK(!exec_pool("AdminStatus", &p, NULL, &n));
	CHECK_INT(n, 0);
	test_http(off.base, 0, 0);
	sbx_client_close(cl);
	cl = keep;
	th_stack_stop(&off);
}

int main(void)
{
	struct sbx_client_opts o = {.connect_wait_ms = 10000};

	setvbuf(stdout, NULL, _IOLBF, 0);
	th_require_sandboxes();
	if (th_stack_start(&st, "warm-stats", (const char *const[]){"--warm-pool", "2", NULL}) < 0)
		TEST_DONE();
	o.rpc_url = st.rpc;
	if (sbx_client_open(&o, &cl) < 0) {
		CHECKF(false, "cannot open a client of %s", st.rpc);
		th_stack_stop(&st);
		TEST_DONE();
	}
	test_filled();
	test_one_run();
	test_wide();
	test_busy();
	test_frozen();
	test_http(st.base, 1, POOL);
	test_sandboxctl();
	sbx_client_close(cl);
	th_stack_stop(&st);
	test_off();
	TEST_DONE();
}
