/* Migrations of the state store's schema that rewrite rows (store.c runs
 * the ones that only add columns or tables itself). Internal to
 * daemon/store/. */
#ifndef SBX_STORE_MIGRATE_H
#define SBX_STORE_MIGRATE_H

#include <sqlite3.h>

/* Schema 3 (or 1, 2) -> 4: every row of the tables sandboxes, sessions
 * and deployments (those that exist) becomes a row of `objects` holding
 * its packed record (proto/objects.proto), and the three tables are
 * dropped. Run inside the caller's transaction, after `objects` exists.
 * 0, -ENOMEM, or -EIO (logged). */
int sbx_store_migrate4(sqlite3 *db);

#endif
