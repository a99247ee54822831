/* The admin API's state (seed sandbox-service-API.md, "Admin API
 * Endpoints"): the ring of the daemon's recent log lines (installed as the
 * log sink), the last output and figures of each sandbox, and the previous
 * host CPU sample. The handlers are in admin/rpc.c. */
#ifndef SBX_ADMIN_H
#define SBX_ADMIN_H

#include "executor.h"
#include "logring.h"
#include "outputs.h"

struct sbx_config;
struct sbx_admin;

/* Create the state and install the log sink (one per process: see
 * sbx_log_set_sink). 0 or -errno. */
int sbx_admin_new(const struct sbx_config *cfg, struct sbx_admin **ret);
/* Remove the log sink and free. Call once no thread logs or uses `a`.
 * NULL is a no-op. */
void sbx_admin_free(struct sbx_admin *a);

/* Keep what the admin API shows of an execution (an observer, like
 * sbx_history_record): the last output of sandboxes. */
void sbx_admin_record(struct sbx_admin *a, const struct sbx_exec_report *rep);

struct sbx_logring *sbx_admin_logs(struct sbx_admin *a);
struct sbx_outputs *sbx_admin_outputs(struct sbx_admin *a);

/* Host CPU use in percent: since the previous call (at least 200 ms
 * before, else that call's figure), since boot the first time. */
double sbx_admin_cpu_percent(struct sbx_admin *a);

#endif
