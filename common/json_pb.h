/* The one JSON <-> protobuf mapper. It walks protobuf-c message descriptors;
 * no endpoint has JSON code of its own. Where a seed's JSON differs from the
 * canonical message (other names, other units, enum spellings, a bare array
 * body), the difference is a `struct jpb_dialect`: data, not code.
 *
 * Canonical mapping (no dialect): JSON names are the proto field names;
 * int32/sint32/sfixed32/uint32/fixed32 and 64-bit integers are JSON integers
 * (64-bit also accepted as decimal strings); float/double are JSON numbers;
 * bool is true/false; enum is its value name (also accepted: the integer);
 * string is a UTF-8 string; bytes is a string taken verbatim as UTF-8 text
 * (sandbox I/O is text; the `base64` dialect flag switches to base64);
 * message is an object; repeated is an array; map<string,V> is an object.
 * proto2 optional scalars set has_*; proto3 scalars are always emitted. */
#ifndef SBX_JSON_PB_H
#define SBX_JSON_PB_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

/* Limits on what a request may make the mapper build. */
#define JPB_MAX_DEPTH 16
#define JPB_MAX_REPEATED 4096

/* One renamed field. `json` is the seed's key; `path` the canonical field,
 * dotted for nesting ("limits.cpu_time_ms"). Numbers are multiplied by
 * `scale` on the way in and divided on the way out (0 means 1): a seed's
 * `timeout` in seconds onto `limits.wall_time_ms` has scale 1000. */
struct jpb_enum_alias {
	const char *json;   /* the seed's spelling, e.g. "success" */
	const char *value;  /* the canonical enum value name, e.g. "EXEC_STATUS_OK" */
};
struct jpb_field_map {
	const char *json;
	const char *path;
	double scale;
	/* enum spellings for this field, ending with {NULL, NULL}; on output a
	 * value without alias prints as the entry whose value is NULL, if any
	 * (a catch-all like {"error", NULL}), else as its canonical name. */
	const struct jpb_enum_alias *enums;
	bool zero_is_null;  /* on output, a numeric 0 / empty string prints as null */
	/* On output, when this field is empty, the string field at `or_path`
	 * instead, if the enum condition `or_when` ("path=VALUE_NAME") holds:
	 * OpenSandbox's stderr says why a run could not start
	 * ({.json = "stderr", .path = "stderr", .or_path = "error",
	 *   .or_when = "status=EXEC_STATUS_INTERNAL_ERROR"}). */
	const char *or_path;
	const char *or_when;
	/* On output, the key is left out when the value is absent, null, 0,
	 * false or an empty string: Piston's optional `runtime`. */
	bool omit_empty;
};

struct jpb_dialect {
	const char *name;
	/* Request side: keys renamed before canonical mapping; keys not in the
	 * map keep their canonical meaning. */
	const struct jpb_field_map *in;
	/* Reply side: when `out` is non-NULL the reply object has exactly these
	 * keys, in this order (a projection); absent -> null. */
	const struct jpb_field_map *out;
	/* Request body is a bare JSON array that fills this repeated field. */
	const char *in_wrap;
	/* Reply is this repeated field alone, printed as a bare JSON array. */
	const char *out_unwrap;
	bool base64_bytes;
	/* The seed's request defaults: a JSON object text in the seed's own
	 * names and units (`{"time": 5000}`), or NULL. The mapper ignores it;
	 * the caller (sandbox-gateway, before jpb_from_json) adds each key the
	 * request object lacks (json_object_update_missing: shallow, and a key
	 * sent as null counts as sent). An empty body counts as {}. */
	const char *defaults;
	/* The key of the seed's error body, {"<error_key>": "sentence"};
	 * NULL: "error". The mapper ignores it; sandbox-gateway answers every
	 * error of a route with this dialect so (Piston's {"message": ...}). */
	const char *error_key;
};

/* Build a message of descriptor d from JSON `in` (an object, or an array
 * when dialect->in_wrap). Unknown keys are ignored. On failure returns
 * -EINVAL and writes one clear sentence to err (e.g. "field 'limits.memory_kb'
 * must be a non-negative integer"), nothing allocated. Free the message with
 * protobuf_c_message_free_unpacked(*ret, NULL). dialect may be NULL. */
int jpb_from_json(const ProtobufCMessageDescriptor *d, json_t *in, const struct jpb_dialect *dialect,
		  ProtobufCMessage **ret, char *err, size_t errlen);

/* Set one field of an existing message (as built by jpb_from_json) from a
 * string, for path parameters and query strings: "42" for integers,
 * "true"/"false"/"1"/"0" for bools. The field name goes through the
 * dialect's `in` map first. -EINVAL with err filled on a bad value,
 * -ENOENT when no such field. */
int jpb_set_from_string(ProtobufCMessage *m, const char *json_name, const char *value,
			const struct jpb_dialect *dialect, char *err, size_t errlen);

/* Decode base64 (standard or URL-safe alphabet, padding optional) s[0..n)
 * into *out (data malloc'd, NULL when empty), as the `base64_bytes`
 * dialects read bytes. 0, -EINVAL on a character or length that is not
 * base64, -ENOMEM. */
int jpb_b64_decode(const char *s, size_t n, ProtobufCBinaryData *out);

/* JSON for message m, per the canonical mapping or the dialect. NULL only
 * on allocation failure. The caller owns the reference. */
json_t *jpb_to_json(const ProtobufCMessage *m, const struct jpb_dialect *dialect);

/* Whether p[0..n) is well-formed UTF-8 (what a proto3 string must hold). */
bool jpb_utf8_valid(const char *p, size_t n);

#endif
