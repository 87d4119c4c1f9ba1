/* ports.c — port ranges, port sets, durations and timestamps. */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"

int rangeset_add(struct rangeset *rs, uint16_t lo, uint16_t hi)
{
	size_t i = 0, j;

	/* find the first range that ends at or after lo - 1 */
	while (i < rs->n && (uint32_t)rs->v[i].hi + 1 < lo)
		i++;
	j = i;
	/* merge every range that touches [lo, hi] */
	while (j < rs->n && rs->v[j].lo <= (uint32_t)hi + 1) {
		if (rs->v[j].lo < lo)
			lo = rs->v[j].lo;
		if (rs->v[j].hi > hi)
			hi = rs->v[j].hi;
		j++;
	}
	if (j == i) { /* insert */
		if (rs->n == rs->cap) {
			size_t cap = rs->cap ? rs->cap * 2 : 4;
			struct range16 *v = realloc(rs->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			rs->v = v;
			rs->cap = cap;
		}
		memmove(&rs->v[i + 1], &rs->v[i], (rs->n - i) * sizeof(*rs->v));
		rs->n++;
	} else if (j > i + 1) { /* collapse v[i..j) into v[i] */
		memmove(&rs->v[i + 1], &rs->v[j], (rs->n - j) * sizeof(*rs->v));
		rs->n -= j - i - 1;
	}
	rs->v[i].lo = lo;
	rs->v[i].hi = hi;
	return 0;
}

bool rangeset_contains(const struct rangeset *rs, uint16_t port)
{
	size_t lo = 0, hi = rs->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (rs->v[mid].hi < port)
			lo = mid + 1;
		else if (rs->v[mid].lo > port)
			hi = mid;
		else
			return true;
	}
	return false;
}

void portset_free(struct portset *ps)
{
	if (!ps)
		return;
	free(ps->tcp.v);
	free(ps->udp.v);
	memset(ps, 0, sizeof(*ps));
}

void portset_union(struct portset *dst, const struct portset *src)
{
	dst->all |= src->all;
	dst->icmp |= src->icmp;
	for (size_t i = 0; i < src->tcp.n; i++)
		if (rangeset_add(&dst->tcp, src->tcp.v[i].lo, src->tcp.v[i].hi) < 0)
			abort();
	for (size_t i = 0; i < src->udp.n; i++)
		if (rangeset_add(&dst->udp, src->udp.v[i].lo, src->udp.v[i].hi) < 0)
			abort();
}

bool portset_allows(const struct portset *ps, uint8_t proto, uint16_t port)
{
	if (ps->all)
		return true;
	if (proto == IPPROTO_TCP)
		return rangeset_contains(&ps->tcp, port);
	if (proto == IPPROTO_UDP)
		return rangeset_contains(&ps->udp, port);
	return false;
}

bool portset_is_empty(const struct portset *ps)
{
	return !ps->all && !ps->icmp && !ps->tcp.n && !ps->udp.n;
}

int duration_parse(const char *s, uint32_t *seconds)
{
	unsigned long long v = 0, mul;
	const char *p = s;

	if (*p < '1' || *p > '9')
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 100000000ULL)
			return -ERANGE;
	}
	switch (*p) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return -EINVAL;
	}
	if (p[1])
		return -EINVAL;
	v *= mul;
	if (v > 10ULL * 366 * 86400) /* ten years is plenty for a ban or a TTL */
		return -ERANGE;
	*seconds = (uint32_t)v;
	return 0;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -EINVAL;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

static int expect(const char **p, char c)
{
	if (**p != c && !(c == 'T' && (**p == 't' || **p == ' ')))
		return -EINVAL;
	(*p)++;
	return 0;
}

int rfc3339_parse(const char *s, int64_t *out)
{
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
	const char *p = s;
	struct tm tm;
	time_t t;

	if (digits(&p, 4, &Y) || expect(&p, '-') || digits(&p, 2, &M) || expect(&p, '-') ||
	    digits(&p, 2, &D) || expect(&p, 'T') || digits(&p, 2, &h) || expect(&p, ':') ||
	    digits(&p, 2, &m) || expect(&p, ':') || digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &oh) || expect(&p, ':') || digits(&p, 2, &om))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 ||
	    oh > 23 || om > 59)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (tm.tm_mday != D) /* 2026-02-30 normalised to March */
		return -EINVAL;
	*out = (int64_t)t - sign * (oh * 3600 + om * 60);
	return 0;
}

bool policy_name_ok(const char *s)
{
	size_t n = 0;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	for (; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return n <= 63;
}
