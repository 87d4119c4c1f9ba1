/* audit.c — `policyctl audit`: options, and the steps in order.
 *
 *   policy ─► expected state per port (expect.c, rules/ptest)
 *   nmap ───► observed state per port (scan.c → nmapxml.c)
 *   both ───► verdicts and causes (compare.c) ─► table or JSON (report.c)
 *   WireGuard port: a handshake (wgprobe.c); --local: sockets (localinv.c, reach.c)
 *
 * Exit: 0 everything matches, 1 drift, 2 the audit could not conclude
 * (usage, policy, nmap missing or failing, target unreachable) — an
 * unreachable target is never a pass. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "compare.h"
#include "expect.h"
#include "file.h"
#include "keyfile.h"
#include "localinv.h"
#include "log.h"
#include "reach.h"
#include "report.h"
#include "scan.h"
#include "tables.h"
#include "tunnel.h"
#include "vantage.h"
#include "wgprobe.h"

enum { EXIT_MATCH, EXIT_DRIFT, EXIT_ERROR };

/* Measured by bench/audit.sh: a full 65,535-port TCP scan of a namespace
 * host in ~8 s, every port right in repeated runs. */
#define DEFAULT_TIMING 4
#define DEFAULT_MIN_RATE 20000
#define DEFAULT_MAX_RETRIES 2
#define DEFAULT_TIMEOUT 600
/* A datapath session lives this long after its handshake (REJECT_AFTER_TIME) */
#define SESSION_SECS 180

struct audit_opts {
	const char *file, *node, *target, *zone, *as, *ports, *key, *nmap;
	bool json, local;
	int timing, max_retries;
	unsigned min_rate, timeout;
};

/* Everything one run holds; freed in one place. */
struct audit {
	struct audit_opts o;
	char *text;
	struct policy *p;
	size_t node;
	struct addr target, src;
	char src_str[ADDR_STRLEN], src_if[IF_NAMESIZE];
	bool use_src;                 /* pass -S/-e to nmap (--as in the vpn zone) */
	long as;                      /* --as node, or -1 */
	uint8_t *key;                 /* --key: the peer's private key (sodium memory) */
	struct expect_ports ports;
	bool wg_check;
	struct expect *e;
	struct nmap_result *res;
	struct scan_info si;
	struct audit_diff d;
	struct compare_ctx c;
	struct report rep;
	struct timespec t0;           /* the scan's start (wall clock, as UAPI's handshake times) */
};

static const char usage_text[] =
	"usage: policyctl audit FILE --node NAME --target ADDR [--zone public|vpn]\n"
	"         [--as PEER [--key FILE]] [--ports all|declared|LIST] [--json]\n"
	"       policyctl audit FILE --node NAME --local [--json]\n"
	"  --ports LIST   N, N-M, tcp:N-M, udp:N-M, comma separated (default all)\n"
	"  tuning: --nmap PATH --timing 0-5 --min-rate N --max-retries N --timeout SECS\n";

static int num_opt(const char *name, const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out > max) {
		log_error("audit: %s: bad value \"%s\" (expected 0-%lu)", name, s, max);
		return -1;
	}
	return 0;
}

static int parse_num_opts(int ch, struct audit_opts *o)
{
	unsigned long v;

	switch (ch) {
	case 'T':
		if (num_opt("--timing", optarg, 5, &v) < 0)
			return -1;
		o->timing = (int)v;
		return 0;
	case 'm':
		if (num_opt("--min-rate", optarg, 1000000, &v) < 0)
			return -1;
		o->min_rate = (unsigned)v;
		return 0;
	case 'r':
		if (num_opt("--max-retries", optarg, 50, &v) < 0)
			return -1;
		o->max_retries = (int)v;
		return 0;
	case 'w':
		if (num_opt("--timeout", optarg, 86400, &v) < 0)
			return -1;
		o->timeout = (unsigned)v;
		return 0;
	}
	return -1;
}

static int parse_opts(int argc, char **argv, struct audit_opts *o)
{
	static const struct option lo[] = {
		{ "node", required_argument, NULL, 'n' }, { "target", required_argument, NULL, 't' },
		{ "zone", required_argument, NULL, 'z' }, { "as", required_argument, NULL, 'a' },
		{ "ports", required_argument, NULL, 'p' }, { "key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' }, { "local", no_argument, NULL, 'l' },
		{ "nmap", required_argument, NULL, 'N' }, { "timing", required_argument, NULL, 'T' },
		{ "min-rate", required_argument, NULL, 'm' },
		{ "max-retries", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 'w' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct audit_opts){ .ports = "all", .timing = DEFAULT_TIMING,
				  .min_rate = DEFAULT_MIN_RATE, .max_retries = DEFAULT_MAX_RETRIES,
				  .timeout = DEFAULT_TIMEOUT };
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'n': o->node = optarg; break;
		case 't': o->target = optarg; break;
		case 'z': o->zone = optarg; break;
		case 'a': o->as = optarg; break;
		case 'p': o->ports = optarg; break;
		case 'k': o->key = optarg; break;
		case 'j': o->json = true; break;
		case 'l': o->local = true; break;
		case 'N': o->nmap = optarg; break;
		case 'T': case 'm': case 'r': case 'w':
			if (parse_num_opts(ch, o) < 0)
				return -1;
			break;
		default: return -1;
		}
	}
	if (optind != argc - 1) {
		log_error("audit: expected one policy file");
		return -1;
	}
	o->file = argv[optind];
	if (!o->node || (!o->local && !o->target)) {
		log_error("audit: --node NAME and --target ADDR (or --local) are required");
		return -1;
	}
	if (o->zone && strcmp(o->zone, "public") && strcmp(o->zone, "vpn")) {
		log_error("audit: --zone: \"%s\" is not public or vpn", o->zone);
		return -1;
	}
	return 0;
}

/* ---- policy ----------------------------------------------------------------- */

static int load_policy(struct audit *a)
{
	struct policy_opts po = { 0 };
	struct diags d;
	size_t len;
	long n;
	int r = file_read(a->o.file, &a->text, &len);

	if (r < 0) {
		log_error("%s: %s", a->o.file, strerror(-r));
		return -1;
	}
	diags_init(&d);
	a->p = policy_load(a->text, len, &po, &d);
	for (size_t i = 0; i < d.n; i++) {
		char line[1024];

		diag_format(&d.v[i], a->o.file, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	diags_free(&d);
	if (!a->p) {
		log_error("%s: the policy has errors; nothing audited", a->o.file);
		return -1;
	}
	if ((n = policy_node_find(a->p, a->o.node)) < 0) {
		log_error("%s: no node \"%s\" in the policy", a->o.file, a->o.node);
		return -1;
	}
	a->node = (size_t)n;
	return 0;
}

/* ---- --local ---------------------------------------------------------------- */

static int run_local(struct audit *a)
{
	struct local_report lr = { .node = a->o.node, .foreign = "" };
	struct listeners l;
	struct tables t = { 0 };
	struct reach *rc;
	char foreign[512] = "";
	int r = localinv_list(&l);

	if (r < 0) {
		log_error("audit --local: listing sockets (sock_diag): %s", strerror(-r));
		return EXIT_ERROR;
	}
	if (!(rc = calloc(l.n ? l.n : 1, sizeof(*rc)))) {
		localinv_free(&l);
		return EXIT_ERROR;
	}
	if ((r = tables_list(&t)) < 0) {
		lr.error = strerror(-r);
	} else {
		lr.tables_known = true;
		lr.policyd_table = tables_has(&t, "inet policyd");
		tables_foreign(&t, foreign, sizeof(foreign));
		lr.foreign = foreign;
	}
	for (size_t i = 0; i < l.n; i++) {
		reach_classify(a->p, a->node, &l.v[i], time(NULL), &rc[i]);
		lr.firewall_only += rc[i].firewall_only;
		lr.internet_fw_only += rc[i].internet_fw_only;
	}
	lr.l = &l;
	lr.reach = rc;
	lr.exposed = lr.tables_known && !lr.policyd_table ? lr.firewall_only : 0;
	/* without the ruleset nothing can be said about exposure: never a match;
	 * a service that faces the internet, which the policy gives nothing of
	 * it, is one mistake away from exposed: drift */
	lr.exit = !lr.tables_known ? EXIT_ERROR
		  : lr.exposed || lr.internet_fw_only ? EXIT_DRIFT : EXIT_MATCH;
	r = 0;
	if (a->o.json)
		r = report_local_json(&lr, stdout);
	else
		report_local_table(&lr, stdout);
	r = r < 0 || fflush(stdout) ? EXIT_ERROR : lr.exit;
	tables_free(&t);
	free(rc);
	localinv_free(&l);
	return r;
}

/* ---- the vantage point ------------------------------------------------------- */

static int pick_as(struct audit *a)
{
	const struct node *peer;
	long n;

	if ((n = policy_node_find(a->p, a->o.as)) < 0)
		return report_error(&a->rep, "--as %s: no such node in the policy", a->o.as);
	a->as = n;
	if (a->c.zone != EXPECT_VPN)
		return 0; /* public side: --as only names the key's owner */
	peer = &a->p->nodes[n];
	for (size_t i = 0; i < peer->nips; i++)
		if (peer->ips[i].a.family == a->target.family) {
			a->src = peer->ips[i].a;
			break;
		}
	if (a->src.family != a->target.family)
		return report_error(&a->rep, "--as %s: no VPN address in the target's family",
				    a->o.as);
	addr_str(&a->src, a->src_str);
	if (!vantage_local_iface(&a->src, a->src_if))
		return report_error(&a->rep, "--as %s: %s is not an address of this host; run the "
				    "audit where %s's address is", a->o.as, a->src_str, a->o.as), -1;
	a->use_src = true;
	return 0;
}

static int load_key(struct audit *a);

/* The vpn zone without --as: which peer's address does this host hold? */
static int vpn_needs_as(struct audit *a)
{
	char ifn[IF_NAMESIZE], s[ADDR_STRLEN];

	for (size_t n = 0; n < a->p->nnodes; n++)
		for (size_t i = 0; n != a->node && i < a->p->nodes[n].nips; i++) {
			const struct addr *ip = &a->p->nodes[n].ips[i].a;

			if (ip->family == a->target.family && vantage_local_iface(ip, ifn))
				return report_error(&a->rep, "the vpn zone needs --as PEER, the peer "
						    "the scan is judged as; this host holds %s's "
						    "address %s: add --as %s", a->p->nodes[n].name,
						    addr_str(ip, s), a->p->nodes[n].name);
		}
	return report_error(&a->rep, "the vpn zone needs --as PEER: run the audit on a peer, "
			    "from its VPN address (without one the probes would not go through "
			    "the mesh, and what they met would be judged as nobody's)");
}

/* The zone must match the target: a VPN audit scans one of the node's VPN
 * addresses as a peer; a public one does not scan into the mesh. */
static int check_zone(struct audit *a)
{
	long owner = expect_node_by_addr(a->p, &a->target);

	if (a->c.zone == EXPECT_PUBLIC && expect_in_mesh(a->p, &a->target))
		return report_error(&a->rep, "%s is inside the mesh: its probes arrive over the VPN, "
				    "where the acls decide, not the public side; audit a public "
				    "address, or use --zone vpn --as PEER", a->o.target);
	if (a->c.zone == EXPECT_VPN && owner != (long)a->node)
		return report_error(&a->rep, "--zone vpn: %s is not one of %s's VPN addresses (it "
				    "is %s's)", a->o.target, a->o.node,
				    owner >= 0 ? a->p->nodes[owner].name : "no node");
	if (a->c.zone == EXPECT_VPN && !a->o.as && !a->o.key)
		return vpn_needs_as(a);
	return 0;
}

static int pick_vantage(struct audit *a)
{
	char ifn[IF_NAMESIZE];
	int r;

	if (addr_parse(a->o.target, &a->target) < 0)
		return report_error(&a->rep, "--target \"%s\" is not an IPv4 or IPv6 address",
				    a->o.target);
	a->c.zone = a->o.zone ? (a->o.zone[0] == 'v' ? EXPECT_VPN : EXPECT_PUBLIC)
		    : expect_in_mesh(a->p, &a->target) ? EXPECT_VPN : EXPECT_PUBLIC;
	a->rep.zone = a->c.zone;
	if (vantage_local_iface(&a->target, ifn))
		return report_error(&a->rep, "%s is an address of this host: probes would go over "
				    "loopback, which policyd always accepts; audit from another "
				    "host, or use --local", a->o.target), -1;
	if (check_zone(a) < 0)
		return -1;
	if (a->o.key && !a->o.as) { /* the key's owner is the vantage, as with --as */
		if (load_key(a) < 0)
			return -1;
		a->o.as = a->p->nodes[a->as].name;
	}
	if (a->o.as && pick_as(a) < 0)
		return -1;
	if (!a->use_src) {
		if ((r = vantage_route_source(&a->target, &a->src)) < 0)
			return report_error(&a->rep, "target %s unreachable: %s", a->o.target,
					    strerror(-r));
		addr_str(&a->src, a->src_str);
	}
	a->rep.source = a->src_str;
	return 0;
}

/* ---- the WireGuard port ------------------------------------------------------- */

static int load_key(struct audit *a)
{
	uint8_t pub[32];
	char err[256];
	long owner;

	if (!(a->key = sodium_malloc(32)))
		return report_error(&a->rep, "out of memory");
	if (keyfile_read(a->o.key, "WireGuard private key", "policyctl keygen", a->key, err,
			 sizeof(err)) < 0)
		return report_error(&a->rep, "--key: %s", err);
	if (wgprobe_public_key(a->key, pub) < 0)
		return report_error(&a->rep, "out of memory");
	owner = policy_node_by_key(a->p, pub);
	if (owner < 0)
		return report_error(&a->rep, "--key %s: its public key is no node's in the policy",
				    a->o.key);
	if (a->as >= 0 && owner != a->as)
		return report_error(&a->rep, "--key %s belongs to %s, not to --as %s", a->o.key,
				    a->p->nodes[owner].name, a->o.as);
	if (owner == (long)a->node)
		return report_error(&a->rep, "--key %s is %s's own key; give a peer's", a->o.key,
				    a->o.node), -1;
	a->as = owner;
	return 0;
}

/* Is the WireGuard port in scope? Then it is taken out of nmap's UDP list. */
static int plan_wg(struct audit *a)
{
	uint16_t port = a->p->net.port;
	struct rangeset keep = { 0 };
	bool listed = rangeset_contains(&a->ports.udp, port);

	if (a->c.zone != EXPECT_PUBLIC || !a->p->nodes[a->node].endpoint)
		return 0;
	if (strcmp(a->o.ports, "all") && strcmp(a->o.ports, "declared") && !listed)
		return 0;
	a->wg_check = true;
	for (size_t i = 0; i < a->ports.udp.n; i++) {
		const struct range16 *r = &a->ports.udp.v[i];
		bool in = r->lo <= port && port <= r->hi;

		if ((!in && rangeset_add(&keep, r->lo, r->hi) < 0) ||
		    (in && r->lo < port && rangeset_add(&keep, r->lo, port - 1) < 0) ||
		    (in && r->hi > port && rangeset_add(&keep, port + 1, r->hi) < 0)) {
			free(keep.v);
			return report_error(&a->rep, "out of memory");
		}
	}
	free(a->ports.udp.v);
	a->ports.udp = keep;
	return 0;
}

static void probe_wg(struct audit *a)
{
	struct report_wg *w = &a->rep.wg;
	struct wgprobe_opts po = { .target = a->target, .port = a->p->net.port, .tries = 3,
				   .wait_ms = 1000 };
	struct wgprobe_report pr;
	int r;

	w->port = a->p->net.port;
	if (!a->key) {
		w->check = WG_NOT_VERIFIABLE;
		snprintf(w->observed, sizeof(w->observed), "not probed");
		snprintf(w->text, sizeof(w->text), "not verifiable without a peer key: a node "
			 "answers only its peers (--as PEER --key FILE)");
		return;
	}
	po.node_pub = a->p->nodes[a->node].key;
	po.priv = a->key;
	if ((r = wgprobe_run(&po, &pr)) < 0) {
		w->check = WG_NOTICE;
		snprintf(w->observed, sizeof(w->observed), "not probed");
		snprintf(w->text, sizeof(w->text), "probe failed: %s", strerror(-r));
		report_error(&a->rep, "the WireGuard probe of %s failed: %s", a->o.target,
			     strerror(-r));
		return;
	}
	snprintf(w->observed, sizeof(w->observed), "%s", wgprobe_result_name(pr.result));
	switch (pr.result) {
	case WGPROBE_HANDSHAKE:
		w->check = WG_VERIFIED;
		snprintf(w->text, sizeof(w->text), "handshake completed as %s in %.1f ms%s",
			 a->p->nodes[a->as].name, pr.rtt_ms, pr.cookie ? " (after a cookie reply: "
			 "the node is under load)" : "");
		break;
	case WGPROBE_REFUSED:
		w->check = WG_NOTICE;
		snprintf(w->text, sizeof(w->text), "reachable, but nothing listens (ICMP port "
			 "unreachable): is the datapath running?");
		break;
	case WGPROBE_SILENCE:
		w->check = WG_DRIFT;
		snprintf(w->text, sizeof(w->text), "no answer to %u initiations from %s: dropped, "
			 "the datapath is down, or the node does not know %s (another policy)",
			 pr.sent, a->p->nodes[a->as].name, a->p->nodes[a->as].name);
		break;
	case WGPROBE_BOGUS:
		w->check = WG_DRIFT;
		snprintf(w->text, sizeof(w->text), "answers that do not authenticate: not this "
			 "node's key, or not WireGuard");
		break;
	}
}

/* ---- nmap ----------------------------------------------------------------------- */

static void scan_opts_fill(const struct audit *a, struct scan_opts *so)
{
	*so = (struct scan_opts){
		.nmap = a->o.nmap, .target = a->o.target, .v6 = a->target.family == AF_INET6,
		.ports = &a->ports, .raw = geteuid() == 0, .timing = a->o.timing,
		.min_rate = a->o.min_rate, .max_retries = a->o.max_retries,
		.timeout = a->o.timeout,
	};
	if (a->use_src) {
		so->source = a->src_str;
		so->iface = a->src_if;
	}
}

static int scan_failed(struct audit *a, int r, const struct scan_info *si)
{
	char first[256];

	snprintf(first, sizeof(first), "%.255s", si->stderr_text);
	first[strcspn(first, "\n")] = '\0';
	switch (r) {
	case -ENOENT:
		return report_error(&a->rep, "%s not found: install nmap (apt install nmap)",
				    a->o.nmap ? a->o.nmap : "nmap");
	case -ETIMEDOUT:
		return report_error(&a->rep, "nmap did not finish within %u s (--timeout)",
				    a->o.timeout);
	case -EFBIG:
		return report_error(&a->rep, "nmap's XML output is larger than the parser takes");
	case -E2BIG:
		return report_error(&a->rep, "nmap's XML output lists more than %u port states for "
				    "one protocol (nmap reports each port once): refused",
				    NMAPXML_MAX_PORTS);
	case -EIO:
		if (!si->signal && si->status == 0)
			return report_error(&a->rep, "nmap did not finish its scan: %s",
					    first[0] ? first : "its report says it stopped early");
		return report_error(&a->rep, "nmap failed (%s %d): %s", si->signal ? "signal" :
				    "exit status", si->signal ? si->signal : si->status,
				    first[0] ? first : "no message");
	case -EBADMSG:
		return report_error(&a->rep, "nmap's XML output does not parse (line %lu, column "
				    "%lu)", si->xml_line, si->xml_col);
	default:
		return report_error(&a->rep, "running nmap: %s", strerror(-r));
	}
}

/* The target never showed up: say why, never pass. */
static int host_missing(struct audit *a)
{
	const struct nmap_result *res = a->res;
	char first[256];

	snprintf(first, sizeof(first), "%.255s", a->si.stderr_text);
	first[strcspn(first, "\n")] = '\0';
	if (res->errmsg[0])
		return report_error(&a->rep, "target %s unreachable: %s%s%s", a->o.target,
				    res->errmsg, first[0] ? "; nmap: " : "", first);
	return report_error(&a->rep, "target %s unreachable: nmap found no host there "
			    "(%u down; no ARP/ND or route)%s%s", a->o.target, res->hosts_down,
			    first[0] ? "; nmap: " : "", first);
}

/* Is nmap's report about the target? (One host is scanned; a report about
 * another one is not evidence about this one.) */
static bool same_host(const struct nmap_result *res, const struct addr *target)
{
	struct addr h;

	return addr_parse(res->host_addr, &h) == 0 && h.family == target->family &&
	       !memcmp(h.b, target->b, addr_size(h.family));
}

static int other_host(struct audit *a, const struct nmap_result *res)
{
	return report_error(&a->rep, "nmap's report is about %s, not the target %s",
			    res->host_addr[0] ? res->host_addr : "no address", a->o.target);
}

/* The auditor's own handshake with the node, at the endpoint this host's
 * datapath uses (or the policy's), left unconfirmed so that the node keeps
 * using the datapath's session. */
static int vpn_probe(struct audit *a, const struct tunnel_peer *tp)
{
	const struct node *nd = &a->p->nodes[a->node];
	struct wgprobe_opts po = { .node_pub = nd->key, .priv = a->key, .tries = 3,
				   .wait_ms = 1000, .unconfirmed = true };
	const char *node = a->o.node, *as = a->p->nodes[a->as].name;
	struct wgprobe_report pr;
	char ip[ADDR_STRLEN], ep[ADDR_STRLEN + 8];
	int r;

	if (tp && tp->has_endpoint) {
		po.target = tp->endpoint;
		po.port = tp->endpoint_port;
	} else if (!nd->endpoint || tunnel_endpoint_parse(nd->endpoint, strlen(nd->endpoint),
							  &po.target, &po.port) < 0) {
		return report_error(&a->rep, "target %s: no port answered, nor ping, and there is "
				    "no endpoint of %s to prove it by a handshake", a->o.target, node);
	}
	snprintf(ep, sizeof(ep), po.target.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 addr_str(&po.target, ip), po.port);
	if ((r = wgprobe_run(&po, &pr)) < 0)
		return report_error(&a->rep, "the WireGuard probe of %s at %s failed: %s", node,
				    ep, strerror(-r));
	if (pr.result != WGPROBE_HANDSHAKE)
		return report_error(&a->rep, "target %s unreachable over the VPN: no port answered, "
				    "nor ping, nor a WireGuard handshake at %s (%s): %s is down, "
				    "its WireGuard port is blocked, or it does not know %s",
				    a->o.target, ep, wgprobe_result_name(pr.result), node, as);
	return report_notice(&a->rep, "no port answered and no ping, but the tunnel is up: %s "
			     "answered %s's WireGuard handshake at %s (%.1f ms), so the silence "
			     "is %s's drop", node, as, ep, pr.rtt_ms, node) < 0 ? -1 : 0;
}

/* Over the VPN, silence on every port and to ping is what a policy that
 * gives this peer nothing looks like — and what a node that is down looks
 * like. A WireGuard handshake tells them apart, as the one answer a node
 * gives only to what it received: one this host's datapath completed with
 * the node after the scan started, or, with --key, the auditor's own (and
 * then the datapath must hold a live session, or the probes went nowhere). */
static int vpn_alive(struct audit *a)
{
	const char *node = a->o.node, *as = a->p->nodes[a->as].name;
	struct tunnel_peer tp;
	int r = tunnel_read(a->src_if, a->p->nodes[a->node].key, &tp);

	if (r == 0 && !tp.found)
		return report_error(&a->rep, "target %s unreachable over the VPN: this host's "
				    "datapath (%s) has no peer with %s's key", a->o.target,
				    a->src_if, node);
	if (r == 0 && tunnel_handshake_since(&tp, &a->t0))
		return report_notice(&a->rep, "no port answered and no ping, but the tunnel is up: "
				     "this host's datapath completed a handshake with %s during "
				     "the audit, so the silence is %s's drop", node, node) < 0 ? -1 : 0;
	if (r == 0 && tp.handshake.tv_sec + SESSION_SECS < a->t0.tv_sec)
		return report_error(&a->rep, "target %s unreachable over the VPN: no port answered, "
				    "nor ping, and this host's datapath has no live session with "
				    "%s (no handshake in %d s, none during the audit)", a->o.target,
				    node, SESSION_SECS);
	if (!a->key)
		return report_error(&a->rep, "target %s: no port answered, nor ping, and nothing "
				    "proves the probes reached %s (%s%s): a handshake would — add "
				    "--key with %s's private key, or give %s icmp to %s in an acl",
				    a->o.target, node, r < 0 ? "this host's datapath could not be "
				    "read: " : "no handshake during the audit",
				    r < 0 ? strerror(-r) : "", as, as, node);
	return vpn_probe(a, r == 0 ? &tp : NULL);
}

/* Nothing answered on any port: the host must prove it is there some other
 * way (ARP/ND during the scan, or host discovery now), or the audit fails. */
static int check_alive(struct audit *a)
{
	struct rangeset probe = { 0 };
	struct nmap_result *disc = NULL;
	struct scan_opts so;
	struct scan_info si;
	int r;

	if (a->d.answered || (a->res->host_reason[0] && strcmp(a->res->host_reason, "user-set")))
		return 0;
	for (size_t i = 0; i < a->e->n; i++)
		if (a->e->v[i].allowed && a->e->v[i].proto == IPPROTO_TCP &&
		    rangeset_add(&probe, a->e->v[i].port, a->e->v[i].port) < 0)
			break;
	scan_opts_fill(a, &so);
	so.discover = true;
	so.ports = NULL;
	so.probe_tcp = &probe;
	r = scan_run(&so, &disc, &si);
	free(probe.v);
	if (r == 0 && disc->host == NMAP_HOST_UP && !same_host(disc, &a->target)) {
		other_host(a, disc);
		nmap_result_free(disc);
		return -1;
	}
	if (r == 0 && disc->host == NMAP_HOST_UP) {
		report_notice(&a->rep, "no scanned port answered; the host answered host discovery "
			      "(%s)", disc->host_reason);
		nmap_result_free(disc);
		return 0;
	}
	nmap_result_free(disc);
	if (a->c.zone == EXPECT_VPN)
		return vpn_alive(a);
	return report_error(&a->rep, "target %s unreachable: no port answered, nor ping or "
			    "ARP/ND (the host is down, or everything is dropped)", a->o.target);
}

static int run_nmap(struct audit *a)
{
	struct scan_opts so;
	int r;

	scan_opts_fill(a, &so);
	if (!expect_ports_count(&a->ports))
		return 0; /* only the WireGuard port to check */
	clock_gettime(CLOCK_REALTIME, &a->t0);
	r = scan_run(&so, &a->res, &a->si);
	if (r < 0)
		return scan_failed(a, r, &a->si);
	a->rep.nmap_version = a->res->version;
	a->rep.scan_type = a->ports.tcp.n && a->res->scan_type[NMAP_TCP][0]
			   ? a->res->scan_type[NMAP_TCP] : a->res->scan_type[NMAP_UDP];
	a->rep.seconds = a->si.seconds;
	if (a->res->host != NMAP_HOST_UP)
		return host_missing(a);
	if (!same_host(a->res, &a->target))
		return other_host(a, a->res);
	return 0;
}

/* ---- the audit ------------------------------------------------------------------ */

static int compare_and_judge(struct audit *a)
{
	struct nmap_result empty = { .nreasons = 1 };
	const struct nmap_result *res = a->res ? a->res : &empty;

	if (compare_run(a->e, res, &a->d) < 0)
		return report_error(&a->rep, "out of memory");
	a->rep.d = &a->d;
	if (a->d.count[AUDIT_UNKNOWN])
		return report_error(&a->rep, "nmap reported no state for %zu port(s)",
				    a->d.count[AUDIT_UNKNOWN]);
	if (a->res && check_alive(a) < 0)
		return -1;
	if (a->wg_check)
		probe_wg(a);
	if (a->rep.exit == EXIT_ERROR)
		return -1;
	/* no port compared and no handshake: nothing was proven, so nothing may
	 * pass (silence to a known peer's key is drift, not a pass either) */
	if (!a->e->n && a->rep.wg.check != WG_VERIFIED && a->rep.wg.check != WG_DRIFT)
		return report_error(&a->rep, "nothing verified: no port was compared, and the "
				    "WireGuard port %s", a->rep.wg.check == WG_NOT_VERIFIABLE
				    ? "needs a peer key (--as PEER --key FILE)"
				    : "gave no handshake");
	a->rep.exit = a->d.count[AUDIT_DRIFT] || a->rep.wg.check == WG_DRIFT ? EXIT_DRIFT
									     : EXIT_MATCH;
	return 0;
}

/* No port in the plan and no WireGuard port to probe: say why, never pass. */
static int nothing_to_audit(struct audit *a, bool udp_left_out)
{
	if (udp_left_out)
		return report_error(&a->rep, "nothing to audit: the ports asked for are UDP, and "
				    "nmap's UDP scan needs root (run as root, or list TCP ports)");
	if (!strcmp(a->o.ports, "declared"))
		return report_error(&a->rep, "nothing to audit: %s declares no port (no expose "
				    "rule, acl or breakglass names it) and has no endpoint; list "
				    "ports with --ports", a->o.node);
	return report_error(&a->rep, "nothing to audit: no port in scope (--ports %s)",
			    a->o.ports);
}

static int plan(struct audit *a)
{
	struct expect_vantage v = { .zone = a->c.zone, .src = &a->src, .now = time(NULL) };
	bool udp_left_out;
	char err[512];

	if (pick_vantage(a) < 0)
		return -1;
	v.zone = a->c.zone;
	if (a->o.key && !a->key && load_key(a) < 0)
		return -1;
	if (a->as >= 0)
		a->rep.as = a->p->nodes[a->as].name;
	if (expect_ports_parse(a->p, a->node, a->o.ports, &a->ports, err, sizeof(err)) < 0)
		return report_error(&a->rep, "%s", err);
	if (a->ports.udp_star)
		report_notice(&a->rep, "a declared udp:* was not expanded (list UDP ports with "
			      "--ports udp:N-M)");
	if (plan_wg(a) < 0)
		return -1;
	udp_left_out = geteuid() != 0 && a->ports.udp.n;
	if (udp_left_out) { /* not in the plan: no UNKNOWN rows */
		report_notice(&a->rep, "UDP ports not scanned: nmap's UDP scan needs root");
		free(a->ports.udp.v);
		a->ports.udp = (struct rangeset){ 0 };
	}
	if (expect_build(a->p, a->node, &v, &a->ports, &a->e) < 0)
		return report_error(&a->rep, "out of memory");
	if (!a->e->n && !a->wg_check)
		return nothing_to_audit(a, udp_left_out);
	a->c.breakglass = a->p->breakglass.present ? &a->p->breakglass.ports : NULL;
	return 0;
}

static int run_scan(struct audit *a)
{
	int r;

	a->rep.node = a->o.node;
	a->rep.target = a->o.target;
	a->rep.c = &a->c;
	if (plan(a) == 0 && run_nmap(a) == 0)
		compare_and_judge(a);
	for (size_t i = 0; a->e && i < a->e->n; i++) {
		if (a->e->v[i].proto == IPPROTO_UDP)
			a->rep.nudp++;
		else
			a->rep.ntcp++;
	}
	if (a->o.json) {
		r = report_json(&a->rep, stdout);
	} else {
		report_table(&a->rep, stdout);
		r = 0;
	}
	if (r < 0 || fflush(stdout))
		return EXIT_ERROR;
	if (a->rep.error && !a->o.json)
		log_error("audit: %s", a->rep.error);
	return a->rep.exit;
}

static void audit_free(struct audit *a)
{
	report_free(&a->rep);
	compare_free(&a->d);
	nmap_result_free(a->res);
	expect_free(a->e);
	expect_ports_free(&a->ports);
	sodium_free(a->key);
	policy_free(a->p);
	free(a->text);
}

int audit_main(int argc, char **argv)
{
	struct audit a = { .as = -1 };
	int r;

	if (parse_opts(argc, argv, &a.o) < 0) {
		fputs(usage_text, stderr);
		return EXIT_ERROR;
	}
	if (load_policy(&a) < 0)
		r = EXIT_ERROR;
	else if (a.o.local)
		r = run_local(&a);
	else
		r = run_scan(&a);
	audit_free(&a);
	return r;
}
