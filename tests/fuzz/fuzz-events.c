/* What a subscriber makes of the bytes the daemon's pub socket sends
 * (client/subframe.h, the reader of client/subscribe.c): SP frames cut from
 * a stream that arrives in arbitrary pieces, topic filtering, sbx.Event
 * decoding; then what the gateway does with a log event: the admin log
 * entry (gateway/logstream_int.h), which must always be valid JSON.
 *
 * Input: byte 0: bit 0 ipc:// framing, bits 1-2 the topic prefix, bits 3-7
 * the size of the pieces the stream arrives in (0: all at once); the rest
 * is the stream. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "logstream_int.h"
#include "subframe.h"

static const char *const prefixes[] = {"", "logs/", "logs/sbx-1", "state/"};

struct seen {
	const char *prefix;
	size_t events;
};

static void on_event(void *arg, const struct sbx_event *ev)
{
	struct seen *s = arg;
	struct sbx_buf b;
	json_t *j;
	int code;

	s->events++;
	/* sandbox.h: data is never NULL, also when empty. */
	if (strncmp(ev->topic, s->prefix, strlen(s->prefix)) != 0 || !ev->kind || !ev->data)
		abort();
	/* The gateway's subscriber: log events of "logs/<id>" only. */
	if (strncmp(ev->topic, "logs/", 5) != 0 || (code = gw_ls_stream_code(ev->kind)) < 0)
		return;
	sbx_buf_init(&b, 8u << 20);
	gw_ls_entry_json(&b, ev->topic + 5, ev->seq, ev->time_us, code, ev->data, ev->len, true);
	/* \u0000 is valid JSON (a program may print NUL bytes), and so is a
	 * seq past INT64_MAX, which jansson reads only as a real. */
	j = json_loadb(b.data, b.len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
	if (!j)
		abort(); /* a log entry that is not JSON */
	json_decref(j);
	sbx_buf_fini(&b);
}

/* One reader for the whole run, as a subscription keeps its reader across
 * connections; each input is a new connection. */
static struct sbx_sub_reader r;
static struct seen s;
static int stop;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sbx_sub_reader_init(&r, false, "", on_event, &s, &stop) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t piece, off = 1;

	if (size < 1)
		return 0;
	s = (struct seen){.prefix = prefixes[(data[0] >> 1) & 3]};
	piece = data[0] >> 3;
	r.ipc = data[0] & 1;
	r.prefix = s.prefix;
	r.plen = strlen(s.prefix);
	r.have = 0;
	while (off < size) {
		size_t room, n = piece ? piece : size - off;
		uint8_t *space = sbx_sub_reader_space(&r, &room);

		if (room == 0)
			abort(); /* the reader must always take more */
		if (n > size - off)
			n = size - off;
		if (n > room)
			n = room;
		memcpy(space, data + off, n);
		off += n;
		if (sbx_sub_reader_commit(&r, n) < 0)
			break; /* the subscriber redials */
	}
	return 0;
}
