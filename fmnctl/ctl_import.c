/*
 * fmnctl import FILE: the whole configuration (DESIGN.md), users with
 * their destinations, preferences and filters, owners, groups and
 * aliases, in one transaction: users it names are created or replaced,
 * others are left alone; any error rolls back the whole of it.
 *
 * The document is read as it streams (100,000 users make a document of
 * 400 MB, which jansson would hold at several times that): its top
 * level by hand, each user, and each of the other members, parsed with
 * jansson on its own, checked and written before the next is read.
 * Triggers are off while it writes, so that each rule does not add its
 * own row to the changes table: one row per user replaced or created
 * tells a running daemon what to recompile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_engine.h"
#include "fmn_hmap.h"
#include "fmn_rule.h"
#include "fmn_store.h"
#include "fmn_valid.h"

/* Validation. */

/* Tokens already parsed: users share most rules, parse each once. */
struct token_cache {
	struct fmn_hmap	map;	/* token -> struct fmn_rule_spec */
};

static void
spec_free(void *p)
{
	fmn_rule_spec_clear(p);
	free(p);
}

static const struct fmn_rule_spec *
token_parse(struct token_cache *tc, const char *tok, char **cause)
{
	struct fmn_rule_spec *spec = fmn_hmap_get(&tc->map, tok);

	if (spec != NULL)
		return spec;
	spec = xcalloc(1, sizeof(*spec));
	if (fmn_rule_parse(tok, spec, cause) != 0) {
		free(spec);
		return NULL;
	}
	*fmn_hmap_put(&tc->map, tok) = spec;
	return spec;
}

static int
opt_bool(json_t *o, const char *key, int dflt, int *out, const char *where,
    char **cause)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v)) {
		fmn_set_cause(cause, "%s: \"%s\" must be true or false", where, key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* A batch threshold: null, or a whole number that pref set takes. */
static int
opt_batch(json_t *o, enum fmn_ops_batch which, const char *where,
    char **cause)
{
	const char *key = fmn_ops_batch_field(which);
	json_t *v = json_object_get(o, key);
	char *why = NULL;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v)) {
		fmn_set_cause(cause, "%s: \"%s\" must be null or a whole "
		    "number", where, key);
		return -1;
	}
	if (fmn_ops_check_batch(which, json_integer_value(v), &why) != 0) {
		fmn_set_cause(cause, "%s: \"%s\" %s", where, key, why);
		free(why);
		return -1;
	}
	return 0;
}

static int
context_ok(const char *c)
{
	return c != NULL && (strcmp(c, "email") == 0 || strcmp(c, "irc") == 0);
}

/* A user, alias or account name, as fmnctl user add and alias add take
 * it: non-empty, at most 255 bytes, no spaces or control characters. */
static int
name_ok(const char *s)
{
	const unsigned char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 255)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

static int
check_user(json_t *u, size_t ui, struct token_cache *tc, struct fmn_hmap *seen,
    char **cause)
{
	const char *name = json_string_value(json_object_get(u, "name"));
	json_t *arr, *d, *p, *fl, *f, *r;
	char where[160], *why = NULL;
	size_t i, j, k;
	int b, pctx[2] = { 0, 0 };

	if (!json_is_object(u) || !name_ok(name)) {
		fmn_set_cause(cause, "users[%zu]: \"name\" must be a non-empty "
		    "name without spaces or control characters", ui);
		return -1;
	}
	if (fmn_hmap_get(seen, name) != NULL) {
		fmn_set_cause(cause, "user %s appears twice", name);
		return -1;
	}
	*fmn_hmap_put(seen, name) = (void *)1;
	arr = json_object_get(u, "destinations");
	if (arr != NULL && !json_is_array(arr)) {
		fmn_set_cause(cause, "user %s: \"destinations\" must be a list",
		    name);
		return -1;
	}
	json_array_foreach(arr, i, d) {
		const char *c = json_string_value(json_object_get(d, "context"));
		const char *a = json_string_value(json_object_get(d, "address"));

		snprintf(where, sizeof(where), "user %s, destination %zu", name,
		    i + 1);
		if (!context_ok(c)) {
			fmn_set_cause(cause, "%s: context must be email or irc",
			    where);
			return -1;
		}
		if (strcmp(c, "email") == 0 && !fmn_valid_email(a, &why)) {
			fmn_set_cause(cause, "%s: \"%s\" is not an e-mail "
			    "address fmn can deliver to: %s", where, a ? a : "",
			    why);
			free(why);
			return -1;
		}
		if (strcmp(c, "irc") == 0 && !fmn_valid_nick(a)) {
			fmn_set_cause(cause, "%s: \"%s\" is not an IRC nick",
			    where, a ? a : "");
			return -1;
		}
		if (opt_bool(d, "confirmed", 0, &b, where, cause) != 0)
			return -1;
	}
	arr = json_object_get(u, "preferences");
	if (arr != NULL && !json_is_array(arr)) {
		fmn_set_cause(cause, "user %s: \"preferences\" must be a list",
		    name);
		return -1;
	}
	json_array_foreach(arr, i, p) {
		const char *c = json_string_value(json_object_get(p, "context"));
		struct fmn_hmap fnames = { 0 };

		snprintf(where, sizeof(where), "user %s, preference %zu", name,
		    i + 1);
		if (!context_ok(c)) {
			fmn_set_cause(cause, "%s: context must be email or irc",
			    where);
			return -1;
		}
		if (pctx[strcmp(c, "irc") == 0]++) {
			fmn_set_cause(cause, "%s: a second %s preference", where, c);
			return -1;
		}
		if (opt_bool(p, "enabled", 1, &b, where, cause) != 0 ||
		    opt_bool(p, "verbose", 1, &b, where, cause) != 0 ||
		    opt_bool(p, "markup", 0, &b, where, cause) != 0 ||
		    opt_batch(p, FMN_OPS_BATCH_DELTA, where, cause) != 0 ||
		    opt_batch(p, FMN_OPS_BATCH_COUNT, where, cause) != 0)
			return -1;
		fl = json_object_get(p, "filters");
		if (fl != NULL && !json_is_array(fl)) {
			fmn_set_cause(cause, "%s: \"filters\" must be a list", where);
			return -1;
		}
		json_array_foreach(fl, j, f) {
			const char *fname = json_string_value(
			    json_object_get(f, "name"));

			snprintf(where, sizeof(where), "user %s, %s filter %zu",
			    name, c, j + 1);
			if (fname == NULL || *fname == '\0') {
				fmn_set_cause(cause, "%s: \"name\" must be a "
				    "non-empty string", where);
				goto bad;
			}
			if (fmn_hmap_get(&fnames, fname) != NULL) {
				fmn_set_cause(cause, "%s: a second filter named "
				    "\"%s\"", where, fname);
				goto bad;
			}
			*fmn_hmap_put(&fnames, fname) = (void *)1;
			if (opt_bool(f, "active", 1, &b, where, cause) != 0 ||
			    opt_bool(f, "oneshot", 0, &b, where, cause) != 0)
				goto bad;
			if (!json_is_array(json_object_get(f, "rules"))) {
				fmn_set_cause(cause, "%s: \"rules\" must be a "
				    "list", where);
				goto bad;
			}
			json_array_foreach(json_object_get(f, "rules"), k, r) {
				if (!json_is_string(r)) {
					fmn_set_cause(cause, "%s: rule %zu is not "
					    "a string", where, k + 1);
					goto bad;
				}
				if (token_parse(tc, json_string_value(r),
				    &why) == NULL) {
					fmn_set_cause(cause, "%s: %s", where, why);
					free(why);
					goto bad;
				}
			}
		}
		fmn_hmap_clear(&fnames, NULL);
		continue;
bad:
		fmn_hmap_clear(&fnames, NULL);
		return -1;
	}
	return 0;
}

/* The aliases object: names to account names. */
static int
check_aliases(json_t *v, char **cause)
{
	const char *k;
	json_t *a;

	if (!json_is_object(v)) {
		fmn_set_cause(cause, "\"aliases\" must be an object");
		return -1;
	}
	json_object_foreach(v, k, a) {
		const char *acct = json_string_value(a);

		if (!name_ok(k) || !name_ok(acct)) {
			fmn_set_cause(cause, "alias \"%s\": alias and account "
			    "must be names without spaces or control "
			    "characters", k);
			return -1;
		}
	}
	return 0;
}

/* Writing. */

enum {
	ST_OLD_USER, ST_DEL_DESTS, ST_DEL_PREFS, ST_ADD_USER, ST_ADD_DEST,
	ST_ADD_PREF, ST_ADD_FILTER, ST_ADD_RULE, ST_ADD_ALIAS, ST_CHANGE,
	ST__COUNT
};

/*
 * A user the document names is replaced by emptying the record, not by
 * removing it: what is not configuration (the API's tokens, when it was
 * made, the notifications it had) stays with the person.
 */
static const char *const import_sql[ST__COUNT] = {
	[ST_OLD_USER] = "SELECT id FROM users WHERE name = ?",
	[ST_DEL_DESTS] = "DELETE FROM destinations WHERE user_id = ?",
	/* Its filters and rules go with them. */
	[ST_DEL_PREFS] = "DELETE FROM preferences WHERE user_id = ?",
	[ST_ADD_USER] = "INSERT INTO users (name, created) VALUES (?, ?)",
	[ST_ADD_DEST] = "INSERT INTO destinations (user_id, context, address, "
	    "confirmed, secret, expires, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
	[ST_ADD_PREF] = "INSERT INTO preferences (user_id, context, enabled, "
	    "batch_delta, batch_count, verbose, markup) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)",
	[ST_ADD_FILTER] = "INSERT INTO filters (preference_id, name, position, "
	    "active, oneshot) VALUES (?, ?, ?, ?, ?)",
	[ST_ADD_RULE] = "INSERT INTO rules (filter_id, position, kind, "
	    "argument, negated) VALUES (?, ?, ?, ?, ?)",
	[ST_ADD_ALIAS] = "INSERT OR REPLACE INTO aliases (alias, account) "
	    "VALUES (?, ?)",
	/* What the triggers would have said, once per user. */
	[ST_CHANGE] = "INSERT INTO changes (user_id, what) VALUES (?, ?)",
};

static int
step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
bind_opt_int(sqlite3_stmt *st, int i, json_t *v)
{
	if (json_is_integer(v))
		sqlite3_bind_int64(st, i, json_integer_value(v));
	else
		sqlite3_bind_null(st, i);
}

static int
jbool(json_t *o, const char *key, int dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static void
make_secret(char out[33])
{
	unsigned char b[16];
	FILE *f = fopen("/dev/urandom", "r");
	size_t i;

	if (f == NULL || fread(b, 1, sizeof(b), f) != sizeof(b)) {
		for (i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)rand();
	}
	if (f != NULL)
		fclose(f);
	for (i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* A row of changes: uid (or none, when < 0) changed. */
static int
change(sqlite3_stmt **st, long long uid, const char *what)
{
	if (uid >= 0)
		sqlite3_bind_int64(st[ST_CHANGE], 1, uid);
	else
		sqlite3_bind_null(st[ST_CHANGE], 1);
	sqlite3_bind_text(st[ST_CHANGE], 2, what, -1, SQLITE_STATIC);
	return step(st[ST_CHANGE]);
}

static int
store_user(sqlite3 *db, sqlite3_stmt **st, json_t *u, struct token_cache *tc,
    double now)
{
	const char *name = json_string_value(json_object_get(u, "name"));
	json_t *d, *p, *f, *r;
	long long uid, pid, fid;
	size_t i, j, k;
	char secret[33];
	int rc;

	sqlite3_bind_text(st[ST_OLD_USER], 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st[ST_OLD_USER])) == SQLITE_ROW) {
		uid = sqlite3_column_int64(st[ST_OLD_USER], 0);
		sqlite3_reset(st[ST_OLD_USER]);
		sqlite3_bind_int64(st[ST_DEL_DESTS], 1, uid);
		sqlite3_bind_int64(st[ST_DEL_PREFS], 1, uid);
		if (step(st[ST_DEL_DESTS]) != 0 || step(st[ST_DEL_PREFS]) != 0)
			return -1;
	} else {
		sqlite3_reset(st[ST_OLD_USER]);
		if (rc != SQLITE_DONE)
			return -1;
		sqlite3_bind_text(st[ST_ADD_USER], 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_double(st[ST_ADD_USER], 2, now);
		if (step(st[ST_ADD_USER]) != 0)
			return -1;
		uid = sqlite3_last_insert_rowid(db);
	}
	if (change(st, uid, "user") != 0)
		return -1;
	json_array_foreach(json_object_get(u, "destinations"), i, d) {
		int conf = jbool(d, "confirmed", 0);

		sqlite3_bind_int64(st[ST_ADD_DEST], 1, uid);
		sqlite3_bind_text(st[ST_ADD_DEST], 2, json_string_value(
		    json_object_get(d, "context")), -1, SQLITE_STATIC);
		sqlite3_bind_text(st[ST_ADD_DEST], 3, json_string_value(
		    json_object_get(d, "address")), -1, SQLITE_STATIC);
		sqlite3_bind_int(st[ST_ADD_DEST], 4, conf);
		if (conf) {
			sqlite3_bind_null(st[ST_ADD_DEST], 5);
			sqlite3_bind_null(st[ST_ADD_DEST], 6);
		} else {
			/* Pending: it must be confirmed like any new one. */
			make_secret(secret);
			sqlite3_bind_text(st[ST_ADD_DEST], 5, secret, -1,
			    SQLITE_TRANSIENT);
			sqlite3_bind_double(st[ST_ADD_DEST], 6, now + 86400);
		}
		sqlite3_bind_double(st[ST_ADD_DEST], 7, now);
		if (step(st[ST_ADD_DEST]) != 0)
			return -1;
	}
	json_array_foreach(json_object_get(u, "preferences"), i, p) {
		sqlite3_bind_int64(st[ST_ADD_PREF], 1, uid);
		sqlite3_bind_text(st[ST_ADD_PREF], 2, json_string_value(
		    json_object_get(p, "context")), -1, SQLITE_STATIC);
		sqlite3_bind_int(st[ST_ADD_PREF], 3, jbool(p, "enabled", 1));
		bind_opt_int(st[ST_ADD_PREF], 4, json_object_get(p, "batch_delta"));
		bind_opt_int(st[ST_ADD_PREF], 5, json_object_get(p, "batch_count"));
		sqlite3_bind_int(st[ST_ADD_PREF], 6, jbool(p, "verbose", 1));
		sqlite3_bind_int(st[ST_ADD_PREF], 7, jbool(p, "markup", 0));
		if (step(st[ST_ADD_PREF]) != 0)
			return -1;
		pid = sqlite3_last_insert_rowid(db);
		json_array_foreach(json_object_get(p, "filters"), j, f) {
			sqlite3_bind_int64(st[ST_ADD_FILTER], 1, pid);
			sqlite3_bind_text(st[ST_ADD_FILTER], 2, json_string_value(
			    json_object_get(f, "name")), -1, SQLITE_STATIC);
			/* Positions start at 1, as filter add and move use. */
			sqlite3_bind_int(st[ST_ADD_FILTER], 3, (int)j + 1);
			sqlite3_bind_int(st[ST_ADD_FILTER], 4,
			    jbool(f, "active", 1));
			sqlite3_bind_int(st[ST_ADD_FILTER], 5,
			    jbool(f, "oneshot", 0));
			if (step(st[ST_ADD_FILTER]) != 0)
				return -1;
			fid = sqlite3_last_insert_rowid(db);
			json_array_foreach(json_object_get(f, "rules"), k, r) {
				const struct fmn_rule_spec *s = token_parse(tc,
				    json_string_value(r), NULL);

				if (s == NULL)
					return -1;
				sqlite3_bind_int64(st[ST_ADD_RULE], 1, fid);
				sqlite3_bind_int(st[ST_ADD_RULE], 2, (int)k);
				sqlite3_bind_text(st[ST_ADD_RULE], 3,
				    fmn_rule_kind_name(s->kind), -1,
				    SQLITE_STATIC);
				sqlite3_bind_text(st[ST_ADD_RULE], 4,
				    s->argument, -1, SQLITE_STATIC);
				sqlite3_bind_int(st[ST_ADD_RULE], 5, s->negated);
				if (step(st[ST_ADD_RULE]) != 0)
					return -1;
			}
		}
	}
	return 0;
}

/*
 * Reading the document as it streams: its top level (an object, its
 * keys, the list of users) by hand, and each value whole, as text, for
 * jansson. Error positions are the document's lines.
 */
struct jreader {
	FILE		*f;
	char		 buf[65536];
	size_t		 pos, len;
	long		 line;		/* of the next byte */
	struct fmn_buf	 text;		/* the value being read */
};

static int
jr_peek(struct jreader *r)
{
	if (r->pos == r->len) {
		r->len = fread(r->buf, 1, sizeof(r->buf), r->f);
		r->pos = 0;
		if (r->len == 0)
			return EOF;
	}
	return (unsigned char)r->buf[r->pos];
}

static int
jr_get(struct jreader *r)
{
	int c = jr_peek(r);

	if (c != EOF) {
		r->pos++;
		if (c == '\n')
			r->line++;
	}
	return c;
}

/* The next byte that is not white space (not taken). */
static int
jr_next(struct jreader *r)
{
	int c;

	while ((c = jr_peek(r)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		jr_get(r);
	return c;
}

/*
 * The next value, whole, parsed by jansson (as fmnctl reads documents:
 * duplicate keys refused). NULL and *cause at an error.
 */
static json_t *
jr_value(struct jreader *r, char **cause)
{
	json_error_t jerr;
	json_t *v;
	long line;
	int c, depth = 0, str = 0, esc = 0;

	fmn_buf_reset(&r->text);
	jr_next(r);
	line = r->line;
	while ((c = jr_peek(r)) != EOF) {
		if (str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				str = 0;
		} else if (c == '"')
			str = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (depth == 0)
				break;	/* a scalar's end */
			depth--;
		} else if (depth == 0 && (c == ',' || c == ':' || c == ' ' ||
		    c == '\t' || c == '\n' || c == '\r'))
			break;
		fmn_buf_addc(&r->text, (char)jr_get(r));
		if (depth == 0 && !str && (c == '}' || c == ']' ||
		    (c == '"' && r->text.len > 1)))
			break;
	}
	v = json_loadb(r->text.data ? r->text.data : "", r->text.len,
	    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL)
		fmn_set_cause(cause, "line %ld: %s", line + jerr.line - 1,
		    c == EOF && r->text.len > 0 ? "premature end of input" :
		    jerr.text);
	return v;
}

/* Take the byte c, after white space; else a syntax error. */
static int
jr_expect(struct jreader *r, int c, char **cause)
{
	int got = jr_next(r);

	if (got == c) {
		jr_get(r);
		return 0;
	}
	if (got == EOF)
		fmn_set_cause(cause, "line %ld: premature end of input",
		    r->line);
	else
		fmn_set_cause(cause, "line %ld: '%c' expected near '%c'",
		    r->line, c, got);
	return -1;
}

/* Everything an import keeps while it reads. */
struct import {
	sqlite3			*db;
	sqlite3_stmt		*st[ST__COUNT];
	struct token_cache	 tc;
	struct fmn_hmap		 seen;	/* user names */
	json_t			*rest;	/* owners, groups, aliases */
	size_t			 nusers;
	double			 now;
};

/* The list of users: each checked and written as it is read. */
static int
import_users(struct import *im, struct jreader *r, char **cause)
{
	json_t *u;
	char *why = NULL;
	int c;

	if (jr_next(r) != '[') {
		/* Whatever it is, read it: a syntax error says more. */
		if ((u = jr_value(r, cause)) == NULL)
			return -1;
		json_decref(u);
		fmn_set_cause(cause, "\"users\" must be a list");
		return -1;
	}
	jr_get(r);
	if (jr_next(r) == ']') {
		jr_get(r);
		return 0;
	}
	for (;;) {
		if ((u = jr_value(r, cause)) == NULL)
			return -1;
		if (check_user(u, im->nusers, &im->tc, &im->seen, cause) != 0) {
			json_decref(u);
			return -1;
		}
		if (store_user(im->db, im->st, u, &im->tc, im->now) != 0) {
			why = xstrdup(sqlite3_errmsg(im->db));
			fmn_set_cause(cause, "user %s: %s", json_string_value(
			    json_object_get(u, "name")), why);
			free(why);
			json_decref(u);
			return -1;
		}
		json_decref(u);
		im->nusers++;
		if ((c = jr_next(r)) == ',') {
			jr_get(r);
			continue;
		}
		return jr_expect(r, ']', cause);
	}
}

/* The document: users as they come; owners, groups, aliases kept. */
static int
import_doc(struct import *im, struct jreader *r, char **cause)
{
	json_t *key, *v;
	const char *k;
	int c;

	if (jr_next(r) != '{') {
		fmn_set_cause(cause, "expected a JSON object");
		return -1;
	}
	jr_get(r);
	if (jr_next(r) == '}')
		jr_get(r);
	else for (;;) {
		if (jr_next(r) != '"') {
			if (jr_expect(r, '"', cause) != 0)
				return -1;
		}
		if ((key = jr_value(r, cause)) == NULL)
			return -1;
		k = json_string_value(key);
		if (strcmp(k, "users") && strcmp(k, "owners") &&
		    strcmp(k, "groups") && strcmp(k, "aliases")) {
			fmn_set_cause(cause, "unknown key \"%s\"", k);
			json_decref(key);
			return -1;
		}
		if (json_object_get(im->rest, k) != NULL) {
			fmn_set_cause(cause, "line %ld: duplicate object key "
			    "\"%s\"", r->line, k);
			json_decref(key);
			return -1;
		}
		if (jr_expect(r, ':', cause) != 0) {
			json_decref(key);
			return -1;
		}
		if (strcmp(k, "users") == 0) {
			json_object_set_new(im->rest, k, json_true());
			c = import_users(im, r, cause);
		} else if ((v = jr_value(r, cause)) != NULL) {
			json_object_set_new(im->rest, k, v);
			c = 0;
		} else
			c = -1;
		json_decref(key);
		if (c != 0)
			return -1;
		if (jr_next(r) == ',') {
			jr_get(r);
			continue;
		}
		if (jr_expect(r, '}', cause) != 0)
			return -1;
		break;
	}
	if ((c = jr_next(r)) != EOF) {
		fmn_set_cause(cause, "line %ld: end of file expected near '%c'",
		    r->line, c);
		return -1;
	}
	return 0;
}

/* The owners, groups and aliases of the document, checked and written. */
static int
import_rest(struct import *im, char **cause)
{
	json_t *v, *a;
	const char *k;

	if ((v = json_object_get(im->rest, "owners")) != NULL &&
	    (ctl_owners_check(v, cause) != 0 ||
	    ctl_owners_store(im->db, v, cause) != 0))
		return -1;
	if ((v = json_object_get(im->rest, "groups")) != NULL &&
	    (ctl_groups_check(v, cause) != 0 ||
	    ctl_groups_store(im->db, v, cause) != 0))
		return -1;
	if ((v = json_object_get(im->rest, "aliases")) == NULL)
		return 0;
	if (check_aliases(v, cause) != 0)
		return -1;
	json_object_foreach(v, k, a) {
		sqlite3_bind_text(im->st[ST_ADD_ALIAS], 1, k, -1, SQLITE_STATIC);
		sqlite3_bind_text(im->st[ST_ADD_ALIAS], 2, json_string_value(a),
		    -1, SQLITE_STATIC);
		if (step(im->st[ST_ADD_ALIAS]) != 0) {
			fmn_set_cause(cause, "alias %s: %s", k,
			    sqlite3_errmsg(im->db));
			return -1;
		}
	}
	if (json_object_size(v) > 0 && change(im->st, -1, "aliases") != 0) {
		fmn_set_cause(cause, "%s", sqlite3_errmsg(im->db));
		return -1;
	}
	return 0;
}

/*
 * The page cache while importing: a big import rewrites the same pages
 * over and over with SQLite's default of 2 MB. Given back afterwards.
 */
#define IMPORT_CACHE_KIB	262144

int
ctl_import(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct import im;
	struct jreader *r = NULL;
	FILE *in = NULL;
	char *cause = NULL, pragma[64];
	size_t i;
	int npos, ret = CTL_EDATA, began = 0, triggers = 1;
	long long cache = -2000;

	if ((npos = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (npos != 1)
		return ctl_usage(ctl, "expected FILE");
	memset(&im, 0, sizeof(im));
	im.now = (double)time(NULL);
	im.rest = json_object();
	if ((in = ctl_open_input(ctl, argv[0])) == NULL)
		goto out;
	im.db = ctl_db(ctl);
	for (i = 0; i < ST__COUNT; i++)
		if ((im.st[i] = fmn_store_prepare(im.db, import_sql[i],
		    &cause)) == NULL) {
			ctl_error(ctl, "%s", cause);
			goto out;
		}
	if (fmn_store_exec(im.db, "BEGIN IMMEDIATE", &cause) != 0) {
		ctl_error(ctl, "%s", cause);
		goto out;
	}
	began = 1;
	{
		sqlite3_stmt *q = fmn_store_prepare(im.db, "PRAGMA cache_size",
		    NULL);

		if (q != NULL && sqlite3_step(q) == SQLITE_ROW)
			cache = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA cache_size = -%d",
	    IMPORT_CACHE_KIB);
	fmn_store_exec(im.db, pragma, NULL);
	sqlite3_db_config(im.db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, &triggers);
	r = xcalloc(1, sizeof(*r));
	r->f = in;
	r->line = 1;
	if (import_doc(&im, r, &cause) != 0 || import_rest(&im, &cause) != 0) {
		ctl_error(ctl, "%s: %s; nothing imported", argv[0], cause);
		goto out;
	}
	if (ferror(in)) {
		ctl_error(ctl, "%s: reading failed; nothing imported", argv[0]);
		goto out;
	}
	if (fmn_store_exec(im.db, "COMMIT", &cause) != 0) {
		ctl_error(ctl, "%s; nothing imported", cause);
		goto out;
	}
	began = 0;
	if (!ctl->json)
		printf("imported %zu user(s)\n", im.nusers);
	ret = CTL_OK;
out:
	if (began)
		fmn_store_exec(im.db, "ROLLBACK", NULL);
	if (im.db != NULL) {
		sqlite3_db_config(im.db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1,
		    &triggers);
		snprintf(pragma, sizeof(pragma), "PRAGMA cache_size = %lld",
		    cache);
		fmn_store_exec(im.db, pragma, NULL);
	}
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(im.st[i]);
	fmn_hmap_clear(&im.tc.map, spec_free);
	fmn_hmap_clear(&im.seen, NULL);
	json_decref(im.rest);
	if (r != NULL)
		fmn_buf_free(&r->text);
	free(r);
	if (in != NULL && in != stdin)
		fclose(in);
	free(cause);
	return ret;
}
