/* The state store: one SQLite database (state_dir/sandboxd.db) holding the
 * daemon's objects, the execution history and a few counters, so that they
 * survive a restart, including `kill -9`.
 *
 * An object is a row: its record (a packed protobuf message of
 * proto/objects.proto, which the objects layer packs and unpacks) beside
 * the columns it is queried by. The store knows rows, not objects: no
 * locks of the objects layer. Every function is thread-safe (one
 * connection behind a mutex) and returns 0 or a negative errno; -EIO means
 * SQLite failed (logged once here, with the statement's purpose). Strings
 * of records passed in are copied; records handed to callbacks are valid
 * only during the callback. */
#ifndef SBX_STORE_H
#define SBX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbx_store;

/* The schema this code writes (PRAGMA user_version). */
/* 2: executions gained language, client, memory and cpu; 3: deployments
 * (a new table); 4: one table of objects, each a packed record (the
 * tables of sandboxes, sessions and deployments are migrated into it when
 * the store is opened, and dropped). */
#define SBX_STORE_SCHEMA 4

/* An object's row. */
struct sbx_store_object {
	const char *id;		     /* the key */
	const char *kind;	     /* "sandbox", "session", "deployment" */
	const char *status;	     /* its state's word, "" for none */
	const char *owner;	     /* the id of the object that owns it, or "" */
	int64_t created_ms, used_ms; /* ms since the epoch; used: last use */
	const void *record;	     /* the kind's record message, packed */
	size_t record_len;
};

/* What an execution printed, as the history keeps it (capped by
 * HISTORY_OUTPUT_BYTES; truncated: cut by that cap or by the run's own
 * output limit). */
struct sbx_store_output {
	const void *data;
	size_t len;
	bool truncated;
};

enum { SBX_STORE_STDOUT, SBX_STORE_STDERR, SBX_STORE_COMPILE, SBX_STORE_N_OUTPUTS };

/* One execution: what ran where and how it ended. Never code, argv or
 * environment values; its output is kept (the outputs table, by id),
 * capped, for GetExecution and Judge0 tokens. */
struct sbx_store_execution {
	const char *id, *object_kind, *object_id, *status;
	int64_t started_ms;
	uint64_t duration_ms;
	int32_t exit_code, signal;
	/* Schema 2; "" and 0 in rows written by schema 1. */
	const char *language, *client;
	uint64_t memory_peak_kb, cpu_time_ms;
	/* Written by sbx_store_add_execution; read only by
	 * sbx_store_get_execution (lists leave them empty). */
	struct sbx_store_output out[SBX_STORE_N_OUTPUTS];
};

/* Open (creating if needed, mode 0600) the database at `path`, in WAL mode,
 * and create or check the schema. -EPROTONOSUPPORT when the file was
 * written by a newer schema; -EIO when it is not a database. history_max
 * bounds the execution history (oldest rows are dropped); 0 = 10000. */
int sbx_store_open(const char *path, unsigned history_max, struct sbx_store **ret);
/* Close; NULL is a no-op. */
void sbx_store_close(struct sbx_store *s);

/* Insert or replace the row of rec->id. */
int sbx_store_put_object(struct sbx_store *s, const struct sbx_store_object *rec);
/* Delete the row of `id`; 0 also when there was none. */
int sbx_store_delete_object(struct sbx_store *s, const char *id);
/* Call cb for every row of `kind`, oldest first; a negative return of cb
 * stops the walk and is returned. */
int sbx_store_each_object(struct sbx_store *s, const char *kind,
			  int (*cb)(void *arg, const struct sbx_store_object *rec), void *arg);

/* The row of `id`: cb is called once, or -ENOENT. */
int sbx_store_get_object(struct sbx_store *s, const char *id,
			 int (*cb)(void *arg, const struct sbx_store_object *rec), void *arg);
/* Rows of `kind`, newest first, skipping the first `skip`, at most `max`
 * (0 = 1); and the number of rows of `kind`. */
int sbx_store_page_objects(struct sbx_store *s, const char *kind, uint64_t skip, unsigned max,
			   int (*cb)(void *arg, const struct sbx_store_object *rec), void *arg);
int sbx_store_count_objects(struct sbx_store *s, const char *kind, uint64_t *ret);

/* Also drop history rows older than max_age_s seconds (0: never), on
 * every append and before every read of the history. */
void sbx_store_history_max_age(struct sbx_store *s, uint64_t max_age_s);
/* Drop the rows beyond history_max and those older than the max age;
 * their outputs go with them (a trigger). */
int sbx_store_trim_history(struct sbx_store *s);
/* Append to the history with its outputs, then trim it. */
int sbx_store_add_execution(struct sbx_store *s, const struct sbx_store_execution *rec);
/* Rows of the history, newest first, at most `max`; object_id NULL = all. */
int sbx_store_each_execution(struct sbx_store *s, const char *object_id, unsigned max,
			     int (*cb)(void *arg, const struct sbx_store_execution *rec),
			     void *arg);

/* Rows of the whole history, newest first, at most `max` (0 = 1), only
 * those older than the execution `before` when given (paging; -ENOENT
 * when that id is not in the history) and only those started before
 * started_before_ms (ms since the epoch; INT64_MAX: no bound). */
int sbx_store_list_executions(struct sbx_store *s, const char *before, int64_t started_before_ms,
			      unsigned max,
			      int (*cb)(void *arg, const struct sbx_store_execution *rec),
			      void *arg);
/* The row of execution `id`: cb is called once, or -ENOENT. */
int sbx_store_get_execution(struct sbx_store *s, const char *id,
			    int (*cb)(void *arg, const struct sbx_store_execution *rec), void *arg);

/* Persistent counters ("sandboxes_created", ...): add `delta` and return
 * the new value in *ret (ret may be NULL); delta 0 reads. */
int sbx_store_counter_add(struct sbx_store *s, const char *name, int64_t delta, int64_t *ret);

/* Add several deltas in one transaction, so that a reader never sees
 * some counters of an execution counted and others not. */
struct sbx_store_delta {
	const char *name;
	int64_t delta;
};
int sbx_store_counters_add(struct sbx_store *s, const struct sbx_store_delta *d, size_t n);
/* Call cb for every counter whose name starts with `prefix`, by name. */
int sbx_store_each_counter(struct sbx_store *s, const char *prefix,
			   int (*cb)(void *arg, const char *name, int64_t value), void *arg);

#endif
