/* The state store: rows written are read back after closing and reopening
 * (what a restart does), replaced in place, deleted; the history keeps
 * only its newest rows; counters add up; a database from a newer schema
 * is refused; the file is private to the daemon. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "store.h"
#include "testlib.h"

struct seen {
	int n;
	char ids[8][40], status[8][16], env[8][64];
	size_t env_len[8];
	long long created[8];
};

static int on_sandbox(void *arg, const struct sbx_store_sandbox *r)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", r->id);
		snprintf(s->status[s->n], sizeof(s->status[0]), "%s", r->status);
		memcpy(s->env[s->n], r->env, r->env_len < 64 ? r->env_len : 64);
		s->env_len[s->n] = r->env_len;
		s->created[s->n] = r->created_ms;
	}
	s->n++;
	return 0;
}

static int on_session(void *arg, const struct sbx_store_session *r)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", r->id);
		snprintf(s->status[s->n], sizeof(s->status[0]), "%s", r->cwd);
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

static int stop_early(void *arg, const struct sbx_store_sandbox *r)
{
	return -ECANCELED;
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

	struct sbx_store_sandbox a = {
		.id = "11111111-1111-4111-8111-111111111111",
		.status = "created",
		.runtime = "node",
		.mode = "oneshot",
		.entry_point = "",
		.note = "",
		.created_ms = 1000,
		.last_used_ms = 1000,
		.timeout_ms = 30000,
		.memory_limit_mb = 256,
		.env = "A=1\0B=2",
		.env_len = 8,
	};
	struct sbx_store_sandbox b = a;

	b.id = "22222222-2222-4222-8222-222222222222";
	b.created_ms = 2000;
	CHECK(sbx_store_put_sandbox(s, &a) == 0);
	CHECK(sbx_store_put_sandbox(s, &b) == 0);
	a.status = "running";
	CHECK(sbx_store_put_sandbox(s, &a) == 0); /* replaces, does not add */
	struct sbx_store_session se = {.id = "33333333-3333-4333-8333-333333333333",
				       .cwd = "/workspace",
				       .created_ms = 5,
				       .last_used_ms = 6,
				       .runs = 2,
				       .env = "",
				       .env_len = 0};
	CHECK(sbx_store_put_session(s, &se) == 0);
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
	CHECK(sbx_store_each_sandbox(s, on_sandbox, &seen) == 0);
	CHECK_INT(seen.n, 2);
	CHECK_STR(seen.ids[0], a.id); /* oldest first */
	CHECK_STR(seen.status[0], "running");
	CHECK_INT(seen.env_len[0], 8);
	CHECK(memcmp(seen.env[0], "A=1\0B=2", 8) == 0);
	CHECK_STR(seen.ids[1], b.id);
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_each_session(s, on_session, &seen) == 0);
	CHECK_INT(seen.n, 1);
	CHECK_STR(seen.status[0], "/workspace");
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_each_execution(s, NULL, 100, on_exec, &seen) == 0);
	CHECK_INT(seen.n, 3); /* history_max 3: the newest three, newest first */
	CHECK_STR(seen.ids[0], "exec-4");
	CHECK_STR(seen.ids[2], "exec-2");
	memset(&seen, 0, sizeof(seen));
	CHECK(sbx_store_each_execution(s, "nobody", 100, on_exec, &seen) == 0 && seen.n == 0);
	CHECK(sbx_store_counter_add(s, "sandboxes_created", 0, &v) == 0 && v == 3);
	CHECK(sbx_store_each_sandbox(s, stop_early, NULL) == -ECANCELED);

	CHECK(sbx_store_delete_sandbox(s, a.id) == 0);
	CHECK(sbx_store_delete_sandbox(s, a.id) == 0); /* absent: fine */
	CHECK(sbx_store_delete_session(s, se.id) == 0);
	memset(&seen, 0, sizeof(seen));
	sbx_store_each_sandbox(s, on_sandbox, &seen);
	CHECK_INT(seen.n, 1);
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
	sbx_files_rmtree(dir);
	free(dir);
	TEST_DONE();
}
