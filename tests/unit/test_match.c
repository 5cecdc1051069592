/*
 * The filter engine: a table of FMN semantics (each rule kind, negation,
 * ordering, empty filters, disabled preferences, inactive filters, pending
 * destinations, missing data, errors), incremental reloads, --explain.
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
 * The semantic table: one user "u" with one e-mail preference holding the
 * filters "f1" (and "f2" when given); one message; which filter fires.
 * Owners: kernel by u, python-x by the group "py" which u is in, vim by v.
 */
struct sem_case {
	const char	*what;
	const char	*f1;
	const char	*f2;
	const char	*topic;
	const char	*users;
	const char	*pkgs;
	const char	*agent;
	const char	*body;
	const char	*fires;		/* "f1", "f2" or NULL */
};

static const struct sem_case sem_cases[] = {
	{ "topic glob", "topic:*.bodhi.*", NULL,
	  "org.fedoraproject.prod.bodhi.update.comment", NULL, NULL, NULL, NULL, "f1" },
	{ "topic glob no", "topic:*.koji.*", NULL,
	  "org.fedoraproject.prod.bodhi.update.comment", NULL, NULL, NULL, NULL, NULL },
	{ "topic exact", "topic:org.fedoraproject.prod.git.receive", NULL,
	  "org.fedoraproject.prod.git.receive", NULL, NULL, NULL, NULL, "f1" },
	{ "topic-re", "topic-re:\\.git\\.receive$", NULL,
	  "org.fedoraproject.prod.git.receive", NULL, NULL, NULL, NULL, "f1" },
	{ "category", "category:koji,git", NULL,
	  "org.fedoraproject.prod.git.receive", NULL, NULL, NULL, NULL, "f1" },
	{ "category no", "category:koji", NULL,
	  "org.fedoraproject.prod.git.receive", NULL, NULL, NULL, NULL, NULL },
	{ "user", "user:u", NULL, "a.b.c.d", "u,w", NULL, NULL, NULL, "f1" },
	{ "agent", "agent:w", NULL, "a.b.c.d", "u,w", NULL, "w", NULL, "f1" },
	{ "agent no", "agent:u", NULL, "a.b.c.d", "u,w", NULL, "w", NULL, NULL },
	{ "package", "package:vim", NULL, "a.b.c.d", NULL, "vim", NULL, NULL, "f1" },
	{ "package-re", "package-re:^python-", NULL, "a.b.c.d", NULL,
	  "python-x", NULL, NULL, "f1" },
	{ "owned directly", "owned:u", NULL, "a.b.c.d", NULL, "kernel", NULL, NULL, "f1" },
	{ "owned by group", "owned:u", NULL, "a.b.c.d", NULL, "python-x", NULL, NULL, "f1" },
	{ "owned not", "owned:u", NULL, "a.b.c.d", NULL, "vim", NULL, NULL, NULL },
	{ "group", "group:py", NULL, "a.b.c.d", "u", NULL, NULL, NULL, "f1" },
	{ "group no", "group:py", NULL, "a.b.c.d", "v", NULL, NULL, NULL, NULL },
	{ "field =", "field:/msg/status=stable", NULL, "a.b.c.d", NULL, NULL,
	  NULL, "{\"status\": \"stable\"}", "f1" },
	{ "field ~", "field:/msg/n~^4", NULL, "a.b.c.d", NULL, NULL,
	  NULL, "{\"n\": 42}", "f1" },
	{ "body-re", "body-re:secret", NULL, "a.b.c.d", NULL, NULL,
	  NULL, "{\"t\": \"a secret\"}", "f1" },
	{ "negation", "owned:u !user:u", NULL, "a.b.c.d", "u", "kernel",
	  NULL, NULL, NULL },
	{ "negation true", "owned:u !user:u", NULL, "a.b.c.d", "v", "kernel",
	  NULL, NULL, "f1" },
	{ "only negative rules", "!user:u !topic:*.koji.*", NULL, "a.b.c.d",
	  "v", NULL, NULL, NULL, "f1" },
	{ "rules are AND-ed", "user:u package:vim", NULL, "a.b.c.d", "u",
	  "kernel", NULL, NULL, NULL },
	{ "first filter fires", "user:u", "package:kernel", "a.b.c.d", "u",
	  "kernel", NULL, NULL, "f1" },
	{ "second when first fails", "user:v", "package:kernel", "a.b.c.d", "u",
	  "kernel", NULL, NULL, "f2" },
	{ "empty filter matches nothing", "", NULL, "a.b.c.d", "u", "kernel",
	  NULL, NULL, NULL },
	{ "empty filter then one", "", "user:u", "a.b.c.d", "u", NULL,
	  NULL, NULL, "f2" },
	{ "missing field is false", "field:/msg/nope=1", NULL, "a.b.c.d", NULL,
	  NULL, NULL, NULL, NULL },
	{ "missing field negated", "!field:/msg/nope=1", NULL, "a.b.c.d", NULL,
	  NULL, NULL, NULL, "f1" },
	{ "no agent negated", "!agent:u", NULL, "a.b.c.d", NULL, NULL, NULL,
	  NULL, "f1" },
	{ "no packages", "!owned:u", NULL, "a.b.c.d", NULL, NULL, NULL, NULL, "f1" },
	{ "regex limit makes filter fail", "body-re:(a+)+$", "user:u", "a.b.c.d",
	  "u", NULL, NULL, "{\"t\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"}", "f2" },
	{ "negated error still fails", "!body-re:(a+)+$", NULL, "a.b.c.d",
	  "u", NULL, NULL, "{\"t\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"}", NULL },
};

TEST(semantic_table)
{
	size_t i;

	for (i = 0; i < FMN_NELEM(sem_cases); i++) {
		const struct sem_case *c = &sem_cases[i];
		sqlite3 *db = db_new();
		struct fmn_engine *e;
		struct fmn_msg *m;
		long long uid, pid;
		char *got, *want;

		add_owner(db, "kernel", "u", 0);
		add_owner(db, "python-x", "py", 1);
		add_owner(db, "vim", "v", 0);
		add_member(db, "py", "u");
		uid = add_user(db, "u");
		add_user(db, "v");
		add_dest(db, uid, "email", "u@example.org", 1, 0);
		pid = add_pref(db, uid, "email", 1);
		add_filter(db, pid, "f1", 0, 1, c->f1);
		if (c->f2 != NULL)
			add_filter(db, pid, "f2", 1, 1, c->f2);
		e = engine_for(db);
		m = mkmsg(c->topic, c->body, c->users, c->pkgs, c->agent);
		got = match_str(e, m);
		want = c->fires ? xasprintf("u/email/u@example.org/%s", c->fires) :
		    xstrdup("");
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "case \"%s\": got \"%s\", want \"%s\"\n",
			    c->what, got, want);
			CHECK(!"semantic case failed");
		}
		free(got);
		free(want);
		fmn_msg_destroy(&m);
		fmn_engine_destroy(&e);
		db_done(db);
	}
}

/* Two users, both contexts: the fixture of the tests below. */
static sqlite3 *
two_users(long long *alice, long long *bob)
{
	sqlite3 *db = db_new();
	long long p;

	*alice = add_user(db, "alice");
	*bob = add_user(db, "bob");
	add_dest(db, *alice, "email", "alice@example.org", 1, 0);
	add_dest(db, *alice, "email", "alice@work.example.org", 1, 0);
	add_dest(db, *alice, "irc", "alice", 1, 0);
	add_dest(db, *bob, "email", "bob@example.org", 1, 1);	/* failing */
	add_dest(db, *bob, "email", "bob@new.example.org", 0, 0);	/* pending */
	add_dest(db, *bob, "irc", "bob", 0, 0);			/* pending */
	p = add_pref(db, *alice, "email", 1);
	add_filter(db, p, "mine", 0, 1, "user:alice");
	add_filter(db, p, "also mine", 1, 1, "user:alice");
	p = add_pref(db, *alice, "irc", 1);
	add_filter(db, p, "irc mine", 0, 1, "user:alice !category:koji");
	p = add_pref(db, *bob, "email", 1);
	add_filter(db, p, "bob", 0, 1, "user:bob");
	p = add_pref(db, *bob, "irc", 1);
	add_filter(db, p, "bob irc", 0, 1, "user:bob");
	return db;
}

TEST(one_recipient_per_confirmed_destination)
{
	long long a, b;
	sqlite3 *db = two_users(&a, &b);
	struct fmn_engine *e = engine_for(db);
	struct fmn_msg *m = mkmsg("a.b.bodhi.d", NULL, "alice,bob", NULL, NULL);
	char *got = match_str(e, m);

	/* Alice: both e-mail addresses once, irc once; bob: only the
	 * confirmed (even if failing) address, nothing on pending irc. */
	CHECK_STR(got, "alice/email/alice@example.org/mine;"
	    "alice/email/alice@work.example.org/mine;"
	    "alice/irc/alice/irc mine;"
	    "bob/email/bob@example.org/bob");
	free(got);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

TEST(disabled_preference_and_inactive_filter)
{
	long long a, b;
	sqlite3 *db = two_users(&a, &b);
	struct fmn_engine *e;
	struct fmn_msg *m = mkmsg("o.f.prod.koji.x", NULL, "alice,bob", NULL, NULL);
	char *got;

	sql(db, "UPDATE preferences SET enabled = 0 WHERE context = 'email' "
	    "AND user_id = (SELECT id FROM users WHERE name = 'bob')");
	sql(db, "UPDATE filters SET active = 0 WHERE name = 'mine'");
	e = engine_for(db);
	got = match_str(e, m);
	CHECK_STR(got, "alice/email/alice@example.org/also mine;"
	    "alice/email/alice@work.example.org/also mine");
	free(got);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

TEST(reload_one_user)
{
	long long a, b;
	sqlite3 *db = two_users(&a, &b);
	struct fmn_engine *e = engine_for(db);
	struct fmn_msg *m = mkmsg("o.f.prod.koji.x", NULL, "alice,bob", "kernel", NULL);
	struct fmn_engine_stats st;
	char *got, *cause = NULL;

	got = match_str(e, m);
	CHECK_STR(got, "alice/email/alice@example.org/mine;"
	    "alice/email/alice@work.example.org/mine;"
	    "bob/email/bob@example.org/bob");
	free(got);
	/* Bob confirms irc and adds a filter; alice changes in the database
	 * but is not reloaded, so her old filters stay in force. */
	sql(db, "UPDATE destinations SET confirmed = 1 WHERE address = 'bob'");
	sql(db, "INSERT INTO filters (preference_id, name, position) SELECT id, "
	    "'pkg', -1 FROM preferences WHERE context = 'irc' AND user_id = "
	    "(SELECT id FROM users WHERE name = 'bob')");
	sql(db, "INSERT INTO rules (filter_id, position, kind, argument) "
	    "SELECT id, 0, 'package', 'kernel' FROM filters WHERE name = 'pkg'");
	sql(db, "DELETE FROM filters WHERE name = 'mine'");
	CHECK_INT(fmn_engine_reload_user(e, db, b, &cause), 0);
	got = match_str(e, m);
	CHECK_STR(got, "alice/email/alice@example.org/mine;"
	    "alice/email/alice@work.example.org/mine;"
	    "bob/email/bob@example.org/bob;bob/irc/bob/pkg");
	free(got);
	/* Now alice; then delete bob entirely. */
	CHECK_INT(fmn_engine_reload_user(e, db, a, &cause), 0);
	sql(db, "DELETE FROM users WHERE name = 'bob'");
	CHECK_INT(fmn_engine_reload_user(e, db, b, &cause), 0);
	got = match_str(e, m);
	CHECK_STR(got, "alice/email/alice@example.org/also mine;"
	    "alice/email/alice@work.example.org/also mine");
	free(got);
	fmn_engine_stats(e, &st);
	CHECK_INT(st.users, 1);
	CHECK_INT(st.filters, 2);
	/* user:alice and category:koji are all that remain. */
	CHECK_INT(st.distinct_rules, 2);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

TEST(reload_shared_owners)
{
	sqlite3 *db = db_new();
	long long u = add_user(db, "u"), p;
	struct fmn_engine *e;
	struct fmn_msg *m = mkmsg("a.b.c.d", NULL, NULL, "kernel", NULL);
	char *got, *cause = NULL;

	add_dest(db, u, "irc", "u", 1, 0);
	p = add_pref(db, u, "irc", 1);
	add_filter(db, p, "owned", 0, 1, "owned:u");
	e = engine_for(db);
	got = match_str(e, m);
	CHECK_STR(got, "");
	free(got);
	add_owner(db, "kernel", "kmaint", 1);
	add_member(db, "kmaint", "u");
	CHECK_INT(fmn_engine_reload_shared(e, db, &cause), 0);
	got = match_str(e, m);
	CHECK_STR(got, "u/irc/u/owned");
	free(got);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

TEST(rules_shared_and_errors_counted)
{
	sqlite3 *db = db_new();
	struct fmn_engine *e;
	struct fmn_engine_stats st;
	struct fmn_msg *m;
	char name[16], *got;
	long long u, p;
	int i;

	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "u%02d", i);
		u = add_user(db, name);
		add_dest(db, u, "irc", name, 1, 0);
		p = add_pref(db, u, "irc", 1);
		/* Same regex everywhere, negated in half the users. */
		add_filter(db, p, "f", 0, 1, i % 2 ? "!body-re:(a+)+$ category:d" :
		    "body-re:(a+)+$ category:d");
	}
	e = engine_for(db);
	fmn_engine_stats(e, &st);
	CHECK_INT(st.users, 50);
	CHECK_INT(st.filters, 50);
	CHECK_INT(st.distinct_rules, 2);
	m = mkmsg("a.b.c.d", "{\"t\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"}",
	    NULL, NULL, NULL);
	got = match_str(e, m);
	CHECK_STR(got, "");
	free(got);
	fmn_engine_stats(e, &st);
	/* Evaluated once for the message, not once per user. */
	CHECK_INT(st.rule_errors, 1);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

TEST(broken_stored_rule_never_matches)
{
	sqlite3 *db = db_new();
	long long u = add_user(db, "u"), p, f;
	struct fmn_engine *e;
	struct fmn_msg *m = mkmsg("a.b.c.d", NULL, "u", NULL, NULL);
	char *got;

	add_dest(db, u, "irc", "u", 1, 0);
	p = add_pref(db, u, "irc", 1);
	f = add_filter(db, p, "bad", 0, 1, "user:u");
	(void)f;
	sql(db, "INSERT INTO rules (filter_id, position, kind, argument) "
	    "SELECT id, 1, 'topic-re', '(' FROM filters WHERE name = 'bad'");
	sql(db, "INSERT INTO rules (filter_id, position, kind, argument) "
	    "SELECT id, 2, 'nosuchkind', 'x' FROM filters WHERE name = 'bad'");
	add_filter(db, p, "good", 1, 1, "user:u");
	e = engine_for(db);
	got = match_str(e, m);
	CHECK_STR(got, "u/irc/u/good");
	free(got);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

TEST(explain_says_which_rule_decided)
{
	long long a, b;
	sqlite3 *db = two_users(&a, &b);
	struct fmn_engine *e = engine_for(db);
	struct fmn_msg *m = mkmsg("o.f.prod.koji.x", NULL, "alice", NULL, NULL);
	struct fmn_recipients r = { 0 };
	json_t *ex = json_array();
	char *s;

	CHECK_INT(fmn_engine_match(e, m, &r, ex), 0);
	CHECK_INT(r.n, 2);
	s = json_dumps(ex, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK_STR(s, "[{\"context\":\"email\",\"filters\":["
	    "{\"name\":\"mine\",\"result\":\"match\",\"rule\":null},"
	    "{\"name\":\"also mine\",\"result\":\"match\",\"rule\":null}],"
	    "\"fired\":\"mine\",\"user\":\"alice\"},"
	    "{\"context\":\"irc\",\"filters\":["
	    "{\"name\":\"irc mine\",\"result\":\"no match\","
	    "\"rule\":\"!category:koji\"}],"
	    "\"fired\":null,\"user\":\"alice\"}]");
	free(s);
	json_decref(ex);
	fmn_recipients_free(&r);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

/*
 * Each kind of rule files its filter under the index its key belongs
 * to; a filter whose positive rules give no key is on the always list.
 * The explanation says which index found each filter, or null.
 */
TEST(filters_filed_by_kind_and_explained)
{
	static const struct {
		const char	*rules;
		const char	*index;		/* its kind, or NULL: none */
		int		 found;		/* by the message below */
	} cases[] = {
		{ "owned:u", "owned", 1 },
		{ "user:u", "user", 1 },
		{ "package:kernel", "package", 1 },
		{ "group:py", "group", 1 },
		{ "agent:u", "agent", 1 },
		{ "topic:org.fedoraproject.prod.bodhi.update.comment", "topic", 1 },
		{ "field:/msg/karma=1", "field", 1 },
		{ "field:/msg/karma=2", "field", 0 },
		{ "topic:org.fedoraproject.prod.bodhi.*", "topic-prefix", 1 },
		{ "topic:*.update.comment", "topic-suffix", 1 },
		{ "topic:*.bodhi.update.request", "topic-suffix", 0 },
		{ "category:bodhi", "category", 1 },
		{ "topic:*.prod.*", "topic-segment", 1 },
		{ "topic:*comm*", "topic-text", 1 },
		{ "topic-re:\\.update\\.comment$", "topic-text", 1 },
		{ "topic-re:^org\\.fedoraproject\\.prod\\.bodhi\\.", "topic-prefix", 1 },
		{ "package-re:^kern", "package-text", 1 },
		{ "field:/msg/comment~great", "field-text", 1 },
		{ "body-re:\"karma\":1", "body-text", 1 },
		{ "body-re:nothere", "body-text", 0 },
		{ "!user:v", "always", 1 },
		{ "body-re:(?i)great", "always", 1 },
		{ "topic:*", "always", 1 },
		{ "!user:v owned:u", "owned", 1 },
		{ "", NULL, 0 },
	};
	struct fmn_engine_stats st;
	struct fmn_recipients r = { 0 };
	struct fmn_engine *e;
	struct fmn_msg *m;
	sqlite3 *db = db_new();
	json_t *ex = json_array(), *fl, *f, *idx;
	long long uid, pid;
	char name[8];
	size_t i, k, n = FMN_NELEM(cases);
	int always = 0;

	add_owner(db, "kernel", "u", 0);
	add_member(db, "py", "u");
	uid = add_user(db, "u");
	add_dest(db, uid, "email", "u@example.org", 1, 0);
	pid = add_pref(db, uid, "email", 1);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%02zu", i);
		add_filter(db, pid, name, (int)i, 1, cases[i].rules);
		always += cases[i].index != NULL &&
		    strcmp(cases[i].index, "always") == 0;
	}
	e = engine_for(db);
	fmn_engine_stats(e, &st);
	CHECK_INT(st.indexed[FMN_ENGINE_INDEXES - 1], always);
	CHECK_STR(fmn_engine_index_name(FMN_ENGINE_INDEXES - 1), "always");
	CHECK(fmn_engine_index_name(FMN_ENGINE_INDEXES) == NULL);
	for (k = 0; k < FMN_ENGINE_INDEXES; k++) {
		size_t want = 0;

		for (i = 0; i < n; i++)
			want += cases[i].index != NULL && strcmp(cases[i].index,
			    fmn_engine_index_name((int)k)) == 0;
		if (st.indexed[k] != want)
			fprintf(stderr, "index %s: %zu filters, want %zu\n",
			    fmn_engine_index_name((int)k), st.indexed[k], want);
		CHECK(st.indexed[k] == want);
	}
	m = mkmsg("org.fedoraproject.prod.bodhi.update.comment",
	    "{\"karma\": 1, \"comment\": \"great\"}", "u", "kernel", "u");
	fmn_engine_explain_index(e, 1);
	CHECK_INT(fmn_engine_match(e, m, &r, ex), 0);
	CHECK_INT(json_array_size(ex), 1);
	fl = json_object_get(json_array_get(ex, 0), "filters");
	CHECK_INT(json_array_size(fl), n);
	json_array_foreach(fl, i, f) {
		idx = json_object_get(f, "index");
		if (cases[i].found) {
			CHECK(json_is_object(idx));
			CHECK_STR(json_string_value(json_object_get(idx,
			    "kind")), cases[i].index);
		} else if (!json_is_null(idx)) {
			fprintf(stderr, "%s: found by %s\n", cases[i].rules,
			    json_string_value(json_object_get(idx, "kind")));
			CHECK(!"not found");
		}
	}
	/* The suffix index keys on the segments the glob fixes. */
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(fl, 9), "index"), "key")), "update.comment");
	json_decref(ex);
	fmn_recipients_free(&r);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

/*
 * A user's change reindexes that user alone: the others' filters keep
 * their places, and the counts follow.
 */
TEST(reload_reindexes_one_user)
{
	sqlite3 *db = db_new();
	struct fmn_engine *e;
	struct fmn_engine_stats st;
	struct fmn_msg *m = mkmsg("org.fedoraproject.prod.copr.build.end",
	    NULL, NULL, NULL, NULL);
	long long a = add_user(db, "a"), b = add_user(db, "b"), pa, pb;
	char *got, *cause = NULL;

	add_dest(db, a, "irc", "a", 1, 0);
	add_dest(db, b, "irc", "b", 1, 0);
	pa = add_pref(db, a, "irc", 1);
	pb = add_pref(db, b, "irc", 1);
	add_filter(db, pa, "copr", 0, 1, "topic:*.copr.*");
	add_filter(db, pb, "builds", 0, 1, "topic:*.build.end");
	e = engine_for(db);
	got = match_str(e, m);
	CHECK_STR(got, "a/irc/a/copr;b/irc/b/builds");
	free(got);
	add_filter(db, pb, "koji", 1, 1, "topic-re:\\.buildsys\\.");
	sql(db, "DELETE FROM filters WHERE name = 'builds'");
	CHECK_INT(fmn_engine_reload_user(e, db, b, &cause), 0);
	fmn_engine_stats(e, &st);
	CHECK_INT(st.indexed[10], 1);		/* topic-segment: a's */
	CHECK_INT(st.indexed[8], 0);		/* topic-suffix: gone */
	CHECK_INT(st.indexed[11], 1);		/* topic-text: b's */
	CHECK_STR(fmn_engine_index_name(10), "topic-segment");
	got = match_str(e, m);
	CHECK_STR(got, "a/irc/a/copr");
	free(got);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

/*
 * field:PTR=VALUE with the same number written two ways (5 and 5.0,
 * +5, 5e0): each filter is found by a message whose value is that
 * number, and removing one spelling leaves the others found.
 */
TEST(field_numbers_spelt_differently_all_found)
{
	static const char *const spell[] = { "5", "5.0", "+5", "5e0" };
	sqlite3 *db = db_new();
	struct fmn_engine *e;
	struct fmn_msg *m5 = mkmsg("a.b.c.d", "{\"x\": 5}", NULL, NULL, NULL);
	struct fmn_msg *m50 = mkmsg("a.b.c.d", "{\"x\": 5.0}", NULL, NULL,
	    NULL);
	struct fmn_msg *ms = mkmsg("a.b.c.d", "{\"x\": \"5.0\"}", NULL, NULL,
	    NULL);
	long long uid[4];
	char name[8], rule[32], *got, *cause = NULL;
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "u%zu", i);
		snprintf(rule, sizeof(rule), "field:/msg/x=%s", spell[i]);
		uid[i] = add_user(db, name);
		add_dest(db, uid[i], "irc", name, 1, 0);
		add_filter(db, add_pref(db, uid[i], "irc", 1), "five", 0, 1,
		    rule);
	}
	e = engine_for(db);
	got = match_str(e, m5);
	CHECK_STR(got, "u0/irc/u0/five;u1/irc/u1/five;u2/irc/u2/five;"
	    "u3/irc/u3/five");
	free(got);
	got = match_str(e, m50);
	CHECK_STR(got, "u0/irc/u0/five;u1/irc/u1/five;u2/irc/u2/five;"
	    "u3/irc/u3/five");
	free(got);
	/* A string is compared as text: only the spelling it is. */
	got = match_str(e, ms);
	CHECK_STR(got, "u1/irc/u1/five");
	free(got);
	/* Remove the first and the last spelling filed, one at a time. */
	sql(db, "DELETE FROM preferences WHERE user_id IN (SELECT id FROM "
	    "users WHERE name = 'u3')");
	CHECK_INT(fmn_engine_reload_user(e, db, uid[3], &cause), 0);
	sql(db, "DELETE FROM preferences WHERE user_id IN (SELECT id FROM "
	    "users WHERE name = 'u0')");
	CHECK_INT(fmn_engine_reload_user(e, db, uid[0], &cause), 0);
	got = match_str(e, m5);
	CHECK_STR(got, "u1/irc/u1/five;u2/irc/u2/five");
	free(got);
	fmn_msg_destroy(&m5);
	fmn_msg_destroy(&m50);
	fmn_msg_destroy(&ms);
	fmn_engine_destroy(&e);
	db_done(db);
}
