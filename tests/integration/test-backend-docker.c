/* The docker backend against a real Docker engine: the real sandboxd,
 * started with --backend docker, runs the shared run/execute/limit checks
 * over RPC (echo, exit code, stdin, env, files and cwd, languages, wall and
 * CPU time, memory, output cap, file size, pids, no network, read-only
 * root, non-root user, sessions), and leaves no container behind.
 *
 * Skips (exit 77, saying why) when no engine answers on the socket
 * (DOCKER_HOST or /var/run/docker.sock) or the image is missing
 * (SANDBOX_DOCKER_IMAGE, default sandboxd-runtime:latest; build it with
 * `docker build -t sandboxd-runtime:latest -f docker/Dockerfile.runtime docker`). */
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"
#include "harness.h"
#include "rpcc.h"
#include "status.h"
#include "testlib.h"

static struct th_daemon d;
static char sock[256];
static const char *image;

/* GET path on the engine; the HTTP status, 0 when nothing answers. */
static long engine_get(const char *path, char *body, size_t len)
{
	char url[512];
	long st = 0;
	CURL *h = curl_easy_init();
	FILE *f = body ? fmemopen(body, len, "w") : fopen("/dev/null", "w");

	if (!h || !f) {
		if (h)
			curl_easy_cleanup(h);
		if (f)
			fclose(f);
		return 0;
	}
	snprintf(url, sizeof(url), "http://docker/v1.41%s", path);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(h);
	fclose(f);
	return st;
}

/* Call method with a JSON request; the reply as JSON (NULL on a non-OK
 * status, which is stored in *ret_status). */
static json_t *call(const char *method, int *ret_status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static json_t *call(const char *method, int *ret_status, const char *fmt, ...)
{
	struct th_rep r;
	va_list ap;

	va_start(ap, fmt);
	r = th_vrpc(d.rpc, 60000, method, fmt, ap);
	va_end(ap);
	*ret_status = r.status;
	if (r.status >= 0 && r.status != SBX_OK)
		fprintf(stderr, "%s: %s\n", method, r.msg);
	return r.j;
}

static const char *s_of(json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));

	return s ? s : "";
}

static long long i_of(json_t *j, const char *k)
{
	return json_integer_value(json_object_get(j, k));
}

/* Run a request (RPC Run or Execute) and check status and exit code. */
static json_t *expect(const char *method, const char *status, int exit_code, const char *req)
{
	int st;
	json_t *j = call(method, &st, "%s", req);

	CHECKF(st == SBX_OK && j, "%s %s: RPC status %d", method, req, st);
	if (!j)
		return NULL;
	CHECKF(strcmp(s_of(j, "status"), status) == 0, "%s: status %s, want %s (%s; stderr %.200s)",
	       req, s_of(j, "status"), status, s_of(j, "error"), s_of(j, "stderr"));
	if (exit_code != -999)
		CHECKF(i_of(j, "exit_code") == exit_code, "%s: exit code %lld, want %d", req,
		       i_of(j, "exit_code"), exit_code);
	return j;
}

#define OK "EXEC_STATUS_OK"

static void check_run(void)
{
	json_t *j;

	j = expect("Run", OK, 0, "{\"argv\": [\"echo\", \"hello\"]}");
	CHECK_STR(s_of(j, "stdout"), "hello\n");
	json_decref(j);

	j = expect("Run", "EXEC_STATUS_RUNTIME_ERROR", 3,
		   "{\"argv\": [\"sh\", \"-c\", \"echo err >&2; exit 3\"]}");
	CHECK_STR(s_of(j, "stderr"), "err\n");
	json_decref(j);

	j = expect("Run", OK, 0, "{\"argv\": [\"cat\"], \"stdin\": \"line 1\\nline 2\\n\"}");
	CHECK_STR(s_of(j, "stdout"), "line 1\nline 2\n");
	json_decref(j);

	j = expect("Run", OK, 0,
		   "{\"argv\": [\"sh\", \"-c\", \"echo $GREETING-$HOME\"], \"env\": {\"GREETING\": "
		   "\"hi\"}}");
	CHECK_STR(s_of(j, "stdout"), "hi-/tmp\n");
	json_decref(j);

	j = expect("Run", OK, 0,
		   "{\"argv\": [\"sh\", \"-c\", \"pwd; cat sub/a.txt; ./x.sh\"], \"cwd\": "
		   "\"/workspace\", "
		   "\"files\": [{\"path\": \"sub/a.txt\", \"content\": \"A\\n\"}, "
		   "{\"path\": \"x.sh\", \"content\": \"#!/bin/sh\\necho X\\n\", "
		   "\"is_executable\": true}]}");
	CHECK_STR(s_of(j, "stdout"), "/workspace\nA\nX\n");
	json_decref(j);

	j = expect("Run", "EXEC_STATUS_RUNTIME_ERROR", 127, "{\"argv\": [\"no-such-program\"]}");
	json_decref(j);

	/* Non-root, no capabilities, read-only root, writable /tmp and workspace. */
	j = expect("Run", "EXEC_STATUS_RUNTIME_ERROR", 1,
		   "{\"argv\": [\"sh\", \"-c\", \"id -u; grep CapEff /proc/self/status; touch "
		   "/tmp/t /workspace/w && "
		   "echo writable; touch /etc/x\"]}");
	CHECKF(strstr(s_of(j, "stdout"), "1000\nCapEff:\t0000000000000000\nwritable\n") != NULL,
	       "%s", s_of(j, "stdout"));
	CHECKF(strstr(s_of(j, "stderr"), "Read-only file system") != NULL, "%s", s_of(j, "stderr"));
	json_decref(j);

	/* No network: only loopback. */
	j = expect("Run", "EXEC_STATUS_RUNTIME_ERROR", 1,
		   "{\"argv\": [\"python3\", \"-c\", \"import socket; "
		   "socket.create_connection(('1.1.1.1', 53), 2)\"]}");
	CHECKF(strstr(s_of(j, "stderr"), "unreachable") != NULL ||
		       strstr(s_of(j, "stderr"), "OSError") != NULL,
	       "%s", s_of(j, "stderr"));
	json_decref(j);
}

static void check_execute(void)
{
	json_t *j;

	j = expect("Execute", OK, 0,
		   "{\"language\": \"python\", \"code\": \"import sys; print(sum(range(10)), "
		   "sys.stdin.read())\", \"stdin\": \"in\"}");
	CHECK_STR(s_of(j, "stdout"), "45 in\n");
	json_decref(j);
	j = expect("Execute", OK, 0,
		   "{\"language\": \"node\", \"code\": \"console.log([1,2,3].map(x => x * "
		   "2).join(','))\"}");
	CHECK_STR(s_of(j, "stdout"), "2,4,6\n");
	json_decref(j);
	j = expect("Execute", OK, 0, "{\"language\": \"bash\", \"code\": \"echo $((6 * 7))\"}");
	CHECK_STR(s_of(j, "stdout"), "42\n");
	json_decref(j);
}

static void check_limits(void)
{
	long long t0 = sbx_clock_mono_ms();
	json_t *j;

	j = expect("Run", "EXEC_STATUS_WALL_TIME_LIMIT", -999,
		   "{\"argv\": [\"sh\", \"-c\", \"echo before; sleep 30\"], \"limits\": "
		   "{\"wall_time_ms\": 1000}}");
	CHECK_STR(s_of(j, "stdout"), "before\n");
	CHECKF(sbx_clock_mono_ms() - t0 < 10000, "the wall limit took %lld ms",
	       sbx_clock_mono_ms() - t0);
	json_decref(j);

	j = expect("Run", "EXEC_STATUS_TIME_LIMIT", -999,
		   "{\"argv\": [\"python3\", \"-c\", \"while True: pass\"], \"limits\": "
		   "{\"cpu_time_ms\": 1000}}");
	json_decref(j);

	j = expect("Run", "EXEC_STATUS_MEMORY_LIMIT", -999,
		   "{\"argv\": [\"python3\", \"-c\", \"x = bytearray(256 << 20); print(len(x))\"], "
		   "\"limits\": {\"memory_kb\": 65536}}");
	json_decref(j);

	j = expect("Run", "EXEC_STATUS_OUTPUT_LIMIT", -999,
		   "{\"argv\": [\"python3\", \"-c\", \"print('x' * 100000)\"], \"limits\": "
		   "{\"output_bytes\": 1000}}");
	CHECK_INT(strlen(s_of(j, "stdout")), 1000);
	CHECK(json_is_true(json_object_get(j, "stdout_truncated")));
	json_decref(j);

	/* Endless output is cut off, not collected. */
	j = expect("Run", "EXEC_STATUS_OUTPUT_LIMIT", -999,
		   "{\"argv\": [\"yes\"], \"limits\": {\"output_bytes\": 4096}}");
	json_decref(j);

	j = expect("Run", "EXEC_STATUS_SIGNALED", -999,
		   "{\"argv\": [\"sh\", \"-c\", \"head -c 1000000 /dev/zero > /tmp/f\"], "
		   "\"limits\": {\"fsize_kb\": 100}}");
	json_decref(j);

	/* The pids limit: the shell's fifth fork fails. */
	j = expect("Run", "EXEC_STATUS_RUNTIME_ERROR", -999,
		   "{\"argv\": [\"sh\", \"-c\", \"for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & "
		   "done; wait\"], "
		   "\"limits\": {\"pids\": 4}}");
	CHECKF(strstr(s_of(j, "stderr"), "fork") != NULL, "%s", s_of(j, "stderr"));
	json_decref(j);
}

static void check_session(void)
{
	char id[64] = "";
	json_t *j;
	int st;

	j = call("CreateSession", &st, "{}");
	CHECK(st == SBX_OK && j);
	snprintf(id, sizeof(id), "%s", s_of(j, "session_id"));
	json_decref(j);
	if (!id[0])
		return;
	j = call("SessionRun", &st,
		 "{\"session_id\": \"%s\", \"command\": [\"sh\", \"-c\", \"echo kept > f; echo t > "
		 "/tmp/t\"]}",
		 id);
	CHECK(st == SBX_OK);
	json_decref(j);
	j = call("SessionRun", &st,
		 "{\"session_id\": \"%s\", \"command\": [\"cat\", \"f\", \"/tmp/t\"]}", id);
	CHECK(st == SBX_OK && j);
	CHECK_STR(s_of(j, "stdout"), "kept\nt\n");
	json_decref(j);
	json_decref(call("DeleteSession", &st, "{\"session_id\": \"%s\"}", id));
}

int main(void)
{
	const char *host = getenv("DOCKER_HOST");
	char body[4096] = "", path[512];
	const char *args[] = {"--backend", "docker", "--docker-image", NULL, NULL};
	int st;

	image = getenv("SANDBOX_DOCKER_IMAGE") ? getenv("SANDBOX_DOCKER_IMAGE")
					       : "sandboxd-runtime:latest";
	args[3] = image;
	snprintf(sock, sizeof(sock), "%s",
		 host && strncmp(host, "unix://", 7) == 0 ? host + 7 : "/var/run/docker.sock");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (engine_get("/_ping", NULL, 0) != 200)
		SKIP("no Docker engine answers on unix://%s (start dockerd to run this test)",
		     sock);
	snprintf(path, sizeof(path), "/images/%s/json", image);
	if (engine_get(path, NULL, 0) != 200)
		SKIP("image %s is missing (docker build -t sandboxd-runtime:latest -f "
		     "docker/Dockerfile.runtime docker)",
		     image);

	if (th_daemon_init(&d, "sbx-docker") < 0)
		SKIP("no temporary directory");
	CHECK(th_daemon_start(&d, args) > 0);
	{
		json_t *h = call("Health", &st, "{}");

		CHECKF(h && strncmp(s_of(h, "backend"), "docker", 6) == 0, "backend %s",
		       h ? s_of(h, "backend") : "?");
		json_decref(h);
		if (!h) {
			th_daemon_fini(&d);
			return tl_done();
		}
	}
	check_run();
	check_execute();
	check_limits();
	check_session();

	/* Every container was removed. */
	CHECK(engine_get("/containers/"
			 "json?all=1&filters=%7B%22label%22%3A%5B%22sandboxd.execution%22%5D%7D",
			 body, sizeof(body)) == 200);
	CHECKF(strcmp(body, "[]\n") == 0, "containers left behind: %.300s", body);

	st = th_daemon_stop(&d, 15000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %#x", st);
	th_daemon_fini(&d);
	curl_global_cleanup();
	TEST_DONE();
}
