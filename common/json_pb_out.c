/* protobuf -> JSON: jpb_to_json. Replies come from the daemon, so nothing
 * here can fail on content: invalid UTF-8 (a program's stdout) is repaired,
 * non-finite numbers print as null, and only allocation failure gives NULL. */
#include "json_pb_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct octx {
	const struct jpb_dialect *dl;
	int depth;
};

/* p[0..n) with every byte that starts no well-formed sequence replaced by
 * U+FFFD; NULL when out of memory. */
static char *utf8_fix(const char *p, size_t n, size_t *ret_len)
{
	const unsigned char *u = (const unsigned char *)p;
	char *out = malloc(n * 3 + 1), *o = out;
	size_t k;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += k) {
		k = jpb_utf8_seq(u + i, n - i);
		if (k) {
			memcpy(o, p + i, k);
			o += k;
		} else {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
			k = 1;
		}
	}
	*o = 0;
	*ret_len = (size_t)(o - out);
	return out;
}

static json_t *text_json(const char *p, size_t n)
{
	json_t *j;
	size_t len;
	char *fixed;

	if (!p)
		return json_string_nocheck("");
	if (jpb_utf8_valid(p, n))
		return json_stringn_nocheck(p, n);
	fixed = utf8_fix(p, n, &len);
	j = fixed ? json_stringn_nocheck(fixed, len) : NULL;
	free(fixed);
	return j;
}

/* json_object_set_new, but for any key bytes and taking a NULL value as the
 * allocation failure it is. */
static int put(json_t *obj, const char *key, json_t *v)
{
	size_t len;
	char *fixed;
	int r;

	if (!v)
		return -1;
	if (jpb_utf8_valid(key, strlen(key)))
		return json_object_set_new_nocheck(obj, key, v);
	fixed = utf8_fix(key, strlen(key), &len);
	r = fixed ? json_object_set_new_nocheck(obj, fixed, v) : (json_decref(v), -1);
	free(fixed);
	return r;
}

static json_t *b64_json(const uint8_t *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	json_t *j;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	j = json_stringn_nocheck(out, (size_t)(o - out));
	free(out);
	return j;
}

/* A scaled integer: 1500 ms at scale 1000 is 1.5, 2000 ms is 2 (not 2.0). */
static json_t *number_json(double d)
{
	if (!isfinite(d))
		return json_null();
	if (fabs(d) < 0x1p53 && d == jpb_round(d))
		return json_integer((json_int_t)d);
	return json_real(d);
}

static json_t *signed_json(int64_t v, double scale, bool zero_null)
{
	if (zero_null && v == 0)
		return json_null();
	return scale != 1 ? number_json((double)v / scale) : json_integer(v);
}

static json_t *unsigned_json(uint64_t v, double scale, bool zero_null)
{
	char buf[24];

	if (zero_null && v == 0)
		return json_null();
	if (scale != 1)
		return number_json((double)v / scale);
	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	/* Past json_int_t: the decimal string the input side accepts back. */
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string_nocheck(buf);
}

static json_t *float_json(double d, double scale, bool zero_null)
{
	d /= scale;
	return (zero_null && d == 0) || !isfinite(d) ? json_null() : json_real(d);
}

/* The dialect's spelling of value `name` (NULL: a number the enum lacks):
 * its alias, else the catch-all, else NULL when the field has none. */
static const char *alias_for(const struct jpb_field_map *fm, const char *name)
{
	const struct jpb_enum_alias *a, *other = NULL;

	for (a = fm ? fm->enums : NULL; a && a->json; a++) {
		if (!a->value && !other)
			other = a;
		else if (a->value && name && strcmp(a->value, name) == 0)
			return a->json;
	}
	return other ? other->json : NULL;
}

/* Unaliased, the canonical name; a number no value of the enum has prints
 * as that number. */
static json_t *enum_json(const ProtobufCFieldDescriptor *f, int v, const struct jpb_field_map *fm)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
	const char *alias = alias_for(fm, ev ? ev->name : NULL);

	if (alias)
		return json_string(alias);
	return ev ? json_string_nocheck(ev->name) : json_integer(v);
}

static json_t *message_json(struct octx *o, const ProtobufCMessage *m);

static json_t *value_json(struct octx *o, const ProtobufCFieldDescriptor *f, const void *p,
			  const struct jpb_field_map *fm, bool zero_null)
{
	double scale = jpb_scale(fm);
	const ProtobufCBinaryData *bd = p;
	const char *s;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return signed_json(*(const int32_t *)p, scale, zero_null);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return signed_json(*(const int64_t *)p, scale, zero_null);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return unsigned_json(*(const uint32_t *)p, scale, zero_null);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return unsigned_json(*(const uint64_t *)p, scale, zero_null);
	case PROTOBUF_C_TYPE_FLOAT:
		return float_json(*(const float *)p, scale, zero_null);
	case PROTOBUF_C_TYPE_DOUBLE:
		return float_json(*(const double *)p, scale, zero_null);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM:
		return enum_json(f, *(const int *)p, fm);
	case PROTOBUF_C_TYPE_STRING:
		s = *(char *const *)p;
		if (zero_null && (!s || !*s))
			return json_null();
		/* A string with a closed set of values ("ok") may be respelled
		 * like an enum ("healthy"). */
		if (fm && fm->enums && alias_for(fm, s ? s : ""))
			return json_string(alias_for(fm, s ? s : ""));
		return text_json(s, s ? strlen(s) : 0);
	case PROTOBUF_C_TYPE_BYTES:
		if (zero_null && !bd->len)
			return json_null();
		if (o->dl && o->dl->base64_bytes)
			return b64_json(bd->data, bd->len);
		return text_json((const char *)bd->data, bd->len);
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)p
			       ? message_json(o, *(ProtobufCMessage *const *)p)
			       : json_null();
	default:
		return json_null();
	}
}

static json_t *map_json(struct octx *o, const ProtobufCMessage *m,
			const ProtobufCFieldDescriptor *f, const struct jpb_field_map *fm)
{
	const ProtobufCFieldDescriptor *kf =
		protobuf_c_message_descriptor_get_field(f->descriptor, 1);
	const ProtobufCFieldDescriptor *vf =
		protobuf_c_message_descriptor_get_field(f->descriptor, 2);
	ProtobufCMessage *const *arr = *(ProtobufCMessage * *const *)jpb_member(m, f);
	size_t n = *jpb_count(m, f);
	json_t *obj = json_object();

	for (size_t i = 0; obj && i < n; i++) {
		const void *k = jpb_member(arr[i], kf);
		char buf[24];
		const char *key = buf;
		json_t *v;

		/* JSON keys are strings: numbers and bools print as they parse. */
		if (kf->type == PROTOBUF_C_TYPE_STRING)
			key = *(char *const *)k ? *(char *const *)k : "";
		else if (kf->type == PROTOBUF_C_TYPE_BOOL)
			key = *(const protobuf_c_boolean *)k ? "true" : "false";
		else if (jpb_is_signed(kf->type))
			snprintf(buf, sizeof(buf), "%" PRId64,
				 jpb_is_64(kf->type) ? *(const int64_t *)k : *(const int32_t *)k);
		else
			snprintf(buf, sizeof(buf), "%" PRIu64,
				 jpb_is_64(kf->type) ? *(const uint64_t *)k : *(const uint32_t *)k);
		v = value_json(o, vf, jpb_member(arr[i], vf), fm, false);
		if (put(obj, key, v) < 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

/* A present field's value: repeated as an array, map as an object. */
static json_t *field_json(struct octx *o, const ProtobufCMessage *m,
			  const ProtobufCFieldDescriptor *f, const struct jpb_field_map *fm)
{
	size_t n, sz = jpb_elem_size(f->type);
	const char *arr;
	json_t *a;

	if (jpb_is_map(f))
		return map_json(o, m, f, fm);
	if (f->label != PROTOBUF_C_LABEL_REPEATED)
		return value_json(o, f, jpb_member(m, f), fm, fm && fm->zero_is_null);
	a = json_array();
	arr = *(char *const *)jpb_member(m, f);
	n = *jpb_count(m, f);
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, value_json(o, f, arr + i * sz, fm, false)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Canonical mapping. Messages this deep do not come from our protos; they
 * print as null rather than recursing without bound. */
static json_t *message_json(struct octx *o, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_t *obj;

	if (o->depth >= JPB_MAX_DEPTH)
		return json_null();
	obj = json_object();
	o->depth++;
	for (unsigned i = 0; obj && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (jpb_present(m, f) && put(obj, f->name, field_json(o, m, f, NULL)) < 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	o->depth--;
	return obj;
}

/* Does m's enum at the path before '=' have the value named after it? */
static bool when_holds(const ProtobufCMessage *m, const char *cond)
{
	const ProtobufCFieldDescriptor *f;
	const ProtobufCEnumValue *ev;
	ProtobufCMessage *holder;
	const char *eq = cond ? strchr(cond, '=') : NULL;
	char path[128];

	if (!eq || (size_t)(eq - cond) >= sizeof(path))
		return cond == NULL;
	memcpy(path, cond, (size_t)(eq - cond));
	path[eq - cond] = 0;
	if (jpb_resolve((ProtobufCMessage *)m, path, false, &holder, &f) < 0 ||
	    f->type != PROTOBUF_C_TYPE_ENUM || f->label == PROTOBUF_C_LABEL_REPEATED)
		return false;
	ev = protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, eq + 1);
	return ev && *(const int *)jpb_member(holder, f) == ev->value;
}

/* fm's or_path text when v is empty and or_when holds; else v. */
static json_t *or_value(const ProtobufCMessage *m, const struct jpb_field_map *fm, json_t *v)
{
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *holder;
	const char *s;

	if (!fm->or_path || !v ||
	    !(json_is_null(v) || (json_is_string(v) && !json_string_length(v))))
		return v;
	if (!when_holds(m, fm->or_when) ||
	    jpb_resolve((ProtobufCMessage *)m, fm->or_path, false, &holder, &f) < 0 ||
	    f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
		return v;
	s = *(char *const *)jpb_member(holder, f);
	if (!s || !*s)
		return v;
	json_decref(v);
	return text_json(s, strlen(s));
}

static bool is_empty(const json_t *v)
{
	return json_is_null(v) || json_is_false(v) ||
	       (json_is_string(v) && !json_string_length(v)) ||
	       (json_is_number(v) && json_number_value(v) == 0);
}

/* The reply's top-level object: the dialect's projection, or canonical. */
static json_t *top_json(struct octx *o, const ProtobufCMessage *m)
{
	const struct jpb_field_map *fm;
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *holder;
	json_t *obj, *v;

	if (!o->dl || !o->dl->out)
		return message_json(o, m);
	obj = json_object();
	for (fm = o->dl->out; obj && fm->json; fm++) {
		/* Without `create`, resolving only reads: the cast is safe. */
		if (fm->path &&
		    jpb_resolve((ProtobufCMessage *)m, fm->path, false, &holder, &f) == 0 &&
		    jpb_present(holder, f))
			v = field_json(o, holder, f, fm);
		else
			v = json_null();
		v = or_value(m, fm, v);
		if (fm->omit_empty && v && is_empty(v)) {
			json_decref(v);
			continue;
		}
		if (put(obj, fm->json, v) < 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

json_t *jpb_to_json(const ProtobufCMessage *m, const struct jpb_dialect *dialect)
{
	struct octx o = {.dl = dialect};
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *holder;
	ProtobufCMessage *const *arr;
	json_t *a;
	size_t n;

	if (!m)
		return json_null();
	if (!dialect || !dialect->out_unwrap)
		return top_json(&o, m);
	if (jpb_resolve((ProtobufCMessage *)m, dialect->out_unwrap, false, &holder, &f) < 0 ||
	    f->label != PROTOBUF_C_LABEL_REPEATED)
		return json_array();
	if (f->type != PROTOBUF_C_TYPE_MESSAGE || jpb_is_map(f))
		return field_json(&o, holder, f, NULL);
	/* A list of messages: the projection, if any, applies to each one. */
	a = json_array();
	arr = *(ProtobufCMessage * *const *)jpb_member(holder, f);
	n = *jpb_count(holder, f);
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, top_json(&o, arr[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}
