/* A minimal test harness: CHECK() records a failure with file:line and the
 * expression, and the test goes on; TEST_DONE() prints "N passed, N failed"
 * and returns the exit code. SKIP() exits 77 with the reason. */
#ifndef SBX_TESTLIB_H
#define SBX_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>

extern int tl_passed, tl_failed;

void tl_fail(const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define CHECK(expr)                                               \
	do {                                                      \
		if (expr)                                         \
			tl_passed++;                              \
		else                                              \
			tl_fail(__FILE__, __LINE__, #expr, NULL); \
	} while (0)
/* CHECK with a printf-style explanation printed on failure. */
#define CHECKF(expr, ...)                                                \
	do {                                                             \
		if (expr)                                                \
			tl_passed++;                                     \
		else                                                     \
			tl_fail(__FILE__, __LINE__, #expr, __VA_ARGS__); \
	} while (0)
#define CHECK_STR(a, b) CHECKF(((a) && (b) && strcmp((a), (b)) == 0), "'%s' != '%s'", (a) ? (a) : "(null)", (b) ? (b) : "(null)")
#define CHECK_INT(a, b) CHECKF((long long)(a) == (long long)(b), "%lld != %lld", (long long)(a), (long long)(b))

#define SKIP(...)                                  \
	do {                                       \
		printf("SKIP: " __VA_ARGS__);      \
		printf("\n");                      \
		exit(77);                          \
	} while (0)

int tl_done(void);
#define TEST_DONE() return tl_done()

/* Helpers for integration tests. */
/* A fresh directory under /tmp, created 0700; caller frees the string. */
char *tl_tmpdir(const char *prefix);
/* A TCP port on 127.0.0.1 free right now. */
int tl_free_port(void);
/* Path of a built binary: $SBX_BIN_DIR/name (caller frees). */
char *tl_bin(const char *name);

#endif
