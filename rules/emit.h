/* emit.h — IR → libnftnl messages in a batch. */
#ifndef RULES_EMIT_H
#define RULES_EMIT_H

#include <stdbool.h>

#include "ir.h"
#include "nl.h"

/* The whole table; with replace, preceded by add+delete of the old one so
 * that the batch swaps tables atomically. */
int emit_table(struct nlb *b, const struct ir *ir, bool replace);
/* Add or delete elements of an existing set (incremental operations). */
int emit_elems(struct nlb *b, const struct ir_set *s, const struct ir_elem *v, size_t n,
	       bool add);
/* The inverse of what emit writes for one element of s: key (and key_end
 * for a pipapo interval set) back into lo/hi, proto and plo/phi. -EINVAL if
 * the bytes do not fit the set's type. */
int emit_elem_decode(const struct ir_set *s, const void *key, uint32_t keylen,
		     const void *key_end, uint32_t endlen, struct ir_elem *out);
/* Incremental change of one set of the installed table (rules/diff.c):
 * elements v added (comments from ir, timeouts) or deleted, written exactly
 * as emit_table() writes them, but the leading end element at 0 of an
 * rbtree (single-field interval) set only when zero_end says so. */
int emit_elems_diff(struct nlb *b, const struct ir *ir, const struct ir_set *s,
		    const struct ir_elem *v, size_t n, bool add, bool zero_end);

#endif
