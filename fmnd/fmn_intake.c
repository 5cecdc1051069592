/*
 * Intake: what the intake thread has ready goes into one transaction
 * (up to DAEMON_BATCH_MAX messages or DAEMON_BATCH_MS milliseconds):
 * every message's row, its notifications and the counters commit
 * together, so a message counted as processed always has its
 * notifications on disk. A transaction that fails keeps its batches for
 * a retry; the commit and rollback helpers here undo what the loop
 * remembers of a transaction the database does not have.
 */
#include "fmn_daemon_int.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_broken.h"
#include "fmn_log.h"
#include "fmn_store.h"
#include "fmn_util.h"

/*
 * Match one message and queue its notifications, inside the intake
 * transaction; -1 on a database error.
 */
static int
daemon_message(struct fmn_daemon *d, struct fmn_bus_msg *bm,
    struct fmn_hmap *oneshots)
{
	struct fmn_msg *m = bm->msg;
	long long mid;
	size_t i, n;

	/*
	 * The intake thread derived the facts (this is then a no-op); the
	 * summary is made here, as that thread has the longer share.
	 */
	fmn_facts_derive(d->defs, d->aliases, m);
	if (bm->summary == NULL)
		bm->summary = fmn_msg_summary(m);
	mid = fmn_queue_add_message(d->queue, m, bm->raw, bm->rawlen,
	    bm->summary, bm->received);
	if (mid < 0)
		return -1;
	if (mid == 0) {
		/* The catch-up asks for overlap on purpose: not a duplicate
		 * the bus sent. */
		if (!bm->history)
			fmn_counters_add(&d->counters,
			    FMN_C_MESSAGES_DUPLICATE, 1);
		log_debug("duplicate %s dropped", m->msg_id);
		return 0;
	}
	if (bm->history)
		fmn_counters_add(&d->counters, FMN_C_MESSAGES_CAUGHT_UP, 1);
	fmn_recipients_clear(&d->recips);
	if (fmn_engine_match(d->engine, m, &d->recips, NULL) != 0)
		log_warn("matching %s failed; its notifications may be "
		    "incomplete", m->msg_id ? m->msg_id : m->topic);
	if ((n = d->recips.n) > d->flags_cap) {
		d->flags_cap = n * 2;
		d->batched = xreallocarray(d->batched, d->flags_cap,
		    sizeof(*d->batched));
		d->queued = xreallocarray(d->queued, d->flags_cap,
		    sizeof(*d->queued));
	}
	for (i = 0; i < n; i++)
		d->batched[i] = fmn_batch_holds(d->batch,
		    d->recips.v[i].preference_id);
	if (fmn_queue_add_notifications(d->queue, mid, d->recips.v, d->batched,
	    d->queued, n, bm->received) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct fmn_recipient *r = &d->recips.v[i];
		int fired;

		if (!d->queued[i])
			continue;
		fmn_counters_add(&d->counters, FMN_C_NOTIFICATIONS_QUEUED, 1);
		if (d->batched[i]) {
			fmn_counters_add(&d->counters,
			    FMN_C_NOTIFICATIONS_BATCHED, 1);
			fmn_batch_added(d->batch, r->destination_id,
			    r->preference_id, bm->received);
		} else
			d->dispatch = 1;
		if (fmn_imap_get(&d->oneshot_prefs, r->preference_id) == NULL)
			continue;
		if ((fired = fmn_queue_oneshot_fired(d->queue,
		    r->preference_id, r->filter)) < 0)
			return -1;
		if (fired)
			fmn_imap_put(oneshots, r->user_id, (void *)1);
	}
	fmn_counters_add(&d->counters, FMN_C_MESSAGES_PROCESSED, 1);
	return 0;
}

void
daemon_reload_users(struct fmn_daemon *d, struct fmn_hmap *users)
{
	long long uid;
	size_t i = 0;
	char *cause = NULL;

	if (users->n >= DAEMON_FULL_RELOAD) {
		log_info("%zu users changed: recompiling everyone", users->n);
		if (fmn_engine_load(d->engine, d->db, &cause) != 0 ||
		    fmn_batch_load(d->batch, &cause) != 0) {
			log_err("reload: %s", cause);
			free(cause);
		}
		return;
	}
	while (fmn_imap_next(users, &i, &uid, NULL)) {
		if (fmn_engine_reload_user(d->engine, d->db, uid, &cause) != 0 ||
		    fmn_batch_reload_user(d->batch, uid, &cause) != 0) {
			log_err("reload of user %lld: %s", uid, cause);
			free(cause);
			cause = NULL;
		}
	}
}

/* Milliseconds before trying the database again after failures in a row. */
int64_t
daemon_backoff(int failures)
{
	int64_t delay = (int64_t)DAEMON_RETRY_MIN_MS << (failures < 7 ?
	    (failures > 0 ? failures - 1 : 0) : 6);

	return delay > DAEMON_RETRY_MAX_MS ? DAEMON_RETRY_MAX_MS : delay;
}

/* Is a failed statement worth trying again as it is (busy, full...)? */
int
daemon_transient(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
	case SQLITE_READONLY:
		return 1;
	default:
		return 0;
	}
}

/*
 * The end of a transaction that failed: the database has none of it,
 * so what the loop remembers of it is undone too (the counters are
 * restored by fmn_queue_rollback). Outcomes are recorded again in the
 * next transaction; the batcher reads what is batched from the
 * database again.
 */
void
daemon_rolled_back(struct fmn_daemon *d)
{
	char *cause = NULL;

	fmn_sched_rolled_back(d->sched);
	if (fmn_batch_load(d->batch, &cause) != 0) {
		log_err("batch: %s", cause);
		free(cause);
	}
}

void
daemon_rollback(struct fmn_daemon *d)
{
	if (!fmn_queue_in_transaction(d->queue))
		return;
	fmn_queue_rollback(d->queue);
	daemon_rolled_back(d);
}

/* Commit; -1 (everything rolled back) on failure. */
int
daemon_commit(struct fmn_daemon *d)
{
	if (fmn_queue_commit(d->queue) != 0) {
		daemon_rolled_back(d);
		return -1;
	}
	fmn_sched_committed(d->sched);
	return 0;
}

/*
 * Process the messages of batches v[0..n) in the open transaction.
 * Returns 0, or -1 at the first database error. In isolation (after a
 * batch failed for a reason that is not transient), each message gets
 * a savepoint: one that fails on its own is dropped and counted in
 * messages_lost, the others go on.
 */
static int
daemon_process(struct fmn_daemon *d, struct fmn_reader_batch **v, size_t n,
    struct fmn_hmap *oneshots)
{
	struct fmn_reader_batch *b;
	size_t i, k;
	int c, rc;

	for (k = 0; k < n; k++) {
		b = v[k];
		for (c = 0; c < FMN_C_COUNT; c++)
			if (b->counters[c] != 0)
				fmn_counters_add(&d->counters, c, b->counters[c]);
		for (i = 0; i < b->n; i++) {
			if (!d->isolate) {
				if (daemon_message(d, &b->v[i], oneshots) != 0)
					return -1;
				continue;
			}
			if (fmn_store_exec(d->db, "SAVEPOINT m", NULL) != 0)
				return -1;
			if (daemon_message(d, &b->v[i], oneshots) == 0) {
				if (fmn_store_exec(d->db, "RELEASE m",
				    NULL) != 0)
					return -1;
				continue;
			}
			rc = fmn_queue_last_error(d->queue);
			if (daemon_transient(rc) ||
			    fmn_store_exec(d->db, "ROLLBACK TO m; RELEASE m",
			    NULL) != 0)
				return -1;
			fmn_counters_add(&d->counters, FMN_C_MESSAGES_LOST, 1);
			log_err("intake: message %.100s cannot be stored (%s): "
			    "dropped, counted in messages_lost",
			    b->v[i].msg->msg_id != NULL ? b->v[i].msg->msg_id :
			    b->v[i].msg->topic, sqlite3_errstr(rc));
		}
	}
	return 0;
}

static void
daemon_hold(struct fmn_daemon *d, struct fmn_reader_batch *b)
{
	if (d->nheld == d->held_cap) {
		d->held_cap = d->held_cap ? d->held_cap * 2 : 8;
		d->held = xreallocarray(d->held, d->held_cap,
		    sizeof(*d->held));
	}
	d->held[d->nheld++] = b;
}

/*
 * Take what the intake thread has ready into one transaction, after the
 * batches held from a failed one. A batch cut at its size (more was
 * waiting) starts or extends a burst. When the transaction fails, every
 * batch of it is held and tried again after a backoff: a busy or full
 * database delays messages, it does not lose them.
 */
void
daemon_intake(struct fmn_daemon *d)
{
	struct fmn_reader_batch *b;
	struct fmn_hmap oneshots = { 0 };
	struct fmn_engine_stats es;
	int64_t start = fmn_monotonic_ms(), delay;
	size_t i, n = 0;
	int failed = 0, rc = 0;

	if (d->nheld > 0 && start < d->intake_retry_at)
		return;
	for (i = 0; i < d->nheld; i++)
		n += d->held[i]->n;
	while (n < DAEMON_BATCH_MAX &&
	    fmn_monotonic_ms() - start < DAEMON_BATCH_MS) {
		if ((b = fmn_reader_take(d->reader)) == NULL)
			break;
		daemon_hold(d, b);
		n += b->n;
		if (b->last)
			d->reader_done = 1;
		if (b->full)
			d->burst_until = fmn_monotonic_ms() + DAEMON_BURST_MS;
	}
	if (d->nheld == 0)
		return;

	if (fmn_queue_begin(d->queue) != 0 ||
	    daemon_process(d, d->held, d->nheld, &oneshots) != 0)
		failed = 1;
	fmn_engine_stats(d->engine, &es);
	if (es.rule_errors > d->rule_errors) {
		fmn_counters_add(&d->counters, FMN_C_RULE_ERRORS,
		    (long long)(es.rule_errors - d->rule_errors));
		d->rule_errors = es.rule_errors;
	}
	/* Filters over the regex budget are marked with the batch that
	 * found them. */
	if (!failed)
		fmn_broken_record(d->engine, d->db, &d->counters);
	if (failed) {
		rc = fmn_queue_last_error(d->queue);
		daemon_rollback(d);
	} else if (daemon_commit(d) != 0) {
		failed = 1;
		rc = fmn_queue_last_error(d->queue);
	}
	if (failed) {
		d->intake_failures++;
		delay = daemon_backoff(d->intake_failures);
		d->intake_retry_at = fmn_monotonic_ms() + delay;
		if (!daemon_transient(rc) &&
		    d->intake_failures >= DAEMON_ISOLATE_AFTER)
			d->isolate = 1;
		/* The first failure, then one line every few. */
		if (d->intake_failures == 1 || d->intake_failures % 10 == 0)
			log_err("intake: database: %s; %zu message(s) held and "
			    "tried again in %lld ms (attempt %d)",
			    sqlite3_errstr(rc), n, (long long)delay,
			    d->intake_failures);
		fmn_imap_clear(&oneshots, NULL);
		return;
	}
	if (d->intake_failures > 0)
		log_info("intake: stored after %d failed attempt(s)",
		    d->intake_failures);
	d->intake_failures = 0;
	d->isolate = 0;
	for (i = 0; i < d->nheld; i++)
		fmn_reader_release(d->reader, &d->held[i]);
	d->nheld = 0;
	if (oneshots.n > 0) {
		daemon_reload_users(d, &oneshots);
		daemon_load_oneshots(d);
	}
	fmn_imap_clear(&oneshots, NULL);
}
