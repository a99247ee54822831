#include "driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testlib.h"

void ta_require_driver(const char *script, char *path, size_t size)
{
	const char *src = getenv("SBX_SOURCE_DIR");

	if (access("/usr/bin/chromium", X_OK) != 0 && !getenv("CHROMIUM"))
		SKIP("/usr/bin/chromium is not installed (Debian package chromium, "
		     "scripts/deps.sh)");
	if (system("node --version >/dev/null 2>&1") != 0)
		SKIP("node is not installed");
	snprintf(path, size, "%s/tests/admin/%s", src ? src : ".", script);
	if (access(path, R_OK) != 0)
		SKIP("%s not found (set SBX_SOURCE_DIR)", path);
}
