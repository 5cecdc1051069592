/*
 * The hash map (see fmn_hmap.h). Both kinds of key share the table, its
 * growth and its deletion; they differ only in how a key is hashed and
 * compared, which the callers of map_find pass in.
 */
#include "fmn_hmap.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_util.h"

/* A key being looked for: a string of len bytes, or an integer. */
struct probe {
	const char	*s;
	size_t		 len;
	long long	 i;
	int		 is_int;
};

static uint32_t
hash_str(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t k;

	for (k = 0; k < len; k++) {
		h ^= (unsigned char)s[k];
		h *= 16777619u;
	}
	return h;
}

/* splitmix64's finaliser: ids are sequential, spread them. */
static uint32_t
hash_int(long long key)
{
	uint64_t x = (uint64_t)key;

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (uint32_t)x ^ (uint32_t)(x >> 32);
}

static int
slot_is(const struct fmn_hmap_slot *sl, const struct probe *p, uint32_t h)
{
	if (sl->hash != h)
		return 0;
	if (p->is_int)
		return sl->key.i == p->i;
	return strncmp(sl->key.s, p->s, p->len) == 0 && sl->key.s[p->len] ==
	    '\0';
}

/* The slot holding the key, or the empty slot where it would go. */
static size_t
map_find(const struct fmn_hmap *m, const struct probe *p, uint32_t h)
{
	size_t mask = m->cap - 1, i = h & mask;

	while (m->v[i].used && !slot_is(&m->v[i], p, h))
		i = (i + 1) & mask;
	return i;
}

static void
map_grow(struct fmn_hmap *m)
{
	struct fmn_hmap_slot *old = m->v;
	size_t oldcap = m->cap, i, j, mask;

	m->cap = oldcap ? oldcap * 2 : 16;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	mask = m->cap - 1;
	for (i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		for (j = old[i].hash & mask; m->v[j].used; j = (j + 1) & mask)
			;
		m->v[j] = old[i];
	}
	free(old);
}

/* The slot of the key, made when absent (*made says so). */
static struct fmn_hmap_slot *
map_put(struct fmn_hmap *m, const struct probe *p, uint32_t h, int *made)
{
	size_t i;

	if ((m->n + 1) * 4 > m->cap * 3)
		map_grow(m);
	i = map_find(m, p, h);
	*made = !m->v[i].used;
	if (*made) {
		m->v[i].used = 1;
		m->v[i].hash = h;
		m->v[i].val = NULL;
		if (p->is_int)
			m->v[i].key.i = p->i;
		else {
			m->v[i].key.s = xstrndup(p->s, p->len);
			m->strings = 1;
		}
		m->n++;
	}
	return &m->v[i];
}

static void *
map_del(struct fmn_hmap *m, const struct probe *p, uint32_t h)
{
	size_t mask, i, j, home;
	void *val;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	i = map_find(m, p, h);
	if (!m->v[i].used)
		return NULL;
	val = m->v[i].val;
	if (!p->is_int)
		free(m->v[i].key.s);
	m->v[i].used = 0;
	m->n--;
	/* Shift later members of the probe run back into the hole. */
	for (j = (i + 1) & mask; m->v[j].used; j = (j + 1) & mask) {
		home = m->v[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->v[i] = m->v[j];
			m->v[j].used = 0;
			i = j;
		}
	}
	return val;
}

static void *
map_get(const struct fmn_hmap *m, const struct probe *p, uint32_t h)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	i = map_find(m, p, h);
	return m->v[i].used ? m->v[i].val : NULL;
}

/* The next used slot from *i on, or NULL. */
static const struct fmn_hmap_slot *
map_next(const struct fmn_hmap *m, size_t *i)
{
	for (; *i < m->cap; (*i)++)
		if (m->v[*i].used)
			return &m->v[(*i)++];
	return NULL;
}

void *
fmn_hmap_getn(const struct fmn_hmap *m, const char *key, size_t len)
{
	struct probe p = { key, len, 0, 0 };

	return map_get(m, &p, hash_str(key, len));
}

void *
fmn_hmap_get(const struct fmn_hmap *m, const char *key)
{
	return fmn_hmap_getn(m, key, strlen(key));
}

void **
fmn_hmap_put(struct fmn_hmap *m, const char *key)
{
	struct probe p = { key, strlen(key), 0, 0 };
	int made;

	return &map_put(m, &p, hash_str(key, p.len), &made)->val;
}

void *
fmn_hmap_set(struct fmn_hmap *m, const char *key, void *val)
{
	void **slot = fmn_hmap_put(m, key), *prev = *slot;

	*slot = val;
	return prev;
}

void
fmn_hmap_foreach(const struct fmn_hmap *m,
    void (*fn)(const char *key, void *val, void *arg), void *arg)
{
	const char *key;
	size_t i = 0;
	void *val;

	while (fmn_hmap_next(m, &i, &key, &val))
		fn(key, val, arg);
}

struct fmn_hmap *
fmn_hmap_new(void)
{
	return xcalloc(1, sizeof(struct fmn_hmap));
}

void
fmn_hmap_destroy(struct fmn_hmap **mp, void (*freeval)(void *))
{
	if (*mp == NULL)
		return;
	fmn_hmap_clear(*mp, freeval);
	free(*mp);
	*mp = NULL;
}

void *
fmn_hmap_del(struct fmn_hmap *m, const char *key)
{
	struct probe p = { key, strlen(key), 0, 0 };

	return map_del(m, &p, hash_str(key, p.len));
}

int
fmn_hmap_next(const struct fmn_hmap *m, size_t *i, const char **key,
    void **val)
{
	const struct fmn_hmap_slot *sl = map_next(m, i);

	if (sl == NULL)
		return 0;
	if (key != NULL)
		*key = sl->key.s;
	if (val != NULL)
		*val = sl->val;
	return 1;
}

void *
fmn_imap_get(const struct fmn_hmap *m, long long key)
{
	struct probe p = { NULL, 0, key, 1 };

	return map_get(m, &p, hash_int(key));
}

void *
fmn_imap_put(struct fmn_hmap *m, long long key, void *val)
{
	struct probe p = { NULL, 0, key, 1 };
	struct fmn_hmap_slot *sl;
	void *prev;
	int made;

	sl = map_put(m, &p, hash_int(key), &made);
	prev = made ? NULL : sl->val;
	sl->val = val;
	return prev;
}

void *
fmn_imap_del(struct fmn_hmap *m, long long key)
{
	struct probe p = { NULL, 0, key, 1 };

	return map_del(m, &p, hash_int(key));
}

int
fmn_imap_next(const struct fmn_hmap *m, size_t *i, long long *key,
    void **val)
{
	const struct fmn_hmap_slot *sl = map_next(m, i);

	if (sl == NULL)
		return 0;
	if (key != NULL)
		*key = sl->key.i;
	if (val != NULL)
		*val = sl->val;
	return 1;
}

void
fmn_hmap_clear(struct fmn_hmap *m, void (*freeval)(void *))
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		if (!m->v[i].used)
			continue;
		if (m->strings)
			free(m->v[i].key.s);
		if (freeval != NULL)
			freeval(m->v[i].val);
	}
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
	m->strings = 0;
}
