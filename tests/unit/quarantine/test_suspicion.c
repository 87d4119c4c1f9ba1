/* test_suspicion.c — the scoring engine: window edges, distinct vs repeated
 * ports, exact thresholds, one decision per episode, ban backoff and cap,
 * exempt peers and breakglass holders only reported, a typo never banned,
 * memory bounded under a flood of distinct ports, other signals, reloads;
 * a refused ban leaves the backoff alone; report-only episodes end. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "quarantine/suspicion.h"

enum { ALICE, BOB, CAROL, DAVE };

/* alice: plain peer; bob: exempt; carol: breakglass holder; dave: plain */
static struct policy *load(const char *suspicion)
{
	char text[4096];
	struct diags d;
	struct policy *p;

	snprintf(text, sizeof(text),
		 "{ \"version\": 1, \"network\": { \"ipv4\": \"100.64.0.0/24\" }, \"nodes\": {"
		 "\"alice\": { \"key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\", \"ips\": [\"100.64.0.1\"] },"
		 "\"bob\": { \"key\": \"HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=\", \"ips\": [\"100.64.0.2\"] },"
		 "\"carol\": { \"key\": \"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\", \"ips\": [\"100.64.0.3\"] },"
		 "\"dave\": { \"key\": \"ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=\", \"ips\": [\"100.64.0.4\"] } },"
		 "\"acls\": [ { \"id\": \"any\", \"src\": [\"*\"], \"dst\": [\"*\"], \"ports\": [\"tcp:22\"] } ],"
		 "\"breakglass\": { \"holders\": [\"carol\"], \"ports\": [\"tcp:22\"], \"minHolders\": 1 },"
		 "\"suspicion\": { \"exempt\": [\"bob\"] %s%s } }",
		 suspicion[0] ? ", " : "", suspicion);
	diags_init(&d);
	p = policy_load(text, strlen(text), NULL, &d);
	if (!p)
		fail_msg("policy did not load: %s", d.n ? d.v[0].msg : "?");
	diags_free(&d);
	return p;
}

static struct suspicion_engine *engine(const char *suspicion)
{
	struct policy *p = load(suspicion);
	struct suspicion_engine *e;

	assert_int_equal(suspicion_new(p, &e), 0);
	policy_free(p);
	return e;
}

/* n denied packets to one port at time t; returns how many made a decision */
static int burst(struct suspicion_engine *e, size_t peer, uint16_t port, int n, uint64_t t,
		 struct suspicion_decision *d)
{
	int decisions = 0;

	for (int i = 0; i < n; i++) {
		int r = suspicion_denied(e, peer, IPPROTO_TCP, port, t, d);

		assert_true(r >= 0);
		if (r == 1 && !d->report_only) /* the kernel took the ban */
			assert_int_equal(suspicion_confirm(e, peer), 0);
		decisions += r;
	}
	return decisions;
}

static void test_window_edges(void **state)
{
	struct suspicion_engine *e = engine("\"deniedPackets\": 5, \"deniedPorts\": 100");
	struct suspicion_decision d;

	(void)state;
	/* alice: 4 at t=0, the 5th just inside the 60 s window */
	assert_int_equal(burst(e, ALICE, 22, 4, 0, &d), 0);
	assert_int_equal(burst(e, ALICE, 22, 1, 59999, &d), 1);
	assert_int_equal(d.packets, 5);
	assert_int_equal(d.cause, SUSPICION_CAUSE_PACKETS);
	assert_string_equal(d.name, "alice");
	/* dave: 4 at t=0, the 5th just outside: the first four are gone */
	assert_int_equal(burst(e, DAVE, 22, 4, 0, &d), 0);
	assert_int_equal(burst(e, DAVE, 22, 1, 60000, &d), 0);
	assert_int_equal(suspicion_score(e, DAVE, 60000), 200);
	/* the window slides: 4 more spread over 59 s reach 5 again */
	assert_int_equal(burst(e, DAVE, 22, 3, 100000, &d), 0);
	assert_int_equal(burst(e, DAVE, 22, 1, 119999, &d), 1);
	assert_int_equal(d.packets, 5);
	suspicion_free(e);
}

static void test_window_expiry_drops_ports(void **state)
{
	struct suspicion_engine *e = engine("\"deniedPackets\": 1000, \"deniedPorts\": 3");
	struct suspicion_decision d;

	(void)state;
	assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_TCP, 1, 1000, &d), 0);
	assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_TCP, 2, 30000, &d), 0);
	/* port 1 was last seen at 1 s: gone at 61 s, so this is 2 of 3 */
	assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_TCP, 3, 61000, &d), 0);
	assert_int_equal(suspicion_score(e, ALICE, 61000), 666);
	/* seeing port 2 again refreshes it: at 89.999 s ports 2 and 3 are still in */
	assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_TCP, 2, 89000, &d), 0);
	assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_TCP, 4, 120999, &d), 1);
	assert_int_equal(d.nports, 3);
	assert_int_equal(d.cause, SUSPICION_CAUSE_PORTS);
	suspicion_free(e);
}

static void test_distinct_vs_repeated(void **state)
{
	struct suspicion_engine *e = engine("\"deniedPackets\": 1000, \"deniedPorts\": 10");
	struct suspicion_decision d;

	(void)state;
	for (int round = 0; round < 50; round++)
		for (uint16_t port = 1; port <= 9; port++)
			assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_TCP, port, 1000, &d), 0);
	/* 450 packets, 9 ports: not yet. The same port number over UDP is a 10th. */
	assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_UDP, 9, 2000, &d), 1);
	assert_int_equal(d.cause, SUSPICION_CAUSE_PORTS);
	assert_int_equal(d.nports, 10);
	assert_int_equal(d.packets, 451);
	assert_int_equal(d.nlisted, 10);
	assert_int_equal(d.ports[0].proto, IPPROTO_TCP);
	assert_int_equal(d.ports[0].port, 1);
	assert_int_equal(d.ports[9].proto, IPPROTO_UDP);
	assert_string_equal(d.reason, "10 distinct denied ports in 60s");
	suspicion_free(e);
}

static void test_threshold_exact(void **state)
{
	struct suspicion_engine *e = engine("");   /* defaults: 10 ports, 100 packets */
	struct suspicion_decision d;

	(void)state;
	assert_int_equal(burst(e, ALICE, 5432, 99, 0, &d), 0);
	assert_int_equal(suspicion_score(e, ALICE, 0), 990);
	assert_int_equal(burst(e, ALICE, 5432, 1, 0, &d), 1);
	assert_int_equal(d.packets, 100);
	assert_string_equal(d.reason, "100 denied packets in 60s");
	for (uint16_t port = 1; port <= 9; port++)
		assert_int_equal(suspicion_denied(e, DAVE, IPPROTO_TCP, port, 0, &d), 0);
	assert_int_equal(suspicion_score(e, DAVE, 0), 900);
	assert_int_equal(suspicion_denied(e, DAVE, IPPROTO_TCP, 10, 0, &d), 1);
	assert_int_equal(d.nports, 10);
	suspicion_free(e);
}

static void test_one_decision_per_episode(void **state)
{
	struct suspicion_engine *e = engine("\"deniedPackets\": 10, \"ban\": \"10m\"");
	struct suspicion_decision d;

	(void)state;
	/* banned peer: one decision, its packets ignored while banned */
	assert_int_equal(burst(e, ALICE, 22, 100, 0, &d), 1);
	assert_true(suspicion_banned(e, ALICE, 0));
	assert_int_equal(d.ban_s, 600);
	assert_int_equal(burst(e, ALICE, 22, 100, 300000, &d), 0);
	assert_true(suspicion_banned(e, ALICE, 599999));
	assert_false(suspicion_banned(e, ALICE, 600000));
	/* after the ban a new episode starts from an empty window */
	assert_int_equal(burst(e, ALICE, 22, 9, 600000, &d), 0);
	assert_int_equal(burst(e, ALICE, 22, 1, 600000, &d), 1);
	assert_int_equal(d.repeat, 1);
	assert_int_equal(d.ban_s, 1200);
	/* report-only peer: one decision while it keeps going ... */
	assert_int_equal(burst(e, BOB, 22, 10, 0, &d), 1);
	assert_true(d.report_only);
	assert_int_equal(burst(e, BOB, 22, 1000, 1000, &d), 0);
	assert_int_equal(burst(e, BOB, 22, 10, 59000, &d), 0);
	/* ... and another one only after a quiet window */
	assert_int_equal(burst(e, BOB, 22, 10, 118999, &d), 0);  /* 59 s after the last: same episode */
	assert_int_equal(burst(e, BOB, 22, 10, 200000, &d), 1);  /* 81 s quiet: new episode */
	assert_int_equal(suspicion_repeats(e, BOB), 0);
	suspicion_free(e);
}

static void test_backoff_and_cap(void **state)
{
	static const uint32_t want[] = { 3600, 7200, 14400, 28800, 57600, 86400, 86400, 86400 };
	struct suspicion_engine *e = engine("\"deniedPackets\": 1");
	struct suspicion_decision d;
	uint64_t t = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_TCP, 22, t, &d), 1);
		assert_int_equal(d.repeat, i);
		assert_int_equal(d.ban_s, want[i]);
		assert_int_equal(suspicion_confirm(e, ALICE), 0);
		t += (uint64_t)d.ban_s * 1000;
	}
	assert_int_equal(suspicion_repeats(e, ALICE), 8);
	assert_int_equal(suspicion_ban_length(e, UINT32_MAX), 86400);
	suspicion_free(e);

	e = engine("\"backoff\": 1.5, \"ban\": \"100s\", \"maxBan\": \"1000s\"");
	assert_int_equal(suspicion_ban_length(e, 0), 100);
	assert_int_equal(suspicion_ban_length(e, 1), 150);
	assert_int_equal(suspicion_ban_length(e, 2), 225);
	assert_int_equal(suspicion_ban_length(e, 6), 1000);   /* 1139 capped */
	suspicion_free(e);
	e = engine("\"backoff\": 1");
	assert_int_equal(suspicion_ban_length(e, 1000000), 3600);
	suspicion_free(e);
}

static void test_exempt_and_holder_reported(void **state)
{
	struct suspicion_engine *e = engine("\"deniedPorts\": 3");
	struct suspicion_decision d;

	(void)state;
	for (uint16_t port = 1; port <= 3; port++)
		suspicion_denied(e, BOB, IPPROTO_TCP, port, 0, &d);
	assert_true(d.report_only && d.exempt && !d.holder);
	assert_int_equal(d.ban_s, 0);
	assert_false(d.evict);
	assert_false(suspicion_banned(e, BOB, 0));
	for (uint16_t port = 1; port <= 3; port++)
		suspicion_denied(e, CAROL, IPPROTO_TCP, port, 0, &d);
	assert_true(d.report_only && d.holder && !d.exempt);
	assert_false(suspicion_banned(e, CAROL, 0));
	/* an admin flag on them is reported too, not a ban */
	assert_int_equal(suspicion_flag(e, CAROL, "test", 0, &d), 0);
	assert_true(d.report_only);
	assert_false(suspicion_banned(e, CAROL, 0));
	/* a plain peer is banned, evicted with the default evict: true */
	for (uint16_t port = 1; port <= 3; port++)
		suspicion_denied(e, ALICE, IPPROTO_TCP, port, 0, &d);
	assert_false(d.report_only);
	assert_true(d.evict);
	assert_true(suspicion_banned(e, ALICE, 0));
	suspicion_free(e);
}

/* A mistyped port: the SYN and its 6 retransmissions (1, 2, 4, 8, 16, 32 s),
 * and the user tries twice more with other typos. Defaults must not ban. */
static void test_typo_not_banned(void **state)
{
	static const uint64_t rto[] = { 0, 1000, 3000, 7000, 15000, 31000, 63000 };
	struct suspicion_engine *e = engine("");
	struct suspicion_decision d;

	(void)state;
	for (int attempt = 0; attempt < 3; attempt++)
		for (size_t i = 0; i < sizeof(rto) / sizeof(*rto); i++)
			assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_TCP,
							  (uint16_t)(2222 + attempt),
							  (uint64_t)attempt * 5000 + rto[i], &d), 0);
	assert_false(suspicion_banned(e, ALICE, 100000));
	assert_true(suspicion_score(e, ALICE, 63000) < SUSPICION_FULL);
	suspicion_free(e);
}

static void test_memory_cap(void **state)
{
	struct suspicion_engine *e = engine("\"deniedPorts\": 65535, \"deniedPackets\": 100000000");
	struct suspicion_decision d;
	size_t base, decisions = 0;

	(void)state;
	suspicion_denied(e, BOB, IPPROTO_UDP, 0, 0, &d);
	base = suspicion_peer_memory(e, BOB);
	assert_true(base > 0);
	assert_true(base <= 4096 + SUSPICION_PORTS_MAX * 8);
	for (uint32_t i = 0; i < 3 * 65536; i++) {
		int r = suspicion_denied(e, BOB, (uint8_t)(i % 3 ? IPPROTO_UDP : IPPROTO_TCP),
					 (uint16_t)i, i / 100, &d);

		assert_true(r >= 0);
		if (r) {
			decisions++;
			assert_int_equal(d.nports, SUSPICION_PORTS_MAX); /* the cap is the threshold */
			assert_int_equal(d.nlisted, SUSPICION_EVIDENCE_PORTS);
		}
	}
	assert_int_equal(decisions, 1);
	assert_int_equal(suspicion_peer_memory(e, BOB), base);
	assert_int_equal(suspicion_score(e, BOB, 3 * 65536 / 100), SUSPICION_FULL);
	/* the default cap is deniedPorts itself */
	suspicion_free(e);
	e = engine("\"deniedPackets\": 100000000");
	for (uint32_t i = 0; i < 65536; i++)
		suspicion_denied(e, BOB, IPPROTO_TCP, (uint16_t)i, 0, &d);
	assert_true(suspicion_peer_memory(e, BOB) <= 4096 + 10 * 8);
	assert_int_equal(suspicion_flag(e, BOB, "look", 0, &d), 0);
	assert_true(d.ports_saturated);
	assert_int_equal(d.nports, 10);
	suspicion_free(e);
}

static void test_signals_and_flag(void **state)
{
	struct suspicion_engine *e = engine("");
	struct suspicion_decision d;
	char ev[256];

	(void)state;
	assert_int_equal(suspicion_signal(e, ALICE, SUSPICION_SIG_HANDSHAKE_FLOOD, 400, NULL, 0, &d), 0);
	assert_int_equal(suspicion_signal(e, ALICE, SUSPICION_SIG_SPOOFED, 300, "as x", 1000, &d), 0);
	assert_int_equal(suspicion_signal(e, ALICE, SUSPICION_SIG_SPOOFED, 100,
					  "last as\nbob's 100.64.0.2", 1000, &d), 0);
	assert_int_equal(burst(e, ALICE, 3306, 19, 2000, &d), 0);
	assert_int_equal(burst(e, ALICE, 3306, 1, 2000, &d), 1);   /* 200 + 800 */
	assert_int_equal(d.cause, SUSPICION_CAUSE_SCORE);
	assert_int_equal(d.score, 1000);
	assert_int_equal(d.signals[SUSPICION_SIG_HANDSHAKE_FLOOD], 400);
	assert_string_equal(d.reason,
			    "score 1.000 in 60s: spoofed sources, handshake flood, denied traffic");
	suspicion_evidence_format(&d, ev, sizeof(ev));
	assert_string_equal(ev, "ports tcp:3306 packets 20 spoofed sources 0.400 (last as?bob's "
			    "100.64.0.2) handshake flood 0.400 window 60s");
	/* signals slide out of the window like packets, and their notes with them */
	assert_int_equal(suspicion_signal(e, DAVE, SUSPICION_SIG_MALFORMED, 999, "old", 0, &d), 0);
	assert_int_equal(suspicion_signal(e, DAVE, SUSPICION_SIG_HEADERLESS, 999, NULL, 60000, &d), 0);
	assert_int_equal(suspicion_signal(e, DAVE, SUSPICION_SIG_HEADERLESS, 1, NULL, 60000, &d), 1);
	assert_string_equal(d.note[SUSPICION_SIG_MALFORMED], "");
	suspicion_evidence_format(&d, ev, sizeof(ev));
	assert_string_equal(ev, "ports none packets 0 probes without a port 1.000 window 60s");
	assert_int_equal(suspicion_signal(e, DAVE, 7, 1, NULL, 0, &d), -EINVAL);
	assert_int_equal(suspicion_signal(e, 99, SUSPICION_SIG_SPOOFED, 1, NULL, 0, &d), -ENOENT);
	assert_int_equal(suspicion_confirm(e, DAVE), 0);
	assert_int_equal(suspicion_lift(e, DAVE, 70000), 0);
	/* an admin flag: a ban at once, with the text */
	assert_int_equal(suspicion_flag(e, DAVE, "scanned the wiki", 70000, &d), 0);
	assert_false(d.report_only);
	assert_int_equal(d.cause, SUSPICION_CAUSE_FLAG);
	assert_string_equal(d.reason, "flagged: scanned the wiki");
	assert_int_equal(d.ban_s, 7200);                      /* its second ban */
	assert_int_equal(suspicion_confirm(e, DAVE), 0);
	assert_int_equal(suspicion_flag(e, DAVE, "again", 70000, &d), -EALREADY);
	assert_int_equal(suspicion_lift(e, DAVE, 70000), 0);
	assert_int_equal(suspicion_flag(e, DAVE, "two\nlines\x1b[0m", 70000, &d), 0);
	assert_string_equal(d.reason, "flagged: two?lines?[0m");
	assert_int_equal(suspicion_confirm(e, DAVE), 0);
	assert_int_equal(suspicion_flag(e, 99, "x", 0, &d), -ENOENT);
	assert_int_equal(suspicion_lift(e, DAVE, 71000), 0);
	assert_false(suspicion_banned(e, DAVE, 71000));
	assert_int_equal(suspicion_lift(e, DAVE, 71000), -ENOENT);
	assert_int_equal(suspicion_confirm(e, DAVE), -ENOENT);   /* not banned */
	assert_int_equal(suspicion_repeats(e, DAVE), 3);
	suspicion_free(e);
}

/* A ban the kernel refused (lifted without suspicion_confirm) does not
 * count: the next ban is as long as if it had never been decided. */
static void test_refused_ban_not_counted(void **state)
{
	struct suspicion_engine *e = engine("\"deniedPackets\": 3");
	struct suspicion_decision d;

	(void)state;
	for (int attempt = 0; attempt < 3; attempt++) {
		for (int i = 0; i < 2; i++)
			assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_TCP, 22, 1000, &d), 0);
		assert_int_equal(suspicion_denied(e, ALICE, IPPROTO_TCP, 22, 1000, &d), 1);
		assert_int_equal(d.repeat, 0);
		assert_int_equal(d.ban_s, 3600);
		assert_int_equal(suspicion_lift(e, ALICE, 1000), 0);   /* the kernel refused */
		assert_int_equal(suspicion_repeats(e, ALICE), 0);
	}
	assert_int_equal(suspicion_flag(e, ALICE, "x", 2000, &d), 0);
	assert_int_equal(suspicion_lift(e, ALICE, 2000), 0);
	assert_int_equal(suspicion_flag(e, ALICE, "x", 2000, &d), 0);
	assert_int_equal(d.repeat, 0);
	assert_int_equal(suspicion_confirm(e, ALICE), 0);       /* this one took */
	assert_int_equal(suspicion_repeats(e, ALICE), 1);
	assert_int_equal(suspicion_lift(e, ALICE, 3000), 0);
	assert_int_equal(suspicion_flag(e, ALICE, "x", 3000, &d), 0);
	assert_int_equal(d.repeat, 1);
	assert_int_equal(d.ban_s, 7200);
	suspicion_free(e);
}

/* A report-only episode opened by a flag before the peer had a window ends
 * when its window begins; one opened while exempt ends when the peer stops
 * being exempt (then it is banned like anyone). */
static void test_report_episode_ends(void **state)
{
	struct suspicion_engine *e = engine("\"deniedPorts\": 3");
	struct suspicion_decision d;
	struct policy *p;
	size_t n;

	(void)state;
	assert_int_equal(suspicion_flag(e, BOB, "look", 0, &d), 0);   /* no window yet */
	assert_true(d.report_only);
	for (uint16_t port = 1; port <= 2; port++)
		assert_int_equal(suspicion_denied(e, BOB, IPPROTO_TCP, port, 1000, &d), 0);
	assert_int_equal(suspicion_denied(e, BOB, IPPROTO_TCP, 3, 1000, &d), 1);
	assert_true(d.report_only);
	/* in a report-only episode, bob stops being exempt: judged anew */
	assert_int_equal(suspicion_denied(e, BOB, IPPROTO_TCP, 4, 2000, &d), 0);
	p = load("\"deniedPorts\": 3");
	n = p->suspicion.exempt.n;
	p->suspicion.exempt.n = 0;                      /* "exempt": [] */
	assert_int_equal(suspicion_reload(e, p), 0);
	p->suspicion.exempt.n = n;
	policy_free(p);
	assert_int_equal(suspicion_denied(e, BOB, IPPROTO_TCP, 5, 3000, &d), 1);
	assert_false(d.report_only);
	assert_true(suspicion_banned(e, BOB, 3000));
	suspicion_free(e);
}

static void test_reload_and_restore(void **state)
{
	struct suspicion_engine *e = engine("\"deniedPackets\": 5");
	struct policy *p;
	struct suspicion_decision d;
	struct suspicion_reload *r;

	(void)state;
	assert_int_equal(burst(e, ALICE, 22, 5, 0, &d), 1);
	assert_int_equal(burst(e, DAVE, 22, 3, 0, &d), 0);
	/* prepared and dropped: nothing changed */
	p = load("\"deniedPackets\": 50");
	assert_int_equal(suspicion_reload_prepare(e, p, &r), 0);
	suspicion_reload_abort(r);
	policy_free(p);
	assert_int_equal(suspicion_score(e, DAVE, 0), 600);
	/* same window: dave's 3 packets are kept, alice stays banned */
	p = load("\"deniedPackets\": 5");
	assert_int_equal(suspicion_reload_prepare(e, p, &r), 0);
	policy_free(p);                                 /* not needed by the commit */
	suspicion_reload_commit(e, r);
	assert_true(suspicion_banned(e, ALICE, 1000));
	assert_int_equal(suspicion_repeats(e, ALICE), 1);
	assert_int_equal(burst(e, DAVE, 22, 2, 1000, &d), 1);
	/* a different window starts the windows afresh */
	p = load("\"deniedPackets\": 5, \"window\": \"2m\"");
	assert_int_equal(suspicion_reload(e, p), 0);
	policy_free(p);
	assert_int_equal(suspicion_score(e, BOB, 1000), 0);
	/* restore after a restart: two earlier bans, still banned for 10 s */
	assert_int_equal(suspicion_restore(e, ALICE, 2, 20000), 0);
	assert_true(suspicion_banned(e, ALICE, 19999));
	assert_int_equal(burst(e, ALICE, 22, 50, 15000, &d), 0);
	assert_false(suspicion_banned(e, ALICE, 20000));
	assert_int_equal(burst(e, ALICE, 22, 5, 20000, &d), 1);
	assert_int_equal(d.ban_s, 14400);
	assert_int_equal(suspicion_restore(e, 42, 1, 0), -ENOENT);
	suspicion_free(e);
	suspicion_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_window_expiry_drops_ports),
		cmocka_unit_test(test_distinct_vs_repeated),
		cmocka_unit_test(test_threshold_exact),
		cmocka_unit_test(test_one_decision_per_episode),
		cmocka_unit_test(test_backoff_and_cap),
		cmocka_unit_test(test_exempt_and_holder_reported),
		cmocka_unit_test(test_typo_not_banned),
		cmocka_unit_test(test_memory_cap),
		cmocka_unit_test(test_signals_and_flag),
		cmocka_unit_test(test_reload_and_restore),
		cmocka_unit_test(test_refused_ban_not_counted),
		cmocka_unit_test(test_report_episode_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
