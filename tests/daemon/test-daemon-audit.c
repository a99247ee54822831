/* The audit log: one JSON line per request with who, what, limits and
 * result; never the code, stdin, environment values or output, even when
 * they sit in the result handed to the observer; lines are capped in size
 * (huge or non-UTF-8 fields are cut, not dropped) and appended with one
 * write each. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "files.h"
#include "testlib.h"

static const char secret[] = "hunter2-TOPSECRET";

static Sbx__ExecResult result(void)
{
	Sbx__ExecResult r = SBX__EXEC_RESULT__INIT;

	r.status = SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;
	r.exit_code = 137;
	r.signal = 9;
	r.wall_time_ms = 1234;
	r.cpu_time_ms = 99;
	r.memory_peak_kb = 4096;
	/* The program printed its secret: the audit line must not. */
	r.stdout.data = (uint8_t *)secret;
	r.stdout.len = strlen(secret);
	r.stderr = r.stdout;
	r.error = (char *)secret;
	return r;
}

static void test_format(void)
{
	Sbx__ExecResult res = result();
	Sbx__Limits l = SBX__LIMITS__INIT;
	struct sbx_exec_report rep = {
		.method = "Execute",
		.client = "203.0.113.7",
		.kind = "execute",
		.object_id = "",
		.language = "python",
		.execution_id = "0b6d1d7e-0000-4000-8000-000000000001",
		.limits = &l,
		.started_ms = 0,
		.res = &res,
	};
	char buf[SBX_AUDIT_LINE_MAX];
	json_t *j, *lim;
	int n;

	l.has_wall_time_ms = 1;
	l.wall_time_ms = 5000;
	l.has_memory_kb = 1;
	l.memory_kb = 65536;
	n = sbx_audit_format(&rep, 1700000000123, buf, sizeof(buf));
	CHECK(n > 0 && buf[n - 1] == '\n' && strchr(buf, '\n') == buf + n - 1);
	CHECK(strstr(buf, secret) == NULL);
	j = json_loads(buf, 0, NULL);
	CHECK(j != NULL);
	CHECK_STR(json_string_value(json_object_get(j, "timestamp")), "2023-11-14T22:13:20.123Z");
	CHECK_STR(json_string_value(json_object_get(j, "client")), "203.0.113.7");
	CHECK_STR(json_string_value(json_object_get(j, "method")), "Execute");
	CHECK_STR(json_string_value(json_object_get(j, "language")), "python");
	CHECK_STR(json_string_value(json_object_get(j, "execution_id")), rep.execution_id);
	CHECK_STR(json_string_value(json_object_get(j, "status")), "EXEC_STATUS_WALL_TIME_LIMIT");
	CHECK_INT(json_integer_value(json_object_get(j, "exit_code")), 137);
	CHECK_INT(json_integer_value(json_object_get(j, "duration_ms")), 1234);
	lim = json_object_get(j, "limits");
	CHECK_INT(json_integer_value(json_object_get(lim, "wall_time_ms")), 5000);
	CHECK_INT(json_integer_value(json_object_get(lim, "memory_kb")), 65536);
	CHECK(json_object_get(lim, "pids") == NULL); /* unset limits are left out */
	CHECK(json_object_get(j, "object_id") == NULL);
	CHECK(json_object_get(j, "stdout") == NULL && json_object_get(j, "error") == NULL);
	json_decref(j);

	/* No client: "rpc". Refused: REJECTED and the status name only. */
	rep.client = "";
	rep.res = NULL;
	rep.error = -EAGAIN;
	n = sbx_audit_format(&rep, 0, buf, sizeof(buf));
	j = json_loads(buf, 0, NULL);
	CHECK(n > 0 && j);
	CHECK_STR(json_string_value(json_object_get(j, "client")), "rpc");
	CHECK_STR(json_string_value(json_object_get(j, "status")), "REJECTED");
	CHECK_STR(json_string_value(json_object_get(j, "error")), "RESOURCE_EXHAUSTED");
	CHECK(json_object_get(j, "exit_code") == NULL);
	json_decref(j);
}

static void test_bounds(void)
{
	static char huge[100000], ctl[3000], bad[] = "\xff\xfe/bin/sh";
	Sbx__ExecResult res = result();
	struct sbx_exec_report rep = {
		.method = "Run",
		.client = huge,
		.kind = "run",
		.object_id = "",
		.language = ctl,
		.execution_id = "",
		.limits = NULL,
		.res = &res,
	};
	char buf[SBX_AUDIT_LINE_MAX];
	json_t *j;
	int n;

	memset(huge, 'a', sizeof(huge) - 1);
	/* Control characters escape to six bytes each. */
	memset(ctl, 1, sizeof(ctl) - 1);
	n = sbx_audit_format(&rep, 0, buf, sizeof(buf));
	CHECK(n > 0 && n < SBX_AUDIT_LINE_MAX && buf[n - 1] == '\n');
	j = json_loads(buf, 0, NULL);
	CHECK(j && strlen(json_string_value(json_object_get(j, "client"))) <= SBX_AUDIT_FIELD_MAX);
	json_decref(j);

	/* A multi-byte character is not split; invalid UTF-8 is replaced. */
	memset(huge, 'a', sizeof(huge) - 1);
	memcpy(huge + SBX_AUDIT_FIELD_MAX - 1, "\xc3\xa9", 2);
	rep.language = bad;
	n = sbx_audit_format(&rep, 0, buf, sizeof(buf));
	j = json_loads(buf, 0, NULL);
	CHECK(n > 0 && j);
	CHECK_INT(strlen(json_string_value(json_object_get(j, "client"))), SBX_AUDIT_FIELD_MAX - 1);
	CHECK_STR(json_string_value(json_object_get(j, "language")), "(not UTF-8)");
	json_decref(j);
}

static void test_write(void)
{
	char *dir = tl_tmpdir("audit"), path[512], text[8192];
	Sbx__ExecResult res = result();
	struct sbx_exec_report rep = {
		.method = "Run",
		.client = "",
		.kind = "run",
		.object_id = "",
		.language = "/bin/true",
		.execution_id = "x",
		.res = &res,
	};
	struct sbx_audit *a = NULL;
	int fd, lines = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/audit.log", dir);
	CHECK(sbx_audit_open(path, &a) == 0);
	CHECK(sbx_audit_write(a, &rep) == 0);
	CHECK(sbx_audit_write(a, &rep) == 0);
	sbx_audit_close(a);
	/* Reopening appends. */
	CHECK(sbx_audit_open(path, &a) == 0);
	CHECK(sbx_audit_write(a, &rep) == 0);
	sbx_audit_close(a);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	CHECK(n > 0);
	text[n > 0 ? n : 0] = 0;
	for (char *p = text; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_INT(lines, 3);
	CHECK(strstr(text, secret) == NULL);
	sbx_files_rmtree(dir);
	free(dir);
}

int main(void)
{
	test_format();
	test_bounds();
	test_write();
	TEST_DONE();
}
