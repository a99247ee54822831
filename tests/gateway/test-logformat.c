/* gateway/logformat.c: log entries are valid JSON whatever bytes a program
 * wrote (invalid UTF-8 becomes U+FFFD, control bytes are escaped), and
 * timestamps are ISO 8601 UTC with milliseconds. */
#include <jansson.h>
#include <string.h>

#include "logstream_int.h"
#include "testlib.h"

/* The escaped text, wrapped in quotes and parsed back by jansson. */
static char *roundtrip(const void *text, size_t len)
{
	struct sbx_buf b;
	json_t *j;
	char *out = NULL;

	sbx_buf_init(&b, 1u << 20);
	sbx_buf_append(&b, "\"", 1);
	gw_ls_json_escape(&b, text, len);
	sbx_buf_append(&b, "\"", 1);
	j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	CHECKF(j != NULL, "not JSON: %s", b.data);
	if (j)
		out = strdup(json_string_value(j));
	json_decref(j);
	sbx_buf_fini(&b);
	return out;
}

static void check_text(const void *in, size_t len, const char *want)
{
	char *got = roundtrip(in, len);

	CHECK_STR(got, want);
	free(got);
}

int main(void)
{
	char ts[40];
	struct sbx_buf b;
	json_t *j;

	check_text("plain text", 10, "plain text");
	/* An empty line as protobuf-c hands it over: no buffer at all. */
	check_text(NULL, 0, "");
	check_text("q\"b\\n\n\t\r\x01\x7f", 11, "q\"b\\n\n\t\r\x01\x7f");
	check_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		   "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* A lone continuation byte, a cut sequence, an overlong, a surrogate. */
	check_text("a\x80z", 3, "a\xef\xbf\xbdz");
	check_text("a\xe2\x82", 3, "a\xef\xbf\xbd\xef\xbf\xbd");
	check_text("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");
	check_text("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	check_text("", 0, "");

	gw_ls_iso8601(1763900000123456LL, ts, sizeof(ts));
	CHECKF(strcmp(ts, "2025-11-23T12:13:20.123Z") == 0, "%s", ts);

	sbx_buf_init(&b, 1u << 20);
	gw_ls_entry_json(&b, "sbx-1", 7, 1763900000123456LL, GW_LS_STDERR, "oops\xff", 5, true);
	j = json_loads(b.data, 0, NULL);
	CHECKF(j != NULL, "%s", b.data);
	CHECK_STR(json_string_value(json_object_get(j, "timestamp")), "2025-11-23T12:13:20.123Z");
	CHECK_STR(json_string_value(json_object_get(j, "level")), "ERROR");
	CHECK_STR(json_string_value(json_object_get(j, "message")), "oops\xef\xbf\xbd");
	CHECK_STR(json_string_value(json_object_get(j, "sandbox_id")), "sbx-1");
	CHECK_INT(json_integer_value(json_object_get(j, "seq")), 7);
	CHECK_STR(json_string_value(json_object_get(j, "stream")), "stderr");
	CHECK_INT(json_object_size(j), 6);
	json_decref(j);
	sbx_buf_fini(&b);
	TEST_DONE();
}
