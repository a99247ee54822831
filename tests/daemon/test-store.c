/* The state store: rows written are read back after closing and reopening
 * (what a restart does), replaced in place, deleted; a store written by
 * schema 3 (today's main) is migrated with every row and field kept; the history keeps
 * only its newest rows; counters add up; a database from a newer schema
 * is refused; the file is private to the daemon. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "files.h"
#include "objects.pb-c.h"
#include "store.h"
#include "store_v3.h"
#include "testlib.h"

struct seen {
	int n;
	char ids[8][40], status[8][16], owner[8][40], record[8][64];
	size_t record_len[8];
	long long created[8], used[8];
};

static int on_object(void *arg, const struct sbx_store_object *r)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", r->id);
		snprintf(s->status[s->n], sizeof(s->status[0]), "%s", r->status);
		snprintf(s->owner[s->n], sizeof(s->owner[0]), "%s", r->owner);
		memcpy(s->record[s->n], r->record, r->record_len < 64 ? r->record_len : 64);
		s->record_len[s->n] = r->record_len;
		s->created[s->n] = r->created_ms;
		s->used[s->n] = r->used_ms;
	}
	s->n++;
	return 0;
}

static int on_exec(void *arg, const struct sbx_store_execution *r)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", r->id);
	s->n++;
	return 0;
}

static int stop_early(void *arg, const struct sbx_store_object *r)
{
	return -ECANCELED;
}

/* A store of schema 3 (store_v3.h) with a row of each kind. */
static const char v3_sql[] = STORE_V3_SCHEMA
	/* A persistent sandbox of a deployment, running when the daemon
	 * stopped, and a failed oneshot one with a note. */
	STORE_V3_INSERT_SANDBOX
	" VALUES ('11111111-1111-4111-8111-111111111111', 'running', 'node', 'persistent',"
	" 'index.js', '', 1000, 1100, 30000, 256, 3, 0, 1, 1, 1, "
	"X'413D3100423D3200');" STORE_V3_INSERT_SANDBOX
	" VALUES ('22222222-2222-4222-8222-222222222222', 'failed', 'python', 'oneshot',"
	" '', 'it exited with code 2', 2000, 2100, 5000, 128, 7, -9, 0, 0, 0, "
	"X'');" STORE_V3_INSERT_SESSION
	" VALUES ('33333333-3333-4333-8333-333333333333', '/workspace/app', 5, 6, 2,"
	" X'4B3D7600');" STORE_V3_INSERT_DEPLOYMENT
	" VALUES ('44444444-4444-4444-8444-444444444444', '11111111-1111-4111-8111-111111111111',"
	" 900, 1200, 0, 2, 90, 1);" STORE_V3_INSERT_EXECUTION
	" VALUES ('exec-a', 'sandbox', '22222222-2222-4222-8222-222222222222', 2050, 40,"
	" 'EXEC_STATUS_RUNTIME_ERROR', 2, 0, 'python', '198.51.100.7', 9000, "
	"30);" STORE_V3_INSERT_EXECUTION
	" VALUES ('exec-b', 'session', '33333333-3333-4333-8333-333333333333', 6, 1,"
	" 'EXEC_STATUS_SIGNALED', -1, 9, 'command', '', 100, 0);"
	"INSERT INTO counters (name, value) VALUES ('sandboxes_created', 5)"
	" ON CONFLICT(name) DO UPDATE SET value = value + 5;"
	"INSERT INTO counters (name, value) VALUES ('sessions_created', 1)"
	" ON CONFLICT(name) DO UPDATE SET value = value + 1;";

struct rows {
	int n;
	struct {
		char id[40], status[16], owner[40];
		long long created, used;
		ProtobufCMessage *rec;
	} r[4];
	const ProtobufCMessageDescriptor *d;
};

static int on_row(void *arg, const struct sbx_store_object *o)
{
	struct rows *x = arg;

	if (x->n < 4) {
		snprintf(x->r[x->n].id, sizeof(x->r[0].id), "%s", o->id);
		snprintf(x->r[x->n].status, sizeof(x->r[0].status), "%s", o->status);
		snprintf(x->r[x->n].owner, sizeof(x->r[0].owner), "%s", o->owner);
		x->r[x->n].created = o->created_ms;
		x->r[x->n].used = o->used_ms;
		x->r[x->n].rec = protobuf_c_message_unpack(x->d, NULL, o->record_len, o->record);
	}
	x->n++;
	return 0;
}

static void rows_fini(struct rows *x)
{
	for (int i = 0; i < x->n && i < 4; i++)
		if (x->r[i].rec)
			protobuf_c_message_free_unpacked(x->r[i].rec, NULL);
	memset(x, 0, sizeof(*x));
}

struct execs {
	int n;
	struct sbx_store_execution e[4];
	char text[4][6][64];
};

static int on_execution(void *arg, const struct sbx_store_execution *r)
{
	struct execs *x = arg;
	const char *src[6] = {r->id,	 r->object_kind, r->object_id,
			      r->status, r->language,	 r->client};

	if (x->n < 4) {
		x->e[x->n] = *r;
		for (int i = 0; i < 6; i++)
			snprintf(x->text[x->n][i], sizeof(x->text[0][0]), "%s", src[i]);
	}
	x->n++;
	return 0;
}

static int table_count(const char *db, const char *sql)
{
	sqlite3 *raw;
	sqlite3_stmt *q;
	int n = -1;

	if (sqlite3_open(db, &raw) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(raw, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(raw);
	return n;
}

/* Opened by this store, a schema-3 file keeps every object (each field in
 * its record), every execution and every counter; twice opened, it stays
 * as it is. */
static void test_migrate_v3(const char *dir)
{
	char db[512];
	struct sbx_store *s = NULL;
	struct rows x = {0};
	struct execs e = {0};
	sqlite3 *raw;
	int64_t v = 0;

	snprintf(db, sizeof(db), "%s/v3.db", dir);
	CHECK(sqlite3_open(db, &raw) == SQLITE_OK);
	CHECK(sqlite3_exec(raw, v3_sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(raw);

	for (int pass = 0; pass < 2; pass++) {
		s = NULL;
		CHECK(sbx_store_open(db, 0, &s) == 0);
		if (!s)
			return;
		CHECK_INT(table_count(db, "PRAGMA user_version"), SBX_STORE_SCHEMA);
		CHECK_INT(table_count(db, "SELECT count(*) FROM sqlite_master WHERE name IN"
					  " ('sandboxes', 'sessions', 'deployments')"),
			  0);

		x.d = &sbx__sandbox_record__descriptor;
		CHECK(sbx_store_each_object(s, "sandbox", on_row, &x) == 0);
		CHECK_INT(x.n, 2);
		if (x.n == 2 && x.r[0].rec && x.r[1].rec) {
			const Sbx__SandboxRecord *a = (const Sbx__SandboxRecord *)x.r[0].rec;
			const Sbx__SandboxRecord *b = (const Sbx__SandboxRecord *)x.r[1].rec;

			CHECK_STR(x.r[0].id, "11111111-1111-4111-8111-111111111111");
			CHECK_STR(x.r[0].status, "running");
			CHECK_STR(x.r[0].owner, "44444444-4444-4444-8444-444444444444");
			CHECK_INT(x.r[0].created, 1000);
			CHECK_INT(x.r[0].used, 1100);
			CHECK_INT(a->state, SBX__SANDBOX_STATE__SANDBOX_RUNNING);
			CHECK_STR(a->runtime, "node");
			CHECK_INT(a->mode, SBX__SANDBOX_MODE__SANDBOX_PERSISTENT);
			CHECK_STR(a->entry_point, "index.js");
			CHECK_STR(a->note, "");
			CHECK_INT(a->created_ms, 1000);
			CHECK_INT(a->last_used_ms, 1100);
			CHECK_INT(a->timeout_ms, 30000);
			CHECK_INT(a->memory_limit_mb, 256);
			CHECK_INT(a->executions, 3);
			CHECK_INT(a->exit_code, 0);
			CHECK(a->install_deps && a->dev_server && a->deps_installed);
			CHECK(a->env.len == 8 && memcmp(a->env.data, "A=1\0B=2\0", 8) == 0);
			CHECK_STR(a->owner, "44444444-4444-4444-8444-444444444444");

			CHECK_STR(x.r[1].id, "22222222-2222-4222-8222-222222222222");
			CHECK_STR(x.r[1].status, "failed");
			CHECK_STR(x.r[1].owner, "");
			CHECK_INT(x.r[1].created, 2000);
			CHECK_INT(x.r[1].used, 2100);
			CHECK_INT(b->state, SBX__SANDBOX_STATE__SANDBOX_FAILED);
			CHECK_STR(b->runtime, "python");
			CHECK_INT(b->mode, SBX__SANDBOX_MODE__SANDBOX_ONESHOT);
			CHECK_STR(b->entry_point, "");
			CHECK_STR(b->note, "it exited with code 2");
			CHECK_INT(b->created_ms, 2000);
			CHECK_INT(b->last_used_ms, 2100);
			CHECK_INT(b->timeout_ms, 5000);
			CHECK_INT(b->memory_limit_mb, 128);
			CHECK_INT(b->executions, 7);
			CHECK_INT(b->exit_code, -9);
			CHECK(!b->install_deps && !b->dev_server && !b->deps_installed);
			CHECK_INT(b->env.len, 0);
			CHECK_STR(b->owner, "");
		} else
			CHECK(!"sandbox records unreadable");
		rows_fini(&x);

		x.d = &sbx__session_record__descriptor;
		CHECK(sbx_store_each_object(s, "session", on_row, &x) == 0);
		CHECK_INT(x.n, 1);
		if (x.n == 1 && x.r[0].rec) {
			const Sbx__SessionRecord *se = (const Sbx__SessionRecord *)x.r[0].rec;

			CHECK_STR(x.r[0].id, "33333333-3333-4333-8333-333333333333");
			CHECK_INT(x.r[0].created, 5);
			CHECK_INT(x.r[0].used, 6);
			CHECK_STR(se->cwd, "/workspace/app");
			CHECK_INT(se->created_ms, 5);
			CHECK_INT(se->last_used_ms, 6);
			CHECK_INT(se->runs, 2);
			CHECK(se->env.len == 4 && memcmp(se->env.data, "K=v\0", 4) == 0);
		} else
			CHECK(!"session record unreadable");
		rows_fini(&x);

		x.d = &sbx__deployment_record__descriptor;
		CHECK(sbx_store_each_object(s, "deployment", on_row, &x) == 0);
		CHECK_INT(x.n, 1);
		if (x.n == 1 && x.r[0].rec) {
			const Sbx__DeploymentRecord *d = (const Sbx__DeploymentRecord *)x.r[0].rec;

			CHECK_STR(x.r[0].id, "44444444-4444-4444-8444-444444444444");
			CHECK_STR(x.r[0].status, "scaled_down");
			CHECK_INT(x.r[0].created, 900);
			CHECK_INT(x.r[0].used, 1200);
			CHECK_STR(d->sandbox_id, "11111111-1111-4111-8111-111111111111");
			CHECK_INT(d->created_ms, 900);
			CHECK_INT(d->last_request_ms, 1200);
			CHECK_INT(d->min_instances, 0);
			CHECK_INT(d->max_instances, 2);
			CHECK_INT(d->scale_down_s, 90);
			CHECK_INT(d->state, SBX__DEPLOYMENT_STATE__DEPLOYMENT_SCALED_DOWN);
		} else
			CHECK(!"deployment record unreadable");
		rows_fini(&x);

		memset(&e, 0, sizeof(e));
		CHECK(sbx_store_each_execution(s, NULL, 10, on_execution, &e) == 0);
		CHECK_INT(e.n, 2);
		/* Newest first. */
		CHECK_STR(e.text[0][0], "exec-b");
		CHECK_STR(e.text[0][1], "session");
		CHECK_STR(e.text[0][2], "33333333-3333-4333-8333-333333333333");
		CHECK_STR(e.text[0][3], "EXEC_STATUS_SIGNALED");
		CHECK_STR(e.text[0][4], "command");
		CHECK_STR(e.text[0][5], "");
		CHECK_INT(e.e[0].started_ms, 6);
		CHECK_INT(e.e[0].duration_ms, 1);
		CHECK_INT(e.e[0].exit_code, -1);
		CHECK_INT(e.e[0].signal, 9);
		CHECK_INT(e.e[0].memory_peak_kb, 100);
		CHECK_INT(e.e[0].cpu_time_ms, 0);
		CHECK_STR(e.text[1][0], "exec-a");
		CHECK_STR(e.text[1][1], "sandbox");
		CHECK_STR(e.text[1][2], "22222222-2222-4222-8222-222222222222");
		CHECK_STR(e.text[1][3], "EXEC_STATUS_RUNTIME_ERROR");
		CHECK_STR(e.text[1][4], "python");
		CHECK_STR(e.text[1][5], "198.51.100.7");
		CHECK_INT(e.e[1].started_ms, 2050);
		CHECK_INT(e.e[1].duration_ms, 40);
		CHECK_INT(e.e[1].exit_code, 2);
		CHECK_INT(e.e[1].signal, 0);
		CHECK_INT(e.e[1].memory_peak_kb, 9000);
		CHECK_INT(e.e[1].cpu_time_ms, 30);
		CHECK(sbx_store_get_execution(s, "exec-a", NULL, NULL) == 0);
		CHECK(sbx_store_counter_add(s, "sandboxes_created", 0, &v) == 0 && v == 5);
		CHECK(sbx_store_counter_add(s, "sessions_created", 0, &v) == 0 && v == 1);
		sbx_store_close(s);
	}
}

static int on_outputs(void *arg, const struct sbx_store_execution *r)
{
	struct sbx_store_execution *x = arg;
	char *copy;

	*x = *r;
	for (int i = 0; i < SBX_STORE_N_OUTPUTS; i++) {
		copy = strndup(r->out[i].data ? r->out[i].data : "", r->out[i].len);
		x->out[i].data = copy;
	}
	return 0;
}

/* Outputs are kept by id with their truncation flags, answered by
 * sbx_store_get_execution only, and go with their row: trimmed by count
 * or by age. */
static void test_outputs(const char *dir)
{
	char db[512];
	struct sbx_store *s = NULL;
	struct sbx_store_execution e = {.object_kind = "execute",
					.object_id = "",
					.status = "EXEC_STATUS_OK",
					.started_ms = sbx_clock_wall_ms()},
				   got;

	snprintf(db, sizeof(db), "%s/outputs.db", dir);
	CHECK(sbx_store_open(db, 2, &s) == 0);
	if (!s)
		return;
	e.id = "exec-a";
	e.out[SBX_STORE_STDOUT] = (struct sbx_store_output){"hello\n", 6, false};
	e.out[SBX_STORE_STDERR] = (struct sbx_store_output){"x\0y", 3, true};
	CHECK(sbx_store_add_execution(s, &e) == 0);
	CHECK(sbx_store_get_execution(s, "exec-a", on_outputs, &got) == 0);
	CHECK_INT(got.out[0].len, 6);
	CHECK(memcmp(got.out[0].data, "hello\n", 6) == 0 && !got.out[0].truncated);
	CHECK_INT(got.out[1].len, 3);
	CHECK(got.out[1].truncated && !got.out[2].truncated && got.out[2].len == 0);
	for (int i = 0; i < SBX_STORE_N_OUTPUTS; i++)
		free((void *)got.out[i].data);
	/* history_max 2: two more push exec-a out, and its outputs with it. */
	e.id = "exec-b";
	CHECK(sbx_store_add_execution(s, &e) == 0);
	e.id = "exec-c";
	CHECK(sbx_store_add_execution(s, &e) == 0);
	CHECK(sbx_store_get_execution(s, "exec-a", NULL, NULL) == -ENOENT);
	CHECK_INT(table_count(db, "SELECT COUNT(*) FROM execution_outputs"), 2);
	/* By age: a row older than the limit goes at the next trim. */
	sbx_store_history_max_age(s, 60);
	e.id = "exec-old";
	e.started_ms = sbx_clock_wall_ms() - 61000;
	CHECK(sbx_store_add_execution(s, &e) == 0);
	CHECK(sbx_store_get_execution(s, "exec-old", NULL, NULL) == -ENOENT);
	CHECK(sbx_store_get_execution(s, "exec-c", NULL, NULL) == 0);
	CHECK_INT(table_count(db, "SELECT COUNT(*) FROM execution_outputs"), 1);
	/* A row that ages past the limit after its write is not read, and a
	 * read writes nothing: it stays until the next write. */
	e.id = "exec-aging";
	e.started_ms = sbx_clock_wall_ms() - 60000 + 50;
	CHECK(sbx_store_add_execution(s, &e) == 0);
	CHECK(sbx_store_get_execution(s, "exec-aging", NULL, NULL) == 0);
	usleep(100 * 1000);
	CHECK(sbx_store_get_execution(s, "exec-aging", NULL, NULL) == -ENOENT);
	/* (exec-c went by count: seq runs ahead of the rows the age took.) */
	struct seen seen = {0};
	CHECK(sbx_store_list_executions(s, NULL, INT64_MAX, 10, on_exec, &seen) == 0);
	CHECK_INT(seen.n, 0);
	CHECK_INT(table_count(db, "SELECT COUNT(*) FROM executions WHERE id = 'exec-aging'"), 1);
	sbx_store_close(s);
}

int main(void)
{
	char *dir = tl_tmpdir("sbx-store"), db[512], id[40];
	struct sbx_store *s = NULL;
	struct seen seen = {0};
	struct stat st;
	int64_t v = 0;

	if (!dir)
		SKIP("no temporary directory");
	snprintf(db, sizeof(db), "%s/sandboxd.db", dir);
	CHECK(sbx_store_open(db, 3, &s) == 0);
	if (!s)
		TEST_DONE();
	CHECK(stat(db, &st) == 0 && (st.st_mode & 0777) == 0600);

	struct sbx_store_object a = {
		.id = "11111111-1111-4111-8111-111111111111",
		.kind = "sandbox",
		.status = "created",
		.owner = "",
		.created_ms = 1000,
		.used_ms = 1000,
		.record = "A=1\0B=2", /* opaque to the store */
		.record_len = 8,
	};
	struct sbx_store_object b = a;

	b.id = "22222222-2222-4222-8222-222222222222";
	b.created_ms = 2000;
	b.owner = "44444444-4444-4444-8444-444444444444";
	CHECK(sbx_store_put_object(s, &a) == 0);
	CHECK(sbx_store_put_object(s, &b) == 0);
	a.status = "running";
	a.used_ms = 1500;
	CHECK(sbx_store_put_object(s, &a) == 0); /* replaces, does not add */
	struct sbx_store_object se = {.id = "33333333-3333-4333-8333-333333333333",
				      .kind = "session",
				      .status = "",
				      .owner = "",
				      .created_ms = 5,
				      .used_ms = 6,
				      .record = "",
				      .record_len = 0};
	CHECK(sbx_store_put_object(s, &se) == 0);
	for (int i = 0; i < 5; i++) {
		struct sbx_store_execution e = {.id = id,
						.object_kind = "sandbox",
						.object_id = a.id,
						.status = "EXEC_STATUS_OK",
						.started_ms = i};

		snprintf(id, sizeof(id), "exec-%d", i);
		CHECK(sbx_store_add_execution(s, &e) == 0);
	}
	CHECK(sbx_store_counter_add(s, "sandboxes_created", 2, &v) == 0 && v == 2);
	CHECK(sbx_store_counter_add(s, "sandboxes_created", 1, &v) == 0 && v == 3);
	sbx_store_close(s);

	/* A restart: everything is read back from the file. */
	s = NULL;
	CHECK(sbx_store_open(db, 3, &s) == 0);
	if (!s)
		TEST_DONE();
	CHECK(sbx_store_each_object(s, "sandbox", on_object, &seen) == 0);
	CHECK_INT(seen.n, 2);
	CHECK_STR(seen.ids[0], a.id); /* oldest first */
	CHECK_STR(seen.status[0], "running");
	CHECK_INT(seen.used[0], 1500);
	CHECK_INT(seen.created[0], 1000);
	CHECK_INT(seen.record_len[0], 8);
	CHECK(memcmp(seen.record[0], "A=1\0B=2", 8) == 0);
	CHECK_STR(seen.ids[1], b.id);
	CHECK_STR(seen.owner[1], b.owner);
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_each_object(s, "session", on_object, &seen) == 0);
	CHECK_INT(seen.n, 1);
	CHECK_STR(seen.ids[0], se.id);
	CHECK_INT(seen.record_len[0], 0);
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_each_object(s, "deployment", on_object, &seen) == 0 && seen.n == 0);
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_each_execution(s, NULL, 100, on_exec, &seen) == 0);
	CHECK_INT(seen.n, 3); /* history_max 3: the newest three, newest first */
	CHECK_STR(seen.ids[0], "exec-4");
	CHECK_STR(seen.ids[2], "exec-2");
	/* Pages: before an execution, before a time (started_before), both. */
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_list_executions(s, NULL, 4, 100, on_exec, &seen) == 0);
	CHECK_INT(seen.n, 2);
	CHECK_STR(seen.ids[0], "exec-3");
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_list_executions(s, "exec-4", INT64_MAX, 100, on_exec, &seen) == 0);
	CHECK_INT(seen.n, 2);
	CHECK_STR(seen.ids[0], "exec-3");
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_list_executions(s, "exec-4", 3, 1, on_exec, &seen) == 0);
	CHECK_INT(seen.n, 1);
	CHECK_STR(seen.ids[0], "exec-2");
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_list_executions(s, NULL, 2, 100, on_exec, &seen) == 0 && seen.n == 0);
	CHECK(sbx_store_list_executions(s, "exec-9", INT64_MAX, 100, on_exec, &seen) == -ENOENT);
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_each_execution(s, "nobody", 100, on_exec, &seen) == 0 && seen.n == 0);
	CHECK(sbx_store_counter_add(s, "sandboxes_created", 0, &v) == 0 && v == 3);
	CHECK(sbx_store_each_object(s, "sandbox", stop_early, NULL) == -ECANCELED);

	CHECK(sbx_store_delete_object(s, a.id) == 0);
	CHECK(sbx_store_delete_object(s, a.id) == 0); /* absent: fine */
	CHECK(sbx_store_delete_object(s, se.id) == 0);
	memset(&seen, 0, sizeof(seen));
	sbx_store_each_object(s, "sandbox", on_object, &seen);
	CHECK_INT(seen.n, 1);
	memset(&seen, 0, sizeof(seen));
	sbx_store_each_object(s, "session", on_object, &seen);
	CHECK_INT(seen.n, 0);
	sbx_store_close(s);

	/* WAL mode is on. */
	{
		sqlite3 *raw;
		sqlite3_stmt *q;

		CHECK(sqlite3_open(db, &raw) == SQLITE_OK);
		CHECK(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK);
		CHECK(sqlite3_step(q) == SQLITE_ROW &&
		      strcmp((const char *)sqlite3_column_text(q, 0), "wal") == 0);
		sqlite3_finalize(q);
		/* A newer daemon wrote this file: refused, not misread. */
		CHECK(sqlite3_exec(raw, "PRAGMA user_version=99", NULL, NULL, NULL) == SQLITE_OK);
		sqlite3_close(raw);
	}
	s = NULL;
	CHECK(sbx_store_open(db, 0, &s) == -EPROTONOSUPPORT && !s);

	/* Not a database at all. */
	{
		char junk[512];
		FILE *f;

		snprintf(junk, sizeof(junk), "%s/junk.db", dir);
		f = fopen(junk, "w");
		fputs("this is not an SQLite file, just text that is long enough to have a "
		      "header......",
		      f);
		fclose(f);
		CHECK(sbx_store_open(junk, 0, &s) < 0);
	}
	test_migrate_v3(dir);
	test_outputs(dir);
	sbx_files_rmtree(dir);
	free(dir);
	TEST_DONE();
}
