/* apply.c — table replacement with carried-over bans, and live element changes. */
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "apply.h"
#include "diff.h"
#include "emit.h"

#define GENID_RETRIES 5

static const char *msg_what(uint16_t type)
{
	switch (type & 0xff) {
	case NFT_MSG_NEWTABLE: return "the table";
	case NFT_MSG_DELTABLE: return "the removal of the old table";
	case NFT_MSG_NEWCHAIN: return "a chain";
	case NFT_MSG_NEWSET: return "a set";
	case NFT_MSG_NEWSETELEM: return "set elements";
	case NFT_MSG_DELSETELEM: return "the removal of set elements";
	case NFT_MSG_NEWRULE: return "a rule";
	case 0x10: return "the batch"; /* NFNL_MSG_BATCH_BEGIN */
	}
	return "a message";
}

static void report_add(struct apply_report *rep, const char *line)
{
	char **v = realloc(rep->errors, (rep->nerrors + 1) * sizeof(*v));

	if (!v)
		return;
	rep->errors = v;
	rep->errors[rep->nerrors] = strdup(line);
	if (rep->errors[rep->nerrors])
		rep->nerrors++;
}

void apply_report_free(struct apply_report *rep)
{
	for (size_t i = 0; i < rep->nerrors; i++)
		free(rep->errors[i]);
	free(rep->errors);
	memset(rep, 0, sizeof(*rep));
}

const char *apply_path_name(enum apply_path path)
{
	switch (path) {
	case APPLY_REPLACE: return "replace";
	case APPLY_DIFF: return "diff";
	case APPLY_UNCHANGED: return "unchanged";
	}
	return "?";
}

static void describe(const struct ir *ir, const struct nl_errors *errs, struct apply_report *rep)
{
	for (size_t i = 0; i < errs->n; i++) {
		const struct nl_error *e = &errs->v[i];
		char origin[256] = "?", line[512];

		if (ir)
			ir_origin_describe(ir, e->origin, origin, sizeof(origin));
		snprintf(line, sizeof(line), "kernel refused %s from %s: %s", msg_what(e->type),
			 origin, strerror(e->err));
		report_add(rep, line);
	}
}

/* ---- carrying live elements over ------------------------------------------------ */

/* Sets the daemon fills at run time, not the policy: bans and breakglass
 * openings (diff.h). A table swap carries their elements with the time they
 * have left, so a reload neither lifts a ban nor closes an opening. */

struct list_ctx {
	const struct ir_set *s;
	void (*fn)(void *ctx, const struct ir_elem *e);
	void *ctx;
};

static void list_elem(void *ctx, const struct nl_elem *ne)
{
	struct list_ctx *c = ctx;
	struct ir_elem e;

	if (emit_elem_decode(c->s, ne->key, ne->keylen, ne->key_end, ne->endlen, &e) < 0)
		return;
	e.timeout_ms = ne->expires_ms; /* remaining time; 0 = no timeout */
	c->fn(c->ctx, &e);
}

int rules_set_list(struct rules_nl *nl, const struct ir_set *s,
		   void (*fn)(void *ctx, const struct ir_elem *e), void *ctx)
{
	struct list_ctx c = { s, fn, ctx };

	return rules_nl_dump_set(nl, IR_TABLE, s->name, list_elem, &c);
}

struct carry {
	struct ir_set *set;
	size_t n;
};

static bool same_elem(const struct ir_elem *a, const struct ir_elem *b)
{
	return !addr_cmp(&a->lo, &b->lo) && !addr_cmp(&a->hi, &b->hi) && a->proto == b->proto &&
	       a->plo == b->plo && a->phi == b->phi;
}

static void carry_elem(void *ctx, const struct ir_elem *e)
{
	struct carry *c = ctx;

	for (size_t i = 0; i < c->set->n; i++)
		if (same_elem(&c->set->v[i], e))
			return;
	ir_set_add(c->set, e);
	c->n++;
}

/* A dump that fails (other than: no such set yet) fails the apply: a new
 * table without the bans in force would lift them silently. An interrupted
 * dump (the set changed meanwhile) is read again. */
static int carry_live(struct rules_nl *nl, struct ir *ir, const size_t base[RULES_NLIVE],
		      size_t *carried)
{
	for (size_t i = 0; i < RULES_NLIVE; i++) {
		long s = ir_set_find(ir, rules_live_sets[i]);
		struct carry c;
		int r = -EINTR;

		if (s < 0)
			continue;
		c.set = &ir->sets[s];
		for (int tries = 0; tries < 3 && r == -EINTR; tries++) {
			c.set->n = base[i];
			c.n = 0;
			r = rules_set_list(nl, c.set, carry_elem, &c);
		}
		if (r < 0 && r != -ENOENT)
			return r;
		*carried += c.n;
	}
	return 0;
}

static void uncarry(struct ir *ir, const size_t base[RULES_NLIVE])
{
	for (size_t i = 0; i < RULES_NLIVE; i++) {
		long s = ir_set_find(ir, rules_live_sets[i]);

		if (s >= 0)
			ir->sets[s].n = base[i];
	}
}

static size_t policy_elems(const struct ir *ir)
{
	size_t n = 0;

	for (size_t i = 0; i < ir->nsets; i++)
		if (!rules_set_is_live(ir->sets[i].name))
			n += ir->sets[i].n;
	return n;
}

int rules_apply(struct rules_nl *nl, struct ir *ir, bool commit, struct apply_report *rep)
{
	size_t base[RULES_NLIVE];
	int r = -ERESTART;

	memset(rep, 0, sizeof(*rep));
	for (size_t i = 0; i < RULES_NLIVE; i++) {
		long s = ir_set_find(ir, rules_live_sets[i]);

		base[i] = s >= 0 ? ir->sets[s].n : 0;
	}
	for (int attempt = 0; attempt < GENID_RETRIES && r == -ERESTART; attempt++) {
		struct nl_errors errs = { 0 };
		struct nlb *b;

		uncarry(ir, base);
		rep->carried = 0;
		r = rules_nl_genid(nl, &rep->genid);
		if (r < 0)
			return r;
		if ((r = carry_live(nl, ir, base, &rep->carried)) < 0)
			return r;
		b = nlb_new();
		if (!b)
			return -ENOMEM;
		r = emit_table(b, ir, true);
		if (r == 0) {
			rep->messages = nlb_count(b);
			rep->bytes = nlb_bytes(b);
			rep->added = policy_elems(ir);
			r = rules_nl_send(nl, b, commit, rep->genid, &errs);
			if (r < 0 && r != -ERESTART)
				describe(ir, &errs, rep);
		}
		nl_errors_free(&errs);
		nlb_free(b);
	}
	return r;
}

/* ---- reloads: a diff where possible ---------------------------------------------- */

/* The generation a batch bound to gen commits (the kernel skips 0). */
static uint32_t gen_next(uint32_t gen)
{
	return gen + 1 ? gen + 1 : 1;
}

/* After a batch of ours (gen: the generation it committed, 0 if none):
 * read what it sent, then tell the watch. The table has changed whatever
 * happens here; should the socket fail, nothing is forgiven (a later sync
 * finds the error again). */
static void watch_committed(struct rules_nl *nl, struct rules_watch *w, uint32_t gen,
			    bool replaced)
{
	uint32_t now_gen = gen - 1;

	if (!w)
		return;
	if (rules_watch_drain(w) < 0 || rules_nl_genid(nl, &now_gen) < 0)
		now_gen = gen - 1;
	rules_watch_committed(w, gen, now_gen, replaced);
}

/* The whole table, with the watch deaf meanwhile: nobody else can commit
 * inside our genid-bound batch, what came before it is undone by it, and
 * what comes after is caught by the generation read after resuming. */
static int update_replace(struct rules_nl *nl, struct rules_watch *w, struct ir *ir,
			  struct apply_report *rep)
{
	bool paused = false;
	uint32_t g0;
	int r;

	/* if it cannot pause, the watch stays subscribed and reads every event */
	if (w && rules_nl_genid(nl, &g0) == 0)
		paused = rules_watch_pause(w, g0) == 0;
	r = rules_apply(nl, ir, true, rep);
	if (paused)
		rules_watch_resume(w);
	watch_committed(nl, w, r == 0 ? gen_next(rep->genid) : 0, true);
	return r;
}

static int send_diff(struct rules_nl *nl, const struct rules_diff *d, const struct ir *ir,
		     uint32_t gen, struct apply_report *rep)
{
	struct nl_errors errs = { 0 };
	struct nlb *b = nlb_new();
	int r;

	if (!b)
		return -ENOMEM;
	r = rules_diff_emit(d, ir, b);
	rep->messages = nlb_count(b);
	rep->bytes = nlb_bytes(b);
	if (r == 0)
		r = rules_nl_send(nl, b, true, gen, &errs);
	if (r < 0 && r != -ERESTART && errs.n)
		snprintf(rep->why, sizeof(rep->why), "the kernel refused the diff: %s: %s",
			 msg_what(errs.v[0].type), strerror(errs.v[0].err));
	else if (r < 0 && r != -ERESTART)
		snprintf(rep->why, sizeof(rep->why), "the diff was not applied: %s", strerror(-r));
	nl_errors_free(&errs);
	nlb_free(b);
	return r;
}

/* 0: applied (or nothing to do); 1: replace instead, rep->why says why;
 * -errno. Read the generation, drain the watch up to it, decide, send
 * bound to it: a change committed after the drain makes the kernel refuse
 * the batch (ERESTART), and the next round sees it. */
static int update_diff(struct rules_nl *nl, struct rules_watch *w, const struct rules_diff *d,
		       const struct ir *ir, struct apply_report *rep)
{
	int r = -ERESTART;

	for (int attempt = 0; attempt < GENID_RETRIES && r == -ERESTART; attempt++) {
		if ((r = rules_nl_genid(nl, &rep->genid)) < 0 ||
		    (r = rules_watch_sync(w, rep->genid)) < 0)
			return r;
		if (rules_watch_tampered(w)) {
			rules_watch_describe(w, rep->why, sizeof(rep->why));
			return 1;
		}
		if (rules_diff_empty(d)) {
			rep->path = APPLY_UNCHANGED;
			return 0;
		}
		r = send_diff(nl, d, ir, rep->genid, rep);
	}
	if (r == 0) {
		rep->path = APPLY_DIFF;
		watch_committed(nl, w, gen_next(rep->genid), false);
		return 0;
	}
	if (r == -ENOMEM)
		return r;
	if (r == -ERESTART)
		snprintf(rep->why, sizeof(rep->why), "the ruleset kept changing under the diff");
	return 1;
}

/* Why the table cannot be updated by a diff, before looking at the kernel. */
static bool diff_possible(struct rules_watch *w, const struct ir *old, int64_t old_at,
			  const struct ir *ir, int64_t at, char *why, size_t len)
{
	if (!old)
		snprintf(why, len, "no table of ours to compare with");
	else if (!w)
		snprintf(why, len, "no watch to vouch for the table");
	else if (!old_at || !at)
		snprintf(why, len, "compile times unknown");
	else
		return rules_diff_same_shape(old, ir, why, len);
	return false;
}

int rules_update(struct rules_nl *nl, struct rules_watch *w, const struct ir *old,
		 int64_t old_at, struct ir *ir, int64_t at, struct apply_report *rep)
{
	char why[sizeof(rep->why)];
	struct rules_diff *d = NULL;
	int r = 1;

	memset(rep, 0, sizeof(*rep));
	if (diff_possible(w, old, old_at, ir, at, why, sizeof(why))) {
		if ((r = rules_diff_new(old, old_at, ir, at, (int64_t)time(NULL), &d)) < 0)
			return r;
		rep->added = d->added;
		rep->removed = d->removed;
		rep->expired = d->expired;
		r = update_diff(nl, w, d, ir, rep);
		rules_diff_free(d);
		snprintf(why, sizeof(why), "%s", rep->why);
	}
	if (r <= 0)
		return r;
	r = update_replace(nl, w, ir, rep);
	rep->path = APPLY_REPLACE;
	snprintf(rep->why, sizeof(rep->why), "%s", why);
	return r;
}

/* ---- live changes ------------------------------------------------------------------ */

int rules_set_update(struct rules_nl *nl, const struct ir_set *s, const struct ir_elem *v,
		     size_t n, bool add)
{
	struct nl_errors errs = { 0 };
	struct nlb *b = nlb_new();
	int r;

	if (!b)
		return -ENOMEM;
	r = emit_elems(b, s, v, n, add);
	if (r == 0)
		r = rules_nl_send(nl, b, true, 0, &errs);
	nl_errors_free(&errs);
	nlb_free(b);
	return r;
}


int rules_quarantine_add(struct rules_nl *nl, const struct addr *a, uint64_t timeout_ms)
{
	struct ir_set s;
	struct ir_elem e = { .lo = *a, .hi = *a, .timeout_ms = timeout_ms };

	ir_quarantine_set(a->family, &s);
	return rules_set_update(nl, &s, &e, 1, true);
}

int rules_quarantine_del(struct rules_nl *nl, const struct addr *a)
{
	struct ir_set s;
	struct ir_elem e = { .lo = *a, .hi = *a };

	ir_quarantine_set(a->family, &s);
	return rules_set_update(nl, &s, &e, 1, false);
}

/* ---- breakglass ---------------------------------------------------------------------- */


static void glass_add_ranges(struct ir_set *s, const struct ir_elem *base, uint8_t proto,
			     const struct rangeset *rs, bool all)
{
	struct ir_elem e = *base;

	e.proto = proto;
	if (all) {
		e.plo = 0;
		e.phi = 65535;
		ir_set_add(s, &e);
		return;
	}
	for (size_t i = 0; i < rs->n; i++) {
		e.plo = rs->v[i].lo;
		e.phi = rs->v[i].hi;
		ir_set_add(s, &e);
	}
}

int rules_glass_open(struct rules_nl *nl, const struct portset *ports, const struct prefix *from,
		     uint64_t timeout_ms)
{
	struct ir_set s;
	struct ir_elem base = { .timeout_ms = timeout_ms };
	int r;

	ir_glass_set(from->a.family, &s);
	prefix_bounds(from, &base.lo, &base.hi);
	glass_add_ranges(&s, &base, IPPROTO_TCP, &ports->tcp, ports->all);
	glass_add_ranges(&s, &base, IPPROTO_UDP, &ports->udp, ports->all);
	r = s.n ? rules_set_update(nl, &s, s.v, s.n, true) : -EINVAL;
	free(s.v);
	return r;
}

struct glass_pick {
	struct ir_set *out;
	const struct addr *lo, *hi;         /* close: this range */
	const struct portset *ports;        /* trim: outside these ports */
	uint64_t max_ms;                    /* trim: or longer than this */
};

static bool ports_cover(const struct portset *ps, const struct ir_elem *e)
{
	const struct rangeset *rs = e->proto == IPPROTO_UDP ? &ps->udp : &ps->tcp;

	if (ps->all)
		return true;
	for (size_t i = 0; i < rs->n; i++) /* sorted and merged: one range or none */
		if (rs->v[i].lo <= e->plo && e->phi <= rs->v[i].hi)
			return true;
	return false;
}

static void glass_pick(void *ctx, const struct ir_elem *e)
{
	struct glass_pick *g = ctx;

	if (g->lo ? !addr_cmp(&e->lo, g->lo) && !addr_cmp(&e->hi, g->hi)
		  : !ports_cover(g->ports, e) || e->timeout_ms > g->max_ms)
		ir_set_add(g->out, e);
}

int rules_glass_close(struct rules_nl *nl, const struct prefix *from)
{
	struct addr lo, hi;
	struct ir_set s;
	struct glass_pick g = { &s, &lo, &hi, NULL, 0 };
	int r;

	ir_glass_set(from->a.family, &s);
	prefix_bounds(from, &lo, &hi);
	if ((r = rules_set_list(nl, &s, glass_pick, &g)) == 0)
		r = s.n ? rules_set_update(nl, &s, s.v, s.n, false) : -ENOENT;
	free(s.v);
	return r < 0 ? r : (int)s.n;
}

int rules_glass_trim(struct rules_nl *nl, const struct portset *ports, uint64_t max_ms)
{
	int closed = 0;

	for (int f = 0; f < 2; f++) {
		struct ir_set s;
		struct glass_pick g = { &s, NULL, NULL, ports, max_ms };
		int r;

		ir_glass_set(f ? AF_INET6 : AF_INET, &s);
		r = rules_set_list(nl, &s, glass_pick, &g);
		if (r == 0 && s.n)
			r = rules_set_update(nl, &s, s.v, s.n, false);
		/* what the policy still allows comes back, cut to the new ttl */
		for (size_t i = 0; r == 0 && i < s.n; i++) {
			s.v[i].timeout_ms = s.v[i].timeout_ms > max_ms ? max_ms : s.v[i].timeout_ms;
			if (ports_cover(ports, &s.v[i]) && s.v[i].timeout_ms)
				r = rules_set_update(nl, &s, &s.v[i], 1, true);
			else
				closed++;
		}
		free(s.v);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return closed;
}

int rules_glass_list(struct rules_nl *nl, int family,
		     void (*fn)(void *ctx, const struct ir_elem *e), void *ctx)
{
	struct ir_set s;

	ir_glass_set(family, &s);
	return rules_set_list(nl, &s, fn, ctx);
}
