/*
 * Failures counted per key (a client's address) in bounded memory:
 * after `limit` failures within `window` seconds of the first, the key
 * is blocked for `window` seconds. The table holds at most `size` keys;
 * a new key takes the place of the one seen least recently. Safe to
 * call from several threads.
 */
#ifndef FMN_LIMIT_H
#define FMN_LIMIT_H

#include <stddef.h>

#define FMN_LIMIT_KEY_MAX	64	/* longer keys are cut */

struct fmn_limit;

/* size >= 1 keys, limit >= 1 failures, window > 0 seconds. */
struct fmn_limit *fmn_limit_new(size_t size, int limit, double window);
void fmn_limit_destroy(struct fmn_limit **lp);
/*
 * Is key blocked at time now? When it is, *retry (if not NULL) is the
 * number of seconds until it is not.
 */
int fmn_limit_blocked(struct fmn_limit *l, const char *key, double now,
    double *retry);
/* Count a failure of key at time now; 1 when this one blocks it. */
int fmn_limit_fail(struct fmn_limit *l, const char *key, double now);
/* The keys held now (for tests: never more than size). */
size_t fmn_limit_count(struct fmn_limit *l);

#endif
