/*
 * The definitions language's transforms ("|lower", "|re:...", "|map:...",
 * ...), each applied to a whole list of values.
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
			xv_push(out, xv_str(s + i + 1, j - i - 1));
		i = j - 1 > i ? j - 1 : i;
	}
}

static int
cmp_text(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	char t1[64], t2[64];
	size_t l1, l2;
	const char *s1 = xv_text(x, t1, sizeof(t1), &l1);
	const char *s2 = xv_text(y, t2, sizeof(t2), &l2);

	return strcmp(s1 ? s1 : "", s2 ? s2 : "");
}

void
xv_join(struct vals *in, const char *sep, const char *last,
    struct fmn_buf *b)
{
	char tmp[64];
	size_t i, len;

	for (i = 0; i < in->n; i++) {
		const char *s = xv_text(in->v[i], tmp, sizeof(tmp), &len);
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

/* Apply one transform to the whole list. */
void
expr_apply(const struct xform *x, struct fmn_eval *ev, struct vals *vs)
{
	struct vals out = { NULL, 0, 0 };
	struct fmn_buf b;
	char tmp[64];
	size_t i, k, len;
	const char *s;

	switch (x->op) {
	case X_COUNT:
		xv_push(&out, json_integer((json_int_t)vs->n));
		goto done;
	case X_NOT: {
		int t = 0;

		for (i = 0; i < vs->n && !t; i++)
			t = xv_truthy(vs->v[i]);
		if (!t)
			xv_push(&out, json_true());
		goto done;
	}
	case X_FIRST:
	case X_LAST:
		if (vs->n > 0)
			xv_push(&out, json_incref(vs->v[x->op == X_FIRST ?
			    0 : vs->n - 1]));
		goto done;
	case X_DEFAULT:
		if (vs->n == 0) {
			xv_push(&out, xv_str(x->args[0], strlen(x->args[0])));
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
				xv_push(&out, json_incref(vs->v[i]));
		}
		goto done;
	case X_JOIN:
	case X_AND:
		if (vs->n == 0)
			return;
		fmn_buf_init(&b);
		if (x->op == X_JOIN)
			xv_join(vs, x->nargs ? x->args[0] : ", ", NULL, &b);
		else
			/* "and:," gives the Oxford comma: a, b, and c. */
			xv_join(vs, ", ", x->nargs && vs->n > 2 ? ", and " :
			    " and ", &b);
		xv_push(&out, xv_str(b.data ? b.data : "", b.len));
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
				xv_push(&u, json_incref(vs->v[i]));
		fmn_buf_init(&b);
		if (u.n == 0)
			fmn_buf_adds(&b, "(nothing)");
		else if (u.n > (size_t)lim) {
			size_t more = u.n - (size_t)lim + 1;

			while (u.n > (size_t)lim - 1)
				json_decref(u.v[--u.n]);
			xv_join(&u, ", ", NULL, &b);
			fmn_buf_printf(&b, ", and %zu others", more);
		} else
			xv_join(&u, ", ", u.n > 2 ? ", and " : " and ", &b);
		xv_free(&u);
		xv_push(&out, xv_str(b.data, b.len));
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

			xv_push(&out, xv_str(w, strlen(w)));
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
					xv_push(&out, xv_str(key, strlen(key)));
			continue;
		}
		if (x->op == X_GET) {
			json_t *v = json_is_object(j) ?
			    json_object_get(j, x->args[0]) : NULL;

			if (v != NULL && !json_is_null(v))
				xv_push(&out, json_incref(v));
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
			} else if ((t = xv_text(v, tmp, sizeof(tmp),
			    &len)) == NULL)
				continue;
			for (k = 1; k < x->nargs; k++)
				if (strlen(x->args[k]) == len &&
				    strncasecmp(x->args[k], t, len) == 0)
					break;
			if ((k < x->nargs) == (x->op == X_WHERE))
				xv_push(&out, json_incref(j));
			continue;
		}
		if (x->op == X_LOOKUP) {
			/* Like Python's d.get(v, v). */
			struct vals obj = { NULL, 0, 0 };
			json_t *v = NULL;

			xv_walk(ev->env, x->path, x->npath, &obj);
			if ((s = xv_text(j, tmp, sizeof(tmp), &len)) != NULL &&
			    obj.n == 1 && json_is_object(obj.v[0]) &&
			    strlen(s) == len)
				v = json_object_get(obj.v[0], s);
			xv_push(&out, json_incref(v != NULL &&
			    !json_is_null(v) ? v : j));
			xv_free(&obj);
			continue;
		}
		if (x->op == X_STRING) {
			if (json_is_string(j))
				xv_push(&out, json_incref(j));
			continue;
		}
		if (x->op == X_JSON) {
			char *d = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

			if (d != NULL)
				xv_push(&out, xv_str(d, strlen(d)));
			free(d);
			continue;
		}
		if ((s = xv_text(j, tmp, sizeof(tmp), &len)) == NULL)
			continue;
		switch (x->op) {
		case X_LOWER:
		case X_UPPER: {
			char *c = xstrndup(s, len);

			for (k = 0; k < len; k++)
				c[k] = (char)(x->op == X_LOWER ?
				    tolower((unsigned char)c[k]) :
				    toupper((unsigned char)c[k]));
			xv_push(&out, xv_str(c, len));
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
			xv_push(&out, xv_str(c, len));
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
			xv_push(&out, xv_str(s, len));
			break;
		case X_FIRSTLINE: {
			const char *nl = memchr(s, '\n', len);

			if (nl != NULL)
				len = (size_t)(nl - s);
			if (len > 0 && s[len - 1] == '\r')
				len--;
			xv_push(&out, xv_str(s, len));
			break;
		}
		case X_BASENAME:
			while (len > 0 && s[len - 1] == '/')
				len--;
			for (k = len; k > 0 && s[k - 1] != '/'; k--)
				;
			xv_push(&out, xv_str(s + k, len - k));
			break;
		case X_NVR:
		case X_NV:
			xv_push(&out, xv_str(s, strip_dashes(s, len,
			    x->op == X_NVR ? 2 : 1)));
			break;
		case X_PREFIX:
		case X_SUFFIX: {
			char *c = x->op == X_PREFIX ?
			    xasprintf("%s%.*s", x->args[0], (int)len, s) :
			    xasprintf("%.*s%s", (int)len, s, x->args[0]);

			xv_push(&out, xv_str(c, strlen(c)));
			free(c);
			break;
		}
		case X_ZPAD:
			if (len < (size_t)x->num) {
				char *c = xmalloc((size_t)x->num + 1);

				memset(c, '0', (size_t)x->num - len);
				memcpy(c + x->num - len, s, len);
				xv_push(&out, xv_str(c, (size_t)x->num));
				free(c);
			} else
				xv_push(&out, xv_str(s, len));
			break;
		case X_TRUNC:
			if (fmn_utf8_chars(s, len) > (size_t)x->num) {
				const char *ell = x->nargs > 1 ? x->args[1] :
				    "...";
				size_t cut = fmn_utf8_prefix(s, len,
				    (size_t)x->num);
				char *c = xasprintf("%.*s%s", (int)cut, s, ell);

				xv_push(&out, xv_str(c, strlen(c)));
				free(c);
			} else
				xv_push(&out, xv_str(s, len));
			break;
		case X_ALIAS:
		case X_EMAIL: {
			char *c = xstrndup(s, len);
			const char *a = fmn_aliases_lookup(ev->aliases, c);
			const char *at = strrchr(c, '@');

			if (a != NULL)
				xv_push(&out, xv_str(a, strlen(a)));
			else if (x->op == X_EMAIL && at != NULL &&
			    strcmp(at, "@fedoraproject.org") == 0)
				xv_push(&out, xv_str(c, (size_t)(at - c)));
			else
				xv_push(&out, xv_str(s, len));
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
							xv_push(&out,
							    xv_str(s + st, k - st));
						st = k + 1;
					}
				}
				break;
			}
			for (k = 0; k + seplen <= len;) {
				if (memcmp(s + k, sep, seplen) == 0) {
					xv_push(&out, xv_str(s + st, k - st));
					k += seplen;
					st = k;
				} else
					k++;
			}
			xv_push(&out, xv_str(s + st, len - st));
			break;
		}
		case X_RE:
		case X_REALL: {
			size_t start = 0;

			for (;;) {
				int rc = expr_rx_match(x->re, s, len, start);
				PCRE2_SIZE *ov;

				if (rc == -1)
					ev->errors++;
				if (rc != 1)
					break;
				ov = pcre2_get_ovector_pointer(x->re->md);
				k = pcre2_get_ovector_count(x->re->md) > 1 &&
				    ov[2] != PCRE2_UNSET ? 1 : 0;
				xv_push(&out, xv_str(s + ov[2 * k],
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
				xv_push(&out, xv_str((char *)o, outlen));
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
				xv_push(&out, xv_str(m, strlen(m)));
			break;
		}
		case X_DROP:
			for (k = 0; k < x->nargs; k++)
				if (strlen(x->args[k]) == len &&
				    memcmp(x->args[k], s, len) == 0)
					break;
			if (k == x->nargs)
				xv_push(&out, json_incref(j));
			break;
		default:
			break;
		}
	}
done:
	xv_free(vs);
	*vs = out;
}
