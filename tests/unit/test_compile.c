/* test_compile.c — compiler: disjoint intervals, sets vs the model, constant rules. */
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
#include "ptest.h"
#include "select.h"

#define NOW 1764000000

static const char *const keys[] = {
	"MxIkEm1ydSRsjVCZVX/+uvCWG4U0aNnlhlRHTlfJpSo=",
	"KryCMHzRUVKEvAnK6j1Si0CexiNcCOLzUzmFu+95hgc=",
	"HkP4bubn0lBh1olfnLLnSU8bqbaMHdF+MABrmrezmwo=",
	"89cCL6QfKEhmNPqsRTPd/HSPtR6jc4/4phqGyJYU1go=",
	"tKHQ2JTSIYt8+7/TJzD9SoXqHeOcUiF0z2w7iti2QlM=",
	"qpA5/yDUCDVTjuLHDkBHXUv56pZxXieiov23bCsei3c=",
};

static struct addr v4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	struct addr x = { .family = AF_INET, .b = { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d } };

	return x;
}

/* ---- intervals against brute force ---------------------------------------- */

static bool elem_has(const struct ir_elem *e, const struct addr *a, uint16_t port)
{
	return addr_cmp(&e->lo, a) <= 0 && addr_cmp(a, &e->hi) <= 0 && e->plo <= port &&
	       port <= e->phi;
}

static void check_random_boxes(unsigned seed)
{
	struct ir_box boxes[12];
	struct ir_set set = { .kind = IRS_CONCAT, .family = AF_INET, .interval = true };
	size_t n = 1 + (size_t)(rand_r(&seed) % 12);

	for (size_t i = 0; i < n; i++) {
		unsigned a = (unsigned)rand_r(&seed) % 16, b = a + (unsigned)rand_r(&seed) % 8;
		unsigned p = 1 + (unsigned)rand_r(&seed) % 20, q = p + (unsigned)rand_r(&seed) % 6;
		int k = rand_r(&seed) % 3;

		boxes[i] = (struct ir_box){ .lo = v4(10, 0, 0, a), .hi = v4(10, 0, 0, b),
					    .plo = (uint16_t)p, .phi = (uint16_t)q,
					    .expires = k == 0 ? 0 : NOW + 100 * k + (int64_t)i,
					    .origin = (uint32_t)i };
	}
	ir_boxes_to_set(boxes, n, IPPROTO_TCP, NOW, &set);
	for (unsigned a = 0; a < 26; a++)
		for (unsigned port = 0; port < 30; port++) {
			struct addr x = v4(10, 0, 0, a);
			int64_t want = -1; /* -1: not covered; 0: forever; else max expiry */
			size_t hits = 0, hit = 0;

			for (size_t i = 0; i < n; i++) {
				if (addr_cmp(&boxes[i].lo, &x) > 0 || addr_cmp(&x, &boxes[i].hi) > 0 ||
				    port < boxes[i].plo || port > boxes[i].phi)
					continue;
				if (want == -1)
					want = boxes[i].expires;
				else if (want != 0)
					want = boxes[i].expires == 0 ? 0
						: (boxes[i].expires > want ? boxes[i].expires : want);
			}
			for (size_t k = 0; k < set.n; k++)
				if (elem_has(&set.v[k], &x, (uint16_t)port)) {
					hits++;
					hit = k;
				}
			if (want == -1) {
				assert_int_equal(hits, 0);
				continue;
			}
			assert_int_equal(hits, 1); /* covered exactly once: disjoint */
			assert_int_equal(set.v[hit].timeout_ms,
					 want == 0 ? 0 : (uint64_t)(want - NOW) * 1000);
		}
	free(set.v);
}

static void test_intervals_random(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 400; seed++)
		check_random_boxes(seed);
}

static void test_intervals_merge_back(void **state)
{
	/* a /24 and one address inside it with the same port: still one element */
	struct ir_box b[2] = {
		{ .lo = v4(10, 0, 0, 0), .hi = v4(10, 0, 0, 255), .plo = 22, .phi = 22 },
		{ .lo = v4(10, 0, 0, 7), .hi = v4(10, 0, 0, 7), .plo = 22, .phi = 22, .origin = 1 },
	};
	struct ir_set set = { .kind = IRS_CONCAT, .family = AF_INET, .interval = true };

	(void)state;
	ir_boxes_to_set(b, 2, IPPROTO_TCP, NOW, &set);
	assert_int_equal(set.n, 1);
	assert_int_equal(set.v[0].norigin, 2);
	free(set.v);
}

/* ---- compiled sets against the model evaluator -------------------------------- */

static struct policy *load(const char *text)
{
	struct policy_opts o = { .now = NOW };
	struct diags d;
	struct policy *p;

	diags_init(&d);
	p = policy_load(text, strlen(text), &o, &d);
	for (size_t i = 0; i < d.n && d.nerr; i++)
		print_message("%s: %s\n", d.v[i].ptr ? d.v[i].ptr : "", d.v[i].msg);
	diags_free(&d);
	return p;
}

static bool set_lookup(const struct ir *ir, const char *name, const struct addr *a, uint8_t proto,
		       uint16_t port)
{
	const struct ir_set *s = &ir->sets[ir_set_find(ir, name)];

	for (size_t i = 0; i < s->n; i++) {
		const struct ir_elem *e = &s->v[i];

		if (addr_cmp(&e->lo, a) > 0 || addr_cmp(a, &e->hi) > 0)
			continue;
		if (s->kind != IRS_CONCAT || (e->proto == proto && e->plo <= port && port <= e->phi))
			return true;
	}
	return false;
}

static void append(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char tmp[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	*buf = realloc(*buf, *len + (size_t)n + 1);
	memcpy(*buf + *len, tmp, (size_t)n + 1);
	*len += (size_t)n;
}

static char *random_policy(unsigned *seed)
{
	static const char *const srcs[] = { "\"n0\"", "\"n1\"", "\"tag:t\"", "\"group:g\"", "\"*\"",
					    "\"100.64.0.0/29\"", "\"100.64.0.2/31\"", "\"host:h\"" };
	static const char *const dsts[] = { "\"n0\"", "\"tag:t\"", "\"group:g\"", "\"*\"" };
	static const char *const ports[] = { "\"tcp:22\"", "\"tcp:20-25\"", "\"udp:53,60-70\"",
					     "\"*\"", "\"icmp\"", "\"tcp:*\"", "\"svc\"" };
	char *buf = NULL;
	size_t len = 0;
	int nacl = 1 + rand_r(seed) % 6;

	append(&buf, &len, "{\"version\":1,\"network\":{\"ipv4\":\"100.64.0.0/24\"},\"nodes\":{");
	for (int i = 0; i < 6; i++)
		append(&buf, &len, "%s\"n%d\":{\"key\":\"%s\",\"ips\":[\"100.64.0.%d\"]%s}", i ? "," : "",
		       i, keys[i], i + 1, rand_r(seed) % 2 ? ",\"tags\":[\"t\"]" : "");
	append(&buf, &len, "},\"groups\":{\"g\":[\"n%d\",\"n%d\"]},", rand_r(seed) % 6, rand_r(seed) % 6);
	append(&buf, &len, "\"hosts\":{\"h\":[\"100.64.0.4/30\"]},\"services\":{\"svc\":[\"tcp:24-30\"]},");
	append(&buf, &len, "\"expose\":[{\"on\":[%s],\"ports\":[%s],\"from\":[%s]}],",
	       dsts[rand_r(seed) % 4], ports[rand_r(seed) % 7],
	       rand_r(seed) % 2 ? "\"*\"" : "\"198.51.100.0/25\"");
	append(&buf, &len, "\"acls\":[");
	for (int i = 0; i < nacl; i++)
		append(&buf, &len, "%s{\"id\":\"a%d\",\"src\":[%s,%s],\"dst\":[%s],\"ports\":[%s]%s}",
		       i ? "," : "", i, srcs[rand_r(seed) % 8], srcs[rand_r(seed) % 8],
		       dsts[rand_r(seed) % 4], ports[rand_r(seed) % 7],
		       rand_r(seed) % 4 == 0 ? ",\"expires\":\"2020-01-01T00:00:00Z\"" : "");
	append(&buf, &len, "]}");
	return buf;
}

static void test_sets_match_model(void **state)
{
	unsigned seed = 7;

	(void)state;
	for (int trial = 0; trial < 150; trial++) {
		char *text = random_policy(&seed);
		struct policy *p = load(text);
		struct compile_opts co = { .now = NOW };

		if (!p)
			fail_msg("random policy rejected: %s", text);
		for (size_t node = 0; node < p->nnodes; node++) {
			struct ir *ir = compile_node(p, node, &co);

			for (unsigned a = 0; a < 12; a++)
				for (uint16_t port = 18; port < 75; port += 1) {
					struct addr src = v4(100, 64, 0, a);
					uint8_t proto = port % 2 ? IPPROTO_TCP : IPPROTO_UDP;
					char why[128];
					bool model = ptest_vpn_verdict(p, node, &src, proto, port, NOW, why,
								       sizeof(why));
					bool sets = set_lookup(ir, "acl4", &src, proto, port) ||
						    set_lookup(ir, "acl4r", &src, proto, port) ||
						    set_lookup(ir, "aclall4", &src, proto, port);

					if (model != sets)
						fail_msg("node %zu src .%u %u/%u: model %d sets %d\n%s", node,
							 a, port, proto, model, sets, text);
					src = v4(198, 51, 100, a * 20);
					model = ptest_public_verdict(p, node, &src, proto, port, why,
								     sizeof(why));
					sets = set_lookup(ir, "pub4", &src, proto, port) ||
					       set_lookup(ir, "pub4r", &src, proto, port) ||
					       set_lookup(ir, "puball4", &src, proto, port);
					if (model != sets)
						fail_msg("public node %zu src %u %u: model %d sets %d\n%s",
							 node, a * 20, port, model, sets, text);
				}
			ir_free(ir);
		}
		policy_free(p);
		free(text);
	}
}

/* ---- selectors ---------------------------------------------------------------- */

static void test_selectors(void **state)
{
	char text[2048];
	struct policy *p;
	struct aranges r = { 0 };
	char b1[RANGE_STRLEN];

	(void)state;
	snprintf(text, sizeof(text),
		 "{\"version\":1,\"network\":{\"ipv4\":\"100.64.0.0/24\",\"ipv6\":\"fd7a:115c:a1e0::/64\"},\"nodes\":{"
		 "\"a\":{\"key\":\"%s\",\"ips\":[\"100.64.0.1\"],\"tags\":[\"srv\"]},"
		 "\"b\":{\"key\":\"%s\",\"ips\":[\"100.64.0.2\",\"fd7a:115c:a1e0::2\"]},"
		 "\"c\":{\"key\":\"%s\",\"ips\":[\"100.64.0.3\"],\"tags\":[\"srv\",\"db\"]}},"
		 "\"groups\":{\"outer\":[\"group:inner\",\"b\"],\"inner\":[\"tag:db\"]},"
		 "\"hosts\":{\"office\":[\"203.0.113.0/24\",\"2001:db8::/32\"]},"
		 "\"acls\":[{\"id\":\"x\",\"src\":[\"group:outer\",\"host:office\",\"10.0.0.0/8\"],\"dst\":[\"tag:srv\"],\"ports\":[\"*\"]},"
		 "{\"id\":\"y\",\"src\":[\"*\"],\"dst\":[\"*\"],\"ports\":[\"icmp\"]}],"
		 "\"expose\":[{\"on\":[\"b\"],\"ports\":[\"tcp:1\"]}]}", keys[0], keys[1], keys[2]);
	p = load(text);
	assert_non_null(p);
	/* nested group: outer = inner (tag:db = c) + b */
	assert_false(select_node(p, &p->acls[0].src, 0));
	assert_true(select_node(p, &p->acls[0].src, 1));
	assert_true(select_node(p, &p->acls[0].src, 2));
	assert_int_equal(select_count(p, &p->acls[0].dst, -1), 2); /* tag:srv = a, c */
	assert_int_equal(select_count(p, &p->acls[1].dst, -1), 3);
	/* v4 sources of acl x: b, c, the office /24 and 10/8 */
	select_ranges(p, &p->acls[0].src, AF_INET, false, &r);
	assert_int_equal(r.n, 4);
	aranges_free(&r);
	select_ranges(p, &p->acls[0].src, AF_INET6, false, &r);
	assert_int_equal(r.n, 2); /* b's v6 address and the office /32 */
	aranges_free(&r);
	/* "*" in a source is every node; in expose.from any address */
	select_ranges(p, &p->acls[1].src, AF_INET, false, &r);
	assert_int_equal(r.n, 3);
	aranges_free(&r);
	select_ranges(p, &p->expose[0].from, AF_INET, true, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(range_str(&r.v[0].lo, &r.v[0].hi, b1), "0.0.0.0/0");
	aranges_free(&r);
	policy_free(p);
}

/* ---- the shape of the table ----------------------------------------------------------- */

static struct ir *compile_n_acls(int n, struct policy **pp)
{
	char *buf = NULL;
	size_t len = 0;
	struct compile_opts co = { .now = NOW };

	append(&buf, &len, "{\"version\":1,\"network\":{\"ipv4\":\"100.64.0.0/10\"},\"nodes\":{"
			   "\"s\":{\"key\":\"%s\",\"ips\":[\"100.64.0.1\"],\"endpoint\":\"198.51.100.1:51820\"}},"
			   "\"acls\":[", keys[0]);
	for (int i = 0; i < n; i++)
		append(&buf, &len, "%s{\"id\":\"r%d\",\"src\":[\"100.%d.%d.%d\"],\"dst\":[\"s\"],"
				   "\"ports\":[\"tcp:%d\"]}", i ? "," : "", i, 64 + (i >> 16) % 64,
		       (i >> 8) & 255, i & 255, 1 + i % 60000);
	append(&buf, &len, "]}");
	*pp = load(buf);
	free(buf);
	assert_non_null(*pp);
	return compile_node(*pp, 0, &co);
}

static void test_rule_count_constant(void **state)
{
	struct policy *p1, *p2;
	struct ir *a = compile_n_acls(1, &p1), *b = compile_n_acls(5000, &p2);

	(void)state;
	assert_int_equal(a->nrules, b->nrules);
	assert_int_equal(ir_elem_count(b) - ir_elem_count(a), 4999);
	assert_int_equal(b->sets[ir_set_find(b, "acl4")].n, 5000); /* all exact: hash set */
	assert_int_equal(b->sets[ir_set_find(b, "acl4r")].n, 0);
	ir_free(a);
	ir_free(b);
	policy_free(p1);
	policy_free(p2);
}

static void test_expiry(void **state)
{
	char text[1024];
	struct policy *p;
	struct ir *ir;
	struct compile_opts co = { .now = NOW };
	const struct ir_set *s;

	(void)state;
	snprintf(text, sizeof(text),
		 "{\"version\":1,\"network\":{\"ipv4\":\"100.64.0.0/24\"},\"nodes\":{"
		 "\"s\":{\"key\":\"%s\",\"ips\":[\"100.64.0.1\"]},\"c\":{\"key\":\"%s\",\"ips\":[\"100.64.0.2\"]}},"
		 "\"acls\":[{\"id\":\"old\",\"src\":[\"c\"],\"dst\":[\"s\"],\"ports\":[\"tcp:1\"],\"expires\":\"2020-01-01T00:00:00Z\"},"
		 "{\"id\":\"soon\",\"src\":[\"c\"],\"dst\":[\"s\"],\"ports\":[\"tcp:2\"],\"expires\":\"2025-11-24T16:01:40Z\"}]}",
		 keys[0], keys[1]);
	p = load(text);
	assert_non_null(p);
	ir = compile_node(p, 0, &co);
	s = &ir->sets[ir_set_find(ir, "acl4")]; /* exact pieces: the hash set */
	assert_false(s->interval);
	assert_int_equal(s->n, 1);            /* the expired rule is gone */
	assert_int_equal(s->v[0].plo, 2);
	assert_int_equal(s->v[0].timeout_ms, 100 * 1000); /* NOW + 100 s */
	ir_free(ir);
	policy_free(p);
}

static void test_public_interfaces(void **state)
{
	char text[1024];
	struct policy *p;
	struct ir *ir;
	size_t jumps = 0;

	(void)state;
	snprintf(text, sizeof(text),
		 "{\"version\":1,\"network\":{\"ipv4\":\"100.64.0.0/24\",\"interface\":\"wg7\"},\"nodes\":{"
		 "\"s\":{\"key\":\"%s\",\"ips\":[\"100.64.0.1\"],\"public\":[\"eth0\",\"ens*\"]}}}", keys[0]);
	p = load(text);
	assert_non_null(p);
	ir = compile_node(p, 0, NULL);
	for (size_t i = 0; i < ir->nrules; i++)
		if (ir->rules[i].chain == 0 && ir->rules[i].verdict == IRV_JUMP) {
			jumps++;
			assert_int_equal(ir->rules[i].nm, 1);
		}
	assert_int_equal(jumps, 3); /* wg7 → vpn, eth0 and ens* → public */
	assert_string_equal(ir->rules[1].m[0].str, "wg7");
	assert_string_equal(ir->rules[3].m[0].str, "ens*");
	ir_free(ir);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intervals_random),
		cmocka_unit_test(test_intervals_merge_back),
		cmocka_unit_test(test_sets_match_model),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_rule_count_constant),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_public_interfaces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
