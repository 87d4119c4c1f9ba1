/* test_noise.c — the Noise_IKpsk2 handshake between two in-memory instances:
 * matching transport keys, data through them, and every way a handshake
 * message can be wrong (tampered byte, replay, unknown key, wrong PSK); the
 * admit hook is asked only about proven, fresh initiations. */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "noise.h"

struct side {
	struct noise_local *l;
	struct noise_peer *peer; /* the other side, as this side knows it */
};

static struct side alice, bob;

static struct noise_peer *lookup(void *ctx, const uint8_t pub[NOISE_KEY])
{
	struct side *s = ctx;

	return sodium_memcmp(pub, s->peer->remote_pub, NOISE_KEY) == 0 ? s->peer : NULL;
}

static void make(const uint8_t *psk_a, const uint8_t *psk_b)
{
	uint8_t k[32];

	randombytes_buf(k, 32);
	alice.l = noise_local_new(k);
	randombytes_buf(k, 32);
	bob.l = noise_local_new(k);
	alice.peer = noise_peer_new(alice.l, bob.l->pub, psk_a);
	bob.peer = noise_peer_new(bob.l, alice.l->pub, psk_b);
	assert_non_null(alice.peer);
	assert_non_null(bob.peer);
}

static void unmake(void)
{
	noise_peer_free(alice.peer);
	noise_peer_free(bob.peer);
	noise_local_free(alice.l);
	noise_local_free(bob.l);
}

/* one full handshake; returns the consume_response result */
static int handshake(struct noise_keypair *ka, struct noise_keypair *kb)
{
	uint8_t init[NOISE_INITIATION_LEN], resp[NOISE_RESPONSE_LEN];
	struct noise_peer *p = NULL;
	int r;

	assert_int_equal(noise_create_initiation(alice.l, alice.peer, 0x11223344, init), 0);
	assert_int_equal(noise_consume_initiation(bob.l, init, lookup, NULL, &bob, &p), 0);
	assert_ptr_equal(p, bob.peer);
	assert_int_equal(noise_create_response(p, 0x55667788, resp), 0);
	r = noise_consume_response(alice.l, alice.peer, resp);
	if (r == 0) {
		assert_int_equal(noise_derive_keypair(alice.peer, ka), 0);
		assert_int_equal(noise_derive_keypair(bob.peer, kb), 0);
	}
	return r;
}

static void test_keys_match(void **state)
{
	struct noise_keypair ka, kb;
	uint8_t nonce[12], ct[64 + 16], pt[64];
	const char msg[] = "a packet through the tunnel";

	(void)state;
	make(NULL, NULL);
	assert_int_equal(handshake(&ka, &kb), 0);
	assert_true(ka.initiator);
	assert_false(kb.initiator);
	assert_memory_equal(ka.send, kb.recv, 32);
	assert_memory_equal(ka.recv, kb.send, 32);
	assert_memory_not_equal(ka.send, ka.recv, 32);
	assert_int_equal(ka.remote_index, 0x55667788);
	assert_int_equal(kb.remote_index, 0x11223344);
	noise_aead_nonce(nonce, 7);
	crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, (const uint8_t *)msg, sizeof(msg), NULL,
						  0, NULL, nonce, ka.send);
	assert_int_equal(crypto_aead_chacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct,
								   sizeof(msg) + 16, NULL, 0,
								   nonce, kb.recv), 0);
	assert_memory_equal(pt, msg, sizeof(msg));
	/* a second handshake gives fresh keys; its timestamp must be newer, and
	 * timestamps are rounded down to 2^24 ns: one within ~17 ms is a replay */
	{
		struct noise_keypair ka2, kb2;
		struct timespec pause = { 0, 20 * 1000 * 1000 };

		nanosleep(&pause, NULL);
		assert_int_equal(handshake(&ka2, &kb2), 0);
		assert_memory_not_equal(ka2.send, ka.send, 32);
		assert_memory_equal(ka2.send, kb2.recv, 32);
	}
	unmake();
}

static void test_psk(void **state)
{
	uint8_t psk[32], other[32];
	struct noise_keypair ka, kb;

	(void)state;
	randombytes_buf(psk, 32);
	memcpy(other, psk, 32);
	make(psk, psk);
	assert_int_equal(handshake(&ka, &kb), 0);
	assert_memory_equal(ka.send, kb.recv, 32);
	unmake();
	other[0] ^= 1;
	make(psk, other);
	assert_int_equal(handshake(&ka, &kb), -EBADMSG); /* a wrong PSK fails at the response */
	unmake();
}

static void test_tampered_initiation(void **state)
{
	uint8_t init[NOISE_INITIATION_LEN], bad[NOISE_INITIATION_LEN];
	struct noise_peer *p;

	(void)state;
	make(NULL, NULL);
	assert_int_equal(noise_create_initiation(alice.l, alice.peer, 1, init), 0);
	/* every byte up to mac2 is covered by mac1 (and the AEADs behind it) */
	for (size_t i = 0; i < NOISE_MAC1_OFF_INITIATION + 16; i++) {
		memcpy(bad, init, sizeof(bad));
		bad[i] ^= 0x40;
		p = NULL;
		if (noise_consume_initiation(bob.l, bad, lookup, NULL, &bob, &p) == 0)
			fail_msg("initiation with byte %zu flipped was accepted", i);
	}
	/* the untouched message still works, once */
	assert_int_equal(noise_consume_initiation(bob.l, init, lookup, NULL, &bob, &p), 0);
	assert_int_equal(noise_consume_initiation(bob.l, init, lookup, NULL, &bob, &p), -EALREADY);
	unmake();
}

static void test_tampered_response(void **state)
{
	uint8_t init[NOISE_INITIATION_LEN], resp[NOISE_RESPONSE_LEN], bad[NOISE_RESPONSE_LEN];
	struct noise_peer *p;

	(void)state;
	make(NULL, NULL);
	assert_int_equal(noise_create_initiation(alice.l, alice.peer, 9, init), 0);
	assert_int_equal(noise_consume_initiation(bob.l, init, lookup, NULL, &bob, &p), 0);
	assert_int_equal(noise_create_response(p, 10, resp), 0);
	for (size_t i = 0; i < NOISE_MAC1_OFF_RESPONSE + 16; i++) {
		memcpy(bad, resp, sizeof(bad));
		bad[i] ^= 0x01;
		if (noise_consume_response(alice.l, alice.peer, bad) == 0)
			fail_msg("response with byte %zu flipped was accepted", i);
	}
	assert_int_equal(noise_consume_response(alice.l, alice.peer, resp), 0);
	unmake();
}

static void test_unknown_and_wrong_responder(void **state)
{
	uint8_t init[NOISE_INITIATION_LEN], k[32];
	struct noise_local *carol;
	struct noise_peer *p;
	struct side nobody;

	(void)state;
	make(NULL, NULL);
	assert_int_equal(noise_create_initiation(alice.l, alice.peer, 3, init), 0);
	/* bob does not know alice: the static key decrypts, the lookup fails */
	nobody = bob;
	nobody.peer = noise_peer_new(bob.l, bob.l->pub, NULL); /* some other key */
	assert_int_equal(noise_consume_initiation(bob.l, init, lookup, NULL, &nobody, &p), -ENOKEY);
	noise_peer_free(nobody.peer);
	/* carol is not the intended responder: mac1 is wrong for her */
	randombytes_buf(k, 32);
	carol = noise_local_new(k);
	assert_int_equal(noise_consume_initiation(carol, init, lookup, NULL, &bob, &p), -EBADMSG);
	noise_local_free(carol);
	unmake();
}

static int admit_calls;
static bool admit_answer;

static bool admit(void *ctx, struct noise_peer *p)
{
	(void)ctx;
	assert_ptr_equal(p, bob.peer);
	admit_calls++;
	return admit_answer;
}

/* admit sees only what the peer's key proves and is newer than its last;
 * a refusal commits nothing, so the same initiation is taken later. */
static void test_admit(void **state)
{
	uint8_t init[NOISE_INITIATION_LEN], bad[NOISE_INITIATION_LEN], k[32];
	struct noise_local *mallory;
	struct noise_peer *p, *forged;

	(void)state;
	make(NULL, NULL);
	admit_calls = 0;
	assert_int_equal(noise_create_initiation(alice.l, alice.peer, 5, init), 0);
	memcpy(bad, init, sizeof(bad));
	bad[NOISE_MAC1_OFF_INITIATION - 1] ^= 1;         /* in the encrypted timestamp */
	noise_set_mac1(bad, NOISE_MAC1_OFF_INITIATION, alice.peer->remote_mac1_key);
	assert_true(noise_consume_initiation(bob.l, bad, lookup, admit, &bob, &p) < 0);
	/* someone who knows alice's public key but not her private key */
	randombytes_buf(k, 32);
	mallory = noise_local_new(k);
	memcpy(mallory->pub, alice.l->pub, 32);          /* claims to be alice */
	forged = noise_peer_new(mallory, bob.l->pub, NULL);
	assert_int_equal(noise_create_initiation(mallory, forged, 6, bad), 0);
	assert_true(noise_consume_initiation(bob.l, bad, lookup, admit, &bob, &p) < 0);
	noise_peer_free(forged);
	noise_local_free(mallory);
	assert_int_equal(admit_calls, 0);
	admit_answer = false;
	assert_int_equal(noise_consume_initiation(bob.l, init, lookup, admit, &bob, &p), -EBUSY);
	assert_int_equal(admit_calls, 1);
	admit_answer = true;
	assert_int_equal(noise_consume_initiation(bob.l, init, lookup, admit, &bob, &p), 0);
	assert_int_equal(admit_calls, 2);
	assert_int_equal(noise_consume_initiation(bob.l, init, lookup, admit, &bob, &p), -EALREADY);
	assert_int_equal(admit_calls, 2);                /* a replay is not asked about */
	unmake();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_match),
		cmocka_unit_test(test_psk),
		cmocka_unit_test(test_tampered_initiation),
		cmocka_unit_test(test_tampered_response),
		cmocka_unit_test(test_unknown_and_wrong_responder),
		cmocka_unit_test(test_admit),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
