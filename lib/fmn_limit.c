/*
 * The failure limiter (fmn_limit.h): a fixed array searched linearly.
 * A thousand entries cost microseconds per look-up, which is nothing
 * beside the request that asks, and keeps the memory fixed whatever
 * arrives: no key can make the table grow.
 */
#include "fmn_limit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_util.h"

struct limit_entry {
	char		 key[FMN_LIMIT_KEY_MAX + 1];	/* "" when free */
	double		 first;		/* the first failure of the window */
	int		 count;		/* failures since first */
	double		 until;		/* blocked until then (0: not) */
	double		 seen;		/* last touched, for eviction */
};

struct fmn_limit {
	pthread_mutex_t		 lock;
	struct limit_entry	*v;
	size_t			 size;
	int			 limit;
	double			 window;
};

struct fmn_limit *
fmn_limit_new(size_t size, int limit, double window)
{
	struct fmn_limit *l = xcalloc(1, sizeof(*l));

	pthread_mutex_init(&l->lock, NULL);
	l->size = size > 0 ? size : 1;
	l->v = xcalloc(l->size, sizeof(*l->v));
	l->limit = limit > 0 ? limit : 1;
	l->window = window > 0 ? window : 1;
	return l;
}

void
fmn_limit_destroy(struct fmn_limit **lp)
{
	struct fmn_limit *l = *lp;

	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->v);
	free(l);
	*lp = NULL;
}

/* The entry of key, or NULL; with make, a fresh one in the oldest place. */
static struct limit_entry *
limit_find(struct fmn_limit *l, const char *key, int make)
{
	struct limit_entry *oldest = NULL, *e;
	size_t i, n = strlen(key);

	if (n > FMN_LIMIT_KEY_MAX)
		n = FMN_LIMIT_KEY_MAX;
	for (i = 0; i < l->size; i++) {
		e = &l->v[i];
		if (e->key[0] != '\0' && strncmp(e->key, key, n) == 0 &&
		    e->key[n] == '\0')
			return e;
		if (oldest == NULL || e->key[0] == '\0' ||
		    (oldest->key[0] != '\0' && e->seen < oldest->seen))
			oldest = e;
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->key, key, n);
	return oldest;
}

int
fmn_limit_blocked(struct fmn_limit *l, const char *key, double now,
    double *retry)
{
	struct limit_entry *e;
	int blocked = 0;

	if (*key == '\0')
		return 0;
	pthread_mutex_lock(&l->lock);
	if ((e = limit_find(l, key, 0)) != NULL && e->until > now) {
		blocked = 1;
		e->seen = now;	/* one who keeps trying stays in the table */
		if (retry != NULL)
			*retry = e->until - now;
	}
	pthread_mutex_unlock(&l->lock);
	return blocked;
}

int
fmn_limit_fail(struct fmn_limit *l, const char *key, double now)
{
	struct limit_entry *e;
	int blocks = 0;

	if (*key == '\0')
		return 0;
	pthread_mutex_lock(&l->lock);
	e = limit_find(l, key, 1);
	e->seen = now;
	if (e->count == 0 || now - e->first >= l->window) {
		e->first = now;
		e->count = 0;
	}
	if (++e->count >= l->limit) {
		blocks = e->until <= now;
		e->until = now + l->window;
		e->count = 0;
	}
	pthread_mutex_unlock(&l->lock);
	return blocks;
}

size_t
fmn_limit_count(struct fmn_limit *l)
{
	size_t i, n = 0;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->size; i++)
		n += l->v[i].key[0] != '\0';
	pthread_mutex_unlock(&l->lock);
	return n;
}
