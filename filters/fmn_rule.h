/*
 * Rule kinds: the table that parses, compiles, evaluates and documents
 * every "[!]KIND:ARGUMENT" token (DESIGN.md, "Rule syntax").
 */
#ifndef FMN_RULE_H
#define FMN_RULE_H

enum fmn_rule_kind {
	FMN_RULE_TOPIC,
	FMN_RULE_TOPIC_RE,
	FMN_RULE_CATEGORY,
	FMN_RULE_USER,
	FMN_RULE_AGENT,
	FMN_RULE_PACKAGE,
	FMN_RULE_PACKAGE_RE,
	FMN_RULE_OWNED,
	FMN_RULE_GROUP,
	FMN_RULE_FIELD,
	FMN_RULE_BODY_RE,
	FMN_RULE__COUNT
};

/* A parsed, validated rule token, as stored in the rules table. */
struct fmn_rule_spec {
	enum fmn_rule_kind	 kind;
	int			 negated;
	char			*argument;	/* owned */
};

/*
 * Parse "[!]KIND:ARGUMENT" and validate the argument (regexes compile,
 * JSON pointers are pointers, lists are not empty). On error returns -1
 * and sets *cause to a sentence that names the token and says why.
 */
int fmn_rule_parse(const char *token, struct fmn_rule_spec *out, char **cause);
/* Validate a rule as stored (kind name, argument, negation). */
int fmn_rule_check(const char *kind, const char *argument, char **cause);
void fmn_rule_spec_clear(struct fmn_rule_spec *r);
/* "[!]kind:argument"; the caller frees. */
char *fmn_rule_format(enum fmn_rule_kind kind, int negated, const char *argument);

/* The kind named name, or -1. */
int fmn_rule_kind_lookup(const char *name);
const char *fmn_rule_kind_name(enum fmn_rule_kind kind);
/* Documentation from the same table: syntax ("topic:GLOB") and one paragraph. */
const char *fmn_rule_kind_syntax(enum fmn_rule_kind kind);
const char *fmn_rule_kind_doc(enum fmn_rule_kind kind);

/*
 * Compiled rules and their evaluation. A compiled rule is the positive
 * (kind, argument): negation is the caller's, so that "user:x" and
 * "!user:x" share one evaluation.
 */
#include "fmn_msg.h"

/* Three-valued results: an error is never silently "no". */
#define FMN_MATCH_ERR	(-1)	/* could not evaluate (match limit, ...) */
#define FMN_MATCH_NO	0
#define FMN_MATCH_YES	1

/* Negate a result; an error stays an error. */
static inline int
fmn_match_negate(int res)
{
	return res == FMN_MATCH_ERR ? res : !res;
}

struct fmn_owners;		/* fmn_owners.h: who owns what, who is in which group */
struct fmn_rule;

/*
 * Regex work is counted in PCRE2's match-limit units. PCRE2 does not say
 * how much of its limit a search used, so a search run with match limit N
 * is charged N: the charge bounds the backtracking done. A search runs
 * first with a limit of 100, then 1,000, then what is left of
 * FMN_RULE_MATCH_LIMIT, so a plain regex is charged 100 and no evaluation
 * of a rule (all its searches: package-re runs one per package) more than
 * FMN_RULE_MATCH_LIMIT. Reaching it is FMN_MATCH_ERR. docs/filters.md
 * says why these numbers.
 */
#define FMN_RULE_MATCH_LIMIT	10000

/* Compile (kind, argument); NULL and *cause when the argument is invalid. */
struct fmn_rule *fmn_rule_compile(enum fmn_rule_kind kind,
    const char *argument, char **cause);
void fmn_rule_destroy(struct fmn_rule **rp);
enum fmn_rule_kind fmn_rule_kind_of(const struct fmn_rule *r);
const char *fmn_rule_argument(const struct fmn_rule *r);
/*
 * Evaluate the positive rule against a message whose facts are derived.
 * owners may be NULL (owned:/group: are then false). Not thread-safe: a
 * compiled regex keeps its match data.
 */
int fmn_rule_eval(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *owners);
/* The same, adding to *units the regex work it was charged. */
int fmn_rule_eval_units(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *owners, unsigned long *units);
/* Whether evaluating r runs a regex, and so is charged units. */
int fmn_rule_uses_regex(const struct fmn_rule *r);
/* Relative cost of evaluating a kind (set lookups cheap, regexes dear). */
int fmn_rule_kind_cost(enum fmn_rule_kind kind);

/* What the filter engine's indexes read of a compiled rule. */
/* The regex of a *-re rule or of field:/ptr~REGEX, else NULL. */
const char *fmn_rule_regex(const struct fmn_rule *r);
/* A field: rule: its operator ('=' or '~'), else 0. */
int fmn_rule_field_op(const struct fmn_rule *r);
/* A field: rule's pointer: the first *len bytes of its argument. */
size_t fmn_rule_field_pointer_len(const struct fmn_rule *r);
/*
 * A field:/ptr=VALUE rule's VALUE, and whether it reads as a number
 * (then *num is that number): a string equals VALUE as text, a number
 * equals *num.
 */
const char *fmn_rule_field_value(const struct fmn_rule *r, int *is_num,
    double *num);
/* The value at a field: rule's pointer into env, or NULL (borrowed). */
json_t *fmn_rule_field_get(const struct fmn_rule *r, json_t *env);

#endif
