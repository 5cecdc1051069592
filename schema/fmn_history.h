/*
 * History: the query over stored messages that datagrepper's /raw
 * answers (fmnd's HTTP server), `fmnctl history` prints and `fmnctl
 * match --history` matches. Its terms are datagrepper's: a time range
 * over each message's time (its timestamp, or when it was read), then
 * lists ANDed together, each an OR of its values (topics, categories,
 * users, packages, text the body contains), and their negations; pages
 * in time order. It reads the indexes of migration 007.
 */
#ifndef FMN_HISTORY_H
#define FMN_HISTORY_H

#include <stddef.h>
#include <sqlite3.h>

#define FMN_HISTORY_MAX_ROWS	100	/* rows per page, as datagrepper */
#define FMN_HISTORY_MAX_VALUES	32	/* values in one list */

enum fmn_history_kind {
	FMN_HISTORY_TOPIC,
	FMN_HISTORY_CATEGORY,
	FMN_HISTORY_USER,
	FMN_HISTORY_PACKAGE,
	FMN_HISTORY_CONTAINS,	/* a substring of the body (msg) as JSON */
	FMN_HISTORY_KINDS
};

struct fmn_history_query {
	int		 has_start, has_end;
	double		 start, end;	/* inclusive, seconds since the epoch */
	/* [0]: any of these; [1]: none of these (the not_ forms). */
	const char	*v[2][FMN_HISTORY_KINDS][FMN_HISTORY_MAX_VALUES];
	size_t		 n[2][FMN_HISTORY_KINDS];
	long		 page;		/* from 1 */
	long		 rows;		/* per page; 0: every row, no paging */
	int		 asc;		/* oldest first; default newest first */
};

/* One stored message, valid during the callback only. */
struct fmn_history_row {
	long long	 id;
	const char	*msg_id;	/* NULL: none */
	const char	*topic;
	double		 t;		/* timestamp, or received */
	const char	*envelope;	/* as received */
	size_t		 envelope_len;
	const char	*summary;	/* fmn_msg_summary, NULL for old rows */
};

/* Return nonzero to stop. */
typedef int (*fmn_history_fn)(void *arg, const struct fmn_history_row *r);

/* No time range, no lists, page 1 of 25, newest first. */
void fmn_history_init(struct fmn_history_query *q);
/* Add a value (borrowed) to a list; -1 when the list is full. */
int fmn_history_add(struct fmn_history_query *q, int negated,
    enum fmn_history_kind kind, const char *value);

/*
 * Run a query: *total (when total is not NULL) is how many messages
 * match, and fn sees the rows of the page asked for, in order. 0, or
 * -1 with *cause.
 */
int fmn_history_run(sqlite3 *db, const struct fmn_history_query *q,
    long long *total, fmn_history_fn fn, void *arg, char **cause);
/* The message with this msg_id: 1 (fn called), 0 none, -1 error. */
int fmn_history_get(sqlite3 *db, const char *msg_id, fmn_history_fn fn,
    void *arg, char **cause);

/*
 * A duration as people write it: seconds, or a number with s, m, h, d
 * or w ("90m", "2d", "1.5h"). -1 when it is not one.
 */
double fmn_history_duration(const char *s);

#endif
