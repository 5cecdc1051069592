/*
 * The operations that look at messages (fmn_ops.h): whom a stored
 * message would notify, and why (the engine's explanation), for one
 * user's filters or everyone's; and a user's recent notifications with
 * their state, newest first.
 */
#include "fmn_ops_int.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_facts.h"
#include "fmn_history.h"
#include "fmn_match.h"
#include "fmn_msg.h"

#define NOTIFICATIONS_LIMIT	20	/* listed by default */
#define NOTIFICATIONS_MAX	1000	/* listed at most */

json_t *
fmn_ops_recipients_json(const struct fmn_recipients *r)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < r->n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}",
		    "user", r->v[i].user, "context", r->v[i].context,
		    "destination", r->v[i].address, "filter", r->v[i].filter));
	return arr;
}

/* The stored envelope, parsed: fmn_history_get's callback. */
static int
match_row(void *arg, const struct fmn_history_row *r)
{
	struct fmn_msg **m = arg;

	*m = fmn_msg_parse(NULL, r->envelope, r->envelope_len, NULL);
	return 0;
}

void
ops_match(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	const char *id = ops_str(args, "id");
	struct fmn_engine *engine = NULL;
	struct fmn_aliases *aliases = NULL;
	struct fmn_defs *defs = NULL;
	struct fmn_recipients rcpt = { 0 };
	struct fmn_msg *m = NULL;
	json_t *explain = NULL;
	char *cause = NULL;
	long long uid;
	int found;

	if ((uid = ops_user_or_all(ctx, args, res)) < 0)
		return;
	found = fmn_history_get(ctx->db, id, match_row, &m, &cause);
	if (found < 0) {
		free(cause);
		ops_fail_db(res, ctx->db);
		return;
	}
	if (found == 0) {
		ops_fail(res, FMN_OPS_NOT_FOUND, "no stored message has msg_id "
		    "\"%s\" (fmnctl history lists them)", id);
		return;
	}
	if (m == NULL) {
		ops_fail(res, FMN_OPS_STORE, "the stored envelope of \"%s\" "
		    "cannot be read again", id);
		return;
	}
	/*
	 * One user's filters only, with the shared data they refer to, or
	 * everyone's; facts as the daemon derives them.
	 */
	engine = fmn_engine_new();
	aliases = fmn_aliases_new();
	if ((defs = fmn_defs_new(ctx->definitions, &cause)) == NULL ||
	    fmn_aliases_load(aliases, ctx->db, &cause) != 0 ||
	    (uid > 0 ? fmn_engine_reload_shared(engine, ctx->db, &cause) != 0 ||
	    fmn_engine_reload_user(engine, ctx->db, uid, &cause) != 0 :
	    fmn_engine_load(engine, ctx->db, &cause) != 0)) {
		ops_fail_cause(res, FMN_OPS_STORE, cause);
		goto out;
	}
	fmn_facts_derive(defs, aliases, m);
	if (ops_bool(args, "explain", 0))
		explain = json_array();
	fmn_engine_match(engine, m, &rcpt, explain);
	res->out = json_object();
	json_object_set_new(res->out, "msg_id", json_string(id));
	json_object_set_new(res->out, "recipients",
	    fmn_ops_recipients_json(&rcpt));
	if (explain != NULL)
		json_object_set_new(res->out, "explain", explain);
out:
	fmn_recipients_free(&rcpt);
	fmn_engine_destroy(&engine);
	fmn_aliases_destroy(&aliases);
	fmn_defs_destroy(&defs);
	fmn_msg_destroy(&m);
}

static json_t *
notification_json(sqlite3_stmt *st, void *arg)
{
	json_t *o = json_pack("{s:s, s:f, s:s, s:s, s:s, s:s, s:s?, s:s, s:s?, "
	    "s:I, s:s?}",
	    "user", (const char *)sqlite3_column_text(st, 0),
	    "time", sqlite3_column_double(st, 1),
	    "state", (const char *)sqlite3_column_text(st, 2),
	    "context", (const char *)sqlite3_column_text(st, 3),
	    "destination", (const char *)sqlite3_column_text(st, 4),
	    "filter", (const char *)sqlite3_column_text(st, 5),
	    "msg_id", (const char *)sqlite3_column_text(st, 6),
	    "topic", (const char *)sqlite3_column_text(st, 7),
	    "subtitle", (const char *)sqlite3_column_text(st, 8),
	    "attempts", (json_int_t)sqlite3_column_int64(st, 9),
	    "last_error", (const char *)sqlite3_column_text(st, 11));

	(void)arg;
	if (sqlite3_column_type(st, 10) != SQLITE_NULL)
		json_object_set_new(o, "delivered",
		    json_real(sqlite3_column_double(st, 10)));
	return o;
}

void
ops_notifications(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	long long limit = ops_int(args, "limit", NOTIFICATIONS_LIMIT), uid;
	sqlite3_stmt *st;

	if (limit < 1 || limit > NOTIFICATIONS_MAX) {
		ops_fail(res, FMN_OPS_INVALID, "limit: expected a number from 1 "
		    "to %d", NOTIFICATIONS_MAX);
		return;
	}
	/* Newest first, by id: the order they were created in. */
	if ((uid = ops_user_or_all(ctx, args, res)) < 0 ||
	    (st = ops_prepare(ctx, "SELECT u.name, n.created, n.state, "
	    "n.context, d.address, n.filter, m.msg_id, m.topic, "
	    "json_extract(CASE WHEN json_valid(m.summary) THEN m.summary END, "
	    "'$.subtitle'), n.attempts, n.delivered, n.last_error "
	    "FROM notifications n JOIN users u ON u.id = n.user_id "
	    "JOIN destinations d ON d.id = n.destination_id "
	    "JOIN messages m ON m.id = n.message_id "
	    "WHERE ?1 = 0 OR n.user_id = ?1 ORDER BY n.id DESC LIMIT ?2",
	    res)) == NULL)
		return;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_int64(st, 2, limit);
	ops_rows(ctx, st, notification_json, NULL, res);
}
