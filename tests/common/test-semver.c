/* common/semver.h: version lines become "x.y.z"; selectors match as
 * node-semver's semver.satisfies does. The expected rows were produced by
 * semver@7 (npm) for the same versions and ranges. */
#include <string.h>

#include "semver.h"
#include "testlib.h"

static const char *const versions[] = {"3.11.2", "3.12.0",  "0.2.3",  "0.0.3",
				       "1.63.0", "20.20.2", "5.2.15", "2.0.0"};

/* range, then for each version above 1 when it satisfies the range. */
static const struct {
	const char *range, *want;
} rows[] = {
	{"*", "11111111"},
	{"", "11111111"},
	{"x", "11111111"},
	{"3", "11000000"},
	{"3.x", "11000000"},
	{"3.11", "10000000"},
	{"3.11.x", "10000000"},
	{"3.11.2", "10000000"},
	{"3.11.3", "00000000"},
	{"^3", "11000000"},
	{"^3.11.2", "11000000"},
	{"^3.12", "01000000"},
	{"~3.11", "10000000"},
	{"~3.11.1", "10000000"},
	{"~3", "11000000"},
	{">3", "00000110"},
	{">3.11", "01000110"},
	{">=3.11.2", "11000110"},
	{"<3.12", "10111001"},
	{"<=3.11", "10111001"},
	{"<3.11.2", "00111001"},
	{">3.11.2", "01000110"},
	{"3.10 - 3.11", "10000000"},
	{"3.11.3 - 4", "01000000"},
	{"1.x || >=3.11.0 <3.12.0", "10001000"},
	{"^0.2", "00100000"},
	{"^0.2.3", "00100000"},
	{"^0.0.3", "00010000"},
	{"^0.0", "00010000"},
	{"^0", "00110000"},
	{"~0.2.3", "00100000"},
	{">= 3.11", "11000110"},
	{"v3.11.2", "10000000"},
	{"=3.11.2", "10000000"},
	{"3.11.2-beta", "00000000"},
	{">=3.11.2-beta", "11000110"},
	{"<3.11.2-beta", "00111001"},
	{">3.11.2-beta", "11000110"},
	{"~>3.11", "10000000"},
	{"<*", "00000000"},
	{">*", "00000000"},
	{">=*", "11111111"},
	{"3.11.2+build", "10000000"},
	{"not-a-range", "00000000"},
	{"3.11.2.1", "00000000"},
	{"1.2.3 -", "00000000"},
	{"1 - 2 - 3", "00000000"},
	{"^1.x", "00001000"},
	{"x.x.x", "11111111"},
	{"3.*", "11000000"},
	{"*.*", "11111111"},
	{"3.11.*", "10000000"},
	{"^v3", "11000000"},
	{">2 <4", "11000000"},
	{"latest", "00000000"},
	{"01.2.3", "00000000"},
	{"1.2.3 || bogus", "00000000"},
};

static void test_from_text(void)
{
	static const struct {
		const char *line, *want;
	} lines[] = {
		{"Python 3.11.2", "3.11.2"},
		{"v20.20.2", "20.20.2"},
		{"GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)", "5.2.15"},
		{"rustc 1.63.0 (4b91a6ea7 2022-08-08)", "1.63.0"},
		{"go version go1.19.8 linux/amd64", "1.19.8"},
		{"Lua 5.4  Copyright (C) 1994-2022 Lua.org, PUC-Rio", "5.4.0"},
		{"This is perl 5, version 36, subversion 0 (v5.36.0)", "5.36.0"},
		{"Erlang/OTP 25 [erts-13.1.5]", "13.1.5"},
		{"Erlang/OTP 25", "25.0.0"},
		{"gcc (Debian 12.2.0-14) 12.2.0", "12.2.0"},
		{"javac 17.0.13", "17.0.13"},
		{"version 007.010.0003", "7.10.3"},
		{"no digits here", "0.0.0"},
		{"", "0.0.0"},
		{"huge 99999999999.1.2", "0.0.0"},
	};
	char buf[48];

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		sbx_semver_from_text(lines[i].line, buf, sizeof(buf));
		CHECKF(strcmp(buf, lines[i].want) == 0, "'%s' -> '%s', want '%s'", lines[i].line,
		       buf, lines[i].want);
	}
	sbx_semver_from_text(NULL, buf, sizeof(buf));
	CHECKF(strcmp(buf, "0.0.0") == 0, "%s", buf);
	sbx_semver_from_text("Python 3.11.2", buf, 4);
	CHECKF(strcmp(buf, "3.1") == 0, "%s", buf);
}

static void test_satisfies(void)
{
	char longer[SBX_SEMVER_RANGE_MAX + 2];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		for (size_t k = 0; k < sizeof(versions) / sizeof(versions[0]); k++) {
			bool want = rows[i].want[k] == '1';

			CHECKF(sbx_semver_satisfies(versions[k], rows[i].range) == want,
			       "'%s' satisfies '%s': want %s", versions[k], rows[i].range,
			       want ? "true" : "false");
		}
	/* Only full versions are matched; a range past the cap matches nothing. */
	CHECK(!sbx_semver_satisfies("3.11", "*"));
	CHECK(!sbx_semver_satisfies(NULL, "*"));
	CHECK(!sbx_semver_satisfies("3.11.2", NULL));
	memset(longer, ' ', sizeof(longer) - 1);
	longer[sizeof(longer) - 2] = '*';
	longer[sizeof(longer) - 1] = 0;
	CHECK(!sbx_semver_satisfies("3.11.2", longer));
}

static void test_cmp(void)
{
	CHECK(sbx_semver_cmp("3.11.2", "3.9.10") > 0);
	CHECK(sbx_semver_cmp("3.9.10", "3.11.2") < 0);
	CHECK(sbx_semver_cmp("10.0.0", "9.99.99") > 0);
	CHECK(sbx_semver_cmp("1.2.3", "1.2.3") == 0);
	CHECK(sbx_semver_cmp("bogus", "0.0.0") < 0);
}

int main(void)
{
	test_from_text();
	test_satisfies();
	test_cmp();
	TEST_DONE();
}
