/* test_importwg.c — wg-quick configs to a policy: hosts become nodes named
 * after their files, keys derived from the private keys (which never appear
 * in the output), endpoints and keepalives taken from the peers that dial
 * them, a peer without a config becomes a node, the mesh prefix comes from
 * Address, and what does not map is listed. Bad input names file and line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

#include <cmocka.h>

#include "importwg.h"
#include "policy.h"

static char dir[] = "/tmp/test_importwg.XXXXXX", f1[64], f2[64], f3[64];
static char priv[3][45], pub[3][45];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char buf[1024];

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < 3; i++) {
		uint8_t sk[32], pk[32];

		randombytes_buf(sk, 32);
		crypto_scalarmult_base(pk, sk);
		sodium_bin2base64(priv[i], 45, sk, 32, sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2base64(pub[i], 45, pk, 32, sodium_base64_VARIANT_ORIGINAL);
	}
	snprintf(f1, sizeof(f1), "%s/web1.conf", dir);
	snprintf(f2, sizeof(f2), "%s/Alice_Laptop.conf", dir);
	snprintf(f3, sizeof(f3), "%s/bad.conf", dir);
	snprintf(buf, sizeof(buf),
		 "[Interface]\nPrivateKey = %s\nAddress = 10.9.0.1/24\nListenPort = 51900\n"
		 "PostUp = iptables -A FORWARD\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.9.0.2/32\n"
		 "\n[Peer] # a phone\nPublicKey = %s\nAllowedIPs = 10.9.0.3/32, 192.168.7.0/24\n",
		 priv[0], pub[1], pub[2]);
	put(f1, buf);
	snprintf(buf, sizeof(buf),
		 "[Interface]\nPrivateKey = %s\nAddress = 10.9.0.2/24\n\n[Peer]\nPublicKey = %s\n"
		 "AllowedIPs = 10.9.0.0/24\nEndpoint = 198.51.100.1:51900\nPersistentKeepalive = 25\n",
		 priv[1], pub[0]);
	put(f2, buf);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(f1), unlink(f2), unlink(f3);
	return rmdir(dir);
}

static char *run(const char *const *files, size_t n, int *rc, char *err)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	*rc = importwg(files, n, f, err, 256);
	fclose(f);
	return out;
}

static void test_import(void **state)
{
	const char *files[] = { f1, f2 };
	char err[256], *out;
	struct diags d;
	struct policy *p;
	int rc;

	(void)state;
	out = run(files, 2, &rc, err);
	assert_int_equal(rc, 0);
	for (int i = 0; i < 2; i++)
		assert_null(strstr(out, priv[i]));          /* never the private keys */
	diags_init(&d);
	p = policy_load(out, strlen(out), NULL, &d);
	assert_non_null(p);
	assert_int_equal(p->nnodes, 3);
	assert_string_equal(p->nodes[0].name, "web1");
	assert_string_equal(p->nodes[1].name, "alicelaptop");
	assert_string_equal(p->nodes[2].name, "peer");
	assert_string_equal(p->nodes[0].endpoint, "198.51.100.1:51900"); /* as alice dials it */
	assert_int_equal(p->nodes[0].keepalive, 25);
	assert_int_equal(p->net.port, 51900);
	assert_true(p->net.has_v4);
	assert_int_equal(p->net.v4.len, 24);
	assert_non_null(strstr(out, pub[2]));
	assert_non_null(strstr(out, "PostUp is not imported"));
	assert_non_null(strstr(out, "routed subnet 192.168.7.0/24"));
	assert_non_null(strstr(out, "(a hub)"));
	policy_free(p);
	diags_free(&d);
	free(out);
}

static void test_bad_input(void **state)
{
	const char *files[] = { f3 };
	const char *dup[] = { f1, f1 };
	char err[256], *out;
	int rc;

	(void)state;
	put(f3, "[Interface]\nPrivateKey = nope\n");
	out = run(files, 1, &rc, err);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err, "bad.conf:2: [Interface] needs the host's PrivateKey"));
	assert_int_equal(strlen(out), 0);                   /* nothing half-written */
	free(out);
	put(f3, "[Interface]\nPrivateKey\n");
	out = run(files, 1, &rc, err);
	assert_non_null(strstr(err, "bad.conf:2: expected KEY = VALUE"));
	free(out);
	out = run(dup, 2, &rc, err);
	assert_non_null(strstr(err, "two configs hold the same private key"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_bad_input),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
