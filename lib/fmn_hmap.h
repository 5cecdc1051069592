/*
 * The hash map every layer uses: open addressing, linear probing,
 * backward-shift deletion (no tombstones, so a map that churns stays
 * fast), load kept under 3/4. One map holds either string keys (copied
 * into the map, FNV-1a hashed) or 64-bit integer keys (database and
 * delivery ids, spread by a splitmix64 finaliser): the fmn_hmap_*
 * functions are the string side, fmn_imap_* the integer side. Never mix
 * them in one map.
 */
#ifndef FMN_HMAP_H
#define FMN_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct fmn_hmap_slot {
	union {
		char		*s;	/* string maps: the map's copy */
		long long	 i;
	}		 key;
	void		*val;
	uint32_t	 hash;
	uint32_t	 used;
};

/* Embeddable; all-zero is an empty map. */
struct fmn_hmap {
	struct fmn_hmap_slot	*v;
	size_t			 n;	/* entries */
	size_t			 cap;	/* a power of two, or 0 */
	int			 strings;	/* keys are strings, the map's */
};

/* A map of its own on the heap, and its end (values freed by freeval). */
struct fmn_hmap *fmn_hmap_new(void);
void fmn_hmap_destroy(struct fmn_hmap **mp, void (*freeval)(void *));

/* String keys. */
void *fmn_hmap_get(const struct fmn_hmap *m, const char *key);
/* The same for the len bytes at key (not NUL-terminated). */
void *fmn_hmap_getn(const struct fmn_hmap *m, const char *key, size_t len);
/* The value's slot for key, made (NULL) when absent. */
void **fmn_hmap_put(struct fmn_hmap *m, const char *key);
/* Insert or replace; returns the previous value or NULL. */
void *fmn_hmap_set(struct fmn_hmap *m, const char *key, void *val);
/* Remove key; returns its value (NULL when absent). */
void *fmn_hmap_del(struct fmn_hmap *m, const char *key);
/* Call fn on every entry (in no particular order). */
void fmn_hmap_foreach(const struct fmn_hmap *m,
    void (*fn)(const char *key, void *val, void *arg), void *arg);
/*
 * Iterate: for (i = 0; fmn_hmap_next(m, &i, &k, &v); ). Do not insert
 * or delete while iterating: collect the keys, then change the map.
 */
int fmn_hmap_next(const struct fmn_hmap *m, size_t *i, const char **key,
    void **val);

/* Integer keys; values must not be NULL (NULL is "absent"). */
void *fmn_imap_get(const struct fmn_hmap *m, long long key);
/* Insert or replace; returns the previous value or NULL. */
void *fmn_imap_put(struct fmn_hmap *m, long long key, void *val);
void *fmn_imap_del(struct fmn_hmap *m, long long key);
int fmn_imap_next(const struct fmn_hmap *m, size_t *i, long long *key,
    void **val);

/* Either kind: free values with freeval when not NULL; the map is empty. */
void fmn_hmap_clear(struct fmn_hmap *m, void (*freeval)(void *));
#define fmn_imap_clear(m, freeval)	fmn_hmap_clear((m), (freeval))

#endif
