/* Judge0's additional_files reader (gateway/judge0_zip.h) against
 * archives made here: what it keeps and every kind of archive it must
 * refuse, among them a zip bomb that lies about its sizes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "judge0_zip.h"
#include "testlib.h"
#include "zipw.h"

static int unzip(const struct zipw_entry *e, size_t n, Sbx__File ***files, size_t *nf, char *why)
{
	uint8_t *z;
	size_t len;
	int r;

	if (zipw_make(e, n, &z, &len) < 0) {
		CHECKF(0, "cannot make the archive of %s", e[0].name);
		return -1;
	}
	r = gw_j0_unzip(z, len, files, nf, why, 400);
	free(z);
	return r;
}

/* Refused, with a sentence holding `want`. */
static void expect_refused(const struct zipw_entry *e, size_t n, const char *want)
{
	Sbx__File **files = NULL;
	size_t nf = 0;
	char why[400] = "";
	int r = unzip(e, n, &files, &nf, why);

	CHECKF(r == -EINVAL && strstr(why, want), "%s: %d %s (want %s)", e[0].name, r, why, want);
	if (r == 0)
		gw_j0_files_free(files, nf);
}

static void test_kept(void)
{
	const struct zipw_entry e[] = {
		{.name = "lib/"},
		{.name = "lib/util.py", .content = "X = 42\n"},
		{.name = "data.txt", .content = "a\nb\n"},
		{.name = "run", .content = "echo hi\n", .mode = S_IFREG | 0755},
		{.name = "empty", .content = ""},
	};
	Sbx__File **f = NULL;
	size_t n = 0;
	char why[400];

	CHECK_INT(unzip(e, 5, &f, &n, why), 0);
	CHECK_INT(n, 4);
	if (n != 4)
		return;
	CHECK_STR(f[0]->path, "lib/util.py");
	CHECK_INT(f[0]->content.len, 7);
	CHECK(memcmp(f[0]->content.data, "X = 42\n", 7) == 0);
	CHECK(!f[0]->is_executable);
	CHECK_STR(f[2]->path, "run");
	CHECK(f[2]->is_executable);
	CHECK_INT(f[3]->content.len, 0);
	gw_j0_files_free(f, n);
}

static void test_refused(void)
{
	const struct zipw_entry up[] = {{.name = "../x", .content = "x"}};
	const struct zipw_entry inner[] = {{.name = "a/../../x", .content = "x"}};
	const struct zipw_entry abs[] = {{.name = "/etc/x", .content = "x"}};
	const struct zipw_entry dot[] = {{.name = "./x", .content = "x"}};
	const struct zipw_entry link[] = {
		{.name = "l", .content = "/etc/shadow", .mode = S_IFLNK | 0777}};
	const struct zipw_entry fifo[] = {{.name = "p", .content = "", .mode = S_IFIFO | 0644}};
	const struct zipw_entry clash[] = {{.name = "a", .content = "1"},
					   {.name = "a/b", .content = "2"}};
	const struct zipw_entry big[] = {{.name = "a", .size = 5u << 20},
					 {.name = "b", .size = 5u << 20}};
	struct zipw_entry many[GW_J0_ZIP_MAX_FILES + 1];
	char names[GW_J0_ZIP_MAX_FILES + 1][16], longname[GW_J0_ZIP_MAX_PATH + 2];

	expect_refused(up, 1, "without '.', '..'");
	expect_refused(inner, 1, "without '.', '..'");
	expect_refused(abs, 1, "relative");
	expect_refused(dot, 1, "without '.'");
	expect_refused(link, 1, "not a regular file");
	expect_refused(fifo, 1, "not a regular file");
	expect_refused(clash, 2, "both as a file and as a directory");
	/* 10 MiB of 'x' deflate to a few KB: refused by what they declare. */
	expect_refused(big, 2, "larger than");
	for (size_t i = 0; i < GW_J0_ZIP_MAX_FILES + 1; i++) {
		snprintf(names[i], sizeof(names[i]), "f%zu", i);
		many[i] = (struct zipw_entry){.name = names[i], .content = "x"};
	}
	expect_refused(many, GW_J0_ZIP_MAX_FILES + 1, "more than");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	expect_refused(&(struct zipw_entry){.name = longname, .content = "x"}, 1, "at most");
}

/* The little-endian 32 bits at p. */
static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A bomb that lies: 4 MiB of 'x' declared as 100 bytes, in the local
 * header and the central directory both. Inflating stops at the lie. */
static void test_lying_sizes(void)
{
	const struct zipw_entry e[] = {{.name = "bomb", .size = 4u << 20}};
	Sbx__File **f = NULL;
	size_t len, n = 0;
	uint8_t *z;
	char why[400] = "";
	int r, patched = 0;

	if (zipw_make(e, 1, &z, &len) < 0) {
		CHECK(0);
		return;
	}
	for (size_t i = 0; i + 46 < len; i++) {
		if (memcmp(z + i, "PK\3\4", 4) == 0) {
			put32(z + i + 22, 100);
			patched++;
		} else if (memcmp(z + i, "PK\1\2", 4) == 0) {
			put32(z + i + 24, 100);
			patched++;
		}
	}
	CHECK_INT(patched, 2);
	r = gw_j0_unzip(z, len, &f, &n, why, sizeof(why));
	CHECKF(r == -EINVAL && strstr(why, "bomb"), "%d %s", r, why);
	if (r == 0)
		gw_j0_files_free(f, n);
	free(z);
}

static void test_not_zip(void)
{
	Sbx__File **f = NULL;
	size_t n = 0;
	char why[400] = "";
	int r = gw_j0_unzip("hello, world", 12, &f, &n, why, sizeof(why));

	CHECKF(r == -EINVAL && strstr(why, "is not a valid zip archive"), "%d %s", r, why);
	/* libzip reads no bytes as an empty archive: no files. */
	r = gw_j0_unzip("", 0, &f, &n, why, sizeof(why));
	CHECKF(r == 0 && n == 0, "%d %zu %s", r, n, why);
	if (r == 0)
		gw_j0_files_free(f, n);
}

int main(void)
{
	test_kept();
	test_refused();
	test_lying_sizes();
	test_not_zip();
	TEST_DONE();
}
