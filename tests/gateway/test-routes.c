/* The router (gateway/router.c): pattern matching, parameters, wildcard,
 * 404 vs 405 and the Allow list, trailing slashes, percent-decoding, path
 * traversal; the table check; and the real route table. */
#include <errno.h>
#include <string.h>

#include "methods.h"
#include "router.h"
#include "routes.h"
#include "testlib.h"

static int dummy_handler(struct gw_server *srv, struct gw_request *req)
{
	return 0;
}

static const struct gw_route table[] = {
	GW_RPC("GET", "/health", "Health", NULL, 200),
	GW_RPC("GET", "/sandboxes", "ListSandboxes", NULL, 200),
	GW_RPC("POST", "/sandbox", "CreateSandbox", NULL, 201),
	GW_RPC("GET", "/sandbox/{id}", "GetSandbox", NULL, 200),
	GW_RPC("DELETE", "/sandbox/{id}", "DeleteSandbox", NULL, 204),
	GW_RPC("POST", "/sandbox/{id}/execute", "ExecuteSandbox", NULL, 200),
	GW_RPC("PUT", "/faas/deployments/{id}/files", "UpdateFiles", NULL, 200),
	GW_HANDLER("GET", "/faas/{id}/*", dummy_handler),
	GW_HANDLER("POST", "/faas/{id}/*", dummy_handler),
	GW_RPC("GET", "/sessions/{sid}/runs/{rid}", "GetRun", NULL, 200),
	GW_RPC("GET", "/", "Index", NULL, 200),
};
#define N (sizeof(table) / sizeof(table[0]))

static struct gw_match m;

static enum gw_match_result match(const char *method, const char *path)
{
	return gw_router_match(table, N, method, path, &m);
}

static void test_literal(void)
{
	CHECK_INT(match("GET", "/health"), GW_MATCH_OK);
	CHECK(m.route == &table[0]);
	CHECK_INT(m.n_params, 0);
	CHECK(m.rest == NULL);
	CHECK_INT(match("GET", "/"), GW_MATCH_OK);
	CHECK(m.route == &table[10]);
	CHECK_INT(match("GET", "/healthz"), GW_MATCH_NOT_FOUND);
	CHECK_INT(match("GET", "/health/x"), GW_MATCH_NOT_FOUND);
	CHECK_INT(match("GET", "/Health"), GW_MATCH_NOT_FOUND);
	CHECK_INT(match("GET", "/nothing"), GW_MATCH_NOT_FOUND);
	CHECK(m.route == NULL);
}

static void test_params(void)
{
	CHECK_INT(match("GET", "/sandbox/abc-123"), GW_MATCH_OK);
	CHECK(m.route == &table[3]);
	CHECK_INT(m.n_params, 1);
	CHECK_STR(m.params[0].name, "id");
	CHECK_STR(m.params[0].value, "abc-123");
	CHECK_STR(gw_match_param(&m, "id"), "abc-123");
	CHECK(gw_match_param(&m, "nope") == NULL);

	CHECK_INT(match("DELETE", "/sandbox/xyz"), GW_MATCH_OK);
	CHECK(m.route == &table[4]);
	CHECK_STR(gw_match_param(&m, "id"), "xyz");

	CHECK_INT(match("POST", "/sandbox/S1/execute"), GW_MATCH_OK);
	CHECK(m.route == &table[5]);
	CHECK_STR(gw_match_param(&m, "id"), "S1");

	CHECK_INT(match("GET", "/sessions/s-1/runs/r-2"), GW_MATCH_OK);
	CHECK_INT(m.n_params, 2);
	CHECK_STR(gw_match_param(&m, "sid"), "s-1");
	CHECK_STR(gw_match_param(&m, "rid"), "r-2");

	/* An empty segment is never a parameter: "/sandbox/" is "/sandbox". */
	CHECK_INT(match("GET", "/sandbox/"), GW_MATCH_BAD_METHOD);
	CHECK_STR(m.allow, "POST");
	CHECK_INT(match("POST", "/sandbox//execute"), GW_MATCH_NOT_FOUND);
	CHECK_INT(match("GET", "/sandbox/a/b"), GW_MATCH_NOT_FOUND);
}

static void test_wildcard(void)
{
	CHECK_INT(match("GET", "/faas/dep1/api/status"), GW_MATCH_OK);
	CHECK(m.route == &table[7]);
	CHECK_STR(gw_match_param(&m, "id"), "dep1");
	CHECK_STR(m.rest, "/api/status");

	CHECK_INT(match("GET", "/faas/dep1/"), GW_MATCH_OK);
	CHECK_STR(m.rest, "/");
	CHECK_INT(match("GET", "/faas/dep1"), GW_MATCH_OK);
	CHECK_STR(m.rest, "");
	/* The rest stays encoded: a proxy forwards it as it came. */
	CHECK_INT(match("POST", "/faas/dep1/a%20b/c?"), GW_MATCH_OK);
	CHECK(m.route == &table[8]);
	CHECK_STR(m.rest, "/a%20b/c?");
	CHECK_INT(match("GET", "/faas/dep1/x//y/"), GW_MATCH_OK);
	CHECK_STR(m.rest, "/x//y/");
	CHECK_INT(match("GET", "/faas"), GW_MATCH_NOT_FOUND);
	CHECK_INT(match("GET", "/faas/"), GW_MATCH_NOT_FOUND);
	CHECK_INT(match("DELETE", "/faas/d/x"), GW_MATCH_BAD_METHOD);
	CHECK_STR(m.allow, "GET, HEAD, POST");
}

static void test_methods(void)
{
	CHECK_INT(match("POST", "/health"), GW_MATCH_BAD_METHOD);
	CHECK_STR(m.allow, "GET, HEAD");
	CHECK(m.route == NULL);

	CHECK_INT(match("PUT", "/sandbox/abc"), GW_MATCH_BAD_METHOD);
	CHECK_STR(m.allow, "GET, HEAD, DELETE");
	CHECK_INT(m.n_params, 0);

	CHECK_INT(match("GET", "/sandbox"), GW_MATCH_BAD_METHOD);
	CHECK_STR(m.allow, "POST");

	/* HEAD is served by GET rows. */
	CHECK_INT(match("HEAD", "/health"), GW_MATCH_OK);
	CHECK(m.route == &table[0]);
	CHECK_INT(match("HEAD", "/sandbox"), GW_MATCH_BAD_METHOD);

	/* Methods are case-sensitive (RFC 9110). */
	CHECK_INT(match("get", "/health"), GW_MATCH_BAD_METHOD);
	/* 404 wins when no pattern matches, whatever the method. */
	CHECK_INT(match("BREW", "/coffee"), GW_MATCH_NOT_FOUND);
}

static void test_trailing_slash(void)
{
	CHECK_INT(match("GET", "/health/"), GW_MATCH_OK);
	CHECK(m.route == &table[0]);
	CHECK_INT(match("GET", "/sandbox/abc/"), GW_MATCH_OK);
	CHECK_STR(gw_match_param(&m, "id"), "abc");
	CHECK_INT(match("POST", "/sandbox/abc/execute/"), GW_MATCH_OK);
	/* Only one is ignored. */
	CHECK_INT(match("GET", "/health//"), GW_MATCH_NOT_FOUND);
	CHECK_INT(match("GET", "//health"), GW_MATCH_NOT_FOUND);
	CHECK_INT(match("GET", "//"), GW_MATCH_NOT_FOUND);
}

static void test_percent(void)
{
	char buf[32], *out = buf;

	CHECK_INT(match("GET", "/sandbox/a%20b"), GW_MATCH_OK);
	CHECK_STR(gw_match_param(&m, "id"), "a b");
	CHECK_INT(match("GET", "/sandbox/%E2%9C%93"), GW_MATCH_OK);
	CHECK_STR(gw_match_param(&m, "id"), "\xE2\x9C\x93");
	/* Literal segments compare decoded. */
	CHECK_INT(match("GET", "/heal%74h"), GW_MATCH_OK);
	CHECK(m.route == &table[0]);
	/* '+' is a literal in a path. */
	CHECK_INT(match("GET", "/sandbox/a+b"), GW_MATCH_OK);
	CHECK_STR(gw_match_param(&m, "id"), "a+b");

	/* An encoded '/' cannot make a segment, nor hide in one. */
	CHECK_INT(match("GET", "/sandbox/a%2Fb"), GW_MATCH_BAD_PATH);
	CHECK(m.error != NULL);
	CHECK_INT(match("GET", "/sandbox/a%2fexecute"), GW_MATCH_BAD_PATH);
	/* Malformed escapes and encoded NUL. */
	CHECK_INT(match("GET", "/sandbox/a%2"), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "/sandbox/a%"), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "/sandbox/a%zz"), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "/sandbox/a%00b"), GW_MATCH_BAD_PATH);

	CHECK_INT(gw_percent_decode("a%41%62c", 8, out), 4);
	CHECK_STR(out, "aAbc");
	CHECK_INT(gw_percent_decode("x+y", 3, out), 3);
	CHECK_STR(out, "x+y");
	CHECK_INT(gw_percent_decode("%4", 2, out), -EINVAL);
	CHECK_INT(gw_percent_decode("%00", 3, out), -EINVAL);
	CHECK_INT(gw_percent_decode("", 0, out), 0);
	CHECK_STR(out, "");
}

static void test_traversal(void)
{
	CHECK_INT(match("GET", "/sandbox/../health"), GW_MATCH_BAD_PATH);
	CHECK(m.route == NULL);
	CHECK_INT(match("GET", "/sandbox/%2e%2e/health"), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "/sandbox/%2E./health"), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "/./health"), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "/health/."), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "/sandbox/.."), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "/faas/d/../../health"), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "/faas/d/a/%2e%2E"), GW_MATCH_BAD_PATH);
	/* Dots inside a name are fine. */
	CHECK_INT(match("GET", "/sandbox/..."), GW_MATCH_OK);
	CHECK_STR(gw_match_param(&m, "id"), "...");
	CHECK_INT(match("GET", "/sandbox/a..b"), GW_MATCH_OK);
	CHECK_INT(match("GET", "/sandbox/.hidden"), GW_MATCH_OK);
}

static void test_bad_paths(void)
{
	char big[GW_PATH_MAX + 16];

	CHECK_INT(match("GET", ""), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "health"), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "*"), GW_MATCH_BAD_PATH);
	CHECK_INT(match("GET", "http://example.com/health"), GW_MATCH_BAD_PATH);

	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[GW_PATH_MAX + 1] = '\0';
	CHECK_INT(match("GET", big), GW_MATCH_TOO_LONG);
	big[GW_PATH_MAX] = '\0';
	CHECK_INT(match("GET", big), GW_MATCH_NOT_FOUND);
	/* Longest path, all segments: a wildcard row still sees its rest. */
	memcpy(big, "/faas/d/", 8);
	for (size_t i = 8; i < GW_PATH_MAX; i++)
		big[i] = i % 2 ? '/' : 'x';
	big[GW_PATH_MAX] = '\0';
	CHECK_INT(match("GET", big), GW_MATCH_OK);
	CHECK(m.rest && strlen(m.rest) == GW_PATH_MAX - 7);
}

static void test_check(void)
{
	char err[200];
	struct gw_route bad[2] = {GW_RPC("GET", "/ok", "Health", NULL, 200)};

	CHECK_INT(gw_router_check(table, N, err, sizeof(err)), 0);
	CHECK_INT(gw_router_check(bad, 1, err, sizeof(err)), 0);
#define BAD(...)                                                                                   \
	do {                                                                                       \
		bad[0] = (struct gw_route)GW_RPC(__VA_ARGS__);                                     \
		CHECKF(gw_router_check(bad, 1, err, sizeof(err)) == -EINVAL, "%s", #__VA_ARGS__);  \
	} while (0)
	BAD("GET", "nope", "Health", NULL, 200);
	BAD("GET", "/a//b", "Health", NULL, 200);
	BAD("GET", "/a/", "Health", NULL, 200);
	BAD("GET", "/a/*/b", "Health", NULL, 200);
	BAD("GET", "/a/{}", "Health", NULL, 200);
	BAD("GET", "/a/{id", "Health", NULL, 200);
	BAD("GET", "/a/{i d}", "Health", NULL, 200);
	BAD("GET", "/a/b*", "Health", NULL, 200);
	BAD("GET", "/a/%41", "Health", NULL, 200);
	BAD("GET", "/a/{abcdefghijklmnopqrstuvwxyz0123456789}", "Health", NULL, 200);
	BAD("GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", "Health", NULL, 200);
	BAD(NULL, "/a", "Health", NULL, 200);
	BAD("GET", "/a", NULL, NULL, 200);
	BAD("GET", "/a", "Health", NULL, 404);
	bad[0] = (struct gw_route)GW_RPC("GET", "/a", "Health", NULL, 200);
	bad[1] = (struct gw_route)GW_RPC("GET", "/a", "GetConfig", NULL, 200);
	CHECK_INT(gw_router_check(bad, 2, err, sizeof(err)), -EINVAL);
	CHECKF(strstr(err, "twice") != NULL, "%s", err);
	bad[1] = (struct gw_route)GW_RPC("POST", "/a", "GetConfig", NULL, 201);
	CHECK_INT(gw_router_check(bad, 2, err, sizeof(err)), 0);
}

/* The gateway's real table: well formed, and the documented endpoints go
 * where they should. */
static void test_real_table(void)
{
	char err[200];

	CHECKF(gw_router_check(gw_routes, gw_n_routes, err, sizeof(err)) == 0, "%s", err);
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/health", &m), GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "Health");
	CHECK(m.route->dialect != NULL);
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/api/v1/health", &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "Health");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/api/v1/config", &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "GetConfig");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "POST", "/health", &m),
		  GW_MATCH_BAD_METHOD);
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/sandbox/../health", &m),
		  GW_MATCH_BAD_PATH);
	/* Deployments win over the /faas proxy rows; the proxy takes every
	 * method, with and without a trailing slash, and keeps the rest raw. */
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/faas/deployments", &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "ListDeployments");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/faas/deployments/d1", &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "GetDeployment");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "DELETE", "/faas/deployments/d1", &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "DeleteDeployment");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "PUT", "/faas/deployments/d1/files",
				  &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "UpdateDeploymentFiles");
	/* Files out: the listing row before the download's `*` row (which
	 * would match the bare path too); the upload keeps POST. */
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/sandbox/s1/files", &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "ListSandboxFiles");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/sandbox/s1/files/", &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "ListSandboxFiles");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "POST", "/sandbox/s1/files", &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "UploadFiles");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/sandbox/s1/files/out/a%20b.txt",
				  &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "DownloadSandboxFile");
	CHECK_STR(m.rest, "/out/a%20b.txt");
	CHECK_STR(gw_match_param(&m, "id"), "s1");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "HEAD", "/sessions/x1/files/r.json", &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "DownloadSessionFile");
	CHECK_STR(gw_match_param(&m, "session_id"), "x1");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/sessions/x1/files", &m),
		  GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "ListSessionFiles");
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "DELETE", "/sandbox/s1/files/a", &m),
		  GW_MATCH_BAD_METHOD);
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/sandbox/s1/files/a/../b", &m),
		  GW_MATCH_BAD_PATH);
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/sandbox/s1/files/a%2Fb", &m),
		  GW_MATCH_BAD_PATH);
	CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "POST", "/faas/deploy", &m), GW_MATCH_OK);
	CHECK_STR(m.route->rpc, "Deploy");
	{
		static const char *const methods[] = {"GET",	"HEAD",	 "POST",   "PUT",
						      "DELETE", "PATCH", "OPTIONS"};

		for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++) {
			CHECK_INT(gw_router_match(gw_routes, gw_n_routes, methods[i],
						  "/faas/d1/api/a%20b", &m),
				  GW_MATCH_OK);
			CHECK(m.route->stream != NULL);
			CHECK_STR(m.route->stream_arg, "faas");
			CHECK_STR(gw_match_param(&m, "id"), "d1");
			CHECK_STR(m.rest, "/api/a%20b");
			CHECK_INT(gw_router_match(gw_routes, gw_n_routes, methods[i], "/proxy/s1",
						  &m),
				  GW_MATCH_OK);
			CHECK_STR(m.route->stream_arg, "proxy");
			CHECK_STR(m.rest, "");
		}
		CHECK_INT(gw_router_match(gw_routes, gw_n_routes, "GET", "/faas/d1/", &m),
			  GW_MATCH_OK);
		CHECK_STR(m.rest, "/");
	}
	/* Rows naming an RPC must name one of the method table, or one that
	 * is announced in the proto but not served yet (answered 501). */
	for (size_t i = 0; i < gw_n_routes; i++)
		if (gw_routes[i].rpc && !sbx_method_find(gw_routes[i].rpc))
			printf("note: %s %s -> %s is not in the method table yet (501)\n",
			       gw_routes[i].method, gw_routes[i].pattern, gw_routes[i].rpc);
}

int main(void)
{
	test_literal();
	test_params();
	test_wildcard();
	test_methods();
	test_trailing_slash();
	test_percent();
	test_traversal();
	test_bad_paths();
	test_check();
	test_real_table();
	TEST_DONE();
}
