/* The audit log (seed sandbox-executor: ENABLE_AUDIT_LOG): one JSON line per
 * execution request, appended to state_dir/audit.log. A line says who
 * (client), what (method, kind, object, language), with which limits, and
 * how it ended (status, exit code, duration), and never the code, stdin,
 * environment values, file contents or output: the report it is made from
 * carries none of them except the result, of which only numbers and the
 * status are read. */
#ifndef SBX_AUDIT_H
#define SBX_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "executor.h"

/* The longest line written, newline included; longer fields are cut. */
#define SBX_AUDIT_LINE_MAX 4096
/* Strings (client, language, ids) are cut to this many bytes. */
#define SBX_AUDIT_FIELD_MAX 256

struct sbx_audit;

/* Open (create, 0600) `path` for appending. 0 or -errno. */
int sbx_audit_open(const char *path, struct sbx_audit **ret);
/* NULL is a no-op. */
void sbx_audit_close(struct sbx_audit *a);

/* Format the line of `rep` at time now_ms into buf (cap bytes, at least
 * 512), newline-terminated and NUL-terminated. Returns its length
 * (< cap, <= SBX_AUDIT_LINE_MAX - 1 + 1) or -ENOMEM. Pure: for tests. */
int sbx_audit_format(const struct sbx_exec_report *rep, int64_t now_ms, char *buf, size_t cap);

/* Append the line of `rep` with one write(2), so that lines of
 * concurrent requests never interleave. Thread-safe. 0 or -errno. */
int sbx_audit_write(struct sbx_audit *a, const struct sbx_exec_report *rep);

#endif
