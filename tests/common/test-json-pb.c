/* The JSON <-> protobuf mapper (common/json_pb*.c): every field kind in
 * both directions, errors, limits, dialects, and the real api.proto
 * messages. ASan reports any leak on the error paths. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "alltypes.pb-c.h"
#include "alltypes2.pb-c.h"
#include "api.pb-c.h"
#include "json_pb.h"
#include "testlib.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

	if (!j) {
		fprintf(stderr, "bad test JSON %s: %s\n", text, e.text);
		abort();
	}
	return j;
}

/* Parse text into a message, expecting success. */
static ProtobufCMessage *in_ok_(const char *file, int line, const ProtobufCMessageDescriptor *d,
				const char *text, const struct jpb_dialect *dl)
{
	ProtobufCMessage *m = NULL;
	char err[256] = "";
	json_t *j = J(text);
	int r = jpb_from_json(d, j, dl, &m, err, sizeof(err));

	json_decref(j);
	if (r == 0 && m) {
		tl_passed++;
		return m;
	}
	tl_fail(file, line, text, "r=%d err='%s'", r, err);
	return NULL;
}
#define in_ok(d, text, dl) in_ok_(__FILE__, __LINE__, d, text, dl)

/* Parse text, expecting -EINVAL with exactly this error and no message. */
static void in_err_(const char *file, int line, const ProtobufCMessageDescriptor *d,
		    const char *text, const struct jpb_dialect *dl, const char *want)
{
	ProtobufCMessage *m = (ProtobufCMessage *)1;
	char err[256] = "";
	json_t *j = J(text);
	int r = jpb_from_json(d, j, dl, &m, err, sizeof(err));

	json_decref(j);
	if (r == -EINVAL && strcmp(err, want) == 0 && m == (ProtobufCMessage *)1) {
		tl_passed++;
		return;
	}
	tl_fail(file, line, text, "r=%d err='%s' want '%s'", r, err, want);
	if (r == 0)
		protobuf_c_message_free_unpacked(m, NULL);
}
#define in_err(d, text, dl, want) in_err_(__FILE__, __LINE__, d, text, dl, want)

/* jpb_to_json(m) compared with `want` (any key order), decref'd. */
static void out_eq_(const char *file, int line, const ProtobufCMessage *m,
		    const struct jpb_dialect *dl, const char *want)
{
	json_t *got = jpb_to_json(m, dl), *w = J(want);
	char *s = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	if (got && json_equal(got, w))
		tl_passed++;
	else
		tl_fail(file, line, want, "got %s", s ? s : "(null)");
	free(s);
	json_decref(got);
	json_decref(w);
}
#define out_eq(m, dl, want) out_eq_(__FILE__, __LINE__, m, dl, want)

/* Exact text, so key order (a projection's) is checked too. */
static void out_str_(const char *file, int line, const ProtobufCMessage *m,
		     const struct jpb_dialect *dl, const char *want)
{
	json_t *got = jpb_to_json(m, dl);
	char *s = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	if (s && strcmp(s, want) == 0)
		tl_passed++;
	else
		tl_fail(file, line, want, "got %s", s ? s : "(null)");
	free(s);
	json_decref(got);
}
#define out_str(m, dl, want) out_str_(__FILE__, __LINE__, m, dl, want)

static void set_ok_(const char *file, int line, ProtobufCMessage *m, const char *name,
		    const char *value, const struct jpb_dialect *dl)
{
	char err[256] = "";
	int r = jpb_set_from_string(m, name, value, dl, err, sizeof(err));

	if (r == 0)
		tl_passed++;
	else
		tl_fail(file, line, name, "r=%d err='%s'", r, err);
}
#define set_ok(m, name, value, dl) set_ok_(__FILE__, __LINE__, m, name, value, dl)

static void set_err_(const char *file, int line, ProtobufCMessage *m, const char *name,
		     const char *value, const struct jpb_dialect *dl, int want_r, const char *want)
{
	char err[256] = "";
	int r = jpb_set_from_string(m, name, value, dl, err, sizeof(err));

	if (r == want_r && strcmp(err, want) == 0)
		tl_passed++;
	else
		tl_fail(file, line, name, "r=%d err='%s' want '%s'", r, err, want);
}
#define set_err(m, name, value, dl, r, want)                                                       \
	set_err_(__FILE__, __LINE__, m, name, value, dl, r, want)

/* CHECK_STR on a char array trips -Waddress. */
#define CHECK_ERR(buf, want)                                                                       \
	do {                                                                                       \
		const char *e_ = (buf);                                                            \
		CHECK_STR(e_, want);                                                               \
	} while (0)

static void fr(void *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

/* Pack to the wire and back: what we built is a valid message. */
static ProtobufCMessage *wire_round_trip(const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	ProtobufCMessage *back;

	protobuf_c_message_pack(m, buf);
	back = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
	free(buf);
	return back;
}

static const char all3_json[] =
	"{\"i32\":-5,\"s32\":-6,\"sf32\":-7,\"u32\":4000000000,\"f32\":4294967295,"
	"\"i64\":-9007199254740993,\"s64\":-2,\"sf64\":-3,\"u64\":9223372036854775807,\"f64\":5,"
	"\"fl\":1.5,\"db\":-2.25,\"b\":true,\"color\":\"COLOR_GREEN\",\"str\":\"h\\u00e9llo\","
	"\"by\":\"raw\\u0000bytes\",\"inner\":{\"name\":\"in\",\"n\":3},"
	"\"r_i32\":[1,-2],\"r_s32\":[-3],\"r_sf32\":[4],\"r_u32\":[5,4294967295],\"r_f32\":[6],"
	"\"r_i64\":[-7],\"r_s64\":[8],\"r_sf64\":[-9],\"r_u64\":[10],\"r_f64\":[11],"
	"\"r_fl\":[0.5],\"r_db\":[0.25],\"r_b\":[true,false],"
	"\"r_color\":[\"COLOR_RED\",\"COLOR_BLACK\"],\"r_str\":[\"a\",\"b\"],\"r_by\":[\"x\"],"
	"\"r_inner\":[{\"name\":\"a\",\"n\":1},{\"name\":\"\",\"n\":0}],"
	"\"labels\":{\"k\":\"v\",\"k2\":\"\"},\"counts\":{\"a\":1,\"b\":-2},"
	"\"by_id\":{\"7\":\"seven\"},\"inners\":{\"x\":{\"name\":\"X\",\"n\":9}},\"c_int\":77}";

static void test_all3_round_trip(void)
{
	Tst__All3 *m = (Tst__All3 *)in_ok(&tst__all3__descriptor, all3_json, NULL);
	ProtobufCMessage *back;

	if (!m)
		return;
	CHECK_INT(m->i32, -5);
	CHECK_INT(m->s32, -6);
	CHECK_INT(m->sf32, -7);
	CHECK(m->u32 == 4000000000u);
	CHECK(m->f32 == 4294967295u);
	CHECK(m->i64 == -9007199254740993ll);
	CHECK_INT(m->s64, -2);
	CHECK_INT(m->sf64, -3);
	CHECK(m->u64 == 9223372036854775807ull);
	CHECK_INT(m->f64, 5);
	CHECK(m->fl == 1.5f);
	CHECK(m->db == -2.25);
	CHECK_INT(m->b, 1);
	CHECK_INT(m->color, TST__COLOR__COLOR_GREEN);
	CHECK_STR(m->str, "h\xc3\xa9llo");
	CHECK(m->by.len == 9 && memcmp(m->by.data, "raw\0bytes", 9) == 0);
	CHECK(m->inner && m->inner->n == 3 && strcmp(m->inner->name, "in") == 0);
	CHECK(m->n_r_i32 == 2 && m->r_i32[0] == 1 && m->r_i32[1] == -2);
	CHECK(m->n_r_u32 == 2 && m->r_u32[1] == 4294967295u);
	CHECK(m->n_r_fl == 1 && m->r_fl[0] == 0.5f);
	CHECK(m->n_r_b == 2 && m->r_b[0] && !m->r_b[1]);
	CHECK(m->n_r_color == 2 && m->r_color[1] == TST__COLOR__COLOR_BLACK);
	CHECK(m->n_r_str == 2 && strcmp(m->r_str[1], "b") == 0);
	CHECK(m->n_r_by == 1 && m->r_by[0].len == 1 && m->r_by[0].data[0] == 'x');
	CHECK(m->n_r_inner == 2 && m->r_inner[1]->n == 0 && strcmp(m->r_inner[0]->name, "a") == 0);
	CHECK_INT(m->n_labels, 2);
	CHECK(m->n_labels == 2 && strcmp(m->labels[0]->key, "k") == 0 &&
	      strcmp(m->labels[0]->value, "v") == 0);
	CHECK(m->n_counts == 2 && m->counts[1]->value == -2);
	CHECK(m->n_by_id == 1 && m->by_id[0]->key == 7 && strcmp(m->by_id[0]->value, "seven") == 0);
	CHECK(m->n_inners == 1 && m->inners[0]->value && m->inners[0]->value->n == 9);
	CHECK_INT(m->choice_case, TST__ALL3__CHOICE_C_INT);
	CHECK_INT(m->c_int, 77);
	out_eq(&m->base, NULL, all3_json);

	CHECK(protobuf_c_message_check(&m->base));
	back = wire_round_trip(&m->base);
	CHECK(back != NULL);
	if (back)
		out_eq(back, NULL, all3_json);
	fr(back);
	fr(m);
}

/* Everything absent: proto3 scalars still print, repeated and maps as
 * empty, unset messages and oneofs not at all. */
static void test_all3_defaults(void)
{
	Tst__All3 *m = (Tst__All3 *)in_ok(&tst__all3__descriptor,
					  "{\"str\":null,\"inner\":null,\"r_str\":null,"
					  "\"labels\":null,\"nope\":[1,{\"x\":2}],\"c_str\":null}",
					  NULL);

	if (!m)
		return;
	CHECK(m->str == protobuf_c_empty_string);
	CHECK(m->inner == NULL);
	CHECK_INT(m->n_r_str, 0);
	CHECK_INT(m->choice_case, TST__ALL3__CHOICE__NOT_SET);
	out_eq(&m->base, NULL,
	       "{\"i32\":0,\"s32\":0,\"sf32\":0,\"u32\":0,\"f32\":0,\"i64\":0,\"s64\":0,\"sf64\":0,"
	       "\"u64\":0,\"f64\":0,\"fl\":0.0,\"db\":0.0,\"b\":false,\"color\":\"COLOR_NONE\","
	       "\"str\":\"\",\"by\":\"\",\"r_i32\":[],\"r_s32\":[],\"r_sf32\":[],\"r_u32\":[],"
	       "\"r_f32\":[],\"r_i64\":[],\"r_s64\":[],\"r_sf64\":[],\"r_u64\":[],\"r_f64\":[],"
	       "\"r_fl\":[],\"r_db\":[],\"r_b\":[],\"r_color\":[],\"r_str\":[],\"r_by\":[],"
	       "\"r_inner\":[],\"labels\":{},\"counts\":{},\"by_id\":{},\"inners\":{}}");
	fr(m);

	/* Unknown keys at every level are ignored. */
	m = (Tst__All3 *)in_ok(
		&tst__all3__descriptor,
		"{\"zzz\":1,\"inner\":{\"n\":4,\"extra\":[true]},\"r_inner\":[{\"q\":1}]}", NULL);
	CHECK(m && m->inner && m->inner->n == 4);
	CHECK(m && m->n_r_inner == 1);
	fr(m);
}

static void test_64bit(void)
{
	const ProtobufCMessageDescriptor *d = &tst__all3__descriptor;
	Tst__All3 *m = (Tst__All3 *)in_ok(
		d,
		"{\"u64\":\"18446744073709551615\",\"i64\":\"-9223372036854775808\","
		"\"f64\":\"18446744073709551615\",\"s64\":\"42\",\"sf64\":9223372036854775807,"
		"\"r_u64\":[\"1\",\"18446744073709551615\",3]}",
		NULL);
	json_t *j;

	if (!m)
		return;
	CHECK(m->u64 == UINT64_MAX);
	CHECK(m->i64 == INT64_MIN);
	CHECK(m->f64 == UINT64_MAX);
	CHECK_INT(m->s64, 42);
	CHECK(m->sf64 == INT64_MAX);
	CHECK(m->n_r_u64 == 3 && m->r_u64[1] == UINT64_MAX && m->r_u64[2] == 3);
	/* Past json_int_t the value prints as the decimal string it parses from. */
	j = jpb_to_json(&m->base, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "u64")), "18446744073709551615");
	CHECK(json_integer_value(json_object_get(j, "i64")) == INT64_MIN);
	CHECK_STR(json_string_value(json_array_get(json_object_get(j, "r_u64"), 1)),
		  "18446744073709551615");
	CHECK(json_integer_value(json_array_get(json_object_get(j, "r_u64"), 2)) == 3);
	json_decref(j);
	fr(m);

	in_err(d, "{\"u64\":\"-1\"}", NULL, "field 'u64' must be a non-negative integer");
	in_err(d, "{\"u64\":\"18446744073709551616\"}", NULL,
	       "field 'u64' must be a non-negative integer no larger than 18446744073709551615");
	in_err(d, "{\"i64\":\"9223372036854775808\"}", NULL,
	       "field 'i64' must be an integer between -9223372036854775808 and "
	       "9223372036854775807");
	in_err(d, "{\"i64\":\" 5\"}", NULL, "field 'i64' must be an integer");
	in_err(d, "{\"i64\":\"+5\"}", NULL, "field 'i64' must be an integer");
	in_err(d, "{\"i64\":\"5x\"}", NULL, "field 'i64' must be an integer");
	in_err(d, "{\"i64\":\"\"}", NULL, "field 'i64' must be an integer");
	in_err(d, "{\"i64\":\"0x10\"}", NULL, "field 'i64' must be an integer");
	in_err(d, "{\"u64\":-1}", NULL, "field 'u64' must be a non-negative integer");
	/* Only 64-bit integers come as strings. */
	in_err(d, "{\"i32\":\"5\"}", NULL, "field 'i32' must be an integer");
	in_err(d, "{\"u32\":\"5\"}", NULL, "field 'u32' must be a non-negative integer");
}

static void test_wrong_types(void)
{
	const ProtobufCMessageDescriptor *d = &tst__all3__descriptor;

	in_err(d, "{\"u32\":-1}", NULL, "field 'u32' must be a non-negative integer");
	in_err(d, "{\"u32\":1099511627776}", NULL,
	       "field 'u32' must be a non-negative integer no larger than 4294967295");
	in_err(d, "{\"f32\":4294967296}", NULL,
	       "field 'f32' must be a non-negative integer no larger than 4294967295");
	in_err(d, "{\"i32\":2147483648}", NULL,
	       "field 'i32' must be an integer between -2147483648 and 2147483647");
	in_err(d, "{\"s32\":-2147483649}", NULL,
	       "field 's32' must be an integer between -2147483648 and 2147483647");
	in_err(d, "{\"sf32\":1.5}", NULL, "field 'sf32' must be an integer");
	in_err(d, "{\"i32\":3.0}", NULL, "field 'i32' must be an integer");
	in_err(d, "{\"i64\":true}", NULL, "field 'i64' must be an integer");
	in_err(d, "{\"u64\":2.5}", NULL, "field 'u64' must be a non-negative integer");
	in_err(d, "{\"fl\":\"1.5\"}", NULL, "field 'fl' must be a number");
	in_err(d, "{\"fl\":1e39}", NULL,
	       "field 'fl' must be a number of magnitude at most 3.40282e+38");
	in_err(d, "{\"db\":[]}", NULL, "field 'db' must be a number");
	in_err(d, "{\"b\":1}", NULL, "field 'b' must be true or false");
	in_err(d, "{\"b\":\"true\"}", NULL, "field 'b' must be true or false");
	in_err(d, "{\"color\":\"PURPLE\"}", NULL,
	       "field 'color' must be one of: COLOR_BLACK, COLOR_NONE, COLOR_RED, COLOR_GREEN");
	in_err(d, "{\"color\":5}", NULL,
	       "field 'color' must be one of: COLOR_BLACK, COLOR_NONE, COLOR_RED, COLOR_GREEN");
	in_err(d, "{\"color\":true}", NULL,
	       "field 'color' must be one of: COLOR_BLACK, COLOR_NONE, COLOR_RED, COLOR_GREEN");
	in_err(d, "{\"str\":5}", NULL, "field 'str' must be a string");
	in_err(d, "{\"str\":\"a\\u0000b\"}", NULL, "field 'str' must not contain NUL characters");
	in_err(d, "{\"by\":{}}", NULL, "field 'by' must be a string");
	in_err(d, "{\"inner\":[]}", NULL, "field 'inner' must be an object");
	in_err(d, "{\"inner\":{\"n\":\"x\"}}", NULL, "field 'inner.n' must be an integer");
	in_err(d, "{\"r_str\":\"a\"}", NULL, "field 'r_str' must be an array of strings");
	in_err(d, "{\"r_str\":[\"a\",1]}", NULL, "field 'r_str' must be an array of strings");
	in_err(d, "{\"r_b\":[true,null]}", NULL, "field 'r_b' must be an array of booleans");
	in_err(d, "{\"r_db\":[1,\"2\"]}", NULL, "field 'r_db' must be an array of numbers");
	in_err(d, "{\"r_i64\":[1.5]}", NULL, "field 'r_i64' must be an array of integers");
	in_err(d, "{\"r_u32\":[1,-1]}", NULL,
	       "field 'r_u32' must be an array of non-negative integers");
	in_err(d, "{\"r_u32\":[1,4294967296]}", NULL,
	       "field 'r_u32[1]' must be a non-negative integer no larger than 4294967295");
	in_err(d, "{\"r_inner\":[1]}", NULL, "field 'r_inner' must be an array of objects");
	in_err(d, "{\"r_inner\":[{\"n\":1},{\"name\":2}]}", NULL,
	       "field 'r_inner[1].name' must be a string");
	in_err(d, "{\"r_color\":[\"COLOR_RED\",\"X\"]}", NULL,
	       "field 'r_color[1]' must be one of: COLOR_BLACK, COLOR_NONE, COLOR_RED, "
	       "COLOR_GREEN");
	in_err(d, "{\"labels\":[]}", NULL, "field 'labels' must be an object");
	in_err(d, "{\"labels\":{\"a\":1}}", NULL, "field 'labels.a' must be a string");
	in_err(d, "{\"counts\":{\"a\":\"x\"}}", NULL, "field 'counts.a' must be an integer");
	in_err(d, "{\"inners\":{\"a\":{\"n\":[]}}}", NULL, "field 'inners.a.n' must be an integer");
	in_err(d, "{\"by_id\":{\"x\":\"y\"}}", NULL,
	       "field 'by_id' must have keys that are non-negative integers");
	in_err(d, "{\"by_id\":{\"-1\":\"y\"}}", NULL,
	       "field 'by_id' must have keys that are non-negative integers");
	in_err(d, "[]", NULL, "request body must be a JSON object");
	in_err(d, "\"x\"", NULL, "request body must be a JSON object");
	in_err(d, "null", NULL, "request body must be a JSON object");
	/* A failure after earlier fields were built frees them all (ASan). */
	in_err(d,
	       "{\"str\":\"s\",\"r_str\":[\"a\",\"b\"],\"labels\":{\"a\":\"b\"},\"c_msg\":{},"
	       "\"inner\":{\"name\":\"x\"},\"r_inner\":[{\"name\":\"y\"},{\"n\":true}]}",
	       NULL, "field 'r_inner[1].n' must be an integer");
}

static void test_oneof(void)
{
	const ProtobufCMessageDescriptor *d = &tst__all3__descriptor;
	Tst__All3 *m = (Tst__All3 *)in_ok(d, "{\"c_str\":\"a\",\"c_int\":5}", NULL);

	/* The last member given wins and the earlier one's string is freed. */
	CHECK(m && m->choice_case == TST__ALL3__CHOICE_C_INT && m->c_int == 5);
	fr(m);
	m = (Tst__All3 *)in_ok(d, "{\"c_int\":5,\"c_msg\":{\"name\":\"x\"},\"c_str\":\"s\"}", NULL);
	CHECK(m && m->choice_case == TST__ALL3__CHOICE_C_STR && strcmp(m->c_str, "s") == 0);
	fr(m);
	m = (Tst__All3 *)in_ok(d, "{\"c_msg\":{\"name\":\"x\"}}", NULL);
	CHECK(m && m->choice_case == TST__ALL3__CHOICE_C_MSG && strcmp(m->c_msg->name, "x") == 0);
	if (m) {
		json_t *j = jpb_to_json(&m->base, NULL);

		CHECK(json_object_get(j, "c_msg") != NULL);
		CHECK(json_object_get(j, "c_str") == NULL);
		CHECK(json_object_get(j, "c_int") == NULL);
		json_decref(j);
	}
	fr(m);
	/* null for the member not selected leaves the selected one alone. */
	m = (Tst__All3 *)in_ok(d, "{\"c_int\":9,\"c_str\":null}", NULL);
	CHECK(m && m->choice_case == TST__ALL3__CHOICE_C_INT && m->c_int == 9);
	fr(m);
}

static void test_proto2(void)
{
	const ProtobufCMessageDescriptor *d = &tst2__all2__descriptor;
	Tst2__All2 *m = (Tst2__All2 *)in_ok(d, "{\"req\":1}", NULL);
	static const char full[] =
		"{\"i32\":0,\"s32\":-1,\"sf32\":0,\"u32\":0,\"f32\":1,\"i64\":0,\"s64\":0,"
		"\"sf64\":0,\"u64\":0,\"f64\":0,\"fl\":0.0,\"db\":0.0,\"b\":false,\"mode\":\"MODE_"
		"B\","
		"\"str\":\"\",\"by\":\"\",\"sub\":{},\"dflt_str\":\"mine\",\"dflt_int\":0,\"req\":"
		"1,"
		"\"tags\":[\"t\"]}";

	if (!m)
		return;
	CHECK(!m->has_i32 && !m->has_u64 && !m->has_b && !m->has_mode && !m->has_by);
	CHECK(m->str == NULL && m->sub == NULL);
	CHECK_STR(m->dflt_str, "dflt");
	CHECK(!m->has_dflt_int && m->dflt_int == 7);
	/* Absent optionals do not print; a string with a default does. */
	out_eq(&m->base, NULL, "{\"dflt_str\":\"dflt\",\"req\":1,\"tags\":[]}");
	fr(m);

	/* Zero values given explicitly are present and print back. */
	m = (Tst2__All2 *)in_ok(d, full, NULL);
	if (!m)
		return;
	CHECK(m->has_i32 && m->i32 == 0 && m->has_s32 && m->s32 == -1);
	CHECK(m->has_u64 && m->has_b && !m->b && m->has_fl && m->has_db);
	CHECK(m->has_mode && m->mode == TST2__MODE__MODE_B);
	CHECK(m->has_by && m->by.len == 0);
	CHECK(m->str && m->str[0] == 0);
	CHECK(m->sub != NULL);
	CHECK(m->has_dflt_int && m->dflt_int == 0);
	CHECK_STR(m->dflt_str, "mine");
	out_eq(&m->base, NULL, full);
	fr(m);

	/* null restores the default pointer, which free_unpacked must not free. */
	m = (Tst2__All2 *)in_ok(d, "{\"dflt_str\":null,\"i32\":null,\"mode\":1}", NULL);
	CHECK(m && strcmp(m->dflt_str, "dflt") == 0 && !m->has_i32);
	CHECK(m && m->has_mode && m->mode == TST2__MODE__MODE_A);
	fr(m);
	in_err(d, "{\"mode\":0}", NULL, "field 'mode' must be one of: MODE_A, MODE_B");
}

/* "{"child":{"child":...{"v":1}...}}" with `levels` objects in all. */
static char *nested(int levels, const char *key, bool array)
{
	size_t cap = (size_t)levels * 16 + 16, len = 0;
	char *s = malloc(cap);

	for (int i = 1; i < levels; i++)
		len += (size_t)snprintf(s + len, cap - len, array ? "{\"%s\":[" : "{\"%s\":", key);
	len += (size_t)snprintf(s + len, cap - len, "{\"v\":1}");
	for (int i = 1; i < levels; i++)
		len += (size_t)snprintf(s + len, cap - len, array ? "]}" : "}");
	return s;
}

static void test_depth(void)
{
	const ProtobufCMessageDescriptor *d = &tst__node__descriptor;
	char *ok = nested(JPB_MAX_DEPTH, "child", false),
	     *deep = nested(JPB_MAX_DEPTH + 1, "child", false);
	char *ok_a = nested(JPB_MAX_DEPTH, "kids", true),
	     *deep_a = nested(JPB_MAX_DEPTH + 1, "kids", true);
	char want[512] = "field '";
	ProtobufCMessage *m;
	Tst__Node *n;
	int levels = 0;

	m = in_ok(d, ok, NULL);
	for (n = (Tst__Node *)m; n; n = n->child)
		levels++;
	CHECK_INT(levels, JPB_MAX_DEPTH);
	if (m) {
		json_t *j = jpb_to_json(m, NULL), *e = j;

		for (int i = 1; i < JPB_MAX_DEPTH; i++)
			e = json_object_get(e, "child");
		CHECK(json_integer_value(json_object_get(e, "v")) == 1);
		CHECK(json_object_get(e, "child") == NULL);
		json_decref(j);
	}
	fr(m);
	for (int i = 0; i < JPB_MAX_DEPTH; i++)
		strcat(want, i ? ".child" : "child");
	strcat(want, "' nests deeper than 16 levels");
	in_err(d, deep, NULL, want);
	m = in_ok(d, ok_a, NULL);
	fr(m);
	strcpy(want, "field '");
	for (int i = 0; i < JPB_MAX_DEPTH; i++)
		strcat(want, i ? ".kids[0]" : "kids[0]");
	strcat(want, "' nests deeper than 16 levels");
	in_err(d, deep_a, NULL, want);
	free(ok);
	free(deep);
	free(ok_a);
	free(deep_a);

	/* A reply nested deeper than the limit (from the wire, say) prints
	 * null there instead of recursing without bound. */
	{
		Tst__Node nodes[JPB_MAX_DEPTH + 4];
		json_t *j, *e;

		for (int i = 0; i < JPB_MAX_DEPTH + 4; i++) {
			tst__node__init(&nodes[i]);
			nodes[i].v = i;
			if (i)
				nodes[i - 1].child = &nodes[i];
		}
		j = jpb_to_json(&nodes[0].base, NULL);
		e = j;
		for (int i = 1; i < JPB_MAX_DEPTH; i++)
			e = json_object_get(e, "child");
		CHECK(json_integer_value(json_object_get(e, "v")) == JPB_MAX_DEPTH - 1);
		CHECK(json_is_null(json_object_get(e, "child")));
		json_decref(j);
	}
}

static void test_repeated_limit(void)
{
	const ProtobufCMessageDescriptor *d = &tst__all3__descriptor;
	json_t *arr = json_array(), *obj = json_object(), *body;
	ProtobufCMessage *m = NULL;
	char err[256] = "", key[16];

	for (int i = 0; i < JPB_MAX_REPEATED; i++) {
		json_array_append_new(arr, json_integer(i));
		snprintf(key, sizeof(key), "k%d", i);
		json_object_set_new(obj, key, json_string("v"));
	}
	body = json_pack("{sOsO}", "r_i32", arr, "labels", obj);
	CHECK_INT(jpb_from_json(d, body, NULL, &m, err, sizeof(err)), 0);
	CHECK(m && ((Tst__All3 *)m)->n_r_i32 == JPB_MAX_REPEATED);
	CHECK(m && ((Tst__All3 *)m)->r_i32[JPB_MAX_REPEATED - 1] == JPB_MAX_REPEATED - 1);
	CHECK(m && ((Tst__All3 *)m)->n_labels == JPB_MAX_REPEATED);
	fr(m);
	json_decref(body);

	json_array_append_new(arr, json_integer(0));
	body = json_pack("{sO}", "r_i32", arr);
	m = NULL;
	CHECK_INT(jpb_from_json(d, body, NULL, &m, err, sizeof(err)), -EINVAL);
	CHECK_ERR(err, "field 'r_i32' has more than 4096 elements");
	CHECK(m == NULL);
	json_decref(body);

	json_object_set_new(obj, "one-more", json_string("v"));
	body = json_pack("{sO}", "labels", obj);
	CHECK_INT(jpb_from_json(d, body, NULL, &m, err, sizeof(err)), -EINVAL);
	CHECK_ERR(err, "field 'labels' has more than 4096 entries");
	json_decref(body);
	json_decref(arr);
	json_decref(obj);

	/* No room for the message is not a reason to crash. */
	body = J("{\"i32\":\"x\"}");
	CHECK_INT(jpb_from_json(d, body, NULL, &m, NULL, 0), -EINVAL);
	json_decref(body);
}

static void test_run_request(void)
{
	const ProtobufCMessageDescriptor *d = &sbx__run_request__descriptor;
	static const char body[] = "{\"argv\":[\"python3\",\"-c\",\"print(1)\"],"
				   "\"limits\":{\"memory_kb\":65536,\"wall_time_ms\":5000},"
				   "\"env\":{\"A\":\"1\",\"B\":\"two\"},\"stdin\":\"in\","
				   "\"files\":[{\"path\":\"main.py\",\"content\":\"print(1)\\n\","
				   "\"is_executable\":true,\"executable\":false}],"
				   "\"cwd\":\"/w\",\"network\":false}";
	Sbx__RunRequest *m = (Sbx__RunRequest *)in_ok(d, body, NULL);

	if (!m)
		return;
	CHECK(m->n_argv == 3 && strcmp(m->argv[2], "print(1)") == 0);
	CHECK(m->limits && m->limits->has_memory_kb && m->limits->memory_kb == 65536);
	CHECK(m->limits && m->limits->has_wall_time_ms && m->limits->wall_time_ms == 5000);
	CHECK(m->limits && !m->limits->has_cpu_time_ms && !m->limits->has_pids);
	CHECK(m->n_env == 2 && strcmp(m->env[1]->key, "B") == 0 &&
	      strcmp(m->env[1]->value, "two") == 0);
	CHECK(m->stdin.len == 2 && memcmp(m->stdin.data, "in", 2) == 0);
	CHECK(m->n_files == 1 && m->files[0]->is_executable && m->files[0]->content.len == 9 &&
	      strcmp(m->files[0]->path, "main.py") == 0);
	CHECK_STR(m->cwd, "/w");
	out_eq(&m->base, NULL, body);
	fr(m);

	in_err(d, "{\"limits\":{\"memory_kb\":-1}}", NULL,
	       "field 'limits.memory_kb' must be a non-negative integer");
	in_err(d, "{\"limits\":{\"pids\":4294967296}}", NULL,
	       "field 'limits.pids' must be a non-negative integer no larger than 4294967295");
	in_err(d, "{\"argv\":\"ls\"}", NULL, "field 'argv' must be an array of strings");
	in_err(d, "{\"argv\":[\"ls\",1]}", NULL, "field 'argv' must be an array of strings");
	in_err(d, "{\"env\":{\"A\":1}}", NULL, "field 'env.A' must be a string");
	in_err(d, "{\"files\":[{\"path\":\"a\"},{\"is_executable\":\"yes\"}]}", NULL,
	       "field 'files[1].is_executable' must be true or false");
}

static void test_reply_canonical(void)
{
	Sbx__ConfigReply c = SBX__CONFIG_REPLY__INIT;
	Sbx__ExecResult r = SBX__EXEC_RESULT__INIT;
	Sbx__RunRequest run = SBX__RUN_REQUEST__INIT;
	Sbx__RunRequest__EnvEntry e = SBX__RUN_REQUEST__ENV_ENTRY__INIT, *ep = &e;
	char *langs[] = {"python", "c"};

	c.backend = "native";
	c.max_memory_mb = 512;
	c.enable_audit_log = 1;
	c.n_languages = 2;
	c.languages = langs;
	out_eq(&c.base, NULL,
	       "{\"backend\":\"native\",\"max_execution_time\":0,\"max_memory_mb\":512,"
	       "\"max_concurrent_executions\":0,\"default_timeout_ms\":0,"
	       "\"default_memory_limit_mb\":0,\"network_mode\":\"\",\"enable_audit_log\":true,"
	       "\"rate_limit_per_minute\":0,\"rate_limit_burst\":0,\"max_body_bytes\":0,"
	       "\"max_output_bytes\":0,\"languages\":[\"python\",\"c\"]}");

	/* A program's output need not be UTF-8: bad bytes become U+FFFD. */
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_MEMORY_LIMIT;
	r.stdout.data = (uint8_t *)"hi\xff!";
	r.stdout.len = 4;
	r.stderr.data = (uint8_t *)"a\0b";
	r.stderr.len = 3;
	{
		json_t *j = jpb_to_json(&r.base, NULL);

		CHECK_STR(json_string_value(json_object_get(j, "status")),
			  "EXEC_STATUS_MEMORY_LIMIT");
		CHECK_STR(json_string_value(json_object_get(j, "stdout")), "hi\xef\xbf\xbd!");
		CHECK_INT(json_string_length(json_object_get(j, "stderr")), 3);
		json_decref(j);
	}
	/* An enum number the descriptor does not know prints as the number. */
	r.status = 99;
	{
		json_t *j = jpb_to_json(&r.base, NULL);

		CHECK(json_integer_value(json_object_get(j, "status")) == 99);
		json_decref(j);
	}

	/* Map keys are repaired the same way. */
	e.key = "k\xc3";
	e.value = "v";
	run.n_env = 1;
	run.env = &ep;
	{
		json_t *j = jpb_to_json(&run.base, NULL);

		CHECK_STR(json_string_value(
				  json_object_get(json_object_get(j, "env"), "k\xef\xbf\xbd")),
			  "v");
		json_decref(j);
	}
}

/* A seed's names for RunRequest and ExecResult. */
static const struct jpb_field_map seed_in[] = {
	{.json = "cmd", .path = "argv"},
	{.json = "timeout", .path = "limits.wall_time_ms", .scale = 1000},
	{.json = "memory", .path = "limits.memory_kb", .scale = 1024},
	{.json = "procs", .path = "limits.pids", .scale = 1000},
	{.json = "input", .path = "stdin"},
	{.json = "ignored", .path = NULL},
	{.json = "bad", .path = "limits.nope"},
	{0},
};
static const struct jpb_dialect seed = {.name = "seed", .in = seed_in};
static const struct jpb_dialect seed_b64 = {.name = "seed64", .in = seed_in, .base64_bytes = true};

static const struct jpb_enum_alias status_alias[] = {
	{"success", "EXEC_STATUS_OK"},
	{"timeout", "EXEC_STATUS_TIME_LIMIT"},
	{"timeout", "EXEC_STATUS_WALL_TIME_LIMIT"},
	{"error", NULL},
	{NULL, NULL},
};
static const struct jpb_enum_alias status_alias_nocatch[] = {
	{"success", "EXEC_STATUS_OK"},
	{NULL, NULL},
};
static const struct jpb_field_map seed_out[] = {
	{.json = "status", .path = "status", .enums = status_alias},
	{.json = "exitCode", .path = "exit_code"},
	{.json = "signal", .path = "signal", .zero_is_null = true},
	{.json = "output", .path = "stdout"},
	{.json = "stderr", .path = "stderr", .zero_is_null = true},
	{.json = "time", .path = "wall_time_ms", .scale = 1000},
	{.json = "raw", .path = "status", .enums = status_alias_nocatch},
	{.json = "missing", .path = NULL},
	{0},
};
static const struct jpb_dialect seed_reply = {.name = "seed", .out = seed_out};
static const struct jpb_dialect seed_reply_b64 = {
	.name = "seed", .out = seed_out, .base64_bytes = true};

static void test_dialect_in(void)
{
	const ProtobufCMessageDescriptor *d = &sbx__run_request__descriptor;
	Sbx__RunRequest *m;

	m = (Sbx__RunRequest *)in_ok(d,
				     "{\"cmd\":[\"ls\"],\"timeout\":1.5,\"memory\":64,"
				     "\"limits\":{\"pids\":10},\"input\":\"x\",\"ignored\":[1],"
				     "\"argv_unknown\":1}",
				     &seed);
	if (m) {
		CHECK(m->n_argv == 1 && strcmp(m->argv[0], "ls") == 0);
		/* The dotted paths and the canonical object fill one Limits. */
		CHECK(m->limits && m->limits->has_wall_time_ms && m->limits->wall_time_ms == 1500);
		CHECK(m->limits && m->limits->has_memory_kb && m->limits->memory_kb == 65536);
		CHECK(m->limits && m->limits->has_pids && m->limits->pids == 10);
		CHECK(m->stdin.len == 1 && m->stdin.data[0] == 'x');
	}
	fr(m);
	/* Same, canonical object last. */
	m = (Sbx__RunRequest *)in_ok(d, "{\"timeout\":2,\"limits\":{\"pids\":3},\"argv\":[\"a\"]}",
				     &seed);
	CHECK(m && m->limits && m->limits->wall_time_ms == 2000 && m->limits->pids == 3);
	CHECK(m && m->n_argv == 1);
	fr(m);
	/* A 64-bit target takes a decimal string, scaled too. */
	m = (Sbx__RunRequest *)in_ok(d, "{\"timeout\":\"2.5\"}", &seed);
	CHECK(m && m->limits && m->limits->wall_time_ms == 2500);
	fr(m);
	/* null under an absent message creates nothing. */
	m = (Sbx__RunRequest *)in_ok(d, "{\"timeout\":null}", &seed);
	CHECK(m && m->limits == NULL);
	fr(m);
	m = (Sbx__RunRequest *)in_ok(d, "{\"timeout\":3,\"limits\":{\"wall_time_ms\":null}}",
				     &seed);
	CHECK(m && m->limits && !m->limits->has_wall_time_ms);
	fr(m);

	in_err(d, "{\"timeout\":-1}", &seed, "field 'timeout' must be a non-negative number");
	in_err(d, "{\"timeout\":true}", &seed, "field 'timeout' must be a non-negative number");
	in_err(d, "{\"timeout\":0.0001}", &seed, "field 'timeout' must be a multiple of 0.001");
	in_err(d, "{\"procs\":5000000}", &seed,
	       "field 'procs' must be a non-negative number no larger than 4294967.295");
	in_err(d, "{\"cmd\":\"ls\"}", &seed, "field 'cmd' must be an array of strings");
	in_err(d, "{\"bad\":1}", &seed, "field 'bad' is not supported");
	in_err(d, "[]", &seed, "request body must be a JSON object");

	/* base64 bytes. */
	m = (Sbx__RunRequest *)in_ok(
		d, "{\"input\":\"aGVsbG8=\",\"files\":[{\"content\":\"aGk\"}]}", &seed_b64);
	CHECK(m && m->stdin.len == 5 && memcmp(m->stdin.data, "hello", 5) == 0);
	CHECK(m && m->n_files == 1 && m->files[0]->content.len == 2 &&
	      memcmp(m->files[0]->content.data, "hi", 2) == 0);
	fr(m);
	m = (Sbx__RunRequest *)in_ok(d, "{\"stdin\":\"\"}", &seed_b64);
	CHECK(m && m->stdin.len == 0);
	fr(m);
	in_err(d, "{\"input\":\"a$b=\"}", &seed_b64, "field 'input' must be base64");
	in_err(d, "{\"input\":\"abcde\"}", &seed_b64, "field 'input' must be base64");
}

static const struct jpb_enum_alias colour_alias[] = {
	{"rouge", "COLOR_RED"},
	{"vert", "COLOR_GREEN"},
	{"autre", NULL},
	{NULL, NULL},
};
static const struct jpb_field_map colour_map[] = {
	{.json = "colour", .path = "color", .enums = colour_alias},
	{.json = "colours", .path = "r_color", .enums = colour_alias},
	{.json = "ms", .path = "u64", .scale = 1000},
	{0},
};
static const struct jpb_dialect colour = {.name = "fr", .in = colour_map, .out = colour_map};

static void test_dialect_enum(void)
{
	const ProtobufCMessageDescriptor *d = &tst__all3__descriptor;
	Tst__All3 *m = (Tst__All3 *)in_ok(
		d, "{\"colour\":\"rouge\",\"colours\":[\"vert\",\"COLOR_RED\",0]}", &colour);

	CHECK(m && m->color == TST__COLOR__COLOR_RED);
	CHECK(m && m->n_r_color == 3 && m->r_color[0] == TST__COLOR__COLOR_GREEN &&
	      m->r_color[1] == TST__COLOR__COLOR_RED && m->r_color[2] == TST__COLOR__COLOR_NONE);
	if (m) {
		/* COLOR_NONE has no spelling of its own: the catch-all. */
		m->u64 = 2500;
		out_str(&m->base, &colour,
			"{\"colour\":\"rouge\",\"colours\":[\"vert\",\"rouge\",\"autre\"],\"ms\":2."
			"5}");
		m->u64 = 3000;
		out_str(&m->base, &colour,
			"{\"colour\":\"rouge\",\"colours\":[\"vert\",\"rouge\",\"autre\"],\"ms\":"
			"3}");
	}
	fr(m);
	/* The catch-all is output only; the error lists the real spellings. */
	in_err(d, "{\"colour\":\"autre\"}", &colour, "field 'colour' must be one of: rouge, vert");
	in_err(d, "{\"colour\":\"bleu\"}", &colour, "field 'colour' must be one of: rouge, vert");
	in_err(d, "{\"colours\":[\"vert\",\"bleu\"]}", &colour,
	       "field 'colours[1]' must be one of: rouge, vert");
}

/* or_path / or_when: an empty field shows another field's text only while
 * the condition holds (OpenSandbox's stderr and the daemon's sentence). */
static const struct jpb_field_map or_out[] = {
	{.json = "stderr", .path = "stderr", .or_path = "error",
	 .or_when = "status=EXEC_STATUS_INTERNAL_ERROR"},
	{.json = "any", .path = "stdout", .or_path = "error"},
	{.json = "bad", .path = "stdout", .or_path = "error", .or_when = "exit_code=1"},
	{0},
};
static const struct jpb_dialect or_reply = {.name = "or", .out = or_out};

static void test_or_path(void)
{
	Sbx__ExecResult r = SBX__EXEC_RESULT__INIT;

	r.status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
	r.error = "workspace /x is a symbolic link";
	out_str(&r.base, &or_reply,
		"{\"stderr\":\"workspace /x is a symbolic link\",\"any\":\"workspace /x is a "
		"symbolic link\",\"bad\":\"\"}");
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
	r.error = "exited with code 1";
	out_str(&r.base, &or_reply,
		"{\"stderr\":\"\",\"any\":\"exited with code 1\",\"bad\":\"\"}");
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
	r.stderr.data = (uint8_t *)"own";
	r.stderr.len = 3;
	out_str(&r.base, &or_reply,
		"{\"stderr\":\"own\",\"any\":\"exited with code 1\",\"bad\":\"\"}");
}

/* omit_empty: the key is left out while its value is empty (Piston's
 * optional `runtime`), and there, in order, when it is not. */
static const struct jpb_field_map omit_out[] = {
	{.json = "stdout", .path = "stdout", .omit_empty = true},
	{.json = "code", .path = "exit_code", .omit_empty = true},
	{.json = "timed", .path = "stdout_truncated", .omit_empty = true},
	{.json = "none", .path = NULL, .omit_empty = true},
	{.json = "err", .path = "error"},
	{0},
};
static const struct jpb_dialect omit_reply = {.name = "omit", .out = omit_out};

static void test_omit_empty(void)
{
	Sbx__ExecResult r = SBX__EXEC_RESULT__INIT;

	out_str(&r.base, &omit_reply, "{\"err\":\"\"}");
	r.stdout.data = (uint8_t *)"x";
	r.stdout.len = 1;
	r.exit_code = -1;
	r.stdout_truncated = true;
	out_str(&r.base, &omit_reply, "{\"stdout\":\"x\",\"code\":-1,\"timed\":true,\"err\":\"\"}");
}

static void test_dialect_out(void)
{
	Sbx__ExecResult r = SBX__EXEC_RESULT__INIT;

	r.status = SBX__EXEC_STATUS__EXEC_STATUS_OK;
	r.exit_code = 3;
	r.stdout.data = (uint8_t *)"hi\xff";
	r.stdout.len = 3;
	r.wall_time_ms = 1500;
	/* Exactly the projection's keys in its order; zero and "" -> null. */
	out_str(&r.base, &seed_reply,
		"{\"status\":\"success\",\"exitCode\":3,\"signal\":null,\"output\":"
		"\"hi\xef\xbf\xbd\","
		"\"stderr\":null,\"time\":1.5,\"raw\":\"success\",\"missing\":null}");
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;
	r.signal = 9;
	r.stderr.data = (uint8_t *)"e";
	r.stderr.len = 1;
	r.wall_time_ms = 2000;
	out_str(&r.base, &seed_reply_b64,
		"{\"status\":\"timeout\",\"exitCode\":3,\"signal\":9,\"output\":\"aGn/\","
		"\"stderr\":\"ZQ==\",\"time\":2,\"raw\":\"EXEC_STATUS_WALL_TIME_LIMIT\","
		"\"missing\":null}");
	r.status = SBX__EXEC_STATUS__EXEC_STATUS_MEMORY_LIMIT;
	r.stdout.len = 0;
	out_str(&r.base, &seed_reply_b64,
		"{\"status\":\"error\",\"exitCode\":3,\"signal\":9,\"output\":\"\","
		"\"stderr\":\"ZQ==\",\"time\":2,\"raw\":\"EXEC_STATUS_MEMORY_LIMIT\","
		"\"missing\":null}");
}

/* Aliases respell a string field with a closed set of values too. */
static const struct jpb_enum_alias health_alias[] = {
	{"healthy", "ok"},
	{"unhealthy", NULL},
	{NULL, NULL},
};
static const struct jpb_enum_alias health_alias_open[] = {
	{"healthy", "ok"},
	{NULL, NULL},
};
static const struct jpb_field_map health_map[] = {
	{.json = "status", .path = "status", .enums = health_alias},
	{.json = "state", .path = "status", .enums = health_alias_open},
	{0},
};
static const struct jpb_dialect health = {.in = health_map, .out = health_map};

static void test_string_alias(void)
{
	const ProtobufCMessageDescriptor *d = &sbx__health_reply__descriptor;
	Sbx__HealthReply *h = (Sbx__HealthReply *)in_ok(d, "{\"status\":\"healthy\"}", &health);

	CHECK(h && strcmp(h->status, "ok") == 0);
	if (h)
		out_str(&h->base, &health, "{\"status\":\"healthy\",\"state\":\"healthy\"}");
	fr(h);
	/* Any other string is taken as is, and prints as the catch-all. */
	h = (Sbx__HealthReply *)in_ok(d, "{\"state\":\"degraded\"}", &health);
	CHECK(h && strcmp(h->status, "degraded") == 0);
	if (h)
		out_str(&h->base, &health, "{\"status\":\"unhealthy\",\"state\":\"degraded\"}");
	fr(h);
}

/* Absent -> null in a projection: unset proto2 optionals, missing
 * intermediate messages, unselected oneof members. */
static const struct jpb_field_map run_out[] = {
	{.json = "timeout", .path = "limits.wall_time_ms", .scale = 1000},
	{.json = "mem", .path = "limits.memory_kb"},
	{.json = "limits", .path = "limits"},
	{.json = "cmd", .path = "argv"},
	{.json = "env", .path = "env"},
	{0},
};
static const struct jpb_dialect run_proj = {.name = "p", .out = run_out};

static void test_projection_absent(void)
{
	Sbx__RunRequest *m = (Sbx__RunRequest *)in_ok(&sbx__run_request__descriptor, "{}", NULL);
	ProtobufCMessage *a;

	if (!m)
		return;
	out_str(&m->base, &run_proj,
		"{\"timeout\":null,\"mem\":null,\"limits\":null,\"cmd\":[],\"env\":{}}");
	fr(m);
	m = (Sbx__RunRequest *)in_ok(
		&sbx__run_request__descriptor,
		"{\"limits\":{\"memory_kb\":0},\"argv\":[\"x\"],\"env\":{\"A\":\"b\"}}", NULL);
	if (m)
		out_str(&m->base, &run_proj,
			"{\"timeout\":null,\"mem\":0,\"limits\":{\"memory_kb\":0},\"cmd\":[\"x\"],"
			"\"env\":{\"A\":\"b\"}}");
	fr(m);

	a = in_ok(&tst__all3__descriptor, "{\"c_int\":4}", NULL);
	if (a) {
		static const struct jpb_field_map o[] = {
			{.json = "s", .path = "c_str"},
			{.json = "i", .path = "c_int"},
			{.json = "name", .path = "c_msg.name"},
			{0},
		};
		static const struct jpb_dialect dl = {.out = o};

		out_str(a, &dl, "{\"s\":null,\"i\":4,\"name\":null}");
	}
	fr(a);
}

static const struct jpb_field_map item_in[] = {
	{.json = "label", .path = "name"},
	{0},
};
static const struct jpb_dialect wrap_items = {.in = item_in, .in_wrap = "items"};
static const struct jpb_dialect wrap_names = {.in_wrap = "names"};
static const struct jpb_dialect unwrap_items = {.out_unwrap = "items"};
static const struct jpb_dialect unwrap_items_proj = {.out = item_in, .out_unwrap = "items"};
static const struct jpb_dialect unwrap_names = {.out_unwrap = "names"};

static void test_wrap(void)
{
	const ProtobufCMessageDescriptor *d = &tst__inner_list__descriptor;
	Tst__InnerList *m;
	json_t *big;
	char err[256];
	ProtobufCMessage *bm = NULL;

	m = (Tst__InnerList *)in_ok(d, "[{\"label\":\"a\",\"n\":1},{\"name\":\"b\"}]", &wrap_items);
	CHECK(m && m->n_items == 2 && strcmp(m->items[0]->name, "a") == 0 && m->items[0]->n == 1 &&
	      strcmp(m->items[1]->name, "b") == 0);
	if (m) {
		out_str(&m->base, &unwrap_items,
			"[{\"name\":\"a\",\"n\":1},{\"name\":\"b\",\"n\":0}]");
		out_str(&m->base, &unwrap_items_proj, "[{\"label\":\"a\"},{\"label\":\"b\"}]");
		out_str(&m->base, &unwrap_names, "[]");
	}
	fr(m);
	m = (Tst__InnerList *)in_ok(d, "[]", &wrap_items);
	CHECK(m && m->n_items == 0);
	if (m)
		out_str(&m->base, &unwrap_items, "[]");
	fr(m);
	m = (Tst__InnerList *)in_ok(d, "[\"x\",\"y\"]", &wrap_names);
	CHECK(m && m->n_names == 2 && strcmp(m->names[1], "y") == 0);
	if (m)
		out_str(&m->base, &unwrap_names, "[\"x\",\"y\"]");
	fr(m);

	in_err(d, "{\"items\":[]}", &wrap_items, "request body must be a JSON array");
	in_err(d, "[1]", &wrap_items, "request body must be an array of objects");
	in_err(d, "[{\"n\":1},{\"n\":\"x\"}]", &wrap_items, "field '[1].n' must be an integer");
	in_err(d, "[{\"label\":5}]", &wrap_items, "field '[0].label' must be a string");
	in_err(d, "[\"x\",2]", &wrap_names, "request body must be an array of strings");

	big = json_array();
	for (int i = 0; i <= JPB_MAX_REPEATED; i++)
		json_array_append_new(big, json_string("n"));
	CHECK_INT(jpb_from_json(d, big, &wrap_names, &bm, err, sizeof(err)), -EINVAL);
	CHECK_ERR(err, "request body has more than 4096 elements");
	json_decref(big);
}

static void test_set_from_string(void)
{
	Sbx__RunRequest *r = (Sbx__RunRequest *)in_ok(&sbx__run_request__descriptor, "{}", NULL);
	Tst__All3 *a = (Tst__All3 *)in_ok(&tst__all3__descriptor, "{}", NULL);
	Tst2__All2 *p = (Tst2__All2 *)in_ok(&tst2__all2__descriptor, "{}", NULL);

	if (!r || !a || !p)
		goto out;
	set_ok(&r->base, "cwd", "/tmp", NULL);
	CHECK_STR(r->cwd, "/tmp");
	set_ok(&r->base, "cwd", "/x", NULL);
	CHECK_STR(r->cwd, "/x");
	set_ok(&r->base, "limits.memory_kb", "1024", NULL);
	CHECK(r->limits && r->limits->has_memory_kb && r->limits->memory_kb == 1024);
	set_err(&r->base, "limits.memory_kb", "-1", NULL, -EINVAL,
		"field 'limits.memory_kb' must be a non-negative integer");
	CHECK(r->limits && r->limits->memory_kb == 1024);
	set_err(&r->base, "nope", "1", NULL, -ENOENT, "field 'nope' does not exist");
	set_err(&r->base, "limits.nope", "1", NULL, -ENOENT, "field 'limits.nope' does not exist");
	set_err(&r->base, "argv.x", "1", NULL, -ENOENT, "field 'argv.x' does not exist");
	/* Repeated parameters append. */
	set_ok(&r->base, "argv", "a", NULL);
	set_ok(&r->base, "argv", "b", NULL);
	CHECK(r->n_argv == 2 && strcmp(r->argv[0], "a") == 0 && strcmp(r->argv[1], "b") == 0);
	set_err(&r->base, "env", "x", NULL, -EINVAL,
		"field 'env' cannot be given as a single value");
	set_err(&r->base, "limits", "x", NULL, -EINVAL,
		"field 'limits' cannot be given as a single value");
	/* Through the dialect's names and scales. */
	set_ok(&r->base, "timeout", "2.5", &seed);
	CHECK(r->limits && r->limits->wall_time_ms == 2500);
	set_ok(&r->base, "timeout", "3", &seed);
	CHECK(r->limits && r->limits->wall_time_ms == 3000);
	set_err(&r->base, "memory", "abc", &seed, -EINVAL,
		"field 'memory' must be a non-negative number");
	set_err(&r->base, "memory", "nan", &seed, -EINVAL,
		"field 'memory' must be a non-negative number");
	set_ok(&r->base, "input", "data", &seed_b64);
	CHECK(r->stdin.len == 3 && memcmp(r->stdin.data, "u\xab\x5a", 3) == 0);
	set_err(&r->base, "ignored", "1", &seed, -ENOENT, "field 'ignored' does not exist");

	set_ok(&a->base, "b", "true", NULL);
	CHECK_INT(a->b, 1);
	set_ok(&a->base, "b", "0", NULL);
	CHECK_INT(a->b, 0);
	set_ok(&a->base, "b", "1", NULL);
	CHECK_INT(a->b, 1);
	set_err(&a->base, "b", "yes", NULL, -EINVAL, "field 'b' must be true or false");
	CHECK_INT(a->b, 1);
	set_ok(&a->base, "i32", "-42", NULL);
	CHECK_INT(a->i32, -42);
	set_err(&a->base, "i32", "4.2", NULL, -EINVAL, "field 'i32' must be an integer");
	set_err(&a->base, "i32", "", NULL, -EINVAL, "field 'i32' must be an integer");
	set_err(&a->base, "i32", "99999999999", NULL, -EINVAL,
		"field 'i32' must be an integer between -2147483648 and 2147483647");
	CHECK_INT(a->i32, -42);
	set_ok(&a->base, "u32", "4294967295", NULL);
	CHECK(a->u32 == 4294967295u);
	set_ok(&a->base, "u64", "18446744073709551615", NULL);
	CHECK(a->u64 == UINT64_MAX);
	set_ok(&a->base, "fl", "1.25", NULL);
	CHECK(a->fl == 1.25f);
	set_err(&a->base, "fl", "abc", NULL, -EINVAL, "field 'fl' must be a number");
	set_err(&a->base, "db", "0x10", NULL, -EINVAL, "field 'db' must be a number");
	set_ok(&a->base, "color", "COLOR_RED", NULL);
	CHECK_INT(a->color, TST__COLOR__COLOR_RED);
	set_ok(&a->base, "color", "2", NULL);
	CHECK_INT(a->color, TST__COLOR__COLOR_GREEN);
	set_ok(&a->base, "color", "-1", NULL);
	CHECK_INT(a->color, TST__COLOR__COLOR_BLACK);
	set_err(&a->base, "color", "7", NULL, -EINVAL,
		"field 'color' must be one of: COLOR_BLACK, COLOR_NONE, COLOR_RED, COLOR_GREEN");
	set_ok(&a->base, "colour", "vert", &colour);
	CHECK_INT(a->color, TST__COLOR__COLOR_GREEN);
	set_ok(&a->base, "by", "raw", NULL);
	CHECK(a->by.len == 3 && memcmp(a->by.data, "raw", 3) == 0);
	set_err(&a->base, "str", "\xff", NULL, -EINVAL, "field 'str' must be UTF-8 text");
	set_ok(&a->base, "str", "h\xc3\xa9", NULL);
	CHECK_STR(a->str, "h\xc3\xa9");
	/* Oneof members switch cleanly (the string is freed: ASan). */
	set_ok(&a->base, "c_str", "s", NULL);
	CHECK(a->choice_case == TST__ALL3__CHOICE_C_STR && strcmp(a->c_str, "s") == 0);
	set_ok(&a->base, "c_int", "5", NULL);
	CHECK(a->choice_case == TST__ALL3__CHOICE_C_INT && a->c_int == 5);
	set_ok(&a->base, "c_msg.name", "m", NULL);
	CHECK(a->choice_case == TST__ALL3__CHOICE_C_MSG && strcmp(a->c_msg->name, "m") == 0);
	set_ok(&a->base, "inner.n", "8", NULL);
	CHECK(a->inner && a->inner->n == 8);
	set_ok(&a->base, "r_i64", "-9223372036854775808", NULL);
	CHECK(a->n_r_i64 == 1 && a->r_i64[0] == INT64_MIN);
	{
		ProtobufCMessage *back = wire_round_trip(&a->base);

		CHECK(back != NULL);
		CHECK(back && ((Tst__All3 *)back)->c_msg && ((Tst__All3 *)back)->inner->n == 8);
		fr(back);
	}

	set_ok(&p->base, "i32", "0", NULL);
	CHECK(p->has_i32 && p->i32 == 0);
	set_ok(&p->base, "dflt_str", "x", NULL);
	CHECK_STR(p->dflt_str, "x");
	set_ok(&p->base, "mode", "MODE_B", NULL);
	CHECK(p->has_mode && p->mode == TST2__MODE__MODE_B);
	set_ok(&p->base, "tags", "t1", NULL);
	CHECK(p->n_tags == 1 && strcmp(p->tags[0], "t1") == 0);
out:
	fr(r);
	fr(a);
	fr(p);
}

int main(void)
{
	test_all3_round_trip();
	test_all3_defaults();
	test_64bit();
	test_wrong_types();
	test_oneof();
	test_proto2();
	test_depth();
	test_repeated_limit();
	test_run_request();
	test_reply_canonical();
	test_dialect_in();
	test_dialect_enum();
	test_dialect_out();
	test_or_path();
	test_omit_empty();
	test_string_alias();
	test_projection_absent();
	test_wrap();
	test_set_from_string();
	TEST_DONE();
}
