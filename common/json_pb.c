/* Field access through protobuf-c descriptors, shared by both directions of
 * the mapper. Whatever is stored here must stay freeable by
 * protobuf_c_message_free_unpacked(m, NULL): everything comes from malloc,
 * and a default pointer (protobuf_c_empty_string, a proto2 [default=])
 * is never freed and never written through. */
#include "json_pb_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t jpb_elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default: /* the 32-bit integers and enums */
		return sizeof(uint32_t);
	}
}

bool jpb_is_signed(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_INT32 || t == PROTOBUF_C_TYPE_SINT32 ||
	       t == PROTOBUF_C_TYPE_SFIXED32 || t == PROTOBUF_C_TYPE_INT64 ||
	       t == PROTOBUF_C_TYPE_SINT64 || t == PROTOBUF_C_TYPE_SFIXED64;
}

bool jpb_is_64(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_INT64 || t == PROTOBUF_C_TYPE_SINT64 ||
	       t == PROTOBUF_C_TYPE_SFIXED64 || t == PROTOBUF_C_TYPE_UINT64 ||
	       t == PROTOBUF_C_TYPE_FIXED64;
}

bool jpb_is_integer(ProtobufCType t)
{
	return jpb_is_signed(t) || jpb_is_64(t) || t == PROTOBUF_C_TYPE_UINT32 ||
	       t == PROTOBUF_C_TYPE_FIXED32;
}

bool jpb_has_flag(const ProtobufCFieldDescriptor *f)
{
	return f->label == PROTOBUF_C_LABEL_OPTIONAL && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	       f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

/* protoc-c drops the map_entry option, so recognise what protoc generates
 * for map<K,V>: a repeated message named <Field>Entry with exactly
 * `key = 1` and `value = 2`. */
bool jpb_is_map(const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *e = f->descriptor;
	size_t n;

	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return false;
	n = strlen(e->name);
	return e->n_fields == 2 && n > 5 && strcmp(e->name + n - 5, "Entry") == 0 &&
	       protobuf_c_message_descriptor_get_field(e, 1) &&
	       protobuf_c_message_descriptor_get_field(e, 2) &&
	       strcmp(protobuf_c_message_descriptor_get_field(e, 1)->name, "key") == 0 &&
	       strcmp(protobuf_c_message_descriptor_get_field(e, 2)->name, "value") == 0;
}

bool jpb_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	bool msg = f->type == PROTOBUF_C_TYPE_MESSAGE;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return true;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (*jpb_case(m, f) != f->id)
			return false;
	} else if (jpb_has_flag(f)) {
		return *jpb_has(m, f);
	} else if (f->type == PROTOBUF_C_TYPE_STRING && f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		return *(char **)jpb_member(m, f) != NULL;
	}
	return !msg || *(ProtobufCMessage **)jpb_member(m, f) != NULL;
}

ProtobufCMessage *jpb_message_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);

	if (m)
		protobuf_c_message_init(d, m);
	return m;
}

void jpb_free_value(const ProtobufCFieldDescriptor *f, void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		char *s = *(char **)p;

		if (s && s != f->default_value)
			free(s);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *bd = p;
		const ProtobufCBinaryData *def = f->default_value;

		if (bd->data && (!def || def->data != bd->data))
			free(bd->data);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sm = *(ProtobufCMessage **)p;

		if (sm && (const void *)sm != f->default_value)
			protobuf_c_message_free_unpacked(sm, NULL);
		break;
	}
	default:
		break;
	}
}

/* Put the value protobuf_c_message_init would have put at p. */
static void reset_value(const ProtobufCFieldDescriptor *f, void *p)
{
	size_t sz = jpb_elem_size(f->type);

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		*(char **)p = (char *)f->default_value;
		break;
	case PROTOBUF_C_TYPE_BYTES:
		if (f->default_value)
			*(ProtobufCBinaryData *)p = *(const ProtobufCBinaryData *)f->default_value;
		else
			*(ProtobufCBinaryData *)p = (ProtobufCBinaryData){0};
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)p = NULL;
		break;
	default:
		if (f->default_value)
			memcpy(p, f->default_value, sz);
		else
			memset(p, 0, sz);
	}
}

void jpb_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	void *p = jpb_member(m, f);

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		char *arr = *(char **)p;
		size_t *n = jpb_count(m, f), sz = jpb_elem_size(f->type);

		for (size_t i = 0; arr && i < *n; i++)
			jpb_free_value(f, arr + i * sz);
		free(arr);
		*(char **)p = NULL;
		*n = 0;
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		/* The members share storage: only the selected one may be freed. */
		if (*jpb_case(m, f) != f->id)
			return;
		jpb_free_value(f, p);
		memset(p, 0, jpb_elem_size(f->type));
		*jpb_case(m, f) = 0;
		return;
	}
	jpb_free_value(f, p);
	reset_value(f, p);
	if (jpb_has_flag(f))
		*jpb_has(m, f) = 0;
}

void jpb_store(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const void *val)
{
	bool oneof = f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF;

	if (oneof && *jpb_case(m, f) != 0 && *jpb_case(m, f) != f->id) {
		const ProtobufCFieldDescriptor *other =
			protobuf_c_message_descriptor_get_field(m->descriptor, *jpb_case(m, f));

		if (other)
			jpb_clear(m, other);
		*jpb_case(m, f) = 0;
	}
	jpb_clear(m, f);
	memcpy(jpb_member(m, f), val, jpb_elem_size(f->type));
	if (oneof)
		*jpb_case(m, f) = f->id;
	else if (jpb_has_flag(f))
		*jpb_has(m, f) = 1;
}

static const ProtobufCFieldDescriptor *field_n(const ProtobufCMessageDescriptor *d,
					       const char *name, size_t len)
{
	for (unsigned i = 0; i < d->n_fields; i++)
		if (strncmp(d->fields[i].name, name, len) == 0 && d->fields[i].name[len] == 0)
			return &d->fields[i];
	return NULL;
}

const ProtobufCFieldDescriptor *jpb_path_field(const ProtobufCMessageDescriptor *d,
					       const char *path)
{
	const ProtobufCFieldDescriptor *f;
	const char *dot;

	for (;;) {
		dot = strchr(path, '.');
		f = field_n(d, path, dot ? (size_t)(dot - path) : strlen(path));
		if (!f || !dot)
			return f;
		if (f->label == PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
			return NULL;
		d = f->descriptor;
		path = dot + 1;
	}
}

int jpb_resolve(ProtobufCMessage *m, const char *path, bool create, ProtobufCMessage **ret_m,
		const ProtobufCFieldDescriptor **ret_f)
{
	const ProtobufCFieldDescriptor *f;
	const char *dot;

	/* Check the whole path first so that a bad one creates nothing. */
	if (!jpb_path_field(m->descriptor, path))
		return -ENOENT;
	while ((dot = strchr(path, '.'))) {
		f = field_n(m->descriptor, path, (size_t)(dot - path));
		if (!jpb_present(m, f)) {
			ProtobufCMessage *sub;

			if (!create)
				return -ENODATA;
			sub = jpb_message_new(f->descriptor);
			if (!sub)
				return -ENOMEM;
			jpb_store(m, f, &sub);
		}
		m = *(ProtobufCMessage **)jpb_member(m, f);
		path = dot + 1;
	}
	*ret_m = m;
	*ret_f = field_n(m->descriptor, path, strlen(path));
	return 0;
}

const struct jpb_field_map *jpb_map_find(const struct jpb_field_map *map, const char *json)
{
	for (; map && map->json; map++)
		if (strcmp(map->json, json) == 0)
			return map;
	return NULL;
}

/* RFC 3629 Table 3-7: no overlong forms, no surrogates, nothing past
 * U+10FFFF, which is also what jansson accepts. */
size_t jpb_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0], lo = 0x80, hi = 0xBF;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0) {
		len = 2;
	} else if (c < 0xF0) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c < 0xF5) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

bool jpb_utf8_valid(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = jpb_utf8_seq(u + i, n - i)))
			return false;
	return true;
}
