#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "log.h"
#include "migrate.h"

/* Statements run on every execution, prepared once (found again by their
 * text, which SQLite keeps: sqlite3_sql()). */
#define N_CACHED 16

struct sbx_store {
	sqlite3 *db;
	pthread_mutex_t lock; /* one connection, one statement at a time */
	sqlite3_stmt *cached[N_CACHED];
	unsigned history_max;
	uint64_t history_max_age_s; /* 0: no age limit */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS objects ("
	"  id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, owner TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL, used_ms INTEGER NOT NULL, record BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS objects_kind ON objects(kind, created_ms);"
	"CREATE INDEX IF NOT EXISTS objects_owner ON objects(owner);"
	"CREATE TABLE IF NOT EXISTS executions ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, object_kind TEXT NOT NULL,"
	"  object_id TEXT NOT NULL, started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL,"
	"  status TEXT NOT NULL, exit_code INTEGER NOT NULL, signal INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS executions_object ON executions(object_id);"
	"CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	/* Since schema 4, created where missing (no migration: a new table):
	 * an execution's output, gone with its row. */
	"CREATE TABLE IF NOT EXISTS execution_outputs ("
	"  id TEXT PRIMARY KEY, stdout BLOB NOT NULL, stderr BLOB NOT NULL,"
	"  compile_output BLOB NOT NULL, truncated INTEGER NOT NULL);"
	"CREATE TRIGGER IF NOT EXISTS execution_outputs_gone AFTER DELETE ON executions"
	"  BEGIN DELETE FROM execution_outputs WHERE id = old.id; END;"
	"CREATE INDEX IF NOT EXISTS executions_started ON executions(started_ms);";

/* Schema 1 -> 2: what the history and the stats need besides. */
static const char migrate2[] =
	"ALTER TABLE executions ADD COLUMN language TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE executions ADD COLUMN client TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE executions ADD COLUMN memory_peak_kb INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE executions ADD COLUMN cpu_time_ms INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX IF NOT EXISTS executions_id ON executions(id);";

/* The columns execution_row() reads, in its order. */
#define EXEC_COLUMNS                                                                               \
	"id, object_kind, object_id, started_ms, duration_ms, status, exit_code, signal, "         \
	"language,"                                                                                \
	" client, memory_peak_kb, cpu_time_ms"

static int fail(struct sbx_store *s, const char *what)
{
	log_error("state store: %s: %s", what, sqlite3_errmsg(s->db));
	return -EIO;
}

static int exec_sql(struct sbx_store *s, const char *sql, const char *what)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(s, what);
}

static int user_version(struct sbx_store *s, int *ret)
{
	sqlite3_stmt *st;
	int r = -EIO;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "read the schema version");
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ret = sqlite3_column_int(st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r < 0 ? fail(s, "read the schema version") : 0;
}

static int setup(struct sbx_store *s)
{
	char sql[64];
	int v, r;

	/* Wait rather than fail if another connection (sqlite3 CLI) holds it. */
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL: a commit is one append, readers do not block the writer, and a
	 * crash at any instant leaves the last committed state.
	 * synchronous=NORMAL: in WAL mode a commit is durable against the
	 * process dying (kill -9: the pages are in the OS cache), and only a
	 * power loss can take back the last commits; FULL would add an fsync
	 * per commit for that case, which the workspaces' files (not fsynced
	 * either) could not match anyway. */
	if ((r = exec_sql(s, "PRAGMA journal_mode=WAL", "enable WAL")) < 0 ||
	    (r = exec_sql(s, "PRAGMA synchronous=NORMAL", "set synchronous")) < 0 ||
	    (r = exec_sql(s, "PRAGMA foreign_keys=ON", "enable foreign keys")) < 0)
		return r;
	if ((r = user_version(s, &v)) < 0)
		return r;
	if (v > SBX_STORE_SCHEMA) {
		log_error("state store: schema %d is newer than this sandboxd's (%d)", v,
			  SBX_STORE_SCHEMA);
		return -EPROTONOSUPPORT;
	}
	/* Version 0 is a new file; later versions migrate here, in order, in
	 * one transaction: a failure leaves the file as it was. */
	if ((r = exec_sql(s, "BEGIN IMMEDIATE", "begin")) < 0)
		return r;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SBX_STORE_SCHEMA);
	if ((r = exec_sql(s, schema, "create the schema")) < 0 ||
	    (v < 2 && (r = exec_sql(s, migrate2, "migrate the schema to version 2")) < 0) ||
	    (v > 0 && v < 4 && (r = sbx_store_migrate4(s->db)) < 0) ||
	    (r = exec_sql(s, sql, "set the schema version")) < 0) {
		exec_sql(s, "ROLLBACK", "rollback");
		return r;
	}
	return exec_sql(s, "COMMIT", "commit the schema");
}

int sbx_store_open(const char *path, unsigned history_max, struct sbx_store **ret)
{
	struct sbx_store *s;
	int fd, r;

	/* Sessions' environments are stored: the file is the daemon's alone.
	 * SQLite gives its -wal and -shm files the mode of this one. */
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->history_max = history_max ? history_max : 10000;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		r = fail(s, "open");
		goto fail;
	}
	r = setup(s);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return r;
}

void sbx_store_close(struct sbx_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < N_CACHED; i++)
		sqlite3_finalize(s->cached[i]);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Bind values given as a format: s = string, b = blob (ptr, len),
 * i = int64, u = uint32, d = int32, t = bool. */
static int bind(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int i = 1, r = SQLITE_OK;

	for (const char *f = fmt; *f && r == SQLITE_OK; f++, i++) {
		switch (*f) {
		case 's': {
			const char *v = va_arg(ap, const char *);

			r = sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
			break;
		}
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			r = sqlite3_bind_blob64(st, i, p ? p : "", n, SQLITE_TRANSIENT);
			break;
		}
		case 'i':
			r = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'u':
			r = sqlite3_bind_int64(st, i, va_arg(ap, uint32_t));
			break;
		case 'd':
			r = sqlite3_bind_int(st, i, va_arg(ap, int32_t));
			break;
		case 't':
			r = sqlite3_bind_int(st, i, va_arg(ap, int)); /* bool promotes to int */
			break;
		}
	}
	return r;
}

/* The prepared statement for sql, reset, NULL on error (the lock held).
 * Past N_CACHED texts, a statement of its own that release() finalizes. */
static sqlite3_stmt *prepare(struct sbx_store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int i = 0;

	while (i < N_CACHED && s->cached[i] && strcmp(sqlite3_sql(s->cached[i]), sql) != 0)
		i++;
	if (i < N_CACHED && s->cached[i])
		return s->cached[i];
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (i < N_CACHED)
		s->cached[i] = st;
	return st;
}

static void release(struct sbx_store *s, sqlite3_stmt *st)
{
	for (int i = 0; i < N_CACHED && s->cached[i]; i++)
		if (s->cached[i] == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	sqlite3_finalize(st);
}

/* Run one statement that returns no rows, with bound values; the lock
 * held. */
static int vrun_locked(struct sbx_store *s, const char *what, const char *sql, const char *fmt,
		       va_list ap)
{
	sqlite3_stmt *st = prepare(s, sql);
	int r = st ? bind(st, fmt, ap) : SQLITE_ERROR;

	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	r = r == SQLITE_DONE ? 0 : fail(s, what);
	if (st)
		release(s, st);
	return r;
}

static int run_locked(struct sbx_store *s, const char *what, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vrun_locked(s, what, sql, fmt, ap);
	va_end(ap);
	return r;
}

static int run(struct sbx_store *s, const char *what, const char *sql, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->lock);
	va_start(ap, fmt);
	int r = vrun_locked(s, what, sql, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int sbx_store_put_object(struct sbx_store *s, const struct sbx_store_object *x)
{
	return run(s, "save an object",
		   "INSERT OR REPLACE INTO objects (id, kind, status, owner, created_ms, used_ms,"
		   " record) VALUES (?,?,?,?,?,?,?)",
		   "ssssiib", x->id, x->kind, x->status, x->owner, x->created_ms, x->used_ms,
		   x->record, x->record_len);
}

int sbx_store_delete_object(struct sbx_store *s, const char *id)
{
	return run(s, "delete an object", "DELETE FROM objects WHERE id = ?", "s", id);
}

void sbx_store_history_max_age(struct sbx_store *s, uint64_t max_age_s)
{
	s->history_max_age_s = max_age_s;
	(void)sbx_store_trim_history(s); /* what aged while the daemon was down */
}

static int trim_locked(struct sbx_store *s)
{
	/* seq only grows (AUTOINCREMENT), so this keeps the newest rows. */
	int r = run_locked(
		s, "trim the history",
		"DELETE FROM executions WHERE seq <= (SELECT MAX(seq) FROM executions) - ?", "i",
		(int64_t)s->history_max);

	if (r == 0 && s->history_max_age_s)
		r = run_locked(s, "trim the history by age",
			       "DELETE FROM executions WHERE started_ms < ?", "i",
			       sbx_clock_wall_ms() - (int64_t)(s->history_max_age_s * 1000));
	return r;
}

int sbx_store_trim_history(struct sbx_store *s)
{
	pthread_mutex_lock(&s->lock);
	int r = trim_locked(s);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int sbx_store_add_execution(struct sbx_store *s, const struct sbx_store_execution *x)
{
	const struct sbx_store_output *o = x->out;
	int r;

	/* One transaction (one commit) for the row, its outputs and the
	 * trim; the outputs first: a reader that finds the row finds them. */
	pthread_mutex_lock(&s->lock);
	r = run_locked(s, "begin", "BEGIN IMMEDIATE", "");
	if (r == 0)
		r = run_locked(
			s, "record an execution's output",
			"INSERT OR REPLACE INTO execution_outputs (id, stdout, stderr,"
			" compile_output, truncated) VALUES (?,?,?,?,?)",
			"sbbbi", x->id, o[0].data, o[0].len, o[1].data, o[1].len, o[2].data,
			o[2].len,
			(int64_t)(o[0].truncated | o[1].truncated << 1 | o[2].truncated << 2));
	if (r == 0)
		r = run_locked(s, "record an execution",
			       "INSERT INTO executions (" EXEC_COLUMNS
			       ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			       "sssiisddssii", x->id, x->object_kind, x->object_id, x->started_ms,
			       (int64_t)x->duration_ms, x->status, x->exit_code, x->signal,
			       x->language, x->client, (int64_t)x->memory_peak_kb,
			       (int64_t)x->cpu_time_ms);
	if (r == 0)
		r = trim_locked(s);
	if (r == 0)
		r = run_locked(s, "commit", "COMMIT", "");
	if (r < 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* Walk the rows of a query; `row` turns the current row into a record and
 * calls the user's callback. The lock is held throughout: callbacks must
 * not call back into the store. */
static int each(struct sbx_store *s, const char *what, const char *sql, const char *key,
		unsigned limit, int (*row)(sqlite3_stmt *st, void *cb, void *arg), void *cb,
		void *arg)
{
	sqlite3_stmt *st = NULL;
	int r, rr = 0;

	pthread_mutex_lock(&s->lock);
	r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (r == SQLITE_OK && key)
		r = sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (r == SQLITE_OK && limit)
		r = sqlite3_bind_int64(st, key ? 2 : 1, limit);
	while (r == SQLITE_OK || r == SQLITE_ROW) {
		r = sqlite3_step(st);
		if (r != SQLITE_ROW)
			break;
		rr = row(st, cb, arg);
		if (rr < 0)
			break;
	}
	if (rr == 0 && r != SQLITE_DONE)
		rr = fail(s, what);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rr;
}

static int object_row(sqlite3_stmt *st, void *cb, void *arg)
{
	struct sbx_store_object x = {
		.id = col_text(st, 0),
		.kind = col_text(st, 1),
		.status = col_text(st, 2),
		.owner = col_text(st, 3),
		.created_ms = sqlite3_column_int64(st, 4),
		.used_ms = sqlite3_column_int64(st, 5),
		.record = sqlite3_column_blob(st, 6),
		.record_len = (size_t)sqlite3_column_bytes(st, 6),
	};

	if (!x.record) /* SQLite's empty blob */
		x.record = "";

	return ((int (*)(void *, const struct sbx_store_object *))cb)(arg, &x);
}

int sbx_store_each_object(struct sbx_store *s, const char *kind,
			  int (*cb)(void *arg, const struct sbx_store_object *rec), void *arg)
{
	return each(s, "load objects",
		    "SELECT id, kind, status, owner, created_ms, used_ms, record FROM objects"
		    " WHERE kind = ? ORDER BY created_ms",
		    kind, 0, object_row, (void *)cb, arg);
}

struct one_object {
	int (*cb)(void *arg, const struct sbx_store_object *rec);
	void *arg;
	bool found;
};

static int one_object_cb(void *arg, const struct sbx_store_object *rec)
{
	struct one_object *o = arg;

	o->found = true;
	return o->cb(o->arg, rec);
}

int sbx_store_get_object(struct sbx_store *s, const char *id,
			 int (*cb)(void *arg, const struct sbx_store_object *rec), void *arg)
{
	struct one_object o = {cb, arg, false};
	int r = each(s, "read an object",
		     "SELECT id, kind, status, owner, created_ms, used_ms, record FROM objects"
		     " WHERE id = ?",
		     id, 0, object_row, (void *)one_object_cb, &o);

	return r < 0 ? r : o.found ? 0 : -ENOENT;
}

int sbx_store_page_objects(struct sbx_store *s, const char *kind, uint64_t skip, unsigned max,
			   int (*cb)(void *arg, const struct sbx_store_object *rec), void *arg)
{
	char sql[256];

	/* skip is a number we print ourselves, not text from a client. */
	snprintf(sql, sizeof(sql),
		 "SELECT id, kind, status, owner, created_ms, used_ms, record FROM objects"
		 " WHERE kind = ? ORDER BY created_ms DESC, rowid DESC LIMIT ? OFFSET %llu",
		 (unsigned long long)skip);
	return each(s, "page objects", sql, kind, max ? max : 1, object_row, (void *)cb, arg);
}

static int object_count_row(sqlite3_stmt *st, void *cb, void *arg)
{
	(void)cb;
	*(uint64_t *)arg = (uint64_t)sqlite3_column_int64(st, 0);
	return 0;
}

int sbx_store_count_objects(struct sbx_store *s, const char *kind, uint64_t *ret)
{
	*ret = 0;
	return each(s, "count objects", "SELECT count(*) FROM objects WHERE kind = ?", kind, 0,
		    object_count_row, NULL, ret);
}

static void execution_fill(sqlite3_stmt *st, struct sbx_store_execution *x)
{
	*x = (struct sbx_store_execution){
		.id = col_text(st, 0),
		.object_kind = col_text(st, 1),
		.object_id = col_text(st, 2),
		.started_ms = sqlite3_column_int64(st, 3),
		.duration_ms = (uint64_t)sqlite3_column_int64(st, 4),
		.status = col_text(st, 5),
		.exit_code = sqlite3_column_int(st, 6),
		.signal = sqlite3_column_int(st, 7),
		.language = col_text(st, 8),
		.client = col_text(st, 9),
		.memory_peak_kb = (uint64_t)sqlite3_column_int64(st, 10),
		.cpu_time_ms = (uint64_t)sqlite3_column_int64(st, 11),
	};
}

static int execution_row(sqlite3_stmt *st, void *cb, void *arg)
{
	struct sbx_store_execution x;

	execution_fill(st, &x);
	return ((int (*)(void *, const struct sbx_store_execution *))cb)(arg, &x);
}

/* EXEC_COLUMNS, then the outputs table's (NULL when the row has none). */
static int execution_row_outputs(sqlite3_stmt *st, void *cb, void *arg)
{
	struct sbx_store_execution x;
	int64_t truncated = sqlite3_column_int64(st, 15);

	execution_fill(st, &x);
	for (int i = 0; i < SBX_STORE_N_OUTPUTS; i++) {
		x.out[i].data = sqlite3_column_blob(st, 12 + i);
		x.out[i].len = (size_t)sqlite3_column_bytes(st, 12 + i);
		x.out[i].truncated = truncated >> i & 1;
	}
	return ((int (*)(void *, const struct sbx_store_execution *))cb)(arg, &x);
}

int sbx_store_each_execution(struct sbx_store *s, const char *object_id, unsigned max,
			     int (*cb)(void *arg, const struct sbx_store_execution *rec), void *arg)
{
	return each(s, "read the history",
		    object_id ? "SELECT " EXEC_COLUMNS
				" FROM executions WHERE object_id = ? ORDER BY seq DESC LIMIT ?"
			      : "SELECT " EXEC_COLUMNS " FROM executions ORDER BY seq DESC LIMIT ?",
		    object_id, max ? max : 1, execution_row, (void *)cb, arg);
}

int sbx_store_counter_add(struct sbx_store *s, const char *name, int64_t delta, int64_t *ret)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	/* One statement: the upsert returns the new value atomically. */
	st = prepare(s, "INSERT INTO counters (name, value) VALUES (?1, ?2)"
			" ON CONFLICT(name) DO UPDATE SET value = value + ?2 RETURNING value");
	r = st ? SQLITE_OK : SQLITE_ERROR;
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (r == SQLITE_OK)
		r = sqlite3_bind_int64(st, 2, delta);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		if (ret)
			*ret = sqlite3_column_int64(st, 0);
		r = sqlite3_step(st);
	}
	r = r == SQLITE_DONE ? 0 : fail(s, "update a counter");
	if (st)
		release(s, st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Counts the rows a walk delivered, for -ENOENT. */
struct counting {
	int (*cb)(void *arg, const struct sbx_store_execution *rec);
	void *arg;
	unsigned n;
};

static int count_row(void *arg, const struct sbx_store_execution *rec)
{
	struct counting *c = arg;

	c->n++;
	return c->cb ? c->cb(c->arg, rec) : 0;
}

/* Rows started before this are past the age limit: never read, though
 * they stay on disk until the next write trims them (reads do not
 * write). */
static int64_t oldest_kept_ms(const struct sbx_store *s)
{
	return s->history_max_age_s ? sbx_clock_wall_ms() - (int64_t)(s->history_max_age_s * 1000)
				    : INT64_MIN;
}

int sbx_store_get_execution(struct sbx_store *s, const char *id,
			    int (*cb)(void *arg, const struct sbx_store_execution *rec), void *arg)
{
	struct counting c = {cb, arg, 0};
	char sql[512];

	/* The time bound is a number of ours, printed into the statement. */
	snprintf(sql, sizeof(sql),
		 "SELECT e.id, e.object_kind, e.object_id, e.started_ms, e.duration_ms, e.status,"
		 " e.exit_code, e.signal, e.language, e.client, e.memory_peak_kb, e.cpu_time_ms,"
		 " o.stdout, o.stderr, o.compile_output, o.truncated"
		 " FROM executions e LEFT JOIN execution_outputs o ON o.id = e.id"
		 " WHERE e.id = ? AND e.started_ms >= %" PRId64 " ORDER BY e.seq DESC LIMIT ?",
		 oldest_kept_ms(s));
	int r = each(s, "read an execution", sql, id ? id : "", 1, execution_row_outputs,
		     (void *)count_row, &c);

	return r < 0 ? r : c.n ? 0 : -ENOENT;
}

int sbx_store_list_executions(struct sbx_store *s, const char *before, int64_t started_before_ms,
			      unsigned max,
			      int (*cb)(void *arg, const struct sbx_store_execution *rec),
			      void *arg)
{
	bool after = before && *before;
	char sql[512];
	int r;

	/* Checked apart from the walk: an unknown cursor is the caller's
	 * mistake (or trimmed away), not an empty page. */
	if (after && (r = sbx_store_get_execution(s, before, NULL, NULL)) < 0)
		return r;
	/* The time bound is a number of ours, printed into the statement. */
	snprintf(sql, sizeof(sql),
		 "SELECT " EXEC_COLUMNS " FROM executions WHERE started_ms < %" PRId64
		 " AND started_ms >= %" PRId64 "%s ORDER BY started_ms DESC, seq DESC LIMIT ?",
		 started_before_ms, oldest_kept_ms(s),
		 after ? " AND (started_ms, seq) < (SELECT started_ms, seq FROM executions WHERE "
			 "id = ? ORDER BY seq DESC LIMIT 1)"
		       : "");
	return each(s, "read the history", sql, after ? before : NULL, max ? max : 1, execution_row,
		    (void *)cb, arg);
}

int sbx_store_counters_add(struct sbx_store *s, const struct sbx_store_delta *d, size_t n)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	r = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (r == SQLITE_OK) {
		st = prepare(s, "INSERT INTO counters (name, value) VALUES (?1, ?2)"
				" ON CONFLICT(name) DO UPDATE SET value = value + ?2");
		r = st ? SQLITE_OK : SQLITE_ERROR;
	}
	for (size_t i = 0; i < n && r == SQLITE_OK; i++) {
		r = sqlite3_bind_text(st, 1, d[i].name, -1, SQLITE_TRANSIENT);
		if (r == SQLITE_OK)
			r = sqlite3_bind_int64(st, 2, d[i].delta);
		if (r == SQLITE_OK)
			r = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(st);
	}
	if (st)
		release(s, st);
	if (r == SQLITE_OK)
		r = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (r != SQLITE_OK) {
		r = fail(s, "update counters");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int counter_row(sqlite3_stmt *st, void *cb, void *arg)
{
	return ((int (*)(void *, const char *, int64_t))cb)(arg, col_text(st, 0),
							    sqlite3_column_int64(st, 1));
}

int sbx_store_each_counter(struct sbx_store *s, const char *prefix,
			   int (*cb)(void *arg, const char *name, int64_t value), void *arg)
{
	return each(s, "read counters",
		    "SELECT name, value FROM counters WHERE substr(name, 1, length(?1)) = ?1"
		    " ORDER BY name",
		    prefix ? prefix : "", 0, counter_row, (void *)cb, arg);
}
