/*
 * The store: migrations applied in order, once each, recorded; the
 * connection settings every program relies on; counters.
 */
#include <stdlib.h>
#include <unistd.h>

#include "fmn_test.h"
#include "fmn_embed.h"
#include "fmn_store.h"
#include "fmn_util.h"

static char *
tmp_path(void)
{
	char tmpl[] = "/tmp/fmn-store-XXXXXX";
	int fd = mkstemp(tmpl);

	close(fd);
	unlink(tmpl);
	return xstrdup(tmpl);
}

static void
remove_db(char *path)
{
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);

	unlink(path);
	unlink(wal);
	unlink(shm);
	free(wal);
	free(shm);
	free(path);
}

static int
newest_migration(void)
{
	const struct fmn_embedded *m;
	int n = 0;

	for (m = fmn_embedded_migrations; m->name != NULL; m++)
		if (atoi(m->name) > n)
			n = atoi(m->name);
	return n;
}

static long long
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = fmn_store_prepare(db, sql, NULL);
	long long v = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

TEST(migrations_apply_once_and_are_recorded)
{
	char *path = tmp_path(), *cause = NULL;
	sqlite3 *db = fmn_store_open(path, &cause);

	CHECK(db != NULL);
	CHECK_INT(fmn_store_version(db), newest_migration());
	CHECK(newest_migration() >= 1);
	CHECK_INT(query_int(db, "SELECT count(*) FROM schema_migrations"),
	    newest_migration());
	/* Nothing left to apply. */
	CHECK_INT(fmn_store_migrate(db, &cause), 0);
	fmn_store_close(&db);
	CHECK(db == NULL);
	/* Reopening applies nothing either. */
	db = fmn_store_open(path, &cause);
	CHECK_INT(query_int(db, "SELECT count(*) FROM schema_migrations"),
	    newest_migration());
	fmn_store_close(&db);
	remove_db(path);
}

TEST(connection_uses_wal_foreign_keys_and_busy_timeout)
{
	char *path = tmp_path(), *cause = NULL;
	sqlite3 *db = fmn_store_open(path, &cause);
	sqlite3_stmt *st;

	CHECK(db != NULL);
	CHECK_INT(query_int(db, "PRAGMA foreign_keys"), 1);
	CHECK(query_int(db, "PRAGMA busy_timeout") >= 1000);
	st = fmn_store_prepare(db, "PRAGMA journal_mode", NULL);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* Foreign keys are enforced: no destination without its user. */
	CHECK(fmn_store_exec(db, "INSERT INTO destinations (user_id, context, "
	    "address, created) VALUES (42, 'email', 'a@b.c', 0)", &cause) != 0);
	CHECK(cause != NULL);
	free(cause);
	fmn_store_close(&db);
	remove_db(path);
}

TEST(newer_schema_is_refused)
{
	char *path = tmp_path(), *cause = NULL;
	sqlite3 *db = fmn_store_open(path, &cause);

	CHECK(fmn_store_exec(db, "INSERT INTO schema_migrations VALUES "
	    "(9999, '9999_future.sql', 0)", NULL) == 0);
	fmn_store_close(&db);
	db = fmn_store_open(path, &cause);
	CHECK(db == NULL);
	CHECK(cause != NULL && strstr(cause, "newer") != NULL);
	free(cause);
	remove_db(path);
}

TEST(not_a_database_is_an_error_with_the_path)
{
	char *path = tmp_path(), *cause = NULL;
	FILE *f = fopen(path, "w");
	sqlite3 *db;

	fputs("garbage garbage garbage garbage garbage garbage garbage", f);
	fclose(f);
	db = fmn_store_open(path, &cause);
	CHECK(db == NULL);
	CHECK(cause != NULL && strstr(cause, path) != NULL);
	free(cause);
	remove_db(path);
}

TEST(open_existing_creates_nothing)
{
	char *path = tmp_path(), *cause = NULL;
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
	sqlite3 *db;
	int missing = 0;

	db = fmn_store_open_existing(path, &missing, &cause);
	CHECK(db == NULL);
	CHECK_INT(missing, 1);
	CHECK(cause != NULL && strstr(cause, path) != NULL);
	free(cause);
	cause = NULL;
	CHECK(access(path, F_OK) != 0);
	CHECK(access(wal, F_OK) != 0 && access(shm, F_OK) != 0);
	/* Once created, it opens; another error is not "missing". */
	db = fmn_store_open(path, &cause);
	fmn_store_close(&db);
	db = fmn_store_open_existing(path, &missing, &cause);
	CHECK(db != NULL);
	CHECK_INT(missing, 0);
	CHECK_INT(fmn_store_version(db), newest_migration());
	fmn_store_close(&db);
	db = fmn_store_open_existing("/dev/null/x.db", &missing, &cause);
	CHECK(db == NULL);
	CHECK_INT(missing, 0);
	free(cause);
	free(wal);
	free(shm);
	remove_db(path);
}

TEST(counters_add_and_persist)
{
	char *path = tmp_path(), *cause = NULL;
	sqlite3 *db = fmn_store_open(path, &cause);

	CHECK_INT(fmn_store_counter_get(db, "x"), 0);
	CHECK_INT(fmn_store_counter_add(db, "x", 5), 0);
	CHECK_INT(fmn_store_counter_add(db, "x", 2), 0);
	fmn_store_close(&db);
	db = fmn_store_open(path, &cause);
	CHECK_INT(fmn_store_counter_get(db, "x"), 7);
	fmn_store_close(&db);
	remove_db(path);
}

TEST(config_changes_are_logged_per_user)
{
	char *path = tmp_path(), *cause = NULL;
	sqlite3 *db = fmn_store_open(path, &cause);

	CHECK(fmn_store_exec(db, "INSERT INTO users (id, name, created) VALUES "
	    "(7, 'alice', 0); INSERT INTO preferences (id, user_id, context) "
	    "VALUES (3, 7, 'email'); INSERT INTO filters (id, preference_id, "
	    "name, position) VALUES (5, 3, 'f', 1); INSERT INTO rules "
	    "(filter_id, position, kind, argument) VALUES (5, 1, 'user', 'a')",
	    &cause) == 0);
	CHECK_INT(query_int(db, "SELECT count(*) FROM changes WHERE "
	    "user_id = 7"), 4);
	CHECK(fmn_store_exec(db, "INSERT INTO aliases VALUES ('x', 'y')",
	    NULL) == 0);
	CHECK_INT(query_int(db, "SELECT count(*) FROM changes WHERE "
	    "user_id IS NULL AND what = 'aliases'"), 1);
	fmn_store_close(&db);
	remove_db(path);
}
