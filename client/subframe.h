/* The receiving half of an SP subscriber (client/subscribe.c) without the
 * socket: a buffer that takes the bytes a pub0 publisher sends, cuts them
 * into frames and hands each decoded event whose topic matches to a
 * callback. Pure (no I/O), so it can be fuzzed alone (tests/fuzz). Private
 * to libsandbox: not installed.
 *
 * Wire: each message is a 64-bit big-endian length and a body, which ipc://
 * precedes with a one-byte message type (1); a body is "<topic>\0" and a
 * packed sbx.Event. */
#ifndef SBX_SUBFRAME_H
#define SBX_SUBFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"

/* Largest message accepted; a larger one is a protocol error (the daemon
 * sends one log line, at most 16 KiB of text, per event). */
#define SBX_SUB_MSG_MAX (1u << 20)

struct sbx_sub_reader {
	bool ipc;	    /* frames carry a type byte */
	const char *prefix; /* topic prefix, borrowed */
	size_t plen;
	sbx_event_cb cb;
	void *arg;
	const int *stop; /* atomic, may be NULL: when set, no further event is delivered */
	uint8_t *buf;	 /* grows from 256 KiB up to one largest frame */
	size_t cap, have;
};

/* Set up r (its buffer allocated); prefix and stop are borrowed and must
 * outlive it. 0 or -ENOMEM. */
int sbx_sub_reader_init(struct sbx_sub_reader *r, bool ipc, const char *prefix, sbx_event_cb cb,
			void *arg, const int *stop);
/* Free r's buffer; r may be zeroed or already finished. */
void sbx_sub_reader_fini(struct sbx_sub_reader *r);
/* Where the next bytes received go: *ret_room (> 0) bytes at the pointer. */
uint8_t *sbx_sub_reader_space(struct sbx_sub_reader *r, size_t *ret_room);
/* n bytes (at most the room) were written at the space: deliver every
 * complete message (events of other topics and undecodable bodies are
 * skipped). 0, or -EBADMSG when the stream is not what a pub0 sends
 * (redial), -ENOMEM. */
int sbx_sub_reader_commit(struct sbx_sub_reader *r, size_t n);

/* Decode one message body and call cb when its topic starts with prefix.
 * Bodies without a topic or with a malformed event are dropped. */
void sbx_sub_deliver(const uint8_t *body, size_t len, const char *prefix, size_t plen,
		     sbx_event_cb cb, void *arg);

#endif
