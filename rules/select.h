/* select.h — resolving selectors ("*", node, tag:, group:, host:, CIDR). */
#ifndef RULES_SELECT_H
#define RULES_SELECT_H

#include "policy.h"

struct arange {
	struct addr lo, hi;
};

struct aranges {
	struct arange *v;
	size_t n, cap;
};

long select_group_find(const struct policy *p, const char *name);
long select_host_find(const struct policy *p, const char *name);
bool select_tag_exists(const struct policy *p, const char *tag);
bool node_has_tag(const struct node *n, const char *tag);

/* Report group cycles (errors) and groups that select no node (warnings). */
void select_check_groups(const struct policy *p, struct diags *d);

/* Does the list select this node? (address selectors never select nodes) */
bool select_node(const struct policy *p, const struct sellist *sl, size_t node);
size_t select_count(const struct policy *p, const struct sellist *sl, long except);

/* Address ranges of one family a source list stands for: nodes' VPN
 * addresses, hosts, literal CIDRs; "*" is every node, or with star_any every
 * address. Unsorted, may overlap. */
void select_ranges(const struct policy *p, const struct sellist *sl, int family, bool star_any,
		   struct aranges *out);
void aranges_add(struct aranges *r, const struct addr *lo, const struct addr *hi);
void aranges_add_prefix(struct aranges *r, const struct prefix *pf);
void aranges_free(struct aranges *r);

#endif
