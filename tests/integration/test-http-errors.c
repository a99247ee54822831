/* Errors a user can act on (issue 11), through the real sandboxd and
 * sandbox-gateway:
 * - a state dir whose parent is not searchable by others (a 0700 mktemp -d,
 *   as anything under /root) works: a sandbox (run twice, its workspace
 *   kept), a persistent sandbox reached through /proxy, a session (its
 *   workspace and /tmp kept);
 * - an execution whose set-up fails answers with the daemon's whole
 *   sentence: `error` of POST /sandbox/{id}/execute, OpenSandbox's
 *   `stderr` of a session's run; a long path is not cut;
 * - ENABLE_PYTHON=false (issue 11, seed settings): python is in no list
 *   and every path that would run it answers 400 naming it; node works. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

#define SANDBOX_SHAPE "id:s status:s runtime:s created_at:s timeout_ms:i memory_limit_mb:i node:s"
#define EXECUTE_SHAPE                                                                              \
	"sandbox_id:s success:b stdout:s stderr:s exit_code:i execution_time_ms:i error:%c node:s"

static struct th_stack st;
static char state[512]; /* the daemon's state dir, under a 0700 directory */

static void create(const char *body, char *id, size_t idlen)
{
	struct th_resp r = {0};
	json_t *j;

	id[0] = 0;
	th_http(st.base, "POST", "/sandbox", body, NULL, 60000, &r);
	j = th_check_reply(&r, SANDBOX_SHAPE);
	if (j)
		snprintf(id, idlen, "%s", th_str(j, "id"));
	json_decref(j);
	th_resp_fini(&r);
}

/* POST /sandbox/{id}/execute; the reply (caller decrefs) of the shape with
 * `error` null (ok) or a string. */
static json_t *execute(const char *id, bool ok)
{
	struct th_resp r = {0};
	char path[128], shape[128];
	json_t *j;

	snprintf(path, sizeof(path), "/sandbox/%s/execute", id);
	snprintf(shape, sizeof(shape), EXECUTE_SHAPE, ok ? 'z' : 's');
	th_http(st.base, "POST", path, NULL, NULL, 120000, &r);
	j = th_check_reply(&r, shape);
	th_resp_fini(&r);
	return j;
}

static void session_run(const char *id, const char *body, const char *want_stdout,
			const char *want_in_stderr)
{
	struct th_resp r = {0};
	char path[128];
	json_t *j;

	snprintf(path, sizeof(path), "/sessions/%s/run", id);
	th_http(st.base, "POST", path, body, NULL, 60000, &r);
	j = th_check_reply(&r, "stdout:s stderr:s exit_code:i signal:z node:s");
	if (j && want_stdout)
		CHECK_STR(th_str(j, "stdout"), want_stdout);
	if (j && want_in_stderr)
		CHECKF(strstr(th_str(j, "stderr"), want_in_stderr), "stderr '%s' lacks '%s'",
		       th_str(j, "stderr"), want_in_stderr);
	json_decref(j);
	th_resp_fini(&r);
}

/* A sandbox's workspace is kept between runs: a counter in a file. */
static void test_sandbox(void)
{
	char id[64];
	json_t *j;

	create("{\"runtime\": \"python\", \"code\": \"import os\\nn = int(open('n').read()) + 1 "
	       "if os.path.exists('n') else 1\\nopen('n', 'w').write(str(n))\\nprint(n)\\n\"}",
	       id, sizeof(id));
	if (!*id)
		return;
	for (int i = 1; i <= 2; i++) {
		char want[8];

		snprintf(want, sizeof(want), "%d\n", i);
		j = execute(id, true);
		if (j) {
			CHECKF(json_is_true(json_object_get(j, "success")), "run %d failed: %s", i,
			       th_str(j, "stderr"));
			CHECKF(strcmp(th_str(j, "stdout"), want) == 0, "stdout %s",
			       th_str(j, "stdout"));
		}
		json_decref(j);
	}
}

/* Where the daemon sees `leaf` ("workspace", "tmp") of object `id`: on the
 * object's disk volume. With `host`, the same path as this process reaches
 * it: the volume is mounted in the daemon's own mount namespace, which
 * /proc/<pid>/root walks. */
static char *obj_path(char *buf, size_t len, bool host, const char *kind, const char *id,
		      const char *leaf)
{
	char root[64] = "";

	if (host)
		snprintf(root, sizeof(root), "/proc/%d/root", (int)st.daemon);
	snprintf(buf, len, "%s%s/%s/%s/vol/%s", root, state, kind, id, leaf);
	return buf;
}

/* mode persistent: its process runs, answers through the proxy and writes
 * into its workspace. */
static void test_persistent(void)
{
	struct th_resp r = {0};
	char id[64], path[700];
	struct stat sb;

	create("{\"runtime\": \"node\", \"mode\": \"persistent\", \"dev_server\": true, \"code\": "
	       "\"require('fs').writeFileSync('started', 'yes'); require('http').createServer((q, "
	       "s) => s.end('persistent ok')).listen(3000);\"}",
	       id, sizeof(id));
	if (!*id)
		return;
	snprintf(path, sizeof(path), "/proxy/%s/", id);
	th_http(st.base, "GET", path, NULL, NULL, 30000, &r);
	CHECKF(r.status == 200 && strcmp(r.body, "persistent ok") == 0, "%ld '%.300s'", r.status,
	       r.body);
	obj_path(path, sizeof(path), true, "sandboxes", id, "workspace/started");
	CHECKF(stat(path, &sb) == 0, "%s was not written", path);
	snprintf(path, sizeof(path), "/sandbox/%s", id);
	th_http(st.base, "DELETE", path, NULL, NULL, 30000, &r);
	CHECKF(r.status == 204, "DELETE: %ld", r.status);
	th_resp_fini(&r);
}

static void new_session(char *id, size_t idlen)
{
	struct th_resp r = {0};
	json_t *j;

	id[0] = 0;
	th_http(st.base, "POST", "/sessions", "{}", NULL, 0, &r);
	j = th_check_reply(&r, "session_id:s node:s");
	if (j)
		snprintf(id, idlen, "%s", th_str(j, "session_id"));
	json_decref(j);
	th_resp_fini(&r);
}

static void test_session(void)
{
	char id[64];

	new_session(id, sizeof(id));
	if (!*id)
		return;
	session_run(id, "{\"command\": [\"/bin/sh\", \"-c\", \"echo t > /tmp/t; echo w > w\"]}", "",
		    NULL);
	session_run(id, "{\"command\": [\"/bin/sh\", \"-c\", \"cat /tmp/t w\"]}", "t\nw\n", NULL);
}

/* Replace dir by a symlink to a copy of it: the spawner refuses to bind
 * it, and says so. */
static bool break_dir(const char *dir)
{
	char real[900];

	snprintf(real, sizeof(real), "%s.real", dir);
	return rename(dir, real) == 0 && symlink(real, dir) == 0;
}

static void test_setup_failure(void)
{
	char id[64], dir[700], host_dir[800], want[900];
	json_t *j;

	create("{\"runtime\": \"shell\", \"code\": \"echo never\"}", id, sizeof(id));
	if (!*id)
		return;
	obj_path(dir, sizeof(dir), false, "sandboxes", id, "workspace");
	obj_path(host_dir, sizeof(host_dir), true, "sandboxes", id, "workspace");
	CHECKF(break_dir(host_dir), "cannot replace %s", host_dir);
	snprintf(want, sizeof(want), "workspace %s is a symbolic link, not a directory", dir);
	j = execute(id, false);
	if (j) {
		CHECK(json_is_false(json_object_get(j, "success")));
		CHECK_STR(th_str(j, "stdout"), "");
		CHECKF(strstr(th_str(j, "error"), want), "error '%s' lacks '%s'",
		       th_str(j, "error"), want);
	}
	json_decref(j);

	new_session(id, sizeof(id));
	if (!*id)
		return;
	obj_path(dir, sizeof(dir), false, "sessions", id, "tmp");
	obj_path(host_dir, sizeof(host_dir), true, "sessions", id, "tmp");
	CHECKF(break_dir(host_dir), "cannot replace %s", host_dir);
	snprintf(want, sizeof(want), "tmp_dir %s is a symbolic link, not a directory", dir);
	session_run(id, "{\"command\": [\"/bin/true\"]}", "", want);
}

/* A second daemon, started with ENABLE_PYTHON=false in its environment. */
static void test_disabled_language(void)
{
	struct th_resp r = {0};
	char id[64], path[128];
	json_t *j;

	setenv("ENABLE_PYTHON", "false", 1);
	int started = th_stack_start(&st, "sbx-http-errors-lang", NULL);
	unsetenv("ENABLE_PYTHON");
	if (started < 0)
		return;
	th_http(st.base, "GET", "/languages", NULL, NULL, 60000, &r);
	CHECKF(r.status == 200 && !strstr(r.body, "python") && strstr(r.body, "\"node\""),
	       "GET /languages: %ld %.500s", r.status, r.body);
	th_http(st.base, "GET", "/api/v1/config", NULL, NULL, 0, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && json_is_array(json_object_get(j, "languages")) &&
		       !strstr(r.body, "python") && strstr(r.body, "\"node\""),
	       "GET /api/v1/config: %ld %.500s", r.status, r.body);
	json_decref(j);

	const char *const disabled = "language python is disabled on this server";
	th_expect_error(st.base, "POST", "/api/v1/execute",
			"{\"language\": \"python\", \"code\": \"print(1)\"}", 400, disabled);
	th_expect_error(st.base, "POST", "/execute",
			"{\"language\": \"py\", \"code\": \"print(1)\"}", 400, disabled);
	th_expect_error(st.base, "POST", "/sandbox",
			"{\"runtime\": \"python\", \"code\": \"print(1)\"}", 400, disabled);
	th_expect_error(st.base, "POST", "/faas/deploy",
			"{\"runtime\": \"python\", \"code\": \"print(1)\"}", 400, disabled);
	th_expect_error(st.base, "POST", "/run",
			"{\"command\": [\"python3\", \"-c\", \"print(1)\"]}", 400, disabled);
	new_session(id, sizeof(id));
	if (*id) {
		snprintf(path, sizeof(path), "/sessions/%s/run", id);
		th_expect_error(st.base, "POST", path,
				"{\"command\": [\"/usr/bin/python3\", \"-c\", \"print(1)\"]}", 400,
				disabled);
		session_run(id, "{\"command\": [\"/bin/echo\", \"still\"]}", "still\n", NULL);
	}

	th_http(st.base, "POST", "/api/v1/execute",
		"{\"language\": \"javascript\", \"code\": \"console.log(6 * 7)\"}", NULL, 60000,
		&r);
	j = th_check_reply(&r, "execution_id:s status:s stdout:s stderr:s execution_time_ms:i "
			       "memory_used_mb:n exit_code:i error:z node:s");
	if (j)
		CHECK_STR(th_str(j, "stdout"), "42\n");
	json_decref(j);
	th_resp_fini(&r);
	th_stack_stop(&st);
}

int main(void)
{
	char why[256], *priv;

	th_require_sandboxes();
	/* 0700, as mkdtemp makes it; a long name, so that the sentences are
	 * longer than the 200 bytes the daemon used to keep. */
	priv = tl_tmpdir("sbx-http-errors-private");
	if (!priv)
		SKIP("no temporary directory");
	chmod(priv, 0700);
	snprintf(state, sizeof(state), "%s/%s/state", priv,
		 "a-state-dir-with-a-rather-long-name-so-that-error-sentences-about-it-are-long");
	snprintf(why, sizeof(why), "%s/%s", priv,
		 "a-state-dir-with-a-rather-long-name-so-that-error-sentences-about-it-are-long");
	mkdir(why, 0755);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* The forwarder sockets' dir, inside the 0700 one too, but short:
	 * a unix socket's path has 108 bytes. */
	char proxy[300];
	snprintf(proxy, sizeof(proxy), "%s/p", priv);
	const char *const args[] = {"--state-dir", state, "--proxy-dir", proxy, NULL};
	if (th_stack_start(&st, "sbx-http-errors", args) == 0) {
		test_sandbox();
		test_persistent();
		test_session();
		test_setup_failure();
	}
	th_stack_stop(&st);
	test_disabled_language();
	if (!getenv("SBX_KEEP_TMP"))
		th_rmtree(priv);
	free(priv);
	curl_global_cleanup();
	TEST_DONE();
}
