/* packet.h — transport data messages (type 4): the encryption of one inner
 * IP packet under a keypair, and its authenticated, replay-checked opening.
 *   type(4) receiver(4) counter(8, LE) ciphertext(padded + 16)
 * Padding (send.c calculate_skb_padding): padded = min(MTU, roundup(len, 16)),
 * with len % MTU as the base when len > MTU; a keepalive is exactly 32 bytes. */
#ifndef VPN_PACKET_H
#define VPN_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "noise.h"
#include "replay.h"

#define PACKET_MSG_DATA 4
#define PACKET_HEADER 16
#define PACKET_OVERHEAD (PACKET_HEADER + 16)   /* 32: header + Poly1305 tag */

size_t packet_padded_len(size_t len, size_t mtu);
/* Writes PACKET_OVERHEAD + padded bytes to out; returns that length. */
size_t packet_seal(const struct noise_keypair *kp, uint64_t counter, const uint8_t *ip,
		   size_t len, size_t mtu, uint8_t *out);
/* The receiver index of a data message, to find the keypair (len checked). */
int packet_receiver(const uint8_t *in, size_t len, uint32_t *index);
/* Authenticate, check the replay window, decrypt into out and trim padding
 * by the inner IPv4/IPv6 length. Returns the inner length (0: a keepalive),
 * or -EBADMSG (forged), -EPROTO (authentic, but not a well-formed IP packet),
 * -EALREADY (replayed or too old), -EINVAL (too short, not type 4). out
 * needs len - 32 bytes and may be in + PACKET_HEADER (in place). */
long packet_open(const struct noise_keypair *kp, struct replay *r, const uint8_t *in, size_t len,
		 uint8_t *out);

#endif
