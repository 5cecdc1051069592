/*
 * Literal texts found in subjects by their n-grams: how the filter
 * engine finds the regexes whose required text (fmn_literal.h) a topic,
 * a package, a field or a body contains (docs/filters.md, "Literals").
 * Each literal is filed under one of its n-grams (1 to 3 bytes), the one
 * least likely to occur by a guess of byte frequencies and by how many
 * literals share it already; a subject is scanned for the n-grams filed,
 * and a literal whose n-gram occurs is then looked for whole.
 */
#ifndef FMN_TEXTIDX_H
#define FMN_TEXTIDX_H

#include <stddef.h>
#include <stdint.h>

#include "fmn_hmap.h"

/* A literal, and what its owner files under it. */
struct fmn_textlit {
	char			*text;
	size_t			 len;
	uint32_t		 gram;	/* the n-gram it is filed under */
	unsigned long long	 scan;	/* the scan that last looked for it */
	void			*val;	/* the caller's */
};

/* Embeddable; fmn_textidx_init before use. */
struct fmn_textidx {
	struct fmn_hmap		 lits;	/* text -> struct fmn_textlit */
	struct fmn_hmap		 grams;	/* n-gram -> its literals */
	size_t			 nlen[4];	/* n-grams filed, by length */
	/* Filed n-grams counted by hash: a cheap "no" before the map. */
	uint16_t		*bloom;
	unsigned		 bloom_bits;
	/* Text most subjects contain: its n-grams are filed last. */
	const char		*common;
	unsigned long long	 scans;
};

/* An empty index; common (static, or NULL) as above. */
void fmn_textidx_init(struct fmn_textidx *tx, const char *common);
/* Empty it, freeing each literal's val with freeval (when not NULL). */
void fmn_textidx_clear(struct fmn_textidx *tx, void (*freeval)(void *));
/* The literal text (not empty), made with a NULL val when absent. */
struct fmn_textlit *fmn_textidx_put(struct fmn_textidx *tx, const char *text);
struct fmn_textlit *fmn_textidx_get(const struct fmn_textidx *tx,
    const char *text);
/* Forget a literal; its val is the caller's to free. */
void fmn_textidx_del(struct fmn_textidx *tx, const char *text);
/* How well text (len bytes) would be found: lower is better. */
long fmn_textidx_cost(const struct fmn_textidx *tx, const char *text,
    size_t len);
/* Call fn(arg, lit) once for each literal that subject contains. */
void fmn_textidx_scan(struct fmn_textidx *tx, const char *subject,
    size_t len, void (*fn)(void *arg, struct fmn_textlit *lit), void *arg);

#endif
