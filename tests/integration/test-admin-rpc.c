/* Execution history, stats, the audit log and the admin API over RPC
 * against the real sandboxd: every kind of execution leaves a history row
 * (newest first, limit, paging, NOT_FOUND), stats count them, the audit
 * log has a line per request with the RPC's client and no secret of the
 * code or environment, AdminStatus/List/Get/Resources/Logs answer their
 * documented fields, AdminForceStop stops a long execution within 2 s
 * leaving no process behind, and history and stats survive a restart. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "envelope.h"
#include "harness.h"
#include "json_pb.h"
#include "methods.h"
#include "sandbox.h"
#include "status.h"
#include "testlib.h"

static char *dir, state_dir[300], log_path[300], rpc_url[320];
static pid_t daemon_pid;

/* In the code and the environment of executions: never in the audit log
 * or the history. */
#define SECRET_CODE "s3cr3t-in-code-4711"
#define SECRET_ENV "s3cr3t-in-env-0815"

struct rep {
	int status;
	char msg[512];
	json_t *j;
};

static pid_t start_daemon(void)
{
	const char *args[] = {"--rpc",	 rpc_url,	"--events", NULL, "--state-dir",
			      state_dir, "--log-level", "debug",    NULL};
	char events[340];

	snprintf(events, sizeof(events), "%s.ev", rpc_url);
	args[3] = events;
	return th_spawn("sandboxd", args, log_path);
}

static struct rep vcall(unsigned timeout_ms, const char *method, const char *fmt, va_list ap)
{
	struct sbx_client_opts o = {
		.rpc_url = rpc_url, .timeout_ms = timeout_ms, .connect_wait_ms = 10000};
	const sbx_method *m = sbx_method_find(method);
	struct rep out = {.status = -1};
	ProtobufCMessage *req = NULL;
	struct sbx_client *c = NULL;
	struct sbx_reply r = {0};
	char body[16384], err[256];
	json_t *in;

	vsnprintf(body, sizeof(body), fmt, ap);
	in = json_loads(body, 0, NULL);
	if (!m || !in || jpb_from_json(m->input, in, NULL, &req, err, sizeof(err)) < 0) {
		fprintf(stderr, "bad test request %s %s\n", method, body);
		json_decref(in);
		return out;
	}
	json_decref(in);
	if (sbx_client_open(&o, &c) == 0 && sbx_call(c, method, req, 0, &r) == 0) {
		out.status = r.status;
		snprintf(out.msg, sizeof(out.msg), "%s", r.message ? r.message : "");
		if (r.msg)
			out.j = jpb_to_json(r.msg, NULL);
		sbx_reply_fini(&r);
	}
	sbx_client_close(c);
	protobuf_c_message_free_unpacked(req, NULL);
	return out;
}

static struct rep call_timeout(unsigned timeout_ms, const char *method, const char *fmt, ...)
{
	struct rep r;
	va_list ap;

	va_start(ap, fmt);
	r = vcall(timeout_ms, method, fmt, ap);
	va_end(ap);
	return r;
}

#define call(...) call_timeout(60000, __VA_ARGS__)

static void rep_fini(struct rep *r)
{
	json_decref(r->j);
	r->j = NULL;
}

static json_t *jget(const struct rep *r, const char *key)
{
	return r->j ? json_object_get(r->j, key) : NULL;
}

static const char *jstr(const struct rep *r, const char *key)
{
	json_t *v = jget(r, key);

	return v && json_is_string(v) ? json_string_value(v) : "";
}

static long long jint(const struct rep *r, const char *key)
{
	json_t *v = jget(r, key);

	return v && json_is_integer(v) ? json_integer_value(v) : -12345;
}

#define CHECK_STATUS(rep, want)                                                                    \
	CHECKF((rep).status == (want), "status %s, want %s (%s)", sbx_status_name((rep).status),   \
	       sbx_status_name(want), (rep).msg)

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
		if (nng_dial(s, rpc_url, NULL, 0) == 0 && nng_send(s, buf, blen, 0) == 0 &&
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
	struct rep r;
	char first[64], last[64];
	json_t *list;

	/* Execute (with secrets), Run, a sandbox, a session: one row each. */
	r = call("Execute",
		 "{\"language\":\"python\",\"code\":\"import os\\nx='" SECRET_CODE
		 "'\\nprint(len(os.environ['TOKEN']))\",\"env\":{\"TOKEN\":\"" SECRET_ENV "\"}}");
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "stdout"), "18\n");
	snprintf(first, sizeof(first), "%s", jstr(&r, "execution_id"));
	rep_fini(&r);
	r = call("Run", "{\"argv\":[\"/bin/sh\",\"-c\",\"exit 3\"]}");
	CHECK_STATUS(r, SBX_OK);
	rep_fini(&r);
	r = call("CreateSandbox",
		 "{\"runtime\":\"shell\",\"code\":\"echo hello; echo line2; echo oops >&2\"}");
	CHECK_STATUS(r, SBX_OK);
	snprintf(sandbox_id, sizeof(sandbox_id), "%s", jstr(&r, "id"));
	rep_fini(&r);
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", sandbox_id);
	CHECK_STATUS(r, SBX_OK);
	snprintf(last, sizeof(last), "%s", jstr(&r, "execution_id"));
	rep_fini(&r);
	CHECK(run_as_client("198.51.100.23"));

	r = call("ListExecutions", "{}");
	CHECK_STATUS(r, SBX_OK);
	list = jget(&r, "executions");
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
	rep_fini(&r);
	r = call("ListExecutions", "{\"limit\":1}");
	CHECK_INT(json_array_size(jget(&r, "executions")), 1);
	rep_fini(&r);
	r = call("ListExecutions", "{\"limit\":2,\"before\":\"%s\"}", last);
	CHECK_INT(json_array_size(jget(&r, "executions")), 2);
	rep_fini(&r);
	r = call("ListExecutions", "{\"limit\":5000}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("GetExecution", "{\"execution_id\":\"%s\"}", first);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "language"), "python");
	rep_fini(&r);
	r = call("GetExecution", "{\"execution_id\":\"00000000-0000-4000-8000-000000000000\"}");
	CHECK_STATUS(r, SBX_NOT_FOUND);

	/* Stats: 4 ran, 2 succeeded (Run exit 3 failed; the sandbox's
	 * stderr line does not make it fail), per language. */
	r = call("GetStats", "{}");
	CHECK_STATUS(r, SBX_OK);
	CHECK_INT(jint(&r, "total_executions"), 4);
	CHECK_INT(jint(&r, "successful_executions"), 3);
	CHECK_INT(jint(&r, "failed_executions"), 1);
	CHECK_INT(jint(&r, "timeouts"), 0);
	CHECK_INT(json_integer_value(json_object_get(jget(&r, "executions_by_language"), "python")),
		  1);
	CHECK_INT(
		json_integer_value(json_object_get(jget(&r, "executions_by_language"), "command")),
		2);
	CHECK(json_is_real(jget(&r, "average_execution_time_ms")));
	rep_fini(&r);

	/* The audit log: a line per request, the client, no secrets. */
	char path[400], *text;

	snprintf(path, sizeof(path), "%s/audit.log", state_dir);
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
	snprintf(path, sizeof(path), "%s/sandboxd.db", state_dir);
	text = read_file(path);
	CHECK(text && !memmem(text, 1 << 20, SECRET_CODE, strlen(SECRET_CODE)));
	free(text);
}

static void test_admin_views(void)
{
	struct rep r;
	json_t *lines;

	r = call("AdminStatus", "{}");
	CHECK_STATUS(r, SBX_OK);
	CHECK(jint(&r, "uptime") >= 0);
	CHECK_INT(jint(&r, "active_sandboxes"), 1);
	CHECK_INT(jint(&r, "total_sandboxes_created"), 1);
	CHECK_STR(jstr(&r, "backend_type"), "Native");
	CHECK(*jstr(&r, "version"));
	CHECK(json_real_value(json_object_get(jget(&r, "memory_usage"), "total")) > 0);
	CHECK(json_real_value(json_object_get(jget(&r, "cpu_usage"), "total")) == 100.0);
	rep_fini(&r);

	r = call("AdminListSandboxes", "{}");
	CHECK_STATUS(r, SBX_OK);
	CHECK_INT(json_array_size(jget(&r, "sandboxes")), 1);
	rep_fini(&r);
	r = call("AdminGetSandbox", "{\"id\":\"%s\"}", sandbox_id);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "status"), "completed");
	CHECK_STR(jstr(&r, "runtime"), "shell");
	CHECK(json_is_false(jget(&r, "is_persistent")));
	rep_fini(&r);
	r = call("AdminGetSandbox", "{\"id\":\"00000000-0000-4000-8000-000000000000\"}");
	CHECK_STATUS(r, SBX_NOT_FOUND);

	r = call("AdminSandboxResources", "{\"id\":\"%s\"}", sandbox_id);
	CHECK_STATUS(r, SBX_OK);
	CHECK(json_real_value(json_object_get(jget(&r, "memory"), "limit")) == 256.0);
	CHECK(json_integer_value(json_object_get(jget(&r, "cpu"), "cores")) >= 1);
	/* main.sh is in the workspace. */
	CHECK(json_real_value(json_object_get(jget(&r, "disk"), "used")) > 0);
	CHECK(json_object_get(jget(&r, "network"), "bytes_in") != NULL);
	rep_fini(&r);

	r = call("AdminSandboxLogs", "{\"id\":\"%s\",\"lines\":2}", sandbox_id);
	CHECK_STATUS(r, SBX_OK);
	lines = jget(&r, "lines");
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
	rep_fini(&r);

	r = call("AdminLogs", "{\"lines\":1000}");
	CHECK_STATUS(r, SBX_OK);
	lines = jget(&r, "lines");
	CHECK(json_array_size(lines) > 0);
	bool seen = false;
	for (size_t i = 0; i < json_array_size(lines); i++)
		seen |= strcmp(json_string_value(
				       json_object_get(json_array_get(lines, i), "sandbox_id")),
			       sandbox_id) == 0;
	CHECK(seen);
	rep_fini(&r);
}

/* Processes whose command line holds `marker`. */
static int count_procs(const char *marker)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char p[300], buf[4096];
		size_t len;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		f = fopen(p, "re");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t i = 0; i < len; i++)
			buf[i] = buf[i] ? buf[i] : ' ';
		buf[len] = 0;
		n += strstr(buf, marker) != NULL;
	}
	if (d)
		closedir(d);
	return n;
}

struct bg {
	char id[37];
	long long ended_ms;
	struct rep r;
};

static void *bg_execute(void *arg)
{
	struct bg *b = arg;

	b->r = call_timeout(70000, "ExecuteSandbox", "{\"id\":\"%s\"}", b->id);
	b->ended_ms = th_now_ms();
	return NULL;
}

static void test_force_stop(void)
{
	char marker[64];
	struct bg b = {0};
	long long t0, t1;
	pthread_t t;
	struct rep r;

	/* "sleep 30" with a unique spelling, to find its process. */
	snprintf(marker, sizeof(marker), "sleep 30.%06d", (int)getpid() % 1000000);
	r = call("CreateSandbox", "{\"runtime\":\"shell\",\"code\":\"%s\",\"timeout_ms\":60000}",
		 marker);
	CHECK_STATUS(r, SBX_OK);
	snprintf(b.id, sizeof(b.id), "%s", jstr(&r, "id"));
	rep_fini(&r);
	pthread_create(&t, NULL, bg_execute, &b);
	for (int i = 0; i < 100 && count_procs(marker) == 0; i++)
		th_sleep_ms(50);
	CHECK_INT(count_procs(marker), 1);

	t0 = th_now_ms();
	r = call("AdminForceStop", "{\"id\":\"%s\"}", b.id);
	t1 = th_now_ms();
	CHECK_STATUS(r, SBX_OK);
	CHECK(json_is_true(jget(&r, "success")));
	CHECKF(t1 - t0 < 2000, "force-stop took %lld ms", t1 - t0);
	rep_fini(&r);
	pthread_join(t, NULL);
	CHECKF(b.ended_ms && b.ended_ms - t0 < 2000, "the execution ended %lld ms after force-stop",
	       b.ended_ms - t0);
	CHECK_STATUS(b.r, SBX_OK);
	CHECK_STR(jstr(&b.r, "status"), "EXEC_STATUS_SIGNALED");
	CHECK_STR(jstr(&b.r, "error"), "stopped");
	rep_fini(&b.r);
	for (int i = 0; i < 40 && count_procs(marker) > 0; i++)
		th_sleep_ms(50);
	CHECK_INT(count_procs(marker), 0);

	r = call("GetSandbox", "{\"id\":\"%s\"}", b.id);
	CHECK_STR(jstr(&r, "status"), "failed");
	/* Recognised as stopped by its status (EXEC_STATUS_STOPPED inside
	 * the daemon), though the reply above shows SIGNALED. */
	CHECK_STR(jstr(&r, "note"), "stopped by an administrator");
	rep_fini(&r);
	/* Not running any more: nothing to stop, still a success. */
	r = call("AdminForceStop", "{\"id\":\"%s\"}", b.id);
	CHECK(json_is_true(jget(&r, "success")));
	rep_fini(&r);
	r = call("AdminForceStop", "{\"id\":\"00000000-0000-4000-8000-000000000000\"}");
	CHECK_STATUS(r, SBX_NOT_FOUND);
	/* The history has the stopped execution. */
	r = call("ListExecutions", "{\"limit\":1}");
	CHECK_STR(json_string_value(
			  json_object_get(json_array_get(jget(&r, "executions"), 0), "status")),
		  "EXEC_STATUS_SIGNALED");
	rep_fini(&r);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", b.id);
	rep_fini(&r);
}

static void test_restart(void)
{
	struct rep r;
	int st = th_stop(daemon_pid, SIGTERM, 10000);

	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %#x", st);
	daemon_pid = start_daemon();
	r = call("GetStats", "{}");
	CHECK_STATUS(r, SBX_OK);
	CHECK_INT(jint(&r, "total_executions"), 5);
	rep_fini(&r);
	r = call("ListExecutions", "{}");
	CHECK_INT(json_array_size(jget(&r, "executions")), 5);
	rep_fini(&r);
	r = call("AdminStatus", "{}");
	CHECK_INT(jint(&r, "total_sandboxes_created"), 2);
	rep_fini(&r);
}

int main(void)
{
	struct rep r;

	dir = tl_tmpdir("sbx-admin");
	if (!dir)
		SKIP("no temporary directory");
	chmod(dir, 0711);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(log_path, sizeof(log_path), "%s/sandboxd.log", dir);
	snprintf(rpc_url, sizeof(rpc_url), "ipc://%s/rpc.sock", dir);
	daemon_pid = start_daemon();
	r = call("Health", "{}");
	if (r.status != SBX_OK) {
		int st;

		if (th_wait(daemon_pid, 100, &st) == 0) {
			th_dump_logs();
			SKIP("sandboxd did not start (namespaces or cgroups unavailable?)");
		}
	}
	rep_fini(&r);

	test_history_and_audit();
	test_admin_views();
	test_force_stop();
	test_restart();

	{
		int st = th_stop(daemon_pid, SIGTERM, 10000);

		CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %#x", st);
	}
	if (tl_failed)
		th_dump_logs();
	else
		th_rmtree(dir);
	TEST_DONE();
}
