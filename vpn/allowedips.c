/* allowedips.c — a path-compressed binary trie per address family.
 *
 * Every node holds a prefix (key/cidr, host bits zero). A child's prefix is
 * longer than its parent's, lies inside it, and sits in child[b] where b is
 * its bit number parent->cidr. A node with a peer is a prefix of the table;
 * a node without one only joins two subtrees that part at its cidr, so it
 * always has two children. Hence a table of n prefixes has fewer than 2n
 * nodes, and a lookup visits at most 33 / 129 of them, whatever the number
 * of prefixes. Recursion depth is bounded the same way. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allowedips.h"

struct node {
	struct node *child[2];
	void *peer;      /* NULL: a branching node only */
	uint8_t key[16]; /* the prefix; IPv4 uses the first 4 bytes */
	uint8_t cidr;
};

struct allowedips {
	struct node *root[2]; /* [0] IPv4, [1] IPv6 */
	size_t count;
};

/* 0 for IPv4, 1 for IPv6, -1 otherwise; *bits is the address length */
static int family_index(int family, unsigned *bits)
{
	*bits = family == AF_INET ? 32 : 128;
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

static unsigned bit_at(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* How many leading bits a and b share, at most max */
static unsigned common_bits(const uint8_t *a, const uint8_t *b, unsigned max)
{
	for (unsigned i = 0; 8 * i < max; i++) {
		unsigned x = a[i] ^ b[i];

		if (x) {
			unsigned n = 8 * i + (unsigned)__builtin_clz(x) - 24;

			return n < max ? n : max;
		}
	}
	return max;
}

static bool node_contains(const struct node *n, const uint8_t *addr)
{
	return common_bits(n->key, addr, n->cidr) == n->cidr;
}

/* out = the first cidr bits of addr (len bytes), the rest zero */
static void mask_key(uint8_t out[16], const uint8_t *addr, unsigned len, unsigned cidr)
{
	memset(out, 0, 16);
	memcpy(out, addr, len);
	for (unsigned i = cidr / 8; i < len; i++)
		out[i] &= i == cidr / 8 ? (uint8_t)(0xff00 >> (cidr % 8)) : 0;
}

static struct node *node_new(const uint8_t *addr, unsigned len, unsigned cidr, void *peer)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	mask_key(n->key, addr, len, cidr);
	n->cidr = (uint8_t)cidr;
	n->peer = peer;
	return n;
}

static void node_free_all(struct node *n)
{
	if (!n)
		return;
	node_free_all(n->child[0]);
	node_free_all(n->child[1]);
	free(n);
}

/* A node without a peer is kept only while it joins two subtrees. */
static void node_tidy(struct node **np)
{
	struct node *n = *np;

	if (n->peer || (n->child[0] && n->child[1]))
		return;
	*np = n->child[0] ? n->child[0] : n->child[1];
	free(n);
}

struct allowedips *allowedips_new(void)
{
	return calloc(1, sizeof(struct allowedips));
}

void allowedips_free(struct allowedips *t)
{
	if (!t)
		return;
	node_free_all(t->root[0]);
	node_free_all(t->root[1]);
	free(t);
}

/* Put leaf where n is now: above n if leaf's prefix contains n's, otherwise
 * beside it under a new branching node at the first bit where they differ. */
static int node_split(struct node **np, struct node *leaf, unsigned len)
{
	struct node *n = *np, *branch;
	unsigned common = common_bits(n->key, leaf->key, leaf->cidr);

	if (common == leaf->cidr) {
		leaf->child[bit_at(n->key, common)] = n;
		*np = leaf;
		return 0;
	}
	if (!(branch = node_new(leaf->key, len, common, NULL)))
		return -ENOMEM;
	branch->child[bit_at(n->key, common)] = n;
	branch->child[bit_at(leaf->key, common)] = leaf;
	*np = branch;
	return 0;
}

int allowedips_insert(struct allowedips *t, int family, const uint8_t *addr, unsigned cidr,
		      void *peer)
{
	unsigned bits, len;
	int f = family_index(family, &bits);
	struct node **np, *n, *leaf;

	if (f < 0 || cidr > bits || !peer)
		return -EINVAL;
	len = bits / 8;
	if (!(leaf = node_new(addr, len, cidr, peer)))
		return -ENOMEM;
	/* descend while a node's prefix strictly contains the new one */
	for (np = &t->root[f]; (n = *np); np = &n->child[bit_at(leaf->key, n->cidr)]) {
		if (n->cidr > cidr || !node_contains(n, leaf->key))
			break;
		if (n->cidr == cidr) { /* the same prefix: (re)assign it */
			t->count += !n->peer;
			n->peer = peer;
			free(leaf);
			return 0;
		}
	}
	if (!n) {
		*np = leaf;
	} else if (node_split(np, leaf, len) < 0) {
		free(leaf);
		return -ENOMEM;
	}
	t->count++;
	return 0;
}

static int remove_at(struct node **np, const uint8_t *key, unsigned cidr, void *peer)
{
	struct node *n = *np;
	int r;

	if (!n || n->cidr > cidr || !node_contains(n, key))
		return -ENOENT;
	if (n->cidr == cidr) {
		if (n->peer != peer)
			return -ENOENT;
		n->peer = NULL;
	} else if ((r = remove_at(&n->child[bit_at(key, n->cidr)], key, cidr, peer)) < 0) {
		return r;
	}
	node_tidy(np); /* a child may have gone: this node may now be redundant */
	return 0;
}

int allowedips_remove(struct allowedips *t, int family, const uint8_t *addr, unsigned cidr,
		      void *peer)
{
	unsigned bits;
	int f = family_index(family, &bits), r;
	uint8_t key[16];

	if (f < 0 || cidr > bits || !peer)
		return -EINVAL;
	mask_key(key, addr, bits / 8, cidr);
	r = remove_at(&t->root[f], key, cidr, peer);
	if (r == 0)
		t->count--;
	return r;
}

static size_t remove_peer_at(struct node **np, void *peer)
{
	struct node *n = *np;
	size_t removed;

	if (!n)
		return 0;
	removed = remove_peer_at(&n->child[0], peer) + remove_peer_at(&n->child[1], peer);
	if (n->peer == peer) {
		n->peer = NULL;
		removed++;
	}
	node_tidy(np);
	return removed;
}

void allowedips_remove_peer(struct allowedips *t, void *peer)
{
	if (!peer)
		return;
	t->count -= remove_peer_at(&t->root[0], peer);
	t->count -= remove_peer_at(&t->root[1], peer);
}

void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr)
{
	unsigned bits;
	int f = family_index(family, &bits);
	const struct node *n;
	void *best = NULL;

	if (f < 0)
		return NULL;
	for (n = t->root[f]; n && node_contains(n, addr); n = n->child[bit_at(addr, n->cidr)]) {
		if (n->peer)
			best = n->peer; /* deeper nodes have longer prefixes */
		if (n->cidr == bits)
			break;
	}
	return best;
}

static int walk_at(const struct node *n, int family, void *peer, allowedips_fn fn, void *ctx)
{
	int r;

	if (!n)
		return 0;
	if (n->peer && (!peer || n->peer == peer) &&
	    (r = fn(ctx, n->peer, family, n->key, n->cidr)) != 0)
		return r;
	if ((r = walk_at(n->child[0], family, peer, fn, ctx)) != 0)
		return r;
	return walk_at(n->child[1], family, peer, fn, ctx);
}

/* peer NULL: every prefix */
static int walk_table(const struct allowedips *t, void *peer, allowedips_fn fn, void *ctx)
{
	int r = walk_at(t->root[0], AF_INET, peer, fn, ctx);

	return r ? r : walk_at(t->root[1], AF_INET6, peer, fn, ctx);
}

int allowedips_walk(const struct allowedips *t, allowedips_fn fn, void *ctx)
{
	return walk_table(t, NULL, fn, ctx);
}

int allowedips_walk_peer(const struct allowedips *t, void *peer, allowedips_fn fn, void *ctx)
{
	return peer ? walk_table(t, peer, fn, ctx) : 0;
}

size_t allowedips_count(const struct allowedips *t)
{
	return t->count;
}
