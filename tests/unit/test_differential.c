/*
 * The indexed engine against a plain evaluator: random users with
 * random filters over the real corpus must get the same recipients.
 */
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

static char *
random_rule(const struct pool *users, const struct pool *pkgs,
    const struct pool *cats, const struct pool *topics, const struct pool *grps)
{
	static const char *res[] = { "^org\\.fedoraproject\\.prod", "bodhi",
	    "\\.(git|koji)\\.", "stg", "comment$" };
	static const char *bodyres[] = { "\"user\"", "kernel", "(?i)fedora",
	    "karma", "\"status\":\"stable\"" };
	static const char *fields[] = { "field:/msg/user=ralph",
	    "field:/msg/update/status=stable", "field:/msg/agent~^r",
	    "field:/topic~prod", "field:/msg/comment/karma=1",
	    "field:/msg/owner~.", "field:/i=1" };
	const char *neg = rnd(3) == 0 ? "!" : "";

	switch (rnd(12)) {
	case 0: {
		char *t = xstrdup(pick(topics)), *dot;

		/* Exact topics, and globs made by cutting a topic. */
		if (rnd(2) && (dot = strrchr(t, '.')) != NULL)
			strcpy(dot, ".*");
		char *r = xasprintf("%stopic:%s", neg, rnd(4) ? t : "*.bodhi.*");
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
	case 9: return xasprintf("%s%s", neg, fields[rnd(7)]);
	case 10: return xasprintf("%sbody-re:%s", neg, bodyres[rnd(5)]);
	default: return xasprintf("%suser:%s", neg, pick(users));
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
	    "preference_id = ? AND active ORDER BY position, id", -1, &fst, NULL);
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

static int
compare_all(sqlite3 *db, struct fmn_engine *e, struct fmn_msg **msgs, size_t n,
    size_t *fired)
{
	struct fmn_owners *o = fmn_owners_new();
	char *cause = NULL, *a, *b;
	int bad = 0;
	size_t i;

	CHECK_INT(fmn_owners_load(o, db, &cause), 0);
	for (i = 0; i < n; i++) {
		a = match_str(e, msgs[i]);
		b = plain_match(db, o, msgs[i]);
		if (strcmp(a, b) != 0) {
			if (bad++ < 5)
				fprintf(stderr, "message %zu (%s):\n  engine: %s\n"
				    "  plain:  %s\n", i, msgs[i]->topic, a, b);
		}
		if (*a != '\0')
			(*fired)++;
		free(a);
		free(b);
	}
	fmn_owners_destroy(&o);
	return bad;
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
	/* Users named like the corpus's people, and others. */
	for (i = 0; i < 300; i++) {
		if (i < users.n)
			snprintf(name, sizeof(name), "%s", users.v[i]);
		else
			snprintf(name, sizeof(name), "x%zu", i);
		random_user(db, name, &users, &pkgs, &cats, &topics, &grps);
	}
	sql(db, "COMMIT");
	e = engine_for(db);
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
	printf("%zu messages x 4 rounds, %zu non-empty results\n", n, fired);
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
