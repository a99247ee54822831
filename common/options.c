/* One option table: see options.h. */
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void *field(void *cfg, const struct sbx_opt *o)
{
	return (char *)cfg + o->offset;
}

static bool takes_value(const struct sbx_opt *o)
{
	return o->type != SBX_OPT_SWITCH && o->type != SBX_OPT_ACTION && o->type != SBX_OPT_IGNORE;
}

int sbx_opts_parse_bool(const char *v, bool *ret)
{
	if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
		*ret = true;
	else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

/* Decimal digits only (no sign, no space), with a k/m/g suffix for sizes. */
int sbx_opts_parse_uint(const char *s, bool suffix, uint64_t *ret)
{
	uint64_t v, mul = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (suffix && *end && !end[1] && strchr("kKmMgG", *end)) {
		mul = *end == 'k' || *end == 'K'   ? 1u << 10
		      : *end == 'm' || *end == 'M' ? 1u << 20
						   : 1u << 30;
		end++;
	}
	if (*end || v > UINT64_MAX / mul)
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

/* "<where> must <what>, not '<v>'", where names the setting as the table
 * has always named it. */
static int refuse(const struct sbx_opts *t, const struct sbx_opt *o, const char *v,
		  const char *from, const char *what, char *err, size_t errlen)
{
	char where[160];

	if (t->flags & SBX_OPTS_TERSE) {
		snprintf(err, errlen, "invalid value for %s: %s", from, v);
		return -EINVAL;
	}
	if ((t->flags & SBX_OPTS_KEY_IN_ERRORS) && o->key)
		snprintf(where, sizeof(where), "%s: %s", from, o->key);
	else
		snprintf(where, sizeof(where), "%s", from);
	if (o->flags & SBX_OPT_NO_ECHO)
		snprintf(err, errlen, "%s must %s", where, what);
	else
		snprintf(err, errlen, "%s must %s, not '%s'", where, what, v);
	return -EINVAL;
}

static int set_number(const struct sbx_opts *t, void *cfg, const struct sbx_opt *o, const char *v,
		      const char *from, char *err, size_t errlen)
{
	char what[96];
	uint64_t n;

	if (sbx_opts_parse_uint(v, o->type == SBX_OPT_SIZE, &n) < 0 || n < o->min || n > o->max) {
		snprintf(what, sizeof(what), "be an integer from %" PRIu64 " to %" PRIu64, o->min,
			 o->max);
		return refuse(t, o, v, from, what, err, errlen);
	}
	if (o->type == SBX_OPT_U32)
		*(uint32_t *)field(cfg, o) = (uint32_t)n;
	else
		*(uint64_t *)field(cfg, o) = n;
	return 0;
}

/* v's items replace the list, or follow its items when `append`. */
static int set_list(const struct sbx_opt *o, struct sbx_opt_list *l, const char *v, bool append,
		    const char *from, char *err, size_t errlen)
{
	size_t old = append && l->joined ? strlen(l->joined) : 0, n = strlen(v);
	char *s;

	if ((o->flags & SBX_OPT_NONEMPTY) &&
	    (v[0] == ',' || (n && v[n - 1] == ',') || strstr(v, ",,"))) {
		snprintf(err, errlen,
			 "%s must be a comma-separated list without empty items, not '%s'", from,
			 v);
		return -EINVAL;
	}
	if (!(s = malloc(old + 1 + n + 1)))
		return -ENOMEM;
	if (old) {
		memcpy(s, l->joined, old);
		s[old++] = ',';
	}
	memcpy(s + old, v, n + 1);
	free(l->joined);
	l->joined = s;
	return 0;
}

int sbx_opts_set(const struct sbx_opts *t, void *cfg, const struct sbx_opt *o, const char *v,
		 const char *from, char *err, size_t errlen)
{
	char *dup;

	if ((o->flags & SBX_OPT_NONEMPTY) && v && !*v) {
		snprintf(err, errlen, "%s must not be empty", from);
		return -EINVAL;
	}
	switch (o->type) {
	case SBX_OPT_STR:
		if (!(dup = strdup(v)))
			return -ENOMEM;
		free(*(char **)field(cfg, o));
		*(char **)field(cfg, o) = dup;
		return 0;
	case SBX_OPT_REF:
		*(const char **)field(cfg, o) = v;
		return 0;
	case SBX_OPT_U32:
	case SBX_OPT_U64:
	case SBX_OPT_SIZE:
		return set_number(t, cfg, o, v, from, err, errlen);
	case SBX_OPT_BOOL:
		if (sbx_opts_parse_bool(v, (bool *)field(cfg, o)) < 0)
			return refuse(t, o, v, from, "be true or false", err, errlen);
		return 0;
	case SBX_OPT_SWITCH:
		*(bool *)field(cfg, o) = true;
		return 0;
	case SBX_OPT_CUSTOM:
		if (o->set(cfg, v) < 0)
			return refuse(t, o, v, from, o->must, err, errlen);
		return 0;
	case SBX_OPT_LIST:
		((struct sbx_opt_list *)field(cfg, o))->from_argv = false;
		return set_list(o, field(cfg, o), v, false, from, err, errlen);
	case SBX_OPT_ACTION:
	case SBX_OPT_IGNORE:
		return 0;
	}
	return -EINVAL;
}

int sbx_opts_defaults(const struct sbx_opts *t, void *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < t->n_rows; i++) {
		const struct sbx_opt *o = &t->rows[i];
		int r;

		if (o->def && (r = sbx_opts_set(t, cfg, o, o->def, "default", err, errlen)) < 0)
			return r;
	}
	return 0;
}

const char *sbx_opts_getenv(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

int sbx_opts_env(const struct sbx_opts *t, void *cfg, char **envp, char *err, size_t errlen)
{
	for (size_t i = 0; i < t->n_rows; i++) {
		const struct sbx_opt *o = &t->rows[i];
		const char *v = o->env ? sbx_opts_getenv(envp, o->env) : NULL;
		char from[80];
		int r;

		if (!v)
			continue;
		snprintf(from, sizeof(from), "%s%s", t->flags & SBX_OPTS_ENV_DOLLAR ? "$" : "",
			 o->env);
		if ((r = sbx_opts_set(t, cfg, o, v, from, err, errlen)) < 0)
			return r;
	}
	return 0;
}

const struct sbx_opt *sbx_opts_find_key(const struct sbx_opts *t, const char *key)
{
	for (size_t i = 0; i < t->n_rows; i++)
		if (t->rows[i].key && strcmp(t->rows[i].key, key) == 0)
			return &t->rows[i];
	return NULL;
}

void sbx_opts_iter_init(struct sbx_opts_iter *it, const struct sbx_opts *t, int argc, char **argv)
{
	*it = (struct sbx_opts_iter){.t = t, .argc = argc, .argv = argv, .pos = 1};
}

/* The row of "--name" (len bytes of name): the exact name, or else, unless
 * EXACT, the one row it is a prefix of (getopt_long's abbreviations). */
static const struct sbx_opt *find_flag(const struct sbx_opts *t, const char *name, size_t len)
{
	const struct sbx_opt *found = NULL;
	size_t n_prefix = 0;

	for (size_t i = 0; i < t->n_rows; i++) {
		const char *f = t->rows[i].flag;

		if (!f || strncmp(f, name, len) != 0)
			continue;
		if (!f[len])
			return &t->rows[i];
		found = &t->rows[i];
		n_prefix++;
	}
	return !(t->flags & SBX_OPTS_EXACT) && n_prefix == 1 ? found : NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -EINVAL;
}

/* An unknown "--name" that more than one flag starts with: the table's
 * ambiguous sentence and the candidates, as getopt_long says it. */
static int ambiguous(const struct sbx_opts *t, const char *a, size_t len, char *err, size_t errlen)
{
	size_t n, matches = 0;

	snprintf(err, errlen, t->ambiguous, a);
	n = strlen(err);
	for (size_t i = 0; i < t->n_rows; i++) {
		const char *f = t->rows[i].flag;

		if (f && strncmp(f, a + 2, len) == 0 && n < errlen) {
			n += (size_t)snprintf(err + n, errlen - n, " '--%s'", f);
			matches++;
		}
	}
	if (matches < 2)
		snprintf(err, errlen, t->unknown, a, "");
	return -EINVAL;
}

static int next_long(struct sbx_opts_iter *it, const struct sbx_opt **ret_row,
		     const char **ret_value, char *err, size_t errlen)
{
	const char *a = it->argv[it->pos++], *eq = strchr(a + 2, '=');
	size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
	const struct sbx_opt *o = find_flag(it->t, a + 2, len);

	if (!o && it->t->ambiguous && !(it->t->flags & SBX_OPTS_EXACT))
		return ambiguous(it->t, a, len, err, errlen);
	if (!o || (eq && !takes_value(o)))
		return fail(err, errlen, it->t->unknown, a, "");
	*ret_row = o;
	*ret_value = NULL;
	if (!takes_value(o))
		return 1;
	if (eq)
		*ret_value = eq + 1;
	else if (it->pos < it->argc)
		*ret_value = it->argv[it->pos++];
	else
		return fail(err, errlen, it->t->missing, a, o->arg ? o->arg : "");
	return 1;
}

static const struct sbx_opt *short_row(const struct sbx_opts *t, char c)
{
	for (size_t i = 0; i < t->n_rows; i++)
		if (t->rows[i].short_flag == c)
			return &t->rows[i];
	return NULL;
}

/* One letter of "-hV" (cluster points at it). */
static int next_short(struct sbx_opts_iter *it, const struct sbx_opt **ret_row,
		      const char **ret_value, char *err, size_t errlen)
{
	char letter[3] = {'-', *it->cluster++, 0};
	const struct sbx_opt *o = short_row(it->t, letter[1]);
	if (!*it->cluster) {
		it->cluster = NULL;
		it->pos++;
	}
	if (!o)
		return fail(err, errlen, it->t->unknown, letter, "");
	*ret_row = o;
	*ret_value = NULL;
	if (!takes_value(o))
		return 1;
	if (it->cluster) {
		*ret_value = it->cluster;
		it->cluster = NULL;
		it->pos++;
	} else if (it->pos < it->argc)
		*ret_value = it->argv[it->pos++];
	else
		return fail(err, errlen, it->t->missing, letter, o->arg ? o->arg : "");
	return 1;
}

/* Positional arguments: EXACT refuses the first where it stands, IN_ORDER
 * stops at it, otherwise the first is refused once the options are read. */
static int positional(struct sbx_opts_iter *it, int at, bool rest, char *err, size_t errlen)
{
	if (it->t->flags & SBX_OPTS_IN_ORDER) {
		it->pos = at;
		return 0;
	}
	if (it->t->flags & SBX_OPTS_EXACT)
		return fail(err, errlen, it->t->positional, it->argv[at], "");
	if (!it->positional)
		it->positional = at;
	it->pos = rest ? it->argc : at + 1;
	return 1;
}

int sbx_opts_next(struct sbx_opts_iter *it, const struct sbx_opt **ret_row, const char **ret_value,
		  char *err, size_t errlen)
{
	bool exact = it->t->flags & SBX_OPTS_EXACT;
	int r;

	for (;;) {
		const char *a;

		if (it->cluster)
			return next_short(it, ret_row, ret_value, err, errlen);
		if (it->pos >= it->argc)
			break;
		a = it->argv[it->pos];
		if (!exact && strcmp(a, "--") == 0) {
			if (it->pos + 1 >= it->argc) {
				it->pos = it->argc;
				break;
			}
			if ((r = positional(it, it->pos + 1, true, err, errlen)) <= 0)
				return r;
		} else if (a[0] == '-' && a[1] == '-')
			return next_long(it, ret_row, ret_value, err, errlen);
		else if (a[0] == '-' && a[1] && (!exact || (!a[2] && short_row(it->t, a[1]))))
			it->cluster = a + 1;
		else if ((r = positional(it, it->pos, false, err, errlen)) <= 0)
			return r;
	}
	if (it->positional)
		return fail(err, errlen, it->t->positional, it->argv[it->positional], "");
	return 0;
}

int sbx_opts_apply_arg(const struct sbx_opts *t, void *cfg, const struct sbx_opt *o, const char *v,
		       int *action, char *err, size_t errlen)
{
	char from[80];

	if (o->type == SBX_OPT_ACTION) {
		if (action)
			*action = (int)o->min;
		return 0;
	}
	snprintf(from, sizeof(from), "--%s", o->flag ? o->flag : "");
	if (o->type == SBX_OPT_LIST && v && *v) {
		struct sbx_opt_list *l = field(cfg, o);
		int r = set_list(o, l, v, l->from_argv, from, err, errlen);

		if (r == 0)
			l->from_argv = true;
		return r;
	}
	return sbx_opts_set(t, cfg, o, v, from, err, errlen);
}

int sbx_opts_argv(const struct sbx_opts *t, void *cfg, int argc, char **argv, int *action,
		  char *err, size_t errlen)
{
	struct sbx_opts_iter it;
	const struct sbx_opt *o;
	const char *v;
	int r;

	sbx_opts_iter_init(&it, t, argc, argv);
	while ((r = sbx_opts_next(&it, &o, &v, err, errlen)) > 0)
		if ((r = sbx_opts_apply_arg(t, cfg, o, v, action, err, errlen)) < 0)
			return r;
	return r;
}

int sbx_opts_read_file(const char *path, const char *from, char *buf, size_t size, char *err,
		       size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	bool more = false;
	size_t n = 0;
	ssize_t r = 0;
	char extra;

	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s", from, path, strerror(errno));
		return -EINVAL;
	}
	while (n < size && (r = read(fd, buf + n, size - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	/* A byte past a full buffer: the value does not fit. */
	if (r >= 0 && n == size)
		more = read(fd, &extra, 1) > 0;
	if (r < 0)
		snprintf(err, errlen, "%s %s: %s", from, path, strerror(errno));
	close(fd);
	if (r < 0)
		return -EINVAL;
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	if (more || n >= size) {
		buf[0] = '\0';
		snprintf(err, errlen, "%s %s: the value is longer than %zu bytes", from, path,
			 size - 1);
		return -EINVAL;
	}
	buf[n] = '\0';
	if (!n || memchr(buf, '\0', n) || memchr(buf, '\n', n)) {
		snprintf(err, errlen, "%s %s: the file must hold one line that is not empty", from,
			 path);
		buf[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

void sbx_opts_fini(const struct sbx_opts *t, void *cfg)
{
	for (size_t i = 0; i < t->n_rows; i++)
		if (t->rows[i].type == SBX_OPT_STR) {
			free(*(char **)field(cfg, &t->rows[i]));
			*(char **)field(cfg, &t->rows[i]) = NULL;
		} else if (t->rows[i].type == SBX_OPT_LIST) {
			struct sbx_opt_list *l = field(cfg, &t->rows[i]);

			free(l->joined);
			*l = (struct sbx_opt_list){0};
		}
}

/* The default as --help and the README show it: quoted text, a number or
 * a word, or the row's own description. */
static void format_default(const struct sbx_opt *o, char *buf, size_t size)
{
	if (o->def_help)
		snprintf(buf, size, "%s", o->def_help);
	else if (!o->def)
		buf[0] = 0;
	else if (o->type == SBX_OPT_STR || o->type == SBX_OPT_REF || o->type == SBX_OPT_LIST)
		snprintf(buf, size, *o->def ? "\"%s\"" : "none", o->def);
	else
		snprintf(buf, size, "%s", o->def);
}

static const char *value_name(const struct sbx_opt *o)
{
	if (o->arg)
		return o->arg;
	switch (o->type) {
	case SBX_OPT_BOOL:
		return "BOOL";
	case SBX_OPT_U32:
	case SBX_OPT_U64:
		return "N";
	case SBX_OPT_SIZE:
		return "BYTES";
	default:
		return takes_value(o) ? "VALUE" : "";
	}
}

/* "(default 30, $ENV, key table.key)", or "" when there is nothing to say. */
static void format_details(const struct sbx_opt *o, char *buf, size_t size)
{
	char def[160];
	size_t n = 0;

	format_default(o, def, sizeof(def));
	buf[0] = 0;
	if (*def)
		n += (size_t)snprintf(buf + n, size - n, ", default %s", def);
	if (o->flag && o->env && n < size)
		n += (size_t)snprintf(buf + n, size - n, ", $%s", o->env);
	if (o->key && n < size)
		n += (size_t)snprintf(buf + n, size - n, ", key %s", o->key);
	if (n && n < size) {
		buf[0] = '(';
		memmove(buf + 1, buf + 2, n - 1);
		buf[n - 1] = ')';
	}
}

void sbx_opts_usage(const struct sbx_opts *t, FILE *f)
{
	for (size_t i = 0; i < t->n_rows; i++) {
		const struct sbx_opt *o = &t->rows[i];
		const char *help = o->help ? o->help : "";
		char left[96], details[320];

		if (!o->flag && !o->env)
			continue;
		if (o->flag)
			snprintf(left, sizeof(left), "%c%c%c --%s %s", o->short_flag ? '-' : ' ',
				 o->short_flag ? o->short_flag : ' ', o->short_flag ? ',' : ' ',
				 o->flag, value_name(o));
		else
			snprintf(left, sizeof(left), "$%s", o->env);
		format_details(o, details, sizeof(details));
		/* The details on the help's line when both fit in 79 columns. */
		if (!*details)
			fprintf(f, "  %-28s %s\n", left, help);
		else if (31 + strlen(help) + 1 + strlen(details) <= 79)
			fprintf(f, "  %-28s %s %s\n", left, help, details);
		else
			fprintf(f, "  %-28s %s\n%31s%s\n", left, help, "", details);
	}
}

void sbx_opts_print(const struct sbx_opts *t, const void *cfg, FILE *f)
{
	for (size_t i = 0; i < t->n_rows; i++) {
		const struct sbx_opt *o = &t->rows[i];
		const void *p = (const char *)cfg + o->offset;

		if (!o->key)
			continue;
		switch (o->type) {
		case SBX_OPT_STR:
		case SBX_OPT_REF:
			fprintf(f, "%s = \"%s\"\n", o->key,
				(o->flags & SBX_OPT_SECRET) && **(char *const *)p
					? "********"
					: *(char *const *)p);
			break;
		case SBX_OPT_LIST: {
			const char *v = ((const struct sbx_opt_list *)p)->joined;

			fprintf(f, "%s = \"%s\"\n", o->key, v ? v : "");
			break;
		}
		case SBX_OPT_U32:
			fprintf(f, "%s = %" PRIu32 "\n", o->key, *(const uint32_t *)p);
			break;
		case SBX_OPT_U64:
		case SBX_OPT_SIZE:
			fprintf(f, "%s = %" PRIu64 "\n", o->key, *(const uint64_t *)p);
			break;
		case SBX_OPT_BOOL:
		case SBX_OPT_SWITCH:
			fprintf(f, "%s = %s\n", o->key, *(const bool *)p ? "true" : "false");
			break;
		default:
			break;
		}
	}
}

/* Text in a Markdown table cell: '|' would end the cell, '<' open a tag. */
static void md_text(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else
			fputc(*s, f);
}

/* `--flag`, `NAME`, `key` or a dash. */
static void md_code(FILE *f, const char *prefix, const char *s)
{
	if (s)
		fprintf(f, " `%s%s` |", prefix, s);
	else
		fputs(" — |", f);
}

void sbx_opts_markdown(const struct sbx_opts *t, FILE *f)
{
	fputs("| flag | environment | config.toml | default | meaning |\n"
	      "|---|---|---|---|---|\n",
	      f);
	for (size_t i = 0; i < t->n_rows; i++) {
		const struct sbx_opt *o = &t->rows[i];
		bool text =
			o->type == SBX_OPT_STR || o->type == SBX_OPT_REF || o->type == SBX_OPT_LIST;

		if ((!o->flag && !o->env) || o->type == SBX_OPT_ACTION)
			continue;
		fputc('|', f);
		md_code(f, "--", o->flag);
		md_code(f, "", o->env);
		md_code(f, "", o->key);
		fputc(' ', f);
		if (o->def_help || !o->def)
			md_text(f, o->def_help ? o->def_help : "—");
		else if (text && !*o->def)
			fputs("none", f);
		else
			fprintf(f, text ? "`%s`" : "%s", o->def);
		fputs(" | ", f);
		md_text(f, o->help ? o->help : "");
		fputs(" |\n", f);
	}
}
