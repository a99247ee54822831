#include "history_rpc.h"

#include <errno.h>
#include <time.h>

#include "admin.pb-c.h"
#include "clock.h"
#include "daemon.h"
#include "executor.h"
#include "history.h"
#include "node.h"
#include "objects.h"
#include "stats.h"

/* The objects, held open for the call. */
#define ENTER(d, call)                                                                             \
	sbx_objects_enter_call((d)->history ? (d)->objects : NULL, (call),                         \
			       "the execution history is not available")

SBX_HISTORY_HANDLER(sbx_rpc_list_executions)
{
	struct sbx_daemon *d = state;
	struct sbx_objects *o = ENTER(d, call);
	int r;

	if (!o)
		return -ESHUTDOWN;
	r = sbx_history_list(d->history, call, (const Sbx__ListExecutionsRequest *)req,
			     (Sbx__ListExecutionsReply **)ret);
	sbx_objects_leave(o);
	return r;
}

SBX_HISTORY_HANDLER(sbx_rpc_get_execution)
{
	struct sbx_daemon *d = state;
	struct sbx_objects *o = ENTER(d, call);
	int r;

	if (!o)
		return -ESHUTDOWN;
	r = sbx_history_get(d->history, call, ((const Sbx__GetExecutionRequest *)req)->execution_id,
			    (Sbx__Execution **)ret);
	sbx_objects_leave(o);
	return r;
}

SBX_HISTORY_HANDLER(sbx_rpc_get_stats)
{
	struct sbx_daemon *d = state;
	struct sbx_objects *o = ENTER(d, call);
	struct sbx_executor_stats xs = {0};
	uint64_t now;
	int r;

	if (!o)
		return -ESHUTDOWN;
	sbx_executor_stats(d->exec, &xs);
	now = (uint64_t)sbx_clock_mono_ms();
	r = sbx_stats_get(o->store, xs.running, xs.queued, (now - d->started_ms) / 1000,
			  (Sbx__StatsReply **)ret);
	if (r == 0) {
		Sbx__StatsReply *s = (Sbx__StatsReply *)*ret;

		r = sbx_node_list(d, &s->nodes, &s->n_nodes);
		if (r == 0)
			r = sbx_executor_warm_pools(d->exec, &s->warm_pools, &s->n_warm_pools);
		if (r < 0)
			protobuf_c_message_free_unpacked(*ret, NULL);
	}
	sbx_objects_leave(o);
	return r;
}
