/* strmap.h — a string → index hash map (open addressing, FNV-1a). The keys
 * are borrowed: they must outlive the map. Used for names and ids so that
 * policies with 100k rules or 10k nodes load in linear time. */
#ifndef RULES_STRMAP_H
#define RULES_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap {
	const char **keys;
	size_t *vals;
	uint64_t *hashes;  /* 0 = empty slot */
	size_t n, cap;
};

/* Insert key → val; returns the existing value if key is already there
 * (and does not replace it), else (size_t)-1. */
size_t strmap_put(struct strmap *m, const char *key, size_t val);
/* Value of key, or -1. */
long strmap_get(const struct strmap *m, const char *key);
void strmap_free(struct strmap *m);
/* Make room for n keys without rehashing. */
void strmap_reserve(struct strmap *m, size_t n);

#endif
