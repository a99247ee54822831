/* History and stats without a daemon: reports from the executor's
 * observer become rows (newest first, paged with `before`, bounded by
 * history_max, unknown ids NOT_FOUND) and counters (totals, successes,
 * timeouts, rejections, per language, average time) that survive
 * reopening the store; the audit log gets a line per report, refused ones
 * included, and no secrets. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_config.h"
#include "files.h"
#include "history.h"
#include "stats.h"
#include "store.h"
#include "testlib.h"

static char *dir;

static void report(struct sbx_history *h, const char *id, const char *kind, const char *lang,
		   Sbx__ExecStatus st, int exit_code, uint64_t ms, int error)
{
	Sbx__ExecResult res = SBX__EXEC_RESULT__INIT;
	Sbx__Limits l = SBX__LIMITS__INIT;
	struct sbx_exec_report rep = {
		.method = "Execute",
		.client = "",
		.kind = kind,
		.object_id = "",
		.language = lang,
		.execution_id = id,
		.limits = &l,
		.started_ms = 1700000000000,
		.res = error ? NULL : &res,
		.error = error,
	};

	res.status = st;
	res.exit_code = exit_code;
	res.wall_time_ms = ms;
	res.memory_peak_kb = 1000;
	res.stdout.data = (uint8_t *)"SECRET-OUTPUT";
	res.stdout.len = 13;
	sbx_history_record(h, &rep);
}

static uint64_t lang_count(const Sbx__StatsReply *s, const char *lang)
{
	for (size_t i = 0; i < s->n_executions_by_language; i++)
		if (strcmp(s->executions_by_language[i]->key, lang) == 0)
			return s->executions_by_language[i]->value;
	return 0;
}

static void test_history(void)
{
	struct sbx_config cfg = {.state_dir = dir, .enable_audit_log = true};
	struct sbx_rpc_call call = {0};
	Sbx__ListExecutionsRequest lr = SBX__LIST_EXECUTIONS_REQUEST__INIT;
	Sbx__ListExecutionsReply *list = NULL;
	Sbx__Execution *e = NULL;
	Sbx__StatsReply *st = NULL;
	struct sbx_history *h = NULL;
	struct sbx_store *s = NULL;
	char path[512], id[40], text[65536];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/sandboxd.db", dir);
	CHECK(sbx_store_open(path, 5, &s) == 0);
	CHECK(sbx_history_open(&cfg, s, &h) == 0);
	for (int i = 0; i < 7; i++) {
		snprintf(id, sizeof(id), "exec-%d", i);
		report(h, id, i < 4 ? "execute" : "run", i < 4 ? "python" : "/bin/sh",
		       i == 3 ? SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT
			      : SBX__EXEC_STATUS__EXEC_STATUS_OK,
		       i == 5, 100 * (i + 1), 0);
	}
	report(h, "", "execute", "python", 0, 0, 0, -EAGAIN);
	report(h, "", "execute", "cobol", 0, 0, 0, -EINVAL);

	/* history_max 5: exec-2..exec-6 remain, newest first. */
	CHECK(sbx_history_list(h, &call, &lr, &list) == 0);
	CHECK_INT(list->n_executions, 5);
	if (list->n_executions == 5) {
		CHECK_STR(list->executions[0]->execution_id, "exec-6");
		CHECK_STR(list->executions[4]->execution_id, "exec-2");
		CHECK_STR(list->executions[0]->language, "/bin/sh");
		CHECK_STR(list->executions[0]->client, "rpc");
		CHECK_STR(list->executions[0]->started_at, "2023-11-14T22:13:20.000Z");
		CHECK_INT(list->executions[1]->exit_code, 1);
		CHECK_INT(list->executions[3]->status,
			  SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT);
		CHECK_INT(list->executions[0]->memory_peak_kb, 1000);
		CHECK_INT(list->executions[0]->execution_time_ms, 700);
	}
	protobuf_c_message_free_unpacked(&list->base, NULL);
	lr.limit = 2;
	lr.before = "exec-5";
	CHECK(sbx_history_list(h, &call, &lr, &list) == 0);
	CHECK(list->n_executions == 2 && strcmp(list->executions[0]->execution_id, "exec-4") == 0 &&
	      strcmp(list->executions[1]->execution_id, "exec-3") == 0);
	protobuf_c_message_free_unpacked(&list->base, NULL);
	lr.before = "exec-0"; /* trimmed away */
	CHECK(sbx_history_list(h, &call, &lr, &list) == -ENOENT);
	lr.before = "";
	lr.limit = 1001;
	CHECK(sbx_history_list(h, &call, &lr, &list) == -EINVAL);
	CHECK(sbx_history_get(h, &call, "exec-4", &e) == 0 && e && strcmp(e->kind, "run") == 0);
	if (e)
		protobuf_c_message_free_unpacked(&e->base, NULL);
	CHECK(sbx_history_get(h, &call, "nope", &e) == -ENOENT);
	CHECK(strstr(call.error, "not found") != NULL);

	CHECK(sbx_stats_get(s, 1, 2, 3, &st) == 0);
	CHECK_INT(st->total_executions, 7);
	CHECK_INT(st->successful_executions, 5);
	CHECK_INT(st->failed_executions, 2);
	CHECK_INT(st->timeouts, 1);
	CHECK_INT(st->rejected, 1);
	CHECK(st->running == 1 && st->queued == 2 && st->uptime_seconds == 3);
	CHECK(st->average_execution_time_ms == 400.0);
	CHECK_INT(lang_count(st, "python"), 4);
	CHECK_INT(lang_count(st, "command"), 3);
	CHECK_INT(lang_count(st, "cobol"), 0);
	protobuf_c_message_free_unpacked(&st->base, NULL);
	sbx_history_close(h);
	sbx_store_close(s);

	/* A restart: the counters and rows are still there. */
	CHECK(sbx_store_open(path, 5, &s) == 0);
	CHECK(sbx_stats_get(s, 0, 0, 0, &st) == 0 && st->total_executions == 7 &&
	      st->rejected == 1);
	protobuf_c_message_free_unpacked(&st->base, NULL);
	sbx_store_close(s);

	/* The audit log: 9 lines (refusals too), no output. */
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = 0;
	int lines = 0;
	for (char *p = text; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_INT(lines, 9);
	CHECK(strstr(text, "SECRET") == NULL);
	CHECK(strstr(text, "\"REJECTED\"") != NULL && strstr(text, "\"INVALID_ARGUMENT\"") != NULL);
}

static int first_row(void *arg, const struct sbx_store_execution *rec)
{
	snprintf(arg, 64, "%s|%s|%s", rec->id, rec->language, rec->client);
	return 0;
}

/* A state directory of schema 1 (before this history): its rows read back
 * with empty new columns, and new rows have them. */
static void test_migration(void)
{
	char path[512], got[64] = "";
	struct sbx_store *s = NULL;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/old.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
			   "CREATE TABLE executions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id "
			   "TEXT NOT NULL,"
			   " object_kind TEXT NOT NULL, object_id TEXT NOT NULL, started_ms "
			   "INTEGER NOT NULL,"
			   " duration_ms INTEGER NOT NULL, status TEXT NOT NULL, exit_code INTEGER "
			   "NOT NULL,"
			   " signal INTEGER NOT NULL);"
			   "INSERT INTO executions (id, object_kind, object_id, started_ms, "
			   "duration_ms, status,"
			   " exit_code, signal) VALUES ('old', 'sandbox', 'x', 1, 2, "
			   "'EXEC_STATUS_OK', 0, 0);"
			   "PRAGMA user_version=1;",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(sbx_store_open(path, 0, &s) == 0);
	CHECK(sbx_store_get_execution(s, "old", first_row, got) == 0);
	CHECK(strcmp(got, "old||") == 0);
	sbx_store_close(s);
}

int main(void)
{
	dir = tl_tmpdir("history");
	test_history();
	test_migration();
	sbx_files_rmtree(dir);
	free(dir);
	TEST_DONE();
}
