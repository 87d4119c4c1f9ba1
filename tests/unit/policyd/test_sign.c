/* test_sign.c — signed policies: a signature verifies against the key that
 * made it, over exactly those bytes, and nothing else passes: another key,
 * one changed byte, a truncated or garbled signature, an empty trust file,
 * a key file others can read, a signing time written over. Comments and blank lines in a trust file are
 * skipped; any trusted key may sign. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sign.h"

static char dir[] = "/tmp/test_sign.XXXXXX";
static char k1[64], k2[64], trust[64], other[64];

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static int setup(void **state)
{
	char key[45], pub1[45], pub2[45], err[256], body[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(k1, sizeof(k1), "%s/k1", dir);
	snprintf(k2, sizeof(k2), "%s/k2", dir);
	snprintf(trust, sizeof(trust), "%s/trust", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	sign_keygen(key);
	write_file(k1, key, 0600);
	sign_keygen(key);
	write_file(k2, key, 0600);
	assert_int_equal(sign_pubkey(k1, pub1, err, sizeof(err)), 0);
	assert_int_equal(sign_pubkey(k2, pub2, err, sizeof(err)), 0);
	assert_string_not_equal(pub1, pub2);
	snprintf(body, sizeof(body), "# admins\n\n%s\n", pub1);
	write_file(trust, body, 0644);
	snprintf(body, sizeof(body), "%s\n# carol\n%s\n", pub2, pub1);
	write_file(other, body, 0644);
	return 0;
}

static int teardown(void **state)
{
	char path[96];

	(void)state;
	unlink(k1), unlink(k2), unlink(trust), unlink(other);
	snprintf(path, sizeof(path), "%s/empty", dir);
	unlink(path);
	return rmdir(dir);
}

static void test_sign_and_verify(void **state)
{
	const char *pol = "{ \"version\": 1 }\n";
	char sig[SIGN_LINE_LEN], sig2[SIGN_LINE_LEN], err[256], bad[SIGN_LINE_LEN + 1];
	size_t n = strlen(pol);
	uint64_t when = 0;

	(void)state;
	assert_int_equal(sign_text(k1, pol, n, 1700000000, sig, err, sizeof(err)), 0);
	assert_int_equal(strncmp(sig, "v2 1700000000 ", 14), 0);
	assert_int_equal(sign_verify(trust, pol, n, sig, strlen(sig), &when, err, sizeof(err)), 0);
	assert_int_equal(when, 1700000000);
	/* a trailing newline, as the .sig file has, is fine */
	snprintf(bad, sizeof(bad), "%s\n", sig);
	assert_int_equal(sign_verify(trust, pol, n, bad, strlen(bad), &when, err, sizeof(err)), 0);
	/* the time is signed: a later one written in is refused */
	snprintf(bad, sizeof(bad), "%s", sig);
	bad[3] = '8';
	assert_int_equal(sign_verify(trust, pol, n, bad, strlen(bad), &when, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not from any of the 1 trusted keys"));
	/* not the v2 line */
	assert_int_equal(sign_verify(trust, pol, n, sig + 14, strlen(sig + 14), &when, err,
				     sizeof(err)), -1);
	assert_non_null(strstr(err, "v2 SECONDS BASE64"));
	snprintf(bad, sizeof(bad), "v2 -1%s", sig + 13);
	assert_int_equal(sign_verify(trust, pol, n, bad, strlen(bad), &when, err, sizeof(err)), -1);
	snprintf(bad, sizeof(bad), "%s", sig);
	/* one byte of the policy changed */
	assert_int_equal(sign_verify(trust, "{ \"version\": 2 }\n", n, sig, strlen(sig), &when, err,
				     sizeof(err)), -1);
	assert_non_null(strstr(err, "not from any of the 1 trusted keys"));
	/* another key: refused by this trust file, accepted where it is listed */
	assert_int_equal(sign_text(k2, pol, n, 1700000000, sig2, err, sizeof(err)), 0);
	assert_int_equal(sign_verify(trust, pol, n, sig2, strlen(sig2), &when, err, sizeof(err)), -1);
	assert_int_equal(sign_verify(other, pol, n, sig2, strlen(sig2), &when, err, sizeof(err)), 0);
	/* garbled and truncated signatures */
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	assert_int_equal(sign_verify(trust, pol, n, bad, strlen(bad), &when, err, sizeof(err)), -1);
	assert_int_equal(sign_verify(trust, pol, n, sig, 40, &when, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "v2 SECONDS BASE64"));
	assert_int_equal(sign_verify(trust, pol, n, "", 0, &when, err, sizeof(err)), -1);
}

static void test_bad_keys(void **state)
{
	char sig[SIGN_LINE_LEN], err[256], path[96];
	uint64_t when;

	(void)state;
	chmod(k1, 0644);
	assert_int_equal(sign_text(k1, "x", 1, 1700000000, sig, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mode 0600"));
	chmod(k1, 0600);
	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "# nobody\n", 0644);
	assert_int_equal(sign_text(k1, "x", 1, 1700000000, sig, err, sizeof(err)), 0);
	assert_int_equal(sign_verify(path, "x", 1, sig, strlen(sig), &when, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "lists no trusted key"));
	write_file(path, "not-a-key\n", 0644);
	assert_int_equal(sign_verify(path, "x", 1, sig, strlen(sig), &when, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a base64 Ed25519 public key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_verify),
		cmocka_unit_test(test_bad_keys),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
