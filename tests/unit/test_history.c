/*
 * History (schema/fmn_history.c): durations, the query's terms and
 * paging over a small store written as intake writes it (migration
 * 007), retention removing a message's names with it; and the times
 * /raw takes (fmnd/fmn_http_raw.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmn_test.h"
#include "fmn_history.h"
#include "fmn_http_int.h"
#include "fmn_store.h"
#include "fmn_util.h"

TEST(duration__units_and_refusals)
{
	CHECK(fmn_history_duration("90") == 90);
	CHECK(fmn_history_duration("90m") == 5400);
	CHECK(fmn_history_duration("1.5h") == 5400);
	CHECK(fmn_history_duration("2d") == 172800);
	CHECK(fmn_history_duration("1w") == 604800);
	CHECK(fmn_history_duration("") < 0);
	CHECK(fmn_history_duration("-5") < 0);
	CHECK(fmn_history_duration("5x") < 0);
	CHECK(fmn_history_duration("5mm") < 0);
	CHECK(fmn_history_duration("inf") < 0);
	CHECK(fmn_history_duration("nan") < 0);
	CHECK(fmn_history_duration(" 5") < 0);
}

TEST(http_time__numbers_and_iso_8601)
{
	double t;

	CHECK(http_parse_time("1504643021.5", &t) == 0 && t == 1504643021.5);
	CHECK(http_parse_time("2017-09-05T20:23:41Z", &t) == 0 &&
	    t == 1504643021);
	CHECK(http_parse_time("2017-09-05 20:23:41", &t) == 0 &&
	    t == 1504643021);
	CHECK(http_parse_time("2017-09-05T22:23:41+02:00", &t) == 0 &&
	    t == 1504643021);
	CHECK(http_parse_time("2017-09-05T20:23:41.25-0000", &t) == 0 &&
	    t == 1504643021.25);
	CHECK(http_parse_time("2017-09-05", &t) == 0 && t == 1504569600);
	CHECK(http_parse_time("2017-13-05", &t) != 0);
	CHECK(http_parse_time("2017-09-05T25:00", &t) != 0);
	CHECK(http_parse_time("2017-09-05Tx", &t) != 0);
	CHECK(http_parse_time("yesterday", &t) != 0);
	CHECK(http_parse_time("1e999", &t) != 0);
	CHECK(http_parse_time("", &t) != 0);
	CHECK(http_parse_time("2017-09-05T20:23:41Zjunk", &t) != 0);
}

/* A store with n messages: topic t<i%3>, category c<i%2>, user u<i%4>. */
static sqlite3 *
history_db(char **pathp, int n)
{
	char tmpl[] = "/tmp/fmn-history-XXXXXX";
	int fd = mkstemp(tmpl), i;
	sqlite3 *db;
	sqlite3_stmt *st, *su;

	close(fd);
	unlink(tmpl);
	*pathp = xstrdup(tmpl);
	db = fmn_store_open(tmpl, NULL);
	CHECK(db != NULL);
	st = fmn_store_prepare(db, "INSERT INTO messages (msg_id, topic, "
	    "timestamp, received, envelope, category) VALUES (?, ?, ?, ?, ?, "
	    "?)", NULL);
	su = fmn_store_prepare(db, "INSERT INTO message_users (message_id, "
	    "name, t) VALUES (?, ?, ?)", NULL);
	for (i = 0; i < n; i++) {
		char id[32], topic[32], cat[8], env[128], user[8];

		snprintf(id, sizeof(id), "m%d", i);
		snprintf(topic, sizeof(topic), "a.b.c.c%d.t%d", i % 2, i % 3);
		snprintf(cat, sizeof(cat), "c%d", i % 2);
		snprintf(env, sizeof(env), "{\"msg_id\": \"m%d\", \"msg\": "
		    "{\"n\": \"v%d\"}}", i, i % 5);
		snprintf(user, sizeof(user), "u%d", i % 4);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, topic, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 3, 1000 + i);
		sqlite3_bind_double(st, 4, 5000 + i);
		sqlite3_bind_text(st, 5, env, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 6, cat, -1, SQLITE_TRANSIENT);
		CHECK(sqlite3_step(st) == SQLITE_DONE);
		sqlite3_reset(st);
		sqlite3_bind_int64(su, 1, sqlite3_last_insert_rowid(db));
		sqlite3_bind_text(su, 2, user, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(su, 3, 1000 + i);
		CHECK(sqlite3_step(su) == SQLITE_DONE);
		sqlite3_reset(su);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(su);
	return db;
}

struct ids {
	char	 s[2048];
};

static int
collect(void *arg, const struct fmn_history_row *r)
{
	struct ids *ids = arg;
	size_t n = strlen(ids->s);

	snprintf(ids->s + n, sizeof(ids->s) - n, "%s%s", n ? " " : "",
	    r->msg_id);
	return 0;
}

static const char *
run(sqlite3 *db, struct fmn_history_query *q, long long *total,
    struct ids *ids)
{
	ids->s[0] = '\0';
	CHECK(fmn_history_run(db, q, total, collect, ids, NULL) == 0);
	return ids->s;
}

static void
drop_db(sqlite3 *db, char *path)
{
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);

	sqlite3_close(db);
	unlink(path);
	unlink(wal);
	unlink(shm);
	free(wal);
	free(shm);
	free(path);
}

TEST(query__terms_paging_and_order)
{
	struct fmn_history_query q;
	struct ids ids;
	long long total;
	char *path;
	sqlite3 *db = history_db(&path, 12);

	fmn_history_init(&q);
	q.rows = 5;
	CHECK_STR(run(db, &q, &total, &ids), "m11 m10 m9 m8 m7");
	CHECK(total == 12);
	q.page = 3;
	CHECK_STR(run(db, &q, &total, &ids), "m1 m0");
	q.page = 4;
	CHECK_STR(run(db, &q, &total, &ids), "");
	fmn_history_init(&q);
	q.asc = 1;
	q.rows = 0;
	q.has_start = q.has_end = 1;
	q.start = 1003;
	q.end = 1006;
	CHECK_STR(run(db, &q, &total, &ids), "m3 m4 m5 m6");
	CHECK(total == 4);
	q.has_start = q.has_end = 0;
	fmn_history_add(&q, 0, FMN_HISTORY_TOPIC, "a.b.c.c0.t0");
	CHECK_STR(run(db, &q, &total, &ids), "m0 m6");
	fmn_history_add(&q, 0, FMN_HISTORY_TOPIC, "a.b.c.c1.t1");
	CHECK_STR(run(db, &q, &total, &ids), "m0 m1 m6 m7");
	fmn_history_add(&q, 1, FMN_HISTORY_USER, "u0");
	CHECK_STR(run(db, &q, &total, &ids), "m1 m6 m7");
	CHECK(total == 3);
	/* Driven by a user, one and two, with the other terms. */
	fmn_history_init(&q);
	q.rows = 2;
	q.asc = 1;
	fmn_history_add(&q, 0, FMN_HISTORY_USER, "u1");
	CHECK_STR(run(db, &q, &total, &ids), "m1 m5");
	CHECK(total == 3);
	q.page = 2;
	CHECK_STR(run(db, &q, &total, &ids), "m9");
	q.page = 1;
	q.rows = 0;
	fmn_history_add(&q, 0, FMN_HISTORY_USER, "u2");
	CHECK_STR(run(db, &q, &total, &ids), "m1 m2 m5 m6 m9 m10");
	CHECK(total == 6);
	fmn_history_add(&q, 0, FMN_HISTORY_CATEGORY, "c0");
	CHECK_STR(run(db, &q, &total, &ids), "m2 m6 m10");
	fmn_history_add(&q, 1, FMN_HISTORY_CONTAINS, "v1");
	CHECK_STR(run(db, &q, &total, &ids), "m2 m10");
	CHECK(total == 2);
	fmn_history_add(&q, 0, FMN_HISTORY_CONTAINS, "v2");
	CHECK_STR(run(db, &q, &total, &ids), "m2");
	/* /id */
	ids.s[0] = '\0';
	CHECK(fmn_history_get(db, "m4", collect, &ids, NULL) == 1);
	CHECK_STR(ids.s, "m4");
	CHECK(fmn_history_get(db, "nope", collect, &ids, NULL) == 0);
	drop_db(db, path);
}

TEST(retention__removes_the_names_with_the_message)
{
	char *path;
	sqlite3 *db = history_db(&path, 8);
	sqlite3_stmt *st;

	CHECK(fmn_store_exec(db, "DELETE FROM messages WHERE id <= 4",
	    NULL) == 0);
	st = fmn_store_prepare(db, "SELECT count(*), min(message_id) FROM "
	    "message_users", NULL);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), 4);
	CHECK_INT(sqlite3_column_int(st, 1), 5);
	sqlite3_finalize(st);
	drop_db(db, path);
}
