/* Judge0's additional_files (gateway/judge0_zip.c): the input is the zip
 * archive itself. Checks what must hold for any input: a refusal says
 * why; what is accepted is within every limit, each path relative with
 * no '.', '..' or empty component, none twice, none both a file and a
 * directory. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "judge0_zip.h"

static bool path_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > GW_J0_ZIP_MAX_PATH || p[0] == '/' || p[n - 1] == '/' || strstr(p, "//"))
		return false;
	for (const char *c = p; *c; c += strcspn(c, "/"), c += *c == '/') {
		size_t k = strcspn(c, "/");

		if ((k == 1 && c[0] == '.') || (k == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Sbx__File **files = NULL;
	size_t n = 0, total = 0;
	char why[400] = "";
	int r = gw_j0_unzip(data, size, &files, &n, why, sizeof(why));

	if (r == -EINVAL && !why[0])
		abort();
	if (r < 0)
		return 0;
	if (n > GW_J0_ZIP_MAX_FILES)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t la = strlen(files[i]->path);

		if (!path_ok(files[i]->path))
			abort();
		total += files[i]->content.len;
		for (size_t k = 0; k < n; k++)
			if (k != i && strncmp(files[i]->path, files[k]->path, la) == 0 &&
			    (files[k]->path[la] == 0 || files[k]->path[la] == '/'))
				abort();
	}
	if (total > GW_J0_ZIP_MAX_TOTAL)
		abort();
	gw_j0_files_free(files, n);
	return 0;
}
