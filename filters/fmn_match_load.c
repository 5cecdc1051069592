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
	index_clear(e);
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
	index_clear(e);
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
	free(e->touched_tmp);
	fmn_buf_free(&e->keybuf);
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
 * Users are read one at a time, from queries that all come in user
 * order, into this scratch (kept from one user to the next, so loading
 * leaves no holes in the heap), then packed into the one block that
 * holds the user (user_pack).
 */
struct lpref {
	long long	 id;
	size_t		 context;	/* offset in text */
};

struct ldest {
	long long	 id;
	size_t		 pref;
	size_t		 address;
};

struct lfilter {
	long long	 id;
	size_t		 pref;
	size_t		 name;
	size_t		 first;		/* its rules: rules[first, first + n) */
	size_t		 n;
	char		*bad_rule;
	char		*broken;
};

struct loader {
	struct fmn_engine	*e;
	long long		 user_id;
	size_t			 user_name;
	struct lpref		*prefs;
	size_t			 nprefs, prefs_cap;
	struct ldest		*dests;
	size_t			 ndests, dests_cap;
	struct lfilter		*filters;
	size_t			 nfilters, filters_cap;
	struct fref		*rules;
	size_t			 nrules, rules_cap;
	struct fmn_buf		 text;		/* the strings, NUL after each */
	unsigned short		*order;		/* one filter's, while packing */
	size_t			 order_cap;
};

/* Room for one more of an array of the scratch. */
#define GROW(v, n, cap) do {						\
	if ((n) == (cap)) {						\
		(cap) = (cap) ? (cap) * 2 : 8;				\
		(v) = xreallocarray((v), (cap), sizeof(*(v)));		\
	}								\
} while (0)

static size_t
ltext(struct loader *l, const char *s)
{
	size_t off = l->text.len;

	fmn_buf_add(&l->text, s, strlen(s) + 1);
	return off;
}

/* Forget the user being read: its rules' references too. */
static void
loader_reset(struct loader *l)
{
	size_t i;

	for (i = 0; i < l->nrules; i++)
		erule_put(l->e, l->rules[i].er);
	for (i = 0; i < l->nfilters; i++) {
		free(l->filters[i].bad_rule);
		free(l->filters[i].broken);
	}
	l->nprefs = l->ndests = l->nfilters = l->nrules = 0;
	fmn_buf_reset(&l->text);
}

static void
loader_free(struct loader *l)
{
	loader_reset(l);
	free(l->prefs);
	free(l->dests);
	free(l->filters);
	free(l->rules);
	free(l->order);
	fmn_buf_free(&l->text);
}

/*
 * Which of two rules to evaluate first. Rules many filters share and
 * that need no regex come first (PROBE_SHARED references): known for
 * the message already, most often, and in memory it has touched (the
 * default filters' exclusions); then the filter's own (its user's name)
 * and last regexes, which are charged to the user. Within each, the
 * cheaper kind first (a set lookup before a glob), then as written.
 */
static int
rule_class(const struct fref *r)
{
	if (r->er->regex)
		return 2;
	return r->er->refs >= PROBE_SHARED ? 0 : 1;
}

static int
order_cmp(const struct fref *ra, const struct fref *rb, unsigned short a,
    unsigned short b)
{
	int ka = rule_class(ra), kb = rule_class(rb);
	int ca = fmn_rule_kind_cost(fmn_rule_kind_of(ra->er->rule));
	int cb = fmn_rule_kind_cost(fmn_rule_kind_of(rb->er->rule));

	if (ka != kb)
		return ka - kb;
	if (ca != cb)
		return ca - cb;
	return (int)a - (int)b;
}

/*
 * l->order: the filter's rules in the order to evaluate them; ties go by
 * the place each was written in, at[k] for rules[k] (NULL: k).
 */
static void
order_rules(struct loader *l, const struct fref *rules,
    const unsigned short *at, size_t n)
{
	unsigned short t, a, b;
	size_t i, j;

	if (n > l->order_cap) {
		l->order_cap = n;
		l->order = xreallocarray(l->order, n, sizeof(*l->order));
	}
	for (i = 0; i < n; i++)
		l->order[i] = (unsigned short)i;
	for (i = 1; i < n; i++) {
		t = l->order[i];
		for (j = i; j > 0; j--) {
			a = at ? at[l->order[j - 1]] : l->order[j - 1];
			b = at ? at[t] : t;
			if (order_cmp(&rules[l->order[j - 1]], &rules[t], a,
			    b) <= 0)
				break;
			l->order[j] = l->order[j - 1];
		}
		l->order[j] = t;
	}
}

/*
 * Space for n bytes in the block being filled, 16-aligned; with block
 * NULL, only the size is counted.
 */
static void *
take(char *block, size_t *off, size_t n)
{
	void *at;

	*off = (*off + 15) & ~(size_t)15;
	at = block != NULL ? block + *off : NULL;
	*off += n;
	return at;
}

/*
 * The user read into l, packed: the user, preferences, their filter
 * lists, filters, rules (cheap first; pos for the written order) and
 * destinations in one block, in the order matching reads them, and the
 * strings after. A message that concerns the user then reads a few
 * neighbouring cache lines, and each user costs one allocation. What
 * a filter holds apart (bad_rule, broken, index keys) stays apart; the
 * rules' references pass to the user.
 */
static struct euser *
user_pack(struct loader *l)
{
	size_t size = 0, off = 0, text_off, i, j, k, nf;
	struct euser *u;
	struct epref *p;
	struct efilter *f;
	const struct lfilter *lf;
	char *block, *text;

	take(NULL, &size, sizeof(*u));
	take(NULL, &size, l->nprefs * sizeof(struct epref *));
	for (i = 0; i < l->nprefs; i++) {
		take(NULL, &size, sizeof(*p));
		for (j = nf = 0; j < l->nfilters; j++)
			nf += l->filters[j].pref == i;
		take(NULL, &size, nf * sizeof(struct efilter *));
	}
	for (j = 0; j < l->nfilters; j++) {
		take(NULL, &size, sizeof(*f));
		take(NULL, &size, l->filters[j].n * sizeof(struct fref));
		take(NULL, &size, l->filters[j].n * sizeof(unsigned short));
	}
	take(NULL, &size, l->ndests * sizeof(struct edest));
	take(NULL, &size, 0);
	text_off = size;
	size += l->text.len;

	block = xcalloc(1, size);
	text = block + text_off;
	if (l->text.len > 0)
		memcpy(text, l->text.data, l->text.len);
	u = take(block, &off, sizeof(*u));
	u->id = l->user_id;
	u->name = text + l->user_name;
	u->nprefs = l->nprefs;
	u->prefs = take(block, &off, l->nprefs * sizeof(*u->prefs));
	for (i = 0; i < l->nprefs; i++) {
		p = u->prefs[i] = take(block, &off, sizeof(*p));
		p->id = l->prefs[i].id;
		p->context = text + l->prefs[i].context;
		p->user = u;
		for (j = nf = 0; j < l->nfilters; j++)
			nf += l->filters[j].pref == i;
		p->filters = take(block, &off, nf * sizeof(*p->filters));
	}
	for (j = 0; j < l->nfilters; j++) {
		lf = &l->filters[j];
		p = u->prefs[lf->pref];
		f = p->filters[p->nfilters] = take(block, &off, sizeof(*f));
		f->at = (unsigned)p->nfilters++;
		f->id = lf->id;
		f->name = text + lf->name;
		f->pref = p;
		f->bad_rule = lf->bad_rule;
		f->broken = lf->broken;
		f->idx = IDX_NONE;
		f->nrules = lf->n;
		f->rules = take(block, &off, lf->n * sizeof(*f->rules));
		f->pos = take(block, &off, lf->n * sizeof(*f->pos));
		/* l->rules is NULL while no user read had a rule. */
		order_rules(l, lf->n > 0 ? &l->rules[lf->first] : NULL, NULL,
		    lf->n);
		for (k = 0; k < lf->n; k++) {
			f->rules[k] = l->rules[lf->first + l->order[k]];
			f->pos[l->order[k]] = (unsigned short)k;
		}
		f->sure = f->nrules;
	}
	/* The destinations, preference by preference, by address. */
	take(block, &off, 0);
	for (i = 0; i < l->nprefs; i++) {
		struct edest t;

		p = u->prefs[i];
		p->dests = (struct edest *)(block + off);
		for (k = 0; k < l->ndests; k++) {
			if (l->dests[k].pref != i)
				continue;
			t.id = l->dests[k].id;
			t.address = text + l->dests[k].address;
			for (j = p->ndests; j > 0 && strcmp(p->dests[j - 1].address,
			    t.address) > 0; j--)
				p->dests[j] = p->dests[j - 1];
			p->dests[j] = t;
			p->ndests++;
		}
		off += p->ndests * sizeof(struct edest);
	}
	for (i = 0; i < 16 && u->name[i] != '\0'; i++)
		u->sortkey[i / 8] |= (uint64_t)(unsigned char)u->name[i] <<
		    (56 - 8 * (i % 8));
	/* The user owns them now. */
	for (j = 0; j < l->nfilters; j++)
		l->filters[j].bad_rule = l->filters[j].broken = NULL;
	l->nrules = 0;
	return u;
}

/*
 * A packed filter's rules put in order again, now that the references
 * say which rules are shared (loading everyone, the first users were
 * ordered before the others shared their rules). Before indexing.
 */
static void
filter_reorder(struct loader *l, struct efilter *f)
{
	size_t i, n = f->nrules;
	unsigned short *at;
	struct fref *was;

	if (n < 2)
		return;
	/* at[k]: where rules[k] was written; l->order: the new order. */
	at = xreallocarray(NULL, n, sizeof(*at));
	was = xreallocarray(NULL, n, sizeof(*was));
	memcpy(was, f->rules, n * sizeof(*was));
	for (i = 0; i < n; i++)
		at[f->pos[i]] = (unsigned short)i;
	order_rules(l, was, at, n);
	for (i = 0; i < n; i++) {
		f->rules[i] = was[l->order[i]];
		f->pos[at[l->order[i]]] = (unsigned short)i;
	}
	free(at);
	free(was);
}

/* The preference of the user being read with this id or context. */
static ssize_t
lpref_find(const struct loader *l, long long id, const char *context)
{
	size_t i;

	for (i = 0; i < l->nprefs; i++)
		if (context != NULL ? strcmp(l->text.data + l->prefs[i].context,
		    context) == 0 : l->prefs[i].id == id)
			return (ssize_t)i;
	return -1;
}

/* A filter row of the user being read: the filter, made when new. */
static struct lfilter *
lfilter_row(struct loader *l, sqlite3_stmt *st)
{
	long long fid = sqlite3_column_int64(st, 1);
	struct lfilter *f;
	ssize_t p;

	if (l->nfilters > 0 && l->filters[l->nfilters - 1].id == fid)
		return &l->filters[l->nfilters - 1];
	if ((p = lpref_find(l, sqlite3_column_int64(st, 2), NULL)) < 0)
		return NULL;
	GROW(l->filters, l->nfilters, l->filters_cap);
	f = &l->filters[l->nfilters++];
	memset(f, 0, sizeof(*f));
	f->id = fid;
	f->pref = (size_t)p;
	f->name = ltext(l, col_text(st, 3));
	f->first = l->nrules;
	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		f->broken = xstrdup(col_text(st, 4));
	return f;
}

/* A rule row: compiled (shared), or the filter marked as not runnable. */
static void
lrule_row(struct loader *l, struct lfilter *f, sqlite3_stmt *st)
{
	const char *kname = col_text(st, 5), *arg = col_text(st, 6);
	int neg = sqlite3_column_int(st, 7) != 0, k;
	struct erule *er = NULL;
	char *why = NULL;

	if (sqlite3_column_type(st, 5) == SQLITE_NULL || f->bad_rule != NULL ||
	    f->broken != NULL)
		return;
	if (f->n >= 0xffff)
		why = xstrdup("too many rules in one filter");
	else if ((k = fmn_rule_kind_lookup(kname)) < 0)
		why = xstrdup("unknown rule kind");
	else
		er = erule_get(l->e, k, arg, &why);
	if (er == NULL) {
		/* Stored data we cannot run: this filter never matches. */
		f->bad_rule = xasprintf("%s%s:%s", neg ? "!" : "", kname, arg);
		log_warn("user %s, filter \"%s\": rule %s: %s",
		    l->text.data + l->user_name, l->text.data + f->name,
		    f->bad_rule, why);
		free(why);
		return;
	}
	GROW(l->rules, l->nrules, l->rules_cap);
	l->rules[l->nrules].er = er;
	l->rules[l->nrules].negated = neg;
	l->nrules++;
	f->n++;
}

/* File u's filters, their rules ordered again first when l is given. */
static void
index_user(struct fmn_engine *e, struct loader *l, struct euser *u)
{
	size_t j, k;

	for (j = 0; j < u->nprefs; j++) {
		for (k = 0; k < u->prefs[j]->nfilters; k++) {
			if (l != NULL)
				filter_reorder(l, u->prefs[j]->filters[k]);
			filter_index(e, u->prefs[j]->filters[k]);
		}
	}
}

/* Step st while its row is about user uid (column 0): 1 while it is. */
static int
at_user(sqlite3_stmt *st, int *rc, long long uid)
{
	while (*rc == SQLITE_ROW && sqlite3_column_int64(st, 0) < uid)
		*rc = sqlite3_step(st);
	return *rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == uid;
}

/*
 * Load users (all when user_id < 0, else that one) into the engine; they
 * must not be loaded yet. Four queries whatever the number of users,
 * each in user order, read side by side one user at a time.
 */
static int
load_users(struct fmn_engine *e, sqlite3 *db, long long user_id, char **cause)
{
	static const char *const sql[4][2] = {
		{ "SELECT id, name FROM users ORDER BY id",
		  "SELECT id, name FROM users WHERE id = ?1" },
		/* Enabled preferences. */
		{ "SELECT user_id, id, context FROM preferences "
		  "WHERE enabled = 1 ORDER BY user_id, context",
		  "SELECT user_id, id, context FROM preferences "
		  "WHERE enabled = 1 AND user_id = ?1 ORDER BY context" },
		/*
		 * Confirmed destinations. A failing one is still matched:
		 * whether to try it is the daemon's decision. A pending one
		 * gets nothing.
		 */
		{ "SELECT user_id, id, context, address FROM destinations "
		  "WHERE confirmed = 1 ORDER BY user_id, id",
		  "SELECT user_id, id, context, address FROM destinations "
		  "WHERE confirmed = 1 AND user_id = ?1 ORDER BY id" },
		/*
		 * Active filters of enabled preferences with their rules, in
		 * order. A broken one is kept, without its rules, only so
		 * that explain can say it was skipped.
		 */
		{ "SELECT p.user_id, f.id, f.preference_id, f.name, f.broken, "
		  "r.kind, r.argument, r.negated FROM preferences p "
		  "JOIN filters f ON f.preference_id = p.id "
		  "LEFT JOIN rules r ON r.filter_id = f.id "
		  "WHERE p.enabled = 1 AND f.active = 1 "
		  "ORDER BY p.user_id, p.context, f.position, f.id, "
		  "r.position, r.id",
		  "SELECT p.user_id, f.id, f.preference_id, f.name, f.broken, "
		  "r.kind, r.argument, r.negated FROM preferences p "
		  "JOIN filters f ON f.preference_id = p.id "
		  "LEFT JOIN rules r ON r.filter_id = f.id "
		  "WHERE p.enabled = 1 AND f.active = 1 AND p.user_id = ?1 "
		  "ORDER BY p.context, f.position, f.id, r.position, r.id" },
	};
	const int one = user_id >= 0;
	struct loader l;
	sqlite3_stmt *st[4] = { NULL };
	int rc[4], i, ret = -1;
	struct lfilter *f;
	struct euser *u;
	void *up;
	char buf[32];
	ssize_t p;
	size_t j;

	memset(&l, 0, sizeof(l));
	l.e = e;
	for (i = 0; i < 4; i++) {
		if ((st[i] = prepare(db, sql[i][one], user_id, cause)) == NULL)
			goto out;
		rc[i] = sqlite3_step(st[i]);
	}
	for (; rc[0] == SQLITE_ROW; rc[0] = sqlite3_step(st[0])) {
		loader_reset(&l);
		l.user_id = sqlite3_column_int64(st[0], 0);
		l.user_name = ltext(&l, col_text(st[0], 1));
		for (; at_user(st[1], &rc[1], l.user_id);
		    rc[1] = sqlite3_step(st[1])) {
			GROW(l.prefs, l.nprefs, l.prefs_cap);
			l.prefs[l.nprefs].id = sqlite3_column_int64(st[1], 1);
			l.prefs[l.nprefs].context = ltext(&l,
			    col_text(st[1], 2));
			l.nprefs++;
		}
		for (; at_user(st[2], &rc[2], l.user_id);
		    rc[2] = sqlite3_step(st[2])) {
			/* Destinations are found by user and context. */
			if ((p = lpref_find(&l, 0, col_text(st[2], 2))) < 0)
				continue;
			GROW(l.dests, l.ndests, l.dests_cap);
			l.dests[l.ndests].id = sqlite3_column_int64(st[2], 1);
			l.dests[l.ndests].pref = (size_t)p;
			l.dests[l.ndests].address = ltext(&l,
			    col_text(st[2], 3));
			l.ndests++;
		}
		for (; at_user(st[3], &rc[3], l.user_id);
		    rc[3] = sqlite3_step(st[3]))
			if ((f = lfilter_row(&l, st[3])) != NULL)
				lrule_row(&l, f, st[3]);
		for (i = 1; i < 4; i++)
			if (rc[i] != SQLITE_ROW && rc[i] != SQLITE_DONE)
				goto dberr;
		for (j = 0; j < l.nfilters; j++)
			e->nbroken += l.filters[j].broken != NULL;
		e->nfilters += l.nfilters;
		u = user_pack(&l);
		l.nfilters = 0;
		*fmn_hmap_put(&e->users, id_key(u->id, buf)) = u;
		e->nusers++;
		if (one)
			index_user(e, NULL, u);
	}
	if (rc[0] != SQLITE_DONE)
		goto dberr;
	/* Everyone loaded: order each filter's rules again, then index. */
	for (j = 0; !one && fmn_hmap_next(&e->users, &j, NULL, &up); )
		index_user(e, &l, up);
	ret = 0;
	goto out;
dberr:
	fmn_set_cause(cause, "loading filters: %s", sqlite3_errmsg(db));
out:
	for (i = 0; i < 4; i++)
		sqlite3_finalize(st[i]);
	loader_free(&l);
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
	size_t i;

	st->rule_errors = e->rule_errors;
	st->regex_units = e->regex_units;
	st->allowance_skips = e->allowance_skips;
	st->users = e->nusers;
	st->filters = e->nfilters;
	st->broken_filters = e->nbroken;
	st->distinct_rules = e->rules.n;
	for (i = 0; i < FMN_ENGINE_INDEXES; i++)
		st->indexed[i] = e->nindexed[i];
}

const char *
fmn_engine_index_name(int k)
{
	return k >= 0 && k < FMN_ENGINE_INDEXES ? index_kind_name(k) : NULL;
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
