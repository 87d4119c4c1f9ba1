/* wgprobe.h — is a node's WireGuard port really there? A handshake
 * initiation to it, with the vpn/ library's Noise and cookie code.
 *
 * What can be proven: a node answers only initiations from peers it knows,
 * so silence to an unknown key proves nothing. With a peer's private key a
 * response that authenticates (noise_consume_response) proves that the
 * port is reachable and the datapath there knows that peer; an ICMP port
 * unreachable proves the port is reachable but nothing listens. The probe
 * is a real handshake: the node may take the probe's address as that
 * peer's endpoint until the peer speaks again, so audit with a key kept
 * for audits. */
#ifndef POLICYD_AUDIT_WGPROBE_H
#define POLICYD_AUDIT_WGPROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

enum wgprobe_result {
	WGPROBE_HANDSHAKE,     /* an authentic response to our initiation */
	WGPROBE_SILENCE,       /* nothing (dropped, unknown key, or not running) */
	WGPROBE_REFUSED,       /* ICMP port unreachable: reachable, nothing listens */
	WGPROBE_BOGUS,         /* answers, but none authenticated */
};

struct wgprobe_opts {
	struct addr target;
	uint16_t port;
	const uint8_t *node_pub;   /* the node's static public key (32 bytes) */
	const uint8_t *priv;       /* the peer's private key (32 bytes, locked memory) */
	unsigned tries;            /* initiations sent (WireGuard retries every 5 s; we sooner) */
	unsigned wait_ms;          /* per try */
	bool unconfirmed;          /* send no keepalive after the handshake: the node keeps
				      using the session it had with the peer (a datapath's) */
};

struct wgprobe_report {
	enum wgprobe_result result;
	unsigned sent;             /* initiations sent */
	double rtt_ms;             /* of the answer that decided */
	bool cookie;               /* the node was under load and sent a cookie reply */
};

/* 0 with the report, or -errno when the probe could not be sent at all. */
int wgprobe_run(const struct wgprobe_opts *o, struct wgprobe_report *rep);
const char *wgprobe_result_name(enum wgprobe_result r);
/* The public key of a private key (clamped as wg(8) does); 0 or -ENOMEM. */
int wgprobe_public_key(const uint8_t priv[32], uint8_t pub[32]);

#endif
