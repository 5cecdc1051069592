/*
 * The filter engine. Every enabled preference's active filters of every
 * user are compiled into one structure:
 *
 *  - distinct (kind, argument) rules are interned and shared by every
 *    filter that uses them, negated or not; each is evaluated at most once
 *    per message (memoised with a generation counter);
 *  - each filter sits in exactly one index, under a key one of its
 *    positive rules gives (fmn_index.c), so a message only looks at
 *    filters whose indexed rule it can satisfy; filters with no positive
 *    rule that gives a key go to a short "always" list;
 *  - a preference's filters keep their order, so among the candidates the
 *    first one that matches fires, and a preference fires at most once;
 *  - a message is matched user by user, each user's regex rules charged
 *    to that user's allowance (fmn_match.h), so that one user's regexes
 *    cost the others nothing but their share of a rule they all use;
 *    a filter that keeps failing is marked broken and no longer tried.
 *
 * One user can be recompiled without touching the others.
 */
#include "fmn_match_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_hmap.h"
#include "fmn_owners.h"
#include "fmn_rule.h"
#include "fmn_log.h"
#include "fmn_util.h"

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

/* Shared rules. */

struct erule *
erule_get(struct fmn_engine *e, enum fmn_rule_kind kind, const char *arg,
    char **cause)
{
	struct fmn_buf *key = &e->keybuf;
	void **slot;
	struct erule *er;
	struct fmn_rule *r;

	/* Most rules are shared: no allocation to find one. */
	fmn_buf_reset(key);
	fmn_buf_adds(key, fmn_rule_kind_name(kind));
	fmn_buf_addc(key, ':');
	fmn_buf_adds(key, arg);
	if ((er = fmn_hmap_get(&e->rules, key->data)) != NULL) {
		er->refs++;
		return er;
	}
	if ((r = fmn_rule_compile(kind, arg, cause)) == NULL)
		return NULL;
	er = xcalloc(1, sizeof(*er));
	er->rule = r;
	er->key = xstrdup(key->data);
	er->refs = 1;
	er->regex = fmn_rule_uses_regex(r);
	slot = fmn_hmap_put(&e->rules, er->key);
	*slot = er;
	return er;
}

void
erule_put(struct fmn_engine *e, struct erule *er)
{
	if (--er->refs > 0)
		return;
	fmn_hmap_del(&e->rules, er->key);
	fmn_rule_destroy(&er->rule);
	free(er->key);
	free(er);
}

void
erule_free(void *p)
{
	struct erule *er = p;

	fmn_rule_destroy(&er->rule);
	free(er->key);
	free(er);
}

/*
 * A rule that fails is logged at most once per ERULE_WARN_MS: one that
 * fails on every message must not flood the log. The next warning says
 * how many failures went unlogged.
 */
static void
erule_warn(struct fmn_engine *e, struct erule *er)
{
	const char *id = e->cur->msg_id ? e->cur->msg_id : "(no id)";
	int64_t now = fmn_monotonic_ms();

	if (now < er->warn_next) {
		er->unwarned++;
		return;
	}
	if (er->unwarned > 0)
		log_warn("rule %s failed to evaluate on message %s (and on %lu "
		    "more since it was last logged)", er->key, id, er->unwarned);
	else
		log_warn("rule %s failed to evaluate on message %s", er->key, id);
	er->warn_next = now + ERULE_WARN_MS;
	er->unwarned = 0;
}

/* The memoised value of a rule for the current message. */
int
erule_value(struct fmn_engine *e, struct erule *er)
{
	unsigned long units = 0;

	if (er->gen != e->gen) {
		er->val = fmn_rule_eval_units(er->rule, e->cur, e->owners,
		    &units);
		er->units = units;
		er->gen = e->gen;
		e->regex_units += units;
		if (er->val == FMN_MATCH_ERR) {
			e->rule_errors++;
			erule_warn(e, er);
		}
	}
	return er->val;
}

/*
 * The value of a rule for the current message and user. A regex rule is
 * charged to each user who needs it, once per message, what computing it
 * cost, even when another user's filters made it run: so what a user is
 * charged does not depend on who else is matched. Once a user has been
 * charged the allowance, their further regex rules are errors, not run.
 */
static int
erule_eval(struct fmn_engine *e, struct erule *er)
{
	if (!er->regex)
		return erule_value(e, er);
	if (er->user_gen == e->gen && er->user == e->cur_user)
		return er->user_val;
	er->user_gen = e->gen;
	er->user = e->cur_user;
	if (e->spent >= FMN_MATCH_ALLOWANCE) {
		er->user_val = FMN_MATCH_ERR;
		er->user_skipped = 1;
		e->rule_errors++;
		e->allowance_skips++;
		return er->user_val;
	}
	er->user_skipped = 0;
	er->user_val = erule_value(e, er);
	e->spent += er->units;
	return er->user_val;
}

/* Filters. */

/* What a filter holds apart from its user's block (user_free frees that). */
static void
filter_free_parts(struct fmn_engine *e, struct efilter *f)
{
	size_t i;

	filter_unindex(e, f);
	for (i = 0; i < f->nrules; i++)
		erule_put(e, f->rules[i].er);
	free(f->bad_rule);
	if (f->broken != NULL)
		e->nbroken--;
	free(f->broken);
	e->nfilters--;
}

/*
 * AND of the filter's rules for the current message and user. Rules go
 * cheap first, or in position order when in_order (to explain); *failed
 * is the first one that was not true.
 */
static int
filter_eval(struct fmn_engine *e, struct efilter *f, int in_order,
    const struct fref **failed)
{
	const struct fref *fr;
	size_t i;
	int v;

	if (failed != NULL)
		*failed = NULL;
	if (f->bad_rule != NULL)
		return FMN_MATCH_ERR;
	if (f->nrules == 0)
		return FMN_MATCH_NO;
	for (i = 0; i < f->nrules; i++) {
		if (in_order)
			fr = &f->rules[f->pos[i]];
		else if (i == f->sure)
			continue;	/* its index found f: it holds */
		else
			fr = &f->rules[i];
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

/*
 * Why the rule fr, just evaluated for the current user, is an error: a
 * phrase for a person, after the rule's token.
 */
static char *
fault_why(const struct fref *fr)
{
	const struct erule *er = fr->er;

	if (!er->regex)
		return xstrdup("could not be evaluated");
	if (er->user_skipped)
		return xasprintf("was not run: the user's regexes had used "
		    "their allowance of %d units for the message",
		    FMN_MATCH_ALLOWANCE);
	return xasprintf("reached the regex match limit (%d units)",
	    FMN_RULE_MATCH_LIMIT);
}

static char *
fref_token(const struct fref *fr)
{
	return fmn_rule_format(fmn_rule_kind_of(fr->er->rule), fr->negated,
	    fmn_rule_argument(fr->er->rule));
}

/* Stop trying f, and keep it for fmn_engine_take_broken. */
static void
filter_break(struct fmn_engine *e, struct efilter *f, const struct fref *fr)
{
	struct fmn_broken *b;
	char *tok = fr != NULL ? fref_token(fr) : xstrdup("a rule");
	char *why = fr != NULL ? fault_why(fr) : xstrdup("failed");

	f->broken = xasprintf("failed on %d messages within %d; last, %s %s",
	    FMN_MATCH_BROKEN_AFTER, FMN_MATCH_BROKEN_WINDOW, tok, why);
	free(tok);
	free(why);
	filter_unindex(e, f);
	f->idx = IDX_NONE;
	e->nbroken++;
	if (e->nfound == e->found_cap) {
		e->found_cap = e->found_cap ? e->found_cap * 2 : 8;
		e->found = xreallocarray(e->found, e->found_cap,
		    sizeof(*e->found));
	}
	b = &e->found[e->nfound++];
	b->filter_id = f->id;
	b->user_id = f->pref->user->id;
	b->user = xstrdup(f->pref->user->name);
	b->context = xstrdup(f->pref->context);
	b->filter = xstrdup(f->name);
	b->reason = xstrdup(f->broken);
}

/*
 * f failed on the current message (fr is the rule that did). The third
 * failure within FMN_MATCH_BROKEN_WINDOW tries breaks it: a regex that
 * hits its limit now and then on an odd message stays; one that fails on
 * a good share of the traffic goes.
 */
static void
filter_erred(struct fmn_engine *e, struct efilter *f, const struct fref *fr)
{
	const size_t n = FMN_NELEM(f->err_at);
	int over = f->err_at[0] != 0 &&
	    f->tries - f->err_at[0] < FMN_MATCH_BROKEN_WINDOW;
	size_t k;

	for (k = 0; k + 1 < n; k++)
		f->err_at[k] = f->err_at[k + 1];
	f->err_at[n - 1] = f->tries;
	if (over)
		filter_break(e, f, fr);
}

/* Users. */

char *
id_key(long long id, char buf[32])
{
	snprintf(buf, 32, "%lld", id);
	return buf;
}

void
user_free(struct fmn_engine *e, struct euser *u)
{
	size_t i, j;

	for (i = 0; i < u->nprefs; i++)
		for (j = 0; j < u->prefs[i]->nfilters; j++)
			filter_free_parts(e, u->prefs[i]->filters[j]);
	free(u);
	e->nusers--;
}

void
user_remove(struct fmn_engine *e, long long id)
{
	char buf[32];
	struct euser *u = fmn_hmap_del(&e->users, id_key(id, buf));

	if (u != NULL)
		user_free(e, u);
}

/* Matching. */

/* By name: the first 16 bytes as numbers, the rest as text. */
static inline int
touched_less(const struct etouched *x, const struct etouched *y)
{
	if (x->key[0] != y->key[0])
		return x->key[0] < y->key[0];
	if (x->key[1] != y->key[1])
		return x->key[1] < y->key[1];
	return strcmp(x->user->name, y->user->name) < 0;
}

/*
 * The users a message found, in order of name: runs of 16 by insertion,
 * then merged pairwise (names are unique: no two are equal).
 */
static void
touched_sort(struct fmn_engine *e)
{
	struct etouched *a = e->touched, *b = e->touched_tmp, *t, x;
	size_t n = e->ntouched, lo, mid, hi, i, j, k, w;

	for (lo = 0; lo < n; lo += 16) {
		hi = lo + 16 < n ? lo + 16 : n;
		for (i = lo + 1; i < hi; i++) {
			x = a[i];
			for (j = i; j > lo && touched_less(&x, &a[j - 1]); j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
	}
	for (w = 16; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			mid = lo + w < n ? lo + w : n;
			hi = lo + 2 * w < n ? lo + 2 * w : n;
			i = lo;
			j = mid;
			k = lo;
			while (i < mid && j < hi)
				b[k++] = touched_less(&a[j], &a[i]) ? a[j++] :
				    a[i++];
			while (i < mid)
				b[k++] = a[i++];
			while (j < hi)
				b[k++] = a[j++];
		}
		t = a;
		a = b;
		b = t;
	}
	if (a != e->touched)
		memcpy(e->touched, a, n * sizeof(*a));
}

/*
 * How the message found f: {"kind", "key"} of the index it is filed in
 * (no key for the always list), or null when it did not (f was not a
 * candidate: its indexed rule is false for the message).
 */
static json_t *
explain_found(const struct fmn_engine *e, const struct efilter *f)
{
	json_t *o;
	char *key;

	if (!is_candidate(e, f->pref, f->at) || f->idx == IDX_NONE)
		return json_null();
	o = json_pack("{s:s}", "kind", index_kind_name(f->idx));
	if (f->idx_key != NULL) {
		key = f->idx_ptr == NULL ? xstrdup(f->idx_key) :
		    xasprintf("%s%s%s", f->idx_ptr, f->idx == IDX_FIELD ?
		    "=" : "~", f->idx_key);
		json_object_set_new(o, "key", json_string(key));
		free(key);
	}
	return o;
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
		fo = json_object();
		json_object_set_new(fo, "name", json_string(f->name));
		json_array_append_new(arr, fo);
		if (f->broken != NULL) {
			char *why = xasprintf("broken: %s", f->broken);

			json_object_set_new(fo, "result", json_string("skipped"));
			json_object_set_new(fo, "rule", json_null());
			json_object_set_new(fo, "why", json_string(why));
			free(why);
			continue;
		}
		if (e->explain_index)
			json_object_set_new(fo, "index", explain_found(e, f));
		v = filter_eval(e, f, 1, &failed);
		json_object_set_new(fo, "result", json_string(
		    v == FMN_MATCH_YES ? "match" :
		    v == FMN_MATCH_NO ? "no match" : "error"));
		if (f->bad_rule != NULL)
			json_object_set_new(fo, "rule", json_string(f->bad_rule));
		else if (failed != NULL) {
			char *tok = fref_token(failed);

			json_object_set_new(fo, "rule", json_string(tok));
			free(tok);
			if (v == FMN_MATCH_ERR) {
				char *why = fault_why(failed);

				json_object_set_new(fo, "why", json_string(why));
				free(why);
			}
		} else
			json_object_set_new(fo, "rule", json_null());
		if (f->nrules == 0 && f->bad_rule == NULL)
			json_object_set_new(fo, "why", json_string("no rules"));
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

/*
 * In a preference, the first candidate filter that matches fires. A
 * filter that fails counts toward being marked broken.
 */
static void
pref_match(struct fmn_engine *e, struct epref *p, struct fmn_recipients *out)
{
	const struct fref *failed;
	struct efilter *f;
	uint64_t first = p->cand;
	size_t j, d;
	int v;

	/* The candidates among the first 64 by their bits, then the rest. */
	for (j = 0; j < p->nfilters; j++) {
		if (j < 64) {
			if (first == 0) {
				j = 63;
				continue;
			}
			j = (size_t)__builtin_ctzll(first);
			first &= first - 1;
		} else if (p->filters[j]->cand_gen != e->gen)
			continue;
		f = p->filters[j];
		if (f->broken != NULL)
			continue;
		v = filter_eval(e, f, 0, &failed);
		f->tries++;
		if (v == FMN_MATCH_ERR)
			filter_erred(e, f, failed);
		if (v == FMN_MATCH_YES) {
			for (d = 0; d < p->ndests; d++)
				recipients_add(out, p, &p->dests[d], f);
			break;
		}
	}
}

void
fmn_engine_explain_index(struct fmn_engine *e, int on)
{
	e->explain_index = on;
}

int
fmn_engine_match(struct fmn_engine *e, struct fmn_msg *m,
    struct fmn_recipients *out, json_t *explain)
{
	struct euser *u;
	struct epref *p;
	size_t k, i;

	e->gen++;
	e->cur = m;
	e->ntouched = 0;

	/*
	 * Candidates: filters whose indexed rule this message can satisfy,
	 * less those a shared start rules out (not when explaining: the
	 * explanation shows every filter of a preference found).
	 */
	e->probing = explain == NULL;
	index_touch(e);

	/*
	 * Users by name, each user's preferences by context and their
	 * destinations by address (as loaded): the recipients come out in
	 * the order the caller gets them, with no sorting of recipients.
	 */
	touched_sort(e);

	/*
	 * User by user, each with an allowance of its own. The explanation
	 * comes after the user's matching, so that asking for it does not
	 * change what matches.
	 */
	for (i = 0; i < e->ntouched; i++) {
		u = e->touched[i].user;
		e->cur_user = u;
		e->spent = 0;
		for (k = 0; k < u->nprefs; k++) {
			p = u->prefs[k];
			if (p->touched_gen == e->gen)
				pref_match(e, p, out);
		}
		for (k = 0; explain != NULL && k < u->nprefs; k++) {
			p = u->prefs[k];
			if (p->touched_gen == e->gen)
				explain_pref(e, p, explain);
		}
	}
	e->cur_user = NULL;
	e->cur = NULL;
	return 0;
}
