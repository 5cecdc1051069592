/*
 * A string-keyed hash map with deletion and in-place value slots, for the
 * filter engine's indexes and the ownership tables (which change when one
 * user is recompiled). Keys are copied; values are the caller's.
 */
#ifndef FMN_HMAP_H
#define FMN_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct fmn_hmap_slot {
	char		*key;	/* NULL: empty slot */
	uint32_t	 hash;
	void		*val;
};

/* Embeddable; all-zero is an empty map. */
struct fmn_hmap {
	struct fmn_hmap_slot	*v;
	size_t			 n;	/* used slots */
	size_t			 cap;	/* a power of two, or 0 */
};

/* The value for key, or NULL. */
void *fmn_hmap_get(const struct fmn_hmap *m, const char *key);
/* The value slot for key, inserted (value NULL) when missing. */
void **fmn_hmap_put(struct fmn_hmap *m, const char *key);
/* Remove key; returns its value (NULL when absent). */
void *fmn_hmap_del(struct fmn_hmap *m, const char *key);
/* Free keys, and values with freeval when not NULL; the map is empty. */
void fmn_hmap_clear(struct fmn_hmap *m, void (*freeval)(void *));
/* Iterate: for (i = 0; fmn_hmap_next(m, &i, &k, &v); ) */
int fmn_hmap_next(const struct fmn_hmap *m, size_t *i, const char **key,
    void **val);

#endif
