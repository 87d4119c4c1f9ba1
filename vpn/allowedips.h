/* allowedips.h — WireGuard's crypto-routing table: a longest-prefix match
 * from an IPv4 or IPv6 address to a peer. Outbound it picks the peer a packet
 * goes to; inbound it checks that the peer a packet came from may use that
 * source address.
 *
 * Peers are opaque non-NULL pointers that the table never dereferences. Each
 * prefix belongs to exactly one peer: inserting a prefix that is already
 * there moves it to the new peer. Addresses are in network byte order, 4
 * bytes for AF_INET and 16 for AF_INET6; host bits beyond the prefix length
 * are ignored on input and zero on output. Not thread-safe: the caller
 * serialises writers against readers. */
#ifndef VPN_ALLOWEDIPS_H
#define VPN_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>

struct allowedips;

/* An empty table, or NULL when out of memory. */
struct allowedips *allowedips_new(void);
/* Frees the table (not the peers). NULL is fine. */
void allowedips_free(struct allowedips *t);

/* Map addr/cidr to peer. 0, -EINVAL (family not AF_INET/AF_INET6, cidr over
 * 32/128, peer NULL) or -ENOMEM (the table is then unchanged). */
int allowedips_insert(struct allowedips *t, int family, const uint8_t *addr, unsigned cidr,
		      void *peer);
/* Remove the prefix addr/cidr if it belongs to peer (the UAPI's
 * "allowed_ip=-prefix" in that peer's section). 0, -ENOENT if the prefix is
 * not in the table or belongs to another peer, -EINVAL as for insert. */
int allowedips_remove(struct allowedips *t, int family, const uint8_t *addr, unsigned cidr,
		      void *peer);
/* Remove every prefix of peer (a removed peer, or replace_allowed_ips). */
void allowedips_remove_peer(struct allowedips *t, void *peer);

/* The peer of the longest prefix containing addr, or NULL. */
void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr);

/* Called once per prefix; a non-zero return stops the walk and is returned. */
typedef int (*allowedips_fn)(void *ctx, void *peer, int family, const uint8_t *addr,
			     unsigned cidr);
/* Every prefix of the table: IPv4 first, then IPv6, each in address order
 * (a prefix before the longer prefixes inside it). The callback must not
 * modify the table. */
int allowedips_walk(const struct allowedips *t, allowedips_fn fn, void *ctx);
/* The same, restricted to the prefixes of peer (the UAPI's allowed_ip= lines). */
int allowedips_walk_peer(const struct allowedips *t, void *peer, allowedips_fn fn, void *ctx);
/* Number of prefixes in the table. */
size_t allowedips_count(const struct allowedips *t);

#endif
