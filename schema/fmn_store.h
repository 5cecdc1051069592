/*
 * schema/: the SQLite store every program opens, its numbered
 * migrations, and the daemon's counters table; on lib/ only.
 *
 * The SQLite store: opening a database the way every fmn program must
 * (WAL, foreign keys, busy timeout) and applying the numbered migrations
 * of schema/ in order, each once, each in its own transaction.
 */
#ifndef FMN_STORE_H
#define FMN_STORE_H

#include <sqlite3.h>

/* Open (creating if needed) and migrate; NULL with *cause on failure. */
sqlite3 *fmn_store_open(const char *path, char **cause);
/*
 * The same for a database that must exist: nothing is created, and when
 * there is no database at path *missing is set as well as *cause.
 */
sqlite3 *fmn_store_open_existing(const char *path, int *missing,
    char **cause);
/*
 * A read-only connection to a database another connection has opened
 * and migrated (a reader beside the daemon's writer): no migration, no
 * journal mode change.
 */
sqlite3 *fmn_store_open_readonly(const char *path, char **cause);
/*
 * A read-write connection beside the daemon's, for short writes of
 * others (the HTTP API's): no migration, foreign keys on, waiting at
 * most busy_ms for another writer's lock.
 */
sqlite3 *fmn_store_open_writer(const char *path, int busy_ms, char **cause);
/* Apply pending migrations; returns how many were applied, or -1. */
int fmn_store_migrate(sqlite3 *db, char **cause);
/* The highest applied migration version, 0 for none, -1 on error. */
int fmn_store_version(sqlite3 *db);
void fmn_store_close(sqlite3 **dbp);

/* Run SQL without results; -1 with *cause on error. */
int fmn_store_exec(sqlite3 *db, const char *sql, char **cause);
/* Prepare or set *cause; NULL on error. */
sqlite3_stmt *fmn_store_prepare(sqlite3 *db, const char *sql, char **cause);

/* Add delta to a persistent counter (counters table). */
int fmn_store_counter_add(sqlite3 *db, const char *name, long long delta);
long long fmn_store_counter_get(sqlite3 *db, const char *name);

#endif
