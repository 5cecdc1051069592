/*
 * A string-keyed hash map (open addressing) for the lookups the facts
 * engine makes per message: aliases, definition index, value tables.
 * Keys are copied; values are borrowed pointers the caller owns.
 */
#ifndef FMN_STRMAP_H
#define FMN_STRMAP_H

#include <stddef.h>

struct fmn_strmap;

struct fmn_strmap *fmn_strmap_new(void);
/* Frees the map and its keys; free_value, if not NULL, frees each value. */
void fmn_strmap_destroy(struct fmn_strmap **mp, void (*free_value)(void *));
/* Insert or replace; returns the previous value or NULL. */
void *fmn_strmap_put(struct fmn_strmap *m, const char *key, void *value);
void *fmn_strmap_get(const struct fmn_strmap *m, const char *key);
/* Same with a key that is not NUL-terminated. */
void *fmn_strmap_getn(const struct fmn_strmap *m, const char *key, size_t n);
size_t fmn_strmap_count(const struct fmn_strmap *m);
/* Call fn on every entry, in no particular order. */
void fmn_strmap_foreach(const struct fmn_strmap *m,
    void (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
