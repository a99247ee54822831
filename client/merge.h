/* Merging the answers of a fan-out call (private to libsandbox). */
#ifndef SBX_MERGE_H
#define SBX_MERGE_H

#include <stdbool.h>

#include "cluster.h"
#include "route.h"

/* One node's share of a fan-out call. */
struct part {
	struct node *n;            /* valid while its hop is out */
	char name[SBX_NODE_NAME_MAX]; /* the node's name when its hop ended */
	int err;
	bool sent;
	struct sbx_reply reply;    /* valid when err is 0 */
};

/* Merge the OK answers among parts[0..n) into one message of the method's
 * reply type, by rule; req is the call's request (limits). Takes the
 * messages it uses out of the parts (reply.msg NULL after). The `nodes`
 * of stats and status are every node of c. 0 or -ENOMEM. */
int merge_replies(struct sbx_client *c, enum merge_rule rule, const ProtobufCMessage *req,
		  struct part *parts, size_t n, ProtobufCMessage **ret);

#endif
