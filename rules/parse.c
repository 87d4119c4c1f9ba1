/* parse.c — policy document, network, nodes, groups, hosts and services.
 *
 * The text is stripped of comments (hujson.c), parsed by cJSON, and walked
 * once into typed structs. Every problem becomes a diag record; the walk goes
 * on so that all of them are reported together. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hujson.h"
#include "parse_int.h"
#include "select.h"

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort(); /* the policy engine does not run half-allocated */
	return p;
}

char *xstrdup(const char *s)
{
	char *r = strdup(s);

	if (!r)
		abort();
	return r;
}

const char *json_type_name(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "a list";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	return "null";
}

bool want_type(struct pctx *c, const cJSON *v, int type, const char *what)
{
	if ((v->type & 0xff) == type)
		return true;
	ERR(c, "expected %s, got %s", what, json_type_name(v));
	return false;
}

/* ---- cJSON's memory --------------------------------------------------------- */

/* A policy of 100k rules is about a million cJSON nodes and strings; taking
 * them from a bump arena and dropping it whole is several times faster than
 * malloc/free each and has no per-allocation overhead. cJSON's hooks carry no
 * context, hence the thread-local arena; it exists only inside policy_load(). */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK (4u << 20)

static _Thread_local struct arena_chunk *arena;

static void *arena_alloc(size_t sz)
{
	struct arena_chunk *c = arena;

	sz = (sz + 15) & ~(size_t)15;
	if (!c || c->used + sz > c->size) {
		size_t size = sz > ARENA_CHUNK ? sz : ARENA_CHUNK;
		void *m;

		/* populated up front: one call instead of a page fault per 4 KiB,
		 * which is what dominated on virtual machines */
		m = mmap(NULL, sizeof(*c) + size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		c = m;
		c->next = arena;
		c->used = 0;
		c->size = size;
		arena = c;
	}
	c->used += sz;
	return c->data + c->used - sz;
}

static void arena_free_one(void *p)
{
	(void)p; /* everything goes at once in arena_release() */
}

static void arena_release(void)
{
	while (arena) {
		struct arena_chunk *next = arena->next;

		munmap(arena, sizeof(*arena) + arena->size);
		arena = next;
	}
}

static cJSON *parse_json(const char *buf, size_t len, const char **end)
{
	cJSON_Hooks hooks = { .malloc_fn = arena_alloc, .free_fn = arena_free_one };
	cJSON *root;

	cJSON_InitHooks(&hooks);
	root = cJSON_ParseWithLengthOpts(buf, len, end, false);
	cJSON_InitHooks(NULL);
	return root;
}

static int cmp_member(const void *a, const void *b)
{
	const cJSON *const *x = a, *const *y = b;
	int r = strcmp((*x)->string, (*y)->string);

	if (r)
		return r;
	return (*x < *y) ? -1 : (*x > *y);
}

/* Report every repeated member name: pointer at the key of each repeat. */
static void dup_report(struct pctx *c, const cJSON *v, const char *name)
{
	const cJSON *it;
	unsigned nth = 0;

	cJSON_ArrayForEach(it, v) {
		size_t mark;

		if (strcmp(it->string, name) != 0)
			continue;
		if (nth > 0) {
			mark = jptr_key(&c->ptr, it->string);
			ERR(c, "duplicate key \"%s\"", it->string);
			diag_at_key(c->d, nth);
			jptr_pop(&c->ptr, mark);
		}
		nth++;
	}
}

static void check_duplicates(struct pctx *c, const cJSON *v)
{
	size_t n = (size_t)cJSON_GetArraySize(v), k = 0;
	const cJSON **m, *it, *a, *b;

	if (n < 2)
		return;
	if (n <= 16) { /* the common small object: no allocation */
		for (a = v->child; a; a = a->next) {
			for (b = v->child; b != a && strcmp(a->string, b->string); b = b->next)
				;
			if (b != a)
				continue; /* not the first of its name */
			for (b = a->next; b && strcmp(a->string, b->string); b = b->next)
				;
			if (b)
				dup_report(c, v, a->string);
		}
		return;
	}
	m = xcalloc(n, sizeof(*m));
	cJSON_ArrayForEach(it, v) m[k++] = it;
	/* cJSON keeps members in document order, and so does this sort for equal
	 * names (tie broken by node address, which is allocation order) — so only
	 * use it to find names, then count occurrences in document order. */
	qsort(m, n, sizeof(*m), cmp_member);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(m[i]->string, m[i - 1]->string) &&
		    (i < 2 || strcmp(m[i]->string, m[i - 2]->string)))
			dup_report(c, v, m[i]->string);
	free(m);
}

bool check_object(struct pctx *c, const cJSON *v, const char *const *allowed)
{
	const cJSON *it;

	if (!want_type(c, v, cJSON_Object, "an object"))
		return false;
	check_duplicates(c, v);
	if (!allowed)
		return true;
	cJSON_ArrayForEach(it, v) {
		const char *const *a;
		char list[256] = "";
		size_t mark;

		for (a = allowed; *a && strcmp(*a, it->string); a++)
			;
		if (*a)
			continue;
		for (a = allowed; *a; a++) {
			strncat(list, *a, sizeof(list) - strlen(list) - 1);
			if (a[1])
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		}
		mark = jptr_key(&c->ptr, it->string);
		ERR(c, "unknown key \"%s\" (expected one of: %s)", it->string, list);
		diag_at_key(c->d, 0);
		jptr_pop(&c->ptr, mark);
	}
	return true;
}

bool get_int(struct pctx *c, const cJSON *v, long lo, long hi, long *out)
{
	double d;

	if (!want_type(c, v, cJSON_Number, "an integer"))
		return false;
	d = v->valuedouble;
	if (d != floor(d) || isnan(d)) {
		ERR(c, "expected an integer, got %g", d);
		return false;
	}
	if (d < (double)lo || d > (double)hi) {
		ERR(c, "%.0f out of range %ld-%ld", d, lo, hi);
		return false;
	}
	*out = (long)d;
	return true;
}

bool get_duration(struct pctx *c, const cJSON *v, uint32_t *out)
{
	int r;

	if (!want_type(c, v, cJSON_String, "a duration such as \"30s\", \"10m\", \"1h\", \"7d\""))
		return false;
	r = duration_parse(v->valuestring, out);
	if (r == -ERANGE)
		ERR(c, "duration \"%s\" is too long (at most 10 years)", v->valuestring);
	else if (r < 0)
		ERR(c, "bad duration \"%s\" (expected a number and a unit s, m, h or d, e.g. \"30s\", \"10m\", \"1h\", \"7d\")",
		    v->valuestring);
	return r == 0;
}

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

static void parse_network(struct pctx *c, const cJSON *v)
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

static void parse_nodes(struct pctx *c, const cJSON *v)
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

/* ---- groups, hosts, services ------------------------------------------- */

static void parse_groups(struct pctx *c, const cJSON *v)
{
	struct policy *p = c->p;
	const cJSON *it;

	if (!check_object(c, v, NULL))
		return;
	p->groups = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*p->groups));
	/* names first: groups may refer to groups defined further down */
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_key(&c->ptr, it->string);

		if (!policy_name_ok(it->string)) {
			ERR(c, "bad group name \"%s\" (lowercase letters, digits and '-')", it->string);
			diag_at_key(c->d, 0);
		} else if (select_group_find(p, it->string) < 0) {
			p->groups[p->ngroups].name = xstrdup(it->string);
			strmap_put(&p->group_names, p->groups[p->ngroups].name, p->ngroups);
			p->ngroups++;
		}
		jptr_pop(&c->ptr, mark);
	}
	cJSON_ArrayForEach(it, v) {
		long g = select_group_find(p, it->string);
		size_t mark = jptr_key(&c->ptr, it->string);

		if (g >= 0 && !p->groups[g].members.v)
			parse_sellist(c, it, SELS_NODES, &p->groups[g].members);
		jptr_pop(&c->ptr, mark);
	}
}

static void host_cidr(struct pctx *c, const cJSON *e, struct host *h)
{
	if (!want_type(c, e, cJSON_String, "a CIDR or a list of CIDRs"))
		return;
	if (prefix_parse(e->valuestring, &h->v[h->n]) < 0)
		ERR(c, "\"%s\" is not an IP address or CIDR", e->valuestring);
	else if (prefix_has_host_bits(&h->v[h->n]))
		ERR(c, "\"%s\" has host bits set", e->valuestring);
	else
		h->n++;
}

static void parse_hosts(struct pctx *c, const cJSON *v)
{
	struct policy *p = c->p;
	const cJSON *it, *e;

	if (!check_object(c, v, NULL))
		return;
	p->hosts = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*p->hosts));
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_key(&c->ptr, it->string), i = 0;
		struct host *h = &p->hosts[p->nhosts];

		if (!policy_name_ok(it->string)) {
			ERR(c, "bad host name \"%s\" (lowercase letters, digits and '-')", it->string);
			diag_at_key(c->d, 0);
		} else if (select_host_find(p, it->string) >= 0) {
			/* a repeated key, reported by check_object() */
		} else if (!cJSON_IsArray(it)) {
			h->name = xstrdup(it->string);
			strmap_put(&p->host_names, h->name, p->nhosts);
			p->nhosts++;
			h->v = xcalloc(1, sizeof(*h->v));
			host_cidr(c, it, h);
		} else {
			h->name = xstrdup(it->string);
			strmap_put(&p->host_names, h->name, p->nhosts);
			p->nhosts++;
			if (cJSON_GetArraySize(it) == 0)
				ERR(c, "host \"%s\" has no addresses", it->string);
			h->v = xcalloc((size_t)cJSON_GetArraySize(it), sizeof(*h->v));
			cJSON_ArrayForEach(e, it) {
				size_t m2 = jptr_idx(&c->ptr, i++);

				host_cidr(c, e, h);
				jptr_pop(&c->ptr, m2);
			}
		}
		jptr_pop(&c->ptr, mark);
	}
}

static void parse_services(struct pctx *c, const cJSON *v)
{
	struct policy *p = c->p;
	const cJSON *it;

	if (!check_object(c, v, NULL))
		return;
	p->services = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*p->services));
	cJSON_ArrayForEach(it, v) {
		size_t mark = jptr_key(&c->ptr, it->string);

		if (!policy_name_ok(it->string) || !strcmp(it->string, "icmp")) {
			ERR(c, "bad service name \"%s\" (lowercase letters, digits and '-', not \"icmp\")",
			    it->string);
			diag_at_key(c->d, 0);
		} else if (strmap_get(&p->service_names, it->string) < 0) {
			struct service *s = &p->services[p->nservices];

			s->name = xstrdup(it->string);
			strmap_put(&p->service_names, s->name, p->nservices++);
			parse_portlist(c, it, false, &s->ports);
		}
		jptr_pop(&c->ptr, mark);
	}
}

/* ---- the document ------------------------------------------------------ */

typedef void (*section_fn)(struct pctx *, const cJSON *);

static void section(struct pctx *c, const cJSON *root, const char *name, section_fn fn)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
	size_t mark;

	if (!v)
		return;
	mark = jptr_key(&c->ptr, name);
	fn(c, v);
	jptr_pop(&c->ptr, mark);
}

static void parse_version(struct pctx *c, const cJSON *v)
{
	long ver;

	if (get_int(c, v, 1, 1, &ver))
		c->p->version = (int)ver;
}

static void parse_root(struct pctx *c, const cJSON *root)
{
	static const char *const keys[] = { "version", "network", "nodes", "groups", "hosts",
					    "services", "expose", "acls", "tests", "suspicion",
					    "breakglass", NULL };
	static const char *const required[] = { "version", "network", "nodes", NULL };

	if (!check_object(c, root, keys))
		return;
	for (const char *const *r = required; *r; r++)
		if (!cJSON_GetObjectItemCaseSensitive(root, *r))
			ERR(c, "missing required key \"%s\"", *r);
	c->p->suspicion = (struct suspicion){ .window = 60, .denied_ports = 10,
					      .denied_packets = 100, .ban = 3600, .backoff = 2,
					      .max_ban = 86400, .evict = true };
	section(c, root, "version", parse_version);
	section(c, root, "network", parse_network);
	section(c, root, "nodes", parse_nodes);
	section(c, root, "groups", parse_groups);
	section(c, root, "hosts", parse_hosts);
	section(c, root, "services", parse_services);
	select_check_groups(c->p, c->d);
	section(c, root, "expose", parse_expose);
	section(c, root, "acls", parse_acls);
	section(c, root, "tests", parse_tests);
	section(c, root, "suspicion", parse_suspicion);
	section(c, root, "breakglass", parse_breakglass);
}

struct policy *policy_load(const char *text, size_t len, const struct policy_opts *opts,
			   struct diags *d)
{
	struct pctx c = { .d = d, .now = opts && opts->now ? opts->now : time(NULL) };
	size_t err_off = 0, nerr = d->nerr;
	const char *end = NULL;
	char *buf;
	cJSON *root;

	buf = malloc(len + 1);
	if (!buf)
		return NULL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (hujson_strip(buf, len, &err_off) < 0) {
		if (buf[err_off] == '/')
			diag_at_offset(d, DIAG_ERROR, err_off, "unterminated comment");
		else
			diag_at_offset(d, DIAG_ERROR, err_off,
				       "control character 0x%02x (not allowed in JSON)",
				       (unsigned char)buf[err_off]);
		goto out_locate;
	}
	root = parse_json(buf, len, &end);
	if (!root) {
		size_t off = end && end >= buf ? (size_t)(end - buf) : 0;

		diag_at_offset(d, DIAG_ERROR, off, "JSON syntax error near \"%.*s\"",
			       (int)strcspn(buf + off, "\r\n") < 16 ? (int)strcspn(buf + off, "\r\n") : 16,
			       buf + off);
		goto out_locate;
	}
	c.p = xcalloc(1, sizeof(*c.p));
	crypto_generichash(c.p->hash, sizeof(c.p->hash), (const unsigned char *)text, len, NULL, 0);
	jptr_init(&c.ptr);
	parse_root(&c, root);
out_locate:
	arena_release(); /* the cJSON tree, which never leaves this function */
	hujson_locate(buf, len, d);
	diags_sort(d);
	free(buf);
	if (d->nerr > nerr) {
		policy_free(c.p);
		return NULL;
	}
	return c.p;
}

/* ---- lookups and freeing ----------------------------------------------- */

long policy_node_find(const struct policy *p, const char *name)
{
	return strmap_get(&p->node_names, name);
}

long policy_node_by_key(const struct policy *p, const uint8_t key[POLICY_KEY_LEN])
{
	for (size_t i = 0; i < p->nnodes; i++)
		if (!sodium_memcmp(p->nodes[i].key, key, POLICY_KEY_LEN))
			return (long)i;
	return -1;
}

void sellist_free(struct sellist *sl)
{
	for (size_t i = 0; i < sl->n; i++)
		free(sl->v[i].name);
	free(sl->v);
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nnodes; i++) {
		struct node *n = &p->nodes[i];

		free(n->name);
		free(n->ips);
		free(n->endpoint);
		free_strs(n->tags, n->ntags);
		free_strs(n->public, n->npublic);
	}
	free(p->nodes);
	for (size_t i = 0; i < p->ngroups; i++) {
		free(p->groups[i].name);
		sellist_free(&p->groups[i].members);
	}
	free(p->groups);
	for (size_t i = 0; i < p->nhosts; i++) {
		free(p->hosts[i].name);
		free(p->hosts[i].v);
	}
	free(p->hosts);
	for (size_t i = 0; i < p->nservices; i++) {
		free(p->services[i].name);
		portset_free(&p->services[i].ports);
	}
	free(p->services);
	for (size_t i = 0; i < p->nexpose; i++) {
		free(p->expose[i].id);
		sellist_free(&p->expose[i].on);
		sellist_free(&p->expose[i].from);
		portset_free(&p->expose[i].ports);
	}
	free(p->expose);
	for (size_t i = 0; i < p->nacls; i++) {
		free(p->acls[i].id);
		sellist_free(&p->acls[i].src);
		sellist_free(&p->acls[i].dst);
		portset_free(&p->acls[i].ports);
	}
	free(p->acls);
	for (size_t i = 0; i < p->ntests; i++) {
		free(p->tests[i].src);
		free(p->tests[i].accept);
		free(p->tests[i].deny);
	}
	free(p->tests);
	strmap_free(&p->node_names);
	strmap_free(&p->group_names);
	strmap_free(&p->host_names);
	strmap_free(&p->service_names);
	sellist_free(&p->suspicion.exempt);
	sellist_free(&p->breakglass.holders);
	portset_free(&p->breakglass.ports);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

void policy_diags_locate(const char *text, size_t len, struct diags *d)
{
	char *buf = malloc(len + 1);
	size_t err_off;

	if (!buf)
		return;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (hujson_strip(buf, len, &err_off) == 0)
		hujson_locate(buf, len, d);
	diags_sort(d);
	free(buf);
}
