/* Semantic versions for Piston's API (issue #15): the installed version of
 * a language as "x.y.z", taken from its `--version` line, and a client's
 * version selector matched against it the way Piston does
 * (semver.satisfies of the npm `semver` package, default options). Pure:
 * no allocation, no I/O. */
#ifndef SBX_SEMVER_H
#define SBX_SEMVER_H

#include <stdbool.h>
#include <stddef.h>

/* Longest selector matched; longer ones match nothing. */
#define SBX_SEMVER_RANGE_MAX 256

/* "x.y.z" (decimal, no leading zeros) into buf[size] from a version line:
 * the first number followed by ".number" ("Python 3.11.2" -> "3.11.2",
 * "go1.19.8" -> "1.19.8", "rustc 1.63.0 (4b91a6ea7 2022-08-08)" ->
 * "1.63.0"), a missing third part 0 ("Lua 5.4" -> "5.4.0"); failing that
 * the first number ("Erlang/OTP 25" -> "25.0.0"); "0.0.0" for a line
 * without digits or with parts past 2^31. Always NUL-terminates when
 * size > 0. */
void sbx_semver_from_text(const char *line, char *buf, size_t size);

/* Does version `v` ("x.y.z", as above) satisfy `range`? node-semver's
 * grammar: "||" alternatives of blank-separated comparators; "*", "x",
 * "" (any); partial versions "3", "3.11", "3.x" as X-ranges; operators
 * = < <= > >=, "^" caret and "~" tilde ranges, "a - b" hyphen ranges, a
 * leading "v", pre-release and build tags. A range it cannot parse is
 * satisfied by nothing, as semver.satisfies answers false for it. */
bool sbx_semver_satisfies(const char *v, const char *range);

/* <0, 0, >0 as version a is lower than, equal to or higher than b (both
 * "x.y.z"; an unparsable one is the lowest). */
int sbx_semver_cmp(const char *a, const char *b);

#endif
