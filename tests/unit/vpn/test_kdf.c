/* test_kdf.c — HMAC-BLAKE2s and KDF1/2/3 against wireguard-go's
 * device/kdf_test.go vectors (reproduced with python3's hmac + hashlib),
 * aliasing of outputs with inputs, and python3 as a differential oracle on
 * random keys (including keys longer than a block) and inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kdf.h"
#include "vpn_test.h"

/* wireguard-go device/kdf_test.go: key, input, then T1, T2, T3 */
static const struct {
	const char *key, *input, *t[3];
} wg_vectors[] = {
	{ "test-key", "test-input",
	  { "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
	    "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
	    "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24" } },
	{ "wireguard", "wireguard",
	  { "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
	    "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
	    "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160" } },
	{ "", "",
	  { "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
	    "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
	    "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e" } },
};

static void test_wireguard_go_vectors(void **state)
{
	uint8_t t1[32], t2[32], t3[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(wg_vectors); i++) {
		const char *k = wg_vectors[i].key, *in = wg_vectors[i].input;

		kdf_derive3(t1, t2, t3, k, strlen(k), in, strlen(in));
		assert_hex_equal(t1, 32, wg_vectors[i].t[0]);
		assert_hex_equal(t2, 32, wg_vectors[i].t[1]);
		assert_hex_equal(t3, 32, wg_vectors[i].t[2]);
		memset(t1, 0, 32);
		memset(t2, 0, 32);
		kdf_derive2(t1, t2, k, strlen(k), in, strlen(in)); /* KDFn is a prefix of KDF3 */
		assert_hex_equal(t1, 32, wg_vectors[i].t[0]);
		assert_hex_equal(t2, 32, wg_vectors[i].t[1]);
		memset(t1, 0, 32);
		kdf_derive1(t1, k, strlen(k), in, strlen(in));
		assert_hex_equal(t1, 32, wg_vectors[i].t[0]);
	}
}

/* The handshake writes the new chaining key over the old one (C = KDF1(C, x))
 * and may hash a key into itself: outputs may alias key and input. */
static void test_aliasing(void **state)
{
	uint8_t ck[32], in[32], want1[32], want2[32], want3[32], k2[32], k3[32];

	(void)state;
	for (int i = 0; i < 32; i++) {
		ck[i] = (uint8_t)(i * 7);
		in[i] = (uint8_t)(255 - i);
	}
	kdf_derive3(want1, want2, want3, ck, 32, in, 32);
	kdf_derive2(ck, k2, ck, 32, in, 32);
	assert_memory_equal(ck, want1, 32);
	assert_memory_equal(k2, want2, 32);
	for (int i = 0; i < 32; i++)
		ck[i] = (uint8_t)(i * 7);
	kdf_derive3(k2, k3, in, ck, 32, in, 32); /* t3 over the input */
	assert_memory_equal(k2, want1, 32);
	assert_memory_equal(k3, want2, 32);
	assert_memory_equal(in, want3, 32);
	kdf_hmac(ck, ck, 32, ck, 32);
	assert_memory_not_equal(ck, want1, 32);
}

/* HMAC: a key of exactly one block is used as is; a longer one is hashed
 * first (RFC 2104), so a 65-byte key differs from its 64-byte prefix. */
static void test_hmac_key_lengths(void **state)
{
	uint8_t key[65], a[32], b[32];

	(void)state;
	memset(key, 0x0b, sizeof(key));
	kdf_hmac(a, key, 64, "msg", 3);
	kdf_hmac(b, key, 65, "msg", 3);
	assert_memory_not_equal(a, b, 32);
	kdf_hmac(a, key, 0, "msg", 3);
	kdf_hmac(b, NULL, 0, "msg", 3);
	assert_memory_equal(a, b, 32);
}

#define ORACLE_CASES 300
#define MAX_KEY 130
#define MAX_IN 300

static const char kdf_oracle_py[] =
	"import sys, hashlib, hmac\n"
	"def H(k, m): return hmac.new(k, m, hashlib.blake2s).digest()\n"
	"for line in sys.stdin:\n"
	"    k, m = (bytes.fromhex(x) for x in line.rstrip('\\n').split(':'))\n"
	"    prk = H(k, m)\n"
	"    t1 = H(prk, b'\\x01'); t2 = H(prk, t1 + b'\\x02'); t3 = H(prk, t2 + b'\\x03')\n"
	"    print(H(k, m).hex(), t1.hex(), t2.hex(), t3.hex())\n";

static void oracle_case(uint64_t *rng, uint8_t *key, size_t *keylen, uint8_t *in, size_t *len)
{
	*keylen = prng_below(rng, 4) ? prng_below(rng, 33) : prng_below(rng, MAX_KEY + 1);
	*len = prng_below(rng, MAX_IN + 1);
	prng_fill(rng, key, *keylen);
	prng_fill(rng, in, *len);
}

static void test_python_oracle(void **state)
{
	static char khex[2 * MAX_KEY + 1], ihex[2 * MAX_IN + 1], line[400], got[400];
	static uint8_t key[MAX_KEY], in[MAX_IN];
	const uint64_t seed = test_seed();
	uint8_t mac[32], t[3][32];
	char bad[1000] = "";
	size_t keylen, len;
	struct oracle o;
	uint64_t rng = seed;

	(void)state;
	oracle_begin(&o);
	for (int i = 0; i < ORACLE_CASES; i++) {
		oracle_case(&rng, key, &keylen, in, &len);
		hex_encode(khex, key, keylen);
		hex_encode(ihex, in, len);
		fprintf(o.in, "%s:%s\n", khex, ihex);
	}
	oracle_run(&o, kdf_oracle_py);
	rng = seed;
	for (int i = 0; i < ORACLE_CASES; i++) {
		oracle_case(&rng, key, &keylen, in, &len);
		oracle_line(&o, line, sizeof(line));
		kdf_hmac(mac, key, keylen, in, len);
		kdf_derive3(t[0], t[1], t[2], key, keylen, in, len);
		hex_encode(got, mac, 32);
		for (int k = 0; k < 3; k++) {
			got[64 + 65 * k] = ' ';
			hex_encode(got + 65 + 65 * k, t[k], 32);
		}
		if (strcmp(got, line) != 0 && !bad[0])
			snprintf(bad, sizeof(bad), "case %d (keylen %zu, len %zu, seed %llu):\n"
				 "  got    %s\n  python %s", i, keylen, len,
				 (unsigned long long)seed, got, line);
	}
	oracle_end(&o);
	if (bad[0])
		fail_msg("%s", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wireguard_go_vectors),
		cmocka_unit_test(test_aliasing),
		cmocka_unit_test(test_hmac_key_lengths),
		cmocka_unit_test(test_python_oracle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
