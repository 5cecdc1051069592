/*
 * Loading the filter engine: every enabled preference's active filters
 * of every user (or of one user, after a change) read from the
 * database, compiled, ordered and indexed; the owners and groups that
 * owned: and group: rules look up.
 */
#include "fmn_match_int.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_log.h"
#include "fmn_owners.h"
#include "fmn_store.h"
#include "fmn_util.h"

struct fmn_engine *
fmn_engine_new(void)
{
	struct fmn_engine *e = xcalloc(1, sizeof(*e));

	e->owners = fmn_owners_new();
	return e;
}

static void
engine_clear(struct fmn_engine *e)
{
	size_t i;
	void *val;

	for (i = 0; fmn_hmap_next(&e->users, &i, NULL, &val); )
		user_free(e, val);
	fmn_hmap_clear(&e->users, NULL);
	for (i = 0; i < IDX__COUNT; i++)
		fmn_hmap_clear(&e->idx[i], flist_free);
	free(e->always.v);
	memset(&e->always, 0, sizeof(e->always));
	fmn_hmap_clear(&e->rules, erule_free);
}

void
fmn_engine_destroy(struct fmn_engine **ep)
{
	struct fmn_engine *e = *ep;

	if (e == NULL)
		return;
	engine_clear(e);
	fmn_owners_destroy(&e->owners);
	fmn_engine_broken_free(e->found, e->nfound);
	free(e->touched);
	free(e);
	*ep = NULL;
}

static sqlite3_stmt *
prepare(sqlite3 *db, const char *sql, long long user_id, char **cause)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fmn_set_cause(cause, "loading filters: %s", sqlite3_errmsg(db));
		return NULL;
	}
	if (user_id >= 0)
		sqlite3_bind_int64(st, 1, user_id);
	return st;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s != NULL ? s : "";
}

/*
 * Load users (all when user_id < 0, else that one) into the engine; they
 * must not be loaded yet. Four queries whatever the number of users.
 */
static int
load_users(struct fmn_engine *e, sqlite3 *db, long long user_id, char **cause)
{
	const int one = user_id >= 0;
	struct fmn_hmap prefs = { 0 };	/* decimal id -> struct epref */
	struct fmn_hmap filters = { 0 };	/* decimal id -> struct efilter */
	sqlite3_stmt *st = NULL;
	struct euser *u;
	struct epref *p;
	struct efilter *f;
	char buf[32], buf2[64], *why;
	size_t i;
	int rc, k, ret = -1;

	/* Users. */
	st = prepare(db, one ? "SELECT id, name FROM users WHERE id = ?1" :
	    "SELECT id, name FROM users", user_id, cause);
	if (st == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		u = xcalloc(1, sizeof(*u));
		u->id = sqlite3_column_int64(st, 0);
		u->name = xstrdup(col_text(st, 1));
		*fmn_hmap_put(&e->users, id_key(u->id, buf)) = u;
		e->nusers++;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);

	/* Enabled preferences. */
	st = prepare(db, one ?
	    "SELECT id, user_id, context FROM preferences "
	    "WHERE enabled = 1 AND user_id = ?1 ORDER BY context" :
	    "SELECT id, user_id, context FROM preferences "
	    "WHERE enabled = 1 ORDER BY user_id, context", user_id, cause);
	if (st == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		u = fmn_hmap_get(&e->users,
		    id_key(sqlite3_column_int64(st, 1), buf));
		if (u == NULL)
			continue;
		p = xcalloc(1, sizeof(*p));
		p->id = sqlite3_column_int64(st, 0);
		p->context = xstrdup(col_text(st, 2));
		p->user = u;
		u->prefs = xreallocarray(u->prefs, u->nprefs + 1,
		    sizeof(*u->prefs));
		u->prefs[u->nprefs++] = p;
		*fmn_hmap_put(&prefs, id_key(p->id, buf)) = p;
		/* Destinations are looked up by user and context. */
		snprintf(buf2, sizeof(buf2), "%lld/%s", u->id, p->context);
		*fmn_hmap_put(&prefs, buf2) = p;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);

	/*
	 * Confirmed destinations. A failing one is still matched: whether to
	 * try it is the daemon's decision. A pending one gets nothing.
	 */
	st = prepare(db, one ?
	    "SELECT id, user_id, context, address FROM destinations "
	    "WHERE confirmed = 1 AND user_id = ?1 ORDER BY id" :
	    "SELECT id, user_id, context, address FROM destinations "
	    "WHERE confirmed = 1 ORDER BY id", user_id, cause);
	if (st == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(buf2, sizeof(buf2), "%lld/%s",
		    (long long)sqlite3_column_int64(st, 1), col_text(st, 2));
		if ((p = fmn_hmap_get(&prefs, buf2)) == NULL)
			continue;
		p->dests = xreallocarray(p->dests, p->ndests + 1,
		    sizeof(*p->dests));
		p->dests[p->ndests].id = sqlite3_column_int64(st, 0);
		p->dests[p->ndests].address = xstrdup(col_text(st, 3));
		p->ndests++;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);

	/*
	 * Active filters, in order. A broken one is kept, without its rules,
	 * only so that explain can say it was skipped.
	 */
	st = prepare(db, one ?
	    "SELECT f.id, f.preference_id, f.name, f.broken FROM filters f "
	    "JOIN preferences p ON p.id = f.preference_id "
	    "WHERE f.active = 1 AND p.enabled = 1 AND p.user_id = ?1 "
	    "ORDER BY f.preference_id, f.position, f.id" :
	    "SELECT f.id, f.preference_id, f.name, f.broken FROM filters f "
	    "WHERE f.active = 1 ORDER BY f.preference_id, f.position, f.id",
	    user_id, cause);
	if (st == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		p = fmn_hmap_get(&prefs, id_key(sqlite3_column_int64(st, 1), buf));
		if (p == NULL)
			continue;
		f = xcalloc(1, sizeof(*f));
		f->id = sqlite3_column_int64(st, 0);
		f->name = xstrdup(col_text(st, 2));
		f->pref = p;
		f->idx = IDX_NONE;
		if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			f->broken = xstrdup(col_text(st, 3));
			e->nbroken++;
		}
		p->filters = xreallocarray(p->filters, p->nfilters + 1,
		    sizeof(*p->filters));
		p->filters[p->nfilters++] = f;
		*fmn_hmap_put(&filters, id_key(f->id, buf)) = f;
		e->nfilters++;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);

	/* Rules, in order. */
	st = prepare(db, one ?
	    "SELECT r.filter_id, r.kind, r.argument, r.negated FROM rules r "
	    "JOIN filters f ON f.id = r.filter_id "
	    "JOIN preferences p ON p.id = f.preference_id "
	    "WHERE f.active = 1 AND p.enabled = 1 AND p.user_id = ?1 "
	    "ORDER BY r.filter_id, r.position, r.id" :
	    "SELECT r.filter_id, r.kind, r.argument, r.negated FROM rules r "
	    "ORDER BY r.filter_id, r.position, r.id", user_id, cause);
	if (st == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kname = col_text(st, 1), *arg = col_text(st, 2);
		int neg = sqlite3_column_int(st, 3) != 0;
		struct erule *er = NULL;

		f = fmn_hmap_get(&filters, id_key(sqlite3_column_int64(st, 0), buf));
		if (f == NULL || f->bad_rule != NULL || f->broken != NULL)
			continue;
		why = NULL;
		if (f->nrules >= 0xffff)
			why = xstrdup("too many rules in one filter");
		else if ((k = fmn_rule_kind_lookup(kname)) < 0)
			why = xstrdup("unknown rule kind");
		else
			er = erule_get(e, k, arg, &why);
		if (er == NULL) {
			/* Stored data we cannot run: this filter never matches. */
			f->bad_rule = xasprintf("%s%s:%s", neg ? "!" : "", kname,
			    arg);
			log_warn("user %s, filter \"%s\": rule %s: %s",
			    f->pref->user->name, f->name, f->bad_rule, why);
			free(why);
			continue;
		}
		f->rules = xreallocarray(f->rules, f->nrules + 1,
		    sizeof(*f->rules));
		f->rules[f->nrules].er = er;
		f->rules[f->nrules].negated = neg;
		f->nrules++;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;

	/* Index what was loaded. */
	for (i = 0; fmn_hmap_next(&filters, &i, NULL, (void **)&f); ) {
		filter_order(f);
		filter_index(e, f);
	}
	ret = 0;
	goto out;
dberr:
	fmn_set_cause(cause, "loading filters: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	fmn_hmap_clear(&prefs, NULL);
	fmn_hmap_clear(&filters, NULL);
	return ret;
}

int
fmn_engine_load(struct fmn_engine *e, sqlite3 *db, char **cause)
{
	engine_clear(e);
	if (fmn_owners_load(e->owners, db, cause) == -1)
		return -1;
	if (load_users(e, db, -1, cause) == -1) {
		engine_clear(e);
		return -1;
	}
	return 0;
}

int
fmn_engine_reload_user(struct fmn_engine *e, sqlite3 *db, long long user_id,
    char **cause)
{
	user_remove(e, user_id);
	if (user_id < 0)
		return 0;
	if (load_users(e, db, user_id, cause) == -1) {
		user_remove(e, user_id);
		return -1;
	}
	return 0;
}

int
fmn_engine_reload_shared(struct fmn_engine *e, sqlite3 *db, char **cause)
{
	return fmn_owners_load(e->owners, db, cause);
}

void
fmn_engine_stats(const struct fmn_engine *e, struct fmn_engine_stats *st)
{
	st->rule_errors = e->rule_errors;
	st->regex_units = e->regex_units;
	st->allowance_skips = e->allowance_skips;
	st->users = e->nusers;
	st->filters = e->nfilters;
	st->broken_filters = e->nbroken;
	st->distinct_rules = e->rules.n;
}

size_t
fmn_engine_take_broken(struct fmn_engine *e, struct fmn_broken **v)
{
	size_t n = e->nfound;

	*v = e->found;
	e->found = NULL;
	e->nfound = e->found_cap = 0;
	return n;
}

void
fmn_engine_broken_free(struct fmn_broken *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].user);
		free(v[i].context);
		free(v[i].filter);
		free(v[i].reason);
	}
	free(v);
}
