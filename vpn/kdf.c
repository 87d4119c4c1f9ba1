/* kdf.c — HMAC-BLAKE2s and the handshake KDF. */
#include <sodium.h>
#include <string.h>

#include "blake2s.h"
#include "kdf.h"

void hmac_blake2s(uint8_t out[KDF_LEN], const uint8_t *key, size_t keylen, const void *in,
		  size_t len)
{
	uint8_t pad[BLAKE2S_BLOCK], inner[BLAKE2S_HASH];
	struct blake2s s;

	memset(pad, 0, sizeof(pad));
	memcpy(pad, key, keylen > sizeof(pad) ? sizeof(pad) : keylen);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36;
	blake2s_init(&s, BLAKE2S_HASH, NULL, 0);
	blake2s_update(&s, pad, sizeof(pad));
	blake2s_update(&s, in, len);
	blake2s_final(&s, inner);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&s, BLAKE2S_HASH, NULL, 0);
	blake2s_update(&s, pad, sizeof(pad));
	blake2s_update(&s, inner, sizeof(inner));
	blake2s_final(&s, out);
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

void kdf(uint8_t t1[KDF_LEN], uint8_t *t2, uint8_t *t3, const uint8_t *c, size_t clen,
	 const void *input, size_t len)
{
	uint8_t prk[KDF_LEN], buf[KDF_LEN + 1], t[KDF_LEN];

	hmac_blake2s(prk, c, clen, input, len);
	buf[0] = 1;
	hmac_blake2s(t, prk, KDF_LEN, buf, 1);
	memcpy(t1, t, KDF_LEN);
	if (t2) {
		memcpy(buf, t, KDF_LEN);
		buf[KDF_LEN] = 2;
		hmac_blake2s(t, prk, KDF_LEN, buf, sizeof(buf));
		memcpy(t2, t, KDF_LEN);
	}
	if (t2 && t3) {
		memcpy(buf, t, KDF_LEN);
		buf[KDF_LEN] = 3;
		hmac_blake2s(t3, prk, KDF_LEN, buf, sizeof(buf));
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(t, sizeof(t));
}
