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
#include "rpcc.h"
#include "status.h"
#include "store_v3.h"
#include "testlib.h"

static struct th_daemon d;
/* Engine cgroup directories that existed before this test's daemons. */
static char cgroups_baseline[8192];
static const char *const daemon_args[] = {"--log-level",
					  "debug",
					  "--max-files",
					  "8",
					  "--max-upload-bytes",
					  "4096",
					  "--max-sandboxes",
					  "3",
					  "--max-sessions",
					  "3",
					  NULL};

#define call_on(url, ...) th_rpc((url), 60000, __VA_ARGS__)
#define call(...) th_rpc(d.rpc, 60000, __VA_ARGS__)

/* Create a sandbox; its id into `id` (37 bytes). */
static bool create_sandbox(char *id, const char *fmt, ...)
{
	char body[8192];
	struct th_rep r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	r = call("CreateSandbox", "%s", body);
	TH_CHECK_STATUS(r, SBX_OK);
	snprintf(id, 37, "%s", th_rep_str(&r, "id"));
	th_rep_fini(&r);
	return r.status == SBX_OK && strlen(id) == 36;
}

static bool create_session(char *id, const char *body)
{
	struct th_rep r = call("CreateSession", "%s", body);

	TH_CHECK_STATUS(r, SBX_OK);
	snprintf(id, 37, "%s", th_rep_str(&r, "session_id"));
	th_rep_fini(&r);
	return r.status == SBX_OK && strlen(id) == 36;
}

/* Run a shell command line in a session; stdout into out. */
static struct th_rep run_in(const char *sid, const char *sh)
{
	json_t *cmd =
		json_pack("{s:s, s:[s, s, s]}", "session_id", sid, "command", "/bin/sh", "-c", sh);
	char *body = json_dumps(cmd, 0);
	struct th_rep r = call("SessionRun", "%s", body);

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
	struct th_rep r;

	if (!create_sandbox(id, "{\"runtime\":\"python\",\"code\":\"import os\\nprint('hi', "
				"os.environ['GREETING'])\\nopen('out.txt','w').write('x')\","
				"\"env_vars\":{\"GREETING\":\"hello\"},\"files\":[{\"path\":\"data/"
				"in.txt\",\"content\":\"abc\"}]}"))
		return;
	r = call("GetSandbox", "{\"id\":\"%s\"}", id);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "status"), "created");
	CHECK_STR(th_rep_str(&r, "runtime"), "python");
	CHECK_INT(th_rep_int(&r, "timeout_ms"), 30000);
	CHECK_INT(th_rep_int(&r, "memory_limit_mb"), 256);
	CHECK(strlen(th_rep_str(&r, "created_at")) == 24 &&
	      th_rep_str(&r, "created_at")[10] == 'T');
	th_rep_fini(&r);
	CHECK(ws_exists(d.pid, d.state, "sandboxes", id, "/data/in.txt"));
	CHECK(ws_exists(d.pid, d.state, "sandboxes", id, "/main.py"));

	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK(th_rep_bool(&r, "success"));
	CHECK_STR(th_rep_str(&r, "stdout"), "hi hello\n");
	CHECK(strcmp(th_rep_str(&r, "sandbox_id"), id) == 0);
	CHECK_INT(th_rep_int(&r, "exit_code"), 0);
	th_rep_fini(&r);
	CHECK(ws_exists(d.pid, d.state, "sandboxes", id, "/out.txt"));
	r = call("GetSandbox", "{\"id\":\"%s\"}", id);
	CHECK_STR(th_rep_str(&r, "status"), "completed");
	CHECK_INT(th_rep_int(&r, "executions"), 1);
	th_rep_fini(&r);

	/* A failing program: success false, status failed. */
	if (create_sandbox(fail_id,
			   "{\"runtime\":\"python\",\"code\":\"import sys; sys.exit(3)\"}")) {
		r = call("ExecuteSandbox", "{\"id\":\"%s\"}", fail_id);
		CHECK(!th_rep_bool(&r, "success"));
		CHECK_INT(th_rep_int(&r, "exit_code"), 3);
		th_rep_fini(&r);
		r = call("GetSandbox", "{\"id\":\"%s\"}", fail_id);
		CHECK_STR(th_rep_str(&r, "status"), "failed");
		th_rep_fini(&r);
	}

	r = call("ListSandboxes", "{}");
	TH_CHECK_STATUS(r, SBX_OK);
	{
		json_t *a = json_object_get(r.j, "sandboxes"), *v;
		size_t i;
		bool seen = false;

		json_array_foreach(a, i, v) seen =
			seen || strcmp(json_string_value(json_object_get(v, "id")), id) == 0;
		CHECK(seen);
	}
	th_rep_fini(&r);

	r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
	TH_CHECK_STATUS(r, SBX_OK);
	th_rep_fini(&r);
	CHECK(!path_exists("%s/sandboxes/%s", d.state, id));
	r = call("GetSandbox", "{\"id\":\"%s\"}", id);
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", fail_id);
	TH_CHECK_STATUS(r, SBX_OK);
	th_rep_fini(&r);
}

static void test_bad_input(void)
{
	static const char *const bad_paths[] = {"../x", "/etc/x", "a/../../x", "a//b",
						"",	"./a",	  "a/"};
	struct th_rep r;
	char id[37], sid[37];

	r = call("CreateSandbox", "{\"code\":\"print(1)\"}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECKF(strstr(r.msg, "runtime"), "%s", r.msg);
	r = call("CreateSandbox", "{\"runtime\":\"brainfuck\",\"code\":\"x\"}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox", "{\"runtime\":\"python\"}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox", "{\"runtime\":\"python\",\"code\":\"x\",\"dev_server\":true}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECKF(strstr(r.msg, "persistent"), "%s", r.msg);
	r = call("CreateSandbox", "{\"runtime\":\"python\",\"code\":\"x\",\"mode\":\"forever\"}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox",
		 "{\"runtime\":\"python\",\"code\":\"x\",\"timeout_ms\":999999999}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox",
		 "{\"runtime\":\"python\",\"code\":\"x\",\"memory_limit_mb\":99999999}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox",
		 "{\"runtime\":\"python\",\"code\":\"x\",\"env_vars\":{\"A=B\":\"c\"}}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("CreateSandbox",
		 "{\"runtime\":\"python\",\"code\":\"x\",\"entry_point\":\"../main.py\"}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(*bad_paths); i++) {
		r = call("CreateSandbox",
			 "{\"runtime\":\"python\",\"code\":\"x\",\"files\":[{\"path\":\"%s\","
			 "\"content\":\"x\"}]}",
			 bad_paths[i]);
		CHECKF(r.status == SBX_INVALID_ARGUMENT, "path '%s': %s", bad_paths[i],
		       sbx_status_name(r.status));
		th_rep_fini(&r);
	}
	/* The daemon runs with --max-files 8 --max-upload-bytes 4096. */
	r = call("CreateSandbox",
		 "{\"runtime\":\"python\",\"code\":\"x\",\"files\":["
		 "{\"path\":\"1\"},{\"path\":\"2\"},{\"path\":\"3\"},{\"path\":\"4\"},{\"path\":"
		 "\"5\"},"
		 "{\"path\":\"6\"},{\"path\":\"7\"},{\"path\":\"8\"},{\"path\":\"9\"}]}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECKF(strstr(r.msg, "too many files"), "%s", r.msg);
	{
		char big[5001];

		memset(big, 'a', 5000);
		big[5000] = 0;
		r = call("CreateSandbox",
			 "{\"runtime\":\"python\",\"code\":\"x\",\"files\":[{\"path\":\"big\","
			 "\"content\":\"%s\"}]}",
			 big);
		TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	}
	/* Nothing of the refused requests is left behind. */
	r = call("ListSandboxes", "{}");
	CHECK_INT(json_array_size(json_object_get(r.j, "sandboxes")), 0);
	th_rep_fini(&r);

	r = call("GetSandbox", "{}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("GetSandbox", "{\"id\":\"not-a-uuid\"}");
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("GetSandbox", "{\"id\":\"../../etc\"}");
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("ExecuteSandbox", "{}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("UploadFiles",
		 "{\"id\":\"6033f327-b48b-45c6-b8e6-b7ac82acb0b3\",\"files\":[{\"path\":\"a\"}]}");
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	if (create_sandbox(id, "{\"runtime\":\"shell\",\"code\":\"true\"}")) {
		r = call("UploadFiles", "{\"id\":\"%s\",\"files\":[]}", id);
		TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
		for (size_t i = 0; i < sizeof(bad_paths) / sizeof(*bad_paths); i++) {
			r = call("UploadFiles",
				 "{\"id\":\"%s\",\"files\":[{\"path\":\"%s\",\"content\":\"x\"}]}",
				 id, bad_paths[i]);
			CHECKF(r.status == SBX_INVALID_ARGUMENT, "upload '%s': %s", bad_paths[i],
			       sbx_status_name(r.status));
		}
		r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
		th_rep_fini(&r);
	}

	r = call("CreateSession", "{\"env\":{\"\":\"x\"}}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("GetSession", "{}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	r = call("GetSession", "{\"session_id\":\"6033f327-b48b-45c6-b8e6-b7ac82acb0b3\"}");
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("DeleteSession", "{\"session_id\":\"6033f327-b48b-45c6-b8e6-b7ac82acb0b3\"}");
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call(
		"SessionRun",
		"{\"session_id\":\"6033f327-b48b-45c6-b8e6-b7ac82acb0b3\",\"command\":[\"true\"]}");
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	if (create_session(sid, "{}")) {
		r = call("SessionRun", "{\"session_id\":\"%s\"}", sid);
		TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
		r = call("SessionRun",
			 "{\"session_id\":\"%s\",\"command\":[\"true\"],\"limits\":{\"memory_kb\":"
			 "0}}",
			 sid);
		TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
		r = call("SetSessionCwd", "{\"session_id\":\"%s\",\"cwd\":\"relative\"}", sid);
		TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
		r = call("SetSessionEnv", "{\"session_id\":\"%s\",\"env\":{\"A=B\":\"1\"}}", sid);
		TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
		r = call("DeleteSession", "{\"session_id\":\"%s\"}", sid);
		TH_CHECK_STATUS(r, SBX_OK);
		th_rep_fini(&r);
	}
}

static void test_symlink_tricks(void)
{
	char id[37], p[1024];
	struct stat st;
	struct th_rep r;

	/* First run plants traps, later runs show what the workspace holds. */
	if (!create_sandbox(id, "{\"runtime\":\"shell\",\"code\":\"if [ -e planted ]; then cat "
				"sub/dir/y.txt; ls -l run.sh; "
				"else ln -s /etc link; ln -s /etc/hostname flink; mkfifo fifo; "
				"touch planted; fi\"}"))
		return;
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
	CHECK(th_rep_bool(&r, "success"));
	th_rep_fini(&r);
	ws_path(p, sizeof(p), d.pid, d.state, "sandboxes", id, "/link");
	CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));

	r = call("UploadFiles",
		 "{\"id\":\"%s\",\"files\":[{\"path\":\"link/"
		 "sbx-objects-test\",\"content\":\"pwned\"}]}",
		 id);
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECK(access("/etc/sbx-objects-test", F_OK) < 0);
	r = call("UploadFiles",
		 "{\"id\":\"%s\",\"files\":[{\"path\":\"flink\",\"content\":\"pwned\"}]}", id);
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	/* Not blocked on the FIFO: refused at once. */
	r = call("UploadFiles", "{\"id\":\"%s\",\"files\":[{\"path\":\"fifo\",\"content\":\"x\"}]}",
		 id);
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));

	r = call("UploadFiles",
		 "{\"id\":\"%s\",\"files\":[{\"path\":\"sub/dir/"
		 "y.txt\",\"content\":\"uploaded\\n\"},"
		 "{\"path\":\"run.sh\",\"content\":\"#!/bin/sh\\necho "
		 "ok\",\"is_executable\":true}]}",
		 id);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "message"), "Files uploaded successfully");
	CHECK(strcmp(th_rep_str(&r, "sandbox_id"), id) == 0);
	th_rep_fini(&r);
	ws_path(p, sizeof(p), d.pid, d.state, "sandboxes", id, "/run.sh");
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0755 && st.st_uid != 0);
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
	CHECK(th_rep_bool(&r, "success"));
	CHECKF(strncmp(th_rep_str(&r, "stdout"), "uploaded\n-rwxr-xr-x", 19) == 0, "%s",
	       th_rep_str(&r, "stdout"));
	th_rep_fini(&r);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
	th_rep_fini(&r);
}

static void test_limits(void)
{
	char ids[4][37], id[37];
	struct th_rep r;

	/* The daemon runs with --max-sandboxes 3 --max-sessions 3. */
	for (int i = 0; i < 3; i++)
		create_sandbox(ids[i], "{\"runtime\":\"shell\",\"code\":\"true\"}");
	r = call("CreateSandbox", "{\"runtime\":\"shell\",\"code\":\"true\"}");
	TH_CHECK_STATUS(r, SBX_RESOURCE_EXHAUSTED);
	CHECKF(strstr(r.msg, "too many sandboxes (limit 3)"), "%s", r.msg);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", ids[0]);
	th_rep_fini(&r);
	if (create_sandbox(ids[0],
			   "{\"runtime\":\"shell\",\"code\":\"sleep 5\",\"timeout_ms\":500}")) {
		r = call("ExecuteSandbox", "{\"id\":\"%s\"}", ids[0]);
		TH_CHECK_STATUS(r, SBX_OK);
		CHECK(!th_rep_bool(&r, "success"));
		CHECK_STR(th_rep_str(&r, "status"), "EXEC_STATUS_WALL_TIME_LIMIT");
		CHECKF(th_rep_int(&r, "execution_time_ms") < 3000, "%lld",
		       th_rep_int(&r, "execution_time_ms"));
		th_rep_fini(&r);
	}
	for (int i = 0; i < 3; i++) {
		r = call("DeleteSandbox", "{\"id\":\"%s\"}", ids[i]);
		th_rep_fini(&r);
	}
	if (create_sandbox(id, "{\"runtime\":\"python\",\"memory_limit_mb\":32,"
			       "\"code\":\"x = bytearray(200 << 20)\\nprint(len(x))\"}")) {
		r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
		CHECK(!th_rep_bool(&r, "success"));
		th_rep_fini(&r);
		r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
		th_rep_fini(&r);
	}
	for (int i = 0; i < 3; i++)
		create_session(ids[i], "{}");
	r = call("CreateSession", "{}");
	TH_CHECK_STATUS(r, SBX_RESOURCE_EXHAUSTED);
	CHECKF(strstr(r.msg, "too many sessions (limit 3)"), "%s", r.msg);
	for (int i = 0; i < 3; i++) {
		r = call("DeleteSession", "{\"session_id\":\"%s\"}", ids[i]);
		TH_CHECK_STATUS(r, SBX_OK);
		th_rep_fini(&r);
		CHECK(!path_exists("%s/sessions/%s", d.state, ids[i]));
	}
}

static void test_sessions(void)
{
	char a[37], b[37];
	struct th_rep r;

	if (!create_session(a, "{\"env\":{\"MY_VAR\":\"hello\"}}") || !create_session(b, "{}"))
		return;
	r = run_in(a, "echo $MY_VAR; echo kept > file.txt; mkdir -p sub; pwd");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "stdout"), "hello\n/workspace\n");
	th_rep_fini(&r);
	r = run_in(a, "cat file.txt");
	CHECK_STR(th_rep_str(&r, "stdout"), "kept\n");
	th_rep_fini(&r);
	/* Never visible from another session. */
	r = run_in(b, "cat file.txt; echo $MY_VAR");
	CHECK_STR(th_rep_str(&r, "stdout"), "\n");
	CHECK_INT(th_rep_int(&r, "exit_code"), 0);
	th_rep_fini(&r);

	r = call("SetSessionEnv",
		 "{\"session_id\":\"%s\",\"env\":{\"GH_TOKEN\":\"t0k\",\"MY_VAR\":\"again\"}}", a);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(json_string_value(json_object_get(json_object_get(r.j, "env"), "GH_TOKEN")),
		  "t0k");
	th_rep_fini(&r);
	r = call("SetSessionCwd", "{\"session_id\":\"%s\",\"cwd\":\"/workspace/sub\"}", a);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "cwd"), "/workspace/sub");
	th_rep_fini(&r);
	r = run_in(a, "echo $MY_VAR $GH_TOKEN; pwd");
	CHECK_STR(th_rep_str(&r, "stdout"), "again t0k\n/workspace/sub\n");
	th_rep_fini(&r);
	/* A run's own env overrides the session's for that run only. */
	r = call("SessionRun",
		 "{\"session_id\":\"%s\",\"command\":[\"/bin/sh\",\"-c\",\"echo "
		 "$MY_VAR\"],\"env\":{\"MY_VAR\":\"once\"}}",
		 a);
	CHECK_STR(th_rep_str(&r, "stdout"), "once\n");
	th_rep_fini(&r);
	r = run_in(a, "echo $MY_VAR");
	CHECK_STR(th_rep_str(&r, "stdout"), "again\n");
	th_rep_fini(&r);
	r = call("GetSession", "{\"session_id\":\"%s\"}", a);
	CHECK_INT(th_rep_int(&r, "runs"), 5);
	th_rep_fini(&r);
	r = call("ListSessions", "{}");
	CHECK_INT(json_array_size(json_object_get(r.j, "sessions")), 2);
	th_rep_fini(&r);

	/* The OpenSandbox example: /tmp persists within a session (needs the
	 * engine to bind SpawnRequest.tmp_dir at /tmp) and not across. */
	r = run_in(a, "echo hello > /tmp/test.txt");
	CHECK_INT(th_rep_int(&r, "exit_code"), 0);
	th_rep_fini(&r);
	r = call("SessionRun",
		 "{\"session_id\":\"%s\",\"command\":[\"/bin/cat\",\"/tmp/test.txt\"]}", a);
	CHECKF(strcmp(th_rep_str(&r, "stdout"), "hello\n") == 0,
	       "/tmp did not persist in the session (engine tmp_dir): %s",
	       th_rep_str(&r, "stderr"));
	th_rep_fini(&r);
	r = call("SessionRun",
		 "{\"session_id\":\"%s\",\"command\":[\"/bin/cat\",\"/tmp/test.txt\"]}", b);
	CHECK(th_rep_int(&r, "exit_code") != 0);
	th_rep_fini(&r);

	r = call("DeleteSession", "{\"session_id\":\"%s\"}", b);
	TH_CHECK_STATUS(r, SBX_OK);
	th_rep_fini(&r);
	r = call("GetSession", "{\"session_id\":\"%s\"}", b);
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call("DeleteSession", "{\"session_id\":\"%s\"}", a);
	th_rep_fini(&r);
}

static void test_delete_while_running(void)
{
	struct th_bg_exec b = {.url = d.rpc};
	struct th_rep r;

	if (!create_sandbox(b.id, "{\"runtime\":\"shell\",\"code\":\"sleep 2; echo survived\"}"))
		return;
	CHECK(th_bg_exec_start(&b) == 0);
	th_sleep_ms(700);
	r = call("GetSandbox", "{\"id\":\"%s\"}", b.id);
	CHECK_STR(th_rep_str(&r, "status"), "running");
	th_rep_fini(&r);
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", b.id);
	TH_CHECK_STATUS(r, SBX_FAILED_PRECONDITION);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", b.id);
	TH_CHECK_STATUS(r, SBX_OK);
	th_rep_fini(&r);
	r = call("GetSandbox", "{\"id\":\"%s\"}", b.id);
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	/* The run goes on with its files, which go when it returns. */
	CHECK(ws_exists(d.pid, d.state, "sandboxes", b.id, "/main.sh"));
	th_bg_exec_join(&b, -1);
	TH_CHECK_STATUS(b.rep, SBX_OK);
	CHECK_STR(th_rep_str(&b.rep, "stdout"), "survived\n");
	th_rep_fini(&b.rep);
	CHECK(!path_exists("%s/sandboxes/%s", d.state, b.id));
}

/* install_deps: npm install runs in the workspace before the first run
 * (offline here: a package.json without dependencies still makes npm
 * write its lock file), once. */
static void test_install_deps(void)
{
	char id[37];
	struct th_rep r;

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
	CHECK(!ws_exists(d.pid, d.state, "sandboxes", id, "/package-lock.json"));
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", id);
	CHECK(th_rep_bool(&r, "success"));
	CHECK_STR(th_rep_str(&r, "stdout"), "true\n");
	th_rep_fini(&r);
	CHECK(ws_exists(d.pid, d.state, "sandboxes", id, "/package-lock.json"));
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", id);
	th_rep_fini(&r);
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
	struct th_bg_exec b = {.url = d.rpc};
	struct th_rep r;

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
	th_rep_fini(&r);
	r = call("SetSessionCwd", "{\"session_id\":\"%s\",\"cwd\":\"/workspace\"}", sid);
	th_rep_fini(&r);
	/* Short: the call is left hanging by the kill below. */
	b.timeout_ms = 4000;
	CHECK(th_bg_exec_start(&b) == 0);
	th_sleep_ms(1500);
	CHECK(th_count_procs(marker) == 1);

	kill(d.pid, SIGKILL);
	th_wait(d.pid, 5000, &(int){0});
	th_bg_exec_join(&b, -1); /* the call fails: the daemon is gone */
	CHECK(b.rep.status != SBX_OK);
	th_rep_fini(&b.rep);
	for (int i = 0; i < 30 && th_count_procs(marker) > 0; i++)
		th_sleep_ms(100);
	CHECKF(th_count_procs(marker) == 0, "the sandbox's process outlived the daemon by 3 s");

	th_daemon_start(&d, daemon_args);
	r = call("GetSandbox", "{\"id\":\"%s\"}", sb);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "status"), "created");
	th_rep_fini(&r);
	r = call("ExecuteSandbox", "{\"id\":\"%s\"}", sb);
	CHECK(th_rep_bool(&r, "success"));
	CHECK_STR(th_rep_str(&r, "stdout"), "from before\n");
	th_rep_fini(&r);
	/* The one that was running: failed, with the reason. */
	r = call("GetSandbox", "{\"id\":\"%s\"}", b.id);
	CHECK_STR(th_rep_str(&r, "status"), "failed");
	CHECKF(strstr(th_rep_str(&r, "note"), "stopped"), "note '%s'", th_rep_str(&r, "note"));
	th_rep_fini(&r);
	r = call("GetSession", "{\"session_id\":\"%s\"}", sid);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(json_string_value(json_object_get(json_object_get(r.j, "env"), "KEEP")), "me");
	CHECK_INT(th_rep_int(&r, "runs"), 1);
	th_rep_fini(&r);
	r = run_in(sid, "cat s.txt; echo $KEEP");
	CHECK_STR(th_rep_str(&r, "stdout"), "session-file\nme\n");
	th_rep_fini(&r);

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
	th_rep_fini(&r);
	r = call("DeleteSandbox", "{\"id\":\"%s\"}", b.id);
	th_rep_fini(&r);
	r = call("DeleteSession", "{\"session_id\":\"%s\"}", sid);
	th_rep_fini(&r);
}

/* A second daemon with 1 s idle times: idle objects and their files go. */
static void test_idle_expiry(void)
{
	struct th_daemon idle;
	const char *url = idle.rpc, *state = idle.state;
	char sid[37], sb[37], busy[37];
	struct th_bg_exec b = {.url = idle.rpc};
	struct th_rep r;
	pid_t pid;

	th_daemon_init_in(&idle, d.dir, "idle");
	pid = th_daemon_start(&idle, (const char *const[]){"--log-level", "debug", "--session-idle",
							   "1", "--sandbox-idle", "1",
							   "--cleanup-interval", "1", NULL});
	r = call_on(url, "CreateSession", "{}");
	TH_CHECK_STATUS(r, SBX_OK);
	snprintf(sid, sizeof(sid), "%s", th_rep_str(&r, "session_id"));
	th_rep_fini(&r);
	r = call_on(url, "CreateSandbox", "{\"runtime\":\"shell\",\"code\":\"true\"}");
	snprintf(sb, sizeof(sb), "%s", th_rep_str(&r, "id"));
	th_rep_fini(&r);
	/* A sandbox running past its idle time is not expired under its run. */
	r = call_on(url, "CreateSandbox",
		    "{\"runtime\":\"shell\",\"code\":\"sleep 3.5; echo done\"}");
	snprintf(busy, sizeof(busy), "%s", th_rep_str(&r, "id"));
	th_rep_fini(&r);
	snprintf(b.id, sizeof(b.id), "%s", busy);
	CHECK(th_bg_exec_start(&b) == 0);
	th_sleep_ms(200);
	CHECK(ws_exists(pid, state, "sessions", sid, ""));
	th_sleep_ms(2800);
	r = call_on(url, "GetSession", "{\"session_id\":\"%s\"}", sid);
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	r = call_on(url, "GetSandbox", "{\"id\":\"%s\"}", sb);
	TH_CHECK_STATUS(r, SBX_NOT_FOUND);
	CHECK(!path_exists("%s/sessions/%s", state, sid));
	CHECK(!path_exists("%s/sandboxes/%s", state, sb));
	r = call_on(url, "GetSandbox", "{\"id\":\"%s\"}", busy);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "status"), "running");
	th_rep_fini(&r);
	th_bg_exec_join(&b, -1);
	CHECK_STR(th_rep_str(&b.rep, "stdout"), "done\n");
	th_rep_fini(&b.rep);
	{
		int st = th_daemon_stop(&idle, 10000);

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
	struct th_daemon v3;
	const char *url = v3.rpc, *state = v3.state;
	char p[700], *sql;
	long long now = (long long)time(NULL) * 1000;
	sqlite3 *db = NULL;
	struct th_rep r;
	int st;

	th_daemon_init_in(&v3, d.dir, "v3");
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

	/* The v3 execution dates from 2023: older than the history's default
	 * age limit (a week), which would drop it at the first read. */
	static const char *const keep_old[] = {"--history-max-age", "0", NULL};
	th_daemon_start(&v3, keep_old);
	r = call_on(url, "GetSandbox", "{\"id\":\"%s\"}", sb);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "status"), "completed");
	CHECK_STR(th_rep_str(&r, "runtime"), "shell");
	CHECK_STR(th_rep_str(&r, "mode"), "oneshot");
	CHECK_STR(th_rep_str(&r, "created_at"), "2023-11-14T22:13:20.000Z");
	CHECK_INT(th_rep_int(&r, "executions"), 4);
	CHECK_INT(th_rep_int(&r, "timeout_ms"), 30000);
	CHECK_INT(th_rep_int(&r, "memory_limit_mb"), 256);
	th_rep_fini(&r);
	r = call_on(url, "ExecuteSandbox", "{\"id\":\"%s\"}", sb);
	CHECK(th_rep_bool(&r, "success"));
	CHECK_STR(th_rep_str(&r, "stdout"), "from-v3-hi\n");
	th_rep_fini(&r);
	r = call_on(url, "GetSandbox", "{\"id\":\"%s\"}", sb);
	CHECK_INT(th_rep_int(&r, "executions"), 5);
	th_rep_fini(&r);
	r = call_on(url, "GetSession", "{\"session_id\":\"%s\"}", ss);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "cwd"), "/workspace/app");
	CHECK_INT(th_rep_int(&r, "runs"), 2);
	CHECK_STR(json_string_value(json_object_get(json_object_get(r.j, "env"), "KEEP")), "me");
	th_rep_fini(&r);
	r = call_on(url, "SessionRun",
		    "{\"session_id\":\"%s\",\"command\":[\"/bin/sh\",\"-c\","
		    "\"cat /workspace/s.txt; echo $KEEP\"]}",
		    ss);
	CHECK_STR(th_rep_str(&r, "stdout"), "session-file\nme\n");
	th_rep_fini(&r);
	r = call_on(url, "GetExecution", "{\"execution_id\":\"exec-v3\"}");
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "language"), "shell");
	CHECK_STR(th_rep_str(&r, "client"), "198.51.100.7");
	CHECK_INT(th_rep_int(&r, "exit_code"), 3);
	CHECK_INT(th_rep_int(&r, "memory_peak_kb"), 2048);
	th_rep_fini(&r);
	st = th_daemon_stop(&v3, 10000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "v3 daemon exit status %#x", st);
	/* Once more: the migrated store is read as it is. */
	th_daemon_start(&v3, keep_old);
	r = call_on(url, "GetSandbox", "{\"id\":\"%s\"}", sb);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_INT(th_rep_int(&r, "executions"), 5);
	th_rep_fini(&r);
	r = call_on(url, "GetSession", "{\"session_id\":\"%s\"}", ss);
	CHECK_INT(th_rep_int(&r, "runs"), 3);
	th_rep_fini(&r);
	st = th_daemon_stop(&v3, 10000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "v3 daemon exit status %#x", st);
}

int main(void)
{
	if (th_daemon_init(&d, "sbx-objects") < 0)
		SKIP("no temporary directory");
	engine_cgroups(cgroups_baseline, sizeof(cgroups_baseline));
	th_daemon_start(&d, daemon_args);
	th_daemon_up_or_skip(&d);

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
		int st = th_daemon_stop(&d, 10000);

		CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %#x", st);
	}
	th_daemon_fini(&d);
	TEST_DONE();
}
