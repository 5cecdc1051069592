/*
 * Integer-keyed hash map: open addressing, linear probing, backward
 * shift deletion.
 */
#include "fmn_imap.h"

#include <stdint.h>
#include <stdlib.h>

#include "fmn_util.h"

static size_t
imap_hash(long long key, size_t cap)
{
	uint64_t x = (uint64_t)key;

	/* splitmix64 finaliser: ids are sequential, spread them. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (size_t)x & (cap - 1);
}

void *
fmn_imap_get(const struct fmn_imap *m, long long key)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = imap_hash(key, m->cap); m->v[i].val != NULL;
	    i = (i + 1) & (m->cap - 1))
		if (m->v[i].key == key)
			return m->v[i].val;
	return NULL;
}

static void
imap_grow(struct fmn_imap *m)
{
	struct fmn_imap_slot *old = m->v;
	size_t oldcap = m->cap, i, j;

	m->cap = oldcap ? oldcap * 2 : 16;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	for (i = 0; i < oldcap; i++) {
		if (old[i].val == NULL)
			continue;
		for (j = imap_hash(old[i].key, m->cap); m->v[j].val != NULL;
		    j = (j + 1) & (m->cap - 1))
			;
		m->v[j] = old[i];
	}
	free(old);
}

void *
fmn_imap_put(struct fmn_imap *m, long long key, void *val)
{
	size_t i;
	void *prev;

	if ((m->n + 1) * 4 > m->cap * 3)
		imap_grow(m);
	for (i = imap_hash(key, m->cap); m->v[i].val != NULL;
	    i = (i + 1) & (m->cap - 1)) {
		if (m->v[i].key == key) {
			prev = m->v[i].val;
			m->v[i].val = val;
			return prev;
		}
	}
	m->v[i].key = key;
	m->v[i].val = val;
	m->n++;
	return NULL;
}

void *
fmn_imap_del(struct fmn_imap *m, long long key)
{
	size_t i, j, k, mask = m->cap - 1;
	void *val;

	if (m->cap == 0)
		return NULL;
	for (i = imap_hash(key, m->cap); m->v[i].val != NULL; i = (i + 1) & mask)
		if (m->v[i].key == key)
			break;
	if (m->v[i].val == NULL)
		return NULL;
	val = m->v[i].val;
	m->v[i].val = NULL;
	m->n--;
	/* Shift back the entries of the run that probed past slot i. */
	for (j = (i + 1) & mask; m->v[j].val != NULL; j = (j + 1) & mask) {
		k = imap_hash(m->v[j].key, m->cap);
		/* Move j to i unless its home k lies cyclically in (i, j]. */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			m->v[i] = m->v[j];
			m->v[j].val = NULL;
			i = j;
		}
	}
	return val;
}

void
fmn_imap_clear(struct fmn_imap *m, void (*freeval)(void *))
{
	size_t i;

	for (i = 0; i < m->cap && freeval != NULL; i++)
		if (m->v[i].val != NULL)
			freeval(m->v[i].val);
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

int
fmn_imap_next(const struct fmn_imap *m, size_t *i, long long *key, void **val)
{
	for (; *i < m->cap; (*i)++) {
		if (m->v[*i].val != NULL) {
			if (key != NULL)
				*key = m->v[*i].key;
			if (val != NULL)
				*val = m->v[*i].val;
			(*i)++;
			return 1;
		}
	}
	return 0;
}
