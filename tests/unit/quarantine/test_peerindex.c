/* test_peerindex.c — address → node and key → node for one policy: the
 * exact addresses of every node (v4 and v6, and their neighbours), an
 * unassigned address inside the mesh and one outside it are no node's,
 * keys found and not found, and the index outlives its policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "quarantine/peerindex.h"

#define KA "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KB "HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4="
#define KC "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

static struct policy *load(void)
{
	static const char text[] =
		"{ \"version\": 1, \"network\": { \"ipv4\": \"100.64.0.0/16\","
		" \"ipv6\": \"fd7a:115c:a1e0::/64\" }, \"nodes\": {"
		"\"web1\": { \"key\": \"" KA "\", \"ips\": [\"100.64.0.1\", \"fd7a:115c:a1e0::1\"] },"
		"\"alice\": { \"key\": \"" KB "\", \"ips\": [\"100.64.0.2\"] },"
		"\"lab\": { \"key\": \"" KC "\", \"ips\": [\"100.64.1.3\", \"fd7a:115c:a1e0::ff\"] } } }";
	struct diags d;
	struct policy *p;

	diags_init(&d);
	p = policy_load(text, strlen(text), NULL, &d);
	if (!p)
		fail_msg("policy did not load: %s", d.n ? d.v[0].msg : "?");
	diags_free(&d);
	return p;
}

static long owner(const struct peerindex *ix, const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return peerindex_owner(ix, &a);
}

static void test_owners(void **state)
{
	struct policy *p = load();
	struct peerindex *ix;
	long web1 = policy_node_find(p, "web1"), alice = policy_node_find(p, "alice"),
	     lab = policy_node_find(p, "lab");

	(void)state;
	assert_int_equal(peerindex_new(p, &ix), 0);
	policy_free(p);                              /* the index keeps its own copies */
	assert_int_equal(owner(ix, "100.64.0.1"), web1);
	assert_int_equal(owner(ix, "fd7a:115c:a1e0::1"), web1);
	assert_int_equal(owner(ix, "100.64.0.2"), alice);
	assert_int_equal(owner(ix, "100.64.1.3"), lab);
	assert_int_equal(owner(ix, "100.64.1.2"), -1);    /* its neighbours are not */
	assert_int_equal(owner(ix, "fd7a:115c:a1e0::ff"), lab);
	/* inside the mesh but nobody's now (a stale address), and outside it */
	assert_int_equal(owner(ix, "100.64.0.3"), -1);
	assert_int_equal(owner(ix, "100.64.1.4"), -1);
	assert_int_equal(owner(ix, "100.64.0.0"), -1);
	assert_int_equal(owner(ix, "fd7a:115c:a1e0::2"), -1);
	assert_int_equal(owner(ix, "198.51.100.7"), -1);
	assert_int_equal(owner(ix, "0.0.0.0"), -1);
	assert_int_equal(owner(ix, "::"), -1);
	assert_int_equal(owner(ix, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), -1);
	peerindex_free(ix);
	peerindex_free(NULL);
}

static void test_keys(void **state)
{
	struct policy *p = load();
	struct peerindex *ix;
	uint8_t other[32] = { 9 };

	(void)state;
	assert_int_equal(peerindex_new(p, &ix), 0);
	for (size_t i = 0; i < p->nnodes; i++)
		assert_int_equal(peerindex_by_key(ix, p->nodes[i].key), (long)i);
	assert_int_equal(peerindex_by_key(ix, other), -1);
	peerindex_free(ix);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
