/* parse_rules.c — selectors, port specs, expose, acls, tests, suspicion, breakglass. */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"
#include "select.h"

/* ---- selectors ----------------------------------------------------------- */

static const char *kinds_text(unsigned kinds)
{
	if (kinds == SELS_NODES)
		return "nodes: \"*\", a node name, \"tag:NAME\" or \"group:NAME\"";
	if (kinds == SELS_ADDRS)
		return "addresses: \"*\", \"host:NAME\" or an IP address or CIDR";
	return "\"*\", a node name, \"tag:NAME\", \"group:NAME\", \"host:NAME\" or a CIDR";
}

static bool parse_sel(struct pctx *c, const char *s, unsigned kinds, struct sel *out)
{
	long idx;

	memset(out, 0, sizeof(*out));
	if (!strcmp(s, "*")) {
		out->kind = SEL_ALL;
	} else if (!strncmp(s, "tag:", 4)) {
		out->kind = SEL_TAG;
		if (!policy_name_ok(s + 4)) {
			ERR(c, "bad tag selector \"%s\" (expected \"tag:NAME\")", s);
			return false;
		}
		if (!select_tag_exists(c->p, s + 4))
			WARN(c, "selector \"%s\" matches no node", s);
	} else if (!strncmp(s, "group:", 6)) {
		out->kind = SEL_GROUP;
		idx = select_group_find(c->p, s + 6);
		if (idx < 0) {
			ERR(c, "unknown group \"%s\" (not defined in \"groups\")", s + 6);
			return false;
		}
		out->idx = (size_t)idx;
	} else if (!strncmp(s, "host:", 5)) {
		out->kind = SEL_HOST;
		idx = select_host_find(c->p, s + 5);
		if (idx < 0) {
			ERR(c, "unknown host \"%s\" (not defined in \"hosts\")", s + 5);
			return false;
		}
		out->idx = (size_t)idx;
	} else if (strchr(s, '.') || strchr(s, ':') || strchr(s, '/')) {
		out->kind = SEL_CIDR;
		if (prefix_parse(s, &out->cidr) < 0) {
			ERR(c, "\"%s\" is not an IP address or CIDR", s);
			return false;
		}
		if (prefix_has_host_bits(&out->cidr)) {
			ERR(c, "\"%s\" has host bits set", s);
			return false;
		}
	} else {
		out->kind = SEL_NODE;
		idx = policy_node_find(c->p, s);
		if (idx < 0) {
			ERR(c, "unknown node \"%s\" (expected %s)", s, kinds_text(kinds));
			return false;
		}
		out->idx = (size_t)idx;
	}
	if (!(kinds & (1u << out->kind))) {
		ERR(c, "\"%s\" cannot be used here: this list takes %s", s, kinds_text(kinds));
		return false;
	}
	if (out->kind != SEL_ALL && out->kind != SEL_CIDR) {
		const char *colon = strchr(s, ':');

		out->name = xstrdup(colon ? colon + 1 : s);
	}
	return true;
}

void parse_sellist(struct pctx *c, const cJSON *v, unsigned kinds, struct sellist *out)
{
	const cJSON *it;
	size_t i = 0;

	if (!want_type(c, v, cJSON_Array, "a list of selectors"))
		return;
	out->v = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*out->v));
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_idx(&c->ptr, i++);

		if (want_type(c, it, cJSON_String, "a selector string") &&
		    parse_sel(c, it->valuestring, kinds, &out->v[out->n]))
			out->n++;
		jptr_pop(&c->ptr, mark);
	}
}

/* ---- port specs ---------------------------------------------------------- */

static int port_num(const char *s, size_t len, long *out)
{
	long v = 0;

	if (len == 0 || (s[0] == '0' && len > 1))
		return -EINVAL; /* empty, or a leading zero */
	if (len > 6)
		return -ERANGE;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (v < 1 || v > 65535) ? -ERANGE : 0;
}

static void parse_ports(struct pctx *c, const char *spec, const char *ports, struct rangeset *rs)
{
	const char *p = ports;

	if (!strcmp(ports, "*")) {
		if (rangeset_add(rs, 0, 65535) < 0)
			abort();
		return;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *dash = memchr(p, '-', len);
		long lo, hi;
		int r1, r2;

		if (dash) {
			r1 = port_num(p, (size_t)(dash - p), &lo);
			r2 = port_num(dash + 1, len - (size_t)(dash - p) - 1, &hi);
		} else {
			r1 = r2 = port_num(p, len, &lo);
			hi = lo;
		}
		if (r1 == -EINVAL || r2 == -EINVAL) {
			ERR(c, "bad port list in \"%s\" (expected N or N-M separated by commas, or *)", spec);
			return;
		}
		if (r1 == -ERANGE || r2 == -ERANGE) {
			ERR(c, "port %.*s out of range 1-65535", (int)len, p);
			return;
		}
		if (lo > hi) {
			ERR(c, "port range %.*s is reversed", (int)len, p);
			return;
		}
		if (rangeset_add(rs, (uint16_t)lo, (uint16_t)hi) < 0)
			abort();
		if (!p[len])
			break;
		p += len + 1;
	}
}

static long service_find(const struct policy *p, const char *name)
{
	return strmap_get(&p->service_names, name);
}

static void parse_portspec(struct pctx *c, const char *s, bool allow_services,
			   struct portset *out)
{
	long svc;

	if (!strcmp(s, "*")) {
		out->all = true;
	} else if (!strcmp(s, "icmp")) {
		out->icmp = true;
	} else if (!strncmp(s, "tcp:", 4)) {
		parse_ports(c, s, s + 4, &out->tcp);
	} else if (!strncmp(s, "udp:", 4)) {
		parse_ports(c, s, s + 4, &out->udp);
	} else if (strchr(s, ':')) {
		ERR(c, "unknown protocol in \"%s\" (expected tcp:PORTS, udp:PORTS, icmp, * or a service name)",
		    s);
	} else if (!allow_services) {
		ERR(c, "\"%s\" is not a port spec (expected tcp:PORTS, udp:PORTS, icmp or *; services cannot name other services)",
		    s);
	} else if ((svc = service_find(c->p, s)) >= 0) {
		portset_union(out, &c->p->services[svc].ports);
	} else {
		ERR(c, "unknown service \"%s\" (expected tcp:PORTS, udp:PORTS, icmp, * or a name from \"services\")",
		    s);
	}
}

void parse_portlist(struct pctx *c, const cJSON *v, bool allow_services, struct portset *out)
{
	const cJSON *it;
	size_t i = 0;

	if (!want_type(c, v, cJSON_Array, "a list of port specs such as [\"tcp:22\"]"))
		return;
	if (cJSON_GetArraySize(v) == 0)
		ERR(c, "empty port list");
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_idx(&c->ptr, i++);

		if (want_type(c, it, cJSON_String, "a port spec string"))
			parse_portspec(c, it->valuestring, allow_services, out);
		jptr_pop(&c->ptr, mark);
	}
}

/* ---- rule ids ------------------------------------------------------------ */

/* Ids appear in nftables comments and logs: keep them plain. */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.:-", s[i]))
			return false;
	return true;
}

static char *parse_id(struct pctx *c, const cJSON *v, struct strmap *seen)
{
	if (!want_type(c, v, cJSON_String, "a rule id string"))
		return NULL;
	if (!id_ok(v->valuestring)) {
		ERR(c, "bad id \"%s\" (1-64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit)",
		    v->valuestring);
		return NULL;
	}
	if (strmap_get(seen, v->valuestring) >= 0) {
		ERR(c, "duplicate id \"%s\"", v->valuestring);
		return NULL;
	}
	return xstrdup(v->valuestring);
}

/* ---- expose -------------------------------------------------------------- */

void parse_expose(struct pctx *c, const cJSON *v)
{
	static const char *const keys[] = { "id", "on", "ports", "from", NULL };
	struct policy *p = c->p;
	struct strmap ids = { 0 };
	const cJSON *it;
	size_t i = 0;

	if (!want_type(c, v, cJSON_Array, "a list of exposure rules"))
		return;
	p->expose = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*p->expose));
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_idx(&c->ptr, i++);
		struct expose *e = &p->expose[p->nexpose];
		const cJSON *m;

		if (check_object(c, it, keys)) {
			if (!cJSON_GetObjectItemCaseSensitive(it, "on"))
				ERR(c, "missing required key \"on\"");
			if (!cJSON_GetObjectItemCaseSensitive(it, "ports"))
				ERR(c, "missing required key \"ports\"");
			cJSON_ArrayForEach(m, it) {
				if (!first_member(it, m))
					continue; /* a repeat, already reported */
				size_t m2 = jptr_key(&c->ptr, m->string);

				if (!strcmp(m->string, "id"))
					e->id = parse_id(c, m, &ids);
				else if (!strcmp(m->string, "on"))
					parse_sellist(c, m, SELS_NODES, &e->on);
				else if (!strcmp(m->string, "ports"))
					parse_portlist(c, m, true, &e->ports);
				else if (!strcmp(m->string, "from"))
					parse_sellist(c, m, SELS_ADDRS, &e->from);
				jptr_pop(&c->ptr, m2);
			}
			if (!cJSON_GetObjectItemCaseSensitive(it, "from")) {
				e->from.v = xcalloc(1, sizeof(*e->from.v));
				e->from.v[0].kind = SEL_ALL;
				e->from.n = 1;
			}
			if (!e->id && asprintf(&e->id, "expose-%zu", i - 1) < 0)
				abort();
			strmap_put(&ids, e->id, p->nexpose);
			p->nexpose++;
		}
		jptr_pop(&c->ptr, mark);
	}
	strmap_free(&ids);
}

/* ---- acls ---------------------------------------------------------------- */

static void parse_expires(struct pctx *c, const cJSON *m, struct acl *a)
{
	if (!want_type(c, m, cJSON_String, "an RFC 3339 time such as \"2027-01-31T00:00:00Z\""))
		return;
	if (rfc3339_parse(m->valuestring, &a->expires) < 0) {
		ERR(c, "bad time \"%s\" (expected RFC 3339, e.g. \"2027-01-31T00:00:00Z\")",
		    m->valuestring);
		return;
	}
	if (a->expires <= (int64_t)c->now)
		WARN(c, "rule expired at %s; it allows nothing", m->valuestring);
}

void parse_acls(struct pctx *c, const cJSON *v)
{
	static const char *const keys[] = { "id", "src", "dst", "ports", "expires", NULL };
	static const char *const required[] = { "id", "src", "dst", "ports", NULL };
	struct policy *p = c->p;
	struct strmap ids = { 0 };
	const cJSON *it;
	size_t i = 0;

	if (!want_type(c, v, cJSON_Array, "a list of ACL rules"))
		return;
	p->acls = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*p->acls));
	strmap_reserve(&ids, (size_t)cJSON_GetArraySize(v));
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_idx(&c->ptr, i++);
		struct acl *a = &p->acls[p->nacls];
		const cJSON *m;

		if (check_object(c, it, keys)) {
			for (const char *const *r = required; *r; r++)
				if (!cJSON_GetObjectItemCaseSensitive(it, *r))
					ERR(c, "missing required key \"%s\"", *r);
			cJSON_ArrayForEach(m, it) {
				if (!first_member(it, m))
					continue; /* a repeat, already reported */
				size_t m2 = jptr_key(&c->ptr, m->string);

				if (!strcmp(m->string, "id"))
					a->id = parse_id(c, m, &ids);
				else if (!strcmp(m->string, "src"))
					parse_sellist(c, m, SELS_ANY, &a->src);
				else if (!strcmp(m->string, "dst"))
					parse_sellist(c, m, SELS_NODES, &a->dst);
				else if (!strcmp(m->string, "ports"))
					parse_portlist(c, m, true, &a->ports);
				else if (!strcmp(m->string, "expires"))
					parse_expires(c, m, a);
				jptr_pop(&c->ptr, m2);
			}
			if (!a->id && asprintf(&a->id, "acl-%zu", i - 1) < 0)
				abort();
			strmap_put(&ids, a->id, p->nacls);
			p->nacls++;
		}
		jptr_pop(&c->ptr, mark);
	}
	strmap_free(&ids);
}

/* ---- tests --------------------------------------------------------------- */

static void parse_targets(struct pctx *c, const cJSON *v, struct ptest_target **out, size_t *n)
{
	const cJSON *it;
	size_t i = 0;

	if (!want_type(c, v, cJSON_Array, "a list of \"NODE:PORT\""))
		return;
	*out = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(**out));
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_idx(&c->ptr, i++);
		const char *colon;
		char name[64];
		long node, port = 0;
		char *end = NULL;

		if (!want_type(c, it, cJSON_String, "\"NODE:PORT\"")) {
			jptr_pop(&c->ptr, mark);
			continue;
		}
		colon = strrchr(it->valuestring, ':');
		if (colon && colon[1] >= '1' && colon[1] <= '9' && strlen(colon + 1) <= 5 &&
		    strspn(colon + 1, "0123456789") == strlen(colon + 1))
			port = strtol(colon + 1, &end, 10);
		if (!colon || port < 1 || port > 65535 || !end || *end ||
		    (size_t)(colon - it->valuestring) >= sizeof(name)) {
			ERR(c, "bad target \"%s\" (expected \"NODE:PORT\", port 1-65535)", it->valuestring);
		} else {
			memcpy(name, it->valuestring, (size_t)(colon - it->valuestring));
			name[colon - it->valuestring] = '\0';
			node = policy_node_find(c->p, name);
			if (node < 0) {
				ERR(c, "unknown node \"%s\" in \"%s\"", name, it->valuestring);
			} else {
				(*out)[*n].node = (size_t)node;
				(*out)[*n].port = (uint16_t)port;
				(*n)++;
			}
		}
		jptr_pop(&c->ptr, mark);
	}
}

static void parse_test_src(struct pctx *c, const cJSON *m, struct ptest *t)
{
	long node;

	if (!want_type(c, m, cJSON_String, "a node name, \"internet\" or an IP address"))
		return;
	t->src = xstrdup(m->valuestring);
	if (!strcmp(m->valuestring, "internet")) {
		t->kind = PTEST_INTERNET;
	} else if ((node = policy_node_find(c->p, m->valuestring)) >= 0) {
		t->kind = PTEST_NODE;
		t->node = (size_t)node;
	} else if (addr_parse(m->valuestring, &t->addr) == 0) {
		t->kind = PTEST_ADDR;
	} else {
		ERR(c, "unknown test source \"%s\" (expected a node name, \"internet\" or an IP address)",
		    m->valuestring);
	}
}

void parse_tests(struct pctx *c, const cJSON *v)
{
	static const char *const keys[] = { "src", "proto", "accept", "deny", NULL };
	struct policy *p = c->p;
	const cJSON *it;
	size_t i = 0;

	if (!want_type(c, v, cJSON_Array, "a list of tests"))
		return;
	p->tests = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*p->tests));
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_idx(&c->ptr, i++);
		struct ptest *t = &p->tests[p->ntests];
		const cJSON *m;

		if (check_object(c, it, keys)) {
			t->proto = IPPROTO_TCP;
			if (!cJSON_GetObjectItemCaseSensitive(it, "src"))
				ERR(c, "missing required key \"src\"");
			cJSON_ArrayForEach(m, it) {
				if (!first_member(it, m))
					continue; /* a repeat, already reported */
				size_t m2 = jptr_key(&c->ptr, m->string);

				if (!strcmp(m->string, "src")) {
					parse_test_src(c, m, t);
				} else if (!strcmp(m->string, "proto")) {
					if (!want_type(c, m, cJSON_String, "\"tcp\" or \"udp\""))
						;
					else if (!strcmp(m->valuestring, "udp"))
						t->proto = IPPROTO_UDP;
					else if (strcmp(m->valuestring, "tcp"))
						ERR(c, "bad proto \"%s\" (expected \"tcp\" or \"udp\")",
						    m->valuestring);
				} else if (!strcmp(m->string, "accept")) {
					parse_targets(c, m, &t->accept, &t->naccept);
				} else if (!strcmp(m->string, "deny")) {
					parse_targets(c, m, &t->deny, &t->ndeny);
				}
				jptr_pop(&c->ptr, m2);
			}
			p->ntests++;
		}
		jptr_pop(&c->ptr, mark);
	}
}

/* ---- suspicion and breakglass --------------------------------------------- */

void parse_suspicion(struct pctx *c, const cJSON *v)
{
	static const char *const keys[] = { "window", "deniedPorts", "deniedPackets", "ban",
					    "backoff", "maxBan", "exempt", "evict", NULL };
	struct suspicion *s = &c->p->suspicion;
	const cJSON *m;

	if (!check_object(c, v, keys))
		return;
	cJSON_ArrayForEach(m, v) {
		if (!first_member(v, m))
			continue; /* a repeat, already reported */
		size_t mark = jptr_key(&c->ptr, m->string);
		long n;

		if (!strcmp(m->string, "window"))
			get_duration(c, m, &s->window);
		else if (!strcmp(m->string, "ban"))
			get_duration(c, m, &s->ban);
		else if (!strcmp(m->string, "maxBan"))
			get_duration(c, m, &s->max_ban);
		else if (!strcmp(m->string, "deniedPorts") && get_int(c, m, 1, 65535, &n))
			s->denied_ports = (uint32_t)n;
		else if (!strcmp(m->string, "deniedPackets") && get_int(c, m, 1, 100000000, &n))
			s->denied_packets = (uint32_t)n;
		else if (!strcmp(m->string, "backoff") &&
			 want_type(c, m, cJSON_Number, "a number >= 1")) {
			if (m->valuedouble < 1 || m->valuedouble > 1000)
				ERR(c, "backoff %g out of range 1-1000", m->valuedouble);
			else
				s->backoff = m->valuedouble;
		} else if (!strcmp(m->string, "exempt")) {
			parse_sellist(c, m, SELS_NODES, &s->exempt);
		} else if (!strcmp(m->string, "evict")) {
			if (cJSON_IsBool(m))
				s->evict = cJSON_IsTrue(m);
			else
				ERR(c, "expected true or false, got %s", json_type_name(m));
		}
		jptr_pop(&c->ptr, mark);
	}
	if (s->max_ban < s->ban) {
		size_t mark = jptr_key(&c->ptr, "maxBan");

		ERR(c, "maxBan (%us) is shorter than ban (%us)", s->max_ban, s->ban);
		jptr_pop(&c->ptr, mark);
	}
}

/* Breakglass ports are compiled into every node's table for every holder,
 * so what can fall short is the number of distinct holders. */
static void check_holders(struct pctx *c)
{
	const struct policy *p = c->p;
	const struct breakglass *b = &p->breakglass;
	size_t k = select_count(p, &b->holders, -1);

	if (k < b->min_holders) {
		size_t mark = jptr_key(&c->ptr, "minHolders");

		ERR(c, "only %zu distinct holder(s) can reach the breakglass ports; minHolders is %u",
		    k, b->min_holders);
		jptr_pop(&c->ptr, mark);
	}
}

void parse_breakglass(struct pctx *c, const cJSON *v)
{
	static const char *const keys[] = { "holders", "ports", "ttl", "minHolders", NULL };
	struct breakglass *b = &c->p->breakglass;
	const cJSON *m;
	size_t nerr = c->d->nerr;

	b->present = true;
	b->ttl = 1800;
	b->min_holders = 1;
	if (!check_object(c, v, keys))
		return;
	if (!cJSON_GetObjectItemCaseSensitive(v, "holders"))
		ERR(c, "missing required key \"holders\"");
	if (!cJSON_GetObjectItemCaseSensitive(v, "ports"))
		ERR(c, "missing required key \"ports\"");
	cJSON_ArrayForEach(m, v) {
		if (!first_member(v, m))
			continue; /* a repeat, already reported */
		size_t mark = jptr_key(&c->ptr, m->string);
		long n;

		if (!strcmp(m->string, "holders"))
			parse_sellist(c, m, SELS_NODES, &b->holders);
		else if (!strcmp(m->string, "ports"))
			parse_portlist(c, m, true, &b->ports);
		else if (!strcmp(m->string, "ttl"))
			get_duration(c, m, &b->ttl);
		else if (!strcmp(m->string, "minHolders") && get_int(c, m, 1, 1000, &n))
			b->min_holders = (uint32_t)n;
		jptr_pop(&c->ptr, mark);
	}
	if (c->d->nerr == nerr)
		check_holders(c);
}
