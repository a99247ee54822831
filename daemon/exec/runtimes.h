/* The runtimes table: a language name and its aliases -> the file the code
 * is written to, an optional compile step, the run argv, and the host
 * binary whose presence makes the language available. Adding a language is
 * one row. Rows sharing a name are alternatives, first installed wins
 * (typescript: bun, else tsx). */
#ifndef SBX_RUNTIMES_H
#define SBX_RUNTIMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SBX_RT_ARGV_MAX 8

/* The compile step's limits, by field name of sbx.Limits (compilers need
 * more than the programs they build); 0: the run's own. */
struct sbx_runtime_limits {
	uint64_t cpu_time_ms, wall_time_ms, memory_kb;
	uint32_t pids;
	uint64_t fsize_kb;
	uint32_t nofile;
};

struct sbx_runtime {
	const char *name;
	const char *aliases[4];
	const char *source;		      /* in /workspace */
	const char *probe;		      /* absolute host path that must exist */
	const char *version[SBX_RT_ARGV_MAX]; /* argv printing the version */
	const char *compile[SBX_RT_ARGV_MAX]; /* empty: interpreted */
	const char *run[SBX_RT_ARGV_MAX];
	struct sbx_runtime_limits compile_limits; /* with `compile` */
};

struct sbx_runtimes;

/* The table's languages (distinct names, table order): the i-th, NULL past
 * the end; and the index of a name or alias (case-insensitive), -1 if
 * none. The configuration's ENABLE_<LANGUAGE> rows come from these. */
const char *sbx_runtime_language_name(unsigned i);
int sbx_runtime_language_index(const char *name);

/* Probe which rows are installed (cheap: a stat per row), leaving out the
 * languages whose bit (1 << index) is set in `disabled`. Versions are
 * asked lazily, once, by sbx_runtimes_version. */
int sbx_runtimes_new(uint32_t disabled, struct sbx_runtimes **ret);
void sbx_runtimes_free(struct sbx_runtimes *rt);

/* The installed runtime for a name or alias (case-insensitive), or NULL. */
const struct sbx_runtime *sbx_runtimes_find(const struct sbx_runtimes *rt, const char *name);
/* When `name` (a language or alias) is disabled by the configuration, the
 * language's name, for "language python is disabled on this server";
 * else NULL. */
const char *sbx_runtimes_disabled(const struct sbx_runtimes *rt, const char *name);
/* The same for a command: argv0's base name is a disabled language's
 * name, alias or binary ("python3", "/usr/bin/node", "bash"). A policy the
 * seeds ask for, not isolation: a shell can still start the binary. */
const char *sbx_runtimes_disabled_argv0(const struct sbx_runtimes *rt, const char *argv0);
/* The i-th installed runtime (distinct names), NULL past the end. */
const struct sbx_runtime *sbx_runtimes_at(const struct sbx_runtimes *rt, size_t i);
/* "python, node, ..." of installed names, for error messages. */
const char *sbx_runtimes_names(const struct sbx_runtimes *rt);
/* First line of the runtime's version output ("" when it cannot be read);
 * thread-safe, computed once per runtime. */
const char *sbx_runtimes_version(struct sbx_runtimes *rt, const struct sbx_runtime *r);

#endif
