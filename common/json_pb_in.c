/* JSON -> protobuf: jpb_from_json and jpb_set_from_string.
 *
 * Every value is parsed into a local `union slot` first and only stored
 * into the message once it is valid, so a failed request leaves nothing
 * half-owned: the caller frees the partial message with free_unpacked and
 * every pointer in it is either counted (n_*, has_*, oneof case) or NULL. */
#include "json_pb_internal.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

union slot {
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	float f;
	double d;
	protobuf_c_boolean b;
	char *s;
	ProtobufCBinaryData bd;
	ProtobufCMessage *msg;
};

struct ctx {
	const struct jpb_dialect *dl;
	char *err;
	size_t errlen;
	int depth;
	/* Depth of the messages the dialect's `in` map renames: the body
	 * object, or the elements of an in_wrap array. */
	int map_depth;
	/* Where in the request we are, for error messages: "files[2].path". */
	size_t plen;
	char path[256];
};

/* Parse functions return this, without writing err, when the JSON value has
 * the wrong kind; the caller knows whether to say "an integer" or "an array
 * of integers". */
#define WRONG_KIND (-EDOM)

static size_t push(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t push(struct ctx *c, const char *fmt, ...)
{
	size_t old = c->plen, room = sizeof(c->path) - old;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->path + old, room, fmt, ap);
	va_end(ap);
	c->plen = n < 0 ? old : (size_t)n >= room ? sizeof(c->path) - 1 : old + (size_t)n;
	return old;
}

static size_t push_name(struct ctx *c, const char *name)
{
	return push(c, c->plen ? ".%s" : "%s", name);
}

static void pop(struct ctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = 0;
}

/* One sentence naming the field being parsed; the body itself when the
 * failing value is the whole (in_wrap) body. */
static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...)
{
	char what[192];
	va_list ap;

	if (!c->err || !c->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->plen)
		snprintf(c->err, c->errlen, "field '%s' %s", c->path, what);
	else
		snprintf(c->err, c->errlen, "request body %s", what);
	return -EINVAL;
}

static int oom(struct ctx *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "out of memory");
	return -ENOMEM;
}

static const char *kind_noun(const ProtobufCFieldDescriptor *f, const struct jpb_field_map *fm,
			     bool plural)
{
	bool scaled = jpb_scale(fm) != 1;

	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return plural ? "numbers" : "a number";
	case PROTOBUF_C_TYPE_BOOL:
		return plural ? "booleans" : "true or false";
	case PROTOBUF_C_TYPE_MESSAGE:
		return plural ? "objects" : "an object";
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_ENUM:
		return plural ? "strings" : "a string";
	default:
		break;
	}
	if (jpb_is_signed(f->type))
		return scaled ? (plural ? "numbers" : "a number")
			      : (plural ? "integers" : "an integer");
	if (scaled)
		return plural ? "non-negative numbers" : "a non-negative number";
	return plural ? "non-negative integers" : "a non-negative integer";
}

/* Strict decimal: what strtod takes minus leading blanks, hex, inf and nan. */
static bool parse_double(const char *s, double *ret)
{
	char *end;
	double d;

	if (!(isdigit((unsigned char)*s) || *s == '-' || *s == '+' || *s == '.') ||
	    strpbrk(s, "xX"))
		return false;
	errno = 0;
	d = strtod(s, &end);
	if (*end || end == s || errno || !isfinite(d))
		return false;
	*ret = d;
	return true;
}

/* The exclusive bounds of an integer type as doubles (all exact powers of
 * two). */
static void int_bounds(bool sign, bool wide, double *lo, double *hi)
{
	*lo = sign ? (wide ? -0x1p63 : -0x1p31) : 0;
	*hi = sign ? -*lo : (wide ? 0x1p64 : 0x1p32);
}

/* The sentence for a value outside f's range, in the units of the JSON. */
static int out_of_range(struct ctx *c, const ProtobufCFieldDescriptor *f, double scale)
{
	bool sign = jpb_is_signed(f->type), wide = jpb_is_64(f->type);
	double lo, hi;

	int_bounds(sign, wide, &lo, &hi);
	if (scale != 1 && sign)
		return fail(c, "must be a number between %.15g and %.15g", lo / scale,
			    (hi - 1) / scale);
	if (scale != 1)
		return fail(c, "must be a non-negative number no larger than %.15g",
			    (hi - 1) / scale);
	if (sign)
		return fail(c, "must be an integer between %lld and %lld",
			    wide ? (long long)INT64_MIN : (long long)INT32_MIN,
			    wide ? (long long)INT64_MAX : (long long)INT32_MAX);
	return fail(c, "must be a non-negative integer no larger than %llu",
		    wide ? (unsigned long long)UINT64_MAX : (unsigned long long)UINT32_MAX);
}

static int parse_int(struct ctx *c, const ProtobufCFieldDescriptor *f, json_t *v,
		     const struct jpb_field_map *fm, bool str_ok, union slot *out)
{
	bool sign = jpb_is_signed(f->type), wide = jpb_is_64(f->type);
	double scale = jpb_scale(fm), d, r, lo, hi;
	int64_t sv = 0;
	uint64_t uv = 0;

	int_bounds(sign, wide, &lo, &hi);
	str_ok = str_ok || wide;
	if (json_is_string(v) && !str_ok)
		return WRONG_KIND;
	if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
		return WRONG_KIND;
	if (scale == 1 && json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;

		/* strtoll would also take blanks, '+' and, for unsigned, '-'. */
		if (!isdigit((unsigned char)s[0]) &&
		    !(sign && s[0] == '-' && isdigit((unsigned char)s[1])))
			return WRONG_KIND;
		errno = 0;
		if (sign)
			sv = strtoll(s, &end, 10);
		else
			uv = strtoull(s, &end, 10);
		if (*end)
			return WRONG_KIND;
		if (errno == ERANGE)
			return out_of_range(c, f, scale);
	} else if (scale == 1 && json_is_integer(v)) {
		json_int_t x = json_integer_value(v);

		if (!sign && x < 0)
			return WRONG_KIND;
		sv = x;
		uv = (uint64_t)x;
	} else if (scale != 1 && (json_is_number(v) || json_is_string(v))) {
		if (json_is_string(v) && !parse_double(json_string_value(v), &d))
			return WRONG_KIND;
		d = json_is_string(v) ? d * scale : json_number_value(v) * scale;
		if (!isfinite(d))
			return out_of_range(c, f, scale);
		r = jpb_round(d);
		/* Seconds in, milliseconds stored: 1.5 is fine, 1.0005 is not. */
		if (fabs(d - r) > 1e-9 * (fabs(d) > 1 ? fabs(d) : 1))
			return fail(c, "must be a multiple of %.15g", 1 / scale);
		if (!sign && r < 0)
			return WRONG_KIND;
		if (r < lo || r >= hi)
			return out_of_range(c, f, scale);
		if (sign)
			sv = (int64_t)r;
		else
			uv = (uint64_t)r;
	} else {
		return WRONG_KIND;
	}
	if (!wide && (sign ? (sv < INT32_MIN || sv > INT32_MAX) : uv > UINT32_MAX))
		return out_of_range(c, f, scale);
	if (wide)
		out->u64 = sign ? (uint64_t)sv : uv;
	else
		out->u32 = sign ? (uint32_t)(int32_t)sv : (uint32_t)uv;
	return 0;
}

static int parse_float(struct ctx *c, const ProtobufCFieldDescriptor *f, json_t *v,
		       const struct jpb_field_map *fm, union slot *out)
{
	double d;

	if (!json_is_number(v))
		return WRONG_KIND;
	d = json_number_value(v) * jpb_scale(fm);
	if (!isfinite(d) || (f->type == PROTOBUF_C_TYPE_FLOAT && fabs(d) > FLT_MAX))
		return fail(c, "must be a number of magnitude at most %g",
			    (f->type == PROTOBUF_C_TYPE_FLOAT ? FLT_MAX : DBL_MAX) / jpb_scale(fm));
	if (f->type == PROTOBUF_C_TYPE_FLOAT)
		out->f = (float)d;
	else
		out->d = d;
	return 0;
}

static void list_add(char *buf, size_t size, size_t *len, const char *s)
{
	int n;

	if (*len >= size)
		return;
	n = snprintf(buf + *len, size - *len, "%s%s", *len ? ", " : "", s);
	*len += n > 0 ? (size_t)n : 0;
}

/* The value the dialect's spelling s stands for, else s itself. The
 * catch-all (value NULL) is for output only. */
static const char *canonical(const struct jpb_field_map *fm, const char *s)
{
	for (const struct jpb_enum_alias *a = fm ? fm->enums : NULL; a && a->json; a++)
		if (a->value && strcmp(a->json, s) == 0)
			return a->value;
	return s;
}

/* Accepts the dialect's spellings, the canonical value names and the
 * numbers; the error lists what the client is expected to send. */
static int parse_enum(struct ctx *c, const ProtobufCFieldDescriptor *f, json_t *v,
		      const struct jpb_field_map *fm, union slot *out)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	const ProtobufCEnumValue *ev = NULL;
	const struct jpb_enum_alias *a;
	char list[160] = "";
	size_t len = 0, aliased;

	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		ev = protobuf_c_enum_descriptor_get_value_by_name(ed, canonical(fm, s));
	} else if (json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
		   json_integer_value(v) <= INT32_MAX) {
		ev = protobuf_c_enum_descriptor_get_value(ed, (int)json_integer_value(v));
	}
	if (ev) {
		out->i32 = ev->value;
		return 0;
	}
	for (a = fm ? fm->enums : NULL; a && a->json; a++)
		if (a->value)
			list_add(list, sizeof(list), &len, a->json);
	aliased = len;
	/* No spellings of its own (or only a catch-all): the canonical names. */
	for (unsigned i = 0; aliased == 0 && i < ed->n_values; i++)
		list_add(list, sizeof(list), &len, ed->values[i].name);
	return fail(c, "must be one of: %s", list);
}

static int b64_value(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

int jpb_b64_decode(const char *s, size_t n, ProtobufCBinaryData *out)
{
	uint8_t *p;
	size_t len = 0;
	unsigned acc = 0, bits = 0;

	while (n && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -EINVAL;
	p = malloc(n * 3 / 4 + 1);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)s[i]);

		if (v < 0) {
			free(p);
			return -EINVAL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[len++] = (uint8_t)(acc >> bits);
		}
	}
	if (!len) {
		free(p);
		p = NULL;
	}
	*out = (ProtobufCBinaryData){.len = len, .data = p};
	return 0;
}

static int parse_bytes(struct ctx *c, json_t *v, union slot *out)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	int r;

	if (!json_is_string(v))
		return WRONG_KIND;
	if (c->dl && c->dl->base64_bytes) {
		r = jpb_b64_decode(s, n, &out->bd);
		if (r == -ENOMEM)
			return oom(c);
		return r < 0 ? fail(c, "must be base64") : 0;
	}
	if (n && !(out->bd.data = malloc(n)))
		return oom(c);
	if (n)
		memcpy(out->bd.data, s, n);
	out->bd.len = n;
	return 0;
}

static int fill(struct ctx *c, ProtobufCMessage *m, json_t *obj);

static int parse_value(struct ctx *c, const ProtobufCFieldDescriptor *f, json_t *v,
		       const struct jpb_field_map *fm, bool str_ok, ProtobufCMessage *merge,
		       union slot *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (jpb_is_integer(f->type))
		return parse_int(c, f, v, fm, str_ok, out);
	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return parse_float(c, f, v, fm, out);
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return WRONG_KIND;
		out->b = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		return parse_enum(c, f, v, fm, out);
	case PROTOBUF_C_TYPE_STRING:
		if (!json_is_string(v))
			return WRONG_KIND;
		/* A C string would silently end at the NUL (argv, paths). */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return fail(c, "must not contain NUL characters");
		out->s = strdup(canonical(fm, json_string_value(v)));
		return out->s ? 0 : oom(c);
	case PROTOBUF_C_TYPE_BYTES:
		return parse_bytes(c, v, out);
	case PROTOBUF_C_TYPE_MESSAGE:
		if (!json_is_object(v))
			return WRONG_KIND;
		out->msg = merge ? merge : jpb_message_new(f->descriptor);
		if (!out->msg)
			return oom(c);
		r = fill(c, out->msg, v);
		if (r < 0 && !merge)
			protobuf_c_message_free_unpacked(out->msg, NULL);
		return r;
	default:
		return fail(c, "has a type this service cannot read");
	}
}

static int set_array(struct ctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		     json_t *v, const struct jpb_field_map *fm)
{
	size_t n, i, sz = jpb_elem_size(f->type), *count;
	union slot s;
	json_t *e;
	char *arr;
	int r;

	if (!json_is_array(v))
		return fail(c, "must be an array of %s", kind_noun(f, fm, true));
	n = json_array_size(v);
	if (n > JPB_MAX_REPEATED)
		return fail(c, "has more than %d elements", JPB_MAX_REPEATED);
	jpb_clear(m, f);
	if (!n)
		return 0;
	arr = calloc(n, sz);
	if (!arr)
		return oom(c);
	*(char **)jpb_member(m, f) = arr;
	count = jpb_count(m, f);
	json_array_foreach(v, i, e) {
		size_t old = push(c, "[%zu]", i);

		r = parse_value(c, f, e, fm, false, NULL, &s);
		pop(c, old);
		if (r == WRONG_KIND)
			return fail(c, "must be an array of %s", kind_noun(f, fm, true));
		if (r < 0)
			return r;
		memcpy(arr + i * sz, &s, sz);
		(*count)++;
	}
	return 0;
}

/* A string (query parameter, map key) as the JSON value a client would have
 * sent for field f, so that both go through parse_value. */
static json_t *string_json(const ProtobufCFieldDescriptor *f, const struct jpb_field_map *fm,
			   const char *s)
{
	double d;
	char *end;
	long v;

	/* An enum number is a JSON integer, but only when no value has that name. */
	if (f->type == PROTOBUF_C_TYPE_ENUM &&
	    !protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, s) &&
	    (isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1])))) {
		errno = 0;
		v = strtol(s, &end, 10);
		if (!*end && !errno)
			return json_integer(v);
	}
	if (f->type == PROTOBUF_C_TYPE_BOOL && (!strcmp(s, "true") || !strcmp(s, "1")))
		return json_true();
	if (f->type == PROTOBUF_C_TYPE_BOOL && (!strcmp(s, "false") || !strcmp(s, "0")))
		return json_false();
	if ((f->type == PROTOBUF_C_TYPE_FLOAT || f->type == PROTOBUF_C_TYPE_DOUBLE ||
	     (jpb_is_integer(f->type) && jpb_scale(fm) != 1)) &&
	    parse_double(s, &d))
		return json_real(d);
	return json_stringn_nocheck(s, strlen(s));
}

static int set_map(struct ctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, json_t *v,
		   const struct jpb_field_map *fm)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = protobuf_c_message_descriptor_get_field(ed, 1);
	const ProtobufCFieldDescriptor *vf = protobuf_c_message_descriptor_get_field(ed, 2);
	ProtobufCMessage **arr;
	const char *key;
	size_t n, *count;
	union slot s;
	json_t *e;
	int r;

	if (!json_is_object(v))
		return fail(c, "must be an object");
	n = json_object_size(v);
	if (n > JPB_MAX_REPEATED)
		return fail(c, "has more than %d entries", JPB_MAX_REPEATED);
	jpb_clear(m, f);
	if (!n)
		return 0;
	arr = calloc(n, sizeof(*arr));
	if (!arr)
		return oom(c);
	*(ProtobufCMessage ***)jpb_member(m, f) = arr;
	count = jpb_count(m, f);
	json_object_foreach(v, key, e) {
		ProtobufCMessage *entry = jpb_message_new(ed);
		json_t *kj = entry ? string_json(kf, NULL, key) : NULL;
		size_t old;

		if (!kj) {
			protobuf_c_message_free_unpacked(entry, NULL);
			return oom(c);
		}
		r = parse_value(c, kf, kj, NULL, true, NULL, &s);
		json_decref(kj);
		if (r == WRONG_KIND)
			r = fail(c, "must have keys that are %s", kind_noun(kf, NULL, true));
		if (r == 0) {
			jpb_store(entry, kf, &s);
			old = push(c, ".%s", key);
			r = parse_value(c, vf, e, fm, false, NULL, &s);
			if (r == WRONG_KIND)
				r = fail(c, "must be %s", kind_noun(vf, fm, false));
			pop(c, old);
		}
		if (r < 0) {
			protobuf_c_message_free_unpacked(entry, NULL);
			return r;
		}
		jpb_store(entry, vf, &s);
		arr[(*count)++] = entry;
	}
	return 0;
}

/* JSON null means absent; a message already present is merged into, so a
 * dialect's "timeout" and a canonical "limits" object can both fill Limits. */
static int set_field(struct ctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		     json_t *v, const struct jpb_field_map *fm)
{
	ProtobufCMessage *merge = NULL;
	union slot s;
	int r;

	if (json_is_null(v)) {
		jpb_clear(m, f);
		return 0;
	}
	if (jpb_is_map(f))
		return set_map(c, m, f, v, fm);
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return set_array(c, m, f, v, fm);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && jpb_present(m, f))
		merge = *(ProtobufCMessage **)jpb_member(m, f);
	r = parse_value(c, f, v, fm, false, merge, &s);
	if (r == WRONG_KIND)
		return fail(c, "must be %s", kind_noun(f, fm, false));
	if (r == 0 && !(merge && s.msg == merge))
		jpb_store(m, f, &s);
	return r;
}

static int set_path(struct ctx *c, ProtobufCMessage *m, const struct jpb_field_map *fm, json_t *v)
{
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *target;
	int r;

	/* A key the dialect maps nowhere is accepted and dropped. */
	if (!fm->path)
		return 0;
	/* Null under an absent message is already absent: create nothing. */
	r = jpb_resolve(m, fm->path, !json_is_null(v), &target, &f);
	if (r == -ENODATA)
		return 0;
	if (r == -ENOMEM)
		return oom(c);
	if (r < 0)
		return fail(c, "is not supported");
	return set_field(c, target, f, v, fm);
}

static int fill(struct ctx *c, ProtobufCMessage *m, json_t *obj)
{
	const struct jpb_field_map *map = NULL, *fm;
	const ProtobufCFieldDescriptor *f;
	const char *key;
	json_t *v;
	int r = 0;

	if (++c->depth > JPB_MAX_DEPTH) {
		c->depth--;
		return fail(c, "nests deeper than %d levels", JPB_MAX_DEPTH);
	}
	if (c->dl && c->depth == c->map_depth)
		map = c->dl->in;
	json_object_foreach(obj, key, v) {
		size_t old = push_name(c, key);

		if ((fm = jpb_map_find(map, key)))
			r = set_path(c, m, fm, v);
		else if ((f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, key)))
			r = set_field(c, m, f, v, NULL);
		pop(c, old);
		if (r < 0)
			break;
	}
	c->depth--;
	return r;
}

int jpb_from_json(const ProtobufCMessageDescriptor *d, json_t *in,
		  const struct jpb_dialect *dialect, ProtobufCMessage **ret, char *err,
		  size_t errlen)
{
	struct ctx c = {.dl = dialect, .err = err, .errlen = errlen, .map_depth = 1};
	bool wrap = dialect && dialect->in_wrap;
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *m, *target;
	int r;

	if (wrap ? !json_is_array(in) : !json_is_object(in))
		return fail(&c, "must be a JSON %s", wrap ? "array" : "object");
	m = jpb_message_new(d);
	if (!m)
		return oom(&c);
	if (wrap) {
		/* The wrapper is level 1; the dialect renames the elements' keys. */
		c.depth = 1;
		c.map_depth = 2;
		r = jpb_resolve(m, dialect->in_wrap, true, &target, &f);
		if (r == 0 && f->label != PROTOBUF_C_LABEL_REPEATED)
			r = -ENOENT;
		if (r == 0)
			r = set_field(&c, target, f, in, NULL);
		else
			r = r == -ENOMEM ? oom(&c) : fail(&c, "cannot be an array");
	} else {
		r = fill(&c, m, in);
	}
	if (r < 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return r;
	}
	*ret = m;
	return 0;
}

int jpb_set_from_string(ProtobufCMessage *m, const char *json_name, const char *value,
			const struct jpb_dialect *dialect, char *err, size_t errlen)
{
	struct ctx c = {.dl = dialect, .err = err, .errlen = errlen};
	const struct jpb_field_map *fm = dialect ? jpb_map_find(dialect->in, json_name) : NULL;
	const char *path = fm ? fm->path : json_name;
	const ProtobufCFieldDescriptor *f = path ? jpb_path_field(m->descriptor, path) : NULL;
	ProtobufCMessage *target;
	union slot s;
	json_t *j;
	int r;

	push_name(&c, json_name);
	if (!f) {
		fail(&c, "does not exist");
		return -ENOENT;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return fail(&c, "cannot be given as a single value");
	if (!jpb_utf8_valid(value, strlen(value)))
		return fail(&c, "must be UTF-8 text");
	j = string_json(f, fm, value);
	if (!j)
		return oom(&c);
	r = parse_value(&c, f, j, fm, true, NULL, &s);
	json_decref(j);
	if (r == WRONG_KIND)
		return fail(&c, "must be %s", kind_noun(f, fm, false));
	if (r < 0)
		return r;
	r = jpb_resolve(m, path, true, &target, &f);
	if (r == 0 && f->label == PROTOBUF_C_LABEL_REPEATED) {
		/* Repeated query parameters (?lang=c&lang=go) append. */
		size_t *n = jpb_count(target, f), sz = jpb_elem_size(f->type);
		char **arr = jpb_member(target, f), *grown;

		if (*n >= JPB_MAX_REPEATED) {
			r = fail(&c, "has more than %d elements", JPB_MAX_REPEATED);
		} else if (!(grown = realloc(*arr, (*n + 1) * sz))) {
			r = oom(&c);
		} else {
			*arr = grown;
			memcpy(grown + (*n)++ * sz, &s, sz);
			return 0;
		}
	} else if (r == 0) {
		jpb_store(target, f, &s);
		return 0;
	}
	jpb_free_value(f, &s);
	return r == -ENOMEM ? oom(&c) : r;
}
