/*
 * The definitions language, first stage: the pool compiled objects live
 * in, regexes, and parsing expressions and templates from their text
 * (paths, literals, lets, transforms with their arguments).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fmn_expr_int.h"
#include "fmn_log.h"
#include "fmn_pointer.h"
#include "fmn_utf8.h"

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

void *
expr_zalloc(struct fmn_pool *pl, size_t n)
{
	return fmn_pool_add(pl, xcalloc(1, n), free);
}

char *
expr_strndup(struct fmn_pool *pl, const char *s, size_t n)
{
	return fmn_pool_add(pl, xstrndup(s, n), free);
}

/* Growable arrays in the pool: collect in a plain array, then hand over. */
void *
expr_array(struct fmn_pool *pl, void *v)
{
	return v ? fmn_pool_add(pl, v, free) : NULL;
}

/* Regexes. */


static void
rx_free(void *p)
{
	struct rx *r = p;

	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mctx);
	pcre2_code_free(r->code);
	free(r);
}

struct rx *
expr_rx_compile(struct fmn_pool *pl, const char *pat, char **cause)
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
int
expr_rx_match(struct rx *r, const char *s, size_t len, size_t start)
{
	int rc = pcre2_match(r->code, (PCRE2_SPTR)s, len, start, 0, r->md,
	    r->mctx);

	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

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
	t->seg = expr_array(ps->sc->pool, seg);
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
			arg = expr_strndup(ps->sc->pool, a,
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
		if ((x->re = expr_rx_compile(ps->sc->pool, x->args[0],
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
	t->xf = expr_array(ps->sc->pool, xf);
	t->nxf = nxf;
	return 0;
}

/* Terms joined by "||" (the first that yields) or "++" (appended). */
static struct fmn_expr *
parse_expr(struct parser *ps)
{
	struct fmn_expr *e = expr_zalloc(ps->sc->pool, sizeof(*e));
	struct term *alts = NULL;
	size_t n = 0;
	int concat = 0;

	for (;;) {
		alts = xreallocarray(alts, n + 1, sizeof(*alts));
		memset(&alts[n], 0, sizeof(*alts));
		if (parse_term(ps, &alts[n]) == -1) {
			free(alts);
			return NULL;
		}
		alts[n++].concat = concat;
		skip_ws(ps);
		if (ps->p[0] == '|' && ps->p[1] == '|')
			concat = 0;
		else if (ps->p[0] == '+' && ps->p[1] == '+')
			concat = 1;
		else
			break;
		ps->p += 2;
	}
	e->alts = expr_array(ps->sc->pool, alts);
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
	struct fmn_expr *e = expr_zalloc(sc->pool, sizeof(*e));

	e->cases = cs;
	return e;
}

struct fmn_tmpl *
fmn_tmpl_compile(const struct fmn_scope *sc, const char *src, char **cause)
{
	struct parser ps = { sc, src, cause, 1 };
	struct fmn_tmpl *t = expr_zalloc(sc->pool, sizeof(*t));
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
	t->parts = expr_array(sc->pool, parts);
	t->n = n;
	return t;
fail:
	fmn_buf_free(&text);
	free(parts);
	return NULL;
}
