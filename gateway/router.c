#include "router.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Segments kept decoded: one more than a pattern may have, so that a
 * longer path is still known not to match a row without `*`. */
#define SEGS_KEPT (GW_MAX_SEGMENTS + 1)

/* The request path, split once and shared by every row's attempt. */
struct split {
	const char *path;
	size_t n; /* segments, trailing empty one included */
	bool trailing_slash;
	const char *seg[SEGS_KEPT]; /* decoded, the first ones only */
	size_t raw_off[SEGS_KEPT];  /* where each starts in path */
	char *end;		    /* first free byte of the match's buf_ */
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gw_percent_decode(const char *src, size_t len, char *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (src[i] != '%') {
			dst[o++] = src[i];
			continue;
		}
		if (i + 2 >= len)
			return -EINVAL;
		hi = hexval(src[i + 1]);
		lo = hexval(src[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -EINVAL;
		dst[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	dst[o] = '\0';
	return (int)o;
}

static enum gw_match_result split_path(const char *path, struct gw_match *m, struct split *sp)
{
	size_t len = strlen(path);
	char *out = m->buf_;
	const char *p;

	*sp = (struct split){.path = path};
	if (len > GW_PATH_MAX)
		return GW_MATCH_TOO_LONG;
	if (path[0] != '/') {
		m->error = "the request path must start with '/'";
		return GW_MATCH_BAD_PATH;
	}
	sp->trailing_slash = len > 1 && path[len - 1] == '/';
	/* "/" has no segment at all; anything longer has one per '/'. */
	for (p = path + 1; len > 1;) {
		const char *e = strchrnul(p, '/');
		int dl = gw_percent_decode(p, (size_t)(e - p), out);

		if (dl < 0) {
			m->error = "the request path has a malformed percent-escape";
			return GW_MATCH_BAD_PATH;
		}
		if (memchr(out, '/', (size_t)dl)) {
			m->error = "the request path must not contain an encoded '/'";
			return GW_MATCH_BAD_PATH;
		}
		if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
			m->error = "the request path must not contain '.' or '..' segments";
			return GW_MATCH_BAD_PATH;
		}
		if (sp->n < SEGS_KEPT) {
			sp->seg[sp->n] = out;
			sp->raw_off[sp->n] = (size_t)(p - path);
		}
		sp->n++;
		out += dl + 1;
		if (!*e)
			break;
		p = e + 1;
	}
	sp->end = out;
	return GW_MATCH_OK;
}

/* Does the pattern match the split path? Fills m->params and m->rest. */
static bool row_matches(const char *pattern, const struct split *sp, struct gw_match *m)
{
	size_t want = sp->trailing_slash ? sp->n - 1 : sp->n;
	const char *ps = pattern + 1;
	size_t i = 0;

	m->n_params = 0;
	m->rest = NULL;
	while (*ps) {
		const char *pe = strchrnul(ps, '/');
		size_t pl = (size_t)(pe - ps);

		if (pl == 1 && *ps == '*') {
			/* The rest keeps its encoding and the '/' before it. */
			const char *rest;

			if (i >= SEGS_KEPT)
				return false;
			rest = i < sp->n ? sp->path + sp->raw_off[i] - 1 : "";

			strcpy(sp->end, rest);
			m->rest = sp->end;
			return true;
		}
		if (i >= want || i >= SEGS_KEPT)
			return false;
		if (pl > 2 && *ps == '{' && ps[pl - 1] == '}') {
			struct gw_param *prm;

			/* Checked by gw_router_check; guarded for tables that were not. */
			if (!*sp->seg[i] || m->n_params >= GW_MAX_PARAMS ||
			    pl - 2 >= GW_PARAM_NAME_MAX)
				return false;
			prm = &m->params[m->n_params++];
			memcpy(prm->name, ps + 1, pl - 2);
			prm->name[pl - 2] = '\0';
			prm->value = sp->seg[i];
		} else if (strlen(sp->seg[i]) != pl || memcmp(sp->seg[i], ps, pl) != 0) {
			return false;
		}
		i++;
		ps = *pe ? pe + 1 : pe;
	}
	return i == want;
}

static bool method_matches(const char *row, const char *method)
{
	return strcmp(row, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(row, "GET") == 0);
}

static void allow_add(struct gw_match *m, const char *method)
{
	size_t used = strlen(m->allow), ml = strlen(method);
	const char *p = m->allow;

	while ((p = strstr(p, method))) {
		if ((p == m->allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == '\0'))
			return;
		p += ml;
	}
	snprintf(m->allow + used, sizeof(m->allow) - used, "%s%s", used ? ", " : "", method);
}

enum gw_match_result gw_router_match(const struct gw_route *table, size_t n, const char *method,
				     const char *path, struct gw_match *m)
{
	enum gw_match_result r;
	bool path_known = false;
	struct split sp;

	m->route = NULL;
	m->n_params = 0;
	m->rest = NULL;
	m->allow[0] = '\0';
	m->error = NULL;
	r = split_path(path, m, &sp);
	if (r != GW_MATCH_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!row_matches(table[i].pattern, &sp, m))
			continue;
		if (method_matches(table[i].method, method)) {
			m->route = &table[i];
			return GW_MATCH_OK;
		}
		path_known = true;
		allow_add(m, table[i].method);
		if (strcmp(table[i].method, "GET") == 0)
			allow_add(m, "HEAD");
	}
	m->n_params = 0;
	m->rest = NULL;
	return path_known ? GW_MATCH_BAD_METHOD : GW_MATCH_NOT_FOUND;
}

const char *gw_match_param(const struct gw_match *m, const char *name)
{
	for (size_t i = 0; i < m->n_params; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return m->params[i].value;
	return NULL;
}

static int check_pattern(const char *pattern, char *err, size_t errlen)
{
	size_t segs = 0, params = 0;
	const char *ps;

	if (!pattern || pattern[0] != '/') {
		snprintf(err, errlen, "must start with '/'");
		return -EINVAL;
	}
	if (strcmp(pattern, "/") == 0)
		return 0;
	for (ps = pattern + 1;; ps++) {
		const char *pe = strchrnul(ps, '/');
		size_t pl = (size_t)(pe - ps);

		if (pl == 0) {
			snprintf(err, errlen, "has an empty segment");
			return -EINVAL;
		}
		if (++segs > GW_MAX_SEGMENTS) {
			snprintf(err, errlen, "has more than %d segments", GW_MAX_SEGMENTS);
			return -EINVAL;
		}
		if (pl == 1 && *ps == '*') {
			if (*pe) {
				snprintf(err, errlen, "has '*' before its last segment");
				return -EINVAL;
			}
			return 0;
		}
		if (*ps == '{') {
			if (pl < 3 || ps[pl - 1] != '}' || pl - 2 >= GW_PARAM_NAME_MAX) {
				snprintf(err, errlen, "has a malformed {parameter}");
				return -EINVAL;
			}
			for (size_t k = 1; k < pl - 1; k++)
				if (!isalnum((unsigned char)ps[k]) && ps[k] != '_' &&
				    ps[k] != '.') {
					snprintf(err, errlen, "has a malformed {parameter}");
					return -EINVAL;
				}
			if (++params > GW_MAX_PARAMS) {
				snprintf(err, errlen, "has more than %d parameters", GW_MAX_PARAMS);
				return -EINVAL;
			}
		} else {
			for (size_t k = 0; k < pl; k++)
				if (strchr("{}*%", ps[k])) {
					snprintf(err, errlen, "has '%c' in a literal segment",
						 ps[k]);
					return -EINVAL;
				}
		}
		if (!*pe)
			return 0;
		ps = pe;
	}
}

int gw_router_check(const struct gw_route *table, size_t n, char *err, size_t errlen)
{
	char why[96];

	for (size_t i = 0; i < n; i++) {
		const struct gw_route *r = &table[i];

		if (!r->method || !*r->method) {
			snprintf(err, errlen, "route %zu (%s) has no HTTP method", i,
				 r->pattern ? r->pattern : "?");
			return -EINVAL;
		}
		if (check_pattern(r->pattern, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "route %s %s: the pattern %s", r->method,
				 r->pattern ? r->pattern : "(null)", why);
			return -EINVAL;
		}
		if (!r->rpc && !r->handler) {
			snprintf(err, errlen, "route %s %s has neither an RPC nor a handler",
				 r->method, r->pattern);
			return -EINVAL;
		}
		if (r->status && (r->status < 200 || r->status > 299)) {
			snprintf(err, errlen, "route %s %s has a success status outside 2xx",
				 r->method, r->pattern);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(table[j].method, r->method) == 0 &&
			    strcmp(table[j].pattern, r->pattern) == 0) {
				snprintf(err, errlen, "route %s %s appears twice", r->method,
					 r->pattern);
				return -EINVAL;
			}
	}
	return 0;
}
