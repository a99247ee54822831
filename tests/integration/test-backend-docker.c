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

	bc_daemon = &d;
	if (th_daemon_init(&d, "sbx-docker") < 0)
		SKIP("no temporary directory");
	if (!bc_backend_up("docker", args))
		return tl_done();
	bc_check_run();
	bc_check_execute();
	bc_check_limits();
	bc_check_session();

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
