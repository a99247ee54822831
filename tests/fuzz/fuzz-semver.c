/* Piston's version matching (common/semver.h): a version line and a
 * selector from the input. Input: bytes up to the first newline are the
 * version line (and, when it is "x.y.z" itself, the version), the rest is
 * the selector. Checks what must hold for any input: the parsed version
 * is "x.y.z" and satisfies its own exact selector and "*", and the
 * comparison is antisymmetric. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "semver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *nl, ver[48], raw[64];

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = 0;
	nl = strchr(in, '\n');
	if (nl)
		*nl = 0;
	sbx_semver_from_text(in, ver, sizeof(ver));
	if (!sbx_semver_satisfies(ver, ver) || !sbx_semver_satisfies(ver, "*") ||
	    sbx_semver_cmp(ver, ver) != 0)
		abort();
	(void)sbx_semver_satisfies(ver, nl ? nl + 1 : "");
	/* The line itself as a version, against the selector and the parsed. */
	snprintf(raw, sizeof(raw), "%.63s", in);
	(void)sbx_semver_satisfies(raw, nl ? nl + 1 : "");
	if ((sbx_semver_cmp(raw, ver) > 0) != (sbx_semver_cmp(ver, raw) < 0))
		abort();
	free(in);
	return 0;
}
