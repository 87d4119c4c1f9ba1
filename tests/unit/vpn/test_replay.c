/* test_replay.c — the replay window: the edge cases of the WireGuard kernel
 * selftest, and a long random sequence against a naive model (accept iff
 * below the limit, not older than the window behind the newest, not seen). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replay.h"

#define T_LIM (REPLAY_WINDOW + 1)

static void test_edges(void **state)
{
	static const struct { uint64_t n; bool ok; } seq[] = {
		{ 0, true }, { 1, true }, { 1, false }, { 9, true }, { 8, true }, { 7, true },
		{ 7, false }, { T_LIM, true }, { T_LIM - 1, true }, { T_LIM - 1, false },
		{ T_LIM - 2, true }, { 2, true }, { 2, false }, { T_LIM + 16, true }, { 3, false },
		{ T_LIM + 16, false }, { T_LIM * 4, true }, { T_LIM * 4 - (T_LIM - 1), true },
		{ 10, false }, { T_LIM * 4 - T_LIM, false }, { T_LIM * 4 - (T_LIM + 1), false },
		{ T_LIM * 4 - (T_LIM - 2), true }, { T_LIM * 4 + 1 - T_LIM, false }, { 0, false },
		{ REJECT_AFTER_MESSAGES, false }, { REJECT_AFTER_MESSAGES - 1, true },
		{ REJECT_AFTER_MESSAGES, false }, { REJECT_AFTER_MESSAGES - 1, false },
		{ REJECT_AFTER_MESSAGES - 2, true }, { REJECT_AFTER_MESSAGES + 1, false },
		{ REJECT_AFTER_MESSAGES + 2, false }, { REJECT_AFTER_MESSAGES - 2, false },
		{ REJECT_AFTER_MESSAGES - 3, true }, { 0, false },
	};
	struct replay r;

	(void)state;
	replay_init(&r);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		if (replay_validate(&r, seq[i].n) != seq[i].ok)
			fail_msg("step %zu: counter %llu should be %s", i + 1,
				 (unsigned long long)seq[i].n, seq[i].ok ? "accepted" : "rejected");
}

static void test_window_edge_exact(void **state)
{
	struct replay r;

	(void)state;
	replay_init(&r);
	assert_true(replay_validate(&r, 20000));
	assert_true(replay_validate(&r, 20000 - REPLAY_WINDOW));      /* the oldest allowed */
	assert_false(replay_validate(&r, 20000 - REPLAY_WINDOW - 1)); /* one too old */
	assert_false(replay_validate(&r, 20000 - REPLAY_WINDOW));     /* and only once */
}

/* random traffic: in order, reordered, duplicated, jumps; naive model agrees */
static void test_random_vs_model(void **state)
{
	enum { MAXC = 1 << 21 };
	uint8_t *seen = calloc(MAXC / 8, 1);
	unsigned seed = 99;
	uint64_t top = 0, next = 0;
	struct replay r;

	(void)state;
	assert_non_null(seen);
	replay_init(&r);
	for (int i = 0; i < 400000; i++) {
		int k = rand_r(&seed) % 100;
		uint64_t n;
		bool model, got;

		if (k < 60)
			n = next++;
		else if (k < 85)
			n = next > 9000 ? next - (uint64_t)(rand_r(&seed) % 9000) : 0;
		else if (k < 97)
			n = next > 50 ? next - (uint64_t)(rand_r(&seed) % 50) : next;
		else
			n = (next += (uint64_t)(rand_r(&seed) % 20000));
		if (n >= MAXC - 1)
			break;
		model = !(seen[n / 8] & (1 << (n % 8))) && !(REPLAY_WINDOW + n + 1 < top);
		got = replay_validate(&r, n);
		if (model != got)
			fail_msg("step %d: counter %llu (newest+1 %llu): model %d, window %d", i,
				 (unsigned long long)n, (unsigned long long)top, model, got);
		if (model) {
			seen[n / 8] |= (uint8_t)(1 << (n % 8));
			if (n + 1 > top)
				top = n + 1;
		}
	}
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_window_edge_exact),
		cmocka_unit_test(test_random_vs_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
