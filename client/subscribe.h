/* One publisher's subscription (client/subscribe.c), private to
 * libsandbox: the public struct sbx_subscription is a set of them
 * (client/subscribe_set.c). Same contracts as sbx_subscribe_open, _close
 * and _connected for one URL. */
#ifndef SBX_SUBSCRIBE_H
#define SBX_SUBSCRIBE_H

#include "sandbox.h"

struct sub_one;

int sub_one_open(const char *events_url, const char *topic_prefix, sbx_event_cb cb, void *arg,
		 struct sub_one **ret);
void sub_one_close(struct sub_one *s);
int sub_one_connected(struct sub_one *s);

#endif
