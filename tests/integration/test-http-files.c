/* Files out through the real sandboxd and sandbox-gateway: a sandbox's
 * workspace (upload, then files its code wrote) listed and downloaded,
 * content types and lengths, binary bytes, HEAD, the bounds (download cap:
 * 409; listing: truncated), 404 and 400 cases, and a session's files;
 * sandboxctl download against the same daemon. The traps a sandbox can
 * plant are tests/security/test-files-out.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

#define LIST_SHAPE "files:a truncated:b note:s skipped:i"
#define ENTRY_SHAPE "path:s type:s size:i mode:i modified_at:s target:s"

static struct th_stack st;

/* GET path: 200 with these bytes and this Content-Type. */
static void expect_file(const char *path, const char *bytes, size_t len, const char *type)
{
	struct th_resp r = {0};
	char ct[128], cl[32], ns[32];

	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	CHECKF(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
	CHECKF(r.len == len && memcmp(r.body, bytes, len) == 0, "GET %s: %zu bytes '%.60s'", path,
	       r.len, r.body);
	CHECKF(th_header(&r, "Content-Type", ct, sizeof(ct)) && strcmp(ct, type) == 0,
	       "GET %s: Content-Type '%s', wanted '%s'", path, ct, type);
	CHECK(th_header(&r, "Content-Length", cl, sizeof(cl)) && (size_t)atol(cl) == len);
	CHECK(th_header(&r, "X-Content-Type-Options", ns, sizeof(ns)) &&
	      strcmp(ns, "nosniff") == 0);
	th_resp_fini(&r);
}

/* GET path as a listing; the parsed reply (caller decrefs) or NULL. */
static json_t *list(const char *path)
{
	struct th_resp r = {0};
	json_t *j, *e;
	size_t i;
	char why[256];

	th_http(st.base, "GET", path, NULL, NULL, 0, &r);
	j = th_check_reply(&r, LIST_SHAPE);
	th_resp_fini(&r);
	json_array_foreach(j ? json_object_get(j, "files") : NULL, i, e) CHECKF(
		th_json_shape(e, ENTRY_SHAPE, why, sizeof(why)), "%s entry %zu: %s", path, i, why);
	return j;
}

static const json_t *entry(const json_t *l, const char *path)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(l, "files"), i,
			   e) if (strcmp(th_str(e, "path"), path) == 0) return e;
	return NULL;
}

static void sandbox_files(void)
{
	/* The code writes a JSON result, binary bytes and a file over the
	 * cap; one file is uploaded before it runs. */
	static const char create[] = "{\"runtime\":\"python\",\"code\":\"import os\\n"
				     "os.makedirs('out/deep', exist_ok=True)\\n"
				     "open('out/result.json','w').write('{\\\"answer\\\": 42}')\\n"
				     "open('out/deep/pic.png','wb').write(bytes(range(256)))\\n"
				     "open('out/big.txt','w').write('x' * 5000)\\n"
				     "os.symlink('/etc/shadow', 'out/shadow')\\n"
				     "print(open('data/in.csv').read())\\n\"}";
	struct th_resp r = {0};
	char id[64] = "", p[256], bin[256];
	json_t *j;
	const json_t *e;

	th_http(st.base, "POST", "/sandbox", create, NULL, 0, &r);
	j = th_json(&r);
	CHECKF(r.status == 200 && j, "create: %ld %s", r.status, r.body);
	if (j)
		snprintf(id, sizeof(id), "%s", th_str(j, "id"));
	json_decref(j);
	th_resp_fini(&r);
	/* Upload (sandbox-service's POST /sandbox/{id}/files) still works. */
	snprintf(p, sizeof(p), "/sandbox/%s/files", id);
	th_http(st.base, "POST", p, "[{\"path\":\"data/in.csv\",\"content\":\"a,b\\n1,2\\n\"}]",
		NULL, 0, &r);
	CHECKF(r.status == 200 && strstr(r.body, "Files uploaded successfully"), "upload: %ld %s",
	       r.status, r.body);
	th_resp_fini(&r);
	snprintf(p, sizeof(p), "/sandbox/%s/execute", id);
	th_http(st.base, "POST", p, NULL, NULL, 120000, &r);
	CHECKF(r.status == 200 && strstr(r.body, "\"success\":true"), "execute: %s", r.body);
	th_resp_fini(&r);

	/* The listing: everything, with types, sizes and modes. */
	snprintf(p, sizeof(p), "/sandbox/%s/files", id);
	j = list(p);
	CHECK((e = entry(j, "data/in.csv")) && json_integer_value(json_object_get(e, "size")) == 8);
	CHECK((e = entry(j, "data")) && strcmp(th_str(e, "type"), "directory") == 0);
	CHECK((e = entry(j, "out/deep/pic.png")) &&
	      json_integer_value(json_object_get(e, "size")) == 256 &&
	      json_integer_value(json_object_get(e, "mode")) == 0644);
	CHECK((e = entry(j, "out/shadow")) && strcmp(th_str(e, "type"), "symlink") == 0 &&
	      strcmp(th_str(e, "target"), "/etc/shadow") == 0);
	CHECK(j && !json_is_true(json_object_get(j, "truncated")));
	json_decref(j);
	/* A subdirectory, one level. */
	snprintf(p, sizeof(p), "/sandbox/%s/files?path=out&max_depth=1", id);
	j = list(p);
	CHECK(entry(j, "out/deep") && !entry(j, "out/deep/pic.png") && !entry(j, "data"));
	CHECK(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);

	/* Downloads: bytes, types, lengths; percent-encoding in the path. */
	snprintf(p, sizeof(p), "/sandbox/%s/files/out/result.json", id);
	expect_file(p, "{\"answer\": 42}", 14, "application/json");
	snprintf(p, sizeof(p), "/sandbox/%s/files/data/in.csv", id);
	expect_file(p, "a,b\n1,2\n", 8, "text/csv; charset=utf-8");
	for (int i = 0; i < 256; i++)
		bin[i] = (char)i;
	snprintf(p, sizeof(p), "/sandbox/%s/files/out/deep/pic.png", id);
	expect_file(p, bin, 256, "image/png");
	snprintf(p, sizeof(p), "/sandbox/%s/files/out/%%64eep/pic.png", id);
	expect_file(p, bin, 256, "image/png");
	/* HEAD: the headers alone. */
	{
		struct th_req q = {.base = st.base, .method = "HEAD", .path = p};
		char cl[32];

		th_request(&q, &r);
		CHECKF(r.status == 200 && r.len == 0, "HEAD: %ld", r.status);
		CHECK(th_header(&r, "Content-Length", cl, sizeof(cl)) && atol(cl) == 256);
		th_resp_fini(&r);
	}

	/* Errors. */
	snprintf(p, sizeof(p), "/sandbox/%s/files/out/big.txt", id);
	th_expect_error(st.base, "GET", p, NULL, 409, "over the download limit of 4096 bytes");
	snprintf(p, sizeof(p), "/sandbox/%s/files/out/nope.txt", id);
	th_expect_error(st.base, "GET", p, NULL, 404, "not found");
	snprintf(p, sizeof(p), "/sandbox/%s/files/out/shadow", id);
	th_expect_error(st.base, "GET", p, NULL, 400, "symbolic link");
	snprintf(p, sizeof(p), "/sandbox/%s/files/out", id);
	th_expect_error(st.base, "GET", p, NULL, 400, "is a directory");
	snprintf(p, sizeof(p), "/sandbox/%s/files//etc/passwd", id);
	th_expect_error(st.base, "GET", p, NULL, 400, "absolute");
	snprintf(p, sizeof(p), "/sandbox/%s/files/out/%%00x", id);
	th_expect_error(st.base, "GET", p, NULL, 400, "percent-escape");
	snprintf(p, sizeof(p), "/sandbox/%s/files?path=../x", id);
	th_expect_error(st.base, "GET", p, NULL, 400, "'..'");
	snprintf(p, sizeof(p), "/sandbox/%s/files?path=out/result.json", id);
	th_expect_error(st.base, "GET", p, NULL, 400, "not a directory");
	{
		struct th_req q = {.base = st.base, .method = "GET", .path_as_is = true};

		snprintf(p, sizeof(p), "/sandbox/%s/files/out/../../x", id);
		q.path = p;
		th_request(&q, &r);
		th_check_error(&r, 400, "'..'");
		th_resp_fini(&r);
	}
	th_expect_error(st.base, "GET", "/sandbox/00000000-0000-4000-8000-000000000000/files", NULL,
			404, "not found");
	th_expect_error(st.base, "GET", "/sandbox/00000000-0000-4000-8000-000000000000/files/a.txt",
			NULL, 404, "not found");
	/* Another method on a file: 405. */
	snprintf(p, sizeof(p), "/sandbox/%s/files/out/result.json", id);
	th_expect_error(st.base, "DELETE", p, NULL, 405, NULL);

	/* sandboxctl against the same daemon. */
	{
		char *ctl = tl_bin("sandboxctl"), cmd[1400], out[512] = "";
		FILE *f;
		int rc;

		snprintf(cmd, sizeof(cmd),
			 "%s --rpc %s sandbox download %s out/result.json -o %s/got.json && cat "
			 "%s/got.json",
			 ctl, st.rpc, id, st.dir, st.dir);
		f = popen(cmd, "r");
		CHECK(f && fread(out, 1, sizeof(out) - 1, f) == 14);
		CHECK(f && pclose(f) == 0);
		CHECKF(strcmp(out, "{\"answer\": 42}") == 0, "sandboxctl download: %s", out);
		snprintf(cmd, sizeof(cmd), "%s --rpc %s sandbox download %s out/shadow 2>/dev/null",
			 ctl, st.rpc, id);
		rc = system(cmd);
		CHECKF(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "download of a link: %d", rc);
		free(ctl);
	}
}

static void session_files(void)
{
	struct th_resp r = {0};
	char id[64] = "", p[256];
	json_t *j;

	th_http(st.base, "POST", "/sessions", "{}", NULL, 0, &r);
	j = th_json(&r);
	if (j)
		snprintf(id, sizeof(id), "%s", th_str(j, "session_id"));
	json_decref(j);
	th_resp_fini(&r);
	snprintf(p, sizeof(p), "/sessions/%s/run", id);
	th_http(st.base, "POST", p,
		"{\"command\": [\"/bin/sh\", \"-c\", \"mkdir -p res && printf 'done\\\\n' > "
		"res/log.txt && echo ok\"]}",
		NULL, 60000, &r);
	CHECKF(r.status == 200 && strstr(r.body, "ok"), "session run: %ld %s", r.status, r.body);
	th_resp_fini(&r);
	snprintf(p, sizeof(p), "/sessions/%s/files", id);
	j = list(p);
	CHECK(entry(j, "res") && entry(j, "res/log.txt"));
	json_decref(j);
	snprintf(p, sizeof(p), "/sessions/%s/files/res/log.txt", id);
	expect_file(p, "done\n", 5, "text/plain; charset=utf-8");
	snprintf(p, sizeof(p), "/sessions/%s/files/res/none", id);
	th_expect_error(st.base, "GET", p, NULL, 404, "not found");
	/* A session's id is not a sandbox's, and the reverse. */
	snprintf(p, sizeof(p), "/sandbox/%s/files", id);
	th_expect_error(st.base, "GET", p, NULL, 404, "not found");
	th_expect_error(st.base, "GET", "/sessions/00000000-0000-4000-8000-000000000000/files",
			NULL, 404, "not found");
}

int main(void)
{
	static const char *const args[] = {"--files-download-max-bytes", "4096", NULL};

	th_require_sandboxes();
	if (th_stack_start(&st, "files", args) < 0)
		TEST_DONE();
	sandbox_files();
	session_files();
	th_stack_stop(&st);
	TEST_DONE();
}
