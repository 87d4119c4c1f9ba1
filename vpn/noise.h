/* noise.h — WireGuard's Noise_IKpsk2 handshake (wireguard-facts.md §1.1).
 *
 * Pure computation over byte buffers: no sockets, no timers, no peer table.
 * The caller (the device) owns the peers, looks a peer up by static key or
 * by index, and decides when to send. Wire layouts are little endian:
 *   initiation 148 = type sender ephemeral[32] static[32+16] timestamp[12+16] mac1 mac2
 *   response    92 = type sender receiver ephemeral[32] empty[0+16] mac1 mac2
 * Every secret lives in sodium_malloc()ed memory and temporaries are wiped
 * at one exit label. Functions return 0 or -errno (-EBADMSG: authentication
 * failed, -EINVAL: malformed, -EALREADY: replayed or stale). */
#ifndef VPN_NOISE_H
#define VPN_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOISE_KEY 32
#define NOISE_MSG_INITIATION 1
#define NOISE_MSG_RESPONSE 2
#define NOISE_INITIATION_LEN 148
#define NOISE_RESPONSE_LEN 92
#define NOISE_MAC1_OFF_INITIATION 116
#define NOISE_MAC1_OFF_RESPONSE 60

/* A little-endian u32 of the wire format (message type, indices). */
static inline uint32_t noise_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum noise_state { NOISE_ZEROED, NOISE_CREATED_INITIATION, NOISE_CONSUMED_INITIATION,
		   NOISE_CREATED_RESPONSE, NOISE_CONSUMED_RESPONSE };

/* This host's static identity. */
struct noise_local {
	uint8_t priv[NOISE_KEY], pub[NOISE_KEY];
	uint8_t mac1_key[NOISE_KEY];     /* HASH("mac1----" || pub): checks mac1 of what we receive */
};

/* What we know of one peer, and the handshake in flight with it. */
struct noise_peer {
	uint8_t remote_pub[NOISE_KEY];
	uint8_t psk[NOISE_KEY];          /* zero = none */
	uint8_t ss[NOISE_KEY];           /* DH(local static, remote static), on first use */
	bool ss_ready;
	uint8_t remote_mac1_key[NOISE_KEY];
	uint8_t last_timestamp[12];      /* newest accepted initiation timestamp */
	/* the handshake in flight */
	enum noise_state state;
	uint8_t e_priv[NOISE_KEY], e_pub[NOISE_KEY], remote_e[NOISE_KEY];
	uint8_t hash[NOISE_KEY], ck[NOISE_KEY];
	uint32_t local_index, remote_index;
};

/* Transport keys from a finished handshake. */
struct noise_keypair {
	uint8_t send[NOISE_KEY], recv[NOISE_KEY];
	uint32_t local_index, remote_index;
	bool initiator;
};

/* Allocated with sodium_malloc (guarded, locked); free with noise_*_free. */
struct noise_local *noise_local_new(const uint8_t priv[NOISE_KEY]);
void noise_local_free(struct noise_local *l);
/* NULL only when out of memory. l may be NULL: the device has no identity
 * yet. A low-order key is accepted here and fails every handshake. */
struct noise_peer *noise_peer_new(const struct noise_local *l, const uint8_t pub[NOISE_KEY],
				  const uint8_t *psk);
/* A new identity l (or none): the handshake in flight is dropped and the
 * static DH is recomputed when first needed (a mesh of 10,000 nodes need
 * not pay 10,000 DH at start for peers that never talk). -EINVAL if l is
 * NULL. A low-order peer key is refused when the handshake needs the DH. */
int noise_peer_set_local(struct noise_peer *p, const struct noise_local *l);
void noise_peer_free(struct noise_peer *p);

/* Forget the handshake in flight (its ephemeral keys are wiped). */
void noise_handshake_clear(struct noise_peer *p);
/* Initiator: write a 148-byte initiation (mac2 zero; see noise_set_mac2). */
int noise_create_initiation(const struct noise_local *l, struct noise_peer *p,
			    uint32_t local_index, uint8_t out[NOISE_INITIATION_LEN]);
/* Responder: authenticate an initiation. lookup maps the decrypted initiator
 * static key to one of our peers (NULL: unknown, -ENOKEY). admit (may be
 * NULL) is asked once the initiation is proven: authenticated under that
 * peer's static key and newer than its last one (kernel noise.c checks its
 * flood limit at the same point); false refuses it with -EBUSY and nothing
 * is committed. -EALREADY: replayed or not newer. On success *out is that
 * peer, in state NOISE_CONSUMED_INITIATION. */
typedef struct noise_peer *(*noise_lookup_fn)(void *ctx, const uint8_t pub[NOISE_KEY]);
typedef bool (*noise_admit_fn)(void *ctx, struct noise_peer *p);
int noise_consume_initiation(const struct noise_local *l, const uint8_t in[NOISE_INITIATION_LEN],
			     noise_lookup_fn lookup, noise_admit_fn admit, void *ctx,
			     struct noise_peer **out);
/* Responder: write the 92-byte response to the consumed initiation. */
int noise_create_response(struct noise_peer *p, uint32_t local_index,
			  uint8_t out[NOISE_RESPONSE_LEN]);
/* Initiator: authenticate the response for the initiation p created. */
int noise_consume_response(const struct noise_local *l, struct noise_peer *p,
			   const uint8_t in[NOISE_RESPONSE_LEN]);
/* Both: derive transport keys after CREATED_RESPONSE / CONSUMED_RESPONSE;
 * wipes the handshake state. */
int noise_derive_keypair(struct noise_peer *p, struct noise_keypair *kp);

/* mac1 over msg[0:off] with the receiver's mac1 key; check is constant time. */
void noise_set_mac1(uint8_t *msg, size_t off, const uint8_t mac1_key[NOISE_KEY]);
bool noise_mac1_ok(const uint8_t *msg, size_t off, const uint8_t mac1_key[NOISE_KEY]);

/* Transport data AEAD: 12-byte nonce = 4 zero bytes || LE64(counter). */
void noise_aead_nonce(uint8_t nonce[12], uint64_t counter);

#endif
