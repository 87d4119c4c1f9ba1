/* mesh.c — policy nodes → UAPI peers. */
#include <errno.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"

long mesh_node_by_key(const struct policy *p, const uint8_t pub[32])
{
	for (size_t i = 0; i < p->nnodes; i++)
		if (!sodium_memcmp(p->nodes[i].key, pub, 32))
			return (long)i;
	return -1;
}

/* "HOST:PORT" or "[V6]:PORT" → sockaddr (names resolved). */
static int resolve(const char *ep, struct sockaddr_storage *ss)
{
	char host[256];
	const char *colon = strrchr(ep, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV }, *res;
	size_t hl;

	if (!colon || (hl = (size_t)(colon - ep)) == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, ep, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	hints.ai_flags |= AI_NUMERICHOST; /* the common case, without a name lookup */
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0) {
		hints.ai_flags &= ~AI_NUMERICHOST;
		if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
			return -ENOENT;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static int add_peer(struct uapi_set *s, const struct node *n, char *warn, size_t warnlen)
{
	struct uapi_peer *v = realloc(s->peers, (s->npeers + 1) * sizeof(*v)), *u;

	if (!v)
		return -ENOMEM;
	s->peers = v;
	u = memset(&v[s->npeers++], 0, sizeof(*u));
	memcpy(u->public_key, n->key, 32);
	u->replace_allowed_ips = true;
	u->has_keepalive = true;
	u->keepalive = (uint16_t)n->keepalive;
	if (n->endpoint) {
		if (resolve(n->endpoint, &u->endpoint) == 0)
			u->has_endpoint = true;
		else if (warn && !warn[0])
			snprintf(warn, warnlen, "node %s: endpoint %s does not resolve", n->name,
				 n->endpoint);
	}
	if (n->nips && !(u->allowed_ips = calloc(n->nips, sizeof(*u->allowed_ips))))
		return -ENOMEM;
	for (size_t i = 0; i < n->nips; i++) {
		struct uapi_allowed_ip *a = &u->allowed_ips[u->nallowed_ips++];

		a->family = n->ips[i].a.family;
		memcpy(a->addr, n->ips[i].a.b, a->family == AF_INET ? 4 : 16);
		a->cidr = n->ips[i].len;
	}
	return 0;
}

static int remove_peer(struct uapi_set *s, const uint8_t key[32])
{
	struct uapi_peer *v = realloc(s->peers, (s->npeers + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->peers = v;
	memset(&v[s->npeers], 0, sizeof(*v));
	memcpy(v[s->npeers].public_key, key, 32);
	v[s->npeers++].remove = true;
	return 0;
}

static int cmp_node_key(const void *a, const void *b)
{
	return memcmp((*(const struct node *const *)a)->key, (*(const struct node *const *)b)->key,
		      32);
}

static int cmp_key_node(const void *key, const void *b)
{
	return memcmp(key, (*(const struct node *const *)b)->key, 32);
}

/* p's nodes sorted by key, for lookups in O(log n). NULL if none / ENOMEM. */
const struct node **mesh_nodes_by_key(const struct policy *p)
{
	const struct node **v = p && p->nnodes ? malloc(p->nnodes * sizeof(*v)) : NULL;

	for (size_t i = 0; v && i < p->nnodes; i++)
		v[i] = &p->nodes[i];
	if (v)
		qsort(v, p->nnodes, sizeof(*v), cmp_node_key);
	return v;
}

const struct node *mesh_find(const struct node **v, size_t n, const uint8_t key[32])
{
	const struct node **hit = v ? bsearch(key, v, n, sizeof(*v), cmp_key_node) : NULL;

	return hit ? *hit : NULL;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Would node a, configured as b was, need no change at all? */
static bool same_peer(const struct node *a, const struct node *b)
{
	if (a->keepalive != b->keepalive || !same_str(a->endpoint, b->endpoint) ||
	    a->nips != b->nips)
		return false;
	for (size_t i = 0; i < a->nips; i++)
		if (a->ips[i].len != b->ips[i].len || addr_cmp(&a->ips[i].a, &b->ips[i].a))
			return false;
	return true;
}

int mesh_device_set(const struct policy *p, size_t self, const struct policy *old,
		    struct uapi_set *out, char *warn, size_t warnlen)
{
	const uint8_t *me = p->nodes[self].key;
	const struct node **oldv = mesh_nodes_by_key(old), **newv = old ? mesh_nodes_by_key(p) : NULL;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (warn && warnlen)
		warn[0] = '\0';
	out->has_listen_port = true;
	out->listen_port = p->net.port;
	if (old && (!oldv || !newv) && old->nnodes && p->nnodes)
		r = -ENOMEM;
	for (size_t i = 0; old && i < old->nnodes && !r; i++)
		if (sodium_memcmp(old->nodes[i].key, me, 32) &&
		    !mesh_find(newv, p->nnodes, old->nodes[i].key))
			r = remove_peer(out, old->nodes[i].key);
	for (size_t i = 0; i < p->nnodes && !r; i++) {
		const struct node *was = mesh_find(oldv, old ? old->nnodes : 0, p->nodes[i].key);

		/* unchanged peers are left alone: their sessions and trie entries stay */
		if (i != self && !(was && same_peer(&p->nodes[i], was)))
			r = add_peer(out, &p->nodes[i], warn, warnlen);
	}
	free(oldv);
	free(newv);
	if (r)
		uapi_set_free(out);
	return r;
}
