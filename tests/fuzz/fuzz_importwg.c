/* fuzz_importwg.c — libFuzzer target for `policyctl import-wg`: wg-quick
 * configs are files an admin got from anywhere. The input is split at
 * "\n--\n" into up to four configs (one per host), each handed over as a
 * memfd. Properties: no crash, leak or overread; and whatever import-wg
 * prints is a policy that policy_load() accepts. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diag.h"
#include "importwg.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CONFS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char paths[MAX_CONFS][64], err[512], *out = NULL;
	const char *files[MAX_CONFS];
	size_t n = 0, outlen = 0;
	int fds[MAX_CONFS];
	FILE *f;

	while (n < MAX_CONFS) {
		const uint8_t *sep = memmem(data, size, "\n--\n", 4);
		size_t len = sep && n < MAX_CONFS - 1 ? (size_t)(sep - data) : size;

		if ((fds[n] = memfd_create("conf", MFD_CLOEXEC)) < 0)
			abort();
		if (write(fds[n], data, len) != (ssize_t)len)
			abort();
		snprintf(paths[n], sizeof(paths[n]), "/proc/self/fd/%d", fds[n]);
		files[n] = paths[n];
		n++;
		if (len == size)
			break;
		data += len + 4;
		size -= len + 4;
	}
	if (!(f = open_memstream(&out, &outlen)))
		abort();
	if (importwg(files, n, f, err, sizeof(err)) == 0) {
		struct diags d;
		struct policy *p;

		fflush(f);
		diags_init(&d);
		p = policy_load(out, outlen, NULL, &d);
		if (!p)
			__builtin_trap(); /* import-wg printed something that is not a policy */
		policy_free(p);
		diags_free(&d);
	}
	fclose(f);
	free(out);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}
