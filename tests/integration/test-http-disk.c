/* Disk limits (issue 11) through the real sandboxd and sandbox-gateway:
 * a session with disk_limit_mb 20 that writes 50 MB into /workspace, and
 * into its /tmp, gets "No space left on device" inside the sandbox while
 * another session writes on and the daemon keeps answering; a sandbox's
 * resources report its disk's used, limit and percentage; a deployment's
 * dependency installation is bounded too; a limit over the maximum is a
 * 400; deleting frees the image, its mount and its loop device; after a
 * restart (SIGTERM, then kill -9) the limit holds again and nothing of the
 * old daemon stays mounted or attached; and new objects are refused with
 * 507 while the state disk has less than MIN_FREE_DISK_MB free. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

#define RUN_SHAPE "stdout:s stderr:s exit_code:i signal:z node:s"

static struct th_stack st;

/* POST path body; the string `key` of a 200 reply in out ("" otherwise). */
static void create(const char *path, const char *body, const char *key, char *out, size_t len)
{
	struct th_resp r = {0};
	json_t *j;

	out[0] = '\0';
	th_http(st.base, "POST", path, body, NULL, 120000, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && j && json_is_string(json_object_get(j, key)),
	       "POST %s %s: %ld %s", path, body, r.status, r.body);
	if (r.status == 200 && j)
		snprintf(out, len, "%s", th_str(j, key));
	json_decref(j);
	th_resp_fini(&r);
}

/* Run `sh -c script` in session id; its stdout+stderr and exit code. */
static int session_sh(const char *id, const char *script, char *out, size_t len)
{
	struct th_resp r = {0};
	char path[160];
	/* OpenSandbox's default fsize (10 MB) would stop the writes first. */
	json_t *body = json_pack("{s:[s,s,s],s:i}", "command", "/bin/sh", "-c", script, "fsize",
				 102400),
	       *j;
	char *txt = json_dumps(body, 0);
	int code = -1;

	snprintf(path, sizeof(path), "/sessions/%s/run", id);
	th_http(st.base, "POST", path, txt, NULL, 120000, &r);
	j = th_check_reply(&r, RUN_SHAPE);
	out[0] = '\0';
	if (j) {
		snprintf(out, len, "%s%s", th_str(j, "stdout"), th_str(j, "stderr"));
		code = (int)json_integer_value(json_object_get(j, "exit_code"));
	}
	json_decref(j);
	json_decref(body);
	free(txt);
	th_resp_fini(&r);
	return code;
}

/* Writes 50 MB into dir; true when the sandbox was told the disk is
 * full. */
static bool write_50mb_fails(const char *id, const char *dir)
{
	char script[256], out[4096];
	int code;

	snprintf(script, sizeof(script),
		 "rm -f %s/fill; dd if=/dev/zero of=%s/fill bs=1M count=50 2>&1; r=$?; rm -f "
		 "%s/fill; exit $r",
		 dir, dir, dir);
	code = session_sh(id, script, out, sizeof(out));
	CHECKF(code != 0 && strstr(out, "No space left on device"),
	       "50 MB into %s of a 20 MB session: exit %d, %s", dir, code, out);
	return code != 0 && strstr(out, "No space left on device");
}

/* How many loop devices are backed by files below dir (sysfs); the files
 * in `which` (when not NULL, one per line, truncated to len). */
static int loops_under(const char *dir, char *which, size_t len)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	size_t dl = strlen(dir), used = 0;
	int n = 0;

	if (which && len)
		which[0] = '\0';
	while (d && (e = readdir(d))) {
		char path[300], buf[4200];
		ssize_t k;
		int fd;

		if (strncmp(e->d_name, "loop", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (k <= 0)
			continue;
		buf[k] = '\0';
		if (strncmp(buf, dir, dl) == 0) {
			n++;
			if (which && used < len)
				used += (size_t)snprintf(which + used, len - used, "%s", buf);
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* Whether `file` (a /proc/.../mountinfo) has a mount point below dir. */
static bool mounted_under(const char *file, const char *dir)
{
	FILE *f = fopen(file, "re");
	char line[4096];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		char mp[4096];

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 &&
		    strncmp(mp, dir, strlen(dir)) == 0)
			found = true;
	}
	if (f)
		fclose(f);
	return found;
}

/* With the daemon gone: no mount below the test's directory in the host's
 * namespace (this process's) and, once the kernel has torn down the
 * daemon's namespace and its sandboxes', no loop device on an image below
 * it (bounded wait: the teardown is asynchronous). */
static void check_nothing_left(const char *when)
{
	char which[1024];
	int n = -1;

	CHECKF(!mounted_under("/proc/self/mountinfo", st.dir), "%s: a mount below %s on the host",
	       when, st.dir);
	for (long long until = sbx_clock_mono_ms() + 10000; sbx_clock_mono_ms() < until;
	     th_sleep_ms(50))
		if ((n = loops_under(st.dir, which, sizeof(which))) == 0)
			break;
	CHECKF(n == 0, "%s: %d loop device(s) still backed by %s", when, n, which);
}

static void test_sessions(char *small, size_t len)
{
	char big[64], out[4096];

	create("/sessions", "{\"disk_limit_mb\": 20}", "session_id", small, len);
	create("/sessions", "{}", "session_id", big, sizeof(big));
	if (!*small || !*big)
		return;
	write_50mb_fails(small, "/workspace");
	/* Its /tmp is on the same volume. */
	write_50mb_fails(small, "/tmp");
	/* Within the limit is fine, and df shows the limit. */
	CHECKF(session_sh(small,
			  "dd if=/dev/zero of=/workspace/ok bs=1M count=5 2>/dev/null && df -k "
			  "/workspace | tail -1",
			  out, sizeof(out)) == 0,
	       "%s", out);
	/* Another session (the default 512 MB) writes its 50 MB. */
	CHECKF(session_sh(big, "dd if=/dev/zero of=/workspace/f bs=1M count=50 2>&1 && rm f", out,
			  sizeof(out)) == 0,
	       "the other session: %s", out);
	/* And the daemon answers. */
	struct th_resp r = {0};
	th_http(st.base, "GET", "/health", NULL, NULL, 0, &r);
	CHECK(r.status == 200);
	th_resp_fini(&r);
	snprintf(out, sizeof(out), "/sessions/%s", big);
	th_http(st.base, "DELETE", out, NULL, NULL, 0, &r);
	CHECK(r.status == 204);
	th_resp_fini(&r);
}

static void test_bad_limits(void)
{
	th_expect_error(st.base, "POST", "/sessions", "{\"disk_limit_mb\": 999999}", 400,
			"at most 4096");
	th_expect_error(st.base, "POST", "/sandbox",
			"{\"runtime\": \"shell\", \"code\": \"true\", \"disk_limit_mb\": 5000}",
			400, "at most 4096");
	th_expect_error(st.base, "POST", "/faas/deploy",
			"{\"runtime\": \"node\", \"code\": \"1\", \"disk_limit_mb\": 4097}", 400,
			"at most 4096");
	th_expect_error(st.base, "POST", "/sessions", "{\"disk_limit_mb\": 2}", 400, "at least 16");
	th_expect_error(st.base, "POST", "/sessions", "{\"disk_limit_mb\": \"big\"}", 400,
			"disk_limit_mb");
}

/* A sandbox that fills its 20 MB; its resources; delete frees it all. */
static void test_sandbox_resources(void)
{
	struct th_resp r = {0};
	char id[64], path[200], img[400];
	json_t *j, *disk;
	struct stat sb;

	create("/sandbox",
	       "{\"runtime\": \"shell\", \"disk_limit_mb\": 20, \"code\": \"dd if=/dev/zero "
	       "of=big bs=1M count=50 2>&1; true\"}",
	       "id", id, sizeof(id));
	if (!*id)
		return;
	snprintf(path, sizeof(path), "/sandbox/%s/execute", id);
	th_http(st.base, "POST", path, "{}", NULL, 120000, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && j && strstr(th_str(j, "stdout"), "No space left on device"),
	       "%ld %s", r.status, r.body);
	json_decref(j);

	/* An upload into the full workspace: 507, the sentence says why. */
	{
		size_t n = 1u << 20;
		char *body = malloc(n + 128), *p = body;

		p += sprintf(p, "[{\"path\": \"more.txt\", \"content\": \"");
		memset(p, 'x', n);
		strcpy(p + n, "\"}]");
		snprintf(path, sizeof(path), "/sandbox/%s/files", id);
		th_expect_error(st.base, "POST", path, body, 507, "workspace is full");
		free(body);
	}
	snprintf(path, sizeof(path), "/admin/api/sandboxes/%s/resources", id);
	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	j = th_json(&r);
	disk = j ? json_object_get(j, "disk") : NULL;
	CHECKF(r.status == 200 && disk, "%ld %s", r.status, r.body);
	if (disk) {
		double used = json_number_value(json_object_get(disk, "used"));
		double limit = json_number_value(json_object_get(disk, "limit"));
		double pct = json_number_value(json_object_get(disk, "percentage"));

		CHECKF(limit == 20.0, "limit %g", limit);
		CHECKF(used > 18.0 && used <= 20.0, "used %g", used);
		CHECKF(pct > 90.0 && pct <= 100.0 && pct > 100.0 * used / limit - 0.01 &&
			       pct < 100.0 * used / limit + 0.01,
		       "percentage %g of used %g, limit %g", pct, used, limit);
	}
	json_decref(j);

	/* Delete: the image, its mount and its loop device go. */
	snprintf(img, sizeof(img), "%s/sandboxes/%s", st.state, id);
	CHECK(loops_under(img, NULL, 0) == 1);
	snprintf(path, sizeof(path), "/sandbox/%s", id);
	th_http(st.base, "DELETE", path, NULL, NULL, 0, &r);
	CHECK(r.status == 204);
	th_resp_fini(&r);
	CHECKF(stat(img, &sb) < 0 && errno == ENOENT, "%s is still there", img);
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)st.daemon);
	CHECKF(!mounted_under(path, img), "%s is still mounted in the daemon", img);
	int n = -1;
	for (long long until = sbx_clock_mono_ms() + 10000; sbx_clock_mono_ms() < until;
	     th_sleep_ms(50))
		if ((n = loops_under(img, NULL, 0)) == 0)
			break;
	CHECKF(n == 0, "a loop device still backs the deleted %s", img);
}

/* The installation phase writes into the deployment's workspace: an npm
 * install script (no registry needed) that writes 50 MB fails. */
static void test_deployment_install(void)
{
	struct th_resp r = {0};
	char id[64], sid[64] = "", path[200];
	json_t *j;
	bool seen = false;

	create("/faas/deploy",
	       "{\"runtime\": \"node\", \"entry_point\": \"server.js\", \"disk_limit_mb\": 20, "
	       "\"code\": \"require('http').createServer((q, s) => s.end('hi')).listen(3000)\", "
	       "\"files\": [{\"path\": \"package.json\", \"content\": \"{\\\"name\\\": "
	       "\\\"fill\\\", "
	       "\\\"version\\\": \\\"1.0.0\\\", \\\"scripts\\\": {\\\"install\\\": \\\"dd "
	       "if=/dev/zero of=big bs=1M count=50\\\"}}\"}]}",
	       "deployment_id", id, sizeof(id));
	if (!*id)
		return;
	snprintf(path, sizeof(path), "/faas/deployments/%s", id);
	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	j = th_json(&r);
	if (j) {
		snprintf(sid, sizeof(sid), "%s", th_str(j, "sandbox_id"));
		CHECKF(strcmp(th_str(j, "status"), "Failed") == 0, "status %s",
		       th_str(j, "status"));
	}
	json_decref(j);
	/* The install's output, in its sandbox's live logs (a stream: read
	 * for a second). */
	snprintf(path, sizeof(path), "/admin/api/sandboxes/%s/logs?follow=true&lines=200", sid);
	for (long long until = sbx_clock_mono_ms() + 20000; !seen && sbx_clock_mono_ms() < until;
	     th_sleep_ms(200)) {
		th_http(st.base, "GET", path, NULL, NULL, 1000, &r);
		seen = strstr(r.body, "No space left on device") != NULL;
	}
	CHECKF(seen, "the install's 50 MB did not fail: %s", r.body);
	snprintf(path, sizeof(path), "/faas/deployments/%s", id);
	th_http(st.base, "DELETE", path, NULL, NULL, 0, &r);
	CHECK(r.status == 204);
	th_resp_fini(&r);
}

/* GET /faas/<id>/ answers "hi" (within 60 s: a restarted daemon starts
 * the service again). */
static bool faas_hi(const char *id)
{
	struct th_resp r = {0};
	char path[160];
	bool ok = false;

	snprintf(path, sizeof(path), "/faas/%s/", id);
	for (long long until = sbx_clock_mono_ms() + 60000; !ok && sbx_clock_mono_ms() < until;
	     th_sleep_ms(200)) {
		th_http(st.base, "GET", path, NULL, NULL, 10000, &r);
		ok = r.status == 200 && strcmp(r.body, "hi") == 0;
	}
	th_resp_fini(&r);
	return ok;
}

/* Stop sandboxd (SIGTERM or SIGKILL), check nothing stays mounted or
 * attached, start it again on the same state: the limit holds. A running
 * deployment `dep` comes back on its volume: after kill -9 its old
 * sandbox may still hold the old mount for a while, and the new daemon
 * must mount through that loop device, never attach the image twice. */
static void test_restart(const char *small, const char *dep, int sig)
{
	const char *dargs[] = {"--rpc",	      st.rpc,	"--events", st.events,
			       "--state-dir", st.state, NULL};
	const char *when = sig == SIGKILL ? "after kill -9" : "after SIGTERM";
	struct th_resp r = {0};
	char path[160], out[256];
	int status;

	CHECK(kill(st.daemon, sig) == 0);
	CHECK(th_wait(st.daemon, 20000, &status) == 0);
	check_nothing_left(when);
	/* What a crash between making an object's volume and saving it
	 * leaves: removed at the start. */
	char orphan[400], img[450];
	snprintf(orphan, sizeof(orphan), "%s/sessions/00000000-0000-4000-8000-00000000000%d",
		 st.state, sig);
	snprintf(img, sizeof(img), "%s/disk.img", orphan);
	CHECK(mkdir(orphan, 0711) == 0 && close(open(img, O_CREAT | O_WRONLY, 0600)) == 0);
	st.daemon = th_spawn("sandboxd", dargs, st.daemon_log);
	CHECK(st.daemon > 0);
	snprintf(path, sizeof(path), "/sessions/%s", small);
	for (long long until = sbx_clock_mono_ms() + 30000; sbx_clock_mono_ms() < until;
	     th_sleep_ms(100)) {
		th_http(st.base, "GET", path, NULL, NULL, 3000, &r);
		if (r.status == 200)
			break;
	}
	CHECKF(r.status == 200, "%s: the session is not back", when);
	th_resp_fini(&r);
	CHECKF(access(orphan, F_OK) < 0, "%s: %s is still there", when, orphan);
	/* Its files are kept, its limit holds. */
	CHECK(session_sh(small, "ls /workspace", out, sizeof(out)) == 0 && strstr(out, "ok"));
	CHECKF(write_50mb_fails(small, "/workspace"), "%s", when);
	CHECKF(faas_hi(dep), "%s: the deployment does not answer", when);
	/* One loop device per image, never two: the session's and the
	 * deployment's. */
	char which[1024];
	int n = loops_under(st.state, which, sizeof(which));
	CHECKF(n == 2, "%s: %d loop devices: %s", when, n, which);
}

/* A session made without disk limits (as before them: plain directories)
 * keeps working, unlimited, once they are on; new ones get a volume. */
static void test_legacy(void)
{
	const char *off[] = {"--disk-limit-mb", "0", NULL};
	const char *dargs[] = {"--rpc",	      st.rpc,	"--events", st.events,
			       "--state-dir", st.state, NULL};
	char old[64], fresh[64], path[160], out[1024];
	struct th_resp r = {0};

	if (th_stack_start(&st, "sbx-http-disk-legacy", off) < 0)
		return;
	th_expect_error(st.base, "POST", "/sessions", "{\"disk_limit_mb\": 20}", 400,
			"disk limits are off");
	create("/sessions", "{}", "session_id", old, sizeof(old));
	CHECK(*old && session_sh(old, "echo kept > /workspace/k", out, sizeof(out)) == 0);
	th_stop(st.daemon, SIGTERM, 15000);
	st.daemon = th_spawn("sandboxd", dargs, st.daemon_log);
	snprintf(path, sizeof(path), "/sessions/%s", old);
	for (long long until = sbx_clock_mono_ms() + 30000; sbx_clock_mono_ms() < until;
	     th_sleep_ms(100)) {
		th_http(st.base, "GET", path, NULL, NULL, 3000, &r);
		if (r.status == 200)
			break;
	}
	CHECKF(r.status == 200, "the old session is not back");
	th_resp_fini(&r);
	CHECKF(session_sh(old,
			  "cat /workspace/k && dd if=/dev/zero of=/workspace/f bs=1M count=30 "
			  "2>&1 && rm /workspace/f",
			  out, sizeof(out)) == 0 &&
		       strncmp(out, "kept\n", 5) == 0,
	       "the old session: %s", out);
	create("/sessions", "{\"disk_limit_mb\": 20}", "session_id", fresh, sizeof(fresh));
	CHECK(*fresh && write_50mb_fails(fresh, "/workspace"));
	th_stack_stop(&st);
}

/* MIN_FREE_DISK_MB above what the disk has: new objects get 507. */
static void test_507(void)
{
	struct th_stack full;
	const char *args[] = {"--min-free-disk-mb", "1000000000", NULL};

	if (th_stack_start(&full, "sbx-http-disk-full", args) < 0)
		return;
	th_expect_error(full.base, "POST", "/sessions", "{}", 507, "disk space");
	th_expect_error(full.base, "POST", "/sandbox",
			"{\"runtime\": \"shell\", \"code\": \"true\"}", 507, "disk space");
	th_expect_error(full.base, "POST", "/faas/deploy",
			"{\"runtime\": \"node\", \"code\": \"1\"}", 507, "disk space");
	/* The rest still works. */
	struct th_resp r = {0};
	th_http(full.base, "POST", "/run", "{\"command\": [\"/bin/echo\", \"hi\"]}", NULL, 0, &r);
	CHECKF(r.status == 200, "%ld %s", r.status, r.body);
	th_resp_fini(&r);
	th_stack_stop(&full);
}

int main(void)
{
	char small[64] = "", dep[64] = "";

	if (geteuid() != 0)
		SKIP("needs root (loop devices)");
	th_require_sandboxes();
	if (access("/dev/loop-control", R_OK | W_OK) < 0)
		SKIP("no loop devices: /dev/loop-control: %s", strerror(errno));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_stack_start(&st, "sbx-http-disk", NULL) == 0) {
		test_bad_limits();
		test_sessions(small, sizeof(small));
		test_sandbox_resources();
		test_deployment_install();
		create("/faas/deploy",
		       "{\"runtime\": \"node\", \"entry_point\": \"server.js\", \"disk_limit_mb\": "
		       "20, \"code\": \"require('http').createServer((q, s) => "
		       "s.end('hi')).listen(3000)\"}",
		       "deployment_id", dep, sizeof(dep));
		CHECK(*dep && faas_hi(dep));
		if (*small && *dep) {
			test_restart(small, dep, SIGTERM);
			test_restart(small, dep, SIGKILL);
		}
		th_stop(st.gw, SIGTERM, 10000);
		th_stop(st.daemon, SIGTERM, 15000);
		st.gw = st.daemon = 0;
		check_nothing_left("after the last stop");
	}
	th_stack_stop(&st);
	test_legacy();
	test_507();
	curl_global_cleanup();
	TEST_DONE();
}
