/* blake2s.c — BLAKE2s per RFC 7693, section 3 (written from the RFC). */
#include <sodium.h>
#include <string.h>

#include "blake2s.h"

static const uint32_t iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static const uint8_t sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define G(a, b, c, d, x, y)                 \
	do {                                \
		a = a + b + (x);            \
		d = rotr(d ^ a, 16);        \
		c = c + d;                  \
		b = rotr(b ^ c, 12);        \
		a = a + b + (y);            \
		d = rotr(d ^ a, 8);         \
		c = c + d;                  \
		b = rotr(b ^ c, 7);         \
	} while (0)

static void compress(struct blake2s *s, const uint8_t block[BLAKE2S_BLOCK])
{
	uint32_t m[16], v[16];

	for (int i = 0; i < 16; i++)
		m[i] = load32(block + 4 * i);
	memcpy(v, s->h, sizeof(s->h));
	memcpy(v + 8, iv, sizeof(iv));
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	v[14] ^= s->f[0];
	v[15] ^= s->f[1];
	for (int r = 0; r < 10; r++) {
		const uint8_t *z = sigma[r];

		G(v[0], v[4], v[8], v[12], m[z[0]], m[z[1]]);
		G(v[1], v[5], v[9], v[13], m[z[2]], m[z[3]]);
		G(v[2], v[6], v[10], v[14], m[z[4]], m[z[5]]);
		G(v[3], v[7], v[11], v[15], m[z[6]], m[z[7]]);
		G(v[0], v[5], v[10], v[15], m[z[8]], m[z[9]]);
		G(v[1], v[6], v[11], v[12], m[z[10]], m[z[11]]);
		G(v[2], v[7], v[8], v[13], m[z[12]], m[z[13]]);
		G(v[3], v[4], v[9], v[14], m[z[14]], m[z[15]]);
	}
	for (int i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
	sodium_memzero(m, sizeof(m));
	sodium_memzero(v, sizeof(v));
}

static void count(struct blake2s *s, uint32_t n)
{
	s->t[0] += n;
	if (s->t[0] < n)
		s->t[1]++;
}

void blake2s_init(struct blake2s *s, size_t outlen, const void *key, size_t keylen)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->h, iv, sizeof(iv));
	s->h[0] ^= 0x01010000u ^ (uint32_t)(keylen << 8) ^ (uint32_t)outlen;
	s->outlen = outlen;
	if (keylen) {
		uint8_t block[BLAKE2S_BLOCK] = { 0 };

		memcpy(block, key, keylen);
		blake2s_update(s, block, sizeof(block));
		sodium_memzero(block, sizeof(block));
	}
}

void blake2s_update(struct blake2s *s, const void *in, size_t len)
{
	const uint8_t *p = in;

	while (len) {
		size_t take;

		if (s->buflen == BLAKE2S_BLOCK) { /* a full block, and more input: not the last */
			count(s, BLAKE2S_BLOCK);
			compress(s, s->buf);
			s->buflen = 0;
		}
		take = BLAKE2S_BLOCK - s->buflen;
		if (take > len)
			take = len;
		memcpy(s->buf + s->buflen, p, take);
		s->buflen += take;
		p += take;
		len -= take;
	}
}

void blake2s_final(struct blake2s *s, uint8_t *out)
{
	uint8_t full[BLAKE2S_HASH];

	count(s, (uint32_t)s->buflen);
	s->f[0] = 0xffffffffu;
	memset(s->buf + s->buflen, 0, BLAKE2S_BLOCK - s->buflen);
	compress(s, s->buf);
	for (int i = 0; i < 8; i++) {
		full[4 * i] = (uint8_t)s->h[i];
		full[4 * i + 1] = (uint8_t)(s->h[i] >> 8);
		full[4 * i + 2] = (uint8_t)(s->h[i] >> 16);
		full[4 * i + 3] = (uint8_t)(s->h[i] >> 24);
	}
	memcpy(out, full, s->outlen);
	sodium_memzero(full, sizeof(full));
	sodium_memzero(s, sizeof(*s));
}

void blake2s_hash(uint8_t out[BLAKE2S_HASH], const void *in, size_t len)
{
	struct blake2s s;

	blake2s_init(&s, BLAKE2S_HASH, NULL, 0);
	blake2s_update(&s, in, len);
	blake2s_final(&s, out);
}

void blake2s_hash2(uint8_t out[BLAKE2S_HASH], const void *a, size_t alen, const void *b,
		   size_t blen)
{
	struct blake2s s;

	blake2s_init(&s, BLAKE2S_HASH, NULL, 0);
	blake2s_update(&s, a, alen);
	blake2s_update(&s, b, blen);
	blake2s_final(&s, out);
}

void blake2s_mac16(uint8_t out[16], const uint8_t key[32], const void *in, size_t len)
{
	struct blake2s s;

	blake2s_init(&s, 16, key, 32);
	blake2s_update(&s, in, len);
	blake2s_final(&s, out);
}
