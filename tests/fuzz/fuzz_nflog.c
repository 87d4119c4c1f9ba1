/* fuzz_nflog.c — libFuzzer target for NFLOG datagrams: the netlink framing,
 * the attributes and a copy of a denied packet, all of which a peer
 * controls in part and the kernel cuts at NFLOG_COPY_RANGE. The parser must
 * never read outside the input, and what it reports must be consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "quarantine/nflog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	size_t size;
	int n;
};

static void check(void *ctx, const struct nflog_pkt *p)
{
	struct seen *s = ctx;

	s->n++;
	if (memchr(p->prefix, 0, sizeof(p->prefix)) == NULL)
		__builtin_trap();
	if (p->family != 0 && p->family != AF_INET && p->family != AF_INET6)
		__builtin_trap();
	if (p->family && (p->src.family != p->family || p->dst.family != p->family))
		__builtin_trap();
	if (p->has_l4 && (!p->family || p->fragment))
		__builtin_trap();
	if (p->syn && !p->has_l4)
		__builtin_trap();
	if (p->payload_len > s->size)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* netlink headers are read in place: give the parser an aligned copy of
	 * exactly the input, so ASan sees any read past its end */
	uint8_t *buf = malloc(size ? size : 1);
	struct seen s = { size, 0 };
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = nflog_parse(buf, size, check, &s);
	if (r >= 0 && r != s.n)
		__builtin_trap();
	free(buf);
	return 0;
}
