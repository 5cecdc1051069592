/*
 * The daemon's counters: cumulative since the database was created,
 * kept as deltas in memory and added to the counters table inside the
 * daemon's own transactions, so that a counter and the rows it counts
 * are committed together (and at least once a second).
 */
#ifndef FMN_COUNTERS_H
#define FMN_COUNTERS_H

#include <sqlite3.h>

enum fmn_counter {
	FMN_C_MESSAGES_RECEIVED,	/* multipart messages read off the bus */
	FMN_C_MESSAGES_PROCESSED,	/* matched, notifications committed */
	FMN_C_MESSAGES_DUPLICATE,	/* msg_id seen before: dropped */
	FMN_C_MESSAGES_DROPPED,		/* gaps in publishers' "i" (advisory) */
	FMN_C_MESSAGES_INVALID,		/* all invalid kinds together */
	FMN_C_INVALID_FRAMES,		/* not exactly 2 frames */
	FMN_C_INVALID_SIZE,		/* beyond max_message_size */
	FMN_C_INVALID_UTF8,		/* a frame that is not UTF-8 */
	FMN_C_INVALID_JSON,		/* the body does not parse */
	FMN_C_INVALID_TOPIC,		/* frame topic != envelope topic */
	FMN_C_INVALID_ENVELOPE,		/* JSON, but not a fedmsg envelope */
	FMN_C_INVALID_SIGNATURE,	/* refused by the signature check */
	FMN_C_RULE_ERRORS,		/* rules that failed to evaluate */
	FMN_C_NOTIFICATIONS_QUEUED,	/* notifications created */
	FMN_C_NOTIFICATIONS_BATCHED,	/* of which held for a digest */
	FMN_C_NOTIFICATIONS_DELIVERED,
	FMN_C_NOTIFICATIONS_FAILED,
	FMN_C_NOTIFICATIONS_RETRIED,	/* temporary failures */
	FMN_C_DELIVERIES,		/* hand-offs that succeeded */
	FMN_C_DIGESTS,			/* of which digests */
	FMN_C_CONFIRMATIONS_SENT,
	FMN_C_MESSAGES_LOST,		/* read off the bus, never stored */
	FMN_C_BUS_RECONNECTS,		/* connections ZeroMQ dropped and fmnd made again */
	FMN_C_FILTERS_BROKEN,		/* marked broken: regexes over budget */
	FMN_C_MESSAGES_CAUGHT_UP,	/* new messages the catch-up brought */
	FMN_C_CATCHUP_REQUESTS,		/* pages asked of a datagrepper */
	FMN_C_CATCHUP_ERRORS,		/* of which failed */
	FMN_C_COUNT
};

struct fmn_counters {
	long long	 delta[FMN_C_COUNT];	/* not yet in the database */
	long long	 total[FMN_C_COUNT];	/* the table's at init, plus what was added since */
	int		 dirty;
	/* As they were when the open transaction began (fmn_counters_save). */
	long long	 saved_delta[FMN_C_COUNT];
	long long	 saved_total[FMN_C_COUNT];
	int		 saved_dirty;
	sqlite3_stmt	*upsert;
};

/* The counter's name in the counters table. */
const char *fmn_counters_name(enum fmn_counter c);

int fmn_counters_init(struct fmn_counters *c, sqlite3 *db, char **cause);
void fmn_counters_fini(struct fmn_counters *c);

static inline void
fmn_counters_add(struct fmn_counters *c, enum fmn_counter k, long long n)
{
	c->delta[k] += n;
	c->total[k] += n;
	c->dirty = 1;
}

/* The cumulative value, what is not yet flushed included. */
static inline long long
fmn_counters_total(const struct fmn_counters *c, enum fmn_counter k)
{
	return c->total[k];
}

/*
 * Add the deltas to the table; call inside a transaction that commits
 * them with what they count. On error the deltas are kept.
 */
int fmn_counters_flush(struct fmn_counters *c);

/*
 * A transaction begins: remember the counters. It rolled back: put them
 * back as they were, so that neither what the flush wrote nor what the
 * undone work counted is lost or counted twice.
 */
void fmn_counters_save(struct fmn_counters *c);
void fmn_counters_restore(struct fmn_counters *c);

#endif
