/* diff.c — two IRs of one node → the set element changes between them.
 *
 * The shape (chains, rules, set declarations) is compared field by field;
 * any difference means a table replacement. Elements are compared set by
 * set with a merge over both element lists in key order. The compiler
 * writes every set in that order already (per protocol, then address, then
 * port), so the merge is linear; a set that is not sorted is sorted on a
 * copy first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "emit.h"

#define COMMENT_LEN 160 /* what emit.c writes of an element's comment */
/* A timeout runs from the moment the kernel got the element, a little after
 * its IR was compiled (an apply of 100k elements takes well under a second):
 * the kernel drops an element that much after its expiry. Until this margin
 * is past, the element may still be there and is deleted (if it is gone,
 * the kernel refuses the batch and the caller replaces the table); after
 * it, it is surely gone and deleting it would be refused. */
#define EXPIRY_MARGIN_MS 2000

const char *const rules_live_sets[RULES_NLIVE] = { IR_SET_QUARANTINE4, IR_SET_QUARANTINE6,
						   IR_SET_GLASS4, IR_SET_GLASS6 };

bool rules_set_is_live(const char *name)
{
	for (size_t i = 0; i < RULES_NLIVE; i++)
		if (!strcmp(name, rules_live_sets[i]))
			return true;
	return false;
}

/* ---- shape ------------------------------------------------------------------- */

static bool same_chain(const struct ir_chain *a, const struct ir_chain *b)
{
	return !strncmp(a->name, b->name, sizeof(a->name)) && a->base == b->base &&
	       a->prio == b->prio && a->policy_drop == b->policy_drop;
}

static bool same_set_decl(const struct ir_set *a, const struct ir_set *b)
{
	return !strncmp(a->name, b->name, sizeof(a->name)) && a->kind == b->kind &&
	       a->family == b->family && a->interval == b->interval && a->timeout == b->timeout;
}

static bool same_match(const struct ir_match *a, const struct ir_match *b)
{
	return a->kind == b->kind && a->family == b->family && a->val == b->val &&
	       a->val2 == b->val2 && a->neg == b->neg && !strncmp(a->str, b->str, sizeof(a->str)) &&
	       a->set == b->set; /* the same index names the same set: declarations match */
}

static bool same_rule(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->chain != b->chain || a->nm != b->nm || a->counter != b->counter ||
	    a->log != b->log || a->verdict != b->verdict ||
	    (a->verdict == IRV_JUMP && a->target != b->target) ||
	    strncmp(a->comment, b->comment, sizeof(a->comment)))
		return false;
	for (unsigned i = 0; i < a->nm && i < 3; i++)
		if (!same_match(&a->m[i], &b->m[i]))
			return false;
	return true;
}

bool rules_diff_same_shape(const struct ir *old, const struct ir *ir, char *why, size_t len)
{
	if (old->nchains != ir->nchains || old->nsets != ir->nsets || old->nrules != ir->nrules) {
		snprintf(why, len, "the table's shape changed (%zu/%zu/%zu chains/sets/rules, were %zu/%zu/%zu)",
			 ir->nchains, ir->nsets, ir->nrules, old->nchains, old->nsets, old->nrules);
		return false;
	}
	for (size_t i = 0; i < ir->nchains; i++)
		if (!same_chain(&old->chains[i], &ir->chains[i])) {
			snprintf(why, len, "chain %.16s changed", ir->chains[i].name);
			return false;
		}
	for (size_t i = 0; i < ir->nsets; i++)
		if (!same_set_decl(&old->sets[i], &ir->sets[i])) {
			snprintf(why, len, "the declaration of set %.32s changed", ir->sets[i].name);
			return false;
		}
	for (size_t i = 0; i < ir->nrules; i++)
		if (!same_rule(&old->rules[i], &ir->rules[i])) {
			size_t c = ir->rules[i].chain;

			snprintf(why, len, "rule %zu (chain %.16s) changed", i,
				 c < ir->nchains ? ir->chains[c].name : "?");
			return false;
		}
	return true;
}

/* ---- elements ------------------------------------------------------------------ */

static int cmp_u(unsigned a, unsigned b)
{
	return a < b ? -1 : a > b;
}

/* Key order: protocol, then start, then end. Elements of one set are
 * disjoint, so the key identifies an element. */
static int elem_order(const struct ir_elem *a, const struct ir_elem *b)
{
	int c = cmp_u(a->proto, b->proto);

	if (!c)
		c = addr_cmp(&a->lo, &b->lo);
	if (!c)
		c = cmp_u(a->plo, b->plo);
	if (!c)
		c = addr_cmp(&a->hi, &b->hi);
	if (!c)
		c = cmp_u(a->phi, b->phi);
	return c;
}

static int elem_qsort(const void *a, const void *b)
{
	return elem_order(a, b);
}

/* ms since the epoch; 0 = never */
static int64_t expiry(const struct ir_elem *e, int64_t at)
{
	return e->timeout_ms ? at * 1000 + (int64_t)e->timeout_ms : 0;
}

/* Which origins of the old IR have the id of the new IR's origin with the
 * same index: read once, in order, instead of chasing both ids for every
 * element (most of the time of a diff of 100k elements). */
static uint8_t *same_origins(const struct ir *old, const struct ir *ir)
{
	uint8_t *same = calloc(old->norigins + 1, 1);

	for (size_t o = 0; same && o < old->norigins && o < ir->norigins; o++)
		same[o] = !strcmp(old->origins[o].id, ir->origins[o].id);
	return same;
}

static bool same_ids(const struct ir *a, const struct ir_elem *x, const struct ir *b,
		     const struct ir_elem *y, const uint8_t *same)
{
	if (x->norigin != y->norigin || x->more_origins != y->more_origins)
		return false;
	for (uint8_t i = 0; i < x->norigin; i++) {
		uint32_t o = x->origin[i];

		if (o >= a->norigins || y->origin[i] >= b->norigins)
			return false;
		if (o == y->origin[i] && same[o])
			continue;
		if (strcmp(a->origins[o].id, b->origins[y->origin[i]].id))
			return false;
	}
	return true;
}

/* Same comment as emit writes it: the same rule ids, or failing that the
 * same text (it is cut at COMMENT_LEN). */
static bool same_comment(const struct ir *a, const struct ir_elem *x, const struct ir *b,
			 const struct ir_elem *y, const uint8_t *same)
{
	char ca[COMMENT_LEN], cb[COMMENT_LEN];

	if (same_ids(a, x, b, y, same))
		return true;
	ir_elem_comment(a, x, ca, sizeof(ca));
	ir_elem_comment(b, y, cb, sizeof(cb));
	return !strcmp(ca, cb);
}

struct side {
	const struct ir *ir;
	int64_t at;
	const struct ir_elem *v; /* in key order */
	size_t n;
	struct ir_elem *copy;    /* v, when the set had to be sorted */
};

static int side_init(struct side *s, const struct ir *ir, int64_t at, const struct ir_set *set)
{
	*s = (struct side){ .ir = ir, .at = at, .v = set->v, .n = set->n };
	for (size_t i = 1; i < set->n; i++)
		if (elem_order(&set->v[i - 1], &set->v[i]) > 0) {
			s->copy = malloc(set->n * sizeof(*s->copy));
			if (!s->copy)
				return -ENOMEM;
			memcpy(s->copy, set->v, set->n * sizeof(*s->copy));
			qsort(s->copy, set->n, sizeof(*s->copy), elem_qsort);
			s->v = s->copy;
			break;
		}
	return 0;
}

static int push(struct ir_elem **v, size_t *n, const struct ir_elem *e)
{
	if ((*n & (*n - 1)) == 0) { /* grow at powers of two */
		struct ir_elem *g = realloc(*v, (*n ? 2 * *n : 1) * sizeof(*g));

		if (!g)
			return -ENOMEM;
		*v = g;
	}
	(*v)[(*n)++] = *e;
	return 0;
}

/* what the whole diff compares */
struct pair {
	const struct ir *old, *ir;
	int64_t old_at, at, now_ms;
	uint8_t *same;            /* same_origins() */
};

struct merge {
	struct rules_set_diff *sd;
	const struct pair *p;
	size_t expired;
};

static int merge_del(struct merge *m, const struct side *o, size_t i)
{
	int64_t x = expiry(&o->v[i], o->at);

	if (x && x <= m->p->now_ms - EXPIRY_MARGIN_MS) { /* the kernel dropped it */
		m->expired++;
		return 0;
	}
	return push(&m->sd->del, &m->sd->ndel, &o->v[i]);
}

static int merge_sets(struct merge *m, const struct side *o, const struct side *n)
{
	size_t i = 0, j = 0;
	int r = 0;

	while (r == 0 && (i < o->n || j < n->n)) {
		int c = i == o->n ? 1 : j == n->n ? -1 : elem_order(&o->v[i], &n->v[j]);

		if (c < 0) {
			r = merge_del(m, o, i++);
		} else if (c > 0) {
			r = push(&m->sd->add, &m->sd->nadd, &n->v[j++]);
		} else {
			if (expiry(&o->v[i], o->at) != expiry(&n->v[j], n->at) ||
			    !same_comment(o->ir, &o->v[i], n->ir, &n->v[j], m->p->same)) {
				r = merge_del(m, o, i);
				if (r == 0)
					r = push(&m->sd->add, &m->sd->nadd, &n->v[j]);
			}
			i++;
			j++;
		}
	}
	return r;
}

/* emit_table writes an end element at 0 before the elements of an rbtree
 * set whose first range does not start at 0. */
static bool has_zero_end(const struct ir_set *s)
{
	return s->kind == IRS_ADDR && s->interval && s->n && !addr_is_zero(&s->v[0].lo);
}

static int diff_set(struct rules_diff *d, const struct pair *p, size_t k)
{
	struct rules_set_diff sd = { .set = k };
	struct merge m = { .sd = &sd, .p = p };
	struct side o, n;
	int r;

	if ((r = side_init(&o, p->old, p->old_at, &p->old->sets[k])) < 0)
		return r;
	if ((r = side_init(&n, p->ir, p->at, &p->ir->sets[k])) == 0)
		r = merge_sets(&m, &o, &n);
	free(o.copy);
	free(n.copy);
	sd.zero_end = has_zero_end(&p->ir->sets[k]) - has_zero_end(&p->old->sets[k]);
	d->expired += m.expired;
	if (r == 0 && (sd.ndel || sd.nadd || sd.zero_end)) {
		struct rules_set_diff *v = realloc(d->v, (d->n + 1) * sizeof(*v));

		if (v) {
			d->v = v;
			d->v[d->n++] = sd;
			d->added += sd.nadd;
			d->removed += sd.ndel;
			return 0;
		}
		r = -ENOMEM;
	}
	free(sd.del);
	free(sd.add);
	return r;
}

int rules_diff_new(const struct ir *old, int64_t old_at, const struct ir *ir, int64_t at,
		   int64_t now, struct rules_diff **out)
{
	struct pair p = { .old = old, .ir = ir, .old_at = old_at, .at = at, .now_ms = now * 1000 };
	struct rules_diff *d;
	char why[8];
	int r = 0;

	*out = NULL;
	if (!rules_diff_same_shape(old, ir, why, sizeof(why)))
		return -EINVAL;
	if (!(d = calloc(1, sizeof(*d))) || !(p.same = same_origins(old, ir))) {
		free(d);
		return -ENOMEM;
	}
	for (size_t k = 0; k < ir->nsets && r == 0; k++)
		if (!rules_set_is_live(ir->sets[k].name))
			r = diff_set(d, &p, k);
	free(p.same);
	if (r < 0) {
		rules_diff_free(d);
		return r;
	}
	*out = d;
	return 0;
}

bool rules_diff_empty(const struct rules_diff *d)
{
	return d->n == 0;
}

int rules_diff_emit(const struct rules_diff *d, const struct ir *ir, struct nlb *b)
{
	int r = 0;

	for (size_t i = 0; i < d->n && r == 0; i++) {
		const struct rules_set_diff *sd = &d->v[i];

		if (sd->ndel || sd->zero_end < 0)
			r = emit_elems_diff(b, NULL, &ir->sets[sd->set], sd->del, sd->ndel, false,
					    sd->zero_end < 0);
	}
	for (size_t i = 0; i < d->n && r == 0; i++) {
		const struct rules_set_diff *sd = &d->v[i];

		if (sd->nadd || sd->zero_end > 0)
			r = emit_elems_diff(b, ir, &ir->sets[sd->set], sd->add, sd->nadd, true,
					    sd->zero_end > 0);
	}
	return r;
}

void rules_diff_free(struct rules_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].del);
		free(d->v[i].add);
	}
	free(d->v);
	free(d);
}
