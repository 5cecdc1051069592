/*
 * The inside of the definitions language (fmn_expr.h is its outside):
 * the compiled forms that the parser makes, the compiler completes and
 * the evaluator runs, and what those stages share. Only filters/fmn_expr_*.c
 * include this.
 */
#ifndef FMN_EXPR_INT_H
#define FMN_EXPR_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "fmn_expr.h"

#define RX_MATCH_LIMIT	100000
#define RX_DEPTH_LIMIT	1000
#define MAX_VALUES	4096	/* fan-out cap per expression */

/* A regex of a definition, compiled once, run with match limits. */
struct rx {
	pcre2_code		*code;
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
};

enum xop {
	X_LOWER, X_UPPER, X_CAPITALIZE, X_STRIP, X_FIRSTLINE, X_BASENAME,
	X_NVR, X_NV, X_PREFIX, X_SUFFIX, X_TRUNC, X_ALIAS, X_EMAIL,
	X_SPLIT, X_RE, X_REALL, X_SUB, X_MENTIONS, X_JOIN, X_AND, X_COUNT,
	X_FIRST, X_LAST, X_UNIQ, X_SORT, X_KEYS, X_MAP, X_DROP, X_DEFAULT,
	X_PLURAL, X_JSON, X_NOT, X_STRING, X_SERIES, X_WHERE, X_GET,
	X_LOOKUP, X_ZPAD, X_WHERENOT,
};

static const struct {
	const char	*name;
	enum xop	 op;
	int		 minargs, maxargs;
} xops[] = {
	{ "lower", X_LOWER, 0, 0 },
	{ "upper", X_UPPER, 0, 0 },
	{ "capitalize", X_CAPITALIZE, 0, 0 },
	{ "strip", X_STRIP, 0, 0 },
	{ "firstline", X_FIRSTLINE, 0, 0 },
	{ "basename", X_BASENAME, 0, 0 },
	{ "nvr", X_NVR, 0, 0 },
	{ "nv", X_NV, 0, 0 },
	{ "prefix", X_PREFIX, 1, 1 },
	{ "suffix", X_SUFFIX, 1, 1 },
	{ "trunc", X_TRUNC, 1, 2 },
	{ "alias", X_ALIAS, 0, 0 },
	{ "email", X_EMAIL, 0, 0 },
	{ "split", X_SPLIT, 0, 1 },
	{ "re", X_RE, 1, 1 },
	{ "reall", X_REALL, 1, 1 },
	{ "sub", X_SUB, 2, 2 },
	{ "mentions", X_MENTIONS, 0, 0 },
	{ "join", X_JOIN, 0, 1 },
	{ "count", X_COUNT, 0, 0 },
	{ "first", X_FIRST, 0, 0 },
	{ "last", X_LAST, 0, 0 },
	{ "uniq", X_UNIQ, 0, 0 },
	{ "sort", X_SORT, 0, 0 },
	{ "keys", X_KEYS, 0, 0 },
	{ "map", X_MAP, 1, 1 },
	{ "drop", X_DROP, 1, 8 },
	{ "default", X_DEFAULT, 1, 1 },
	{ "plural", X_PLURAL, 0, 2 },
	{ "json", X_JSON, 0, 0 },
	{ "not", X_NOT, 0, 0 },
	{ "string", X_STRING, 0, 0 },
	{ "series", X_SERIES, 0, 1 },
	{ "where", X_WHERE, 2, 8 },
	{ "get", X_GET, 1, 1 },
	{ "lookup", X_LOOKUP, 1, 1 },
	{ "zpad", X_ZPAD, 1, 1 },
	{ "wherenot", X_WHERENOT, 2, 8 },
	{ "and", X_AND, 0, 1 },
};

struct xform {
	char			**path;		/* lookup: where the object is */
	size_t			 npath;
	enum xop		 op;
	char			*args[8];
	size_t			 nargs;
	long			 num;
	struct rx		*re;
	struct fmn_hmap	*table;
};

enum term_kind { T_PATH, T_LIT, T_LET };

struct term {
	int			 concat;	/* "++": appended to the previous */
	enum term_kind		 kind;
	char			**seg;	/* path segments; NULL entry = "*" */
	size_t			 nseg;
	char			*lit;
	const struct fmn_expr	*let;
	struct xform		*xf;
	size_t			 nxf;
};

struct fmn_expr {
	struct term		*alts;	/* first alternative with a value wins */
	size_t			 n;
	struct fmn_cases	*cases;	/* instead: a let given as cases */
};

struct tpart {
	char			*text;	/* literal run, or NULL */
	struct fmn_expr		*expr;
};

struct fmn_tmpl {
	struct tpart	*parts;
	size_t		 n;
};

enum cond_kind { C_TRUTHY, C_EQ, C_NE, C_RE };

struct cond {
	struct cond	**all;		/* all of these must hold too */
	size_t		 nall;
	struct fmn_expr	*expr;		/* NULL when only "all" is given */
	enum cond_kind	 kind;
	int		 negate;
	char		**vals;
	size_t		 nvals;
	struct rx	*re;
};

struct kase {
	int			 none;	/* "then": null: stop, no text */
	struct cond		*cond;	/* NULL: always */
	struct fmn_tmpl		*tmpl;
	struct fmn_cases	*sub;
};

struct fmn_cases {
	struct kase	*v;
	size_t		 n;
};

struct item {
	struct cond		*cond;
	struct fmn_expr		*expr;
	struct fmn_items	*sub;
};

struct fmn_items {
	struct item	*v;
	size_t		 n;
};

/* A list of values while an expression is evaluated. */
struct vals {
	json_t	**v;
	size_t	  n, cap;
};

/* fmn_expr_parse.c: the pool every compiled object lives in. */
void *expr_zalloc(struct fmn_pool *pl, size_t n);
char *expr_strndup(struct fmn_pool *pl, const char *s, size_t n);
/* Hand a plain array (collected with realloc) to the pool; NULL stays NULL. */
void *expr_array(struct fmn_pool *pl, void *v);
struct rx *expr_rx_compile(struct fmn_pool *pl, const char *pat, char **cause);
/*
 * Match s from offset start; 1 with the ovector in r->md, 0 no match,
 * -1 an error such as the match limit (counted by the caller).
 */
int expr_rx_match(struct rx *r, const char *s, size_t len, size_t start);

/* fmn_expr_eval.c: lists of values, and evaluating an expression. */
void xv_push(struct vals *vs, json_t *j);
void xv_free(struct vals *vs);
json_t *xv_str(const char *s, size_t n);
const char *xv_text(json_t *j, char *tmp, size_t tmpsz, size_t *len);
int xv_truthy(json_t *j);
void xv_walk(json_t *j, char *const *seg, size_t nseg, struct vals *out);
void expr_eval(const struct fmn_expr *e, struct fmn_eval *ev,
    struct vals *out, int depth);

/* fmn_expr_xform.c: transforms. */
void expr_apply(const struct xform *x, struct fmn_eval *ev, struct vals *vs);
/* The texts of in, joined by sep (last before the last one) into b. */
void xv_join(struct vals *in, const char *sep, const char *last,
    struct fmn_buf *b);

#endif
