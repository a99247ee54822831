/* Live logs against the real sandboxd: a sandbox execution prints 100k
 * lines; a follower that subscribed before it started gets every line
 * once, in order, then the "exit" line; a follower that connects
 * mid-stream gets the history (GetLogs) then the live lines, in order; a
 * subscriber that reads slowly does not slow the execution down (bounded
 * ratio against no subscriber) nor grow the daemon's memory without bound;
 * GetLogs tail / from_seq / NOT_FOUND. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "clock.h"
#include "harness.h"
#include "logs.pb-c.h"
#include "rpcc.h"
#include "sandbox.h"
#include "status.h"
#include "testlib.h"

#define N_LINES 100000

static struct th_daemon d;

static struct sbx_client *client(void)
{
	struct sbx_client_opts o = {
		.rpc_url = d.rpc, .timeout_ms = 120000, .connect_wait_ms = 10000};
	struct sbx_client *c = NULL;

	if (sbx_client_open(&o, &c) < 0)
		abort();
	return c;
}

/* A shell sandbox printing 1..N_LINES in 10 bursts. */
static bool create_sandbox(struct sbx_client *c, char *id, const char *code)
{
	Sbx__CreateSandboxRequest q = SBX__CREATE_SANDBOX_REQUEST__INIT;
	struct sbx_reply r;

	q.runtime = "shell";
	q.code = (char *)code;
	q.timeout_ms = 60000;
	if (sbx_call(c, "CreateSandbox", &q.base, 0, &r) < 0)
		return false;
	CHECKF(r.status == SBX_OK, "CreateSandbox: %s", r.message);
	if (r.status == SBX_OK)
		snprintf(id, 64, "%s", ((Sbx__Sandbox *)r.msg)->id);
	sbx_reply_fini(&r);
	return r.status == SBX_OK;
}

struct exec_job {
	const char *id;
	pthread_t t;
	long long ms;
	int status;
	char execution_id[64];
};

static void *exec_thread(void *arg)
{
	struct exec_job *j = arg;
	Sbx__ExecuteSandboxRequest q = SBX__EXECUTE_SANDBOX_REQUEST__INIT;
	struct sbx_client *c = client();
	struct sbx_reply r;
	long long t0 = sbx_clock_mono_ms();

	q.id = (char *)j->id;
	j->status = -1;
	if (sbx_call(c, "ExecuteSandbox", &q.base, 0, &r) == 0) {
		j->status = r.status;
		if (r.status == SBX_OK) {
			Sbx__SandboxExecution *e = (Sbx__SandboxExecution *)r.msg;
			snprintf(j->execution_id, sizeof(j->execution_id), "%s", e->execution_id);
			if (!e->success)
				fprintf(stderr, "execution failed: %s\n", e->error);
		}
		sbx_reply_fini(&r);
	}
	j->ms = sbx_clock_mono_ms() - t0;
	sbx_client_close(c);
	return NULL;
}

struct follower {
	const char *id;
	pthread_t t;
	atomic_ulong count;  /* stdout lines seen */
	uint64_t last_seq;
	unsigned long bad_order, dups, wrong_text, exits;
	uint64_t lost;
	int rc;
	atomic_ulong *start_when; /* wait until this counter reaches start_at */
	unsigned long start_at;
};

static int on_line(void *arg, uint64_t seq, int64_t time_us, const char *stream, const void *text,
		   size_t len)
{
	struct follower *f = arg;
	char buf[32];

	(void)time_us;
	if (seq <= f->last_seq)
		f->dups++;
	else if (seq != f->last_seq + 1)
		f->bad_order++;
	f->last_seq = seq;
	if (strcmp(stream, "exit") == 0) {
		f->exits++;
		return 0;
	}
	unsigned long want = atomic_load(&f->count) + 1;
	int n = snprintf(buf, sizeof(buf), "%lu", want);
	if ((size_t)n != len || memcmp(buf, text, len) != 0)
		f->wrong_text++;
	atomic_store(&f->count, want);
	return 0;
}

static void *follow_thread(void *arg)
{
	struct follower *f = arg;
	struct sbx_logs_follow_opts o = {
		.events_url = d.events, .id = f->id, .follow = 1, .until_exit = 1};
	struct sbx_client *c;

	for (int i = 0; f->start_when && i < 60000 && atomic_load(f->start_when) < f->start_at; i++)
		usleep(1000);
	c = client();
	f->rc = sbx_logs_follow(c, &o, on_line, f);
	f->lost = o.lost;
	sbx_client_close(c);
	return NULL;
}

static const char *burst_script =
	"for b in 0 1 2 3 4 5 6 7 8 9; do seq $((b*10000+1)) $((b*10000+10000)); sleep 0.1; done\n";

static void test_follow_100k(void)
{
	struct sbx_client *c = client();
	struct follower a = {0}, b = {0};
	struct exec_job j = {0};
	char id[64];

	if (!create_sandbox(c, id, burst_script))
		goto out;
	a.id = b.id = j.id = id;
	/* b connects once a has seen 30000 lines: history, then live. */
	b.start_when = &a.count;
	b.start_at = 30000;
	pthread_create(&a.t, NULL, follow_thread, &a);
	usleep(300 * 1000); /* a subscribes before the execution starts */
	pthread_create(&b.t, NULL, follow_thread, &b);
	pthread_create(&j.t, NULL, exec_thread, &j);
	pthread_join(j.t, NULL);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	CHECK_INT(j.status, SBX_OK);
	printf("100k lines: execution %lld ms; follower a %lu lines, b %lu lines\n", j.ms,
	       atomic_load(&a.count), atomic_load(&b.count));
	for (struct follower *f = &a; f; f = f == &a ? &b : NULL) {
		CHECK_INT(f->rc, 0);
		CHECK_INT(atomic_load(&f->count), N_LINES);
		CHECK_INT(f->dups, 0);
		CHECK_INT(f->bad_order, 0);
		CHECK_INT(f->wrong_text, 0);
		CHECK_INT(f->exits, 1);
		CHECK_INT(f->lost, 0);
		CHECK_INT(f->last_seq, N_LINES + 1);
	}

	/* The execution has its own ring too. */
	Sbx__GetLogsRequest q = SBX__GET_LOGS_REQUEST__INIT;
	struct sbx_reply r;
	q.id = j.execution_id;
	q.tail = 2;
	if (sbx_call(c, "GetLogs", &q.base, 0, &r) == 0) {
		CHECK_INT(r.status, SBX_OK);
		if (r.status == SBX_OK) {
			Sbx__GetLogsReply *g = (Sbx__GetLogsReply *)r.msg;
			CHECK_INT(g->n_lines, 2);
			CHECK_INT(g->first_seq, 1);
			CHECK_INT(g->last_seq, N_LINES + 1);
			CHECK(!g->active);
			if (g->n_lines == 2) {
				CHECK_STR(g->lines[0]->stream, "stdout");
				CHECK(g->lines[0]->text.len == 6 &&
				      memcmp(g->lines[0]->text.data, "100000", 6) == 0);
				CHECK_STR(g->lines[1]->stream, "exit");
				CHECK(strstr((char *)g->lines[1]->text.data, "\"status\":\"OK\""));
			}
		}
		sbx_reply_fini(&r);
	}
	/* from_seq pages, and an unknown id. */
	q.tail = 0;
	q.from_seq = 99999;
	q.limit = 1;
	if (sbx_call(c, "GetLogs", &q.base, 0, &r) == 0 && r.status == SBX_OK) {
		Sbx__GetLogsReply *g = (Sbx__GetLogsReply *)r.msg;
		CHECK(g->n_lines == 1 && g->lines[0]->seq == 99999);
		CHECK_INT(g->next_seq, 100000);
		sbx_reply_fini(&r);
	}
	q.id = "no-such-object";
	if (sbx_call(c, "GetLogs", &q.base, 0, &r) == 0) {
		CHECK_INT(r.status, SBX_NOT_FOUND);
		sbx_reply_fini(&r);
	}
out:
	sbx_client_close(c);
}

/* A subscriber that takes 1 ms per event. */
static atomic_ulong slow_seen;
static void slow_cb(void *arg, const struct sbx_event *ev)
{
	(void)arg;
	(void)ev;
	atomic_fetch_add(&slow_seen, 1);
	usleep(1000);
}

static long long run_once(const char *id)
{
	struct exec_job j = {.id = id};

	exec_thread(&j);
	CHECK_INT(j.status, SBX_OK);
	return j.ms;
}

static void test_slow_subscriber(void)
{
	struct sbx_client *c = client();
	struct sbx_subscription *subs[4] = {0};
	char id[64], topic[128];
	long long base, slow;
	long rss0, rss1;

	if (!create_sandbox(c, id, "seq 1 100000\n"))
		goto out;
	run_once(id); /* warm up: the ring exists, caches are hot */
	base = run_once(id);
	rss0 = th_proc_status_kb(d.pid, "VmRSS");
	snprintf(topic, sizeof(topic), "logs/%s", id);
	for (int i = 0; i < 4; i++)
		CHECK(sbx_subscribe_open(d.events, topic, slow_cb, NULL, &subs[i]) == 0);
	usleep(300 * 1000);
	slow = run_once(id);
	for (int i = 0; i < 3; i++)
		run_once(id);
	rss1 = th_proc_status_kb(d.pid, "VmRSS");
	printf("slow subscribers: execution %lld ms without, %lld ms with 4 slow subscribers "
	       "(%lu events read); daemon RSS %ld -> %ld KB\n",
	       base, slow, atomic_load(&slow_seen), rss0, rss1);
	CHECKF(slow <= base * 3 + 1000, "slowed down: %lld ms vs %lld ms", slow, base);
	/* Bounded: the rings' caps plus nng's per-subscriber queues. */
	CHECKF(rss1 - rss0 < 256 * 1024, "daemon grew by %ld KB", rss1 - rss0);
	for (int i = 0; i < 4; i++)
		sbx_subscribe_close(subs[i]);
out:
	sbx_client_close(c);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (th_daemon_init(&d, "sbx-logs") < 0)
		SKIP("no temporary directory");
	th_daemon_start(&d,
			(const char *const[]){"--logs-ring-lines", "200000", "--logs-ring-bytes",
					      "33554432", "--max-output-bytes", "4194304", NULL});
	th_daemon_up_or_skip(&d);

	test_follow_100k();
	test_slow_subscriber();

	th_daemon_stop(&d, 10000);
	th_daemon_fini(&d);
	TEST_DONE();
}
