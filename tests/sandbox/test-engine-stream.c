/* Live output (sbx_engine_run_stream): chunks arrive in order and whole
 * for moderate output, past the output cap too, stdout and stderr apart;
 * a stalled reader makes the spawner drop and count chunks, never slows
 * the sandbox, and never changes the result. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_util.h"
#include "testlib.h"

#define CAP (32u << 20)

struct sink {
	char *buf[2];
	size_t len[2];
	unsigned calls;
	unsigned stall_ms; /* sleep this long in the first call */
};

static void on_output(void *arg, int stream, const void *data, size_t len)
{
	struct sink *k = arg;

	if (k->calls++ == 0 && k->stall_ms)
		usleep(k->stall_ms * 1000);
	if (stream < 0 || stream > 1 || k->len[stream] + len > CAP)
		abort();
	memcpy(k->buf[stream] + k->len[stream], data, len);
	k->len[stream] += len;
}

static void sink_init(struct sink *k)
{
	memset(k, 0, sizeof(*k));
	k->buf[0] = malloc(CAP);
	k->buf[1] = malloc(CAP);
	if (!k->buf[0] || !k->buf[1])
		abort();
}

static void sink_fini(struct sink *k)
{
	free(k->buf[0]);
	free(k->buf[1]);
}

static Sbx__ExecResult *sh_stream(struct sbx_engine *e, const char *script, struct tu_spec *s,
				  struct sink *k, struct sbx_engine_stream *st)
{
	st->on_output = on_output;
	st->arg = k;
	memset(s->argv, 0, sizeof(s->argv));
	s->argv[0] = "/bin/sh";
	s->argv[1] = "-c";
	s->argv[2] = script;
	return tu_run_stream(e, s, st, NULL);
}

/* seq output, in order and complete, equal to the result's output. */
static void test_order(struct sbx_engine *e)
{
	struct sbx_engine_stream st = {0};
	struct tu_spec s;
	struct sink k;

	sink_init(&k);
	tu_spec_init(&s);
	s.lim.output_bytes = 4 << 20;
	Sbx__ExecResult *r = sh_stream(e, "seq 1 200000; echo err1 >&2; echo err2 >&2", &s, &k, &st);
	CHECK_INT(r->status, ST(OK));
	CHECK_INT(st.dropped_chunks, 0);
	CHECK_INT(k.len[0], r->stdout.len);
	CHECK(k.len[0] == r->stdout.len && memcmp(k.buf[0], r->stdout.data, k.len[0]) == 0);
	CHECK(k.len[1] == 10 && memcmp(k.buf[1], "err1\nerr2\n", 10) == 0);
	/* Spot-check the order independently of the result. */
	unsigned long expect = 1;
	char *p = k.buf[0], *end = k.buf[0] + k.len[0];
	bool ok = true;
	while (p < end && ok) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		ok = nl && strtoul(p, NULL, 10) == expect++;
		p = nl ? nl + 1 : end;
	}
	CHECKF(ok && expect == 200001, "order broken at %lu", expect);
	tu_free(r);
	sink_fini(&k);
}

/* The cap bounds the result, not the stream. */
static void test_past_cap(struct sbx_engine *e)
{
	struct sbx_engine_stream st = {0};
	struct tu_spec s;
	struct sink k;

	sink_init(&k);
	tu_spec_init(&s);
	s.lim.output_bytes = 1000;
	Sbx__ExecResult *r = sh_stream(e, "head -c 300000 /dev/zero", &s, &k, &st);
	CHECK_INT(r->status, ST(OUTPUT_LIMIT));
	CHECK(r->stdout_truncated);
	CHECK_INT(r->stdout.len, 1000);
	CHECK_INT(k.len[0] + st.dropped_bytes, 300000);
	CHECK_INT(st.dropped_chunks, 0);
	tu_free(r);
	sink_fini(&k);
}

/* A reader stalled for 4 s while the sandbox writes 24 MB: the spawner
 * drops what does not fit and counts it, the sandbox finishes in its own
 * time (well under the stall, even on a loaded host with the sanitizers),
 * and the result holds all the output. */
static void test_stalled_reader(struct sbx_engine *e)
{
	struct sbx_engine_stream st = {0};
	struct tu_spec s;
	struct sink k;

	sink_init(&k);
	k.stall_ms = 4000;
	tu_spec_init(&s);
	s.lim.output_bytes = 24u << 20;
	s.lim.wall_time_ms = 20000;
	Sbx__ExecResult *r = sh_stream(e, "echo start; head -c 24000000 /dev/zero", &s, &k, &st);
	CHECK_INT(r->status, ST(OK));
	CHECK_INT(r->stdout.len, 24000006);
	CHECKF(st.dropped_chunks > 0, "nothing dropped (%u calls)", k.calls);
	CHECK_INT(k.len[0] + st.dropped_bytes, 24000006);
	CHECKF(r->wall_time_ms < 3000, "the sandbox waited for the reader: %llu ms",
	       (unsigned long long)r->wall_time_ms);
	printf("stalled reader: %u chunks, %llu dropped (%llu bytes), wall %llu ms\n", k.calls,
	       (unsigned long long)st.dropped_chunks, (unsigned long long)st.dropped_bytes,
	       (unsigned long long)r->wall_time_ms);
	tu_free(r);

	/* The same engine streams normally afterwards. */
	sink_fini(&k);
	sink_init(&k);
	tu_spec_init(&s);
	r = sh_stream(e, "echo again", &s, &k, &st);
	CHECK(k.len[0] == 6 && memcmp(k.buf[0], "again\n", 6) == 0);
	CHECK_INT(st.dropped_chunks, 0);
	tu_free(r);
	sink_fini(&k);
}

/* Without a stream the result is unchanged (no frames reach the caller). */
static void test_plain(struct sbx_engine *e)
{
	Sbx__ExecResult *r = tu_sh(e, "seq 1 1000 | tail -n 1", NULL);
	CHECK_STR(tu_out(r), "1000\n");
	tu_free(r);
}

int main(void)
{
	struct sbx_engine *e = tu_engine(SBX_CGROUP_AUTO);

	test_order(e);
	test_past_cap(e);
	test_stalled_reader(e);
	test_plain(e);
	sbx_engine_free(e);
	TEST_DONE();
}
