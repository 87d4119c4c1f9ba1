/* uapi.h — the cross-platform userspace API (wireguard-facts.md §1.3): the
 * text protocol `wg` speaks over /var/run/wireguard/IFNAME.sock.
 *
 * uapi_parse_set() turns the body of a "set=1" request (key=value lines up to
 * the empty line) into a typed change set, validating every value, so the
 * device applies either all of it or none. Errors are -errno as the reply's
 * errno= line carries them (wireguard-go: -EINVAL for a bad value, -EPROTO for
 * a key out of place). */
#ifndef VPN_UAPI_H
#define VPN_UAPI_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct uapi_allowed_ip {
	int family;
	uint8_t addr[16];
	uint8_t cidr;
	bool remove;                 /* allowed_ip=-PREFIX (newer tools) */
};

struct uapi_peer {
	uint8_t public_key[32];
	bool remove, update_only, replace_allowed_ips;
	bool has_psk, has_endpoint, has_keepalive;
	uint8_t psk[32];             /* all zero = remove */
	struct sockaddr_storage endpoint;
	uint16_t keepalive;
	struct uapi_allowed_ip *allowed_ips;
	size_t nallowed_ips;
};

struct uapi_set {
	bool has_private_key, has_listen_port, has_fwmark, replace_peers;
	uint8_t private_key[32];     /* all zero = remove; wiped by uapi_set_free */
	uint16_t listen_port;
	uint32_t fwmark;
	struct uapi_peer *peers;
	size_t npeers;
	char error[128];             /* what was wrong, for the log */
};

/* body: the request after "set=1\n", len bytes, ending at an empty line (or
 * at len). 0 or -EINVAL / -EPROTO / -ENOMEM; *consumed = bytes used. */
int uapi_parse_set(const char *body, size_t len, struct uapi_set *out, size_t *consumed);
void uapi_set_free(struct uapi_set *s);

/* "k=v\n" helpers for the get reply: hex keys, endpoints, prefixes. */
void uapi_hex(char out[65], const uint8_t key[32]);
int uapi_format_endpoint(char *buf, size_t len, const struct sockaddr_storage *ss);

#endif
