/*
 * fedmsg's canonical form (see fmn_canon.h): Python's json.dumps with
 * sorted keys, compact separators and ASCII escapes, written from a
 * jansson value.
 *
 * Two things a jansson value does not say are handled here. A float is
 * written as Python's repr writes it: the shortest decimal that reads
 * back as the same double, found by trying 1 to 17 significant digits
 * with the C library's correctly rounded conversions. And an envelope
 * with an integer past 64 bits was parsed with every number as a double
 * (fmn_msg_load_json); such an envelope is parsed again here from its
 * text, each big integer carried as a marked string, so that every
 * integer is written with its own digits.
 */
#include "fmn_canon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_utf8.h"

/* The smallest magnitude of an integer jansson cannot hold (2^63). */
#define CANON_BIG	9223372036854775808.0

/* An object's member, to sort. */
struct canon_kv {
	const char	*key;
	size_t		 len;
	json_t		*val;
};

struct canon {
	struct fmn_buf	*out;
	int		 bigints;	/* strings "\0DIGITS" are integers */
	int		 suspect;	/* a real >= 2^63 was written */
	struct canon_kv	*kv;		/* members of the objects being written */
	size_t		 nkv;
	size_t		 kvcap;
};

/* Does M x 10^x read back as a? */
static int
real_reads_back(long long m, int x, double a)
{
	char s[48];

	snprintf(s, sizeof(s), "%llde%d", m, x);
	return strtod(s, NULL) == a;
}

/*
 * A decimal of prec significant digits that reads back as a, in *m and
 * *x (M x 10^x), or 0. The correctly rounded one is the nearest; where
 * it does not read back a neighbour may (the gap below a power of two
 * is half the one above), and that is Python's choice. Whether one
 * exists only grows with prec: every shorter decimal is a longer one.
 */
static int
real_digits(double a, int prec, long long *m, int *x)
{
	char tmp[48], *q;
	long long v = 0;
	int e;

	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, a);
	for (q = tmp; *q != 'e'; q++)
		if (*q != '.')
			v = v * 10 + (*q - '0');
	e = atoi(q + 1);
	*x = e - (prec - 1);
	if (real_reads_back(v, *x, a))
		*m = v;
	else if (prec < 17 && real_reads_back(v + 1, *x, a))
		*m = v + 1;
	else if (prec < 17 && v > 1 && real_reads_back(v - 1, *x, a))
		*m = v - 1;
	else
		return 0;
	return 1;
}

int
fmn_canon_real(double d, char buf[FMN_CANON_REAL_MAX])
{
	char digits[24], *p = buf;
	double a = fabs(d);
	long long found = 0, m;
	int lo, hi, mid, x = 0, mx, n, decpt, i;

	if (!isfinite(d))
		return -1;
	if (d == 0)
		return snprintf(buf, FMN_CANON_REAL_MAX, "%s",
		    signbit(d) ? "-0.0" : "0.0");
	if (a < 9007199254740992.0 && a == trunc(a)) {
		/* Below 2^53 an integral double's digits are its integer's. */
		found = (long long)a;
		x = 0;
	} else {
		/* The fewest digits that read back: 17 always do. */
		lo = 1;
		hi = 17;
		while (lo < hi) {
			mid = (lo + hi) / 2;
			if (real_digits(a, mid, &m, &mx)) {
				hi = mid;
				found = m;
				x = mx;
			} else
				lo = mid + 1;
		}
		if (hi == 17)
			real_digits(a, 17, &found, &x);
	}
	n = snprintf(digits, sizeof(digits), "%lld", found);
	while (n > 1 && digits[n - 1] == '0') {
		digits[--n] = '\0';
		x++;
	}
	decpt = n + x;
	if (d < 0)
		*p++ = '-';
	if (decpt > 16 || decpt < -3) {
		*p++ = digits[0];
		if (n > 1) {
			*p++ = '.';
			memcpy(p, digits + 1, (size_t)n - 1);
			p += n - 1;
		}
		p += sprintf(p, "e%c%02d", decpt - 1 < 0 ? '-' : '+',
		    abs(decpt - 1));
	} else if (decpt <= 0) {
		*p++ = '0';
		*p++ = '.';
		for (i = 0; i < -decpt; i++)
			*p++ = '0';
		memcpy(p, digits, (size_t)n);
		p += n;
	} else if (decpt >= n) {
		memcpy(p, digits, (size_t)n);
		p += n;
		for (i = n; i < decpt; i++)
			*p++ = '0';
		*p++ = '.';
		*p++ = '0';
	} else {
		memcpy(p, digits, (size_t)decpt);
		p += decpt;
		*p++ = '.';
		memcpy(p, digits + decpt, (size_t)(n - decpt));
		p += n - decpt;
	}
	*p = '\0';
	return (int)(p - buf);
}

/* A JSON string as ensure_ascii writes it. */
static int
canon_string(struct fmn_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run, k;
	uint32_t cp;
	char esc[12];

	fmn_buf_addc(b, '"');
	while (i < n) {
		for (run = i; run < n && (unsigned char)s[run] >= 0x20 &&
		    (unsigned char)s[run] < 0x7f && s[run] != '"' &&
		    s[run] != '\\'; run++)
			;
		if (run > i) {
			fmn_buf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		if ((k = fmn_utf8_decode(s + i, n - i, &cp)) == 0)
			return -1;
		i += k;
		switch (cp) {
		case '"': fmn_buf_adds(b, "\\\""); continue;
		case '\\': fmn_buf_adds(b, "\\\\"); continue;
		case '\b': fmn_buf_adds(b, "\\b"); continue;
		case '\f': fmn_buf_adds(b, "\\f"); continue;
		case '\n': fmn_buf_adds(b, "\\n"); continue;
		case '\r': fmn_buf_adds(b, "\\r"); continue;
		case '\t': fmn_buf_adds(b, "\\t"); continue;
		default: break;
		}
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000, hi = 0xd800 | (v >> 10),
			    lo = 0xdc00 | (v & 0x3ff);

			memcpy(esc, "\\u0000\\u0000", 12);
			for (k = 0; k < 4; k++) {
				esc[5 - k] = hex[(hi >> (4 * k)) & 0xf];
				esc[11 - k] = hex[(lo >> (4 * k)) & 0xf];
			}
			fmn_buf_add(b, esc, 12);
		} else {
			memcpy(esc, "\\u0000", 6);
			for (k = 0; k < 4; k++)
				esc[5 - k] = hex[(cp >> (4 * k)) & 0xf];
			fmn_buf_add(b, esc, 6);
		}
	}
	fmn_buf_addc(b, '"');
	return 0;
}

static int
kv_cmp(const void *a, const void *b)
{
	const struct canon_kv *x = a, *y = b;

	/* Keys hold no NUL: byte order, which is code point order. */
	return strcmp(x->key, y->key);
}

/*
 * The members of o, sorted by key, pushed on c's stack of members: they
 * are c->kv[base .. base + n), base returned; c->nkv is popped back to
 * base by the caller. (Indices, not pointers: the stack may move.)
 */
static size_t
canon_members(struct canon *c, const json_t *o, size_t *np)
{
	size_t base = c->nkv, n = json_object_size(o);
	const char *k;
	json_t *v;
	void *it;

	if (base + n > c->kvcap) {
		c->kvcap = (base + n) * 2 + 16;
		c->kv = xreallocarray(c->kv, c->kvcap, sizeof(*c->kv));
	}
	n = 0;
	for (it = json_object_iter((json_t *)o); it != NULL;
	    it = json_object_iter_next((json_t *)o, it)) {
		k = json_object_iter_key(it);
		v = json_object_iter_value(it);
		c->kv[base + n].key = k;
		c->kv[base + n].len = json_object_iter_key_len(it);
		c->kv[base + n].val = v;
		n++;
	}
	if (n > 1)
		qsort(c->kv + base, n, sizeof(*c->kv), kv_cmp);
	c->nkv = base + n;
	*np = n;
	return base;
}

static int canon_value(struct canon *c, const json_t *v);

static int
canon_object(struct canon *c, const json_t *o)
{
	size_t i, n, base = canon_members(c, o, &n);
	int rc = 0;

	fmn_buf_addc(c->out, '{');
	for (i = 0; i < n && rc == 0; i++) {
		if (i > 0)
			fmn_buf_addc(c->out, ',');
		if ((rc = canon_string(c->out, c->kv[base + i].key,
		    c->kv[base + i].len)) == 0) {
			fmn_buf_addc(c->out, ':');
			rc = canon_value(c, c->kv[base + i].val);
		}
	}
	fmn_buf_addc(c->out, '}');
	c->nkv = base;
	return rc;
}

/* An integer in decimal, without printf. */
static void
canon_int(struct fmn_buf *b, json_int_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	fmn_buf_add(b, p, (size_t)(buf + sizeof(buf) - p));
}

static int
canon_value(struct canon *c, const json_t *v)
{
	char num[FMN_CANON_REAL_MAX];
	size_t i;
	int n;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return canon_object(c, v);
	case JSON_ARRAY:
		fmn_buf_addc(c->out, '[');
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				fmn_buf_addc(c->out, ',');
			if (canon_value(c, json_array_get(v, i)) != 0)
				return -1;
		}
		fmn_buf_addc(c->out, ']');
		return 0;
	case JSON_STRING:
		if (c->bigints && json_string_length(v) > 1 &&
		    json_string_value(v)[0] == '\0') {
			fmn_buf_adds(c->out, json_string_value(v) + 1);
			return 0;
		}
		return canon_string(c->out, json_string_value(v),
		    json_string_length(v));
	case JSON_INTEGER:
		canon_int(c->out, json_integer_value(v));
		return 0;
	case JSON_REAL:
		if ((n = fmn_canon_real(json_real_value(v), num)) < 0)
			return -1;
		if (fabs(json_real_value(v)) >= CANON_BIG)
			c->suspect = 1;
		fmn_buf_add(c->out, num, (size_t)n);
		return 0;
	case JSON_TRUE:
		fmn_buf_adds(c->out, "true");
		return 0;
	case JSON_FALSE:
		fmn_buf_adds(c->out, "false");
		return 0;
	case JSON_NULL:
		fmn_buf_adds(c->out, "null");
		return 0;
	}
	return -1;
}

int
fmn_canon_dump(const json_t *v, struct fmn_buf *out)
{
	struct canon c = { out, 0, 0, NULL, 0, 0 };
	int rc = canon_value(&c, v);

	free(c.kv);
	return rc;
}

/* Python's truth of a JSON value: null, false, 0, "", [] and {} are false. */
static int
canon_truthy(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return json_object_size(v) > 0;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0;
	case JSON_TRUE: return 1;
	default: return 0;
	}
}

/* int(t) of a float timestamp, as Python writes the integer. */
static void
canon_trunc(struct fmn_buf *b, double t)
{
	t = trunc(t);
	/* glibc prints a double's exact value; -0 is 0 to Python's int(). */
	fmn_buf_printf(b, "%.0f", t == 0 ? 0.0 : t);
}

static int
canon_top(struct canon *c, const json_t *env)
{
	size_t i, n, base;
	int fix, first = 1, rc = 0;

	fix = json_object_get(env, "source_name") != NULL &&
	    json_object_get(env, "source_version") != NULL;
	base = canon_members(c, env, &n);
	fmn_buf_addc(c->out, '{');
	for (i = 0; i < n && rc == 0; i++) {
		const char *k = c->kv[base + i].key;
		const json_t *v = c->kv[base + i].val;

		if (strcmp(k, "signature") == 0 ||
		    strcmp(k, "certificate") == 0)
			continue;
		if (fix && (strcmp(k, "source_name") == 0 ||
		    strcmp(k, "source_version") == 0 ||
		    (strcmp(k, "headers") == 0 && !canon_truthy(v))))
			continue;
		if (!first)
			fmn_buf_addc(c->out, ',');
		first = 0;
		if ((rc = canon_string(c->out, k, c->kv[base + i].len)) != 0)
			break;
		fmn_buf_addc(c->out, ':');
		if (fix && json_is_real(v) && strcmp(k, "timestamp") == 0) {
			if (!isfinite(json_real_value(v)))
				rc = -1;
			else
				canon_trunc(c->out, json_real_value(v));
		} else
			rc = canon_value(c, v);
	}
	fmn_buf_addc(c->out, '}');
	c->nkv = base;
	return rc;
}

/*
 * The text with every integer past 64 bits made a string "\u0000DIGITS",
 * so that jansson keeps its digits; NULL when there is none, or when
 * the text has a "\u0000" of its own (a marker could not be told from
 * it; jansson refuses those anyway).
 */
static char *
canon_mark_bigints(const char *raw, size_t len)
{
	struct fmn_buf b;
	size_t i = 0, start, nd;
	int instr = 0, marked = 0;

	fmn_buf_init(&b);
	while (i < len) {
		char ch = raw[i];

		if (instr) {
			if (ch == '\\' && i + 1 < len) {
				if (raw[i + 1] == 'u' && i + 5 < len &&
				    strncmp(raw + i + 2, "0000", 4) == 0)
					goto none;
				fmn_buf_add(&b, raw + i, 2);
				i += 2;
				continue;
			}
			if (ch == '"')
				instr = 0;
			fmn_buf_addc(&b, ch);
			i++;
			continue;
		}
		if (ch == '"') {
			instr = 1;
			fmn_buf_addc(&b, ch);
			i++;
			continue;
		}
		if (ch != '-' && (ch < '0' || ch > '9')) {
			fmn_buf_addc(&b, ch);
			i++;
			continue;
		}
		/* A number: [-]DIGITS[.DIGITS][e[+-]DIGITS]. */
		start = i;
		if (ch == '-')
			i++;
		for (nd = 0; i < len && raw[i] >= '0' && raw[i] <= '9'; i++)
			nd++;
		if (i < len && (raw[i] == '.' || raw[i] == 'e' ||
		    raw[i] == 'E')) {
			while (i < len && (raw[i] == '.' || raw[i] == 'e' ||
			    raw[i] == 'E' || raw[i] == '+' || raw[i] == '-' ||
			    (raw[i] >= '0' && raw[i] <= '9')))
				i++;
			fmn_buf_add(&b, raw + start, i - start);
			continue;
		}
		if (nd > 19 || (nd == 19 && strncmp(raw + i - 19,
		    ch == '-' ? "9223372036854775808" :
		    "9223372036854775807", 19) > 0)) {
			fmn_buf_adds(&b, "\"\\u0000");
			fmn_buf_add(&b, raw + start, i - start);
			fmn_buf_addc(&b, '"');
			marked = 1;
		} else
			fmn_buf_add(&b, raw + start, i - start);
	}
	if (marked)
		return fmn_buf_steal(&b);
none:
	fmn_buf_free(&b);
	return NULL;
}

int
fmn_canon_envelope(const json_t *env, const char *raw, size_t rawlen,
    struct fmn_buf *out, char **cause)
{
	struct canon c = { out, 0, 0, NULL, 0, 0 };
	char *marked;
	json_t *exact;
	int rc = 0;

	fmn_buf_reset(out);
	if (!json_is_object(env)) {
		fmn_set_cause(cause, "the envelope is not a JSON object");
		return -1;
	}
	if (canon_top(&c, env) != 0)
		goto bad;
	/* Only a number past 2^63 says the text may have had big integers. */
	if (!c.suspect || raw == NULL ||
	    (marked = canon_mark_bigints(raw, rawlen)) == NULL)
		goto out;
	exact = json_loads(marked, JSON_ALLOW_NUL, NULL);
	free(marked);
	if (json_is_object(exact)) {
		fmn_buf_reset(out);
		c.bigints = 1;
		rc = canon_top(&c, exact);
	}
	json_decref(exact);
	if (rc != 0)
		goto bad;
out:
	free(c.kv);
	return 0;
bad:
	free(c.kv);
	fmn_set_cause(cause, "the envelope holds a value JSON cannot carry");
	return -1;
}
