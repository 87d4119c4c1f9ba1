/* blake2s.h — BLAKE2s (RFC 7693), the HASH and MAC of WireGuard's handshake.
 *
 * libsodium only ships BLAKE2b, so this small implementation lives here.
 * Written from RFC 7693 section 3; checked against the RFC's vectors and
 * self-test, the BLAKE2 reference KAT and python3's hashlib.
 *
 * Incremental use:
 *	struct blake2s s;
 *	blake2s_init_key(&s, 16, key, 32);     (or blake2s_init(&s, 32))
 *	blake2s_update(&s, part1, len1);
 *	blake2s_update(&s, part2, len2);
 *	blake2s_final(&s, out);                 (writes outlen bytes, wipes s)
 *
 * The state holds key material when keyed: blake2s_final wipes it, and a
 * caller that abandons a state early must sodium_memzero it itself. */
#ifndef VPN_BLAKE2S_H
#define VPN_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_BLOCK_LEN 64 /* bytes compressed at a time */
#define BLAKE2S_HASH_LEN 32  /* the largest (and WireGuard's HASH) output */
#define BLAKE2S_KEY_MAX 32   /* the largest key */
#define BLAKE2S_MAC_LEN 16   /* WireGuard's MAC output */

struct blake2s {
	uint32_t h[8];                  /* chained state */
	uint32_t t[2];                  /* bytes compressed so far, 64 bits */
	uint8_t buf[BLAKE2S_BLOCK_LEN]; /* pending input, up to one full block */
	size_t buflen;
	size_t outlen;
};

/* Unkeyed hash with an outlen-byte digest. 0, or -EINVAL unless 1 <= outlen <= 32
 * (the state is then unusable: final writes nothing). */
int blake2s_init(struct blake2s *s, size_t outlen);
/* Keyed hash (MAC): 1 <= outlen <= 32, 0 <= keylen <= 32 (key may be NULL
 * when keylen is 0, which is the unkeyed hash). 0 or -EINVAL as above. */
int blake2s_init_key(struct blake2s *s, size_t outlen, const void *key, size_t keylen);
/* Absorb len bytes (in may be NULL when len is 0). */
void blake2s_update(struct blake2s *s, const void *in, size_t len);
/* Write outlen bytes to out and wipe the state. */
void blake2s_final(struct blake2s *s, uint8_t *out);

/* HASH(in) = BLAKE2s-256(in) */
void blake2s_hash(uint8_t out[BLAKE2S_HASH_LEN], const void *in, size_t len);
/* HASH(a || b), the handshake's "mix hash" shape. out may alias a or b. */
void blake2s_hash2(uint8_t out[BLAKE2S_HASH_LEN], const void *a, size_t alen, const void *b,
		   size_t blen);
/* MAC(key, in) = BLAKE2s-128 keyed with key: WireGuard's mac1, mac2 and
 * cookies, all with 32-byte keys. out may alias in. 0, or -EINVAL if
 * keylen > 32 (out is then left untouched). */
int blake2s_mac16(uint8_t out[BLAKE2S_MAC_LEN], const void *key, size_t keylen, const void *in,
		  size_t len);

#endif
