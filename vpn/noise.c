/* noise.c — the Noise_IKpsk2 handshake as WireGuard uses it (whitepaper §5.4,
 * wireguard-facts.md), written from the specification. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "blake2s.h"
#include "kdf.h"
#include "noise.h"
#include "secmem.h"
#include "tai64n.h"

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
static const char label_mac1[] = "mac1----";

/* offsets in the messages */
enum { I_SENDER = 4, I_EPH = 8, I_STATIC = 40, I_TS = 88 };
enum { R_SENDER = 4, R_RECEIVER = 8, R_EPH = 12, R_EMPTY = 44 };

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void noise_aead_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

/* ---- the symmetric state ---------------------------------------------------- */

static void mix_hash(uint8_t h[32], const void *data, size_t len)
{
	blake2s_hash2(h, h, 32, data, len);
}

/* C = KDF1(C, in) */
static void mix_ck(uint8_t ck[32], const void *in, size_t len)
{
	kdf_derive1(ck, ck, 32, in, len);
}

/* (C, k) = KDF2(C, DH(priv, pub)); -EINVAL on an all-zero result */
static int mix_dh(uint8_t ck[32], uint8_t key[32], const uint8_t priv[32], const uint8_t pub[32])
{
	uint8_t dh[32];
	int r = crypto_scalarmult(dh, priv, pub) == 0 ? 0 : -EINVAL;

	if (r == 0)
		kdf_derive2(ck, key, ck, 32, dh, sizeof(dh));
	sodium_memzero(dh, sizeof(dh));
	return r;
}

static void seal(uint8_t *out, const uint8_t *pt, size_t len, const uint8_t key[32],
		 const uint8_t h[32])
{
	uint8_t nonce[12];

	noise_aead_nonce(nonce, 0);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, len, h, 32, NULL, nonce, key);
}

static int open_(uint8_t *out, const uint8_t *ct, size_t len, const uint8_t key[32],
		 const uint8_t h[32])
{
	uint8_t nonce[12];

	noise_aead_nonce(nonce, 0);
	return crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, len, h, 32, nonce,
							 key) == 0 ? 0 : -EBADMSG;
}

/* C = Ci0, H = HASH(Hi0 || responder static) */
static void handshake_init(uint8_t ck[32], uint8_t h[32], const uint8_t responder_pub[32])
{
	blake2s_hash(ck, construction, sizeof(construction) - 1);
	blake2s_hash2(h, ck, 32, identifier, sizeof(identifier) - 1);
	mix_hash(h, responder_pub, 32);
}

/* ---- identities ----------------------------------------------------------------- */

static void mac1_key(uint8_t out[32], const uint8_t pub[32])
{
	blake2s_hash2(out, label_mac1, sizeof(label_mac1) - 1, pub, 32);
}

/* Peers' keys: one slab allocation each would cost 8 KB of RSS and an mlock. */
static struct secpool peer_pool = SECPOOL_INIT(struct noise_peer);

struct noise_local *noise_local_new(const uint8_t priv[NOISE_KEY])
{
	struct noise_local *l = sodium_malloc(sizeof(*l));

	if (!l)
		return NULL;
	memcpy(l->priv, priv, NOISE_KEY);
	l->priv[0] &= 248; /* clamp, as wg genkey does */
	l->priv[31] = (l->priv[31] & 127) | 64;
	crypto_scalarmult_base(l->pub, l->priv);
	mac1_key(l->mac1_key, l->pub);
	return l;
}

void noise_local_free(struct noise_local *l)
{
	if (l)
		sodium_free(l); /* sodium_free wipes */
}

struct noise_peer *noise_peer_new(const struct noise_local *l, const uint8_t pub[NOISE_KEY],
				  const uint8_t *psk)
{
	struct noise_peer *p = secpool_get(&peer_pool);

	if (!p)
		return NULL;
	memcpy(p->remote_pub, pub, NOISE_KEY);
	if (psk)
		memcpy(p->psk, psk, NOISE_KEY);
	mac1_key(p->remote_mac1_key, pub);
	if (l && noise_peer_set_local(p, l) < 0) {
		secpool_put(&peer_pool, p);
		errno = EINVAL;
		return NULL;
	}
	return p;
}

int noise_peer_set_local(struct noise_peer *p, const struct noise_local *l)
{
	/* a new identity ends whatever handshake was in flight */
	sodium_memzero(p->e_priv, sizeof(p->e_priv));
	sodium_memzero(p->hash, sizeof(p->hash));
	sodium_memzero(p->ck, sizeof(p->ck));
	p->state = NOISE_ZEROED;
	sodium_memzero(p->ss, sizeof(p->ss));
	p->ss_ready = false;
	return l ? 0 : -EINVAL;
}

void noise_handshake_clear(struct noise_peer *p)
{
	sodium_memzero(p->e_priv, sizeof(p->e_priv));
	sodium_memzero(p->e_pub, sizeof(p->e_pub));
	sodium_memzero(p->remote_e, sizeof(p->remote_e));
	sodium_memzero(p->hash, sizeof(p->hash));
	sodium_memzero(p->ck, sizeof(p->ck));
	p->local_index = p->remote_index = 0;
	p->state = NOISE_ZEROED;
}

/* ss = DH(our static, its static), computed once per identity. */
static int static_dh(const struct noise_local *l, struct noise_peer *p)
{
	if (p->ss_ready)
		return 0;
	if (crypto_scalarmult(p->ss, l->priv, p->remote_pub) != 0) {
		sodium_memzero(p->ss, sizeof(p->ss)); /* a low-order key */
		return -EINVAL;
	}
	p->ss_ready = true;
	return 0;
}

void noise_peer_free(struct noise_peer *p)
{
	secpool_put(&peer_pool, p); /* wipes */
}

void noise_set_mac1(uint8_t *msg, size_t off, const uint8_t key[NOISE_KEY])
{
	blake2s_mac16(msg + off, key, NOISE_KEY, msg, off);
	memset(msg + off + 16, 0, 16); /* mac2: set by the cookie module when it has one */
}

bool noise_mac1_ok(const uint8_t *msg, size_t off, const uint8_t key[NOISE_KEY])
{
	uint8_t mac[16];
	bool ok;

	blake2s_mac16(mac, key, NOISE_KEY, msg, off);
	ok = sodium_memcmp(mac, msg + off, 16) == 0;
	sodium_memzero(mac, sizeof(mac));
	return ok;
}

/* A consumed message is authentic: make its chain this peer's handshake. */
static void commit(struct noise_peer *p, const uint8_t e[32], const uint8_t ck[32],
		   const uint8_t h[32], uint32_t remote_index, enum noise_state state)
{
	memcpy(p->remote_e, e, 32);
	memcpy(p->ck, ck, 32);
	memcpy(p->hash, h, 32);
	p->remote_index = remote_index;
	p->state = state;
}

/* ---- initiation ----------------------------------------------------------------- */

int noise_create_initiation(const struct noise_local *l, struct noise_peer *p,
			    uint32_t local_index, uint8_t out[NOISE_INITIATION_LEN])
{
	uint8_t key[32], ts[TAI64N_LEN];
	int r;

	memset(out, 0, NOISE_INITIATION_LEN);
	if (static_dh(l, p) < 0)
		return -EINVAL; /* no usable static DH with this peer */
	put32(out, NOISE_MSG_INITIATION);
	put32(out + I_SENDER, local_index);
	handshake_init(p->ck, p->hash, p->remote_pub);
	crypto_box_keypair(p->e_pub, p->e_priv); /* X25519, clamped by libsodium */
	memcpy(out + I_EPH, p->e_pub, 32);
	mix_ck(p->ck, p->e_pub, 32);
	mix_hash(p->hash, p->e_pub, 32);
	if ((r = mix_dh(p->ck, key, p->e_priv, p->remote_pub)) < 0) /* es */
		goto out;
	seal(out + I_STATIC, l->pub, 32, key, p->hash);
	mix_hash(p->hash, out + I_STATIC, 48);
	kdf_derive2(p->ck, key, p->ck, 32, p->ss, 32); /* ss, precomputed */
	if ((r = tai64n_now(ts)) < 0)
		goto out;
	seal(out + I_TS, ts, TAI64N_LEN, key, p->hash);
	mix_hash(p->hash, out + I_TS, 28);
	noise_set_mac1(out, NOISE_MAC1_OFF_INITIATION, p->remote_mac1_key);
	p->local_index = local_index;
	p->state = NOISE_CREATED_INITIATION;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(ts, sizeof(ts));
	return r;
}

int noise_consume_initiation(const struct noise_local *l, const uint8_t in[NOISE_INITIATION_LEN],
			     noise_lookup_fn lookup, noise_admit_fn admit, void *ctx,
			     struct noise_peer **out)
{
	uint8_t ck[32], h[32], key[32], s_pub[32], ts[TAI64N_LEN], e[32];
	struct noise_peer *p = NULL;
	int r = -EINVAL;

	if (noise_le32(in) != NOISE_MSG_INITIATION)
		goto out;
	r = -EBADMSG;
	if (!noise_mac1_ok(in, NOISE_MAC1_OFF_INITIATION, l->mac1_key))
		goto out;
	handshake_init(ck, h, l->pub);
	memcpy(e, in + I_EPH, 32);
	mix_ck(ck, e, 32);
	mix_hash(h, e, 32);
	if ((r = mix_dh(ck, key, l->priv, e)) < 0)
		goto out;
	if ((r = open_(s_pub, in + I_STATIC, 48, key, h)) < 0)
		goto out;
	mix_hash(h, in + I_STATIC, 48);
	r = -ENOKEY;
	if (!(p = lookup(ctx, s_pub)) || static_dh(l, p) < 0)
		goto out;
	kdf_derive2(ck, key, ck, 32, p->ss, 32);
	if ((r = open_(ts, in + I_TS, 28, key, h)) < 0)
		goto out;
	mix_hash(h, in + I_TS, 28);
	r = -EALREADY; /* a replayed (or not newer) initiation */
	if (tai64n_compare(ts, p->last_timestamp) <= 0)
		goto out;
	r = -EBUSY; /* proven fresh and from the peer, but refused (its flood limit) */
	if (admit && !admit(ctx, p))
		goto out;
	memcpy(p->last_timestamp, ts, TAI64N_LEN);
	commit(p, e, ck, h, noise_le32(in + I_SENDER), NOISE_CONSUMED_INITIATION);
	*out = p;
	r = 0;
out:
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(ts, sizeof(ts));
	return r;
}

/* ---- response --------------------------------------------------------------------- */

/* e, ee, se, psk: the part both sides compute the same way */
static int response_chain(uint8_t ck[32], uint8_t h[32], uint8_t key[32], const uint8_t e_pub[32],
			  const uint8_t dh_ee[32], const uint8_t dh_se[32], const uint8_t psk[32])
{
	uint8_t tau[32];

	mix_ck(ck, e_pub, 32);
	mix_hash(h, e_pub, 32);
	mix_ck(ck, dh_ee, 32);
	mix_ck(ck, dh_se, 32);
	kdf_derive3(ck, tau, key, ck, 32, psk, 32);
	mix_hash(h, tau, 32);
	sodium_memzero(tau, sizeof(tau));
	return 0;
}

int noise_create_response(struct noise_peer *p, uint32_t local_index,
			  uint8_t out[NOISE_RESPONSE_LEN])
{
	uint8_t key[32], ee[32], se[32];
	int r = -EINVAL;

	if (p->state != NOISE_CONSUMED_INITIATION)
		return -EINVAL;
	memset(out, 0, NOISE_RESPONSE_LEN);
	put32(out, NOISE_MSG_RESPONSE);
	put32(out + R_SENDER, local_index);
	put32(out + R_RECEIVER, p->remote_index);
	crypto_box_keypair(p->e_pub, p->e_priv);
	memcpy(out + R_EPH, p->e_pub, 32);
	if (crypto_scalarmult(ee, p->e_priv, p->remote_e) != 0 ||
	    crypto_scalarmult(se, p->e_priv, p->remote_pub) != 0)
		goto out;
	response_chain(p->ck, p->hash, key, p->e_pub, ee, se, p->psk);
	seal(out + R_EMPTY, NULL, 0, key, p->hash);
	mix_hash(p->hash, out + R_EMPTY, 16);
	noise_set_mac1(out, NOISE_MAC1_OFF_RESPONSE, p->remote_mac1_key);
	p->local_index = local_index;
	p->state = NOISE_CREATED_RESPONSE;
	r = 0;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(ee, sizeof(ee));
	sodium_memzero(se, sizeof(se));
	return r;
}

int noise_consume_response(const struct noise_local *l, struct noise_peer *p,
			   const uint8_t in[NOISE_RESPONSE_LEN])
{
	uint8_t ck[32], h[32], key[32], ee[32], se[32], e[32];
	int r = -EINVAL;

	if (noise_le32(in) != NOISE_MSG_RESPONSE || p->state != NOISE_CREATED_INITIATION ||
	    noise_le32(in + R_RECEIVER) != p->local_index)
		goto out;
	r = -EBADMSG;
	if (!noise_mac1_ok(in, NOISE_MAC1_OFF_RESPONSE, l->mac1_key))
		goto out;
	memcpy(ck, p->ck, 32);
	memcpy(h, p->hash, 32);
	memcpy(e, in + R_EPH, 32);
	if (crypto_scalarmult(ee, p->e_priv, e) != 0 || crypto_scalarmult(se, l->priv, e) != 0) {
		r = -EINVAL;
		goto out;
	}
	response_chain(ck, h, key, e, ee, se, p->psk);
	{
		uint8_t empty[1];

		if ((r = open_(empty, in + R_EMPTY, 16, key, h)) < 0)
			goto out;
	}
	mix_hash(h, in + R_EMPTY, 16);
	commit(p, e, ck, h, noise_le32(in + R_SENDER), NOISE_CONSUMED_RESPONSE);
	r = 0;
out:
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(ee, sizeof(ee));
	sodium_memzero(se, sizeof(se));
	return r;
}

int noise_derive_keypair(struct noise_peer *p, struct noise_keypair *kp)
{
	uint8_t t1[32], t2[32];

	if (p->state != NOISE_CREATED_RESPONSE && p->state != NOISE_CONSUMED_RESPONSE)
		return -EINVAL;
	kdf_derive2(t1, t2, p->ck, 32, NULL, 0);
	kp->initiator = p->state == NOISE_CONSUMED_RESPONSE;
	memcpy(kp->send, kp->initiator ? t1 : t2, 32);
	memcpy(kp->recv, kp->initiator ? t2 : t1, 32);
	kp->local_index = p->local_index;
	kp->remote_index = p->remote_index;
	/* the handshake is spent: forget everything but identity and timestamp */
	sodium_memzero(p->e_priv, sizeof(p->e_priv));
	sodium_memzero(p->e_pub, sizeof(p->e_pub));
	sodium_memzero(p->remote_e, sizeof(p->remote_e));
	sodium_memzero(p->hash, sizeof(p->hash));
	sodium_memzero(p->ck, sizeof(p->ck));
	p->state = NOISE_ZEROED;
	sodium_memzero(t1, sizeof(t1));
	sodium_memzero(t2, sizeof(t2));
	return 0;
}
