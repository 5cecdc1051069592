/*
 * The inside of the operations (fmn_ops.h), shared by fmn_ops.c (the
 * table, the checking of arguments, the helpers), fmn_ops_dest.c (user,
 * destinations, preferences), fmn_ops_filter.c (filters, rule kinds),
 * fmn_ops_match.c (matching a stored message, recent notifications) and
 * fmn_ops_url.c (the API's paths). Only those files include this.
 */
#ifndef FMN_OPS_INT_H
#define FMN_OPS_INT_H

#include "fmn_ops.h"
#include "fmn_util.h"

#define OPS_NAME_MAX	255	/* bytes in a user, account or filter name */

/* Fill res with a failure. */
void ops_fail(struct fmn_ops_result *res, enum fmn_ops_status st,
    const char *fmt, ...) FMN_PRINTF(3, 4);
/* The same with a cause made elsewhere (taken, freed). */
void ops_fail_cause(struct fmn_ops_result *res, enum fmn_ops_status st,
    char *cause);
/* "database: ...", busy (a lock, a deadline) or a real failure. */
void ops_fail_db(struct fmn_ops_result *res, sqlite3 *db);

/* Prepare sql; NULL after filling res. */
sqlite3_stmt *ops_prepare(const struct fmn_ops_ctx *ctx, const char *sql,
    struct fmn_ops_result *res);
/*
 * Every row of st (prepared and bound) as fn makes it, into res->out,
 * an array; finalizes st.
 */
typedef json_t *(*ops_row_fn)(sqlite3_stmt *st, void *arg);
void ops_rows(const struct fmn_ops_ctx *ctx, sqlite3_stmt *st, ops_row_fn fn,
    void *arg, struct fmn_ops_result *res);

/*
 * The rows of sql, its ?1 bound to the id of args' "user" (0: every
 * user), as ops_rows makes them.
 */
void ops_user_rows(const struct fmn_ops_ctx *ctx, json_t *args,
    const char *sql, ops_row_fn fn, struct fmn_ops_result *res);
/* After a failure: roll back, and no answer but the failure. */
void ops_abort(const struct fmn_ops_ctx *ctx, struct fmn_ops_result *res);

/* The checked arguments (absent: NULL, dflt). */
const char *ops_str(json_t *args, const char *key);
int ops_bool(json_t *args, const char *key, int dflt);
long long ops_int(json_t *args, const char *key, long long dflt);
int ops_has(json_t *args, const char *key);

/* The id of args' "user"; -1 after filling res. */
long long ops_user(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res);
/* The same, 0 when args has no "user" (every user); -1 after res. */
long long ops_user_or_all(const struct fmn_ops_ctx *ctx, json_t *args,
    struct fmn_ops_result *res);
/* 0, or -1 after filling res. */
int ops_context(json_t *args, struct fmn_ops_result *res);
/*
 * The id of the user's preference for context; with create, made
 * (enabled, unbatched) when missing. -1 after filling res.
 */
long long ops_pref_id(const struct fmn_ops_ctx *ctx, long long uid,
    const char *user, const char *context, int create,
    struct fmn_ops_result *res);
/* BEGIN IMMEDIATE; 0, or -1 after filling res. */
int ops_begin(const struct fmn_ops_ctx *ctx, struct fmn_ops_result *res);
/* COMMIT; 0, or -1 after rolling back and filling res. */
int ops_commit(const struct fmn_ops_ctx *ctx, struct fmn_ops_result *res);
void ops_rollback(const struct fmn_ops_ctx *ctx);

/* The operations, by file. */
void ops_user_show(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_dest_list(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_dest_add(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_dest_confirm(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_dest_rm(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_pref_set(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_pref_list(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_filter_add(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_filter_list(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_filter_show(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_filter_set(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_filter_rm(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_rules(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_match(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);
void ops_notifications(const struct fmn_ops_ctx *, json_t *, struct fmn_ops_result *);

#endif
