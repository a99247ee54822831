/* sbx_subscribe_* against the daemon's own publisher (daemon/events.c) in
 * this process: prefix filtering and order over ipc:// and tcp://, closing
 * 200 subscribers while a flood of events reaches them (each close must be
 * quick: with an nng 1.5.2 sub socket this deadlocked, nng#1543), redial
 * after the publisher restarts, URLs refused. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "events.h"
#include "sandbox.h"
#include "testlib.h"

struct seen {
	atomic_ulong n;
	uint64_t last_seq;
	unsigned long wrong_topic, out_of_order;
};

static void on_event(void *arg, const struct sbx_event *ev)
{
	struct seen *s = arg;

	if (strcmp(ev->topic, "logs/a") != 0 || strcmp(ev->kind, "stdout") != 0 || ev->len != 1)
		s->wrong_topic++;
	if (ev->seq <= s->last_seq)
		s->out_of_order++;
	s->last_seq = ev->seq;
	atomic_fetch_add(&s->n, 1);
}

static bool wait_connected(struct sbx_subscription *sub)
{
	for (int i = 0; i < 500 && !sbx_subscribe_connected(sub); i++)
		usleep(10 * 1000);
	/* Our side is up; give the publisher a moment to attach its side. */
	usleep(100 * 1000);
	return sbx_subscribe_connected(sub);
}

static void filter_and_order(const char *url)
{
	struct sbx_events *ev = NULL;
	struct sbx_subscription *sub = NULL;
	struct seen s = {0};

	CHECK(sbx_events_open(url, &ev) == 0);
	CHECK(sbx_subscribe_open(url, "logs/a", on_event, &s, &sub) == 0);
	if (!ev || !sub)
		goto out;
	CHECKF(wait_connected(sub), "not connected to %s", url);
	for (int i = 0; i < 1000; i++) {
		sbx_events_publish(ev, "logs/a", "stdout", "x", 1);
		sbx_events_publish(ev, "logs/b", "stdout", "y", 1);
		sbx_events_publish(ev, "state/a", "state", "z", 1);
	}
	for (int i = 0; i < 500 && atomic_load(&s.n) < 1000; i++)
		usleep(10 * 1000);
	CHECK_INT(atomic_load(&s.n), 1000);
	CHECK_INT(s.last_seq, 1000);
	CHECK_INT(s.wrong_topic, 0);
	CHECK_INT(s.out_of_order, 0);
out:
	sbx_subscribe_close(sub);
	sbx_events_close(ev);
}

struct flood {
	struct sbx_events *ev;
	atomic_int stop;
};

static void *flood_thread(void *arg)
{
	struct flood *f = arg;

	while (!atomic_load(&f->stop))
		for (int i = 0; i < 100; i++)
			sbx_events_publish(f->ev, i % 2 ? "logs/a" : "logs/other", "stdout", "x",
					   1);
	return NULL;
}

static void slow_event(void *arg, const struct sbx_event *ev)
{
	(void)ev;
	atomic_fetch_add((atomic_ulong *)arg, 1);
	usleep(100);
}

static void close_under_flood(const char *url)
{
	struct flood f = {0};
	pthread_t t;
	uint64_t worst = 0;
	int closed = 0;

	CHECK(sbx_events_open(url, &f.ev) == 0);
	if (!f.ev)
		return;
	pthread_create(&t, NULL, flood_thread, &f);
	for (int i = 0; i < 200; i++) {
		struct sbx_subscription *sub;
		atomic_ulong n = 0;
		if (sbx_subscribe_open(url, "logs/a", slow_event, &n, &sub) != 0)
			break;
		for (int j = 0; j < 2000 && atomic_load(&n) < 10; j++)
			usleep(1000);
		uint64_t t0 = sbx_clock_mono_ms();
		sbx_subscribe_close(sub);
		uint64_t took = sbx_clock_mono_ms() - t0;
		worst = took > worst ? took : worst;
		closed++;
	}
	atomic_store(&f.stop, 1);
	pthread_join(t, NULL);
	sbx_events_close(f.ev);
	printf("closed %d subscribers under a flood; slowest close %llu ms\n", closed,
	       (unsigned long long)worst);
	CHECK_INT(closed, 200);
	CHECKF(worst < 2000, "a close took %llu ms", (unsigned long long)worst);
}

static void redial(const char *url)
{
	struct sbx_events *ev = NULL;
	struct sbx_subscription *sub = NULL;
	struct seen s = {0};

	CHECK(sbx_subscribe_open(url, "logs/a", on_event, &s, &sub) == 0);
	usleep(50 * 1000);
	CHECK(!sbx_subscribe_connected(sub)); /* nobody listens yet */
	CHECK(sbx_events_open(url, &ev) == 0);
	CHECK(wait_connected(sub));
	sbx_events_close(ev);
	for (int i = 0; i < 200 && sbx_subscribe_connected(sub); i++)
		usleep(10 * 1000);
	CHECK(!sbx_subscribe_connected(sub));
	ev = NULL;
	CHECK(sbx_events_open(url, &ev) == 0);
	CHECK(wait_connected(sub));
	if (ev)
		sbx_events_publish(ev, "logs/a", "stdout", "x", 1);
	for (int i = 0; i < 200 && atomic_load(&s.n) < 1; i++)
		usleep(10 * 1000);
	CHECK_INT(atomic_load(&s.n), 1);
	sbx_subscribe_close(sub);
	sbx_events_close(ev);
}

static void noop(void *arg, const struct sbx_event *ev)
{
	(void)arg;
	(void)ev;
}

int main(void)
{
	char ipc[400], ipc2[400], ipc3[400], tcp[64];
	struct sbx_subscription *sub = NULL;
	char *dir = tl_tmpdir("sbx-sub");

	if (!dir)
		SKIP("no temporary directory");
	snprintf(ipc, sizeof(ipc), "ipc://%s/a.sock", dir);
	snprintf(ipc2, sizeof(ipc2), "ipc://%s/b.sock", dir);
	snprintf(ipc3, sizeof(ipc3), "ipc://%s/c.sock", dir);
	snprintf(tcp, sizeof(tcp), "tcp://127.0.0.1:%d", tl_free_port());

	filter_and_order(ipc);
	filter_and_order(tcp);
	close_under_flood(ipc2);
	redial(ipc3);

	CHECK_INT(sbx_subscribe_open("inproc://x", "", noop, NULL, &sub), -EINVAL);
	CHECK_INT(sbx_subscribe_open(ipc, "", NULL, NULL, &sub), -EINVAL);
	CHECK_INT(sbx_subscribe_open(ipc, NULL, noop, NULL, &sub), -EINVAL);
	sbx_subscribe_close(NULL);
	for (const char *u = ipc; u; u = u == ipc ? ipc2 : u == ipc2 ? ipc3 : NULL)
		unlink(u + 6);
	rmdir(dir);
	free(dir);
	TEST_DONE();
}
