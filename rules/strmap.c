/* strmap.c — string → index hash map (open addressing, linear probing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a 64-bit finaliser */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h | 1; /* 0 marks an empty slot */
}

static size_t slot(const struct strmap *m, const char *key, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	/* full hashes first: strcmp only on a real candidate */
	while (m->hashes[i] && (m->hashes[i] != h || strcmp(m->keys[i], key)))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void rehash(struct strmap *m, size_t cap)
{
	struct strmap big = { .cap = cap };

	big.keys = malloc(cap * sizeof(*big.keys));
	big.vals = malloc(cap * sizeof(*big.vals));
	big.hashes = calloc(cap, sizeof(*big.hashes));
	if (!big.keys || !big.vals || !big.hashes)
		abort();
	for (size_t i = 0; i < m->cap; i++)
		if (m->hashes[i]) {
			size_t s = (size_t)m->hashes[i] & (cap - 1);

			while (big.hashes[s])
				s = (s + 1) & (cap - 1);
			big.keys[s] = m->keys[i];
			big.vals[s] = m->vals[i];
			big.hashes[s] = m->hashes[i];
		}
	big.n = m->n;
	strmap_free(m);
	*m = big;
}

void strmap_reserve(struct strmap *m, size_t n)
{
	size_t cap = 64;

	while (cap < 2 * n)
		cap *= 2;
	if (cap > m->cap)
		rehash(m, cap);
}

size_t strmap_put(struct strmap *m, const char *key, size_t val)
{
	uint64_t h = hash(key);
	size_t s;

	if ((m->n + 1) * 2 > m->cap)
		rehash(m, m->cap ? m->cap * 2 : 64);
	s = slot(m, key, h);
	if (m->hashes[s])
		return m->vals[s];
	m->keys[s] = key;
	m->vals[s] = val;
	m->hashes[s] = h;
	m->n++;
	return (size_t)-1;
}

long strmap_get(const struct strmap *m, const char *key)
{
	size_t s;

	if (!m->cap)
		return -1;
	s = slot(m, key, hash(key));
	return m->hashes[s] ? (long)m->vals[s] : -1;
}

void strmap_free(struct strmap *m)
{
	free(m->keys);
	free(m->vals);
	free(m->hashes);
	memset(m, 0, sizeof(*m));
}
