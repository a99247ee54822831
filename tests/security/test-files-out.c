/* Files out against a hostile workspace, through the real sandboxd and
 * sandbox-gateway: code run IN a session's sandbox plants symlinks to
 * /etc/shadow and to the daemon's state dir, a symlink as a middle
 * directory, a relative link climbing out, a hard link, a FIFO, a socket
 * and a directory named like a file; then it swaps a file and a symlink to
 * a host secret under one name, and a directory and a symlink to a host
 * directory under another, in a loop, while this test downloads both names
 * as fast as it can. Every answer must be the workspace's own bytes or an
 * error: never a byte of the host, never a hang. */
#include <fcntl.h>
#include <pthread.h>
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

#define SECRET "HOST-SECRET-2c9f1e"
#define RACE_S 4

static struct th_stack st;
static char sid[64], host_dir[400];

/* POST /sessions/{sid}/run with a /bin/sh -c script; the reply body
 * (caller frees). */
static char *run(const char *script, long timeout_ms)
{
	struct th_resp r = {0};
	char path[128], *body, *out;
	json_t *req =
		json_pack("{s:[s,s,s],s:i}", "command", "/bin/sh", "-c", script, "time", 20000);

	snprintf(path, sizeof(path), "/sessions/%s/run", sid);
	body = req ? json_dumps(req, 0) : NULL;
	json_decref(req);
	if (!body)
		return NULL;
	th_http(st.base, "POST", path, body, NULL, timeout_ms, &r);
	CHECKF(r.status == 200, "run: %ld %s", r.status, r.body);
	out = strdup(r.body);
	th_resp_fini(&r);
	free(body);
	return out;
}

/* GET the session's file `rel`: the status; a 200 body must not hold a
 * host byte we know of. */
static long get(const char *rel, struct th_resp *r)
{
	char path[512];

	snprintf(path, sizeof(path), "/sessions/%s/files/%s", sid, rel);
	th_http(st.base, "GET", path, NULL, NULL, 15000, r);
	if (r->status == 200) {
		CHECKF(!strstr(r->body, SECRET), "GET %s: the host's secret", rel);
		CHECKF(strncmp(r->body, "root:", 5) != 0, "GET %s: /etc/passwd or shadow", rel);
		CHECKF(strncmp(r->body, "SQLite format", 13) != 0, "GET %s: the state store", rel);
	}
	return r->status;
}

static void expect_refused(const char *rel, long status, const char *says)
{
	struct th_resp r = {0};
	int64_t t0 = sbx_clock_mono_ms();
	long got = get(rel, &r);

	CHECKF(got == status && strstr(r.body, says), "GET %s: %ld %s (wanted %ld '%s')", rel, got,
	       r.body, status, says);
	CHECKF(sbx_clock_mono_ms() - t0 < 5000, "GET %s took %lld ms", rel,
	       (long long)(sbx_clock_mono_ms() - t0));
	th_resp_fini(&r);
}

static void planted(void)
{
	char script[2048], *out;

	/* The state dir's path means nothing inside the sandbox: the link is
	 * aimed at the daemon, which resolves names on the host. */
	snprintf(script, sizeof(script),
		 "set -e; ln -s /etc/shadow shadow; ln -s %s state; ln -s /etc mid; "
		 "ln -s ../../../../../../../../etc up; ln -s %s hostdir; "
		 "echo mine > a; ln a hard; mkfifo fifo; mkdir looks.txt; "
		 "python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"sock\")'; "
		 "echo planted",
		 st.state, host_dir);
	out = run(script, 60000);
	CHECKF(out && strstr(out, "planted"), "plant: %s", out ? out : "(none)");
	free(out);

	expect_refused("shadow", 400, "symbolic link");
	expect_refused("state/sandboxd.db", 400, "symbolic link");
	expect_refused("state", 400, "symbolic link");
	expect_refused("mid/shadow", 400, "symbolic link");
	expect_refused("mid/passwd", 400, "symbolic link");
	expect_refused("up/passwd", 400, "symbolic link");
	expect_refused("hostdir/f", 400, "symbolic link");
	expect_refused("hard", 400, "hard links");
	expect_refused("a", 400, "hard links"); /* the other name of the same inode */
	expect_refused("fifo", 400, "fifo");
	expect_refused("sock", 400, "not a regular file");
	expect_refused("looks.txt", 400, "is a directory");

	/* Listing shows the links as links and enters none of them. */
	{
		struct th_resp r = {0};
		char path[128];

		snprintf(path, sizeof(path), "/sessions/%s/files", sid);
		th_http(st.base, "GET", path, NULL, NULL, 15000, &r);
		CHECKF(r.status == 200, "list: %ld %s", r.status, r.body);
		CHECK(strstr(r.body, "\"path\":\"shadow\",\"type\":\"symlink\""));
		CHECK(strstr(r.body, "\"path\":\"mid\",\"type\":\"symlink\""));
		CHECK(!strstr(r.body, "\"mid/") && !strstr(r.body, "\"state/") &&
		      !strstr(r.body, "\"hostdir/") && !strstr(r.body, "sandboxd.db"));
		th_resp_fini(&r);
		snprintf(path, sizeof(path), "/sessions/%s/files?path=mid", sid);
		th_expect_error(st.base, "GET", path, NULL, 400, "symbolic link");
		snprintf(path, sizeof(path), "/sessions/%s/files?path=state", sid);
		th_expect_error(st.base, "GET", path, NULL, 400, "symbolic link");
	}
}

/* The swapper, in the sandbox: `swap` is a file holding "WORKSPACE\n" or
 * a symlink to the host secret, replaced atomically (rename) each time;
 * `dir` is a real directory holding f ("WORKSPACE\n"), nothing, or a
 * symlink to the host directory that holds a file f with the secret. */
static void *swapper(void *arg)
{
	char script[2048], *out;

	(void)arg;
	snprintf(script, sizeof(script),
		 "exec python3 -c '\n"
		 "import os, time\n"
		 "os.mkdir(\"real\"); open(\"real/f\", \"w\").write(\"WORKSPACE\\n\")\n"
		 "os.symlink(\"%s\", \"link\")\n"
		 "open(\"swap\", \"w\").write(\"WORKSPACE\\n\")\n"
		 "end = time.monotonic() + %d; n = 0\n"
		 "while time.monotonic() < end:\n"
		 "    os.rename(\"real\", \"dir\")\n"
		 "    open(\"swap.f\", \"w\").write(\"WORKSPACE\\n\")\n"
		 "    os.rename(\"swap.f\", \"swap\")\n"
		 "    os.rename(\"dir\", \"real\"); os.rename(\"link\", \"dir\")\n"
		 "    os.symlink(\"%s/f\", \"swap.l\")\n"
		 "    os.rename(\"swap.l\", \"swap\")\n"
		 "    os.rename(\"dir\", \"link\")\n"
		 "    n += 1\n"
		 "print(\"swaps\", n)\n'",
		 host_dir, RACE_S, host_dir);
	out = run(script, 60000);
	CHECKF(out && strstr(out, "swaps"), "swapper: %s", out ? out : "(none)");
	printf("  swapper: %.200s\n", out ? out : "");
	free(out);
	return NULL;
}

static void race(void)
{
	pthread_t t;
	unsigned ok[2] = {0}, refused[2] = {0}, other = 0;
	int64_t end;
	struct th_resp r = {0};

	CHECK(pthread_create(&t, NULL, swapper, NULL) == 0);
	/* Wait for the swapper to begin. */
	end = sbx_clock_mono_ms() + 30000;
	while (sbx_clock_mono_ms() < end && get("swap", &r) == 404) {
		th_resp_fini(&r);
		th_sleep_ms(20);
	}
	th_resp_fini(&r);
	end = sbx_clock_mono_ms() + (RACE_S - 1) * 1000;
	while (sbx_clock_mono_ms() < end) {
		for (int k = 0; k < 2; k++) {
			long s = get(k ? "dir/f" : "swap", &r);

			if (s == 200) {
				CHECKF(strcmp(r.body, "WORKSPACE\n") == 0, "%s: '%.80s'",
				       k ? "dir/f" : "swap", r.body);
				ok[k]++;
			} else if (s == 400 || s == 404) {
				refused[k]++;
			} else {
				other++;
				CHECKF(false, "%s: %ld %s", k ? "dir/f" : "swap", s, r.body);
			}
			th_resp_fini(&r);
		}
	}
	pthread_join(t, NULL);
	printf("  swap: %u workspace bytes, %u refused; dir/f: %u workspace bytes, %u refused; "
	       "%u other\n",
	       ok[0], refused[0], ok[1], refused[1], other);
	/* Both sides of the race were seen: the test raced. */
	CHECK(ok[0] > 0 && refused[0] > 0);
	CHECK(ok[1] > 0 && refused[1] > 0);
}

int main(void)
{
	struct th_resp r = {0};
	char p[512];
	json_t *j;
	int fd;

	th_require_sandboxes();
	if (th_stack_start(&st, "files-sec", NULL) < 0)
		TEST_DONE();
	/* The host's secret: a directory and file the daemon (root) could
	 * read if it followed a link there. */
	snprintf(host_dir, sizeof(host_dir), "%s/host-secret", st.dir);
	CHECK(mkdir(host_dir, 0700) == 0);
	snprintf(p, sizeof(p), "%s/f", host_dir);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, SECRET "\n", sizeof(SECRET)) == (ssize_t)sizeof(SECRET));
	close(fd);

	th_http(st.base, "POST", "/sessions", "{}", NULL, 0, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && j, "session: %ld %s", r.status, r.body);
	snprintf(sid, sizeof(sid), "%s", j ? th_str(j, "session_id") : "");
	json_decref(j);
	th_resp_fini(&r);

	planted();
	race();
	th_stack_stop(&st);
	TEST_DONE();
}
