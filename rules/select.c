/* select.c — selector resolution and group checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

long select_group_find(const struct policy *p, const char *name)
{
	return strmap_get(&p->group_names, name);
}

long select_host_find(const struct policy *p, const char *name)
{
	return strmap_get(&p->host_names, name);
}

bool node_has_tag(const struct node *n, const char *tag)
{
	for (size_t i = 0; i < n->ntags; i++)
		if (!strcmp(n->tags[i], tag))
			return true;
	return false;
}

bool select_tag_exists(const struct policy *p, const char *tag)
{
	for (size_t i = 0; i < p->nnodes; i++)
		if (node_has_tag(&p->nodes[i], tag))
			return true;
	return false;
}

static bool sel_node(const struct policy *p, const struct sel *s, size_t node, unsigned depth);

static bool list_node(const struct policy *p, const struct sellist *sl, size_t node,
		      unsigned depth)
{
	if (depth > p->ngroups + 1) /* a cycle; reported by select_check_groups */
		return false;
	for (size_t i = 0; i < sl->n; i++)
		if (sel_node(p, &sl->v[i], node, depth))
			return true;
	return false;
}

static bool sel_node(const struct policy *p, const struct sel *s, size_t node, unsigned depth)
{
	switch (s->kind) {
	case SEL_ALL:
		return true;
	case SEL_NODE:
		return s->idx == node;
	case SEL_TAG:
		return node_has_tag(&p->nodes[node], s->name);
	case SEL_GROUP:
		return list_node(p, &p->groups[s->idx].members, node, depth + 1);
	default:
		return false;
	}
}

bool select_node(const struct policy *p, const struct sellist *sl, size_t node)
{
	return list_node(p, sl, node, 0);
}

size_t select_count(const struct policy *p, const struct sellist *sl, long except)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nnodes; i++)
		if ((long)i != except && select_node(p, sl, i))
			n++;
	return n;
}

/* ---- group cycles ------------------------------------------------------ */

static bool dfs(const struct policy *p, size_t g, unsigned char *color, size_t *stack,
		size_t depth, struct diags *d)
{
	const struct sellist *m = &p->groups[g].members;

	color[g] = 1;
	stack[depth] = g;
	for (size_t i = 0; i < m->n; i++) {
		size_t h;

		if (m->v[i].kind != SEL_GROUP)
			continue;
		h = m->v[i].idx;
		if (color[h] == 1) { /* back edge: print the cycle */
			char path[512] = "", ptr[128];
			size_t k = depth;

			while (stack[k] != h)
				k--;
			for (; k <= depth; k++) {
				strncat(path, p->groups[stack[k]].name, sizeof(path) - strlen(path) - 1);
				strncat(path, " -> ", sizeof(path) - strlen(path) - 1);
			}
			strncat(path, p->groups[h].name, sizeof(path) - strlen(path) - 1);
			snprintf(ptr, sizeof(ptr), "/groups/%s", p->groups[g].name);
			diag_err(d, ptr, "group cycle: %s", path);
			return true;
		}
		if (color[h] == 0 && dfs(p, h, color, stack, depth + 1, d))
			return true;
	}
	color[g] = 2;
	return false;
}

void select_check_groups(const struct policy *p, struct diags *d)
{
	unsigned char *color = calloc(p->ngroups + 1, 1);
	size_t *stack = calloc(p->ngroups + 1, sizeof(*stack));
	bool cyclic = false;

	if (!color || !stack)
		abort();
	for (size_t g = 0; g < p->ngroups; g++)
		if (color[g] == 0)
			cyclic |= dfs(p, g, color, stack, 0, d);
	for (size_t g = 0; g < p->ngroups && !cyclic; g++) {
		char ptr[128];

		if (p->groups[g].members.n == 0 || select_count(p, &p->groups[g].members, -1) > 0)
			continue;
		snprintf(ptr, sizeof(ptr), "/groups/%s", p->groups[g].name);
		diag_warn(d, ptr, "group \"%s\" selects no node", p->groups[g].name);
	}
	free(color);
	free(stack);
}

/* ---- address ranges ---------------------------------------------------- */

void aranges_add(struct aranges *r, const struct addr *lo, const struct addr *hi)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct arange *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			abort();
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n].lo = *lo;
	r->v[r->n].hi = *hi;
	r->n++;
}

void aranges_add_prefix(struct aranges *r, const struct prefix *pf)
{
	struct addr lo, hi;

	prefix_bounds(pf, &lo, &hi);
	aranges_add(r, &lo, &hi);
}

void aranges_free(struct aranges *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void node_ranges(const struct node *n, int family, struct aranges *out)
{
	for (size_t k = 0; k < n->nips; k++)
		if (n->ips[k].a.family == family)
			aranges_add_prefix(out, &n->ips[k]);
}

void select_ranges(const struct policy *p, const struct sellist *sl, int family, bool star_any,
		   struct aranges *out)
{
	bool nodes_done = false;

	for (size_t i = 0; i < sl->n; i++) {
		const struct sel *s = &sl->v[i];

		if (s->kind == SEL_ALL && star_any) {
			struct prefix all = prefix_all(family);

			aranges_add_prefix(out, &all);
		} else if (s->kind == SEL_HOST) {
			const struct host *h = &p->hosts[s->idx];

			for (size_t k = 0; k < h->n; k++)
				if (h->v[k].a.family == family)
					aranges_add_prefix(out, &h->v[k]);
		} else if (s->kind == SEL_CIDR) {
			if (s->cidr.a.family == family)
				aranges_add_prefix(out, &s->cidr);
		} else if (!nodes_done) {
			/* every node selector at once: each node's addresses once */
			for (size_t n = 0; n < p->nnodes; n++)
				if (select_node(p, sl, n))
					node_ranges(&p->nodes[n], family, out);
			nodes_done = true;
		}
	}
}
