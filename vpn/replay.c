/* replay.c — sliding replay window over a ring of 64-bit words (RFC 6479):
 * moving forward clears only the words that fall out, so each packet costs
 * O(1) however far the counter jumps. */
#include <string.h>

#include "replay.h"

#define WORDS (REPLAY_BITS_TOTAL / 64)

void replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool replay_validate(struct replay *r, uint64_t n)
{
	uint64_t index, cur, top, bit;

	if (r->counter >= REJECT_AFTER_MESSAGES + 1 || n >= REJECT_AFTER_MESSAGES)
		return false;
	n++; /* stored as newest + 1, so that 0 means "nothing seen yet" */
	if (REPLAY_WINDOW + n < r->counter)
		return false; /* too old */
	index = n >> 6;
	if (n > r->counter) {
		cur = r->counter >> 6;
		top = index - cur < WORDS ? index - cur : WORDS;
		for (uint64_t i = 1; i <= top; i++)
			r->ring[(cur + i) & (WORDS - 1)] = 0;
		r->counter = n;
	}
	index &= WORDS - 1;
	bit = 1ULL << (n & 63);
	if (r->ring[index] & bit)
		return false; /* seen */
	r->ring[index] |= bit;
	return true;
}
