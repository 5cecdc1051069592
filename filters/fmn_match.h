/*
 * The filter engine: every enabled preference's active filters of every
 * user compiled into one indexed structure; a message is matched once
 * against all of them with FMN semantics (DESIGN.md, "Match").
 */
#ifndef FMN_MATCH_H
#define FMN_MATCH_H

#include <sqlite3.h>
#include <jansson.h>
#include "fmn_msg.h"

struct fmn_engine;

/* One notification to create: valid until the engine next changes. */
struct fmn_recipient {
	long long	 user_id;
	long long	 preference_id;
	long long	 destination_id;
	const char	*user;
	const char	*context;
	const char	*address;
	const char	*filter;	/* name of the filter that fired */
};

struct fmn_recipients {
	struct fmn_recipient	*v;
	size_t			 n;
	size_t			 cap;
};
void fmn_recipients_clear(struct fmn_recipients *r);	/* n = 0, keeps memory */
void fmn_recipients_free(struct fmn_recipients *r);

struct fmn_engine_stats {
	unsigned long long	rule_errors;	/* rules that failed to evaluate */
	size_t			users;
	size_t			filters;
	size_t			distinct_rules;
};

struct fmn_engine *fmn_engine_new(void);
void fmn_engine_destroy(struct fmn_engine **ep);
/* Compile everything: users, preferences, filters, rules, owners, groups. */
int fmn_engine_load(struct fmn_engine *e, sqlite3 *db, char **cause);
/* Recompile one user (also when the user was deleted). */
int fmn_engine_reload_user(struct fmn_engine *e, sqlite3 *db,
    long long user_id, char **cause);
/* Reload package owners and group members. */
int fmn_engine_reload_shared(struct fmn_engine *e, sqlite3 *db, char **cause);

/*
 * Match a message whose facts are derived; appends to out (not cleared).
 * When explain is a JSON array, appends one object per user x context
 * saying which filter fired or, per filter, the first rule that failed.
 */
int fmn_engine_match(struct fmn_engine *e, struct fmn_msg *m,
    struct fmn_recipients *out, json_t *explain);
void fmn_engine_stats(const struct fmn_engine *e, struct fmn_engine_stats *st);

#endif
