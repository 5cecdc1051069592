/*
 * A hash map from 64-bit integer ids (database row ids, delivery ids) to
 * pointers, for the daemon's per-destination and per-delivery state.
 * Open addressing with linear probing; deletion shifts entries back, so
 * no tombstones accumulate in a map that churns.
 */
#ifndef FMN_IMAP_H
#define FMN_IMAP_H

#include <stddef.h>

struct fmn_imap_slot {
	long long	 key;
	void		*val;	/* NULL: empty slot */
};

/* Embeddable; all-zero is an empty map. Values must not be NULL. */
struct fmn_imap {
	struct fmn_imap_slot	*v;
	size_t			 n;
	size_t			 cap;	/* a power of two, or 0 */
};

void *fmn_imap_get(const struct fmn_imap *m, long long key);
/* Insert or replace; returns the previous value or NULL. */
void *fmn_imap_put(struct fmn_imap *m, long long key, void *val);
/* Remove key; returns its value (NULL when absent). */
void *fmn_imap_del(struct fmn_imap *m, long long key);
/* Free values with freeval when not NULL; the map is empty. */
void fmn_imap_clear(struct fmn_imap *m, void (*freeval)(void *));
/*
 * Iterate: for (i = 0; fmn_imap_next(m, &i, &k, &v); ). Do not insert
 * or delete while iterating: collect the keys, then change the map.
 */
int fmn_imap_next(const struct fmn_imap *m, size_t *i, long long *key,
    void **val);

#endif
