/* gateway/ratelimit.c, against ratelimit.h: the configuration bounds, a
 * bucket of `burst` tokens per client, the refill at per_minute and its
 * cap, the wait it reports (whole seconds, rounded up, at least 1, and
 * true: a client that waits that long gets in, one that waits a second
 * less does not), how addresses are keyed (port ignored, IPv4-mapped IPv6
 * is IPv4, other families and no address share one bucket), the bounded
 * table (the least recently seen client is the one dropped), many clients
 * through a small table, and the lock under concurrent takes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/un.h>

#include "ratelimit.h"
#include "testlib.h"

#define S 1000000ull
/* A monotonic clock well away from 0, as CLOCK_MONOTONIC is on a host
 * that has been up for a while. */
#define T0 (1000000ull * S)

static struct sockaddr_in v4(uint32_t host_order_addr, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(host_order_addr);
	return a;
}

static struct sockaddr_in6 v6(const char *text, uint16_t port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	inet_pton(AF_INET6, text, &a.sin6_addr);
	return a;
}

#define SA(x) ((const struct sockaddr *)&(x))

static void test_config(void)
{
	struct gw_ratelimit *rl = (struct gw_ratelimit *)&rl; /* untouched on error */

	CHECK_INT(gw_ratelimit_new(0, 10, 100, &rl), -EINVAL);
	CHECK_INT(gw_ratelimit_new(60, 0, 100, &rl), -EINVAL);
	CHECK_INT(gw_ratelimit_new(60, 10, 0, &rl), -EINVAL);
	CHECK_INT(gw_ratelimit_new(60, 10, (1u << 24) + 1, &rl), -EINVAL);
	CHECK_INT(gw_ratelimit_new(60, 10, UINT32_MAX, &rl), -EINVAL);
	CHECK(rl == (struct gw_ratelimit *)&rl);
	gw_ratelimit_free(NULL);

	/* The smallest table and the largest rates are fine. */
	rl = NULL;
	CHECK_INT(gw_ratelimit_new(1, 1, 1, &rl), 0);
	CHECK(rl != NULL);
	gw_ratelimit_free(rl);
	rl = NULL;
	CHECK_INT(gw_ratelimit_new(UINT32_MAX, UINT32_MAX, 3, &rl), 0);
	struct sockaddr_in a = v4(0x0a000001, 1);
	for (int i = 0; i < 1000; i++)
		CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 0);
	gw_ratelimit_free(rl);
}

static void test_bucket(void)
{
	struct gw_ratelimit *rl = NULL;
	struct sockaddr_in a = v4(0xc0a80001, 40000);

	/* 60 a minute = one a second, bursts of 3. */
	CHECK_INT(gw_ratelimit_new(60, 3, 16, &rl), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 1);
	/* Refused takes cost nothing. */
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 1);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + S / 2), 1);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + S - 1), 1);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + S), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + S), 1);
	/* 2.5 s later: two tokens and half of one. */
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 3 * S + S / 2), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 3 * S + S / 2), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 3 * S + S / 2), 1);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 4 * S), 0);
	/* A long pause refills to the burst, not beyond. */
	for (int i = 0; i < 3; i++)
		CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 3600 * S), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 3600 * S), 1);
	/* A clock that goes back gives nothing and breaks nothing. */
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 1);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 3601 * S), 0);
	gw_ratelimit_free(rl);

	/* One a minute: the wait counts down in whole seconds. */
	CHECK_INT(gw_ratelimit_new(1, 1, 16, &rl), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 60);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 1), 60);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + S), 59);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 30 * S + 1), 30);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 59 * S), 1);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 60 * S - 1), 1);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 60 * S), 0);
	gw_ratelimit_free(rl);

	/* Faster than one a second: the wait is still at least 1. */
	CHECK_INT(gw_ratelimit_new(600, 1, 16, &rl), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 1);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + S / 10), 0);
	gw_ratelimit_free(rl);
}

/* For every rate: an emptied bucket reports ceil(60 / per_minute) s, a
 * client that comes back after exactly that long gets a token, and one
 * that comes back a second sooner does not. Also from a partly refilled
 * bucket. */
static void test_wait_is_true(void)
{
	struct sockaddr_in a = v4(0x7f000001, 1);
	int wrong_wait = 0, early = 0, late = 0;

	for (uint32_t pm = 1; pm <= 3600; pm += pm < 200 ? 1 : 37) {
		for (uint32_t burst = 1; burst <= 2; burst++) {
			struct gw_ratelimit *rl = NULL;
			uint32_t want = (60 + pm - 1) / pm, w;

			if (gw_ratelimit_new(pm, burst, 4, &rl) < 0) {
				CHECK(0);
				return;
			}
			for (uint32_t i = 0; i < burst; i++)
				gw_ratelimit_take(rl, SA(a), T0);
			w = gw_ratelimit_take(rl, SA(a), T0);
			if (w != want && wrong_wait++ < 5)
				CHECKF(0, "per_minute %u burst %u: wait %u, want %u", pm, burst, w,
				       want);
			if (w > 1 && gw_ratelimit_take(rl, SA(a), T0 + (w - 1) * S) == 0 &&
			    early++ < 5)
				CHECKF(0, "per_minute %u: a token after %u s, %u promised", pm,
				       w - 1, w);
			if (gw_ratelimit_take(rl, SA(a), T0 + w * S) != 0 && late++ < 5)
				CHECKF(0,
				       "per_minute %u burst %u: no token after the %u s promised",
				       pm, burst, w);

			/* Empty again (what is left is a fraction of a token),
			 * come back a third of the interval later and, when
			 * refused, wait what it says. */
			uint64_t t = T0 + w * S, third = 60 * S / pm / 3;
			while (gw_ratelimit_take(rl, SA(a), t) == 0)
				;
			t += third;
			w = gw_ratelimit_take(rl, SA(a), t);
			if (w > 1 && gw_ratelimit_take(rl, SA(a), t + (w - 1) * S) == 0 &&
			    early++ < 5)
				CHECKF(0, "per_minute %u: a token after %u s, %u promised", pm,
				       w - 1, w);
			if (w && gw_ratelimit_take(rl, SA(a), t + w * S) != 0 && late++ < 5)
				CHECKF(0, "per_minute %u: no token %u s after a partial refill", pm,
				       w);
			gw_ratelimit_free(rl);
		}
	}
	CHECK_INT(wrong_wait, 0);
	CHECK_INT(early, 0);
	CHECK_INT(late, 0);
}

static void test_keys(void)
{
	struct gw_ratelimit *rl = NULL;
	struct sockaddr_in a1 = v4(0x0a000001, 1000), a2 = v4(0x0a000001, 2000),
			   b = v4(0x0a000002, 1000);
	struct sockaddr_in6 m = v6("::ffff:10.0.0.1", 3000), c = v6("2001:db8::1", 1),
			    c2 = v6("2001:db8::1", 2), d = v6("2001:db8::2", 1),
			    n = v6("::a00:1", 1); /* the IPv4-compatible form: not mapped */
	struct sockaddr_un u1 = {.sun_family = AF_UNIX, .sun_path = "/run/a"},
			   u2 = {.sun_family = AF_UNIX, .sun_path = "/run/b"};
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};

	CHECK_INT(gw_ratelimit_new(1, 1, 64, &rl), 0);
	/* 10.0.0.1 from any port, or as ::ffff:10.0.0.1, is one client. */
	CHECK_INT(gw_ratelimit_take(rl, SA(a1), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a2), T0), 60);
	CHECK_INT(gw_ratelimit_take(rl, SA(m), T0), 60);
	CHECK_INT(gw_ratelimit_take(rl, SA(b), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(n), T0), 0);
	/* IPv6: the address, not the port. */
	CHECK_INT(gw_ratelimit_take(rl, SA(c), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(c2), T0), 60);
	CHECK_INT(gw_ratelimit_take(rl, SA(d), T0), 0);
	/* Every other family, and no address at all, is one shared client
	 * apart from all the IP ones. */
	CHECK_INT(gw_ratelimit_take(rl, SA(u1), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(u2), T0), 60);
	CHECK_INT(gw_ratelimit_take(rl, &unspec, T0), 60);
	CHECK_INT(gw_ratelimit_take(rl, NULL, T0), 60);
	/* 0.0.0.0 and :: are clients of their own, not "no address". */
	struct sockaddr_in z4 = v4(0, 0);
	struct sockaddr_in6 z6 = v6("::", 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(z4), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(z6), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(z6), T0), 60);
	gw_ratelimit_free(rl);
}

static void test_table_bound(void)
{
	struct gw_ratelimit *rl = NULL;
	struct sockaddr_in a = v4(0x0a000001, 1), b = v4(0x0a000002, 1), c = v4(0x0a000003, 1);

	/* Two slots. A and B empty their buckets; A is seen again (refused),
	 * so B is the least recent and C takes B's place. */
	CHECK_INT(gw_ratelimit_new(1, 1, 2, &rl), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(b), T0 + 1), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 2), 60);
	CHECK_INT(gw_ratelimit_take(rl, SA(c), T0 + 3), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 4), 60);
	/* B comes back with a full bucket and pushes out C, not A: A (at
	 * +4) was seen after C (at +3). */
	CHECK_INT(gw_ratelimit_take(rl, SA(b), T0 + 5), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 6), 60);
	/* So C starts afresh. */
	CHECK_INT(gw_ratelimit_take(rl, SA(c), T0 + 7), 0);
	gw_ratelimit_free(rl);

	/* One slot: every new client replaces the last. */
	CHECK_INT(gw_ratelimit_new(1, 1, 1, &rl), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 60);
	CHECK_INT(gw_ratelimit_take(rl, SA(b), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 0);
	CHECK_INT(gw_ratelimit_take(rl, SA(a), T0), 60);
	gw_ratelimit_free(rl);
}

static void test_many_clients(void)
{
	enum { MAX = 1000 };
	struct gw_ratelimit *rl = NULL;
	int bad = 0;

	/* A table that is not a power of two, filled: every client keeps its
	 * (empty) bucket while nobody new arrives. */
	CHECK_INT(gw_ratelimit_new(1, 1, MAX, &rl), 0);
	for (uint32_t i = 0; i < MAX; i++) {
		struct sockaddr_in a = v4(0x0a000000 + i, 1);
		bad += gw_ratelimit_take(rl, SA(a), T0 + i) != 0;
	}
	for (uint32_t i = 0; i < MAX; i++) {
		struct sockaddr_in a = v4(0x0a000000 + i, 1);
		bad += gw_ratelimit_take(rl, SA(a), T0 + MAX + i) != 60;
	}
	CHECK_INT(bad, 0);
	/* Ten newcomers push out the ten least recent: clients 0..9. */
	for (uint32_t i = 0; i < 10; i++) {
		struct sockaddr_in a = v4(0x0b000000 + i, 1);
		CHECK_INT(gw_ratelimit_take(rl, SA(a), T0 + 3 * MAX), 0);
	}
	struct sockaddr_in c10 = v4(0x0a000000 + 10, 1), c9 = v4(0x0a000000 + 9, 1);
	CHECK_INT(gw_ratelimit_take(rl, SA(c10), T0 + 3 * MAX), 60);
	CHECK_INT(gw_ratelimit_take(rl, SA(c9), T0 + 3 * MAX), 0);

	/* 200000 addresses, v4 and v6, cycled through the same table (every
	 * lookup of a new one evicts): the table stays consistent, and the
	 * last MAX clients seen are all still known. */
	bad = 0;
	for (uint32_t i = 0; i < 200000; i++) {
		if (i % 2) {
			struct sockaddr_in a = v4(0x64000000 + i, 1);
			bad += gw_ratelimit_take(rl, SA(a), T0 + 4 * MAX) != 0;
		} else {
			struct sockaddr_in6 a = v6("2001:db8::", 1);
			memcpy(a.sin6_addr.s6_addr + 12, &i, 4);
			bad += gw_ratelimit_take(rl, SA(a), T0 + 4 * MAX) != 0;
		}
	}
	CHECK_INT(bad, 0);
	for (uint32_t i = 200000 - MAX; i < 200000; i++) {
		if (i % 2) {
			struct sockaddr_in a = v4(0x64000000 + i, 1);
			bad += gw_ratelimit_take(rl, SA(a), T0 + 4 * MAX) != 60;
		} else {
			struct sockaddr_in6 a = v6("2001:db8::", 1);
			memcpy(a.sin6_addr.s6_addr + 12, &i, 4);
			bad += gw_ratelimit_take(rl, SA(a), T0 + 4 * MAX) != 60;
		}
	}
	CHECK_INT(bad, 0);
	gw_ratelimit_free(rl);
}

struct race {
	struct gw_ratelimit *rl;
	atomic_int allowed;
};

static void *taker(void *arg)
{
	struct race *r = arg;
	struct sockaddr_in a = v4(0x0a0a0a0a, 1);

	for (int i = 0; i < 2000; i++) {
		struct sockaddr_in other = v4(0x0b000000 + (uint32_t)i, 1);

		if (gw_ratelimit_take(r->rl, SA(a), T0) == 0)
			atomic_fetch_add(&r->allowed, 1);
		gw_ratelimit_take(r->rl, SA(other), T0);
	}
	return NULL;
}

static void test_threads(void)
{
	struct race r = {0};
	pthread_t t[4];

	/* Four threads at one instant: exactly `burst` takes succeed. The
	 * other clients churn a table that always holds the shared one. */
	CHECK_INT(gw_ratelimit_new(1, 100, 4096, &r.rl), 0);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, taker, &r);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(atomic_load(&r.allowed), 100);
	gw_ratelimit_free(r.rl);
}

int main(void)
{
	test_config();
	test_bucket();
	test_wait_is_true();
	test_keys();
	test_table_bound();
	test_many_clients();
	test_threads();
	TEST_DONE();
}
