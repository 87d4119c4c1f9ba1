/* ptest.c — the policy's own `tests`, evaluated against the policy model.
 *
 * This evaluator reads the rules as written (selectors, ports, expiry), not
 * the compiled sets, and names the rule that decides; a unit test checks it
 * against lookups in the compiled sets, so each side keeps the other honest. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ptest.h"
#include "select.h"

static bool ranges_contain(const struct aranges *r, const struct addr *a)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].lo.family == a->family && addr_cmp(&r->v[i].lo, a) <= 0 &&
		    addr_cmp(a, &r->v[i].hi) <= 0)
			return true;
	return false;
}

static bool list_has_addr(const struct policy *p, const struct sellist *sl, bool star_any,
			  const struct addr *a)
{
	struct aranges r = { 0 };
	bool in;

	select_ranges(p, sl, a->family, star_any, &r);
	in = ranges_contain(&r, a);
	aranges_free(&r);
	return in;
}

bool ptest_vpn_verdict(const struct policy *p, size_t node, const struct addr *src,
		       uint8_t proto, uint16_t port, time_t now, char *why, size_t len)
{
	for (size_t i = 0; i < p->nacls; i++) {
		const struct acl *a = &p->acls[i];

		if ((a->expires && a->expires <= now) || !select_node(p, &a->dst, node) ||
		    !portset_allows(&a->ports, proto, port) || !list_has_addr(p, &a->src, false, src))
			continue;
		snprintf(why, len, "acl \"%s\"", a->id);
		return true;
	}
	if (p->breakglass.present && portset_allows(&p->breakglass.ports, proto, port) &&
	    list_has_addr(p, &p->breakglass.holders, false, src)) {
		snprintf(why, len, "breakglass");
		return true;
	}
	snprintf(why, len, "no acl allows it");
	return false;
}

/* src == NULL: "the internet", i.e. any address at all. */
bool ptest_public_verdict(const struct policy *p, size_t node, const struct addr *src,
			  uint8_t proto, uint16_t port, char *why, size_t len)
{
	const struct node *nd = &p->nodes[node];

	if (nd->endpoint && proto == IPPROTO_UDP && port == p->net.port) {
		snprintf(why, len, "the WireGuard port");
		return true;
	}
	for (size_t i = 0; i < p->nexpose; i++) {
		const struct expose *e = &p->expose[i];
		bool from = false;

		if (!select_node(p, &e->on, node) || !portset_allows(&e->ports, proto, port))
			continue;
		if (src) {
			from = list_has_addr(p, &e->from, true, src);
		} else {
			for (size_t k = 0; k < e->from.n && !from; k++)
				from = e->from.v[k].kind == SEL_ALL ||
				       (e->from.v[k].kind == SEL_CIDR && e->from.v[k].cidr.len == 0);
		}
		if (!from)
			continue;
		snprintf(why, len, "expose \"%s\"", e->id);
		return true;
	}
	snprintf(why, len, "no expose rule allows it");
	return false;
}

static bool in_mesh(const struct policy *p, const struct addr *a)
{
	const struct network *n = &p->net;

	return (a->family == AF_INET && n->has_v4 && prefix_contains(&n->v4, a)) ||
	       (a->family == AF_INET6 && n->has_v6 && prefix_contains(&n->v6, a));
}

/* The source address a node's packets carry towards dst: the first of its
 * addresses in a family dst also has. */
static bool node_src(const struct policy *p, size_t src, size_t dst, struct addr *out)
{
	const struct node *s = &p->nodes[src], *d = &p->nodes[dst];

	for (size_t i = 0; i < s->nips; i++)
		for (size_t k = 0; k < d->nips; k++)
			if (s->ips[i].a.family == d->ips[k].a.family) {
				*out = s->ips[i].a;
				return true;
			}
	return false;
}

static bool verdict(const struct policy *p, const struct ptest *t, size_t node, uint16_t port,
		    time_t now, char *why, size_t len)
{
	struct addr a;

	switch (t->kind) {
	case PTEST_NODE:
		if (!node_src(p, t->node, node, &a)) {
			snprintf(why, len, "the nodes share no address family");
			return false;
		}
		return ptest_vpn_verdict(p, node, &a, t->proto, port, now, why, len);
	case PTEST_INTERNET:
		return ptest_public_verdict(p, node, NULL, t->proto, port, why, len);
	case PTEST_ADDR:
		if (in_mesh(p, &t->addr))
			return ptest_vpn_verdict(p, node, &t->addr, t->proto, port, now, why, len);
		return ptest_public_verdict(p, node, &t->addr, t->proto, port, why, len);
	}
	return false;
}

static size_t run_list(const struct policy *p, const struct ptest *t, size_t ti, bool expect,
		       time_t now, struct diags *d)
{
	const struct ptest_target *v = expect ? t->accept : t->deny;
	size_t n = expect ? t->naccept : t->ndeny, failed = 0;

	for (size_t j = 0; j < n; j++) {
		char why[160], ptr[64];
		bool got = verdict(p, t, v[j].node, v[j].port, now, why, sizeof(why));

		if (got == expect)
			continue;
		failed++;
		snprintf(ptr, sizeof(ptr), "/tests/%zu/%s/%zu", ti, expect ? "accept" : "deny", j);
		diag_err(d, ptr, "%s -> %s:%u/%s: expected %s, policy %s%s%s", t->src,
			 p->nodes[v[j].node].name, v[j].port, t->proto == IPPROTO_UDP ? "udp" : "tcp",
			 expect ? "accept" : "deny", got ? "accepts via " : "denies (",
			 why, got ? "" : ")");
	}
	return failed;
}

size_t ptest_run(const struct policy *p, time_t now, struct diags *d, size_t *checked)
{
	size_t failed = 0;

	*checked = 0;
	for (size_t i = 0; i < p->ntests; i++) {
		failed += run_list(p, &p->tests[i], i, true, now, d);
		failed += run_list(p, &p->tests[i], i, false, now, d);
		*checked += p->tests[i].naccept + p->tests[i].ndeny;
	}
	return failed;
}

/* Without a breakglass section, a node that no other node can reach on
 * tcp:22 over the mesh is one lost session away from the console: warn.
 * Worst case O(nodes²) verdicts, so `check` runs it, the daemon does not. */
size_t ptest_lockout_warnings(const struct policy *p, time_t now, struct diags *d)
{
	char why[256], ptr[128];
	size_t warned = 0;

	if (p->breakglass.present || p->nnodes < 2)
		return 0; /* with one, the parser enforces minHolders */
	for (size_t dst = 0; dst < p->nnodes; dst++) {
		bool reached = false;
		struct addr a;

		for (size_t src = 0; src < p->nnodes && !reached; src++)
			reached = src != dst && node_src(p, src, dst, &a) &&
				  ptest_vpn_verdict(p, dst, &a, IPPROTO_TCP, 22, now, why, sizeof(why));
		if (reached)
			continue;
		snprintf(ptr, sizeof(ptr), "/nodes/%s", p->nodes[dst].name);
		diag_warn(d, ptr, "no node can reach %s on tcp:22 over the mesh; with SSH closed "
			  "publicly a lost session means the console (add an acl, or a breakglass "
			  "section)", p->nodes[dst].name);
		warned++;
	}
	return warned;
}
