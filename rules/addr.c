/* addr.c — address arithmetic on big-endian byte arrays. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

size_t addr_size(int family)
{
	return family == AF_INET ? 4 : 16;
}

int addr_parse(const char *s, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->b) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (strchr(s, ':') && inet_pton(AF_INET6, s, out->b) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int prefix_parse(const char *s, struct prefix *out)
{
	char buf[ADDR_STRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len;
	char *end;

	if (alen == 0 || alen >= ADDR_STRLEN)
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (addr_parse(buf, &out->a) < 0)
		return -EINVAL;
	if (!slash) {
		out->len = (uint8_t)(addr_size(out->a.family) * 8);
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2]))
		return -EINVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (*end || errno)
		return -EINVAL;
	if (len > addr_size(out->a.family) * 8)
		return -ERANGE;
	out->len = (uint8_t)len;
	return 0;
}

static uint8_t mask_byte(unsigned len, unsigned i)
{
	if (len >= (i + 1) * 8)
		return 0xff;
	if (len <= i * 8)
		return 0;
	return (uint8_t)(0xff << (8 - (len - i * 8)));
}

bool prefix_has_host_bits(const struct prefix *p)
{
	for (unsigned i = 0; i < addr_size(p->a.family); i++)
		if (p->a.b[i] & (uint8_t)~mask_byte(p->len, i))
			return true;
	return false;
}

void prefix_bounds(const struct prefix *p, struct addr *lo, struct addr *hi)
{
	*lo = p->a;
	*hi = p->a;
	for (unsigned i = 0; i < addr_size(p->a.family); i++) {
		uint8_t m = mask_byte(p->len, i);

		lo->b[i] &= m;
		hi->b[i] |= (uint8_t)~m;
	}
}

bool prefix_contains(const struct prefix *p, const struct addr *a)
{
	if (a->family != p->a.family)
		return false;
	for (unsigned i = 0; i < addr_size(a->family); i++) {
		uint8_t m = mask_byte(p->len, i);

		if ((a->b[i] & m) != (p->a.b[i] & m))
			return false;
	}
	return true;
}

bool prefix_within(const struct prefix *inner, const struct prefix *outer)
{
	return inner->len >= outer->len && prefix_contains(outer, &inner->a);
}

struct prefix prefix_all(int family)
{
	struct prefix p;

	memset(&p, 0, sizeof(p));
	p.a.family = (uint8_t)family;
	return p;
}

int addr_cmp(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, addr_size(a->family));
}

bool addr_inc(struct addr *a)
{
	for (int i = (int)addr_size(a->family) - 1; i >= 0; i--)
		if (++a->b[i] != 0)
			return true;
	return false;
}

bool addr_dec(struct addr *a)
{
	for (int i = (int)addr_size(a->family) - 1; i >= 0; i--)
		if (a->b[i]-- != 0)
			return true;
	return false;
}

bool addr_is_zero(const struct addr *a)
{
	for (unsigned i = 0; i < addr_size(a->family); i++)
		if (a->b[i])
			return false;
	return true;
}

bool addr_is_max(const struct addr *a)
{
	for (unsigned i = 0; i < addr_size(a->family); i++)
		if (a->b[i] != 0xff)
			return false;
	return true;
}

const char *addr_str(const struct addr *a, char buf[ADDR_STRLEN])
{
	if (!inet_ntop(a->family, a->b, buf, ADDR_STRLEN))
		snprintf(buf, ADDR_STRLEN, "?");
	return buf;
}

/* Length of the prefix [lo, hi] covers exactly, or -1. */
static int range_prefix_len(const struct addr *lo, const struct addr *hi)
{
	unsigned bits = (unsigned)addr_size(lo->family) * 8;

	for (unsigned len = 0; len <= bits; len++) {
		struct prefix p = { .a = *lo, .len = (uint8_t)len };
		struct addr l, h;

		if (prefix_has_host_bits(&p))
			continue;
		prefix_bounds(&p, &l, &h);
		if (addr_cmp(&h, hi) == 0)
			return (int)len;
		if (addr_cmp(&h, hi) < 0)
			return -1;
	}
	return -1;
}

const char *range_str(const struct addr *lo, const struct addr *hi, char buf[RANGE_STRLEN])
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	int len;

	if (addr_cmp(lo, hi) == 0) {
		snprintf(buf, RANGE_STRLEN, "%s", addr_str(lo, a));
		return buf;
	}
	len = range_prefix_len(lo, hi);
	if (len >= 0)
		snprintf(buf, RANGE_STRLEN, "%s/%d", addr_str(lo, a), len);
	else
		snprintf(buf, RANGE_STRLEN, "%s-%s", addr_str(lo, a), addr_str(hi, b));
	return buf;
}
