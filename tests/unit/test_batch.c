/*
 * Digests: released by count (in digests of that size), by time, all
 * at once when a preference stops batching, and never over the entry
 * limit; the backoff of the scheduler.
 */
#include "fmn_test.h"

#include <stdlib.h>
#include <unistd.h>

#include "fmn_batch.h"
#include "fmn_config.h"
#include "fmn_sched.h"
#include "fmn_store.h"
#include "fmn_util.h"

struct fixture {
	char			 dir[64];
	char			*path;
	sqlite3			*db;
	struct fmn_config	 cfg;
	struct fmn_batch	*b;
};

static void
setup(struct fixture *f, const char *delta, const char *count)
{
	char *cause = NULL, *sql;

	snprintf(f->dir, sizeof(f->dir), "/tmp/fmn-batch-XXXXXX");
	CHECK(mkdtemp(f->dir) != NULL);
	f->path = xasprintf("%s/fmn.db", f->dir);
	f->db = fmn_store_open(f->path, &cause);
	CHECK(f->db != NULL);
	fmn_config_init(&f->cfg);
	sql = xasprintf(
	    "INSERT INTO users (id, name, created) VALUES (1, 'ralph', 0);"
	    "INSERT INTO destinations (id, user_id, context, address, "
	    "confirmed, created) VALUES (1, 1, 'email', 'r@x', 1, 0);"
	    "INSERT INTO preferences (id, user_id, context, batch_delta, "
	    "batch_count) VALUES (1, 1, 'email', %s, %s);"
	    "INSERT INTO messages (id, msg_id, topic, received, envelope) "
	    "VALUES (1, 'a', 't', 0, '{}');", delta, count);
	CHECK(fmn_store_exec(f->db, sql, &cause) == 0);
	free(sql);
	f->b = fmn_batch_new(f->db, &f->cfg, &cause);
	CHECK(f->b != NULL);
	CHECK(fmn_batch_load(f->b, &cause) == 0);
}

static void
add(struct fixture *f, int n, double now)
{
	sqlite3_stmt *st = fmn_store_prepare(f->db, "INSERT INTO notifications "
	    "(user_id, preference_id, destination_id, message_id, context, "
	    "filter, state, created, next_try) VALUES (1, 1, 1, 1, 'email', "
	    "'f', 'batched', ?, ?)", NULL);
	int i;

	for (i = 0; i < n; i++) {
		sqlite3_bind_double(st, 1, now);
		sqlite3_bind_double(st, 2, now);
		CHECK(sqlite3_step(st) == SQLITE_DONE);
		sqlite3_reset(st);
		fmn_batch_added(f->b, 1, 1, now);
	}
	sqlite3_finalize(st);
}

static long long
count(struct fixture *f, const char *where)
{
	char *sql = xasprintf("SELECT count(%s) FROM notifications %s",
	    strstr(where, "DISTINCT") ? "DISTINCT digest" : "*",
	    strstr(where, "DISTINCT") ? "WHERE state = 'queued'" : where);
	sqlite3_stmt *st = fmn_store_prepare(f->db, sql, NULL);
	long long v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	free(sql);
	return v;
}

static void
teardown(struct fixture *f)
{
	fmn_batch_destroy(&f->b);
	fmn_store_close(&f->db);
	unlink(f->path);
	{
		char *p = xasprintf("%s-wal", f->path);
		unlink(p);
		free(p);
		p = xasprintf("%s-shm", f->path);
		unlink(p);
		free(p);
	}
	rmdir(f->dir);
	free(f->path);
	fmn_config_free(&f->cfg);
}

TEST(holds_only_batching_preferences)
{
	struct fixture f;

	setup(&f, "NULL", "3");
	CHECK(fmn_batch_holds(f.b, 1));
	CHECK(!fmn_batch_holds(f.b, 2));
	teardown(&f);
}

TEST(flushes_on_count_in_digests_of_that_size)
{
	struct fixture f;

	setup(&f, "NULL", "3");
	add(&f, 2, 100);
	CHECK_INT(fmn_batch_release(f.b, 100), 0);
	CHECK_INT(count(&f, "WHERE state = 'batched'"), 2);
	add(&f, 5, 101);
	CHECK_INT(fmn_batch_release(f.b, 101), 2);
	CHECK_INT(count(&f, "WHERE state = 'queued'"), 6);
	CHECK_INT(count(&f, "DISTINCT"), 2);
	CHECK_INT(count(&f, "WHERE state = 'batched'"), 1);
	teardown(&f);
}

TEST(flushes_on_time)
{
	struct fixture f;

	setup(&f, "10", "NULL");
	add(&f, 4, 100);
	CHECK_INT(fmn_batch_release(f.b, 100), 0);
	CHECK(fmn_batch_next(f.b, 100) > 9.9);
	CHECK_INT(fmn_batch_release(f.b, 109), 0);
	CHECK(fmn_batch_next(f.b, 110) == 0);
	CHECK_INT(fmn_batch_release(f.b, 110), 1);
	CHECK_INT(count(&f, "WHERE state = 'queued' AND digest = 1"), 4);
	CHECK(fmn_batch_next(f.b, 110) < 0);
	teardown(&f);
}

TEST(overflow_goes_in_the_next_digest)
{
	struct fixture f;

	setup(&f, "1", "NULL");
	f.cfg.digest_max_entries = 3;
	add(&f, 7, 100);
	CHECK_INT(fmn_batch_release(f.b, 200), 3);
	CHECK_INT(count(&f, "DISTINCT"), 3);
	CHECK_INT(count(&f, "WHERE state = 'batched'"), 0);
	teardown(&f);
}

TEST(releases_when_the_preference_stops_batching)
{
	struct fixture f;
	char *cause = NULL;

	setup(&f, "3600", "NULL");
	add(&f, 2, 100);
	CHECK(fmn_store_exec(f.db, "UPDATE preferences SET batch_delta = NULL",
	    &cause) == 0);
	CHECK(fmn_batch_reload_user(f.b, 1, &cause) == 0);
	CHECK(!fmn_batch_holds(f.b, 1));
	CHECK_INT(fmn_batch_release(f.b, 101), 1);
	CHECK_INT(count(&f, "WHERE state = 'queued'"), 2);
	teardown(&f);
}

TEST(backoff_doubles_up_to_the_cap)
{
	struct fmn_config c;

	fmn_config_init(&c);
	CHECK(fmn_sched_backoff(&c, 1) == 1);
	CHECK(fmn_sched_backoff(&c, 2) == 2);
	CHECK(fmn_sched_backoff(&c, 6) == 32);
	CHECK(fmn_sched_backoff(&c, 7) == 60);
	CHECK(fmn_sched_backoff(&c, 1000) == 60);
	fmn_config_free(&c);
}
