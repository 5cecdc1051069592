/*
 * Batching: preferences with batch_delta (seconds) and/or batch_count
 * hold their notifications ('batched') and release them as one digest
 * when either threshold is reached first. A digest is released per
 * destination, at most digest_max_entries entries at a time; what is
 * over the limit stays batched and goes out in the next digest.
 */
#ifndef FMN_BATCH_H
#define FMN_BATCH_H

#include <sqlite3.h>

#include "fmn_config.h"

struct fmn_batch;

struct fmn_batch *fmn_batch_new(sqlite3 *db, const struct fmn_config *cfg,
    char **cause);
void fmn_batch_destroy(struct fmn_batch **bp);

/* Read every preference's batch settings and what is batched now. */
int fmn_batch_load(struct fmn_batch *b, char **cause);
/* Re-read one user's preferences (after a change). */
int fmn_batch_reload_user(struct fmn_batch *b, long long user_id,
    char **cause);

/* Does this preference hold its notifications for digests? */
int fmn_batch_holds(const struct fmn_batch *b, long long preference_id);
/* A notification was batched for destination_id at time now. */
void fmn_batch_added(struct fmn_batch *b, long long destination_id,
    long long preference_id, double now);

/*
 * Release the digests that are due (inside the caller's transaction):
 * their notifications become 'queued', due now, with a digest id.
 * Returns how many digests were released, or -1 on a database error.
 */
int fmn_batch_release(struct fmn_batch *b, double now);
/* Seconds until the next time-based release could happen; -1: none. */
double fmn_batch_next(const struct fmn_batch *b, double now);

#endif
