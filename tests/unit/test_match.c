/*
 * The filter engine: a table of FMN semantics (each rule kind, negation,
 * ordering, empty filters, disabled preferences, inactive filters, pending
 * destinations, missing data, errors), incremental reloads, --explain, the
 * regex budget and broken filters, and a differential test of the indexed
 * engine against a plain evaluator over the real corpus.
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

/* Database helpers. */

static char db_path[64];

static sqlite3 *
db_new(void)
{
	char *cause = NULL;
	sqlite3 *db;

	snprintf(db_path, sizeof(db_path), "/tmp/test_match.%ld.db",
	    (long)getpid());
	unlink(db_path);
	db = fmn_store_open(db_path, &cause);
	if (db == NULL) {
		fprintf(stderr, "store: %s\n", cause);
		abort();
	}
	return db;
}

static void
db_done(sqlite3 *db)
{
	char p[80];

	sqlite3_close(db);
	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
}

static void
sql(sqlite3 *db, const char *q)
{
	char *err = NULL;

	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sql %s: %s\n", q, err);
		abort();
	}
}

static long long
add_user(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "INSERT INTO users (name, created) VALUES (?, 0)",
	    -1, &st, NULL);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	CHECK_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	return sqlite3_last_insert_rowid(db);
}

static long long
add_dest(sqlite3 *db, long long uid, const char *ctx, const char *addr,
    int confirmed, int failing)
{
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "INSERT INTO destinations (user_id, context, "
	    "address, confirmed, failing, created) VALUES (?, ?, ?, ?, ?, 0)",
	    -1, &st, NULL);
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, ctx, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, confirmed);
	sqlite3_bind_int(st, 5, failing);
	CHECK_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	return sqlite3_last_insert_rowid(db);
}

static long long
add_pref(sqlite3 *db, long long uid, const char *ctx, int enabled)
{
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "INSERT INTO preferences (user_id, context, "
	    "enabled) VALUES (?, ?, ?)", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, ctx, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, enabled);
	CHECK_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	return sqlite3_last_insert_rowid(db);
}

/* A filter from space-separated rule tokens ("" for none). */
static long long
add_filter(sqlite3 *db, long long pid, const char *name, int pos, int active,
    const char *rules)
{
	struct fmn_rule_spec spec;
	sqlite3_stmt *st;
	long long fid;
	char *copy, *tok, *save, *cause = NULL;
	int rpos = 0;

	sqlite3_prepare_v2(db, "INSERT INTO filters (preference_id, name, "
	    "position, active) VALUES (?, ?, ?, ?)", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, pos);
	sqlite3_bind_int(st, 4, active);
	CHECK_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	fid = sqlite3_last_insert_rowid(db);
	sqlite3_prepare_v2(db, "INSERT INTO rules (filter_id, position, kind, "
	    "argument, negated) VALUES (?, ?, ?, ?, ?)", -1, &st, NULL);
	copy = strdup(rules);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (fmn_rule_parse(tok, &spec, &cause) == -1) {
			fprintf(stderr, "bad test rule: %s\n", cause);
			abort();
		}
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, fid);
		sqlite3_bind_int(st, 2, rpos++);
		sqlite3_bind_text(st, 3, fmn_rule_kind_name(spec.kind), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 4, spec.argument, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 5, spec.negated);
		CHECK_INT(sqlite3_step(st), SQLITE_DONE);
		fmn_rule_spec_clear(&spec);
	}
	free(copy);
	sqlite3_finalize(st);
	return fid;
}

static void
add_owner(sqlite3 *db, const char *pkg, const char *owner, int is_group)
{
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO owners (namespace, "
	    "package, owner, is_group) VALUES ('rpms', ?, ?, ?)", -1, &st, NULL);
	sqlite3_bind_text(st, 1, pkg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, is_group);
	CHECK_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void
add_member(sqlite3 *db, const char *grp, const char *member)
{
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO group_members (grp, member) "
	    "VALUES (?, ?)", -1, &st, NULL);
	sqlite3_bind_text(st, 1, grp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, member, -1, SQLITE_STATIC);
	CHECK_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Messages. */

static void
add_list(struct fmn_strset *s, const char *list)
{
	char *copy, *tok, *save;

	if (list != NULL) {
		copy = strdup(list);
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save))
			fmn_strset_add(s, tok);
		free(copy);
	}
	fmn_strset_finish(s);
}

static struct fmn_msg *
mkmsg(const char *topic, const char *body, const char *users,
    const char *pkgs, const char *agent)
{
	struct fmn_msg *m;
	char *cause = NULL;
	char *env = xasprintf("{\"topic\": \"%s\", \"msg_id\": \"x-1\", "
	    "\"msg\": %s}", topic, body ? body : "{}");

	m = fmn_msg_parse(NULL, env, strlen(env), &cause);
	if (m == NULL) {
		fprintf(stderr, "bad test envelope %s: %s\n", env, cause);
		abort();
	}
	free(env);
	add_list(&m->facts.usernames, users);
	add_list(&m->facts.packages, pkgs);
	if (agent != NULL)
		m->facts.agent = xstrdup(agent);
	m->has_facts = 1;
	return m;
}

/* "user/context/address/filter" lines joined by ';', sorted. */
static char *
recipients_str(const struct fmn_recipients *r)
{
	struct fmn_buf b;
	size_t i;

	fmn_buf_init(&b);
	fmn_buf_adds(&b, "");
	for (i = 0; i < r->n; i++)
		fmn_buf_printf(&b, "%s%s/%s/%s/%s", i ? ";" : "", r->v[i].user,
		    r->v[i].context, r->v[i].address, r->v[i].filter);
	return fmn_buf_steal(&b);
}

static char *
match_str(struct fmn_engine *e, struct fmn_msg *m)
{
	struct fmn_recipients r = { 0 };
	char *s;

	CHECK_INT(fmn_engine_match(e, m, &r, NULL), 0);
	s = recipients_str(&r);
	fmn_recipients_free(&r);
	return s;
}

static struct fmn_engine *
engine_for(sqlite3 *db)
{
	struct fmn_engine *e = fmn_engine_new();
	char *cause = NULL;

	if (fmn_engine_load(e, db, &cause) != 0) {
		fprintf(stderr, "load: %s\n", cause);
		abort();
	}
	return e;
}

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
 * The regex budget. A body on which (?:.*a){N}x, N < 100, backtracks for
 * ever: an 'x' first (so PCRE2's required-character check does not end
 * it at once), then 100 a's with no x after them.
 */
#define A10 "aaaaaaaaaa"
#define HOSTILE_BODY "{\"x\": \"" A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 "\"}"
#define HOSTILE_FILTERS 50

/* mallory: 50 distinct catastrophic regex filters; alice and bob plain. */
static sqlite3 *
hostile_db(void)
{
	sqlite3 *db = db_new();
	long long u, p;
	char name[16], rule[64];
	int i;

	u = add_user(db, "alice");
	add_dest(db, u, "email", "alice@example.org", 1, 0);
	p = add_pref(db, u, "email", 1);
	add_filter(db, p, "all", 0, 1, "topic:*");
	/* A regex user too: the allowance is for others' regexes, not hers. */
	u = add_user(db, "bob");
	add_dest(db, u, "irc", "bob", 1, 0);
	p = add_pref(db, u, "irc", 1);
	add_filter(db, p, "d", 0, 1, "topic-re:\\.d$ !body-re:secret");
	u = add_user(db, "mallory");
	add_dest(db, u, "email", "mallory@example.org", 1, 0);
	p = add_pref(db, u, "email", 1);
	for (i = 0; i < HOSTILE_FILTERS; i++) {
		snprintf(name, sizeof(name), "h%02d", i);
		/* Distinct, so that the engine cannot share one evaluation. */
		snprintf(rule, sizeof(rule), "body-re:(?:.*a){%d}x", 40 + i);
		add_filter(db, p, name, i, 1, rule);
	}
	return db;
}

TEST(hostile_regexes_bounded_then_marked_broken)
{
	sqlite3 *db = hostile_db();
	struct fmn_engine *e = engine_for(db);
	struct fmn_engine_stats st, prev;
	struct fmn_broken *b;
	struct fmn_msg *m = mkmsg("a.b.c.d", HOSTILE_BODY, NULL, NULL, NULL);
	unsigned long long units;
	char *got;
	size_t n, i;
	int msg;

	fmn_log_set_level(FMN_LOG_ERR);
	fmn_engine_stats(e, &prev);
	for (msg = 1; msg <= 10; msg++) {
		got = match_str(e, m);
		/* The others are notified as without mallory. */
		CHECK_STR(got, "alice/email/alice@example.org/all;bob/irc/bob/d");
		free(got);
		fmn_engine_stats(e, &st);
		units = st.regex_units - prev.regex_units;
		if (msg < FMN_MATCH_BROKEN_AFTER) {
			/*
			 * Every hostile filter fails, but mallory's regexes
			 * are stopped at the allowance: two run to the limit,
			 * the other 48 are not run at all.
			 */
			CHECK(units <= FMN_MATCH_ALLOWANCE +
			    FMN_RULE_MATCH_LIMIT + 2 * 100);
			CHECK(units >= FMN_MATCH_ALLOWANCE);
			/* Each would run to the limit: a tenth of that, at most. */
			CHECK(units < HOSTILE_FILTERS * FMN_RULE_MATCH_LIMIT / 10);
			CHECK_INT(st.allowance_skips - prev.allowance_skips,
			    HOSTILE_FILTERS - FMN_MATCH_ALLOWANCE /
			    FMN_RULE_MATCH_LIMIT);
			CHECK_INT(st.rule_errors - prev.rule_errors,
			    HOSTILE_FILTERS);
			CHECK_INT(fmn_engine_take_broken(e, &b), 0);
			fmn_engine_broken_free(b, 0);
		} else if (msg == FMN_MATCH_BROKEN_AFTER) {
			/* The third failure: all 50 are found over budget. */
			n = fmn_engine_take_broken(e, &b);
			CHECK_INT(n, HOSTILE_FILTERS);
			for (i = 0; i < n; i++) {
				CHECK_STR(b[i].user, "mallory");
				CHECK_STR(b[i].context, "email");
				CHECK(strstr(b[i].reason, "failed on 3 messages") !=
				    NULL);
				CHECK(strstr(b[i].reason, "body-re:(?:.*a){") !=
				    NULL);
				CHECK(strstr(b[i].reason, i < 2 ? "match limit" :
				    "allowance") != NULL);
			}
			fmn_engine_broken_free(b, n);
			CHECK_INT(st.broken_filters, HOSTILE_FILTERS);
		} else {
			/* Broken filters are not tried: only bob's regexes run. */
			CHECK(units <= 2 * 100);
			CHECK_INT(st.rule_errors, prev.rule_errors);
			CHECK_INT(fmn_engine_take_broken(e, &b), 0);
			fmn_engine_broken_free(b, 0);
		}
		prev = st;
	}
	fmn_log_set_level(FMN_LOG_INFO);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

/*
 * A shared rule runs once per message, and is charged to every user who
 * needs it: what a user may still run does not depend on who else is
 * matched, nor in which order.
 */
TEST(allowance_is_per_user_and_shared_rules_run_once)
{
	sqlite3 *db = db_new();
	struct fmn_engine *e;
	struct fmn_engine_stats st0, st;
	struct fmn_msg *m = mkmsg("a.b.c.d", HOSTILE_BODY, NULL, NULL, NULL);
	struct fmn_recipients r = { 0 };
	json_t *ex = json_array(), *u, *f;
	long long uid, p;
	size_t i, j;
	char *got;

	uid = add_user(db, "a1");
	add_dest(db, uid, "irc", "a1", 1, 0);
	p = add_pref(db, uid, "irc", 1);
	add_filter(db, p, "h1", 0, 1, "body-re:(?:.*a){40}x");
	add_filter(db, p, "h2", 1, 1, "body-re:(?:.*a){41}x");
	add_filter(db, p, "plain", 2, 1, "topic-re:^a\\.");
	uid = add_user(db, "a2");
	add_dest(db, uid, "irc", "a2", 1, 0);
	p = add_pref(db, uid, "irc", 1);
	add_filter(db, p, "h1", 0, 1, "body-re:(?:.*a){40}x");
	add_filter(db, p, "plain", 1, 1, "topic-re:^a\\.");
	e = engine_for(db);
	fmn_log_set_level(FMN_LOG_ERR);
	fmn_engine_stats(e, &st0);
	/* a2 ran nothing of h1 herself if a1 came first, yet pays for it. */
	got = match_str(e, m);
	CHECK_STR(got, "a2/irc/a2/plain");
	free(got);
	fmn_engine_stats(e, &st);
	/* h1 and h2 once each, whoever needed them; "plain" once. */
	CHECK_INT(st.regex_units - st0.regex_units,
	    2 * FMN_RULE_MATCH_LIMIT + 100);
	CHECK_INT(st.allowance_skips - st0.allowance_skips, 1);
	/* The explanation says why a1's plain filter was not run. */
	CHECK_INT(fmn_engine_match(e, m, &r, ex), 0);
	CHECK_INT(r.n, 1);
	json_array_foreach(ex, i, u) {
		json_array_foreach(json_object_get(u, "filters"), j, f) {
			const char *why = json_string_value(json_object_get(f,
			    "why"));

			CHECK_STR(json_string_value(json_object_get(f, "result")),
			    strcmp(json_string_value(json_object_get(f,
			    "name")), "plain") == 0 && j == 1 ? "match" :
			    "error");
			if (strcmp(json_string_value(json_object_get(f,
			    "result")), "error") != 0)
				continue;
			CHECK(why != NULL && strstr(why, j < 2 ?
			    "match limit" : "allowance") != NULL);
		}
	}
	fmn_log_set_level(FMN_LOG_INFO);
	json_decref(ex);
	fmn_recipients_free(&r);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

TEST(stored_broken_mark_skips_filter_and_explains)
{
	sqlite3 *db = db_new();
	long long u = add_user(db, "u"), p;
	struct fmn_engine *e;
	struct fmn_engine_stats st;
	struct fmn_msg *m = mkmsg("a.b.c.d", NULL, "u", NULL, NULL);
	struct fmn_recipients r = { 0 };
	json_t *ex = json_array();
	sqlite3_stmt *q;
	long long before = -1, after = -1;
	char *got, *s;

	add_dest(db, u, "irc", "u", 1, 0);
	p = add_pref(db, u, "irc", 1);
	add_filter(db, p, "bad", 0, 1, "user:u body-re:(?:.*a){40}x");
	add_filter(db, p, "good", 1, 1, "user:u");
	sqlite3_prepare_v2(db, "SELECT count(*) FROM changes WHERE what = "
	    "'filter' AND user_id = ?", -1, &q, NULL);
	sqlite3_bind_int64(q, 1, u);
	if (sqlite3_step(q) == SQLITE_ROW)
		before = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	sql(db, "UPDATE filters SET broken = 'too slow', broken_since = 1 "
	    "WHERE name = 'bad'");
	/* The mark is a change of the user's filters: the daemon recompiles. */
	if (sqlite3_step(q) == SQLITE_ROW)
		after = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	CHECK_INT(after, before + 1);

	e = engine_for(db);
	fmn_engine_stats(e, &st);
	CHECK_INT(st.filters, 2);
	CHECK_INT(st.broken_filters, 1);
	/* Its rules are not compiled: only good's user:u is. */
	CHECK_INT(st.distinct_rules, 1);
	got = match_str(e, m);
	CHECK_STR(got, "u/irc/u/good");
	free(got);
	CHECK_INT(fmn_engine_match(e, m, &r, ex), 0);
	s = json_dumps(ex, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK_STR(s, "[{\"context\":\"irc\",\"filters\":["
	    "{\"name\":\"bad\",\"result\":\"skipped\",\"rule\":null,"
	    "\"why\":\"broken: too slow\"},"
	    "{\"name\":\"good\",\"result\":\"match\",\"rule\":null}],"
	    "\"fired\":\"good\",\"user\":\"u\"}]");
	free(s);
	json_decref(ex);
	fmn_recipients_free(&r);
	/* Cleared (fmnctl filter enable), it is compiled and tried again. */
	sql(db, "UPDATE filters SET broken = NULL, broken_since = NULL");
	CHECK_INT(fmn_engine_reload_user(e, db, u, NULL), 0);
	fmn_engine_stats(e, &st);
	CHECK_INT(st.broken_filters, 0);
	CHECK_INT(st.distinct_rules, 2);
	got = match_str(e, m);
	CHECK_STR(got, "u/irc/u/good");
	free(got);
	fmn_msg_destroy(&m);
	fmn_engine_destroy(&e);
	db_done(db);
}

/*
 * A filter that fails now and then, on an odd message, stays: only the
 * third failure within FMN_MATCH_BROKEN_WINDOW tries breaks it.
 */
TEST(occasional_failure_does_not_break_filter)
{
	sqlite3 *db = db_new();
	long long u = add_user(db, "u"), p;
	struct fmn_engine *e;
	struct fmn_engine_stats st;
	struct fmn_msg *bad = mkmsg("a.b.c.d", HOSTILE_BODY, NULL, NULL, NULL);
	struct fmn_msg *ok = mkmsg("a.b.c.d", "{\"x\": \"ab\"}", NULL, NULL,
	    NULL);
	struct fmn_broken *b;
	int round, k;

	add_dest(db, u, "irc", "u", 1, 0);
	p = add_pref(db, u, "irc", 1);
	add_filter(db, p, "h", 0, 1, "body-re:(?:.*a){40}x");
	e = engine_for(db);
	fmn_log_set_level(FMN_LOG_ERR);
	/* A failure every FMN_MATCH_BROKEN_WINDOW / 2 messages: never 3. */
	for (round = 0; round < 6; round++) {
		free(match_str(e, bad));
		for (k = 0; k < FMN_MATCH_BROKEN_WINDOW / 2; k++)
			free(match_str(e, ok));
	}
	fmn_engine_stats(e, &st);
	CHECK_INT(st.broken_filters, 0);
	CHECK_INT(st.rule_errors, 6);
	CHECK_INT(fmn_engine_take_broken(e, &b), 0);
	fmn_engine_broken_free(b, 0);
	/* Three close together do: the third. */
	for (k = 0; k < FMN_MATCH_BROKEN_WINDOW; k++)
		free(match_str(e, ok));
	free(match_str(e, bad));
	free(match_str(e, bad));
	fmn_engine_stats(e, &st);
	CHECK_INT(st.broken_filters, 0);
	free(match_str(e, bad));
	fmn_engine_stats(e, &st);
	CHECK_INT(st.broken_filters, 1);
	CHECK_INT(fmn_engine_take_broken(e, &b), 1);
	fmn_engine_broken_free(b, 1);
	fmn_log_set_level(FMN_LOG_INFO);
	fmn_msg_destroy(&bad);
	fmn_msg_destroy(&ok);
	fmn_engine_destroy(&e);
	db_done(db);
}

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
