/* test_batch.c — the netlink batch parsed back with libnftnl and compared
 * with the IR it came from: names, hooks, set types and flags, every element
 * key, the expression sequence of every rule. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
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
#include "emit.h"

#define NOW 1764000000

struct seen {
	const struct ir *ir;
	int tables, deltables, chains, sets, rules;
	size_t elems[32];        /* kernel elements per IR set */
	size_t rbtree_ends[32];
	char exprs[64][160];     /* expression names of each rule */
};

static long set_index(const struct ir *ir, const char *name)
{
	long i = ir_set_find(ir, name);

	assert_true(i >= 0);
	return i;
}

static void check_set(struct seen *s, const struct nlmsghdr *nlh)
{
	struct nftnl_set *set = nftnl_set_alloc();
	const struct ir_set *is;
	uint32_t flags;

	assert_int_equal(nftnl_set_nlmsg_parse(nlh, set), 0);
	is = &s->ir->sets[set_index(s->ir, nftnl_set_get_str(set, NFTNL_SET_NAME))];
	flags = nftnl_set_get_u32(set, NFTNL_SET_FLAGS);
	assert_int_equal(!!(flags & NFT_SET_INTERVAL), is->interval);
	assert_int_equal(!!(flags & NFT_SET_TIMEOUT), is->timeout);
	assert_int_equal(!!(flags & NFT_SET_CONCAT), is->kind == IRS_CONCAT && is->interval);
	assert_int_equal(nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN),
			 is->kind == IRS_CONCAT ? (is->family == AF_INET ? 12 : 24)
						: (is->kind == IRS_ICMP ? 1 : addr_size(is->family)));
	if (is->kind == IRS_CONCAT) /* ipv4_addr . inet_proto . inet_service */
		assert_int_equal(nftnl_set_get_u32(set, NFTNL_SET_KEY_TYPE),
				 is->family == AF_INET ? 0x730d : 0x830d);
	s->sets++;
	nftnl_set_free(set);
}

/* libnftnl numbers the elements of a list 1, 2, 3... when it builds them
 * (the kernel ignores the number) but its parser accepts only type 1
 * (NFTA_LIST_ELEM); renumber a copy so it can be read back. */
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

/* Every element key must be the start (or end) of an IR element. */
static void check_elems(struct seen *s, const struct nlmsghdr *orig)
{
	struct nlmsghdr *nlh = normalise(orig);
	struct nftnl_set *set = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	const struct ir_set *is;
	long si;

	if (nftnl_set_elems_nlmsg_parse(nlh, set) != 0)
		fail_msg("element message of %u bytes does not parse", nlh->nlmsg_len);
	si = set_index(s->ir, nftnl_set_get_str(set, NFTNL_SET_NAME));
	is = &s->ir->sets[si];
	it = nftnl_set_elems_iter_create(set);
	while ((e = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0, flags = 0;
		const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		bool found = false;

		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
			flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
		for (size_t k = 0; k < is->n && !found; k++) {
			const struct ir_elem *ie = &is->v[k];
			struct addr end = ie->hi;

			if (is->kind == IRS_ICMP)
				found = len == 1 && key[0] == ie->plo;
			else if (flags & NFT_SET_ELEM_INTERVAL_END)
				found = (addr_inc(&end) && !memcmp(key, end.b, len)) ||
					!memcmp(key, (uint8_t[16]){ 0 }, len); /* the leading end at 0 */
			else if (is->kind == IRS_CONCAT) {
				size_t al = addr_size(is->family);

				found = !memcmp(key, ie->lo.b, al) && key[al] == ie->proto &&
					key[al + 4] == ie->plo >> 8 && key[al + 5] == (ie->plo & 255);
				if (found && !is->interval) {
					assert_false(nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END));
					assert_int_equal(ie->plo, ie->phi);
				} else if (found) {
					uint32_t elen = 0;
					const uint8_t *ke = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &elen);

					assert_int_equal(elen, len);
					assert_memory_equal(ke, ie->hi.b, al);
					assert_int_equal(ke[al + 4] << 8 | ke[al + 5], ie->phi);
					if (ie->timeout_ms)
						assert_int_equal(nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT),
								 ie->timeout_ms);
				}
			} else {
				found = !memcmp(key, ie->lo.b, len);
			}
		}
		if (!found)
			fail_msg("element of %s not in the IR", is->name);
		if (flags & NFT_SET_ELEM_INTERVAL_END)
			s->rbtree_ends[si]++;
		else
			s->elems[si]++;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(set);
	free(nlh);
}

static int expr_name(struct nftnl_expr *e, void *data)
{
	char *buf = data;
	size_t n = strlen(buf);

	snprintf(buf + n, 160 - n, "%s%s", n ? "," : "", nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
	return 0;
}

static void check_rule(struct seen *s, const struct nlmsghdr *nlh)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), IR_TABLE);
	assert_true(s->rules < 64);
	s->exprs[s->rules][0] = '\0';
	nftnl_expr_foreach(r, expr_name, s->exprs[s->rules]);
	s->rules++;
	nftnl_rule_free(r);
}

static int walk(const struct nlmsghdr *nlh, void *ctx)
{
	struct seen *s = ctx;
	struct nftnl_chain *c;

	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case NFT_MSG_NEWTABLE:
		s->tables++;
		break;
	case NFT_MSG_DELTABLE:
		s->deltables++;
		break;
	case NFT_MSG_NEWCHAIN:
		c = nftnl_chain_alloc();
		assert_int_equal(nftnl_chain_nlmsg_parse(nlh, c), 0);
		if (!strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "input")) {
			assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), NF_INET_LOCAL_IN);
			assert_int_equal(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), IR_PRIORITY);
			assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
		}
		s->chains++;
		nftnl_chain_free(c);
		break;
	case NFT_MSG_NEWSET:
		check_set(s, nlh);
		break;
	case NFT_MSG_NEWSETELEM:
		check_elems(s, nlh);
		break;
	case NFT_MSG_NEWRULE:
		check_rule(s, nlh);
		break;
	default:
		fail_msg("unexpected message type %u", nlh->nlmsg_type);
	}
	return 0;
}

static void test_round_trip(void **state)
{
	char text[2048];
	struct policy_opts po = { .now = NOW };
	struct compile_opts co = { .now = NOW };
	struct diags d;
	struct policy *p;
	struct ir *ir;
	struct nlb *b = nlb_new();
	struct seen s = { 0 };

	(void)state;
	snprintf(text, sizeof(text),
		 "{\"version\":1,\"network\":{\"ipv4\":\"100.64.0.0/24\",\"ipv6\":\"fd7a:115c:a1e0::/64\"},"
		 "\"nodes\":{\"s\":{\"key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"ips\":[\"100.64.0.1\",\"fd7a:115c:a1e0::1\"],\"endpoint\":\"198.51.100.1:51820\"},"
		 "\"c\":{\"key\":\"HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=\",\"ips\":[\"100.64.0.2\",\"fd7a:115c:a1e0::2\"]}},"
		 "\"expose\":[{\"on\":[\"s\"],\"ports\":[\"tcp:80,443\",\"icmp\"],\"from\":[\"*\"]}],"
		 "\"acls\":[{\"id\":\"a\",\"src\":[\"c\",\"100.64.0.128/25\"],\"dst\":[\"s\"],\"ports\":[\"tcp:22\",\"udp:1000-2000\",\"icmp\"],\"expires\":\"2030-01-01T00:00:00Z\"},"
		 "{\"id\":\"b\",\"src\":[\"c\"],\"dst\":[\"*\"],\"ports\":[\"*\"]}]}");
	diags_init(&d);
	p = policy_load(text, strlen(text), &po, &d);
	assert_int_equal(d.nerr, 0);
	assert_non_null(p);
	ir = compile_node(p, 0, &co);
	assert_non_null(b);
	assert_int_equal(emit_table(b, ir, true), 0);
	s.ir = ir;
	assert_int_equal(nlb_walk(b, walk, &s), 0);

	assert_int_equal(s.tables, 2);   /* add (no-op), delete, create */
	assert_int_equal(s.deltables, 1);
	assert_int_equal(s.chains, (int)ir->nchains);
	assert_int_equal(s.sets, (int)ir->nsets);
	assert_int_equal(s.rules, (int)ir->nrules);
	for (size_t i = 0; i < ir->nsets; i++) {
		const struct ir_set *is = &ir->sets[i];

		/* every IR element arrived; an rbtree range also has its end (or is open) */
		assert_int_equal(s.elems[i], is->n);
		if (is->kind == IRS_ADDR && is->interval && is->n) {
			size_t ends = addr_is_zero(&is->v[0].lo) ? 0 : 1; /* leading end at 0 */

			for (size_t k = 0; k < is->n; k++)
				ends += !addr_is_max(&is->v[k].hi); /* open ranges have none */
			assert_int_equal(s.rbtree_ends[i], ends);
		}
	}
	for (size_t i = 0; i < ir->nrules; i++) {
		const struct ir_rule *r = &ir->rules[i];

		if (r->nm == 1 && r->m[0].kind == IRM_CONCAT_IN && r->m[0].family == AF_INET)
			assert_string_equal(s.exprs[i], "meta,cmp,payload,meta,byteorder,payload,lookup,counter,immediate");
		if (r->nm == 1 && r->m[0].kind == IRM_CT_STATE)
			assert_string_equal(s.exprs[i], "ct,bitwise,cmp,immediate");
		/* a per-source meter (dynset with its limit), then the cap for all */
		if (r->log && r->m[0].kind == IRM_CT_STATE)
			assert_string_equal(s.exprs[i], "ct,bitwise,cmp,meta,cmp,payload,dynset,limit,log");
		else if (r->log)
			assert_string_equal(s.exprs[i], "meta,cmp,payload,dynset,limit,log");
	}
	nlb_free(b);
	ir_free(ir);
	policy_free(p);
	diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
