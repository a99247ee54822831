#include "toml.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define TOML_MAX_KEY 128
#define TOML_MAX_STRING 4096

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int at_line_end(const char *p)
{
	p = skip_ws(p);
	return *p == 0 || *p == '\n' || *p == '#' || (*p == '\r' && p[1] == '\n');
}

static int parse_bare(const char **pp, char *out, size_t max)
{
	const char *p = *pp;
	size_t n = 0;

	while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.') {
		if (n + 1 >= max)
			return -EINVAL;
		out[n++] = *p++;
	}
	out[n] = 0;
	*pp = p;
	return n ? 0 : -EINVAL;
}

static int parse_string(const char **pp, char *out, size_t max)
{
	const char *p = *pp + 1;
	size_t n = 0;
	char c;

	while (*p && *p != '"' && *p != '\n') {
		c = *p++;
		if (c == '\\') {
			switch (*p++) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			default: return -EINVAL;
			}
		}
		if (n + 1 >= max)
			return -EINVAL;
		out[n++] = c;
	}
	if (*p != '"')
		return -EINVAL;
	out[n] = 0;
	*pp = p + 1;
	return 0;
}

static int parse_value(const char **pp, struct sbx_toml_value *v, char *sbuf)
{
	const char *p = *pp;
	char *end;

	if (*p == '"') {
		v->type = SBX_TOML_STRING;
		v->str = sbuf;
		return parse_string(pp, sbuf, TOML_MAX_STRING);
	}
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
		v->type = SBX_TOML_BOOL;
		v->num = *p == 't';
		*pp = p + (*p == 't' ? 4 : 5);
		return 0;
	}
	/* strtoll skips any whitespace, newlines too: "key =\n5" would take
	 * the next line's number. */
	if (!isdigit((unsigned char)*p) && *p != '-' && *p != '+')
		return -EINVAL;
	errno = 0;
	v->num = strtoll(p, &end, 10);
	if (end == p || errno)
		return -EINVAL;
	v->type = SBX_TOML_INT;
	*pp = end;
	return 0;
}

int sbx_toml_parse(const char *text, sbx_toml_cb cb, void *arg, char *err, size_t errlen)
{
	char table[TOML_MAX_KEY] = "", key[TOML_MAX_KEY], full[2 * TOML_MAX_KEY + 1];
	_cleanup_free_ char *sbuf = malloc(TOML_MAX_STRING);
	const char *p = text;
	int line = 0, r;

	if (!sbuf)
		return -ENOMEM;
	while (*p) {
		struct sbx_toml_value v = { 0 };

		line++;
		p = skip_ws(p);
		if (at_line_end(p)) {
			/* blank or comment */
		} else if (*p == '[') {
			p = skip_ws(p + 1);
			if (parse_bare(&p, table, sizeof(table)) < 0 || *(p = skip_ws(p)) != ']' ||
			    !at_line_end(p + 1))
				goto syntax;
			p++;
		} else {
			if (parse_bare(&p, key, sizeof(key)) < 0)
				goto syntax;
			p = skip_ws(p);
			if (*p != '=')
				goto syntax;
			p = skip_ws(p + 1);
			if (parse_value(&p, &v, sbuf) < 0 || !at_line_end(p))
				goto syntax;
			v.line = line;
			snprintf(full, sizeof(full), "%s%s%s", table, *table ? "." : "", key);
			r = cb(arg, full, &v, err, errlen);
			if (r < 0)
				return r;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return 0;
syntax:
	snprintf(err, errlen, "line %d: expected [table], key = \"string\", key = integer or key = true|false", line);
	return -EINVAL;
}
