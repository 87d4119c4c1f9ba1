/* peerindex.h — a policy's peers, indexed for the quarantine's inputs:
 * which node holds a VPN address (sorted ranges, binary search) and which
 * node has a public key (sorted keys, binary search).
 *
 * Built once per policy and immutable after: the daemon swaps it by pointer
 * with the policy, and the datapath's threads may read it (under the
 * daemon's lock) while the main thread builds the next one. It holds copies,
 * never pointers into the policy, so it outlives the policy it came from
 * safely; its node indexes are that policy's. */
#ifndef POLICYD_QUARANTINE_PEERINDEX_H
#define POLICYD_QUARANTINE_PEERINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct peerindex;

/* 0 or -ENOMEM. */
int peerindex_new(const struct policy *p, struct peerindex **out);
void peerindex_free(struct peerindex *ix);
/* The node one of whose VPN addresses (or ranges) holds a, or -1. */
long peerindex_owner(const struct peerindex *ix, const struct addr *a);
/* The node with this public key, or -1. */
long peerindex_by_key(const struct peerindex *ix, const uint8_t pub[32]);

#endif
