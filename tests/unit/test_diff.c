/* test_diff.c — two IRs → the element changes between them (rules/diff.c),
 * without a kernel: what counts as the same shape, what counts as the same
 * element (key, comment, absolute expiry), expired elements, the rbtree
 * end element at 0, unsorted sets, the run-time sets, and the batch it
 * writes (deletions before additions, nothing else). */
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compile.h"
#include "diff.h"

#define NOW 1764000000

static const char nodes[] =
	"\"nodes\":{\"s\":{\"key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\","
	"\"ips\":[\"100.64.0.1\",\"fd7a:115c:a1e0::1\"]},"
	"\"c\":{\"key\":\"HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=\",\"ips\":[\"100.64.0.2\"]},"
	"\"d\":{\"key\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=\",\"ips\":[\"100.64.0.3\"]}}";

struct pol {
	struct policy *p;
	struct ir *ir;
};

static struct pol load(const char *acls, const char *expose, const char *ifname, int64_t at)
{
	struct policy_opts po = { .now = (time_t)at };
	struct compile_opts co = { .now = (time_t)at, .ifname = ifname };
	char text[4096];
	struct diags d;
	struct pol x;
	int n = snprintf(text, sizeof(text),
			 "{\"version\":1,\"network\":{\"ipv4\":\"100.64.0.0/24\","
			 "\"ipv6\":\"fd7a:115c:a1e0::/64\"},%s,\"expose\":[%s],\"acls\":[%s]}",
			 nodes, expose, acls);

	diags_init(&d);
	x.p = policy_load(text, (size_t)n, &po, &d);
	diags_free(&d);
	assert_non_null(x.p);
	x.ir = compile_node(x.p, 0, &co);
	return x;
}

static void unload(struct pol *x)
{
	ir_free(x->ir);
	policy_free(x->p);
}

static const struct rules_set_diff *set_diff(const struct rules_diff *d, const struct ir *ir,
					     const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(ir->sets[d->v[i].set].name, name))
			return &d->v[i];
	return NULL;
}

#define SSH_C "{\"id\":\"ssh\",\"src\":[\"c\"],\"dst\":[\"s\"],\"ports\":[\"tcp:22\"]}"
#define SSH_D "{\"id\":\"ssh\",\"src\":[\"d\"],\"dst\":[\"s\"],\"ports\":[\"tcp:22\"]}"
#define WEB "{\"id\":\"web\",\"on\":[\"s\"],\"ports\":[\"tcp:443\"]}"

static void test_shape(void **state)
{
	struct pol a = load(SSH_C, WEB, NULL, NOW), b = load(SSH_D, WEB, NULL, NOW + 60);
	struct pol c = load(SSH_C, WEB, "wg7", NOW);
	char why[128];

	(void)state;
	assert_true(rules_diff_same_shape(a.ir, b.ir, why, sizeof(why)));
	assert_false(rules_diff_same_shape(a.ir, c.ir, why, sizeof(why)));
	assert_string_equal(why, "rule 1 (chain input) changed");
	c.ir->sets[5].interval = !c.ir->sets[5].interval;
	c.ir->rules[1] = a.ir->rules[1];
	assert_false(rules_diff_same_shape(a.ir, c.ir, why, sizeof(why)));
	assert_non_null(strstr(why, "declaration of set"));
	c.ir->sets[5].interval = !c.ir->sets[5].interval;
	assert_true(rules_diff_same_shape(a.ir, c.ir, why, sizeof(why)));
	c.ir->rules[7].counter = !c.ir->rules[7].counter;
	assert_false(rules_diff_same_shape(a.ir, c.ir, why, sizeof(why)));
	c.ir->nrules--;
	assert_false(rules_diff_same_shape(a.ir, c.ir, why, sizeof(why)));
	assert_non_null(strstr(why, "shape"));
	unload(&a);
	unload(&b);
	unload(&c);
}

static void test_elements_by_key_and_comment(void **state)
{
	struct pol a = load(SSH_C, WEB, NULL, NOW), b = load(SSH_D, WEB, NULL, NOW + 60);
	struct pol r = load("{\"id\":\"ssh2\",\"src\":[\"c\"],\"dst\":[\"s\"],\"ports\":[\"tcp:22\"]}",
			    WEB, NULL, NOW);
	const struct rules_set_diff *sd;
	struct rules_diff *d;

	(void)state;
	assert_int_equal(rules_diff_new(a.ir, NOW, b.ir, NOW + 60, NOW + 60, &d), 0);
	assert_int_equal(d->n, 1); /* acl4 only: c and d have no v6 address */
	sd = set_diff(d, b.ir, "acl4");
	assert_non_null(sd);
	assert_int_equal(sd->ndel, 1);
	assert_int_equal(sd->del[0].lo.b[3], 2);
	assert_int_equal(sd->nadd, 1);
	assert_int_equal(sd->add[0].lo.b[3], 3);
	assert_int_equal(d->added + d->removed, 2);
	rules_diff_free(d);
	/* the same piece from a renamed rule: its comment changes */
	assert_int_equal(rules_diff_new(a.ir, NOW, r.ir, NOW, NOW, &d), 0);
	assert_int_equal(d->removed, 1);
	assert_int_equal(d->added, 1);
	rules_diff_free(d);
	/* a rule inserted before: the ids behind ssh's element moved, the element
	 * did not change */
	{
		struct pol ins = load("{\"id\":\"web\",\"src\":[\"d\"],\"dst\":[\"s\"],"
				      "\"ports\":[\"tcp:80\"]}," SSH_C, WEB, NULL, NOW);

		assert_int_equal(rules_diff_new(a.ir, NOW, ins.ir, NOW, NOW, &d), 0);
		assert_int_equal(d->removed, 0);
		assert_int_equal(d->added, 1);
		rules_diff_free(d);
		unload(&ins);
	}
	/* the same IR, and a recompile a minute later: nothing */
	assert_int_equal(rules_diff_new(a.ir, NOW, a.ir, NOW, NOW, &d), 0);
	assert_true(rules_diff_empty(d));
	rules_diff_free(d);
	unload(&a);
	unload(&b);
	unload(&r);
}

#define TMP "{\"id\":\"tmp\",\"src\":[\"d\"],\"dst\":[\"s\"],\"ports\":[\"tcp:8080\"]," \
	    "\"expires\":\"2025-11-24T16:10:00Z\"}" /* NOW + 600 */

/* An expiry is absolute: recompiled later, the timeout is shorter and the
 * element the same; a new expiry is a new element; an element past its
 * expiry is left to the kernel. */
static void test_expiry(void **state)
{
	struct pol a = load(SSH_C "," TMP, WEB, NULL, NOW);
	struct pol later = load(SSH_C "," TMP, WEB, NULL, NOW + 100);
	struct pol gone = load(SSH_C, WEB, NULL, NOW + 700);
	struct rules_diff *d;
	long k = ir_set_find(a.ir, "acl4");

	(void)state;
	assert_int_equal(a.ir->sets[k].v[1].timeout_ms, 600000);
	assert_int_equal(later.ir->sets[k].v[1].timeout_ms, 500000);
	assert_int_equal(rules_diff_new(a.ir, NOW, later.ir, NOW + 100, NOW + 100, &d), 0);
	assert_true(rules_diff_empty(d));
	rules_diff_free(d);
	/* the same IR said to be compiled 5 s later: every expiry moves */
	assert_int_equal(rules_diff_new(a.ir, NOW, a.ir, NOW + 5, NOW, &d), 0);
	assert_int_equal(d->removed, 1);
	assert_int_equal(d->added, 1);
	rules_diff_free(d);
	/* the rule is gone: until 2 s past its expiry (the kernel's element
	 * lives a little longer) it is deleted, after that left alone */
	assert_int_equal(rules_diff_new(a.ir, NOW, gone.ir, NOW + 700, NOW + 599, &d), 0);
	assert_int_equal(d->removed, 1);
	assert_int_equal(d->expired, 0);
	rules_diff_free(d);
	assert_int_equal(rules_diff_new(a.ir, NOW, gone.ir, NOW + 700, NOW + 601, &d), 0);
	assert_int_equal(d->removed, 1);
	rules_diff_free(d);
	assert_int_equal(rules_diff_new(a.ir, NOW, gone.ir, NOW + 700, NOW + 602, &d), 0);
	assert_int_equal(d->removed, 0);
	assert_int_equal(d->expired, 1);
	assert_true(rules_diff_empty(d));
	rules_diff_free(d);
	unload(&a);
	unload(&later);
	unload(&gone);
}

/* A set out of key order is compared on a sorted copy; the IR is not touched. */
static void test_unsorted(void **state)
{
	struct pol a = load("{\"id\":\"x\",\"src\":[\"100.64.0.10\",\"100.64.0.20\",\"100.64.0.30\"],"
			    "\"dst\":[\"s\"],\"ports\":[\"tcp:1,5\",\"udp:7\"]}", WEB, NULL, NOW);
	struct pol b = load("{\"id\":\"x\",\"src\":[\"100.64.0.10\",\"100.64.0.20\",\"100.64.0.30\"],"
			    "\"dst\":[\"s\"],\"ports\":[\"tcp:1,5\",\"udp:7\"]}", WEB, NULL, NOW);
	struct ir_set *s = &b.ir->sets[ir_set_find(b.ir, "acl4")];
	struct rules_diff *d;
	struct ir_elem t;

	(void)state;
	assert_int_equal(s->n, 9);
	for (size_t i = 0; i < s->n / 2; i++) { /* reverse */
		t = s->v[i];
		s->v[i] = s->v[s->n - 1 - i];
		s->v[s->n - 1 - i] = t;
	}
	assert_int_equal(rules_diff_new(a.ir, NOW, b.ir, NOW, NOW, &d), 0);
	assert_true(rules_diff_empty(d));
	rules_diff_free(d);
	assert_int_equal(s->v[0].lo.b[3], 30);
	s->v[4].plo = s->v[4].phi = 6;
	assert_int_equal(rules_diff_new(a.ir, NOW, b.ir, NOW, NOW, &d), 0);
	assert_int_equal(d->added, 1);
	assert_int_equal(d->removed, 1);
	rules_diff_free(d);
	unload(&a);
	unload(&b);
}

/* Bans and openings are the daemon's: never compared. */
static void test_live_sets_ignored(void **state)
{
	struct pol a = load(SSH_C, WEB, NULL, NOW), b = load(SSH_C, WEB, NULL, NOW);
	struct ir_elem ban = { .lo = { .family = AF_INET, .b = { 100, 64, 0, 3 } },
			       .hi = { .family = AF_INET, .b = { 100, 64, 0, 3 } },
			       .timeout_ms = 60000 };
	struct rules_diff *d;

	(void)state;
	ir_set_add(&a.ir->sets[ir_set_find(a.ir, IR_SET_QUARANTINE4)], &ban);
	assert_true(rules_set_is_live(IR_SET_GLASS6));
	assert_false(rules_set_is_live("acl4"));
	assert_int_equal(rules_diff_new(a.ir, NOW, b.ir, NOW, NOW, &d), 0);
	assert_true(rules_diff_empty(d));
	rules_diff_free(d);
	unload(&a);
	unload(&b);
}

/* ---- the batch ------------------------------------------------------------------- */

struct walk {
	int del, add;          /* element messages */
	bool add_before_del;
	int zero_ends;         /* end elements at 0 */
	int zero_end_deleted;
};

/* libnftnl's parser wants NFTA_LIST_ELEM where its builder numbers the
 * elements (see test_batch.c): renumber a copy. */
static struct nlmsghdr *normalise(const struct nlmsghdr *in)
{
	struct nlmsghdr *nlh = malloc(in->nlmsg_len);
	struct nlattr *a, *e;

	memcpy(nlh, in, in->nlmsg_len);
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_for_each_nested(e, a)
				e->nla_type = (uint16_t)((e->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM);
	return nlh;
}

static int walk_msg(const struct nlmsghdr *orig, void *ctx)
{
	struct walk *w = ctx;
	uint16_t type = NFNL_MSG_TYPE(orig->nlmsg_type);
	struct nlmsghdr *nlh = normalise(orig);
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	assert_true(type == NFT_MSG_NEWSETELEM || type == NFT_MSG_DELSETELEM);
	if (type == NFT_MSG_DELSETELEM && w->add)
		w->add_before_del = true;
	*(type == NFT_MSG_DELSETELEM ? &w->del : &w->add) += 1;
	assert_int_equal(nftnl_set_elems_nlmsg_parse(nlh, s), 0);
	it = nftnl_set_elems_iter_create(s);
	while ((e = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0;
		const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
		    (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END) &&
		    len == 4 && !memcmp(key, (uint8_t[4]){ 0 }, 4))
			*(type == NFT_MSG_DELSETELEM ? &w->zero_end_deleted : &w->zero_ends) += 1;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	free(nlh);
	return 0;
}

/* puball4 from "*" starts at 0.0.0.0 (no end element at 0); from a network
 * it needs one: the diff writes it, or deletes it the other way round. */
static void test_emit_rbtree_zero_end(void **state)
{
	struct pol any = load(SSH_C, "{\"id\":\"a\",\"on\":[\"s\"],\"ports\":[\"*\"]}", NULL, NOW);
	struct pol net = load(SSH_C, "{\"id\":\"a\",\"on\":[\"s\"],\"ports\":[\"*\"],"
				     "\"from\":[\"10.0.0.0/8\"]}", NULL, NOW);
	struct rules_diff *d;
	struct walk w = { 0 };
	struct nlb *b = nlb_new();

	(void)state;
	assert_int_equal(rules_diff_new(any.ir, NOW, net.ir, NOW, NOW, &d), 0);
	assert_int_equal(set_diff(d, net.ir, "puball4")->zero_end, 1);
	assert_int_equal(rules_diff_emit(d, net.ir, b), 0);
	assert_int_equal(nlb_walk(b, walk_msg, &w), 0);
	assert_false(w.add_before_del);
	assert_int_equal(w.zero_ends, 1);
	assert_int_equal(w.zero_end_deleted, 0);
	assert_int_equal(w.del, 2); /* puball4 and puball6 */
	assert_int_equal(w.add, 1);
	rules_diff_free(d);
	nlb_free(b);
	b = nlb_new();
	memset(&w, 0, sizeof(w));
	assert_int_equal(rules_diff_new(net.ir, NOW, any.ir, NOW, NOW, &d), 0);
	assert_int_equal(set_diff(d, any.ir, "puball4")->zero_end, -1);
	assert_int_equal(rules_diff_emit(d, any.ir, b), 0);
	assert_int_equal(nlb_walk(b, walk_msg, &w), 0);
	assert_int_equal(w.zero_end_deleted, 1);
	assert_int_equal(w.zero_ends, 0);
	rules_diff_free(d);
	nlb_free(b);
	unload(&any);
	unload(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_elements_by_key_and_comment),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_unsorted),
		cmocka_unit_test(test_live_sets_ignored),
		cmocka_unit_test(test_emit_rbtree_zero_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
