/* parse_nodes.c — the mesh itself: `network` and `nodes`, with the checks
 * that span nodes (unique keys, non-overlapping VPN addresses). */
#include <ctype.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"

/* ---- network ----------------------------------------------------------- */

static bool ifname_ok(const char *s, bool wildcard)
{
	size_t n = strlen(s);

	if (n == 0 || n >= POLICY_IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch == '/' || ch == ':' || ch == '"' || ch >= 0x7f)
			return false;
		if (ch == '*' && !(wildcard && i == n - 1))
			return false;
	}
	return true;
}

static void parse_net_prefix(struct pctx *c, const cJSON *v, int family, struct prefix *out,
			     bool *has)
{
	struct prefix pf;

	if (!want_type(c, v, cJSON_String, "a CIDR such as \"100.64.0.0/24\""))
		return;
	if (prefix_parse(v->valuestring, &pf) < 0 || pf.a.family != family ||
	    !strchr(v->valuestring, '/')) {
		ERR(c, "\"%s\" is not an %s CIDR (expected e.g. %s)", v->valuestring,
		    family == AF_INET ? "IPv4" : "IPv6",
		    family == AF_INET ? "\"100.64.0.0/24\"" : "\"fd7a:115c:a1e0::/64\"");
		return;
	}
	if (prefix_has_host_bits(&pf)) {
		ERR(c, "\"%s\" has host bits set", v->valuestring);
		return;
	}
	*out = pf;
	*has = true;
}

void parse_network(struct pctx *c, const cJSON *v)
{
	static const char *const keys[] = { "interface", "port", "ipv4", "ipv6", NULL };
	struct network *n = &c->p->net;
	const cJSON *it;

	snprintf(n->interface, sizeof(n->interface), "pd0");
	n->port = 51820;
	if (!check_object(c, v, keys))
		return;
	cJSON_ArrayForEach(it, v) {
		if (!first_member(v, it))
			continue; /* a repeat, already reported */
		size_t mark = jptr_key(&c->ptr, it->string);
		long port;

		if (!strcmp(it->string, "interface")) {
			if (want_type(c, it, cJSON_String, "an interface name")) {
				if (ifname_ok(it->valuestring, false))
					snprintf(n->interface, sizeof(n->interface), "%s", it->valuestring);
				else
					ERR(c, "bad interface name \"%s\" (1-15 characters, no spaces, '/', ':' or '*')",
					    it->valuestring);
			}
		} else if (!strcmp(it->string, "port")) {
			if (get_int(c, it, 1, 65535, &port))
				n->port = (uint16_t)port;
		} else if (!strcmp(it->string, "ipv4")) {
			parse_net_prefix(c, it, AF_INET, &n->v4, &n->has_v4);
		} else if (!strcmp(it->string, "ipv6")) {
			parse_net_prefix(c, it, AF_INET6, &n->v6, &n->has_v6);
		}
		jptr_pop(&c->ptr, mark);
	}
}

/* ---- nodes ------------------------------------------------------------- */

static void parse_key(struct pctx *c, const cJSON *v, uint8_t key[POLICY_KEY_LEN])
{
	size_t len = 0;

	if (!want_type(c, v, cJSON_String, "a base64 WireGuard public key"))
		return;
	if (strlen(v->valuestring) != 44 ||
	    sodium_base642bin(key, POLICY_KEY_LEN, v->valuestring, 44, NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != POLICY_KEY_LEN) {
		memset(key, 0, POLICY_KEY_LEN);
		ERR(c, "bad key \"%s\" (expected 44 characters of base64, as `wg pubkey` prints)",
		    v->valuestring);
	}
}

static void parse_node_ips(struct pctx *c, const cJSON *v, struct node *nd)
{
	const struct network *net = &c->p->net;
	const cJSON *it;
	size_t i = 0;

	if (!want_type(c, v, cJSON_Array, "a list of VPN addresses"))
		return;
	if (cJSON_GetArraySize(v) == 0)
		ERR(c, "a node needs at least one VPN address");
	nd->ips = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*nd->ips));
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_idx(&c->ptr, i++);
		struct prefix pf;
		const struct prefix *in;

		if (!want_type(c, it, cJSON_String, "an address such as \"100.64.0.1\"")) {
		} else if (prefix_parse(it->valuestring, &pf) < 0) {
			ERR(c, "\"%s\" is not an IP address", it->valuestring);
		} else if (pf.len != addr_size(pf.a.family) * 8) {
			ERR(c, "\"%s\" is a network; a node's VPN addresses are single addresses (or /32, /128)",
			    it->valuestring);
		} else {
			in = pf.a.family == AF_INET ? (net->has_v4 ? &net->v4 : NULL)
						    : (net->has_v6 ? &net->v6 : NULL);
			if (!in)
				ERR(c, "\"%s\" needs network.%s to be set", it->valuestring,
				    pf.a.family == AF_INET ? "ipv4" : "ipv6");
			else if (!prefix_within(&pf, in))
				ERR(c, "\"%s\" is outside the mesh network %s", it->valuestring,
				    pf.a.family == AF_INET ? "network.ipv4" : "network.ipv6");
			else
				nd->ips[nd->nips++] = pf;
		}
		jptr_pop(&c->ptr, mark);
	}
}

static bool endpoint_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	const char *host_end = colon;
	char host[256];
	size_t hl;
	struct addr a;
	long port;
	char *end;

	if (!colon || colon[1] < '1' || colon[1] > '9' || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end || port > 65535)
		return false;
	if (s[0] == '[') {
		if (colon == s || colon[-1] != ']')
			return false;
		hl = (size_t)(colon - 1 - (s + 1));
		if (hl == 0 || hl >= sizeof(host))
			return false;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		return addr_parse(host, &a) == 0 && a.family == AF_INET6;
	}
	hl = (size_t)(host_end - s);
	if (hl == 0 || hl > 253)
		return false;
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static void parse_strlist(struct pctx *c, const cJSON *v, const char *what,
			  bool (*ok)(const char *), const char *rule, char ***out, size_t *n)
{
	const cJSON *it;
	size_t i = 0;

	if (!want_type(c, v, cJSON_Array, what))
		return;
	*out = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(**out));
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_idx(&c->ptr, i++);

		if (want_type(c, it, cJSON_String, "a string")) {
			if (!ok(it->valuestring))
				ERR(c, "bad name \"%s\" (%s)", it->valuestring, rule);
			else
				(*out)[(*n)++] = xstrdup(it->valuestring);
		}
		jptr_pop(&c->ptr, mark);
	}
}

static bool public_ifname_ok(const char *s)
{
	return !strcmp(s, "*") || ifname_ok(s, true);
}

static void parse_node(struct pctx *c, const cJSON *v, struct node *nd)
{
	static const char *const keys[] = { "key", "ips", "endpoint", "tags", "public",
					    "keepalive", NULL };
	bool has_key = false, has_ips = false;
	const cJSON *it;

	if (!check_object(c, v, keys))
		return;
	cJSON_ArrayForEach(it, v) {
		if (!first_member(v, it))
			continue; /* a repeat, already reported */
		size_t mark = jptr_key(&c->ptr, it->string);
		long ka;

		if (!strcmp(it->string, "key")) {
			has_key = true;
			parse_key(c, it, nd->key);
		} else if (!strcmp(it->string, "ips")) {
			has_ips = true;
			parse_node_ips(c, it, nd);
		} else if (!strcmp(it->string, "endpoint")) {
			if (want_type(c, it, cJSON_String, "\"HOST:PORT\"")) {
				if (endpoint_ok(it->valuestring))
					nd->endpoint = xstrdup(it->valuestring);
				else
					ERR(c, "bad endpoint \"%s\" (expected \"HOST:PORT\" or \"[IPv6]:PORT\", port 1-65535)",
					    it->valuestring);
			}
		} else if (!strcmp(it->string, "tags")) {
			parse_strlist(c, it, "a list of tag names", policy_name_ok,
				      "lowercase letters, digits and '-', at most 63", &nd->tags, &nd->ntags);
		} else if (!strcmp(it->string, "public")) {
			parse_strlist(c, it, "a list of interface names", public_ifname_ok,
				      "an interface name of 1-15 characters, a trailing '*' matches a prefix, or \"*\"",
				      &nd->public, &nd->npublic);
			for (size_t i = 0; i < nd->npublic; i++)
				if (!strcmp(nd->public[i], "*")) { /* "*" means the default */
					for (size_t j = 0; j < nd->npublic; j++)
						free(nd->public[j]);
					nd->npublic = 0;
					break;
				}
		} else if (!strcmp(it->string, "keepalive")) {
			if (get_int(c, it, 0, 65535, &ka))
				nd->keepalive = (int)ka;
		}
		jptr_pop(&c->ptr, mark);
	}
	if (!has_key)
		ERR(c, "node \"%s\" has no \"key\"", nd->name);
	if (!has_ips)
		ERR(c, "node \"%s\" has no \"ips\"", nd->name);
}

struct ipref {
	struct addr lo, hi;
	size_t node, idx;
};

static int cmp_ipref(const void *a, const void *b)
{
	const struct ipref *x = a, *y = b;
	int r = addr_cmp(&x->lo, &y->lo);

	if (r)
		return r;
	return x->node < y->node ? -1 : x->node > y->node;
}

static void err_at_node(struct pctx *c, size_t node, const char *member, long idx,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void err_at_node(struct pctx *c, size_t node, const char *member, long idx,
			const char *fmt, ...)
{
	size_t mark = jptr_key(&c->ptr, "nodes");
	char *msg = NULL;
	va_list ap;

	jptr_key(&c->ptr, c->p->nodes[node].name);
	jptr_key(&c->ptr, member);
	if (idx >= 0)
		jptr_idx(&c->ptr, (size_t)idx);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	ERR(c, "%s", msg);
	free(msg);
	jptr_pop(&c->ptr, mark);
}

/* VPN addresses must not overlap: sort by start, compare neighbours. */
static void check_unique_ips(struct pctx *c)
{
	struct policy *p = c->p;
	struct ipref *v;
	size_t n = 0;

	for (size_t i = 0; i < p->nnodes; i++)
		n += p->nodes[i].nips;
	v = xcalloc(n, sizeof(*v));
	n = 0;
	for (size_t i = 0; i < p->nnodes; i++)
		for (size_t k = 0; k < p->nodes[i].nips; k++, n++) {
			prefix_bounds(&p->nodes[i].ips[k], &v[n].lo, &v[n].hi);
			v[n].node = i;
			v[n].idx = k;
		}
	qsort(v, n, sizeof(*v), cmp_ipref);
	for (size_t i = 1, widest = 0; i < n; i++) {
		if (v[i].lo.family == v[widest].lo.family && addr_cmp(&v[i].lo, &v[widest].hi) <= 0) {
			err_at_node(c, v[i].node, "ips", (long)v[i].idx,
				    "address overlaps an address of node \"%s\"",
				    p->nodes[v[widest].node].name);
		}
		if (v[i].lo.family != v[widest].lo.family || addr_cmp(&v[i].hi, &v[widest].hi) > 0)
			widest = i;
	}
	free(v);
}

static int cmp_key(const void *a, const void *b, void *arg)
{
	const struct node *nodes = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = memcmp(nodes[x].key, nodes[y].key, POLICY_KEY_LEN);

	if (r)
		return r;
	return x < y ? -1 : x > y;
}

static void check_unique_keys(struct pctx *c)
{
	struct policy *p = c->p;
	size_t *idx = xcalloc(p->nnodes, sizeof(*idx));

	for (size_t i = 0; i < p->nnodes; i++)
		idx[i] = i;
	qsort_r(idx, p->nnodes, sizeof(*idx), cmp_key, p->nodes);
	for (size_t i = 1; i < p->nnodes; i++) {
		const struct node *a = &p->nodes[idx[i - 1]], *b = &p->nodes[idx[i]];

		if (!sodium_is_zero(b->key, POLICY_KEY_LEN) && !memcmp(a->key, b->key, POLICY_KEY_LEN))
			err_at_node(c, idx[i], "key", -1, "key is already used by node \"%s\"", a->name);
	}
	free(idx);
}

void parse_nodes(struct pctx *c, const cJSON *v)
{
	struct policy *p = c->p;
	const cJSON *it;
	size_t n;

	if (!check_object(c, v, NULL))
		return;
	n = (size_t)cJSON_GetArraySize(v);
	p->nodes = xcalloc(n, sizeof(*p->nodes));
	strmap_reserve(&p->node_names, n);
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_key(&c->ptr, it->string);
		struct node *nd = &p->nodes[p->nnodes];

		if (!policy_name_ok(it->string)) {
			ERR(c, "bad node name \"%s\" (lowercase letters, digits and '-', starting with a letter or digit, at most 63)",
			    it->string);
			diag_at_key(c->d, 0);
		} else if (!strcmp(it->string, "internet")) {
			ERR(c, "\"internet\" is reserved (it names the outside world in tests)");
			diag_at_key(c->d, 0);
		} else if (policy_node_find(p, it->string) < 0) {
			nd->name = xstrdup(it->string);
			strmap_put(&p->node_names, nd->name, p->nnodes);
			p->nnodes++;
			parse_node(c, it, nd);
		}
		jptr_pop(&c->ptr, mark);
	}
	check_unique_ips(c);
	check_unique_keys(c);
}

