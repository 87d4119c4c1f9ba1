/* tai64n.h — the handshake timestamp: BE64(2^62 + 10 + seconds) || BE32(ns). */
#ifndef VPN_TAI64N_H
#define VPN_TAI64N_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define TAI64N_LEN 12

void tai64n_encode(uint8_t out[TAI64N_LEN], const struct timespec *ts);
/* Like the kernel: nanoseconds rounded down to a multiple of 2^24 so that the
 * timestamp does not leak a precise clock. */
void tai64n_now(uint8_t out[TAI64N_LEN]);
/* Is a strictly later than b? (byte-wise, as the responder checks) */
bool tai64n_after(const uint8_t a[TAI64N_LEN], const uint8_t b[TAI64N_LEN]);

#endif
