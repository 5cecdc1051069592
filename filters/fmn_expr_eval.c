/*
 * The definitions language, third stage: evaluating compiled
 * expressions, conditions, templates and cases against one envelope.
 * An expression yields a list of JSON values: a path walks the envelope
 * (a "*" segment fans out over an array's elements or an object's
 * values), transforms (fmn_expr_xform.c) map the list.
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

void
xv_push(struct vals *vs, json_t *j)
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

void
xv_free(struct vals *vs)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		json_decref(vs->v[i]);
	free(vs->v);
	vs->v = NULL;
	vs->n = vs->cap = 0;
}

json_t *
xv_str(const char *s, size_t n)
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
const char *
xv_text(json_t *j, char *tmp, size_t tmpsz, size_t *len)
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

int
xv_truthy(json_t *j)
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

void
xv_walk(json_t *j, char *const *seg, size_t nseg, struct vals *out)
{
	size_t i;

	if (j == NULL)
		return;
	if (nseg == 0) {
		if (!json_is_null(j))
			xv_push(out, json_incref(j));
		return;
	}
	if (seg[0] == NULL) {
		if (json_is_array(j)) {
			for (i = 0; i < json_array_size(j); i++)
				xv_walk(json_array_get(j, i), seg + 1, nseg - 1,
				    out);
		} else if (json_is_object(j)) {
			const char *k;
			json_t *v;

			json_object_foreach(j, k, v)
				xv_walk(v, seg + 1, nseg - 1, out);
		}
		return;
	}
	if (json_is_object(j))
		xv_walk(json_object_get(j, seg[0]), seg + 1, nseg - 1, out);
	else if (json_is_array(j)) {
		char *end;
		long idx = strtol(seg[0], &end, 10);

		if (*end != '\0' || end == seg[0])
			return;
		if (idx < 0)
			idx += (long)json_array_size(j);
		if (idx >= 0)
			xv_walk(json_array_get(j, (size_t)idx), seg + 1,
			    nseg - 1, out);
	}
}

static void
eval_term(const struct term *t, struct fmn_eval *ev, struct vals *out,
    int depth)
{
	size_t i;

	switch (t->kind) {
	case T_PATH:
		xv_walk(ev->env, t->seg, t->nseg, out);
		break;
	case T_LIT:
		xv_push(out, xv_str(t->lit, strlen(t->lit)));
		break;
	case T_LET:
		expr_eval(t->let, ev, out, depth + 1);
		break;
	}
	for (i = 0; i < t->nxf; i++)
		expr_apply(&t->xf[i], ev, out);
}

void
expr_eval(const struct fmn_expr *e, struct fmn_eval *ev, struct vals *out,
    int depth)
{
	size_t i;

	/* Lets only refer to earlier lets, but stay safe anyway. */
	if (depth > 32)
		return;
	if (e->cases != NULL) {
		char *s = fmn_cases_eval(e->cases, ev);

		if (s != NULL)
			xv_push(out, xv_str(s, strlen(s)));
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
			xv_push(out, t.v[k]);
		t.n = 0;
		xv_free(&t);
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
	expr_eval(c->expr, ev, &vs, 0);
	for (i = 0; i < vs.n && !r; i++) {
		const char *s;

		if (c->kind == C_TRUTHY) {
			r = xv_truthy(vs.v[i]);
			continue;
		}
		if ((s = xv_text(vs.v[i], tmp, sizeof(tmp), &len)) == NULL)
			continue;
		if (c->kind == C_RE) {
			int m = expr_rx_match(c->re, s, len, 0);

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
	xv_free(&vs);
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
		expr_eval(t->parts[i].expr, ev, &vs, 0);
		if (vs.n == 0) {
			fmn_buf_free(&b);
			return NULL;
		}
		xv_join(&vs, ", ", NULL, &b);
		xv_free(&vs);
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
		expr_eval(item->expr, ev, &vs, 0);
		for (k = 0; k < vs.n; k++) {
			const char *s = xv_text(vs.v[k], tmp, sizeof(tmp), &len);
			const char *a;

			if (s == NULL || len == 0 || strlen(s) != len)
				continue;
			if (alias && (a = fmn_aliases_lookup(ev->aliases,
			    s)) != NULL)
				s = a;
			fmn_strset_add(out, s);
		}
		xv_free(&vs);
	}
}
