/* An execution's status as shown outside sandboxd. EXEC_STATUS_STOPPED
 * (sbx_executor_cancel stopped it) is the daemon's own: replies, the
 * history, the audit log and log events show it as SIGNALED (signal 9,
 * error "stopped"), as they did before it existed, so that no client and
 * no seed reply changes. Inside, a stopped run is recognised by its
 * status, never by its error text. */
#ifndef SBX_EXEC_STATUS_H
#define SBX_EXEC_STATUS_H

#include "common.pb-c.h"

/* `st` as shown: SIGNALED for STOPPED, else itself. */
Sbx__ExecStatus sbx_exec_status_shown(Sbx__ExecStatus st);

/* Give `res` (NULL: nothing) its shown status, before it leaves the
 * daemon in a reply. */
void sbx_exec_result_show(Sbx__ExecResult *res);

#endif
