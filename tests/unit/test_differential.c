/*
 * The indexed engine against a plain evaluator: random users with
 * random filters over the real corpus must get the same recipients.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmn_test.h"
#include "fmn_match.h"
#include "fmn_msg.h"
#include "fmn_owners.h"
#include "fmn_rule.h"
#include "fmn_store.h"
#include "fmn_log.h"
#include "fmn_util.h"
#include "match_fixture.h"

/*
 * Differential test. Random users, preferences, filters, owners and groups
 * over the corpus; the engine against a plain evaluator that reads the
 * database itself and evaluates every rule of every filter of every user.
 */

static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? (uint32_t)(rng_state % n) : 0;
}

struct pool {
	char	**v;
	size_t	  n;
};

static void
pool_add(struct pool *p, const char *s)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i], s) == 0)
			return;
	p->v = xreallocarray(p->v, p->n + 1, sizeof(*p->v));
	p->v[p->n++] = xstrdup(s);
}

static void
pool_free(struct pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static const char *
pick(const struct pool *p)
{
	return p->n ? p->v[rnd(p->n)] : "none";
}

static struct fmn_msg **
load_corpus(size_t *n, struct pool *users, struct pool *pkgs,
    struct pool *cats, struct pool *topics)
{
	const char *path = FMN_TEST_DATA "/fmfi-dev.json";
	struct fmn_msg **v;
	json_error_t jerr;
	json_t *all, *it, *x;
	size_t i, j;
	char *cause = NULL;

	if (access(path, R_OK) != 0)
		path = "/work/shared/corpus/fmfi-dev.json";
	all = json_load_file(path, 0, &jerr);
	if (all == NULL) {
		fprintf(stderr, "corpus %s: %s\n", path, jerr.text);
		abort();
	}
	v = xcalloc(json_array_size(all), sizeof(*v));
	*n = 0;
	json_array_foreach(all, i, it) {
		struct fmn_msg *m = fmn_msg_from_json(json_object_get(it, "msg"),
		    NULL, &cause);

		if (m == NULL) {
			free(cause);
			cause = NULL;
			continue;
		}
		/* The expected facts of the corpus stand in for derivation. */
		json_array_foreach(json_object_get(it, "expected_usernames"), j, x) {
			fmn_strset_add(&m->facts.usernames, json_string_value(x));
			pool_add(users, json_string_value(x));
		}
		json_array_foreach(json_object_get(it, "expected_packages"), j, x) {
			fmn_strset_add(&m->facts.packages, json_string_value(x));
			pool_add(pkgs, json_string_value(x));
		}
		fmn_strset_finish(&m->facts.usernames);
		fmn_strset_finish(&m->facts.packages);
		if ((x = json_object_get(it, "expected_agent")) != NULL &&
		    json_is_string(x))
			m->facts.agent = xstrdup(json_string_value(x));
		m->has_facts = 1;
		if (m->category != NULL && *m->category != '\0')
			pool_add(cats, m->category);
		pool_add(topics, m->topic);
		v[(*n)++] = m;
	}
	json_decref(all);
	return v;
}

/* The corpus the random rules are drawn from. */
static struct fmn_msg **corpus;
static size_t ncorpus;
static size_t nbroken;		/* filters the engine marked broken */

/* Append s (n bytes) to b with the regex metacharacters escaped. */
static void
re_escape(struct fmn_buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strchr("\\^$.|?*+()[]{}", s[i]) != NULL && s[i] != '\0')
			fmn_buf_addc(b, '\\');
		fmn_buf_addc(b, s[i]);
	}
}

/* A random run of s without spaces, 1 to max bytes, whole characters. */
static char *
random_run(const char *s, size_t max)
{
	size_t len = strlen(s), start, end;

	if (len == 0)
		return xstrdup("x");
	start = rnd((uint32_t)len);
	while (start > 0 && ((unsigned char)s[start] & 0xc0) == 0x80)
		start--;
	end = start;
	while (end < len && end - start < max && s[end] != ' ') {
		end++;
		while (end < len && ((unsigned char)s[end] & 0xc0) == 0x80)
			end++;
	}
	if (end == start)
		return xstrdup("x");
	return xstrndup(s + start, end - start);
}

/*
 * A regex that finds text: the text escaped, then changed at random:
 * anchored, a character made optional or repeated, a wildcard, a class
 * or a group put in; now and then a form with no required literal at
 * all (an alternation, a case-insensitive flag, everything in a group).
 */
static char *
random_regex(const char *text, int may_anchor, int long_subject)
{
	/*
	 * A long subject (a body, a field) gets no unbounded repeat of a
	 * class: on a long word, or a base64 signature, that backtracks to
	 * the match limit, and the regex budget (not the indexes) decides.
	 */
	static const char *inserts[] = { ".", ".*", "[a-z]*", "\\w+",
	    "\\s*", "(?:x|y)", "\\d?", "[^\"]{0,3}", "(?=.)", "\\b",
	    "[.]", "(a|b)?" };
	const size_t first_safe = 5;
	static const char *quants[] = { "?", "*", "+", "{1,2}", "{0,1}",
	    "+?", "{2}" };
	struct fmn_buf b;
	size_t len = strlen(text), i, cut = rnd((uint32_t)len + 1);
	size_t q = rnd(3) == 0 ? rnd((uint32_t)len) : (size_t)-1;
	int k = (int)rnd(12);

	fmn_buf_init(&b);
	fmn_buf_adds(&b, "");
	if (k == 0)
		fmn_buf_adds(&b, "(?i)");
	else if (k == 1)
		fmn_buf_adds(&b, "(");
	if (may_anchor && rnd(4) == 0)
		fmn_buf_addc(&b, '^');
	for (i = 0; i < len; i++) {
		if (i == cut && rnd(2))
			fmn_buf_adds(&b, long_subject ? inserts[first_safe +
			    rnd(FMN_NELEM(inserts) - first_safe)] :
			    inserts[rnd(FMN_NELEM(inserts))]);
		re_escape(&b, text + i, 1);
		if (i == q && ((unsigned char)text[i] & 0x80) == 0)
			fmn_buf_adds(&b, quants[rnd(FMN_NELEM(quants))]);
	}
	if (may_anchor && rnd(4) == 0)
		fmn_buf_addc(&b, '$');
	if (k == 1)
		fmn_buf_adds(&b, ")");
	else if (k == 2)
		fmn_buf_adds(&b, "|zz");
	return fmn_buf_steal(&b);
}

/* A glob made from a topic: pieces or characters made wildcards. */
static char *
random_glob(const char *topic)
{
	struct fmn_buf b;
	char *t = xstrdup(topic), *r, *p;
	const char *dots[16];
	size_t n = 0, len = strlen(t), i;

	for (p = t; n < 16; p++) {
		dots[n++] = p;
		if ((p = strchr(p, '.')) == NULL)
			break;
	}
	fmn_buf_init(&b);
	fmn_buf_adds(&b, "");
	switch (rnd(8)) {
	case 0:		/* the first pieces */
		i = 1 + rnd((uint32_t)n);
		fmn_buf_add(&b, t, i < n ? (size_t)(dots[i] - 1 - t) : len);
		fmn_buf_adds(&b, i < n || rnd(2) ? ".*" : "*");
		break;
	case 1:		/* the last pieces */
		i = rnd((uint32_t)n);
		fmn_buf_adds(&b, rnd(3) ? "*." : "*");
		fmn_buf_adds(&b, dots[i]);
		break;
	case 2:		/* one piece in between */
		i = rnd((uint32_t)n);
		r = xstrndup(dots[i], strcspn(dots[i], "."));
		fmn_buf_printf(&b, "*.%s.*", r);
		free(r);
		break;
	case 3:		/* a run anywhere */
		r = random_run(t, 8);
		fmn_buf_printf(&b, "*%s*", r);
		free(r);
		break;
	default:	/* '*' and '?' put in anywhere, in place of text */
		for (i = 0; i < len; i++) {
			switch (rnd(12)) {
			case 0:
				fmn_buf_addc(&b, '*');
				i += rnd(6);
				break;
			case 1:
				fmn_buf_addc(&b, '?');
				break;
			case 2:
				fmn_buf_addc(&b, '*');
				/* FALLTHROUGH */
			default:
				fmn_buf_addc(&b, t[i]);
			}
		}
		break;
	}
	free(t);
	return fmn_buf_steal(&b);
}

/* A pointer to somewhere in env, walked at random; *at is the value. */
static char *
random_pointer(json_t *env, json_t **at)
{
	struct fmn_buf b;
	json_t *cur = env, *next;
	const char *key;
	size_t i, depth = 1 + rnd(4);

	fmn_buf_init(&b);
	fmn_buf_adds(&b, "");
	for (i = 0; i < depth; i++) {
		if (json_is_object(cur) && json_object_size(cur) > 0) {
			size_t pick = rnd((uint32_t)json_object_size(cur)), k = 0;

			json_object_foreach(cur, key, next) {
				if (k++ == pick)
					break;
			}
			if (key[0] == '\0' || strspn(key, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
			    strlen(key))
				break;
			fmn_buf_printf(&b, "/%s", key);
			cur = next;
		} else if (json_is_array(cur) && json_array_size(cur) > 0) {
			size_t k = rnd((uint32_t)json_array_size(cur));

			fmn_buf_printf(&b, "/%zu", k);
			cur = json_array_get(cur, k);
		} else
			break;
	}
	if (b.len == 0)
		fmn_buf_adds(&b, "/msg/nope");
	*at = cur;
	return fmn_buf_steal(&b);
}

/* field:/ptr=VALUE or field:/ptr~REGEX about a random corpus message. */
static char *
random_field(const char *neg)
{
	struct fmn_msg *m = corpus[rnd((uint32_t)ncorpus)];
	json_t *v = NULL;
	char *ptr = random_pointer(m->env, &v), *text, *re, *r;

	if (json_is_string(v))
		text = xstrdup(json_string_value(v));
	else
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL)
		text = xstrdup("x");
	if (rnd(2) && strchr(text, ' ') == NULL && *text != '\0' &&
	    strlen(text) < 200)
		r = xasprintf("%sfield:%s=%s", neg, ptr, text);
	else {
		char *run = random_run(text, 10);

		re = random_regex(run, 1, 1);
		/* A digit or '=' right after '~' would be the pointer's. */
		if (isdigit((unsigned char)re[0]) || re[0] == '=')
			r = xasprintf("%sfield:%s~[%c]%s", neg, ptr, re[0],
			    re + 1);
		else
			r = xasprintf("%sfield:%s~%s", neg, ptr, re);
		free(run);
		free(re);
	}
	free(text);
	free(ptr);
	return r;
}

static char *
random_rule_raw(const struct pool *users, const struct pool *pkgs,
    const struct pool *cats, const struct pool *topics, const struct pool *grps)
{
	static const char *res[] = { "^org\\.fedoraproject\\.prod", "bodhi",
	    "\\.(git|koji)\\.", "stg", "comment$" };
	static const char *bodyres[] = { "\"user\"", "kernel", "(?i)fedora",
	    "karma", "\"status\":\"stable\"" };
	static const char *fields[] = { "field:/msg/user=ralph",
	    "field:/msg/update/status=stable", "field:/msg/agent~^r",
	    "field:/topic~prod", "field:/msg/comment/karma=1",
	    "field:/msg/owner~.", "field:/i=1", "field:/i=1.0",
	    "field:/msg/comment/karma=+1", "field:/i=1e0" };
	const char *neg = rnd(3) == 0 ? "!" : "";
	char *x, *y, *r;

	switch (rnd(20)) {
	case 0: {
		char *t = xstrdup(pick(topics)), *dot;

		/* Exact topics, and globs made by cutting a topic. */
		if (rnd(2) && (dot = strrchr(t, '.')) != NULL)
			strcpy(dot, ".*");
		r = xasprintf("%stopic:%s", neg, rnd(4) ? t : "*.bodhi.*");
		free(t);
		return r;
	}
	case 1: return xasprintf("%stopic-re:%s", neg, res[rnd(5)]);
	case 2: return rnd(2) ? xasprintf("%scategory:%s", neg, pick(cats)) :
		    xasprintf("%scategory:%s,%s", neg, pick(cats), pick(cats));
	case 3: return xasprintf("%suser:%s", neg, pick(users));
	case 4: return xasprintf("%sagent:%s", neg, pick(users));
	case 5: return xasprintf("%spackage:%s", neg, pick(pkgs));
	case 6: return xasprintf("%spackage-re:^%c", neg, 'a' + rnd(26));
	case 7: return xasprintf("%sowned:%s", neg, pick(users));
	case 8: return xasprintf("%sgroup:%s", neg, pick(grps));
	case 9: return xasprintf("%s%s", neg, fields[rnd(FMN_NELEM(fields))]);
	case 10: return xasprintf("%sbody-re:%s", neg, bodyres[rnd(5)]);
	case 11:
	case 12:
		x = random_glob(pick(topics));
		r = xasprintf("%stopic:%s", neg, x);
		free(x);
		return r;
	case 13:
		x = random_run(pick(topics), 16);
		y = random_regex(x, 1, 0);
		r = xasprintf("%stopic-re:%s", neg, y);
		break;
	case 14:
		x = random_run(fmn_msg_body_text(corpus[rnd((uint32_t)ncorpus)]),
		    12);
		y = random_regex(x, 0, 1);
		r = xasprintf("%sbody-re:%s", neg, y);
		break;
	case 15:
		x = random_run(pick(pkgs), 6);
		y = random_regex(x, 1, 0);
		r = xasprintf("%spackage-re:%s", neg, y);
		break;
	case 16:
	case 17:
		return random_field(neg);
	default: return xasprintf("%suser:%s", neg, pick(users));
	}
	free(x);
	free(y);
	return r;
}

/* A random rule token that parses (fmnctl would refuse the others). */
static char *
random_rule(const struct pool *users, const struct pool *pkgs,
    const struct pool *cats, const struct pool *topics, const struct pool *grps)
{
	struct fmn_rule_spec spec;
	char *tok, *cause = NULL;

	for (;;) {
		tok = random_rule_raw(users, pkgs, cats, topics, grps);
		if (strchr(tok, ' ') == NULL &&
		    fmn_rule_parse(tok, &spec, &cause) == 0) {
			fmn_rule_spec_clear(&spec);
			return tok;
		}
		free(cause);
		cause = NULL;
		free(tok);
	}
}

/* Write one random user's whole configuration (replacing any). */
static void
random_user(sqlite3 *db, const char *name, const struct pool *users,
    const struct pool *pkgs, const struct pool *cats, const struct pool *topics,
    const struct pool *grps)
{
	static const char *ctxs[] = { "email", "irc" };
	sqlite3_stmt *st;
	long long uid, pid;
	struct fmn_buf rules;
	char addr[128], fname[16];
	int c, d, f, r, nf, nr;

	sqlite3_prepare_v2(db, "DELETE FROM users WHERE name = ?", -1, &st, NULL);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	uid = add_user(db, name);
	for (c = 0; c < 2; c++) {
		if (rnd(5) == 0)
			continue;
		for (d = 0; d < (int)rnd(3); d++) {
			snprintf(addr, sizeof(addr), c ? "%s%d" : "%s%d@example.org",
			    name, d);
			add_dest(db, uid, ctxs[c], addr, rnd(4) != 0, rnd(5) == 0);
		}
		pid = add_pref(db, uid, ctxs[c], rnd(6) != 0);
		nf = (int)rnd(4);
		for (f = 0; f < nf; f++) {
			fmn_buf_init(&rules);
			fmn_buf_adds(&rules, "");
			nr = (int)rnd(5);
			for (r = 0; r < nr; r++) {
				char *tok = random_rule(users, pkgs, cats,
				    topics, grps);

				fmn_buf_printf(&rules, "%s%s", r ? " " : "", tok);
				free(tok);
			}
			snprintf(fname, sizeof(fname), "f%d", f);
			add_filter(db, pid, fname, (int)rnd(10), rnd(6) != 0,
			    rules.data);
			fmn_buf_free(&rules);
		}
	}
}

/* The plain evaluator: no index, no sharing, every rule compiled anew. */
static char *
plain_match(sqlite3 *db, const struct fmn_owners *o, struct fmn_msg *m)
{
	struct fmn_recipients out = { 0 };
	sqlite3_stmt *pst, *fst, *rst, *dst;
	char *s;

	sqlite3_prepare_v2(db, "SELECT p.id, u.name, p.context, u.id FROM "
	    "preferences p JOIN users u ON u.id = p.user_id WHERE p.enabled",
	    -1, &pst, NULL);
	sqlite3_prepare_v2(db, "SELECT id, name FROM filters WHERE "
	    "preference_id = ? AND active AND broken IS NULL "
	    "ORDER BY position, id", -1, &fst, NULL);
	sqlite3_prepare_v2(db, "SELECT kind, argument, negated FROM rules "
	    "WHERE filter_id = ? ORDER BY position, id", -1, &rst, NULL);
	sqlite3_prepare_v2(db, "SELECT address FROM destinations WHERE "
	    "user_id = ? AND context = ? AND confirmed", -1, &dst, NULL);
	while (sqlite3_step(pst) == SQLITE_ROW) {
		sqlite3_reset(fst);
		sqlite3_bind_int64(fst, 1, sqlite3_column_int64(pst, 0));
		while (sqlite3_step(fst) == SQLITE_ROW) {
			int res = FMN_MATCH_YES, nrules = 0;

			sqlite3_reset(rst);
			sqlite3_bind_int64(rst, 1, sqlite3_column_int64(fst, 0));
			while (sqlite3_step(rst) == SQLITE_ROW) {
				int k = fmn_rule_kind_lookup(
				    (const char *)sqlite3_column_text(rst, 0));
				struct fmn_rule *r = fmn_rule_compile(k,
				    (const char *)sqlite3_column_text(rst, 1), NULL);
				int v = fmn_rule_eval(r, m, o);

				if (sqlite3_column_int(rst, 2))
					v = fmn_match_negate(v);
				if (v != FMN_MATCH_YES && res == FMN_MATCH_YES)
					res = v;
				nrules++;
				fmn_rule_destroy(&r);
			}
			if (nrules == 0 || res != FMN_MATCH_YES)
				continue;
			sqlite3_reset(dst);
			sqlite3_bind_int64(dst, 1, sqlite3_column_int64(pst, 3));
			sqlite3_bind_text(dst, 2,
			    (const char *)sqlite3_column_text(pst, 2), -1,
			    SQLITE_TRANSIENT);
			while (sqlite3_step(dst) == SQLITE_ROW) {
				if (out.n == out.cap) {
					out.cap = out.cap ? out.cap * 2 : 8;
					out.v = xreallocarray(out.v, out.cap,
					    sizeof(*out.v));
				}
				out.v[out.n].user = xstrdup((const char *)
				    sqlite3_column_text(pst, 1));
				out.v[out.n].context = xstrdup((const char *)
				    sqlite3_column_text(pst, 2));
				out.v[out.n].address = xstrdup((const char *)
				    sqlite3_column_text(dst, 0));
				out.v[out.n].filter = xstrdup((const char *)
				    sqlite3_column_text(fst, 1));
				out.n++;
			}
			break;
		}
	}
	sqlite3_finalize(pst);
	sqlite3_finalize(fst);
	sqlite3_finalize(rst);
	sqlite3_finalize(dst);
	/* Same order as the engine: user, context, address. */
	for (size_t i = 1; i < out.n; i++) {
		struct fmn_recipient t = out.v[i];
		size_t j = i;

		while (j > 0 && (strcmp(out.v[j - 1].user, t.user) > 0 ||
		    (strcmp(out.v[j - 1].user, t.user) == 0 &&
		    (strcmp(out.v[j - 1].context, t.context) > 0 ||
		    (strcmp(out.v[j - 1].context, t.context) == 0 &&
		    strcmp(out.v[j - 1].address, t.address) > 0))))) {
			out.v[j] = out.v[j - 1];
			j--;
		}
		out.v[j] = t;
	}
	s = recipients_str(&out);
	for (size_t i = 0; i < out.n; i++) {
		free((char *)out.v[i].user);
		free((char *)out.v[i].context);
		free((char *)out.v[i].address);
		free((char *)out.v[i].filter);
	}
	fmn_recipients_free(&out);
	return s;
}

/*
 * The engine's recipients; and in its explanation, every filter that
 * matches must have been found through an index (its indexed rule
 * holds whenever the filter does), else *bad is counted up.
 */
static char *
match_explained(struct fmn_engine *e, struct fmn_msg *m, int *bad)
{
	struct fmn_recipients r = { 0 };
	json_t *ex = json_array(), *u, *f;
	size_t i, j;
	char *s;

	CHECK_INT(fmn_engine_match(e, m, &r, ex), 0);
	json_array_foreach(ex, i, u) {
		json_array_foreach(json_object_get(u, "filters"), j, f) {
			const char *res = json_string_value(json_object_get(f,
			    "result"));

			if (res == NULL || strcmp(res, "match") != 0 ||
			    !json_is_null(json_object_get(f, "index")))
				continue;
			if ((*bad)++ < 5)
				fprintf(stderr, "%s: filter %s of %s matches, "
				    "not found by its index\n", m->topic,
				    json_string_value(json_object_get(f, "name")),
				    json_string_value(json_object_get(u, "user")));
		}
	}
	json_decref(ex);
	s = recipients_str(&r);
	fmn_recipients_free(&r);
	return s;
}

/* For a failure: the rules of a user the two disagree on, as evaluated. */
static void
print_user(sqlite3 *db, const struct fmn_owners *o, struct fmn_msg *m,
    const char *user)
{
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "SELECT p.context, f.name, r.kind, r.argument, "
	    "r.negated, p.enabled, f.active FROM users u JOIN preferences p "
	    "ON p.user_id = u.id JOIN filters f ON f.preference_id = p.id "
	    "LEFT JOIN rules r ON r.filter_id = f.id WHERE u.name = ? "
	    "ORDER BY p.context, f.position, f.id, r.position, r.id", -1, &st,
	    NULL);
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	fprintf(stderr, "  user %s:\n", user);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 2);
		const char *arg = (const char *)sqlite3_column_text(st, 3);
		struct fmn_rule *r = kind ? fmn_rule_compile(
		    fmn_rule_kind_lookup(kind), arg, NULL) : NULL;
		int v = r ? fmn_rule_eval(r, m, o) : -2;

		fprintf(stderr, "    %s %s%s%s: %s%s:%s -> %d\n",
		    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		    sqlite3_column_int(st, 5) ? "" : " (disabled)",
		    sqlite3_column_int(st, 6) ? "" : " (inactive)",
		    sqlite3_column_int(st, 4) ? "!" : "", kind ? kind : "-",
		    arg ? arg : "-", v);
		fmn_rule_destroy(&r);
	}
	sqlite3_finalize(st);
}

/* The users whose lines differ between two results a and b. */
static void
print_difference(sqlite3 *db, const struct fmn_owners *o, struct fmn_msg *m,
    const char *a, const char *b, json_t *ex)
{
	char *x = xasprintf(";%s;", a), *y = xasprintf(";%s;", b), *p, *q;
	char *done = xstrdup(";");
	json_t *u;
	size_t k;

	for (int side = 0; side < 2; side++) {
		char *in = side ? y : x, *other = side ? x : y;

		for (p = in + 1; *p != '\0'; p = q + 1) {
			char *line, *user, *tag;

			if ((q = strchr(p, ';')) == NULL)
				break;
			line = xasprintf(";%.*s;", (int)(q - p), p);
			user = xstrndup(p, strcspn(p, "/"));
			tag = xasprintf(";%s;", user);
			if (strstr(other, line) == NULL &&
			    strstr(done, tag) == NULL) {
				print_user(db, o, m, user);
				json_array_foreach(ex, k, u) {
					char *d;

					if (strcmp(json_string_value(json_object_get(
					    u, "user")), user) != 0)
						continue;
					d = json_dumps(u, JSON_COMPACT);
					fprintf(stderr, "    engine: %s\n", d);
					free(d);
				}
				p = xasprintf("%s%s;", done, user);
				free(done);
				done = p;
				p = line;	/* only to keep q meaningful */
			}
			free(tag);
			free(user);
			free(line);
		}
	}
	free(done);
	free(x);
	free(y);
}

/*
 * Filters the engine found over budget are marked as fmnd marks them, so
 * that the plain evaluator leaves them out too: a regex that reaches its
 * match limit on three messages is the budget's business, not the
 * indexes'.
 */
static void
record_broken(sqlite3 *db, struct fmn_engine *e)
{
	struct fmn_broken *v;
	sqlite3_stmt *st;
	size_t i, n = fmn_engine_take_broken(e, &v);

	sqlite3_prepare_v2(db, "UPDATE filters SET broken = ?, broken_since "
	    "= 0 WHERE id = ?", -1, &st, NULL);
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, v[i].reason, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, v[i].filter_id);
		CHECK_INT(sqlite3_step(st), SQLITE_DONE);
	}
	sqlite3_finalize(st);
	nbroken += n;
	fmn_engine_broken_free(v, n);
}

static int
compare_all(sqlite3 *db, struct fmn_engine *e, struct fmn_msg **msgs, size_t n,
    size_t *fired)
{
	struct fmn_owners *o = fmn_owners_new();
	char *cause = NULL, *a, *b;
	int bad = 0;
	size_t i;

	CHECK_INT(fmn_owners_load(o, db, &cause), 0);
	fmn_engine_explain_index(e, 1);
	for (i = 0; i < n; i++) {
		a = match_explained(e, msgs[i], &bad);
		record_broken(db, e);
		b = plain_match(db, o, msgs[i]);
		if (strcmp(a, b) != 0) {
			if (bad++ < 5) {
				fprintf(stderr, "message %zu (%s):\n  engine: %s\n"
				    "  plain:  %s\n", i, msgs[i]->topic, a, b);
				struct fmn_recipients r = { 0 };
				json_t *ex = json_array();

				fmn_engine_match(e, msgs[i], &r, ex);
				print_difference(db, o, msgs[i], a, b, ex);
				fmn_recipients_free(&r);
				json_decref(ex);
			}
		}
		if (*a != '\0')
			(*fired)++;
		free(a);
		free(b);
	}
	fmn_owners_destroy(&o);
	return bad;
}

/* How the random filters were filed: every index should have some. */
static void
print_indexes(struct fmn_engine *e)
{
	struct fmn_engine_stats st;
	int k;

	fmn_engine_stats(e, &st);
	printf("%zu filters:", st.filters);
	for (k = 0; k < FMN_ENGINE_INDEXES; k++)
		printf(" %s %zu", fmn_engine_index_name(k), st.indexed[k]);
	printf("\n");
}

TEST(differential_against_plain_evaluator)
{
	struct pool users = { 0 }, pkgs = { 0 }, cats = { 0 }, topics = { 0 },
	    grps = { 0 };
	struct fmn_msg **msgs;
	struct fmn_engine *e;
	sqlite3 *db;
	char name[32], gname[32];
	const char *seed_env = getenv("FMN_TEST_SEED");
	size_t n, i, fired = 0;
	int round, bad;
	char *cause = NULL;

	rng_state = seed_env ? strtoull(seed_env, NULL, 0) :
	    (uint64_t)fmn_monotonic_ms() * 2654435761u + 1;
	if (rng_state == 0)
		rng_state = 1;
	printf("differential seed %llu (FMN_TEST_SEED to repeat)\n",
	    (unsigned long long)rng_state);
	msgs = load_corpus(&n, &users, &pkgs, &cats, &topics);
	CHECK(n > 300);
	corpus = msgs;
	ncorpus = n;
	db = db_new();
	sql(db, "BEGIN");
	for (i = 0; i < 12; i++) {
		snprintf(gname, sizeof(gname), "grp%zu", i);
		pool_add(&grps, gname);
		for (int k = 0; k < 4; k++)
			add_member(db, gname, pick(&users));
	}
	for (i = 0; i < pkgs.n; i++) {
		for (int k = (int)rnd(3); k > 0; k--)
			add_owner(db, pkgs.v[i], pick(&users), 0);
		if (rnd(3) == 0)
			add_owner(db, pkgs.v[i], pick(&grps), 1);
	}
	/*
	 * Users named like the corpus's people, and others; a third of
	 * these alike in their first 16 bytes and more, so that putting
	 * recipients in order must read past them.
	 */
	for (i = 0; i < 300; i++) {
		if (i < users.n)
			snprintf(name, sizeof(name), "%s", users.v[i]);
		else if (i % 3 == 1)
			snprintf(name, sizeof(name), "one-of-many-alike-%zu",
			    300 - i);
		else
			snprintf(name, sizeof(name), "x%zu", i);
		random_user(db, name, &users, &pkgs, &cats, &topics, &grps);
	}
	sql(db, "COMMIT");
	e = engine_for(db);
	print_indexes(e);
	bad = compare_all(db, e, msgs, n, &fired);
	CHECK_INT(bad, 0);
	/* Rewrite some users, reload only them, compare again. */
	for (round = 0; round < 3 && bad == 0; round++) {
		for (i = 0; i < 20; i++) {
			long long uid;
			sqlite3_stmt *st;

			snprintf(name, sizeof(name), "%s", i < users.n ?
			    users.v[rnd(users.n)] : "x299");
			sqlite3_prepare_v2(db, "SELECT id FROM users WHERE name = ?",
			    -1, &st, NULL);
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
			uid = sqlite3_step(st) == SQLITE_ROW ?
			    sqlite3_column_int64(st, 0) : -1;
			sqlite3_finalize(st);
			random_user(db, name, &users, &pkgs, &cats, &topics, &grps);
			CHECK_INT(fmn_engine_reload_user(e, db, uid, &cause), 0);
			sqlite3_prepare_v2(db, "SELECT id FROM users WHERE name = ?",
			    -1, &st, NULL);
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				CHECK_INT(fmn_engine_reload_user(e, db,
				    sqlite3_column_int64(st, 0), &cause), 0);
			sqlite3_finalize(st);
		}
		bad = compare_all(db, e, msgs, n, &fired);
		CHECK_INT(bad, 0);
	}
	printf("%zu messages x 4 rounds, %zu non-empty results, %zu filters "
	    "marked broken\n", n, fired, nbroken);
	/* The random rules must exercise the engine, not just agree on "". */
	CHECK(fired > n / 4);
	fmn_engine_destroy(&e);
	for (i = 0; i < n; i++)
		fmn_msg_destroy(&msgs[i]);
	free(msgs);
	pool_free(&users);
	pool_free(&pkgs);
	pool_free(&cats);
	pool_free(&topics);
	pool_free(&grps);
	db_done(db);
}
