/* The admin log ring: it keeps the newest lines in order when it wraps,
 * cuts long messages on a character boundary, and receives the daemon's
 * log lines through the log sink (INFO even when stderr shows only
 * errors); the per-sandbox output keeper splits output into lines and
 * stays bounded; host figures parse /proc formats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "host.h"
#include "log.h"
#include "logring.h"
#include "outputs.h"
#include "testlib.h"

static void test_ring(void)
{
	struct sbx_logring *r = NULL;
	struct sbx_logring_line out[8];
	char msg[16], big[2000];

	CHECK(sbx_logring_new(0, &r) < 0);
	CHECK(sbx_logring_new(4, &r) == 0);
	CHECK_INT(sbx_logring_tail(r, 8, out), 0);
	for (int i = 0; i < 6; i++) {
		snprintf(msg, sizeof(msg), "line %d", i);
		sbx_logring_push(r, i, SBX_LOG_INFO, i == 5 ? "abc" : NULL, msg);
	}
	CHECK_INT(sbx_logring_tail(r, 8, out), 4);
	CHECK_STR(out[0].msg, "line 2");
	CHECK_STR(out[3].msg, "line 5");
	CHECK_STR(out[3].id, "abc");
	CHECK_STR(out[2].id, "");
	CHECK_INT(sbx_logring_tail(r, 2, out), 2);
	CHECK_STR(out[0].msg, "line 4");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big + SBX_LOGRING_MSG_MAX - 2, "\xc3\xa9", 2);
	sbx_logring_push(r, 9, SBX_LOG_ERROR, "an-id-that-is-far-too-long-to-be-an-object-id", big);
	sbx_logring_tail(r, 1, out);
	CHECK_INT(strlen(out[0].msg), SBX_LOGRING_MSG_MAX - 2);
	CHECK_STR(out[0].id, "");

	/* Through the sink: sbx_log -> ring, also below the stderr level. */
	struct sbx_log_sink sink = {sbx_logring_sink, r};
	sbx_log_setup(SBX_LOG_ERROR, SBX_LOG_TEXT);
	sbx_log_set_sink(&sink);
	sbx_log(SBX_LOG_INFO, "some-id", "hello %d", 42);
	log_debug("not enabled: not kept");
	sbx_log_set_sink(NULL);
	sbx_log(SBX_LOG_INFO, NULL, "after removal");
	sbx_logring_tail(r, 1, out);
	CHECK_STR(out[0].msg, "hello 42");
	CHECK_STR(out[0].id, "some-id");
	CHECK(out[0].level == SBX_LOG_INFO && out[0].ms > 1600000000000LL);
	sbx_logring_free(r);
}

static void test_outputs(void)
{
	const char *id = "0b6d1d7e-0000-4000-8000-000000000001";
	Sbx__ExecResult res = SBX__EXEC_RESULT__INIT;
	Sbx__AdminLogsReply reply = SBX__ADMIN_LOGS_REPLY__INIT;
	struct sbx_output_figures fig;
	struct sbx_outputs *o = NULL;
	static char big[100000];
	char other[40];

	CHECK(sbx_outputs_new(2, &o) == 0);
	CHECK(sbx_outputs_figures(o, id, &fig) == -ENOENT);
	res.stdout.data = (uint8_t *)"one\ntwo\nthree";
	res.stdout.len = strlen("one\ntwo\nthree");
	res.stderr.data = (uint8_t *)"oops\n";
	res.stderr.len = 5;
	res.memory_peak_kb = 2048;
	res.cpu_time_ms = 50;
	res.wall_time_ms = 100;
	CHECK(sbx_outputs_put(o, id, 1000, &res) == 0);
	CHECK(sbx_outputs_figures(o, id, &fig) == 0 && fig.memory_peak_kb == 2048 &&
	      fig.wall_time_ms == 100);
	CHECK(sbx_outputs_lines(o, id, 100, &reply) == 0);
	CHECK_INT(reply.n_lines, 4);
	if (reply.n_lines == 4) {
		CHECK_STR(reply.lines[0]->message, "one");
		CHECK_STR(reply.lines[2]->message, "three");
		CHECK_STR(reply.lines[2]->level, "INFO");
		CHECK_STR(reply.lines[3]->message, "oops");
		CHECK_STR(reply.lines[3]->level, "ERROR");
		CHECK_STR(reply.lines[3]->sandbox_id, id);
	}
	for (size_t i = 0; i < reply.n_lines; i++)
		protobuf_c_message_free_unpacked(&reply.lines[i]->base, NULL);
	free(reply.lines);
	reply.lines = NULL;
	reply.n_lines = 0;
	/* The newest two lines. */
	CHECK(sbx_outputs_lines(o, id, 2, &reply) == 0);
	CHECK_INT(reply.n_lines, 2);
	if (reply.n_lines == 2) {
		CHECK_STR(reply.lines[0]->message, "three");
		CHECK_STR(reply.lines[1]->message, "oops");
	}
	for (size_t i = 0; i < reply.n_lines; i++)
		protobuf_c_message_free_unpacked(&reply.lines[i]->base, NULL);
	free(reply.lines);
	reply.lines = NULL;
	reply.n_lines = 0;

	/* Huge output: only a tail is kept. Two more sandboxes: the least
	 * recently updated goes. */
	memset(big, 'y', sizeof(big));
	res.stdout.data = (uint8_t *)big;
	res.stdout.len = sizeof(big);
	for (int i = 2; i <= 3; i++) {
		snprintf(other, sizeof(other), "0b6d1d7e-0000-4000-8000-00000000000%d", i);
		CHECK(sbx_outputs_put(o, other, 2000, &res) == 0);
	}
	CHECK(sbx_outputs_figures(o, id, &fig) == -ENOENT);
	CHECK(sbx_outputs_lines(o, other, 10, &reply) == 0);
	CHECK(reply.n_lines == 2 && strlen(reply.lines[0]->message) <= SBX_OUTPUTS_TAIL);
	for (size_t i = 0; i < reply.n_lines; i++)
		protobuf_c_message_free_unpacked(&reply.lines[i]->base, NULL);
	free(reply.lines);
	sbx_outputs_forget(o, other);
	CHECK(sbx_outputs_figures(o, other, &fig) == -ENOENT);
	sbx_outputs_free(o);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void test_host(void)
{
	char *dir = tl_tmpdir("host"), mem[512], stat[512];
	struct sbx_cpu_sample a, b;
	double used, total;

	snprintf(mem, sizeof(mem), "%s/meminfo", dir);
	snprintf(stat, sizeof(stat), "%s/stat", dir);
	write_file(mem, "MemTotal:        2048000 kB\nMemFree:          100 kB\nMemAvailable:    "
			"1024000 kB\n");
	CHECK(sbx_host_memory(mem, &used, &total) == 0);
	CHECK(total == 2000.0 && used == 1000.0);
	write_file(mem, "MemFree: 1 kB\n");
	CHECK(sbx_host_memory(mem, &used, &total) == -EINVAL);
	CHECK(sbx_host_memory("/proc/meminfo", &used, &total) == 0 && total > 0 && used <= total);

	write_file(stat, "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n");
	CHECK(sbx_host_cpu_sample(stat, &a) == 0);
	CHECK(a.total == 1000 && a.busy == 200);
	CHECK(sbx_host_cpu_percent(NULL, &a) == 20.0);
	write_file(stat, "cpu  150 0 150 750 150 0 0 0 0 0\n");
	CHECK(sbx_host_cpu_sample(stat, &b) == 0);
	CHECK(sbx_host_cpu_percent(&a, &b) == 50.0);
	CHECK(sbx_host_cpu_percent(&b, &b) >= 0.0);
	CHECK(sbx_host_cpu_sample("/proc/stat", &a) == 0 && a.total > 0);
	sbx_files_rmtree(dir);
	free(dir);
}

int main(void)
{
	test_ring();
	test_outputs();
	test_host();
	TEST_DONE();
}
