/* kdf.h — HMAC-BLAKE2s (RFC 2104, 64-byte block) and WireGuard's KDF1/2/3
 * (HKDF with HMAC-BLAKE2s, noise.c kdf()). Intermediates are wiped. */
#ifndef VPN_KDF_H
#define VPN_KDF_H

#include <stddef.h>
#include <stdint.h>

#define KDF_LEN 32

/* HMAC(key, in); keylen <= 64 */
void hmac_blake2s(uint8_t out[KDF_LEN], const uint8_t *key, size_t keylen, const void *in,
		  size_t len);
/* T1..Tn = KDFn(C, input): PRK = HMAC(C, input); T1 = HMAC(PRK, 0x01);
 * Ti = HMAC(PRK, T(i-1) || i). t2, t3 may be NULL (KDF1, KDF2). */
void kdf(uint8_t t1[KDF_LEN], uint8_t *t2, uint8_t *t3, const uint8_t *c, size_t clen,
	 const void *input, size_t len);

#endif
