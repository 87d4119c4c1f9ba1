/* test_kernel.c — the library against the real kernel, in a private network
 * namespace (unshare(CLONE_NEWNET): unnamed, gone when the process exits, so
 * nothing outside is touched). Needs root; fails loudly without it.
 *
 * Covers what only the kernel can answer: a refused batch is mapped back to
 * the policy rule behind the offending message and changes nothing; bans are
 * carried over a re-apply; live element updates; a stale generation id is
 * refused; --check commits nothing. */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apply.h"
#include "compile.h"
#include "emit.h"

#define NOW 1764000000

static const char policy_text[] =
	"{\"version\":1,\"network\":{\"ipv4\":\"100.64.0.0/24\",\"ipv6\":\"fd7a:115c:a1e0::/64\"},"
	"\"nodes\":{\"s\":{\"key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"ips\":[\"100.64.0.1\",\"fd7a:115c:a1e0::1\"]},"
	"\"c\":{\"key\":\"HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=\",\"ips\":[\"100.64.0.2\",\"fd7a:115c:a1e0::2\"]}},"
	"\"expose\":[{\"id\":\"web\",\"on\":[\"s\"],\"ports\":[\"tcp:443\"]}],"
	"\"acls\":[{\"id\":\"ssh\",\"src\":[\"c\"],\"dst\":[\"s\"],\"ports\":[\"tcp:22\"]},"
	"{\"id\":\"db\",\"src\":[\"100.64.0.128/25\"],\"dst\":[\"s\"],\"ports\":[\"tcp:5432\"]}],"
	"\"breakglass\":{\"holders\":[\"c\"],\"ports\":[\"tcp:22,2222-2223\"],\"minHolders\":1}}";

struct fixture {
	struct policy *p;
	struct ir *ir;
	struct rules_nl *nl;
};

static int setup(void **state)
{
	struct policy_opts po = { .now = NOW };
	struct compile_opts co = { .now = NOW };
	struct fixture *f = calloc(1, sizeof(*f));
	struct diags d;

	diags_init(&d);
	f->p = policy_load(policy_text, sizeof(policy_text) - 1, &po, &d);
	diags_free(&d);
	if (!f->p)
		return -1;
	f->ir = compile_node(f->p, 0, &co);
	if (rules_nl_open(&f->nl) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rules_nl_close(f->nl);
	ir_free(f->ir);
	policy_free(f->p);
	free(f);
	return 0;
}

struct count {
	size_t n;
	uint64_t max_expires;
};

static void count_elem(void *ctx, const struct nl_elem *e)
{
	struct count *c = ctx;

	c->n++;
	if (e->expires_ms > c->max_expires)
		c->max_expires = e->expires_ms;
}

static struct count dump(struct fixture *f, const char *set, int *err)
{
	struct count c = { 0 };

	*err = rules_nl_dump_set(f->nl, IR_TABLE, set, count_elem, &c);
	return c;
}

static void test_check_commits_nothing(void **state)
{
	struct fixture *f = *state;
	struct apply_report rep;
	int err;

	assert_int_equal(rules_apply(f->nl, f->ir, false, &rep), 0);
	apply_report_free(&rep);
	dump(f, "acl4", &err);
	assert_int_equal(err, -ENOENT); /* no table */
}

static void test_apply_and_dump(void **state)
{
	struct fixture *f = *state;
	struct apply_report rep;
	struct count c;
	int err;

	assert_int_equal(rules_apply(f->nl, f->ir, true, &rep), 0);
	assert_true(rep.messages > 10);
	apply_report_free(&rep);
	c = dump(f, "acl4", &err);
	assert_int_equal(err, 0);
	assert_int_equal(c.n, f->ir->sets[ir_set_find(f->ir, "acl4")].n);
}

/* A message the kernel refuses: an element whose range runs backwards. The
 * report must name the ACL it came from, and the table must be unchanged. */
static void test_refusal_names_the_rule(void **state)
{
	struct fixture *f = *state;
	struct ir_set *s = &f->ir->sets[ir_set_find(f->ir, "acl4r")]; /* the /25 is a range */
	struct apply_report rep;
	struct ir_elem saved;
	struct count before, after;
	bool named = false;
	size_t k = 0;
	int err;

	before = dump(f, "acl4r", &err);
	assert_int_equal(err, 0);
	while (k < s->n && s->v[k].plo != 5432)
		k++;
	assert_true(k < s->n);
	saved = s->v[k];
	s->v[k].plo = 6000; /* 6000-5432: reversed */
	assert_true(rules_apply(f->nl, f->ir, true, &rep) < 0);
	s->v[k] = saved;
	for (size_t i = 0; i < rep.nerrors; i++) {
		print_message("report: %s\n", rep.errors[i]);
		named |= strstr(rep.errors[i], "acl \"db\" (/acls/1)") != NULL;
	}
	apply_report_free(&rep);
	assert_true(named);
	after = dump(f, "acl4r", &err);
	assert_int_equal(err, 0);
	assert_int_equal(after.n, before.n);
}

static void test_bans_survive_reapply(void **state)
{
	struct fixture *f = *state;
	struct addr a = { .family = AF_INET, .b = { 100, 64, 0, 2 } };
	struct addr b = { .family = AF_INET6, .b = { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, [15] = 2 } };
	struct apply_report rep;
	struct count c;
	int err;

	assert_int_equal(rules_quarantine_add(f->nl, &a, 600000), 0);
	assert_int_equal(rules_quarantine_add(f->nl, &b, 600000), 0);
	assert_int_equal(rules_quarantine_add(f->nl, &a, 600000), 0); /* again: refresh, no error */
	assert_int_equal(rules_apply(f->nl, f->ir, true, &rep), 0);
	assert_int_equal(rep.carried, 2);
	apply_report_free(&rep);
	c = dump(f, "quarantine4", &err);
	assert_int_equal(err, 0);
	assert_int_equal(c.n, 1);
	assert_true(c.max_expires > 590000 && c.max_expires <= 600000);
	assert_int_equal(dump(f, "quarantine6", &err).n, 1);
	assert_int_equal(rules_quarantine_del(f->nl, &a), 0);
	assert_int_equal(dump(f, "quarantine4", &err).n, 0);
	assert_int_equal(rules_quarantine_del(f->nl, &a), -ENOENT);
	assert_int_equal(rules_quarantine_del(f->nl, &b), 0);
}

static void test_live_acl_update(void **state)
{
	struct fixture *f = *state;
	const struct ir_set *s = &f->ir->sets[ir_set_find(f->ir, "acl4")];
	struct ir_elem e = { .lo = { .family = AF_INET, .b = { 100, 64, 0, 9 } },
			     .hi = { .family = AF_INET, .b = { 100, 64, 0, 9 } },
			     .proto = IPPROTO_TCP, .plo = 8080, .phi = 8080 };
	size_t n0;
	int err;

	n0 = dump(f, "acl4", &err).n;
	assert_int_equal(rules_set_update(f->nl, s, &e, 1, true), 0);
	assert_int_equal(dump(f, "acl4", &err).n, n0 + 1);
	assert_int_equal(rules_set_update(f->nl, s, &e, 1, false), 0);
	assert_int_equal(dump(f, "acl4", &err).n, n0);
}

struct glass {
	struct ir_elem v[8];
	size_t n;
};

static void glass_elem(void *ctx, const struct ir_elem *e)
{
	struct glass *g = ctx;

	if (g->n < 8)
		g->v[g->n] = *e;
	g->n++;
}

static struct glass glass_list(struct fixture *f, int family)
{
	struct glass g = { .n = 0 };

	assert_int_equal(rules_glass_list(f->nl, family, glass_elem, &g), 0);
	return g;
}

/* breakglass open: the policy's ports for one source range, with a kernel
 * timeout, listed back, carried over a table swap, refused when overlapping,
 * closed. */
static void test_breakglass_open_carry_close(void **state)
{
	struct fixture *f = *state;
	const struct portset *ports = &f->p->breakglass.ports;
	struct prefix net, host, net6;
	struct apply_report rep;
	struct glass g;

	assert_int_equal(rules_apply(f->nl, f->ir, true, &rep), 0);
	apply_report_free(&rep);
	assert_int_equal(prefix_parse("203.0.113.0/24", &net), 0);
	assert_int_equal(prefix_parse("203.0.113.7", &host), 0);
	assert_int_equal(prefix_parse("2001:db8:1::/48", &net6), 0);
	assert_int_equal(rules_glass_open(f->nl, ports, &net, 600000), 0);
	assert_int_equal(rules_glass_open(f->nl, ports, &net6, 60000), 0);
	g = glass_list(f, AF_INET);
	assert_int_equal(g.n, 2); /* tcp 22, tcp 2222-2223 */
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(g.v[i].lo.b[3], 0);
		assert_int_equal(g.v[i].hi.b[3], 255);
		assert_int_equal(g.v[i].proto, IPPROTO_TCP);
		assert_true(g.v[i].timeout_ms > 590000 && g.v[i].timeout_ms <= 600000);
	}
	assert_int_equal(g.v[0].plo + g.v[1].plo, 22 + 2222);
	assert_int_equal(g.v[0].phi + g.v[1].phi, 22 + 2223);
	/* inside an opening in force: the kernel refuses the overlap */
	assert_true(rules_glass_open(f->nl, ports, &host, 600000) < 0);
	assert_int_equal(rules_apply(f->nl, f->ir, true, &rep), 0);
	assert_int_equal(rep.carried, 4);
	apply_report_free(&rep);
	g = glass_list(f, AF_INET);
	assert_int_equal(g.n, 2);
	assert_true(g.v[0].timeout_ms > 580000 && g.v[0].timeout_ms <= 600000);
	g = glass_list(f, AF_INET6);
	assert_int_equal(g.n, 2);
	assert_true(g.v[0].timeout_ms > 50000 && g.v[0].timeout_ms <= 60000);
	/* a new policy keeps tcp:22 only, with a 60 s ttl: 2222-2223 closes,
	 * 22 is cut to 60 s (v4) and the v6 opening, already shorter, stays */
	{
		struct portset only22 = { 0 };

		assert_int_equal(rangeset_add(&only22.tcp, 22, 22), 0);
		assert_int_equal(rules_glass_trim(f->nl, &only22, 60000), 2);
		portset_free(&only22);
	}
	g = glass_list(f, AF_INET);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.v[0].plo, 22);
	assert_true(g.v[0].timeout_ms > 50000 && g.v[0].timeout_ms <= 60000);
	assert_int_equal(glass_list(f, AF_INET6).n, 1);
	assert_int_equal(rules_glass_close(f->nl, &net), 1);
	assert_int_equal(glass_list(f, AF_INET).n, 0);
	assert_int_equal(rules_glass_close(f->nl, &net), -ENOENT); /* nothing left to close */
	assert_int_equal(rules_glass_close(f->nl, &net6), 1);
}

static void test_stale_generation_refused(void **state)
{
	struct fixture *f = *state;
	struct nl_errors errs = { 0 };
	struct nlb *b = nlb_new();
	uint32_t gen;

	assert_int_equal(rules_nl_genid(f->nl, &gen), 0);
	assert_int_equal(emit_table(b, f->ir, true), 0);
	assert_int_equal(rules_nl_send(f->nl, b, true, gen + 7, &errs), -ERESTART);
	nl_errors_free(&errs);
	nlb_free(b);
	b = nlb_new();
	assert_int_equal(emit_table(b, f->ir, true), 0);
	assert_int_equal(rules_nl_send(f->nl, b, true, gen, &errs), 0);
	nl_errors_free(&errs);
	nlb_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_commits_nothing),
		cmocka_unit_test(test_apply_and_dump),
		cmocka_unit_test(test_refusal_names_the_rule),
		cmocka_unit_test(test_bans_survive_reapply),
		cmocka_unit_test(test_live_acl_update),
		cmocka_unit_test(test_breakglass_open_carry_close),
		cmocka_unit_test(test_stale_generation_refused),
	};

	if (unshare(CLONE_NEWNET) < 0) {
		printf("not ok - test_kernel needs root to create a private network namespace: %s\n",
		       strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
