/* test_uapi.c — parsing set requests as `wg setconf` / `wg set` send them. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "uapi.h"

#define K1 "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define K2 "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376"
#define K3 "662e14fd594556f522604703340351258903b64f35553763f19426ab2a515c58"

static int parse(const char *s, struct uapi_set *out)
{
	size_t used = 0;
	int r = uapi_parse_set(s, strlen(s), out, &used);

	if (r == 0)
		assert_int_equal(used, strlen(s));
	return r;
}

static void test_setconf(void **state)
{
	const char *req = "private_key=" K1 "\n"
			  "listen_port=51820\n"
			  "fwmark=0\n"
			  "replace_peers=true\n"
			  "public_key=" K2 "\n"
			  "preshared_key=" K3 "\n"
			  "endpoint=198.51.100.1:51820\n"
			  "persistent_keepalive_interval=25\n"
			  "replace_allowed_ips=true\n"
			  "allowed_ip=100.64.0.2/32\n"
			  "allowed_ip=fd7a:115c:a1e0::2/128\n"
			  "protocol_version=1\n"
			  "public_key=" K3 "\n"
			  "endpoint=[2001:db8::1]:41641\n"
			  "allowed_ip=-10.0.0.0/8\n"
			  "public_key=" K1 "\n"
			  "remove=true\n"
			  "\n";
	struct uapi_set s;
	char ep[64], hex[65];

	(void)state;
	assert_int_equal(parse(req, &s), 0);
	assert_true(s.has_private_key && s.has_listen_port && s.has_fwmark && s.replace_peers);
	assert_int_equal(s.listen_port, 51820);
	uapi_hex(hex, s.private_key);
	assert_string_equal(hex, K1);
	assert_int_equal(s.npeers, 3);
	assert_true(s.peers[0].has_psk && s.peers[0].replace_allowed_ips);
	assert_int_equal(s.peers[0].keepalive, 25);
	assert_int_equal(s.peers[0].nallowed_ips, 2);
	assert_int_equal(s.peers[0].allowed_ips[1].family, AF_INET6);
	assert_int_equal(s.peers[0].allowed_ips[1].cidr, 128);
	uapi_format_endpoint(ep, sizeof(ep), &s.peers[0].endpoint);
	assert_string_equal(ep, "198.51.100.1:51820");
	uapi_format_endpoint(ep, sizeof(ep), &s.peers[1].endpoint);
	assert_string_equal(ep, "[2001:db8::1]:41641");
	assert_true(s.peers[1].allowed_ips[0].remove);
	assert_true(s.peers[2].remove);
	uapi_set_free(&s);
}

static void test_bad_requests(void **state)
{
	static const struct { const char *req; int err; } bad[] = {
		{ "private_key=" K1 "\nlisten_port=70000\n\n", -EINVAL },
		{ "private_key=E84B5A6D2717C1003A13B431570353DBACA9146CF150C5F8575680FEBA52027A\n\n", -EINVAL },
		{ "listen_port=05\n\n", -EINVAL },
		{ "public_key=" K2 "\nendpoint=198.51.100.1\n\n", -EINVAL },
		{ "public_key=" K2 "\nendpoint=[::1:51820\n\n", -EINVAL },
		{ "public_key=" K2 "\nallowed_ip=10.0.0.0/33\n\n", -EINVAL },
		{ "public_key=" K2 "\nallowed_ip=10.0.0.0\n\n", -EINVAL },
		{ "public_key=" K2 "\nprotocol_version=2\n\n", -EPROTO },
		{ "public_key=" K2 "\nremove=yes\n\n", -EINVAL },
		{ "public_key=" K2 "\nbogus=1\n\n", -EINVAL },
		{ "bogus=1\n\n", -EPROTO },
		{ "listen_port\n\n", -EPROTO },
		{ "listen_port=1", -EPROTO },  /* no newline */
		{ "public_key=abc\n\n", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct uapi_set s;
		int r = parse(bad[i].req, &s);

		if (r != bad[i].err)
			fail_msg("request %zu: got %d, want %d (%s)", i, r, bad[i].err, s.error);
		assert_true(s.error[0] != '\0');
		assert_null(strstr(s.error, "E84B")); /* never echo key material */
		uapi_set_free(&s);
	}
}

static void test_stops_at_empty_line(void **state)
{
	const char *two = "listen_port=1\n\nget=1\n\n";
	struct uapi_set s;
	size_t used;

	(void)state;
	assert_int_equal(uapi_parse_set(two, strlen(two), &s, &used), 0);
	assert_int_equal(used, strlen("listen_port=1\n\n"));
	uapi_set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setconf),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_stops_at_empty_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
