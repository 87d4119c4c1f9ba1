/* kdf.h — HMAC-BLAKE2s (RFC 2104 with BLAKE2s-256 and its 64-byte block) and
 * WireGuard's KDF1/KDF2/KDF3: HKDF (RFC 5869) built on HMAC-BLAKE2s, as in
 * the whitepaper section 5.4 and the kernel's noise.c kdf():
 *
 *	PRK = HMAC(key, input)
 *	T1  = HMAC(PRK, 0x01)
 *	T2  = HMAC(PRK, T1 || 0x02)
 *	T3  = HMAC(PRK, T2 || 0x03)
 *
 * In the handshake the key is the chaining key C (32 bytes). Every
 * intermediate (padded keys, inner hash, PRK, T_i) is wiped before return.
 * Outputs may alias the key or the input: both are consumed first. */
#ifndef VPN_KDF_H
#define VPN_KDF_H

#include <stddef.h>
#include <stdint.h>

#define KDF_LEN 32 /* HMAC output and each T_i */

/* HMAC-BLAKE2s(key, in). Any keylen; keys over 64 bytes are hashed first (RFC 2104). */
void kdf_hmac(uint8_t out[KDF_LEN], const void *key, size_t keylen, const void *in, size_t len);

/* KDF1: t1 */
void kdf_derive1(uint8_t t1[KDF_LEN], const void *key, size_t keylen, const void *in, size_t len);
/* KDF2: t1, t2 */
void kdf_derive2(uint8_t t1[KDF_LEN], uint8_t t2[KDF_LEN], const void *key, size_t keylen,
		 const void *in, size_t len);
/* KDF3: t1, t2, t3 */
void kdf_derive3(uint8_t t1[KDF_LEN], uint8_t t2[KDF_LEN], uint8_t t3[KDF_LEN], const void *key,
		 size_t keylen, const void *in, size_t len);

#endif
