/*
 * strmap.c — see strmap.h.  Keys live in an arena of chunks (never moved, so
 * pd_strmap_key pointers stay valid); the table holds (hash, index) pairs and
 * doubles at 50% load.
 */
#include "strmap.h"
#include "alloc.h"
#include "rng.h"
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint64_t hash;
	int idx;	/* -1 empty */
	unsigned len;	/* the key's length (in what would be padding): one
			   cache miss fewer for a large map */
};

struct pd_strmap {
	struct slot *tab;
	size_t cap;		/* power of two */
	char **keys;
	size_t *lens;
	int n, kcap;
	char **chunks;
	size_t nchunks, used, chunk_cap;
};

/* same_len: slot s's key has length n (keys of UINT_MAX bytes or more ask lens) */
static int same_len(const pd_strmap *m, const struct slot *s, size_t n)
{
	if (n < UINT_MAX)
		return s->len == n;
	return s->len == UINT_MAX && m->lens[s->idx] == n;
}

pd_strmap *pd_strmap_new(void)
{
	pd_strmap *m = xcalloc(1, sizeof *m);
	m->cap = 64;
	m->tab = xmalloc(m->cap * sizeof *m->tab);
	for (size_t i = 0; i < m->cap; i++)
		m->tab[i].idx = -1;
	return m;
}

void pd_strmap_free(pd_strmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nchunks; i++)
		free(m->chunks[i]);
	free(m->chunks);
	free(m->keys);
	free(m->lens);
	free(m->tab);
	free(m);
}

static char *arena_copy(pd_strmap *m, const char *s, size_t n)
{
	if (m->nchunks == 0 || m->used + n + 1 > m->chunk_cap) {
		size_t sz = n + 1 > (1u << 16) ? n + 1 : (1u << 16);
		m->chunks = xreallocarray(m->chunks, m->nchunks + 1, sizeof *m->chunks);
		m->chunks[m->nchunks++] = xmalloc(sz);
		m->chunk_cap = sz;
		m->used = 0;
	}
	char *p = m->chunks[m->nchunks - 1] + m->used;
	memcpy(p, s, n);
	p[n] = '\0';
	m->used += n + 1;
	return p;
}

static void grow(pd_strmap *m)
{
	size_t cap = m->cap * 2;
	struct slot *t = xmalloc(cap * sizeof *t);
	for (size_t i = 0; i < cap; i++)
		t[i].idx = -1;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->tab[i].idx < 0)
			continue;
		size_t j = m->tab[i].hash & (cap - 1);
		while (t[j].idx >= 0)
			j = (j + 1) & (cap - 1);
		t[j] = m->tab[i];
	}
	free(m->tab);
	m->tab = t;
	m->cap = cap;
}

int pd_strmap_find(const pd_strmap *m, const char *key, size_t n)
{
	uint64_t h = pd_hash64(key, n);
	size_t j = h & (m->cap - 1);
	while (m->tab[j].idx >= 0) {
		int i = m->tab[j].idx;
		if (m->tab[j].hash == h && same_len(m, &m->tab[j], n) && !memcmp(m->keys[i], key, n))
			return i;
		j = (j + 1) & (m->cap - 1);
	}
	return -1;
}

void pd_strmap_prefetch(const pd_strmap *m, uint64_t h)
{
#if defined(__GNUC__)
	__builtin_prefetch(&m->tab[h & (m->cap - 1)]);
#else
	(void)m;
	(void)h;
#endif
}

int pd_strmap_intern(pd_strmap *m, const char *key, size_t n, int *added)
{
	return pd_strmap_intern_hashed(m, key, n, pd_hash64(key, n), added);
}

int pd_strmap_intern_hashed(pd_strmap *m, const char *key, size_t n, uint64_t h, int *added)
{
	size_t j = h & (m->cap - 1);
	while (m->tab[j].idx >= 0) {
		int i = m->tab[j].idx;
		if (m->tab[j].hash == h && same_len(m, &m->tab[j], n) && !memcmp(m->keys[i], key, n)) {
			if (added)
				*added = 0;
			return i;
		}
		j = (j + 1) & (m->cap - 1);
	}
	if (m->n == m->kcap) {
		m->kcap = m->kcap ? m->kcap * 2 : 64;
		m->keys = xreallocarray(m->keys, (size_t)m->kcap, sizeof *m->keys);
		m->lens = xreallocarray(m->lens, (size_t)m->kcap, sizeof *m->lens);
	}
	int idx = m->n++;
	m->keys[idx] = arena_copy(m, key, n);
	m->lens[idx] = n;
	m->tab[j].hash = h;
	m->tab[j].idx = idx;
	m->tab[j].len = n < UINT_MAX ? (unsigned)n : UINT_MAX;
	if ((size_t)m->n * 2 > m->cap)
		grow(m);
	if (added)
		*added = 1;
	return idx;
}

int pd_strmap_size(const pd_strmap *m)
{
	return m->n;
}

const char *pd_strmap_key(const pd_strmap *m, int i)
{
	return m->keys[i];
}
