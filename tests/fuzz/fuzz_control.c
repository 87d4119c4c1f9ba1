/* fuzz_control.c — libFuzzer target for control socket requests: any bytes
 * a local client may send. The parse must never read past the input, and a
 * request it accepts must be words of the allowed bytes. */
#include <stdint.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request r;
	const char *why;

	if (ctl_request_parse((const char *)data, size, &r, &why) < 0)
		return 0;
	if (!r.verb[0] || r.nargs > CTL_MAX_ARGS)
		__builtin_trap();
	for (int i = 0; i < r.nargs; i++)
		if (!r.args[i][0] || strchr(r.args[i], ' ') || strchr(r.args[i], '\n'))
			__builtin_trap();
	return 0;
}
