/* test_allowedips.c — longest-prefix match against a naive linear reference
 * on thousands of random prefixes and lookups, v4 and v6, with removals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "allowedips.h"

struct ref {
	int family;
	uint8_t addr[16], cidr;
	void *peer;
	bool live;
};

static bool in_prefix(const struct ref *r, int family, const uint8_t *a)
{
	if (r->family != family)
		return false;
	for (unsigned i = 0; i < r->cidr; i++)
		if (((a[i / 8] ^ r->addr[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static bool same_prefix(const struct ref *a, const struct ref *b)
{
	return a->live && a->family == b->family && a->cidr == b->cidr &&
	       in_prefix(a, b->family, b->addr);
}

static void *ref_lookup(const struct ref *v, size_t n, int family, const uint8_t *a)
{
	int best = -1;
	void *peer = NULL;

	for (size_t i = 0; i < n; i++)
		if (v[i].live && in_prefix(&v[i], family, a) && (int)v[i].cidr > best) {
			best = v[i].cidr;
			peer = v[i].peer;
		}
	return peer;
}

static void test_basics(void **state)
{
	struct allowedips *t = allowedips_new();
	uint8_t net[4] = { 10, 0, 0, 0 }, host[4] = { 10, 0, 0, 7 }, other[4] = { 10, 1, 0, 1 };
	uint8_t any[16] = { 0 };
	int a, b, c;

	(void)state;
	assert_int_equal(allowedips_insert(t, AF_INET, net, 8, &a), 0);
	assert_int_equal(allowedips_insert(t, AF_INET, host, 32, &b), 0);
	assert_ptr_equal(allowedips_lookup(t, AF_INET, host), &b);
	assert_ptr_equal(allowedips_lookup(t, AF_INET, other), &a);
	assert_null(allowedips_lookup(t, AF_INET6, any));
	assert_int_equal(allowedips_insert(t, AF_INET6, any, 0, &c), 0); /* ::/0 */
	assert_ptr_equal(allowedips_lookup(t, AF_INET6, any), &c);
	assert_int_equal(allowedips_remove(t, AF_INET, host, 32), 0);
	assert_int_equal(allowedips_remove(t, AF_INET, host, 32), -ENOENT);
	assert_ptr_equal(allowedips_lookup(t, AF_INET, host), &a);
	allowedips_remove_peer(t, &a);
	assert_null(allowedips_lookup(t, AF_INET, host));
	assert_int_equal(allowedips_insert(t, AF_INET, net, 33, &a), -EINVAL);
	allowedips_free(t);
}

struct collect {
	int n;
	uint8_t cidr[8];
};

static int collect(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct collect *c = ctx;

	(void)family;
	(void)addr;
	c->cidr[c->n++] = cidr;
	return 0;
}

static void test_walk(void **state)
{
	struct allowedips *t = allowedips_new();
	uint8_t a1[4] = { 100, 64, 0, 2 }, a2[4] = { 192, 168, 0, 0 }, a3[16] = { 0xfd, 0x7a };
	struct collect c = { 0 };
	int p, q;

	(void)state;
	allowedips_insert(t, AF_INET, a1, 32, &p);
	allowedips_insert(t, AF_INET, a2, 16, &p);
	allowedips_insert(t, AF_INET6, a3, 48, &p);
	allowedips_insert(t, AF_INET, a2, 24, &q);
	assert_int_equal(allowedips_walk_peer(t, &p, collect, &c), 0);
	assert_int_equal(c.n, 3);
	allowedips_free(t);
}

static void test_random_vs_reference(void **state)
{
	enum { N = 3000 };
	static struct ref v[N];
	static int peers[40];
	struct allowedips *t = allowedips_new();
	unsigned seed = 4242;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		struct ref *r = &v[i];

		r->family = rand_r(&seed) % 3 ? AF_INET : AF_INET6;
		for (int k = 0; k < 16; k++) /* a small space so prefixes overlap a lot */
			r->addr[k] = k < 2 ? (uint8_t)(rand_r(&seed) % 4) : (uint8_t)rand_r(&seed);
		r->cidr = (uint8_t)(rand_r(&seed) % ((r->family == AF_INET ? 32 : 128) + 1));
		r->peer = &peers[rand_r(&seed) % 40];
		r->live = true;
		for (size_t k = 0; k < i; k++) /* inserting a prefix again moves it */
			if (same_prefix(&v[k], r))
				v[k].live = false;
		assert_int_equal(allowedips_insert(t, r->family, r->addr, r->cidr, r->peer), 0);
		if (i % 7 == 0) { /* remove an earlier prefix now and then */
			struct ref *x = &v[(size_t)rand_r(&seed) % (i + 1)];

			if (x->live) {
				assert_int_equal(allowedips_remove(t, x->family, x->addr, x->cidr), 0);
				x->live = false;
			}
		}
	}
	for (int q = 0; q < 20000; q++) {
		int family = rand_r(&seed) % 2 ? AF_INET : AF_INET6;
		uint8_t a[16];

		for (int k = 0; k < 16; k++)
			a[k] = k < 2 ? (uint8_t)(rand_r(&seed) % 4) : (uint8_t)rand_r(&seed);
		if (rand_r(&seed) % 2) /* often near an inserted prefix */
			memcpy(a, v[(size_t)rand_r(&seed) % N].addr, 3);
		if (allowedips_lookup(t, family, a) != ref_lookup(v, N, family, a))
			fail_msg("lookup %d disagrees with the reference", q);
	}
	allowedips_remove_peer(t, &peers[0]);
	for (size_t i = 0; i < N; i++)
		if (v[i].peer == &peers[0])
			v[i].live = false;
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(allowedips_lookup(t, v[i].family, v[i].addr),
				 ref_lookup(v, N, v[i].family, v[i].addr));
	allowedips_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basics),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_random_vs_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
