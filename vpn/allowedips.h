/* allowedips.h — longest-prefix match from an address to a peer: WireGuard's
 * crypto-routing table (outbound: which peer gets this packet; inbound: may
 * this peer send from that source address). IPv4 and IPv6, opaque peers. */
#ifndef VPN_ALLOWEDIPS_H
#define VPN_ALLOWEDIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct allowedips;

struct allowedips *allowedips_new(void);
void allowedips_free(struct allowedips *t);
/* family AF_INET (4 bytes) or AF_INET6 (16); host bits are ignored. A prefix
 * already present is moved to the new peer. 0 or -ENOMEM / -EINVAL. */
int allowedips_insert(struct allowedips *t, int family, const uint8_t *addr, uint8_t cidr,
		      void *peer);
/* Remove one exact prefix (whoever owns it); -ENOENT if absent. */
int allowedips_remove(struct allowedips *t, int family, const uint8_t *addr, uint8_t cidr);
void allowedips_remove_peer(struct allowedips *t, void *peer);
/* The peer of the longest prefix containing addr, or NULL. */
void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr);
/* Every prefix of peer (for the UAPI's allowed_ip= lines); fn returns non-zero to stop. */
typedef int (*allowedips_fn)(void *ctx, int family, const uint8_t *addr, uint8_t cidr);
int allowedips_walk_peer(const struct allowedips *t, void *peer, allowedips_fn fn, void *ctx);

#endif
