/* blake2s.h — BLAKE2s (RFC 7693): the hash and MAC of WireGuard's handshake.
 * libsodium has only BLAKE2b, so this small implementation lives here. */
#ifndef VPN_BLAKE2S_H
#define VPN_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_BLOCK 64
#define BLAKE2S_HASH 32

struct blake2s {
	uint32_t h[8], t[2], f[2];
	uint8_t buf[BLAKE2S_BLOCK];
	size_t buflen, outlen;
};

/* outlen 1..32, keylen 0..32 (key may be NULL when keylen is 0). */
void blake2s_init(struct blake2s *s, size_t outlen, const void *key, size_t keylen);
void blake2s_update(struct blake2s *s, const void *in, size_t len);
/* Writes outlen bytes and wipes the state. */
void blake2s_final(struct blake2s *s, uint8_t *out);

/* HASH(in) = BLAKE2s-256 */
void blake2s_hash(uint8_t out[BLAKE2S_HASH], const void *in, size_t len);
/* HASH(a || b) */
void blake2s_hash2(uint8_t out[BLAKE2S_HASH], const void *a, size_t alen, const void *b,
		   size_t blen);
/* MAC(key, in) = keyed BLAKE2s-128 */
void blake2s_mac16(uint8_t out[16], const uint8_t key[32], const void *in, size_t len);

#endif
