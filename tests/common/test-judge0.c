/* common/judge0.c alone: Judge0's status rules over ExecResults, its
 * serializer's formats, Ruby's encode64 and the decoder, fields, words
 * and tokens. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "judge0.h"
#include "testlib.h"

static Sbx__Judge0Submission *sub_new(void)
{
	Sbx__Judge0Submission *s =
		(Sbx__Judge0Submission *)sbx_message_new(&sbx__judge0_submission__descriptor);

	s->has_cpu_time_limit = true;
	s->cpu_time_limit = 2.0;
	s->has_number_of_runs = true;
	s->number_of_runs = 1;
	return s;
}

static int status_for(Sbx__ExecResult *res, const char *expected, const char *out)
{
	Sbx__Judge0Submission *s = sub_new();
	int id;

	if (expected)
		sbx_j0_set_bytes(&s->expected_output, &s->has_expected_output, expected,
				 strlen(expected), false);
	res->stdout.data = (uint8_t *)out;
	res->stdout.len = out ? strlen(out) : 0;
	CHECK(sbx_j0_apply_result(s, res) == 0);
	id = s->status_id;
	protobuf_c_message_free_unpacked(&s->base, NULL);
	return id;
}

static void test_status_rules(void)
{
	Sbx__ExecResult r = SBX__EXEC_RESULT__INIT, c = SBX__EXEC_RESULT__INIT;
	Sbx__Judge0Submission *s;

	CHECK_INT(status_for(&r, NULL, "x\n"), SBX_J0_ACCEPTED);
	/* Trailing blanks of each line and of the whole do not count. */
	CHECK_INT(status_for(&r, "a\nb", "a  \nb\n\n"), SBX_J0_ACCEPTED);
	CHECK_INT(status_for(&r, "a\nb", "a\n b"), SBX_J0_WRONG_ANSWER);
	CHECK_INT(status_for(&r, "", NULL), SBX_J0_ACCEPTED);
	/* Past cpu_time_limit within the extra time: a TLE all the same. */
	r.cpu_time_ms = 2001;
	CHECK_INT(status_for(&r, NULL, ""), SBX_J0_TLE);
	r.cpu_time_ms = 10;
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;
	CHECK_INT(status_for(&r, NULL, ""), SBX_J0_TLE);
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_OUTPUT_LIMIT;
	CHECK_INT(status_for(&r, NULL, ""), SBX_J0_SIGXFSZ);
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_MEMORY_LIMIT;
	CHECK_INT(status_for(&r, NULL, ""), SBX_J0_OTHER);
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
	r.error = "backend failed";
	CHECK_INT(status_for(&r, NULL, ""), SBX_J0_INTERNAL_ERROR);
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_SIGNALED;
	r.error = "";
	const int sigs[][2] = {
		{SIGSEGV, 7}, {SIGXFSZ, 8}, {SIGFPE, 9}, {SIGABRT, 10}, {SIGKILL, 12}};
	for (size_t i = 0; i < 5; i++) {
		r.signal = sigs[i][0];
		CHECK_INT(status_for(&r, NULL, ""), sigs[i][1]);
	}
	r.signal = 0;
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
	r.exit_code = 1;
	CHECK_INT(status_for(&r, NULL, ""), SBX_J0_NZEC);
	/* A failed compile: status 6, the compiler's output, no run. */
	c.status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
	c.output.data = (uint8_t *)"main.c:1: error\n";
	c.output.len = 16;
	r.compile = &c;
	s = sub_new();
	CHECK(sbx_j0_apply_result(s, &r) == 0);
	CHECK_INT(s->status_id, SBX_J0_COMPILATION_ERROR);
	CHECK(s->has_compile_output &&
	      memcmp(s->compile_output.data, "main.c:1: error\n", 16) == 0);
	CHECK(!s->has_time && !s->has_stdout && !s->has_exit_code);
	c.status = SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT;
	CHECK(sbx_j0_apply_result(s, &r) == 0);
	CHECK_STR((const char *)s->compile_output.data, "Compilation time limit exceeded.");
	protobuf_c_message_free_unpacked(&s->base, NULL);
}

/* number_of_runs: the average of time and memory, stopping at the first
 * run that is not Accepted. */
static void test_runs(void)
{
	Sbx__ExecResult r = SBX__EXEC_RESULT__INIT;
	Sbx__Judge0Submission *s = sub_new();
	double ts = 0;
	int64_t ms = 0;

	s->number_of_runs = 3;
	r.cpu_time_ms = 10;
	r.memory_peak_kb = 100;
	CHECK_INT(sbx_j0_add_run(s, &r, &ts, &ms), 1);
	r.cpu_time_ms = 20;
	r.memory_peak_kb = 201;
	CHECK_INT(sbx_j0_add_run(s, &r, &ts, &ms), 1);
	r.cpu_time_ms = 30;
	r.memory_peak_kb = 300;
	CHECK_INT(sbx_j0_add_run(s, &r, &ts, &ms), 0);
	CHECK(s->time > 0.0199 && s->time < 0.0201);
	CHECK_INT(s->memory, 200); /* 601 / 3, truncated */
	CHECK_INT(s->runs_done, 3);
	protobuf_c_message_free_unpacked(&s->base, NULL);
}

/* Each run's Execute carries the files; a finished submission drops
 * them (the archive stays). */
static void test_files(void)
{
	Sbx__Judge0Submission *s = sub_new();
	Sbx__ExecuteRequest x = SBX__EXECUTE_REQUEST__INIT;
	Sbx__File *f = malloc(sizeof(*f));

	sbx__file__init(f);
	f->path = strdup("data.txt");
	s->files = malloc(sizeof(*s->files));
	s->files[0] = f;
	s->n_files = 1;
	CHECK_INT(sbx_j0_execute_request(s, &x), 0);
	CHECK(x.n_files == 1 && x.files[0] == f);
	free(x.code);
	sbx_j0_drop_files(s);
	CHECK(s->n_files == 0 && !s->files);
	protobuf_c_message_free_unpacked(&s->base, NULL);
}

static void test_render(void)
{
	Sbx__Judge0Submission *s = sub_new();
	bool bad;
	json_t *j;
	char *text;

	s->token = strdup("t");
	s->has_status_id = true;
	s->status_id = 3;
	s->has_time = true;
	s->time = 0.002;
	s->has_memory = true;
	s->memory = 376;
	sbx_j0_set_bytes(&s->stdout, &s->has_stdout, "hello, Judge0\n", 14, true);
	j = sbx_j0_render(s, sbx_j0_default_fields(), true, &bad);
	text = json_dumps(j, JSON_COMPACT);
	/* get_a_submission.md's Base64 example. */
	CHECK_STR(text, "{\"stdout\":\"aGVsbG8sIEp1ZGdlMAo=\\n\",\"time\":\"0.002\",\"memory\":376,"
			"\"stderr\":null,\"token\":\"t\",\"compile_output\":null,\"message\":null,"
			"\"status\":{\"id\":3,\"description\":\"Accepted\"}}");
	free(text);
	json_decref(j);
	j = sbx_j0_render(s, sbx_j0_field("cpu_time_limit") | sbx_j0_field("time"), false, &bad);
	text = json_dumps(j, JSON_COMPACT);
	CHECK_STR(text, "{\"time\":\"0.002\",\"cpu_time_limit\":\"2.0\"}");
	free(text);
	json_decref(j);
	sbx_j0_set_bytes(&s->stdout, &s->has_stdout, "\xfe", 1, true);
	j = sbx_j0_render(s, sbx_j0_default_fields(), false, &bad);
	CHECK(!j && bad);
	protobuf_c_message_free_unpacked(&s->base, NULL);
}

static void test_text_helpers(void)
{
	char *out, **w;
	size_t len, n;
	uint64_t f;
	char err[128];

	out = sbx_j0_base64_encode("", 0);
	CHECK_STR(out, "");
	free(out);
	CHECK(sbx_j0_base64_decode("SnVk\nZ2Uw", 9, &out, &len) == 0 && len == 6 &&
	      memcmp(out, "Judge0", 6) == 0);
	free(out);
	CHECK(sbx_j0_base64_decode("aGk", 3, &out, &len) == 0 && len == 2);
	free(out);
	CHECK_INT(sbx_j0_base64_decode("a!==", 4, &out, &len), -EINVAL);
	CHECK_INT(sbx_j0_base64_decode("a", 1, &out, &len), -EINVAL);
	CHECK(sbx_j0_split_words(" a 'b c'  \"d\\\"e\" f\\ g $h;| ", &w, &n) == 0);
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK_STR(w[0], "a");
		CHECK_STR(w[1], "b c");
		CHECK_STR(w[2], "d\"e");
		CHECK_STR(w[3], "f g");
		CHECK_STR(w[4], "h");
	}
	sbx_j0_words_free(w);
	CHECK(sbx_j0_split_tokens(" a,,b, ", 20, &w, &n) == 0 && n == 3 && !*w[1]);
	sbx_j0_words_free(w);
	CHECK_INT(sbx_j0_split_tokens("a,b,c", 2, &w, &n), -E2BIG);
	CHECK(sbx_j0_parse_fields(NULL, &f, err, sizeof(err)) == 0 && f == sbx_j0_default_fields());
	CHECK(sbx_j0_parse_fields("*", &f, err, sizeof(err)) == 0 && f == (UINT64_C(1) << 40) - 1);
	CHECK_INT(sbx_j0_parse_fields("time,x,,y", &f, err, sizeof(err)), -EINVAL);
	CHECKF(strcmp(err, "invalid fields: [x, , y]") == 0, "%s", err);
	CHECK_STR(sbx_j0_status_description(14), "Exec Format Error");
	CHECK(!sbx_j0_status_description(15));
}

int main(void)
{
	test_status_rules();
	test_runs();
	test_files();
	test_render();
	test_text_helpers();
	TEST_DONE();
}
