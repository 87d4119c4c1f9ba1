/* cookie.h — mac1/mac2 and cookie replies: WireGuard's DoS defence.
 *
 * Under load a responder answers a handshake message that has a valid mac1
 * but no valid mac2 with a 64-byte cookie reply instead of doing the DH work;
 * the sender must come back with mac2 = MAC(cookie, msg), which proves it owns
 * its source address. Times are seconds on a monotonic clock, passed in, so
 * the module has no clock of its own. */
#ifndef VPN_COOKIE_H
#define VPN_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COOKIE_MSG_REPLY 3
#define COOKIE_REPLY_LEN 64
#define COOKIE_SECRET_MAX_AGE 120
#define COOKIE_SECRET_LATENCY 5

/* Responder side: one per device. */
struct cookie_checker {
	uint8_t secret[32];
	double secret_birth;
	uint8_t mac1_key[32];        /* HASH("mac1----" || our public key) */
	uint8_t cookie_key[32];      /* HASH("cookie--" || our public key) */
};

/* Sender side: one per peer. */
struct cookie_maker {
	uint8_t mac1_key[32];        /* HASH("mac1----" || peer's public key) */
	uint8_t cookie_key[32];      /* HASH("cookie--" || peer's public key) */
	uint8_t cookie[16];
	double cookie_birth;
	bool have_cookie;
	uint8_t last_mac1[16];       /* of the last message we sent: the reply's AD */
	bool have_last_mac1;
};

enum cookie_verdict { COOKIE_INVALID, COOKIE_VALID_MAC1, COOKIE_VALID_MAC2 };

void cookie_checker_init(struct cookie_checker *c, const uint8_t local_pub[32]);
void cookie_maker_init(struct cookie_maker *m, const uint8_t remote_pub[32]);

/* Set mac1 and, with a cookie younger than 115 s, mac2 of an outgoing
 * handshake message of len bytes (the macs are its last 32 bytes). */
void cookie_add_macs(struct cookie_maker *m, uint8_t *msg, size_t len, double now);
/* Check the macs of an incoming handshake message from src (address bytes
 * || port in network order, 6 or 18 bytes). */
enum cookie_verdict cookie_validate(struct cookie_checker *c, const uint8_t *msg, size_t len,
				    const uint8_t *src, size_t srclen, double now);
/* The 64-byte reply to msg, for the sender at src. */
void cookie_create_reply(struct cookie_checker *c, const uint8_t *msg, size_t len,
			 uint32_t receiver_index, const uint8_t *src, size_t srclen, double now,
			 uint8_t out[COOKIE_REPLY_LEN]);
/* Take a reply to our last message: 0, or -EBADMSG / -EINVAL. */
int cookie_consume_reply(struct cookie_maker *m, const uint8_t in[COOKIE_REPLY_LEN], double now);

#endif
