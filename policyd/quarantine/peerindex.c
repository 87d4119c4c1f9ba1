/* peerindex.c — address → node and key → node for one policy. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "quarantine/peerindex.h"

struct owner {
	struct addr lo, hi;
	size_t node;
};

struct keyed {
	uint8_t key[32];
	size_t node;
};

struct peerindex {
	struct owner *owners;              /* by (family, lo) */
	size_t nowners;
	struct keyed *keys;                /* by key */
	size_t nkeys;
};

static int owner_cmp(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->lo.family != y->lo.family)
		return x->lo.family < y->lo.family ? -1 : 1;
	return addr_cmp(&x->lo, &y->lo);
}

static int keyed_cmp(const void *a, const void *b)
{
	return memcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key, 32);
}

static int owners_build(struct peerindex *ix, const struct policy *p)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < p->nnodes; i++)
		n += p->nodes[i].nips;
	if (!(ix->owners = calloc(n ? n : 1, sizeof(*ix->owners))))
		return -ENOMEM;
	for (size_t i = 0; i < p->nnodes; i++)
		for (size_t j = 0; j < p->nodes[i].nips; j++, k++) {
			prefix_bounds(&p->nodes[i].ips[j], &ix->owners[k].lo, &ix->owners[k].hi);
			ix->owners[k].node = i;
		}
	qsort(ix->owners, n, sizeof(*ix->owners), owner_cmp);
	ix->nowners = n;
	return 0;
}

static int keys_build(struct peerindex *ix, const struct policy *p)
{
	if (!(ix->keys = calloc(p->nnodes ? p->nnodes : 1, sizeof(*ix->keys))))
		return -ENOMEM;
	for (size_t i = 0; i < p->nnodes; i++) {
		memcpy(ix->keys[i].key, p->nodes[i].key, 32);
		ix->keys[i].node = i;
	}
	qsort(ix->keys, p->nnodes, sizeof(*ix->keys), keyed_cmp);
	ix->nkeys = p->nnodes;
	return 0;
}

int peerindex_new(const struct policy *p, struct peerindex **out)
{
	struct peerindex *ix = calloc(1, sizeof(*ix));

	if (!ix || owners_build(ix, p) < 0 || keys_build(ix, p) < 0) {
		peerindex_free(ix);
		return -ENOMEM;
	}
	*out = ix;
	return 0;
}

void peerindex_free(struct peerindex *ix)
{
	if (!ix)
		return;
	free(ix->owners);
	free(ix->keys);
	free(ix);
}

long peerindex_owner(const struct peerindex *ix, const struct addr *a)
{
	size_t lo = 0, hi = ix->nowners;

	while (lo < hi) { /* the last range starting at or before a */
		size_t mid = (lo + hi) / 2;
		const struct addr *s = &ix->owners[mid].lo;

		if (s->family < a->family || (s->family == a->family && addr_cmp(s, a) <= 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	lo--;
	if (ix->owners[lo].lo.family != a->family || addr_cmp(a, &ix->owners[lo].hi) > 0)
		return -1;
	return (long)ix->owners[lo].node;
}

long peerindex_by_key(const struct peerindex *ix, const uint8_t pub[32])
{
	struct keyed k;
	const struct keyed *hit;

	if (!ix->nkeys)
		return -1;
	memcpy(k.key, pub, 32);
	hit = bsearch(&k, ix->keys, ix->nkeys, sizeof(*ix->keys), keyed_cmp);
	return hit ? (long)hit->node : -1;
}
