#include "getlogs.h"

#include <errno.h>

#include "daemon.h"
#include "logs.h"

int sbx_rpc_get_logs(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
		     ProtobufCMessage **ret)
{
	const Sbx__GetLogsRequest *q = (const Sbx__GetLogsRequest *)req;
	struct sbx_logs *l = ((struct sbx_daemon *)state)->logs;
	Sbx__GetLogsReply *rep;
	int r;

	if (!l)
		return sbx_rpc_error(call, -ESHUTDOWN, "logs are not available");
	if (!q->id || !*q->id)
		return sbx_rpc_error(call, -EINVAL, "field 'id' is required");
	r = sbx_logs_get(l, q, &rep);
	if (r == -ENOENT)
		return sbx_rpc_error(call, -ENOENT, "no logs for '%.128s'", q->id);
	if (r < 0)
		return r;
	*ret = &rep->base;
	return 0;
}
