/* Execution history, stats, the audit log and the admin API over RPC
 * against the real sandboxd: every kind of execution leaves a history row
 * (newest first, limit, paging, NOT_FOUND), stats count them, the audit
 * log has a line per request with the RPC's client and no secret of the
 * code or environment, AdminStatus/List/Get/Resources/Logs answer their
 * documented fields, AdminForceStop stops a long execution within 2 s
 * leaving no process behind, and history and stats survive a restart. */
#include <errno.h>
#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "clock.h"
#include "envelope.h"
#include "harness.h"
#include "rpcc.h"
#include "sandbox.h"
#include "status.h"
#include "testlib.h"

static struct th_daemon d;

/* In the code and the environment of executions: never in the audit log
 * or the history. */
#define SECRET_CODE "s3cr3t-in-code-4711"
#define SECRET_ENV "s3cr3t-in-env-0815"

static const char *const daemon_args[] = {"--log-level", "debug", NULL};

#define call(...) th_rpc(d.rpc, 60000, __VA_ARGS__)

/* A Run request sent with the envelope's client field set, as the gateway
 * does; libsandbox leaves it empty. */
static bool run_as_client(const char *client)
{
	Sbx__RunRequest run = SBX__RUN_REQUEST__INIT;
	Sbx__RpcRequest env = SBX__RPC_REQUEST__INIT;
	char *argv[] = {"/bin/true"};
	Sbx__RpcReply *reply = NULL;
	nng_socket s;
	uint8_t *payload, *buf;
	size_t len, blen;
	bool ok = false;
	nng_msg *msg;

	run.argv = argv;
	run.n_argv = 1;
	len = sbx__run_request__get_packed_size(&run);
	payload = malloc(len + 1);
	sbx__run_request__pack(&run, payload);
	env.method = "Run";
	env.id = 99;
	env.client = (char *)client;
	env.payload.data = payload;
	env.payload.len = len;
	blen = sbx__rpc_request__get_packed_size(&env);
	buf = malloc(blen);
	sbx__rpc_request__pack(&env, buf);
	if (nng_req0_open(&s) == 0) {
		nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 30000);
		if (nng_dial(s, d.rpc, NULL, 0) == 0 && nng_send(s, buf, blen, 0) == 0 &&
		    nng_recvmsg(s, &msg, 0) == 0) {
			ok = sbx_envelope_unpack_reply(nng_msg_body(msg), nng_msg_len(msg),
						       &reply) == 0 &&
			     reply->status == SBX_OK;
			if (reply)
				sbx__rpc_reply__free_unpacked(reply, NULL);
			nng_msg_free(msg);
		}
		nng_close(s);
	}
	free(payload);
	free(buf);
	return ok;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = calloc(1, 1 << 20);
	size_t n = 0;

	if (f && text)
		n = fread(text, 1, (1 << 20) - 1, f);
	if (f)
		fclose(f);
	if (text)
		text[n] = 0;
	return text;
}

static char sandbox_id[37];

/* For CHECK_STR on arrays (whose address is never NULL). */
static const char *S(const char *p)
{
	return p;
}

static void test_history_and_audit(void)
{
	struct th_rep r;
	char first[64], last[64];
	json_t *list;

	/* Execute (with secrets), Run, a sandbox, a session: one row each. */
	r = call("Execute",
		 "{\"language\":\"python\",\"code\":\"import os\\nx='" SECRET_CODE
		 "'\\nprint(len(os.environ['TOKEN']))\",\"env\":{\"TOKEN\":\"" SECRET_ENV "\"}}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "stdout"), "18\n");
	snprintf(first, sizeof(first), "%s", th_rep_str(&r, "execution_id"));
	th_rep_fini(&r);
	r = call("Run", "{\"argv\":[\"/bin/sh\",\"-c\",\"exit 3\"]}");
	TH_CHECK_STATUS(r, SBX_OK);
	th_rep_fini(&r);
	r = call("CreateSandbox",
		 "{\"runtime\":\"shell\",\"code\":\"echo hello; echo line2; echo oops >&2\"}");
	TH_CHECK_STATUS(r, SBX_OK);
	snprintf(sandbox_id, sizeof(sandbox_id), "%s", th_rep_str(&r, "id"));
	th_rep_fini(&r);
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", sandbox_id);
	TH_CHECK_STATUS(r, SBX_OK);
	snprintf(last, sizeof(last), "%s", th_rep_str(&r, "execution_id"));
	th_rep_fini(&r);
	CHECK(run_as_client("198.51.100.23"));

	r = call("ListExecutions", "{}");
	TH_CHECK_STATUS(r, SBX_OK);
	list = th_rep_get(&r, "executions");
	CHECK_INT(json_array_size(list), 4);
	if (json_array_size(list) == 4) {
		json_t *e0 = json_array_get(list, 0), *e1 = json_array_get(list, 1),
		       *e3 = json_array_get(list, 3);

		/* Newest first. */
		CHECK_STR(json_string_value(json_object_get(e0, "client")), "198.51.100.23");
		CHECK_STR(json_string_value(json_object_get(e0, "language")), "/bin/true");
		CHECK_STR(json_string_value(json_object_get(e1, "execution_id")), S(last));
		CHECK_STR(json_string_value(json_object_get(e1, "kind")), "sandbox");
		CHECK_STR(json_string_value(json_object_get(e1, "object_id")), S(sandbox_id));
		CHECK_STR(json_string_value(json_object_get(e1, "language")), "shell");
		CHECK_STR(json_string_value(json_object_get(e3, "execution_id")), S(first));
		CHECK_STR(json_string_value(json_object_get(e3, "language")), "python");
		CHECK_STR(json_string_value(json_object_get(e3, "status")), "EXEC_STATUS_OK");
		CHECK_STR(json_string_value(json_object_get(e3, "client")), "rpc");
		CHECK(json_integer_value(json_object_get(e3, "memory_peak_kb")) > 0);
		CHECK(strlen(json_string_value(json_object_get(e3, "started_at"))) == 24);
		CHECK_INT(json_integer_value(json_object_get(json_array_get(list, 2), "exit_code")),
			  3);
	}
	{
		char *text = json_dumps(r.j, 0);

		CHECK(text && !strstr(text, SECRET_CODE));
		free(text);
	}
	th_rep_fini(&r);
	r = call("ListExecutions", "{\"limit\":1}");
	CHECK_INT(json_array_size(th_rep_get(&r, "executions")), 1);
	th_rep_fini(&r);
	r = call("ListExecutions", "{\"limit\":2,\"before\":\"%s\"}", last);
	CHECK_INT(json_array_size(th_rep_get(&r, "executions")), 2);
	th_rep_fini(&r);
	r = call("ListExecutions", "{\"limit\":5000}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("GetExecution", "{\"execution_id\":\"%s\"}", first);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "language"), "python");
	th_rep_fini(&r);
	r = call("GetExecution", "{\"execution_id\":\"00000000-0000-4000-8000-000000000000\"}");
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);

	/* Stats: 4 ran, 2 succeeded (Run exit 3 failed; the sandbox's
	 * stderr line does not make it fail), per language. */
	r = call("GetStats", "{}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_INT(th_rep_int(&r, "total_executions"), 4);
	CHECK_INT(th_rep_int(&r, "successful_executions"), 3);
	CHECK_INT(th_rep_int(&r, "failed_executions"), 1);
	CHECK_INT(th_rep_int(&r, "timeouts"), 0);
	CHECK_INT(json_integer_value(
			  json_object_get(th_rep_get(&r, "executions_by_language"), "python")),
		  1);
	CHECK_INT(json_integer_value(
			  json_object_get(th_rep_get(&r, "executions_by_language"), "command")),
		  2);
	CHECK(json_is_real(th_rep_get(&r, "average_execution_time_ms")));
	th_rep_fini(&r);

	/* The audit log: a line per request, the client, no secrets. */
	char path[400], *text;

	snprintf(path, sizeof(path), "%s/audit.log", d.state);
	text = read_file(path);
	CHECK(text && strstr(text, "\"client\":\"198.51.100.23\"") &&
	      strstr(text, "\"method\":\"Execute\"") &&
	      strstr(text, "\"method\":\"ExecuteSandbox\""));
	CHECK(text && !strstr(text, SECRET_CODE) && !strstr(text, SECRET_ENV) &&
	      !strstr(text, "hello"));
	CHECK(text && strstr(text, first));
	free(text);
	/* Nor anywhere in the store's history (the env of sessions is stored
	 * on purpose: none here). */
	snprintf(path, sizeof(path), "%s/sandboxd.db", d.state);
	text = read_file(path);
	CHECK(text && !memmem(text, 1 << 20, SECRET_CODE, strlen(SECRET_CODE)));
	free(text);
}

static void test_admin_views(void)
{
	struct th_rep r;
	json_t *lines;

	r = call("AdminStatus", "{}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK(th_rep_int(&r, "uptime") >= 0);
	CHECK_INT(th_rep_int(&r, "active_sandboxes"), 1);
	CHECK_INT(th_rep_int(&r, "total_sandboxes_created"), 1);
	CHECK_STR(th_rep_str(&r, "backend_type"), "Native");
	CHECK(*th_rep_str(&r, "version"));
	CHECK(json_real_value(json_object_get(th_rep_get(&r, "memory_usage"), "total")) > 0);
	CHECK(json_real_value(json_object_get(th_rep_get(&r, "cpu_usage"), "total")) == 100.0);
	th_rep_fini(&r);

	r = call("AdminListSandboxes", "{}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_INT(json_array_size(th_rep_get(&r, "sandboxes")), 1);
	th_rep_fini(&r);
	r = call("AdminGetSandbox", "{\"id\":\"%s\"}", sandbox_id);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "status"), "completed");
	CHECK_STR(th_rep_str(&r, "runtime"), "shell");
	CHECK(json_is_false(th_rep_get(&r, "is_persistent")));
	th_rep_fini(&r);
	r = call("AdminGetSandbox", "{\"id\":\"00000000-0000-4000-8000-000000000000\"}");
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);

	r = call("AdminSandboxResources", "{\"id\":\"%s\"}", sandbox_id);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK(json_real_value(json_object_get(th_rep_get(&r, "memory"), "limit")) == 256.0);
	CHECK(json_integer_value(json_object_get(th_rep_get(&r, "cpu"), "cores")) >= 1);
	/* main.sh is in the workspace. */
	CHECK(json_real_value(json_object_get(th_rep_get(&r, "disk"), "used")) > 0);
	CHECK(json_object_get(th_rep_get(&r, "network"), "bytes_in") != NULL);
	th_rep_fini(&r);

	r = call("AdminSandboxLogs", "{\"id\":\"%s\",\"lines\":2}", sandbox_id);
	TH_CHECK_STATUS(r, SBX_OK);
	lines = th_rep_get(&r, "lines");
	CHECK_INT(json_array_size(lines), 2);
	if (json_array_size(lines) == 2) {
		CHECK_STR(json_string_value(json_object_get(json_array_get(lines, 0), "message")),
			  "line2");
		CHECK_STR(json_string_value(json_object_get(json_array_get(lines, 1), "level")),
			  "ERROR");
		CHECK_STR(
			json_string_value(json_object_get(json_array_get(lines, 1), "sandbox_id")),
			S(sandbox_id));
	}
	th_rep_fini(&r);

	r = call("AdminLogs", "{\"lines\":1000}");
	TH_CHECK_STATUS(r, SBX_OK);
	lines = th_rep_get(&r, "lines");
	CHECK(json_array_size(lines) > 0);
	bool seen = false;
	for (size_t i = 0; i < json_array_size(lines); i++)
		seen |= strcmp(json_string_value(
				       json_object_get(json_array_get(lines, i), "sandbox_id")),
			       sandbox_id) == 0;
	CHECK(seen);
	th_rep_fini(&r);
}

static void test_force_stop(void)
{
	char marker[64];
	struct th_bg_exec b = {.timeout_ms = 70000};
	long long t0, t1;
	struct th_rep r;

	/* "sleep 30" with a unique spelling, to find its process. */
	snprintf(marker, sizeof(marker), "sleep 30.%06d", (int)getpid() % 1000000);
	r = call("CreateSandbox", "{\"runtime\":\"shell\",\"code\":\"%s\",\"timeout_ms\":60000}",
		 marker);
	TH_CHECK_STATUS(r, SBX_OK);
	snprintf(b.id, sizeof(b.id), "%s", th_rep_str(&r, "id"));
	th_rep_fini(&r);
	b.url = d.rpc;
	CHECK(th_bg_exec_start(&b) == 0);
	for (int i = 0; i < 100 && th_count_procs(marker) == 0; i++)
		th_sleep_ms(50);
	CHECK_INT(th_count_procs(marker), 1);

	t0 = sbx_clock_mono_ms();
	r = call("AdminForceStop", "{\"id\":\"%s\"}", b.id);
	t1 = sbx_clock_mono_ms();
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK(json_is_true(th_rep_get(&r, "success")));
	CHECKF(t1 - t0 < 2000, "force-stop took %lld ms", t1 - t0);
	th_rep_fini(&r);
	th_bg_exec_join(&b, -1);
	CHECKF(b.ended_ms && b.ended_ms - t0 < 2000, "the execution ended %lld ms after force-stop",
	       b.ended_ms - t0);
	TH_CHECK_STATUS(b.rep, SBX_OK);
	CHECK_STR(th_rep_str(&b.rep, "status"), "EXEC_STATUS_SIGNALED");
	CHECK_STR(th_rep_str(&b.rep, "error"), "stopped");
	th_rep_fini(&b.rep);
	for (int i = 0; i < 40 && th_count_procs(marker) > 0; i++)
		th_sleep_ms(50);
	CHECK_INT(th_count_procs(marker), 0);

	r = call("GetSandbox", "{\"id\":\"%s\"}", b.id);
	CHECK_STR(th_rep_str(&r, "status"), "failed");
	/* Recognised as stopped by its status (EXEC_STATUS_STOPPED inside
	 * the daemon), though the reply above shows SIGNALED. */
	CHECK_STR(th_rep_str(&r, "note"), "stopped by an administrator");
	th_rep_fini(&r);
	/* Not running any more: nothing to stop, still a success. */
	r = call("AdminForceStop", "{\"id\":\"%s\"}", b.id);
	CHECK(json_is_true(th_rep_get(&r, "success")));
	th_rep_fini(&r);
	r = call("AdminForceStop", "{\"id\":\"00000000-0000-4000-8000-000000000000\"}");
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	/* The history has the stopped execution. */
	r = call("ListExecutions", "{\"limit\":1}");
	CHECK_STR(json_string_value(json_object_get(json_array_get(th_rep_get(&r, "executions"), 0),
						    "status")),
		  "EXEC_STATUS_SIGNALED");
	th_rep_fini(&r);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", b.id);
	th_rep_fini(&r);
}

static void test_restart(void)
{
	struct th_rep r;
	int st = th_daemon_stop(&d, 10000);

	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %#x", st);
	th_daemon_start(&d, daemon_args);
	r = call("GetStats", "{}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_INT(th_rep_int(&r, "total_executions"), 5);
	th_rep_fini(&r);
	r = call("ListExecutions", "{}");
	CHECK_INT(json_array_size(th_rep_get(&r, "executions")), 5);
	th_rep_fini(&r);
	r = call("AdminStatus", "{}");
	CHECK_INT(th_rep_int(&r, "total_sandboxes_created"), 2);
	th_rep_fini(&r);
}

int main(void)
{
	if (th_daemon_init(&d, "sbx-admin") < 0)
		SKIP("no temporary directory");
	th_daemon_start(&d, daemon_args);
	th_daemon_up_or_skip(&d);

	test_history_and_audit();
	test_admin_views();
	test_force_stop();
	test_restart();

	{
		int st = th_daemon_stop(&d, 10000);

		CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %#x", st);
	}
	th_daemon_fini(&d);
	TEST_DONE();
}
