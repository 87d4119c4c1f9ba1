/* replay.c — RFC 6479 sliding window over a ring of 64-bit words. */
#include <string.h>

#include "replay.h"

void replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

/* n becomes the highest counter: clear the words after the old highest one,
 * up to and including n's, since they still hold bits from REPLAY_BITS ago. */
static void slide(struct replay *r, uint64_t n)
{
	uint64_t old = r->next ? (r->next - 1) / 64 : 0, now = n / 64;
	uint64_t stale = now - old < REPLAY_WORDS ? now - old : REPLAY_WORDS;

	for (uint64_t i = 1; i <= stale; i++)
		r->ring[(old + i) % REPLAY_WORDS] = 0;
	r->next = n + 1;
}

bool replay_check_and_update(struct replay *r, uint64_t n)
{
	uint64_t *word, bit;

	if (n >= REJECT_AFTER_MESSAGES)
		return false;
	if (n + REPLAY_WINDOW + 1 < r->next) /* n < highest - REPLAY_WINDOW; no overflow */
		return false;
	if (n >= r->next)
		slide(r, n);
	word = &r->ring[(n / 64) % REPLAY_WORDS];
	bit = UINT64_C(1) << (n % 64);
	if (*word & bit)
		return false;
	*word |= bit;
	return true;
}
