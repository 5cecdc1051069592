/*
 * Rule kinds. One enum-indexed table gives, for every kind, its name, its
 * syntax and documentation (printed by `fmnctl rules`), the function that
 * validates and compiles an argument, and the function that evaluates the
 * compiled rule against a message. Evaluation is three-valued: a rule
 * about data the message lacks is "no"; a regex that hits its match limit
 * is an error, which the caller counts and treats as "filter does not
 * match". Regex work is charged in match-limit units (fmn_rule.h), so
 * the engine can hold each user to an allowance per message.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "fmn_rule.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_glob.h"
#include "fmn_owners.h"
#include "fmn_pointer.h"
#include "fmn_utf8.h"
#include "fmn_util.h"

/*
 * Bounds on one regex search: no pattern may stall the daemon. The match
 * limit is set per search (re_search). The depth limit only matters when
 * it is below the match limit (each level of depth is a match-limit unit
 * too), and JIT ignores it; the heap limit bounds the interpreter's
 * memory for one search.
 */
#define RULE_DEPTH_LIMIT	FMN_RULE_MATCH_LIMIT
#define RULE_HEAP_LIMIT		(8 * 1024)	/* KiB */

/*
 * The first limits a search runs with, before what is left of
 * FMN_RULE_MATCH_LIMIT: with JIT a plain regex needs 1 unit, and without
 * it the shipped defaults need at most 11 on the corpus, so nearly every
 * search ends at the first step and is charged 100.
 */
static const unsigned long re_steps[] = { 100, 1000 };

/* A compiled regex with the match data its searches reuse. */
struct rule_re {
	pcre2_code		*code;
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
};

struct fmn_rule {
	enum fmn_rule_kind	 kind;
	char			*argument;
	/* topic: the glob; field: the JSON pointer's reference tokens. */
	char			*glob;
	int			 glob_literal;	/* no wildcard: plain comparison */
	struct rule_re		 re;		/* *-re kinds and field "~" */
	char			**list;		/* category names; field: pointer tokens */
	size_t			 nlist;
	int			 field_op;	/* '=' or '~' */
	size_t			 ptr_len;	/* field: the pointer's bytes */
	char			*value;		/* field "=": the text to compare */
	int			 value_is_num;
	double			 value_num;
};

typedef int (*rule_compile_fn)(struct fmn_rule *, const char *, char **);
typedef int (*rule_eval_fn)(const struct fmn_rule *, struct fmn_msg *,
    const struct fmn_owners *, unsigned long *);

struct rule_kind {
	const char	*name;
	const char	*syntax;
	const char	*doc;
	rule_compile_fn	 compile;
	rule_eval_fn	 eval;
	int		 cost;
};

/* Regexes. */

static int
re_compile(struct rule_re *re, const char *pattern, char **cause)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int err;

	if (*pattern == '\0') {
		fmn_set_cause(cause, "empty regular expression");
		return -1;
	}
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C,
	    &err, &off, NULL);
	if (re->code == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		fmn_set_cause(cause, "regular expression does not compile at "
		    "offset %zu: %s", (size_t)off, (char *)msg);
		return -1;
	}
	/* JIT is an optimisation: without it the interpreter runs. */
	(void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	re->mctx = pcre2_match_context_create(NULL);
	if (re->md == NULL || re->mctx == NULL) {
		fmn_set_cause(cause, "out of memory compiling a regex");
		return -1;
	}
	pcre2_set_depth_limit(re->mctx, RULE_DEPTH_LIMIT);
	pcre2_set_heap_limit(re->mctx, RULE_HEAP_LIMIT);
	return 0;
}

static void
re_free(struct rule_re *re)
{
	pcre2_match_data_free(re->md);
	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
	memset(re, 0, sizeof(*re));
}

/*
 * Search (unanchored) subject; YES, NO or ERR when a limit is hit. The
 * match limit grows by steps up to what is left of FMN_RULE_MATCH_LIMIT
 * after *units: a search that needs little is charged little, and one
 * that would backtrack for ever stops at the limit. Each run is charged
 * its whole limit, as PCRE2 does not say what it used. A search that
 * outgrows a step starts again with the next: what is thrown away is at
 * most the earlier steps' 1,100 units.
 */
static int
re_search(const struct rule_re *re, const char *subject, size_t len,
    unsigned long *units)
{
	unsigned long limit;
	size_t step = 0;
	int rc;

	for (;;) {
		if (*units >= FMN_RULE_MATCH_LIMIT)
			return FMN_MATCH_ERR;
		limit = FMN_RULE_MATCH_LIMIT - *units;
		if (step < FMN_NELEM(re_steps) && re_steps[step] < limit)
			limit = re_steps[step];
		step++;
		pcre2_set_match_limit(re->mctx, (uint32_t)limit);
		rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0,
		    re->md, re->mctx);
		*units += limit;
		if (rc >= 0)
			return FMN_MATCH_YES;
		if (rc == PCRE2_ERROR_NOMATCH)
			return FMN_MATCH_NO;
		/* The heap, the JIT stack, bad input: more time will not do. */
		if (rc != PCRE2_ERROR_MATCHLIMIT && rc != PCRE2_ERROR_DEPTHLIMIT)
			return FMN_MATCH_ERR;
	}
}

/* Names: non-empty, no whitespace or control characters. */
static int
check_name(const char *arg, const char *what, char **cause)
{
	const unsigned char *p;

	for (p = (const unsigned char *)arg; *p != '\0'; p++) {
		if (isspace(*p) || iscntrl(*p)) {
			fmn_set_cause(cause, "%s contains whitespace or a "
			    "control character", what);
			return -1;
		}
	}
	return 0;
}

/* Compile functions: validate the argument and prepare evaluation. */

static int
compile_topic(struct fmn_rule *r, const char *arg, char **cause)
{
	if (check_name(arg, "a topic glob", cause) == -1)
		return -1;
	r->glob = xstrdup(arg);
	r->glob_literal = strpbrk(arg, "*?") == NULL;
	return 0;
}

static int
compile_re(struct fmn_rule *r, const char *arg, char **cause)
{
	return re_compile(&r->re, arg, cause);
}

static int
compile_category(struct fmn_rule *r, const char *arg, char **cause)
{
	const char *p = arg, *comma;
	char *item;

	if (check_name(arg, "a category list", cause) == -1)
		return -1;
	for (;;) {
		comma = strchr(p, ',');
		item = comma ? xstrndup(p, comma - p) : xstrdup(p);
		if (*item == '\0') {
			free(item);
			fmn_set_cause(cause, "empty category in the list");
			return -1;
		}
		r->list = xreallocarray(r->list, r->nlist + 1, sizeof(*r->list));
		r->list[r->nlist++] = item;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

static int
compile_name(struct fmn_rule *r, const char *arg, char **cause)
{
	(void)r;
	return check_name(arg, "a name", cause);
}

/* Split an RFC 6901 pointer ("/a/b~1c") into unescaped reference tokens. */
static int
pointer_split(struct fmn_rule *r, const char *ptr, size_t len, char **cause)
{
	const char *p, *end = ptr + len, *slash;
	struct fmn_buf tok;

	if (len == 0 || ptr[0] != '/') {
		fmn_set_cause(cause, "a JSON pointer must start with '/'");
		return -1;
	}
	fmn_buf_init(&tok);
	for (p = ptr + 1;; p = slash + 1) {
		if ((slash = memchr(p, '/', (size_t)(end - p))) == NULL)
			slash = end;
		fmn_buf_reset(&tok);
		if (fmn_pointer_token(p, (size_t)(slash - p), &tok,
		    cause) == -1) {
			fmn_buf_free(&tok);
			return -1;
		}
		r->list = xreallocarray(r->list, r->nlist + 1,
		    sizeof(*r->list));
		r->list[r->nlist++] = xstrdup(tok.data ? tok.data : "");
		if (slash == end)
			break;
	}
	fmn_buf_free(&tok);
	return 0;
}

/*
 * "/pointer=VALUE" or "/pointer~REGEX". The operator is the first '=',
 * or the first '~' followed by something other than a digit or '='. A
 * '~' before a digit, before '=' or at the end is the pointer's: an
 * escape, of which only ~0 and ~1 exist (pointer_split refuses the
 * rest). Reading "/a~2b=x" as the regex "2b=x" on /a would store a rule
 * its writer never meant.
 */
static int
compile_field(struct fmn_rule *r, const char *arg, char **cause)
{
	const char *p, *rest;
	char *end;

	for (p = arg; *p != '\0'; p++) {
		if (*p == '=')
			break;
		if (*p != '~')
			continue;
		if (isdigit((unsigned char)p[1]))
			p++;
		else if (p[1] != '=' && p[1] != '\0')
			break;
	}
	if (*p == '\0') {
		/* A bad escape is the better explanation, when there is one. */
		if (pointer_split(r, arg, p - arg, cause) == 0)
			fmn_set_cause(cause, "expected /json/pointer=VALUE or "
			    "/json/pointer~REGEX");
		return -1;
	}
	if (pointer_split(r, arg, p - arg, cause) == -1)
		return -1;
	r->field_op = *p;
	r->ptr_len = (size_t)(p - arg);
	rest = p + 1;
	if (r->field_op == '~')
		return re_compile(&r->re, rest, cause);
	r->value = xstrdup(rest);
	if (*rest != '\0' && !isspace((unsigned char)*rest)) {
		errno = 0;
		r->value_num = strtod(rest, &end);
		r->value_is_num = *end == '\0' && errno == 0 &&
		    isfinite(r->value_num);
	}
	return 0;
}

/* Evaluation. */

static int
eval_topic(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	(void)o;
	(void)units;
	if (m->topic == NULL)
		return FMN_MATCH_NO;
	if (r->glob_literal)
		return strcmp(r->glob, m->topic) == 0;
	return fmn_glob_match(r->glob, m->topic);
}

static int
eval_topic_re(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	(void)o;
	if (m->topic == NULL)
		return FMN_MATCH_NO;
	return re_search(&r->re, m->topic, strlen(m->topic), units);
}

static int
eval_category(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	size_t i;

	(void)o;
	(void)units;
	if (m->category == NULL || *m->category == '\0')
		return FMN_MATCH_NO;
	for (i = 0; i < r->nlist; i++)
		if (strcmp(r->list[i], m->category) == 0)
			return FMN_MATCH_YES;
	return FMN_MATCH_NO;
}

static int
eval_user(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	(void)o;
	(void)units;
	return fmn_strset_has(&m->facts.usernames, r->argument);
}

static int
eval_agent(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	(void)o;
	(void)units;
	return m->facts.agent != NULL && strcmp(m->facts.agent, r->argument) == 0;
}

static int
eval_package(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	(void)o;
	(void)units;
	return fmn_strset_has(&m->facts.packages, r->argument);
}

static int
eval_package_re(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	size_t i;
	int res, err = 0;

	(void)o;
	for (i = 0; i < m->facts.packages.n; i++) {
		const char *p = m->facts.packages.v[i];

		res = re_search(&r->re, p, strlen(p), units);
		if (res == FMN_MATCH_YES)
			return res;
		if (res == FMN_MATCH_ERR)
			err = 1;
	}
	return err ? FMN_MATCH_ERR : FMN_MATCH_NO;
}

static int
eval_owned(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	size_t i;

	(void)units;
	if (o == NULL)
		return FMN_MATCH_NO;
	for (i = 0; i < m->facts.packages.n; i++)
		if (fmn_owners_owns(o, m->facts.packages.v[i], r->argument))
			return FMN_MATCH_YES;
	return FMN_MATCH_NO;
}

static int
eval_group(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	size_t i;

	(void)units;
	if (o == NULL)
		return FMN_MATCH_NO;
	for (i = 0; i < m->facts.usernames.n; i++)
		if (fmn_owners_is_member(o, r->argument,
		    m->facts.usernames.v[i]))
			return FMN_MATCH_YES;
	return FMN_MATCH_NO;
}

/* The value at the rule's pointer into the envelope, or NULL. */
static json_t *
pointer_resolve(const struct fmn_rule *r, json_t *doc)
{
	json_t *cur = doc;
	const char *tok;
	char *end;
	size_t i;
	unsigned long idx;

	for (i = 0; i < r->nlist && cur != NULL; i++) {
		tok = r->list[i];
		if (json_is_object(cur))
			cur = json_object_get(cur, tok);
		else if (json_is_array(cur)) {
			if (!isdigit((unsigned char)tok[0]) ||
			    (tok[0] == '0' && tok[1] != '\0'))
				return NULL;
			errno = 0;
			idx = strtoul(tok, &end, 10);
			if (*end != '\0' || errno != 0)
				return NULL;
			cur = json_array_get(cur, idx);
		} else
			return NULL;
	}
	return cur;
}

static int
eval_field(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	json_t *v = pointer_resolve(r, m->env);
	char *text;
	int res;

	(void)o;
	if (v == NULL)
		return FMN_MATCH_NO;
	if (r->field_op == '~') {
		if (json_is_string(v))
			return re_search(&r->re, json_string_value(v),
			    json_string_length(v), units);
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text == NULL)
			return FMN_MATCH_ERR;
		res = re_search(&r->re, text, strlen(text), units);
		free(text);
		return res;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		return strcmp(json_string_value(v), r->value) == 0;
	case JSON_INTEGER:
	case JSON_REAL:
		return r->value_is_num && json_number_value(v) == r->value_num;
	case JSON_TRUE:
		return strcmp(r->value, "true") == 0;
	case JSON_FALSE:
		return strcmp(r->value, "false") == 0;
	case JSON_NULL:
		return strcmp(r->value, "null") == 0;
	default:
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text == NULL)
			return FMN_MATCH_ERR;
		res = strcmp(text, r->value) == 0;
		free(text);
		return res;
	}
}

static int
eval_body_re(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *o, unsigned long *units)
{
	const char *text;

	(void)o;
	if (m->body == NULL || (text = fmn_msg_body_text(m)) == NULL)
		return FMN_MATCH_NO;
	return re_search(&r->re, text, strlen(text), units);
}

static const struct rule_kind kinds[FMN_RULE__COUNT] = {
	[FMN_RULE_TOPIC] = {
		.name = "topic", .syntax = "topic:GLOB",
		.doc = "True when the whole topic matches GLOB: '*' matches any "
		    "run of characters, dots included, '?' one character "
		    "(topic:*.bodhi.update.comment).",
		.compile = compile_topic, .eval = eval_topic, .cost = 2,
	},
	[FMN_RULE_TOPIC_RE] = {
		.name = "topic-re", .syntax = "topic-re:REGEX",
		.doc = "True when the PCRE2 regular expression is found in the "
		    "topic (a search: anchor it with ^ and $ to match the "
		    "whole topic).",
		.compile = compile_re, .eval = eval_topic_re, .cost = 5,
	},
	[FMN_RULE_CATEGORY] = {
		.name = "category", .syntax = "category:A,B,...",
		.doc = "True when the message's category (the fourth topic "
		    "token: bodhi, buildsys, git, ...) is one of the listed.",
		.compile = compile_category, .eval = eval_category, .cost = 1,
	},
	[FMN_RULE_USER] = {
		.name = "user", .syntax = "user:NAME",
		.doc = "True when the account NAME is among the usernames the "
		    "message concerns (actor, owner, commenter, ...).",
		.compile = compile_name, .eval = eval_user, .cost = 1,
	},
	[FMN_RULE_AGENT] = {
		.name = "agent", .syntax = "agent:NAME",
		.doc = "True when NAME is the message's agent, the one account "
		    "that did what the message reports.",
		.compile = compile_name, .eval = eval_agent, .cost = 1,
	},
	[FMN_RULE_PACKAGE] = {
		.name = "package", .syntax = "package:NAME",
		.doc = "True when the package NAME is among the packages the "
		    "message concerns.",
		.compile = compile_name, .eval = eval_package, .cost = 1,
	},
	[FMN_RULE_PACKAGE_RE] = {
		.name = "package-re", .syntax = "package-re:REGEX",
		.doc = "True when the PCRE2 regular expression is found in one "
		    "of the message's packages.",
		.compile = compile_re, .eval = eval_package_re, .cost = 6,
	},
	[FMN_RULE_OWNED] = {
		.name = "owned", .syntax = "owned:NAME",
		.doc = "True when a package of the message is owned by the "
		    "account NAME, or by a group NAME belongs to (see fmnctl "
		    "owners import and groups import; all namespaces count).",
		.compile = compile_name, .eval = eval_owned, .cost = 3,
	},
	[FMN_RULE_GROUP] = {
		.name = "group", .syntax = "group:NAME",
		.doc = "True when a member of the group NAME is among the "
		    "message's usernames.",
		.compile = compile_name, .eval = eval_group, .cost = 3,
	},
	[FMN_RULE_FIELD] = {
		.name = "field", .syntax = "field:/json/pointer=VALUE | "
		    "field:/json/pointer~REGEX",
		.doc = "The value at the RFC 6901 JSON pointer into the whole "
		    "envelope (/msg/update/status, /topic). With '=': a string "
		    "equals VALUE as text, a number numerically, true, false "
		    "and null by name. With '~': the value as text (a string "
		    "as is, anything else as compact JSON) matches the PCRE2 "
		    "regex. A missing value is false. The operator is the first "
		    "'=' or the first '~' not followed by a digit or '='; in "
		    "the pointer, '~' is ~0 or ~1 (for ~ and /), nothing else, "
		    "so a regex that starts with a digit is written [2]...",
		.compile = compile_field, .eval = eval_field, .cost = 4,
	},
	[FMN_RULE_BODY_RE] = {
		.name = "body-re", .syntax = "body-re:REGEX",
		.doc = "True when the PCRE2 regular expression is found in the "
		    "compact JSON text of the message body (msg).",
		.compile = compile_re, .eval = eval_body_re, .cost = 8,
	},
};

int
fmn_rule_kind_lookup(const char *name)
{
	int k;

	if (name == NULL)
		return -1;
	for (k = 0; k < FMN_RULE__COUNT; k++)
		if (strcmp(kinds[k].name, name) == 0)
			return k;
	return -1;
}

const char *
fmn_rule_kind_name(enum fmn_rule_kind kind)
{
	return (unsigned)kind < FMN_RULE__COUNT ? kinds[kind].name : "?";
}

const char *
fmn_rule_kind_syntax(enum fmn_rule_kind kind)
{
	return (unsigned)kind < FMN_RULE__COUNT ? kinds[kind].syntax : "";
}

const char *
fmn_rule_kind_doc(enum fmn_rule_kind kind)
{
	return (unsigned)kind < FMN_RULE__COUNT ? kinds[kind].doc : "";
}

int
fmn_rule_kind_cost(enum fmn_rule_kind kind)
{
	return (unsigned)kind < FMN_RULE__COUNT ? kinds[kind].cost : 100;
}

void
fmn_rule_destroy(struct fmn_rule **rp)
{
	struct fmn_rule *r = *rp;
	size_t i;

	if (r == NULL)
		return;
	re_free(&r->re);
	for (i = 0; i < r->nlist; i++)
		free(r->list[i]);
	free(r->list);
	free(r->glob);
	free(r->value);
	free(r->argument);
	free(r);
	*rp = NULL;
}

struct fmn_rule *
fmn_rule_compile(enum fmn_rule_kind kind, const char *argument, char **cause)
{
	struct fmn_rule *r;
	char *why = NULL;

	if ((unsigned)kind >= FMN_RULE__COUNT) {
		fmn_set_cause(cause, "unknown rule kind");
		return NULL;
	}
	if (argument == NULL || *argument == '\0') {
		fmn_set_cause(cause, "empty argument (expected %s)",
		    kinds[kind].syntax);
		return NULL;
	}
	if (!fmn_utf8_valid(argument, strlen(argument))) {
		fmn_set_cause(cause, "argument is not valid UTF-8");
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->kind = kind;
	r->argument = xstrdup(argument);
	if (kinds[kind].compile(r, argument, &why) == -1) {
		fmn_set_cause(cause, "%s", why ? why : "invalid argument");
		free(why);
		fmn_rule_destroy(&r);
		return NULL;
	}
	return r;
}

enum fmn_rule_kind
fmn_rule_kind_of(const struct fmn_rule *r)
{
	return r->kind;
}

const char *
fmn_rule_argument(const struct fmn_rule *r)
{
	return r->argument;
}

int
fmn_rule_eval(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *owners)
{
	unsigned long units = 0;

	return kinds[r->kind].eval(r, m, owners, &units);
}

int
fmn_rule_eval_units(const struct fmn_rule *r, struct fmn_msg *m,
    const struct fmn_owners *owners, unsigned long *units)
{
	unsigned long mine = 0;
	int res = kinds[r->kind].eval(r, m, owners, &mine);

	*units += mine;
	return res;
}

int
fmn_rule_uses_regex(const struct fmn_rule *r)
{
	return r->re.code != NULL;
}

const char *
fmn_rule_regex(const struct fmn_rule *r)
{
	if (r->re.code == NULL)
		return NULL;
	if (r->kind == FMN_RULE_FIELD)
		return r->argument + fmn_rule_field_pointer_len(r) + 1;
	return r->argument;
}

int
fmn_rule_field_op(const struct fmn_rule *r)
{
	return r->kind == FMN_RULE_FIELD ? r->field_op : 0;
}

size_t
fmn_rule_field_pointer_len(const struct fmn_rule *r)
{
	return r->kind == FMN_RULE_FIELD ? r->ptr_len : 0;
}

const char *
fmn_rule_field_value(const struct fmn_rule *r, int *is_num, double *num)
{
	if (r->kind != FMN_RULE_FIELD || r->field_op != '=')
		return NULL;
	*is_num = r->value_is_num;
	*num = r->value_num;
	return r->value;
}

json_t *
fmn_rule_field_get(const struct fmn_rule *r, json_t *env)
{
	return r->kind == FMN_RULE_FIELD ? pointer_resolve(r, env) : NULL;
}

int
fmn_rule_check(const char *kind, const char *argument, char **cause)
{
	struct fmn_rule *r;
	char *why = NULL;
	int k = fmn_rule_kind_lookup(kind);

	if (k < 0) {
		fmn_set_cause(cause, "unknown rule kind \"%s\" (fmnctl rules "
		    "lists them)", kind ? kind : "");
		return -1;
	}
	if ((r = fmn_rule_compile(k, argument, &why)) == NULL) {
		fmn_set_cause(cause, "rule \"%s:%s\": %s", kind,
		    argument ? argument : "", why);
		free(why);
		return -1;
	}
	fmn_rule_destroy(&r);
	return 0;
}

int
fmn_rule_parse(const char *token, struct fmn_rule_spec *out, char **cause)
{
	const char *p = token, *colon;
	char *kname, *why = NULL;
	struct fmn_rule *r;
	int negated = 0, k;

	memset(out, 0, sizeof(*out));
	if (token == NULL || *token == '\0') {
		fmn_set_cause(cause, "empty rule (expected [!]KIND:ARGUMENT)");
		return -1;
	}
	if (*p == '!') {
		negated = 1;
		p++;
	}
	if ((colon = strchr(p, ':')) == NULL) {
		fmn_set_cause(cause, "rule \"%s\": expected [!]KIND:ARGUMENT",
		    token);
		return -1;
	}
	kname = xstrndup(p, colon - p);
	k = fmn_rule_kind_lookup(kname);
	if (k < 0) {
		fmn_set_cause(cause, "rule \"%s\": unknown rule kind \"%s\" "
		    "(fmnctl rules lists them)", token, kname);
		free(kname);
		return -1;
	}
	free(kname);
	if ((r = fmn_rule_compile(k, colon + 1, &why)) == NULL) {
		fmn_set_cause(cause, "rule \"%s\": %s", token, why);
		free(why);
		return -1;
	}
	fmn_rule_destroy(&r);
	out->kind = k;
	out->negated = negated;
	out->argument = xstrdup(colon + 1);
	return 0;
}

void
fmn_rule_spec_clear(struct fmn_rule_spec *r)
{
	free(r->argument);
	r->argument = NULL;
}

char *
fmn_rule_format(enum fmn_rule_kind kind, int negated, const char *argument)
{
	return xasprintf("%s%s:%s", negated ? "!" : "", fmn_rule_kind_name(kind),
	    argument ? argument : "");
}
