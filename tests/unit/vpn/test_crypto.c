/* test_crypto.c — BLAKE2s, HMAC-BLAKE2s, the KDF and TAI64N against published
 * vectors, and against python3's hashlib/hmac as an oracle on random inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "blake2s.h"
#include "kdf.h"
#include "tai64n.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void expect_hex(const uint8_t *b, size_t n, const char *want)
{
	char got[129];

	hex(b, n, got);
	assert_string_equal(got, want);
}

static void test_rfc7693(void **state)
{
	uint8_t h[32];

	(void)state;
	blake2s_hash(h, "abc", 3);
	expect_hex(h, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	blake2s_hash(h, "", 0);
	expect_hex(h, 32, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
}

/* Ci0 and Hi0 from wireguard-facts.md: the handshake's first two hashes */
static void test_wireguard_constants(void **state)
{
	static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
	uint8_t c[32], h[32];

	(void)state;
	blake2s_hash(c, construction, strlen(construction));
	expect_hex(c, 32, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
	blake2s_hash2(h, c, 32, identifier, strlen(identifier));
	expect_hex(h, 32, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
}

/* keyed known answers: key 00..1f, input 00..n-1 (BLAKE2 reference KAT) */
static void test_keyed_kat(void **state)
{
	static const struct { size_t n; const char *h; } kat[] = {
		{ 0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49" },
		{ 1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1" },
		{ 63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd" },
		{ 64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4" },
		{ 65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8" },
		{ 255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd" },
	};
	uint8_t key[32], in[255], h[32];
	struct blake2s s;

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 255; i++)
		in[i] = (uint8_t)i;
	for (size_t k = 0; k < sizeof(kat) / sizeof(kat[0]); k++) {
		blake2s_init(&s, 32, key, 32);
		for (size_t i = 0; i < kat[k].n; i += 7) /* odd chunks = one shot */
			blake2s_update(&s, in + i, kat[k].n - i < 7 ? kat[k].n - i : 7);
		blake2s_final(&s, h);
		expect_hex(h, 32, kat[k].h);
	}
}

/* wireguard-go device/kdf_test.go */
static void test_kdf_vectors(void **state)
{
	uint8_t t1[32], t2[32], t3[32];

	(void)state;
	kdf(t1, t2, t3, (const uint8_t *)"test-key", 8, "test-input", 10);
	expect_hex(t1, 32, "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633");
	expect_hex(t2, 32, "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a");
	expect_hex(t3, 32, "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24");
	kdf(t1, t2, t3, (const uint8_t *)"test-key", 8, "test-input-2", 12);
	expect_hex(t1, 32, "efca39c60ce3b00251ccfa0bd4912f49b3916658102ca406adcd071ad8f7a8d8");
	expect_hex(t3, 32, "23972ea75f223b6bcc7e35c2fab7d9eb9873408b098285f4bef9acd9945a1435");
	kdf(t1, t2, NULL, (const uint8_t *)"test-key-2", 10, "", 0);
	expect_hex(t1, 32, "21fea75c54afaf9a6060d26550f52fbff2f5ae7ac7a471ca7ee271fba228cdad");
	expect_hex(t2, 32, "b9a0105d2faf6775f9a2ea06ea2b1447b336e3093a7e49c6c0261f0ef0ae2d4a");
}

/* python3 as the oracle: random keys, lengths and output sizes */
static void test_python_oracle(void **state)
{
	FILE *py = popen("/usr/bin/python3 -c '\n"
			 "import sys, hashlib, hmac\n"
			 "for line in sys.stdin:\n"
			 "    k, m, n = line.split()\n"
			 "    k = bytes.fromhex(k) if k != \"-\" else b\"\"\n"
			 "    m = bytes.fromhex(m) if m != \"-\" else b\"\"\n"
			 "    h = hashlib.blake2s(m, key=k, digest_size=int(n)).hexdigest()\n"
			 "    mac = hmac.new(k or b\"\\0\", m, hashlib.blake2s).hexdigest()\n"
			 "    print(h, mac, flush=True)\n"
			 "' > /tmp/pd-oracle.$PPID", "w");
	unsigned seed = 12345;
	char line[4096], want[2][80];
	FILE *in;

	(void)state;
	if (!py)
		fail_msg("python3 oracle unavailable");
	for (int t = 0; t < 300; t++) {
		size_t kl = (size_t)rand_r(&seed) % 33, ml = (size_t)rand_r(&seed) % 300;
		int n = 1 + rand_r(&seed) % 32;
		char kh[80] = "-", mh[700] = "-";
		uint8_t k[32], m[300];

		for (size_t i = 0; i < kl; i++)
			k[i] = (uint8_t)rand_r(&seed);
		for (size_t i = 0; i < ml; i++)
			m[i] = (uint8_t)rand_r(&seed);
		if (kl)
			hex(k, kl, kh);
		if (ml)
			hex(m, ml, mh);
		fprintf(py, "%s %s %d\n", kh, mh, n);
	}
	if (pclose(py) != 0)
		fail_msg("python3 oracle failed");
	snprintf(line, sizeof(line), "/tmp/pd-oracle.%d", (int)getpid());
	in = fopen(line, "r");
	assert_non_null(in);
	seed = 12345;
	for (int t = 0; t < 300; t++) {
		size_t kl = (size_t)rand_r(&seed) % 33, ml = (size_t)rand_r(&seed) % 300;
		int n = 1 + rand_r(&seed) % 32;
		uint8_t k[32], m[300], h[32], mac[32], zero = 0;
		struct blake2s s;

		for (size_t i = 0; i < kl; i++)
			k[i] = (uint8_t)rand_r(&seed);
		for (size_t i = 0; i < ml; i++)
			m[i] = (uint8_t)rand_r(&seed);
		assert_int_equal(fscanf(in, "%79s %79s", want[0], want[1]), 2);
		blake2s_init(&s, (size_t)n, k, kl);
		blake2s_update(&s, m, ml);
		blake2s_final(&s, h);
		expect_hex(h, (size_t)n, want[0]);
		hmac_blake2s(mac, kl ? k : &zero, kl ? kl : 1, m, ml);
		expect_hex(mac, 32, want[1]);
	}
	fclose(in);
	unlink(line);
}

static void test_tai64n(void **state)
{
	struct timespec ts = { 0, 0 };
	uint8_t a[12], b[12];

	(void)state;
	tai64n_encode(a, &ts);
	expect_hex(a, 12, "400000000000000a00000000");
	ts = (struct timespec){ 1764000000, 123456789 };
	tai64n_encode(b, &ts);
	expect_hex(b, 12, "400000006924810a075bcd15");
	assert_true(tai64n_after(b, a));
	assert_false(tai64n_after(a, b));
	assert_false(tai64n_after(a, a));
	tai64n_now(a);
	assert_int_equal((a[8] << 24 | a[9] << 16 | a[10] << 8 | a[11]) & ((1 << 24) - 1), 0);
	assert_true(tai64n_after(a, b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7693),
		cmocka_unit_test(test_wireguard_constants),
		cmocka_unit_test(test_keyed_kat),
		cmocka_unit_test(test_kdf_vectors),
		cmocka_unit_test(test_python_oracle),
		cmocka_unit_test(test_tai64n),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
