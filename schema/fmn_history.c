/*
 * History queries over the messages table (see fmn_history.h). The SQL
 * is built for each query from the lists it has, with every value a
 * bound parameter; the shape of each term is chosen so that SQLite
 * walks an index of migration 007: (topic, t) and (category, t) for a
 * topic or category and the order, t for a time range and the order,
 * the name indexes of message_users and message_packages for users and
 * packages. The count and the page are two statements over the same
 * terms.
 */
#include "fmn_history.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_store.h"
#include "fmn_util.h"

void
fmn_history_init(struct fmn_history_query *q)
{
	memset(q, 0, sizeof(*q));
	q->page = 1;
	q->rows = 25;
}

int
fmn_history_add(struct fmn_history_query *q, int negated,
    enum fmn_history_kind kind, const char *value)
{
	size_t *n = &q->n[negated ? 1 : 0][kind];

	if (*n >= FMN_HISTORY_MAX_VALUES)
		return -1;
	q->v[negated ? 1 : 0][kind][(*n)++] = value;
	return 0;
}

/*
 * A query's SQL as it is built, with its parameters in the order they
 * appear, so that the count and the page bind the same terms.
 */
#define HISTORY_MAX_BINDS (2 + 2 * FMN_HISTORY_KINDS * FMN_HISTORY_MAX_VALUES)
struct history_sql {
	struct fmn_buf	 b;
	struct {
		const char	*s;	/* NULL: d */
		double		 d;
	}		 bind[HISTORY_MAX_BINDS];
	size_t		 n;
};

static void
sql_value(struct history_sql *h, const char *s, double d)
{
	if (h->n < HISTORY_MAX_BINDS) {
		h->bind[h->n].s = s;
		h->bind[h->n].d = d;
		h->n++;
	}
}

/* "(?, ?, ?)" for a list's values. */
static void
sql_list(struct history_sql *h, const struct fmn_history_query *q, int neg,
    int kind)
{
	size_t i;

	fmn_buf_adds(&h->b, "(");
	for (i = 0; i < q->n[neg][kind]; i++) {
		fmn_buf_adds(&h->b, i ? ", ?" : "?");
		sql_value(h, q->v[neg][kind][i], 0);
	}
	fmn_buf_adds(&h->b, ")");
}

/*
 * Which names table drives the query: a list of users (else of
 * packages) to find, whose index gives the messages of a name in time
 * order and counts them without reading the messages. -1: none; the
 * messages table then drives, through whichever of its indexes SQLite
 * finds best (topic, category or time).
 */
static int
history_driver(const struct fmn_history_query *q)
{
	if (q->n[0][FMN_HISTORY_USER] > 0)
		return FMN_HISTORY_USER;
	if (q->n[0][FMN_HISTORY_PACKAGE] > 0)
		return FMN_HISTORY_PACKAGE;
	return -1;
}

/* Does any term but the driver's list and the time need the message? */
static int
history_needs_message(const struct fmn_history_query *q, int driver)
{
	int neg, kind;

	for (neg = 0; neg < 2; neg++)
		for (kind = 0; kind < FMN_HISTORY_KINDS; kind++)
			if (q->n[neg][kind] > 0 && (neg || kind != driver))
				return 1;
	return 0;
}

/* " WHERE ..." for q's terms; u is the driving names table. */
static void
history_where(struct history_sql *h, const struct fmn_history_query *q,
    int driver)
{
	static const char *const names[FMN_HISTORY_KINDS] = {
		[FMN_HISTORY_USER] = "message_users",
		[FMN_HISTORY_PACKAGE] = "message_packages",
	};
	const char *t = driver >= 0 ? "u.t" : "m.t";
	size_t i;
	int neg, kind;

	fmn_buf_adds(&h->b, " WHERE 1");
	if (q->has_start) {
		fmn_buf_printf(&h->b, " AND %s >= ?", t);
		sql_value(h, NULL, q->start);
	}
	if (q->has_end) {
		fmn_buf_printf(&h->b, " AND %s <= ?", t);
		sql_value(h, NULL, q->end);
	}
	for (neg = 0; neg < 2; neg++) {
		for (kind = 0; kind < FMN_HISTORY_KINDS; kind++) {
			if (q->n[neg][kind] == 0)
				continue;
			if (!neg && kind == driver) {
				fmn_buf_adds(&h->b, " AND u.name IN ");
				sql_list(h, q, neg, kind);
				continue;
			}
			switch (kind) {
			case FMN_HISTORY_TOPIC:
				fmn_buf_adds(&h->b, neg ? " AND m.topic NOT IN " :
				    " AND m.topic IN ");
				sql_list(h, q, neg, kind);
				break;
			case FMN_HISTORY_CATEGORY:
				/* Rows of before 007 without a summary have none. */
				fmn_buf_adds(&h->b, neg ? " AND coalesce("
				    "m.category, '') NOT IN " :
				    " AND m.category IN ");
				sql_list(h, q, neg, kind);
				break;
			case FMN_HISTORY_USER:
			case FMN_HISTORY_PACKAGE:
				fmn_buf_printf(&h->b, " AND m.id %sIN (SELECT "
				    "message_id FROM %s WHERE name IN ",
				    neg ? "NOT " : "", names[kind]);
				sql_list(h, q, neg, kind);
				fmn_buf_adds(&h->b, ")");
				break;
			case FMN_HISTORY_CONTAINS:
				/* The body as JSON text, as datanommer's LIKE
				 * sees it. */
				fmn_buf_adds(&h->b, neg ? " AND NOT (" : " AND (");
				for (i = 0; i < q->n[neg][kind]; i++) {
					fmn_buf_adds(&h->b, i ? " OR " : "");
					fmn_buf_adds(&h->b, "instr(json_extract("
					    "m.envelope, '$.msg'), ?) > 0");
					sql_value(h, q->v[neg][kind][i], 0);
				}
				fmn_buf_adds(&h->b, ")");
				break;
			}
		}
	}
}

/* " FROM ..." with the driving names table as u. */
static void
history_from(struct history_sql *h, const struct fmn_history_query *q,
    int driver)
{
	if (driver < 0) {
		fmn_buf_adds(&h->b, " FROM messages m");
		return;
	}
	fmn_buf_adds(&h->b, driver == FMN_HISTORY_USER ?
	    " FROM message_users u" : " FROM message_packages u");
	if (history_needs_message(q, driver))
		fmn_buf_adds(&h->b, " JOIN messages m ON m.id = u.message_id");
}

static sqlite3_stmt *
history_prepare(sqlite3 *db, struct history_sql *h, char **cause)
{
	sqlite3_stmt *st;
	size_t i;

	if (h->n >= HISTORY_MAX_BINDS) {
		fmn_set_cause(cause, "too many values");
		return NULL;
	}
	if ((st = fmn_store_prepare(db, h->b.data, cause)) == NULL)
		return NULL;
	for (i = 0; i < h->n; i++) {
		if (h->bind[i].s != NULL)
			sqlite3_bind_text(st, (int)i + 1, h->bind[i].s, -1,
			    SQLITE_STATIC);
		else
			sqlite3_bind_double(st, (int)i + 1, h->bind[i].d);
	}
	return st;
}

static void
history_row(sqlite3_stmt *st, struct fmn_history_row *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->msg_id = (const char *)sqlite3_column_text(st, 1);
	r->topic = (const char *)sqlite3_column_text(st, 2);
	r->t = sqlite3_column_double(st, 3);
	r->envelope = (const char *)sqlite3_column_text(st, 4);
	r->envelope_len = (size_t)sqlite3_column_bytes(st, 4);
	r->summary = (const char *)sqlite3_column_text(st, 5);
	if (r->topic == NULL)
		r->topic = "";
	if (r->envelope == NULL)
		r->envelope = "";
}

#define HISTORY_COLUMNS "SELECT m.id, m.msg_id, m.topic, m.t, m.envelope, " \
	"m.summary"

/* " ORDER BY ..." and the page's LIMIT. */
static void
history_page(struct history_sql *h, const struct fmn_history_query *q,
    const char *t, const char *id)
{
	long long offset = 0;

	fmn_buf_printf(&h->b, q->asc ? " ORDER BY %s, %s" :
	    " ORDER BY %s DESC, %s DESC", t, id);
	if (q->rows <= 0)
		return;
	/* A page past any count is empty, not an overflow. */
	if (q->page > 1)
		offset = q->page - 1 < LLONG_MAX / q->rows ?
		    (q->page - 1) * q->rows : LLONG_MAX;
	fmn_buf_printf(&h->b, " LIMIT %ld OFFSET %lld", q->rows, offset);
}

static int
history_count(sqlite3 *db, const struct fmn_history_query *q, int driver,
    long long *total, char **cause)
{
	struct history_sql h;
	sqlite3_stmt *st;
	int rc = -1;

	memset(&h, 0, sizeof(h));
	fmn_buf_init(&h.b);
	fmn_buf_adds(&h.b, driver >= 0 && q->n[0][driver] > 1 ?
	    "SELECT count(DISTINCT u.message_id)" : "SELECT count(*)");
	history_from(&h, q, driver);
	history_where(&h, q, driver);
	if ((st = history_prepare(db, &h, cause)) != NULL) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			*total = sqlite3_column_int64(st, 0);
			rc = 0;
		} else
			fmn_set_cause(cause, "database: %s",
			    sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	fmn_buf_free(&h.b);
	return rc;
}

int
fmn_history_run(sqlite3 *db, const struct fmn_history_query *q,
    long long *total, fmn_history_fn fn, void *arg, char **cause)
{
	struct history_sql h;
	struct fmn_history_row r;
	sqlite3_stmt *st = NULL;
	int driver = history_driver(q), rc = -1, step, multi;

	if (total != NULL && history_count(db, q, driver, total, cause) != 0)
		return -1;
	if (fn == NULL)
		return 0;
	memset(&h, 0, sizeof(h));
	fmn_buf_init(&h.b);
	if (driver < 0) {
		fmn_buf_adds(&h.b, HISTORY_COLUMNS);
		history_from(&h, q, driver);
		history_where(&h, q, driver);
		history_page(&h, q, "m.t", "m.id");
	} else {
		/*
		 * The page's ids from the names index alone (in its order
		 * for one name), then their messages: a page reads 100
		 * envelopes, not every one of a busy name's.
		 */
		multi = q->n[0][driver] > 1;
		fmn_buf_printf(&h.b, HISTORY_COLUMNS " FROM (SELECT "
		    "u.message_id AS id, %s AS t", multi ? "max(u.t)" : "u.t");
		history_from(&h, q, driver);
		history_where(&h, q, driver);
		if (multi)
			fmn_buf_adds(&h.b, " GROUP BY u.message_id");
		history_page(&h, q, multi ? "t" : "u.t",
		    multi ? "id" : "u.message_id");
		fmn_buf_adds(&h.b, ") p JOIN messages m ON m.id = p.id");
		fmn_buf_adds(&h.b, q->asc ? " ORDER BY p.t, p.id" :
		    " ORDER BY p.t DESC, p.id DESC");
	}
	if ((st = history_prepare(db, &h, cause)) == NULL)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		history_row(st, &r);
		if (fn(arg, &r) != 0)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	fmn_buf_free(&h.b);
	return rc;
}

int
fmn_history_get(sqlite3 *db, const char *msg_id, fmn_history_fn fn,
    void *arg, char **cause)
{
	struct fmn_history_row r;
	sqlite3_stmt *st;
	int step, found = 0;

	st = fmn_store_prepare(db, HISTORY_COLUMNS " FROM messages m WHERE m.msg_id = ?",
	    cause);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, msg_id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		history_row(st, &r);
		fn(arg, &r);
		found = 1;
	} else if (step != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
		found = -1;
	}
	sqlite3_finalize(st);
	return found;
}

double
fmn_history_duration(const char *s)
{
	static const struct {
		char	 unit;
		double	 seconds;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 },
	};
	char *end;
	double v;
	size_t i;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' ||
	    *s == ' ')
		return -1;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -1;
	if (*end == '\0')
		return v;
	for (i = 0; i < FMN_NELEM(units); i++)
		if (*end == units[i].unit && end[1] == '\0')
			return v * units[i].seconds;
	return -1;
}
