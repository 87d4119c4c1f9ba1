/* test_timers.c — the timer rules, stepped through with a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "timers.h"

static double fixed_jitter(void *ctx)
{
	return *(double *)ctx;
}

static double j = 0.25;

static void test_retransmit_then_give_up(void **state)
{
	struct timers t;
	double now = 0, next = 0;
	unsigned sends = 1; /* the first initiation */

	(void)state;
	timers_init(&t, fixed_jitter, &j);
	timers_handshake_initiated(&t, now);
	assert_int_equal(timers_due(&t, 5.2, &next), 0); /* 5 s + jitter not yet */
	assert_true(next == 5.25);
	for (;;) {
		unsigned a;

		now = next;
		a = timers_due(&t, now, &next);
		if (a & TIMERS_GIVE_UP)
			break;
		assert_int_equal(a, TIMERS_SEND_INITIATION);
		sends++;
		timers_handshake_initiated(&t, now); /* what the sender does */
		next = t.retransmit;
	}
	assert_int_equal(sends, 1 + MAX_TIMER_HANDSHAKES + 1); /* the kernel's "> 18" */
	assert_true(now > 90 && now < 110);
	assert_true(t.zero_keys == now + 540); /* keys go after 9 more minutes */
	assert_int_equal(timers_due(&t, now + 539, NULL), 0);
	assert_int_equal(timers_due(&t, now + 540, NULL), TIMERS_ZERO_KEYS);
}

static void test_handshake_complete_stops_retries(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, fixed_jitter, &j);
	timers_handshake_initiated(&t, 0);
	timers_handshake_complete(&t);
	assert_int_equal(timers_due(&t, 100, NULL), 0);
	assert_int_equal(t.handshake_attempts, 0);
}

static void test_passive_keepalive(void **state)
{
	struct timers t;
	double next;

	(void)state;
	timers_init(&t, fixed_jitter, &j);
	timers_data_received(&t, 0);
	assert_int_equal(timers_due(&t, 9.9, NULL), 0);
	assert_int_equal(timers_due(&t, 10, NULL), TIMERS_SEND_KEEPALIVE);
	/* something sent in the meantime makes the keepalive unnecessary */
	timers_data_received(&t, 20);
	timers_any_authenticated_packet_sent(&t);
	assert_int_equal(timers_due(&t, 40, NULL), 0);
	/* more data while one is pending: another keepalive 10 s later */
	timers_data_received(&t, 50);
	timers_data_received(&t, 53);
	assert_int_equal(timers_due(&t, 60, &next), TIMERS_SEND_KEEPALIVE);
	assert_true(next == 70);
	assert_int_equal(timers_due(&t, 70, &next), TIMERS_SEND_KEEPALIVE);
	assert_true(next == 0);
}

static void test_dead_session_triggers_handshake(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, fixed_jitter, &j);
	timers_data_sent(&t, 0);
	timers_data_sent(&t, 5); /* does not push the deadline */
	assert_int_equal(timers_due(&t, 15.2, NULL), 0);
	assert_int_equal(timers_due(&t, 15.25, NULL), TIMERS_SEND_INITIATION);
	/* an answer in time cancels it */
	timers_data_sent(&t, 100);
	timers_any_authenticated_packet_received(&t);
	assert_int_equal(timers_due(&t, 200, NULL), 0);
}

static void test_session_and_persistent_keepalive(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, NULL, NULL);
	timers_session_derived(&t, 0);
	t.persistent_interval = 25;
	timers_any_authenticated_packet_traversal(&t, 0);
	assert_int_equal(timers_due(&t, 24, NULL), 0);
	assert_int_equal(timers_due(&t, 25, NULL), TIMERS_SEND_KEEPALIVE);
	timers_any_authenticated_packet_traversal(&t, 25);
	timers_session_derived(&t, 30); /* a new session pushes the wipe back */
	assert_int_equal(timers_due(&t, 540, NULL), TIMERS_SEND_KEEPALIVE);
	assert_int_equal(timers_due(&t, 570, NULL), TIMERS_ZERO_KEYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retransmit_then_give_up),
		cmocka_unit_test(test_handshake_complete_stops_retries),
		cmocka_unit_test(test_passive_keepalive),
		cmocka_unit_test(test_dead_session_triggers_handshake),
		cmocka_unit_test(test_session_and_persistent_keepalive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
