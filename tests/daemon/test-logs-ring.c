/* daemon/logs/ring.c through logs.h (rings kept without an events
 * socket): the limits a logs registry accepts, ids, seq numbers from 1
 * that a refused line does not take, streams, wrap-around past the line
 * bound (with the slot array growing past 64 to a bound that is not a
 * power of two), the byte bound and the longest line, GetLogs from a seq
 * (first_seq > from_seq tells a gap), from beyond the end, `limit`,
 * `tail`, the reply caps in lines and bytes, and the table of rings
 * (-ENOSPC while every ring has a writer, the least recently finished
 * ring dropped). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "logs/logs.h"
#include "logs/ring.h"
#include "testlib.h"

#define COST(len) ((long long)LOG_LINE_COST(len))

static struct sbx_logs *logs_new(uint32_t rings, uint32_t lines, uint32_t bytes)
{
	struct sbx_logs_limits lim = {rings, lines, bytes};
	struct sbx_logs *l = NULL;

	if (sbx_logs_new(&lim, NULL, &l) < 0)
		abort();
	return l;
}

/* GetLogs on id; NULL when it fails (r in *rv). */
static Sbx__GetLogsReply *get(struct sbx_logs *l, const char *id, uint64_t from, uint32_t limit,
			      uint32_t tail, int *rv)
{
	Sbx__GetLogsRequest q = SBX__GET_LOGS_REQUEST__INIT;
	Sbx__GetLogsReply *rep = NULL;

	q.id = (char *)id;
	q.from_seq = from;
	q.limit = limit;
	q.tail = tail;
	*rv = sbx_logs_get(l, &q, &rep);
	return *rv == 0 ? rep : NULL;
}

static int64_t add_line(struct sbx_log_ring *r, int stream, const char *fmt, int i)
{
	char text[64];
	int n = snprintf(text, sizeof(text), fmt, i);

	return sbx_log_ring_add(r, stream, text, (size_t)n, false);
}

/* Lines i..i+n-1 of reply rep carry seq and text "line <seq>". */
static int lines_in_order(const Sbx__GetLogsReply *rep, uint64_t first_seq)
{
	char want[64];

	for (size_t i = 0; i < rep->n_lines; i++) {
		const Sbx__LogLine *m = rep->lines[i];
		int n = snprintf(want, sizeof(want), "line %llu",
				 (unsigned long long)(first_seq + i));

		if (m->seq != first_seq + i || m->text.len != (size_t)n ||
		    memcmp(m->text.data, want, (size_t)n) != 0)
			return 0;
	}
	return 1;
}

static void test_limits_and_ids(void)
{
	struct sbx_logs_limits lim = {1, 1, (uint32_t)LOG_LINE_COST(SBX_LOG_LINE_MAX)};
	struct sbx_logs *l = NULL;
	struct sbx_log_ring *r = NULL;
	char id[SBX_LOG_ID_MAX + 2];

	CHECK_INT(sbx_logs_new(NULL, NULL, &l), -EINVAL);
	lim.max_rings = 0;
	CHECK_INT(sbx_logs_new(&lim, NULL, &l), -EINVAL);
	lim.max_rings = 1;
	lim.ring_lines = 0;
	CHECK_INT(sbx_logs_new(&lim, NULL, &l), -EINVAL);
	lim.ring_lines = 1;
	lim.ring_bytes--;
	CHECK_INT(sbx_logs_new(&lim, NULL, &l), -EINVAL);
	CHECK(l == NULL);
	lim.ring_bytes++;
	CHECK_INT(sbx_logs_new(&lim, NULL, &l), 0);
	sbx_logs_free(NULL);

	CHECK_INT(sbx_logs_acquire(l, NULL, &r), -EINVAL);
	CHECK_INT(sbx_logs_acquire(l, "", &r), -EINVAL);
	memset(id, 'i', sizeof(id) - 1);
	id[SBX_LOG_ID_MAX + 1] = 0;
	CHECK_INT(sbx_logs_acquire(l, id, &r), -EINVAL);
	CHECK(r == NULL);
	id[SBX_LOG_ID_MAX] = 0;
	CHECK_INT(sbx_logs_acquire(l, id, &r), 0);
	CHECK_INT(sbx_logs_writers(l), 1);
	CHECK_INT(sbx_log_ring_add(r, SBX_LOG_STDOUT, "x", 1, false), 1);
	sbx_logs_release(l, r);
	CHECK_INT(sbx_logs_writers(l), 0);

	int rv;
	Sbx__GetLogsReply *rep = get(l, id, 0, 0, 0, &rv);
	CHECK_INT(rv, 0);
	CHECK(rep && rep->n_lines == 1);
	sbx__get_logs_reply__free_unpacked(rep, NULL);
	CHECK(get(l, "nobody", 0, 0, 0, &rv) == NULL && rv == -ENOENT);
	CHECK(get(l, NULL, 0, 0, 0, &rv) == NULL && rv == -ENOENT);
	sbx_logs_free(l);
}

static void test_append(void)
{
	struct sbx_logs *l = logs_new(4, 100, 1 << 20);
	struct sbx_log_ring *r = NULL;
	struct sbx_logs_stats st = {0};
	struct timeval before, after;
	int rv;

	CHECK_INT(sbx_logs_acquire(l, "obj", &r), 0);
	/* Empty: nothing, first_seq 1, last_seq 0. */
	Sbx__GetLogsReply *rep = get(l, "obj", 0, 0, 0, &rv);
	CHECK(rep != NULL);
	if (rep) {
		CHECK_INT(rep->n_lines, 0);
		CHECK_INT(rep->first_seq, 1);
		CHECK_INT(rep->last_seq, 0);
		CHECK_INT(rep->next_seq, 1);
		CHECK(rep->active);
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	}

	gettimeofday(&before, NULL);
	CHECK_INT(sbx_log_ring_add(r, SBX_LOG_STDOUT, "hello", 5, false), 1);
	CHECK_INT(sbx_log_ring_append(r, SBX_LOG_STDERR, "oops", 4), 2); /* no events: kept */
	/* Refused lines take no seq. */
	CHECK_INT(sbx_log_ring_add(r, 3, "x", 1, false), -EINVAL);
	CHECK_INT(sbx_log_ring_add(r, (enum sbx_log_stream) - 1, "x", 1, false), -EINVAL);
	char *huge = malloc(SBX_LOG_LINE_MAX + 1);
	memset(huge, 'h', SBX_LOG_LINE_MAX + 1);
	CHECK_INT(sbx_log_ring_add(r, SBX_LOG_STDOUT, huge, SBX_LOG_LINE_MAX + 1, false), -EINVAL);
	CHECK_INT(sbx_log_ring_add(r, SBX_LOG_STDOUT, "", 0, false), 3);
	CHECK_INT(sbx_log_ring_add(r, SBX_LOG_EXIT, "{\"exit_code\":0}", 15, false), 4);
	/* Text is bytes: NULs and invalid UTF-8 are kept as they are. */
	CHECK_INT(sbx_log_ring_add(r, SBX_LOG_STDOUT, "a\0b\xff", 4, false), 5);
	CHECK_INT(sbx_log_ring_add(r, SBX_LOG_STDOUT, huge, SBX_LOG_LINE_MAX, false), 6);
	gettimeofday(&after, NULL);

	sbx_logs_stats(l, &st);
	CHECK_INT(st.rings, 1);
	CHECK_INT(st.lines, 6);
	CHECK_INT(st.bytes,
		  COST(5) + COST(4) + COST(0) + COST(15) + COST(4) + COST(SBX_LOG_LINE_MAX));

	rep = get(l, "obj", 0, 0, 0, &rv);
	CHECK(rep != NULL);
	if (rep) {
		static const char *const streams[] = {"stdout", "stderr", "stdout",
						      "exit",	"stdout", "stdout"};
		int64_t t0 = (int64_t)before.tv_sec * 1000000 + before.tv_usec;
		int64_t t1 = (int64_t)after.tv_sec * 1000000 + after.tv_usec;

		CHECK_INT(rep->n_lines, 6);
		CHECK_INT(rep->first_seq, 1);
		CHECK_INT(rep->last_seq, 6);
		CHECK_INT(rep->next_seq, 7);
		for (size_t i = 0; i < rep->n_lines && i < 6; i++) {
			CHECK_INT(rep->lines[i]->seq, i + 1);
			CHECK_STR(rep->lines[i]->stream, streams[i]);
			CHECKF(rep->lines[i]->time_us >= t0 && rep->lines[i]->time_us <= t1,
			       "line %zu at %lld, not in [%lld, %lld]", i,
			       (long long)rep->lines[i]->time_us, (long long)t0, (long long)t1);
		}
		CHECK(rep->lines[0]->text.len == 5 &&
		      memcmp(rep->lines[0]->text.data, "hello", 5) == 0);
		CHECK_INT(rep->lines[2]->text.len, 0);
		CHECK(rep->lines[4]->text.len == 4 &&
		      memcmp(rep->lines[4]->text.data, "a\0b\xff", 4) == 0);
		CHECK(rep->lines[5]->text.len == SBX_LOG_LINE_MAX &&
		      memcmp(rep->lines[5]->text.data, huge, SBX_LOG_LINE_MAX) == 0);
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	}
	free(huge);

	/* Finished: not active any more, lines still there. */
	sbx_logs_release(l, r);
	rep = get(l, "obj", 0, 0, 0, &rv);
	CHECK(rep && !rep->active && rep->n_lines == 6);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	/* A new writer on the same id continues the seq. */
	CHECK_INT(sbx_logs_acquire(l, "obj", &r), 0);
	CHECK_INT(sbx_log_ring_add(r, SBX_LOG_STDOUT, "again", 5, false), 7);
	sbx_logs_release(l, r);
	sbx_logs_free(l);
}

static void test_wrap_and_replay(void)
{
	/* 100 lines: the slot array grows 64 -> 100 and then wraps. */
	struct sbx_logs *l = logs_new(4, 100, 1 << 20);
	struct sbx_log_ring *r = NULL;
	struct sbx_logs_stats st = {0};
	Sbx__GetLogsReply *rep;
	int rv, bad = 0;

	CHECK_INT(sbx_logs_acquire(l, "w", &r), 0);
	for (int i = 1; i <= 250; i++)
		bad += add_line(r, SBX_LOG_STDOUT, "line %d", i) != i;
	CHECK_INT(bad, 0);
	sbx_logs_stats(l, &st);
	CHECK_INT(st.lines, 100);
	CHECK_INT(st.bytes, 100 * COST(8)); /* "line 151".."line 250" */

	/* Everything kept: 151..250. */
	rep = get(l, "w", 0, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 100 && rep->first_seq == 151 && rep->last_seq == 250 &&
	      rep->next_seq == 251 && lines_in_order(rep, 151));
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);

	/* From a seq still kept. */
	rep = get(l, "w", 200, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 51 && rep->next_seq == 251 && lines_in_order(rep, 200));
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	/* From the oldest kept, exactly. */
	rep = get(l, "w", 151, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 100 && lines_in_order(rep, 151));
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	/* From a seq already dropped: the reply starts at the oldest kept and
	 * first_seq > from_seq tells the reader it missed 10..150. */
	rep = get(l, "w", 10, 0, 0, &rv);
	CHECK(rep && rep->first_seq == 151 && rep->n_lines == 100 && lines_in_order(rep, 151) &&
	      rep->next_seq == 251);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	/* From the next seq (up to date) and from beyond it. */
	rep = get(l, "w", 251, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 0 && rep->next_seq == 251 && rep->last_seq == 250);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	rep = get(l, "w", 1000000, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 0 && rep->next_seq == 251);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	rep = get(l, "w", UINT64_MAX, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 0 && rep->next_seq == 251);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);

	/* limit: pages that join up. */
	rep = get(l, "w", 160, 10, 0, &rv);
	CHECK(rep && rep->n_lines == 10 && lines_in_order(rep, 160) && rep->next_seq == 170);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	rep = get(l, "w", 245, 10, 0, &rv);
	CHECK(rep && rep->n_lines == 6 && lines_in_order(rep, 245) && rep->next_seq == 251);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	rep = get(l, "w", 0, 1, 0, &rv);
	CHECK(rep && rep->n_lines == 1 && lines_in_order(rep, 151) && rep->next_seq == 152);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);

	/* tail: the last lines, whatever from_seq says. */
	rep = get(l, "w", 160, 0, 5, &rv);
	CHECK(rep && rep->n_lines == 5 && lines_in_order(rep, 246) && rep->next_seq == 251);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	rep = get(l, "w", 0, 0, 100, &rv);
	CHECK(rep && rep->n_lines == 100 && lines_in_order(rep, 151));
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	rep = get(l, "w", 0, 0, 1000, &rv);
	CHECK(rep && rep->n_lines == 100 && lines_in_order(rep, 151));
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	rep = get(l, "w", 0, 3, 10, &rv); /* tail 10, limit 3: the first 3 of those */
	CHECK(rep && rep->n_lines == 3 && lines_in_order(rep, 241) && rep->next_seq == 244);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);

	/* Writing on past another wrap keeps order. */
	for (int i = 251; i <= 1000; i++)
		bad += add_line(r, SBX_LOG_STDOUT, "line %d", i) != i;
	CHECK_INT(bad, 0);
	rep = get(l, "w", 0, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 100 && rep->first_seq == 901 && lines_in_order(rep, 901));
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	sbx_logs_release(l, r);
	sbx_logs_free(l);

	/* A ring of one line. */
	l = logs_new(1, 1, (uint32_t)LOG_LINE_COST(SBX_LOG_LINE_MAX));
	CHECK_INT(sbx_logs_acquire(l, "one", &r), 0);
	for (int i = 1; i <= 5; i++)
		add_line(r, SBX_LOG_STDOUT, "line %d", i);
	rep = get(l, "one", 0, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 1 && rep->first_seq == 5 && lines_in_order(rep, 5));
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	sbx_logs_release(l, r);
	sbx_logs_free(l);
}

static void test_byte_bound(void)
{
	/* The smallest byte bound: exactly one longest line. */
	uint32_t max = (uint32_t)LOG_LINE_COST(SBX_LOG_LINE_MAX);
	struct sbx_logs *l = logs_new(1, 1000, max);
	struct sbx_log_ring *r = NULL;
	struct sbx_logs_stats st = {0};
	char *text = malloc(SBX_LOG_LINE_MAX);
	size_t per = (size_t)COST(1000), fit = max / per;
	Sbx__GetLogsReply *rep;
	int rv;

	memset(text, 't', SBX_LOG_LINE_MAX);
	CHECK_INT(sbx_logs_acquire(l, "b", &r), 0);
	for (int i = 1; i <= 40; i++)
		CHECK_INT(sbx_log_ring_add(r, SBX_LOG_STDOUT, text, 1000, false), i);
	sbx_logs_stats(l, &st);
	CHECK_INT(st.lines, fit);
	CHECK_INT(st.bytes, fit * per);
	CHECKF(st.bytes <= max, "%zu bytes kept, bound %u", st.bytes, max);
	rep = get(l, "b", 0, 0, 0, &rv);
	CHECK(rep && rep->n_lines == fit && rep->first_seq == 41 - fit && rep->last_seq == 40);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);

	/* The longest line takes the whole ring... */
	CHECK_INT(sbx_log_ring_add(r, SBX_LOG_STDERR, text, SBX_LOG_LINE_MAX, false), 41);
	memset(&st, 0, sizeof(st));
	sbx_logs_stats(l, &st);
	CHECK_INT(st.lines, 1);
	CHECK_INT(st.bytes, max);
	/* ...and the next line, even an empty one, pushes it out. */
	CHECK_INT(sbx_log_ring_add(r, SBX_LOG_STDOUT, "", 0, false), 42);
	memset(&st, 0, sizeof(st));
	sbx_logs_stats(l, &st);
	CHECK_INT(st.lines, 1);
	CHECK_INT(st.bytes, COST(0));
	rep = get(l, "b", 0, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 1 && rep->first_seq == 42 && rep->lines[0]->text.len == 0);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	sbx_logs_release(l, r);
	sbx_logs_free(l);
	free(text);
}

static void test_reply_caps(void)
{
	/* More lines than a reply holds: 10000 at most. */
	struct sbx_logs *l = logs_new(2, 12000, 8u << 20);
	struct sbx_log_ring *r = NULL;
	Sbx__GetLogsReply *rep;
	char *text = malloc(SBX_LOG_LINE_MAX);
	int rv, bad = 0;

	CHECK_INT(sbx_logs_acquire(l, "many", &r), 0);
	for (int i = 1; i <= 12000; i++)
		bad += add_line(r, SBX_LOG_STDOUT, "line %d", i) != i;
	CHECK_INT(bad, 0);
	rep = get(l, "many", 0, 0, 0, &rv);
	CHECK(rep && rep->n_lines == SBX_LOG_GET_MAX_LINES && lines_in_order(rep, 1) &&
	      rep->next_seq == SBX_LOG_GET_MAX_LINES + 1 && rep->last_seq == 12000);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	rep = get(l, "many", 0, 20000, 0, &rv);
	CHECK(rep && rep->n_lines == SBX_LOG_GET_MAX_LINES);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	rep = get(l, "many", 10001, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 2000 && lines_in_order(rep, 10001) && rep->next_seq == 12001);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	sbx_logs_release(l, r);

	/* More text than a reply holds: 4 MiB, in whole lines. */
	memset(text, 'x', SBX_LOG_LINE_MAX);
	CHECK_INT(sbx_logs_acquire(l, "big", &r), 0);
	for (int i = 1; i <= 300; i++)
		bad += sbx_log_ring_add(r, SBX_LOG_STDOUT, text, SBX_LOG_LINE_MAX, false) != i;
	CHECK_INT(bad, 0);
	rep = get(l, "big", 0, 0, 0, &rv);
	CHECK(rep && rep->n_lines == SBX_LOG_GET_MAX_BYTES / SBX_LOG_LINE_MAX &&
	      rep->next_seq == 1 + SBX_LOG_GET_MAX_BYTES / SBX_LOG_LINE_MAX);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	rep = get(l, "big", 257, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 44 && rep->next_seq == 301);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	sbx_logs_release(l, r);
	sbx_logs_free(l);
	free(text);
}

static void test_rings_table(void)
{
	struct sbx_logs *l = logs_new(2, 10, (uint32_t)LOG_LINE_COST(SBX_LOG_LINE_MAX));
	struct sbx_log_ring *a = NULL, *b = NULL, *c = NULL, *again = NULL;
	struct sbx_logs_stats st = {0};
	Sbx__GetLogsReply *rep;
	int rv;

	CHECK_INT(sbx_logs_acquire(l, "a", &a), 0);
	CHECK_INT(sbx_logs_acquire(l, "b", &b), 0);
	add_line(a, SBX_LOG_STDOUT, "line %d", 1);
	add_line(b, SBX_LOG_STDOUT, "line %d", 1);
	/* Both rings have writers: no room. A second writer on "a" is fine. */
	CHECK_INT(sbx_logs_acquire(l, "c", &c), -ENOSPC);
	CHECK_INT(sbx_logs_acquire(l, "a", &again), 0);
	CHECK(again == a);
	CHECK_INT(sbx_logs_writers(l), 3);
	sbx_logs_release(l, again);
	CHECK_INT(sbx_logs_acquire(l, "c", &c), -ENOSPC);

	/* b finishes, then a: b is the least recently finished and goes. */
	sbx_logs_release(l, b);
	sbx_logs_release(l, a);
	CHECK_INT(sbx_logs_writers(l), 0);
	CHECK_INT(sbx_logs_acquire(l, "c", &c), 0);
	CHECK(get(l, "b", 0, 0, 0, &rv) == NULL && rv == -ENOENT);
	rep = get(l, "a", 0, 0, 0, &rv);
	CHECK(rep && rep->n_lines == 1 && !rep->active);
	if (rep)
		sbx__get_logs_reply__free_unpacked(rep, NULL);
	sbx_logs_stats(l, &st);
	CHECK_INT(st.rings, 2);
	CHECK_INT(st.lines, 1);

	/* "b" again is a new ring: its seq starts over at 1. */
	CHECK_INT(sbx_logs_acquire(l, "b", &b), 0); /* drops "a" */
	CHECK_INT(add_line(b, SBX_LOG_STDOUT, "line %d", 1), 1);
	CHECK(get(l, "a", 0, 0, 0, &rv) == NULL && rv == -ENOENT);
	sbx_logs_release(l, b);
	sbx_logs_release(l, c);
	sbx_logs_free(l);
}

int main(void)
{
	test_limits_and_ids();
	test_append();
	test_wrap_and_replay();
	test_byte_bound();
	test_reply_caps();
	test_rings_table();
	TEST_DONE();
}
