/* cookie.c — mac1, mac2 and cookie replies (whitepaper §5.4.4, §5.4.7). */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "blake2s.h"
#include "cookie.h"

static const char label_mac1[] = "mac1----";
static const char label_cookie[] = "cookie--";

static void label_key(uint8_t out[32], const char *label, const uint8_t pub[32])
{
	blake2s_hash2(out, label, 8, pub, 32);
}

void cookie_checker_init(struct cookie_checker *c, const uint8_t local_pub[32])
{
	sodium_memzero(c, sizeof(*c));
	label_key(c->mac1_key, label_mac1, local_pub);
	label_key(c->cookie_key, label_cookie, local_pub);
	c->secret_birth = -1e9; /* a fresh secret on first use */
}

void cookie_maker_init(struct cookie_maker *m, const uint8_t remote_pub[32])
{
	sodium_memzero(m, sizeof(*m));
	label_key(m->mac1_key, label_mac1, remote_pub);
	label_key(m->cookie_key, label_cookie, remote_pub);
}

/* keys here are 32 (mac1 key, secret) or 16 (cookie) bytes, so this cannot fail */
static void mac16(uint8_t out[16], const uint8_t *key, size_t keylen, const uint8_t *in,
		  size_t len)
{
	blake2s_mac16(out, key, keylen, in, len);
}

/* cookie = MAC(R, src ip || src port), R regenerated every 120 s */
static void compute_cookie(struct cookie_checker *c, const uint8_t *src, size_t srclen,
			   double now, uint8_t out[16])
{
	if (now - c->secret_birth >= COOKIE_SECRET_MAX_AGE) {
		randombytes_buf(c->secret, sizeof(c->secret));
		c->secret_birth = now;
	}
	mac16(out, c->secret, sizeof(c->secret), src, srclen);
}

void cookie_add_macs(struct cookie_maker *m, uint8_t *msg, size_t len, double now)
{
	size_t mac1 = len - 32, mac2 = len - 16;

	mac16(msg + mac1, m->mac1_key, 32, msg, mac1);
	memcpy(m->last_mac1, msg + mac1, 16);
	m->have_last_mac1 = true;
	if (m->have_cookie &&
	    now - m->cookie_birth < COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY)
		mac16(msg + mac2, m->cookie, 16, msg, mac2);
	else
		memset(msg + mac2, 0, 16);
}

enum cookie_verdict cookie_validate(struct cookie_checker *c, const uint8_t *msg, size_t len,
				    const uint8_t *src, size_t srclen, double now)
{
	uint8_t mac[16], cookie[16];
	enum cookie_verdict v = COOKIE_INVALID;

	if (len < 32)
		return COOKIE_INVALID;
	mac16(mac, c->mac1_key, 32, msg, len - 32);
	if (sodium_memcmp(mac, msg + len - 32, 16) != 0)
		goto out;
	v = COOKIE_VALID_MAC1;
	compute_cookie(c, src, srclen, now, cookie);
	mac16(mac, cookie, 16, msg, len - 16);
	if (sodium_memcmp(mac, msg + len - 16, 16) == 0)
		v = COOKIE_VALID_MAC2;
out:
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(cookie, sizeof(cookie));
	return v;
}

void cookie_create_reply(struct cookie_checker *c, const uint8_t *msg, size_t len,
			 uint32_t receiver_index, const uint8_t *src, size_t srclen, double now,
			 uint8_t out[COOKIE_REPLY_LEN])
{
	uint8_t cookie[16];

	memset(out, 0, COOKIE_REPLY_LEN);
	out[0] = COOKIE_MSG_REPLY;
	for (int i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)(receiver_index >> (8 * i));
	randombytes_buf(out + 8, 24);
	compute_cookie(c, src, srclen, now, cookie);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + 32, NULL, cookie, 16, msg + len - 32, 16,
						   NULL, out + 8, c->cookie_key);
	sodium_memzero(cookie, sizeof(cookie));
}

int cookie_consume_reply(struct cookie_maker *m, const uint8_t in[COOKIE_REPLY_LEN], double now)
{
	uint8_t cookie[16];

	if (in[0] != COOKIE_MSG_REPLY || in[1] || in[2] || in[3] || !m->have_last_mac1)
		return -EINVAL;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, NULL, NULL, in + 32, 32,
						       m->last_mac1, 16, in + 8,
						       m->cookie_key) != 0)
		return -EBADMSG;
	memcpy(m->cookie, cookie, 16);
	m->cookie_birth = now;
	m->have_cookie = true;
	m->have_last_mac1 = false; /* one reply per message we sent */
	sodium_memzero(cookie, sizeof(cookie));
	return 0;
}
