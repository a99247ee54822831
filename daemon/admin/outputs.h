/* The last execution of each sandbox as the admin API shows it: the tail
 * of its stdout and stderr (AdminSandboxLogs) and its figures (memory
 * peak, CPU share; AdminListSandboxes, AdminSandboxResources). In memory
 * only, bounded: at most `max` sandboxes (the least recently updated go
 * first) and SBX_OUTPUTS_TAIL bytes per stream. Thread-safe. */
#ifndef SBX_OUTPUTS_H
#define SBX_OUTPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "admin.pb-c.h"
#include "api.pb-c.h"

#define SBX_OUTPUTS_TAIL (16u << 10)

struct sbx_outputs;

/* The figures of a sandbox's last execution. */
struct sbx_output_figures {
	int64_t ended_ms;
	uint64_t memory_peak_kb, cpu_time_ms, wall_time_ms;
};

int sbx_outputs_new(unsigned max, struct sbx_outputs **ret);
/* NULL is a no-op. */
void sbx_outputs_free(struct sbx_outputs *o);

/* Keep `res` as the last execution of sandbox `id` (ended at now_ms). */
int sbx_outputs_put(struct sbx_outputs *o, const char *id, int64_t now_ms,
		    const Sbx__ExecResult *res);
/* Drop what is kept for `id` (deleted sandbox); unknown ids are ok. */
void sbx_outputs_forget(struct sbx_outputs *o, const char *id);
/* -ENOENT when nothing is kept for `id`. */
int sbx_outputs_figures(struct sbx_outputs *o, const char *id, struct sbx_output_figures *ret);

/* Append the last `n` lines of `id`'s output to r->lines (stdout lines
 * INFO, then stderr lines ERROR; each with sandbox_id = id and the
 * execution's end as timestamp). No lines and 0 when nothing is kept. */
int sbx_outputs_lines(struct sbx_outputs *o, const char *id, size_t n, Sbx__AdminLogsReply *r);

/* Build one LogLine (helper shared with the system log). */
Sbx__AdminLogLine *sbx_log_line_new(int64_t ms, const char *level, const char *msg, size_t msg_len,
				    const char *sandbox_id);

#endif
