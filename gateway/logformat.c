/* Formatting of log entries (gateway/logstream_int.h): JSON text made by
 * hand because program output is bytes, not always UTF-8, and jansson
 * refuses invalid UTF-8; here such bytes become U+FFFD. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "logstream_int.h"

/* JSON string body (without quotes) of text; bytes that are not UTF-8
 * become U+FFFD, so any program output makes valid JSON. */
void gw_ls_json_escape(struct sbx_buf *b, const void *text, size_t len)
{
	const unsigned char *p, *end;

	/* An empty line may come without a buffer (protobuf-c's empty bytes
	 * are NULL): NULL + 0 is undefined behaviour. */
	if (len == 0)
		return;
	p = text;
	end = p + len;

	while (p < end) {
		unsigned char c = *p;
		char esc[8];
		size_t n = 1;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			const unsigned char *q = p;

			while (q < end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
				q++;
			sbx_buf_append(b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		if (c < 0x80) {
			switch (c) {
			case '"':
				sbx_buf_append(b, "\\\"", 2);
				break;
			case '\\':
				sbx_buf_append(b, "\\\\", 2);
				break;
			case '\n':
				sbx_buf_append(b, "\\n", 2);
				break;
			case '\r':
				sbx_buf_append(b, "\\r", 2);
				break;
			case '\t':
				sbx_buf_append(b, "\\t", 2);
				break;
			default:
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				sbx_buf_append(b, esc, 6);
			}
			p++;
			continue;
		}
		/* A well-formed UTF-8 sequence (no overlongs, no surrogates)? */
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		else
			n = 0;
		if (n && (size_t)(end - p) >= n) {
			bool ok = true;

			for (size_t i = 1; i < n; i++)
				ok = ok && (p[i] & 0xc0) == 0x80;
			if (ok && n == 3 &&
			    ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
				ok = false;
			if (ok && n == 4 &&
			    ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
				ok = false;
			if (ok) {
				sbx_buf_append(b, p, n);
				p += n;
				continue;
			}
		}
		sbx_buf_append(b, "\xef\xbf\xbd", 3);
		p++;
	}
}

void gw_ls_iso8601(int64_t time_us, char *buf, size_t size)
{
	time_t t = (time_t)(time_us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((time_us % 1000000) / 1000));
}

static const char *const names[] = {"stdout", "stderr", "exit"};

/* The admin entry of one line: the seed's four keys, then seq, stream. */
void gw_ls_entry_json(struct sbx_buf *b, const char *id, uint64_t seq, int64_t time_us, int code,
		      const void *text, size_t len, bool seq_and_stream)
{
	char ts[40], num[48];

	gw_ls_iso8601(time_us, ts, sizeof(ts));
	sbx_buf_append(b, "{\"timestamp\":\"", 14);
	sbx_buf_append(b, ts, strlen(ts));
	sbx_buf_append(b, "\",\"level\":\"", 11);
	sbx_buf_append(b, code == GW_LS_STDERR ? "ERROR" : "INFO", code == GW_LS_STDERR ? 5 : 4);
	sbx_buf_append(b, "\",\"message\":\"", 13);
	gw_ls_json_escape(b, text, len);
	sbx_buf_append(b, "\",\"sandbox_id\":\"", 16);
	gw_ls_json_escape(b, id, strlen(id));
	sbx_buf_append(b, "\"", 1);
	if (seq_and_stream) {
		snprintf(num, sizeof(num), ",\"seq\":%llu,\"stream\":\"", (unsigned long long)seq);
		sbx_buf_append(b, num, strlen(num));
		sbx_buf_append(b, names[code], strlen(names[code]));
		sbx_buf_append(b, "\"", 1);
	}
	sbx_buf_append(b, "}", 1);
}
