/* diff.h — what changed between two IRs of one node, as set element changes.
 *
 * Two IRs have the same shape when their chains, their rules (in order, with
 * matches, verdicts, counters and comments) and their set declarations
 * (names, kinds, families, flags, in order) are identical. Only then can the
 * installed table be brought from one to the other by element changes alone,
 * leaving rules, handles and counters in place.
 *
 * An element is identified by its key (addresses, protocol, ports), its
 * comment (the ids of the rules behind it, as emit writes it) and its
 * absolute expiry. IR timeouts are relative to the time the IR was compiled
 * (compile_opts.now), so each IR comes with that time.
 *
 * The run-time sets (quarantine, glass) are part of the shape but their
 * elements are never compared: the daemon fills them, a diff leaves them
 * alone and a replacement carries them over. */
#ifndef RULES_DIFF_H
#define RULES_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"
#include "nl.h"

#define RULES_NLIVE 4
extern const char *const rules_live_sets[RULES_NLIVE];
bool rules_set_is_live(const char *name);

/* The changes of one set: deletions (copies of old elements) and additions
 * (copies of new ones), and the rbtree set's leading end element at 0 that
 * emit_table writes when the first range does not start there. */
struct rules_set_diff {
	size_t set;                  /* index in both IRs */
	struct ir_elem *del, *add;
	size_t ndel, nadd;
	int zero_end;                /* -1 delete it, +1 add it, 0 leave it */
};

struct rules_diff {
	struct rules_set_diff *v;    /* only the sets that change */
	size_t n;
	size_t added, removed;       /* elements, over all sets */
	size_t expired;              /* old elements already past their expiry: the
				      * kernel has dropped them, nothing is sent */
};

/* true when old and ir have the same shape; otherwise why says what differs. */
bool rules_diff_same_shape(const struct ir *old, const struct ir *ir, char *why, size_t len);
/* The element changes from old (compiled at old_at, seconds since the
 * epoch) to ir (compiled at at), for two IRs of the same shape (-EINVAL
 * otherwise). Old elements that expired more than 2 s before now are not
 * deleted: the kernel has removed them itself, and deleting a missing
 * element would abort the whole batch (ENOENT). 0 and *out (empty when
 * nothing changed), or -errno. The IRs are only read; *out does not point
 * into them. */
int rules_diff_new(const struct ir *old, int64_t old_at, const struct ir *ir, int64_t at,
		   int64_t now, struct rules_diff **out);
bool rules_diff_empty(const struct rules_diff *d);
/* Every deletion, then every addition (comments from ir, the new IR), into
 * b: applied in one batch, the installed table goes from old to ir. */
int rules_diff_emit(const struct rules_diff *d, const struct ir *ir, struct nlb *b);
void rules_diff_free(struct rules_diff *d);

#endif
