/* test_replay.c — the RFC 6479 replay window with WireGuard's sizes: in
 * order, out of order, the exact window edge (8128 behind the newest is
 * accepted, 8129 is not), duplicates, jumps over the whole ring, counters
 * around REJECT_AFTER_MESSAGES, and a long random sequence compared with a
 * naive reference (a set of every counter seen + the same window rule). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "replay.h"
#include "vpn_test.h"

static void accept(struct replay *r, uint64_t n)
{
	if (!replay_check_and_update(r, n))
		fail_msg("counter %llu should be accepted", (unsigned long long)n);
}

static void reject(struct replay *r, uint64_t n)
{
	if (replay_check_and_update(r, n))
		fail_msg("counter %llu should be rejected", (unsigned long long)n);
}

static void test_constants(void **state)
{
	(void)state;
	assert_int_equal(REPLAY_WINDOW, 8128);
	/* 2^64 - 2^13 - 1, written differently from the header */
	assert_true(REJECT_AFTER_MESSAGES == 0xffffffffffffdfffULL);
}

static void test_in_order_and_duplicates(void **state)
{
	struct replay r;

	(void)state;
	replay_init(&r);
	for (uint64_t n = 0; n < 30000; n++) {
		accept(&r, n);
		reject(&r, n);
		if (n >= 64)
			reject(&r, n - 64);
	}
}

static void test_out_of_order(void **state)
{
	struct replay r;

	(void)state;
	replay_init(&r);
	accept(&r, 10000);
	for (uint64_t n = 9999; n >= 10000 - REPLAY_WINDOW; n--) /* newest first, downwards */
		accept(&r, n);
	reject(&r, 10000 - REPLAY_WINDOW - 1);
	for (uint64_t n = 10000 - REPLAY_WINDOW; n <= 10000; n++)
		reject(&r, n); /* all seen now */
	accept(&r, 10002); /* a gap */
	accept(&r, 10001);
	reject(&r, 10000 - REPLAY_WINDOW + 1); /* the window moved by 2 */
}

/* The edge, with the newest counter at every bit position of a word */
static void test_window_edge(void **state)
{
	struct replay r;

	(void)state;
	for (uint64_t top = 9000; top < 9000 + 130; top++) {
		replay_init(&r);
		accept(&r, top);
		reject(&r, top - REPLAY_WINDOW - 1); /* 8129 behind: too old */
		accept(&r, top - REPLAY_WINDOW);     /* 8128 behind: still in */
		reject(&r, top - REPLAY_WINDOW);     /* once */
		accept(&r, top - 1);
	}
	replay_init(&r); /* a young session: the edge counts from the newest too */
	accept(&r, REPLAY_WINDOW);
	accept(&r, 0); /* exactly 8128 behind */
	reject(&r, 0);
	accept(&r, REPLAY_WINDOW + 1);
	accept(&r, 1); /* exactly 8128 behind again */
	reject(&r, 1);
}

/* Jumps of a whole ring (8192) and more must clear the bits left behind */
static void test_jumps(void **state)
{
	static const uint64_t jumps[] = { 8191, 8192, 8193, 8192 * 2, 8192 * 5 + 7, 1000000 };
	struct replay r;
	uint64_t top;

	(void)state;
	for (size_t j = 0; j < ARRAY_LEN(jumps); j++) {
		replay_init(&r);
		for (uint64_t n = 0; n < 8192; n++)
			accept(&r, n); /* every bit of the ring set */
		top = 8191 + jumps[j];
		accept(&r, top);
		for (uint64_t n = top - 1; n >= top - REPLAY_WINDOW && n > 8191; n--)
			accept(&r, n); /* slots of old counters, now free */
		reject(&r, 8191);
		reject(&r, top);
	}
	replay_init(&r);
	accept(&r, 5);
	accept(&r, UINT64_C(1) << 62); /* a huge jump */
	reject(&r, 5);
	accept(&r, (UINT64_C(1) << 62) - REPLAY_WINDOW);
	reject(&r, (UINT64_C(1) << 62) - REPLAY_WINDOW - 1);
}

static void test_reject_after_messages(void **state)
{
	const uint64_t last = REJECT_AFTER_MESSAGES - 1;
	struct replay r;

	(void)state;
	replay_init(&r);
	reject(&r, UINT64_MAX);
	reject(&r, REJECT_AFTER_MESSAGES);
	reject(&r, REJECT_AFTER_MESSAGES + 1);
	accept(&r, 0); /* the refused ones left no trace */
	accept(&r, last - 2);
	accept(&r, last);
	reject(&r, last);
	reject(&r, REJECT_AFTER_MESSAGES);
	reject(&r, UINT64_MAX);
	accept(&r, last - 1);
	reject(&r, last - 2);
	accept(&r, last - REPLAY_WINDOW);
	reject(&r, last - REPLAY_WINDOW - 1);
	reject(&r, 0);
}

/* ---- random traffic against a naive reference ------------------------------- */

#define SPAN (UINT64_C(1) << 24) /* counters base .. base + SPAN */
#define STEPS 200000

struct model {
	uint8_t *seen; /* one bit per counter - base */
	uint64_t base, newest;
	bool any;      /* newest is set */
};

/* accept unless over the limit, more than REPLAY_WINDOW below the newest, or seen */
static bool model_accept(struct model *m, uint64_t n)
{
	uint64_t i = n - m->base;

	if (n >= REJECT_AFTER_MESSAGES)
		return false;
	if (m->any && n < m->newest && m->newest - n > REPLAY_WINDOW)
		return false;
	if (m->seen[i / 8] & (1u << (i % 8)))
		return false;
	m->seen[i / 8] |= (uint8_t)(1u << (i % 8));
	if (!m->any || n > m->newest)
		m->newest = n;
	m->any = true;
	return true;
}

/* next counter: mostly in order, some reordered, duplicated, at the edge, or jumping */
static uint64_t traffic(uint64_t *rng, const struct model *m, uint64_t *cursor)
{
	uint64_t top = m->any ? m->newest : m->base, behind = top - m->base;
	size_t k = prng_below(rng, 1000);

	if (k < 500)
		return (*cursor)++;
	if (k < 700) /* reordered a little, or a duplicate */
		return top - (behind < 64 ? 0 : prng_below(rng, 64));
	if (k < 800) /* anywhere in the window or just beyond it */
		return top - (behind < 8300 ? 0 : prng_below(rng, 8300));
	if (k < 880) /* exactly at the edge */
		return top - (behind < 8130 ? 0 : REPLAY_WINDOW + prng_below(rng, 2));
	if (k < 998)
		return (*cursor += prng_below(rng, 100));
	return (*cursor += prng_below(rng, 3 * 8192)); /* past the whole ring, often */
}

/* Runs STEPS counters from base through both; returns how many were accepted. */
static size_t random_run(uint64_t base, uint64_t seed)
{
	struct model m = { .seen = calloc(SPAN / 8, 1), .base = base };
	uint64_t rng = seed, cursor = base;
	size_t accepted = 0;
	struct replay r;

	assert_non_null(m.seen);
	replay_init(&r);
	if (base) { /* start the window at base, then model it from there */
		assert_true(replay_check_and_update(&r, base));
		model_accept(&m, base);
	}
	for (int i = 0; i < STEPS; i++) {
		uint64_t n = traffic(&rng, &m, &cursor);
		bool want, got;

		if (n - base >= SPAN)
			fail_msg("the random traffic outran SPAN: make it larger");
		want = model_accept(&m, n);
		got = replay_check_and_update(&r, n);
		if (want != got)
			fail_msg("step %d: counter %llu (base %llu, newest %llu): reference %d, "
				 "window %d (seed %llu)", i, (unsigned long long)n,
				 (unsigned long long)base, (unsigned long long)m.newest, want,
				 got, (unsigned long long)seed);
		accepted += got;
	}
	free(m.seen);
	return accepted;
}

static void test_random_vs_reference(void **state)
{
	size_t a;

	(void)state;
	a = random_run(0, test_seed());
	assert_true(a > STEPS / 10 && a < STEPS * 9 / 10); /* plenty of both outcomes */
	a = random_run(UINT64_C(123456789012), test_seed() + 1);
	assert_true(a > STEPS / 10 && a < STEPS * 9 / 10);
	/* near the end: the limit cuts in while the window moves, then everything
	 * new is refused */
	a = random_run(REJECT_AFTER_MESSAGES - (1u << 20), test_seed() + 2);
	assert_true(a > 1000 && a < STEPS / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_in_order_and_duplicates),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_window_edge),
		cmocka_unit_test(test_jumps),
		cmocka_unit_test(test_reject_after_messages),
		cmocka_unit_test(test_random_vs_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
