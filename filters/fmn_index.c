/*
 * The filter engine's indexes (docs/filters.md, "How the engine is
 * fast"). Every filter is filed under one key taken from one of its
 * positive rules, so that a message finds, from what it has (its topic
 * and the topic's segments, category, agent, usernames, packages and
 * their owners, the values at the pointers rules name, its body text),
 * only the filters whose indexed rule it can satisfy:
 *
 *  - names (owned, user, package, group, agent), a whole topic, a
 *    category: the key itself;
 *  - a topic glob: the segments it fixes, from the start (four or more
 *    fix the category too), from the end, or one in between, looked up
 *    for each prefix, suffix and segment of the message's topic;
 *  - field:/ptr=VALUE: the value at that pointer;
 *  - a regex (topic-re, package-re, body-re, field:/ptr~REGEX): a run of
 *    text every match contains (fmn_literal.h), found in the subject by
 *    its n-grams; a ^-anchored topic regex that fixes four segments or
 *    more, by those segments like a glob.
 *
 * A filter with no positive rule that gives a key goes to the "always"
 * list and is evaluated for every message. What a message finds in the
 * indexes is fmn_index_touch.c's.
 */
#include "fmn_match_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_hmap.h"
#include "fmn_literal.h"
#include "fmn_rule.h"
#include "fmn_textidx.h"
#include "fmn_util.h"

static const char *const kind_names[IDX__COUNT + 1] = {
	[IDX_OWNED] = "owned",
	[IDX_USER] = "user",
	[IDX_PACKAGE] = "package",
	[IDX_GROUP] = "group",
	[IDX_AGENT] = "agent",
	[IDX_TOPIC] = "topic",
	[IDX_FIELD] = "field",
	[IDX_TOPIC_PREFIX] = "topic-prefix",
	[IDX_TOPIC_SUFFIX] = "topic-suffix",
	[IDX_CATEGORY] = "category",
	[IDX_TOPIC_SEGMENT] = "topic-segment",
	[IDX_TOPIC_TEXT] = "topic-text",
	[IDX_PACKAGE_TEXT] = "package-text",
	[IDX_FIELD_TEXT] = "field-text",
	[IDX_BODY_TEXT] = "body-text",
	[IDX_ALWAYS] = "always",
};

_Static_assert(FMN_ENGINE_INDEXES == IDX__COUNT + 1,
    "fmn_match.h counts the indexes, always list included");

const char *
index_kind_name(enum idx_kind k)
{
	return k <= IDX_ALWAYS ? kind_names[k] : "none";
}

/* Which of e->text a text kind uses; -1 for the others. */
static int
text_slot(enum idx_kind k)
{
	switch (k) {
	case IDX_TOPIC_TEXT:	return 0;
	case IDX_PACKAGE_TEXT:	return 1;
	case IDX_BODY_TEXT:	return 2;
	default:		return -1;
	}
}

/* Lists. */

static void
flist_add(struct flist *l, struct efilter *f)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 2;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].pref = f->pref;
	l->v[l->n].at = f->at;
	l->v[l->n].probe = f->probe;
	l->n++;
}

/* Probes. */

/*
 * f's probe: the rules its evaluation starts with (its indexed rule
 * aside, which holds for every candidate) while they are shared and
 * need no regex. NULL when it starts otherwise.
 */
static struct probe *
probe_get(struct fmn_engine *e, const struct efilter *f)
{
	struct probe p, *q;
	struct fmn_buf key;
	size_t i;
	void **slot;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < f->nrules && p.n < PROBE_MAX; i++) {
		if (i == f->sure)
			continue;
		if (f->rules[i].er->regex || f->rules[i].er->refs < PROBE_SHARED)
			break;
		p.r[p.n++] = f->rules[i];
	}
	if (p.n == 0)
		return NULL;
	fmn_buf_init(&key);
	for (i = 0; i < p.n; i++)
		fmn_buf_printf(&key, "%p%c", (void *)p.r[i].er,
		    p.r[i].negated ? '!' : '.');
	slot = fmn_hmap_put(&e->probes, key.data);
	if ((q = *slot) == NULL) {
		q = *slot = xmalloc(sizeof(*q));
		*q = p;
		q->key = fmn_buf_steal(&key);
	} else
		fmn_buf_free(&key);
	q->refs++;
	return q;
}

static void
probe_put(struct fmn_engine *e, struct probe *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	fmn_hmap_del(&e->probes, p->key);
	free(p->key);
	free(p);
}

static void
probe_free(void *p)
{
	free(((struct probe *)p)->key);
	free(p);
}

/* Count f's probe (or its lack) in its index, by delta. */
static void
kprobe_count(struct fmn_engine *e, const struct efilter *f, int delta)
{
	struct fmn_hmap *m = &e->kprobes[f->idx];
	uintptr_t n;

	if (f->probe == NULL) {
		e->unprobed[f->idx] += (size_t)delta;
		return;
	}
	n = (uintptr_t)fmn_imap_get(m, (long long)(uintptr_t)f->probe) +
	    (uintptr_t)(intptr_t)delta;
	if (n == 0)
		fmn_imap_del(m, (long long)(uintptr_t)f->probe);
	else
		fmn_imap_put(m, (long long)(uintptr_t)f->probe, (void *)n);
}

/*
 * The AND of the probe's rules for the current message, in order: a
 * filter it says NO for would stop there, before any rule of its own,
 * any regex, any charge to its user.
 */
int
probe_value(struct fmn_engine *e, struct probe *p)
{
	unsigned i;
	int v = FMN_MATCH_YES;

	if (p->gen == e->gen)
		return p->val;
	for (i = 0; i < p->n && v == FMN_MATCH_YES; i++) {
		v = erule_value(e, p->r[i].er);
		if (p->r[i].negated)
			v = fmn_match_negate(v);
	}
	p->gen = e->gen;
	p->val = v;
	return v;
}

static void
flist_remove(struct flist *l, struct efilter *f)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].pref == f->pref && l->v[i].at == f->at) {
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

/* The list under key in map, made when absent. */
static struct flist *
map_list(struct fmn_hmap *map, const char *key)
{
	void **slot = fmn_hmap_put(map, key);

	if (*slot == NULL)
		*slot = xcalloc(1, sizeof(struct flist));
	return *slot;
}

static void
map_remove(struct fmn_hmap *map, const char *key, struct efilter *f)
{
	struct flist *l = fmn_hmap_get(map, key);

	if (l == NULL)
		return;
	flist_remove(l, f);
	if (l->n == 0)
		flist_free(fmn_hmap_del(map, key));
}

/* Text indexes: the filters of a literal share a list, its val. */

/*
 * Text nearly every subject of an index contains (the environments of
 * fedmsg topics, common package prefixes, the keys of fedmsg bodies):
 * filed only when a literal has nothing else.
 */
static const char *const common_text[3] = {
	"org.fedoraproject.prod.stg.dev.release-monitoring.centos.ci.io.",
	"python-perl-rubygem-golang-nodejs-ghc-rust-texlive-php-",
	"\":\"\",\"\":{\"\":[\"\"],\"username\":\"user\":\"name\":\"agent\":"
	    "\"msg\":\"owner\":\"package\":\"update\":\"title\":\"id\":"
	    "true,false,null,https://fedoraproject.org/",
};

static void
lit_add(struct fmn_textidx *tx, const char *text, struct efilter *f)
{
	struct fmn_textlit *lit = fmn_textidx_put(tx, text);

	if (lit->val == NULL)
		lit->val = xcalloc(1, sizeof(struct flist));
	flist_add(lit->val, f);
}

static void
lit_remove(struct fmn_textidx *tx, const char *text, struct efilter *f)
{
	struct fmn_textlit *lit = fmn_textidx_get(tx, text);
	struct flist *l;

	if (lit == NULL)
		return;
	l = lit->val;
	flist_remove(l, f);
	if (l->n > 0)
		return;
	flist_free(l);
	fmn_textidx_del(tx, text);
}

/* Field indexes. */

/* A number as the key of nums: its bits, with -0 as 0. */
void
num_key(double d, char buf[24])
{
	uint64_t bits;

	if (d == 0)
		d = 0;
	memcpy(&bits, &d, sizeof(bits));
	snprintf(buf, 24, "%016llx", (unsigned long long)bits);
}

static struct fptr *
fptr_get(struct fmn_engine *e, const char *ptr)
{
	void **slot = fmn_hmap_put(&e->fields, ptr);
	struct fptr *fp = *slot;
	char *arg;

	if (fp == NULL) {
		fp = xcalloc(1, sizeof(*fp));
		fp->ptr = xstrdup(ptr);
		fmn_textidx_init(&fp->text, NULL);
		arg = xasprintf("%s=x", ptr);
		fp->get = fmn_rule_compile(FMN_RULE_FIELD, arg, NULL);
		free(arg);
		*slot = fp;
	}
	return fp;
}

static void
fval_free(void *p)
{
	struct fval *v = p;

	free(v->filters.v);
	free(v->text);
	free(v->num);
	free(v);
}

static void
fptr_free(void *p)
{
	struct fptr *fp = p;

	fmn_hmap_clear(&fp->nums, NULL);
	fmn_hmap_clear(&fp->values, fval_free);
	fmn_textidx_clear(&fp->text, flist_free);
	fmn_rule_destroy(&fp->get);
	free(fp->ptr);
	free(fp);
}

static void
fptr_put(struct fmn_engine *e, struct fptr *fp)
{
	if (fp->n > 0)
		return;
	fmn_hmap_del(&e->fields, fp->ptr);
	fptr_free(fp);
}

/*
 * File f under field:PTR=VALUE: the filters of one VALUE share a list,
 * found by the text (a string equals VALUE as text; true, false, null,
 * an array or object as their JSON) and, when VALUE reads as a number,
 * by that number.
 */
static void
fval_add(struct fptr *fp, const struct fmn_rule *r, struct efilter *f)
{
	const char *value;
	struct fval *v;
	double num;
	int is_num;
	char key[24];

	value = fmn_rule_field_value(r, &is_num, &num);
	if ((v = fmn_hmap_get(&fp->values, value)) == NULL) {
		v = xcalloc(1, sizeof(*v));
		v->text = xstrdup(value);
		*fmn_hmap_put(&fp->values, value) = v;
		if (is_num) {
			void **slot;

			num_key(num, key);
			v->num = xstrdup(key);
			slot = fmn_hmap_put(&fp->nums, key);
			v->num_next = *slot;	/* NULL when new */
			*slot = v;
		}
	}
	flist_add(&v->filters, f);
}

static void
fval_remove(struct fptr *fp, const char *value, struct efilter *f)
{
	struct fval *v = fmn_hmap_get(&fp->values, value);

	if (v == NULL)
		return;
	flist_remove(&v->filters, f);
	if (v->filters.n > 0)
		return;
	fmn_hmap_del(&fp->values, value);
	if (v->num != NULL) {
		void **slot = fmn_hmap_put(&fp->nums, v->num);
		struct fval *prev = *slot;

		if (prev == v && v->num_next != NULL)
			*slot = v->num_next;
		else if (prev == v)
			fmn_hmap_del(&fp->nums, v->num);
		else {
			while (prev->num_next != v)
				prev = prev->num_next;
			prev->num_next = v->num_next;
		}
	}
	fval_free(v);
}

/* Keys. */

/* A key a rule offers, and how good it is (lower ranks are better). */
struct ikey {
	enum idx_kind	 kind;
	long		 rank;
	char		*key;
	char		*ptr;		/* field kinds */
	const struct fmn_rule *rule;	/* field: its value */
};

/*
 * Ranks. Lower is better: a key fewer messages have. Within the text
 * kinds, the cost of the n-gram picked is added.
 */
enum {
	RANK_OWNED = 0, RANK_USER, RANK_PACKAGE, RANK_GROUP, RANK_AGENT,
	RANK_TOPIC, RANK_FIELD, RANK_PREFIX_LONG, RANK_SUFFIX_LONG,
	RANK_CATEGORY, RANK_SUFFIX, RANK_SEGMENT,
	RANK_TEXT = 100,		/* + the n-gram's cost */
	RANK_PREFIX_SHORT = 100000,	/* org.fedoraproject.*: most topics */
};

/* A glob's dot-separated pieces: [start, end) each, and no wildcard. */
struct piece {
	const char	*s;
	size_t		 len;
	int		 literal;
};

static size_t
glob_pieces(const char *g, struct piece **out)
{
	struct piece *v = NULL;
	const char *p = g, *dot;
	size_t n = 0;

	for (;;) {
		dot = strchr(p, '.');
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n].s = p;
		v[n].len = dot ? (size_t)(dot - p) : strlen(p);
		v[n].literal = memchr(p, '*', v[n].len) == NULL &&
		    memchr(p, '?', v[n].len) == NULL;
		n++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	*out = v;
	return n;
}

/* The longest run of g without a wildcard, or NULL. */
static char *
glob_run(const char *g)
{
	const char *p = g, *best = NULL;
	size_t len, blen = 0;

	while (*p != '\0') {
		len = strcspn(p, "*?");
		if (len > blen) {
			blen = len;
			best = p;
		}
		p += len;
		p += strspn(p, "*?");
	}
	return best ? xstrndup(best, blen) : NULL;
}

/*
 * A topic glob's key. A piece without a wildcard, between dots (or
 * between a dot and an end of the glob), is a whole segment of every
 * topic the glob matches, as the dots around it match only dots: the
 * leading such pieces are the topic's first segments, the trailing ones
 * its last, one in between is one of its segments.
 */
static int
glob_key(struct fmn_engine *e, const char *g, struct ikey *k)
{
	struct piece *pc;
	size_t n = glob_pieces(g, &pc), kp, ks, i, best = 0, bn = 0;
	const struct flist *l;
	long cost;
	char *run;

	for (kp = 0; kp < n && pc[kp].literal; kp++)
		;
	for (ks = 0; ks < n && pc[n - 1 - ks].literal; ks++)
		;
	if (kp >= 4) {
		k->kind = IDX_TOPIC_PREFIX;
		k->rank = RANK_PREFIX_LONG;
		k->key = xstrndup(g, (size_t)(pc[kp - 1].s + pc[kp - 1].len -
		    g));
	} else if (ks >= 1) {
		k->kind = IDX_TOPIC_SUFFIX;
		k->rank = ks >= 2 ? RANK_SUFFIX_LONG : RANK_SUFFIX;
		k->key = xstrdup(pc[n - ks].s);
	} else {
		/* The piece in between with the fewest filters, or longest. */
		for (i = 1; i + 1 < n; i++) {
			size_t ln;

			if (!pc[i].literal || pc[i].len == 0)
				continue;
			l = fmn_hmap_getn(&e->idx[IDX_TOPIC_SEGMENT], pc[i].s,
			    pc[i].len);
			ln = l ? l->n : 0;
			if (best == 0 || ln < bn || (ln == bn &&
			    pc[i].len > pc[best].len)) {
				best = i;
				bn = ln;
			}
		}
		if (best > 0) {
			k->kind = IDX_TOPIC_SEGMENT;
			k->rank = RANK_SEGMENT;
			k->key = xstrndup(pc[best].s, pc[best].len);
		} else if ((run = glob_run(g)) != NULL) {
			cost = fmn_textidx_cost(&e->text[0], run, strlen(run));
			k->kind = IDX_TOPIC_TEXT;
			k->rank = RANK_TEXT + cost;
			k->key = run;
		} else if (kp >= 1) {
			k->kind = IDX_TOPIC_PREFIX;
			k->rank = RANK_PREFIX_SHORT;
			k->key = xstrndup(g, (size_t)(pc[kp - 1].s +
			    pc[kp - 1].len - g));
		}
	}
	free(pc);
	return k->key != NULL ? 0 : -1;
}

/*
 * A regex's key: the run of the text it requires that files best in tx
 * (kind); for a topic regex anchored at ^ whose literal start fixes four
 * segments or more, those segments, as a glob's.
 */
static int
regex_key(const char *re, enum idx_kind kind,
    struct fmn_textidx *tx, struct ikey *k)
{
	struct fmn_literal lit;
	const struct fmn_literal_run *run;
	size_t i, segs = 0;
	long cost, best = 0;
	const char *dot;

	if (fmn_literal_regex(re, &lit) == -1 || lit.nruns == 0)
		return -1;
	if (kind == IDX_TOPIC_TEXT && (run = lit.prefix) != NULL) {
		for (i = 0; i < run->len; i++)
			segs += run->text[i] == '.';
		if (segs >= 4) {
			dot = strrchr(run->text, '.');
			k->kind = IDX_TOPIC_PREFIX;
			k->rank = RANK_PREFIX_LONG;
			k->key = xstrndup(run->text, (size_t)(dot - run->text));
			fmn_literal_clear(&lit);
			return 0;
		}
	}
	for (i = 0; i < lit.nruns; i++) {
		cost = fmn_textidx_cost(tx, lit.runs[i].text, lit.runs[i].len);
		if (k->key == NULL || cost < best || (cost == best &&
		    lit.runs[i].len > strlen(k->key))) {
			free(k->key);
			k->key = xstrdup(lit.runs[i].text);
			best = cost;
		}
	}
	k->kind = kind;
	k->rank = RANK_TEXT + best;
	fmn_literal_clear(&lit);
	return 0;
}

/* The key a positive rule offers; -1 when it offers none. */
static int
rule_key(struct fmn_engine *e, const struct fmn_rule *r, struct ikey *k)
{
	const char *arg = fmn_rule_argument(r);

	memset(k, 0, sizeof(*k));
	switch (fmn_rule_kind_of(r)) {
	case FMN_RULE_OWNED:
		k->kind = IDX_OWNED;
		k->rank = RANK_OWNED;
		break;
	case FMN_RULE_USER:
		k->kind = IDX_USER;
		k->rank = RANK_USER;
		break;
	case FMN_RULE_PACKAGE:
		k->kind = IDX_PACKAGE;
		k->rank = RANK_PACKAGE;
		break;
	case FMN_RULE_GROUP:
		k->kind = IDX_GROUP;
		k->rank = RANK_GROUP;
		break;
	case FMN_RULE_AGENT:
		k->kind = IDX_AGENT;
		k->rank = RANK_AGENT;
		break;
	case FMN_RULE_CATEGORY:
		k->kind = IDX_CATEGORY;
		k->rank = RANK_CATEGORY;
		break;
	case FMN_RULE_TOPIC:
		if (strpbrk(arg, "*?") != NULL)
			return glob_key(e, arg, k);
		k->kind = IDX_TOPIC;
		k->rank = RANK_TOPIC;
		break;
	case FMN_RULE_TOPIC_RE:
		return regex_key(arg, IDX_TOPIC_TEXT, &e->text[0], k);
	case FMN_RULE_PACKAGE_RE:
		return regex_key(arg, IDX_PACKAGE_TEXT, &e->text[1], k);
	case FMN_RULE_BODY_RE:
		return regex_key(arg, IDX_BODY_TEXT, &e->text[2], k);
	case FMN_RULE_FIELD: {
		size_t plen = fmn_rule_field_pointer_len(r);
		struct fptr *fp;
		int ret;

		k->ptr = xstrndup(arg, plen);
		k->rule = r;
		if (fmn_rule_field_op(r) == '=') {
			k->kind = IDX_FIELD;
			k->rank = RANK_FIELD;
			k->key = xstrdup(arg + plen + 1);
			return 0;
		}
		/* Scored against the pointer's own index, when it has one. */
		fp = fmn_hmap_get(&e->fields, k->ptr);
		ret = regex_key(fmn_rule_regex(r), IDX_FIELD_TEXT,
		    fp != NULL ? &fp->text : &e->text[2], k);
		if (ret == -1) {
			free(k->ptr);
			k->ptr = NULL;
		}
		return ret;
	}
	default:
		return -1;
	}
	k->key = xstrdup(arg);
	return 0;
}

static void
ikey_clear(struct ikey *k)
{
	free(k->key);
	free(k->ptr);
	memset(k, 0, sizeof(*k));
}

void
filter_index(struct fmn_engine *e, struct efilter *f)
{
	struct ikey best = { 0 }, k;
	char *items, *p, *comma;
	struct fptr *fp;
	const struct fref *fr;
	size_t i, j, at = 0;
	int slot;

	f->sure = f->nrules;
	if (f->bad_rule != NULL || f->broken != NULL || f->nrules == 0) {
		f->idx = IDX_NONE;
		return;
	}
	/* In position order: the first of equally good keys is taken. */
	for (i = 0; i < f->nrules; i++) {
		j = f->pos[i];
		fr = &f->rules[j];
		if (fr->negated || rule_key(e, fr->er->rule, &k) == -1)
			continue;
		if (best.key == NULL || k.rank < best.rank) {
			ikey_clear(&best);
			best = k;
			at = j;
		} else
			ikey_clear(&k);
	}
	if (best.key == NULL) {
		f->idx = IDX_ALWAYS;
		flist_add(&e->always, f);
		e->nindexed[IDX_ALWAYS]++;
		kprobe_count(e, f, 1);
		return;
	}
	f->idx = best.kind;
	f->idx_key = best.key;
	f->idx_ptr = best.ptr;
	e->nindexed[best.kind]++;
	/*
	 * An exact key is found only by the messages its rule holds for:
	 * matching need not evaluate that rule again.
	 */
	if (best.kind < IDX_TOPIC_PREFIX || best.kind == IDX_CATEGORY)
		f->sure = at;
	f->probe = probe_get(e, f);
	kprobe_count(e, f, 1);
	switch (best.kind) {
	case IDX_TOPIC_TEXT:
	case IDX_PACKAGE_TEXT:
	case IDX_BODY_TEXT:
		slot = text_slot(best.kind);
		lit_add(&e->text[slot], f->idx_key, f);
		return;
	case IDX_FIELD:
		fp = fptr_get(e, f->idx_ptr);
		fp->n++;
		fval_add(fp, best.rule, f);
		return;
	case IDX_FIELD_TEXT:
		fp = fptr_get(e, f->idx_ptr);
		fp->n++;
		lit_add(&fp->text, f->idx_key, f);
		return;
	case IDX_CATEGORY:
		/* A category list is filed under each of its names. */
		items = xstrdup(f->idx_key);
		for (p = items; p != NULL; p = comma) {
			struct flist *l;

			if ((comma = strchr(p, ',')) != NULL)
				*comma++ = '\0';
			l = map_list(&e->idx[IDX_CATEGORY], p);
			/* "category:a,a" must not list the filter twice. */
			flist_remove(l, f);
			flist_add(l, f);
		}
		free(items);
		return;
	default:
		flist_add(map_list(&e->idx[best.kind], f->idx_key), f);
		return;
	}
}

void
filter_unindex(struct fmn_engine *e, struct efilter *f)
{
	char *items, *p, *comma;
	struct fptr *fp;

	switch (f->idx) {
	case IDX_NONE:
		return;
	case IDX_ALWAYS:
		flist_remove(&e->always, f);
		e->nindexed[IDX_ALWAYS]--;
		kprobe_count(e, f, -1);
		f->idx = IDX_NONE;
		return;
	case IDX_TOPIC_TEXT:
	case IDX_PACKAGE_TEXT:
	case IDX_BODY_TEXT:
		lit_remove(&e->text[text_slot(f->idx)], f->idx_key, f);
		break;
	case IDX_FIELD:
	case IDX_FIELD_TEXT:
		if ((fp = fmn_hmap_get(&e->fields, f->idx_ptr)) == NULL)
			break;
		if (f->idx == IDX_FIELD)
			fval_remove(fp, f->idx_key, f);
		else
			lit_remove(&fp->text, f->idx_key, f);
		fp->n--;
		fptr_put(e, fp);
		break;
	case IDX_CATEGORY:
		items = xstrdup(f->idx_key);
		for (p = items; p != NULL; p = comma) {
			if ((comma = strchr(p, ',')) != NULL)
				*comma++ = '\0';
			map_remove(&e->idx[IDX_CATEGORY], p, f);
		}
		free(items);
		break;
	default:
		map_remove(&e->idx[f->idx], f->idx_key, f);
		break;
	}
	e->nindexed[f->idx]--;
	kprobe_count(e, f, -1);
	f->sure = f->nrules;
	probe_put(e, f->probe);
	f->probe = NULL;
	free(f->idx_key);
	free(f->idx_ptr);
	f->idx_key = f->idx_ptr = NULL;
	f->idx = IDX_NONE;
}

void
index_clear(struct fmn_engine *e)
{
	size_t i;

	for (i = 0; i < IDX__COUNT; i++)
		fmn_hmap_clear(&e->idx[i], flist_free);
	for (i = 0; i < FMN_NELEM(e->text); i++) {
		fmn_textidx_clear(&e->text[i], flist_free);
		fmn_textidx_init(&e->text[i], common_text[i]);
	}
	fmn_hmap_clear(&e->fields, fptr_free);
	fmn_hmap_clear(&e->probes, probe_free);
	for (i = 0; i < FMN_NELEM(e->kprobes); i++) {
		fmn_imap_clear(&e->kprobes[i], NULL);
		e->unprobed[i] = 0;
		e->out_gen[i] = 0;
	}
	free(e->always.v);
	memset(&e->always, 0, sizeof(e->always));
	memset(e->nindexed, 0, sizeof(e->nindexed));
}
