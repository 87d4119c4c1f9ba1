/* expect.c — the expected state of every scanned port, from the policy. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "ptest.h"
#include "select.h"

/* The ranges of src from port 1 on (a policy's "tcp:*" is 0-65535; nmap
 * scans 1-65535). */
static int add_ranges(struct rangeset *dst, const struct rangeset *src)
{
	for (size_t i = 0; i < src->n; i++) {
		uint16_t lo = src->v[i].lo ? src->v[i].lo : 1;

		if (lo <= src->v[i].hi && rangeset_add(dst, lo, src->v[i].hi) < 0)
			return -ENOMEM;
	}
	return 0;
}

static bool every_port(const struct rangeset *rs)
{
	return rs->n == 1 && rs->v[0].lo <= 1 && rs->v[0].hi == 65535;
}

/* A portset's TCP and UDP ports into out; "*" is every TCP port, and UDP's
 * "*" is left out and marked (a UDP scan of 65,535 ports crawls at the ICMP
 * rate limit). */
static int add_portset(struct expect_ports *out, const struct portset *ps)
{
	if (ps->all) {
		out->udp_star = true;
		return rangeset_add(&out->tcp, 1, 65535);
	}
	if (add_ranges(&out->tcp, &ps->tcp) < 0)
		return -ENOMEM;
	if (every_port(&ps->udp))
		out->udp_star = true;
	else if (add_ranges(&out->udp, &ps->udp) < 0)
		return -ENOMEM;
	return 0;
}

int expect_ports_declared(const struct policy *p, size_t node, struct expect_ports *out)
{
	int r = 0;

	for (size_t i = 0; i < p->nexpose && !r; i++)
		if (select_node(p, &p->expose[i].on, node))
			r = add_portset(out, &p->expose[i].ports);
	for (size_t i = 0; i < p->nacls && !r; i++)
		if (select_node(p, &p->acls[i].dst, node))
			r = add_portset(out, &p->acls[i].ports);
	if (!r && p->breakglass.present)
		r = add_portset(out, &p->breakglass.ports);
	return r;
}

void expect_ports_free(struct expect_ports *ps)
{
	if (!ps)
		return;
	free(ps->tcp.v);
	free(ps->udp.v);
	memset(ps, 0, sizeof(*ps));
}

static size_t rangeset_size(const struct rangeset *rs)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n; i++)
		n += (size_t)rs->v[i].hi - rs->v[i].lo + 1;
	return n;
}

size_t expect_ports_count(const struct expect_ports *ps)
{
	return rangeset_size(&ps->tcp) + rangeset_size(&ps->udp);
}

static int port_num(const char *s, size_t n, uint16_t *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* One LIST item: N, N-M, tcp:N-M, udp:N-M. */
static int list_item(const char *s, size_t n, struct expect_ports *out)
{
	struct rangeset *rs = &out->tcp;
	const char *dash;
	uint16_t lo, hi;

	if (n > 4 && (!strncmp(s, "tcp:", 4) || !strncmp(s, "udp:", 4))) {
		if (s[0] == 'u')
			rs = &out->udp;
		s += 4;
		n -= 4;
	}
	dash = memchr(s, '-', n);
	if (port_num(s, dash ? (size_t)(dash - s) : n, &lo) < 0 ||
	    port_num(dash ? dash + 1 : s, dash ? n - (size_t)(dash - s) - 1 : n, &hi) < 0 ||
	    hi < lo)
		return -EINVAL;
	return rangeset_add(rs, lo, hi);
}

int expect_ports_parse(const struct policy *p, size_t node, const char *spec,
		       struct expect_ports *out, char *err, size_t errlen)
{
	struct expect_ports decl = { 0 };
	int r;

	memset(out, 0, sizeof(*out));
	if (!strcmp(spec, "all") || !strcmp(spec, "declared")) {
		if ((r = expect_ports_declared(p, node, &decl)) < 0) {
			expect_ports_free(&decl); /* what was added before the failure */
			goto fail;
		}
		out->udp = decl.udp;
		out->udp_star = decl.udp_star;
		decl.udp = (struct rangeset){ 0 };
		if (spec[0] == 'a') {
			r = rangeset_add(&out->tcp, 1, 65535);
		} else {
			out->tcp = decl.tcp;
			decl.tcp = (struct rangeset){ 0 };
			r = 0;
		}
		expect_ports_free(&decl);
		if (r < 0)
			goto fail;
		return 0;
	}
	for (const char *s = spec; *s;) {
		size_t n = strcspn(s, ",");

		if ((r = list_item(s, n, out)) < 0) {
			snprintf(err, errlen, "--ports: bad item \"%.*s\" in \"%s\" (valid: all, "
				 "declared, or a list of N, N-M, tcp:N-M, udp:N-M with 1 <= N <= M "
				 "<= 65535)", (int)n, s, spec);
			goto fail;
		}
		s += n;
		if (*s == ',' && *++s == '\0') {
			r = -EINVAL;
			snprintf(err, errlen, "--ports: trailing comma in \"%s\"", spec);
			goto fail;
		}
	}
	if (!expect_ports_count(out)) {
		r = -EINVAL;
		snprintf(err, errlen, "--ports: no ports in \"%s\"", spec);
		goto fail;
	}
	return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	expect_ports_free(out);
	return r;
}

void expect_free(struct expect *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nrules; i++)
		free(e->rules[i]);
	free(e->rules);
	free(e->v);
	free(e);
}

static long rule_intern(struct expect *e, const char *why)
{
	char **v;

	for (size_t i = 0; i < e->nrules; i++)
		if (!strcmp(e->rules[i], why))
			return (long)i;
	if (e->nrules == UINT16_MAX || !(v = realloc(e->rules, (e->nrules + 1) * sizeof(*v))))
		return -ENOMEM;
	e->rules = v;
	if (!(v[e->nrules] = strdup(why)))
		return -ENOMEM;
	return (long)e->nrules++;
}

static bool verdict(const struct policy *p, size_t node, const struct expect_vantage *v,
		    uint8_t proto, uint16_t port, char *why, size_t len)
{
	if (v->zone == EXPECT_VPN)
		return ptest_vpn_verdict(p, node, v->src, proto, port, v->now, why, len);
	return ptest_public_verdict(p, node, v->src, proto, port, why, len);
}

static int add_proto(const struct policy *p, size_t node, const struct expect_vantage *v,
		     const struct rangeset *rs, uint8_t proto, struct expect *e)
{
	for (size_t i = 0; i < rs->n; i++)
		for (uint32_t port = rs->v[i].lo; port <= rs->v[i].hi; port++) {
			struct expect_port *ep = &e->v[e->n];
			char why[160];
			long rule;

			ep->port = (uint16_t)port;
			ep->proto = proto;
			ep->allowed = verdict(p, node, v, proto, ep->port, why, sizeof(why));
			if ((rule = rule_intern(e, why)) < 0)
				return (int)rule;
			ep->rule = (uint16_t)rule;
			e->nallowed += ep->allowed;
			e->n++;
		}
	return 0;
}

int expect_build(const struct policy *p, size_t node, const struct expect_vantage *v,
		 const struct expect_ports *ports, struct expect **out)
{
	size_t n = expect_ports_count(ports);
	struct expect *e;

	if (v->zone == EXPECT_VPN && !v->src)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->v = calloc(n ? n : 1, sizeof(*e->v))) ||
	    add_proto(p, node, v, &ports->tcp, IPPROTO_TCP, e) < 0 ||
	    add_proto(p, node, v, &ports->udp, IPPROTO_UDP, e) < 0) {
		expect_free(e);
		return -ENOMEM;
	}
	*out = e;
	return 0;
}

const struct expect_port *expect_find(const struct expect *e, uint8_t proto, uint16_t port)
{
	size_t lo = 0, hi = e->n;

	while (lo < hi) { /* sorted by (proto == UDP, port) */
		size_t mid = (lo + hi) / 2;
		const struct expect_port *m = &e->v[mid];
		int c = (m->proto == IPPROTO_UDP) - (proto == IPPROTO_UDP);

		if (!c)
			c = (int)m->port - (int)port;
		if (c < 0)
			lo = mid + 1;
		else if (c > 0)
			hi = mid;
		else
			return m;
	}
	return NULL;
}

long expect_node_by_addr(const struct policy *p, const struct addr *a)
{
	for (size_t n = 0; n < p->nnodes; n++)
		for (size_t i = 0; i < p->nodes[n].nips; i++)
			if (prefix_contains(&p->nodes[n].ips[i], a))
				return (long)n;
	return -1;
}

bool expect_in_mesh(const struct policy *p, const struct addr *a)
{
	return (a->family == AF_INET && p->net.has_v4 && prefix_contains(&p->net.v4, a)) ||
	       (a->family == AF_INET6 && p->net.has_v6 && prefix_contains(&p->net.v6, a));
}
