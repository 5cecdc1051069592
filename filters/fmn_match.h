/*
 * filters/: messages and what they mean (facts from definitions,
 * aliases), rule kinds, and this, the filter engine that matches every
 * user's filters at once; on schema/ and lib/.
 *
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

/*
 * The regex budget (docs/filters.md, "The regex budget"). Each user's
 * regex rules are charged, once per message and distinct rule, the
 * match-limit units their evaluation cost (fmn_rule.h), whether the rule
 * ran for them or for another user who shares it. A user charged
 * FMN_MATCH_ALLOWANCE or more gets, for the rest of the message, an
 * error instead of an evaluation for each further regex rule, so no user
 * costs more than FMN_MATCH_ALLOWANCE + FMN_RULE_MATCH_LIMIT units per
 * message. A filter that errs on FMN_MATCH_BROKEN_AFTER of any
 * FMN_MATCH_BROKEN_WINDOW messages in a row that it is tried on is
 * marked broken: it is not evaluated any more, and
 * fmn_engine_take_broken() hands it to whoever records that.
 */
#define FMN_MATCH_ALLOWANCE	20000
#define FMN_MATCH_BROKEN_AFTER	3
#define FMN_MATCH_BROKEN_WINDOW	100

/* The kinds of index a filter can be found through, always list included. */
#define FMN_ENGINE_INDEXES	16
/* "owned", "user", ..., "body-text", "always"; NULL past the end. */
const char *fmn_engine_index_name(int k);

struct fmn_engine_stats {
	unsigned long long	rule_errors;	/* rules that failed to evaluate */
	unsigned long long	regex_units;	/* match-limit units of the searches run */
	unsigned long long	allowance_skips; /* regex rules a user's allowance stopped */
	size_t			users;
	size_t			filters;
	size_t			broken_filters;	/* loaded broken, or found so */
	size_t			distinct_rules;
	/*
	 * Filters per index (fmn_engine_index_name names them), the
	 * always list last: evaluated for every message.
	 */
	size_t			indexed[FMN_ENGINE_INDEXES];
};

/* A filter found over budget: what the store records (filters.broken). */
struct fmn_broken {
	long long	 filter_id;
	long long	 user_id;
	char		*user;
	char		*context;
	char		*filter;
	char		*reason;
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
/*
 * When on, an explanation also says, per filter, through which index
 * the message found it ("index": {"kind", "key"}), or null when it did
 * not (the filter was not evaluated for matching).
 */
void fmn_engine_explain_index(struct fmn_engine *e, int on);
/*
 * The filters found over budget since the last call, in the order found:
 * sets *v (the caller frees it with fmn_engine_broken_free) and returns
 * how many. The engine already skips them.
 */
size_t fmn_engine_take_broken(struct fmn_engine *e, struct fmn_broken **v);
void fmn_engine_broken_free(struct fmn_broken *v, size_t n);

#endif
