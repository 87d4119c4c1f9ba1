/* link.h — the VPN interface's addresses, MTU and state over rtnetlink
 * (libmnl), in the daemon's own network namespace. No `ip` is run. */
#ifndef POLICYD_LINK_H
#define POLICYD_LINK_H
#include "addr.h"
/* Set the MTU and bring the interface up. 0 or -errno. */
int link_up(const char *ifname, unsigned mtu);
/* Add addr/prefixlen to the interface (an address already there is fine). */
int link_addr_add(const char *ifname, const struct addr *a, unsigned prefixlen);
/* Remove addr/prefixlen from the interface (one not there is fine). */
int link_addr_del(const char *ifname, const struct addr *a, unsigned prefixlen);
#endif
