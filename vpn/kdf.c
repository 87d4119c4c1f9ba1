/* kdf.c — HMAC-BLAKE2s (RFC 2104) and the handshake's HKDF expansion. */
#include <sodium.h>
#include <string.h>

#include "blake2s.h"
#include "kdf.h"

#define IPAD 0x36
#define OPAD 0x5c

/* H((K ^ pad) || a || b) */
static void hash_padded(uint8_t out[BLAKE2S_HASH_LEN], const uint8_t k[BLAKE2S_BLOCK_LEN],
			uint8_t pad, const void *a, size_t alen, const void *b, size_t blen)
{
	uint8_t kp[BLAKE2S_BLOCK_LEN];
	struct blake2s s;

	for (size_t i = 0; i < sizeof(kp); i++)
		kp[i] = k[i] ^ pad;
	blake2s_init(&s, BLAKE2S_HASH_LEN);
	blake2s_update(&s, kp, sizeof(kp));
	blake2s_update(&s, a, alen);
	blake2s_update(&s, b, blen);
	blake2s_final(&s, out);
	sodium_memzero(kp, sizeof(kp));
}

/* HMAC(key, a || b): H((K ^ opad) || H((K ^ ipad) || a || b)) */
static void hmac2(uint8_t out[KDF_LEN], const void *key, size_t keylen, const void *a, size_t alen,
		  const void *b, size_t blen)
{
	uint8_t k[BLAKE2S_BLOCK_LEN] = { 0 }, inner[BLAKE2S_HASH_LEN];

	if (keylen > sizeof(k))
		blake2s_hash(k, key, keylen); /* RFC 2104 section 2: K = H(K) */
	else if (keylen)
		memcpy(k, key, keylen);
	hash_padded(inner, k, IPAD, a, alen, b, blen);
	hash_padded(out, k, OPAD, inner, sizeof(inner), NULL, 0);
	sodium_memzero(k, sizeof(k));
	sodium_memzero(inner, sizeof(inner));
}

void kdf_hmac(uint8_t out[KDF_LEN], const void *key, size_t keylen, const void *in, size_t len)
{
	hmac2(out, key, keylen, in, len, NULL, 0);
}

/* Writes T1..Tn to out[0..n-1]; n is 1..3. */
static void derive(uint8_t *const out[], int n, const void *key, size_t keylen, const void *in,
		   size_t len)
{
	uint8_t prk[KDF_LEN], t[KDF_LEN];

	hmac2(prk, key, keylen, in, len, NULL, 0);
	for (int i = 0; i < n; i++) {
		uint8_t ctr = (uint8_t)(i + 1);

		/* T_i = HMAC(PRK, T_(i-1) || i), with T_0 empty */
		hmac2(t, prk, sizeof(prk), t, i ? sizeof(t) : 0, &ctr, 1);
		memcpy(out[i], t, KDF_LEN);
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
}

void kdf_derive1(uint8_t t1[KDF_LEN], const void *key, size_t keylen, const void *in, size_t len)
{
	uint8_t *const out[] = { t1 };

	derive(out, 1, key, keylen, in, len);
}

void kdf_derive2(uint8_t t1[KDF_LEN], uint8_t t2[KDF_LEN], const void *key, size_t keylen,
		 const void *in, size_t len)
{
	uint8_t *const out[] = { t1, t2 };

	derive(out, 2, key, keylen, in, len);
}

void kdf_derive3(uint8_t t1[KDF_LEN], uint8_t t2[KDF_LEN], uint8_t t3[KDF_LEN], const void *key,
		 size_t keylen, const void *in, size_t len)
{
	uint8_t *const out[] = { t1, t2, t3 };

	derive(out, 3, key, keylen, in, len);
}
