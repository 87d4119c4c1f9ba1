/* tai64n.h — TAI64N timestamps (cr.yp.to/libtai/tai64.html), the handshake
 * initiation's replay protection: 12 bytes, BE64(2^62 + 10 + unix seconds) ||
 * BE32(nanoseconds). Big-endian, so a later time compares greater byte-wise;
 * a responder accepts an initiation only if its timestamp is greater than
 * the last one accepted from that peer. */
#ifndef VPN_TAI64N_H
#define VPN_TAI64N_H

#include <stdint.h>
#include <time.h>

#define TAI64N_LEN 12
#define TAI64N_LABEL_UNIX_EPOCH 0x400000000000000aULL /* 2^62 + 10 (TAI - UTC in 1970) */
/* The kernel rounds nanoseconds down to a multiple of 2^24 ns (~16.8 ms, the
 * largest power of two below 1 s / INITIATIONS_PER_SECOND) so that the
 * timestamp does not disclose a fine clock. */
#define TAI64N_ROUND_NS (1L << 24)

void tai64n_encode(uint8_t out[TAI64N_LEN], const struct timespec *ts);
/* Inverse of encode. 0, or -EINVAL if the nanoseconds are >= 10^9. */
int tai64n_decode(struct timespec *ts, const uint8_t in[TAI64N_LEN]);
/* Round tv_nsec down to a multiple of TAI64N_ROUND_NS. */
void tai64n_round(struct timespec *ts);
/* The current CLOCK_REALTIME, rounded (what an initiation carries). 0 or -errno. */
int tai64n_now(uint8_t out[TAI64N_LEN]);
/* <0, 0, >0 as a is earlier than, equal to, later than b. */
int tai64n_compare(const uint8_t a[TAI64N_LEN], const uint8_t b[TAI64N_LEN]);

#endif
