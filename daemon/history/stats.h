/* GetStats (seed sandbox-executor: /api/v1/stats) from the persistent
 * counters that sbx_history_record moves (history.h), so that the figures
 * survive a restart. */
#ifndef SBX_STATS_H
#define SBX_STATS_H

#include <stdint.h>

#include "admin.pb-c.h"

struct sbx_store;

/* Counts from the store; running, queued and uptime_s are the caller's
 * (they are of this process). 0 and *ret, or -ENOMEM / -EIO. */
int sbx_stats_get(struct sbx_store *store, unsigned running, unsigned queued, uint64_t uptime_s,
		  Sbx__StatsReply **ret);

#endif
