/* localinv.h — this host's listening sockets (sock_diag netlink over libmnl):
 * TCP listeners and unconnected bound UDP sockets, v4 and v6, with the
 * process that holds each (best effort, from /proc). */
#ifndef POLICYD_AUDIT_LOCALINV_H
#define POLICYD_AUDIT_LOCALINV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct listener {
	uint8_t proto;         /* IPPROTO_TCP or IPPROTO_UDP */
	struct addr addr;      /* bound address; zero = every address */
	uint16_t port;
	unsigned ifindex;      /* SO_BINDTODEVICE, 0 = none */
	uint32_t inode;
	char process[64];      /* "sshd[123]" or "" */
};

struct listeners {
	struct listener *v;
	size_t n;
};

/* 0, or -errno. Sorted by protocol, port, address; duplicates merged. */
int localinv_list(struct listeners *out);
void localinv_free(struct listeners *l);
bool listener_is_wildcard(const struct listener *l);
bool listener_is_loopback(const struct listener *l);

#endif
