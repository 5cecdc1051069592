/*
 * String-keyed hash map: FNV-1a hashes, linear probing, backward-shift
 * deletion (no tombstones), load factor kept under 1/2.
 */
#include "fmn_hmap.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_util.h"

static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static size_t
find(const struct fmn_hmap *m, const char *key, uint32_t h)
{
	size_t mask = m->cap - 1, i = h & mask;

	while (m->v[i].key != NULL) {
		if (m->v[i].hash == h && strcmp(m->v[i].key, key) == 0)
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

void *
fmn_hmap_get(const struct fmn_hmap *m, const char *key)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	i = find(m, key, hash(key));
	return m->v[i].key != NULL ? m->v[i].val : NULL;
}

static void
grow(struct fmn_hmap *m)
{
	struct fmn_hmap_slot *old = m->v;
	size_t oldcap = m->cap, i, j, mask;

	m->cap = oldcap ? oldcap * 2 : 16;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	mask = m->cap - 1;
	for (i = 0; i < oldcap; i++) {
		if (old[i].key == NULL)
			continue;
		j = old[i].hash & mask;
		while (m->v[j].key != NULL)
			j = (j + 1) & mask;
		m->v[j] = old[i];
	}
	free(old);
}

void **
fmn_hmap_put(struct fmn_hmap *m, const char *key)
{
	uint32_t h = hash(key);
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	i = find(m, key, h);
	if (m->v[i].key == NULL) {
		m->v[i].key = xstrdup(key);
		m->v[i].hash = h;
		m->v[i].val = NULL;
		m->n++;
	}
	return &m->v[i].val;
}

void *
fmn_hmap_del(struct fmn_hmap *m, const char *key)
{
	size_t mask, i, j, home;
	void *val;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	i = find(m, key, hash(key));
	if (m->v[i].key == NULL)
		return NULL;
	val = m->v[i].val;
	free(m->v[i].key);
	m->v[i].key = NULL;
	m->n--;
	/* Shift later members of the probe run back into the hole. */
	for (j = (i + 1) & mask; m->v[j].key != NULL; j = (j + 1) & mask) {
		home = m->v[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->v[i] = m->v[j];
			m->v[j].key = NULL;
			i = j;
		}
	}
	return val;
}

void
fmn_hmap_clear(struct fmn_hmap *m, void (*freeval)(void *))
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		if (m->v[i].key == NULL)
			continue;
		free(m->v[i].key);
		if (freeval != NULL)
			freeval(m->v[i].val);
	}
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

int
fmn_hmap_next(const struct fmn_hmap *m, size_t *i, const char **key,
    void **val)
{
	for (; *i < m->cap; (*i)++) {
		if (m->v[*i].key == NULL)
			continue;
		if (key != NULL)
			*key = m->v[*i].key;
		if (val != NULL)
			*val = m->v[*i].val;
		(*i)++;
		return 1;
	}
	return 0;
}
