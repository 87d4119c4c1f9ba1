/* tai64n.c — TAI64N timestamps (cr.yp.to/libtai/tai64.html). */
#include <string.h>

#include "tai64n.h"

void tai64n_encode(uint8_t out[TAI64N_LEN], const struct timespec *ts)
{
	uint64_t sec = 0x400000000000000aULL + (uint64_t)ts->tv_sec;
	uint32_t ns = (uint32_t)ts->tv_nsec;

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

void tai64n_now(uint8_t out[TAI64N_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec &= ~((1L << 24) - 1);
	tai64n_encode(out, &ts);
}

bool tai64n_after(const uint8_t a[TAI64N_LEN], const uint8_t b[TAI64N_LEN])
{
	return memcmp(a, b, TAI64N_LEN) > 0;
}
