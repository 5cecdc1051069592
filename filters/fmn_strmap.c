/*
 * A string-keyed hash map with open addressing and linear probing,
 * FNV-1a hashed. No deletion: the maps here are built once and read
 * many times.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_strmap.h"
#include "fmn_util.h"

struct slot {
	char	*key;		/* NULL: empty slot */
	size_t	 klen;
	uint32_t hash;
	void	*value;
};

struct fmn_strmap {
	struct slot	*slots;
	size_t		 cap;	/* a power of two */
	size_t		 n;
};

static uint32_t
hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

struct fmn_strmap *
fmn_strmap_new(void)
{
	struct fmn_strmap *m = xcalloc(1, sizeof(*m));

	m->cap = 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	return m;
}

void
fmn_strmap_destroy(struct fmn_strmap **mp, void (*free_value)(void *))
{
	struct fmn_strmap *m = *mp;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++) {
		if (m->slots[i].key == NULL)
			continue;
		free(m->slots[i].key);
		if (free_value != NULL)
			free_value(m->slots[i].value);
	}
	free(m->slots);
	free(m);
	*mp = NULL;
}

static struct slot *
find(const struct fmn_strmap *m, const char *key, size_t n, uint32_t h)
{
	size_t i = h & (m->cap - 1);

	for (;;) {
		struct slot *s = &m->slots[i];

		if (s->key == NULL || (s->hash == h && s->klen == n &&
		    memcmp(s->key, key, n) == 0))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

static void
grow(struct fmn_strmap *m)
{
	struct slot *old = m->slots;
	size_t i, oldcap = m->cap;

	m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < oldcap; i++) {
		if (old[i].key != NULL)
			*find(m, old[i].key, old[i].klen, old[i].hash) = old[i];
	}
	free(old);
}

void *
fmn_strmap_put(struct fmn_strmap *m, const char *key, void *value)
{
	size_t n = strlen(key);
	uint32_t h = hash(key, n);
	struct slot *s;
	void *prev;

	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	s = find(m, key, n, h);
	if (s->key != NULL) {
		prev = s->value;
		s->value = value;
		return prev;
	}
	s->key = xstrndup(key, n);
	s->klen = n;
	s->hash = h;
	s->value = value;
	m->n++;
	return NULL;
}

void *
fmn_strmap_getn(const struct fmn_strmap *m, const char *key, size_t n)
{
	struct slot *s = find(m, key, n, hash(key, n));

	return s->key ? s->value : NULL;
}

void *
fmn_strmap_get(const struct fmn_strmap *m, const char *key)
{
	return fmn_strmap_getn(m, key, strlen(key));
}

size_t
fmn_strmap_count(const struct fmn_strmap *m)
{
	return m->n;
}

void
fmn_strmap_foreach(const struct fmn_strmap *m,
    void (*fn)(const char *key, void *value, void *arg), void *arg)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key != NULL)
			fn(m->slots[i].key, m->slots[i].value, arg);
}
