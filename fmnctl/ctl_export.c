/*
 * fmnctl export / import: the whole configuration (users with their
 * destinations, preferences and filters; owners; groups; aliases) as one
 * JSON document of the same shape both ways (DESIGN.md). Import checks
 * the whole document first, then writes it in one transaction with
 * prepared statements reused for every row; users it names are created
 * or replaced, others are left alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_engine.h"
#include "fmn_show.h"
#include "fmn_hmap.h"
#include "fmn_rule.h"
#include "fmn_store.h"
#include "fmn_valid.h"

/* Export. */

static const char *
col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? s : "";
}

int
ctl_export(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *us, *as;
	json_t *doc, *users, *x;
	char *cause = NULL, *tok;
	int ret = CTL_EDATA;

	if (ctl_parse(ctl, argc, argv, NULL, 0) != 0)
		return CTL_EUSAGE;
	ctl_db(ctl);
	us = fmn_store_prepare(ctl->db, "SELECT id FROM users ORDER BY name",
	    &cause);
	as = fmn_store_prepare(ctl->db, "SELECT alias, account FROM aliases "
	    "ORDER BY alias", &cause);
	if (!us || !as) {
		ctl_error(ctl, "%s", cause);
		goto out;
	}
	doc = json_object();
	users = json_array();
	while (sqlite3_step(us) == SQLITE_ROW)
		json_array_append_new(users, fmn_show_user(ctl_shower(ctl),
		    sqlite3_column_int64(us, 0), 0));
	json_object_set_new(doc, "users", users);
	/* Owners and groups, as their own import commands take them. */
	{
		sqlite3_stmt *os = fmn_store_prepare(ctl->db, "SELECT namespace, "
		    "package, owner, is_group FROM owners ORDER BY namespace, "
		    "package, is_group, owner", NULL);
		sqlite3_stmt *gs = fmn_store_prepare(ctl->db, "SELECT grp, "
		    "member FROM group_members ORDER BY grp, member", NULL);
		json_t *owners = json_object(), *groups = json_object(), *ns, *l;

		while (os != NULL && sqlite3_step(os) == SQLITE_ROW) {
			if ((ns = json_object_get(owners, col(os, 0))) == NULL)
				json_object_set_new(owners, col(os, 0),
				    ns = json_object());
			if ((l = json_object_get(ns, col(os, 1))) == NULL)
				json_object_set_new(ns, col(os, 1),
				    l = json_array());
			tok = xasprintf("%s%s", sqlite3_column_int(os, 3) ?
			    "@" : "", col(os, 2));
			json_array_append_new(l, json_string(tok));
			free(tok);
		}
		while (gs != NULL && sqlite3_step(gs) == SQLITE_ROW) {
			if ((l = json_object_get(groups, col(gs, 0))) == NULL)
				json_object_set_new(groups, col(gs, 0),
				    l = json_array());
			json_array_append_new(l, json_string(col(gs, 1)));
		}
		sqlite3_finalize(os);
		sqlite3_finalize(gs);
		json_object_set_new(doc, "owners", owners);
		json_object_set_new(doc, "groups", groups);
	}
	x = json_object();
	while (sqlite3_step(as) == SQLITE_ROW)
		json_object_set_new(x, col(as, 0), json_string(col(as, 1)));
	json_object_set_new(doc, "aliases", x);
	ctl_print_json(doc);
	ret = CTL_OK;
out:
	free(cause);
	sqlite3_finalize(us);
	sqlite3_finalize(as);
	return ret;
}

/* Import: validation. */

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

static int
check_doc(json_t *doc, struct token_cache *tc, char **cause)
{
	struct fmn_hmap seen = { 0 };
	const char *k;
	json_t *users, *u, *v;
	size_t i;
	int ret = -1;

	if (!json_is_object(doc)) {
		fmn_set_cause(cause, "expected a JSON object");
		return -1;
	}
	json_object_foreach(doc, k, v) {
		if (strcmp(k, "users") && strcmp(k, "owners") &&
		    strcmp(k, "groups") && strcmp(k, "aliases")) {
			fmn_set_cause(cause, "unknown key \"%s\"", k);
			return -1;
		}
	}
	users = json_object_get(doc, "users");
	if (users != NULL && !json_is_array(users)) {
		fmn_set_cause(cause, "\"users\" must be a list");
		return -1;
	}
	json_array_foreach(users, i, u)
		if (check_user(u, i, tc, &seen, cause) != 0)
			goto out;
	if ((v = json_object_get(doc, "owners")) != NULL &&
	    ctl_owners_check(v, cause) != 0)
		goto out;
	if ((v = json_object_get(doc, "groups")) != NULL &&
	    ctl_groups_check(v, cause) != 0)
		goto out;
	if ((v = json_object_get(doc, "aliases")) != NULL) {
		json_t *a;

		if (!json_is_object(v)) {
			fmn_set_cause(cause, "\"aliases\" must be an object");
			goto out;
		}
		json_object_foreach(v, k, a) {
			const char *acct = json_string_value(a);

			if (!name_ok(k) || !name_ok(acct)) {
				fmn_set_cause(cause, "alias \"%s\": alias and "
				    "account must be names without spaces or "
				    "control characters", k);
				goto out;
			}
		}
	}
	ret = 0;
out:
	fmn_hmap_clear(&seen, NULL);
	return ret;
}

/* Import: writing. */

enum {
	ST_DEL_DESTS, ST_DEL_PREFS, ST_ADD_USER, ST_USER_ID, ST_ADD_DEST,
	ST_ADD_PREF, ST_ADD_FILTER, ST_ADD_RULE, ST_ADD_ALIAS, ST__COUNT
};

/*
 * A user the document names is replaced by emptying the record, not by
 * removing it: what is not configuration (the API's tokens, when it was
 * made) stays with the person.
 */
static const char *const import_sql[ST__COUNT] = {
	[ST_DEL_DESTS] = "DELETE FROM destinations WHERE user_id IN "
	    "(SELECT id FROM users WHERE name = ?)",
	[ST_DEL_PREFS] = "DELETE FROM preferences WHERE user_id IN "
	    "(SELECT id FROM users WHERE name = ?)",
	[ST_ADD_USER] = "INSERT INTO users (name, created) VALUES (?, ?) "
	    "ON CONFLICT(name) DO NOTHING",
	[ST_USER_ID] = "SELECT id FROM users WHERE name = ?",
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

static int
store_user(sqlite3 *db, sqlite3_stmt **st, json_t *u, struct token_cache *tc,
    double now)
{
	const char *name = json_string_value(json_object_get(u, "name"));
	json_t *d, *p, *f, *r;
	long long uid, pid, fid;
	size_t i, j, k;
	char secret[33];

	sqlite3_bind_text(st[ST_DEL_DESTS], 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[ST_DEL_PREFS], 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[ST_ADD_USER], 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_double(st[ST_ADD_USER], 2, now);
	sqlite3_bind_text(st[ST_USER_ID], 1, name, -1, SQLITE_STATIC);
	if (step(st[ST_DEL_DESTS]) != 0 || step(st[ST_DEL_PREFS]) != 0 ||
	    step(st[ST_ADD_USER]) != 0 ||
	    sqlite3_step(st[ST_USER_ID]) != SQLITE_ROW) {
		sqlite3_reset(st[ST_USER_ID]);
		return -1;
	}
	uid = sqlite3_column_int64(st[ST_USER_ID], 0);
	sqlite3_reset(st[ST_USER_ID]);
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

int
ctl_import(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct token_cache tc = { { 0 } };
	sqlite3_stmt *st[ST__COUNT] = { 0 };
	json_t *doc, *users, *u, *v, *a;
	const char *k;
	char *cause = NULL;
	size_t i, n;
	int npos, ret = CTL_EDATA, began = 0;
	double now = (double)time(NULL);

	if ((npos = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (npos != 1)
		return ctl_usage(ctl, "expected FILE");
	if ((doc = ctl_load_json(ctl, argv[0])) == NULL)
		return CTL_EDATA;
	if (check_doc(doc, &tc, &cause) != 0) {
		ctl_error(ctl, "%s: %s; nothing imported", argv[0], cause);
		goto out;
	}
	ctl_db(ctl);
	for (i = 0; i < ST__COUNT; i++)
		if ((st[i] = fmn_store_prepare(ctl->db, import_sql[i],
		    &cause)) == NULL) {
			ctl_error(ctl, "%s", cause);
			goto out;
		}
	if (fmn_store_exec(ctl->db, "BEGIN IMMEDIATE", &cause) != 0) {
		ctl_error(ctl, "%s", cause);
		goto out;
	}
	began = 1;
	users = json_object_get(doc, "users");
	n = json_array_size(users);
	json_array_foreach(users, i, u) {
		if (store_user(ctl->db, st, u, &tc, now) != 0) {
			ctl_error(ctl, "user %s: %s; nothing imported",
			    json_string_value(json_object_get(u, "name")),
			    sqlite3_errmsg(ctl->db));
			goto out;
		}
	}
	if (((v = json_object_get(doc, "owners")) != NULL &&
	    ctl_owners_store(ctl->db, v, &cause) != 0) ||
	    ((v = json_object_get(doc, "groups")) != NULL &&
	    ctl_groups_store(ctl->db, v, &cause) != 0)) {
		ctl_error(ctl, "%s; nothing imported", cause);
		goto out;
	}
	json_object_foreach(json_object_get(doc, "aliases"), k, a) {
		sqlite3_bind_text(st[ST_ADD_ALIAS], 1, k, -1, SQLITE_STATIC);
		sqlite3_bind_text(st[ST_ADD_ALIAS], 2, json_string_value(a), -1,
		    SQLITE_STATIC);
		if (step(st[ST_ADD_ALIAS]) != 0) {
			ctl_error(ctl, "alias %s: %s; nothing imported", k,
			    sqlite3_errmsg(ctl->db));
			goto out;
		}
	}
	if (fmn_store_exec(ctl->db, "COMMIT", &cause) != 0) {
		ctl_error(ctl, "%s; nothing imported", cause);
		goto out;
	}
	began = 0;
	if (!ctl->json)
		printf("imported %zu user(s)\n", n);
	ret = CTL_OK;
out:
	if (began)
		fmn_store_exec(ctl->db, "ROLLBACK", NULL);
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(st[i]);
	fmn_hmap_clear(&tc.map, spec_free);
	free(cause);
	json_decref(doc);
	return ret;
}
