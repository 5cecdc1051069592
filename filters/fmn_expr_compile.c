/*
 * The definitions language, second stage: conditions, and the lists of
 * cases (text facts) and of items (list facts) a definition gives as
 * JSON, compiled into the forms the evaluator runs.
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

static struct cond *
compile_cond(const struct fmn_scope *sc, json_t *obj, const char *where,
    char **cause)
{
	struct cond *c = expr_zalloc(sc->pool, sizeof(*c));
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
		c->all = expr_zalloc(sc->pool, c->nall * sizeof(*c->all));
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
				c->vals = expr_zalloc(sc->pool, sizeof(char *));
				c->nvals = 1;
				v = json_pack("[O]", v);
			} else {
				json_incref(v);
				c->nvals = json_array_size(v);
				c->vals = expr_zalloc(sc->pool,
				    (c->nvals + 1) * sizeof(char *));
			}
			for (i = 0; i < c->nvals; i++) {
				json_t *e = json_array_get(v, i);

				if (json_is_string(e))
					c->vals[i] = expr_strndup(sc->pool,
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
			if ((c->re = expr_rx_compile(sc->pool, json_string_value(v),
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

/*
 * A list of cases (a text fact) and a list of items (a list fact) have
 * one shape: each element is a string (a template, an expression) or
 * an object with a condition and a "then", and is named WHERE[i] in
 * errors. compile_list walks the elements; each kind compiles one.
 */
typedef int (*compile_one)(const struct fmn_scope *sc, json_t *e,
    const char *where, void *elem, char **cause);

static int
compile_list(const struct fmn_scope *sc, json_t *arr, const char *where,
    compile_one one, char *elems, size_t elemsz, char **cause)
{
	size_t i, n = json_array_size(arr);
	char *w;
	int rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		w = xasprintf("%s[%zu]", where, i);
		rc = one(sc, json_array_get(arr, i), w, elems + i * elemsz,
		    cause);
		free(w);
	}
	return rc;
}

/* What follows "then" as a list of its own kind, named WHERE.then. */
static void *
compile_then(const struct fmn_scope *sc, json_t *then, const char *where,
    void *(*list)(const struct fmn_scope *, json_t *, const char *, char **),
    char **cause)
{
	char *w = xasprintf("%s.then", where);
	void *sub = list(sc, then, w, cause);

	free(w);
	return sub;
}

/* A template given as a string, or why it is not one. */
static struct fmn_tmpl *
compile_text(const struct fmn_scope *sc, const char *src, const char *where,
    char **cause)
{
	struct fmn_tmpl *t;
	char *err = NULL;

	if ((t = fmn_tmpl_compile(sc, src, &err)) == NULL) {
		fmn_set_cause(cause, "%s: %s", where, err);
		free(err);
	}
	return t;
}

static void *
cases_list(const struct fmn_scope *sc, json_t *spec, const char *where,
    char **cause)
{
	return fmn_cases_compile(sc, spec, where, cause);
}

static int
case_one(const struct fmn_scope *sc, json_t *e, const char *w, void *elem,
    char **cause)
{
	struct kase *k = elem;
	json_t *then;
	char *wt;

	if (json_is_string(e))
		return (k->tmpl = compile_text(sc, json_string_value(e), w,
		    cause)) != NULL ? 0 : -1;
	if (!json_is_object(e)) {
		fmn_set_cause(cause, "%s: a case is a template string or an "
		    "object with \"if\" and \"then\"", w);
		return -1;
	}
	then = json_object_get(e, "then");
	/* A case without a condition always holds. */
	if ((json_object_get(e, "if") != NULL ||
	    json_object_get(e, "all") != NULL) &&
	    (k->cond = compile_cond(sc, e, w, cause)) == NULL)
		return -1;
	if (then == NULL) {
		fmn_set_cause(cause, "%s: a case needs \"then\"", w);
		return -1;
	}
	if (json_is_null(then)) {
		k->none = 1;
		return 0;
	}
	if (json_is_string(then)) {
		wt = xasprintf("%s.then", w);
		k->tmpl = compile_text(sc, json_string_value(then), wt, cause);
		free(wt);
		return k->tmpl != NULL ? 0 : -1;
	}
	return (k->sub = compile_then(sc, then, w, cases_list, cause)) !=
	    NULL ? 0 : -1;
}

struct fmn_cases *
fmn_cases_compile(const struct fmn_scope *sc, json_t *spec, const char *where,
    char **cause)
{
	struct fmn_cases *cs = expr_zalloc(sc->pool, sizeof(*cs));
	size_t n;

	if (json_is_string(spec)) {
		cs->v = expr_zalloc(sc->pool, sizeof(*cs->v));
		cs->n = 1;
		return (cs->v[0].tmpl = compile_text(sc,
		    json_string_value(spec), where, cause)) != NULL ? cs : NULL;
	}
	if (!json_is_array(spec)) {
		fmn_set_cause(cause, "%s: must be a template string or an "
		    "array of cases", where);
		return NULL;
	}
	n = json_array_size(spec);
	cs->v = expr_zalloc(sc->pool, (n + 1) * sizeof(*cs->v));
	cs->n = n;
	if (compile_list(sc, spec, where, case_one, (char *)cs->v,
	    sizeof(*cs->v), cause) != 0)
		return NULL;
	return cs;
}

static void *
items_list(const struct fmn_scope *sc, json_t *spec, const char *where,
    char **cause)
{
	return fmn_items_compile(sc, spec, where, cause);
}

static int
item_one(const struct fmn_scope *sc, json_t *e, const char *w, void *elem,
    char **cause)
{
	struct item *item = elem;
	json_t *then;
	char *err = NULL;

	if (json_is_string(e)) {
		if ((item->expr = fmn_expr_compile(sc, json_string_value(e),
		    &err)) != NULL)
			return 0;
		fmn_set_cause(cause, "%s: %s", w, err);
		free(err);
		return -1;
	}
	if (!json_is_object(e) || (then = json_object_get(e, "then")) ==
	    NULL) {
		fmn_set_cause(cause, "%s: an item is an expression string or "
		    "an object with \"if\" and \"then\"", w);
		return -1;
	}
	/* An item's condition is not optional: without one, write the list. */
	if ((item->cond = compile_cond(sc, e, w, cause)) == NULL)
		return -1;
	return (item->sub = compile_then(sc, then, w, items_list, cause)) !=
	    NULL ? 0 : -1;
}

struct fmn_items *
fmn_items_compile(const struct fmn_scope *sc, json_t *spec, const char *where,
    char **cause)
{
	struct fmn_items *it = expr_zalloc(sc->pool, sizeof(*it));
	json_t *arr = spec;
	size_t n;
	int rc;

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
	it->v = expr_zalloc(sc->pool, (n + 1) * sizeof(*it->v));
	it->n = n;
	rc = compile_list(sc, arr, where, item_one, (char *)it->v,
	    sizeof(*it->v), cause);
	json_decref(arr);
	return rc == 0 ? it : NULL;
}
