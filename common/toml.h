/* The subset of TOML that config.toml uses: [tables], key = "string",
 * key = integer, key = true|false, # comments. Anything else is an error
 * naming the line. */
#ifndef SBX_TOML_H
#define SBX_TOML_H

#include <stddef.h>

enum sbx_toml_type { SBX_TOML_STRING, SBX_TOML_INT, SBX_TOML_BOOL };

struct sbx_toml_value {
	enum sbx_toml_type type;
	const char *str;    /* STRING: unescaped text */
	long long num;      /* INT; BOOL: 0 or 1 */
	int line;
};

/* Called once per key with "table.key" (or "key" before any table). A
 * negative return stops the parse and is returned; the callback should have
 * written err. */
typedef int (*sbx_toml_cb)(void *arg, const char *key, const struct sbx_toml_value *v, char *err,
			   size_t errlen);

/* 0, -EINVAL with err "line N: ..." on a syntax error, or the callback's error. */
int sbx_toml_parse(const char *text, sbx_toml_cb cb, void *arg, char *err, size_t errlen);

#endif
