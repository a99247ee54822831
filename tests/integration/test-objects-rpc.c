/* Sandboxes and sessions over RPC against the real sandboxd: lifecycle and
 * NOT_FOUND semantics, bad input for every method, files confined to the
 * workspace (traversal, symlink, FIFO and hard-link tricks), limits,
 * session env/cwd/files/tmp persistence and isolation, delete during an
 * execution, idle expiry, and survival of `kill -9` with no stray
 * processes or cgroups. Requests are JSON through the one mapper, as the
 * gateway and sandboxctl send them. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "json_pb.h"
#include "methods.h"
#include "sandbox.h"
#include "status.h"
#include "store_v3.h"
#include "testlib.h"

static char *dir, state_dir[300], log_path[300];
/* Engine cgroup directories that existed before this test's daemons. */
static char cgroups_baseline[8192];
static pid_t daemon_pid;

struct rep {
	int status;
	char msg[512];
	json_t *j; /* the reply as JSON when status is OK */
};

/* Start sandboxd on dir's sockets and state_dir with extra flags; wait
 * until it answers. */
static pid_t start_daemon(const char *rpc, const char *state, const char *log,
			  const char *const *extra)
{
	const char *args[32] = {"--rpc",       rpc,   "--events",    NULL,
				"--state-dir", state, "--log-level", "debug"};
	char events[320];
	size_t n = 8;
	pid_t pid;

	snprintf(events, sizeof(events), "%s.ev", rpc);
	args[3] = events;
	for (; extra && *extra && n < 30; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	pid = th_spawn("sandboxd", args, log);
	return pid;
}

static struct rep vcall(const char *url, unsigned timeout_ms, const char *method, const char *fmt,
			va_list ap)
{
	struct sbx_client_opts o = {
		.rpc_url = url, .timeout_ms = timeout_ms, .connect_wait_ms = 10000};
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

static struct rep call_on(const char *url, const char *method, const char *fmt, ...)
{
	struct rep r;
	va_list ap;

	va_start(ap, fmt);
	r = vcall(url, 60000, method, fmt, ap);
	va_end(ap);
	return r;
}

static struct rep call_timeout(const char *url, unsigned timeout_ms, const char *method,
			       const char *fmt, ...)
{
	struct rep r;
	va_list ap;

	va_start(ap, fmt);
	r = vcall(url, timeout_ms, method, fmt, ap);
	va_end(ap);
	return r;
}

static char rpc_url[320];
#define call(...) call_on(rpc_url, __VA_ARGS__)

static void rep_fini(struct rep *r)
{
	json_decref(r->j);
	r->j = NULL;
}

static const char *jstr(const struct rep *r, const char *key)
{
	json_t *v = r->j ? json_object_get(r->j, key) : NULL;

	return v && json_is_string(v) ? json_string_value(v) : "";
}

static long long jint(const struct rep *r, const char *key)
{
	json_t *v = r->j ? json_object_get(r->j, key) : NULL;

	return v && json_is_integer(v) ? json_integer_value(v) : -12345;
}

static bool jbool(const struct rep *r, const char *key)
{
	return r->j && json_is_true(json_object_get(r->j, key));
}

#define CHECK_STATUS(rep, want)                                                                    \
	CHECKF((rep).status == (want), "status %s, want %s (%s)", sbx_status_name((rep).status),   \
	       sbx_status_name(want), (rep).msg)

/* Create a sandbox; its id into `id` (37 bytes). */
static bool create_sandbox(char *id, const char *fmt, ...)
{
	char body[8192];
	struct rep r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	r = call("CreateSandbox", "%s", body);
	CHECK_STATUS(r, SBX_OK);
	snprintf(id, 37, "%s", jstr(&r, "id"));
	rep_fini(&r);
	return r.status == SBX_OK && strlen(id) == 36;
}

static bool create_session(char *id, const char *body)
{
	struct rep r = call("CreateSession", "%s", body);

	CHECK_STATUS(r, SBX_OK);
	snprintf(id, 37, "%s", jstr(&r, "session_id"));
	rep_fini(&r);
	return r.status == SBX_OK && strlen(id) == 36;
}

/* Run a shell command line in a session; stdout into out. */
static struct rep run_in(const char *sid, const char *sh)
{
	json_t *cmd =
		json_pack("{s:s, s:[s, s, s]}", "session_id", sid, "command", "/bin/sh", "-c", sh);
	char *body = json_dumps(cmd, 0);
	struct rep r = call("SessionRun", "%s", body);

	free(body);
	json_decref(cmd);
	return r;
}

static bool path_exists(const char *fmt, const char *a, const char *b)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof(p), fmt, a, b);
	return lstat(p, &st) == 0;
}

/* The path of `rest` in the workspace of object `id` ("sandboxes",
 * "sessions") of the daemon `pid` on `state`: the workspace is on the
 * object's disk volume, mounted in the daemon's own mount namespace,
 * which /proc/<pid>/root walks. */
static char *ws_path(char *buf, size_t len, pid_t pid, const char *state, const char *kind,
		     const char *id, const char *rest)
{
	snprintf(buf, len, "/proc/%d/root%s/%s/%s/vol/workspace%s", (int)pid, state, kind, id,
		 rest);
	return buf;
}

static bool ws_exists(pid_t pid, const char *state, const char *kind, const char *id,
		      const char *rest)
{
	char p[1024];
	struct stat st;

	return lstat(ws_path(p, sizeof(p), pid, state, kind, id, rest), &st) == 0;
}

static void test_sandbox_lifecycle(void)
{
	char id[37], fail_id[37];
	struct rep r;

	if (!create_sandbox(id, "{\"runtime\":\"python\",\"code\":\"import os\\nprint('hi', "
				"os.environ['GREETING'])\\nopen('out.txt','w').write('x')\","
				"\"env_vars\":{\"GREETING\":\"hello\"},\"files\":[{\"path\":\"data/"
				"in.txt\",\"content\":\"abc\"}]}"))
		return;
	r = call("GetSandbox", "{\"id\":\"%s\"}", id);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "status"), "created");
	CHECK_STR(jstr(&r, "runtime"), "python");
	CHECK_INT(jint(&r, "timeout_ms"), 30000);
	CHECK_INT(jint(&r, "memory_limit_mb"), 256);
	CHECK(strlen(jstr(&r, "created_at")) == 24 && jstr(&r, "created_at")[10] == 'T');
	rep_fini(&r);
	CHECK(ws_exists(daemon_pid, state_dir, "sandboxes", id, "/data/in.txt"));
	CHECK(ws_exists(daemon_pid, state_dir, "sandboxes", id, "/main.py"));

	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
	CHECK_STATUS(r, SBX_OK);
	CHECK(jbool(&r, "success"));
	CHECK_STR(jstr(&r, "stdout"), "hi hello\n");
	CHECK(strcmp(jstr(&r, "sandbox_id"), id) == 0);
	CHECK_INT(jint(&r, "exit_code"), 0);
	rep_fini(&r);
	CHECK(ws_exists(daemon_pid, state_dir, "sandboxes", id, "/out.txt"));
	r = call("GetSandbox", "{\"id\":\"%s\"}", id);
	CHECK_STR(jstr(&r, "status"), "completed");
	CHECK_INT(jint(&r, "executions"), 1);
	rep_fini(&r);

	/* A failing program: success false, status failed. */
	if (create_sandbox(fail_id,
			   "{\"runtime\":\"python\",\"code\":\"import sys; sys.exit(3)\"}")) {
		r = call("ExecuteSandbox", "{\"id\":\"%s\"}", fail_id);
		CHECK(!jbool(&r, "success"));
		CHECK_INT(jint(&r, "exit_code"), 3);
		rep_fini(&r);
		r = call("GetSandbox", "{\"id\":\"%s\"}", fail_id);
		CHECK_STR(jstr(&r, "status"), "failed");
		rep_fini(&r);
	}

	r = call("ListSandboxes", "{}");
	CHECK_STATUS(r, SBX_OK);
	{
		json_t *a = json_object_get(r.j, "sandboxes"), *v;
		size_t i;
		bool seen = false;

		json_array_foreach(a, i, v) seen =
			seen || strcmp(json_string_value(json_object_get(v, "id")), id) == 0;
		CHECK(seen);
	}
	rep_fini(&r);

	r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
	CHECK_STATUS(r, SBX_OK);
	rep_fini(&r);
	CHECK(!path_exists("%s/sandboxes/%s", state_dir, id));
	r = call("GetSandbox", "{\"id\":\"%s\"}", id);
	CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
	CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
	CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", fail_id);
	CHECK_STATUS(r, SBX_OK);
	rep_fini(&r);
}

static void test_bad_input(void)
{
	static const char *const bad_paths[] = {"../x", "/etc/x", "a/../../x", "a//b",
						"",	"./a",	  "a/"};
	struct rep r;
	char id[37], sid[37];

	r = call("CreateSandbox", "{\"code\":\"print(1)\"}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECKF(strstr(r.msg, "runtime"), "%s", r.msg);
	r = call("CreateSandbox", "{\"runtime\":\"cobol\",\"code\":\"x\"}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox", "{\"runtime\":\"python\"}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox", "{\"runtime\":\"python\",\"code\":\"x\",\"dev_server\":true}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECKF(strstr(r.msg, "persistent"), "%s", r.msg);
	r = call("CreateSandbox", "{\"runtime\":\"python\",\"code\":\"x\",\"mode\":\"forever\"}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox",
		 "{\"runtime\":\"python\",\"code\":\"x\",\"timeout_ms\":999999999}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox",
		 "{\"runtime\":\"python\",\"code\":\"x\",\"memory_limit_mb\":99999999}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox",
		 "{\"runtime\":\"python\",\"code\":\"x\",\"env_vars\":{\"A=B\":\"c\"}}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox",
		 "{\"runtime\":\"python\",\"code\":\"x\",\"entry_point\":\"../main.py\"}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(*bad_paths); i++) {
		r = call("CreateSandbox",
			 "{\"runtime\":\"python\",\"code\":\"x\",\"files\":[{\"path\":\"%s\","
			 "\"content\":\"x\"}]}",
			 bad_paths[i]);
		CHECKF(r.status == SBX_INVALID_ARGUMENT, "path '%s': %s", bad_paths[i],
		       sbx_status_name(r.status));
		rep_fini(&r);
	}
	/* The daemon runs with --max-files 8 --max-upload-bytes 4096. */
	r = call("CreateSandbox",
		 "{\"runtime\":\"python\",\"code\":\"x\",\"files\":["
		 "{\"path\":\"1\"},{\"path\":\"2\"},{\"path\":\"3\"},{\"path\":\"4\"},{\"path\":"
		 "\"5\"},"
		 "{\"path\":\"6\"},{\"path\":\"7\"},{\"path\":\"8\"},{\"path\":\"9\"}]}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECKF(strstr(r.msg, "too many files"), "%s", r.msg);
	{
		char big[5001];

		memset(big, 'a', 5000);
		big[5000] = 0;
		r = call("CreateSandbox",
			 "{\"runtime\":\"python\",\"code\":\"x\",\"files\":[{\"path\":\"big\","
			 "\"content\":\"%s\"}]}",
			 big);
		CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	}
	/* Nothing of the refused requests is left behind. */
	r = call("ListSandboxes", "{}");
	CHECK_INT(json_array_size(json_object_get(r.j, "sandboxes")), 0);
	rep_fini(&r);

	r = call("GetSandbox", "{}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("GetSandbox", "{\"id\":\"not-a-uuid\"}");
	CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("GetSandbox", "{\"id\":\"../../etc\"}");
	CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("ExecuteSandbox", "{}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("UploadFiles",
		 "{\"id\":\"6033f327-b48b-45c6-b8e6-b7ac82acb0b3\",\"files\":[{\"path\":\"a\"}]}");
	CHECK_STATUS(r, SBX_NOT_FOUND);
	if (create_sandbox(id, "{\"runtime\":\"shell\",\"code\":\"true\"}")) {
		r = call("UploadFiles", "{\"id\":\"%s\",\"files\":[]}", id);
		CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
		for (size_t i = 0; i < sizeof(bad_paths) / sizeof(*bad_paths); i++) {
			r = call("UploadFiles",
				 "{\"id\":\"%s\",\"files\":[{\"path\":\"%s\",\"content\":\"x\"}]}",
				 id, bad_paths[i]);
			CHECKF(r.status == SBX_INVALID_ARGUMENT, "upload '%s': %s", bad_paths[i],
			       sbx_status_name(r.status));
		}
		r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
		rep_fini(&r);
	}

	r = call("CreateSession", "{\"env\":{\"\":\"x\"}}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("GetSession", "{}");
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("GetSession", "{\"session_id\":\"6033f327-b48b-45c6-b8e6-b7ac82acb0b3\"}");
	CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("DeleteSession", "{\"session_id\":\"6033f327-b48b-45c6-b8e6-b7ac82acb0b3\"}");
	CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call(
		"SessionRun",
		"{\"session_id\":\"6033f327-b48b-45c6-b8e6-b7ac82acb0b3\",\"command\":[\"true\"]}");
	CHECK_STATUS(r, SBX_NOT_FOUND);
	if (create_session(sid, "{}")) {
		r = call("SessionRun", "{\"session_id\":\"%s\"}", sid);
		CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
		r = call("SessionRun",
			 "{\"session_id\":\"%s\",\"command\":[\"true\"],\"limits\":{\"memory_kb\":"
			 "0}}",
			 sid);
		CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
		r = call("SetSessionCwd", "{\"session_id\":\"%s\",\"cwd\":\"relative\"}", sid);
		CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
		r = call("SetSessionEnv", "{\"session_id\":\"%s\",\"env\":{\"A=B\":\"1\"}}", sid);
		CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
		r = call("DeleteSession", "{\"session_id\":\"%s\"}", sid);
		CHECK_STATUS(r, SBX_OK);
		rep_fini(&r);
	}
}

static void test_symlink_tricks(void)
{
	char id[37], p[1024];
	struct stat st;
	struct rep r;

	/* First run plants traps, later runs show what the workspace holds. */
	if (!create_sandbox(id, "{\"runtime\":\"shell\",\"code\":\"if [ -e planted ]; then cat "
				"sub/dir/y.txt; ls -l run.sh; "
				"else ln -s /etc link; ln -s /etc/hostname flink; mkfifo fifo; "
				"touch planted; fi\"}"))
		return;
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
	CHECK(jbool(&r, "success"));
	rep_fini(&r);
	ws_path(p, sizeof(p), daemon_pid, state_dir, "sandboxes", id, "/link");
	CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));

	r = call("UploadFiles",
		 "{\"id\":\"%s\",\"files\":[{\"path\":\"link/"
		 "sbx-objects-test\",\"content\":\"pwned\"}]}",
		 id);
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECK(access("/etc/sbx-objects-test", F_OK) < 0);
	r = call("UploadFiles",
		 "{\"id\":\"%s\",\"files\":[{\"path\":\"flink\",\"content\":\"pwned\"}]}", id);
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	/* Not blocked on the FIFO: refused at once. */
	r = call("UploadFiles", "{\"id\":\"%s\",\"files\":[{\"path\":\"fifo\",\"content\":\"x\"}]}",
		 id);
	CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));

	r = call("UploadFiles",
		 "{\"id\":\"%s\",\"files\":[{\"path\":\"sub/dir/"
		 "y.txt\",\"content\":\"uploaded\\n\"},"
		 "{\"path\":\"run.sh\",\"content\":\"#!/bin/sh\\necho "
		 "ok\",\"is_executable\":true}]}",
		 id);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "message"), "Files uploaded successfully");
	CHECK(strcmp(jstr(&r, "sandbox_id"), id) == 0);
	rep_fini(&r);
	ws_path(p, sizeof(p), daemon_pid, state_dir, "sandboxes", id, "/run.sh");
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0755 && st.st_uid != 0);
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
	CHECK(jbool(&r, "success"));
	CHECKF(strncmp(jstr(&r, "stdout"), "uploaded\n-rwxr-xr-x", 19) == 0, "%s",
	       jstr(&r, "stdout"));
	rep_fini(&r);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
	rep_fini(&r);
}

static void test_limits(void)
{
	char ids[4][37], id[37];
	struct rep r;

	/* The daemon runs with --max-sandboxes 3 --max-sessions 3. */
	for (int i = 0; i < 3; i++)
		create_sandbox(ids[i], "{\"runtime\":\"shell\",\"code\":\"true\"}");
	r = call("CreateSandbox", "{\"runtime\":\"shell\",\"code\":\"true\"}");
	CHECK_STATUS(r, SBX_RESOURCE_EXHAUSTED);
	CHECKF(strstr(r.msg, "too many sandboxes (limit 3)"), "%s", r.msg);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", ids[0]);
	rep_fini(&r);
	if (create_sandbox(ids[0],
			   "{\"runtime\":\"shell\",\"code\":\"sleep 5\",\"timeout_ms\":500}")) {
		r = call("ExecuteSandbox", "{\"id\":\"%s\"}", ids[0]);
		CHECK_STATUS(r, SBX_OK);
		CHECK(!jbool(&r, "success"));
		CHECK_STR(jstr(&r, "status"), "EXEC_STATUS_WALL_TIME_LIMIT");
		CHECKF(jint(&r, "execution_time_ms") < 3000, "%lld", jint(&r, "execution_time_ms"));
		rep_fini(&r);
	}
	for (int i = 0; i < 3; i++) {
		r = call("DeleteSandbox", "{\"id\":\"%s\"}", ids[i]);
		rep_fini(&r);
	}
	if (create_sandbox(id, "{\"runtime\":\"python\",\"memory_limit_mb\":32,"
			       "\"code\":\"x = bytearray(200 << 20)\\nprint(len(x))\"}")) {
		r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
		CHECK(!jbool(&r, "success"));
		rep_fini(&r);
		r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
		rep_fini(&r);
	}
	for (int i = 0; i < 3; i++)
		create_session(ids[i], "{}");
	r = call("CreateSession", "{}");
	CHECK_STATUS(r, SBX_RESOURCE_EXHAUSTED);
	CHECKF(strstr(r.msg, "too many sessions (limit 3)"), "%s", r.msg);
	for (int i = 0; i < 3; i++) {
		r = call("DeleteSession", "{\"session_id\":\"%s\"}", ids[i]);
		CHECK_STATUS(r, SBX_OK);
		rep_fini(&r);
		CHECK(!path_exists("%s/sessions/%s", state_dir, ids[i]));
	}
}

static void test_sessions(void)
{
	char a[37], b[37];
	struct rep r;

	if (!create_session(a, "{\"env\":{\"MY_VAR\":\"hello\"}}") || !create_session(b, "{}"))
		return;
	r = run_in(a, "echo $MY_VAR; echo kept > file.txt; mkdir -p sub; pwd");
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "stdout"), "hello\n/workspace\n");
	rep_fini(&r);
	r = run_in(a, "cat file.txt");
	CHECK_STR(jstr(&r, "stdout"), "kept\n");
	rep_fini(&r);
	/* Never visible from another session. */
	r = run_in(b, "cat file.txt; echo $MY_VAR");
	CHECK_STR(jstr(&r, "stdout"), "\n");
	CHECK_INT(jint(&r, "exit_code"), 0);
	rep_fini(&r);

	r = call("SetSessionEnv",
		 "{\"session_id\":\"%s\",\"env\":{\"GH_TOKEN\":\"t0k\",\"MY_VAR\":\"again\"}}", a);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(json_string_value(json_object_get(json_object_get(r.j, "env"), "GH_TOKEN")),
		  "t0k");
	rep_fini(&r);
	r = call("SetSessionCwd", "{\"session_id\":\"%s\",\"cwd\":\"/workspace/sub\"}", a);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "cwd"), "/workspace/sub");
	rep_fini(&r);
	r = run_in(a, "echo $MY_VAR $GH_TOKEN; pwd");
	CHECK_STR(jstr(&r, "stdout"), "again t0k\n/workspace/sub\n");
	rep_fini(&r);
	/* A run's own env overrides the session's for that run only. */
	r = call("SessionRun",
		 "{\"session_id\":\"%s\",\"command\":[\"/bin/sh\",\"-c\",\"echo "
		 "$MY_VAR\"],\"env\":{\"MY_VAR\":\"once\"}}",
		 a);
	CHECK_STR(jstr(&r, "stdout"), "once\n");
	rep_fini(&r);
	r = run_in(a, "echo $MY_VAR");
	CHECK_STR(jstr(&r, "stdout"), "again\n");
	rep_fini(&r);
	r = call("GetSession", "{\"session_id\":\"%s\"}", a);
	CHECK_INT(jint(&r, "runs"), 5);
	rep_fini(&r);
	r = call("ListSessions", "{}");
	CHECK_INT(json_array_size(json_object_get(r.j, "sessions")), 2);
	rep_fini(&r);

	/* The OpenSandbox example: /tmp persists within a session (needs the
	 * engine to bind SpawnRequest.tmp_dir at /tmp) and not across. */
	r = run_in(a, "echo hello > /tmp/test.txt");
	CHECK_INT(jint(&r, "exit_code"), 0);
	rep_fini(&r);
	r = call("SessionRun",
		 "{\"session_id\":\"%s\",\"command\":[\"/bin/cat\",\"/tmp/test.txt\"]}", a);
	CHECKF(strcmp(jstr(&r, "stdout"), "hello\n") == 0,
	       "/tmp did not persist in the session (engine tmp_dir): %s", jstr(&r, "stderr"));
	rep_fini(&r);
	r = call("SessionRun",
		 "{\"session_id\":\"%s\",\"command\":[\"/bin/cat\",\"/tmp/test.txt\"]}", b);
	CHECK(jint(&r, "exit_code") != 0);
	rep_fini(&r);

	r = call("DeleteSession", "{\"session_id\":\"%s\"}", b);
	CHECK_STATUS(r, SBX_OK);
	rep_fini(&r);
	r = call("GetSession", "{\"session_id\":\"%s\"}", b);
	CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("DeleteSession", "{\"session_id\":\"%s\"}", a);
	rep_fini(&r);
}

struct bg {
	const char *url;     /* NULL: the main daemon */
	unsigned timeout_ms; /* 0: 60 s */
	char id[37];
	struct rep r;
};

static void *bg_execute(void *arg)
{
	struct bg *b = arg;

	b->r = call_timeout(b->url ? b->url : rpc_url, b->timeout_ms ? b->timeout_ms : 60000,
			    "ExecuteSandbox", "{\"id\":\"%s\"}", b->id);
	return NULL;
}

static void test_delete_while_running(void)
{
	struct bg b = {0};
	pthread_t t;
	struct rep r;

	if (!create_sandbox(b.id, "{\"runtime\":\"shell\",\"code\":\"sleep 2; echo survived\"}"))
		return;
	pthread_create(&t, NULL, bg_execute, &b);
	th_sleep_ms(700);
	r = call("GetSandbox", "{\"id\":\"%s\"}", b.id);
	CHECK_STR(jstr(&r, "status"), "running");
	rep_fini(&r);
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", b.id);
	CHECK_STATUS(r, SBX_FAILED_PRECONDITION);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", b.id);
	CHECK_STATUS(r, SBX_OK);
	rep_fini(&r);
	r = call("GetSandbox", "{\"id\":\"%s\"}", b.id);
	CHECK_STATUS(r, SBX_NOT_FOUND);
	/* The run goes on with its files, which go when it returns. */
	CHECK(ws_exists(daemon_pid, state_dir, "sandboxes", b.id, "/main.sh"));
	pthread_join(t, NULL);
	CHECK_STATUS(b.r, SBX_OK);
	CHECK_STR(jstr(&b.r, "stdout"), "survived\n");
	rep_fini(&b.r);
	CHECK(!path_exists("%s/sandboxes/%s", state_dir, b.id));
}

/* install_deps: npm install runs in the workspace before the first run
 * (offline here: a package.json without dependencies still makes npm
 * write its lock file), once. */
static void test_install_deps(void)
{
	char id[37];
	struct rep r;

	if (access("/usr/bin/npm", X_OK) < 0 || access("/usr/bin/node", X_OK) < 0) {
		printf("install_deps: no npm, not tested\n");
		return;
	}
	if (!create_sandbox(
		    id, "{\"runtime\":\"node\",\"install_deps\":true,"
			"\"code\":\"console.log(require('fs').existsSync('package-lock.json'))\","
			"\"files\":[{\"path\":\"package.json\",\"content\":\"{\\\"name\\\":"
			"\\\"t\\\",\\\"version\\\":\\\"1.0.0\\\"}\"}]}"))
		return;
	CHECK(!ws_exists(daemon_pid, state_dir, "sandboxes", id, "/package-lock.json"));
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
	CHECK(jbool(&r, "success"));
	CHECK_STR(jstr(&r, "stdout"), "true\n");
	rep_fini(&r);
	CHECK(ws_exists(daemon_pid, state_dir, "sandboxes", id, "/package-lock.json"));
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
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

/* Per-engine cgroup directories (sandboxd/<pid>) in any hierarchy, as one
 * "hierarchy/pid" per line. */
static void engine_cgroups(char *out, size_t len)
{
	static const char *const roots[] = {
		"/sys/fs/cgroup/pids/sandboxd", "/sys/fs/cgroup/memory/sandboxd",
		"/sys/fs/cgroup/cpuacct/sandboxd", "/sys/fs/cgroup/unified/sandboxd",
		"/sys/fs/cgroup/sandboxd"};
	size_t off = 0;

	out[0] = 0;
	for (size_t i = 0; i < sizeof(roots) / sizeof(*roots); i++) {
		DIR *d = opendir(roots[i]);
		struct dirent *e;

		while (d && (e = readdir(d)))
			if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && off < len)
				off += (size_t)snprintf(out + off, len - off, "%s/%s\n", roots[i],
							e->d_name);
		if (d)
			closedir(d);
	}
}

static void test_restart(void)
{
	char sb[37], sid[37], line[600], after[8192], marker[64];
	struct bg b = {0};
	pthread_t t;
	struct rep r;

	/* Unique to this test process: others may run this test at once. */
	snprintf(marker, sizeof(marker), "sleep 45.%06d", (int)getpid() % 1000000);
	if (!create_sandbox(sb,
			    "{\"runtime\":\"node\",\"code\":\"console.log(require('fs')."
			    "readFileSync('data.txt','utf8'))\","
			    "\"files\":[{\"path\":\"data.txt\",\"content\":\"from before\"}]}") ||
	    !create_session(sid, "{\"env\":{\"KEEP\":\"me\"}}") ||
	    !create_sandbox(b.id, "{\"runtime\":\"shell\",\"code\":\"%s\"}", marker))
		return;
	r = run_in(sid, "echo session-file > s.txt");
	rep_fini(&r);
	r = call("SetSessionCwd", "{\"session_id\":\"%s\",\"cwd\":\"/workspace\"}", sid);
	rep_fini(&r);
	/* Short: the call is left hanging by the kill below. */
	b.timeout_ms = 4000;
	pthread_create(&t, NULL, bg_execute, &b);
	th_sleep_ms(1500);
	CHECK(count_procs(marker) == 1);

	kill(daemon_pid, SIGKILL);
	th_wait(daemon_pid, 5000, &(int){0});
	pthread_join(t, NULL); /* the call fails: the daemon is gone */
	CHECK(b.r.status != SBX_OK);
	rep_fini(&b.r);
	for (int i = 0; i < 30 && count_procs(marker) > 0; i++)
		th_sleep_ms(100);
	CHECKF(count_procs(marker) == 0, "the sandbox's process outlived the daemon by 3 s");

	daemon_pid = start_daemon(rpc_url, state_dir, log_path,
				  (const char *const[]){"--max-files", "8", "--max-upload-bytes",
							"4096", "--max-sandboxes", "3",
							"--max-sessions", "3", NULL});
	r = call("GetSandbox", "{\"id\":\"%s\"}", sb);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "status"), "created");
	rep_fini(&r);
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", sb);
	CHECK(jbool(&r, "success"));
	CHECK_STR(jstr(&r, "stdout"), "from before\n");
	rep_fini(&r);
	/* The one that was running: failed, with the reason. */
	r = call("GetSandbox", "{\"id\":\"%s\"}", b.id);
	CHECK_STR(jstr(&r, "status"), "failed");
	CHECKF(strstr(jstr(&r, "note"), "stopped"), "note '%s'", jstr(&r, "note"));
	rep_fini(&r);
	r = call("GetSession", "{\"session_id\":\"%s\"}", sid);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(json_string_value(json_object_get(json_object_get(r.j, "env"), "KEEP")), "me");
	CHECK_INT(jint(&r, "runs"), 1);
	rep_fini(&r);
	r = run_in(sid, "cat s.txt; echo $KEEP");
	CHECK_STR(jstr(&r, "stdout"), "session-file\nme\n");
	rep_fini(&r);

	/* Cgroups of the killed daemon's engine are gone once the new one
	 * is up: no directory made since this test began may belong to a
	 * dead engine (those of live engines, e.g. other tests, stay). */
	engine_cgroups(after, sizeof(after));
	for (char *l = after, *nl; *l; l = nl + 1) {
		const char *pid;

		nl = strchr(l, '\n');
		if (!nl)
			break;
		snprintf(line, sizeof(line), "%.*s", (int)(nl - l), l);
		pid = strrchr(line, '/') + 1;
		if (!strstr(cgroups_baseline, line) && kill(atoi(pid), 0) < 0 && errno == ESRCH)
			CHECKF(false, "stale cgroup %s of the killed engine", line);
	}
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", sb);
	rep_fini(&r);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", b.id);
	rep_fini(&r);
	r = call("DeleteSession", "{\"session_id\":\"%s\"}", sid);
	rep_fini(&r);
}

/* A second daemon with 1 s idle times: idle objects and their files go. */
static void test_idle_expiry(void)
{
	char url[320], state[320], log[320], sid[37], sb[37], busy[37];
	struct bg b = {0};
	pthread_t t;
	pid_t pid;
	struct rep r;

	snprintf(url, sizeof(url), "ipc://%s/idle.sock", dir);
	snprintf(state, sizeof(state), "%s/idle-state", dir);
	snprintf(log, sizeof(log), "%s/idle.log", dir);
	pid = start_daemon(url, state, log,
			   (const char *const[]){"--session-idle", "1", "--sandbox-idle", "1",
						 "--cleanup-interval", "1", NULL});
	r = call_on(url, "CreateSession", "{}");
	CHECK_STATUS(r, SBX_OK);
	snprintf(sid, sizeof(sid), "%s", jstr(&r, "session_id"));
	rep_fini(&r);
	r = call_on(url, "CreateSandbox", "{\"runtime\":\"shell\",\"code\":\"true\"}");
	snprintf(sb, sizeof(sb), "%s", jstr(&r, "id"));
	rep_fini(&r);
	/* A sandbox running past its idle time is not expired under its run. */
	r = call_on(url, "CreateSandbox",
		    "{\"runtime\":\"shell\",\"code\":\"sleep 3.5; echo done\"}");
	snprintf(busy, sizeof(busy), "%s", jstr(&r, "id"));
	rep_fini(&r);
	snprintf(b.id, sizeof(b.id), "%s", busy);
	b.url = url;
	pthread_create(&t, NULL, bg_execute, &b);
	th_sleep_ms(200);
	CHECK(ws_exists(pid, state, "sessions", sid, ""));
	th_sleep_ms(2800);
	r = call_on(url, "GetSession", "{\"session_id\":\"%s\"}", sid);
	CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call_on(url, "GetSandbox", "{\"id\":\"%s\"}", sb);
	CHECK_STATUS(r, SBX_NOT_FOUND);
	CHECK(!path_exists("%s/sessions/%s", state, sid));
	CHECK(!path_exists("%s/sandboxes/%s", state, sb));
	r = call_on(url, "GetSandbox", "{\"id\":\"%s\"}", busy);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "status"), "running");
	rep_fini(&r);
	pthread_join(t, NULL);
	CHECK_STR(jstr(&b.r, "stdout"), "done\n");
	rep_fini(&b.r);
	{
		int st = th_stop(pid, SIGTERM, 10000);

		/* Clean exit: no leak report from the sanitizers either. */
		CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "idle daemon exit status %#x", st);
	}
}

/* Rows of a schema-3 store (store_v3.h): a oneshot shell sandbox that ran
 * 4 times, a session, an execution and a counter; %s are the ids, %lld
 * the last use (now: the sweeper must not take them). */
static const char v3_rows[] = STORE_V3_INSERT_SANDBOX
	" VALUES ('%s', 'completed', 'shell', 'oneshot', '', '', 1700000000000, %lld, 30000,"
	" 256, 4, 0, 0, 0, 0, X'4752454554494E473D686900');" /* GREETING=hi */
	STORE_V3_INSERT_SESSION
	" VALUES ('%s', '/workspace/app', 1700000000001, %lld, 2, X'4B4545503D6D6500');" /* KEEP=me
											  */
	STORE_V3_INSERT_EXECUTION
	" VALUES ('exec-v3', 'sandbox', '%s', 1700000000500, 12, 'EXEC_STATUS_RUNTIME_ERROR',"
	" 3, 0, 'shell', '198.51.100.7', 2048, 5);"
	"INSERT INTO counters (name, value) VALUES ('sandboxes_created', 7)"
	" ON CONFLICT(name) DO UPDATE SET value = value + 7;";

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

/* A state directory of today's main (schema 3, workspaces made before
 * disk limits): migrated on the daemon's first start, every object
 * served as it was, its files and history kept. */
static void test_schema3_store(void)
{
	const char *sb = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
		   *ss = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
	char url[320], state[320], log[320], p[700], *sql;
	long long now = (long long)time(NULL) * 1000;
	sqlite3 *db = NULL;
	struct rep r;
	pid_t pid;
	int st;

	snprintf(url, sizeof(url), "ipc://%s/v3.sock", dir);
	snprintf(state, sizeof(state), "%s/v3-state", dir);
	snprintf(log, sizeof(log), "%s/v3.log", dir);
	const char *dirs[] = {"",
			      "/sandboxes",
			      "/sandboxes/%s",
			      "/sandboxes/%s/workspace",
			      "/sessions",
			      "/sessions/%s",
			      "/sessions/%s/workspace",
			      "/sessions/%s/workspace/app",
			      "/sessions/%s/tmp"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		char rel[100];

		snprintf(rel, sizeof(rel), dirs[i], strstr(dirs[i], "sessions") ? ss : sb);
		snprintf(p, sizeof(p), "%s%s", state, rel);
		CHECKF(mkdir(p, strstr(rel, "workspace") || strstr(rel, "tmp") ? 0777 : 0711) == 0,
		       "mkdir %s: %s", p, strerror(errno));
		chmod(p, strstr(rel, "workspace") || strstr(rel, "tmp") ? 0777 : 0711);
	}
	snprintf(p, sizeof(p), "%s/sandboxes/%s/workspace/main.sh", state, sb);
	CHECK(write_file(p, "echo from-v3-$GREETING\n"));
	snprintf(p, sizeof(p), "%s/sessions/%s/workspace/s.txt", state, ss);
	CHECK(write_file(p, "session-file\n"));
	snprintf(p, sizeof(p), "%s/sandboxd.db", state);
	sql = sqlite3_mprintf(v3_rows, sb, now, ss, now, sb);
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, STORE_V3_SCHEMA, NULL, NULL, NULL) == SQLITE_OK);
	CHECKF(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
	sqlite3_free(sql);

	pid = start_daemon(url, state, log, NULL);
	r = call_on(url, "GetSandbox", "{\"id\":\"%s\"}", sb);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "status"), "completed");
	CHECK_STR(jstr(&r, "runtime"), "shell");
	CHECK_STR(jstr(&r, "mode"), "oneshot");
	CHECK_STR(jstr(&r, "created_at"), "2023-11-14T22:13:20.000Z");
	CHECK_INT(jint(&r, "executions"), 4);
	CHECK_INT(jint(&r, "timeout_ms"), 30000);
	CHECK_INT(jint(&r, "memory_limit_mb"), 256);
	rep_fini(&r);
	r = call_on(url, "ExecuteSandbox", "{\"id\":\"%s\"}", sb);
	CHECK(jbool(&r, "success"));
	CHECK_STR(jstr(&r, "stdout"), "from-v3-hi\n");
	rep_fini(&r);
	r = call_on(url, "GetSandbox", "{\"id\":\"%s\"}", sb);
	CHECK_INT(jint(&r, "executions"), 5);
	rep_fini(&r);
	r = call_on(url, "GetSession", "{\"session_id\":\"%s\"}", ss);
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "cwd"), "/workspace/app");
	CHECK_INT(jint(&r, "runs"), 2);
	CHECK_STR(json_string_value(json_object_get(json_object_get(r.j, "env"), "KEEP")), "me");
	rep_fini(&r);
	r = call_on(url, "SessionRun",
		    "{\"session_id\":\"%s\",\"command\":[\"/bin/sh\",\"-c\","
		    "\"cat /workspace/s.txt; echo $KEEP\"]}",
		    ss);
	CHECK_STR(jstr(&r, "stdout"), "session-file\nme\n");
	rep_fini(&r);
	r = call_on(url, "GetExecution", "{\"execution_id\":\"exec-v3\"}");
	CHECK_STATUS(r, SBX_OK);
	CHECK_STR(jstr(&r, "language"), "shell");
	CHECK_STR(jstr(&r, "client"), "198.51.100.7");
	CHECK_INT(jint(&r, "exit_code"), 3);
	CHECK_INT(jint(&r, "memory_peak_kb"), 2048);
	rep_fini(&r);
	st = th_stop(pid, SIGTERM, 10000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "v3 daemon exit status %#x", st);
	/* Once more: the migrated store is read as it is. */
	pid = start_daemon(url, state, log, NULL);
	r = call_on(url, "GetSandbox", "{\"id\":\"%s\"}", sb);
	CHECK_STATUS(r, SBX_OK);
	CHECK_INT(jint(&r, "executions"), 5);
	rep_fini(&r);
	r = call_on(url, "GetSession", "{\"session_id\":\"%s\"}", ss);
	CHECK_INT(jint(&r, "runs"), 3);
	rep_fini(&r);
	st = th_stop(pid, SIGTERM, 10000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "v3 daemon exit status %#x", st);
}

int main(void)
{
	struct rep r;

	dir = tl_tmpdir("sbx-objects");
	if (!dir)
		SKIP("no temporary directory");
	/* The sandbox user reaches workspaces through these directories. */
	chmod(dir, 0711);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(log_path, sizeof(log_path), "%s/sandboxd.log", dir);
	snprintf(rpc_url, sizeof(rpc_url), "ipc://%s/rpc.sock", dir);
	engine_cgroups(cgroups_baseline, sizeof(cgroups_baseline));
	daemon_pid = start_daemon(rpc_url, state_dir, log_path,
				  (const char *const[]){"--max-files", "8", "--max-upload-bytes",
							"4096", "--max-sandboxes", "3",
							"--max-sessions", "3", NULL});
	r = call("Health", "{}");
	if (r.status != SBX_OK) {
		int st;

		if (th_wait(daemon_pid, 100, &st) == 0) {
			th_dump_logs();
			SKIP("sandboxd did not start (namespaces or cgroups unavailable?)");
		}
	}
	rep_fini(&r);

	test_sandbox_lifecycle();
	test_bad_input();
	test_symlink_tricks();
	test_limits();
	test_sessions();
	test_delete_while_running();
	test_install_deps();
	test_restart();
	test_idle_expiry();
	test_schema3_store();

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
