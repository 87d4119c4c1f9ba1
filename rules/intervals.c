/* intervals.c — overlapping boxes → disjoint set elements.
 *
 * The kernel's interval sets (rbtree, pipapo) refuse overlapping elements,
 * and two ACLs often overlap (a group and one of its members, a CIDR and a
 * node inside it). So the compiler hands over boxes — an address range times
 * a port range, with an expiry — and this file cuts them into disjoint
 * pieces: a sweep over the address axis finds the elementary segments where
 * the set of covering boxes is constant; on each, a sweep over the port axis
 * does the same; each piece keeps the latest expiry of its covering boxes
 * (0 = never, which wins) so that an expiring rule never takes away what a
 * permanent one allows. Neighbouring segments with the same port pieces are
 * merged back, so /24s stay /24s. Cost: O(B log B + S*A log A) for B boxes,
 * S segments and A boxes active at once, which is small in real policies. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

struct piece {
	uint16_t plo, phi;
	int64_t expires;
	uint32_t origin[IR_ORIGINS_PER_ELEM];
	uint8_t norigin;
	bool more;
};

struct pieces {
	struct piece *v;
	size_t n, cap;
};

static void *grow(void *v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return v;
	*cap = need < 16 ? 16 : need * 2;
	v = realloc(v, *cap * size);
	if (!v)
		abort();
	return v;
}

static int64_t later(int64_t a, int64_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return a > b ? a : b;
}

static void add_origin(uint32_t *o, uint8_t *n, bool *more, uint32_t id)
{
	for (uint8_t i = 0; i < *n; i++)
		if (o[i] == id)
			return;
	if (*n < IR_ORIGINS_PER_ELEM)
		o[(*n)++] = id;
	else
		*more = true;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Port pieces of the boxes active[0..na). */
static void port_pieces(const struct ir_box *b, const size_t *active, size_t na,
			struct pieces *out)
{
	uint32_t *pts = malloc(2 * na * sizeof(*pts));
	size_t np = 0, u = 0;

	if (!pts)
		abort();
	for (size_t i = 0; i < na; i++) {
		pts[np++] = b[active[i]].plo;
		pts[np++] = (uint32_t)b[active[i]].phi + 1;
	}
	qsort(pts, np, sizeof(*pts), cmp_u32);
	for (size_t i = 0; i < np; i++)
		if (u == 0 || pts[u - 1] != pts[i])
			pts[u++] = pts[i];
	out->n = 0;
	for (size_t i = 0; i + 1 < u; i++) {
		struct piece pc = { .plo = (uint16_t)pts[i], .phi = (uint16_t)(pts[i + 1] - 1) };
		bool covered = false;

		for (size_t k = 0; k < na; k++) {
			const struct ir_box *x = &b[active[k]];

			if (x->plo > pc.plo || x->phi < pc.phi)
				continue;
			pc.expires = covered ? later(pc.expires, x->expires) : x->expires;
			covered = true;
			add_origin(pc.origin, &pc.norigin, &pc.more, x->origin);
		}
		if (!covered)
			continue;
		if (out->n && out->v[out->n - 1].phi + 1 == pc.plo &&
		    out->v[out->n - 1].expires == pc.expires) {
			struct piece *prev = &out->v[out->n - 1];

			prev->phi = pc.phi;
			for (uint8_t k = 0; k < pc.norigin; k++)
				add_origin(prev->origin, &prev->norigin, &prev->more, pc.origin[k]);
			prev->more |= pc.more;
			continue;
		}
		out->v = grow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
		out->v[out->n++] = pc;
	}
	free(pts);
}

static bool same_pieces(const struct pieces *a, const struct pieces *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].plo != b->v[i].plo || a->v[i].phi != b->v[i].phi ||
		    a->v[i].expires != b->v[i].expires)
			return false;
	return true;
}

static void flush(const struct addr *lo, const struct addr *hi, const struct pieces *p,
		  uint8_t proto, int64_t now, struct ir_set *out)
{
	for (size_t i = 0; i < p->n; i++) {
		struct ir_elem e = { .lo = *lo, .hi = *hi, .proto = proto, .plo = p->v[i].plo,
				     .phi = p->v[i].phi, .norigin = p->v[i].norigin,
				     .more_origins = p->v[i].more };

		memcpy(e.origin, p->v[i].origin, sizeof(e.origin));
		if (p->v[i].expires)
			e.timeout_ms = (uint64_t)(p->v[i].expires - now) * 1000;
		ir_set_add(out, &e);
	}
}

static int cmp_addr(const void *a, const void *b)
{
	return addr_cmp(a, b);
}

static int cmp_box(const void *a, const void *b)
{
	return addr_cmp(&((const struct ir_box *)a)->lo, &((const struct ir_box *)b)->lo);
}

/* Sorted unique segment starts: every lo and every hi + 1. */
static struct addr *boundaries(const struct ir_box *b, size_t n, size_t *count)
{
	struct addr *pts = malloc(2 * n * sizeof(*pts) + 1);
	size_t np = 0, u = 0;

	if (!pts)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct addr end = b[i].hi;

		pts[np++] = b[i].lo;
		if (addr_inc(&end))
			pts[np++] = end;
	}
	qsort(pts, np, sizeof(*pts), cmp_addr);
	for (size_t i = 0; i < np; i++)
		if (u == 0 || addr_cmp(&pts[u - 1], &pts[i]) != 0)
			pts[u++] = pts[i];
	*count = u;
	return pts;
}

void ir_boxes_to_set(struct ir_box *b, size_t n, uint8_t proto, int64_t now, struct ir_set *out)
{
	struct pieces cur = { 0 }, prev = { 0 };
	struct addr plo, phi; /* address range of prev */
	size_t np, next = 0, na = 0, cap = 0, *active = NULL;
	struct addr *pts;

	if (n == 0)
		return;
	qsort(b, n, sizeof(*b), cmp_box);
	pts = boundaries(b, n, &np);
	for (size_t i = 0; i < np; i++) {
		struct addr lo = pts[i], hi;
		size_t k = 0;

		if (i + 1 < np) {
			hi = pts[i + 1];
			addr_dec(&hi);
		} else {
			hi = lo;
			memset(hi.b, 0xff, addr_size(hi.family));
		}
		while (next < n && addr_cmp(&b[next].lo, &lo) <= 0) {
			active = grow(active, &cap, na + 1, sizeof(*active));
			active[na++] = next++;
		}
		for (size_t j = 0; j < na; j++) /* drop boxes that ended */
			if (addr_cmp(&b[active[j]].hi, &lo) >= 0)
				active[k++] = active[j];
		na = k;
		port_pieces(b, active, na, &cur);
		if (prev.n && same_pieces(&prev, &cur)) {
			struct addr after = phi;

			if (addr_inc(&after) && addr_cmp(&after, &lo) == 0) {
				phi = hi; /* extend */
				for (size_t j = 0; j < cur.n; j++)
					for (uint8_t o = 0; o < cur.v[j].norigin; o++)
						add_origin(prev.v[j].origin, &prev.v[j].norigin,
							   &prev.v[j].more, cur.v[j].origin[o]);
				continue;
			}
		}
		if (prev.n)
			flush(&plo, &phi, &prev, proto, now, out);
		{
			struct pieces t = prev;

			prev = cur;
			cur = t;
		}
		plo = lo;
		phi = hi;
	}
	if (prev.n)
		flush(&plo, &phi, &prev, proto, now, out);
	free(pts);
	free(active);
	free(cur.v);
	free(prev.v);
}
