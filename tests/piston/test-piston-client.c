/* The npm package piston-client 1.0.2, unmodified, against the real
 * sandboxd and sandbox-gateway (issue #15): installed once from the npm
 * registry into PISTON_CLIENT_DIR (pinned; later runs are offline), then
 * client.mjs drives it. Skips (77) only without node or npm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "stack.h"
#include "testlib.h"

#define PACKAGE "piston-client@1.0.2"

static struct th_stack st;

/* npm install PACKAGE into dir, unless the marker says it is there. */
static bool install(const char *dir)
{
	char cmd[2048], marker[1100], have[64] = "";
	FILE *f;

	snprintf(marker, sizeof(marker), "%s/.installed", dir);
	f = fopen(marker, "r");
	if (f) {
		if (!fgets(have, sizeof(have), f))
			have[0] = 0;
		fclose(f);
		have[strcspn(have, "\n")] = 0;
		if (strcmp(have, PACKAGE) == 0)
			return true;
	}
	printf("installing %s into %s (once)\n", PACKAGE, dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' && { [ -f '%s/package.json' ] || echo '{\"private\": true}' > "
		 "'%s/package.json'; } && npm install --prefix '%s' --no-audit --no-fund "
		 "--loglevel=error %s > '%s/npm.log' 2>&1",
		 dir, dir, dir, dir, PACKAGE, dir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "tail -5 '%s/npm.log'", dir);
		(void)!system(cmd);
		CHECKF(false, "npm could not install %s (%s/npm.log)", PACKAGE, dir);
		return false;
	}
	f = fopen(marker, "w");
	if (f) {
		fprintf(f, "%s\n", PACKAGE);
		fclose(f);
	}
	return true;
}

int main(void)
{
	const char *src = getenv("SBX_SOURCE_DIR"), *dir = getenv("PISTON_CLIENT_DIR");
	char script[1024];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (system("node --version >/dev/null 2>&1") != 0)
		SKIP("node is not installed (make deps)");
	if (system("npm --version >/dev/null 2>&1") != 0)
		SKIP("npm is not installed (make deps)");
	th_require_sandboxes();
	snprintf(script, sizeof(script), "%s/tests/piston/client.mjs", src ? src : ".");
	dir = dir ? dir : "piston-client";
	if (install(dir) && th_stack_start(&st, "sbx-piston-client", NULL) == 0)
		CHECK_INT(th_run_node(script, (const char *const[]){dir, st.base, NULL}, 120000), 0);
	th_stack_stop(&st);
	TEST_DONE();
}
