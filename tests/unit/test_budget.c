/*
 * The filter engine's regex budget: one user's runaway regexes cost a
 * bounded amount per message, then their filters are marked broken.
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
