/*
 * The HTTP API's bearer tokens (migration 008): made on the server by
 * `fmnctl token create`, checked by fmnd for every API request. A token
 * is "fmn_ID_SECRET": ID the row, SECRET 32 random bytes in hex; the
 * row keeps the SHA-256 of the whole text, compared in constant time.
 */
#ifndef FMN_TOKENS_H
#define FMN_TOKENS_H

#include <sqlite3.h>

#define FMN_TOKEN_SECRET_BYTES	32
#define FMN_TOKEN_MAX		128	/* longer texts are no token */

/* Who a valid token speaks for. */
struct fmn_token_info {
	long long	 id;		/* tokens.id */
	long long	 user_id;
	char		*user;		/* the user's name (owned) */
	int		 admin;		/* reaches every user's data */
};

/*
 * Make a token for user uid at time now. Returns its text, which is
 * stored nowhere (the caller shows it once and frees it), and sets *id;
 * NULL with *cause on a database error.
 */
char *fmn_tokens_create(sqlite3 *db, long long uid, int admin, double now,
    long long *id, char **cause);
/*
 * Check a presented token: 1 and *info when it is valid, 0 when it is
 * not (malformed, unknown, or its digest differs), -1 with *cause on a
 * database error.
 */
int fmn_tokens_check(sqlite3 *db, const char *token,
    struct fmn_token_info *info, char **cause);
void fmn_token_info_clear(struct fmn_token_info *info);
/* Note a use at time now, at most one write a minute per token. */
int fmn_tokens_touch(sqlite3 *db, long long id, double now);
/* Remove token id: 1 removed, 0 no such token, -1 with *cause. */
int fmn_tokens_remove(sqlite3 *db, long long id, char **cause);

#endif
