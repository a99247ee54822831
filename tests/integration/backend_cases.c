/* The shared run/execute/limit checks every isolation backend passes,
 * over RPC against a started sandboxd (test-backend-docker.c,
 * test-backend-nsjail.c). Each check uses testlib's CHECK macros. */
#include "backend_cases.h"

#include <stdarg.h>
#include <string.h>

#include "clock.h"
#include "rpcc.h"
#include "status.h"
#include "testlib.h"

/* Python: loopback connects, 203.0.113.1 (TEST-NET-3) does not. */
#define LOOPBACK_ONLY                                                                              \
	"import socket\\n"                                                                         \
	"s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\\n"                             \
	"socket.create_connection(s.getsockname(), 2)\\n"                                          \
	"try:\\n socket.create_connection(('203.0.113.1', 80), 2); print('out')\\n"                \
	"except OSError as e: print('refused')"

struct th_daemon *bc_daemon;

/* Call method with a JSON request; the reply as JSON (NULL on a non-OK
 * status, which is stored in *ret_status). */
json_t *bc_call(const char *method, int *ret_status, const char *fmt, ...)
{
	struct th_rep r;
	va_list ap;

	va_start(ap, fmt);
	r = th_vrpc(bc_daemon->rpc, 60000, method, fmt, ap);
	va_end(ap);
	*ret_status = r.status;
	if (r.status >= 0 && r.status != SBX_OK)
		fprintf(stderr, "%s: %s\n", method, r.msg);
	return r.j;
}

const char *bc_s(json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));

	return s ? s : "";
}

long long bc_i(json_t *j, const char *k)
{
	return json_integer_value(json_object_get(j, k));
}

/* Run a request (RPC Run or Execute) and check status and exit code. */
json_t *bc_expect(const char *method, const char *status, int exit_code, const char *req)
{
	int st;
	json_t *j = bc_call(method, &st, "%s", req);

	CHECKF(st == SBX_OK && j, "%s %s: RPC status %d", method, req, st);
	if (!j)
		return NULL;
	CHECKF(strcmp(bc_s(j, "status"), status) == 0, "%s: status %s, want %s (%s; stderr %.200s)",
	       req, bc_s(j, "status"), status, bc_s(j, "error"), bc_s(j, "stderr"));
	if (exit_code != -999)
		CHECKF(bc_i(j, "exit_code") == exit_code, "%s: exit code %lld, want %d", req,
		       bc_i(j, "exit_code"), exit_code);
	return j;
}

#define OK "EXEC_STATUS_OK"

void bc_check_run(void)
{
	json_t *j;

	j = bc_expect("Run", OK, 0, "{\"argv\": [\"echo\", \"hello\"]}");
	CHECK_STR(bc_s(j, "stdout"), "hello\n");
	json_decref(j);

	j = bc_expect("Run", "EXEC_STATUS_RUNTIME_ERROR", 3,
		      "{\"argv\": [\"sh\", \"-c\", \"echo err >&2; exit 3\"]}");
	CHECK_STR(bc_s(j, "stderr"), "err\n");
	json_decref(j);

	j = bc_expect("Run", OK, 0, "{\"argv\": [\"cat\"], \"stdin\": \"line 1\\nline 2\\n\"}");
	CHECK_STR(bc_s(j, "stdout"), "line 1\nline 2\n");
	json_decref(j);

	j = bc_expect(
		"Run", OK, 0,
		"{\"argv\": [\"sh\", \"-c\", \"echo $GREETING-$HOME\"], \"env\": {\"GREETING\": "
		"\"hi\"}}");
	CHECK_STR(bc_s(j, "stdout"), "hi-/tmp\n");
	json_decref(j);

	j = bc_expect("Run", OK, 0,
		      "{\"argv\": [\"sh\", \"-c\", \"pwd; cat sub/a.txt; ./x.sh\"], \"cwd\": "
		      "\"/workspace\", "
		      "\"files\": [{\"path\": \"sub/a.txt\", \"content\": \"A\\n\"}, "
		      "{\"path\": \"x.sh\", \"content\": \"#!/bin/sh\\necho X\\n\", "
		      "\"is_executable\": true}]}");
	CHECK_STR(bc_s(j, "stdout"), "/workspace\nA\nX\n");
	json_decref(j);

	j = bc_expect("Run", "EXEC_STATUS_RUNTIME_ERROR", 127, "{\"argv\": [\"no-such-program\"]}");
	json_decref(j);

	/* Non-root, no capabilities, read-only root, writable /tmp and workspace. */
	j = bc_expect("Run", "EXEC_STATUS_RUNTIME_ERROR", 1,
		      "{\"argv\": [\"sh\", \"-c\", \"id -u; grep CapEff /proc/self/status; touch "
		      "/tmp/t /workspace/w && "
		      "echo writable; touch /etc/x\"]}");
	CHECKF(strstr(bc_s(j, "stdout"), "1000\nCapEff:\t0000000000000000\nwritable\n") != NULL,
	       "%s", bc_s(j, "stdout"));
	CHECKF(strstr(bc_s(j, "stderr"), "Read-only file system") != NULL, "%s", bc_s(j, "stderr"));
	json_decref(j);

	/* No network: only loopback. */
	j = bc_expect("Run", "EXEC_STATUS_RUNTIME_ERROR", 1,
		      "{\"argv\": [\"python3\", \"-c\", \"import socket; "
		      "socket.create_connection(('203.0.113.1', 53), 2)\"]}");
	CHECKF(strstr(bc_s(j, "stderr"), "unreachable") != NULL ||
		       strstr(bc_s(j, "stderr"), "OSError") != NULL,
	       "%s", bc_s(j, "stderr"));
	json_decref(j);
}

void bc_check_execute(void)
{
	json_t *j;

	j = bc_expect("Execute", OK, 0,
		      "{\"language\": \"python\", \"code\": \"import sys; print(sum(range(10)), "
		      "sys.stdin.read())\", \"stdin\": \"in\"}");
	CHECK_STR(bc_s(j, "stdout"), "45 in\n");
	json_decref(j);
	j = bc_expect("Execute", OK, 0,
		      "{\"language\": \"node\", \"code\": \"console.log([1,2,3].map(x => x * "
		      "2).join(','))\"}");
	CHECK_STR(bc_s(j, "stdout"), "2,4,6\n");
	json_decref(j);
	j = bc_expect("Execute", OK, 0, "{\"language\": \"bash\", \"code\": \"echo $((6 * 7))\"}");
	CHECK_STR(bc_s(j, "stdout"), "42\n");
	json_decref(j);
}

void bc_check_limits(void)
{
	long long t0 = sbx_clock_mono_ms();
	json_t *j;

	j = bc_expect("Run", "EXEC_STATUS_WALL_TIME_LIMIT", -999,
		      "{\"argv\": [\"sh\", \"-c\", \"echo before; sleep 30\"], \"limits\": "
		      "{\"wall_time_ms\": 1000}}");
	CHECK_STR(bc_s(j, "stdout"), "before\n");
	CHECKF(sbx_clock_mono_ms() - t0 < 10000, "the wall limit took %lld ms",
	       sbx_clock_mono_ms() - t0);
	json_decref(j);

	/* A wall limit far above the CPU limit: gVisor on a loaded host may
	 * get a third of a core, and the CPU limit is what is tested. */
	j = bc_expect("Run", "EXEC_STATUS_TIME_LIMIT", -999,
		      "{\"argv\": [\"python3\", \"-c\", \"while True: pass\"], \"limits\": "
		      "{\"cpu_time_ms\": 1000, \"wall_time_ms\": 20000}}");
	json_decref(j);

	j = bc_expect(
		"Run", "EXEC_STATUS_MEMORY_LIMIT", -999,
		"{\"argv\": [\"python3\", \"-c\", \"x = bytearray(256 << 20); print(len(x))\"], "
		"\"limits\": {\"memory_kb\": 65536}}");
	json_decref(j);

	j = bc_expect("Run", "EXEC_STATUS_OUTPUT_LIMIT", -999,
		      "{\"argv\": [\"python3\", \"-c\", \"print('x' * 100000)\"], \"limits\": "
		      "{\"output_bytes\": 1000}}");
	CHECK_INT(strlen(bc_s(j, "stdout")), 1000);
	CHECK(json_is_true(json_object_get(j, "stdout_truncated")));
	json_decref(j);

	/* Endless output is cut off, not collected. */
	j = bc_expect("Run", "EXEC_STATUS_OUTPUT_LIMIT", -999,
		      "{\"argv\": [\"yes\"], \"limits\": {\"output_bytes\": 4096}}");
	json_decref(j);

	j = bc_expect("Run", "EXEC_STATUS_SIGNALED", -999,
		      "{\"argv\": [\"sh\", \"-c\", \"head -c 1000000 /dev/zero > /tmp/f\"], "
		      "\"limits\": {\"fsize_kb\": 100}}");
	json_decref(j);

	/* The pids limit: the shell's fifth fork fails. */
	j = bc_expect("Run", "EXEC_STATUS_RUNTIME_ERROR", -999,
		      "{\"argv\": [\"sh\", \"-c\", \"for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & "
		      "done; wait\"], "
		      "\"limits\": {\"pids\": 4}}");
	CHECKF(strstr(bc_s(j, "stderr"), "fork") != NULL, "%s", bc_s(j, "stderr"));
	json_decref(j);
}

void bc_check_session(void)
{
	char id[64] = "";
	json_t *j;
	int st;

	j = bc_call("CreateSession", &st, "{}");
	CHECK(st == SBX_OK && j);
	snprintf(id, sizeof(id), "%s", bc_s(j, "session_id"));
	json_decref(j);
	if (!id[0])
		return;
	j = bc_call(
		"SessionRun", &st,
		"{\"session_id\": \"%s\", \"command\": [\"sh\", \"-c\", \"echo kept > f; echo t > "
		"/tmp/t\"]}",
		id);
	CHECK(st == SBX_OK);
	json_decref(j);
	j = bc_call("SessionRun", &st,
		    "{\"session_id\": \"%s\", \"command\": [\"cat\", \"f\", \"/tmp/t\"]}", id);
	CHECK(st == SBX_OK && j);
	CHECK_STR(bc_s(j, "stdout"), "kept\nt\n");
	json_decref(j);
	json_decref(bc_call("DeleteSession", &st, "{\"session_id\": \"%s\"}", id));
}

/* What the runner backends (nsjail, gvisor) must report as native does:
 * CPU time, peak memory and wall time; rlimits exact; a real SIGSEGV. */
void bc_check_accounting(void)
{
	json_t *j = bc_expect("Run", "EXEC_STATUS_OK", 0,
			      "{\"argv\": [\"python3\", \"-c\", \"x = bytearray(32 << 20); "
			      "n = 0\\nfor i in range(3000000): n += i\\nprint(n > 0)\"]}");

	CHECK_STR(bc_s(j, "stdout"), "True\n");
	fprintf(stderr, "accounting: cpu_time_ms %lld, memory_peak_kb %lld, wall_time_ms %lld\n",
		bc_i(j, "cpu_time_ms"), bc_i(j, "memory_peak_kb"), bc_i(j, "wall_time_ms"));
	CHECKF(bc_i(j, "cpu_time_ms") > 50, "cpu_time_ms %lld", bc_i(j, "cpu_time_ms"));
	CHECKF(bc_i(j, "memory_peak_kb") >= 32 * 1024, "memory_peak_kb %lld",
	       bc_i(j, "memory_peak_kb"));
	CHECKF(bc_i(j, "wall_time_ms") > 0, "wall_time_ms %lld", bc_i(j, "wall_time_ms"));
	json_decref(j);

	j = bc_expect("Run", "EXEC_STATUS_SIGNALED", -999,
		      "{\"argv\": [\"python3\", \"-c\", \"import ctypes; ctypes.string_at(0)\"]}");
	CHECK_INT(bc_i(j, "signal"), 11);
	json_decref(j);
}

void bc_check_exact_rlimits(void)
{
	/* Not rounded to nsjail's MiB; a small nofile does not stop the
	 * runner itself. */
	json_t *j = bc_expect("Run", "EXEC_STATUS_OK", 0,
			      "{\"argv\": [\"sh\", \"-c\", \"ulimit -n; ulimit -s; ulimit -f\"], "
			      "\"limits\": {\"nofile\": 5, \"stack_kb\": 300, \"fsize_kb\": 100}}");

	CHECK_STR(bc_s(j, "stdout"), "5\n300\n200\n");
	json_decref(j);
}

bool bc_backend_up(const char *backend, const char *const args[])
{
	int st = 0;
	json_t *h;

	CHECK(th_daemon_start(bc_daemon, args) > 0);
	h = bc_call("Health", &st, "{}");
	CHECKF(h && strncmp(bc_s(h, "backend"), backend, strlen(backend)) == 0, "backend %s",
	       h ? bc_s(h, "backend") : "?");
	json_decref(h);
	if (!h)
		th_daemon_fini(bc_daemon);
	return h != NULL;
}

void bc_check_containment(bool ask_network)
{
	long long t0 = sbx_clock_mono_ms();
	json_t *j;

	/* The wall limit kills the tree: a background child that outlives
	 * the shell would keep stdout open (and the run alive) otherwise. */
	j = bc_expect("Run", "EXEC_STATUS_WALL_TIME_LIMIT", -999,
		      "{\"argv\": [\"sh\", \"-c\", \"(sleep 60; echo late) & (sleep 60) & "
		      "echo started; sleep 60\"], \"limits\": {\"wall_time_ms\": 1000}}");
	CHECK_STR(bc_s(j, "stdout"), "started\n");
	CHECKF(sbx_clock_mono_ms() - t0 < 6000, "the kill took %lld ms", sbx_clock_mono_ms() - t0);
	json_decref(j);

	/* The root is native's view: no /etc/shadow, our passwd. */
	j = bc_expect("Run", "EXEC_STATUS_OK", 0,
		      "{\"argv\": [\"sh\", \"-c\", \"cat /etc/shadow 2>/dev/null || echo no "
		      "shadow; id -un\"]}");
	CHECK_STR(bc_s(j, "stdout"), "no shadow\nsandbox\n");
	json_decref(j);

	/* Only loopback: 127.0.0.1 works, a documentation address is
	 * unreachable. */
	j = bc_expect("Run", "EXEC_STATUS_OK", 0,
		      "{\"argv\": [\"python3\", \"-c\", \"" LOOPBACK_ONLY "\"]}");
	CHECK_STR(bc_s(j, "stdout"), "refused\n");
	json_decref(j);
	/* Asking for the network is refused before any backend runs: these
	 * backends only run with NETWORK_MODE=none. */
	if (ask_network) {
		int st;
		j = bc_call("Run", &st, "{\"argv\": [\"true\"], \"network\": true}");
		CHECKF(st == SBX_INVALID_ARGUMENT, "network: RPC status %d", st);
		json_decref(j);
	}
}
