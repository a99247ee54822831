#include <errno.h>

#include "api.pb-c.h"
#include "peer.h"
#include "sandbox.h"
#include "status.h"

#define SANDBOXD_CALL_TIMEOUT_MS 10000

/* libsandbox clients are thread-safe: every caller shares the client. */
static int sandboxd_caller_new(void *peer, void **ret)
{
	*ret = peer;
	return 0;
}

static int sandboxd_call(void *caller)
{
	struct sbx_reply reply;
	int r;

	r = sbx_call(caller, "Health", NULL, SANDBOXD_CALL_TIMEOUT_MS, &reply);
	if (r < 0)
		return r;
	if (reply.status != SBX_OK || !reply.msg ||
	    reply.msg->descriptor != &sbx__health_reply__descriptor)
		r = -EPROTO;
	sbx_reply_fini(&reply);
	return r;
}

static void sandboxd_caller_free(void *caller) {}

const struct peer_ops sandboxd_peer_ops = {
	.name = "sandboxd",
	.caller_new = sandboxd_caller_new,
	.call = sandboxd_call,
	.caller_free = sandboxd_caller_free,
};
