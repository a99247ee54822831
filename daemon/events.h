/* The events publisher: an nng pub socket. Each event goes out as one nng
 * message, "<topic>\0" followed by a packed sbx.Event, so subscribers filter
 * on topic prefixes ("logs/", "state/<id>"). Every topic has its own
 * sequence, from 1 with no gaps, so a subscriber can detect a loss. */
#ifndef SBX_EVENTS_H
#define SBX_EVENTS_H

#include <stddef.h>
#include <stdint.h>

struct sbx_events;

/* -EINVAL for a bad URL, -EADDRINUSE when taken. */
int sbx_events_open(const char *url, struct sbx_events **ret);
void sbx_events_close(struct sbx_events *ev);

/* Publish; thread-safe. Returns the event's sequence number (>= 1) or a
 * negative errno. A slow subscriber loses messages (its queue is bounded);
 * the publisher never blocks. */
int64_t sbx_events_publish(struct sbx_events *ev, const char *topic, const char *kind,
			   const void *data, size_t len);

/* Publish an event whose sequence the caller owns (a log ring numbers its
 * lines itself, so the ring and the events agree, and its topics do not
 * fill the table above). Thread-safe, never blocks; the caller serializes
 * the sends of one topic so that they go out in seq order. 0 or -errno. */
int sbx_events_send(struct sbx_events *ev, const char *topic, const char *kind, uint64_t seq,
		    int64_t time_us, const void *data, size_t len);

#endif
