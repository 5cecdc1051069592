/*
 * The filter engine's inside, shared by fmn_match.c (rules, filters,
 * indexes, matching) and fmn_match_load.c (compiling every user's
 * filters from the database). Only those include this.
 */
#ifndef FMN_MATCH_INT_H
#define FMN_MATCH_INT_H

#include "fmn_hmap.h"
#include "fmn_match.h"
#include "fmn_rule.h"

/* Which index a filter sits in; the order is the order of preference. */
enum idx_kind {
	IDX_OWNED,
	IDX_USER,
	IDX_PACKAGE,
	IDX_GROUP,
	IDX_AGENT,
	IDX_TOPIC,
	IDX_CATEGORY,
	IDX__COUNT,
	IDX_ALWAYS = IDX__COUNT,
	IDX_NONE,		/* empty, unrunnable or broken: never a candidate */
};

/* A rule that fails on every message is logged once a minute at most. */
#define ERULE_WARN_MS	60000

struct euser;

/* A distinct (kind, argument), shared by every filter that uses it. */
struct erule {
	struct fmn_rule		*rule;
	char			*key;
	size_t			 refs;
	int			 regex;	/* charged to the users who need it */
	unsigned long long	 gen;	/* message generation of val */
	int			 val;	/* FMN_MATCH_* of the positive rule */
	unsigned long		 units;	/* what computing val was charged */
	/* The last user who asked for it in message user_gen, and their answer. */
	const struct euser	*user;
	unsigned long long	 user_gen;
	int			 user_val;
	int			 user_skipped;	/* their allowance was used up */
	int64_t			 warn_next;	/* no warning before (monotonic ms) */
	unsigned long		 unwarned;	/* errors since the last warning */
};

struct fref {
	struct erule	*er;
	int		 negated;
};

struct epref;

struct efilter {
	long long		 id;
	char			*name;
	struct epref		*pref;
	struct fref		*rules;		/* in position order */
	unsigned short		*order;		/* evaluation order: cheap first */
	size_t			 nrules;
	char			*bad_rule;	/* the token that did not compile */
	char			*broken;	/* why it is marked broken: not tried */
	enum idx_kind		 idx;
	char			*idx_key;	/* NULL for ALWAYS and NONE */
	unsigned long long	 cand_gen;	/* candidate for this message */
	unsigned long long	 tries;		/* messages it was evaluated on */
	/* Its last errors, oldest first, as values of tries (0: none). */
	unsigned long long	 err_at[FMN_MATCH_BROKEN_AFTER - 1];
};

struct edest {
	long long	 id;
	char		*address;
};

struct epref {
	long long		 id;
	char			*context;
	struct euser		*user;
	struct efilter		**filters;	/* active filters, by position */
	size_t			 nfilters;
	struct edest		*dests;		/* confirmed destinations */
	size_t			 ndests;
	unsigned long long	 touched_gen;
};

struct euser {
	long long		 id;
	char			*name;
	struct epref		**prefs;	/* by context */
	size_t			 nprefs;
	unsigned long long	 touched_gen;
};

/* A list of filters under one index key. */
struct flist {
	struct efilter	**v;
	size_t		  n;
	size_t		  cap;
};

struct fmn_engine {
	struct fmn_hmap		 rules;		/* key -> struct erule */
	struct fmn_hmap		 users;		/* decimal id -> struct euser */
	struct fmn_hmap		 idx[IDX__COUNT];	/* key -> struct flist */
	struct flist		 always;
	struct fmn_owners	*owners;
	size_t			 nusers;
	size_t			 nfilters;
	size_t			 nbroken;
	unsigned long long	 gen;
	unsigned long long	 rule_errors;
	unsigned long long	 regex_units;
	unsigned long long	 allowance_skips;
	/* Filters found over budget, until fmn_engine_take_broken. */
	struct fmn_broken	*found;
	size_t			 nfound;
	size_t			 found_cap;
	/* Per-message scratch, kept to avoid reallocation. */
	struct euser		**touched;	/* users with a candidate filter */
	size_t			 ntouched;
	size_t			 touched_cap;
	struct fmn_msg		*cur;
	const struct euser	*cur_user;	/* whose filters are evaluated */
	unsigned long		 spent;		/* units charged to cur_user */
};

/* fmn_match.c, for fmn_match_load.c */
/* The shared rule for (kind, arg), made when new; a reference is taken. */
struct erule *erule_get(struct fmn_engine *e, enum fmn_rule_kind kind,
    const char *arg, char **cause);
/* Put a filter under its best index (or the always list, or none). */
void filter_index(struct fmn_engine *e, struct efilter *f);
/* Order a filter's rules cheapest first for evaluation. */
void filter_order(struct efilter *f);
/* A user's id as a key of the engine's maps. */
char *id_key(long long id, char buf[32]);
void user_free(struct fmn_engine *e, struct euser *u);
/* Forget a user: unindex and free every filter, the preferences too. */
void user_remove(struct fmn_engine *e, long long id);
/* Free functions of the engine's maps (an index's list, a shared rule). */
void flist_free(void *p);
void erule_free(void *p);

#endif
