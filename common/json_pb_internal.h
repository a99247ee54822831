/* What the two halves of the JSON <-> protobuf mapper share: reading and
 * writing one field of a protobuf-c message through its descriptor.
 * json_pb.c implements these; json_pb_in.c and json_pb_out.c use them.
 * Private to common/: nothing outside the mapper includes this. */
#ifndef SBX_JSON_PB_INTERNAL_H
#define SBX_JSON_PB_INTERNAL_H

#include <stdint.h>

#include "json_pb.h"

/* Storage of field f inside m; for a repeated field, the array pointer. */
static inline void *jpb_member(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (char *)m + f->offset;
}

/* n_* of a repeated field, has_* of a proto2 optional scalar, the case
 * member of a oneof: protobuf-c keeps all three at quantifier_offset. */
static inline size_t *jpb_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (size_t *)((char *)m + f->quantifier_offset);
}
static inline protobuf_c_boolean *jpb_has(const ProtobufCMessage *m,
					  const ProtobufCFieldDescriptor *f)
{
	return (protobuf_c_boolean *)((char *)m + f->quantifier_offset);
}
static inline uint32_t *jpb_case(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (uint32_t *)((char *)m + f->quantifier_offset);
}

/* Scale of a field map entry: 0 (unset) and a NULL entry mean 1. */
static inline double jpb_scale(const struct jpb_field_map *fm)
{
	return fm && fm->scale != 0 ? fm->scale : 1;
}

/* d rounded to the nearest integer, halves away from zero; without libm,
 * which sbx_common does not link. Doubles from 2^52 up are integers. */
static inline double jpb_round(double d)
{
	if (d >= 0x1p52 || d <= -0x1p52 || d != d)
		return d;
	return (double)(int64_t)(d + (d < 0 ? -0.5 : 0.5));
}

/* Bytes one value of type t takes in a message or a repeated array. */
size_t jpb_elem_size(ProtobufCType t);
bool jpb_is_signed(ProtobufCType t);
bool jpb_is_integer(ProtobufCType t);
bool jpb_is_64(ProtobufCType t);
/* Whether f has a has_* flag (proto2 optional scalar or bytes). */
bool jpb_has_flag(const ProtobufCFieldDescriptor *f);
/* Whether f is a map<K,V> (a repeated KEntry message). */
bool jpb_is_map(const ProtobufCFieldDescriptor *f);
/* Whether f holds a value in m. Repeated fields and proto3 scalars always
 * do; proto2 optionals by has_*, oneof members by the case, messages when
 * the pointer is set. */
bool jpb_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* A fresh message of descriptor d (malloc + protobuf_c_message_init), NULL
 * when out of memory. */
ProtobufCMessage *jpb_message_new(const ProtobufCMessageDescriptor *d);
/* Release what one value of f at p owns (string, bytes, submessage); never
 * frees a pointer that is f's default. Leaves *p dangling. */
void jpb_free_value(const ProtobufCFieldDescriptor *f, void *p);
/* Make f absent in m: free its value or elements, restore the default,
 * clear has_* / n_* / the oneof case. A oneof member that is not the
 * selected one is left alone. */
void jpb_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/* Set single field f of m to *val (jpb_elem_size bytes, ownership passes
 * to m): the old value and any other member of f's oneof are released. */
void jpb_store(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const void *val);

/* Field named by a dotted path ("limits.memory_kb") under descriptor d, NULL
 * when a segment names no field or crosses a repeated or scalar field. */
const ProtobufCFieldDescriptor *jpb_path_field(const ProtobufCMessageDescriptor *d,
					       const char *path);
/* The message holding the last field of path, and that field. Missing
 * intermediate messages are created when `create`, else -ENODATA. -ENOENT
 * for a path that names no field (nothing changed), -ENOMEM. */
int jpb_resolve(ProtobufCMessage *m, const char *path, bool create, ProtobufCMessage **ret_m,
		const ProtobufCFieldDescriptor **ret_f);
/* The entry of map whose json key is `json`, or NULL (map may be NULL). */
const struct jpb_field_map *jpb_map_find(const struct jpb_field_map *map, const char *json);

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), 0 when
 * p does not start one. */
size_t jpb_utf8_seq(const unsigned char *p, size_t n);

#endif
