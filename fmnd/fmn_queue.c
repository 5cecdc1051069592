/*
 * Intake writes: one transaction per group of messages. Statements are
 * prepared once and reused; a message's duplicate check is its insert
 * (messages.msg_id is UNIQUE, INSERT OR IGNORE), so dedup survives
 * restarts at the cost of one index probe.
 */
#include "fmn_queue.h"

#include <stdlib.h>

#include "fmn_store.h"
#include "fmn_log.h"
#include "fmn_util.h"

#define QUEUE_ROWS	8	/* notifications per INSERT statement */

#define QUEUE_NOTIF_INSERT "INSERT INTO notifications (user_id, " \
	"preference_id, destination_id, message_id, context, filter, state, " \
	"created, next_try) VALUES "
#define QUEUE_NOTIF_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define QUEUE_NOTIF_COLS 9

struct fmn_queue {
	sqlite3			*db;
	struct fmn_counters	*counters;
	int			 in_tx;
	int			 last_error;	/* of the last statement that failed */
	sqlite3_stmt		*begin;
	sqlite3_stmt		*commit;
	sqlite3_stmt		*rollback;
	sqlite3_stmt		*ins_msg;
	sqlite3_stmt		*ins_user;	/* message_users (007) */
	sqlite3_stmt		*ins_package;	/* message_packages */
	sqlite3_stmt		*ins_notif;
	sqlite3_stmt		*ins_rows[QUEUE_ROWS + 1];	/* [k]: k rows */
	sqlite3_stmt		*oneshot;
};

struct fmn_queue *
fmn_queue_new(sqlite3 *db, struct fmn_counters *counters, char **cause)
{
	struct fmn_queue *q = xcalloc(1, sizeof(*q));

	q->db = db;
	q->counters = counters;
	if ((q->begin = fmn_store_prepare(db, "BEGIN IMMEDIATE",
	    cause)) == NULL ||
	    (q->commit = fmn_store_prepare(db, "COMMIT", cause)) == NULL ||
	    (q->rollback = fmn_store_prepare(db, "ROLLBACK", cause)) == NULL ||
	    (q->ins_msg = fmn_store_prepare(db, "INSERT OR IGNORE INTO "
	    "messages (msg_id, topic, timestamp, received, envelope, summary, "
	    "category) VALUES (?, ?, ?, ?, ?, ?, ?)", cause)) == NULL ||
	    (q->ins_user = fmn_store_prepare(db, "INSERT OR IGNORE INTO "
	    "message_users (message_id, name, t) VALUES (?, ?, ?)", cause)) == NULL ||
	    (q->ins_package = fmn_store_prepare(db, "INSERT OR IGNORE INTO "
	    "message_packages (message_id, name, t) VALUES (?, ?, ?)",
	    cause)) == NULL ||
	    (q->ins_notif = fmn_store_prepare(db, QUEUE_NOTIF_INSERT
	    QUEUE_NOTIF_ROW, cause)) == NULL ||
	    (q->oneshot = fmn_store_prepare(db, "UPDATE filters SET active = 0 "
	    "WHERE preference_id = ? AND name = ? AND oneshot = 1 AND "
	    "active = 1", cause)) == NULL) {
		fmn_queue_destroy(&q);
		return NULL;
	}
	return q;
}

void
fmn_queue_destroy(struct fmn_queue **qp)
{
	struct fmn_queue *q = *qp;

	if (q == NULL)
		return;
	if (q->in_tx)
		fmn_queue_rollback(q);
	sqlite3_finalize(q->begin);
	sqlite3_finalize(q->commit);
	sqlite3_finalize(q->rollback);
	sqlite3_finalize(q->ins_msg);
	sqlite3_finalize(q->ins_user);
	sqlite3_finalize(q->ins_package);
	sqlite3_finalize(q->ins_notif);
	for (int k = 0; k <= QUEUE_ROWS; k++)
		sqlite3_finalize(q->ins_rows[k]);
	sqlite3_finalize(q->oneshot);
	free(q);
	*qp = NULL;
}

static int
queue_step(struct fmn_queue *q, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		/* The caller says what failed, and how often. */
		q->last_error = rc;
		log_debug("database: %s", sqlite3_errmsg(q->db));
		return -1;
	}
	return 0;
}

int
fmn_queue_begin(struct fmn_queue *q)
{
	if (q->in_tx)
		return 0;
	if (queue_step(q, q->begin) != 0)
		return -1;
	q->in_tx = 1;
	fmn_counters_save(q->counters);
	return 0;
}

int
fmn_queue_last_error(const struct fmn_queue *q)
{
	return q->last_error;
}

int
fmn_queue_in_transaction(const struct fmn_queue *q)
{
	return q->in_tx;
}

int
fmn_queue_commit(struct fmn_queue *q)
{
	if (!q->in_tx)
		return 0;
	if (fmn_counters_flush(q->counters) != 0 ||
	    queue_step(q, q->commit) != 0) {
		fmn_queue_rollback(q);
		return -1;
	}
	q->in_tx = 0;
	return 0;
}

void
fmn_queue_rollback(struct fmn_queue *q)
{
	if (!q->in_tx)
		return;
	if (sqlite3_get_autocommit(q->db) == 0)
		queue_step(q, q->rollback);
	q->in_tx = 0;
	fmn_counters_restore(q->counters);
}

static int
queue_names(struct fmn_queue *q, sqlite3_stmt *st, long long mid, double t,
    const struct fmn_strset *names)
{
	size_t i;

	for (i = 0; i < names->n; i++) {
		sqlite3_bind_int64(st, 1, mid);
		sqlite3_bind_text(st, 2, names->v[i], -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 3, t);
		if (queue_step(q, st) != 0)
			return -1;
	}
	return 0;
}

long long
fmn_queue_add_message(struct fmn_queue *q, const struct fmn_msg *m,
    const char *raw, size_t rawlen, const char *summary, double received)
{
	sqlite3_stmt *st = q->ins_msg;
	long long mid;
	double t;

	if (m->msg_id != NULL)
		sqlite3_bind_text(st, 1, m->msg_id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_text(st, 2, m->topic, -1, SQLITE_STATIC);
	if (m->timestamp != 0)
		sqlite3_bind_double(st, 3, m->timestamp);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_double(st, 4, received);
	sqlite3_bind_text(st, 5, raw, (int)rawlen, SQLITE_STATIC);
	if (summary != NULL)
		sqlite3_bind_text(st, 6, summary, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_text(st, 7, m->category, -1, SQLITE_STATIC);
	if (queue_step(q, st) != 0)
		return -1;
	if (sqlite3_changes(q->db) == 0)
		return 0;
	mid = sqlite3_last_insert_rowid(q->db);
	/* Its names, for history queries by user and package. */
	t = m->timestamp != 0 ? m->timestamp : received;	/* messages.t */
	if (queue_names(q, q->ins_user, mid, t, &m->facts.usernames) != 0 ||
	    queue_names(q, q->ins_package, mid, t, &m->facts.packages) != 0)
		return -1;
	return mid;
}

/* Bind one notification's columns from parameter base + 1 on. */
static void
queue_bind_notification(sqlite3_stmt *st, int base, long long mid,
    const struct fmn_recipient *r, int batched, double now)
{
	sqlite3_bind_int64(st, base + 1, r->user_id);
	sqlite3_bind_int64(st, base + 2, r->preference_id);
	sqlite3_bind_int64(st, base + 3, r->destination_id);
	sqlite3_bind_int64(st, base + 4, mid);
	sqlite3_bind_text(st, base + 5, r->context, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, base + 6, r->filter != NULL ? r->filter : "",
	    -1, SQLITE_STATIC);
	sqlite3_bind_text(st, base + 7, batched ? "batched" : "queued", -1,
	    SQLITE_STATIC);
	sqlite3_bind_double(st, base + 8, now);
	sqlite3_bind_double(st, base + 9, now);
}

/* The statement that inserts k rows, prepared on first use. */
static sqlite3_stmt *
queue_rows_stmt(struct fmn_queue *q, size_t k)
{
	struct fmn_buf sql;
	char *cause = NULL;
	size_t i;

	if (q->ins_rows[k] != NULL)
		return q->ins_rows[k];
	fmn_buf_init(&sql);
	fmn_buf_adds(&sql, QUEUE_NOTIF_INSERT);
	for (i = 0; i < k; i++)
		fmn_buf_adds(&sql, i ? ", " QUEUE_NOTIF_ROW : QUEUE_NOTIF_ROW);
	q->ins_rows[k] = fmn_store_prepare(q->db, sql.data, &cause);
	if (q->ins_rows[k] == NULL) {
		log_err("queue: %s", cause);
		free(cause);
	}
	fmn_buf_free(&sql);
	return q->ins_rows[k];
}

long
fmn_queue_add_notifications(struct fmn_queue *q, long long mid,
    const struct fmn_recipient *v, const int *batched, int *ok, size_t n,
    double now)
{
	sqlite3_stmt *st;
	size_t i, k, done = 0;
	long queued = 0;
	long long id;

	while (done < n) {
		k = n - done < QUEUE_ROWS ? n - done : QUEUE_ROWS;
		if (k > 1 && (st = queue_rows_stmt(q, k)) != NULL) {
			for (i = 0; i < k; i++)
				queue_bind_notification(st,
				    (int)i * QUEUE_NOTIF_COLS, mid,
				    &v[done + i], batched[done + i], now);
			if (sqlite3_step(st) == SQLITE_DONE) {
				sqlite3_reset(st);
				for (i = 0; i < k; i++)
					ok[done + i] = 1;
				queued += k;
				done += k;
				continue;
			}
			sqlite3_reset(st);
		}
		/* One row at a time: a bad row skips only itself. */
		for (i = 0; i < k; i++) {
			id = fmn_queue_add_notification(q, mid, &v[done + i],
			    batched[done + i], now);
			if (id == -2)
				return -1;
			ok[done + i] = id > 0;
			queued += ok[done + i];
		}
		done += k;
	}
	return queued;
}

long long
fmn_queue_add_notification(struct fmn_queue *q, long long mid,
    const struct fmn_recipient *r, int batched, double now)
{
	sqlite3_stmt *st = q->ins_notif;
	int rc;

	queue_bind_notification(st, 0, mid, r, batched, now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		/* A constraint (a destination deleted meanwhile) skips one. */
		if ((rc & 0xff) == SQLITE_CONSTRAINT) {
			log_warn("queue: notification for %s (%s) not queued: "
			    "%s", r->user != NULL ? r->user : "?", r->context,
			    sqlite3_errmsg(q->db));
			return -1;
		}
		/* Anything else (a full disk...) fails the transaction. */
		q->last_error = rc;
		return -2;
	}
	return sqlite3_last_insert_rowid(q->db);
}

int
fmn_queue_oneshot_fired(struct fmn_queue *q, long long preference_id,
    const char *filter)
{
	sqlite3_bind_int64(q->oneshot, 1, preference_id);
	sqlite3_bind_text(q->oneshot, 2, filter, -1, SQLITE_STATIC);
	if (queue_step(q, q->oneshot) != 0)
		return -1;
	return sqlite3_changes(q->db) > 0;
}

int
fmn_queue_requeue_sending(struct fmn_queue *q)
{
	char *cause = NULL;
	int n;

	if (fmn_store_exec(q->db, "UPDATE notifications SET state = 'queued' "
	    "WHERE state = 'sending'", &cause) != 0) {
		log_err("queue: %s", cause);
		free(cause);
		return -1;
	}
	n = sqlite3_changes(q->db);
	if (n > 0)
		log_info("queue: %d notification(s) handed back to the queue",
		    n);
	return n;
}

int
fmn_queue_expire(struct fmn_queue *q, double before, int limit)
{
	sqlite3_stmt *st;
	int n = 0, i;
	/*
	 * Rows are created in time order, so each table is walked by id up
	 * to its first row that is too new (a pass costs what it removes,
	 * not the size of the table); and notifications are created in the
	 * order of their messages, so the oldest notification left names
	 * the oldest message still referred to.
	 */
	static const char *const sql[] = {
		"DELETE FROM notifications WHERE id IN (SELECT id FROM "
		"notifications WHERE id < coalesce((SELECT id FROM "
		"notifications WHERE created >= ?1 ORDER BY id LIMIT 1), "
		"(SELECT max(id) + 1 FROM notifications)) AND "
		"(state = 'delivered' OR state = 'failed') ORDER BY id "
		"LIMIT ?2)",
		"DELETE FROM messages WHERE id IN (SELECT id FROM messages "
		"WHERE id < min(coalesce((SELECT id FROM messages WHERE "
		"received >= ?1 ORDER BY id LIMIT 1), (SELECT max(id) + 1 FROM "
		"messages)), coalesce((SELECT message_id FROM notifications "
		"ORDER BY id LIMIT 1), (SELECT max(id) + 1 FROM messages))) "
		"ORDER BY id LIMIT ?2)",
	};

	for (i = 0; i < 2; i++) {
		if ((st = fmn_store_prepare(q->db, sql[i], NULL)) == NULL)
			return -1;
		sqlite3_bind_double(st, 1, before);
		sqlite3_bind_int(st, 2, limit);
		if (sqlite3_step(st) != SQLITE_DONE) {
			log_err("queue: expiring old rows: %s",
			    sqlite3_errmsg(q->db));
			sqlite3_finalize(st);
			return -1;
		}
		n += sqlite3_changes(q->db);
		sqlite3_finalize(st);
	}
	return n;
}
