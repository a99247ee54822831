/* Per-language programs for tests: one row per language of the runtimes
 * table (daemon/exec/runtime_table.c), by its name. Every row has the same
 * five programs, so a test can run each language the same way:
 *   hello          prints exactly SBX_LANG_HELLO on stdout, nothing on stderr;
 *   echo           reads one line from stdin and prints it (with its newline):
 *                  fed SBX_LANG_ECHO_IN, prints exactly SBX_LANG_ECHO_IN;
 *   compile_error  does not compile (a compiled language), or does not parse
 *                  (an interpreted one);
 *   runtime_error  compiles, then ends with exit status `exit_code`;
 *   loop           compiles, then runs forever on the CPU without output.
 * A language without a row here is a test failure, never a skip. */
#ifndef SBX_TEST_LANG_SNIPPETS_H
#define SBX_TEST_LANG_SNIPPETS_H

#include <stddef.h>

#define SBX_LANG_HELLO "Hello, World!\n"
#define SBX_LANG_ECHO_IN "sandboxd 42\n"

struct sbx_lang_snippets {
	const char *language;
	const char *hello, *echo, *compile_error, *runtime_error, *loop;
	int exit_code; /* of runtime_error */
};

extern const struct sbx_lang_snippets sbx_lang_snippets[];
extern const size_t sbx_lang_snippets_len;

/* The row of a language name (exact, lower case), or NULL. */
const struct sbx_lang_snippets *sbx_lang_snippets_find(const char *language);

#endif
