/* fuzz_uapi.c — libFuzzer target for the UAPI set parser: any bytes a local
 * client writes to the control socket. */
#include <stdint.h>

#include "uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uapi_set s;
	size_t used = 0;

	uapi_parse_set((const char *)data, size, &s, &used);
	if (used > size)
		__builtin_trap();
	for (size_t i = 0; i < s.npeers; i++) {
		char ep[80];

		if (s.peers[i].has_endpoint)
			uapi_format_endpoint(ep, sizeof(ep), &s.peers[i].endpoint);
	}
	uapi_set_free(&s);
	return 0;
}
