/* sbx_subscribe_open_opts over several publishers (two nng pub sockets of
 * daemon/events.c in this process): events of both arrive, the callback
 * never runs twice at once, each publisher's order is kept; the same with
 * a comma list through sbx_subscribe_open and with events_dns
 * (tcp://localhost:PORT); bad DNS URLs refused. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "sandbox.h"
#include "testlib.h"

#define PER_PUBLISHER 300

struct seen {
	atomic_int inside, most_inside;
	atomic_int from[2];
	uint64_t last[2];
	int out_of_order;
};

static void on_event(void *arg, const struct sbx_event *ev)
{
	struct seen *s = arg;
	int k = ev->len == 1 && ev->data && ((const char *)ev->data)[0] == '1';
	int now = atomic_fetch_add(&s->inside, 1) + 1;

	if (now > atomic_load(&s->most_inside))
		atomic_store(&s->most_inside, now);
	usleep(200); /* long enough for two threads to meet here */
	/* Order per publisher, on the topics of the burst (not the probes). */
	if (strncmp(ev->topic, "logs/probe", 10) != 0) {
		if (ev->seq <= s->last[k])
			s->out_of_order++;
		s->last[k] = ev->seq;
	}
	atomic_fetch_add(&s->from[k], 1);
	atomic_fetch_sub(&s->inside, 1);
}

static bool both_connected(struct sbx_events *p0, struct sbx_events *p1, struct seen *s)
{
	/* Publish probes on another topic's seq space until each side got
	 * one: then both subscriptions are attached. */
	for (int i = 0; i < 500; i++) {
		if (atomic_load(&s->from[0]) && atomic_load(&s->from[1]))
			return true;
		sbx_events_publish(p0, "logs/probe0", "stdout", "0", 1);
		sbx_events_publish(p1, "logs/probe1", "stdout", "1", 1);
		usleep(10 * 1000);
	}
	return false;
}

static void two_publishers(const char *u0, const char *u1, const char *list, const char *dns)
{
	struct sbx_events *p0 = NULL, *p1 = NULL;
	struct sbx_subscription *sub = NULL;
	struct seen s = { 0 };
	struct sbx_subscribe_opts o = { .events_url = list, .events_dns = dns, .topic_prefix = "logs/",
					.cb = on_event, .arg = &s };

	CHECK_INT(sbx_events_open(u0, &p0), 0);
	CHECK_INT(sbx_events_open(u1, &p1), 0);
	CHECK_INT(sbx_subscribe_open_opts(&o, &sub), 0);
	if (!p0 || !p1 || !sub)
		goto out;
	CHECKF(both_connected(p0, p1, &s), "not connected to both of %s %s", u0, u1);
	CHECK(sbx_subscribe_connected(sub));
	int before0 = atomic_load(&s.from[0]), before1 = atomic_load(&s.from[1]);
	s.last[0] = s.last[1] = 0;
	for (int i = 0; i < PER_PUBLISHER; i++) {
		sbx_events_publish(p0, "logs/x", "stdout", "0", 1);
		sbx_events_publish(p1, "logs/y", "stdout", "1", 1);
		if (i % 32 == 0)
			usleep(5000);
	}
	for (int i = 0; i < 500; i++) {
		if (atomic_load(&s.from[0]) - before0 >= PER_PUBLISHER &&
		    atomic_load(&s.from[1]) - before1 >= PER_PUBLISHER)
			break;
		usleep(10 * 1000);
	}
	CHECK_INT(atomic_load(&s.from[0]) - before0, PER_PUBLISHER);
	CHECK_INT(atomic_load(&s.from[1]) - before1, PER_PUBLISHER);
	CHECK_INT(atomic_load(&s.most_inside), 1);
	CHECK_INT(s.out_of_order, 0);
out:
	sbx_subscribe_close(sub);
	sbx_events_close(p0);
	sbx_events_close(p1);
}

static void noop(void *arg, const struct sbx_event *ev)
{
	(void)arg;
	(void)ev;
}

int main(void)
{
	char *dir = tl_tmpdir("sbx-subset");
	char a[300], b[300], list[700], t0[64], dns[64];
	int port = tl_free_port();
	struct sbx_subscription *sub = NULL;
	struct sbx_subscribe_opts o = { .topic_prefix = "", .cb = noop };

	if (!dir)
		SKIP("no temporary directory");
	snprintf(a, sizeof(a), "ipc://%s/a.sock", dir);
	snprintf(b, sizeof(b), "ipc://%s/b.sock", dir);
	snprintf(list, sizeof(list), "%s,%s", a, b);
	two_publishers(a, b, list, NULL);

	/* DNS: localhost's 127.0.0.1, plus a static ipc publisher. */
	snprintf(t0, sizeof(t0), "tcp://127.0.0.1:%d", port);
	snprintf(dns, sizeof(dns), "tcp://localhost:%d", port);
	two_publishers(t0, b, b, dns);

	o.events_dns = "tcp://localhost";
	CHECK_INT(sbx_subscribe_open_opts(&o, &sub), -EINVAL);
	o.events_dns = "http://localhost:80";
	CHECK_INT(sbx_subscribe_open_opts(&o, &sub), -EINVAL);
	o.events_dns = NULL;
	o.events_url = "ipc:///a,,ipc:///b";
	CHECK_INT(sbx_subscribe_open_opts(&o, &sub), -EINVAL);
	o.events_url = "ipc:///tmp/x.sock,inproc://y";
	CHECK_INT(sbx_subscribe_open_opts(&o, &sub), -EINVAL);
	CHECK_INT(sbx_subscribe_open_opts(NULL, &sub), -EINVAL);
	unlink(a + 6);
	unlink(b + 6);
	rmdir(dir);
	free(dir);
	TEST_DONE();
}
