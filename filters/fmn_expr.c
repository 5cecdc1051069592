/*
 * Compiling and evaluating the expressions, templates and cases of the
 * fact definitions. An expression yields a list of JSON values: a path
 * walks the envelope (a "*" segment fans out over an array's elements
 * or an object's values), transforms map the list. Regexes are compiled
 * once, JIT-compiled when possible, and run with match limits so that
 * no definition can stall the daemon. Every compiled object lives in a
 * pool freed with the definitions.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fmn_expr.h"
#include "fmn_pointer.h"
#include "fmn_utf8.h"

#define RX_MATCH_LIMIT	100000
#define RX_DEPTH_LIMIT	1000
#define MAX_VALUES	4096	/* fan-out cap per expression */

/* Pool. */

struct pool_item {
	void	 *p;
	void	(*fn)(void *);
};

struct fmn_pool {
	struct pool_item *v;
	size_t		  n, cap;
};

struct fmn_pool *
fmn_pool_new(void)
{
	return xcalloc(1, sizeof(struct fmn_pool));
}

void
fmn_pool_destroy(struct fmn_pool **pp)
{
	struct fmn_pool *pl = *pp;
	size_t i;

	if (pl == NULL)
		return;
	for (i = pl->n; i-- > 0;)
		pl->v[i].fn(pl->v[i].p);
	free(pl->v);
	free(pl);
	*pp = NULL;
}

void *
fmn_pool_add(struct fmn_pool *pl, void *p, void (*fn)(void *))
{
	if (pl->n == pl->cap) {
		pl->cap = pl->cap ? pl->cap * 2 : 64;
		pl->v = xreallocarray(pl->v, pl->cap, sizeof(*pl->v));
	}
	pl->v[pl->n].p = p;
	pl->v[pl->n].fn = fn;
	pl->n++;
	return p;
}

static void *
pool_zalloc(struct fmn_pool *pl, size_t n)
{
	return fmn_pool_add(pl, xcalloc(1, n), free);
}

static char *
pool_strndup(struct fmn_pool *pl, const char *s, size_t n)
{
	return fmn_pool_add(pl, xstrndup(s, n), free);
}

/* Growable arrays in the pool: collect in a plain array, then hand over. */
static void *
pool_array(struct fmn_pool *pl, void *v)
{
	return v ? fmn_pool_add(pl, v, free) : NULL;
}

/* Regexes. */

struct rx {
	pcre2_code		*code;
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
};

static void
rx_free(void *p)
{
	struct rx *r = p;

	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mctx);
	pcre2_code_free(r->code);
	free(r);
}

static struct rx *
rx_compile(struct fmn_pool *pl, const char *pat, char **cause)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	struct rx *r;
	int err;

	r = xcalloc(1, sizeof(*r));
	r->code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
	if (r->code == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		fmn_set_cause(cause, "regex \"%s\" at offset %zu: %s", pat,
		    (size_t)off, (char *)msg);
		free(r);
		return NULL;
	}
	(void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
	r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
	r->mctx = pcre2_match_context_create(NULL);
	if (r->md == NULL || r->mctx == NULL) {
		fprintf(stderr, "fmn: out of memory\n");
		abort();
	}
	pcre2_set_match_limit(r->mctx, RX_MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, RX_DEPTH_LIMIT);
	return fmn_pool_add(pl, r, rx_free);
}

/*
 * Match s from offset start; 1 with the ovector in r->md, 0 no match,
 * -1 an error such as the match limit (counted by the caller).
 */
static int
rx_match(struct rx *r, const char *s, size_t len, size_t start)
{
	int rc = pcre2_match(r->code, (PCRE2_SPTR)s, len, start, 0, r->md,
	    r->mctx);

	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* Compiled expressions. */

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

/* Parsing. */

struct parser {
	const struct fmn_scope	*sc;
	const char		*p;
	char			**cause;
	int			 in_tmpl;	/* stop at '}' */
};

static void
skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n')
		ps->p++;
}

static int
is_stop(const struct parser *ps, char c)
{
	return c == '\0' || c == '|' || c == ' ' || c == '\t' ||
	    c == '\n' || (ps->in_tmpl && c == '}');
}

/* A quoted string: '...' with '' for a quote inside. */
static char *
parse_quoted(struct parser *ps)
{
	struct fmn_buf b;
	const char *p = ps->p + 1;

	fmn_buf_init(&b);
	fmn_buf_adds(&b, "");
	for (;;) {
		if (*p == '\0') {
			fmn_set_cause(ps->cause, "unterminated quote");
			fmn_buf_free(&b);
			return NULL;
		}
		if (*p == '\'') {
			if (p[1] != '\'')
				break;
			p++;
		}
		fmn_buf_addc(&b, *p++);
	}
	ps->p = p + 1;
	return fmn_pool_add(ps->sc->pool, fmn_buf_steal(&b), free);
}

static const struct fmn_expr *
find_let(const struct fmn_scope *sc, const char *name, size_t n)
{
	const struct fmn_expr *e;

	for (; sc != NULL; sc = sc->parent) {
		if (sc->lets != NULL &&
		    (e = fmn_hmap_getn(sc->lets, name, n)) != NULL)
			return e;
	}
	return NULL;
}

static struct fmn_hmap *
find_table(const struct fmn_scope *sc, const char *name)
{
	struct fmn_hmap *t;

	for (; sc != NULL; sc = sc->parent) {
		if (sc->tables != NULL &&
		    (t = fmn_hmap_get(sc->tables, name)) != NULL)
			return t;
	}
	return NULL;
}

/* Decode one JSON-pointer segment; NULL and *cause on a bad escape. */
static char *
path_segment(struct parser *ps, const char *s, size_t n)
{
	struct fmn_buf b;

	fmn_buf_init(&b);
	if (fmn_pointer_token(s, n, &b, ps->cause) == -1) {
		fmn_buf_free(&b);
		return NULL;
	}
	return fmn_pool_add(ps->sc->pool, fmn_buf_steal(&b), free);
}

static int
parse_path(struct parser *ps, struct term *t)
{
	const char *start = ps->p, *end, *s;
	char **seg = NULL;
	size_t n = 0;

	while (!is_stop(ps, *ps->p))
		ps->p++;
	end = ps->p;
	if (end - start == 1) {		/* "/": the whole envelope */
		t->seg = NULL;
		t->nseg = 0;
		return 0;
	}
	for (s = start + 1; s <= end;) {
		const char *e = memchr(s, '/', (size_t)(end - s));

		if (e == NULL)
			e = end;
		seg = xreallocarray(seg, n + 1, sizeof(*seg));
		if (e - s == 1 && *s == '*')
			seg[n++] = NULL;
		else if ((seg[n++] = path_segment(ps, s,
		    (size_t)(e - s))) == NULL) {
			free(seg);
			return -1;
		}
		s = e + 1;
	}
	t->seg = pool_array(ps->sc->pool, seg);
	t->nseg = n;
	return 0;
}

static int
parse_xform(struct parser *ps, struct xform *x)
{
	const char *start = ps->p;
	size_t i, n;

	while (isalpha((unsigned char)*ps->p) || *ps->p == '_')
		ps->p++;
	n = (size_t)(ps->p - start);
	for (i = 0; i < FMN_NELEM(xops); i++) {
		if (strlen(xops[i].name) == n &&
		    memcmp(xops[i].name, start, n) == 0)
			break;
	}
	if (n == 0 || i == FMN_NELEM(xops)) {
		fmn_set_cause(ps->cause, "unknown transform \"%.*s\"",
		    (int)(n ? n : 1), start);
		return -1;
	}
	x->op = xops[i].op;
	while (*ps->p == ':') {
		char *arg;

		ps->p++;
		if (x->nargs == FMN_NELEM(x->args)) {
			fmn_set_cause(ps->cause, "too many arguments to %s",
			    xops[i].name);
			return -1;
		}
		if (*ps->p == '\'') {
			if ((arg = parse_quoted(ps)) == NULL)
				return -1;
		} else {
			const char *a = ps->p;

			while (!is_stop(ps, *ps->p) && *ps->p != ':')
				ps->p++;
			arg = pool_strndup(ps->sc->pool, a,
			    (size_t)(ps->p - a));
		}
		x->args[x->nargs++] = arg;
	}
	if ((int)x->nargs < xops[i].minargs || (int)x->nargs > xops[i].maxargs) {
		fmn_set_cause(ps->cause, "%s takes %d to %d arguments",
		    xops[i].name, xops[i].minargs, xops[i].maxargs);
		return -1;
	}
	switch (x->op) {
	case X_ZPAD:
	case X_TRUNC: {
		char *end;

		x->num = strtol(x->args[0], &end, 10);
		if (*end != '\0' || x->num <= 0 || x->num > 100000) {
			fmn_set_cause(ps->cause, "%s needs a positive "
			    "number, not \"%s\"", xops[i].name, x->args[0]);
			return -1;
		}
		break;
	}
	case X_RE:
	case X_REALL:
	case X_SUB:
		if ((x->re = rx_compile(ps->sc->pool, x->args[0],
		    ps->cause)) == NULL)
			return -1;
		break;
	case X_LOOKUP: {
		/* The argument is a path (no wildcards) to an object. */
		struct parser sub = { ps->sc, x->args[0], ps->cause, 0 };
		struct term t;

		memset(&t, 0, sizeof(t));
		if (x->args[0][0] == '/' && parse_path(&sub, &t) == -1)
			return -1;
		if (x->args[0][0] != '/' || *sub.p != '\0') {
			fmn_set_cause(ps->cause, "lookup needs a /path, not "
			    "\"%s\"", x->args[0]);
			return -1;
		}
		x->path = t.seg;
		x->npath = t.nseg;
		break;
	}
	case X_MAP:
		if ((x->table = find_table(ps->sc, x->args[0])) == NULL) {
			fmn_set_cause(ps->cause, "no table named \"%s\"",
			    x->args[0]);
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}

static int
parse_term(struct parser *ps, struct term *t)
{
	struct xform *xf = NULL;
	size_t nxf = 0;

	skip_ws(ps);
	if (*ps->p == '/') {
		t->kind = T_PATH;
		if (parse_path(ps, t) == -1)
			return -1;
	} else if (*ps->p == '\'') {
		t->kind = T_LIT;
		if ((t->lit = parse_quoted(ps)) == NULL)
			return -1;
	} else if (*ps->p == '$') {
		const char *s = ++ps->p;

		while (isalnum((unsigned char)*ps->p) || *ps->p == '_')
			ps->p++;
		t->kind = T_LET;
		t->let = find_let(ps->sc, s, (size_t)(ps->p - s));
		if (t->let == NULL) {
			fmn_set_cause(ps->cause, "no let named \"%.*s\"",
			    (int)(ps->p - s), s);
			return -1;
		}
	} else {
		fmn_set_cause(ps->cause, "expected a /path, a 'literal' or a "
		    "$name at \"%.20s\"", ps->p);
		return -1;
	}
	for (;;) {
		skip_ws(ps);
		if (ps->p[0] != '|' || ps->p[1] == '|')
			break;
		ps->p++;
		skip_ws(ps);
		xf = xreallocarray(xf, nxf + 1, sizeof(*xf));
		memset(&xf[nxf], 0, sizeof(*xf));
		if (parse_xform(ps, &xf[nxf++]) == -1) {
			free(xf);
			return -1;
		}
	}
	t->xf = pool_array(ps->sc->pool, xf);
	t->nxf = nxf;
	return 0;
}

static struct fmn_expr *
parse_expr(struct parser *ps)
{
	struct fmn_expr *e = pool_zalloc(ps->sc->pool, sizeof(*e));
	struct term *alts = NULL;
	size_t n = 0;

	for (;;) {
		alts = xreallocarray(alts, n + 1, sizeof(*alts));
		memset(&alts[n], 0, sizeof(*alts));
		if (parse_term(ps, &alts[n++]) == -1) {
			free(alts);
			return NULL;
		}
		skip_ws(ps);
		if (ps->p[0] == '|' && ps->p[1] == '|') {
			ps->p += 2;
			continue;
		}
		if (ps->p[0] == '+' && ps->p[1] == '+') {
			ps->p += 2;
			alts = xreallocarray(alts, n + 1, sizeof(*alts));
			memset(&alts[n], 0, sizeof(*alts));
			if (parse_term(ps, &alts[n]) == -1) {
				free(alts);
				return NULL;
			}
			alts[n++].concat = 1;
			goto more;
		}
		break;
	more:
		skip_ws(ps);
		if (ps->p[0] == '+' && ps->p[1] == '+') {
			ps->p += 2;
			alts = xreallocarray(alts, n + 1, sizeof(*alts));
			memset(&alts[n], 0, sizeof(*alts));
			if (parse_term(ps, &alts[n]) == -1) {
				free(alts);
				return NULL;
			}
			alts[n++].concat = 1;
			goto more;
		}
		if (ps->p[0] == '|' && ps->p[1] == '|') {
			ps->p += 2;
			continue;
		}
		break;
	}
	e->alts = pool_array(ps->sc->pool, alts);
	e->n = n;
	return e;
}

struct fmn_expr *
fmn_expr_compile(const struct fmn_scope *sc, const char *src, char **cause)
{
	struct parser ps = { sc, src, cause, 0 };
	struct fmn_expr *e;

	if ((e = parse_expr(&ps)) == NULL)
		return NULL;
	if (*ps.p != '\0') {
		fmn_set_cause(cause, "unexpected \"%.20s\" in expression",
		    ps.p);
		return NULL;
	}
	return e;
}

struct fmn_expr *
fmn_expr_from_cases(const struct fmn_scope *sc, struct fmn_cases *cs)
{
	struct fmn_expr *e = pool_zalloc(sc->pool, sizeof(*e));

	e->cases = cs;
	return e;
}

struct fmn_tmpl *
fmn_tmpl_compile(const struct fmn_scope *sc, const char *src, char **cause)
{
	struct parser ps = { sc, src, cause, 1 };
	struct fmn_tmpl *t = pool_zalloc(sc->pool, sizeof(*t));
	struct tpart *parts = NULL;
	struct fmn_buf text;
	size_t n = 0;

	fmn_buf_init(&text);
	for (;;) {
		char c = *ps.p;

		if (c == '\0' || (c == '{' && ps.p[1] != '{')) {
			if (text.len > 0) {
				parts = xreallocarray(parts, n + 1,
				    sizeof(*parts));
				parts[n].expr = NULL;
				parts[n++].text = fmn_pool_add(sc->pool,
				    fmn_buf_steal(&text), free);
			}
			if (c == '\0')
				break;
			ps.p++;
			parts = xreallocarray(parts, n + 1, sizeof(*parts));
			parts[n].text = NULL;
			if ((parts[n++].expr = parse_expr(&ps)) == NULL)
				goto fail;
			if (*ps.p != '}') {
				fmn_set_cause(cause, "expected } at \"%.20s\"",
				    ps.p);
				goto fail;
			}
			ps.p++;
			continue;
		}
		if ((c == '{' || c == '}') && ps.p[1] == c)
			ps.p++;
		else if (c == '}') {
			fmn_set_cause(cause, "a lone } (write }} for one)");
			goto fail;
		}
		fmn_buf_addc(&text, c);
		ps.p++;
	}
	t->parts = pool_array(sc->pool, parts);
	t->n = n;
	return t;
fail:
	fmn_buf_free(&text);
	free(parts);
	return NULL;
}

static struct cond *
compile_cond(const struct fmn_scope *sc, json_t *obj, const char *where,
    char **cause)
{
	struct cond *c = pool_zalloc(sc->pool, sizeof(*c));
	json_t *j, *v;
	const char *key;
	char *err = NULL;
	size_t i;

	j = json_object_get(obj, "all");
	if (j != NULL) {
		if (!json_is_array(j) || json_array_size(j) == 0) {
			fmn_set_cause(cause, "%s.all: must be an array of "
			    "conditions", where);
			return NULL;
		}
		c->nall = json_array_size(j);
		c->all = pool_zalloc(sc->pool, c->nall * sizeof(*c->all));
		for (i = 0; i < c->nall; i++) {
			char *w = xasprintf("%s.all[%zu]", where, i);

			if (json_is_object(json_array_get(j, i)))
				c->all[i] = compile_cond(sc,
				    json_array_get(j, i), w, cause);
			else
				fmn_set_cause(cause, "%s: must be a condition "
				    "object", w);
			free(w);
			if (c->all[i] == NULL)
				return NULL;
		}
	}
	j = json_object_get(obj, "if");
	if (j == NULL && c->nall > 0)
		goto rest;
	if (!json_is_string(j)) {
		fmn_set_cause(cause, "%s.if: must be an expression string",
		    where);
		return NULL;
	}
	if ((c->expr = fmn_expr_compile(sc, json_string_value(j),
	    &err)) == NULL)
		goto bad;
rest:
	c->kind = C_TRUTHY;
	json_object_foreach(obj, key, v) {
		if (strcmp(key, "eq") == 0 || strcmp(key, "ne") == 0) {
			if (c->kind != C_TRUTHY)
				goto twice;
			c->kind = key[0] == 'e' ? C_EQ : C_NE;
			if (!json_is_array(v)) {
				c->vals = pool_zalloc(sc->pool, sizeof(char *));
				c->nvals = 1;
				v = json_pack("[O]", v);
			} else {
				json_incref(v);
				c->nvals = json_array_size(v);
				c->vals = pool_zalloc(sc->pool,
				    (c->nvals + 1) * sizeof(char *));
			}
			for (i = 0; i < c->nvals; i++) {
				json_t *e = json_array_get(v, i);

				if (json_is_string(e))
					c->vals[i] = pool_strndup(sc->pool,
					    json_string_value(e),
					    strlen(json_string_value(e)));
				else if (json_is_number(e) ||
				    json_is_boolean(e) || json_is_null(e)) {
					char *s = json_dumps(e,
					    JSON_ENCODE_ANY);

					c->vals[i] = fmn_pool_add(sc->pool,
					    xstrdup(s), free);
					free(s);
				} else {
					json_decref(v);
					fmn_set_cause(cause, "%s.%s: values "
					    "must be strings or numbers",
					    where, key);
					return NULL;
				}
			}
			json_decref(v);
		} else if (strcmp(key, "re") == 0) {
			if (c->kind != C_TRUTHY)
				goto twice;
			c->kind = C_RE;
			if (!json_is_string(v)) {
				fmn_set_cause(cause, "%s.re: must be a string",
				    where);
				return NULL;
			}
			if ((c->re = rx_compile(sc->pool, json_string_value(v),
			    &err)) == NULL)
				goto bad;
		} else if (strcmp(key, "not") == 0) {
			if (!json_is_boolean(v)) {
				fmn_set_cause(cause, "%s.not: must be true or "
				    "false", where);
				return NULL;
			}
			c->negate = json_is_true(v);
		} else if (strcmp(key, "if") != 0 && strcmp(key, "then") != 0 &&
		    strcmp(key, "all") != 0) {
			fmn_set_cause(cause, "%s: unknown key \"%s\"", where,
			    key);
			return NULL;
		}
	}
	return c;
twice:
	fmn_set_cause(cause, "%s: only one of eq, ne, re", where);
	return NULL;
bad:
	fmn_set_cause(cause, "%s.if: %s", where, err);
	free(err);
	return NULL;
}

struct fmn_cases *
fmn_cases_compile(const struct fmn_scope *sc, json_t *spec, const char *where,
    char **cause)
{
	struct fmn_cases *cs = pool_zalloc(sc->pool, sizeof(*cs));
	char *err = NULL, *w;
	size_t i, n;

	if (json_is_string(spec)) {
		cs->v = pool_zalloc(sc->pool, sizeof(*cs->v));
		cs->n = 1;
		if ((cs->v[0].tmpl = fmn_tmpl_compile(sc,
		    json_string_value(spec), &err)) == NULL) {
			fmn_set_cause(cause, "%s: %s", where, err);
			free(err);
			return NULL;
		}
		return cs;
	}
	if (!json_is_array(spec)) {
		fmn_set_cause(cause, "%s: must be a template string or an "
		    "array of cases", where);
		return NULL;
	}
	n = json_array_size(spec);
	cs->v = pool_zalloc(sc->pool, (n + 1) * sizeof(*cs->v));
	cs->n = n;
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(spec, i), *then;
		struct kase *k = &cs->v[i];
		int rc = 0;

		w = xasprintf("%s[%zu]", where, i);
		if (json_is_string(e)) {
			if ((k->tmpl = fmn_tmpl_compile(sc,
			    json_string_value(e), &err)) == NULL) {
				fmn_set_cause(cause, "%s: %s", w, err);
				free(err);
				rc = -1;
			}
		} else if (json_is_object(e)) {
			then = json_object_get(e, "then");
			if ((json_object_get(e, "if") != NULL ||
			    json_object_get(e, "all") != NULL) &&
			    (k->cond = compile_cond(sc, e, w, cause)) == NULL)
				rc = -1;
			else if (then == NULL) {
				fmn_set_cause(cause, "%s: a case needs "
				    "\"then\"", w);
				rc = -1;
			} else if (json_is_null(then))
				k->none = 1;
			else if (json_is_string(then)) {
				if ((k->tmpl = fmn_tmpl_compile(sc,
				    json_string_value(then), &err)) == NULL) {
					fmn_set_cause(cause, "%s.then: %s", w,
					    err);
					free(err);
					rc = -1;
				}
			} else {
				char *w2 = xasprintf("%s.then", w);

				k->sub = fmn_cases_compile(sc, then, w2,
				    cause);
				free(w2);
				if (k->sub == NULL)
					rc = -1;
			}
		} else {
			fmn_set_cause(cause, "%s: a case is a template string "
			    "or an object with \"if\" and \"then\"", w);
			rc = -1;
		}
		free(w);
		if (rc == -1)
			return NULL;
	}
	return cs;
}

struct fmn_items *
fmn_items_compile(const struct fmn_scope *sc, json_t *spec, const char *where,
    char **cause)
{
	struct fmn_items *it = pool_zalloc(sc->pool, sizeof(*it));
	char *err = NULL, *w;
	json_t *arr = spec;
	size_t i, n;

	if (json_is_string(spec))
		arr = json_pack("[O]", spec);
	else if (json_is_array(spec))
		json_incref(arr);
	else {
		fmn_set_cause(cause, "%s: must be an expression or an array "
		    "of them", where);
		return NULL;
	}
	n = json_array_size(arr);
	it->v = pool_zalloc(sc->pool, (n + 1) * sizeof(*it->v));
	it->n = n;
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i), *then;
		struct item *item = &it->v[i];
		int rc = 0;

		w = xasprintf("%s[%zu]", where, i);
		if (json_is_string(e)) {
			if ((item->expr = fmn_expr_compile(sc,
			    json_string_value(e), &err)) == NULL) {
				fmn_set_cause(cause, "%s: %s", w, err);
				free(err);
				rc = -1;
			}
		} else if (json_is_object(e) &&
		    (then = json_object_get(e, "then")) != NULL) {
			char *w2 = xasprintf("%s.then", w);

			if ((item->cond = compile_cond(sc, e, w, cause)) == NULL)
				rc = -1;
			else if ((item->sub = fmn_items_compile(sc, then, w2,
			    cause)) == NULL)
				rc = -1;
			free(w2);
		} else {
			fmn_set_cause(cause, "%s: an item is an expression "
			    "string or an object with \"if\" and \"then\"", w);
			rc = -1;
		}
		free(w);
		if (rc == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	json_decref(arr);
	return it;
}

/* Evaluation. */

struct vals {
	json_t	**v;
	size_t	  n, cap;
};

static void
vals_push(struct vals *vs, json_t *j)
{
	if (j == NULL)
		return;
	if (vs->n >= MAX_VALUES) {
		json_decref(j);
		return;
	}
	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? vs->cap * 2 : 8;
		vs->v = xreallocarray(vs->v, vs->cap, sizeof(*vs->v));
	}
	vs->v[vs->n++] = j;
}

static void
vals_free(struct vals *vs)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		json_decref(vs->v[i]);
	free(vs->v);
	vs->v = NULL;
	vs->n = vs->cap = 0;
}

static json_t *
jstr(const char *s, size_t n)
{
	json_t *j = json_stringn_nocheck(s, n);

	if (j == NULL) {
		fprintf(stderr, "fmn: out of memory\n");
		abort();
	}
	return j;
}

/*
 * The text of a scalar value (numbers as Python prints them); NULL for
 * arrays and objects. tmp holds formatted numbers.
 */
static const char *
vtext(json_t *j, char *tmp, size_t tmpsz, size_t *len)
{
	const char *s;

	switch (json_typeof(j)) {
	case JSON_STRING:
		*len = json_string_length(j);
		return json_string_value(j);
	case JSON_INTEGER:
		snprintf(tmp, tmpsz, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(j));
		break;
	case JSON_REAL: {
		double d = json_real_value(j);

		snprintf(tmp, tmpsz, "%.15g", d);
		if (isfinite(d) && strpbrk(tmp, ".e") == NULL &&
		    strlen(tmp) + 3 < tmpsz)
			strcat(tmp, ".0");
		break;
	}
	case JSON_TRUE:
		s = "true";
		*len = 4;
		return s;
	case JSON_FALSE:
		s = "false";
		*len = 5;
		return s;
	default:
		return NULL;
	}
	*len = strlen(tmp);
	return tmp;
}

static int
truthy(json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_STRING:
		return json_string_length(j) > 0;
	case JSON_INTEGER:
		return json_integer_value(j) != 0;
	case JSON_REAL:
		return json_real_value(j) != 0;
	case JSON_TRUE:
		return 1;
	case JSON_ARRAY:
		return json_array_size(j) > 0;
	case JSON_OBJECT:
		return json_object_size(j) > 0;
	default:
		return 0;
	}
}

static void
walk(json_t *j, char *const *seg, size_t nseg, struct vals *out)
{
	size_t i;

	if (j == NULL)
		return;
	if (nseg == 0) {
		if (!json_is_null(j))
			vals_push(out, json_incref(j));
		return;
	}
	if (seg[0] == NULL) {
		if (json_is_array(j)) {
			for (i = 0; i < json_array_size(j); i++)
				walk(json_array_get(j, i), seg + 1, nseg - 1,
				    out);
		} else if (json_is_object(j)) {
			const char *k;
			json_t *v;

			json_object_foreach(j, k, v)
				walk(v, seg + 1, nseg - 1, out);
		}
		return;
	}
	if (json_is_object(j))
		walk(json_object_get(j, seg[0]), seg + 1, nseg - 1, out);
	else if (json_is_array(j)) {
		char *end;
		long idx = strtol(seg[0], &end, 10);

		if (*end != '\0' || end == seg[0])
			return;
		if (idx < 0)
			idx += (long)json_array_size(j);
		if (idx >= 0)
			walk(json_array_get(j, (size_t)idx), seg + 1,
			    nseg - 1, out);
	}
}

/* Strip "-version-release" (drop = 2) or "-version" (drop = 1). */
static size_t
strip_dashes(const char *s, size_t n, int drop)
{
	size_t end = n;

	while (drop-- > 0) {
		while (end > 0 && s[end - 1] != '-')
			end--;
		if (end == 0)
			return n;
		end--;
	}
	return end;
}

static int
is_mention_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.';
}

static void
add_mentions(const char *s, size_t n, struct vals *out)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (s[i] != '@' || (i > 0 && (is_mention_char(
		    (unsigned char)s[i - 1]) || s[i - 1] == '@')))
			continue;
		for (j = i + 1; j < n && is_mention_char((unsigned char)s[j]);
		    j++)
			;
		while (j > i + 1 && (s[j - 1] == '.' || s[j - 1] == '-'))
			j--;
		if (j > i + 1)
			vals_push(out, jstr(s + i + 1, j - i - 1));
		i = j - 1 > i ? j - 1 : i;
	}
}

static int
cmp_text(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	char t1[64], t2[64];
	size_t l1, l2;
	const char *s1 = vtext(x, t1, sizeof(t1), &l1);
	const char *s2 = vtext(y, t2, sizeof(t2), &l2);

	return strcmp(s1 ? s1 : "", s2 ? s2 : "");
}

static void text_join(struct vals *in, const char *sep, const char *last,
    struct fmn_buf *b);

/* Apply one transform to the whole list. */
static void
apply(const struct xform *x, struct fmn_eval *ev, struct vals *vs)
{
	struct vals out = { NULL, 0, 0 };
	struct fmn_buf b;
	char tmp[64];
	size_t i, k, len;
	const char *s;

	switch (x->op) {
	case X_COUNT:
		vals_push(&out, json_integer((json_int_t)vs->n));
		goto done;
	case X_NOT: {
		int t = 0;

		for (i = 0; i < vs->n && !t; i++)
			t = truthy(vs->v[i]);
		if (!t)
			vals_push(&out, json_true());
		goto done;
	}
	case X_FIRST:
	case X_LAST:
		if (vs->n > 0)
			vals_push(&out, json_incref(vs->v[x->op == X_FIRST ?
			    0 : vs->n - 1]));
		goto done;
	case X_DEFAULT:
		if (vs->n == 0) {
			vals_push(&out, jstr(x->args[0], strlen(x->args[0])));
			goto done;
		}
		return;
	case X_SORT:
		if (vs->n > 1)
			qsort(vs->v, vs->n, sizeof(*vs->v), cmp_text);
		return;
	case X_UNIQ:
		for (i = 0; i < vs->n; i++) {
			for (k = 0; k < out.n; k++)
				if (cmp_text(&vs->v[i], &out.v[k]) == 0)
					break;
			if (k == out.n)
				vals_push(&out, json_incref(vs->v[i]));
		}
		goto done;
	case X_JOIN:
	case X_AND:
		if (vs->n == 0)
			return;
		fmn_buf_init(&b);
		if (x->op == X_JOIN)
			text_join(vs, x->nargs ? x->args[0] : ", ", NULL, &b);
		else
			/* "and:," gives the Oxford comma: a, b, and c. */
			text_join(vs, ", ", x->nargs && vs->n > 2 ? ", and " :
			    " and ", &b);
		vals_push(&out, jstr(b.data ? b.data : "", b.len));
		fmn_buf_free(&b);
		goto done;
	case X_SERIES: {
		/* Unique, sorted, "a, b and 3 others" past N items. */
		long lim = x->nargs ? strtol(x->args[0], NULL, 10) : 3;
		struct vals u = { NULL, 0, 0 };

		if (lim < 2)
			lim = 2;
		if (vs->n > 1)
			qsort(vs->v, vs->n, sizeof(*vs->v), cmp_text);
		for (i = 0; i < vs->n; i++)
			if (u.n == 0 || cmp_text(&vs->v[i], &u.v[u.n - 1]) != 0)
				vals_push(&u, json_incref(vs->v[i]));
		fmn_buf_init(&b);
		if (u.n == 0)
			fmn_buf_adds(&b, "(nothing)");
		else if (u.n > (size_t)lim) {
			size_t more = u.n - (size_t)lim + 1;

			while (u.n > (size_t)lim - 1)
				json_decref(u.v[--u.n]);
			text_join(&u, ", ", NULL, &b);
			fmn_buf_printf(&b, ", and %zu others", more);
		} else
			text_join(&u, ", ", u.n > 2 ? ", and " : " and ", &b);
		vals_free(&u);
		vals_push(&out, jstr(b.data, b.len));
		fmn_buf_free(&b);
		goto done;
	}
	case X_PLURAL:
		if (vs->n > 0) {
			json_t *j = vs->v[0];
			int one = json_is_integer(j) ?
			    json_integer_value(j) == 1 : vs->n == 1;
			const char *w = one ? (x->nargs > 1 ? x->args[0] : "")
			    : (x->nargs > 1 ? x->args[1] : x->nargs ?
			    x->args[0] : "s");

			vals_push(&out, jstr(w, strlen(w)));
		}
		goto done;
	default:
		break;
	}

	for (i = 0; i < vs->n; i++) {
		json_t *j = vs->v[i];

		if (x->op == X_KEYS) {
			const char *key;
			json_t *v;

			if (json_is_object(j))
				json_object_foreach(j, key, v)
					vals_push(&out, jstr(key, strlen(key)));
			continue;
		}
		if (x->op == X_GET) {
			json_t *v = json_is_object(j) ?
			    json_object_get(j, x->args[0]) : NULL;

			if (v != NULL && !json_is_null(v))
				vals_push(&out, json_incref(v));
			continue;
		}
		if (x->op == X_WHERE || x->op == X_WHERENOT) {
			/* Objects whose member equals one of the values. */
			json_t *v = json_is_object(j) ?
			    json_object_get(j, x->args[0]) : NULL;
			const char *t;

			if (!json_is_object(j))
				continue;
			/* A missing member matches an empty argument. */
			if (v == NULL || json_is_null(v)) {
				t = "";
				len = 0;
			} else if ((t = vtext(v, tmp, sizeof(tmp),
			    &len)) == NULL)
				continue;
			for (k = 1; k < x->nargs; k++)
				if (strlen(x->args[k]) == len &&
				    strncasecmp(x->args[k], t, len) == 0)
					break;
			if ((k < x->nargs) == (x->op == X_WHERE))
				vals_push(&out, json_incref(j));
			continue;
		}
		if (x->op == X_LOOKUP) {
			/* Like Python's d.get(v, v). */
			struct vals obj = { NULL, 0, 0 };
			json_t *v = NULL;

			walk(ev->env, x->path, x->npath, &obj);
			if ((s = vtext(j, tmp, sizeof(tmp), &len)) != NULL &&
			    obj.n == 1 && json_is_object(obj.v[0]) &&
			    strlen(s) == len)
				v = json_object_get(obj.v[0], s);
			vals_push(&out, json_incref(v != NULL &&
			    !json_is_null(v) ? v : j));
			vals_free(&obj);
			continue;
		}
		if (x->op == X_STRING) {
			if (json_is_string(j))
				vals_push(&out, json_incref(j));
			continue;
		}
		if (x->op == X_JSON) {
			char *d = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

			if (d != NULL)
				vals_push(&out, jstr(d, strlen(d)));
			free(d);
			continue;
		}
		if ((s = vtext(j, tmp, sizeof(tmp), &len)) == NULL)
			continue;
		switch (x->op) {
		case X_LOWER:
		case X_UPPER: {
			char *c = xstrndup(s, len);

			for (k = 0; k < len; k++)
				c[k] = (char)(x->op == X_LOWER ?
				    tolower((unsigned char)c[k]) :
				    toupper((unsigned char)c[k]));
			vals_push(&out, jstr(c, len));
			free(c);
			break;
		}
		case X_CAPITALIZE: {
			char *c = xstrndup(s, len);

			/* As Python does: the rest is lower-cased. */
			for (k = 1; k < len; k++)
				c[k] = (char)tolower((unsigned char)c[k]);
			if (len > 0)
				c[0] = (char)toupper((unsigned char)c[0]);
			vals_push(&out, jstr(c, len));
			free(c);
			break;
		}
		case X_STRIP:
			while (len > 0 && isspace((unsigned char)*s)) {
				s++;
				len--;
			}
			while (len > 0 && isspace((unsigned char)s[len - 1]))
				len--;
			vals_push(&out, jstr(s, len));
			break;
		case X_FIRSTLINE: {
			const char *nl = memchr(s, '\n', len);

			if (nl != NULL)
				len = (size_t)(nl - s);
			if (len > 0 && s[len - 1] == '\r')
				len--;
			vals_push(&out, jstr(s, len));
			break;
		}
		case X_BASENAME:
			while (len > 0 && s[len - 1] == '/')
				len--;
			for (k = len; k > 0 && s[k - 1] != '/'; k--)
				;
			vals_push(&out, jstr(s + k, len - k));
			break;
		case X_NVR:
		case X_NV:
			vals_push(&out, jstr(s, strip_dashes(s, len,
			    x->op == X_NVR ? 2 : 1)));
			break;
		case X_PREFIX:
		case X_SUFFIX: {
			char *c = x->op == X_PREFIX ?
			    xasprintf("%s%.*s", x->args[0], (int)len, s) :
			    xasprintf("%.*s%s", (int)len, s, x->args[0]);

			vals_push(&out, jstr(c, strlen(c)));
			free(c);
			break;
		}
		case X_ZPAD:
			if (len < (size_t)x->num) {
				char *c = xmalloc((size_t)x->num + 1);

				memset(c, '0', (size_t)x->num - len);
				memcpy(c + x->num - len, s, len);
				vals_push(&out, jstr(c, (size_t)x->num));
				free(c);
			} else
				vals_push(&out, jstr(s, len));
			break;
		case X_TRUNC:
			if (fmn_utf8_chars(s, len) > (size_t)x->num) {
				const char *ell = x->nargs > 1 ? x->args[1] :
				    "...";
				size_t cut = fmn_utf8_prefix(s, len,
				    (size_t)x->num);
				char *c = xasprintf("%.*s%s", (int)cut, s, ell);

				vals_push(&out, jstr(c, strlen(c)));
				free(c);
			} else
				vals_push(&out, jstr(s, len));
			break;
		case X_ALIAS:
		case X_EMAIL: {
			char *c = xstrndup(s, len);
			const char *a = fmn_aliases_lookup(ev->aliases, c);
			const char *at = strrchr(c, '@');

			if (a != NULL)
				vals_push(&out, jstr(a, strlen(a)));
			else if (x->op == X_EMAIL && at != NULL &&
			    strcmp(at, "@fedoraproject.org") == 0)
				vals_push(&out, jstr(c, (size_t)(at - c)));
			else
				vals_push(&out, jstr(s, len));
			free(c);
			break;
		}
		case X_SPLIT: {
			const char *sep = x->nargs ? x->args[0] : NULL;
			size_t seplen = sep ? strlen(sep) : 0, st = 0;

			if (sep == NULL || seplen == 0) {
				/* On runs of white space, like Python's split(). */
				for (k = 0; k <= len; k++) {
					if (k == len ||
					    isspace((unsigned char)s[k])) {
						if (k > st)
							vals_push(&out,
							    jstr(s + st, k - st));
						st = k + 1;
					}
				}
				break;
			}
			for (k = 0; k + seplen <= len;) {
				if (memcmp(s + k, sep, seplen) == 0) {
					vals_push(&out, jstr(s + st, k - st));
					k += seplen;
					st = k;
				} else
					k++;
			}
			vals_push(&out, jstr(s + st, len - st));
			break;
		}
		case X_RE:
		case X_REALL: {
			size_t start = 0;

			for (;;) {
				int rc = rx_match(x->re, s, len, start);
				PCRE2_SIZE *ov;

				if (rc == -1)
					ev->errors++;
				if (rc != 1)
					break;
				ov = pcre2_get_ovector_pointer(x->re->md);
				k = pcre2_get_ovector_count(x->re->md) > 1 &&
				    ov[2] != PCRE2_UNSET ? 1 : 0;
				vals_push(&out, jstr(s + ov[2 * k],
				    ov[2 * k + 1] - ov[2 * k]));
				if (x->op == X_RE)
					break;
				start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
				if (start > len)
					break;
			}
			break;
		}
		case X_SUB: {
			PCRE2_SIZE outlen = len * 2 + 256;
			PCRE2_UCHAR *o;
			int rc;

			for (;;) {
				o = xmalloc(outlen);
				rc = pcre2_substitute(x->re->code,
				    (PCRE2_SPTR)s, len, 0,
				    PCRE2_SUBSTITUTE_GLOBAL |
				    PCRE2_SUBSTITUTE_OVERFLOW_LENGTH,
				    x->re->md, x->re->mctx,
				    (PCRE2_SPTR)x->args[1],
				    PCRE2_ZERO_TERMINATED, o, &outlen);
				if (rc != PCRE2_ERROR_NOMEMORY)
					break;
				free(o);
			}
			if (rc >= 0)
				vals_push(&out, jstr((char *)o, outlen));
			else
				ev->errors++;
			free(o);
			break;
		}
		case X_MENTIONS:
			add_mentions(s, len, &out);
			break;
		case X_MAP: {
			const char *m = fmn_hmap_getn(x->table, s, len);

			if (m == NULL)
				m = fmn_hmap_get(x->table, "*");
			if (m != NULL)
				vals_push(&out, jstr(m, strlen(m)));
			break;
		}
		case X_DROP:
			for (k = 0; k < x->nargs; k++)
				if (strlen(x->args[k]) == len &&
				    memcmp(x->args[k], s, len) == 0)
					break;
			if (k == x->nargs)
				vals_push(&out, json_incref(j));
			break;
		default:
			break;
		}
	}
done:
	vals_free(vs);
	*vs = out;
}

static void eval_expr(const struct fmn_expr *e, struct fmn_eval *ev,
    struct vals *out, int depth);

static void
eval_term(const struct term *t, struct fmn_eval *ev, struct vals *out,
    int depth)
{
	size_t i;

	switch (t->kind) {
	case T_PATH:
		walk(ev->env, t->seg, t->nseg, out);
		break;
	case T_LIT:
		vals_push(out, jstr(t->lit, strlen(t->lit)));
		break;
	case T_LET:
		eval_expr(t->let, ev, out, depth + 1);
		break;
	}
	for (i = 0; i < t->nxf; i++)
		apply(&t->xf[i], ev, out);
}

static void
eval_expr(const struct fmn_expr *e, struct fmn_eval *ev, struct vals *out,
    int depth)
{
	size_t i;

	/* Lets only refer to earlier lets, but stay safe anyway. */
	if (depth > 32)
		return;
	if (e->cases != NULL) {
		char *s = fmn_cases_eval(e->cases, ev);

		if (s != NULL)
			vals_push(out, jstr(s, strlen(s)));
		free(s);
		return;
	}
	/* Alternatives: the first group with a value; "++" joins a group. */
	for (i = 0; i < e->n; i++) {
		struct vals t = { NULL, 0, 0 };
		size_t k;

		if (!e->alts[i].concat && i > 0 && out->n > 0)
			return;
		eval_term(&e->alts[i], ev, &t, depth);
		for (k = 0; k < t.n; k++)
			vals_push(out, t.v[k]);
		t.n = 0;
		vals_free(&t);
	}
}

static void
text_join(struct vals *in, const char *sep, const char *last,
    struct fmn_buf *b)
{
	char tmp[64];
	size_t i, len;

	for (i = 0; i < in->n; i++) {
		const char *s = vtext(in->v[i], tmp, sizeof(tmp), &len);
		char *d = NULL;

		if (i > 0)
			fmn_buf_adds(b, last != NULL && i == in->n - 1 ?
			    last : sep);
		if (s == NULL) {
			d = json_dumps(in->v[i], JSON_COMPACT);
			s = d ? d : "";
			len = strlen(s);
		}
		fmn_buf_add(b, s, len);
		free(d);
	}
}

static int
cond_holds(const struct cond *c, struct fmn_eval *ev)
{
	struct vals vs = { NULL, 0, 0 };
	char tmp[64];
	size_t i, k, len;
	int r = 0;

	for (i = 0; i < c->nall; i++)
		if (!cond_holds(c->all[i], ev))
			return 0;
	if (c->expr == NULL)
		return 1;
	eval_expr(c->expr, ev, &vs, 0);
	for (i = 0; i < vs.n && !r; i++) {
		const char *s;

		if (c->kind == C_TRUTHY) {
			r = truthy(vs.v[i]);
			continue;
		}
		if ((s = vtext(vs.v[i], tmp, sizeof(tmp), &len)) == NULL)
			continue;
		if (c->kind == C_RE) {
			int m = rx_match(c->re, s, len, 0);

			if (m == -1)
				ev->errors++;
			r = m == 1;
			continue;
		}
		for (k = 0; k < c->nvals && !r; k++)
			r = strlen(c->vals[k]) == len &&
			    memcmp(c->vals[k], s, len) == 0;
	}
	if (c->kind == C_NE)
		r = !r;
	vals_free(&vs);
	return c->negate ? !r : r;
}

/* Render; NULL when an expression of the template has no value. */
static char *
tmpl_render(const struct fmn_tmpl *t, struct fmn_eval *ev)
{
	struct fmn_buf b;
	size_t i;

	fmn_buf_init(&b);
	fmn_buf_adds(&b, "");
	for (i = 0; i < t->n; i++) {
		struct vals vs = { NULL, 0, 0 };

		if (t->parts[i].text != NULL) {
			fmn_buf_adds(&b, t->parts[i].text);
			continue;
		}
		eval_expr(t->parts[i].expr, ev, &vs, 0);
		if (vs.n == 0) {
			fmn_buf_free(&b);
			return NULL;
		}
		text_join(&vs, ", ", NULL, &b);
		vals_free(&vs);
	}
	return fmn_buf_steal(&b);
}

char *
fmn_cases_eval(const struct fmn_cases *cs, struct fmn_eval *ev)
{
	size_t i;
	char *s;

	if (cs == NULL)
		return NULL;
	for (i = 0; i < cs->n; i++) {
		const struct kase *k = &cs->v[i];

		if (k->cond != NULL && !cond_holds(k->cond, ev))
			continue;
		if (k->none)
			return NULL;
		s = k->tmpl ? tmpl_render(k->tmpl, ev) :
		    fmn_cases_eval(k->sub, ev);
		if (s != NULL)
			return s;
	}
	return NULL;
}

void
fmn_items_eval(const struct fmn_items *it, struct fmn_eval *ev,
    struct fmn_strset *out, int alias)
{
	char tmp[64];
	size_t i, k, len;

	if (it == NULL)
		return;
	for (i = 0; i < it->n; i++) {
		const struct item *item = &it->v[i];
		struct vals vs = { NULL, 0, 0 };

		if (item->cond != NULL) {
			if (cond_holds(item->cond, ev))
				fmn_items_eval(item->sub, ev, out, alias);
			continue;
		}
		eval_expr(item->expr, ev, &vs, 0);
		for (k = 0; k < vs.n; k++) {
			const char *s = vtext(vs.v[k], tmp, sizeof(tmp), &len);
			const char *a;

			if (s == NULL || len == 0 || strlen(s) != len)
				continue;
			if (alias && (a = fmn_aliases_lookup(ev->aliases,
			    s)) != NULL)
				s = a;
			fmn_strset_add(out, s);
		}
		vals_free(&vs);
	}
}
