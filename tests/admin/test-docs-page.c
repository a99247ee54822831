/* GET /docs: swagger-ui (npm swagger-ui-dist, installed by the build into
 * build/share/sandboxd/swagger-ui) renders the real gateway's
 * /openapi.json in headless Chromium, offline (docs-page.mjs). Then the
 * viewer's file route over HTTP: types, ETag, and everything that must not
 * be served (traversal, hidden and unknown files, a symbolic link, a file
 * past the size cap, a FIFO), and /docs' 503 page where no viewer is
 * installed, on a second gateway whose --docs-dir the test fills. Skips
 * (77) only without Chromium or node. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"
#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

static struct th_stack st;

static void expect(const char *base, const char *path, long status, const char *type)
{
	struct th_resp r = {0};
	struct th_req q = {.base = base, .method = "GET", .path = path, .path_as_is = true};
	char buf[128];

	th_request(&q, &r);
	CHECKF(r.status == status, "GET %s: %ld, not %ld (%.200s)", path, r.status, status,
	       r.body ? r.body : "");
	if (type)
		CHECKF(th_header(&r, "Content-Type", buf, sizeof(buf)) &&
			       strncmp(buf, type, strlen(type)) == 0,
		       "GET %s: Content-Type %s, not %s", path, buf, type);
	th_resp_fini(&r);
}

/* The files of the real viewer, and revalidation by ETag. */
static void check_viewer_files(void)
{
	struct th_resp r = {0};
	char etag[128], inm[160];

	expect(st.base, "/docs/swagger-ui.css", 200, "text/css");
	expect(st.base, "/docs/favicon-32x32.png", 200, "image/png");
	expect(st.base, "/docs", 200, "text/html");
	expect(st.base, "/admin/assets/docs.js", 200, "text/javascript");
	expect(st.base, "/admin/assets/nothing.js", 404, "application/json");
	th_http(st.base, "GET", "/docs/swagger-ui-bundle.js", NULL, NULL, 10000, &r);
	CHECK_INT(r.status, 200);
	CHECK(r.len > 100000 && strstr(r.body, "SwaggerUIBundle"));
	CHECK(th_header(&r, "ETag", etag, sizeof(etag)) != NULL);
	th_resp_fini(&r);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	th_http(st.base, "GET", "/docs/swagger-ui-bundle.js", NULL, (const char *const[]){inm, NULL},
		10000, &r);
	CHECK_INT(r.status, 304);
	CHECK_INT(r.len, 0);
	th_resp_fini(&r);
	/* Outside the directory, hidden, of no served type, not there. */
	expect(st.base, "/docs/../openapi.json", 400, NULL);
	expect(st.base, "/docs/%2e%2e/bin/sandbox-gateway", 400, NULL);
	expect(st.base, "/docs/..%2fswagger-ui.css", 400, NULL);
	expect(st.base, "/docs/.swagger-ui.css", 404, "application/json");
	expect(st.base, "/docs/LICENSE", 404, "application/json");
	expect(st.base, "/docs/x%20y.js", 404, "application/json");
	expect(st.base, "/docs/missing.js", 404, "application/json");
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f && fputs(text, f) >= 0);
	if (f)
		fclose(f);
}

/* A second gateway on a directory of the test's making. */
static void check_own_dir(void)
{
	char dir[512], path[600], listen[64], base[64];
	int port = tl_free_port(), fd;
	pid_t gw;

	snprintf(dir, sizeof(dir), "%s/viewer", st.dir);
	CHECK(mkdir(dir, 0755) == 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	gw = th_spawn("sandbox-gateway",
		      (const char *const[]){"--listen", listen, "--rpc", st.rpc, "--events",
					    st.events, "--docs-dir", dir, "--threads", "2", NULL},
		      st.gw_log);
	CHECK(gw > 0 && th_wait_http(base, "/health", 200, 20000));

	/* No viewer: a page saying how to get it, and 503s. */
	expect(base, "/docs", 503, "text/html");
	expect(base, "/docs/swagger-ui.css", 503, "application/json");

	put(dir, "swagger-ui-bundle.js", "window.SwaggerUIBundle = () => {};\n");
	put(st.dir, "secret.js", "secret\n");
	snprintf(path, sizeof(path), "%s/link.js", dir);
	CHECK(symlink("../secret.js", path) == 0);
	snprintf(path, sizeof(path), "%s/big.js", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, (16 << 20) + 1) == 0);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/fifo.js", dir);
	CHECK(mkfifo(path, 0644) == 0);
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK(mkdir(path, 0755) == 0);
	put(path, "ok.json", "{}\n");

	expect(base, "/docs", 200, "text/html");
	expect(base, "/docs/swagger-ui-bundle.js", 200, "text/javascript");
	expect(base, "/docs/sub/ok.json", 200, "application/json");
	expect(base, "/docs/link.js", 404, "application/json");
	expect(base, "/docs/big.js", 404, "application/json");
	expect(base, "/docs/fifo.js", 404, "application/json");
	expect(base, "/docs/sub", 404, "application/json");
	if (gw > 0)
		th_stop(gw, SIGTERM, 10000);
}

int main(void)
{
	const char *out = getenv("SBX_TEST_OUT_DIR");
	char driver[1024];
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ta_require_driver("docs-page.mjs", driver, sizeof(driver));
	out = out ? out : "docs-page-output";
	if (th_stack_start(&st, "docs-page", NULL) < 0)
		TEST_DONE();
	/* The build installs the viewer (scripts/docs-viewer.sh); without it
	 * there is nothing to render, and the build said why. */
	expect(st.base, "/docs/swagger-ui-bundle.js", 200, "text/javascript");
	if (tl_failed) {
		printf("  the build did not install the viewer: see build/docs-viewer/npm.log\n");
		th_stack_stop(&st);
		TEST_DONE();
	}
	check_viewer_files();
	check_own_dir();
	rc = th_run_node(driver, (const char *const[]){st.base, out, NULL}, 75000);
	if (rc == 77) {
		th_stack_stop(&st);
		exit(77);
	}
	CHECKF(rc == 0, "the browser driver failed (exit %d)", rc);
	th_stack_stop(&st);
	TEST_DONE();
}
