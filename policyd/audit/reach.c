/* reach.c — a listener joined with the policy. */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "ptest.h"
#include "reach.h"
#include "select.h"
#include "vantage.h"

const char *reach_class_name(enum reach_class c)
{
	switch (c) {
	case REACH_LOOPBACK: return "loopback";
	case REACH_PUBLIC: return "public";
	case REACH_PUBLIC_SOME: return "public (some sources)";
	case REACH_VPN: return "vpn only";
	case REACH_NOBODY: return "nobody";
	case REACH_OTHER_IF: return "non-public interface";
	}
	return "?";
}

static void append(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (n + 1 < len)
		snprintf(buf + n, len - n, "%s%s", n ? ", " : "", s);
}

/* Bound to one of the node's VPN addresses, or to the VPN interface. */
static bool vpn_scoped(const struct policy *p, size_t node, const struct listener *l)
{
	char ifname[IF_NAMESIZE];
	const struct node *nd = &p->nodes[node];

	if (l->ifindex && if_indextoname(l->ifindex, ifname) && !strcmp(ifname, p->net.interface))
		return true;
	for (size_t i = 0; i < nd->nips; i++)
		if (!addr_is_zero(&l->addr) && prefix_contains(&nd->ips[i], &l->addr))
			return true;
	return false;
}

static void public_side(const struct policy *p, size_t node, const struct listener *l,
			struct reach *out)
{
	char why[160];

	if (ptest_public_verdict(p, node, NULL, l->proto, l->port, why, sizeof(why))) {
		out->cls = REACH_PUBLIC;
		snprintf(out->public_rule, sizeof(out->public_rule), "%.90s", why);
		return;
	}
	for (size_t i = 0; i < p->nexpose; i++)
		if (select_node(p, &p->expose[i].on, node) &&
		    portset_allows(&p->expose[i].ports, l->proto, l->port)) {
			out->cls = REACH_PUBLIC_SOME;
			snprintf(out->public_rule, sizeof(out->public_rule), "expose \"%.64s\"",
				 p->expose[i].id);
			return;
		}
}

static void vpn_side(const struct policy *p, size_t node, const struct listener *l, time_t now,
		     struct reach *out)
{
	char id[80];

	for (size_t i = 0; i < p->nacls; i++) {
		const struct acl *a = &p->acls[i];

		if ((a->expires && a->expires <= now) || !select_node(p, &a->dst, node) ||
		    !portset_allows(&a->ports, l->proto, l->port))
			continue;
		snprintf(id, sizeof(id), "acl \"%.64s\"", a->id);
		append(out->vpn_rules, sizeof(out->vpn_rules), id);
	}
	if (p->breakglass.present && portset_allows(&p->breakglass.ports, l->proto, l->port))
		append(out->vpn_rules, sizeof(out->vpn_rules), "breakglass");
}

/* Is name one of the node's public interfaces ("eth0", or a pattern "eth*")? */
static bool public_iface(const struct policy *p, const struct node *nd, const char *name)
{
	if (!strcmp(name, "lo") || !strcmp(name, p->net.interface))
		return false;
	if (!nd->npublic)
		return true;
	for (size_t i = 0; i < nd->npublic; i++) {
		const char *pat = nd->public[i];
		size_t n = strlen(pat);

		if (n && pat[n - 1] == '*' ? !strncmp(name, pat, n - 1) : !strcmp(name, pat))
			return true;
	}
	return false;
}

/* Does a packet from the internet reach this socket, firewall aside? */
static bool faces_internet(const struct policy *p, size_t node, const struct listener *l)
{
	const struct node *nd = &p->nodes[node];
	char ifn[IF_NAMESIZE];

	if (l->ifindex) /* SO_BINDTODEVICE: that interface only */
		return !if_indextoname(l->ifindex, ifn) || public_iface(p, nd, ifn);
	if (listener_is_wildcard(l))
		return true;
	if (vantage_local_iface(&l->addr, ifn))
		return public_iface(p, nd, ifn);
	return true; /* an address no interface holds (IP_FREEBIND): assume the worst */
}

void reach_classify(const struct policy *p, size_t node, const struct listener *l, time_t now,
		    struct reach *out)
{
	bool vpn_only = vpn_scoped(p, node, l), internet, vpn;

	memset(out, 0, sizeof(*out));
	if (listener_is_loopback(l)) {
		out->cls = REACH_LOOPBACK;
		return;
	}
	out->cls = REACH_NOBODY;
	out->internet = internet = !vpn_only && faces_internet(p, node, l);
	if (internet)
		public_side(p, node, l, out);
	vpn_side(p, node, l, now, out);
	if (!vpn_only && !internet)
		out->cls = REACH_OTHER_IF; /* policyd does not filter those interfaces */
	else if (out->cls == REACH_NOBODY && out->vpn_rules[0])
		out->cls = REACH_VPN;
	/* the socket takes connections the policy gives to nobody (or to some):
	 * from the internet, or from VPN peers no acl names */
	vpn = vpn_only || (listener_is_wildcard(l) && !l->ifindex);
	out->firewall_only = out->cls != REACH_PUBLIC &&
			     (internet || (vpn && !out->vpn_rules[0]));
	/* the internet gets nothing of it: only policyd's drop keeps it out */
	out->internet_fw_only = internet &&
				(out->cls == REACH_VPN || out->cls == REACH_NOBODY);
}
