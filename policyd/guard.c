/* guard.c — quarantine in the daemon: denied packets and datapath events in,
 * bans out.
 *
 *   NFLOG (the vpn chain's log of denied and of invalid packets, metered
 *   per source, delivered at once) ─┐
 *   datapath events (device_set_events: only what a peer's keys prove) ─┼─►
 *   policyctl flag ─┘        suspicion engine (quarantine/suspicion.h)
 *        ─► decision ─► quarantine set element with the ban as kernel
 *           timeout, conntrack entries of the peer deleted, its sessions
 *           evicted (evict), one log line with the evidence, state file.
 *
 * Exempt peers and breakglass holders are reported, never banned. A ban
 * ends by itself in the kernel (even with the daemon gone); the daemon's
 * list only mirrors it for status and the state file, which brings bans
 * back after a restart or a reboot (the table is rebuilt with the rest of
 * the remaining time). policyctl reauth lifts a ban at once.
 *
 * The engine and the peer index (address and key → node) follow the policy
 * in force together: a new policy builds both, and only if both could be
 * built are both swapped in. Otherwise the guard is suspended (its node
 * numbers are the old policy's): it scores nothing, answers flag and reauth
 * with an error, and tries again every second; the kernel's bans stay. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "daemon.h"
#include "device.h"
#include "guard.h"
#include "ir.h"
#include "log.h"
#include "select.h"
#include "quarantine/banstate.h"
#include "quarantine/conntrack.h"
#include "quarantine/nflog.h"
#include "quarantine/peerindex.h"
#include "quarantine/statesave.h"
#include "quarantine/suspicion.h"

#define EVENT_RING 256
#define REPORTS 8
#define RANGE_MAX 256         /* addresses quarantined per VPN range of a node */
#define RETRY_MS 1000         /* a suspended guard tries again */
#define SAVE_WAIT_MS 2000     /* at exit, for the state file's last write */
/* Weights of what a peer's own keys prove (SUSPICION_FULL = a ban). None of
 * it is sent by a WireGuard peer that works: */
#define SPOOF_WEIGHT 100      /* 10 packets posing as another node: a ban */
#define FLOOD_WEIGHT 20       /* 50 fresh initiations refused at 50/s: over 1 s of
				 flooding (a peer sends one per 5 s at most) */
#define MALFORMED_WEIGHT 50   /* 20 packets that are not IP (its TUN only carries IP) */

struct guard {
	struct daemon *d;
	struct suspicion_engine *eng;
	struct nflog *nf;
	const char *state_path;
	struct banstate *bans;
	struct statesave *saver;     /* writes the state file off the event loop */
	uint64_t saves_seen;         /* writes whose result was looked at */
	bool save_failing;
	bool stale;                  /* the policy could not be indexed: suspended */
	uint64_t retry_at;           /* ms: the next attempt while stale */
	uint64_t ignored;            /* inputs not scored while suspended */
	/* datapath events, from packet threads to the main thread */
	pthread_mutex_t lock;
	struct peerindex *ix;        /* swapped under lock; read by packet threads */
	struct event {
		uint8_t pub[32];
		enum device_event kind;
		struct addr src;          /* spoofed: the inner source the datapath refused */
		uint32_t len;             /* malformed: bytes decrypted, and the first */
		uint8_t first;
	} ring[EVENT_RING];
	unsigned head, len;
	uint64_t events_lost;
	uint64_t spoof_outside;      /* refused sources that are no node's address: not blamed */
	int efd;
	char reports[REPORTS][320];  /* the latest report-only decisions */
	unsigned nreports;
	uint64_t foreign, unknown;   /* NFLOG packets not ours / from no node */
	uint64_t stray;              /* invalid-state packets that were not probes */
};

/* ---- acting on a decision --------------------------------------------------------- */

/* Every address of a list of VPN prefixes (ranges capped at RANGE_MAX). */
static size_t prefix_addrs(const struct prefix *v, size_t n, struct addr *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < max; i++) {
		struct addr a, hi;

		prefix_bounds(&v[i], &a, &hi);
		for (size_t c = 0; c < RANGE_MAX && k < max; c++) {
			out[k++] = a;
			if (!addr_cmp(&a, &hi) || !addr_inc(&a))
				break;
		}
	}
	return k;
}

static size_t node_addrs(const struct node *n, struct addr *out, size_t max)
{
	return prefix_addrs(n->ips, n->nips, out, max);
}

/* Put the node's addresses in the quarantine sets for ms; cut its
 * conntrack entries. Returns the connections cut, or -errno. */
static int quarantine_node(struct guard *g, const struct node *n, uint64_t ms)
{
	struct addr *a = calloc(RANGE_MAX * 4, sizeof(*a));
	size_t na;
	int r = 0, cut = 0;

	if (!a)
		return -ENOMEM;
	na = node_addrs(n, a, RANGE_MAX * 4);
	for (size_t i = 0; i < na && r >= 0; i++)
		r = rules_quarantine_add(g->d->nl, &a[i], ms);
	/* the drop is in place: a conntrack failure (or its deadline) is logged only */
	if (r >= 0 && (cut = conntrack_kill_srcs(a, na, CONNTRACK_TIMEOUT_MS)) < 0) {
		log_warn("quarantine %s: conntrack: %s", n->name, strerror(-cut));
		cut = 0;
	}
	free(a);
	return r < 0 ? r : cut;
}

/* Take addresses out of the quarantine sets, except those of keep (may be
 * NULL). Returns how many were there. */
static int unquarantine(struct guard *g, const struct prefix *v, size_t n,
			const struct node *keep)
{
	struct addr *a = calloc(RANGE_MAX * 4, sizeof(*a));
	size_t na;
	int gone = 0;

	if (!a)
		return -ENOMEM;
	na = prefix_addrs(v, n, a, RANGE_MAX * 4);
	for (size_t i = 0; i < na; i++) {
		bool kept = false;

		for (size_t j = 0; keep && j < keep->nips && !kept; j++)
			kept = prefix_contains(&keep->ips[j], &a[i]);
		if (!kept && rules_quarantine_del(g->d->nl, &a[i]) == 0)
			gone++; /* -ENOENT: it had expired */
	}
	free(a);
	return gone;
}

static int unquarantine_node(struct guard *g, const struct node *n)
{
	return unquarantine(g, n->ips, n->nips, NULL);
}

/* The text now, the disk later (statesave.h): a slow disk cannot hold up
 * NFLOG, the datapath's events or the control socket. */
static void state_save(struct guard *g)
{
	char *text;
	size_t len;
	int r = banstate_text(g->bans, &text, &len);

	if (r < 0)
		log_error("%s: ban state not saved: %s", g->state_path, strerror(-r));
	else
		statesave_put(g->saver, text, len);
}

/* How the writes went since last asked: a failure is logged once, and the
 * recovery. */
static void state_saved(struct guard *g)
{
	uint64_t done;
	int r = statesave_error(g->saver, &done);

	if (done == g->saves_seen)
		return;
	g->saves_seen = done;
	if (r < 0 && !g->save_failing)
		log_error("%s: ban state not saved: %s", g->state_path, strerror(-r));
	else if (!r && g->save_failing)
		log_info("%s: ban state saved again", g->state_path);
	g->save_failing = r < 0;
}

static void ban_record(struct guard *g, const struct node *n,
		       const struct suspicion_decision *dec, const char *ev)
{
	struct ban b = { .start = time(NULL), .repeat = dec->repeat };

	snprintf(b.name, sizeof(b.name), "%s", n->name);
	for (size_t i = 0; i < n->nips && b.naddrs < BAN_ADDRS_MAX; i++)
		b.addrs[b.naddrs++] = n->ips[i];
	snprintf(b.reason, sizeof(b.reason), "%s", dec->reason);
	snprintf(b.evidence, sizeof(b.evidence), "%s", ev);
	b.expiry = b.start + dec->ban_s;
	if (banstate_add(g->bans, &b) < 0)
		log_error("ban of %s not recorded in the state file", n->name);
	state_save(g);
}

static int decide(struct guard *g, const struct suspicion_decision *dec)
{
	const struct node *n = &g->d->p->nodes[dec->peer];
	char ev[BAN_EVIDENCE_MAX];
	bool evicted;
	int cut;

	suspicion_evidence_format(dec, ev, sizeof(ev));
	if (dec->report_only) {
		snprintf(g->reports[g->nreports++ % REPORTS], sizeof(g->reports[0]),
			 "%.64s: %.100s; evidence %.100s; not banned: %s", n->name, dec->reason, ev,
			 dec->exempt ? "exempt" : "breakglass holder");
		log_warn("suspicion: %s: %s; evidence %s; not banned: %s", n->name, dec->reason, ev,
			 dec->exempt ? "suspicion.exempt" : "breakglass holder");
		return 0;
	}
	if ((cut = quarantine_node(g, n, (uint64_t)dec->ban_s * 1000)) < 0) {
		/* not half-banned: the engine forgets the ban, the kernel any part of it */
		log_error("quarantine %s FAILED (%s): %s; evidence %s", n->name, dec->reason,
			  strerror(-cut), ev);
		(void)suspicion_lift(g->eng, dec->peer, clock_ms());
		(void)unquarantine_node(g, n);
		return cut;
	}
	(void)suspicion_confirm(g->eng, dec->peer); /* in force: it counts for the backoff */
	evicted = dec->evict && device_peer_evict(g->d->dev, n->key) == 0;
	log_warn("quarantine: %s banned for %us (ban %u): %s; evidence %s; %d connection(s) cut%s",
		 n->name, dec->ban_s, dec->repeat + 1, dec->reason, ev, cut,
		 evicted ? ", sessions evicted" : "");
	ban_record(g, n, dec, ev);
	return 0;
}

/* ---- inputs ------------------------------------------------------------------------- */

/* TCP flag sets no stack sends: nmap's NULL (-sN) and Xmas (-sX: FIN PSH
 * URG) probes, and SYN with FIN or RST. A lone FIN, ACK or RST is what a
 * closed connection leaves behind and names no port. */
static bool tcp_impossible(uint8_t flags)
{
	uint8_t f = flags & 0x3f;   /* without ECE, CWR */

	return f == 0 || (f & 0x29) == 0x29 || (f & 0x03) == 0x03 || (f & 0x06) == 0x06;
}

static void score_port(struct guard *g, size_t node, uint8_t proto, uint16_t port)
{
	struct suspicion_decision dec;

	if (suspicion_denied(g->eng, node, proto, port, clock_ms(), &dec) == 1)
		(void)decide(g, &dec);
}

/* Denied by the ACLs. Only what opens something names a port: a stray ACK
 * or RST (a session whose conntrack entry is gone) lands on our ephemeral
 * ports. No transport header within what NFLOG copied (IPv6 padded with
 * extension headers): each such probe weighs as a new port would. */
static void on_denied(struct guard *g, size_t node, const struct nflog_pkt *pkt)
{
	const struct suspicion *s = &g->d->p->suspicion;
	bool port = pkt->has_l4 && (pkt->proto != IPPROTO_TCP || pkt->syn ||
				    (pkt->has_flags && tcp_impossible(pkt->tcp_flags)));

	if (!pkt->has_l4 && !pkt->fragment) {
		struct suspicion_decision dec;
		uint32_t w = SUSPICION_FULL / (s->denied_ports ? s->denied_ports : 1);

		if (suspicion_signal(g->eng, node, SUSPICION_SIG_HEADERLESS, w ? w : 1, NULL,
				     clock_ms(), &dec) == 1)
			(void)decide(g, &dec);
		return;
	}
	score_port(g, node, pkt->proto, port ? pkt->dport : 0);
}

/* Invalid to conntrack: a probe of its port if its TCP flags are impossible;
 * anything else (window tracking, late segments of a busy session) is not
 * held against anyone. */
static void on_invalid(struct guard *g, size_t node, const struct nflog_pkt *pkt)
{
	if (pkt->has_l4 && pkt->proto == IPPROTO_TCP && pkt->has_flags &&
	    tcp_impossible(pkt->tcp_flags))
		score_port(g, node, IPPROTO_TCP, pkt->dport);
	else
		g->stray++;
}

static void on_packet(void *ctx, const struct nflog_pkt *pkt)
{
	struct guard *g = ctx;
	bool invalid = !strcmp(pkt->prefix, IR_LOG_PREFIX_INVALID);
	long node;

	if ((!invalid && strcmp(pkt->prefix, IR_LOG_PREFIX)) || !pkt->family) {
		g->foreign++;
		return;
	}
	if (g->stale) {
		g->ignored++;
		return;
	}
	if ((node = peerindex_owner(g->ix, &pkt->src)) < 0 || (size_t)node == g->d->self) {
		g->unknown++;
		return;
	}
	if (invalid)
		on_invalid(g, (size_t)node, pkt);
	else
		on_denied(g, (size_t)node, pkt);
}

static bool current(struct guard *g);

void guard_on_nflog(struct guard *g)
{
	int r;

	(void)current(g);
	if ((r = nflog_read(g->nf, on_packet, g)) < 0 && r != -EAGAIN)
		log_debug("nflog: %s", strerror(-r));
}

static void inner_src(const uint8_t *inner, size_t len, struct addr *src)
{
	memset(src, 0, sizeof(*src));
	if (len >= 20 && inner[0] >> 4 == 4) {
		src->family = AF_INET;
		memcpy(src->b, inner + 12, 4);
	} else if (len >= 40 && inner[0] >> 4 == 6) {
		src->family = AF_INET6;
		memcpy(src->b, inner + 8, 16);
	}
}

/* Packet threads: queue what may count against a peer, wake the main
 * thread. A spoofed source that is no node's address is dropped here (a
 * peer whose policy lags an address change, or an outsider's reply, see
 * below): a peer cannot make the main thread work per packet for nothing. */
static void on_event(void *ctx, const uint8_t pub[32], enum device_event ev,
		     const uint8_t *inner, size_t len)
{
	struct guard *g = ctx;
	struct event e = { .kind = ev, .len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len,
			   .first = len ? inner[0] : 0 };
	uint64_t one = 1;
	bool queued = false;

	memcpy(e.pub, pub, 32);
	if (ev == DEVICE_EV_SPOOFED_SOURCE)
		inner_src(inner, len, &e.src);
	pthread_mutex_lock(&g->lock);
	if (ev == DEVICE_EV_SPOOFED_SOURCE && peerindex_owner(g->ix, &e.src) < 0)
		g->spoof_outside++;
	else if ((queued = g->len < EVENT_RING))
		g->ring[(g->head + g->len++) % EVENT_RING] = e;
	else
		g->events_lost++;
	pthread_mutex_unlock(&g->lock);
	if (queued)
		(void)!write(g->efd, &one, sizeof(one));
}

/* What an event weighs, and what the evidence says of it; false if it is
 * not held against the peer (a spoofed source that is no node's now). A
 * peer posing as another node's address is; one outside the nodes is not:
 * the peer's kernel answers from its public address when someone outside
 * spoofs a mesh address at it (a SYN to an exposed port brings a SYN-ACK
 * into the tunnel), so an outsider could get it banned. */
static bool event_weigh(struct guard *g, const struct event *e, enum suspicion_signal_kind *kind,
			uint32_t *w, char *note, size_t len)
{
	char a[ADDR_STRLEN];
	long owner;

	note[0] = '\0';
	switch (e->kind) {
	case DEVICE_EV_SPOOFED_SOURCE:
		if ((owner = peerindex_owner(g->ix, &e->src)) < 0)
			return false;
		snprintf(note, len, "last as %.40s's %s", g->d->p->nodes[owner].name,
			 addr_str(&e->src, a));
		*kind = SUSPICION_SIG_SPOOFED;
		*w = SPOOF_WEIGHT;
		return true;
	case DEVICE_EV_HANDSHAKE_FLOOD:
		*kind = SUSPICION_SIG_HANDSHAKE_FLOOD;
		*w = FLOOD_WEIGHT;
		return true;
	case DEVICE_EV_INNER_MALFORMED:
		snprintf(note, len, "last %u bytes, IP version %u", e->len, e->first >> 4);
		*kind = SUSPICION_SIG_MALFORMED;
		*w = MALFORMED_WEIGHT;
		return true;
	}
	return false;
}

static bool event_pop(struct guard *g, struct event *e)
{
	bool got;

	pthread_mutex_lock(&g->lock);
	if ((got = g->len > 0)) {
		*e = g->ring[g->head];
		g->head = (g->head + 1) % EVENT_RING;
		g->len--;
	}
	pthread_mutex_unlock(&g->lock);
	return got;
}

void guard_on_events(struct guard *g)
{
	struct event e;
	uint64_t n;

	(void)!read(g->efd, &n, sizeof(n));
	(void)current(g);
	while (event_pop(g, &e)) {
		struct suspicion_decision dec;
		enum suspicion_signal_kind kind;
		char note[SUSPICION_NOTE_MAX];
		uint32_t w;
		long node;

		if (g->stale) {
			g->ignored++;
			continue;
		}
		if ((node = peerindex_by_key(g->ix, e.pub)) < 0 || (size_t)node == g->d->self)
			continue;
		if (!event_weigh(g, &e, &kind, &w, note, sizeof(note))) {
			pthread_mutex_lock(&g->lock); /* packet threads count here too */
			g->spoof_outside++;
			pthread_mutex_unlock(&g->lock);
			continue;
		}
		if (suspicion_signal(g->eng, (size_t)node, kind, w, note, clock_ms(), &dec) == 1)
			(void)decide(g, &dec);
	}
}

/* ---- admin verbs -------------------------------------------------------------------- */

/* Suspended (the policy in force could not be indexed): the engine's node
 * numbers are not the policy's, so it must not be asked. */
static bool suspended(struct guard *g, char *msg, size_t len)
{
	if (current(g))
		return false;
	snprintf(msg, len, "quarantine is suspended (out of memory after the last policy change); "
		 "try again");
	return true;
}

int guard_flag(struct guard *g, const char *name, const char *reason, char *msg, size_t len)
{
	long node = policy_node_find(g->d->p, name);
	struct suspicion_decision dec;
	int r;

	if (suspended(g, msg, len))
		return -EAGAIN;
	if (node < 0 || (size_t)node == g->d->self) {
		snprintf(msg, len, "\"%.64s\" is not a peer of this node", name);
		return -ENOENT;
	}
	if ((r = suspicion_flag(g->eng, (size_t)node, reason, clock_ms(), &dec)) == -EALREADY) {
		snprintf(msg, len, "%s is quarantined already", name);
		return r;
	}
	if (r < 0) {
		snprintf(msg, len, "%s", strerror(-r));
		return r;
	}
	if ((r = decide(g, &dec)) < 0) {
		snprintf(msg, len, "the kernel refused the ban of %s: %s", name, strerror(-r));
		return r;
	}
	if (dec.report_only)
		snprintf(msg, len, "%s is %s: reported, not banned", name,
			 dec.exempt ? "exempt (suspicion.exempt)" : "a breakglass holder");
	else
		snprintf(msg, len, "%s quarantined for %us", name, dec.ban_s);
	return 0;
}

int guard_reauth(struct guard *g, const char *name, char *msg, size_t len)
{
	long node = policy_node_find(g->d->p, name);
	bool engine, recorded;
	int gone;

	if (suspended(g, msg, len))
		return -EAGAIN;
	if (node < 0 || (size_t)node == g->d->self) {
		snprintf(msg, len, "\"%.64s\" is not a peer of this node", name);
		return -ENOENT;
	}
	engine = suspicion_lift(g->eng, (size_t)node, clock_ms()) == 0;
	recorded = banstate_find(g->bans, name) != NULL;
	/* whatever the records say, the kernel's sets are cleared of the node */
	gone = unquarantine_node(g, &g->d->p->nodes[node]);
	if (!engine && !recorded && gone <= 0) {
		snprintf(msg, len, "%s is not quarantined", name);
		return -ENOENT;
	}
	(void)device_peer_handshake(g->d->dev, g->d->p->nodes[node].key);
	banstate_del(g->bans, name);
	state_save(g);
	log_warn("reauth: %s re-authorised by an admin, quarantine lifted", name);
	snprintf(msg, len, "%s re-authorised: quarantine lifted", name);
	return 0;
}

/* ---- life cycle ------------------------------------------------------------------------ */

/* What is left of a recorded ban: never more than a ban of its rank lasts
 * under the policy, so a clock that was behind at boot cannot stretch it. */
static uint64_t ban_left_ms(const struct guard *g, const struct ban *b, time_t now)
{
	uint64_t cap = suspicion_ban_length(g->eng, b->repeat);
	int64_t left = b->expiry - now;

	if (left <= 0)
		return 0;
	return ((uint64_t)left < cap ? (uint64_t)left : cap) * 1000;
}

static bool never_banned(const struct policy *p, size_t node)
{
	return select_node(p, &p->suspicion.exempt, node) ||
	       (p->breakglass.present && select_node(p, &p->breakglass.holders, node));
}

static void ban_drop(struct guard *g, const struct ban *b, size_t node)
{
	/* not banned, and the engine says so too; the earlier bans still count */
	(void)suspicion_restore(g->eng, node, banstate_count(g->bans, b->name), 0);
	banstate_del(g->bans, b->name);
}

/* Put a recorded ban (back) into the kernel on the node's addresses of now,
 * with left ms, and take it off any old ones. If the kernel refuses, the
 * ban is dropped everywhere, loudly (not kept half: a status that says
 * banned while the kernel lets the peer in and the engine ignores it);
 * should the peer go on, the engine bans it anew, its backoff intact.
 * false if dropped. */
static bool ban_move(struct guard *g, struct ban *b, size_t node, uint64_t left)
{
	const struct node *n = &g->d->p->nodes[node];
	int r = quarantine_node(g, n, left);

	if (r < 0) {
		log_error("ban of %s DROPPED: the kernel refused it (%s); %s is not quarantined "
			  "(a new decision will ban it again)", b->name, strerror(-r), b->name);
		(void)unquarantine_node(g, n);
		(void)unquarantine(g, b->addrs, b->naddrs, NULL);
		ban_drop(g, b, node);
		return false;
	}
	(void)unquarantine(g, b->addrs, b->naddrs, n); /* old addresses only */
	b->naddrs = 0;
	for (size_t k = 0; k < n->nips && k < BAN_ADDRS_MAX; k++)
		b->addrs[b->naddrs++] = n->ips[k];
	return true;
}

static bool same_addrs(const struct ban *b, const struct node *n)
{
	if (b->naddrs != (n->nips < BAN_ADDRS_MAX ? n->nips : BAN_ADDRS_MAX))
		return false;
	for (size_t i = 0; i < b->naddrs; i++)
		if (addr_cmp(&b->addrs[i].a, &n->ips[i].a) || b->addrs[i].a.family !=
		    n->ips[i].a.family || b->addrs[i].len != n->ips[i].len)
			return false;
	return true;
}

/* Bans follow names, the kernel's elements follow addresses: make them agree
 * after a policy change, and at start (restoring). A ban whose node is gone,
 * or is now exempt or a holder, is lifted; one whose node has new addresses
 * moves to them with the time it has left; restoring puts every ban back in
 * the engine and the kernel (the table may be new after a reboot). */
static void reconcile(struct guard *g, bool restoring)
{
	const struct policy *p = g->d->p;
	time_t now = time(NULL);
	bool changed = banstate_expire(g->bans, now) > 0;

	for (size_t i = 0; i < g->bans->n;) {
		struct ban *b = &g->bans->v[i];
		long node = policy_node_find(p, b->name);
		uint64_t left = ban_left_ms(g, b, now);
		const struct node *n = node >= 0 ? &p->nodes[node] : NULL;

		if (!n || (size_t)node == g->d->self || never_banned(p, (size_t)node) || !left) {
			log_warn("ban of %s lifted: %s", b->name, !n ? "no such node any more"
				 : !left ? "it has run out" : "it is exempt or a breakglass holder now");
			(void)unquarantine(g, b->addrs, b->naddrs, NULL);
			if (n)
				(void)suspicion_lift(g->eng, (size_t)node, clock_ms());
			banstate_del(g->bans, b->name); /* the next ban moves to i */
			changed = true;
			continue;
		}
		changed |= restoring || !same_addrs(b, n);
		if ((restoring || !same_addrs(b, n)) && !ban_move(g, b, (size_t)node, left))
			continue; /* dropped: the next ban moves to i */
		if (restoring) {
			suspicion_restore(g->eng, (size_t)node, banstate_count(g->bans, b->name),
					  clock_ms() + left);
			log_info("ban of %s restored: %llus left (%s)", b->name,
				 (unsigned long long)(left / 1000), b->reason);
		}
		i++;
	}
	if (changed)
		state_save(g);
}

static void restore(struct guard *g)
{
	for (size_t i = 0; i < g->d->p->nnodes; i++) { /* earlier bans: the backoff */
		const char *name = g->d->p->nodes[i].name;
		uint32_t count = banstate_count(g->bans, name);

		if (count && i != g->d->self && !banstate_find(g->bans, name))
			suspicion_restore(g->eng, i, count, 0);
	}
	reconcile(g, true);
}

/* A missing file is a first start. A corrupt one is set aside, loudly, and
 * the daemon starts without bans: refusing to start would leave a rebooted
 * host with no firewall at all. */
static int state_load(struct guard *g, char *err, size_t errlen)
{
	char dir[4096], aside[4200], *slash;
	int r;

	snprintf(dir, sizeof(dir), "%s", g->state_path);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "%.200s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	r = banstate_load(g->state_path, time(NULL), &g->bans, err, errlen);
	if (r == -EINVAL || r == -EFBIG) {
		snprintf(aside, sizeof(aside), "%s.corrupt", g->state_path);
		log_error("%s: %s; moved to %s, starting without bans", g->state_path,
			  r == -EFBIG ? "too big" : err, aside);
		(void)rename(g->state_path, aside);
		r = -ENOENT;
	}
	if (r == -ENOENT && !(g->bans = banstate_new()))
		return -ENOMEM;
	if (r < 0 && r != -ENOENT) {
		snprintf(err, errlen, "%s", strerror(-r));
		return r;
	}
	return 0;
}

int guard_new(struct daemon *d, const char *state_path, struct guard **out)
{
	struct guard *g = calloc(1, sizeof(*g));
	char err[256];
	int r;

	if (!g)
		return -ENOMEM;
	g->d = d;
	g->state_path = state_path;
	g->efd = -1;
	pthread_mutex_init(&g->lock, NULL);
	if ((r = suspicion_new(d->p, &g->eng)) < 0 || (r = peerindex_new(d->p, &g->ix)) < 0)
		goto fail;
	if ((g->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = nflog_open(IR_NFLOG_GROUP, &g->nf)) < 0) {
		log_error("NFLOG group %d: %s (another listener in this namespace?)",
			  IR_NFLOG_GROUP, strerror(-r));
		goto fail;
	}
	if ((r = state_load(g, err, sizeof(err))) < 0) {
		log_error("%s: %s", state_path, err);
		goto fail;
	}
	if ((r = statesave_new(state_path, &g->saver)) < 0)
		goto fail;
	restore(g);
	device_set_events(d->dev, on_event, g);
	*out = g;
	return 0;
fail:
	guard_free(g);
	return r;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	if (statesave_free(g->saver, SAVE_WAIT_MS) < 0)
		log_error("%s: the last ban state was not written within %d ms (a slow disk?)",
			  g->state_path, SAVE_WAIT_MS);
	suspicion_free(g->eng);
	nflog_close(g->nf);
	banstate_free(g->bans);
	if (g->efd >= 0)
		close(g->efd);
	pthread_mutex_destroy(&g->lock);
	peerindex_free(g->ix);
	free(g);
}

/* The engine and the index for p: both built, then both swapped in; or
 * neither (-ENOMEM). */
static int rebuild(struct guard *g, const struct policy *p)
{
	struct suspicion_reload *sr;
	struct peerindex *ix, *old;

	if (peerindex_new(p, &ix) < 0)
		return -ENOMEM;
	if (suspicion_reload_prepare(g->eng, p, &sr) < 0) {
		peerindex_free(ix);
		return -ENOMEM;
	}
	suspicion_reload_commit(g->eng, sr);
	pthread_mutex_lock(&g->lock);
	old = g->ix;
	g->ix = ix;
	pthread_mutex_unlock(&g->lock);
	peerindex_free(old);
	return 0;
}

void guard_policy(struct guard *g, const struct policy *p)
{
	if (rebuild(g, p) < 0) {
		if (!g->stale)
			log_error("quarantine SUSPENDED: out of memory following the new policy; "
				  "nothing is scored until it can (retried every %d ms); the "
				  "kernel's bans stay in force", RETRY_MS);
		g->stale = true;
		g->retry_at = clock_ms() + RETRY_MS;
		return;
	}
	if (g->stale)
		log_warn("quarantine resumed: %llu inputs were not scored meanwhile",
			 (unsigned long long)g->ignored);
	g->stale = false;
	reconcile(g, false);
}

/* In step with the policy in force? A suspended guard tries again, at
 * most every RETRY_MS. */
static bool current(struct guard *g)
{
	if (g->stale && clock_ms() >= g->retry_at)
		guard_policy(g, g->d->p);
	return !g->stale;
}

int guard_fds(const struct guard *g, struct pollfd *pfd)
{
	pfd[0] = (struct pollfd){ nflog_fd(g->nf), POLLIN, 0 };
	pfd[1] = (struct pollfd){ g->efd, POLLIN, 0 };
	return 2;
}

/* Bans that ran out leave the list; ms until the next one does (-1: none),
 * or until the next attempt of a suspended guard. */
int guard_tick(struct guard *g)
{
	time_t now = time(NULL), next = 0;
	int ms;

	state_saved(g);
	if (banstate_expire(g->bans, now))
		state_save(g);
	for (size_t i = 0; i < g->bans->n; i++)
		if (!next || g->bans->v[i].expiry < next)
			next = (time_t)g->bans->v[i].expiry;
	ms = !next ? -1 : next - now > 3600 ? 3600 * 1000 : (int)((next - now) * 1000 + 50);
	if (!current(g) && (ms < 0 || ms > RETRY_MS))
		ms = RETRY_MS;
	return ms;
}

void guard_status(struct guard *g, FILE *f)
{
	time_t now = time(NULL);
	const struct nflog_stats *st = nflog_stats(g->nf);
	uint64_t outside, lost;

	fprintf(f, "quarantine: %zu banned%s\n", g->bans->n, g->stale ? "; SUSPENDED (out of "
		"memory after the last policy change): nothing is scored, retrying" : "");
	for (size_t i = 0; i < g->bans->n; i++) {
		const struct ban *b = &g->bans->v[i];
		time_t t0 = (time_t)b->start, t1 = (time_t)b->expiry;
		char start[32], end[32];

		strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t0));
		strftime(end, sizeof(end), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t1));
		fprintf(f, "  %-20s banned %s until %s (%llds left, ban %u): %s; evidence %s\n",
			b->name, start, end, (long long)(t1 - now), b->repeat + 1, b->reason,
			b->evidence);
	}
	for (unsigned i = 0; i < REPORTS && i < g->nreports; i++)
		fprintf(f, "  reported: %s\n", g->reports[(g->nreports - 1 - i) % REPORTS]);
	fprintf(f, "denied-packet log: %llu packets, %llu lost to overflow, %llu not from a peer, "
		   "%llu invalid but not probes, %llu not scored while suspended\n",
		(unsigned long long)st->packets, (unsigned long long)(st->overflows + st->lost),
		(unsigned long long)g->unknown, (unsigned long long)g->stray,
		(unsigned long long)g->ignored);
	pthread_mutex_lock(&g->lock);
	outside = g->spoof_outside;
	lost = g->events_lost;
	pthread_mutex_unlock(&g->lock);
	fprintf(f, "datapath events: %llu spoofed sources no node's address (not held against "
		   "the peer), %llu lost\n", (unsigned long long)outside, (unsigned long long)lost);
}
