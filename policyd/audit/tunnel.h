/* tunnel.h — the auditor's own side of the mesh: what the datapath that
 * carries a VPN audit knows about the node it scans.
 *
 * Why: over the VPN a node may drop everything a peer sends (no port, no
 * ping for it), and then a node that is down and one that drops look the
 * same to nmap. A WireGuard handshake is the one answer a node's datapath
 * gives only to what it received from the peer: a handshake this host's
 * datapath completed with the node after the scan started proves that the
 * node received the audit's traffic; and the endpoint the datapath uses is
 * where the auditor's own handshake probe goes (wgprobe.h).
 *
 * Read over the datapath's UAPI socket, DEVICE_UAPI_DIR/IFNAME.sock
 * (policyd, policyd-vpn, wireguard-go; kernel WireGuard has none). The
 * reply carries the device's private key: it is wiped, never kept. */
#ifndef POLICYD_AUDIT_TUNNEL_H
#define POLICYD_AUDIT_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

struct tunnel_peer {
	bool found;                /* the datapath has the node as a peer */
	struct timespec handshake; /* its last completed handshake, wall clock; 0 = never */
	bool has_endpoint;         /* where the datapath sends to it */
	struct addr endpoint;
	uint16_t endpoint_port;
};

/* The peer with public key pub in the text of a UAPI "get=1" reply (the
 * whole reply, ending in "errno=0" and a blank line). 0 (out->found says
 * whether it is there), -EBADMSG (not a complete reply, or a bad value),
 * -EIO (the reply's errno is not 0). */
int tunnel_parse(const char *text, size_t len, const uint8_t pub[32], struct tunnel_peer *out);
/* Ask the datapath behind socket path: 0, or -errno (-ENOENT: no datapath
 * listens there; -ETIMEDOUT: no complete reply within 2 s). */
int tunnel_read_path(const char *path, const uint8_t pub[32], struct tunnel_peer *out);
/* The same for interface ifname's UAPI socket. */
int tunnel_read(const char *ifname, const uint8_t pub[32], struct tunnel_peer *out);
/* Did the datapath complete a handshake with the peer after t0 (wall clock)? */
bool tunnel_handshake_since(const struct tunnel_peer *p, const struct timespec *t0);
/* "ADDR:PORT" or "[ADDR]:PORT" (n bytes of s), as UAPI and the policy
 * write endpoints: 0 or -EINVAL. */
int tunnel_endpoint_parse(const char *s, size_t n, struct addr *a, uint16_t *port);

#endif
