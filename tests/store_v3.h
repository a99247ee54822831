/* A state store as schema 3 (main before issue 12) wrote it, for the
 * tests of its migration: its CREATE statements (the schema, then the
 * migration to 2 that every schema-3 file had run) copied from
 * daemon/store/store.c as it was, and the rows' INSERT statements, which
 * tests fill with their values. Never to be edited: it is that format. */
#ifndef SBX_TEST_STORE_V3_H
#define SBX_TEST_STORE_V3_H

#define STORE_V3_SCHEMA                                                                            \
	"CREATE TABLE IF NOT EXISTS sandboxes ("                                                   \
	"  id TEXT PRIMARY KEY, status TEXT NOT NULL, runtime TEXT NOT NULL,"                      \
	"  mode TEXT NOT NULL, entry_point TEXT NOT NULL, note TEXT NOT NULL,"                     \
	"  created_ms INTEGER NOT NULL, last_used_ms INTEGER NOT NULL,"                            \
	"  timeout_ms INTEGER NOT NULL, memory_limit_mb INTEGER NOT NULL,"                         \
	"  executions INTEGER NOT NULL, exit_code INTEGER NOT NULL,"                               \
	"  install_deps INTEGER NOT NULL, dev_server INTEGER NOT NULL,"                            \
	"  deps_installed INTEGER NOT NULL, env BLOB NOT NULL);"                                   \
	"CREATE TABLE IF NOT EXISTS sessions ("                                                    \
	"  id TEXT PRIMARY KEY, cwd TEXT NOT NULL, created_ms INTEGER NOT NULL,"                   \
	"  last_used_ms INTEGER NOT NULL, runs INTEGER NOT NULL, env BLOB NOT NULL);"              \
	"CREATE TABLE IF NOT EXISTS executions ("                                                  \
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, object_kind TEXT NOT NULL,"    \
	"  object_id TEXT NOT NULL, started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL,"    \
	"  status TEXT NOT NULL, exit_code INTEGER NOT NULL, signal INTEGER NOT NULL);"            \
	"CREATE INDEX IF NOT EXISTS executions_object ON executions(object_id);"                   \
	"CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"     \
	"CREATE TABLE IF NOT EXISTS deployments ("                                                 \
	"  id TEXT PRIMARY KEY, sandbox_id TEXT NOT NULL, created_ms INTEGER NOT NULL,"            \
	"  last_request_ms INTEGER NOT NULL, min_instances INTEGER NOT NULL,"                      \
	"  max_instances INTEGER NOT NULL, scale_down_seconds INTEGER NOT NULL,"                   \
	"  scaled_down INTEGER NOT NULL);"                                                         \
	"ALTER TABLE executions ADD COLUMN language TEXT NOT NULL DEFAULT '';"                     \
	"ALTER TABLE executions ADD COLUMN client TEXT NOT NULL DEFAULT '';"                       \
	"ALTER TABLE executions ADD COLUMN memory_peak_kb INTEGER NOT NULL DEFAULT 0;"             \
	"ALTER TABLE executions ADD COLUMN cpu_time_ms INTEGER NOT NULL DEFAULT 0;"                \
	"CREATE INDEX IF NOT EXISTS executions_id ON executions(id);"                              \
	"PRAGMA user_version=3;"

#define STORE_V3_INSERT_SANDBOX                                                                    \
	"INSERT OR REPLACE INTO sandboxes (id, status, runtime, mode, entry_point, note,"          \
	" created_ms, last_used_ms, timeout_ms, memory_limit_mb, executions, exit_code,"           \
	" install_deps, dev_server, deps_installed, env)"
#define STORE_V3_INSERT_SESSION                                                                    \
	"INSERT OR REPLACE INTO sessions (id, cwd, created_ms, last_used_ms, runs, env)"
#define STORE_V3_INSERT_DEPLOYMENT                                                                 \
	"INSERT OR REPLACE INTO deployments (id, sandbox_id, created_ms, last_request_ms,"         \
	" min_instances, max_instances, scale_down_seconds, scaled_down)"
#define STORE_V3_INSERT_EXECUTION                                                                  \
	"INSERT INTO executions (id, object_kind, object_id, started_ms, duration_ms, status,"     \
	" exit_code, signal, language, client, memory_peak_kb, cpu_time_ms)"
#endif
