/*
 * Opening and migrating the SQLite database. Migrations are the files
 * schema/NNN_name.sql compiled into the binary; each is applied once,
 * inside a transaction, and recorded in schema_migrations.
 */
#include "fmn_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_embed.h"
#include "fmn_util.h"

#define STORE_BUSY_TIMEOUT_MS	10000

int
fmn_store_exec(sqlite3 *db, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fmn_set_cause(cause, "database: %s",
		    err ? err : sqlite3_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

sqlite3_stmt *
fmn_store_prepare(sqlite3 *db, const char *sql, char **cause)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int
fmn_store_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	st = fmn_store_prepare(db,
	    "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL);
	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
store_apply(sqlite3 *db, const struct fmn_embedded *m, int version,
    char **cause)
{
	sqlite3_stmt *st;
	int rc;

	if (fmn_store_exec(db, "BEGIN IMMEDIATE", cause) != 0)
		return -1;
	/* Another process may have applied it while we waited for the lock. */
	st = fmn_store_prepare(db,
	    "SELECT 1 FROM schema_migrations WHERE version = ?", cause);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int(st, 1, version);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return fmn_store_exec(db, "COMMIT", cause);
	if (fmn_store_exec(db, m->data, cause) != 0) {
		char *inner = cause ? *cause : NULL;

		if (cause != NULL) {
			*cause = xasprintf("migration %s: %s", m->name,
			    inner ? inner : "failed");
			free(inner);
		}
		goto fail;
	}
	st = fmn_store_prepare(db, "INSERT INTO schema_migrations "
	    "(version, name, applied) VALUES (?, ?, ?)", cause);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int(st, 1, version);
	sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, fmn_now());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
		goto fail;
	}
	return fmn_store_exec(db, "COMMIT", cause);
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
fmn_store_migrate(sqlite3 *db, char **cause)
{
	const struct fmn_embedded *m;
	int current, applied = 0;

	if (fmn_store_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
	    "applied REAL NOT NULL)", cause) != 0)
		return -1;
	current = fmn_store_version(db);
	if (current < 0) {
		fmn_set_cause(cause, "database: cannot read schema version");
		return -1;
	}
	for (m = fmn_embedded_migrations; m->name != NULL; m++) {
		int version = atoi(m->name);

		if (version <= 0 || version <= current)
			continue;
		if (store_apply(db, m, version, cause) != 0)
			return -1;
		applied++;
	}
	return applied;
}

/*
 * A connection, with the busy timeout and extended result codes every
 * one of ours has; *missing (when not NULL) set if the file is absent.
 */
static sqlite3 *
store_attach(const char *path, int flags, int busy_ms, int *missing,
    char **cause)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		if (missing != NULL && db != NULL &&
		    sqlite3_errcode(db) == SQLITE_CANTOPEN &&
		    sqlite3_system_errno(db) == ENOENT)
			*missing = 1;
		fmn_set_cause(cause, "cannot open database %s: %s", path,
		    db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, busy_ms);
	sqlite3_extended_result_codes(db, 1);
	return db;
}

/*
 * Without create, a missing file is refused by SQLite itself, so there
 * is no window between looking and opening in which one could appear;
 * *missing tells that case from the others.
 */
static sqlite3 *
store_open(const char *path, int create, int *missing, char **cause)
{
	sqlite3 *db;
	int newest = 0;
	const struct fmn_embedded *m;

	if ((db = store_attach(path, SQLITE_OPEN_READWRITE | (create ?
	    SQLITE_OPEN_CREATE : 0), STORE_BUSY_TIMEOUT_MS, missing,
	    cause)) == NULL)
		return NULL;
	if (fmn_store_exec(db, "PRAGMA journal_mode = WAL", cause) != 0 ||
	    fmn_store_exec(db, "PRAGMA synchronous = NORMAL", cause) != 0 ||
	    fmn_store_exec(db, "PRAGMA foreign_keys = ON", cause) != 0)
		goto fail;
	if (fmn_store_migrate(db, cause) < 0)
		goto fail;
	for (m = fmn_embedded_migrations; m->name != NULL; m++)
		if (atoi(m->name) > newest)
			newest = atoi(m->name);
	if (fmn_store_version(db) > newest) {
		fmn_set_cause(cause, "database %s has schema version %d, newer "
		    "than this program knows (%d)", path,
		    fmn_store_version(db), newest);
		goto fail;
	}
	return db;
fail:
	if (cause != NULL && *cause != NULL &&
	    strstr(*cause, path) == NULL) {
		char *inner = *cause;

		*cause = xasprintf("%s: %s", path, inner);
		free(inner);
	}
	sqlite3_close(db);
	return NULL;
}

sqlite3 *
fmn_store_open(const char *path, char **cause)
{
	return store_open(path, 1, NULL, cause);
}

sqlite3 *
fmn_store_open_existing(const char *path, int *missing, char **cause)
{
	*missing = 0;
	return store_open(path, 0, missing, cause);
}

sqlite3 *
fmn_store_open_readonly(const char *path, char **cause)
{
	/* Without migrating it. */
	return store_attach(path, SQLITE_OPEN_READONLY, STORE_BUSY_TIMEOUT_MS,
	    NULL, cause);
}

sqlite3 *
fmn_store_open_writer(const char *path, int busy_ms, char **cause)
{
	sqlite3 *db;

	if ((db = store_attach(path, SQLITE_OPEN_READWRITE, busy_ms, NULL,
	    cause)) != NULL &&
	    fmn_store_exec(db, "PRAGMA foreign_keys = ON", cause) != 0) {
		sqlite3_close(db);
		db = NULL;
	}
	return db;
}

void
fmn_store_close(sqlite3 **dbp)
{
	if (*dbp != NULL) {
		sqlite3_close_v2(*dbp);
		*dbp = NULL;
	}
}

int
fmn_store_counter_add(sqlite3 *db, const char *name, long long delta)
{
	sqlite3_stmt *st;
	int rc;

	st = fmn_store_prepare(db, "INSERT INTO counters (name, value) "
	    "VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET "
	    "value = value + ?2", NULL);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, delta);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

long long
fmn_store_counter_get(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	long long v = 0;

	st = fmn_store_prepare(db, "SELECT value FROM counters WHERE name = ?",
	    NULL);
	if (st == NULL)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}
