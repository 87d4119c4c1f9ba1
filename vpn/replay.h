/* replay.h — the receive-side counter window of a keypair (RFC 6479).
 *
 * A ring of REPLAY_BITS bits, one per counter, in 64-bit words. When a newer
 * counter arrives the window slides forward by clearing only the words that
 * fall out, so every packet costs O(1) however far the counter jumps. The
 * word holding the newest counter is only partly in use, so REPLAY_WINDOW =
 * REPLAY_BITS - 64 = 8128 counters behind the newest are guaranteed to be
 * tracked: as in the kernel (COUNTER_WINDOW_SIZE) and wireguard-go, a counter
 * exactly 8128 below the newest is still accepted once, 8129 below is
 * rejected as too old.
 *
 * Use: check the counter is below REJECT_AFTER_MESSAGES, authenticate the
 * packet, and only then call replay_check_and_update() (a forged packet must
 * not move the window). */
#ifndef VPN_REPLAY_H
#define VPN_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_BITS 8192
#define REPLAY_WORDS (REPLAY_BITS / 64)
#define REPLAY_WINDOW (REPLAY_BITS - 64) /* 8128 */
/* 2^64 - 2^13 - 1 (whitepaper, wireguard-go): no counter at or above this is
 * ever sent or accepted. (The kernel's U64_MAX - 8128 - 1 is 62 higher.) */
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (UINT64_C(1) << 13))

struct replay {
	uint64_t next;                 /* 1 + the highest counter accepted; 0: none yet */
	uint64_t ring[REPLAY_WORDS];   /* bit c % REPLAY_BITS: counter c was seen */
};

void replay_init(struct replay *r);
/* True if counter n is new: below REJECT_AFTER_MESSAGES, not more than
 * REPLAY_WINDOW below the highest accepted counter, and not seen before; it
 * is then recorded. False (nothing changes) otherwise. */
bool replay_check_and_update(struct replay *r, uint64_t n);

#endif
