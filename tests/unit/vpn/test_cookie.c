/* test_cookie.c — mac1/mac2 and the cookie exchange under load. */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cookie.h"
#include "noise.h"

static const uint8_t src[6] = { 198, 51, 100, 2, 0xca, 0x6c };     /* 198.51.100.2:51820 */
static const uint8_t other[6] = { 198, 51, 100, 2, 0xca, 0x6d };   /* another port */

static void test_cookie_exchange(void **state)
{
	uint8_t resp_priv[32], resp_pub[32], msg[NOISE_INITIATION_LEN], reply[COOKIE_REPLY_LEN];
	struct cookie_checker c;
	struct cookie_maker m;
	double t = 1000;

	(void)state;
	crypto_box_keypair(resp_pub, resp_priv);
	cookie_checker_init(&c, resp_pub);
	cookie_maker_init(&m, resp_pub);
	randombytes_buf(msg, sizeof(msg));

	/* no cookie yet: mac1 only */
	cookie_add_macs(&m, msg, sizeof(msg), t);
	assert_true(sodium_is_zero(msg + sizeof(msg) - 16, 16));
	assert_int_equal(cookie_validate(&c, msg, sizeof(msg), src, 6, t), COOKIE_VALID_MAC1);
	/* mac1 is also what noise.c checks, with the same key */
	assert_true(noise_mac1_ok(msg, sizeof(msg) - 32, c.mac1_key));

	/* under load the responder sends a cookie; the sender takes it */
	cookie_create_reply(&c, msg, sizeof(msg), 0x01020304, src, 6, t, reply);
	assert_int_equal(reply[0], COOKIE_MSG_REPLY);
	assert_int_equal(cookie_consume_reply(&m, reply, t), 0);
	assert_int_equal(cookie_consume_reply(&m, reply, t), -EINVAL); /* only once */

	/* the next message carries mac2, valid from that address and port only */
	randombytes_buf(msg, sizeof(msg) - 32);
	cookie_add_macs(&m, msg, sizeof(msg), t + 1);
	assert_false(sodium_is_zero(msg + sizeof(msg) - 16, 16));
	assert_int_equal(cookie_validate(&c, msg, sizeof(msg), src, 6, t + 1), COOKIE_VALID_MAC2);
	assert_int_equal(cookie_validate(&c, msg, sizeof(msg), other, 6, t + 1), COOKIE_VALID_MAC1);

	/* a tampered message loses mac1 */
	msg[10] ^= 1;
	assert_int_equal(cookie_validate(&c, msg, sizeof(msg), src, 6, t + 1), COOKIE_INVALID);
	msg[10] ^= 1;

	/* after 115 s the sender stops using the cookie; after 120 s the secret rotates */
	cookie_add_macs(&m, msg, sizeof(msg), t + 116);
	assert_true(sodium_is_zero(msg + sizeof(msg) - 16, 16));
	cookie_add_macs(&m, msg, sizeof(msg), t + 114);
	assert_int_equal(cookie_validate(&c, msg, sizeof(msg), src, 6, t + 121), COOKIE_VALID_MAC1);
}

static void test_forged_reply(void **state)
{
	uint8_t pub[32], priv[32], msg[NOISE_RESPONSE_LEN], reply[COOKIE_REPLY_LEN];
	struct cookie_checker c, mallory;
	struct cookie_maker m;

	(void)state;
	crypto_box_keypair(pub, priv);
	cookie_checker_init(&c, pub);
	cookie_maker_init(&m, pub);
	randombytes_buf(msg, sizeof(msg));
	cookie_add_macs(&m, msg, sizeof(msg), 5);
	/* a reply for another message (wrong AD) or from another key is refused */
	crypto_box_keypair(pub, priv);
	cookie_checker_init(&mallory, pub);
	cookie_create_reply(&mallory, msg, sizeof(msg), 1, src, 6, 5, reply);
	assert_int_equal(cookie_consume_reply(&m, reply, 5), -EBADMSG);
	cookie_create_reply(&c, msg, sizeof(msg), 1, src, 6, 5, reply);
	reply[40] ^= 1;
	assert_int_equal(cookie_consume_reply(&m, reply, 5), -EBADMSG);
	reply[40] ^= 1;
	assert_int_equal(cookie_consume_reply(&m, reply, 5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_exchange),
		cmocka_unit_test(test_forged_reply),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
