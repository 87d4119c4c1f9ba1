/* test_nmapxml.c — the nmap XML parser on fixtures recorded from real nmap
 * runs in network namespaces (fixtures/record.sh), fed whole and one byte
 * at a time, and on hostile or broken documents. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/nmapxml.h"
#include "file.h"

static const char *fixture_dir(void)
{
	const char *d = getenv("AUDIT_FIXTURES");

	return d ? d : "tests/unit/audit/fixtures";
}

static struct nmap_result *parse_fixture(const char *name)
{
	struct nmap_result *r = NULL;
	char path[512], *text;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir(), name);
	assert_int_equal(file_read(path, &text, &len), 0);
	assert_int_equal(nmapxml_parse(text, len, &r), 0);
	free(text);
	return r;
}

static const struct nmap_port *tcp(const struct nmap_result *r, unsigned port)
{
	return nmap_port(r, NMAP_TCP, port);
}

static void assert_port(const struct nmap_result *r, int proto, unsigned port,
			enum nmap_state st, const char *reason)
{
	const struct nmap_port *p = nmap_port(r, proto, port);

	assert_string_equal(nmap_state_name(p->state), nmap_state_name(st));
	assert_string_equal(nmap_reason(r, p), reason);
}

/* 65,532 filtered ports collapsed into one <extraports>, three open. */
static void test_all_ports_policy(void **state)
{
	struct nmap_result *r = parse_fixture("syn-all-policy.xml");

	(void)state;
	assert_string_equal(r->version, "7.93");
	assert_string_equal(r->scan_type[NMAP_TCP], "syn");
	assert_int_equal(r->host, NMAP_HOST_UP);
	assert_string_equal(r->host_reason, "arp-response");
	assert_string_equal(r->host_addr, "198.51.100.1");
	assert_int_equal(r->nseen[NMAP_TCP], 65535);
	assert_int_equal(r->nseen[NMAP_UDP], 0);
	assert_port(r, NMAP_TCP, 25, NMAP_OPEN, "syn-ack");
	assert_int_equal(tcp(r, 25)->ttl, 64);
	assert_port(r, NMAP_TCP, 22, NMAP_FILTERED, "no-response");
	assert_port(r, NMAP_TCP, 1, NMAP_FILTERED, "no-response");
	assert_port(r, NMAP_TCP, 65535, NMAP_FILTERED, "no-response");
	assert_int_equal(tcp(r, 0)->state, NMAP_UNSEEN);
	assert_true(r->finished);
	assert_false(r->exit_error);
	assert_int_equal(r->hosts_up, 1);
	assert_true(r->elapsed > 0);
	nmap_result_free(r);
}

static void test_closed_extraports(void **state)
{
	struct nmap_result *r = parse_fixture("syn-nofw.xml");
	size_t open = 0, closed = 0;

	(void)state;
	for (unsigned p = 1; p <= 1000; p++) {
		open += tcp(r, p)->state == NMAP_OPEN;
		closed += tcp(r, p)->state == NMAP_CLOSED;
	}
	assert_int_equal(open, 4); /* 22 25 80 443 */
	assert_int_equal(closed, 996);
	assert_port(r, NMAP_TCP, 5432, NMAP_OPEN, "syn-ack");
	assert_port(r, NMAP_TCP, 21, NMAP_CLOSED, "reset");
	assert_int_equal(r->nseen[NMAP_TCP], 1001);
	nmap_result_free(r);
}

static void test_tcp_and_udp(void **state)
{
	struct nmap_result *r = parse_fixture("syn-udp.xml");

	(void)state;
	assert_string_equal(r->scan_type[NMAP_UDP], "udp");
	assert_port(r, NMAP_TCP, 22, NMAP_FILTERED, "no-response");
	assert_port(r, NMAP_TCP, 25, NMAP_OPEN, "syn-ack");
	assert_port(r, NMAP_UDP, 53, NMAP_OPEN_FILTERED, "no-response");
	assert_port(r, NMAP_UDP, 9999, NMAP_OPEN, "udp-response");
	assert_port(r, NMAP_UDP, 51820, NMAP_CLOSED, "port-unreach");
	assert_int_equal(r->nseen[NMAP_UDP], 3);
	nmap_result_free(r);
}

static void test_rejects(void **state)
{
	struct nmap_result *r = parse_fixture("syn-reject.xml");

	(void)state;
	assert_port(r, NMAP_TCP, 80, NMAP_FILTERED, "admin-prohibited");
	assert_port(r, NMAP_TCP, 443, NMAP_CLOSED, "reset");
	nmap_result_free(r);
}

static void test_connect_v6(void **state)
{
	struct nmap_result *r = parse_fixture("connect-v6.xml");

	(void)state;
	assert_string_equal(r->scan_type[NMAP_TCP], "connect");
	assert_string_equal(r->host_addr, "2001:db8:1::1");
	assert_port(r, NMAP_TCP, 22, NMAP_OPEN, "syn-ack");
	assert_port(r, NMAP_TCP, 23, NMAP_CLOSED, "conn-refused");
	assert_int_equal(r->nseen[NMAP_TCP], 13);
	nmap_result_free(r);
}

static void test_unreachable_and_noroute(void **state)
{
	struct nmap_result *r = parse_fixture("unreachable.xml");

	(void)state;
	assert_int_equal(r->host, NMAP_HOST_NONE);
	assert_int_equal(r->hosts_down, 1);
	assert_int_equal(r->nseen[NMAP_TCP], 0);
	nmap_result_free(r);
	r = parse_fixture("noroute.xml");
	assert_int_equal(r->host, NMAP_HOST_NONE);
	assert_int_equal(r->hosts_total, 0);
	assert_string_equal(r->errmsg, "target 203.0.113.9 skipped: invalid");
	nmap_result_free(r);
}

static void test_discovery(void **state)
{
	struct nmap_result *r = parse_fixture("discovery-up.xml");

	(void)state;
	assert_int_equal(r->host, NMAP_HOST_UP);
	assert_string_equal(r->host_reason, "arp-response");
	nmap_result_free(r);
}

static bool same(const struct nmap_result *a, const struct nmap_result *b)
{
	struct nmap_result x = *a, y = *b;

	for (int i = 0; i < NMAP_NPROTO; i++) {
		if (!a->ports[i] != !b->ports[i] ||
		    (a->ports[i] && memcmp(a->ports[i], b->ports[i], 65536 * sizeof(*a->ports[i]))))
			return false;
		x.ports[i] = y.ports[i] = NULL;
	}
	return !memcmp(&x, &y, sizeof(x));
}

/* Fed one byte at a time, the parser builds the same result. */
static void test_streaming_equals_whole(void **state)
{
	static const char *const names[] = { "syn-all-policy.xml", "syn-udp.xml", "connect-v6.xml" };

	(void)state;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		struct nmap_result *whole = parse_fixture(names[k]), *stream = NULL;
		struct nmapxml *x = nmapxml_new();
		char path[512], *text;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", fixture_dir(), names[k]);
		assert_int_equal(file_read(path, &text, &len), 0);
		for (size_t i = 0; i < len; i++)
			assert_int_equal(nmapxml_feed(x, text + i, 1), 0);
		assert_int_equal(nmapxml_finish(x, &stream), 0);
		assert_true(same(whole, stream));
		nmapxml_free(x);
		nmap_result_free(stream);
		nmap_result_free(whole);
		free(text);
	}
}

static int parse_str(const char *s, struct nmap_result **r)
{
	*r = NULL;
	return nmapxml_parse(s, strlen(s), r);
}

#define HOST_OPEN "<host><status state=\"up\" reason=\"user-set\"/><ports>"
#define HOST_CLOSE "</ports></host>"

static void test_broken_documents(void **state)
{
	struct nmap_result *r;

	(void)state;
	/* truncated: nmap killed mid-run */
	assert_int_equal(parse_str("<nmaprun><host><ports><port protocol=\"tcp\"", &r), -EBADMSG);
	assert_null(r);
	assert_int_equal(parse_str("", &r), -EBADMSG);
	assert_int_equal(parse_str("<nmaprun></nmaprun><nmaprun/>", &r), -EBADMSG);
	assert_int_equal(parse_str("not xml at all", &r), -EBADMSG);
	/* an entity declaration is refused before any expansion */
	assert_int_equal(parse_str("<?xml version=\"1.0\"?><!DOCTYPE n [<!ENTITY a \"aaaa\">"
				   "<!ENTITY b \"&a;&a;&a;&a;\">]><nmaprun>&b;</nmaprun>", &r),
			 -EBADMSG);
	assert_int_equal(parse_str("<!DOCTYPE n [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
				   "<nmaprun>&x;</nmaprun>", &r), -EBADMSG);
	/* the DOCTYPE nmap itself writes is fine */
	assert_int_equal(parse_str("<?xml version=\"1.0\"?><!DOCTYPE nmaprun><nmaprun/>", &r), 0);
	assert_int_equal(r->host, NMAP_HOST_NONE);
	nmap_result_free(r);
}

static void test_hostile_values(void **state)
{
	struct nmap_result *r;

	(void)state;
	assert_int_equal(parse_str("<nmaprun>" HOST_OPEN
				   "<port protocol=\"tcp\" portid=\"65536\"><state state=\"open\"/></port>"
				   "<port protocol=\"tcp\" portid=\"-1\"><state state=\"open\"/></port>"
				   "<port protocol=\"tcp\" portid=\"22x\"><state state=\"open\"/></port>"
				   "<port protocol=\"sctp\" portid=\"22\"><state state=\"open\"/></port>"
				   "<port protocol=\"tcp\" portid=\"23\"><state state=\"weird\"/></port>"
				   "<port protocol=\"tcp\" portid=\"24\"><state state=\"open\" "
				   "reason_ttl=\"999\" reason=\"a-reason-far-longer-than-the-table-keeps\"/></port>"
				   "<extraports state=\"closed\"><extrareasons reason=\"reset\" proto=\"tcp\" "
				   "ports=\"100-90,70000,1-3\"/></extraports>"
				   "<extraports state=\"filtered\"><extrareasons reason=\"no-response\" "
				   "proto=\"tcp\" ports=\"1-3,\"/></extraports>"
				   HOST_CLOSE "</nmaprun>", &r), 0);
	assert_int_equal(r->nseen[NMAP_TCP], 1 + 3);
	assert_int_equal(tcp(r, 22)->state, NMAP_UNSEEN);
	assert_int_equal(tcp(r, 23)->state, NMAP_UNSEEN);
	assert_int_equal(tcp(r, 24)->state, NMAP_OPEN);
	assert_int_equal(tcp(r, 24)->ttl, 0);
	assert_string_equal(nmap_reason(r, tcp(r, 24)), "");
	/* a bad range stops that list; a later list still counts */
	assert_int_equal(tcp(r, 100)->state, NMAP_UNSEEN);
	assert_int_equal(tcp(r, 1)->state, NMAP_FILTERED);
	nmap_result_free(r);
}

/* A document that lists ports over and over (each "1-65535" item would be
 * 65,535 writes) is refused once it names more port states than a port
 * space has, per protocol; a full real report of both protocols is fine. */
static void test_port_budget(void **state)
{
	static const char extra[] = "<extraports state=\"filtered\"><extrareasons "
				    "reason=\"no-response\" proto=\"%s\" ports=\"%s\"/></extraports>";
	size_t items = 20000, len = items * 8 + 512, off;
	struct nmap_result *r;
	char *doc = malloc(len), *list = malloc(items * 8 + 1);

	(void)state;
	assert_non_null(doc);
	assert_non_null(list);
	/* every tcp and every udp port once, plus port 0 of each: the limit exactly */
	off = (size_t)snprintf(doc, len, "<nmaprun>" HOST_OPEN);
	off += (size_t)snprintf(doc + off, len - off, extra, "tcp", "1-65535");
	off += (size_t)snprintf(doc + off, len - off, extra, "udp", "1-65535");
	off += (size_t)snprintf(doc + off, len - off, "<port protocol=\"tcp\" portid=\"0\">"
				"<state state=\"closed\"/></port>");
	snprintf(doc + off, len - off, HOST_CLOSE "</nmaprun>");
	assert_int_equal(parse_str(doc, &r), 0);
	assert_int_equal(r->nseen[NMAP_TCP], 65536);
	assert_int_equal(r->nseen[NMAP_UDP], 65535);
	nmap_result_free(r);
	/* one port state more is refused */
	snprintf(doc + off, len - off, "<port protocol=\"tcp\" portid=\"1\"><state state=\"open\"/>"
		 "</port>" HOST_CLOSE "</nmaprun>");
	assert_int_equal(parse_str(doc, &r), -E2BIG);
	assert_null(r);
	/* 20,000 "1-65535" items: refused at the second, not 1.3e9 writes later */
	off = 0;
	for (size_t i = 0; i < items; i++)
		off += (size_t)snprintf(list + off, items * 8 + 1 - off, "%s1-65535", i ? "," : "");
	off = (size_t)snprintf(doc, len, "<nmaprun>" HOST_OPEN);
	off += (size_t)snprintf(doc + off, len - off, extra, "tcp", list);
	snprintf(doc + off, len - off, HOST_CLOSE "</nmaprun>");
	assert_int_equal(parse_str(doc, &r), -E2BIG);
	free(list);
	free(doc);
}

/* Only the first <host> counts; <hosthint> is not a host; a <port> outside
 * <host><ports> is ignored; more reasons than the table holds become "". */
static void test_structure(void **state)
{
	struct nmap_result *r;
	char doc[8192];
	size_t off;

	(void)state;
	assert_int_equal(parse_str("<nmaprun><hosthint><status state=\"down\" reason=\"x\"/>"
				   "<address addr=\"192.0.2.9\" addrtype=\"ipv4\"/></hosthint>"
				   "<ports><port protocol=\"tcp\" portid=\"7\"><state state=\"open\"/></port></ports>"
				   "<host><status state=\"up\" reason=\"arp-response\"/>"
				   "<address addr=\"192.0.2.1\" addrtype=\"ipv4\"/><ports>"
				   "<port protocol=\"tcp\" portid=\"1\"><state state=\"open\"/></port>"
				   "</ports></host><host><status state=\"down\"/><ports>"
				   "<port protocol=\"tcp\" portid=\"2\"><state state=\"open\"/></port>"
				   "</ports></host></nmaprun>", &r), 0);
	assert_int_equal(r->host, NMAP_HOST_UP);
	assert_string_equal(r->host_addr, "192.0.2.1");
	assert_int_equal(tcp(r, 1)->state, NMAP_OPEN);
	assert_int_equal(tcp(r, 2)->state, NMAP_UNSEEN);
	assert_int_equal(tcp(r, 7)->state, NMAP_UNSEEN);
	nmap_result_free(r);

	off = (size_t)snprintf(doc, sizeof(doc), "<nmaprun>" HOST_OPEN);
	for (int i = 1; i <= 40; i++)
		off += (size_t)snprintf(doc + off, sizeof(doc) - off, "<port protocol=\"udp\" "
					"portid=\"%d\"><state state=\"closed\" reason=\"r%d\"/></port>", i, i);
	snprintf(doc + off, sizeof(doc) - off, HOST_CLOSE "</nmaprun>");
	assert_int_equal(parse_str(doc, &r), 0);
	assert_int_equal(r->nreasons, NMAPXML_REASONS);
	assert_string_equal(nmap_reason(r, nmap_port(r, NMAP_UDP, 1)), "r1");
	assert_string_equal(nmap_reason(r, nmap_port(r, NMAP_UDP, 40)), "");
	nmap_result_free(r);
}

static void test_deep_nesting(void **state)
{
	struct nmap_result *r;
	char doc[4096];
	size_t off = 0;

	(void)state;
	for (int i = 0; i < 100; i++)
		off += (size_t)snprintf(doc + off, sizeof(doc) - off, "<nmaprun>");
	for (int i = 0; i < 100; i++)
		off += (size_t)snprintf(doc + off, sizeof(doc) - off, "</nmaprun>");
	assert_int_equal(parse_str(doc, &r), 0);
	assert_string_equal(r->version, "");
	nmap_result_free(r);
}

static void test_error_run(void **state)
{
	struct nmap_result *r;

	(void)state;
	assert_int_equal(parse_str("<nmaprun version=\"7.93\"><runstats><finished exit=\"error\" "
				   "errormsg=\"Failed to open device n9\" elapsed=\"nan\"/>"
				   "<hosts up=\"0\" down=\"0\" total=\"99999999999\"/></runstats></nmaprun>",
				   &r), 0);
	assert_true(r->exit_error);
	assert_string_equal(r->errmsg, "Failed to open device n9");
	assert_true(r->elapsed == 0);
	assert_int_equal(r->hosts_total, 0);
	nmap_result_free(r);
}

static void test_state_names(void **state)
{
	(void)state;
	for (int s = NMAP_OPEN; s <= NMAP_CLOSED_FILTERED; s++)
		assert_int_equal(nmap_state_parse(nmap_state_name(s)), s);
	assert_int_equal(nmap_state_parse("Open"), -EINVAL);
	assert_int_equal(nmap_state_parse(""), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_ports_policy),
		cmocka_unit_test(test_closed_extraports),
		cmocka_unit_test(test_tcp_and_udp),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_connect_v6),
		cmocka_unit_test(test_unreachable_and_noroute),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_streaming_equals_whole),
		cmocka_unit_test(test_broken_documents),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_port_budget),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_error_run),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
