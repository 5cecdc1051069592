/*
 * The operations on filters (fmn_ops.h): a preference's ordered list of
 * named filters, each a chain of rules checked whole before anything is
 * written; and the rule kinds, with their documentation from the table
 * that runs them.
 */
#include "fmn_ops_int.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_rule.h"
#include "fmn_show.h"
#include "fmn_store.h"
#include "fmn_utf8.h"

static int
filter_check_name(const char *name, struct fmn_ops_result *res)
{
	const unsigned char *p;

	if (*name == '\0')
		return ops_fail(res, FMN_OPS_INVALID, "a filter name must not "
		    "be empty"), -1;
	if (strlen(name) > OPS_NAME_MAX)
		return ops_fail(res, FMN_OPS_INVALID, "filter name is longer "
		    "than 255 bytes"), -1;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return ops_fail(res, FMN_OPS_INVALID, "filter name "
			    "contains a control character"), -1;
	if (!fmn_utf8_valid(name, strlen(name)))
		return ops_fail(res, FMN_OPS_INVALID, "filter name is not "
		    "valid UTF-8"), -1;
	return 0;
}

/* The filter of args (user, context, name); -1 after filling res. */
static long long
filter_id(const struct fmn_ops_ctx *ctx, json_t *args, long long *pref_out,
    struct fmn_ops_result *res)
{
	const char *user = ops_str(args, "user");
	const char *context = ops_str(args, "context");
	const char *name = ops_str(args, "name");
	sqlite3_stmt *st;
	long long uid, pid, id = -1;

	if ((uid = ops_user(ctx, args, res)) < 0 ||
	    (pid = ops_pref_id(ctx, uid, user, context, 0, res)) < 0)
		return -1;
	if ((st = ops_prepare(ctx, "SELECT id FROM filters WHERE "
	    "preference_id = ? AND name = ?", res)) == NULL) {
		return -1;
	}
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (id < 0)
		ops_fail(res, FMN_OPS_NOT_FOUND, "user \"%s\" has no %s filter "
		    "named \"%s\"", user, context, name);
	if (pref_out != NULL)
		*pref_out = pid;
	return id;
}

/* Insert the filter and its rules; 0, or -1 after filling res. */
static int
filter_insert(const struct fmn_ops_ctx *ctx, json_t *args, long long pid,
    const struct fmn_rule_spec *specs, size_t nrules, long long *pos,
    struct fmn_ops_result *res)
{
	sqlite3_stmt *st;
	long long fid;
	size_t i;
	int rc;

	if ((st = fmn_store_prepare(ctx->db, "INSERT INTO filters "
	    "(preference_id, name, position, active, oneshot) VALUES (?1, ?2, "
	    "(SELECT coalesce(max(position), 0) + 1 FROM filters WHERE "
	    "preference_id = ?1), ?3, ?4)", NULL)) == NULL)
		return ops_fail_db(res, ctx->db), -1;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, ops_str(args, "name"), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, ops_bool(args, "active", 1));
	sqlite3_bind_int(st, 4, ops_bool(args, "oneshot", 0));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return ops_fail(res, FMN_OPS_CONFLICT, "user \"%s\" already has "
		    "a %s filter named \"%s\"", ops_str(args, "user"),
		    ops_str(args, "context"), ops_str(args, "name")), -1;
	if (rc != SQLITE_DONE)
		return ops_fail_db(res, ctx->db), -1;
	fid = sqlite3_last_insert_rowid(ctx->db);
	if ((st = fmn_store_prepare(ctx->db, "SELECT position FROM filters "
	    "WHERE id = ?", NULL)) == NULL)
		return ops_fail_db(res, ctx->db), -1;
	sqlite3_bind_int64(st, 1, fid);
	*pos = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if ((st = fmn_store_prepare(ctx->db, "INSERT INTO rules (filter_id, "
	    "position, kind, argument, negated) VALUES (?, ?, ?, ?, ?)",
	    NULL)) == NULL)
		return ops_fail_db(res, ctx->db), -1;
	for (i = 0; i < nrules; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, fid);
		sqlite3_bind_int64(st, 2, (long long)i + 1);
		sqlite3_bind_text(st, 3, fmn_rule_kind_name(specs[i].kind), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 4, specs[i].argument, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, specs[i].negated);
		if (sqlite3_step(st) != SQLITE_DONE) {
			ops_fail_db(res, ctx->db);
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

void
ops_filter_add(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	json_t *rules = json_object_get(args, "rules"), *r, *toks;
	size_t nrules = json_array_size(rules), i, parsed = 0;
	struct fmn_rule_spec *specs;
	long long uid, pid, pos = 0;
	char *cause = NULL, *tok;

	if (nrules == 0) {
		ops_fail(res, FMN_OPS_INVALID, "a filter needs at least one "
		    "rule");
		return;
	}
	specs = xcalloc(nrules, sizeof(*specs));
	json_array_foreach(rules, i, r) {
		if (fmn_rule_parse(json_string_value(r), &specs[i],
		    &cause) != 0) {
			ops_fail_cause(res, FMN_OPS_INVALID, cause);
			goto out;
		}
		parsed++;
	}
	if ((uid = ops_user(ctx, args, res)) < 0 || ops_context(args, res) != 0 ||
	    filter_check_name(ops_str(args, "name"), res) != 0 ||
	    ops_begin(ctx, res) != 0)
		goto out;
	if ((pid = ops_pref_id(ctx, uid, ops_str(args, "user"),
	    ops_str(args, "context"), 1, res)) < 0 ||
	    filter_insert(ctx, args, pid, specs, nrules, &pos, res) != 0 ||
	    ops_commit(ctx, res) != 0) {
		ops_rollback(ctx);
		goto out;
	}
	toks = json_array();
	for (i = 0; i < nrules; i++) {
		tok = fmn_rule_format(specs[i].kind, specs[i].negated,
		    specs[i].argument);
		json_array_append_new(toks, json_string(tok));
		free(tok);
	}
	res->out = json_pack("{s:s, s:s, s:s, s:I, s:b, s:b, s:o}",
	    "user", ops_str(args, "user"), "context", ops_str(args, "context"),
	    "name", ops_str(args, "name"), "position", (json_int_t)pos,
	    "active", ops_bool(args, "active", 1),
	    "oneshot", ops_bool(args, "oneshot", 0), "rules", toks);
out:
	for (i = 0; i < parsed; i++)
		fmn_rule_spec_clear(&specs[i]);
	free(specs);
}

static json_t *
filter_row(sqlite3_stmt *st, void *show)
{
	return json_pack("{s:s, s:s, s:I, s:b, s:o, s:o}",
	    "context", (const char *)sqlite3_column_text(st, 0),
	    "name", (const char *)sqlite3_column_text(st, 1),
	    "position", (json_int_t)sqlite3_column_int64(st, 2),
	    "active", sqlite3_column_int(st, 3),
	    "broken", fmn_show_broken(st, 5),
	    "rules", fmn_show_rules(show, sqlite3_column_int64(st, 4)));
}

void
ops_filter_list(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	const char *context = ops_str(args, "context");
	struct fmn_show *show;
	sqlite3_stmt *st;
	char *cause = NULL;
	long long uid;

	if ((uid = ops_user(ctx, args, res)) < 0 ||
	    (context != NULL && ops_context(args, res) != 0))
		return;
	if ((show = fmn_show_new(ctx->db, &cause)) == NULL) {
		ops_fail_cause(res, FMN_OPS_STORE, cause);
		return;
	}
	if ((st = ops_prepare(ctx, "SELECT p.context, f.name, f.position, "
	    "f.active, f.id, f.broken, f.broken_since FROM filters f JOIN "
	    "preferences p ON p.id = f.preference_id WHERE p.user_id = ?1 AND "
	    "(?2 IS NULL OR p.context = ?2) ORDER BY p.context, f.position",
	    res)) != NULL) {
		sqlite3_bind_int64(st, 1, uid);
		if (context != NULL)
			sqlite3_bind_text(st, 2, context, -1, SQLITE_TRANSIENT);
		ops_rows(ctx, st, filter_row, show, res);
	}
	fmn_show_free(&show);
}

/* The filter as filter show prints it; NULL after filling res. */
static json_t *
filter_json(const struct fmn_ops_ctx *ctx, json_t *args, long long fid,
    struct fmn_ops_result *res)
{
	struct fmn_show *show;
	sqlite3_stmt *st;
	json_t *f = NULL;
	char *cause = NULL;

	if ((show = fmn_show_new(ctx->db, &cause)) == NULL) {
		ops_fail_cause(res, FMN_OPS_STORE, cause);
		return NULL;
	}
	if ((st = fmn_store_prepare(ctx->db, "SELECT name, position, active, "
	    "oneshot, broken, broken_since FROM filters WHERE id = ?",
	    NULL)) != NULL) {
		sqlite3_bind_int64(st, 1, fid);
		if (sqlite3_step(st) == SQLITE_ROW)
			f = json_pack("{s:s, s:s, s:s, s:I, s:b, s:b, s:o, s:o}",
			    "user", ops_str(args, "user"),
			    "context", ops_str(args, "context"),
			    "name", (const char *)sqlite3_column_text(st, 0),
			    "position", (json_int_t)sqlite3_column_int64(st, 1),
			    "active", sqlite3_column_int(st, 2),
			    "oneshot", sqlite3_column_int(st, 3),
			    "broken", fmn_show_broken(st, 4),
			    "rules", fmn_show_rules(show, fid));
		sqlite3_finalize(st);
	}
	if (f == NULL)
		ops_fail_db(res, ctx->db);
	fmn_show_free(&show);
	return f;
}

void
ops_filter_show(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	long long fid;

	if ((fid = filter_id(ctx, args, NULL, res)) >= 0)
		res->out = filter_json(ctx, args, fid, res);
}

/* Renumber pid's filters 1..n with fid at pos; 0, or -1 after res. */
static int
filter_move(const struct fmn_ops_ctx *ctx, long long pid, long long fid,
    long long pos, struct fmn_ops_result *res)
{
	sqlite3_stmt *st, *upd;
	long long n = 0, i = 0;
	int ok = 1;

	if ((st = fmn_store_prepare(ctx->db, "SELECT count(*) FROM filters "
	    "WHERE preference_id = ?", NULL)) == NULL)
		return ops_fail_db(res, ctx->db), -1;
	sqlite3_bind_int64(st, 1, pid);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (pos > n)
		return ops_fail(res, FMN_OPS_INVALID, "POSITION %lld is past "
		    "the last filter (%lld)", pos, n), -1;
	st = fmn_store_prepare(ctx->db, "SELECT id FROM filters WHERE "
	    "preference_id = ? AND id != ? ORDER BY position", NULL);
	upd = fmn_store_prepare(ctx->db, "UPDATE filters SET position = ? "
	    "WHERE id = ?", NULL);
	if (st == NULL || upd == NULL) {
		sqlite3_finalize(st);
		sqlite3_finalize(upd);
		return ops_fail_db(res, ctx->db), -1;
	}
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, fid);
	while (ok && sqlite3_step(st) == SQLITE_ROW) {
		if (++i == pos)
			i++;
		sqlite3_reset(upd);
		sqlite3_bind_int64(upd, 1, i);
		sqlite3_bind_int64(upd, 2, sqlite3_column_int64(st, 0));
		ok = sqlite3_step(upd) == SQLITE_DONE;
	}
	if (ok) {
		sqlite3_reset(upd);
		sqlite3_bind_int64(upd, 1, pos);
		sqlite3_bind_int64(upd, 2, fid);
		ok = sqlite3_step(upd) == SQLITE_DONE;
	}
	if (!ok)
		ops_fail_db(res, ctx->db);
	sqlite3_finalize(st);
	sqlite3_finalize(upd);
	return ok ? 0 : -1;
}

/*
 * Enabling is also how a person says a broken filter may be tried
 * again: it clears the mark. Disabling only switches the filter off.
 */
void
ops_filter_set(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	int active = ops_bool(args, "active", -1), broken = 0;
	long long pos = ops_int(args, "position", 0), fid, pid;
	sqlite3_stmt *st;

	if (active < 0 && !ops_has(args, "position")) {
		ops_fail(res, FMN_OPS_INVALID, "nothing to change: give "
		    "\"active\" or \"position\"");
		return;
	}
	if (ops_has(args, "position") && pos < 1) {
		ops_fail(res, FMN_OPS_INVALID, "POSITION starts at 1 (got %lld)",
		    pos);
		return;
	}
	if (ops_begin(ctx, res) != 0)
		return;
	if ((fid = filter_id(ctx, args, &pid, res)) < 0)
		goto fail;
	if (active >= 0) {
		if ((st = fmn_store_prepare(ctx->db, "SELECT broken IS NOT NULL "
		    "FROM filters WHERE id = ?", NULL)) == NULL)
			goto fail_db;
		sqlite3_bind_int64(st, 1, fid);
		if (sqlite3_step(st) == SQLITE_ROW)
			broken = active && sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if ((st = fmn_store_prepare(ctx->db, active ? "UPDATE filters SET "
		    "active = 1, broken = NULL, broken_since = NULL WHERE id = ?" :
		    "UPDATE filters SET active = 0 WHERE id = ?", NULL)) == NULL)
			goto fail_db;
		sqlite3_bind_int64(st, 1, fid);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			goto fail_db;
		}
		sqlite3_finalize(st);
	}
	if (ops_has(args, "position") &&
	    filter_move(ctx, pid, fid, pos, res) != 0)
		goto fail;
	if ((res->out = filter_json(ctx, args, fid, res)) == NULL)
		goto fail;
	json_object_set_new(res->out, "broken_cleared", json_boolean(broken));
	if (ops_commit(ctx, res) == 0)
		return;
	goto fail;
fail_db:
	ops_fail_db(res, ctx->db);
fail:
	ops_abort(ctx, res);
}

void
ops_filter_rm(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	sqlite3_stmt *st;
	long long fid;
	int rc;

	if ((fid = filter_id(ctx, args, NULL, res)) < 0)
		return;
	if ((st = fmn_store_prepare(ctx->db, "DELETE FROM filters WHERE id = ?",
	    NULL)) == NULL) {
		ops_fail_db(res, ctx->db);
		return;
	}
	sqlite3_bind_int64(st, 1, fid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		ops_fail_db(res, ctx->db);
	else
		res->out = json_pack("{s:s, s:s, s:s}", "user",
		    ops_str(args, "user"), "context", ops_str(args, "context"),
		    "name", ops_str(args, "name"));
}

void
ops_rules(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	int k;

	(void)ctx;
	(void)args;
	res->out = json_array();
	for (k = 0; k < FMN_RULE__COUNT; k++)
		json_array_append_new(res->out, json_pack("{s:s, s:s, s:s}",
		    "kind", fmn_rule_kind_name(k),
		    "syntax", fmn_rule_kind_syntax(k),
		    "doc", fmn_rule_kind_doc(k)));
}
