/* apply.h — putting a node's table into the kernel, and changing it live.
 *
 * rules_apply() replaces `table inet policyd` in the current network
 * namespace in one transaction: the old table, or the new one, never a mix,
 * never nothing, and no other table touched. Quarantine bans in force are
 * carried into the new table with their remaining time. The batch is tied
 * to the ruleset generation it was built from and rebuilt if someone else
 * changed the ruleset in between. */
#ifndef RULES_APPLY_H
#define RULES_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"
#include "nl.h"

struct apply_report {
	char **errors;        /* one line per kernel error, naming the policy rule */
	size_t nerrors;
	size_t messages;      /* netlink messages in the batch */
	size_t bytes;
	size_t carried;       /* quarantine elements carried over */
	uint32_t genid;       /* generation the batch was built against */
};

/* commit=false: the kernel validates everything, nothing is committed.
 * 0 on success, else -errno (EPERM without CAP_NET_ADMIN; the report says
 * what the kernel refused). The IR's quarantine sets gain the carried
 * elements. */
int rules_apply(struct rules_nl *nl, struct ir *ir, bool commit, struct apply_report *rep);
void apply_report_free(struct apply_report *rep);

/* Live changes on the installed table, each one small atomic batch. */
int rules_quarantine_add(struct rules_nl *nl, const struct addr *a, uint64_t timeout_ms);
int rules_quarantine_del(struct rules_nl *nl, const struct addr *a);
/* Add/remove elements of a set of the installed table (e.g. "acl4"); s
 * describes the set (name, kind, family, interval) as compile_node made it. */
int rules_set_update(struct rules_nl *nl, const struct ir_set *s, const struct ir_elem *v,
		     size_t n, bool add);

#endif
