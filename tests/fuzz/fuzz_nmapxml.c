/* fuzz_nmapxml.c — libFuzzer target: untrusted bytes as nmap's XML output,
 * parsed whole and again in two chunks split by the first byte; both runs
 * must agree. Any crash, leak, UB or disagreement is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/nmapxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink; /* keeps walk() from being optimised away */

static size_t walk(const struct nmap_result *r)
{
	size_t n = strlen(r->version) + strlen(r->host_reason) + strlen(r->errmsg);

	for (int proto = 0; proto < NMAP_NPROTO; proto++)
		for (unsigned p = 0; r->ports[proto] && p < 65536; p++) {
			const struct nmap_port *np = nmap_port(r, proto, p);

			if (np->state != NMAP_UNSEEN)
				n += strlen(nmap_reason(r, np)) + strlen(nmap_state_name(np->state));
		}
	return n;
}

static int same(const struct nmap_result *a, const struct nmap_result *b)
{
	struct nmap_result x = *a, y = *b;

	for (int i = 0; i < NMAP_NPROTO; i++) {
		if (!a->ports[i] != !b->ports[i] ||
		    (a->ports[i] && memcmp(a->ports[i], b->ports[i], 65536 * sizeof(*a->ports[i]))))
			return 0;
		x.ports[i] = y.ports[i] = NULL;
	}
	return !memcmp(&x, &y, sizeof(x));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nmap_result *whole = NULL, *parts = NULL;
	struct nmapxml *x;
	size_t split = size ? data[0] % (size + 1) : 0;
	int a, b;

	a = nmapxml_parse(data, size, &whole);
	if (!(x = nmapxml_new()))
		abort();
	b = nmapxml_feed(x, data, split);
	if (!b)
		b = nmapxml_feed(x, data + split, size - split);
	if (!b)
		b = nmapxml_finish(x, &parts);
	nmapxml_free(x);
	if (a != b)
		abort();
	if (whole && !same(whole, parts))
		abort();
	if (whole && size && data[0] == 'w') /* now and then, read every port like a report does */
		sink = walk(whole);
	nmap_result_free(whole);
	nmap_result_free(parts);
	return 0;
}
