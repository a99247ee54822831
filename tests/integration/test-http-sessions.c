/* OpenSandbox's stateful sessions (opensandbox-README.md, "Stateful
 * Sessions") through the real sandboxd and sandbox-gateway: the README's
 * examples as written (a file written in one run is read back by the
 * next; env and cwd persist; another session sees none of it), the other
 * session routes and their bad input; the sandbox-executor history and
 * statistics (GET /api/v1/executions, /api/v1/executions/{id},
 * /api/v1/stats); and a sandbox and a session that survive kill -9 of
 * sandboxd, restarted on the same state directory behind the same
 * gateway. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

#define SESSION_SHAPE "session_id:s env:o cwd:s created_at:s last_used_at:s runs:i network:b node:s"
#define HISTORY_SHAPE                                                                              \
	"execution_id:s language:s status:s exit_code:i signal:z execution_time_ms:i "             \
	"memory_used_mb:n started_at:s client:s kind:s object_id:s node:s"

/* GET /api/v1/executions/{id}: also what it printed. */
#define HISTORY_SHAPE_ONE                                                                          \
	"execution_id:s language:s status:s exit_code:i signal:z execution_time_ms:i "             \
	"memory_used_mb:n started_at:s client:s kind:s object_id:s stdout:s stderr:s "             \
	"compile_output:s stdout_truncated:b stderr_truncated:b compile_output_truncated:b node:s"

static struct th_stack st;

/* POST /sessions with body; the new id in id, "" on failure. */
static void new_session(const char *body, char *id, size_t idlen)
{
	struct th_resp r = {0};
	json_t *j;

	id[0] = '\0';
	th_http(st.base, "POST", "/sessions", body, NULL, 0, &r);
	j = th_check_reply(&r, "session_id:s node:s");
	if (j)
		snprintf(id, idlen, "%s", th_str(j, "session_id"));
	json_decref(j);
	th_resp_fini(&r);
}

/* POST /sessions/{id}/<what> with body; compare the reply with want
 * exactly once the node (an additive last key) is cut (want NULL: only
 * 200). */
static void post_exact(const char *id, const char *what, const char *body, const char *want)
{
	struct th_resp r = {0};
	char path[160], node[64];

	snprintf(path, sizeof(path), "/sessions/%s/%s", id, what);
	th_http(st.base, "POST", path, body, NULL, 0, &r);
	CHECKF(r.status == 200 && (!want || (th_cut_node(&r, node, sizeof(node)) &&
					     strcmp(r.body, want) == 0)),
	       "POST %s %s\n  got %ld %s\n want %s", path, body, r.status, r.body,
	       want ? want : "200");
	th_resp_fini(&r);
}

/* The README's session examples as written, then what they imply. */
static void test_documented(char *id, size_t idlen)
{
	char other[64], path[160];
	struct th_resp r = {0};
	json_t *j;

	new_session("{\"env\": {\"MY_VAR\": \"hello\"}}", id, idlen);
	if (!*id)
		return;
	CHECKF(strlen(id) == 36 && id[14] == '4', "session_id '%s' is not a UUID v4", id);
	/* Write a file, read it back (file persists!). */
	post_exact(id, "run",
		   "{\"command\": [\"/bin/sh\", \"-c\", \"echo hello > /tmp/test.txt\"]}",
		   "{\"stdout\":\"\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");
	post_exact(id, "run", "{\"command\": [\"/bin/cat\", \"/tmp/test.txt\"]}",
		   "{\"stdout\":\"hello\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");
	/* The env given at creation, then more of it. */
	post_exact(id, "run", "{\"command\": [\"/bin/sh\", \"-c\", \"echo $MY_VAR\"]}",
		   "{\"stdout\":\"hello\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");
	post_exact(id, "env", "{\"env\": {\"GH_TOKEN\": \"...\"}}", NULL);
	post_exact(id, "run", "{\"command\": [\"/bin/sh\", \"-c\", \"echo $MY_VAR $GH_TOKEN\"]}",
		   "{\"stdout\":\"hello ...\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");
	/* A run's own env is for that run only, over the session's. */
	post_exact(id, "run",
		   "{\"command\": [\"/bin/sh\", \"-c\", \"echo $MY_VAR-$ONCE\"], \"env\": "
		   "{\"ONCE\": \"1\", \"MY_VAR\": \"over\"}}",
		   "{\"stdout\":\"over-1\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");
	post_exact(id, "run", "{\"command\": [\"/bin/sh\", \"-c\", \"echo $MY_VAR-$ONCE\"]}",
		   "{\"stdout\":\"hello-\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");
	/* cwd persists. */
	post_exact(id, "cwd", "{\"cwd\": \"/tmp\"}", NULL);
	post_exact(id, "run", "{\"command\": [\"/bin/pwd\"]}",
		   "{\"stdout\":\"/tmp\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");
	post_exact(id, "run", "{\"command\": [\"/bin/cat\", \"test.txt\"]}",
		   "{\"stdout\":\"hello\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");

	/* Another session sees neither the file nor the env. */
	new_session("{}", other, sizeof(other));
	if (*other) {
		snprintf(path, sizeof(path), "/sessions/%s/run", other);
		th_http(st.base, "POST", path,
			"{\"command\": [\"/bin/sh\", \"-c\", \"cat /tmp/test.txt; echo "
			"[$MY_VAR$GH_TOKEN]; pwd\"]}",
			NULL, 0, &r);
		j = th_check_reply(&r, "stdout:s stderr:s exit_code:i signal:z node:s");
		if (j) {
			CHECK_STR(th_str(j, "stdout"), "[]\n/workspace\n");
			CHECKF(strstr(th_str(j, "stderr"), "No such file"), "%s",
			       th_str(j, "stderr"));
		}
		json_decref(j);
	}

	/* GET /sessions/{id}: the session as it is now. */
	snprintf(path, sizeof(path), "/sessions/%s", id);
	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	j = th_check_reply(&r, SESSION_SHAPE);
	if (j) {
		CHECK_STR(th_str(j, "session_id"), id);
		CHECK_STR(th_str(j, "cwd"), "/tmp");
		CHECK_STR(json_string_value(json_object_get(json_object_get(j, "env"), "MY_VAR")),
			  "hello");
		CHECK_INT(json_integer_value(json_object_get(j, "runs")), 8);
	}
	json_decref(j);
	/* GET /sessions: a bare array holding both. */
	th_http(st.base, "GET", "/sessions", NULL, NULL, 0, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && json_is_array(j) && strstr(r.body, id) && strstr(r.body, other),
	       "%ld %.300s", r.status, r.body);
	json_decref(j);

	/* DELETE: 204 without a body, then 404 everywhere. */
	snprintf(path, sizeof(path), "/sessions/%s", other);
	th_http(st.base, "DELETE", path, NULL, NULL, 0, &r);
	CHECKF(r.status == 204 && r.len == 0, "DELETE: %ld '%s'", r.status, r.body);
	th_expect_error(st.base, "DELETE", path, NULL, 404, "not found");
	th_expect_error(st.base, "GET", path, NULL, 404, "not found");
	th_http(st.base, "GET", "/sessions", NULL, NULL, 0, &r);
	CHECKF(r.status == 200 && !strstr(r.body, other), "%.300s", r.body);
	th_resp_fini(&r);
}

/* Bad input on each session route. */
static void test_bad_input(const char *id)
{
	static const char unknown[] = "/sessions/00000000-0000-4000-8000-000000000000";
	char path[160], *big;
	size_t n;

	th_expect_error(st.base, "POST", "/sessions", "{\"env\": \"MY_VAR=hello\"}", 400, "env");
	th_expect_error(st.base, "POST", "/sessions", "{\"env\": {\"A\": 1}}", 400, "env");
	th_expect_error(st.base, "POST", "/sessions", "{\"env\": {\"A=B\": \"1\"}}", 400, "A=B");
	th_expect_error(st.base, "POST", "/sessions", "{\"env\"", 400, "not valid JSON");

	snprintf(path, sizeof(path), "/sessions/%s/run", id);
	th_expect_error(st.base, "POST", path, "{}", 400, "command");
	th_expect_error(st.base, "POST", path, "{\"command\": []}", 400, "command");
	th_expect_error(st.base, "POST", path, "{\"command\": \"/bin/true\"}", 400, "command");
	th_expect_error(st.base, "POST", path, "{\"command\": [1]}", 400, "command");
	th_expect_error(st.base, "POST", path, "{\"command\": [\"/bin/true\"], \"time\": \"soon\"}", 400,
		     "'time'");
	th_expect_error(st.base, "POST", path, "{\"command\": [\"/bin/true\"], \"mem\": 99999999999}", 400,
		     "'mem'");
	th_expect_error(st.base, "POST", path, "{\"command\": [\"/bin/true\"], \"env\": [\"A=1\"]}", 400,
		     "env");
	snprintf(path, sizeof(path), "/sessions/%s/env", id);
	th_expect_error(st.base, "POST", path, "{\"env\": 5}", 400, "env");
	snprintf(path, sizeof(path), "/sessions/%s/cwd", id);
	th_expect_error(st.base, "POST", path, "{}", 400, "cwd");
	th_expect_error(st.base, "POST", path, "{\"cwd\": \"tmp\"}", 400, "absolute");
	th_expect_error(st.base, "POST", path, "{\"cwd\": 5}", 400, "cwd");
	/* Too big a body. */
	big = malloc((17u << 20) + 64);
	n = (size_t)sprintf(big, "{\"env\": {\"A\": \"");
	memset(big + n, 'a', 17u << 20);
	strcpy(big + n + (17u << 20), "\"}}");
	th_expect_error(st.base, "POST", path, big, 413, "larger than");
	th_expect_error(st.base, "POST", "/sessions", big, 413, "larger than");
	free(big);

	/* Unknown ids. */
	th_expect_error(st.base, "GET", unknown, NULL, 404, "not found");
	th_expect_error(st.base, "DELETE", unknown, NULL, 404, "not found");
	snprintf(path, sizeof(path), "%s/run", unknown);
	th_expect_error(st.base, "POST", path, "{\"command\": [\"/bin/true\"]}", 404, "not found");
	snprintf(path, sizeof(path), "%s/env", unknown);
	th_expect_error(st.base, "POST", path, "{\"env\": {\"A\": \"1\"}}", 404, "not found");
	snprintf(path, sizeof(path), "%s/cwd", unknown);
	th_expect_error(st.base, "POST", path, "{\"cwd\": \"/tmp\"}", 404, "not found");
	th_expect_error(st.base, "PUT", "/sessions", NULL, 405, NULL);
}

/* The executor's history of the runs above, and its statistics. */
static void test_history(const char *session)
{
	struct th_resp r = {0};
	char why[256], path[160], exec_id[64] = "";
	json_t *j, *e;
	size_t i;

	th_http(st.base, "GET", "/api/v1/executions", NULL, NULL, 0, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && json_is_array(j) && json_array_size(j) >= 9, "%ld %.300s",
	       r.status, r.body);
	json_array_foreach(j, i, e)
	{
		if (strcmp(th_str(e, "object_id"), session) != 0)
			continue;
		CHECKF(th_json_shape(e, HISTORY_SHAPE, why, sizeof(why)), "%s", why);
		CHECK_STR(th_str(e, "kind"), "session");
		CHECK_STR(th_str(e, "status"), "success");
		/* The gateway tells the daemon whom it acts for. */
		CHECK_STR(th_str(e, "client"), "127.0.0.1");
		if (!*exec_id)
			snprintf(exec_id, sizeof(exec_id), "%s", th_str(e, "execution_id"));
	}
	CHECKF(exec_id[0] != '\0', "no history entry for session %s", session);
	json_decref(j);

	th_http(st.base, "GET", "/api/v1/executions?limit=2", NULL, NULL, 0, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && json_array_size(j) == 2, "?limit=2: %ld %.300s", r.status,
	       r.body);
	json_decref(j);
	th_expect_error(st.base, "GET", "/api/v1/executions?limit=many", NULL, 400, "limit");

	snprintf(path, sizeof(path), "/api/v1/executions/%s", exec_id);
	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	j = th_check_reply(&r, HISTORY_SHAPE_ONE);
	if (j)
		CHECKF(strcmp(th_str(j, "execution_id"), exec_id) == 0, "%s", r.body);
	json_decref(j);
	th_expect_error(st.base, "GET", "/api/v1/executions/00000000-0000-4000-8000-000000000000", NULL, 404,
		     "not found");

	th_http(st.base, "GET", "/api/v1/stats", NULL, NULL, 0, &r);
	j = th_check_reply(&r, "total_executions:i successful_executions:i failed_executions:i "
			       "timeouts:i rejected:i running:i queued:i "
			       "average_execution_time_ms:n uptime_seconds:i "
			       "executions_by_language:o nodes:a warm_pools:a partial:b");
	if (j)
		CHECKF(json_integer_value(json_object_get(j, "total_executions")) >= 9, "%s",
		       r.body);
	json_decref(j);
	th_resp_fini(&r);
}

/* Wait (bounded) until GET path answers 200 through the gateway. */
static bool wait_200(const char *path, int timeout_ms)
{
	long long until = sbx_clock_mono_ms() + timeout_ms;
	struct th_resp r = {0};
	bool ok;

	do {
		th_http(st.base, "GET", path, NULL, NULL, 2000, &r);
		ok = r.status == 200;
		if (!ok)
			th_sleep_ms(100);
	} while (!ok && sbx_clock_mono_ms() < until);
	th_resp_fini(&r);
	return ok;
}

/* kill -9 sandboxd, start it again on the same state directory; the
 * gateway stays and reconnects. A sandbox and a session made before are
 * usable after, with their files and env. */
static void test_restart(const char *session)
{
	const char *dargs[] = {"--rpc",	      st.rpc,	"--events", st.events,
			       "--state-dir", st.state, NULL};
	struct th_resp r = {0};
	char id[64] = "", path[160];
	json_t *j;
	int status;

	th_http(st.base, "POST", "/sandbox",
		"{\"runtime\": \"node\", \"code\": \"console.log(require('fs').readFileSync("
		"'data.txt', 'utf8'), process.env.KEPT)\", \"env_vars\": {\"KEPT\": \"yes\"}, "
		"\"files\": [{\"path\": \"data.txt\", \"content\": \"before\"}]}",
		NULL, 0, &r);
	j = th_check_reply(
		&r, "id:s status:s runtime:s created_at:s timeout_ms:i memory_limit_mb:i node:s");
	if (j)
		snprintf(id, sizeof(id), "%s", th_str(j, "id"));
	json_decref(j);
	if (!*id)
		return;
	snprintf(path, sizeof(path), "/sandbox/%s/files", id);
	th_http(st.base, "POST", path, "[{\"path\": \"data.txt\", \"content\": \"uploaded\"}]",
		NULL, 0, &r);
	CHECKF(r.status == 200, "upload: %ld %s", r.status, r.body);
	post_exact(session, "run",
		   "{\"command\": [\"/bin/sh\", \"-c\", \"echo kept > /workspace/w.txt\"]}", NULL);

	CHECK(kill(st.daemon, SIGKILL) == 0);
	CHECK(th_wait(st.daemon, 10000, &status) == 0);
	/* Down: the gateway says so once it has noticed (bounded). */
	for (long long until = sbx_clock_mono_ms() + 10000; sbx_clock_mono_ms() < until;
	     th_sleep_ms(100)) {
		th_http(st.base, "GET", "/sandboxes", NULL, NULL, 3000, &r);
		if (r.status == 503)
			break;
	}
	th_check_error(&r, 503, "unavailable");
	st.daemon = th_spawn("sandboxd", dargs, st.daemon_log);
	CHECK(st.daemon > 0);
	snprintf(path, sizeof(path), "/sandbox/%s", id);
	CHECKF(wait_200(path, 30000), "the sandbox is not back 30 s after the restart");

	snprintf(path, sizeof(path), "/sandbox/%s/execute", id);
	th_http(st.base, "POST", path, NULL, NULL, 120000, &r);
	j = th_check_reply(&r, "sandbox_id:s success:b stdout:s stderr:s exit_code:i "
			       "execution_time_ms:i error:z node:s");
	if (j)
		CHECK_STR(th_str(j, "stdout"), "uploaded yes\n");
	json_decref(j);
	post_exact(session, "run",
		   "{\"command\": [\"/bin/sh\", \"-c\", \"cat test.txt /workspace/w.txt; echo "
		   "$MY_VAR; pwd\"]}",
		   "{\"stdout\":\"hello\\nkept\\nhello\\n/tmp\\n\",\"stderr\":\"\",\"exit_code\":0,"
		   "\"signal\":null}");
	snprintf(path, sizeof(path), "/sandbox/%s", id);
	th_http(st.base, "DELETE", path, NULL, NULL, 0, &r);
	CHECKF(r.status == 204, "%ld %s", r.status, r.body);
	snprintf(path, sizeof(path), "/sessions/%s", session);
	th_http(st.base, "DELETE", path, NULL, NULL, 0, &r);
	CHECKF(r.status == 204, "%ld %s", r.status, r.body);
	th_resp_fini(&r);
}

int main(void)
{
	char id[64] = "";

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_stack_start(&st, "sbx-http-sessions", NULL) == 0) {
		test_documented(id, sizeof(id));
		if (*id) {
			test_bad_input(id);
			test_history(id);
			test_restart(id);
		}
	}
	th_stack_stop(&st);
	curl_global_cleanup();
	TEST_DONE();
}
