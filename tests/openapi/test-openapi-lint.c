/* GET /openapi.json of the real sandboxd and sandbox-gateway passes
 * `redocly lint` (npm @redocly/cli, its recommended rules): the package is
 * installed once with npm ci from tests/openapi/package.json and
 * package-lock.json into OPENAPI_LINT_DIR (later runs are offline). The
 * document must also name every route the gateway's own /admin/api/docs
 * lists, and that list keeps the seed's format. Skips (77) only without
 * node or npm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "httpc.h"
#include "stack.h"
#include "testlib.h"

static struct th_stack st;

/* npm ci into dir from the committed package files, unless the same lock
 * file is installed there already. */
static bool install(const char *src, const char *dir)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd),
		 "cmp -s '%s/tests/openapi/package-lock.json' '%s/package-lock.json' && "
		 "[ -x '%s/node_modules/.bin/redocly' ]",
		 src, dir, dir);
	if (system(cmd) == 0)
		return true;
	printf("installing @redocly/cli into %s (once)\n", dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' && cp '%s/tests/openapi/package.json' "
		 "'%s/tests/openapi/package-lock.json' '%s/' && npm ci --prefix '%s' --no-audit "
		 "--no-fund --loglevel=error > '%s/npm.log' 2>&1",
		 dir, src, src, dir, dir, dir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "tail -5 '%s/npm.log'", dir);
		(void)!system(cmd);
		CHECKF(false, "npm ci could not install @redocly/cli (%s/npm.log)", dir);
		return false;
	}
	return true;
}

/* Every {method, path} of /admin/api/docs is an operation of doc. */
static void check_against_admin_docs(json_t *doc)
{
	struct th_resp r = {0};
	json_t *list, *row;
	size_t i;

	th_http(st.base, "GET", "/admin/api/docs", NULL, NULL, 10000, &r);
	CHECK_INT(r.status, 200);
	list = th_json(&r);
	CHECK(json_is_array(list) && json_array_size(list) > 40);
	json_array_foreach(list, i, row)
	{
		const char *method = json_string_value(json_object_get(row, "method"));
		const char *pattern = json_string_value(json_object_get(row, "path"));
		char path[512], m[16];
		size_t n;

		CHECK(method && pattern && json_object_get(row, "parameters"));
		if (!method || !pattern)
			continue;
		n = strlen(pattern);
		if (n >= 2 && strcmp(pattern + n - 2, "/*") == 0)
			snprintf(path, sizeof(path), "%.*s/{path}", (int)(n - 2), pattern);
		else
			snprintf(path, sizeof(path), "%s", pattern);
		snprintf(m, sizeof(m), "%s", method);
		for (char *c = m; *c; c++)
			*c = (char)(*c | 0x20);
		CHECKF(json_object_get(json_object_get(json_object_get(doc, "paths"), path), m),
		       "%s %s is not in /openapi.json", method, pattern);
	}
	json_decref(list);
	th_resp_fini(&r);
}

int main(void)
{
	const char *src = getenv("SBX_SOURCE_DIR"), *dir = getenv("OPENAPI_LINT_DIR");
	char file[1024], cmd[4096];
	struct th_resp r = {0};
	json_t *doc = NULL;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (system("node --version >/dev/null 2>&1") != 0)
		SKIP("node is not installed (make deps)");
	if (system("npm --version >/dev/null 2>&1") != 0)
		SKIP("npm is not installed (make deps)");
	src = src ? src : ".";
	dir = dir ? dir : "openapi-lint";
	if (!install(src, dir) || th_stack_start(&st, "sbx-openapi", NULL) != 0) {
		th_stack_stop(&st);
		TEST_DONE();
	}
	th_http(st.base, "GET", "/openapi.json", NULL, NULL, 10000, &r);
	CHECK_INT(r.status, 200);
	doc = th_json(&r);
	CHECK_STR(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	check_against_admin_docs(doc);
	snprintf(file, sizeof(file), "%s/openapi.json", dir);
	f = fopen(file, "w");
	CHECK(f && fputs(r.body, f) >= 0);
	if (f)
		fclose(f);
	/* The recommended rules; warnings are printed, errors fail. */
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && node_modules/.bin/redocly lint --format=stylish openapi.json "
		 "> lint.log 2>&1; s=$?; grep -v '[║╔╚]' lint.log; exit $s",
		 dir);
	CHECKF(system(cmd) == 0, "redocly lint failed on %s/openapi.json", dir);
	json_decref(doc);
	th_resp_fini(&r);
	th_stack_stop(&st);
	TEST_DONE();
}
