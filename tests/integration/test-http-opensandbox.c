/* OpenSandbox's POST /run (opensandbox-README.md) against the real sandboxd
 * and sandbox-gateway: the README's curl examples as written and their
 * documented reply {stdout, stderr, exit_code, signal}, the "Configuration
 * Options" defaults, every kind of bad input, limits (CPU time, signal,
 * output cap), and 429 with Retry-After when all sandboxes are busy. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

#define OUTPUT_CAP 65536

static struct th_stack st;

/* POST /run body and compare the reply with `want` exactly (text), once
 * the node that ran it (an additive last key) is cut. */
static void run_exact(const char *body, const char *want)
{
	struct th_resp r = {0};
	char node[64];

	th_http(st.base, "POST", "/run", body, NULL, 0, &r);
	CHECKF(r.status == 200 && th_cut_node(&r, node, sizeof(node)) && strcmp(r.body, want) == 0,
	       "POST /run %s\n  got %ld %s\n want %s", body, r.status, r.body, want);
	th_resp_fini(&r);
}

static void run_error(const char *body, long status, const char *want)
{
	struct th_resp r = {0};

	th_http(st.base, "POST", "/run", body, NULL, 0, &r);
	if (!th_check_error(&r, status, want))
		printf("  (request was %s)\n", body);
	th_resp_fini(&r);
}

/* The README's examples, run as written. */
static void test_documented(void)
{
	char want[512], version[128] = "";
	FILE *f;

	/* Quick Start. */
	run_exact("{\"command\": [\"/bin/echo\", \"Hello from sandbox!\"]}",
		  "{\"stdout\":\"Hello from sandbox!\\n\",\"stderr\":\"\",\"exit_code\":0,"
		  "\"signal\":null}");
	/* The engine issue's "done when". */
	run_exact("{\"command\":[\"/bin/echo\",\"hi\"]}",
		  "{\"stdout\":\"hi\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");

	/* Stateless Execution: git --version with every limit at the README's
	 * value (mem 2097152 KiB = 2 GiB must be allowed). The reply names the
	 * host's git: the sandbox sees the host's /usr read-only. */
	f = popen("git --version 2>/dev/null", "r");
	if (f) {
		if (!fgets(version, sizeof(version), f))
			version[0] = '\0';
		pclose(f);
	}
	CHECKF(strncmp(version, "git version ", 12) == 0,
	       "git is not installed on this host (scripts/deps.sh installs it)");
	version[strcspn(version, "\n")] = '\0';
	snprintf(want, sizeof(want),
		 "{\"stdout\":\"%s\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}", version);
	run_exact("{\n"
		  "    \"command\": [\"git\", \"--version\"],\n"
		  "    \"time\": 5000,\n"
		  "    \"mem\": 2097152,\n"
		  "    \"fsize\": 10240,\n"
		  "    \"nofile\": 64\n"
		  "  }",
		  want);
}

/* Configuration Options: what a request leaves out takes the README's
 * defaults (time 5000 ms CPU, nofile 64, fsize 10240 KiB); env and cwd
 * are honoured; stdin is ours. */
static void test_defaults(void)
{
	run_exact("{\"command\": [\"/bin/sh\", \"-c\", \"ulimit -t; ulimit -n\"]}",
		  "{\"stdout\":\"5\\n64\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");
	/* dash reports the file size limit in 512-byte blocks. */
	run_exact("{\"command\": [\"/bin/sh\", \"-c\", \"ulimit -f\"]}",
		  "{\"stdout\":\"20480\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":null}");
	/* A request's own values win over the defaults. */
	run_exact("{\"command\": [\"/bin/sh\", \"-c\", \"ulimit -t; ulimit -n; ulimit -f\"],"
		  " \"time\": 2000, \"nofile\": 32, \"fsize\": 1024}",
		  "{\"stdout\":\"2\\n32\\n2048\\n\",\"stderr\":\"\",\"exit_code\":0,\"signal\":"
		  "null}");
	run_exact("{\"command\": [\"/bin/sh\", \"-c\", \"echo $MY_VAR; pwd; cat\"],"
		  " \"env\": {\"MY_VAR\": \"hello\"}, \"cwd\": \"/tmp\", \"stdin\": \"in\\n\"}",
		  "{\"stdout\":\"hello\\n/tmp\\nin\\n\",\"stderr\":\"\",\"exit_code\":0,"
		  "\"signal\":null}");
	/* Writing over fsize: SIGXFSZ (25) kills the writer. */
	run_exact(
		"{\"command\": [\"/bin/sh\", \"-c\", \"exec head -c 2000000 /dev/zero > /tmp/f\"],"
		" \"fsize\": 1024}",
		"{\"stdout\":\"\",\"stderr\":\"\",\"exit_code\":153,\"signal\":25}");
}

static void test_outcomes(void)
{
	struct th_resp r = {0};
	long long t0;
	json_t *j;

	run_exact("{\"command\": [\"/bin/sh\", \"-c\", \"echo out; echo err >&2; exit 3\"]}",
		  "{\"stdout\":\"out\\n\",\"stderr\":\"err\\n\",\"exit_code\":3,\"signal\":null}");
	/* Killed by a signal: `signal` is its number. */
	run_exact("{\"command\": [\"/bin/sh\", \"-c\", \"kill -9 $$\"]}",
		  "{\"stdout\":\"\",\"stderr\":\"\",\"exit_code\":137,\"signal\":9}");
	run_exact("{\"command\": [\"/bin/sh\", \"-c\", \"echo before; kill -TERM $$\"]}",
		  "{\"stdout\":\"before\\n\",\"stderr\":\"\",\"exit_code\":143,\"signal\":15}");

	/* CPU time over `time`: killed, partial output kept. */
	t0 = sbx_clock_mono_ms();
	th_http(st.base, "POST", "/run",
		"{\"command\": [\"/bin/sh\", \"-c\", \"echo started; while :; do :; done\"],"
		" \"time\": 300}",
		NULL, 0, &r);
	j = th_check_reply(&r, "stdout:s stderr:s exit_code:i signal:i node:s");
	if (j) {
		long long sig = json_integer_value(json_object_get(j, "signal"));

		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "started\n");
		CHECKF(sig == 9 || sig == 24, "signal %lld", sig);
		CHECK_INT(json_integer_value(json_object_get(j, "exit_code")), 128 + sig);
	}
	json_decref(j);
	CHECKF(sbx_clock_mono_ms() - t0 < 20000, "a 300 ms CPU limit took %lld ms",
	       sbx_clock_mono_ms() - t0);

	/* OpenSandbox has no wall-time field: a sleeper is still stopped, on
	 * the daemon's wall limit derived from `time`. */
	t0 = sbx_clock_mono_ms();
	run_exact("{\"command\": [\"/bin/sleep\", \"60\"], \"time\": 300}",
		  "{\"stdout\":\"\",\"stderr\":\"\",\"exit_code\":137,\"signal\":9}");
	CHECKF(sbx_clock_mono_ms() - t0 < 30000, "a sleeper ran %lld ms", sbx_clock_mono_ms() - t0);

	/* Output over the daemon's cap: the first OUTPUT_CAP bytes, the rest
	 * drained; the program itself ends normally. */
	th_http(st.base, "POST", "/run",
		"{\"command\": [\"/bin/sh\", \"-c\","
		" \"head -c 300000 /dev/zero | tr '\\\\0' a; echo done >&2\"]}",
		NULL, 0, &r);
	j = th_check_reply(&r, "stdout:s stderr:s exit_code:i signal:z node:s");
	if (j) {
		const char *out = json_string_value(json_object_get(j, "stdout"));

		CHECK_INT(strlen(out), OUTPUT_CAP);
		CHECK(strspn(out, "a") == OUTPUT_CAP);
		CHECK_STR(json_string_value(json_object_get(j, "stderr")), "done\n");
		CHECK_INT(json_integer_value(json_object_get(j, "exit_code")), 0);
	}
	json_decref(j);
	th_resp_fini(&r);
}

static void test_bad_input(void)
{
	struct th_resp r = {0};

	run_error("{\"command\": [\"/bin/echo\"", 400, "not valid JSON");
	run_error("[\"/bin/echo\"]", 400, NULL);
	run_error("{\"command\": \"/bin/echo hi\"}", 400, "'command'");
	run_error("{\"command\": [\"/bin/echo\", 5]}", 400, "'command'");
	run_error("{\"command\": [\"/bin/echo\"], \"time\": \"five seconds\"}", 400, "'time'");
	run_error("{\"command\": [\"/bin/echo\"], \"time\": true}", 400, "'time'");
	run_error("{\"command\": [\"/bin/echo\"], \"mem\": -1}", 400, "'mem'");
	run_error("{\"command\": [\"/bin/echo\"], \"env\": [\"A=1\"]}", 400, "'env'");
	run_error("{\"command\": [\"/bin/echo\"], \"cwd\": 7}", 400, "'cwd'");
	/* Missing or empty command; an empty body is {}. */
	run_error("{}", 400, "'command'");
	run_error("{\"command\": []}", 400, "'command'");
	th_http(st.base, "POST", "/run", NULL, NULL, 0, &r);
	th_check_error(&r, 400, "'command'");
	/* Limits over the daemon's maximum: its sentence, in the seed's names. */
	run_error("{\"command\": [\"/bin/true\"], \"mem\": 99999999999}", 400,
		  "limit 'mem' must be from 1 to ");
	run_error("{\"command\": [\"/bin/true\"], \"time\": 99999999999}", 400,
		  "limit 'time' must be from 1 to ");
	run_error("{\"command\": [\"/bin/true\"], \"nofile\": 0}", 400, "'nofile'");
	/* Only POST. */
	th_http(st.base, "GET", "/run", NULL, NULL, 0, &r);
	th_check_error(&r, 405, NULL);
	th_resp_fini(&r);
}

struct caller {
	pthread_t t;
	const char *base;
	long status;
	char retry_after[32];
	char body[256];
};

static void *call_slow(void *arg)
{
	struct caller *c = arg;
	struct th_resp r = {0};

	th_http(c->base, "POST", "/run", "{\"command\": [\"/bin/sleep\", \"2\"]}", NULL, 0, &r);
	c->status = r.status;
	if (!th_header(&r, "Retry-After", c->retry_after, sizeof(c->retry_after)))
		c->retry_after[0] = '\0';
	snprintf(c->body, sizeof(c->body), "%s", r.body);
	th_resp_fini(&r);
	return NULL;
}

/* One sandbox, no queue: of parallel slow requests some run (200), the
 * others are refused at once with 429 and a Retry-After in seconds. */
static void test_busy(void)
{
	const char *args[] = {"--max-concurrent", "1", "--max-queued", "0", NULL};
	struct caller c[6];
	struct th_stack busy;
	int n200 = 0, n429 = 0;

	if (th_stack_start(&busy, "sbx-http-busy", args) < 0)
		return;
	for (int i = 0; i < 6; i++) {
		c[i] = (struct caller){.base = busy.base};
		pthread_create(&c[i].t, NULL, call_slow, &c[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(c[i].t, NULL);
		if (c[i].status == 200) {
			n200++;
		} else if (c[i].status == 429) {
			n429++;
			CHECKF(atoi(c[i].retry_after) >= 1, "Retry-After '%s'", c[i].retry_after);
			CHECKF(strstr(c[i].body, "{\"error\":\"") == c[i].body, "%s", c[i].body);
		} else {
			CHECKF(false, "status %ld: %s", c[i].status, c[i].body);
		}
	}
	CHECKF(n200 >= 1 && n429 >= 1, "%d x 200, %d x 429", n200, n429);
	th_stack_stop(&busy);
}

int main(void)
{
	const char *args[] = {"--max-output-bytes", "65536", NULL};

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_stack_start(&st, "sbx-http-opensandbox", args) == 0) {
		test_documented();
		test_defaults();
		test_outcomes();
		test_bad_input();
		test_busy();
	}
	th_stack_stop(&st);
	curl_global_cleanup();
	TEST_DONE();
}
