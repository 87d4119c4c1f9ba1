/* test_packet.c — transport data: padding rule, round trips, keepalives,
 * forged and replayed messages. */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packet.h"

static void keys(struct noise_keypair *a, struct noise_keypair *b)
{
	memset(a, 0, sizeof(*a));
	randombytes_buf(a->send, 32);
	randombytes_buf(a->recv, 32);
	a->remote_index = 0xdeadbeef;
	memcpy(b->send, a->recv, 32);
	memcpy(b->recv, a->send, 32);
}

static size_t ipv4(uint8_t *p, size_t len)
{
	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	randombytes_buf(p + 20, len - 20);
	return len;
}

static void test_padding(void **state)
{
	(void)state;
	assert_int_equal(packet_padded_len(0, 1420), 0);      /* keepalive */
	assert_int_equal(packet_padded_len(1, 1420), 16);
	assert_int_equal(packet_padded_len(16, 1420), 16);
	assert_int_equal(packet_padded_len(17, 1420), 32);
	assert_int_equal(packet_padded_len(1415, 1420), 1420); /* clamped to the MTU */
	assert_int_equal(packet_padded_len(1420, 1420), 1420);
	assert_int_equal(packet_padded_len(1421, 1420), 1436); /* base len % mtu = 1 */
	assert_int_equal(packet_padded_len(17, 0), 32);        /* no MTU: round up */
}

static void test_round_trip(void **state)
{
	struct noise_keypair a, b;
	struct replay r;
	uint8_t ip[1500], wire[1600], out[1600];
	size_t sizes[] = { 20, 21, 84, 1399, 1420 };

	(void)state;
	keys(&a, &b);
	replay_init(&r);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = ipv4(ip, sizes[i]), w = packet_seal(&a, i, ip, n, 1420, wire);
		uint32_t idx;

		assert_int_equal(w, PACKET_OVERHEAD + packet_padded_len(n, 1420));
		assert_true(w % 16 == 0 || w == PACKET_OVERHEAD + 1420); /* or clamped to the MTU */
		assert_int_equal(packet_receiver(wire, w, &idx), 0);
		assert_int_equal(idx, 0xdeadbeef);
		assert_int_equal(packet_open(&b, &r, wire, w, out), (long)n);
		assert_memory_equal(out, ip, n);
	}
	/* a keepalive is exactly 32 bytes and opens to nothing */
	assert_int_equal(packet_seal(&a, 100, NULL, 0, 1420, wire), 32);
	assert_int_equal(packet_open(&b, &r, wire, 32, out), 0);
}

static void test_forged_and_replayed(void **state)
{
	struct noise_keypair a, b, c;
	struct replay r;
	uint8_t ip[100], wire[200], out[200];
	size_t n = ipv4(ip, 100), w;

	(void)state;
	keys(&a, &b);
	keys(&c, &c);
	replay_init(&r);
	w = packet_seal(&a, 5, ip, n, 1420, wire);
	for (size_t i = 8; i < w; i++) { /* counter and ciphertext are authenticated */
		wire[i] ^= 0x20;
		if (packet_open(&b, &r, wire, w, out) >= 0)
			fail_msg("byte %zu flipped and accepted", i);
		wire[i] ^= 0x20;
	}
	assert_int_equal(packet_open(&c, &r, wire, w, out), -EBADMSG); /* wrong key */
	assert_int_equal(packet_open(&b, &r, wire, w, out), (long)n);
	assert_int_equal(packet_open(&b, &r, wire, w, out), -EALREADY); /* replay */
	assert_int_equal(packet_open(&b, &r, wire, 31, out), -EINVAL);  /* too short */
	/* inner garbage that authenticates is still dropped */
	memset(ip, 0xff, sizeof(ip));
	w = packet_seal(&a, 6, ip, 64, 1420, wire);
	assert_int_equal(packet_open(&b, &r, wire, w, out), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_forged_and_replayed),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
