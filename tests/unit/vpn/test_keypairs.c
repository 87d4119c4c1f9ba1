/* test_keypairs.c — slot rotation as initiator and responder, lookup by
 * index, and the send/rekey rules over time. */
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keypairs.h"
#include "timers.h"

static struct noise_keypair nk(uint32_t index, bool initiator)
{
	struct noise_keypair k;

	memset(&k, 0, sizeof(k));
	k.local_index = index;
	k.initiator = initiator;
	return k;
}

static void test_initiator_rotation(void **state)
{
	struct keypairs ks = { 0 };
	struct noise_keypair a = nk(1, true), b = nk(2, true), c = nk(3, true);

	(void)state;
	assert_int_equal(keypairs_add(&ks, &a, 0), 0);
	assert_int_equal(ks.cur->k.local_index, 1);
	assert_null(ks.prev);
	keypairs_add(&ks, &b, 10);
	assert_int_equal(ks.cur->k.local_index, 2);
	assert_int_equal(ks.prev->k.local_index, 1); /* old one still decrypts in-flight data */
	keypairs_add(&ks, &c, 20);
	assert_int_equal(ks.prev->k.local_index, 2);
	assert_null(keypairs_find(&ks, 1));           /* gone */
	assert_non_null(keypairs_find(&ks, 3));
	keypairs_clear(&ks);
}

static void test_responder_waits_for_confirmation(void **state)
{
	struct keypairs ks = { 0 };
	struct noise_keypair a = nk(1, true), r = nk(2, false);
	struct keypair *kp;

	(void)state;
	keypairs_add(&ks, &a, 0);
	keypairs_add(&ks, &r, 5);
	assert_int_equal(ks.cur->k.local_index, 1); /* not used to send yet */
	assert_int_equal(ks.next->k.local_index, 2);
	assert_ptr_equal(keypairs_for_send(&ks, 5), ks.cur);
	kp = keypairs_find(&ks, 2);
	keypairs_received_with(&ks, kp);            /* first data under it */
	assert_int_equal(ks.cur->k.local_index, 2);
	assert_int_equal(ks.prev->k.local_index, 1);
	assert_null(ks.next);
	keypairs_clear(&ks);
}

static void test_time_rules(void **state)
{
	struct keypairs ks = { 0 };
	struct noise_keypair a = nk(1, true), r = nk(2, false);

	(void)state;
	keypairs_add(&ks, &a, 0);
	assert_false(keypairs_rekey_on_send(&ks, 120));
	assert_true(keypairs_rekey_on_send(&ks, 120.5));    /* REKEY_AFTER_TIME, initiator */
	assert_false(keypairs_rekey_on_receive(&ks, 165));
	assert_true(keypairs_rekey_on_receive(&ks, 165.5)); /* 180 - 10 - 5 */
	assert_non_null(keypairs_for_send(&ks, 179.9));
	assert_null(keypairs_for_send(&ks, 180));           /* REJECT_AFTER_TIME */
	ks.cur->birth = 0;
	ks.cur->send_counter = REKEY_AFTER_MESSAGES + 1;
	assert_true(keypairs_rekey_on_send(&ks, 1));
	ks.cur->send_counter = REJECT_AFTER_MESSAGES;
	assert_null(keypairs_for_send(&ks, 1));             /* exhausted */
	keypairs_clear(&ks);
	/* a responder's session is not rekeyed for its age */
	keypairs_add(&ks, &r, 0);
	keypairs_received_with(&ks, ks.next);
	assert_false(keypairs_rekey_on_send(&ks, 150));
	assert_false(keypairs_rekey_on_receive(&ks, 170));
	keypairs_clear(&ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initiator_rotation),
		cmocka_unit_test(test_responder_waits_for_confirmation),
		cmocka_unit_test(test_time_rules),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
