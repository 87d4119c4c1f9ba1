/* packet.c — transport data messages. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "packet.h"

size_t packet_padded_len(size_t len, size_t mtu)
{
	size_t last = len, padded;

	if (mtu == 0)
		return (len + 15) & ~(size_t)15;
	if (len > mtu)
		last = len % mtu;
	padded = (last + 15) & ~(size_t)15;
	if (padded > mtu)
		padded = mtu;
	return len + (padded - last); /* last <= mtu, so padded >= last */
}

size_t packet_seal(const struct noise_keypair *kp, uint64_t counter, const uint8_t *ip,
		   size_t len, size_t mtu, uint8_t *out)
{
	size_t padded = packet_padded_len(len, mtu);
	uint8_t nonce[12];

	memset(out, 0, PACKET_HEADER);
	out[0] = PACKET_MSG_DATA;
	for (int i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)(kp->remote_index >> (8 * i));
	for (int i = 0; i < 8; i++)
		out[8 + i] = (uint8_t)(counter >> (8 * i));
	if (len) /* a keepalive has no packet at all */
		memmove(out + PACKET_HEADER, ip, len);
	memset(out + PACKET_HEADER + len, 0, padded - len);
	noise_aead_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + PACKET_HEADER, NULL, out + PACKET_HEADER,
						  padded, NULL, 0, NULL, nonce, kp->send);
	return PACKET_OVERHEAD + padded;
}

int packet_receiver(const uint8_t *in, size_t len, uint32_t *index)
{
	if (len < PACKET_OVERHEAD || in[0] != PACKET_MSG_DATA || in[1] || in[2] || in[3])
		return -EINVAL;
	*index = noise_le32(in + 4);
	return 0;
}

/* The length the inner IP header claims, or 0 if it is not IP / too short. */
static size_t inner_len(const uint8_t *p, size_t avail)
{
	size_t n;

	if (avail >= 20 && (p[0] >> 4) == 4)
		n = (size_t)p[2] << 8 | p[3];
	else if (avail >= 40 && (p[0] >> 4) == 6)
		n = 40 + ((size_t)p[4] << 8 | p[5]);
	else
		return 0;
	return n <= avail ? n : 0;
}

long packet_open(const struct noise_keypair *kp, struct replay *r, const uint8_t *in, size_t len,
		 uint8_t *out)
{
	uint64_t counter = 0;
	uint8_t nonce[12];
	size_t plen = len - PACKET_OVERHEAD, ilen;
	uint32_t index;

	if (packet_receiver(in, len, &index) < 0)
		return -EINVAL;
	for (int i = 0; i < 8; i++)
		counter |= (uint64_t)in[8 + i] << (8 * i);
	/* order matters: limit, then authenticate, then remember the counter */
	if (counter >= REJECT_AFTER_MESSAGES)
		return -EALREADY;
	noise_aead_nonce(nonce, counter);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in + PACKET_HEADER,
						      len - PACKET_HEADER, NULL, 0, nonce,
						      kp->recv) != 0)
		return -EBADMSG;
	if (!replay_check_and_update(r, counter))
		return -EALREADY;
	if (plen == 0)
		return 0; /* keepalive */
	ilen = inner_len(out, plen);
	if (ilen == 0)
		return -EPROTO;
	return (long)ilen;
}
