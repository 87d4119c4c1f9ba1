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
