/* The docker backend against a real Docker engine: the real sandboxd,
 * started with --backend docker, runs the shared run/execute/limit checks
 * over RPC (echo, exit code, stdin, env, files and cwd, languages, wall and
 * CPU time, memory, output cap, file size, pids, no network, read-only
 * root, non-root user, sessions), and leaves no container behind. Under
 * the engine's cgroupfs driver also CPU time and peak memory (the shared
 * accounting checks), and that no parent cgroup of the daemon's is left,
 * neither per execution nor at the end.
 *
 * Skips (exit 77, saying why) when no engine answers on the socket
 * (DOCKER_HOST or /var/run/docker.sock) or the image is missing
 * (SANDBOX_DOCKER_IMAGE, default sandboxd-runtime:latest; build it with
 * `make base-image`, scripts/runtime-image.sh). */
#include <curl/curl.h>
#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

#include "backend_cases.h"
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

/* Parent cgroups of daemon `pid` (pattern "" for its directory, "/e*"
 * for the executions' parents) in any hierarchy; each is printed. */
static size_t leftovers(pid_t pid, const char *pattern)
{
	static const char *const roots[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/*"};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		char pat[256];
		glob_t g;

		snprintf(pat, sizeof(pat), "%s/sandboxd-docker.%d%s", roots[i], (int)pid, pattern);
		if (glob(pat, GLOB_ONLYDIR, NULL, &g) != 0)
			continue;
		for (size_t k = 0; k < g.gl_pathc; k++)
			fprintf(stderr, "left behind: %s\n", g.gl_pathv[k]);
		n += g.gl_pathc;
		globfree(&g);
	}
	return n;
}

/* The rlimits reach the program; a nofile below runc's own need is raised
 * to 16 (docker.c), not a failure to start. */
static void check_rlimits(void)
{
	json_t *j = bc_expect("Run", "EXEC_STATUS_OK", 0,
			      "{\"argv\": [\"sh\", \"-c\", \"ulimit -n; ulimit -s; ulimit -f\"], "
			      "\"limits\": {\"nofile\": 5, \"stack_kb\": 300, \"fsize_kb\": 100}}");

	CHECK_STR(bc_s(j, "stdout"), "16\n300\n200\n");
	json_decref(j);
}

/* The engine's cgroup driver is cgroupfs: the one with accounting. */
static bool cgroupfs_driver(void)
{
	static char info[65536];
	json_t *j;
	bool yes;

	if (engine_get("/info", info, sizeof(info)) != 200)
		return false;
	j = json_loads(info, 0, NULL);
	yes = j && json_string_value(json_object_get(j, "CgroupDriver")) &&
	      strcmp(json_string_value(json_object_get(j, "CgroupDriver")), "cgroupfs") == 0;
	json_decref(j);
	return yes;
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
		SKIP("image %s is missing (make base-image builds it)", image);

	bc_daemon = &d;
	if (th_daemon_init(&d, "sbx-docker") < 0)
		SKIP("no temporary directory");
	if (!bc_backend_up("docker", args))
		return tl_done();
	bc_check_run();
	bc_check_execute();
	bc_check_limits();
	bc_check_session();
	check_rlimits();
	if (cgroupfs_driver()) {
		bc_check_accounting();
		CHECK_INT(leftovers(d.pid, "/e*"), 0);
	} else {
		fprintf(stderr, "the engine's cgroup driver is not cgroupfs: CPU time and peak "
				"memory are 0 by design; their checks are left out\n");
	}
	pid_t pid = d.pid;

	/* Every container was removed. */
	CHECK(engine_get("/containers/"
			 "json?all=1&filters=%7B%22label%22%3A%5B%22sandboxd.execution%22%5D%7D",
			 body, sizeof(body)) == 200);
	CHECKF(strcmp(body, "[]\n") == 0, "containers left behind: %.300s", body);

	st = th_daemon_stop(&d, 15000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %#x", st);
	CHECK_INT(leftovers(pid, ""), 0);
	th_daemon_fini(&d);
	curl_global_cleanup();
	TEST_DONE();
}
