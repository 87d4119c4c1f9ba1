/* test_allowedips.c — the longest-prefix table: the kinds of cases of the
 * kernel's allowedips selftest (nested and overlapping prefixes, /0, /32,
 * /128, removal, re-assignment, host bits), walks, argument checks, and
 * thousands of random prefixes and lookups against a naive linear table,
 * IPv4 and IPv6. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "allowedips.h"
#include "vpn_test.h"

static int pa, pb, pc, pd, pe; /* peers: only their addresses matter */

/* "10.0.0.1" or "fd00::1" */
static int parse(const char *s, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		return AF_INET;
	assert_int_equal(inet_pton(AF_INET6, s, addr), 1);
	return AF_INET6;
}

static int insert(struct allowedips *t, const char *s, unsigned cidr, void *peer)
{
	uint8_t a[16];
	int family = parse(s, a);

	return allowedips_insert(t, family, a, cidr, peer);
}

static int removep(struct allowedips *t, const char *s, unsigned cidr, void *peer)
{
	uint8_t a[16];
	int family = parse(s, a);

	return allowedips_remove(t, family, a, cidr, peer);
}

static void *lookup(struct allowedips *t, const char *s)
{
	uint8_t a[16];
	int family = parse(s, a);

	return allowedips_lookup(t, family, a);
}

static void test_nested_v4(void **state)
{
	struct allowedips *t = allowedips_new();

	(void)state;
	assert_non_null(t);
	assert_null(lookup(t, "10.1.2.3"));
	assert_int_equal(insert(t, "10.1.2.0", 24, &pc), 0);
	assert_int_equal(insert(t, "10.0.0.0", 8, &pa), 0);
	assert_int_equal(insert(t, "10.1.2.3", 32, &pd), 0);
	assert_int_equal(insert(t, "10.1.0.0", 16, &pb), 0);
	assert_ptr_equal(lookup(t, "10.1.2.3"), &pd);
	assert_ptr_equal(lookup(t, "10.1.2.4"), &pc);
	assert_ptr_equal(lookup(t, "10.1.2.2"), &pc);
	assert_ptr_equal(lookup(t, "10.1.3.1"), &pb);
	assert_ptr_equal(lookup(t, "10.255.0.0"), &pa);
	assert_null(lookup(t, "11.0.0.0"));
	assert_null(lookup(t, "9.255.255.255"));
	assert_int_equal(insert(t, "0.0.0.0", 0, &pe), 0); /* the default route */
	assert_ptr_equal(lookup(t, "11.0.0.0"), &pe);
	assert_ptr_equal(lookup(t, "255.255.255.255"), &pe);
	assert_ptr_equal(lookup(t, "0.0.0.0"), &pe);
	assert_ptr_equal(lookup(t, "10.1.2.3"), &pd);
	assert_null(lookup(t, "::1")); /* families are separate */
	assert_int_equal(allowedips_count(t), 5);
	assert_int_equal(removep(t, "10.1.2.0", 24, &pc), 0); /* the middle of a chain */
	assert_ptr_equal(lookup(t, "10.1.2.4"), &pb);
	assert_ptr_equal(lookup(t, "10.1.2.3"), &pd);
	assert_int_equal(removep(t, "0.0.0.0", 0, &pe), 0);
	assert_null(lookup(t, "11.0.0.0"));
	assert_int_equal(allowedips_count(t), 3);
	allowedips_free(t);
}

/* neighbours that differ in the first or the last bit, /31 over two /32s */
static void test_siblings(void **state)
{
	struct allowedips *t = allowedips_new();

	(void)state;
	assert_int_equal(insert(t, "1.2.3.4", 32, &pa), 0);
	assert_int_equal(insert(t, "1.2.3.5", 32, &pb), 0);
	assert_ptr_equal(lookup(t, "1.2.3.4"), &pa);
	assert_ptr_equal(lookup(t, "1.2.3.5"), &pb);
	assert_null(lookup(t, "1.2.3.6"));
	assert_int_equal(insert(t, "1.2.3.4", 31, &pc), 0);
	assert_ptr_equal(lookup(t, "1.2.3.4"), &pa);
	assert_int_equal(removep(t, "1.2.3.5", 32, &pb), 0);
	assert_ptr_equal(lookup(t, "1.2.3.5"), &pc);
	assert_int_equal(insert(t, "0.0.0.0", 1, &pd), 0);
	assert_int_equal(insert(t, "128.0.0.0", 1, &pe), 0);
	assert_ptr_equal(lookup(t, "127.255.255.255"), &pd);
	assert_ptr_equal(lookup(t, "128.0.0.0"), &pe);
	assert_ptr_equal(lookup(t, "1.2.3.5"), &pc);
	allowedips_free(t);
}

static void test_v6(void **state)
{
	struct allowedips *t = allowedips_new();

	(void)state;
	assert_int_equal(insert(t, "fd7a:115c:a1e0::", 48, &pa), 0);
	assert_int_equal(insert(t, "fd7a:115c:a1e0::2", 128, &pb), 0);
	assert_int_equal(insert(t, "fd7a:115c:a1e0::3", 128, &pc), 0);
	assert_int_equal(insert(t, "fd7a:115c:a1e0:ab12:4843:cd96:626b:430b", 64, &pd), 0);
	assert_ptr_equal(lookup(t, "fd7a:115c:a1e0::2"), &pb);
	assert_ptr_equal(lookup(t, "fd7a:115c:a1e0::3"), &pc);
	assert_ptr_equal(lookup(t, "fd7a:115c:a1e0::4"), &pa);
	assert_ptr_equal(lookup(t, "fd7a:115c:a1e0:ab12::1"), &pd);
	assert_ptr_equal(lookup(t, "fd7a:115c:a1e0:ab13::1"), &pa);
	assert_null(lookup(t, "fd7a:115c:a1e1::1"));
	assert_null(lookup(t, "100.64.0.2"));
	assert_int_equal(insert(t, "::", 0, &pe), 0);
	assert_ptr_equal(lookup(t, "fd7a:115c:a1e1::1"), &pe);
	assert_ptr_equal(lookup(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), &pe);
	assert_null(lookup(t, "100.64.0.2"));
	assert_int_equal(insert(t, "fd7a:115c:a1e0::2", 127, &pe), 0); /* ::2 and ::3 */
	assert_int_equal(removep(t, "fd7a:115c:a1e0::3", 128, &pc), 0);
	assert_ptr_equal(lookup(t, "fd7a:115c:a1e0::3"), &pe);
	assert_ptr_equal(lookup(t, "fd7a:115c:a1e0::2"), &pb);
	allowedips_free(t);
}

/* inserting a prefix that is there moves it; host bits do not matter */
static void test_reassign_and_host_bits(void **state)
{
	struct allowedips *t = allowedips_new();

	(void)state;
	assert_int_equal(insert(t, "192.168.1.77", 24, &pa), 0);
	assert_ptr_equal(lookup(t, "192.168.1.200"), &pa);
	assert_int_equal(insert(t, "192.168.1.0", 24, &pb), 0);
	assert_int_equal(allowedips_count(t), 1);
	assert_ptr_equal(lookup(t, "192.168.1.200"), &pb);
	assert_int_equal(removep(t, "192.168.1.5", 24, &pa), -ENOENT); /* not pa's any more */
	assert_int_equal(removep(t, "192.168.1.5", 24, &pb), 0);
	assert_null(lookup(t, "192.168.1.200"));
	assert_int_equal(insert(t, "2001:db8::ffff", 64, &pc), 0);
	assert_int_equal(insert(t, "2001:db8::", 64, &pc), 0);
	assert_int_equal(allowedips_count(t), 1);
	assert_ptr_equal(lookup(t, "2001:db8::1:2:3:4"), &pc);
	allowedips_free(t);
}

static void test_remove_cases(void **state)
{
	struct allowedips *t = allowedips_new();

	(void)state;
	assert_int_equal(removep(t, "10.0.0.0", 8, &pa), -ENOENT); /* empty table */
	assert_int_equal(insert(t, "10.0.0.0", 24, &pa), 0);
	assert_int_equal(insert(t, "10.0.1.0", 24, &pb), 0);
	/* 10.0.0.0/23 joins the two inside the trie but is not in the table */
	assert_int_equal(removep(t, "10.0.0.0", 23, &pa), -ENOENT);
	assert_int_equal(removep(t, "10.0.0.0", 25, &pa), -ENOENT);
	assert_int_equal(removep(t, "10.0.0.0", 24, &pb), -ENOENT); /* someone else's */
	assert_ptr_equal(lookup(t, "10.0.0.9"), &pa);
	assert_ptr_equal(lookup(t, "10.0.1.9"), &pb);
	assert_int_equal(removep(t, "10.0.0.0", 24, &pa), 0);
	assert_int_equal(removep(t, "10.0.0.0", 24, &pa), -ENOENT); /* only once */
	assert_null(lookup(t, "10.0.0.9"));
	assert_ptr_equal(lookup(t, "10.0.1.9"), &pb);
	assert_int_equal(insert(t, "10.0.0.0", 8, &pa), 0);
	assert_int_equal(insert(t, "10.0.0.0", 16, &pa), 0);
	assert_int_equal(insert(t, "10.9.0.0", 16, &pc), 0);
	allowedips_remove_peer(t, &pa);
	assert_int_equal(allowedips_count(t), 2);
	assert_null(lookup(t, "10.0.0.9"));
	assert_ptr_equal(lookup(t, "10.0.1.9"), &pb);
	assert_ptr_equal(lookup(t, "10.9.1.1"), &pc);
	allowedips_remove_peer(t, &pb);
	allowedips_remove_peer(t, &pc);
	assert_int_equal(allowedips_count(t), 0);
	assert_null(lookup(t, "10.9.1.1"));
	assert_int_equal(insert(t, "10.9.0.0", 16, &pc), 0); /* usable again */
	assert_ptr_equal(lookup(t, "10.9.1.1"), &pc);
	allowedips_free(t);
}

static void test_invalid(void **state)
{
	struct allowedips *t = allowedips_new();
	uint8_t a[16] = { 10 };

	(void)state;
	assert_int_equal(allowedips_insert(t, AF_UNIX, a, 8, &pa), -EINVAL);
	assert_int_equal(allowedips_insert(t, AF_INET, a, 33, &pa), -EINVAL);
	assert_int_equal(allowedips_insert(t, AF_INET6, a, 129, &pa), -EINVAL);
	assert_int_equal(allowedips_insert(t, AF_INET, a, 8, NULL), -EINVAL);
	assert_int_equal(allowedips_remove(t, AF_INET, a, 33, &pa), -EINVAL);
	assert_int_equal(allowedips_remove(t, AF_INET, a, 8, NULL), -EINVAL);
	assert_int_equal(allowedips_insert(t, AF_INET, a, 32, &pa), 0);
	assert_null(allowedips_lookup(t, AF_UNIX, a));
	assert_int_equal(allowedips_count(t), 1);
	allowedips_free(t);
	allowedips_free(NULL);
}

struct seen {
	int n, stop_at;
	char text[8][48];
};

static int record(void *ctx, void *peer, int family, const uint8_t *addr, unsigned cidr)
{
	struct seen *s = ctx;
	char ip[INET6_ADDRSTRLEN];

	assert_non_null(peer);
	assert_non_null(inet_ntop(family, addr, ip, sizeof(ip)));
	assert_true(s->n < 8);
	snprintf(s->text[s->n++], sizeof(s->text[0]), "%s/%u", ip, cidr);
	return s->n == s->stop_at ? 42 : 0;
}

static void test_walk(void **state)
{
	struct allowedips *t = allowedips_new();
	struct seen s = { 0 };

	(void)state;
	insert(t, "fd7a:115c:a1e0::2", 128, &pa);
	insert(t, "192.168.7.9", 16, &pa);
	insert(t, "100.64.0.2", 32, &pa);
	insert(t, "192.168.0.0", 24, &pb);
	insert(t, "100.64.0.0", 10, &pb);
	assert_int_equal(allowedips_walk_peer(t, &pa, record, &s), 0);
	assert_int_equal(s.n, 3); /* v4 in address order, then v6; host bits cleared */
	assert_string_equal(s.text[0], "100.64.0.2/32");
	assert_string_equal(s.text[1], "192.168.0.0/16");
	assert_string_equal(s.text[2], "fd7a:115c:a1e0::2/128");
	memset(&s, 0, sizeof(s));
	assert_int_equal(allowedips_walk(t, record, &s), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.text[0], "100.64.0.0/10"); /* a prefix before those inside it */
	assert_string_equal(s.text[1], "100.64.0.2/32");
	assert_string_equal(s.text[2], "192.168.0.0/16");
	assert_string_equal(s.text[3], "192.168.0.0/24");
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(allowedips_walk(t, record, &s), 42); /* stops, passes the value on */
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(allowedips_walk_peer(t, &pc, record, &s), 0);
	assert_int_equal(s.n, 0);
	allowedips_free(t);
}

/* ---- random prefixes against a naive linear table ---------------------------- */

#define NPEERS 50
#define NPREFIX 2500
#define NLOOKUP 10000

struct ref {
	int family;
	uint8_t key[16]; /* masked */
	unsigned cidr;
	void *peer; /* NULL: removed */
	bool reported; /* by the walk being checked */
};

struct reftable {
	struct ref v[2 * NPREFIX];
	size_t n;
};

static bool ref_contains(const struct ref *r, int family, const uint8_t *a)
{
	if (!r->peer || r->family != family)
		return false;
	for (unsigned i = 0; i < r->cidr; i++)
		if (((a[i / 8] ^ r->key[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static struct ref *ref_find(struct reftable *t, int family, const uint8_t *key, unsigned cidr)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].peer && t->v[i].family == family && t->v[i].cidr == cidr &&
		    memcmp(t->v[i].key, key, 16) == 0)
			return &t->v[i];
	return NULL;
}

static void *ref_lookup(const struct reftable *t, int family, const uint8_t *a)
{
	const struct ref *best = NULL;

	for (size_t i = 0; i < t->n; i++)
		if (ref_contains(&t->v[i], family, a) && (!best || t->v[i].cidr > best->cidr))
			best = &t->v[i];
	return best ? best->peer : NULL;
}

/* addresses clustered in a few /8s (v4) or /16s (v6) so that prefixes nest */
static void random_addr(uint64_t *rng, int family, uint8_t a[16])
{
	memset(a, 0, 16);
	prng_fill(rng, a, family == AF_INET ? 4 : 16);
	a[0] = (uint8_t)(10 + prng_below(rng, 3));
	if (family == AF_INET6)
		a[1] = (uint8_t)prng_below(rng, 2);
}

static void random_prefix(uint64_t *rng, int family, struct ref *r)
{
	unsigned bits = family == AF_INET ? 32 : 128;

	r->family = family;
	random_addr(rng, family, r->key);
	switch (prng_below(rng, 8)) {
	case 0: /* any length but /0 (so that some lookups find nothing) */
		r->cidr = 1 + (unsigned)prng_below(rng, bits);
		break;
	case 1: case 2: /* hosts and their neighbours */
		r->cidr = bits - (unsigned)prng_below(rng, 3);
		break;
	default: /* mostly longer than the clusters */
		r->cidr = bits / 4 + (unsigned)prng_below(rng, bits * 3 / 4 + 1);
	}
	for (unsigned i = r->cidr; i < bits; i++) /* the reference masks on its own */
		r->key[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

/* a lookup address: clustered like the prefixes, anywhere, or right at a prefix
 * of the table (host bits random, sometimes one prefix bit flipped) */
static int lookup_addr(uint64_t *rng, const struct reftable *ref, int q, uint8_t a[16])
{
	int family = q % 2 ? AF_INET6 : AF_INET;
	const struct ref *r;
	unsigned bits;

	switch (q % 3) {
	case 0:
		random_addr(rng, family, a);
		return family;
	case 1:
		memset(a, 0, 16);
		prng_fill(rng, a, family == AF_INET ? 4 : 16);
		return family;
	}
	r = &ref->v[prng_below(rng, ref->n)];
	bits = r->family == AF_INET ? 32 : 128;
	memcpy(a, r->key, 16);
	for (unsigned i = r->cidr; i < bits; i++)
		if (prng_below(rng, 2))
			a[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
	if (r->cidr && prng_below(rng, 2)) {
		unsigned i = (unsigned)prng_below(rng, r->cidr);

		a[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
	}
	return r->family;
}

static void check_lookups(struct allowedips *t, const struct reftable *ref, uint64_t *rng)
{
	size_t found = 0;
	uint8_t a[16];

	for (int q = 0; q < NLOOKUP; q++) {
		int family = lookup_addr(rng, ref, q, a);
		void *want = ref_lookup(ref, family, a);

		if (allowedips_lookup(t, family, a) != want)
			fail_msg("lookup %d disagrees with the linear table (seed %llu)", q,
				 (unsigned long long)test_seed());
		found += want != NULL;
	}
	/* the addresses must exercise both outcomes */
	assert_true(found > NLOOKUP / 4 && found < NLOOKUP * 9 / 10);
}

static int walk_check(void *ctx, void *peer, int family, const uint8_t *addr, unsigned cidr)
{
	struct ref *r = ref_find(ctx, family, addr, cidr);

	if (!r || r->peer != peer || r->reported)
		fail_msg("walk reported a prefix that is not in the table, or twice");
	r->reported = true;
	return 0;
}

/* the walk reports every live prefix exactly once, with its peer */
static void check_walk(struct allowedips *t, struct reftable *ref)
{
	size_t live = 0;

	for (size_t i = 0; i < ref->n; i++) {
		live += ref->v[i].peer != NULL;
		ref->v[i].reported = false;
	}
	assert_int_equal(allowedips_count(t), live);
	assert_int_equal(allowedips_walk(t, walk_check, ref), 0);
	for (size_t i = 0; i < ref->n; i++)
		if (ref->v[i].peer && !ref->v[i].reported)
			fail_msg("the walk missed a prefix");
}

static void test_random_vs_reference(void **state)
{
	static struct reftable ref;
	static int peers[NPEERS];
	struct allowedips *t = allowedips_new();
	uint64_t rng = test_seed();

	(void)state;
	ref.n = 0;
	for (int i = 0; i < 2 * NPREFIX; i++) {
		struct ref r = { 0 }, *old;

		random_prefix(&rng, i % 2 ? AF_INET6 : AF_INET, &r);
		r.peer = &peers[prng_below(&rng, NPEERS)];
		assert_int_equal(allowedips_insert(t, r.family, r.key, r.cidr, r.peer), 0);
		if ((old = ref_find(&ref, r.family, r.key, r.cidr)))
			old->peer = r.peer;
		else
			ref.v[ref.n++] = r;
		if (prng_below(&rng, 8) == 0) { /* remove a random earlier prefix */
			struct ref *x = &ref.v[prng_below(&rng, ref.n)];

			if (x->peer) {
				assert_int_equal(allowedips_remove(t, x->family, x->key, x->cidr,
								   x->peer), 0);
				x->peer = NULL;
			}
		}
	}
	check_lookups(t, &ref, &rng);
	check_walk(t, &ref);
	for (int p = 0; p < NPEERS / 2; p++) { /* half the peers leave */
		allowedips_remove_peer(t, &peers[p]);
		for (size_t i = 0; i < ref.n; i++)
			if (ref.v[i].peer == &peers[p])
				ref.v[i].peer = NULL;
	}
	check_lookups(t, &ref, &rng);
	check_walk(t, &ref);
	allowedips_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_v4),
		cmocka_unit_test(test_siblings),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_reassign_and_host_bits),
		cmocka_unit_test(test_remove_cases),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_random_vs_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
