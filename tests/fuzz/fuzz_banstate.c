/* fuzz_banstate.c — libFuzzer target for the ban state file: the daemon
 * reads it at start and trusts it only after validation. A file that loads
 * must hold only valid bans, and must survive a round trip unchanged in
 * meaning: parse, write the text banstate_save would write, parse that
 * again, and compare the two lists field by field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quarantine/banstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1764000000

static void check_valid(const struct banstate *b)
{
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
}

static bool same_ban(const struct ban *a, const struct ban *b)
{
	if (strcmp(a->name, b->name) || strcmp(a->reason, b->reason) ||
	    strcmp(a->evidence, b->evidence) || a->start != b->start || a->expiry != b->expiry ||
	    a->repeat != b->repeat || a->naddrs != b->naddrs)
		return false;
	for (size_t i = 0; i < a->naddrs; i++)
		if (a->addrs[i].a.family != b->addrs[i].a.family || a->addrs[i].len != b->addrs[i].len ||
		    addr_cmp(&a->addrs[i].a, &b->addrs[i].a))
			return false;
	return true;
}

static void check_round_trip(const struct banstate *b)
{
	struct banstate *c = NULL;
	char *text, why[256];
	size_t len;

	if (banstate_text(b, &text, &len) < 0)
		return;                   /* out of memory */
	if (banstate_parse(text, len, NOW, &c, why, sizeof(why)) < 0)
		__builtin_trap();         /* what we write, we read back */
	if (c->n != b->n || c->ncounts != b->ncounts)
		__builtin_trap();
	for (size_t i = 0; i < b->n; i++)
		if (!same_ban(&b->v[i], &c->v[i]))
			__builtin_trap();
	for (size_t i = 0; i < b->ncounts; i++)
		if (strcmp(b->counts[i].name, c->counts[i].name) || b->counts[i].bans != c->counts[i].bans)
			__builtin_trap();
	banstate_free(c);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct banstate *b = NULL;
	char why[256];

	if (banstate_parse((const char *)data, size, NOW, &b, why, sizeof(why)) < 0) {
		if (!why[0] || !memchr(why, 0, sizeof(why)))
			__builtin_trap();     /* a refusal always says why */
		return 0;
	}
	check_valid(b);
	check_round_trip(b);
	banstate_free(b);
	return 0;
}
