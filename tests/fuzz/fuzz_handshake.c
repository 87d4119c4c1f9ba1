/* fuzz_handshake.c — libFuzzer target for what the network can send to the
 * handshake code: initiations, responses and cookie replies of any length and
 * content. If the first byte has its top bit set, mac1 is recomputed so the
 * fuzzer gets past it into the AEAD and DH paths. */
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "cookie.h"
#include "noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct noise_local *me, *them;
static struct noise_peer *peer_of_them, *peer_of_me;
static struct cookie_checker checker;
static struct cookie_maker maker;

static struct noise_peer *lookup(void *ctx, const uint8_t pub[NOISE_KEY])
{
	(void)ctx;
	return sodium_memcmp(pub, them->pub, NOISE_KEY) == 0 ? peer_of_them : NULL;
}

static void setup(void)
{
	uint8_t k[32];

	if (me)
		return;
	if (sodium_init() < 0)
		__builtin_trap();
	memset(k, 1, 32);
	me = noise_local_new(k);
	memset(k, 2, 32);
	them = noise_local_new(k);
	peer_of_them = noise_peer_new(me, them->pub, NULL);
	peer_of_me = noise_peer_new(them, me->pub, NULL);
	cookie_checker_init(&checker, me->pub);
	cookie_maker_init(&maker, me->pub);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t msg[NOISE_INITIATION_LEN], src[6] = { 198, 51, 100, 9, 0, 1 };
	struct noise_peer *p = NULL;
	bool fix = size && (data[0] & 0x80);

	setup();
	cookie_validate(&checker, data, size, src, sizeof(src), 1.0);
	if (size == NOISE_INITIATION_LEN) {
		memcpy(msg, data, size);
		msg[0] = NOISE_MSG_INITIATION;
		if (fix)
			noise_set_mac1(msg, NOISE_MAC1_OFF_INITIATION, me->mac1_key);
		if (noise_consume_initiation(me, msg, lookup, NULL, NULL, &p) == 0)
			noise_create_response(p, 7, msg);
		memset(peer_of_them->last_timestamp, 0, sizeof(peer_of_them->last_timestamp));
	} else if (size == NOISE_RESPONSE_LEN) {
		uint8_t init[NOISE_INITIATION_LEN];

		noise_create_initiation(them, peer_of_me, 5, init); /* so a response is expected */
		memcpy(msg, data, size);
		msg[0] = NOISE_MSG_RESPONSE;
		msg[8] = 5, msg[9] = msg[10] = msg[11] = 0;
		if (fix)
			noise_set_mac1(msg, NOISE_MAC1_OFF_RESPONSE, them->mac1_key);
		noise_consume_response(them, peer_of_me, msg);
	} else if (size == COOKIE_REPLY_LEN) {
		uint8_t sent[NOISE_RESPONSE_LEN] = { 0 };

		cookie_add_macs(&maker, sent, sizeof(sent), 1.0);
		cookie_consume_reply(&maker, data, 1.0);
	}
	return 0;
}
