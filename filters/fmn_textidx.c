/*
 * Literal texts found in subjects by their n-grams (fmn_textidx.h).
 * A subject of n bytes costs n probes of a counting filter per n-gram
 * length in use, and a hash map lookup only where the filter says an
 * n-gram may be filed; a literal is compared whole only where its n-gram
 * occurs, at most once per scan.
 */
#include "fmn_textidx.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_util.h"

struct litlist {
	struct fmn_textlit	**v;
	size_t			  n;
	size_t			  cap;
};

#define BLOOM_MIN_BITS	8
#define BLOOM_MAX_BITS	16

/* Does text (len bytes) contain lit (n bytes, n > 0)? */
static int
text_has(const char *text, size_t len, const char *lit, size_t n)
{
	const char *p = text, *end = text + len;

	while ((size_t)(end - p) >= n &&
	    (p = memchr(p, lit[0], (size_t)(end - p) - n + 1)) != NULL) {
		if (memcmp(p + 1, lit + 1, n - 1) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* An n-gram of 1 to 3 bytes as one integer, its length on top. */
static inline uint32_t
gram_key(const unsigned char *s, size_t n)
{
	uint32_t k = (uint32_t)n << 24;
	size_t i;

	for (i = 0; i < n; i++)
		k |= (uint32_t)s[i] << (8 * (n - 1 - i));
	return k;
}

static inline uint32_t
bloom_slot(uint32_t key, unsigned bits)
{
	return (key * 2654435761u) >> (32 - bits);
}

/* Bits of the filter that keep it sparse for n distinct n-grams. */
static unsigned
bloom_bits_for(size_t n)
{
	unsigned bits = BLOOM_MIN_BITS;

	while (bits < BLOOM_MAX_BITS && ((size_t)1 << bits) < n * 8)
		bits++;
	return bits;
}

static void
bloom_rebuild(struct fmn_textidx *tx, unsigned bits)
{
	long long k;
	size_t i;

	free(tx->bloom);
	tx->bloom_bits = bits;
	tx->bloom = xcalloc((size_t)1 << bits, sizeof(*tx->bloom));
	for (i = 0; fmn_imap_next(&tx->grams, &i, &k, NULL); )
		tx->bloom[bloom_slot((uint32_t)k, bits)]++;
}

/*
 * How common a byte is in the subjects (JSON bodies, dotted topics,
 * package names): an n-gram of rarer bytes is filed first, as it occurs
 * in fewer subjects.
 */
static int
byte_weight(unsigned char c)
{
	if (c != '\0' && strchr("\":,{}[] ", c) != NULL)
		return 8;
	if (c != '\0' && strchr(".-_/0123456789", c) != NULL)
		return 6;
	if (c != '\0' && strchr("etaoinsrhldcu", c) != NULL)
		return 5;
	if (c >= 'a' && c <= 'z')
		return 3;
	if (c >= 'A' && c <= 'Z')
		return 2;
	return 1;
}

/* What filing a literal under the 3-gram at s costs: lower is better. */
static long
gram_cost(const struct fmn_textidx *tx, const unsigned char *s)
{
	const struct litlist *gl = fmn_imap_get(&tx->grams, gram_key(s, 3));
	long cost = byte_weight(s[0]) + byte_weight(s[1]) + byte_weight(s[2]);

	if (gl != NULL)
		cost += 64 * (long)gl->n;
	if (tx->common != NULL && text_has(tx->common, strlen(tx->common),
	    (const char *)s, 3))
		cost += 1024;
	return cost;
}

/* The n-gram to file text under, and its cost. */
static uint32_t
gram_pick(const struct fmn_textidx *tx, const char *text, size_t len,
    long *cost)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t best = 0;
	long c, bc = 0;
	size_t i;

	if (len < 3) {
		/* A byte or two occur in most subjects. */
		*cost = 4096 - 1024 * (long)len;
		return gram_key(s, len);
	}
	for (i = 0; i + 3 <= len; i++) {
		c = gram_cost(tx, s + i);
		if (i == 0 || c < bc) {
			bc = c;
			best = gram_key(s + i, 3);
		}
	}
	*cost = bc;
	return best;
}

void
fmn_textidx_init(struct fmn_textidx *tx, const char *common)
{
	memset(tx, 0, sizeof(*tx));
	tx->common = common;
}

long
fmn_textidx_cost(const struct fmn_textidx *tx, const char *text, size_t len)
{
	long cost;

	gram_pick(tx, text, len, &cost);
	return cost;
}

struct fmn_textlit *
fmn_textidx_get(const struct fmn_textidx *tx, const char *text)
{
	return fmn_hmap_get(&tx->lits, text);
}

struct fmn_textlit *
fmn_textidx_put(struct fmn_textidx *tx, const char *text)
{
	struct fmn_textlit *lit = fmn_hmap_get(&tx->lits, text);
	struct litlist *gl;
	long cost;

	if (lit != NULL)
		return lit;
	lit = xcalloc(1, sizeof(*lit));
	lit->text = xstrdup(text);
	lit->len = strlen(text);
	lit->gram = gram_pick(tx, lit->text, lit->len, &cost);
	*fmn_hmap_put(&tx->lits, text) = lit;
	if ((gl = fmn_imap_get(&tx->grams, lit->gram)) == NULL) {
		gl = xcalloc(1, sizeof(*gl));
		fmn_imap_put(&tx->grams, lit->gram, gl);
		tx->nlen[lit->gram >> 24]++;
		if (tx->bloom == NULL ||
		    bloom_bits_for(tx->grams.n) > tx->bloom_bits)
			bloom_rebuild(tx, bloom_bits_for(tx->grams.n));
		else
			tx->bloom[bloom_slot(lit->gram, tx->bloom_bits)]++;
	}
	if (gl->n == gl->cap) {
		gl->cap = gl->cap ? gl->cap * 2 : 2;
		gl->v = xreallocarray(gl->v, gl->cap, sizeof(*gl->v));
	}
	gl->v[gl->n++] = lit;
	return lit;
}

void
fmn_textidx_del(struct fmn_textidx *tx, const char *text)
{
	struct fmn_textlit *lit = fmn_hmap_del(&tx->lits, text);
	struct litlist *gl;
	size_t i;

	if (lit == NULL)
		return;
	if ((gl = fmn_imap_get(&tx->grams, lit->gram)) != NULL) {
		for (i = 0; i < gl->n; i++) {
			if (gl->v[i] == lit) {
				gl->v[i] = gl->v[--gl->n];
				break;
			}
		}
		if (gl->n == 0) {
			fmn_imap_del(&tx->grams, lit->gram);
			tx->nlen[lit->gram >> 24]--;
			tx->bloom[bloom_slot(lit->gram, tx->bloom_bits)]--;
			free(gl->v);
			free(gl);
		}
	}
	free(lit->text);
	free(lit);
}

static void
litlist_free(void *p)
{
	struct litlist *gl = p;

	free(gl->v);
	free(gl);
}

void
fmn_textidx_clear(struct fmn_textidx *tx, void (*freeval)(void *))
{
	struct fmn_textlit *lit;
	const char *common = tx->common;
	size_t i;

	for (i = 0; fmn_hmap_next(&tx->lits, &i, NULL, (void **)&lit); ) {
		if (freeval != NULL)
			freeval(lit->val);
		free(lit->text);
		free(lit);
	}
	fmn_hmap_clear(&tx->lits, NULL);
	fmn_imap_clear(&tx->grams, litlist_free);
	free(tx->bloom);
	fmn_textidx_init(tx, common);
}

void
fmn_textidx_scan(struct fmn_textidx *tx, const char *subject, size_t len,
    void (*fn)(void *, struct fmn_textlit *), void *arg)
{
	const unsigned char *s = (const unsigned char *)subject;
	const unsigned bits = tx->bloom_bits;
	const struct litlist *gl;
	struct fmn_textlit *lit;
	unsigned long long scan;
	uint32_t key;
	size_t i, j, n;

	if (tx->grams.n == 0)
		return;
	scan = ++tx->scans;
	for (i = 0; i < len; i++) {
		for (n = 1; n <= 3 && i + n <= len; n++) {
			if (tx->nlen[n] == 0)
				continue;
			key = gram_key(s + i, n);
			if (tx->bloom[bloom_slot(key, bits)] == 0 ||
			    (gl = fmn_imap_get(&tx->grams, key)) == NULL)
				continue;
			for (j = 0; j < gl->n; j++) {
				lit = gl->v[j];
				if (lit->scan == scan)
					continue;
				lit->scan = scan;
				if (lit->len <= 3 || text_has(subject, len,
				    lit->text, lit->len))
					fn(arg, lit);
			}
		}
	}
}
