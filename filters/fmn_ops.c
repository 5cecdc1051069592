/*
 * The operations' table (fmn_ops.h): for each, fmnctl's command, the
 * API's method and paths, its arguments and the function that runs it;
 * the checking of arguments against the table before anything runs;
 * and the look-ups every operation shares (a user, a context, a
 * preference), with the messages a person reads when they fail.
 */
#include "fmn_ops_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_store.h"
#include "fmn_utf8.h"

#define P(n, t, r)	{ n, FMN_OPS_##t, r }
#define FILTER_PATH	"/users/{user}/filters/{context}/{name}"

static const struct fmn_ops_desc ops_table[FMN_OP__COUNT] = {
	[FMN_OP_USER_SHOW] = { "user show", "GET", { "/users/{user}" },
	    { P("user", STR, 1) }, ops_user_show },
	[FMN_OP_DEST_LIST] = { "dest list", "GET",
	    { "/users/{user}/destinations", "/destinations" },
	    { P("user", STR, 0) }, ops_dest_list },
	[FMN_OP_DEST_ADD] = { "dest add", "POST",
	    { "/users/{user}/destinations" },
	    { P("user", STR, 1), P("context", STR, 1), P("address", STR, 1),
	      P("confirmed", BOOL, 0), P("expires", INT, 0) }, ops_dest_add },
	[FMN_OP_DEST_CONFIRM] = { "dest confirm", "POST",
	    { "/users/{user}/confirmations", "/confirmations" },
	    { P("secret", STR, 1), P("user", STR, 0) }, ops_dest_confirm },
	[FMN_OP_DEST_RM] = { "dest rm", "DELETE",
	    { "/users/{user}/destinations/{context}/{address}" },
	    { P("user", STR, 1), P("context", STR, 1), P("address", STR, 1) },
	    ops_dest_rm },
	[FMN_OP_PREF_SET] = { "pref set", "PATCH",
	    { "/users/{user}/preferences/{context}" },
	    { P("user", STR, 1), P("context", STR, 1), P("enabled", BOOL, 0),
	      P("batch_delta", INT_NULL, 0), P("batch_count", INT_NULL, 0),
	      P("verbose", BOOL, 0), P("markup", BOOL, 0) }, ops_pref_set },
	[FMN_OP_PREF_LIST] = { "pref list", "GET",
	    { "/users/{user}/preferences", "/preferences" },
	    { P("user", STR, 0) }, ops_pref_list },
	[FMN_OP_FILTER_ADD] = { "filter add", "POST", { "/users/{user}/filters" },
	    { P("user", STR, 1), P("context", STR, 1), P("name", STR, 1),
	      P("rules", STR_LIST, 1), P("active", BOOL, 0),
	      P("oneshot", BOOL, 0) }, ops_filter_add },
	[FMN_OP_FILTER_LIST] = { "filter list", "GET", { "/users/{user}/filters" },
	    { P("user", STR, 1), P("context", STR, 0) }, ops_filter_list },
	[FMN_OP_FILTER_SHOW] = { "filter show", "GET", { FILTER_PATH },
	    { P("user", STR, 1), P("context", STR, 1), P("name", STR, 1) },
	    ops_filter_show },
	[FMN_OP_FILTER_SET] = { "filter enable|disable|move", "PATCH",
	    { FILTER_PATH },
	    { P("user", STR, 1), P("context", STR, 1), P("name", STR, 1),
	      P("active", BOOL, 0), P("position", INT, 0) }, ops_filter_set },
	[FMN_OP_FILTER_RM] = { "filter rm", "DELETE", { FILTER_PATH },
	    { P("user", STR, 1), P("context", STR, 1), P("name", STR, 1) },
	    ops_filter_rm },
	[FMN_OP_RULES] = { "rules", "GET", { "/rules" }, { { NULL, 0, 0 } },
	    ops_rules },
	[FMN_OP_MATCH] = { "match --id", "GET",
	    { "/users/{user}/match", "/match" },
	    { P("id", STR, 1), P("user", STR, 0), P("explain", BOOL, 0) },
	    ops_match },
	[FMN_OP_NOTIFICATIONS] = { "notifications", "GET",
	    { "/users/{user}/notifications", "/notifications" },
	    { P("user", STR, 0), P("limit", INT, 0) }, ops_notifications },
};
#undef P

const struct fmn_ops_desc *
fmn_ops_desc(enum fmn_op op)
{
	return op < FMN_OP__COUNT ? &ops_table[op] : NULL;
}

void
ops_fail(struct fmn_ops_result *res, enum fmn_ops_status st,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(res->error);
	res->error = xvasprintf(fmt, ap);
	va_end(ap);
	res->status = st;
}

void
ops_fail_cause(struct fmn_ops_result *res, enum fmn_ops_status st,
    char *cause)
{
	free(res->error);
	res->error = cause != NULL ? cause : xstrdup("failed");
	res->status = st;
}

void
ops_fail_db(struct fmn_ops_result *res, sqlite3 *db)
{
	int code = sqlite3_errcode(db);

	ops_fail(res, code == SQLITE_BUSY || code == SQLITE_LOCKED ||
	    code == SQLITE_INTERRUPT ? FMN_OPS_BUSY : FMN_OPS_STORE,
	    "database: %s", sqlite3_errmsg(db));
}

sqlite3_stmt *
ops_prepare(const struct fmn_ops_ctx *ctx, const char *sql,
    struct fmn_ops_result *res)
{
	sqlite3_stmt *st = fmn_store_prepare(ctx->db, sql, NULL);

	if (st == NULL)
		ops_fail_db(res, ctx->db);
	return st;
}

void
ops_rows(const struct fmn_ops_ctx *ctx, sqlite3_stmt *st, ops_row_fn fn,
    void *arg, struct fmn_ops_result *res)
{
	int rc;

	res->out = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(res->out, fn(st, arg));
	if (rc != SQLITE_DONE) {
		ops_fail_db(res, ctx->db);
		json_decref(res->out);
		res->out = NULL;
	}
	sqlite3_finalize(st);
}

void
ops_user_rows(const struct fmn_ops_ctx *ctx, json_t *args, const char *sql,
    ops_row_fn fn, struct fmn_ops_result *res)
{
	sqlite3_stmt *st;
	long long uid;

	if ((uid = ops_user_or_all(ctx, args, res)) < 0 ||
	    (st = ops_prepare(ctx, sql, res)) == NULL)
		return;
	sqlite3_bind_int64(st, 1, uid);
	ops_rows(ctx, st, fn, NULL, res);
}

void
ops_abort(const struct fmn_ops_ctx *ctx, struct fmn_ops_result *res)
{
	ops_rollback(ctx);
	json_decref(res->out);
	res->out = NULL;
}

void
fmn_ops_result_clear(struct fmn_ops_result *res)
{
	json_decref(res->out);
	free(res->error);
	memset(res, 0, sizeof(*res));
}

unsigned
fmn_ops_http_status(enum fmn_ops_status st)
{
	static const unsigned code[] = {
		[FMN_OPS_OK] = 200, [FMN_OPS_INVALID] = 400,
		[FMN_OPS_DENIED] = 403, [FMN_OPS_NOT_FOUND] = 404,
		[FMN_OPS_CONFLICT] = 409, [FMN_OPS_STORE] = 500,
		[FMN_OPS_BUSY] = 503,
	};

	return st < FMN_NELEM(code) ? code[st] : 500;
}

const char *
ops_str(json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

int
ops_bool(json_t *args, const char *key, int dflt)
{
	json_t *v = json_object_get(args, key);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

long long
ops_int(json_t *args, const char *key, long long dflt)
{
	json_t *v = json_object_get(args, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

int
ops_has(json_t *args, const char *key)
{
	return json_object_get(args, key) != NULL;
}

/* A URL's query gives text: the words a person would write for a bool. */
static int
ops_word_bool(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < FMN_NELEM(yes); i++) {
		if (strcmp(s, yes[i]) == 0)
			return 1;
		if (strcmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* v as the kind t wants, or NULL. */
static json_t *
ops_coerce(json_t *v, enum fmn_ops_type t)
{
	const char *s = json_string_value(v);
	long long n;
	char *end;
	int b;
	size_t i;
	json_t *x;

	switch (t) {
	case FMN_OPS_STR:
		return json_is_string(v) ? json_incref(v) : NULL;
	case FMN_OPS_BOOL:
		if (json_is_boolean(v))
			return json_incref(v);
		if (s != NULL && (b = ops_word_bool(s)) >= 0)
			return json_boolean(b);
		return NULL;
	case FMN_OPS_INT_NULL:
		if (json_is_null(v) || (s != NULL && (strcmp(s, "null") == 0 ||
		    strcmp(s, "none") == 0)))
			return json_null();
		/* FALLTHROUGH */
	case FMN_OPS_INT:
		if (json_is_integer(v))
			return json_incref(v);
		if (s == NULL || *s == '\0')
			return NULL;
		errno = 0;
		n = strtoll(s, &end, 10);
		return errno == 0 && *end == '\0' ? json_integer(n) : NULL;
	case FMN_OPS_STR_LIST:
		if (!json_is_array(v))
			return NULL;
		json_array_foreach(v, i, x)
			if (!json_is_string(x))
				return NULL;
		return json_incref(v);
	}
	return NULL;
}

static const char *
ops_type_name(enum fmn_ops_type t)
{
	switch (t) {
	case FMN_OPS_STR:
		return "a string";
	case FMN_OPS_BOOL:
		return "true or false";
	case FMN_OPS_INT:
		return "a whole number";
	case FMN_OPS_INT_NULL:
		return "a whole number or null";
	case FMN_OPS_STR_LIST:
		return "a list of strings";
	}
	return "?";
}

/* The arguments of d, checked and typed; NULL after filling res. */
static json_t *
ops_check(const struct fmn_ops_desc *d, json_t *args,
    struct fmn_ops_result *res)
{
	const struct fmn_ops_param *p;
	json_t *out = json_object(), *v, *c;
	const char *key;
	size_t i;

	if (args != NULL && !json_is_object(args)) {
		ops_fail(res, FMN_OPS_INVALID, "the arguments must be a JSON "
		    "object");
		goto fail;
	}
	json_object_foreach(args, key, v) {
		for (i = 0, p = NULL; i < FMN_OPS_MAX_PARAMS &&
		    d->params[i].name != NULL; i++)
			if (strcmp(d->params[i].name, key) == 0)
				p = &d->params[i];
		if (p == NULL) {
			ops_fail(res, FMN_OPS_INVALID, "%s takes no argument "
			    "\"%.100s\"", d->command, key);
			goto fail;
		}
		if ((c = ops_coerce(v, p->type)) == NULL) {
			ops_fail(res, FMN_OPS_INVALID, "%s: expected %s",
			    key, ops_type_name(p->type));
			goto fail;
		}
		json_object_set_new(out, key, c);
	}
	for (i = 0; i < FMN_OPS_MAX_PARAMS && d->params[i].name != NULL; i++)
		if (d->params[i].required &&
		    json_object_get(out, d->params[i].name) == NULL) {
			ops_fail(res, FMN_OPS_INVALID, "%s needs \"%s\"",
			    d->command, d->params[i].name);
			goto fail;
		}
	return out;
fail:
	json_decref(out);
	return NULL;
}

void
fmn_ops_run(const struct fmn_ops_ctx *ctx, enum fmn_op op, json_t *args,
    struct fmn_ops_result *res)
{
	const struct fmn_ops_desc *d = fmn_ops_desc(op);
	json_t *checked;

	memset(res, 0, sizeof(*res));
	if (d == NULL) {
		ops_fail(res, FMN_OPS_INVALID, "no such operation");
		return;
	}
	if ((checked = ops_check(d, args, res)) == NULL)
		return;
	d->run(ctx, checked, res);
	json_decref(checked);
	/* An operation leaves no transaction open, whatever happened. */
	if (ctx->db != NULL && !sqlite3_get_autocommit(ctx->db))
		ops_rollback(ctx);
	if (res->status == FMN_OPS_OK && res->out == NULL)
		res->out = json_object();
}

long long
fmn_ops_user_id(sqlite3 *db, const char *name, char **cause)
{
	sqlite3_stmt *st;
	long long id = -2;
	int rc;

	if ((st = fmn_store_prepare(db, "SELECT id FROM users WHERE name = ?",
	    cause)) == NULL)
		return -2;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE) {
		fmn_set_cause(cause, "no user named \"%s\"", name);
		id = -1;
	} else
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return id;
}

long long
ops_user(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	char *cause = NULL;
	long long id;

	id = fmn_ops_user_id(ctx->db, ops_str(args, "user"), &cause);
	if (id == -2) {
		free(cause);
		ops_fail_db(res, ctx->db);
	} else if (id < 0)
		ops_fail_cause(res, FMN_OPS_NOT_FOUND, cause);
	return id < 0 ? -1 : id;
}

long long
ops_user_or_all(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res)
{
	return ops_has(args, "user") ? ops_user(ctx, args, res) : 0;
}

int
fmn_ops_check_name(const char *what, const char *name, char **cause)
{
	const unsigned char *p;

	if (*name == '\0')
		return fmn_set_cause(cause, "%s must not be empty", what), -1;
	if (strlen(name) > OPS_NAME_MAX)
		return fmn_set_cause(cause, "%s is longer than 255 bytes",
		    what), -1;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return fmn_set_cause(cause, "%s \"%s\" contains a space "
			    "or a control character", what, name), -1;
	if (!fmn_utf8_valid(name, strlen(name)))
		return fmn_set_cause(cause, "%s is not valid UTF-8", what), -1;
	return 0;
}

int
fmn_ops_check_context(const char *context, char **cause)
{
	if (strcmp(context, "email") == 0 || strcmp(context, "irc") == 0)
		return 0;
	fmn_set_cause(cause, "unknown context \"%s\" (contexts: email, irc)",
	    context);
	return -1;
}

int
ops_context(json_t *args, struct fmn_ops_result *res)
{
	char *cause = NULL;

	if (fmn_ops_check_context(ops_str(args, "context"), &cause) == 0)
		return 0;
	ops_fail_cause(res, FMN_OPS_INVALID, cause);
	return -1;
}

/* The most each batch threshold may be: a year of seconds, a million. */
static const struct {
	const char	*field;
	long long	 max;
	const char	*unit;
} ops_batch[] = {
	[FMN_OPS_BATCH_DELTA] = { "batch_delta", 366LL * 86400, " seconds" },
	[FMN_OPS_BATCH_COUNT] = { "batch_count", 1000000, "" },
};

int
fmn_ops_check_batch(enum fmn_ops_batch which, long long v, char **cause)
{
	if (v < 0) {
		fmn_set_cause(cause, "must not be negative (%lld)", v);
		return -1;
	}
	if (v > ops_batch[which].max) {
		fmn_set_cause(cause, "must be at most %lld%s (%lld)",
		    ops_batch[which].max, ops_batch[which].unit, v);
		return -1;
	}
	return 0;
}

const char *
fmn_ops_batch_field(enum fmn_ops_batch which)
{
	return ops_batch[which].field;
}

long long
ops_pref_id(const struct fmn_ops_ctx *ctx, long long uid, const char *user,
    const char *context, int create, struct fmn_ops_result *res)
{
	sqlite3_stmt *st;
	long long id = -1;
	char *cause = NULL;

	if (fmn_ops_check_context(context, &cause) != 0) {
		ops_fail_cause(res, FMN_OPS_INVALID, cause);
		return -1;
	}
	if ((st = ops_prepare(ctx, "SELECT id FROM preferences "
	    "WHERE user_id = ? AND context = ?", res)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, context, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (id >= 0)
		return id;
	if (!create) {
		ops_fail(res, FMN_OPS_NOT_FOUND, "user \"%s\" has no %s "
		    "preference", user, context);
		return -1;
	}
	if ((st = ops_prepare(ctx, "INSERT INTO preferences "
	    "(user_id, context) VALUES (?, ?)", res)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, context, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(ctx->db);
	else
		ops_fail_db(res, ctx->db);
	sqlite3_finalize(st);
	return id;
}

int
ops_begin(const struct fmn_ops_ctx *ctx, struct fmn_ops_result *res)
{
	if (sqlite3_exec(ctx->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
	    SQLITE_OK)
		return 0;
	ops_fail_db(res, ctx->db);
	return -1;
}

int
ops_commit(const struct fmn_ops_ctx *ctx, struct fmn_ops_result *res)
{
	if (sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	ops_fail_db(res, ctx->db);
	ops_rollback(ctx);
	return -1;
}

void
ops_rollback(const struct fmn_ops_ctx *ctx)
{
	if (!sqlite3_get_autocommit(ctx->db))
		sqlite3_exec(ctx->db, "ROLLBACK", NULL, NULL, NULL);
}
