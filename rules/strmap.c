/* strmap.c — string → index hash map. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t slot(const struct strmap *m, const char *key)
{
	size_t i = (size_t)hash(key) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], key))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void grow(struct strmap *m)
{
	struct strmap big = { .cap = m->cap ? m->cap * 2 : 64 };

	big.keys = calloc(big.cap, sizeof(*big.keys));
	big.vals = calloc(big.cap, sizeof(*big.vals));
	if (!big.keys || !big.vals)
		abort();
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i]) {
			size_t s = slot(&big, m->keys[i]);

			big.keys[s] = m->keys[i];
			big.vals[s] = m->vals[i];
			big.n++;
		}
	strmap_free(m);
	*m = big;
}

size_t strmap_put(struct strmap *m, const char *key, size_t val)
{
	size_t s;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	s = slot(m, key);
	if (m->keys[s])
		return m->vals[s];
	m->keys[s] = key;
	m->vals[s] = val;
	m->n++;
	return (size_t)-1;
}

long strmap_get(const struct strmap *m, const char *key)
{
	size_t s;

	if (!m->cap)
		return -1;
	s = slot(m, key);
	return m->keys[s] ? (long)m->vals[s] : -1;
}

void strmap_free(struct strmap *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->n = m->cap = 0;
}
