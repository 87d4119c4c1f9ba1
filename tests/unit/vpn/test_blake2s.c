/* test_blake2s.c — BLAKE2s against RFC 7693 (appendix B vector, appendix E
 * self-test), the BLAKE2 reference KAT (input 00..n-1, key 00..1f; values
 * as published, reproduced with python3's hashlib.blake2s), WireGuard's
 * first two handshake hashes, incremental = one-shot, parameter checks, and
 * python3's hashlib.blake2s as a differential oracle on random inputs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "blake2s.h"
#include "vpn_test.h"

struct kat {
	size_t len;
	const char *digest;
};

static void test_rfc7693_vectors(void **state)
{
	uint8_t h[32];

	(void)state;
	blake2s_hash(h, "abc", 3); /* appendix B */
	assert_hex_equal(h, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	blake2s_hash(h, NULL, 0);
	assert_hex_equal(h, 32, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
}

/* RFC 7693 appendix E: the deterministic input generator of the self-test */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xdead4bad * seed, b = 1, t;

	for (size_t i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (uint8_t)(t >> 24);
	}
}

/* RFC 7693 appendix E: every output length WireGuard could use, keyed and
 * not, over lengths around the block size, folded into one "grand hash". */
static void test_rfc7693_selftest(void **state)
{
	static const size_t md_len[] = { 16, 20, 28, 32 };
	static const size_t in_len[] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t in[1024], md[32], key[32], grand[32];
	struct blake2s all, one;

	(void)state;
	assert_int_equal(blake2s_init(&all, 32), 0);
	for (size_t i = 0; i < ARRAY_LEN(md_len); i++) {
		for (size_t j = 0; j < ARRAY_LEN(in_len); j++) {
			selftest_seq(in, in_len[j], (uint32_t)in_len[j]);
			assert_int_equal(blake2s_init(&one, md_len[i]), 0);
			blake2s_update(&one, in, in_len[j]);
			blake2s_final(&one, md);
			blake2s_update(&all, md, md_len[i]);
			selftest_seq(key, md_len[i], (uint32_t)md_len[i]);
			assert_int_equal(blake2s_init_key(&one, md_len[i], key, md_len[i]), 0);
			blake2s_update(&one, in, in_len[j]);
			blake2s_final(&one, md);
			blake2s_update(&all, md, md_len[i]);
		}
	}
	blake2s_final(&all, grand);
	assert_hex_equal(grand, 32,
			 "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
}

/* BLAKE2 reference testvectors/blake2s-kat.txt, keyed part */
static const struct kat keyed_kat[] = {
	{ 0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49" },
	{ 1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1" },
	{ 2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803" },
	{ 3, "1d220dbe2ee134661fdf6d9e74b41704710556f2f6e5a091b227697445dbea6b" },
	{ 7, "e6c8125637438d0905b749f46560ac89fd471cf8692e28fab982f73f019b83a9" },
	{ 8, "19fc8ca6979d60e6edd3b4541e2f967ced740df6ec1eaebbfe813832e96b2974" },
	{ 15, "65f4b860cd15b38ef814a1a804314a55be953caa65fd758ad989ff34a41c1eea" },
	{ 16, "19ba234f0a4f38637d1839f9d9f76ad91c8522307143c97d5f93f69274cec9a7" },
	{ 31, "b6156f72d380ee9ea6acd190464f2307a5c179ef01fd71f99f2d0f7a57360aea" },
	{ 32, "c03bc642b20959cbe133a0303e0c1abff3e31ec8e1a328ec8565c36decff5265" },
	{ 33, "2c3e08176f760c6264c3a2cd66fec6c3d78de43fc192457b2a4a660a1e0eb22b" },
	{ 55, "f16012d93f28851a1eb989f5d0b43f3f39ca73c9a62d5181bff237536bd348c3" },
	{ 56, "2966b3cfae1e44ea996dc5d686cf25fa053fb6f67201b9e46eade85d0ad6b806" },
	{ 63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd" },
	{ 64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4" },
	{ 65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8" },
	{ 100, "c376617014d20158bced3d3ba552b6eccf84e62aa3eb650e90029c84d13eea69" },
	{ 127, "ddbfea75cc467882eb3483ce5e2e756a4f4701b76b445519e89f22d60fa86e06" },
	{ 128, "0c311f38c35a4fb90d651c289d486856cd1413df9b0677f53ece2cd9e477c60a" },
	{ 129, "46a73a8dd3e70f59d3942c01df599def783c9da82fd83222cd662b53dce7dbdf" },
	{ 191, "91a25ec0ec0d9a567f89c4bfe1a65a0e432d07064b4190e27dfb81901fd3139b" },
	{ 192, "5950d39a23e1545f301270aa1a12f2e6c453776e4d6355de425cc153f9818867" },
	{ 193, "d79f14720c610af179a3765d4b7c0968f977962dbf655b521272b6f1e194488e" },
	{ 200, "13c88480a5d00d6c8c7ad2110d76a82d9b70f4fa6696d4e5dd42a066dcaf9920" },
	{ 254, "db444c15597b5f1a03d1f9edd16e4a9f43a667cc275175dfa2b704e3bb1a9b83" },
	{ 255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd" },
};

/* the same file, unkeyed part */
static const struct kat unkeyed_kat[] = {
	{ 0, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9" },
	{ 1, "e34d74dbaf4ff4c6abd871cc220451d2ea2648846c7757fbaac82fe51ad64bea" },
	{ 3, "e8f91c6ef232a041452ab0e149070cdd7dd1769e75b3a5921be37876c45c9900" },
	{ 64, "56f34e8b96557e90c1f24b52d0c89d51086acf1b00f634cf1dde9233b8eaaa3e" },
	{ 65, "1b53ee94aaf34e4b159d48de352c7f0661d0a40edff95a0b1639b4090e974472" },
	{ 255, "f03f5789d3336b80d002d59fdf918bdb775b00956ed5528e86aa994acb38fe2d" },
};

static void kat_input(uint8_t in[256], uint8_t key[32])
{
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
}

static void test_keyed_kat(void **state)
{
	uint8_t in[256], key[32], h[32];
	struct blake2s s;

	(void)state;
	kat_input(in, key);
	for (size_t k = 0; k < ARRAY_LEN(keyed_kat); k++) {
		assert_int_equal(blake2s_init_key(&s, 32, key, 32), 0);
		blake2s_update(&s, in, keyed_kat[k].len);
		blake2s_final(&s, h);
		assert_hex_equal(h, 32, keyed_kat[k].digest);
	}
}

static void test_unkeyed_kat(void **state)
{
	uint8_t in[256], key[32], h[32];

	(void)state;
	kat_input(in, key);
	for (size_t k = 0; k < ARRAY_LEN(unkeyed_kat); k++) {
		blake2s_hash(h, in, unkeyed_kat[k].len);
		assert_hex_equal(h, 32, unkeyed_kat[k].digest);
	}
}

/* Ci0 = HASH(CONSTRUCTION), Hi0 = HASH(Ci0 || IDENTIFIER) (wireguard-facts.md) */
static void test_wireguard_constants(void **state)
{
	static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
	uint8_t c[32], h[32];

	(void)state;
	blake2s_hash(c, construction, sizeof(construction) - 1);
	assert_hex_equal(c, 32, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
	blake2s_hash2(h, c, 32, identifier, sizeof(identifier) - 1);
	assert_hex_equal(h, 32, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
	blake2s_hash2(c, c, 32, identifier, sizeof(identifier) - 1); /* out aliasing a */
	assert_memory_equal(c, h, 32);
}

/* Feed in[0..len) in chunks: sizes from a PRNG, or a fixed size if step > 0. */
static void hash_chunked(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen,
			 const uint8_t *in, size_t len, size_t step, uint64_t *rng)
{
	struct blake2s s;

	assert_int_equal(blake2s_init_key(&s, outlen, key, keylen), 0);
	for (size_t off = 0, n; off < len; off += n) {
		n = step ? step : prng_below(rng, 140);
		if (n > len - off)
			n = len - off;
		blake2s_update(&s, in + off, n); /* n may be 0: an empty update */
	}
	blake2s_final(&s, out);
}

/* incremental updates in odd-sized chunks give the one-shot digest */
static void test_incremental(void **state)
{
	static const size_t steps[] = { 1, 3, 7, 31, 63, 64, 65, 129, 0 };
	uint64_t rng = test_seed();
	uint8_t in[256], key[32], h[32];

	(void)state;
	kat_input(in, key);
	for (size_t k = 0; k < ARRAY_LEN(keyed_kat); k++) {
		for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
			hash_chunked(h, 32, key, 32, in, keyed_kat[k].len, steps[i], &rng);
			assert_hex_equal(h, 32, keyed_kat[k].digest);
		}
	}
}

static void test_parameters(void **state)
{
	uint8_t key[33] = { 0 }, out[32], before[32];
	struct blake2s s;

	(void)state;
	memset(out, 0xaa, sizeof(out));
	memcpy(before, out, sizeof(out));
	assert_int_equal(blake2s_init(&s, 0), -EINVAL);
	blake2s_update(&s, "x", 1);
	blake2s_final(&s, out); /* a failed init writes nothing */
	assert_int_equal(blake2s_init(&s, 33), -EINVAL);
	assert_int_equal(blake2s_init_key(&s, 32, key, 33), -EINVAL);
	assert_int_equal(blake2s_init_key(&s, 32, NULL, 1), -EINVAL);
	assert_memory_equal(out, before, sizeof(out));
	assert_int_equal(blake2s_init_key(&s, 1, key, 32), 0);
	blake2s_final(&s, out); /* exactly outlen bytes */
	assert_memory_equal(out + 1, before + 1, sizeof(out) - 1);
	assert_int_equal(blake2s_mac16(out, key, 33, "x", 1), -EINVAL);
	assert_memory_equal(out + 1, before + 1, sizeof(out) - 1);
	assert_int_equal(blake2s_mac16(out, key, 32, "x", 1), 0);
	assert_memory_not_equal(out, before, 16);
	assert_memory_equal(out + 16, before + 16, 16);
}

#define ORACLE_CASES 400
#define ORACLE_MAXLEN 1100

static const char blake2s_oracle_py[] =
	"import sys, hashlib\n"
	"for line in sys.stdin:\n"
	"    n, k, m = line.rstrip('\\n').split(':')\n"
	"    print(hashlib.blake2s(bytes.fromhex(m), key=bytes.fromhex(k),\n"
	"                          digest_size=int(n)).hexdigest())\n";

/* One random case: lengths biased towards block boundaries. */
static void oracle_case(uint64_t *rng, size_t *outlen, uint8_t *key, size_t *keylen,
			uint8_t *msg, size_t *len)
{
	*outlen = 1 + prng_below(rng, 32);
	*keylen = prng_below(rng, 3) ? prng_below(rng, 33) : 0;
	if (prng_below(rng, 3) == 0)
		*len = 64 * prng_below(rng, 17) + prng_below(rng, 3) - 1; /* 64k - 1, +0, +1 */
	else
		*len = prng_below(rng, ORACLE_MAXLEN);
	if (*len > ORACLE_MAXLEN)
		*len = 0; /* the -1 of 64 * 0 */
	prng_fill(rng, key, *keylen);
	prng_fill(rng, msg, *len);
}

/* random output lengths, keys, inputs and chunkings against python3 */
static void test_python_oracle(void **state)
{
	static char khex[65], mhex[2 * ORACLE_MAXLEN + 1], want[80], got[65];
	char bad[512] = "";
	static uint8_t key[32], msg[ORACLE_MAXLEN], h[32];
	const uint64_t seed = test_seed();
	size_t outlen, keylen, len;
	struct oracle o;
	uint64_t rng, chunks = ~seed;

	(void)state;
	oracle_begin(&o);
	rng = seed;
	for (int i = 0; i < ORACLE_CASES; i++) {
		oracle_case(&rng, &outlen, key, &keylen, msg, &len);
		hex_encode(khex, key, keylen);
		hex_encode(mhex, msg, len);
		fprintf(o.in, "%zu:%s:%s\n", outlen, khex, mhex);
	}
	oracle_run(&o, blake2s_oracle_py);
	rng = seed; /* the same cases again */
	for (int i = 0; i < ORACLE_CASES; i++) {
		oracle_case(&rng, &outlen, key, &keylen, msg, &len);
		oracle_line(&o, want, sizeof(want));
		hash_chunked(h, outlen, key, keylen, msg, len, 0, &chunks);
		hex_encode(got, h, outlen);
		if (strcmp(got, want) != 0 && !bad[0])
			snprintf(bad, sizeof(bad), "case %d (outlen %zu, keylen %zu, len %zu): %s, "
				 "python3 %s (seed %llu)", i, outlen, keylen, len, got, want,
				 (unsigned long long)seed);
	}
	oracle_end(&o);
	if (bad[0])
		fail_msg("%s", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7693_vectors),
		cmocka_unit_test(test_rfc7693_selftest),
		cmocka_unit_test(test_keyed_kat),
		cmocka_unit_test(test_unkeyed_kat),
		cmocka_unit_test(test_wireguard_constants),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_parameters),
		cmocka_unit_test(test_python_oracle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
