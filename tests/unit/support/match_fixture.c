/*
 * The filter engine's test fixture (see match_fixture.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FMN_TEST_SUPPORT
#include "fmn_test.h"
#include "fmn_match.h"
#include "fmn_msg.h"
#include "fmn_owners.h"
#include "fmn_rule.h"
#include "fmn_store.h"
#include "fmn_log.h"
#include "fmn_util.h"
#include "match_fixture.h"

char fixture_db_path[64];

sqlite3 *
db_new(void)
{
	char *cause = NULL;
	sqlite3 *db;

	snprintf(fixture_db_path, sizeof(fixture_db_path), "/tmp/test_match.%ld.db",
	    (long)getpid());
	unlink(fixture_db_path);
	db = fmn_store_open(fixture_db_path, &cause);
	if (db == NULL) {
		fprintf(stderr, "store: %s\n", cause);
		abort();
	}
	return db;
}

void
db_done(sqlite3 *db)
{
	char p[80];

	sqlite3_close(db);
	unlink(fixture_db_path);
	snprintf(p, sizeof(p), "%s-wal", fixture_db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fixture_db_path);
	unlink(p);
}

void
sql(sqlite3 *db, const char *q)
{
	char *err = NULL;

	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sql %s: %s\n", q, err);
		abort();
	}
}

long long
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

long long
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

long long
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
long long
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

void
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

void
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

void
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

struct fmn_msg *
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
char *
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

char *
match_str(struct fmn_engine *e, struct fmn_msg *m)
{
	struct fmn_recipients r = { 0 };
	char *s;

	CHECK_INT(fmn_engine_match(e, m, &r, NULL), 0);
	s = recipients_str(&r);
	fmn_recipients_free(&r);
	return s;
}

struct fmn_engine *
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
