/* test_parse.c — the policy parser: positions, pointers, every error at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hujson.h"
#include "policy.h"

#define K1 "MxIkEm1ydSRsjVCZVX/+uvCWG4U0aNnlhlRHTlfJpSo="
#define K2 "KryCMHzRUVKEvAnK6j1Si0CexiNcCOLzUzmFu+95hgc="
#define K3 "HkP4bubn0lBh1olfnLLnSU8bqbaMHdF+MABrmrezmwo="

static struct policy *load(const char *text, struct diags *d)
{
	struct policy_opts o = { .now = 1764000000 }; /* 2025-11-24 */

	diags_init(d);
	return policy_load(text, strlen(text), &o, d);
}

/* The formatted line of the first record whose message contains needle. */
static const char *find(const struct diags *d, const char *needle, char *buf, size_t len)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, needle)) {
			diag_format(&d->v[i], "p.json", buf, len);
			return buf;
		}
	return NULL;
}

static void dump(const struct diags *d)
{
	char buf[512];

	for (size_t i = 0; i < d->n; i++) {
		diag_format(&d->v[i], "p.json", buf, sizeof(buf));
		print_message("  %s\n", buf);
	}
}

#define MINIMAL_HEAD                                                                    \
	"{\n"                                                                           \
	"  \"version\": 1,\n"                                                           \
	"  \"network\": { \"ipv4\": \"100.64.0.0/24\" },\n"                            \
	"  \"nodes\": {\n"                                                              \
	"    \"web1\": { \"key\": \"" K1 "\", \"ips\": [\"100.64.0.1\"], \"tags\": [\"server\"] },\n" \
	"    \"alice\": { \"key\": \"" K2 "\", \"ips\": [\"100.64.0.2\"] }\n"           \
	"  }"

static void test_minimal_ok(void **state)
{
	struct diags d;
	struct policy *p = load(MINIMAL_HEAD "\n}\n", &d);

	(void)state;
	dump(&d);
	assert_non_null(p);
	assert_int_equal(d.nerr, 0);
	assert_int_equal(p->nnodes, 2);
	assert_string_equal(p->net.interface, "pd0");
	assert_int_equal(p->net.port, 51820);
	assert_int_equal(p->suspicion.denied_ports, 10);
	assert_int_equal(p->suspicion.ban, 3600);
	policy_free(p);
	diags_free(&d);
}

static void test_comments_and_trailing_commas(void **state)
{
	const char *text = "// a policy\n{ /* block\n comment */ \"version\": 1, // v\n"
			   "\"network\": { \"ipv4\": \"100.64.0.0/24\", },\n"
			   "\"nodes\": { \"a\": { \"key\": \"" K1 "\", \"ips\": [\"100.64.0.1\",], }, },\n"
			   "\"services\": { \"x\": [\"tcp:1\"] }, }\n";
	struct diags d;
	struct policy *p = load(text, &d);

	(void)state;
	dump(&d);
	assert_non_null(p);
	policy_free(p);
	diags_free(&d);
}

static void test_strip_keeps_offsets(void **state)
{
	char text[] = "{\"a\": \"x // not a comment\", /* c\n */ \"b\": [1,2,],}";
	size_t len = strlen(text), off = 0;

	(void)state;
	assert_int_equal(hujson_strip(text, len, &off), 0);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "\"x // not a comment\""));
	assert_null(strstr(text, "/*"));
	assert_non_null(strchr(text, '\n')); /* line structure kept */
	assert_non_null(strstr(text, "[1,2 ]"));
}

static void test_strip_keeps_bad_commas(void **state)
{
	char a[] = "{,}", b[] = "[1,,]", c[] = "{\"a\":,}";
	size_t off;

	(void)state;
	assert_int_equal(hujson_strip(a, 3, &off), 0);
	assert_string_equal(a, "{,}");
	assert_int_equal(hujson_strip(b, 5, &off), 0);
	assert_string_equal(b, "[1,,]");
	assert_int_equal(hujson_strip(c, strlen(c), &off), 0);
	assert_string_equal(c, "{\"a\":,}");
}

static void test_unterminated_comment(void **state)
{
	struct diags d;
	struct policy *p = load("{ \"version\": 1 /* oops\n", &d);
	char buf[256];

	(void)state;
	assert_null(p);
	assert_non_null(find(&d, "unterminated comment", buf, sizeof(buf)));
	assert_string_equal(buf, "p.json:1:16: unterminated comment");
	diags_free(&d);
}

static void test_syntax_error_position(void **state)
{
	struct diags d;
	struct policy *p = load("{\n  \"version\": 1,\n  \"network\": {,}\n}", &d);

	(void)state;
	assert_null(p);
	assert_int_equal(d.nerr, 1);
	assert_int_equal(d.v[0].line, 3);
	assert_true(d.v[0].col >= 14);
	diags_free(&d);
}

/* The example from POLICY.md: an out-of-range port, with its pointer and column. */
static void test_port_out_of_range(void **state)
{
	const char *text = MINIMAL_HEAD ",\n"
			   "  \"acls\": [\n"
			   "    { \"id\": \"a\", \"src\": [\"alice\"], \"dst\": [\"web1\"], \"ports\": [\"tcp:22\"] },\n"
			   "    { \"id\": \"b\", \"src\": [\"*\"], \"dst\": [\"*\"], \"ports\": [\"tcp:70000\"] }\n"
			   "  ]\n}\n";
	struct diags d;
	struct policy *p = load(text, &d);
	char buf[256];

	(void)state;
	assert_null(p);
	assert_non_null(find(&d, "70000", buf, sizeof(buf)));
	assert_string_equal(buf, "p.json:10:56: /acls/1/ports/0: port 70000 out of range 1-65535");
	diags_free(&d);
}

static void test_all_errors_reported(void **state)
{
	const char *text = "{\n"
			   "  \"version\": 2,\n"
			   "  \"netwrok\": {},\n"
			   "  \"network\": { \"ipv4\": \"100.64.0.1/24\", \"port\": 0 },\n"
			   "  \"nodes\": {\n"
			   "    \"Web\": { \"key\": \"" K1 "\", \"ips\": [\"100.64.0.1\"] },\n"
			   "    \"b\": { \"key\": \"short\", \"ips\": [\"10.0.0.1\"] },\n"
			   "    \"c\": { \"key\": \"" K2 "\", \"ips\": [] , \"extra\": 1}\n"
			   "  },\n"
			   "  \"acls\": [ { \"id\": \"x\", \"src\": [\"nobody\"], \"dst\": [\"host:nope\"],"
			   " \"ports\": [\"tcp:30-20\", \"sctp:1\", \"svc\"] } ]\n"
			   "}\n";
	static const char *const expect[] = {
		"p.json:2:14: /version: 2 out of range 1-1",
		"p.json:3:3: /netwrok: unknown key \"netwrok\"",
		"p.json:4:24: /network/ipv4: \"100.64.0.1/24\" has host bits set",
		"p.json:4:49: /network/port: 0 out of range 1-65535",
		"p.json:6:5: /nodes/Web: bad node name \"Web\"",
		"p.json:7:19: /nodes/b/key: bad key \"short\"",
		"/nodes/b/ips/0: \"10.0.0.1\" needs network.ipv4",
		"/nodes/c/ips: a node needs at least one VPN address",
		"/nodes/c/extra: unknown key \"extra\"",
		"/acls/0/src/0: unknown node \"nobody\"",
		"/acls/0/dst/0: unknown host \"nope\"",
		"/acls/0/ports/0: port range 30-20 is reversed",
		"/acls/0/ports/1: unknown protocol in \"sctp:1\"",
		"/acls/0/ports/2: unknown service \"svc\"",
	};
	struct diags d;
	struct policy *p = load(text, &d);
	char buf[512];

	(void)state;
	dump(&d);
	assert_null(p);
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		bool found = false;

		for (size_t k = 0; k < d.n && !found; k++) {
			diag_format(&d.v[k], "p.json", buf, sizeof(buf));
			found = strstr(buf, expect[i]) != NULL;
		}
		if (!found)
			fail_msg("missing: %s", expect[i]);
	}
	diags_free(&d);
}

static void test_duplicate_keys(void **state)
{
	const char *text = MINIMAL_HEAD ",\n"
			   "  \"services\": { \"ssh\": [\"tcp:22\"], \"ssh\": [\"tcp:2222\"] }\n}\n";
	struct diags d;
	struct policy *p = load(text, &d);
	char buf[256];

	(void)state;
	assert_null(p);
	assert_non_null(find(&d, "duplicate key", buf, sizeof(buf)));
	/* points at the second occurrence */
	assert_string_equal(buf, "p.json:8:36: /services/ssh: duplicate key \"ssh\"");
	diags_free(&d);
}

static void test_duplicate_keys_and_addresses(void **state)
{
	const char *text = "{ \"version\": 1, \"network\": { \"ipv4\": \"100.64.0.0/24\" },\n"
			   "  \"nodes\": {\n"
			   "    \"a\": { \"key\": \"" K1 "\", \"ips\": [\"100.64.0.1\"] },\n"
			   "    \"b\": { \"key\": \"" K1 "\", \"ips\": [\"100.64.0.1\"] }\n"
			   "  } }\n";
	struct diags d;
	struct policy *p = load(text, &d);
	char buf[256];

	(void)state;
	assert_null(p);
	assert_non_null(find(&d, "key is already used", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "/nodes/b/key"));
	assert_non_null(find(&d, "overlaps", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "/nodes/b/ips/0"));
	diags_free(&d);
}

/* found by the fuzzer: a repeated member was parsed twice into one array */
static void test_repeated_member(void **state)
{
	const char *text = MINIMAL_HEAD ",\n"
			   "  \"acls\": [ { \"id\": \"a\", \"src\": [\"alice\"], \"src\": [\"alice\", \"web1\", \"*\"],"
			   " \"dst\": [\"web1\"], \"ports\": [\"tcp:22\"] } ]\n}\n";
	struct diags d;
	struct policy *p = load(text, &d);
	char buf[256];

	(void)state;
	assert_null(p);
	assert_non_null(find(&d, "duplicate key \"src\"", buf, sizeof(buf)));
	diags_free(&d);
}

/* found by the fuzzer: control bytes, which cJSON takes for white space */
static void test_control_bytes(void **state)
{
	static const char text[] = "{ \"version\": 1,\x17 \"network\": {} }";
	static const char nul[] = "{ \"ver\0sion\": 1 }";
	struct policy_opts o = { .now = 1764000000 };
	struct diags d;
	char buf[256];

	(void)state;
	diags_init(&d);
	assert_null(policy_load(text, sizeof(text) - 1, &o, &d));
	assert_non_null(find(&d, "control character 0x17", buf, sizeof(buf)));
	assert_string_equal(buf, "p.json:1:16: control character 0x17 (not allowed in JSON)");
	diags_free(&d);
	diags_init(&d);
	assert_null(policy_load(nul, sizeof(nul) - 1, &o, &d));
	assert_non_null(find(&d, "control character 0x00", buf, sizeof(buf)));
	diags_free(&d);
}

static void test_group_cycle(void **state)
{
	const char *text = MINIMAL_HEAD ",\n"
			   "  \"groups\": { \"a\": [\"group:b\"], \"b\": [\"group:c\", \"web1\"], \"c\": [\"group:a\"] }\n}\n";
	struct diags d;
	struct policy *p = load(text, &d);
	char buf[256];

	(void)state;
	assert_null(p);
	assert_non_null(find(&d, "group cycle", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "a -> b -> c -> a"));
	diags_free(&d);
}

static void test_warnings_do_not_fail(void **state)
{
	const char *text = MINIMAL_HEAD ",\n"
			   "  \"acls\": [ { \"id\": \"old\", \"src\": [\"tag:nobody\"], \"dst\": [\"web1\"],"
			   " \"ports\": [\"tcp:22\"], \"expires\": \"2020-01-01T00:00:00Z\" } ]\n}\n";
	struct diags d;
	struct policy *p = load(text, &d);
	char buf[256];

	(void)state;
	assert_non_null(p);
	assert_int_equal(d.nerr, 0);
	assert_int_equal(d.nwarn, 2);
	assert_non_null(find(&d, "matches no node", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "warning: "));
	assert_non_null(find(&d, "expired", buf, sizeof(buf)));
	policy_free(p);
	diags_free(&d);
}

static void test_selector_places(void **state)
{
	const char *text = MINIMAL_HEAD ",\n"
			   "  \"hosts\": { \"office\": \"203.0.113.0/24\" },\n"
			   "  \"expose\": [ { \"on\": [\"host:office\"], \"ports\": [\"tcp:80\"], \"from\": [\"alice\"] } ]\n}\n";
	struct diags d;
	struct policy *p = load(text, &d);
	char buf[256];

	(void)state;
	assert_null(p);
	assert_non_null(find(&d, "\"host:office\" cannot be used here", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "/expose/0/on/0"));
	assert_non_null(find(&d, "\"alice\" cannot be used here", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "/expose/0/from/0"));
	diags_free(&d);
}

static void test_ports_merge(void **state)
{
	const char *text = MINIMAL_HEAD ",\n"
			   "  \"services\": { \"web\": [\"tcp:80,443\", \"tcp:81-90\"] },\n"
			   "  \"acls\": [ { \"id\": \"a\", \"src\": [\"*\"], \"dst\": [\"*\"], \"ports\": [\"web\", \"tcp:91\", \"udp:*\", \"icmp\"] } ]\n}\n";
	struct diags d;
	struct policy *p = load(text, &d);
	const struct portset *ps;

	(void)state;
	dump(&d);
	assert_non_null(p);
	ps = &p->acls[0].ports;
	assert_int_equal(ps->tcp.n, 2);
	assert_int_equal(ps->tcp.v[0].lo, 80);
	assert_int_equal(ps->tcp.v[0].hi, 91);
	assert_int_equal(ps->tcp.v[1].lo, 443);
	assert_int_equal(ps->udp.n, 1);
	assert_int_equal(ps->udp.v[0].hi, 65535);
	assert_true(ps->icmp);
	assert_false(ps->all);
	assert_true(portset_allows(ps, 6, 85));
	assert_false(portset_allows(ps, 6, 92));
	policy_free(p);
	diags_free(&d);
}

static void test_strict_numbers(void **state)
{
	const char *text = MINIMAL_HEAD ",\n"
			   "  \"acls\": [ { \"id\": \"a\", \"src\": [\"*\"], \"dst\": [\"*\"], \"ports\": [\"tcp:022\", \"tcp:22\\n\"] } ],\n"
			   "  \"tests\": [ { \"src\": \"alice\", \"accept\": [\"web1:022\", \"web1:+22\"] } ]\n}\n";
	const char *ep = "{ \"version\": 1, \"network\": { \"ipv4\": \"100.64.0.0/24\" }, \"nodes\": {"
			 " \"a\": { \"key\": \"" K1 "\", \"ips\": [\"100.64.0.0/30\"], \"endpoint\": \"h: 22\" } } }";
	struct diags d;
	char buf[256];

	(void)state;
	assert_null(load(text, &d));
	assert_int_equal(d.nerr, 4);
	assert_non_null(find(&d, "\"tcp:22\\n\"", buf, sizeof(buf))); /* quoted, escaped */
	assert_null(strchr(buf, '\n'));
	diags_free(&d);
	assert_null(load(ep, &d));
	assert_non_null(find(&d, "is a network", buf, sizeof(buf)));
	assert_non_null(find(&d, "bad endpoint", buf, sizeof(buf)));
	diags_free(&d);
}

static void test_durations_and_times(void **state)
{
	uint32_t s;
	int64_t t;

	(void)state;
	assert_int_equal(duration_parse("30s", &s), 0);
	assert_int_equal(s, 30);
	assert_int_equal(duration_parse("7d", &s), 0);
	assert_int_equal(s, 7 * 86400);
	assert_int_not_equal(duration_parse("0s", &s), 0);
	assert_int_not_equal(duration_parse("10x", &s), 0);
	assert_int_not_equal(duration_parse("1h30m", &s), 0);
	assert_int_not_equal(duration_parse("99999999d", &s), 0);
	assert_int_equal(rfc3339_parse("2027-01-31T00:00:00Z", &t), 0);
	assert_int_equal(t, 1801353600);
	assert_int_equal(rfc3339_parse("2027-01-31T02:00:00+02:00", &t), 0);
	assert_int_equal(t, 1801353600);
	assert_int_not_equal(rfc3339_parse("2027-02-30T00:00:00Z", &t), 0);
	assert_int_not_equal(rfc3339_parse("2027-01-31", &t), 0);
}

static void test_breakglass_min_holders(void **state)
{
	const char *text = MINIMAL_HEAD ",\n"
			   "  \"breakglass\": { \"holders\": [\"alice\"], \"ports\": [\"tcp:22\"], \"minHolders\": 2 }\n}\n";
	struct diags d;
	struct policy *p = load(text, &d);
	char buf[256];

	(void)state;
	assert_null(p);
	assert_non_null(find(&d, "minHolders is 2", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "/breakglass/minHolders"));
	diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_ok),
		cmocka_unit_test(test_comments_and_trailing_commas),
		cmocka_unit_test(test_strip_keeps_offsets),
		cmocka_unit_test(test_strip_keeps_bad_commas),
		cmocka_unit_test(test_unterminated_comment),
		cmocka_unit_test(test_syntax_error_position),
		cmocka_unit_test(test_port_out_of_range),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_duplicate_keys_and_addresses),
		cmocka_unit_test(test_repeated_member),
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_group_cycle),
		cmocka_unit_test(test_warnings_do_not_fail),
		cmocka_unit_test(test_selector_places),
		cmocka_unit_test(test_ports_merge),
		cmocka_unit_test(test_strict_numbers),
		cmocka_unit_test(test_durations_and_times),
		cmocka_unit_test(test_breakglass_min_holders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
