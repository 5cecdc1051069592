/*
 * Bearer tokens (fmn_tokens.h). The id in a token's text finds its row
 * without comparing against every digest; the digest comparison itself
 * takes the same time whether the guess was close or not, and a token
 * whose row does not exist costs the same work as one whose does.
 */
#include "fmn_tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "fmn_store.h"
#include "fmn_util.h"

#define TOKEN_DIGEST_LEN	32	/* SHA-256 */
#define TOKEN_TOUCH_EVERY	60	/* seconds between writes of last_used */

/* The SHA-256 of a token's text: what is stored of it. */
static void
token_digest(const char *token, unsigned char out[TOKEN_DIGEST_LEN])
{
	unsigned int len = TOKEN_DIGEST_LEN;

	if (EVP_Digest(token, strlen(token), out, &len, EVP_sha256(),
	    NULL) != 1 || len != TOKEN_DIGEST_LEN) {
		/* Only out of memory: OpenSSL 3 always has SHA-256. */
		fputs("fatal: tokens: SHA-256 failed\n", stderr);
		abort();
	}
}

char *
fmn_tokens_create(sqlite3 *db, long long uid, int admin, double now,
    long long *id, char **cause)
{
	sqlite3_stmt *st;
	unsigned char digest[TOKEN_DIGEST_LEN];
	char *secret, *token = NULL;
	int rc;

	if (fmn_store_exec(db, "BEGIN IMMEDIATE", cause) != 0)
		return NULL;
	/* The row first, with a placeholder: its id is part of the text. */
	st = fmn_store_prepare(db, "INSERT INTO tokens (user_id, digest, "
	    "admin, created) VALUES (?, zeroblob(32), ?, ?)", cause);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_int(st, 2, admin != 0);
	sqlite3_bind_double(st, 3, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
		goto fail;
	}
	*id = sqlite3_last_insert_rowid(db);
	secret = fmn_random_hex(FMN_TOKEN_SECRET_BYTES);
	token = xasprintf("fmn_%lld_%s", *id, secret);
	memset(secret, 0, strlen(secret));
	free(secret);
	token_digest(token, digest);
	st = fmn_store_prepare(db, "UPDATE tokens SET digest = ? WHERE id = ?",
	    cause);
	if (st == NULL)
		goto fail;
	sqlite3_bind_blob(st, 1, digest, sizeof(digest), SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, *id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
		goto fail;
	}
	if (fmn_store_exec(db, "COMMIT", cause) != 0)
		goto fail;
	return token;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	free(token);
	return NULL;
}

/* The id of a well-formed token text, or -1. */
static long long
token_id(const char *token)
{
	const char *p;
	long long id = 0;
	size_t n;

	if (strlen(token) > FMN_TOKEN_MAX || strncmp(token, "fmn_", 4) != 0)
		return -1;
	for (p = token + 4; *p >= '0' && *p <= '9'; p++) {
		if (id > 100000000000000LL)
			return -1;
		id = id * 10 + (*p - '0');
	}
	if (p == token + 4 || *p != '_')
		return -1;
	p++;
	n = strspn(p, "0123456789abcdef");
	if (n != 2 * FMN_TOKEN_SECRET_BYTES || p[n] != '\0')
		return -1;
	return id;
}

int
fmn_tokens_check(sqlite3 *db, const char *token, struct fmn_token_info *info,
    char **cause)
{
	static const unsigned char none[TOKEN_DIGEST_LEN];
	unsigned char digest[TOKEN_DIGEST_LEN], stored[TOKEN_DIGEST_LEN];
	sqlite3_stmt *st;
	long long id;
	int rc, found = 0, same;

	memset(info, 0, sizeof(*info));
	if ((id = token_id(token)) < 0)
		return 0;
	st = fmn_store_prepare(db, "SELECT t.digest, t.user_id, u.name, "
	    "t.admin FROM tokens t JOIN users u ON u.id = t.user_id "
	    "WHERE t.id = ?", cause);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	memcpy(stored, none, sizeof(stored));
	if (rc == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 0) == TOKEN_DIGEST_LEN) {
		memcpy(stored, sqlite3_column_blob(st, 0), TOKEN_DIGEST_LEN);
		info->id = id;
		info->user_id = sqlite3_column_int64(st, 1);
		info->user = xstrdup((const char *)sqlite3_column_text(st, 2));
		info->admin = sqlite3_column_int(st, 3) != 0;
		found = 1;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	/* The same work whether the row exists or not. */
	token_digest(token, digest);
	same = CRYPTO_memcmp(digest, stored, sizeof(digest)) == 0;
	if (!found || !same) {
		fmn_token_info_clear(info);
		return 0;
	}
	return 1;
}

void
fmn_token_info_clear(struct fmn_token_info *info)
{
	free(info->user);
	memset(info, 0, sizeof(*info));
}

int
fmn_tokens_touch(sqlite3 *db, long long id, double now)
{
	sqlite3_stmt *st;
	int rc;

	st = fmn_store_prepare(db, "UPDATE tokens SET last_used = ?1 "
	    "WHERE id = ?2 AND (last_used IS NULL OR last_used < ?1 - ?3)",
	    NULL);
	if (st == NULL)
		return -1;
	sqlite3_bind_double(st, 1, now);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int(st, 3, TOKEN_TOUCH_EVERY);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
fmn_tokens_remove(sqlite3 *db, long long id, char **cause)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = fmn_store_prepare(db, "DELETE FROM tokens WHERE id = ?",
	    cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
		return -1;
	}
	return sqlite3_changes(db) > 0;
}
