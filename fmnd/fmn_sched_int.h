/*
 * The scheduler's inside, shared by fmn_sched.c (picking due work,
 * the backends, confirmations), fmn_sched_unit.c (building one
 * delivery from its rows) and fmn_outcome.c (recording what the
 * backends report). Only those include this.
 *
 * Delivery scheduling. A unit of delivery is one queued notification or
 * one released digest (all queued rows sharing a digest id). Units are
 * picked per context in next_try order, skipping destinations marked
 * failing; a context without a backend is not picked at all, so its
 * notifications wait (fmnctl queue says so).
 *
 * The facts a person reads (subtitle, link, long form, usernames,
 * packages) are not stored with each notification but once with the
 * message (messages.summary, made at intake) and read back when the
 * delivery is built; a message stored before summaries has its
 * envelope parsed and its facts derived again.
 *
 * Backends report outcomes through a callback that may run inside
 * deliver(); outcomes are queued and recorded by fmn_sched_apply() in
 * the daemon's next transaction, after the rows were marked 'sending'.
 */
#ifndef FMN_SCHED_INT_H
#define FMN_SCHED_INT_H

#include "fmn_hmap.h"
#include "fmn_sched.h"

#define SCHED_MAX_BACKENDS	4
#define SCHED_MAX_INFLIGHT	1024	/* per backend */
#define SCHED_PICK		64	/* units per pick query */
#define SCHED_ENTRY_OVERHEAD	256	/* bytes a digest entry costs beyond its text */
#define SCHED_MSG_CACHE		512	/* parsed messages kept between deliveries */

struct sched_backend {
	struct fmn_backend	 b;
	char			*context;
	char			*target;
	char			*url;		/* as configured */
	size_t			 inflight;
	double			 last_ok;	/* wall clock of the last success */
	double			 last_fail;	/* of the last failure */
	char			*last_error;
	int			 pollfirst;	/* its items in the poll array */
	int			 npoll;
};

struct inflight {
	enum fmn_delivery_kind	 kind;
	struct sched_backend	*sb;
	long long		 destination_id;
	long long		 digest;	/* 0: none */
	long long		*ids;		/* notification ids */
	size_t			 n;
	int			 attempts;	/* before this one */
	char			*user;
	char			*address;
	char			*msg_id;	/* a single notification's, or NULL */
};

struct outcome {
	long long		 delivery_id;
	enum fmn_result		 result;
	char			*error;
};

struct confirm_retry {
	int			 attempts;
	double			 next;
};

/* One notification loaded for a delivery. */
struct row {
	long long		 id;
	long long		 destination_id;
	long long		 digest;
	int			 attempts;
	char			*filter;
	struct fmn_msg		*msg;		/* in the message cache, or */
	int			 owned;		/* ours when the cache was full */
};

struct fmn_sched {
	sqlite3			*db;
	const struct fmn_config	*cfg;
	struct fmn_counters	*counters;
	const struct fmn_defs	*defs;
	const struct fmn_aliases *aliases;
	struct sched_backend	 backends[SCHED_MAX_BACKENDS];
	size_t			 nbackends;
	long long		 next_id;
	struct fmn_hmap		 inflight;	/* delivery id -> inflight */
	size_t			 ninflight;
	struct fmn_hmap		 confirming;	/* destination id -> delivery id */
	struct fmn_hmap		 confirm_retry;	/* destination id -> confirm_retry */
	/*
	 * messages.id -> parsed message with its facts: a message usually
	 * notifies several people, one after the other in the queue.
	 */
	struct fmn_hmap		 msgcache;
	/*
	 * Outcomes reported by the backends, in order. The first napplied
	 * were written in the open transaction: they are forgotten when it
	 * commits, and written again after a rollback, so that an outcome
	 * is never lost with a transaction that failed.
	 */
	struct outcome		*outcomes;
	size_t			 noutcomes;
	size_t			 napplied;
	size_t			 outcomes_cap;
	/*
	 * Notification id -> delivery id, for every row handed to a backend
	 * and not yet settled: a rolled-back hand-off leaves the row
	 * 'queued' in the database while the backend has it, and it must
	 * not be picked (and sent) again.
	 */
	struct fmn_hmap		 busy;
	/* Scratch reused by every delivery. */
	struct row		*rows;
	size_t			 rows_cap;
	struct fmn_notice	*notices;
	size_t			 notices_cap;
	sqlite3_stmt		*pick;
	sqlite3_stmt		*load_one;
	sqlite3_stmt		*load_digest;
	sqlite3_stmt		*set_sending;
	sqlite3_stmt		*set_delivered;
	sqlite3_stmt		*set_retry;
	sqlite3_stmt		*set_failed;
	sqlite3_stmt		*split;
	sqlite3_stmt		*dest_failing;
	sqlite3_stmt		*confirm_pick;
	sqlite3_stmt		*confirm_sent;
};

#define SCHED_LOAD_COLUMNS \
	"SELECT n.id, n.destination_id, coalesce(n.digest, 0), n.attempts, " \
	"n.filter, u.name, d.address, p.verbose, p.markup, m.envelope, " \
	"n.message_id, m.summary FROM notifications n " \
	"JOIN destinations d ON d.id = n.destination_id " \
	"JOIN users u ON u.id = n.user_id " \
	"JOIN preferences p ON p.id = n.preference_id " \
	"JOIN messages m ON m.id = n.message_id "

/* fmn_sched.c */
/* Step a statement that returns no rows, and reset it; -1 logged. */
int sched_step(struct fmn_sched *s, sqlite3_stmt *st);
void inflight_free(void *p);
void sched_cache_clear(struct fmn_sched *s);

/*
 * fmn_sched_unit.c: build and hand over one unit (a notification, or a
 * digest when digest is not 0). Returns 1 when handed over, 0 when there
 * was nothing to send, -1 when the backend cannot take it now, -2 on a
 * database error.
 */
int sched_unit(struct fmn_sched *s, struct sched_backend *sb, long long id,
    long long digest);
/* A text column, "" for NULL. */
const char *sched_column_text(sqlite3_stmt *st, int col);

#endif

