/* test_expect.c — the audit's expected states (from the policy, through
 * rules/ptest), the port lists, the comparison with what nmap saw and the
 * causes it names, and the nmap command line. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/compare.h"
#include "audit/expect.h"
#include "audit/reach.h"
#include "audit/scan.h"
#include "file.h"
#include "policy.h"

#define K1 "MxIkEm1ydSRsjVCZVX/+uvCWG4U0aNnlhlRHTlfJpSo="
#define K2 "KryCMHzRUVKEvAnK6j1Si0CexiNcCOLzUzmFu+95hgc="
#define K3 "HkP4bubn0lBh1olfnLLnSU8bqbaMHdF+MABrmrezmwo="

#define NOW 1764000000 /* 2025-11-24 */

static const char policy_text[] =
	"{ \"version\": 1,\n"
	"  \"network\": { \"ipv4\": \"100.64.0.0/24\", \"ipv6\": \"fd7a:115c:a1e0::/64\" },\n"
	"  \"nodes\": {\n"
	"    \"web1\": { \"key\": \"" K1 "\", \"ips\": [\"100.64.0.1\", \"fd7a:115c:a1e0::1\"],\n"
	"                \"endpoint\": \"198.51.100.1:51820\", \"tags\": [\"server\"] },\n"
	"    \"alice\": { \"key\": \"" K2 "\", \"ips\": [\"100.64.0.2\"] },\n"
	"    \"bob\": { \"key\": \"" K3 "\", \"ips\": [\"100.64.0.3\"] } },\n"
	"  \"hosts\": { \"office\": \"203.0.113.0/28\" },\n"
	"  \"services\": { \"ssh\": [\"tcp:22\"] },\n"
	"  \"expose\": [\n"
	"    { \"id\": \"web\", \"on\": [\"tag:server\"], \"ports\": [\"tcp:80,443\"] },\n"
	"    { \"id\": \"dns\", \"on\": [\"web1\"], \"ports\": [\"udp:53\"] },\n"
	"    { \"id\": \"office-ssh\", \"on\": [\"web1\"], \"ports\": [\"ssh\"], \"from\": [\"host:office\"] } ],\n"
	"  \"acls\": [\n"
	"    { \"id\": \"alice-ssh\", \"src\": [\"alice\"], \"dst\": [\"web1\"], \"ports\": [\"ssh\", \"tcp:5432\"] },\n"
	"    { \"id\": \"old\", \"src\": [\"bob\"], \"dst\": [\"web1\"], \"ports\": [\"tcp:8000-8002\"],\n"
	"      \"expires\": \"2025-01-01T00:00:00Z\" } ],\n"
	"  \"breakglass\": { \"holders\": [\"alice\"], \"ports\": [\"tcp:2222\"], \"minHolders\": 1 }\n"
	"}\n";

struct fx {
	struct policy *p;
	size_t web1;
};

static int setup(void **state)
{
	struct policy_opts o = { .now = NOW };
	struct fx *f = calloc(1, sizeof(*f));
	struct diags d;

	diags_init(&d);
	f->p = policy_load(policy_text, strlen(policy_text), &o, &d);
	for (size_t i = 0; !f->p && i < d.n; i++)
		print_error("policy: %s: %s\n", d.v[i].ptr ? d.v[i].ptr : "", d.v[i].msg);
	diags_free(&d);
	assert_non_null(f->p);
	f->web1 = (size_t)policy_node_find(f->p, "web1");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	policy_free(f->p);
	free(f);
	return 0;
}

static struct addr A(const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static struct expect *build(struct fx *f, enum expect_zone z, const char *src, const char *ports)
{
	struct addr a;
	struct expect_vantage v = { .zone = z, .src = src ? &a : NULL, .now = NOW };
	struct expect_ports ps;
	struct expect *e = NULL;
	char err[256];

	if (src)
		a = A(src);
	assert_int_equal(expect_ports_parse(f->p, f->web1, ports, &ps, err, sizeof(err)), 0);
	assert_int_equal(expect_build(f->p, f->web1, &v, &ps, &e), 0);
	expect_ports_free(&ps);
	return e;
}

static bool allowed(const struct expect *e, uint8_t proto, uint16_t port, const char **rule)
{
	const struct expect_port *ep = expect_find(e, proto, port);

	assert_non_null(ep);
	if (rule)
		*rule = e->rules[ep->rule];
	return ep->allowed;
}

/* ---- expected states ------------------------------------------------------------ */

static void test_public_from_anywhere(void **state)
{
	struct expect *e = build(*state, EXPECT_PUBLIC, "198.51.100.2", "all");
	const char *rule;

	assert_int_equal(e->n, 65535 + 1); /* every tcp port + the declared udp:53 */
	assert_true(allowed(e, IPPROTO_TCP, 443, &rule));
	assert_string_equal(rule, "expose \"web\"");
	assert_false(allowed(e, IPPROTO_TCP, 22, &rule));
	assert_string_equal(rule, "no expose rule allows it");
	assert_false(allowed(e, IPPROTO_TCP, 5432, NULL));
	assert_false(allowed(e, IPPROTO_TCP, 2222, NULL)); /* breakglass: closed until opened */
	assert_true(allowed(e, IPPROTO_UDP, 53, &rule));
	assert_string_equal(rule, "expose \"dns\"");
	assert_int_equal(e->nallowed, 3);
	assert_true(e->nrules <= 4);
	expect_free(e);
}

/* An expose rule "from" some addresses: the vantage point's address decides. */
static void test_public_from_office(void **state)
{
	struct expect *e = build(*state, EXPECT_PUBLIC, "203.0.113.5", "declared");
	const char *rule;

	assert_true(allowed(e, IPPROTO_TCP, 22, &rule));
	assert_string_equal(rule, "expose \"office-ssh\"");
	expect_free(e);
	e = build(*state, EXPECT_PUBLIC, NULL, "declared"); /* "any internet address" */
	assert_false(allowed(e, IPPROTO_TCP, 22, NULL));
	expect_free(e);
}

static void test_vpn_as_peers(void **state)
{
	struct expect *e = build(*state, EXPECT_VPN, "100.64.0.2", "declared");
	const char *rule;

	assert_true(allowed(e, IPPROTO_TCP, 22, &rule));
	assert_string_equal(rule, "acl \"alice-ssh\"");
	assert_true(allowed(e, IPPROTO_TCP, 5432, NULL));
	assert_true(allowed(e, IPPROTO_TCP, 2222, &rule));
	assert_string_equal(rule, "breakglass");
	assert_false(allowed(e, IPPROTO_TCP, 443, &rule));
	assert_string_equal(rule, "no acl allows it");
	expect_free(e);
	/* bob's acl expired: nothing for him */
	e = build(*state, EXPECT_VPN, "100.64.0.3", "declared");
	assert_int_equal(e->nallowed, 0);
	assert_false(allowed(e, IPPROTO_TCP, 8001, NULL));
	expect_free(e);
}

static void test_vpn_needs_a_source(void **state)
{
	struct fx *f = *state;
	struct expect_vantage v = { .zone = EXPECT_VPN, .now = NOW };
	struct expect_ports ps = { 0 };
	struct expect *e = NULL;

	assert_int_equal(rangeset_add(&ps.tcp, 22, 22), 0);
	assert_int_equal(expect_build(f->p, f->web1, &v, &ps, &e), -EINVAL);
	assert_null(e);
	expect_ports_free(&ps);
}

/* ---- port lists ------------------------------------------------------------------ */

static void test_declared_ports(void **state)
{
	struct fx *f = *state;
	struct expect_ports ps = { 0 };

	assert_int_equal(expect_ports_declared(f->p, f->web1, &ps), 0);
	/* 22 (office-ssh, alice-ssh), 80, 443, 2222 (breakglass), 5432, 8000-8002 (expired, still declared) */
	assert_int_equal(ps.tcp.n, 6);
	assert_int_equal(expect_ports_count(&ps), 1 + 1 + 1 + 1 + 1 + 3 + 1);
	assert_true(rangeset_contains(&ps.udp, 53));
	assert_false(ps.udp_star);
	expect_ports_free(&ps);
}

/* A node that declares "udp:*" and "tcp:*": every TCP port from 1 (the
 * policy's "*" includes 0), and UDP left out with the mark, not expanded. */
static void test_declared_stars(void **state)
{
	static const char text[] =
		"{ \"version\": 1, \"network\": { \"ipv4\": \"100.64.0.0/24\" },\n"
		"  \"nodes\": { \"a\": { \"key\": \"" K1 "\", \"ips\": [\"100.64.0.1\"] },\n"
		"             \"b\": { \"key\": \"" K2 "\", \"ips\": [\"100.64.0.2\"] } },\n"
		"  \"acls\": [ { \"id\": \"x\", \"src\": [\"b\"], \"dst\": [\"a\"],\n"
		"              \"ports\": [\"udp:*\", \"tcp:*\"] } ] }\n";
	struct policy_opts o = { .now = NOW };
	struct expect_ports ps = { 0 };
	struct policy *p;
	struct diags d;

	(void)state;
	diags_init(&d);
	p = policy_load(text, strlen(text), &o, &d);
	diags_free(&d);
	assert_non_null(p);
	assert_int_equal(expect_ports_declared(p, 0, &ps), 0);
	assert_true(ps.udp_star);
	assert_int_equal(ps.udp.n, 0);
	assert_int_equal(ps.tcp.n, 1);
	assert_int_equal(ps.tcp.v[0].lo, 1);
	assert_int_equal(expect_ports_count(&ps), 65535);
	expect_ports_free(&ps);
	policy_free(p);
}

static void test_ports_list(void **state)
{
	struct fx *f = *state;
	struct expect_ports ps;
	char err[256];

	assert_int_equal(expect_ports_parse(f->p, f->web1, "22,80-90,udp:53,tcp:1000-1001,udp:9-9",
					    &ps, err, sizeof(err)), 0);
	assert_int_equal(expect_ports_count(&ps), 1 + 11 + 2 + 2);
	assert_true(rangeset_contains(&ps.udp, 9));
	assert_false(rangeset_contains(&ps.tcp, 53));
	expect_ports_free(&ps);

	static const char *const bad[] = { "", "0", "65536", "22,", ",22", "90-80", "udp:",
					   "sctp:22", "22-", "-22", "2 2", "tcp:22:23", "all,22",
					   "123456" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(expect_ports_parse(f->p, f->web1, bad[i], &ps, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "--ports"));
		assert_null(ps.tcp.v);
	}
}

static void test_node_lookup(void **state)
{
	struct fx *f = *state;
	struct addr a = A("100.64.0.2"), b = A("100.64.0.9"), c = A("198.51.100.1");

	assert_int_equal(expect_node_by_addr(f->p, &a), policy_node_find(f->p, "alice"));
	assert_int_equal(expect_node_by_addr(f->p, &b), -1);
	assert_true(expect_in_mesh(f->p, &b));
	assert_false(expect_in_mesh(f->p, &c));
}

/* ---- comparison --------------------------------------------------------------------- */

static struct nmap_result *observed(void)
{
	struct nmap_result *r = calloc(1, sizeof(*r));

	r->ports[NMAP_TCP] = calloc(65536, sizeof(struct nmap_port));
	r->ports[NMAP_UDP] = calloc(65536, sizeof(struct nmap_port));
	r->nreasons = 5;
	strcpy(r->reasons[1], "no-response");
	strcpy(r->reasons[2], "syn-ack");
	strcpy(r->reasons[3], "reset");
	strcpy(r->reasons[4], "port-unreach");
	for (unsigned p = 1; p <= 65535; p++)
		r->ports[NMAP_TCP][p] = (struct nmap_port){ NMAP_FILTERED, 1, 0 };
	r->ports[NMAP_UDP][53] = (struct nmap_port){ NMAP_OPEN_FILTERED, 1, 0 };
	return r;
}

static void set(struct nmap_result *r, unsigned port, enum nmap_state st)
{
	r->ports[NMAP_TCP][port] = (struct nmap_port){ st, st == NMAP_OPEN ? 2 : st == NMAP_CLOSED ? 3 : 1, 64 };
}

static const struct audit_row *row_of(const struct audit_diff *d, uint8_t proto, unsigned port)
{
	for (size_t i = 0; i < d->nrows; i++)
		if (d->rows[i].proto == proto && d->rows[i].lo <= port && port <= d->rows[i].hi)
			return &d->rows[i];
	fail_msg("no row for port %u", port);
	return NULL;
}

static void test_compare_match(void **state)
{
	struct expect *e = build(*state, EXPECT_PUBLIC, "198.51.100.2", "all");
	struct nmap_result *r = observed();
	struct audit_diff d;

	set(r, 80, NMAP_OPEN);
	set(r, 443, NMAP_CLOSED); /* allowed, nothing listens: a notice */
	assert_int_equal(compare_run(e, r, &d), 0);
	assert_int_equal(d.count[AUDIT_DRIFT], 0);
	assert_int_equal(d.count[AUDIT_NOTICE], 2); /* 443 closed, udp:53 silent */
	assert_int_equal(d.count[AUDIT_MATCH], 65534);
	assert_int_equal(d.answered, 2);
	/* 1-79, 80, 81-442, 443, 444-65535, udp 53 */
	assert_int_equal(d.nrows, 6);
	assert_int_equal(row_of(&d, IPPROTO_TCP, 1)->hi, 79);
	assert_int_equal(row_of(&d, IPPROTO_TCP, 443)->note, NOTE_NOTHING_LISTENS);
	assert_int_equal(row_of(&d, IPPROTO_UDP, 53)->note, NOTE_UDP_SILENT);
	compare_free(&d);
	nmap_result_free(r);
	expect_free(e);
}

static void note(const struct audit_diff *d, const struct compare_ctx *c, unsigned port,
		 char *buf, size_t len)
{
	compare_note_text(d, row_of(d, IPPROTO_TCP, port), c, buf, len);
}

/* Dropped ports that answer. Open: policyd's table is missing or changed
 * (an accept elsewhere cannot undo its drop). Closed (a reset): the same, or
 * a table before policyd's that rejects — the text names both, with nmap's
 * reason. */
static void test_compare_opened(void **state)
{
	struct expect *e = build(*state, EXPECT_PUBLIC, "198.51.100.2", "declared");
	struct compare_ctx c = { .zone = EXPECT_PUBLIC };
	struct nmap_result *r = observed();
	struct audit_diff d;
	char buf[512];

	set(r, 22, NMAP_OPEN);
	set(r, 2222, NMAP_CLOSED);
	set(r, 80, NMAP_OPEN);
	set(r, 443, NMAP_OPEN);
	assert_int_equal(compare_run(e, r, &d), 0);
	assert_int_equal(d.count[AUDIT_DRIFT], 2);
	assert_int_equal(row_of(&d, IPPROTO_TCP, 22)->status, AUDIT_DRIFT);
	assert_int_equal(row_of(&d, IPPROTO_TCP, 22)->note, NOTE_OPENED);
	assert_int_equal(row_of(&d, IPPROTO_TCP, 2222)->status, AUDIT_DRIFT);
	assert_int_equal(row_of(&d, IPPROTO_TCP, 2222)->note, NOTE_ANSWERED);
	note(&d, &c, 22, buf, sizeof(buf));
	assert_non_null(strstr(buf, "policyd's table missing or changed on the target (another "
				    "table's accept cannot undo its drop"));
	assert_null(strstr(buf, "rejects"));
	note(&d, &c, 2222, buf, sizeof(buf));
	assert_string_equal(buf, "policyd's table missing or changed on the target, or another "
				 "table rejects it (reset) before policyd's drop");
	c.breakglass = &((struct fx *)*state)->p->breakglass.ports;
	note(&d, &c, 2222, buf, sizeof(buf));
	assert_non_null(strstr(buf, "or a breakglass opening for this address"));
	note(&d, &c, 22, buf, sizeof(buf));
	assert_null(strstr(buf, "breakglass")); /* 22 is no breakglass port */
	compare_free(&d);
	nmap_result_free(r);
	expect_free(e);
}

/* nmap's own record of a foreign table that rejects 443 with a TCP reset and
 * 80 with an ICMP admin-prohibited, before policyd (fixtures/syn-reject.xml),
 * audited as bob, whom the policy gives nothing: 443 is drift whose cause
 * names the reject, 80 a notice (rejected rather than dropped). */
static void test_compare_foreign_reject(void **state)
{
	struct expect *e = build(*state, EXPECT_VPN, "100.64.0.3", "22,80,443");
	struct compare_ctx c = { .zone = EXPECT_VPN };
	struct nmap_result *r = NULL;
	struct audit_diff d;
	char buf[512], *text;
	size_t len;

	assert_int_equal(file_read("tests/unit/audit/fixtures/syn-reject.xml", &text, &len), 0);
	assert_int_equal(nmapxml_parse(text, len, &r), 0);
	free(text);
	assert_int_equal(compare_run(e, r, &d), 0);
	assert_int_equal(d.count[AUDIT_DRIFT], 1);
	assert_int_equal(row_of(&d, IPPROTO_TCP, 443)->note, NOTE_ANSWERED);
	compare_note_text(&d, row_of(&d, IPPROTO_TCP, 443), &c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "or another table rejects it (reset) before policyd's drop"));
	assert_int_equal(row_of(&d, IPPROTO_TCP, 80)->status, AUDIT_NOTICE);
	compare_note_text(&d, row_of(&d, IPPROTO_TCP, 80), &c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "rejected (admin-prohibited) rather than dropped"));
	assert_int_equal(row_of(&d, IPPROTO_TCP, 22)->status, AUDIT_MATCH);
	compare_free(&d);
	nmap_result_free(r);
	expect_free(e);
}

/* Someone else's drop of an allowed port. */
static void test_compare_dropped(void **state)
{
	struct expect *e = build(*state, EXPECT_VPN, "100.64.0.2", "declared");
	struct compare_ctx c = { .zone = EXPECT_VPN };
	struct nmap_result *r = observed();
	struct audit_diff d;
	char buf[512];

	set(r, 22, NMAP_OPEN);
	set(r, 2222, NMAP_OPEN);
	assert_int_equal(compare_run(e, r, &d), 0);
	assert_int_equal(d.count[AUDIT_DRIFT], 1);
	assert_int_equal(row_of(&d, IPPROTO_TCP, 5432)->note, NOTE_DROPPED);
	note(&d, &c, 5432, buf, sizeof(buf));
	assert_non_null(strstr(buf, "a drop outside policyd (another table"));
	assert_null(strstr(buf, "quarantined"));
	compare_free(&d);
	/* every allowed port dropped: the peer may be quarantined */
	set(r, 22, NMAP_FILTERED);
	set(r, 2222, NMAP_FILTERED);
	assert_int_equal(compare_run(e, r, &d), 0);
	assert_int_equal(d.count[AUDIT_DRIFT], 3);
	note(&d, &c, 22, buf, sizeof(buf));
	assert_non_null(strstr(buf, "quarantined"));
	assert_int_equal(d.answered, 0);
	compare_free(&d);
	nmap_result_free(r);
	expect_free(e);
}

static void test_compare_udp_and_rejects(void **state)
{
	struct expect *e = build(*state, EXPECT_PUBLIC, "198.51.100.2", "22,udp:53,udp:54");
	struct compare_ctx c = { .zone = EXPECT_PUBLIC };
	struct nmap_result *r = observed();
	struct audit_diff d;
	char buf[512];

	strcpy(r->reasons[3], "admin-prohibited");
	r->ports[NMAP_TCP][22].reason = 3;             /* rejected, not dropped */
	r->ports[NMAP_UDP][53] = (struct nmap_port){ NMAP_OPEN, 2, 64 };
	r->ports[NMAP_UDP][54] = (struct nmap_port){ NMAP_CLOSED, 4, 64 }; /* dropped by policy, answers */
	assert_int_equal(compare_run(e, r, &d), 0);
	assert_int_equal(row_of(&d, IPPROTO_TCP, 22)->status, AUDIT_NOTICE);
	compare_note_text(&d, row_of(&d, IPPROTO_TCP, 22), &c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "rejected (admin-prohibited)"));
	assert_int_equal(row_of(&d, IPPROTO_UDP, 53)->status, AUDIT_MATCH);
	assert_int_equal(row_of(&d, IPPROTO_UDP, 54)->status, AUDIT_DRIFT);
	assert_int_equal(row_of(&d, IPPROTO_UDP, 54)->note, NOTE_ANSWERED);
	compare_note_text(&d, row_of(&d, IPPROTO_UDP, 54), &c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "rejects it (port-unreach) before policyd's drop"));
	compare_free(&d);
	nmap_result_free(r);
	expect_free(e);
}

static void test_compare_unreported(void **state)
{
	struct expect *e = build(*state, EXPECT_PUBLIC, NULL, "20-30");
	struct nmap_result *r = observed();
	struct audit_diff d;

	r->ports[NMAP_TCP][25].state = NMAP_UNSEEN;
	assert_int_equal(compare_run(e, r, &d), 0);
	assert_int_equal(d.count[AUDIT_UNKNOWN], 1);
	assert_int_equal(row_of(&d, IPPROTO_TCP, 25)->note, NOTE_NOT_REPORTED);
	assert_int_equal(d.nrows, 3);
	compare_free(&d);
	nmap_result_free(r);
	expect_free(e);
}

/* ---- --local: who reaches a listener ------------------------------------------------ */

static struct reach classify(struct fx *f, uint8_t proto, const char *addr, uint16_t port,
			     unsigned ifindex)
{
	struct listener l = { .proto = proto, .port = port, .ifindex = ifindex };
	struct reach rc;

	if (addr)
		l.addr = A(addr);
	else
		l.addr.family = AF_INET6; /* [::] */
	reach_classify(f->p, f->web1, &l, NOW, &rc);
	return rc;
}

static void test_reach(void **state)
{
	struct fx *f = *state;
	struct reach rc;

	rc = classify(f, IPPROTO_TCP, NULL, 443, 0); /* exposed to everyone */
	assert_int_equal(rc.cls, REACH_PUBLIC);
	assert_false(rc.firewall_only || rc.internet_fw_only);
	rc = classify(f, IPPROTO_TCP, NULL, 5432, 0); /* [::]:5432, an acl's only */
	assert_int_equal(rc.cls, REACH_VPN);
	assert_true(rc.internet && rc.firewall_only && rc.internet_fw_only);
	assert_string_equal(rc.vpn_rules, "acl \"alice-ssh\"");
	rc = classify(f, IPPROTO_TCP, NULL, 22, 0); /* exposed to the office only */
	assert_int_equal(rc.cls, REACH_PUBLIC_SOME);
	assert_true(rc.firewall_only);
	assert_false(rc.internet_fw_only);
	rc = classify(f, IPPROTO_TCP, NULL, 9999, 0); /* nobody's */
	assert_int_equal(rc.cls, REACH_NOBODY);
	assert_true(rc.internet_fw_only);
	rc = classify(f, IPPROTO_TCP, "100.64.0.1", 5432, 0); /* the VPN address: as meant */
	assert_int_equal(rc.cls, REACH_VPN);
	assert_false(rc.internet || rc.firewall_only || rc.internet_fw_only);
	rc = classify(f, IPPROTO_TCP, "fd7a:115c:a1e0::1", 9999, 0); /* VPN, but no acl */
	assert_int_equal(rc.cls, REACH_NOBODY);
	assert_true(rc.firewall_only);
	assert_false(rc.internet_fw_only);
	rc = classify(f, IPPROTO_TCP, "127.0.0.1", 9999, 0);
	assert_int_equal(rc.cls, REACH_LOOPBACK);
	assert_false(rc.firewall_only);
	/* an address no interface here holds: assume it faces the internet */
	rc = classify(f, IPPROTO_TCP, "198.51.100.201", 9999, 0);
	assert_true(rc.internet_fw_only);
	/* every address, but SO_BINDTODEVICE lo (ifindex 1): not the internet */
	rc = classify(f, IPPROTO_TCP, NULL, 9999, 1);
	assert_int_equal(rc.cls, REACH_OTHER_IF);
	assert_false(rc.internet || rc.firewall_only || rc.internet_fw_only);
}

/* ---- the nmap command line ------------------------------------------------------------ */

static size_t argv_find(char **argv, const char *s)
{
	for (size_t i = 0; argv[i]; i++)
		if (!strcmp(argv[i], s))
			return i;
	return 0;
}

static void test_scan_argv(void **state)
{
	struct expect_ports ps = { 0 };
	struct scan_opts o = { .target = "fd7a:115c:a1e0::1", .v6 = true, .ports = &ps,
			       .raw = true, .source = "fd7a:115c:a1e0::2", .iface = "vpn0",
			       .timing = 4, .min_rate = 20000, .max_retries = 2 };
	char **argv;
	size_t i;

	(void)state;
	assert_int_equal(scan_argv(&o, &argv), -EINVAL); /* no ports */
	rangeset_add(&ps.tcp, 1, 21);
	rangeset_add(&ps.tcp, 23, 23);
	rangeset_add(&ps.udp, 53, 53);
	assert_int_equal(scan_argv(&o, &argv), 0);
	assert_string_equal(argv[0], "nmap");
	assert_true(argv_find(argv, "-Pn") && argv_find(argv, "-n") && argv_find(argv, "--reason"));
	assert_true(argv_find(argv, "-sS") && argv_find(argv, "-sU") && argv_find(argv, "-6"));
	assert_string_equal(argv[argv_find(argv, "-p") + 1], "T:1-21,23,U:53");
	assert_string_equal(argv[argv_find(argv, "-S") + 1], "fd7a:115c:a1e0::2");
	assert_string_equal(argv[argv_find(argv, "-e") + 1], "vpn0");
	assert_string_equal(argv[argv_find(argv, "--min-rate") + 1], "20000");
	assert_string_equal(argv[argv_find(argv, "--max-retries") + 1], "2");
	assert_true(argv_find(argv, "-T4"));
	i = argv_find(argv, "-oX");
	assert_string_equal(argv[i + 1], "-");
	assert_string_equal(argv[i + 2], "fd7a:115c:a1e0::1");
	assert_null(argv[i + 3]); /* the target is last and alone: no shell, no splitting */
	scan_argv_free(argv);

	o.raw = false; /* unprivileged: connect scan, no UDP */
	o.discover = true;
	o.probe_tcp = &ps.tcp;
	assert_int_equal(scan_argv(&o, &argv), 0);
	assert_false(argv_find(argv, "-Pn") || argv_find(argv, "-sS") || argv_find(argv, "-sU"));
	assert_true(argv_find(argv, "-sn") && argv_find(argv, "-PE"));
	assert_true(argv_find(argv, "-PS1,2,3,4,5,6,7,8,9,10"));
	scan_argv_free(argv);
	expect_ports_free(&ps);
}

/* scan_run against a stand-in for nmap: its XML is read from the pipe and
 * parsed; a failing program and a missing one are told apart. */
static void test_scan_run_standins(void **state)
{
	struct expect_ports ps = { 0 };
	struct scan_opts o = { .target = "198.51.100.1", .ports = &ps, .timing = -1,
			       .max_retries = -1, .timeout = 10 };
	struct nmap_result *r = NULL;
	struct scan_info si;

	(void)state;
	rangeset_add(&ps.tcp, 22, 22);
	o.nmap = "/nonexistent/nmap";
	assert_int_equal(scan_run(&o, &r, &si), -ENOENT);
	o.nmap = "false";
	assert_int_equal(scan_run(&o, &r, &si), -EIO);
	assert_int_equal(si.status, 1);
	o.nmap = "true"; /* exits 0 without any XML */
	assert_int_equal(scan_run(&o, &r, &si), -EBADMSG);
	assert_null(r);
	expect_ports_free(&ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_from_anywhere),
		cmocka_unit_test(test_public_from_office),
		cmocka_unit_test(test_vpn_as_peers),
		cmocka_unit_test(test_vpn_needs_a_source),
		cmocka_unit_test(test_declared_ports),
		cmocka_unit_test(test_declared_stars),
		cmocka_unit_test(test_ports_list),
		cmocka_unit_test(test_node_lookup),
		cmocka_unit_test(test_compare_match),
		cmocka_unit_test(test_compare_opened),
		cmocka_unit_test(test_compare_foreign_reject),
		cmocka_unit_test(test_compare_dropped),
		cmocka_unit_test(test_compare_udp_and_rejects),
		cmocka_unit_test(test_compare_unreported),
		cmocka_unit_test(test_reach),
		cmocka_unit_test(test_scan_argv),
		cmocka_unit_test(test_scan_run_standins),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
