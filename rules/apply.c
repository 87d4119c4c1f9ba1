/* apply.c — table replacement with carried-over bans, and live element changes. */
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "apply.h"
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

/* ---- carrying bans over ---------------------------------------------------------- */

struct carry {
	struct ir_set *set;
	size_t n;
};

static void carry_elem(void *ctx, const void *key, uint32_t keylen, uint64_t expires_ms)
{
	struct carry *c = ctx;
	struct ir_elem e = { 0 };

	if (keylen != addr_size(c->set->family))
		return;
	e.lo.family = (uint8_t)c->set->family;
	memcpy(e.lo.b, key, keylen);
	e.hi = e.lo;
	e.timeout_ms = expires_ms; /* remaining time; 0 = the ban has no timeout */
	for (size_t i = 0; i < c->set->n; i++)
		if (!addr_cmp(&c->set->v[i].lo, &e.lo))
			return;
	ir_set_add(c->set, &e);
	c->n++;
}

static void carry_bans(struct rules_nl *nl, struct ir *ir, size_t *carried)
{
	static const char *const names[] = { "quarantine4", "quarantine6" };

	for (int i = 0; i < 2; i++) {
		long s = ir_set_find(ir, names[i]);
		struct carry c;

		if (s < 0)
			continue;
		c.set = &ir->sets[s];
		c.n = 0;
		if (rules_nl_dump_set(nl, IR_TABLE, names[i], carry_elem, &c) == 0)
			*carried += c.n;
	}
}

static void uncarry(struct ir *ir, const size_t base[2])
{
	static const char *const names[] = { "quarantine4", "quarantine6" };

	for (int i = 0; i < 2; i++) {
		long s = ir_set_find(ir, names[i]);

		if (s >= 0)
			ir->sets[s].n = base[i];
	}
}

int rules_apply(struct rules_nl *nl, struct ir *ir, bool commit, struct apply_report *rep)
{
	size_t base[2] = { 0, 0 };
	int r = -ERESTART;

	memset(rep, 0, sizeof(*rep));
	for (int i = 0; i < 2; i++) {
		long s = ir_set_find(ir, i ? "quarantine6" : "quarantine4");

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
		carry_bans(nl, ir, &rep->carried);
		b = nlb_new();
		if (!b)
			return -ENOMEM;
		r = emit_table(b, ir, true);
		if (r == 0) {
			rep->messages = nlb_count(b);
			rep->bytes = nlb_bytes(b);
			r = rules_nl_send(nl, b, commit, rep->genid, &errs);
			if (r < 0 && r != -ERESTART)
				describe(ir, &errs, rep);
		}
		nl_errors_free(&errs);
		nlb_free(b);
	}
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

static void quarantine_set(const struct addr *a, struct ir_set *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "quarantine%c", a->family == AF_INET ? '4' : '6');
	s->kind = IRS_ADDR;
	s->family = a->family;
	s->timeout = true;
}

int rules_quarantine_add(struct rules_nl *nl, const struct addr *a, uint64_t timeout_ms)
{
	struct ir_set s;
	struct ir_elem e = { .lo = *a, .hi = *a, .timeout_ms = timeout_ms };

	quarantine_set(a, &s);
	return rules_set_update(nl, &s, &e, 1, true);
}

int rules_quarantine_del(struct rules_nl *nl, const struct addr *a)
{
	struct ir_set s;
	struct ir_elem e = { .lo = *a, .hi = *a };

	quarantine_set(a, &s);
	return rules_set_update(nl, &s, &e, 1, false);
}
