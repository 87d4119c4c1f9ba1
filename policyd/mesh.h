/* mesh.h — what the policy says this node's WireGuard device should hold:
 * every other node as a peer (its key, endpoint, VPN addresses as allowed
 * IPs, keepalive), as a UAPI change set the device applies in one go. On a
 * reload the set is a difference: peers that left are removed, the others
 * are updated in place, so their sessions survive. */
#ifndef POLICYD_MESH_H
#define POLICYD_MESH_H
#include <stddef.h>
#include <stdint.h>
#include "policy.h"
#include "uapi.h"
/* The node whose public key is pub, or -1. Linear: for one lookup. */
long mesh_node_by_key(const struct policy *p, const uint8_t pub[32]);
/* For many: p's nodes sorted by key (free() it; NULL when out of memory or
 * empty), and a lookup in it in O(log n). */
const struct node **mesh_nodes_by_key(const struct policy *p);
const struct node *mesh_find(const struct node **sorted, size_t n, const uint8_t key[32]);
/* Fill out (free with uapi_set_free) for node self of p; old is the policy
 * applied before (NULL at start). Endpoints are resolved here; one that does
 * not resolve is left out and named in warn (may be NULL). 0 or -ENOMEM. */
int mesh_device_set(const struct policy *p, size_t self, const struct policy *old,
		    struct uapi_set *out, char *warn, size_t warnlen);
#endif
