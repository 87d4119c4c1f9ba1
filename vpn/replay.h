/* replay.h — the receive counter window (RFC 6479), with WireGuard's sizes:
 * an 8192-bit ring of which 8128 counters are usable behind the newest. */
#ifndef VPN_REPLAY_H
#define VPN_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_BITS_TOTAL 8192
#define REPLAY_WINDOW (REPLAY_BITS_TOTAL - 64)           /* 8128 */
#define REJECT_AFTER_MESSAGES (UINT64_MAX - REPLAY_WINDOW - 1)

struct replay {
	uint64_t counter;                            /* newest seen + 1 */
	uint64_t ring[REPLAY_BITS_TOTAL / 64];
};

void replay_init(struct replay *r);
/* Accept counter n (and remember it) unless it is a repeat, too old, or at or
 * beyond REJECT_AFTER_MESSAGES. Call only after the packet authenticated. */
bool replay_validate(struct replay *r, uint64_t n);

#endif
