/* The runtimes table: a language name and its aliases -> the Debian
 * package that brings it, the file the code is written to, an optional
 * compile step, the run argv, the host binary whose presence makes the
 * language available, and what its toolchain needs inside a sandbox beyond
 * the common read-only root (host paths bound read-only, environment, run
 * limits it cannot start under). Adding a language is one row (in
 * runtime_table.c) and its line in scripts/deps.sh. Rows sharing a name are
 * alternatives, first installed wins (typescript: bun, else tsx). */
#ifndef SBX_RUNTIMES_H
#define SBX_RUNTIMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SBX_RT_ARGV_MAX 10
#define SBX_RT_ALIASES_MAX 6
#define SBX_RT_BINDS_MAX 4
#define SBX_RT_ENV_MAX 4
/* The configuration's disabled set is a uint64_t, one bit per language. */
#define SBX_RT_LANGUAGES_MAX 64

/* Limits by field name of sbx.Limits; 0: not set here. */
struct sbx_runtime_limits {
	uint64_t cpu_time_ms, wall_time_ms, memory_kb;
	uint32_t pids;
	uint64_t fsize_kb;
	uint32_t nofile;
};

struct sbx_runtime {
	const char *name;
	const char *aliases[SBX_RT_ALIASES_MAX];
	/* The Debian package that installs it (scripts/deps.sh lists the
	 * same, a unit test checks); NULL: it comes from elsewhere (npm). */
	const char *package;
	const char *source;		      /* in /workspace */
	const char *probe;		      /* absolute host path that must exist */
	const char *version[SBX_RT_ARGV_MAX]; /* argv whose first output line is the version */
	const char *compile[SBX_RT_ARGV_MAX]; /* empty: interpreted */
	const char *run[SBX_RT_ARGV_MAX];
	struct sbx_runtime_limits compile_limits; /* with `compile`: 0 fields, the run's */
	/* Compiler options (ExecuteRequest.compiler_options) go at the end of
	 * `compile` rather than after its argv[0]: the row's compile is a
	 * `sh -c` script of several tools that hands them, as "$@", to the
	 * one they are for. */
	bool compile_options_last;
	/* The least the toolchain runs under (a JVM's threads and heap): a
	 * run limit the request did not set is raised to it (never past the
	 * daemon's maximum); one the request set is the request's. */
	struct sbx_runtime_limits run_floor;
	/* Host paths outside the common root the toolchain reads (its /etc
	 * configuration, a package database under /var), bound read-only at
	 * the same place; the row is installed only when they exist. */
	const char *binds[SBX_RT_BINDS_MAX];
	/* "KEY=value" set before the request's own environment (which wins). */
	const char *env[SBX_RT_ENV_MAX];
};

/* The table (runtime_table.c): rows in order, and how many. */
extern const struct sbx_runtime sbx_runtime_table[];
extern const size_t sbx_runtime_table_len;

struct sbx_runtimes;

/* The table's languages (distinct names, table order): the i-th, NULL past
 * the end; and the index of a name or alias (case-insensitive), -1 if
 * none. The configuration's ENABLE_<LANGUAGE> rows come from these. */
const char *sbx_runtime_language_name(unsigned i);
int sbx_runtime_language_index(const char *name);

/* Probe which rows are installed (cheap: a stat per row and bind), leaving
 * out the languages whose bit (1 << index) is set in `disabled`. Versions
 * are asked lazily, once, by sbx_runtimes_version. */
int sbx_runtimes_new(uint64_t disabled, struct sbx_runtimes **ret);
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
