/* node-semver's range grammar (semver/classes/range.js), reduced to what a
 * version without pre-release tag can be matched against: every range is
 * desugared into comparators (">=1.2.0 <1.3.0-0") evaluated at once. */
#include "semver.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define PART_MAX 2147483647L

/* A full version; `pre`: it has a pre-release tag, which sorts it just
 * below the same numbers without one (all we need to know of the tag, as
 * the versions matched never have one). */
struct ver {
	long p[3];
	bool pre;
};

/* A partial version: the first n parts are numbers, the rest wildcards. */
struct partial {
	struct ver v;
	int n;
};

enum op { OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE };

static int ver_cmp(const struct ver *a, const struct ver *b)
{
	for (int i = 0; i < 3; i++)
		if (a->p[i] != b->p[i])
			return a->p[i] < b->p[i] ? -1 : 1;
	return (int)b->pre - (int)a->pre;
}

static bool op_holds(enum op op, const struct ver *v, const struct ver *c)
{
	int d = ver_cmp(v, c);

	switch (op) {
	case OP_LT:
		return d < 0;
	case OP_LE:
		return d <= 0;
	case OP_GT:
		return d > 0;
	case OP_GE:
		return d >= 0;
	default:
		return d == 0;
	}
}

/* A decimal part at *s (no sign), advancing *s; -1 when none or too big. */
static long number(const char **s)
{
	long n = 0;

	if (!isdigit((unsigned char)**s))
		return -1;
	for (; isdigit((unsigned char)**s); (*s)++) {
		if (n > (PART_MAX - (**s - '0')) / 10)
			return -1;
		n = n * 10 + (**s - '0');
	}
	return n;
}

static bool is_wild(char c)
{
	return c == 'x' || c == 'X' || c == '*';
}

/* "[v]1.2.3-pre+build", "1.x", "*", "" over the whole of [s, end). */
static bool parse_partial(const char *s, const char *end, struct partial *ret)
{
	struct partial p = {0};
	bool wild = false;

	if (s < end && (*s == 'v' || *s == '='))
		s++;
	for (int i = 0; i < 3 && s < end; i++) {
		if (i > 0) {
			if (*s != '.')
				break;
			s++;
		}
		if (s < end && is_wild(*s)) {
			wild = true;
			s++;
		} else if (!wild && (p.v.p[i] = number(&s)) >= 0) {
			p.n++;
		} else {
			return false;
		}
	}
	if (s < end && *s == '-' && p.n == 3) {
		p.v.pre = true;
		for (s++; s < end && (isalnum((unsigned char)*s) || *s == '-' || *s == '.'); s++)
			;
	}
	if (s < end && *s == '+')
		for (s++; s < end && (isalnum((unsigned char)*s) || *s == '-' || *s == '.'); s++)
			;
	*ret = p;
	return s == end;
}

/* The version just past the last given part ("1.2" -> 1.3.0-0) with
 * pre set: the exclusive upper bound of an X-range. */
static struct ver bump(const struct partial *p, int at)
{
	struct ver v = {{0, 0, 0}, true};

	for (int i = 0; i < at; i++)
		v.p[i] = p->v.p[i];
	v.p[at - 1]++;
	return v;
}

struct eval {
	const struct ver *v;
	bool ok;
};

static void need(struct eval *e, enum op op, struct ver c)
{
	e->ok = e->ok && op_holds(op, e->v, &c);
}

/* An X-range or plain comparator: op and a partial version. */
static void comparator(struct eval *e, enum op op, const struct partial *p)
{
	struct ver lo = p->v, hi;

	if (p->n == 3) {
		need(e, op, p->v);
		return;
	}
	lo.pre = false;
	if (p->n == 0) {
		/* "<*" and ">*" match nothing, the others anything. */
		e->ok = e->ok && op != OP_LT && op != OP_GT;
		return;
	}
	switch (op) {
	case OP_GT:
		/* ">1.2" is ">=1.3.0". */
		hi = bump(p, p->n);
		hi.pre = false;
		need(e, OP_GE, hi);
		break;
	case OP_LE:
		need(e, OP_LT, bump(p, p->n));
		break;
	case OP_LT:
		lo.pre = true;
		need(e, OP_LT, lo);
		break;
	case OP_GE:
		need(e, OP_GE, lo);
		break;
	default:
		need(e, OP_GE, lo);
		need(e, OP_LT, bump(p, p->n));
	}
}

static void tilde(struct eval *e, const struct partial *p)
{
	if (p->n == 0)
		return;
	need(e, OP_GE, p->v);
	need(e, OP_LT, bump(p, p->n == 1 ? 1 : 2));
}

static void caret(struct eval *e, const struct partial *p)
{
	int at = 1;

	if (p->n == 0)
		return;
	/* The first non-zero part given stays; "^0.0" is "<0.1.0". */
	if (p->v.p[0] == 0 && p->n >= 2)
		at = p->v.p[1] == 0 && p->n == 3 ? 3 : 2;
	need(e, OP_GE, p->v);
	need(e, OP_LT, bump(p, at));
}

/* "a - b": a's missing parts are 0, b's are an X-range's upper bound. */
static void hyphen(struct eval *e, const struct partial *a, const struct partial *b)
{
	if (a->n > 0)
		need(e, OP_GE, a->v);
	if (b->n == 3)
		need(e, OP_LE, b->v);
	else if (b->n > 0)
		need(e, OP_LT, bump(b, b->n));
}

/* One token: an operator glued to a partial version. */
static bool token(struct eval *e, const char *s, const char *end)
{
	static const struct {
		const char *text;
		int kind; /* enum op, or 10 tilde, 11 caret */
	} ops[] = {{"~>", 10},	  {"~", 10},	{"^", 11},    {">=", OP_GE},
		   {"<=", OP_LE}, {">", OP_GT}, {"<", OP_LT}, {"=", OP_EQ}};
	struct partial p;
	int kind = OP_EQ;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].text);

		if ((size_t)(end - s) >= n && strncmp(s, ops[i].text, n) == 0) {
			kind = ops[i].kind;
			s += n;
			break;
		}
	}
	if (!parse_partial(s, end, &p))
		return false;
	if (kind == 10)
		tilde(e, &p);
	else if (kind == 11)
		caret(e, &p);
	else
		comparator(e, (enum op)kind, &p);
	return true;
}

/* Blank-separated tokens of [s, end); an operator alone is glued to the
 * token after it ("> 1.2"), and "a - b" is a hyphen range. */
static bool set_holds(const struct ver *v, const char *s, const char *end, bool *valid)
{
	struct eval e = {v, true};
	const char *tok[64][2];
	char glued[SBX_SEMVER_RANGE_MAX];
	size_t n = 0;

	while (s < end) {
		while (s < end && isspace((unsigned char)*s))
			s++;
		if (s == end)
			break;
		if (n == 64)
			return *valid = false;
		tok[n][0] = s;
		while (s < end && !isspace((unsigned char)*s))
			s++;
		tok[n++][1] = s;
	}
	for (size_t i = 0; i < n; i++) {
		const char *a = tok[i][0], *b = tok[i][1];
		struct partial lo, hi;

		if (i + 2 < n && tok[i + 1][1] - tok[i + 1][0] == 1 && *tok[i + 1][0] == '-') {
			if (!parse_partial(a, b, &lo) ||
			    !parse_partial(tok[i + 2][0], tok[i + 2][1], &hi))
				return *valid = false;
			hyphen(&e, &lo, &hi);
			i += 2;
			continue;
		}
		if (strspn(a, "<>=~^") == (size_t)(b - a) && i + 1 < n) {
			snprintf(glued, sizeof(glued), "%.*s%.*s", (int)(b - a), a,
				 (int)(tok[i + 1][1] - tok[i + 1][0]), tok[i + 1][0]);
			a = glued;
			b = glued + strlen(glued);
			i++;
		}
		if (!token(&e, a, b))
			return *valid = false;
	}
	return e.ok;
}

static bool parse_full(const char *s, struct ver *v)
{
	struct partial p;

	if (!s || !parse_partial(s, s + strlen(s), &p) || p.n != 3 || p.v.pre)
		return false;
	*v = p.v;
	return true;
}

bool sbx_semver_satisfies(const char *vs, const char *range)
{
	const char *s = range, *bar;
	bool valid = true, any = false;
	struct ver v = {{0, 0, 0}, false};

	if (!parse_full(vs, &v) || !range || strlen(range) > SBX_SEMVER_RANGE_MAX)
		return false;
	/* Every alternative must parse, like node-semver's Range. */
	for (;;) {
		bar = strstr(s, "||");
		any = set_holds(&v, s, bar ? bar : s + strlen(s), &valid) || any;
		if (!valid)
			return false;
		if (!bar)
			return any;
		s = bar + 2;
	}
}

int sbx_semver_cmp(const char *a, const char *b)
{
	struct ver va = {{0, 0, 0}, false}, vb = {{0, 0, 0}, false};
	bool ka = parse_full(a, &va), kb = parse_full(b, &vb);

	if (!ka || !kb)
		return (int)ka - (int)kb;
	return ver_cmp(&va, &vb);
}

void sbx_semver_from_text(const char *line, char *buf, size_t size)
{
	long p[3] = {0, 0, 0};
	const char *s, *first = NULL;

	for (s = line; s && *s; s++) {
		const char *t = s;

		if (!isdigit((unsigned char)*s) ||
		    (s > line && (isdigit((unsigned char)s[-1]) || s[-1] == '.')))
			continue;
		if (!first)
			first = s;
		if ((p[0] = number(&t)) >= 0 && *t == '.' && isdigit((unsigned char)t[1])) {
			t++;
			p[1] = number(&t);
			p[2] = *t == '.' && isdigit((unsigned char)t[1]) ? (t++, number(&t)) : 0;
			break;
		}
	}
	if (s && !*s) {
		/* No dotted number: the first number alone. */
		s = first;
		p[0] = first ? number(&s) : 0;
		p[1] = p[2] = 0;
	}
	if (p[0] < 0 || p[1] < 0 || p[2] < 0)
		p[0] = p[1] = p[2] = 0;
	if (size)
		snprintf(buf, size, "%ld.%ld.%ld", p[0], p[1], p[2]);
}
