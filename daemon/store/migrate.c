#include "migrate.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "objects.pb-c.h"

/* The words schema 3 wrote for a sandbox's status and mode. They belong
 * to that file format and stay as they are, whatever replies say later. */
static const char *const v3_states[] = {
	[SBX__SANDBOX_STATE__SANDBOX_CREATED] = "created",
	[SBX__SANDBOX_STATE__SANDBOX_RUNNING] = "running",
	[SBX__SANDBOX_STATE__SANDBOX_COMPLETED] = "completed",
	[SBX__SANDBOX_STATE__SANDBOX_FAILED] = "failed",
};
static const char *const v3_modes[] = {
	[SBX__SANDBOX_MODE__SANDBOX_ONESHOT] = "oneshot",
	[SBX__SANDBOX_MODE__SANDBOX_PERSISTENT] = "persistent",
};

#define N(t) (sizeof(t) / sizeof(*(t)))

/* The index of `w` in words, or dflt (a word schema 3 never wrote). */
static int value_of(const char *const *words, size_t n, const char *w, int dflt)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(words[i], w) == 0)
			return (int)i;
	return dflt;
}

static int fail(sqlite3 *db, const char *what)
{
	log_error("state store: migrating to schema 4: %s: %s", what, sqlite3_errmsg(db));
	return -EIO;
}

static const char *text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static ProtobufCBinaryData blob(sqlite3_stmt *st, int i)
{
	/* The blob first: it decides the length. NULL when empty. */
	const void *p = sqlite3_column_blob(st, i);

	return (ProtobufCBinaryData){.len = p ? (size_t)sqlite3_column_bytes(st, i) : 0,
				     .data = (uint8_t *)p};
}

/* The row of an object: its columns, and rec packed. */
struct row {
	const char *id, *kind, *status, *owner;
	int64_t created_ms, used_ms;
};

static int put(sqlite3 *db, sqlite3_stmt *ins, const struct row *x, const ProtobufCMessage *rec)
{
	size_t n = protobuf_c_message_get_packed_size(rec);
	uint8_t *buf = malloc(n ? n : 1);
	int r;

	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(rec, buf);
	sqlite3_reset(ins);
	r = sqlite3_bind_text(ins, 1, x->id, -1, SQLITE_TRANSIENT);
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(ins, 2, x->kind, -1, SQLITE_STATIC);
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(ins, 3, x->status, -1, SQLITE_TRANSIENT);
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(ins, 4, x->owner, -1, SQLITE_TRANSIENT);
	if (r == SQLITE_OK)
		r = sqlite3_bind_int64(ins, 5, x->created_ms);
	if (r == SQLITE_OK)
		r = sqlite3_bind_int64(ins, 6, x->used_ms);
	if (r == SQLITE_OK)
		r = sqlite3_bind_blob64(ins, 7, buf, n, SQLITE_TRANSIENT);
	if (r == SQLITE_OK)
		r = sqlite3_step(ins);
	free(buf);
	return r == SQLITE_DONE ? 0 : fail(db, "write an object");
}

/* A sandbox of schema 3, its owner from the deployments table when there
 * is one (schema 3 found it there at every start). */
static int sandbox(sqlite3 *db, sqlite3_stmt *st, sqlite3_stmt *ins)
{
	Sbx__SandboxRecord rec = SBX__SANDBOX_RECORD__INIT;
	int state =
		value_of(v3_states, N(v3_states), text(st, 1), SBX__SANDBOX_STATE__SANDBOX_FAILED);
	struct row x = {.id = text(st, 0),
			.kind = "sandbox",
			.status = v3_states[state],
			.owner = text(st, 16)};

	rec.state = (Sbx__SandboxState)state;
	rec.runtime = (char *)text(st, 2);
	rec.mode = (Sbx__SandboxMode)value_of(v3_modes, N(v3_modes), text(st, 3),
					      SBX__SANDBOX_MODE__SANDBOX_ONESHOT);
	rec.entry_point = (char *)text(st, 4);
	rec.note = (char *)text(st, 5);
	rec.created_ms = x.created_ms = sqlite3_column_int64(st, 6);
	rec.last_used_ms = x.used_ms = sqlite3_column_int64(st, 7);
	rec.timeout_ms = (uint32_t)sqlite3_column_int64(st, 8);
	rec.memory_limit_mb = (uint32_t)sqlite3_column_int64(st, 9);
	rec.executions = (uint32_t)sqlite3_column_int64(st, 10);
	rec.exit_code = sqlite3_column_int(st, 11);
	rec.install_deps = sqlite3_column_int(st, 12) != 0;
	rec.dev_server = sqlite3_column_int(st, 13) != 0;
	rec.deps_installed = sqlite3_column_int(st, 14) != 0;
	rec.env = blob(st, 15);
	rec.owner = (char *)x.owner;
	return put(db, ins, &x, &rec.base);
}

static int session(sqlite3 *db, sqlite3_stmt *st, sqlite3_stmt *ins)
{
	Sbx__SessionRecord rec = SBX__SESSION_RECORD__INIT;
	struct row x = {.id = text(st, 0), .kind = "session", .status = "", .owner = ""};

	rec.cwd = (char *)text(st, 1);
	rec.created_ms = x.created_ms = sqlite3_column_int64(st, 2);
	rec.last_used_ms = x.used_ms = sqlite3_column_int64(st, 3);
	rec.runs = (uint32_t)sqlite3_column_int64(st, 4);
	rec.env = blob(st, 5);
	return put(db, ins, &x, &rec.base);
}

static int deployment(sqlite3 *db, sqlite3_stmt *st, sqlite3_stmt *ins)
{
	Sbx__DeploymentRecord rec = SBX__DEPLOYMENT_RECORD__INIT;
	struct row x = {.id = text(st, 0), .kind = "deployment", .owner = ""};

	rec.sandbox_id = (char *)text(st, 1);
	rec.created_ms = x.created_ms = sqlite3_column_int64(st, 2);
	rec.last_request_ms = x.used_ms = sqlite3_column_int64(st, 3);
	rec.min_instances = (uint32_t)sqlite3_column_int64(st, 4);
	rec.max_instances = (uint32_t)sqlite3_column_int64(st, 5);
	rec.scale_down_s = (uint32_t)sqlite3_column_int64(st, 6);
	rec.state = sqlite3_column_int64(st, 7) ? SBX__DEPLOYMENT_STATE__DEPLOYMENT_SCALED_DOWN
						: SBX__DEPLOYMENT_STATE__DEPLOYMENT_ACTIVE;
	/* The words of deployment.c's table. */
	x.status = rec.state ? "scaled_down" : "active";
	return put(db, ins, &x, &rec.base);
}

static bool has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK)
		found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static const struct table {
	const char *name, *select;
	int (*row)(sqlite3 *db, sqlite3_stmt *st, sqlite3_stmt *ins);
} tables[] = {
	{"sandboxes",
	 "SELECT id, status, runtime, mode, entry_point, note, created_ms, last_used_ms,"
	 " timeout_ms, memory_limit_mb, executions, exit_code, install_deps, dev_server,"
	 " deps_installed, env, %s FROM sandboxes",
	 sandbox},
	{"sessions", "SELECT id, cwd, created_ms, last_used_ms, runs, env FROM sessions", session},
	{"deployments",
	 "SELECT id, sandbox_id, created_ms, last_request_ms, min_instances, max_instances,"
	 " scale_down_seconds, scaled_down FROM deployments",
	 deployment},
};

/* Every row of table t into `objects`; the number through *ret_n. */
static int migrate_table(sqlite3 *db, const struct table *t, bool owners, sqlite3_stmt *ins,
			 unsigned *ret_n)
{
	char sql[512];
	sqlite3_stmt *st = NULL;
	int r = 0, rc;

	/* The owner of a sandbox: the deployment naming it, if any. */
	snprintf(sql, sizeof(sql), t->select,
		 owners ? "coalesce((SELECT d.id FROM deployments d WHERE d.sandbox_id ="
			  " sandboxes.id), '')"
			: "''");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, t->name);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && (r = t->row(db, st, ins)) == 0)
		(*ret_n)++;
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(db, t->name);
	sqlite3_finalize(st);
	return r;
}

int sbx_store_migrate4(sqlite3 *db)
{
	bool deployments = has_table(db, "deployments");
	unsigned n[N(tables)] = {0};
	sqlite3_stmt *ins = NULL;
	char drop[64];
	int r = 0;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO objects (id, kind, status, owner, created_ms, used_ms,"
			       " record) VALUES (?,?,?,?,?,?,?)",
			       -1, &ins, NULL) != SQLITE_OK)
		return fail(db, "prepare");
	for (size_t i = 0; i < N(tables) && r == 0; i++) {
		if (!has_table(db, tables[i].name))
			continue;
		r = migrate_table(db, &tables[i], deployments, ins, &n[i]);
		snprintf(drop, sizeof(drop), "DROP TABLE %s", tables[i].name);
		if (r == 0 && sqlite3_exec(db, drop, NULL, NULL, NULL) != SQLITE_OK)
			r = fail(db, drop);
	}
	sqlite3_finalize(ins);
	if (r == 0)
		log_info("state store: schema 4: %u sandboxes, %u sessions and %u deployments "
			 "kept as records",
			 n[0], n[1], n[2]);
	return r;
}
