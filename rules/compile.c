/* compile.c — one node's table from the policy.
 *
 * table inet policyd
 *   input  (hook input, priority -15, policy accept): lo → accept,
 *          VPN interface → vpn, public interfaces → public
 *   vpn    quarantine drop; established/related; essential ICMP; invalid
 *          packets to NFLOG (stealth scans), then dropped; ACL sets; NFLOG
 *          for the suspicion engine; drop. Both logs are metered per source
 *          (logmeter4/6), then capped for all sources.
 *   public established/related; essential ICMP; invalid drop; WireGuard
 *          port (nodes with an endpoint); expose sets; breakglass openings
 *          (when the policy has a breakglass section); drop (nmap: filtered)
 *
 * ACLs and exposures become elements of interval sets, so the chains have
 * the same few rules whatever the size of the policy. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "select.h"

enum { CH_INPUT, CH_VPN, CH_PUBLIC };
enum { ZS_EXACT, ZS_PING, ZS_ALL, ZS_RANGES }; /* see zone_sets() */

struct boxlist {
	struct ir_box *v;
	size_t n, cap;
};

/* what one side (vpn or public) accepts, per family [0] v4 [1] v6 */
struct zone {
	struct boxlist tcp[2], udp[2], ping[2], all[2];
};

static const uint8_t icmp4_essential[] = { 3, 11, 12 };
static const uint8_t icmp6_essential[] = { 1, 2, 3, 4, 130, 134, 135, 136 };

static int fam_idx(int family)
{
	return family == AF_INET ? 0 : 1;
}

static void box_push(struct boxlist *l, const struct arange *r, uint16_t plo, uint16_t phi,
		     int64_t expires, uint32_t origin)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct ir_box *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			abort();
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct ir_box){ .lo = r->lo, .hi = r->hi, .plo = plo, .phi = phi,
					.expires = expires, .origin = origin };
}

static void zone_add(struct zone *z, int family, const struct aranges *src,
		     const struct portset *ps, int64_t expires, uint32_t origin)
{
	int f = fam_idx(family);

	for (size_t i = 0; i < src->n; i++) {
		const struct arange *r = &src->v[i];

		if (ps->all)
			box_push(&z->all[f], r, 0, 0, expires, origin);
		if (ps->icmp)
			box_push(&z->ping[f], r, 0, 0, expires, origin);
		for (size_t k = 0; k < ps->tcp.n; k++)
			box_push(&z->tcp[f], r, ps->tcp.v[k].lo, ps->tcp.v[k].hi, expires, origin);
		for (size_t k = 0; k < ps->udp.n; k++)
			box_push(&z->udp[f], r, ps->udp.v[k].lo, ps->udp.v[k].hi, expires, origin);
	}
}

static void zone_free(struct zone *z)
{
	for (int f = 0; f < 2; f++) {
		free(z->tcp[f].v);
		free(z->udp[f].v);
		free(z->ping[f].v);
		free(z->all[f].v);
	}
}

static uint32_t origin_add(struct ir *ir, const char *kind, const char *id, const char *section,
			   long index)
{
	size_t n = ir->norigins;

	if ((n & (n - 1)) == 0) { /* grow at powers of two */
		struct ir_origin *o = realloc(ir->origins, (n ? 2 * n : 1) * sizeof(*o));

		if (!o)
			abort();
		ir->origins = o;
	}
	ir->origins[n] = (struct ir_origin){ .kind = kind, .id = id, .section = section,
					     .index = index };
	return (uint32_t)ir->norigins++;
}

static size_t set_add(struct ir *ir, const char *name, enum ir_set_kind kind, int family,
		      bool interval, bool timeout)
{
	struct ir_set *s = &ir->sets[ir->nsets];

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->kind = kind;
	s->family = family;
	s->interval = interval;
	s->timeout = timeout;
	return ir->nsets++;
}

/* ---- rules ---------------------------------------------------------------- */

static struct ir_rule *rule(struct ir *ir, size_t chain, enum ir_verdict v, const char *comment)
{
	struct ir_rule *r;

	if (ir->nrules == ir->caprules) {
		size_t cap = ir->caprules ? ir->caprules * 2 : 32;
		struct ir_rule *n = realloc(ir->rules, cap * sizeof(*n));

		if (!n)
			abort();
		ir->rules = n;
		ir->caprules = cap;
	}
	r = &ir->rules[ir->nrules++];
	memset(r, 0, sizeof(*r));
	r->chain = chain;
	r->verdict = v;
	if (comment)
		snprintf(r->comment, sizeof(r->comment), "%s", comment);
	return r;
}

static struct ir_match *match(struct ir_rule *r, enum ir_match_kind kind, int family)
{
	struct ir_match *m = &r->m[r->nm++];

	m->kind = kind;
	m->family = family;
	return m;
}

static void rule_set(struct ir *ir, size_t chain, enum ir_match_kind kind, size_t set,
		     bool counter, const char *comment)
{
	struct ir_rule *r = rule(ir, chain, IRV_ACCEPT, comment);
	struct ir_match *m = match(r, kind, ir->sets[set].family);

	m->set = set;
	r->counter = counter;
}

static void rule_ping(struct ir *ir, size_t chain, size_t set)
{
	struct ir_rule *r = rule(ir, chain, IRV_ACCEPT, NULL);
	int family = ir->sets[set].family;

	match(r, IRM_ICMP_TYPE, family)->val = family == AF_INET ? 8 : 128; /* echo-request */
	match(r, IRM_SADDR_IN, family)->set = set;
}

static void rule_ct(struct ir *ir, size_t chain, uint32_t bits, enum ir_verdict v)
{
	match(rule(ir, chain, v, NULL), IRM_CT_STATE, 0)->val = bits;
}

/* [ct state invalid] update @meter { saddr limit per source } limit (all)
 * log: one noisy source cannot use up what the others get logged. */
static void rule_log(struct ir *ir, size_t chain, size_t meter, const char *prefix,
		     bool invalid)
{
	struct ir_rule *r = rule(ir, chain, IRV_NONE, NULL);
	struct ir_match *m;

	if (invalid)
		match(r, IRM_CT_STATE, 0)->val = IR_CT_INVALID;
	m = match(r, IRM_METER, ir->sets[meter].family);
	m->set = meter;
	m->val = IR_LOG_SRC_RATE;
	m->val2 = IR_LOG_SRC_BURST;
	m = match(r, IRM_LIMIT, 0);
	m->val = IR_LOG_RATE;
	m->val2 = IR_LOG_BURST;
	r->log = prefix;
}

/* meter: the VPN side's [v4, v6] meters, which also log invalid packets
 * (NULL, FIN and Xmas scans are invalid to conntrack); NULL elsewhere. */
static void rules_common_head(struct ir *ir, size_t chain, size_t icmp4, size_t icmp6,
			      const size_t *meter)
{
	rule_ct(ir, chain, IR_CT_ESTABLISHED | IR_CT_RELATED, IRV_ACCEPT);
	rule_set(ir, chain, IRM_ICMP_IN, icmp4, false, NULL);
	rule_set(ir, chain, IRM_ICMP_IN, icmp6, false, NULL);
	for (int f = 0; meter && f < 2; f++)
		rule_log(ir, chain, meter[f], IR_LOG_PREFIX_INVALID, true);
	rule_ct(ir, chain, IR_CT_INVALID, IRV_DROP);
}

static void rules_zone(struct ir *ir, size_t chain, size_t sets[2][4], const char *what)
{
	for (int f = 0; f < 2; f++)
		rule_set(ir, chain, IRM_CONCAT_IN, sets[f][ZS_EXACT], true, what);
	for (int f = 0; f < 2; f++)
		rule_set(ir, chain, IRM_CONCAT_IN, sets[f][ZS_RANGES], true, what);
	for (int f = 0; f < 2; f++)
		rule_ping(ir, chain, sets[f][ZS_PING]);
	for (int f = 0; f < 2; f++)
		rule_set(ir, chain, IRM_SADDR_IN, sets[f][ZS_ALL], true, NULL);
}

static void rules_input(struct ir *ir, const char *vpn_if, const struct node *nd)
{
	struct ir_rule *r;

	snprintf(match(rule(ir, CH_INPUT, IRV_ACCEPT, NULL), IRM_IIFNAME, 0)->str, 16, "lo");
	r = rule(ir, CH_INPUT, IRV_JUMP, NULL);
	snprintf(match(r, IRM_IIFNAME, 0)->str, 16, "%s", vpn_if);
	r->target = CH_VPN;
	if (nd->npublic == 0) {
		rule(ir, CH_INPUT, IRV_JUMP, NULL)->target = CH_PUBLIC;
		return;
	}
	for (size_t i = 0; i < nd->npublic; i++) {
		r = rule(ir, CH_INPUT, IRV_JUMP, NULL);
		snprintf(match(r, IRM_IIFNAME, 0)->str, 16, "%s", nd->public[i]);
		r->target = CH_PUBLIC;
	}
}

/* ---- sets from the policy --------------------------------------------------- */

static void zone_to_sets(struct zone *z, struct ir *ir, size_t sets[2][4], int64_t now)
{
	for (int f = 0; f < 2; f++) {
		struct ir_set *rs = &ir->sets[sets[f][ZS_RANGES]], *es = &ir->sets[sets[f][ZS_EXACT]];
		size_t k = 0;

		ir_boxes_to_set(z->tcp[f].v, z->tcp[f].n, IPPROTO_TCP, now, rs);
		ir_boxes_to_set(z->udp[f].v, z->udp[f].n, IPPROTO_UDP, now, rs);
		for (size_t i = 0; i < rs->n; i++) { /* the disjoint pieces, split by shape */
			const struct ir_elem *e = &rs->v[i];

			if (!addr_cmp(&e->lo, &e->hi) && e->plo == e->phi)
				ir_set_add(es, e);
			else
				rs->v[k++] = *e;
		}
		rs->n = k;
		ir_boxes_to_set(z->ping[f].v, z->ping[f].n, 0, now, &ir->sets[sets[f][ZS_PING]]);
		ir_boxes_to_set(z->all[f].v, z->all[f].n, 0, now, &ir->sets[sets[f][ZS_ALL]]);
	}
}

static void collect_acls(const struct policy *p, size_t node, int64_t now, struct ir *ir,
			 struct zone *z)
{
	static const int fams[2] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < p->nacls; i++) {
		const struct acl *a = &p->acls[i];
		uint32_t o;

		if ((a->expires && a->expires <= now) || !select_node(p, &a->dst, node))
			continue;
		o = origin_add(ir, "acl", a->id, "/acls", (long)i);
		for (int f = 0; f < 2; f++) {
			struct aranges src = { 0 };

			select_ranges(p, &a->src, fams[f], false, &src);
			zone_add(z, fams[f], &src, &a->ports, a->expires, o);
			aranges_free(&src);
		}
	}
	if (p->breakglass.present) {
		uint32_t o = origin_add(ir, "breakglass", "breakglass", "/breakglass", -1);

		for (int f = 0; f < 2; f++) {
			struct aranges src = { 0 };

			select_ranges(p, &p->breakglass.holders, fams[f], false, &src);
			zone_add(z, fams[f], &src, &p->breakglass.ports, 0, o);
			aranges_free(&src);
		}
	}
}

static void collect_expose(const struct policy *p, size_t node, struct ir *ir, struct zone *z)
{
	static const int fams[2] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < p->nexpose; i++) {
		const struct expose *e = &p->expose[i];
		uint32_t o;

		if (!select_node(p, &e->on, node))
			continue;
		o = origin_add(ir, "expose", e->id, "/expose", (long)i);
		for (int f = 0; f < 2; f++) {
			struct aranges src = { 0 };

			select_ranges(p, &e->from, fams[f], true, &src);
			zone_add(z, fams[f], &src, &e->ports, 0, o);
			aranges_free(&src);
		}
	}
}

static void icmp_set(struct ir_set *s, const uint8_t *types, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ir_elem e = { .plo = types[i], .phi = types[i] };

		ir_set_add(s, &e);
	}
}

/* The per-zone sets: [family][exact, ping, all, ranges]. Exact pieces (one
 * address, one port) go to a hash set, whose lookup costs the same with 1 or
 * 100k elements; pieces with ranges go to an interval set (pipapo), whose
 * lookup grows with its size but which real policies keep small. */

static void zone_sets(struct ir *ir, const char *prefix, bool timeout, size_t out[2][4])
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	static const char *const kinds[4] = { "", "ping", "all", "" };

	for (int f = 0; f < 2; f++)
		for (int k = 0; k < 4; k++) {
			char name[32];

			snprintf(name, sizeof(name), "%s%s%c%s", prefix, kinds[k], f ? '6' : '4',
				 k == ZS_RANGES ? "r" : "");
			out[f][k] = set_add(ir, name,
					    k == ZS_EXACT || k == ZS_RANGES ? IRS_CONCAT : IRS_ADDR,
					    fams[f], k != ZS_EXACT, timeout);
		}
}

struct ir *compile_node(const struct policy *p, size_t node, const struct compile_opts *opts)
{
	const struct node *nd = &p->nodes[node];
	int64_t now = opts && opts->now ? opts->now : time(NULL);
	struct ir *ir = calloc(1, sizeof(*ir));
	struct zone vz = { 0 }, pz = { 0 };
	size_t q4, q6, meter[2], i4, i6, acl[2][4], pub[2][4], g4 = 0, g6 = 0;
	struct ir_rule *r;

	if (!ir || !(ir->sets = calloc(24, sizeof(*ir->sets)))) /* 6 + 2 zones x 2 x 4 + 2 */
		abort();
	origin_add(ir, "table", IR_TABLE, "/", -1);
	ir->chains[CH_INPUT] = (struct ir_chain){ .name = "input", .base = true, .prio = IR_PRIORITY };
	ir->chains[CH_VPN] = (struct ir_chain){ .name = "vpn" };
	ir->chains[CH_PUBLIC] = (struct ir_chain){ .name = "public" };
	ir->nchains = 3;

	ir_quarantine_set(AF_INET, &ir->sets[q4 = ir->nsets++]);
	ir_quarantine_set(AF_INET6, &ir->sets[q6 = ir->nsets++]);
	ir_meter_set(AF_INET, &ir->sets[meter[0] = ir->nsets++]);
	ir_meter_set(AF_INET6, &ir->sets[meter[1] = ir->nsets++]);
	i4 = set_add(ir, "icmp4_essential", IRS_ICMP, AF_INET, false, false);
	i6 = set_add(ir, "icmp6_essential", IRS_ICMP, AF_INET6, false, false);
	icmp_set(&ir->sets[i4], icmp4_essential, sizeof(icmp4_essential));
	icmp_set(&ir->sets[i6], icmp6_essential, sizeof(icmp6_essential));
	zone_sets(ir, "acl", true, acl);
	zone_sets(ir, "pub", false, pub);
	if (p->breakglass.present) { /* filled at run time: policyctl breakglass open */
		ir_glass_set(AF_INET, &ir->sets[g4 = ir->nsets++]);
		ir_glass_set(AF_INET6, &ir->sets[g6 = ir->nsets++]);
	}

	collect_acls(p, node, now, ir, &vz);
	collect_expose(p, node, ir, &pz);
	zone_to_sets(&vz, ir, acl, now);
	zone_to_sets(&pz, ir, pub, now);
	zone_free(&vz);
	zone_free(&pz);

	rules_input(ir, opts && opts->ifname ? opts->ifname : p->net.interface, nd);

	rule_set(ir, CH_VPN, IRM_SADDR_IN, q4, true, "quarantined peers");
	ir->rules[ir->nrules - 1].verdict = IRV_DROP;
	rule_set(ir, CH_VPN, IRM_SADDR_IN, q6, true, "quarantined peers");
	ir->rules[ir->nrules - 1].verdict = IRV_DROP;
	rules_common_head(ir, CH_VPN, i4, i6, meter);
	rules_zone(ir, CH_VPN, acl, "acls");
	for (int f = 0; f < 2; f++)
		rule_log(ir, CH_VPN, meter[f], IR_LOG_PREFIX, false);
	rule(ir, CH_VPN, IRV_DROP, "no acl allows it")->counter = true;

	rules_common_head(ir, CH_PUBLIC, i4, i6, NULL);
	if (nd->endpoint) {
		r = rule(ir, CH_PUBLIC, IRV_ACCEPT, "wireguard");
		match(r, IRM_UDP_DPORT, 0)->val = p->net.port;
	}
	rules_zone(ir, CH_PUBLIC, pub, "expose");
	if (p->breakglass.present) {
		rule_set(ir, CH_PUBLIC, IRM_CONCAT_IN, g4, true, "breakglass open");
		rule_set(ir, CH_PUBLIC, IRM_CONCAT_IN, g6, true, "breakglass open");
	}
	rule(ir, CH_PUBLIC, IRV_DROP, "not exposed")->counter = true;
	return ir;
}
