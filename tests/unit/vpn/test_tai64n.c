/* test_tai64n.c — TAI64N encoding (known labels), decoding, ordering as
 * byte strings (what the responder's replay check relies on), the kernel's
 * rounding to 2^24 ns, and the current time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tai64n.h"
#include "vpn_test.h"

static void test_known_values(void **state)
{
	static const struct {
		struct timespec ts;
		const char *hex;
	} known[] = {
		{ { 0, 0 }, "400000000000000a00000000" }, /* the unix epoch */
		{ { 0, 1 }, "400000000000000a00000001" },
		{ { 1, 999999999 }, "400000000000000b3b9ac9ff" },
		{ { -1, 0 }, "400000000000000900000000" }, /* 1969 */
		{ { 1764000000, 123456789 }, "400000006924810a075bcd15" },
		{ { 2147483648LL, 0 }, "400000008000000a00000000" }, /* after 2038 */
	};
	uint8_t b[TAI64N_LEN];
	struct timespec back;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(known); i++) {
		tai64n_encode(b, &known[i].ts);
		assert_hex_equal(b, TAI64N_LEN, known[i].hex);
		assert_int_equal(tai64n_decode(&back, b), 0);
		assert_int_equal(back.tv_sec, known[i].ts.tv_sec);
		assert_int_equal(back.tv_nsec, known[i].ts.tv_nsec);
	}
}

static void test_decode_rejects_bad_nanoseconds(void **state)
{
	uint8_t b[TAI64N_LEN];
	struct timespec ts = { 5, 1000000000 }, out = { 7, 7 };

	(void)state;
	tai64n_encode(b, &ts);
	assert_hex_equal(b + 8, 4, "3b9aca00");
	assert_int_equal(tai64n_decode(&out, b), -EINVAL);
	memset(b + 8, 0xff, 4);
	assert_int_equal(tai64n_decode(&out, b), -EINVAL);
	assert_int_equal(out.tv_sec, 7); /* untouched */
}

/* Random increasing times encode to increasing byte strings, and compare
 * agrees with the times, across second boundaries and big jumps. */
static void test_ordering(void **state)
{
	uint64_t rng = test_seed();
	struct timespec a = { 1000000000, 0 }, b;
	uint8_t ea[TAI64N_LEN], eb[TAI64N_LEN];

	(void)state;
	tai64n_encode(ea, &a);
	assert_int_equal(tai64n_compare(ea, ea), 0);
	for (int i = 0; i < 20000; i++) {
		b = a;
		switch (prng_below(&rng, 4)) {
		case 0: b.tv_nsec += 1; break;
		case 1: b.tv_nsec = 999999999; break;
		case 2: b.tv_sec += 1; b.tv_nsec = 0; break; /* next second, smaller ns */
		default: b.tv_sec += (time_t)prng_below(&rng, 1u << 20); b.tv_nsec = 0; break;
		}
		if (b.tv_nsec >= 1000000000L) {
			b.tv_sec++;
			b.tv_nsec = 0;
		}
		tai64n_encode(eb, &b);
		if (b.tv_sec == a.tv_sec && b.tv_nsec == a.tv_nsec) {
			assert_int_equal(tai64n_compare(eb, ea), 0);
		} else if (!(tai64n_compare(eb, ea) > 0 && tai64n_compare(ea, eb) < 0)) {
			fail_msg("%lld.%09ld does not compare after %lld.%09ld (seed %llu)",
				 (long long)b.tv_sec, b.tv_nsec, (long long)a.tv_sec, a.tv_nsec,
				 (unsigned long long)test_seed());
		}
		a = b;
		memcpy(ea, eb, sizeof(ea));
	}
}

static void test_rounding(void **state)
{
	static const long cases[][2] = {
		{ 0, 0 },
		{ 1, 0 },
		{ (1L << 24) - 1, 0 },
		{ 1L << 24, 1L << 24 },
		{ (1L << 24) + 5, 1L << 24 },
		{ 999999999, 989855744 }, /* 59 * 2^24 */
	};
	struct timespec ts;
	uint64_t rng = test_seed();

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		ts = (struct timespec){ 42, cases[i][0] };
		tai64n_round(&ts);
		assert_int_equal(ts.tv_sec, 42);
		assert_int_equal(ts.tv_nsec, cases[i][1]);
	}
	for (int i = 0; i < 10000; i++) {
		long ns = (long)prng_below(&rng, 1000000000);

		ts = (struct timespec){ 42, ns };
		tai64n_round(&ts);
		assert_int_equal(ts.tv_nsec % TAI64N_ROUND_NS, 0);
		assert_true(ts.tv_nsec <= ns && ns - ts.tv_nsec < TAI64N_ROUND_NS);
	}
}

/* Two initiations in the same 2^24 ns slot carry equal timestamps, so the
 * second is refused as not newer: the rate limit rounding gives. */
static void test_rounding_equal_in_slot(void **state)
{
	struct timespec a = { 100, 3L << 24 }, b = { 100, (4L << 24) - 1 }, c = { 100, 4L << 24 };
	uint8_t ea[TAI64N_LEN], eb[TAI64N_LEN], ec[TAI64N_LEN];

	(void)state;
	tai64n_round(&a);
	tai64n_round(&b);
	tai64n_round(&c);
	tai64n_encode(ea, &a);
	tai64n_encode(eb, &b);
	tai64n_encode(ec, &c);
	assert_int_equal(tai64n_compare(eb, ea), 0);
	assert_true(tai64n_compare(ec, eb) > 0);
}

static void test_now(void **state)
{
	uint8_t first[TAI64N_LEN], second[TAI64N_LEN];
	struct timespec real, got;

	(void)state;
	assert_int_equal(tai64n_now(first), 0);
	assert_int_equal(clock_gettime(CLOCK_REALTIME, &real), 0);
	assert_int_equal(tai64n_now(second), 0);
	assert_true(tai64n_compare(second, first) >= 0);
	assert_int_equal(tai64n_decode(&got, first), 0);
	assert_int_equal(got.tv_nsec % TAI64N_ROUND_NS, 0);
	assert_true(got.tv_sec <= real.tv_sec && real.tv_sec - got.tv_sec <= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_decode_rejects_bad_nanoseconds),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_rounding_equal_in_slot),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
