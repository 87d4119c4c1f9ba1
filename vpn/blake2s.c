/* blake2s.c — BLAKE2s, written from RFC 7693 sections 2.1-3.3 and appendix D.
 *
 * The last block must be compressed with the final flag set, and only
 * final() knows which block is last; so update() always keeps the newest
 * 1..64 bytes in buf and compresses a full buffer only once more input
 * arrives behind it. */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "blake2s.h"

/* RFC 7693 section 2.6: the SHA-256 initial values */
static const uint32_t blake2s_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* RFC 7693 section 2.7: message word schedule, one row per round */
static const uint8_t blake2s_sigma[10][16] = {
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

static inline uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* RFC 7693 section 3.1, with BLAKE2s's rotations (R1..R4) = (16, 12, 8, 7) */
static inline void mix(uint32_t v[16], int a, int b, int c, int d, uint32_t x, uint32_t y)
{
	v[a] = v[a] + v[b] + x;
	v[d] = ror32(v[d] ^ v[a], 16);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 12);
	v[a] = v[a] + v[b] + y;
	v[d] = ror32(v[d] ^ v[a], 8);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 7);
}

/* RFC 7693 section 3.2: F(h, m, t, f) */
static void compress(struct blake2s *s, const uint8_t block[BLAKE2S_BLOCK_LEN], bool last)
{
	uint32_t m[16], v[16];

	for (int i = 0; i < 16; i++)
		m[i] = get_le32(block + 4 * i);
	for (int i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	if (last)
		v[14] = ~v[14];
	for (int r = 0; r < 10; r++) {
		const uint8_t *z = blake2s_sigma[r];

		mix(v, 0, 4, 8, 12, m[z[0]], m[z[1]]); /* columns */
		mix(v, 1, 5, 9, 13, m[z[2]], m[z[3]]);
		mix(v, 2, 6, 10, 14, m[z[4]], m[z[5]]);
		mix(v, 3, 7, 11, 15, m[z[6]], m[z[7]]);
		mix(v, 0, 5, 10, 15, m[z[8]], m[z[9]]); /* diagonals */
		mix(v, 1, 6, 11, 12, m[z[10]], m[z[11]]);
		mix(v, 2, 7, 8, 13, m[z[12]], m[z[13]]);
		mix(v, 3, 4, 9, 14, m[z[14]], m[z[15]]);
	}
	for (int i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
	sodium_memzero(m, sizeof(m));
	sodium_memzero(v, sizeof(v));
}

/* the byte counter t is 64 bits wide, kept as two words */
static void count_bytes(struct blake2s *s, size_t n)
{
	s->t[0] += (uint32_t)n;
	if (s->t[0] < (uint32_t)n)
		s->t[1]++;
}

int blake2s_init_key(struct blake2s *s, size_t outlen, const void *key, size_t keylen)
{
	memset(s, 0, sizeof(*s));
	if (outlen < 1 || outlen > BLAKE2S_HASH_LEN || keylen > BLAKE2S_KEY_MAX ||
	    (keylen && !key))
		return -EINVAL;
	memcpy(s->h, blake2s_iv, sizeof(s->h));
	/* parameter block word 0: digest length, key length, fanout 1, depth 1 */
	s->h[0] ^= 0x01010000u | (uint32_t)keylen << 8 | (uint32_t)outlen;
	s->outlen = outlen;
	if (keylen) { /* the key, zero-padded to a full block, is the first block */
		memcpy(s->buf, key, keylen);
		s->buflen = BLAKE2S_BLOCK_LEN;
	}
	return 0;
}

int blake2s_init(struct blake2s *s, size_t outlen)
{
	return blake2s_init_key(s, outlen, NULL, 0);
}

void blake2s_update(struct blake2s *s, const void *in, size_t len)
{
	const uint8_t *p = in;
	size_t room = BLAKE2S_BLOCK_LEN - s->buflen;

	if (len == 0)
		return;
	if (len > room) { /* buf fills up and more follows: it is not the last block */
		memcpy(s->buf + s->buflen, p, room);
		count_bytes(s, BLAKE2S_BLOCK_LEN);
		compress(s, s->buf, false);
		s->buflen = 0;
		p += room;
		len -= room;
		while (len > BLAKE2S_BLOCK_LEN) { /* whole blocks straight from the input */
			count_bytes(s, BLAKE2S_BLOCK_LEN);
			compress(s, p, false);
			p += BLAKE2S_BLOCK_LEN;
			len -= BLAKE2S_BLOCK_LEN;
		}
	}
	memcpy(s->buf + s->buflen, p, len);
	s->buflen += len;
}

void blake2s_final(struct blake2s *s, uint8_t *out)
{
	uint8_t digest[BLAKE2S_HASH_LEN];

	if (s->outlen) {
		count_bytes(s, s->buflen);
		memset(s->buf + s->buflen, 0, BLAKE2S_BLOCK_LEN - s->buflen);
		compress(s, s->buf, true);
		for (int i = 0; i < 8; i++) { /* little-endian words */
			digest[4 * i] = (uint8_t)s->h[i];
			digest[4 * i + 1] = (uint8_t)(s->h[i] >> 8);
			digest[4 * i + 2] = (uint8_t)(s->h[i] >> 16);
			digest[4 * i + 3] = (uint8_t)(s->h[i] >> 24);
		}
		memcpy(out, digest, s->outlen);
		sodium_memzero(digest, sizeof(digest));
	}
	sodium_memzero(s, sizeof(*s));
}

void blake2s_hash(uint8_t out[BLAKE2S_HASH_LEN], const void *in, size_t len)
{
	struct blake2s s;

	blake2s_init(&s, BLAKE2S_HASH_LEN);
	blake2s_update(&s, in, len);
	blake2s_final(&s, out);
}

void blake2s_hash2(uint8_t out[BLAKE2S_HASH_LEN], const void *a, size_t alen, const void *b,
		   size_t blen)
{
	struct blake2s s;

	blake2s_init(&s, BLAKE2S_HASH_LEN);
	blake2s_update(&s, a, alen);
	blake2s_update(&s, b, blen);
	blake2s_final(&s, out);
}

int blake2s_mac16(uint8_t out[BLAKE2S_MAC_LEN], const void *key, size_t keylen, const void *in,
		  size_t len)
{
	struct blake2s s;
	int r = blake2s_init_key(&s, BLAKE2S_MAC_LEN, key, keylen);

	if (r == 0)
		blake2s_update(&s, in, len);
	blake2s_final(&s, out);
	return r;
}
