/*
 * What a message finds in the filter engine's indexes (fmn_index.c
 * files the filters): the lists under what it has (its topic's whole,
 * prefixes, suffixes and segments, category, agent, usernames and their
 * groups, packages and their owners, the values at the pointers rules
 * name), the literals its topic, packages, fields and body contain, and
 * the always list; each filter found marked as a candidate in its
 * preference, unless its probe rules it out.
 */
#include "fmn_match_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_hmap.h"
#include "fmn_owners.h"
#include "fmn_rule.h"
#include "fmn_textidx.h"
#include "fmn_util.h"

/* Will the message skip entry x of a list (its probe rules it out)? */
static inline int
entry_out(struct fmn_engine *e, const struct fentry *x)
{
	return x->probe != NULL && e->probing &&
	    probe_value(e, x->probe) == FMN_MATCH_NO;
}

/*
 * Mark the candidates of a list in their preferences. The preferences
 * and users of a long list are in memory no message read lately: they
 * are fetched a few entries ahead, so that their misses overlap.
 */
static void
touch_list(struct fmn_engine *e, struct flist *l)
{
	const struct fentry *x;
	struct epref *p;
	struct euser *u;
	size_t i;

	if (l == NULL || l->gen == e->gen)
		return;
	l->gen = e->gen;
	for (i = 0; i < l->n; i++) {
		if (i + 8 < l->n && !entry_out(e, &l->v[i + 8]))
			__builtin_prefetch(l->v[i + 8].pref);
		if (i + 4 < l->n && !entry_out(e, &l->v[i + 4]))
			__builtin_prefetch(l->v[i + 4].pref->user);
		x = &l->v[i];
		if (entry_out(e, x))
			continue;	/* it would fail before its own rules */
		p = x->pref;
		if (p->touched_gen != e->gen) {
			p->touched_gen = e->gen;
			p->cand = 0;
			u = p->user;
			if (u->touched_gen != e->gen) {
				u->touched_gen = e->gen;
				if (e->ntouched == e->touched_cap) {
					e->touched_cap = e->touched_cap ?
					    e->touched_cap * 2 : 64;
					e->touched = xreallocarray(e->touched,
					    e->touched_cap, sizeof(*e->touched));
					e->touched_tmp = xreallocarray(
					    e->touched_tmp, e->touched_cap,
					    sizeof(*e->touched_tmp));
				}
				e->touched[e->ntouched].key[0] = u->sortkey[0];
				e->touched[e->ntouched].key[1] = u->sortkey[1];
				e->touched[e->ntouched++].user = u;
			}
			/* Matching reads them soon: fetch them now. */
			__builtin_prefetch(p->dests);
		}
		if (x->at < 64)
			p->cand |= (uint64_t)1 << x->at;
		else
			p->filters[x->at]->cand_gen = e->gen;
		__builtin_prefetch(p->filters[x->at]);
	}
}

/* Most probes of an index one may rule out at once. */
#define KPROBES_MAX	16

/*
 * Does the message find nothing in index k, whatever it has? So when
 * every filter there has a probe, there are few of them, and each rules
 * its filters out. Once per message and index.
 */
static int
ruled_out(struct fmn_engine *e, enum idx_kind k)
{
	struct fmn_hmap *m = &e->kprobes[k];
	long long key;
	size_t i;
	int out;

	if (!e->probing || e->unprobed[k] > 0 || m->n == 0 ||
	    m->n > KPROBES_MAX)
		return 0;
	if (e->out_gen[k] == e->gen)
		return e->out[k];
	out = 1;
	for (i = 0; out && fmn_imap_next(m, &i, &key, NULL); )
		out = probe_value(e, (struct probe *)(uintptr_t)key) ==
		    FMN_MATCH_NO;
	e->out_gen[k] = e->gen;
	e->out[k] = out;
	return out;
}

static void
touch_key(struct fmn_engine *e, enum idx_kind k, const char *key)
{
	if (key != NULL && e->idx[k].n > 0 && !ruled_out(e, k))
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

static void
touch_lit(void *arg, struct fmn_textlit *lit)
{
	touch_list(arg, lit->val);
}

/* The filters filed under literals of tx that text (len bytes) contains. */
static void
text_scan(struct fmn_engine *e, struct fmn_textidx *tx, const char *text,
    size_t len)
{
	if (tx->grams.n > 0)
		fmn_textidx_scan(tx, text, len, touch_lit, e);
}

/* The segments, prefixes and suffixes of the topic, in their indexes. */
static void
touch_topic_parts(struct fmn_engine *e, const char *topic)
{
	struct fmn_hmap *pre = &e->idx[IDX_TOPIC_PREFIX];
	struct fmn_hmap *suf = &e->idx[IDX_TOPIC_SUFFIX];
	struct fmn_hmap *seg = &e->idx[IDX_TOPIC_SEGMENT];
	const char *p = topic, *dot;

	if (pre->n == 0 && suf->n == 0 && seg->n == 0)
		return;
	for (;;) {
		dot = strchr(p, '.');
		if (seg->n > 0)
			touch_list(e, fmn_hmap_getn(seg, p, dot ? (size_t)(dot -
			    p) : strlen(p)));
		if (dot == NULL)
			break;
		if (pre->n > 0)
			touch_list(e, fmn_hmap_getn(pre, topic,
			    (size_t)(dot - topic)));
		if (suf->n > 0)
			touch_list(e, fmn_hmap_get(suf, dot + 1));
		p = dot + 1;
	}
}

/* The values at the pointers field: rules name. */
static void
touch_fields(struct fmn_engine *e, json_t *env)
{
	struct fptr *fp;
	struct fval *fv;
	json_t *v;
	char key[24], *text;
	size_t i;

	for (i = 0; fmn_hmap_next(&e->fields, &i, NULL, (void **)&fp); ) {
		if ((v = fmn_rule_field_get(fp->get, env)) == NULL)
			continue;
		text = NULL;
		if (fp->values.n > 0) {
			fv = NULL;
			switch (json_typeof(v)) {
			case JSON_STRING:
				fv = fmn_hmap_get(&fp->values,
				    json_string_value(v));
				break;
			case JSON_INTEGER:
			case JSON_REAL:
				/* Each spelling of the number: 5, 5.0, ... */
				num_key(json_number_value(v), key);
				for (fv = fmn_hmap_get(&fp->nums, key);
				    fv != NULL; fv = fv->num_next)
					touch_list(e, &fv->filters);
				break;
			case JSON_TRUE:
				fv = fmn_hmap_get(&fp->values, "true");
				break;
			case JSON_FALSE:
				fv = fmn_hmap_get(&fp->values, "false");
				break;
			case JSON_NULL:
				fv = fmn_hmap_get(&fp->values, "null");
				break;
			default:
				text = json_dumps(v, JSON_COMPACT |
				    JSON_ENCODE_ANY);
				if (text != NULL)
					fv = fmn_hmap_get(&fp->values, text);
				break;
			}
			if (fv != NULL)
				touch_list(e, &fv->filters);
		}
		if (fp->text.grams.n > 0) {
			if (json_is_string(v))
				text_scan(e, &fp->text, json_string_value(v),
				    json_string_length(v));
			else {
				if (text == NULL)
					text = json_dumps(v, JSON_COMPACT |
					    JSON_ENCODE_ANY);
				if (text != NULL)
					text_scan(e, &fp->text, text,
					    strlen(text));
			}
		}
		free(text);
	}
}

void
index_touch(struct fmn_engine *e)
{
	struct fmn_msg *m = e->cur;
	const char *body;
	size_t i;

	if (m->topic != NULL) {
		touch_key(e, IDX_TOPIC, m->topic);
		touch_topic_parts(e, m->topic);
		text_scan(e, &e->text[0], m->topic, strlen(m->topic));
	}
	if (m->category != NULL && *m->category != '\0')
		touch_key(e, IDX_CATEGORY, m->category);
	touch_key(e, IDX_AGENT, m->facts.agent);
	for (i = 0; i < m->facts.usernames.n; i++) {
		touch_key(e, IDX_USER, m->facts.usernames.v[i]);
		if (e->idx[IDX_GROUP].n > 0 && !ruled_out(e, IDX_GROUP))
			fmn_owners_foreach_group(e->owners,
			    m->facts.usernames.v[i], touch_group, e);
	}
	for (i = 0; i < m->facts.packages.n; i++) {
		const char *pkg = m->facts.packages.v[i];

		touch_key(e, IDX_PACKAGE, pkg);
		if (e->idx[IDX_OWNED].n > 0 && !ruled_out(e, IDX_OWNED))
			fmn_owners_foreach_owner(e->owners, pkg, touch_owned,
			    e);
		text_scan(e, &e->text[1], pkg, strlen(pkg));
	}
	if (e->fields.n > 0 && m->env != NULL)
		touch_fields(e, m->env);
	if (e->text[2].grams.n > 0 && m->body != NULL &&
	    (body = fmn_msg_body_text(m)) != NULL)
		text_scan(e, &e->text[2], body, strlen(body));
	touch_list(e, &e->always);
}
