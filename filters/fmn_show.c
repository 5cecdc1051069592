/*
 * Reading one user's configuration out of the database as JSON: the
 * same shape `fmnctl user show --json` prints (locally, or through the
 * API of fmnd) and `fmnctl export` writes.
 */
#include "fmn_show.h"

#include <stdlib.h>

#include "fmn_rule.h"
#include "fmn_store.h"
#include "fmn_util.h"

static json_t *
col_json_int_or_null(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? s : "";
}

struct fmn_show {
	sqlite3_stmt	*user;
	sqlite3_stmt	*dests;
	sqlite3_stmt	*prefs;
	sqlite3_stmt	*filters;
	sqlite3_stmt	*rules;
};

struct fmn_show *
fmn_show_new(sqlite3 *db, char **cause)
{
	struct fmn_show *s = xcalloc(1, sizeof(*s));

	if ((s->user = fmn_store_prepare(db, "SELECT name FROM users WHERE "
	    "id = ?", cause)) == NULL ||
	    (s->dests = fmn_store_prepare(db, "SELECT context, address, "
	    "confirmed, expires, failing, last_error FROM destinations WHERE "
	    "user_id = ? ORDER BY context, address", cause)) == NULL ||
	    (s->prefs = fmn_store_prepare(db, "SELECT id, context, enabled, "
	    "batch_delta, batch_count, verbose, markup FROM preferences "
	    "WHERE user_id = ? ORDER BY context", cause)) == NULL ||
	    (s->filters = fmn_store_prepare(db, "SELECT id, name, active, "
	    "oneshot, broken, broken_since FROM filters WHERE "
	    "preference_id = ? ORDER BY position, id", cause)) == NULL ||
	    (s->rules = fmn_store_prepare(db, "SELECT kind, argument, negated "
	    "FROM rules WHERE filter_id = ? ORDER BY position, id",
	    cause)) == NULL)
		fmn_show_free(&s);
	return s;
}

void
fmn_show_free(struct fmn_show **sp)
{
	struct fmn_show *s = *sp;

	if (s == NULL)
		return;
	sqlite3_finalize(s->user);
	sqlite3_finalize(s->dests);
	sqlite3_finalize(s->prefs);
	sqlite3_finalize(s->filters);
	sqlite3_finalize(s->rules);
	free(s);
	*sp = NULL;
}

json_t *
fmn_show_rules(struct fmn_show *s, long long filter_id)
{
	sqlite3_stmt *st = s->rules;
	json_t *rules = json_array();

	sqlite3_bind_int64(st, 1, filter_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int kind = fmn_rule_kind_lookup(col_text(st, 0));
		char *tok;

		if (kind < 0)
			tok = xasprintf("%s%s:%s",
			    sqlite3_column_int(st, 2) ? "!" : "",
			    col_text(st, 0), col_text(st, 1));
		else
			tok = fmn_rule_format(kind, sqlite3_column_int(st, 2),
			    col_text(st, 1));
		json_array_append_new(rules, json_string(tok));
		free(tok);
	}
	sqlite3_reset(st);
	return rules;
}

json_t *
fmn_show_broken(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	return json_pack("{s:s, s:f}", "reason", col_text(st, col),
	    "since", sqlite3_column_double(st, col + 1));
}

static json_t *
show_filters(struct fmn_show *s, long long pref_id, int state)
{
	sqlite3_stmt *st = s->filters;
	json_t *arr = json_array();

	sqlite3_bind_int64(st, 1, pref_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *f = json_pack("{s:s, s:b, s:o}",
		    "name", col_text(st, 1),
		    "active", sqlite3_column_int(st, 2),
		    "rules", fmn_show_rules(s, sqlite3_column_int64(st, 0)));

		if (sqlite3_column_int(st, 3))
			json_object_set_new(f, "oneshot", json_true());
		if (state && sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(f, "broken", fmn_show_broken(st, 4));
		json_array_append_new(arr, f);
	}
	sqlite3_reset(st);
	return arr;
}

json_t *
fmn_show_user(struct fmn_show *s, long long uid, int state)
{
	sqlite3_stmt *st;
	json_t *u, *dests = json_array(), *prefs = json_array();

	st = s->user;
	sqlite3_bind_int64(st, 1, uid);
	u = json_pack("{s:s}", "name", sqlite3_step(st) == SQLITE_ROW ?
	    col_text(st, 0) : "");
	sqlite3_reset(st);

	st = s->dests;
	sqlite3_bind_int64(st, 1, uid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *d = json_pack("{s:s, s:s, s:b}",
		    "context", col_text(st, 0), "address", col_text(st, 1),
		    "confirmed", sqlite3_column_int(st, 2));

		if (state && !sqlite3_column_int(st, 2) &&
		    sqlite3_column_type(st, 3) != SQLITE_NULL)
			json_object_set_new(d, "expires",
			    json_real(sqlite3_column_double(st, 3)));
		if (state && sqlite3_column_int(st, 4)) {
			json_object_set_new(d, "failing", json_true());
			json_object_set_new(d, "last_error",
			    json_string(col_text(st, 5)));
		}
		json_array_append_new(dests, d);
	}
	sqlite3_reset(st);

	st = s->prefs;
	sqlite3_bind_int64(st, 1, uid);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(prefs, json_pack(
		    "{s:s, s:b, s:o, s:o, s:b, s:b, s:o}",
		    "context", col_text(st, 1),
		    "enabled", sqlite3_column_int(st, 2),
		    "batch_delta", col_json_int_or_null(st, 3),
		    "batch_count", col_json_int_or_null(st, 4),
		    "verbose", sqlite3_column_int(st, 5),
		    "markup", sqlite3_column_int(st, 6),
		    "filters", show_filters(s, sqlite3_column_int64(st, 0),
		    state)));
	sqlite3_reset(st);
	json_object_set_new(u, "destinations", dests);
	json_object_set_new(u, "preferences", prefs);
	return u;
}
