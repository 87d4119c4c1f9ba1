/* apply.h — putting a node's table into the kernel, and changing it live.
 *
 * rules_update() is what a reload calls: element changes when only set
 * elements differ, rules_apply() otherwise.
 *
 * rules_apply() replaces `table inet policyd` in the current network
 * namespace in one transaction: the old table, or the new one, never a mix,
 * never nothing, and no other table touched. Quarantine bans and breakglass
 * openings in force are carried into the new table with their remaining time. The batch is tied
 * to the ruleset generation it was built from and rebuilt if someone else
 * changed the ruleset in between. */
#ifndef RULES_APPLY_H
#define RULES_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"
#include "nl.h"
#include "policy.h"
#include "watch.h"

enum apply_path {
	APPLY_REPLACE,        /* the whole table swapped (add, delete, create) */
	APPLY_DIFF,           /* only set elements deleted and added */
	APPLY_UNCHANGED,      /* nothing differed: nothing sent */
};

struct apply_report {
	char **errors;        /* one line per kernel error, naming the policy rule */
	size_t nerrors;
	size_t messages;      /* netlink messages in the batch */
	size_t bytes;
	size_t carried;       /* quarantine elements carried over */
	uint32_t genid;       /* generation the batch was built against */
	enum apply_path path;
	size_t added;         /* policy set elements written (replace: all of them) */
	size_t removed;       /* diff: elements deleted (replace: the old table goes whole) */
	size_t expired;       /* diff: old elements past their expiry, left to the kernel */
	char why[256];        /* rules_update chose APPLY_REPLACE: why not a diff */
};

/* commit=false: the kernel validates everything, nothing is committed.
 * 0 on success, else -errno (EPERM without CAP_NET_ADMIN; the report says
 * what the kernel refused). The IR's quarantine sets gain the carried
 * elements. */
int rules_apply(struct rules_nl *nl, struct ir *ir, bool commit, struct apply_report *rep);
void apply_report_free(struct apply_report *rep);
const char *apply_path_name(enum apply_path path); /* "replace", "diff", "unchanged" */

/* A reload: put ir in force, as element changes against old when possible.
 *
 * old is the IR last put in force by rules_update() on this socket (NULL
 * for the first apply), still alive with the policy it was compiled from;
 * old_at and at are the compile times (compile_opts.now, which the caller
 * must set, not leave 0, and keep) of old and ir. w is the watch of this
 * namespace (watch.h), kept open from the first rules_update() on: a watch
 * that has not seen a replacement of ours vouches for nothing.
 *
 * When the watch vouches for the table (nobody else changed it), the
 * compile times are known and old and ir have the same shape (diff.h), one
 * batch with only the element deletions and additions of the policy sets
 * that differ is sent, bound to the generation read before the watch was
 * drained (-ERESTART from the kernel: read, drain and decide again); the
 * run-time sets (bans, openings) are not touched at all, rule counters and
 * handles stay. Nothing differs: nothing is sent. Otherwise — no old, no
 * watch, tampered, a new shape, or the kernel refusing the diff (ENOENT,
 * EEXIST, ...) — rules_apply() replaces the table and the watch vouches for
 * it from then on (it does not listen meanwhile: see watch.h). rep says
 * which path was taken, why, and what was sent; a replacement gives ir's
 * run-time sets the carried elements, as rules_apply() does.
 *
 * 0 on success, else -errno with nothing changed, as rules_apply(). ir may
 * be old itself (re-apply: a no-op, or the repair of a tampered table). */
int rules_update(struct rules_nl *nl, struct rules_watch *w, const struct ir *old,
		 int64_t old_at, struct ir *ir, int64_t at, struct apply_report *rep);

/* Live changes on the installed table, each one small atomic batch. */
int rules_quarantine_add(struct rules_nl *nl, const struct addr *a, uint64_t timeout_ms);
int rules_quarantine_del(struct rules_nl *nl, const struct addr *a);
/* Breakglass (policyctl breakglass open): the policy's breakglass ports on
 * the public side for source addresses in from, for timeout_ms, counted
 * down by the kernel. Needs a table compiled from a policy with a
 * breakglass section (-ENOENT otherwise); an opening that overlaps another
 * one in force is refused by the kernel (-EEXIST). List calls fn for every
 * opening in force of a family, with its remaining time. */
int rules_glass_open(struct rules_nl *nl, const struct portset *ports, const struct prefix *from,
		     uint64_t timeout_ms);
/* Close every opening made for exactly this prefix: how many elements went,
 * -ENOENT if none. */
int rules_glass_close(struct rules_nl *nl, const struct prefix *from);
/* After a policy change: openings on ports the breakglass section no longer
 * has are closed, longer ones cut to max_ms. How many were closed, or
 * -errno. */
int rules_glass_trim(struct rules_nl *nl, const struct portset *ports, uint64_t max_ms);
int rules_glass_list(struct rules_nl *nl, int family,
		     void (*fn)(void *ctx, const struct ir_elem *e), void *ctx);
/* The elements of a set of the installed table, decoded, with their
 * remaining time in timeout_ms. */
int rules_set_list(struct rules_nl *nl, const struct ir_set *s,
		   void (*fn)(void *ctx, const struct ir_elem *e), void *ctx);
/* Add/remove elements of a set of the installed table (e.g. "acl4"); s
 * describes the set (name, kind, family, interval) as compile_node made it. */
int rules_set_update(struct rules_nl *nl, const struct ir_set *s, const struct ir_elem *v,
		     size_t n, bool add);

#endif
