/*
 * The filter engine's inside, shared by fmn_match.c (rules, filters,
 * indexes, matching) and fmn_match_load.c (compiling every user's
 * filters from the database). Only those include this.
 */
#ifndef FMN_MATCH_INT_H
#define FMN_MATCH_INT_H

#include <stdint.h>

#include "fmn_hmap.h"
#include "fmn_match.h"
#include "fmn_rule.h"
#include "fmn_textidx.h"
#include "fmn_util.h"

/*
 * Which index a filter sits in (docs/filters.md, "How the engine is
 * fast"). Each filter is filed under one key of one of them, taken from
 * one of its positive rules: the rule whose key ranks best (idx_rank in
 * fmn_index.c), which is mostly the order here.
 */
enum idx_kind {
	IDX_OWNED,
	IDX_USER,
	IDX_PACKAGE,
	IDX_GROUP,
	IDX_AGENT,
	IDX_TOPIC,		/* a whole topic */
	IDX_FIELD,		/* field:/ptr=VALUE: the value at a pointer */
	IDX_TOPIC_PREFIX,	/* the first segments a glob or ^regex fixes */
	IDX_TOPIC_SUFFIX,	/* the last segments a glob fixes */
	IDX_CATEGORY,
	IDX_TOPIC_SEGMENT,	/* a segment a glob fixes somewhere */
	IDX_TOPIC_TEXT,		/* text a topic regex or glob requires */
	IDX_PACKAGE_TEXT,	/* text a package-re requires */
	IDX_FIELD_TEXT,		/* text a field:/ptr~REGEX requires */
	IDX_BODY_TEXT,		/* text a body-re requires */
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
	struct fref		*rules;		/* evaluation order: cheap first */
	unsigned short		*pos;		/* rules[pos[i]]: the i-th written */
	size_t			 nrules;
	/* rules[sure] holds whenever f is a candidate (its index says so). */
	size_t			 sure;
	struct probe		*probe;		/* how its evaluation starts */
	char			*bad_rule;	/* the token that did not compile */
	char			*broken;	/* why it is marked broken: not tried */
	enum idx_kind		 idx;
	char			*idx_key;	/* NULL for ALWAYS and NONE */
	char			*idx_ptr;	/* the pointer of IDX_FIELD* */
	unsigned		 at;		/* in pref->filters */
	/* Candidate for this message (filters past the 64th only). */
	unsigned long long	 cand_gen;
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
	struct edest		*dests;		/* confirmed ones, by address */
	size_t			 ndests;
	unsigned long long	 touched_gen;
	/* With touched_gen: the candidates among the first 64 filters. */
	uint64_t		 cand;
};

/*
 * A user is one block (user_pack in fmn_match_load.c): this struct
 * first, then its preferences, filters, rules, destinations, strings.
 */
struct euser {
	long long		 id;
	char			*name;
	uint64_t		 sortkey[2];	/* name's first 16 bytes, big-endian */
	struct epref		**prefs;	/* by context */
	size_t			 nprefs;
	unsigned long long	 touched_gen;
};

/*
 * The rules a filter's evaluation starts with, when they are shared by
 * many filters and need no regex: all the default filters of every user
 * start with the same exclusions, and a message that one of them rules
 * out is ruled out for all those filters at once, before their users'
 * memory is read. Interned: one value per message for all.
 */
#define PROBE_MAX	8
#define PROBE_SHARED	8	/* references that make a rule shared */

struct probe {
	struct fref		 r[PROBE_MAX];
	unsigned		 n;
	size_t			 refs;
	char			*key;
	unsigned long long	 gen;	/* message of val */
	int			 val;	/* FMN_MATCH_* of the AND, in order */
};

/*
 * A filter in an index's list, as its preference and place there: a
 * message marks its candidates in their preferences without reading the
 * filters (most it never evaluates); the probe can rule it out first.
 */
struct fentry {
	struct epref	*pref;
	unsigned	 at;
	struct probe	*probe;		/* or NULL */
};

/* A list of filters under one index key. */
struct flist {
	struct fentry		 *v;
	size_t			  n;
	size_t			  cap;
	unsigned long long	  gen;	/* message that last touched it */
};

/* field:/ptr=VALUE filters of one value. */
struct fval {
	struct flist		 filters;
	char			*text;	/* key in values */
	char			*num;	/* key in nums, or NULL */
	struct fval		*num_next;	/* same number, other spelling */
};

/* Filters on the value at one JSON pointer. */
struct fptr {
	char			*ptr;	/* as written in the rules */
	struct fmn_rule		*get;	/* field:PTR=x, to resolve it */
	struct fmn_hmap		 values;	/* text -> struct fval */
	/* number -> the values that read as it (5, 5.0, 05...), chained */
	struct fmn_hmap		 nums;
	struct fmn_textidx	 text;	/* field:PTR~REGEX */
	size_t			 n;	/* filters under it */
};

/*
 * A user found by a message, with the key it is put in order by copied
 * beside it: sorting then reads one array, not every user's memory.
 */
struct etouched {
	uint64_t		 key[2];	/* the user's sortkey */
	struct euser		*user;
};

struct fmn_engine {
	struct fmn_hmap		 rules;		/* key -> struct erule */
	struct fmn_buf		 keybuf;	/* a rule's key being looked up */
	struct fmn_hmap		 users;		/* decimal id -> struct euser */
	/* Indexes keyed by a string: key -> struct flist. */
	struct fmn_hmap		 idx[IDX__COUNT];
	struct fmn_textidx	 text[3];	/* topic, package, body */
	struct fmn_hmap		 fields;	/* pointer -> struct fptr */
	struct fmn_hmap		 probes;	/* key -> struct probe */
	int			 probing;	/* probes may rule filters out */
	/*
	 * Per index: the probes of its filters (probe -> how many) and how
	 * many have none. When the few probes of an index all rule their
	 * filters out, a message skips the index (the owners of its
	 * packages are not even looked up).
	 */
	struct fmn_hmap		 kprobes[IDX__COUNT + 1];
	size_t			 unprobed[IDX__COUNT + 1];
	unsigned long long	 out_gen[IDX__COUNT + 1];	/* of out */
	int			 out[IDX__COUNT + 1];	/* ruled out */
	struct flist		 always;
	size_t			 nindexed[IDX__COUNT + 1];	/* and always */
	int			 explain_index;	/* explain says which index */
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
	struct etouched		 *touched;	/* users with a candidate filter */
	struct etouched		 *touched_tmp;	/* room to sort them */
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
/* Is pref->filters[at] a candidate for the current message? */
static inline int
is_candidate(const struct fmn_engine *e, const struct epref *p, unsigned at)
{
	if (p->touched_gen != e->gen)
		return 0;
	return at < 64 ? (int)(p->cand >> at & 1) :
	    p->filters[at]->cand_gen == e->gen;
}

/* The value of a rule for the current message, computed once. */
int erule_value(struct fmn_engine *e, struct erule *er);
/* Drop a reference to a shared rule. */
void erule_put(struct fmn_engine *e, struct erule *er);
/* A user's id as a key of the engine's maps. */
char *id_key(long long id, char buf[32]);
void user_free(struct fmn_engine *e, struct euser *u);
/* Forget a user: unindex and free every filter, the preferences too. */
void user_remove(struct fmn_engine *e, long long id);
/* Free function of the engine's map of shared rules. */
void erule_free(void *p);

/* fmn_index.c: the indexes. */
/* Put a filter under its best index (or the always list, or none). */
void filter_index(struct fmn_engine *e, struct efilter *f);
void filter_unindex(struct fmn_engine *e, struct efilter *f);
/* Empty every index (the filters are freed by their users). */
void index_clear(struct fmn_engine *e);
/* The AND of a probe's rules for the current message (computed once). */
int probe_value(struct fmn_engine *e, struct probe *p);
/* A number as the key of a field index's numbers: its bits, -0 as 0. */
void num_key(double d, char buf[24]);

/* fmn_index_touch.c */
/* Mark the candidates for the current message (e->cur, e->gen). */
void index_touch(struct fmn_engine *e);
/* The name of an index kind, as status and explain show it. */
const char *index_kind_name(enum idx_kind k);

#endif
