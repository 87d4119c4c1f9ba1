/* tai64n.c — TAI64N encode/decode, rounding and ordering. */
#include <errno.h>
#include <string.h>

#include "tai64n.h"

void tai64n_encode(uint8_t out[TAI64N_LEN], const struct timespec *ts)
{
	/* modulo 2^64, which also gives the right label before 1970 */
	uint64_t label = TAI64N_LABEL_UNIX_EPOCH + (uint64_t)(int64_t)ts->tv_sec;
	uint32_t ns = (uint32_t)ts->tv_nsec;

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(label >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

int tai64n_decode(struct timespec *ts, const uint8_t in[TAI64N_LEN])
{
	uint64_t label = 0;
	uint32_t ns = 0;

	for (int i = 0; i < 8; i++)
		label = label << 8 | in[i];
	for (int i = 8; i < 12; i++)
		ns = ns << 8 | in[i];
	if (ns >= 1000000000u)
		return -EINVAL;
	ts->tv_sec = (time_t)(int64_t)(label - TAI64N_LABEL_UNIX_EPOCH);
	ts->tv_nsec = (long)ns;
	return 0;
}

void tai64n_round(struct timespec *ts)
{
	ts->tv_nsec -= ts->tv_nsec % TAI64N_ROUND_NS;
}

int tai64n_now(uint8_t out[TAI64N_LEN])
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -errno;
	tai64n_round(&ts);
	tai64n_encode(out, &ts);
	return 0;
}

int tai64n_compare(const uint8_t a[TAI64N_LEN], const uint8_t b[TAI64N_LEN])
{
	return memcmp(a, b, TAI64N_LEN);
}
