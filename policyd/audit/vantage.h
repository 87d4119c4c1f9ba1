/* vantage.h — where the scan comes from: the source address the kernel
 * would pick for a target, and which interface of this namespace holds an
 * address (for nmap -S/-e, and to notice a target that is local). */
#ifndef POLICYD_AUDIT_VANTAGE_H
#define POLICYD_AUDIT_VANTAGE_H

#include <net/if.h>
#include <stdbool.h>

#include "addr.h"

/* The source address of a datagram to dst (a connected UDP socket; nothing
 * is sent). 0, or -errno (-ENETUNREACH: no route). */
int vantage_route_source(const struct addr *dst, struct addr *src);
/* The interface that holds a, copied into ifname; false if none does. */
bool vantage_local_iface(const struct addr *a, char ifname[IF_NAMESIZE]);

#endif
