/*
 * The operations on a user's record, destinations and preferences
 * (fmn_ops.h): where notifications go, the confirmation of a new
 * address or nick with a secret that expires, and per context whether
 * they go out, how they are batched into digests and how they look.
 */
#include "fmn_ops_int.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_show.h"
#include "fmn_store.h"
#include "fmn_valid.h"

#define OPS_SECRET_BYTES	16	/* a confirmation secret: 128 bits */

void
ops_user_show(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	struct fmn_show *s;
	long long uid;
	char *cause = NULL;

	if ((uid = ops_user(ctx, args, res)) < 0)
		return;
	if ((s = fmn_show_new(ctx->db, &cause)) == NULL) {
		ops_fail_cause(res, FMN_OPS_STORE, cause);
		return;
	}
	res->out = fmn_show_user(s, uid, 1);
	fmn_show_free(&s);
}

static json_t *
dest_json(sqlite3_stmt *st, void *arg)
{
	(void)arg;
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:s?}",
	    "user", (const char *)sqlite3_column_text(st, 0),
	    "context", (const char *)sqlite3_column_text(st, 1),
	    "address", (const char *)sqlite3_column_text(st, 2),
	    "confirmed", sqlite3_column_int(st, 3),
	    "failing", sqlite3_column_int(st, 4),
	    "last_error", (const char *)sqlite3_column_text(st, 5));
}

void
ops_dest_list(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	ops_user_rows(ctx, args, "SELECT u.name, d.context, d.address, "
	    "d.confirmed, d.failing, d.last_error FROM destinations d "
	    "JOIN users u ON u.id = d.user_id WHERE ?1 = 0 OR u.id = ?1 "
	    "ORDER BY u.name, d.context, d.address", dest_json, res);
}

static int
dest_check_address(const char *context, const char *address,
    struct fmn_ops_result *res)
{
	char *why = NULL;

	if (strcmp(context, "email") == 0 && !fmn_valid_email(address, &why)) {
		ops_fail(res, FMN_OPS_INVALID, "\"%s\" is not an e-mail address "
		    "fmn can deliver to: %s", address, why);
		free(why);
		return -1;
	}
	if (strcmp(context, "irc") == 0 && !fmn_valid_nick(address)) {
		ops_fail(res, FMN_OPS_INVALID, "\"%s\" is not an IRC nick (1 to "
		    "30 letters, digits or []\\`_^{|}-, no spaces or control "
		    "characters, not starting with a digit or -)", address);
		return -1;
	}
	return 0;
}

void
ops_dest_add(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	const char *user = ops_str(args, "user");
	const char *context = ops_str(args, "context");
	const char *address = ops_str(args, "address");
	int confirmed = ops_bool(args, "confirmed", 0), rc;
	long long expiry = ops_int(args, "expires", ctx->confirm_expiry), uid;
	double expires = ctx->now + (double)expiry;
	sqlite3_stmt *st;
	char *secret = NULL;

	if (expiry <= 0) {
		ops_fail(res, FMN_OPS_INVALID, "expires: expected a positive "
		    "number of seconds");
		return;
	}
	if ((uid = ops_user(ctx, args, res)) < 0 || ops_context(args, res) != 0 ||
	    dest_check_address(context, address, res) != 0)
		return;
	if (confirmed && !ctx->admin) {
		ops_fail(res, FMN_OPS_DENIED, "only an admin may add a "
		    "destination already confirmed; without --confirmed, fmnd "
		    "sends it a confirmation");
		return;
	}
	if ((st = ops_prepare(ctx, "INSERT INTO destinations "
	    "(user_id, context, address, confirmed, secret, expires, created) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)", res)) == NULL)
		return;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, context, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, confirmed);
	if (!confirmed) {
		secret = fmn_random_hex(OPS_SECRET_BYTES);
		sqlite3_bind_text(st, 5, secret, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 6, expires);
	}
	sqlite3_bind_double(st, 7, ctx->now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		ops_fail(res, FMN_OPS_CONFLICT, "user \"%s\" already has %s "
		    "destination \"%s\"", user, context, address);
	else if (rc != SQLITE_DONE)
		ops_fail_db(res, ctx->db);
	else {
		res->out = json_pack("{s:s, s:s, s:s, s:b}", "user", user,
		    "context", context, "address", address, "confirmed",
		    confirmed);
		if (!confirmed)
			json_object_set_new(res->out, "expires",
			    json_real(expires));
		/* The secret proves the address agreed: not the asker's. */
		if (secret != NULL && ctx->admin)
			json_object_set_new(res->out, "secret",
			    json_string(secret));
	}
	free(secret);
}

void
ops_dest_confirm(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	const char *only = ops_str(args, "user");
	sqlite3_stmt *st;
	long long id = -1;
	double expires = 0;
	int rc;

	if ((st = ops_prepare(ctx, "SELECT d.id, d.expires, u.name, "
	    "d.context, d.address FROM destinations d JOIN users u ON "
	    "u.id = d.user_id WHERE d.secret = ?1 AND d.confirmed = 0 AND "
	    "(?2 IS NULL OR u.name = ?2)", res)) == NULL)
		return;
	sqlite3_bind_text(st, 1, ops_str(args, "secret"), -1, SQLITE_TRANSIENT);
	if (only != NULL)
		sqlite3_bind_text(st, 2, only, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		expires = sqlite3_column_double(st, 1);
		res->out = json_pack("{s:s, s:s, s:s}",
		    "user", (const char *)sqlite3_column_text(st, 2),
		    "context", (const char *)sqlite3_column_text(st, 3),
		    "address", (const char *)sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	if (id < 0) {
		ops_fail(res, FMN_OPS_NOT_FOUND, "no pending destination has "
		    "that secret");
		return;
	}
	if (expires < ctx->now) {
		ops_fail(res, FMN_OPS_INVALID, "that secret has expired; remove "
		    "the destination and add it again");
		goto fail;
	}
	if ((st = ops_prepare(ctx, "UPDATE destinations SET "
	    "confirmed = 1, secret = NULL, expires = NULL WHERE id = ? AND "
	    "confirmed = 0", res)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ops_fail_db(res, ctx->db);
		goto fail;
	}
	/* Two confirmations at once: the second finds nothing to do. */
	if (sqlite3_changes(ctx->db) == 0) {
		ops_fail(res, FMN_OPS_NOT_FOUND, "no pending destination has "
		    "that secret");
		goto fail;
	}
	return;
fail:
	ops_abort(ctx, res);
}

void
ops_dest_rm(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	const char *user = ops_str(args, "user");
	const char *context = ops_str(args, "context");
	const char *address = ops_str(args, "address");
	sqlite3_stmt *st;
	long long uid;
	int rc;

	if ((uid = ops_user(ctx, args, res)) < 0 || ops_context(args, res) != 0)
		return;
	if ((st = ops_prepare(ctx, "DELETE FROM destinations WHERE "
	    "user_id = ? AND context = ? AND address = ?", res)) == NULL)
		return;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, context, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, address, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		ops_fail_db(res, ctx->db);
	else if (sqlite3_changes(ctx->db) == 0)
		ops_fail(res, FMN_OPS_NOT_FOUND, "user \"%s\" has no %s "
		    "destination \"%s\"", user, context, address);
	else
		res->out = json_pack("{s:s, s:s, s:s}", "user", user,
		    "context", context, "address", address);
}

/* One preference as pref list shows it (columns of PREF_COLUMNS). */
#define PREF_COLUMNS	"u.name, p.context, p.enabled, p.batch_delta, " \
	"p.batch_count, p.verbose, p.markup, (SELECT count(*) FROM filters f " \
	"WHERE f.preference_id = p.id)"

static json_t *
pref_json(sqlite3_stmt *st, void *arg)
{
	json_t *p = json_pack("{s:s, s:s, s:b, s:b, s:b, s:I}",
	    "user", (const char *)sqlite3_column_text(st, 0),
	    "context", (const char *)sqlite3_column_text(st, 1),
	    "enabled", sqlite3_column_int(st, 2),
	    "verbose", sqlite3_column_int(st, 5),
	    "markup", sqlite3_column_int(st, 6),
	    "filters", (json_int_t)sqlite3_column_int64(st, 7));

	(void)arg;
	json_object_set_new(p, "batch_delta",
	    sqlite3_column_type(st, 3) == SQLITE_NULL ? json_null() :
	    json_integer(sqlite3_column_int64(st, 3)));
	json_object_set_new(p, "batch_count",
	    sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null() :
	    json_integer(sqlite3_column_int64(st, 4)));
	return p;
}

/* -2 keeps a threshold, -1 clears it; 0 or -1 after filling res. */
static int
pref_threshold(json_t *args, enum fmn_ops_batch which, long long *v,
    struct fmn_ops_result *res)
{
	const char *field = fmn_ops_batch_field(which);
	json_t *j = json_object_get(args, field);
	char *why = NULL;

	*v = -2;
	if (j == NULL)
		return 0;
	if (json_is_null(j)) {
		*v = -1;
		return 0;
	}
	*v = json_integer_value(j);
	if (fmn_ops_check_batch(which, *v, &why) == 0)
		return 0;
	ops_fail(res, FMN_OPS_INVALID, "%s %s", field, why);
	free(why);
	return -1;
}

void
ops_pref_set(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	const char *user = ops_str(args, "user");
	const char *context = ops_str(args, "context");
	long long uid, pid, delta, count;
	sqlite3_stmt *st;
	int rc;

	if (pref_threshold(args, FMN_OPS_BATCH_DELTA, &delta, res) != 0 ||
	    pref_threshold(args, FMN_OPS_BATCH_COUNT, &count, res) != 0 ||
	    (uid = ops_user(ctx, args, res)) < 0 ||
	    ops_context(args, res) != 0 || ops_begin(ctx, res) != 0)
		return;
	if ((pid = ops_pref_id(ctx, uid, user, context, 1, res)) < 0)
		goto fail;
	/* ?N = -2 keeps a value, -1 clears a threshold. */
	if ((st = fmn_store_prepare(ctx->db, "UPDATE preferences SET "
	    "enabled = CASE ?1 WHEN -1 THEN enabled ELSE ?1 END, "
	    "batch_delta = CASE ?2 WHEN -2 THEN batch_delta WHEN -1 THEN NULL "
	    "ELSE ?2 END, "
	    "batch_count = CASE ?3 WHEN -2 THEN batch_count WHEN -1 THEN NULL "
	    "ELSE ?3 END, "
	    "verbose = CASE ?4 WHEN -1 THEN verbose ELSE ?4 END, "
	    "markup = CASE ?5 WHEN -1 THEN markup ELSE ?5 END WHERE id = ?6",
	    NULL)) == NULL) {
		ops_fail_db(res, ctx->db);
		goto fail;
	}
	sqlite3_bind_int(st, 1, ops_bool(args, "enabled", -1));
	sqlite3_bind_int64(st, 2, delta);
	sqlite3_bind_int64(st, 3, count);
	sqlite3_bind_int(st, 4, ops_bool(args, "verbose", -1));
	sqlite3_bind_int(st, 5, ops_bool(args, "markup", -1));
	sqlite3_bind_int64(st, 6, pid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ops_fail_db(res, ctx->db);
		goto fail;
	}
	/* The preference as it is now, for the API's answer. */
	if ((st = ops_prepare(ctx, "SELECT " PREF_COLUMNS " FROM preferences "
	    "p JOIN users u ON u.id = p.user_id WHERE p.id = ?", res)) != NULL) {
		sqlite3_bind_int64(st, 1, pid);
		if (sqlite3_step(st) == SQLITE_ROW)
			res->out = pref_json(st, NULL);
		sqlite3_finalize(st);
	}
	if (ops_commit(ctx, res) == 0)
		return;
fail:
	ops_abort(ctx, res);
}

void
ops_pref_list(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	ops_user_rows(ctx, args, "SELECT " PREF_COLUMNS " FROM preferences p "
	    "JOIN users u ON u.id = p.user_id WHERE ?1 = 0 OR u.id = ?1 "
	    "ORDER BY u.name, p.context", pref_json, res);
}
