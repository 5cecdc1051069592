/*
 * datagrepper's read API: GET /raw and GET /id, with its parameters and
 * the shapes of its answers (fedora-infra/datagrepper, datagrepper/app.py
 * and util.py; a real answer is tests/data/datagrepper-raw.json). A
 * page's envelopes are written as they were received, not re-encoded:
 * they were checked as JSON objects before they were stored. What
 * datagrepper would take and this server cannot honour (JSONP, meta,
 * agent) is refused with a 400 that names the parameter, as is any
 * parameter it does not know, rather than answered wrongly.
 */
#include "fmn_http_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "fmn_history.h"

#define RAW_ROWS_DEFAULT	25	/* datagrepper's */

/* The list parameters: name, kind, negated, name in "arguments". */
static const struct {
	const char		*param;
	enum fmn_history_kind	 kind;
	int			 negated;
	const char		*argument;
} raw_lists[] = {
	{ "topic", FMN_HISTORY_TOPIC, 0, "topics" },
	{ "category", FMN_HISTORY_CATEGORY, 0, "categories" },
	{ "user", FMN_HISTORY_USER, 0, "users" },
	{ "package", FMN_HISTORY_PACKAGE, 0, "packages" },
	{ "contains", FMN_HISTORY_CONTAINS, 0, "contains" },
	{ "not_topic", FMN_HISTORY_TOPIC, 1, "not_topics" },
	{ "not_category", FMN_HISTORY_CATEGORY, 1, "not_categories" },
	{ "not_user", FMN_HISTORY_USER, 1, "not_users" },
	{ "not_package", FMN_HISTORY_PACKAGE, 1, "not_packages" },
	{ "not_contains", FMN_HISTORY_CONTAINS, 1, "not_contains" },
};

/* datagrepper's parameters for its HTML pages: no meaning in JSON. */
static const char *const raw_ignored[] = { "size", "chrome", "grouped" };
/* datagrepper's parameters this server does not implement. */
static const char *const raw_refused[] = {
	"callback", "meta", "agent", "not_agent",
};

static int
raw_in(const char *key, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(key, v[i]) == 0)
			return 1;
	return 0;
}

/* seconds since the epoch; 0 and *t, or -1. */
static int
raw_number(const char *s, double *t)
{
	char *end;

	errno = 0;
	*t = strtod(s, &end);
	return *s != '\0' && *end == '\0' && errno == 0 && isfinite(*t) ?
	    0 : -1;
}

int
http_parse_time(const char *s, double *t)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, n = 0, tzh = 0, tzm = 0, sign = 0;
	double sec = 0;
	const char *p;
	char *end;
	time_t base;

	if (raw_number(s, t) == 0)
		return 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	p = s + n;
	if (*p == 'T' || *p == ' ') {
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
			return -1;
		p += 1 + n;
		if (*p == ':') {
			if (p[1] < '0' || p[1] > '9')
				return -1;
			errno = 0;
			sec = strtod(p + 1, &end);
			if (errno != 0 || !(sec >= 0 && sec < 61))
				return -1;
			p = end;
		}
	}
	if (*p == 'Z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d%n", &tzh, &tzm, &n) == 2 && n == 5)
			p += 1 + n;
		else if (sscanf(p + 1, "%2d%2d%n", &tzh, &tzm, &n) == 2 &&
		    n == 4)
			p += 1 + n;
		else
			return -1;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || h < 0 || mi < 0 || tzh > 23 || tzm > 59 || y < 1)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	base = timegm(&tm);
	*t = (double)base + sec - sign * (tzh * 3600.0 + tzm * 60.0);
	return 0;
}

/* A whole number in [min, max]; 0, or -1. */
static int
raw_long(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && errno == 0 && *v >= min &&
	    *v <= max ? 0 : -1;
}

struct raw_params {
	struct fmn_history_query q;
	const char	*start, *end, *delta;	/* as given */
	double		 t_start, t_end, t_delta;
	int		 has_delta;
};

/*
 * datagrepper's time range (util.assemble_timerange, with its default
 * DEFAULT_QUERY_DELTA of 0): none of the three gives no range; delta
 * alone the last delta seconds; start alone from start until now; end
 * alone everything until end; start and end override delta.
 */
static void
raw_timerange(struct raw_params *p, double now)
{
	struct fmn_history_query *q = &p->q;
	int s = p->start != NULL, e = p->end != NULL, dl = p->has_delta;

	if (!s && !e && !dl)
		return;
	if (!s && !e) {
		p->t_end = now;
		p->t_start = now - p->t_delta;
	} else if (!s && dl)
		p->t_start = p->t_end - p->t_delta;
	else if (!s)
		p->t_start = 0;
	else if (!e && !dl) {
		p->t_end = now;
		p->t_delta = p->t_end - p->t_start;
		p->has_delta = 1;
	} else if (!e)
		p->t_end = p->t_start + p->t_delta;
	else {
		p->t_delta = p->t_end - p->t_start;
		p->has_delta = 1;
	}
	q->has_start = q->has_end = 1;
	q->start = p->t_start;
	q->end = p->t_end;
}

/* Read the parameters into p; -1 after an error answer. */
static int
raw_parse(const struct http_args *args, struct raw_params *p,
    struct http_answer *a, double now)
{
	const char *k, *v;
	size_t i, j;
	long n;

	memset(p, 0, sizeof(*p));
	fmn_history_init(&p->q);
	p->q.rows = RAW_ROWS_DEFAULT;
	for (i = 0; i < args->n; i++) {
		k = args->v[i].key;
		v = args->v[i].value;
		for (j = 0; j < FMN_NELEM(raw_lists); j++)
			if (strcmp(k, raw_lists[j].param) == 0)
				break;
		if (j < FMN_NELEM(raw_lists)) {
			if (*v == '\0') {
				http_error(a, MHD_HTTP_BAD_REQUEST, k,
				    "%s must not be empty", k);
				return -1;
			}
			if (fmn_history_add(&p->q, raw_lists[j].negated,
			    raw_lists[j].kind, v) != 0) {
				http_error(a, MHD_HTTP_BAD_REQUEST, k,
				    "%s: at most %d values", k,
				    FMN_HISTORY_MAX_VALUES);
				return -1;
			}
			continue;
		}
		/* Like Flask's args.get, the first of a repeated one. */
		if (strcmp(k, "start") == 0 || strcmp(k, "end") == 0) {
			const char **given = *k == 's' ? &p->start : &p->end;

			if (*given != NULL)
				continue;
			*given = v;
			if (http_parse_time(v, *k == 's' ? &p->t_start :
			    &p->t_end) != 0) {
				http_error(a, MHD_HTTP_BAD_REQUEST, k, "%s must "
				    "be seconds since the epoch or an ISO 8601 "
				    "date and time", k);
				return -1;
			}
		} else if (strcmp(k, "delta") == 0) {
			if (p->delta != NULL)
				continue;
			p->delta = v;
			if (raw_number(v, &p->t_delta) != 0 ||
			    p->t_delta < 0) {
				http_error(a, MHD_HTTP_BAD_REQUEST, k,
				    "delta must be a number of seconds, 0 or "
				    "more");
				return -1;
			}
			p->has_delta = 1;
		} else if (strcmp(k, "page") == 0) {
			if (raw_long(v, 1, 1L << 40, &n) != 0) {
				http_error(a, MHD_HTTP_BAD_REQUEST, k,
				    "page must be > 0");
				return -1;
			}
			p->q.page = n;
		} else if (strcmp(k, "rows_per_page") == 0) {
			if (raw_long(v, 1, FMN_HISTORY_MAX_ROWS, &n) != 0) {
				http_error(a, MHD_HTTP_BAD_REQUEST, k,
				    "rows_per_page must be <= %d (and > 0)",
				    FMN_HISTORY_MAX_ROWS);
				return -1;
			}
			p->q.rows = n;
		} else if (strcmp(k, "order") == 0) {
			if (strcmp(v, "asc") != 0 && strcmp(v, "desc") != 0) {
				http_error(a, MHD_HTTP_BAD_REQUEST, k,
				    "order must be either 'desc' or 'asc'");
				return -1;
			}
			p->q.asc = *v == 'a';
		} else if (raw_in(k, raw_refused, FMN_NELEM(raw_refused))) {
			http_error(a, MHD_HTTP_BAD_REQUEST, k, "%s is not "
			    "supported by this server", k);
			return -1;
		} else if (!raw_in(k, raw_ignored, FMN_NELEM(raw_ignored))) {
			http_error(a, MHD_HTTP_BAD_REQUEST, k, "unknown "
			    "parameter %.100s", k);
			return -1;
		}
	}
	/* As datagrepper: a body search needs a narrower question. */
	if ((p->q.n[0][FMN_HISTORY_CONTAINS] > 0 ||
	    p->q.n[1][FMN_HISTORY_CONTAINS] > 0) &&
	    p->q.n[0][FMN_HISTORY_TOPIC] == 0 &&
	    p->q.n[0][FMN_HISTORY_CATEGORY] == 0) {
		http_error(a, MHD_HTTP_BAD_REQUEST, "contains", "When using "
		    "contains, specify either a topic or a category as well");
		return -1;
	}
	raw_timerange(p, now);
	return 0;
}

/* The "arguments" of the answer, as datagrepper echoes them. */
static json_t *
raw_arguments(const struct raw_params *p)
{
	const struct fmn_history_query *q = &p->q;
	json_t *o = json_object(), *l;
	size_t i, k;

	for (i = 0; i < FMN_NELEM(raw_lists); i++) {
		l = json_array();
		for (k = 0; k < q->n[raw_lists[i].negated][raw_lists[i].kind];
		    k++)
			json_array_append_new(l, json_string(q->v
			    [raw_lists[i].negated][raw_lists[i].kind][k]));
		json_object_set_new(o, raw_lists[i].argument, l);
	}
	json_object_set_new(o, "start", q->has_start ? json_real(q->start) :
	    json_null());
	json_object_set_new(o, "end", q->has_end ? json_real(q->end) :
	    json_null());
	json_object_set_new(o, "delta", p->has_delta ? json_real(p->t_delta) :
	    json_null());
	json_object_set_new(o, "page", json_integer(q->page));
	json_object_set_new(o, "rows_per_page", json_integer(q->rows));
	json_object_set_new(o, "order", json_string(q->asc ? "asc" : "desc"));
	json_object_set_new(o, "grouped", json_false());
	json_object_set_new(o, "meta", json_array());
	return o;
}

struct raw_page {
	struct fmn_buf	*b;
	long		 count;
};

static int
raw_row(void *arg, const struct fmn_history_row *r)
{
	struct raw_page *pg = arg;

	if (pg->count++ > 0)
		fmn_buf_adds(pg->b, ", ");
	fmn_buf_add(pg->b, r->envelope, r->envelope_len);
	return 0;
}

static void
raw_db_error(struct http_answer *a, sqlite3 *db, const char *cause)
{
	if (sqlite3_errcode(db) == SQLITE_INTERRUPT)
		http_error(a, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "the query "
		    "took too long; narrow it (a time range, a topic...)");
	else
		http_error(a, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "%s",
		    cause != NULL ? cause : "database error");
}

void
http_raw(sqlite3 *db, const struct http_args *args, struct http_answer *a,
    double now)
{
	struct raw_params *p = xmalloc(sizeof(*p));
	struct raw_page pg;
	long long total = 0, pages;
	char *cause = NULL, *argtext;
	json_t *argj;

	if (raw_parse(args, p, a, now) != 0)
		goto out;
	fmn_buf_reset(&a->body);
	fmn_buf_adds(&a->body, "{\"raw_messages\": [");
	pg.b = &a->body;
	pg.count = 0;
	if (fmn_history_run(db, &p->q, &total, raw_row, &pg, &cause) != 0) {
		raw_db_error(a, db, cause);
		free(cause);
		goto out;
	}
	pages = (total + p->q.rows - 1) / p->q.rows;
	argj = raw_arguments(p);
	argtext = json_dumps(argj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(argj);
	fmn_buf_printf(&a->body, "], \"count\": %ld, \"pages\": %lld, "
	    "\"total\": %lld, \"arguments\": %s}", pg.count, pages, total,
	    argtext != NULL ? argtext : "{}");
	free(argtext);
	a->status = MHD_HTTP_OK;
out:
	free(p);
}

static int
id_row(void *arg, const struct fmn_history_row *r)
{
	struct fmn_buf *b = arg;

	fmn_buf_add(b, r->envelope, r->envelope_len);
	return 0;
}

void
http_id(sqlite3 *db, const struct http_args *args, struct http_answer *a)
{
	const char *id = NULL;
	char *cause = NULL;
	size_t i;
	int found;

	for (i = 0; i < args->n; i++) {
		if (strcmp(args->v[i].key, "id") == 0 && id == NULL)
			id = args->v[i].value;
		else if (!raw_in(args->v[i].key, raw_ignored,
		    FMN_NELEM(raw_ignored)) && strcmp(args->v[i].key,
		    "is_raw") != 0 && strcmp(args->v[i].key, "id") != 0) {
			http_error(a, MHD_HTTP_BAD_REQUEST, args->v[i].key,
			    "unknown parameter %.100s", args->v[i].key);
			return;
		}
	}
	if (id == NULL || *id == '\0') {
		http_error(a, MHD_HTTP_BAD_REQUEST, "id", "id is required: "
		    "/id?id=MSG_ID");
		return;
	}
	fmn_buf_reset(&a->body);
	found = fmn_history_get(db, id, id_row, &a->body, &cause);
	if (found < 0) {
		raw_db_error(a, db, cause);
		free(cause);
	} else if (found == 0)
		http_error(a, MHD_HTTP_NOT_FOUND, "id", "no message with id "
		    "%.200s", id);
	else
		a->status = MHD_HTTP_OK;
}
