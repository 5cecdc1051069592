/*
 * The durable side of intake: messages and the notifications they
 * create, written with prepared statements inside group-commit
 * transactions (many messages, one commit), together with the counters
 * that count them.
 */
#ifndef FMN_QUEUE_H
#define FMN_QUEUE_H

#include <sqlite3.h>

#include "fmn_counters.h"
#include "fmn_match.h"
#include "fmn_msg.h"

struct fmn_queue;

struct fmn_queue *fmn_queue_new(sqlite3 *db, struct fmn_counters *counters,
    char **cause);
void fmn_queue_destroy(struct fmn_queue **qp);

/* BEGIN IMMEDIATE, unless a transaction is already open. */
int fmn_queue_begin(struct fmn_queue *q);
int fmn_queue_in_transaction(const struct fmn_queue *q);
/* The SQLite result code of the last statement that failed. */
int fmn_queue_last_error(const struct fmn_queue *q);
/* Flush the counters and COMMIT; on failure roll back and return -1. */
int fmn_queue_commit(struct fmn_queue *q);
void fmn_queue_rollback(struct fmn_queue *q);

/*
 * Record a message as processed, with its envelope and its summary
 * (fmn_msg_summary; NULL: none), its category, and its usernames and
 * packages for history queries (its facts must be derived): its row
 * id, 0 when its msg_id was seen before (a duplicate: nothing to do),
 * or -1 on a database error.
 */
long long fmn_queue_add_message(struct fmn_queue *q, const struct fmn_msg *m,
    const char *raw, size_t rawlen, const char *summary, double received);

/*
 * Queue a message's n notifications, several rows per statement; ok[i]
 * says which were queued (a row a constraint refuses, such as a
 * destination deleted meanwhile, is skipped). Returns how many were, or
 * -1 when the transaction failed (a full disk...).
 */
long fmn_queue_add_notifications(struct fmn_queue *q, long long mid,
    const struct fmn_recipient *v, const int *batched, int *ok, size_t n,
    double now);
/*
 * Queue one notification of message mid for r: 'batched' (held for a
 * digest) or 'queued' (due now). Returns its row id, -1 when a
 * constraint refused it, -2 when the transaction failed.
 */
long long fmn_queue_add_notification(struct fmn_queue *q, long long mid,
    const struct fmn_recipient *r, int batched, double now);

/* Deactivate a oneshot filter that fired; 1 when it was one, 0, or -1. */
int fmn_queue_oneshot_fired(struct fmn_queue *q, long long preference_id,
    const char *filter);

/* Put notifications left 'sending' (by a crash) back in the queue. */
int fmn_queue_requeue_sending(struct fmn_queue *q);

/*
 * Forget what is older than before: delivered and failed notifications,
 * then messages no notification refers to any more (their msg_ids stop
 * counting as duplicates). At most limit rows of each; returns how many
 * rows went, or -1. Call inside a transaction.
 */
int fmn_queue_expire(struct fmn_queue *q, double before, int limit);

#endif
