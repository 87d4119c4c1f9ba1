/* allowedips.c — a binary trie per family, one level per address bit.
 * Simple and obviously right; lookups cost at most 32 / 128 steps. The
 * kernel's path-compressed trie is the faster successor behind this API. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allowedips.h"

struct node {
	struct node *child[2];
	void *peer;           /* non-NULL: a prefix ends here */
};

struct allowedips {
	struct node *root4, *root6;
};

static int bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static struct node **rootp(struct allowedips *t, int family)
{
	return family == AF_INET ? &t->root4 : family == AF_INET6 ? &t->root6 : NULL;
}

static unsigned bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

struct allowedips *allowedips_new(void)
{
	return calloc(1, sizeof(struct allowedips));
}

static void free_node(struct node *n)
{
	if (!n)
		return;
	free_node(n->child[0]);
	free_node(n->child[1]);
	free(n);
}

void allowedips_free(struct allowedips *t)
{
	if (!t)
		return;
	free_node(t->root4);
	free_node(t->root6);
	free(t);
}

int allowedips_insert(struct allowedips *t, int family, const uint8_t *addr, uint8_t cidr,
		      void *peer)
{
	struct node **np = rootp(t, family);

	if (!np || cidr > bits(family) || !peer)
		return -EINVAL;
	for (unsigned i = 0;; i++) {
		if (!*np && !(*np = calloc(1, sizeof(struct node))))
			return -ENOMEM;
		if (i == cidr)
			break;
		np = &(*np)->child[bit(addr, i)];
	}
	(*np)->peer = peer;
	return 0;
}

/* Drop empty leaves on the way back up. */
static bool prune(struct node **np)
{
	struct node *n = *np;

	if (n && !n->peer && !n->child[0] && !n->child[1]) {
		free(n);
		*np = NULL;
		return true;
	}
	return false;
}

static int remove_at(struct node **np, const uint8_t *addr, unsigned i, unsigned cidr)
{
	int r;

	if (!*np)
		return -ENOENT;
	if (i == cidr) {
		if (!(*np)->peer)
			return -ENOENT;
		(*np)->peer = NULL;
		prune(np);
		return 0;
	}
	r = remove_at(&(*np)->child[bit(addr, i)], addr, i + 1, cidr);
	if (r == 0)
		prune(np);
	return r;
}

int allowedips_remove(struct allowedips *t, int family, const uint8_t *addr, uint8_t cidr)
{
	struct node **np = rootp(t, family);

	if (!np || cidr > bits(family))
		return -EINVAL;
	return remove_at(np, addr, 0, cidr);
}

static void remove_peer(struct node **np, void *peer)
{
	if (!*np)
		return;
	remove_peer(&(*np)->child[0], peer);
	remove_peer(&(*np)->child[1], peer);
	if ((*np)->peer == peer)
		(*np)->peer = NULL;
	prune(np);
}

void allowedips_remove_peer(struct allowedips *t, void *peer)
{
	remove_peer(&t->root4, peer);
	remove_peer(&t->root6, peer);
}

void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr)
{
	const struct node *n = family == AF_INET ? t->root4 : family == AF_INET6 ? t->root6 : NULL;
	void *best = NULL;

	for (unsigned i = 0; n; i++) {
		if (n->peer)
			best = n->peer;
		if (i == bits(family))
			break;
		n = n->child[bit(addr, i)];
	}
	return best;
}

static int walk(const struct node *n, void *peer, int family, uint8_t *addr, unsigned depth,
		allowedips_fn fn, void *ctx)
{
	int r = 0;

	if (!n)
		return 0;
	if (n->peer == peer && (r = fn(ctx, family, addr, (uint8_t)depth)))
		return r;
	for (int b = 0; b < 2 && !r; b++) {
		if (!n->child[b])
			continue;
		if (b)
			addr[depth / 8] |= (uint8_t)(0x80 >> (depth % 8));
		r = walk(n->child[b], peer, family, addr, depth + 1, fn, ctx);
		addr[depth / 8] &= (uint8_t) ~(0x80 >> (depth % 8));
	}
	return r;
}

int allowedips_walk_peer(const struct allowedips *t, void *peer, allowedips_fn fn, void *ctx)
{
	uint8_t addr[16] = { 0 };
	int r = walk(t->root4, peer, AF_INET, addr, 0, fn, ctx);

	return r ? r : walk(t->root6, peer, AF_INET6, addr, 0, fn, ctx);
}
