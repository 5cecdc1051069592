/*
 * The filter engine. Every enabled preference's active filters of every
 * user are compiled into one structure:
 *
 *  - distinct (kind, argument) rules are interned and shared by every
 *    filter that uses them, negated or not; each is evaluated at most once
 *    per message (memoised with a generation counter);
 *  - each filter sits in exactly one index, under one of its positive
 *    rules (owned, user, package, group, agent, exact topic, category), so
 *    a message only looks at filters whose indexed rule it can satisfy;
 *    filters with no indexable positive rule go to a short "always" list;
 *  - a preference's filters keep their order, so among the candidates the
 *    first one that matches fires, and a preference fires at most once.
 *
 * One user can be recompiled without touching the others.
 */
#include "fmn_match.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_hmap.h"
#include "fmn_owners.h"
#include "fmn_rule.h"
#include "fmn_util.h"

/* Which index a filter sits in; the order is the order of preference. */
enum idx_kind {
	IDX_OWNED,
	IDX_USER,
	IDX_PACKAGE,
	IDX_GROUP,
	IDX_AGENT,
	IDX_TOPIC,
	IDX_CATEGORY,
	IDX__COUNT,
	IDX_ALWAYS = IDX__COUNT,
	IDX_NONE,		/* empty or broken filter: never a candidate */
};

/* A distinct (kind, argument), shared by every filter that uses it. */
struct erule {
	struct fmn_rule		*rule;
	char			*key;
	size_t			 refs;
	unsigned long long	 gen;	/* message generation of val */
	int			 val;	/* FMN_MATCH_* of the positive rule */
};

struct fref {
	struct erule	*er;
	int		 negated;
};

struct epref;

struct efilter {
	long long		 id;
	char			*name;
	struct epref		*pref;
	struct fref		*rules;		/* in position order */
	unsigned short		*order;		/* evaluation order: cheap first */
	size_t			 nrules;
	char			*broken;	/* the token that did not compile */
	enum idx_kind		 idx;
	char			*idx_key;	/* NULL for ALWAYS and NONE */
	unsigned long long	 cand_gen;	/* candidate for this message */
};

struct edest {
	long long	 id;
	char		*address;
};

struct euser;

struct epref {
	long long		 id;
	char			*context;
	struct euser		*user;
	struct efilter		**filters;	/* active filters, by position */
	size_t			 nfilters;
	struct edest		*dests;		/* confirmed destinations */
	size_t			 ndests;
	unsigned long long	 touched_gen;
};

struct euser {
	long long	 id;
	char		*name;
	struct epref	**prefs;
	size_t		 nprefs;
};

/* A list of filters under one index key. */
struct flist {
	struct efilter	**v;
	size_t		  n;
	size_t		  cap;
};

struct fmn_engine {
	struct fmn_hmap		 rules;		/* key -> struct erule */
	struct fmn_hmap		 users;		/* decimal id -> struct euser */
	struct fmn_hmap		 idx[IDX__COUNT];	/* key -> struct flist */
	struct flist		 always;
	struct fmn_owners	*owners;
	size_t			 nusers;
	size_t			 nfilters;
	unsigned long long	 gen;
	unsigned long long	 rule_errors;
	/* Per-message scratch, kept to avoid reallocation. */
	struct epref		**touched;
	size_t			 ntouched;
	size_t			 touched_cap;
	struct fmn_msg		*cur;
};

/* Lists. */

static void
flist_add(struct flist *l, struct efilter *f)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = f;
}

static void
flist_remove(struct flist *l, struct efilter *f)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->v[i] == f) {
			l->v[i] = l->v[--l->n];
			return;
		}
	}
}

static void
flist_free(void *p)
{
	struct flist *l = p;

	free(l->v);
	free(l);
}

/* Recipients. */

void
fmn_recipients_clear(struct fmn_recipients *r)
{
	r->n = 0;
}

void
fmn_recipients_free(struct fmn_recipients *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

static void
recipients_add(struct fmn_recipients *r, const struct epref *p,
    const struct edest *d, const struct efilter *f)
{
	struct fmn_recipient *x;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	x = &r->v[r->n++];
	x->user_id = p->user->id;
	x->preference_id = p->id;
	x->destination_id = d->id;
	x->user = p->user->name;
	x->context = p->context;
	x->address = d->address;
	x->filter = f->name;
}

static int
recipient_cmp(const void *a, const void *b)
{
	const struct fmn_recipient *x = a, *y = b;
	int c;

	if ((c = strcmp(x->user, y->user)) != 0)
		return c;
	if ((c = strcmp(x->context, y->context)) != 0)
		return c;
	return strcmp(x->address, y->address);
}

/* Shared rules. */

static struct erule *
erule_get(struct fmn_engine *e, enum fmn_rule_kind kind, const char *arg,
    char **cause)
{
	char *key = xasprintf("%s:%s", fmn_rule_kind_name(kind), arg);
	void **slot;
	struct erule *er;
	struct fmn_rule *r;

	if ((er = fmn_hmap_get(&e->rules, key)) != NULL) {
		free(key);
		er->refs++;
		return er;
	}
	if ((r = fmn_rule_compile(kind, arg, cause)) == NULL) {
		free(key);
		return NULL;
	}
	er = xcalloc(1, sizeof(*er));
	er->rule = r;
	er->key = key;
	er->refs = 1;
	slot = fmn_hmap_put(&e->rules, key);
	*slot = er;
	return er;
}

static void
erule_put(struct fmn_engine *e, struct erule *er)
{
	if (--er->refs > 0)
		return;
	fmn_hmap_del(&e->rules, er->key);
	fmn_rule_destroy(&er->rule);
	free(er->key);
	free(er);
}

static void
erule_free(void *p)
{
	struct erule *er = p;

	fmn_rule_destroy(&er->rule);
	free(er->key);
	free(er);
}

/* The memoised value of a rule for the current message. */
static int
erule_eval(struct fmn_engine *e, struct erule *er)
{
	if (er->gen != e->gen) {
		er->val = fmn_rule_eval(er->rule, e->cur, e->owners);
		er->gen = e->gen;
		if (er->val == FMN_MATCH_ERR) {
			e->rule_errors++;
			log_warn("rule %s failed to evaluate on message %s",
			    er->key, e->cur->msg_id ? e->cur->msg_id : "(no id)");
		}
	}
	return er->val;
}

/* Filters. */

static enum idx_kind
idx_for_kind(enum fmn_rule_kind k, const char *arg)
{
	switch (k) {
	case FMN_RULE_OWNED:	return IDX_OWNED;
	case FMN_RULE_USER:	return IDX_USER;
	case FMN_RULE_PACKAGE:	return IDX_PACKAGE;
	case FMN_RULE_GROUP:	return IDX_GROUP;
	case FMN_RULE_AGENT:	return IDX_AGENT;
	case FMN_RULE_TOPIC:
		return strpbrk(arg, "*?") == NULL ? IDX_TOPIC : IDX_ALWAYS;
	case FMN_RULE_CATEGORY:	return IDX_CATEGORY;
	default:		return IDX_ALWAYS;
	}
}

static void
filter_index(struct fmn_engine *e, struct efilter *f)
{
	enum idx_kind best = IDX_ALWAYS, k;
	const char *arg = NULL;
	const struct fmn_rule *r;
	char *items, *p, *comma;
	size_t i;

	if (f->broken != NULL || f->nrules == 0) {
		f->idx = IDX_NONE;
		return;
	}
	for (i = 0; i < f->nrules; i++) {
		if (f->rules[i].negated)
			continue;
		r = f->rules[i].er->rule;
		k = idx_for_kind(fmn_rule_kind_of(r), fmn_rule_argument(r));
		if (k < best) {
			best = k;
			arg = fmn_rule_argument(r);
		}
	}
	f->idx = best;
	if (best == IDX_ALWAYS) {
		flist_add(&e->always, f);
		return;
	}
	f->idx_key = xstrdup(arg);
	if (best != IDX_CATEGORY) {
		void **slot = fmn_hmap_put(&e->idx[best], arg);

		if (*slot == NULL)
			*slot = xcalloc(1, sizeof(struct flist));
		flist_add(*slot, f);
		return;
	}
	/* A category list is indexed under each of its names. */
	items = xstrdup(arg);
	for (p = items; p != NULL; p = comma) {
		void **slot;

		if ((comma = strchr(p, ',')) != NULL)
			*comma++ = '\0';
		slot = fmn_hmap_put(&e->idx[best], p);
		if (*slot == NULL)
			*slot = xcalloc(1, sizeof(struct flist));
		/* "category:a,a" must not list the filter twice. */
		flist_remove(*slot, f);
		flist_add(*slot, f);
	}
	free(items);
}

static void
filter_unindex(struct fmn_engine *e, struct efilter *f)
{
	struct flist *l;
	char *items, *p, *comma;

	if (f->idx == IDX_NONE)
		return;
	if (f->idx == IDX_ALWAYS) {
		flist_remove(&e->always, f);
		return;
	}
	if (f->idx != IDX_CATEGORY) {
		if ((l = fmn_hmap_get(&e->idx[f->idx], f->idx_key)) != NULL) {
			flist_remove(l, f);
			if (l->n == 0)
				flist_free(fmn_hmap_del(&e->idx[f->idx], f->idx_key));
		}
		return;
	}
	items = xstrdup(f->idx_key);
	for (p = items; p != NULL; p = comma) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma++ = '\0';
		if ((l = fmn_hmap_get(&e->idx[f->idx], p)) != NULL) {
			flist_remove(l, f);
			if (l->n == 0)
				flist_free(fmn_hmap_del(&e->idx[f->idx], p));
		}
	}
	free(items);
}

static int
order_cmp_rules(const struct efilter *f, unsigned short a, unsigned short b)
{
	int ca = fmn_rule_kind_cost(fmn_rule_kind_of(f->rules[a].er->rule));
	int cb = fmn_rule_kind_cost(fmn_rule_kind_of(f->rules[b].er->rule));

	return ca != cb ? ca - cb : (int)a - (int)b;
}

/* Cheap rules first: a set lookup that says no spares a regex. */
static void
filter_order(struct efilter *f)
{
	size_t i, j;
	unsigned short t;

	f->order = xreallocarray(NULL, f->nrules ? f->nrules : 1,
	    sizeof(*f->order));
	for (i = 0; i < f->nrules; i++)
		f->order[i] = (unsigned short)i;
	for (i = 1; i < f->nrules; i++) {
		t = f->order[i];
		for (j = i; j > 0 && order_cmp_rules(f, f->order[j - 1], t) > 0; j--)
			f->order[j] = f->order[j - 1];
		f->order[j] = t;
	}
}

static void
filter_free(struct fmn_engine *e, struct efilter *f)
{
	size_t i;

	filter_unindex(e, f);
	for (i = 0; i < f->nrules; i++)
		erule_put(e, f->rules[i].er);
	free(f->rules);
	free(f->order);
	free(f->name);
	free(f->broken);
	free(f->idx_key);
	free(f);
	e->nfilters--;
}

/*
 * AND of the filter's rules for the current message. When failed is not
 * NULL, rules go in position order and *failed is the first one that was
 * not true.
 */
static int
filter_eval(struct fmn_engine *e, struct efilter *f, const struct fref **failed)
{
	const struct fref *fr;
	size_t i;
	int v;

	if (failed != NULL)
		*failed = NULL;
	if (f->broken != NULL)
		return FMN_MATCH_ERR;
	if (f->nrules == 0)
		return FMN_MATCH_NO;
	for (i = 0; i < f->nrules; i++) {
		fr = failed != NULL ? &f->rules[i] : &f->rules[f->order[i]];
		v = erule_eval(e, fr->er);
		if (fr->negated)
			v = fmn_match_negate(v);
		if (v != FMN_MATCH_YES) {
			if (failed != NULL)
				*failed = fr;
			return v;
		}
	}
	return FMN_MATCH_YES;
}

/* Users. */

static char *
id_key(long long id, char buf[32])
{
	snprintf(buf, 32, "%lld", id);
	return buf;
}

static void
user_free(struct fmn_engine *e, struct euser *u)
{
	struct epref *p;
	size_t i, j;

	for (i = 0; i < u->nprefs; i++) {
		p = u->prefs[i];
		for (j = 0; j < p->nfilters; j++)
			filter_free(e, p->filters[j]);
		free(p->filters);
		for (j = 0; j < p->ndests; j++)
			free(p->dests[j].address);
		free(p->dests);
		free(p->context);
		free(p);
	}
	free(u->prefs);
	free(u->name);
	free(u);
	e->nusers--;
}

static void
user_remove(struct fmn_engine *e, long long id)
{
	char buf[32];
	struct euser *u = fmn_hmap_del(&e->users, id_key(id, buf));

	if (u != NULL)
		user_free(e, u);
}

/* Loading. */

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

	/* Active filters, in order. */
	st = prepare(db, one ?
	    "SELECT f.id, f.preference_id, f.name FROM filters f "
	    "JOIN preferences p ON p.id = f.preference_id "
	    "WHERE f.active = 1 AND p.enabled = 1 AND p.user_id = ?1 "
	    "ORDER BY f.preference_id, f.position, f.id" :
	    "SELECT f.id, f.preference_id, f.name FROM filters f "
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
		if (f == NULL || f->broken != NULL)
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
			f->broken = xasprintf("%s%s:%s", neg ? "!" : "", kname, arg);
			log_warn("user %s, filter \"%s\": rule %s: %s",
			    f->pref->user->name, f->name, f->broken, why);
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
	st->users = e->nusers;
	st->filters = e->nfilters;
	st->distinct_rules = e->rules.n;
}

/* Matching. */

static void
touch_list(struct fmn_engine *e, const struct flist *l)
{
	struct efilter *f;
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		f = l->v[i];
		f->cand_gen = e->gen;
		if (f->pref->touched_gen == e->gen)
			continue;
		f->pref->touched_gen = e->gen;
		if (e->ntouched == e->touched_cap) {
			e->touched_cap = e->touched_cap ? e->touched_cap * 2 : 64;
			e->touched = xreallocarray(e->touched, e->touched_cap,
			    sizeof(*e->touched));
		}
		e->touched[e->ntouched++] = f->pref;
	}
}

static void
touch_key(struct fmn_engine *e, enum idx_kind k, const char *key)
{
	if (key != NULL && e->idx[k].n > 0)
		touch_list(e, fmn_hmap_get(&e->idx[k], key));
}

static void
touch_owned(void *arg, const char *name)
{
	touch_key(arg, IDX_OWNED, name);
}

static void
touch_group(void *arg, const char *group)
{
	touch_key(arg, IDX_GROUP, group);
}

static int
pref_cmp(const void *a, const void *b)
{
	const struct epref *x = *(struct epref *const *)a;
	const struct epref *y = *(struct epref *const *)b;
	int c = strcmp(x->user->name, y->user->name);

	return c != 0 ? c : strcmp(x->context, y->context);
}

static void
explain_pref(struct fmn_engine *e, struct epref *p, json_t *explain)
{
	json_t *o = json_object(), *arr = json_array(), *fo;
	const struct efilter *fired = NULL;
	const struct fref *failed;
	struct efilter *f;
	size_t i;
	int v;

	for (i = 0; i < p->nfilters; i++) {
		f = p->filters[i];
		v = filter_eval(e, f, &failed);
		fo = json_object();
		json_object_set_new(fo, "name", json_string(f->name));
		json_object_set_new(fo, "result", json_string(
		    v == FMN_MATCH_YES ? "match" :
		    v == FMN_MATCH_NO ? "no match" : "error"));
		if (f->broken != NULL)
			json_object_set_new(fo, "rule", json_string(f->broken));
		else if (failed != NULL) {
			char *tok = fmn_rule_format(
			    fmn_rule_kind_of(failed->er->rule), failed->negated,
			    fmn_rule_argument(failed->er->rule));

			json_object_set_new(fo, "rule", json_string(tok));
			free(tok);
		} else
			json_object_set_new(fo, "rule", json_null());
		if (f->nrules == 0 && f->broken == NULL)
			json_object_set_new(fo, "why", json_string("no rules"));
		json_array_append_new(arr, fo);
		if (v == FMN_MATCH_YES && fired == NULL)
			fired = f;
	}
	json_object_set_new(o, "user", json_string(p->user->name));
	json_object_set_new(o, "context", json_string(p->context));
	json_object_set_new(o, "fired",
	    fired ? json_string(fired->name) : json_null());
	json_object_set_new(o, "filters", arr);
	json_array_append_new(explain, o);
}

int
fmn_engine_match(struct fmn_engine *e, struct fmn_msg *m,
    struct fmn_recipients *out, json_t *explain)
{
	struct epref *p;
	struct efilter *f;
	size_t i, j, first = out->n;

	e->gen++;
	e->cur = m;
	e->ntouched = 0;

	/* Candidates: filters whose indexed rule this message can satisfy. */
	if (m->topic != NULL)
		touch_key(e, IDX_TOPIC, m->topic);
	if (m->category != NULL && *m->category != '\0')
		touch_key(e, IDX_CATEGORY, m->category);
	touch_key(e, IDX_AGENT, m->facts.agent);
	for (i = 0; i < m->facts.usernames.n; i++) {
		touch_key(e, IDX_USER, m->facts.usernames.v[i]);
		if (e->idx[IDX_GROUP].n > 0)
			fmn_owners_foreach_group(e->owners,
			    m->facts.usernames.v[i], touch_group, e);
	}
	for (i = 0; i < m->facts.packages.n; i++) {
		touch_key(e, IDX_PACKAGE, m->facts.packages.v[i]);
		if (e->idx[IDX_OWNED].n > 0)
			fmn_owners_foreach_owner(e->owners,
			    m->facts.packages.v[i], touch_owned, e);
	}
	touch_list(e, &e->always);

	if (explain != NULL && e->ntouched > 1)
		qsort(e->touched, e->ntouched, sizeof(*e->touched), pref_cmp);

	/* In each preference, the first candidate that matches fires. */
	for (i = 0; i < e->ntouched; i++) {
		p = e->touched[i];
		if (explain != NULL)
			explain_pref(e, p, explain);
		for (j = 0; j < p->nfilters; j++) {
			f = p->filters[j];
			if (f->cand_gen != e->gen)
				continue;
			if (filter_eval(e, f, NULL) == FMN_MATCH_YES) {
				size_t d;

				for (d = 0; d < p->ndests; d++)
					recipients_add(out, p, &p->dests[d], f);
				break;
			}
		}
	}
	if (out->n - first > 1)
		qsort(out->v + first, out->n - first, sizeof(*out->v),
		    recipient_cmp);
	e->cur = NULL;
	return 0;
}
