/*
 * Digests: which preferences batch, how many notifications each
 * destination holds and since when, and their release into the queue.
 *
 * The state kept in memory is a cache of the database (rebuilt at
 * start); releasing reads the rows back, so a digest is always what the
 * database holds. A batch setting of 0 means "not set". A preference
 * that stops batching releases what it held at the next pass.
 */
#include "fmn_batch.h"

#include <stdlib.h>

#include "fmn_hmap.h"
#include "fmn_store.h"
#include "fmn_log.h"
#include "fmn_util.h"

#define BATCH_MAX_LOOPS	1000	/* digests released per destination and pass */

struct batch_pref {
	long long	 user_id;
	long long	 delta;		/* seconds, 0: not set */
	long long	 count;		/* entries, 0: not set */
};

struct batch_dest {
	long long	 preference_id;
	long long	 n;		/* notifications batched */
	double		 oldest;	/* created time of the oldest */
};

struct fmn_batch {
	sqlite3			*db;
	const struct fmn_config	*cfg;
	struct fmn_hmap		 prefs;		/* preference id -> batch_pref */
	struct fmn_hmap		 dests;		/* destination id -> batch_dest */
	int			 count_due;	/* a count threshold was reached */
	sqlite3_stmt		*sel_prefs_user;
	sqlite3_stmt		*sel_chunk;
	sqlite3_stmt		*upd_release;
	sqlite3_stmt		*sel_left;
};

struct fmn_batch *
fmn_batch_new(sqlite3 *db, const struct fmn_config *cfg, char **cause)
{
	struct fmn_batch *b = xcalloc(1, sizeof(*b));

	b->db = db;
	b->cfg = cfg;
	if ((b->sel_prefs_user = fmn_store_prepare(db, "SELECT id, user_id, "
	    "coalesce(batch_delta, 0), coalesce(batch_count, 0) "
	    "FROM preferences WHERE user_id = ?1 OR ?1 IS NULL", cause)) == NULL ||
	    (b->sel_chunk = fmn_store_prepare(db, "SELECT id FROM notifications "
	    "WHERE destination_id = ? AND state = 'batched' ORDER BY id "
	    "LIMIT ?", cause)) == NULL ||
	    (b->upd_release = fmn_store_prepare(db, "UPDATE notifications SET "
	    "state = 'queued', digest = ?1, next_try = ?2 WHERE "
	    "destination_id = ?3 AND state = 'batched' AND id BETWEEN ?1 "
	    "AND ?4", cause)) == NULL ||
	    (b->sel_left = fmn_store_prepare(db, "SELECT count(*), "
	    "min(created) FROM notifications WHERE destination_id = ? AND "
	    "state = 'batched'", cause)) == NULL) {
		fmn_batch_destroy(&b);
		return NULL;
	}
	return b;
}

void
fmn_batch_destroy(struct fmn_batch **bp)
{
	struct fmn_batch *b = *bp;

	if (b == NULL)
		return;
	fmn_imap_clear(&b->prefs, free);
	fmn_imap_clear(&b->dests, free);
	sqlite3_finalize(b->sel_prefs_user);
	sqlite3_finalize(b->sel_chunk);
	sqlite3_finalize(b->upd_release);
	sqlite3_finalize(b->sel_left);
	free(b);
	*bp = NULL;
}

/* Read the preferences of one user (user_id > 0) or of everyone (0). */
static int
batch_read_prefs(struct fmn_batch *b, long long user_id, char **cause)
{
	sqlite3_stmt *st = b->sel_prefs_user;
	int rc;

	if (user_id > 0)
		sqlite3_bind_int64(st, 1, user_id);
	else
		sqlite3_bind_null(st, 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);
		long long delta = sqlite3_column_int64(st, 2);
		long long count = sqlite3_column_int64(st, 3);
		struct batch_pref *p;

		if (delta <= 0 && count <= 0) {
			free(fmn_imap_del(&b->prefs, id));
			continue;
		}
		p = fmn_imap_get(&b->prefs, id);
		if (p == NULL) {
			p = xcalloc(1, sizeof(*p));
			fmn_imap_put(&b->prefs, id, p);
		}
		p->user_id = sqlite3_column_int64(st, 1);
		p->delta = delta > 0 ? delta : 0;
		p->count = count > 0 ? count : 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(b->db));
		return -1;
	}
	/* Count thresholds may have dropped below what is held. */
	b->count_due = 1;
	return 0;
}

int
fmn_batch_load(struct fmn_batch *b, char **cause)
{
	sqlite3_stmt *st;
	int rc;

	fmn_imap_clear(&b->prefs, free);
	fmn_imap_clear(&b->dests, free);
	if (batch_read_prefs(b, 0, cause) != 0)
		return -1;
	st = fmn_store_prepare(b->db, "SELECT destination_id, "
	    "max(preference_id), count(*), min(created) FROM notifications "
	    "WHERE state = 'batched' GROUP BY destination_id", cause);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct batch_dest *d = xcalloc(1, sizeof(*d));

		d->preference_id = sqlite3_column_int64(st, 1);
		d->n = sqlite3_column_int64(st, 2);
		d->oldest = sqlite3_column_double(st, 3);
		free(fmn_imap_put(&b->dests, sqlite3_column_int64(st, 0), d));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(b->db));
		return -1;
	}
	return 0;
}

int
fmn_batch_reload_user(struct fmn_batch *b, long long user_id, char **cause)
{
	long long key, *drop = NULL;
	size_t i = 0, n = 0, k;
	void *v;

	/* Forget the user's preferences first: some may be gone. */
	while (fmn_imap_next(&b->prefs, &i, &key, &v)) {
		if (((struct batch_pref *)v)->user_id != user_id)
			continue;
		drop = xreallocarray(drop, n + 1, sizeof(*drop));
		drop[n++] = key;
	}
	for (k = 0; k < n; k++)
		free(fmn_imap_del(&b->prefs, drop[k]));
	free(drop);
	return batch_read_prefs(b, user_id, cause);
}

int
fmn_batch_holds(const struct fmn_batch *b, long long preference_id)
{
	return fmn_imap_get(&b->prefs, preference_id) != NULL;
}

void
fmn_batch_added(struct fmn_batch *b, long long destination_id,
    long long preference_id, double now)
{
	struct batch_dest *d = fmn_imap_get(&b->dests, destination_id);
	const struct batch_pref *p;

	if (d == NULL) {
		d = xcalloc(1, sizeof(*d));
		d->oldest = now;
		fmn_imap_put(&b->dests, destination_id, d);
	}
	d->preference_id = preference_id;
	d->n++;
	p = fmn_imap_get(&b->prefs, preference_id);
	if (p != NULL && p->count > 0 && d->n >= p->count)
		b->count_due = 1;
}

static int
batch_due(const struct fmn_batch *b, const struct batch_dest *d, double now)
{
	const struct batch_pref *p = fmn_imap_get(&b->prefs, d->preference_id);

	if (d->n <= 0)
		return 0;
	if (p == NULL)
		return 1;	/* no longer batching: let it all go */
	if (p->count > 0 && d->n >= p->count)
		return 1;
	if (p->delta > 0 && d->oldest + (double)p->delta <= now)
		return 1;
	return 0;
}

/* Release one destination's due digests; count of digests or -1. */
static int
batch_release_dest(struct fmn_batch *b, long long dest_id,
    struct batch_dest *d, double now)
{
	const struct batch_pref *p = fmn_imap_get(&b->prefs, d->preference_id);
	int released = 0, loops, rc, chunk = b->cfg->digest_max_entries;

	/* A count threshold is also the size of the digests it makes. */
	if (p != NULL && p->count > 0 && p->count < chunk)
		chunk = (int)p->count;
	for (loops = 0; loops < BATCH_MAX_LOOPS && batch_due(b, d, now);
	    loops++) {
		long long first = 0, last = 0;

		sqlite3_bind_int64(b->sel_chunk, 1, dest_id);
		sqlite3_bind_int(b->sel_chunk, 2, chunk);
		while ((rc = sqlite3_step(b->sel_chunk)) == SQLITE_ROW) {
			last = sqlite3_column_int64(b->sel_chunk, 0);
			if (first == 0)
				first = last;
		}
		sqlite3_reset(b->sel_chunk);
		if (rc != SQLITE_DONE)
			goto dberr;
		if (first != 0) {
			sqlite3_bind_int64(b->upd_release, 1, first);
			sqlite3_bind_double(b->upd_release, 2, now);
			sqlite3_bind_int64(b->upd_release, 3, dest_id);
			sqlite3_bind_int64(b->upd_release, 4, last);
			rc = sqlite3_step(b->upd_release);
			sqlite3_reset(b->upd_release);
			if (rc != SQLITE_DONE)
				goto dberr;
			released++;
			log_debug("batch: destination %lld: digest %lld "
			    "released", dest_id, first);
		}
		sqlite3_bind_int64(b->sel_left, 1, dest_id);
		rc = sqlite3_step(b->sel_left);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(b->sel_left);
			goto dberr;
		}
		d->n = sqlite3_column_int64(b->sel_left, 0);
		d->oldest = sqlite3_column_double(b->sel_left, 1);
		sqlite3_reset(b->sel_left);
		if (first == 0)
			break;
	}
	return released;
dberr:
	log_err("batch: database: %s", sqlite3_errmsg(b->db));
	return -1;
}

int
fmn_batch_release(struct fmn_batch *b, double now)
{
	long long key, *empty = NULL;
	size_t i = 0, n = 0, k;
	int total = 0, r;
	void *v;

	while (fmn_imap_next(&b->dests, &i, &key, &v)) {
		struct batch_dest *d = v;

		if (batch_due(b, d, now)) {
			if ((r = batch_release_dest(b, key, d, now)) < 0) {
				total = -1;
				break;
			}
			total += r;
		}
		if (d->n <= 0) {
			empty = xreallocarray(empty, n + 1, sizeof(*empty));
			empty[n++] = key;
		}
	}
	for (k = 0; k < n; k++)
		free(fmn_imap_del(&b->dests, empty[k]));
	free(empty);
	if (total >= 0)
		b->count_due = 0;
	return total;
}

double
fmn_batch_next(const struct fmn_batch *b, double now)
{
	const struct batch_pref *p;
	double next = -1, t;
	size_t i = 0;
	void *v;

	if (b->count_due)
		return 0;
	while (fmn_imap_next(&b->dests, &i, NULL, &v)) {
		const struct batch_dest *d = v;

		if (d->n <= 0)
			continue;
		p = fmn_imap_get(&b->prefs, d->preference_id);
		if (p == NULL)
			return 0;
		if (p->delta <= 0)
			continue;
		t = d->oldest + (double)p->delta - now;
		if (t < 0)
			t = 0;
		if (next < 0 || t < next)
			next = t;
	}
	return next;
}
