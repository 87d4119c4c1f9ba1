/* guard.c — quarantine in the daemon: denied packets and datapath events in,
 * bans out.
 *
 *   NFLOG (the vpn chain's rate-limited log of denied packets, delivered at
 *   once) ─┐
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
 * the remaining time). policyctl reauth lifts a ban at once. */
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
#include "mesh.h"
#include "select.h"
#include "quarantine/banstate.h"
#include "quarantine/conntrack.h"
#include "quarantine/nflog.h"
#include "quarantine/suspicion.h"

#define EVENT_RING 256
#define REPORTS 8
#define SPOOF_WEIGHT 100      /* 10 spoofed packets under a peer's keys: a ban */
#define RANGE_MAX 256         /* addresses quarantined per VPN range of a node */

struct addr_owner {
	struct addr lo, hi;
	size_t node;
};

struct guard {
	struct daemon *d;
	struct suspicion_engine *eng;
	struct nflog *nf;
	const char *state_path;
	struct banstate *bans;
	struct addr_owner *owners;   /* every VPN range of the policy, sorted */
	size_t nowners;
	/* datapath events, from packet threads to the main thread */
	pthread_mutex_t lock;
	struct event {
		uint8_t pub[32];
		struct addr src;          /* the inner source the datapath refused */
	} ring[EVENT_RING];
	unsigned head, len;
	uint64_t events_lost;
	int efd;
	char reports[REPORTS][320];  /* the latest report-only decisions */
	unsigned nreports;
	uint64_t foreign, unknown;   /* NFLOG packets not ours / from no node */
	uint64_t spoof_outside;      /* refused sources outside the mesh: not blamed */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- who owns a VPN address ---------------------------------------------------- */

static int owner_cmp(const void *a, const void *b)
{
	const struct addr_owner *x = a, *y = b;

	if (x->lo.family != y->lo.family)
		return x->lo.family < y->lo.family ? -1 : 1;
	return addr_cmp(&x->lo, &y->lo);
}

static int owners_build(struct guard *g, const struct policy *p)
{
	size_t n = 0, k = 0;
	struct addr_owner *v;

	for (size_t i = 0; i < p->nnodes; i++)
		n += p->nodes[i].nips;
	if (!(v = calloc(n ? n : 1, sizeof(*v))))
		return -ENOMEM;
	for (size_t i = 0; i < p->nnodes; i++)
		for (size_t j = 0; j < p->nodes[i].nips; j++, k++) {
			prefix_bounds(&p->nodes[i].ips[j], &v[k].lo, &v[k].hi);
			v[k].node = i;
		}
	qsort(v, n, sizeof(*v), owner_cmp);
	free(g->owners);
	g->owners = v;
	g->nowners = n;
	return 0;
}

static long owner_of(const struct guard *g, const struct addr *a)
{
	size_t lo = 0, hi = g->nowners;

	while (lo < hi) { /* the last range starting at or before a */
		size_t mid = (lo + hi) / 2;
		const struct addr *s = &g->owners[mid].lo;

		if (s->family < a->family || (s->family == a->family && addr_cmp(s, a) <= 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	lo--;
	if (g->owners[lo].lo.family != a->family || addr_cmp(a, &g->owners[lo].hi) > 0)
		return -1;
	return (long)g->owners[lo].node;
}

/* ---- acting on a decision --------------------------------------------------------- */

/* Every VPN address of a node (ranges capped at RANGE_MAX addresses). */
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
	if (r >= 0 && (cut = conntrack_kill_srcs(a, na, CONNTRACK_TIMEOUT_MS)) < 0) { /* the drop is in place */
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

static void state_save(struct guard *g)
{
	int r = banstate_save(g->bans, g->state_path);

	if (r < 0)
		log_error("%s: ban state not saved: %s", g->state_path, strerror(-r));
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
	char ev[256];
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
		(void)suspicion_lift(g->eng, dec->peer, mono_ms());
		(void)unquarantine_node(g, n);
		return cut;
	}
	if (dec->evict)
		(void)device_peer_evict(g->d->dev, n->key);
	log_warn("quarantine: %s banned for %us (ban %u): %s; evidence %s; %d connection(s) cut%s",
		 n->name, dec->ban_s, dec->repeat + 1, dec->reason, ev, cut,
		 dec->evict ? ", sessions evicted" : "");
	ban_record(g, n, dec, ev);
	return 0;
}

/* ---- inputs ------------------------------------------------------------------------- */

static void on_packet(void *ctx, const struct nflog_pkt *pkt)
{
	struct guard *g = ctx;
	struct suspicion_decision dec;
	long node;

	if (strcmp(pkt->prefix, IR_LOG_PREFIX) || !pkt->family) {
		g->foreign++;
		return;
	}
	if ((node = owner_of(g, &pkt->src)) < 0 || (size_t)node == g->d->self) {
		g->unknown++;
		return;
	}
	if (!pkt->has_l4 && !pkt->fragment) {
		/* no transport header within what NFLOG copied (e.g. IPv6 padded with
		 * extension headers): each such probe weighs as a new port would */
		uint32_t w = SUSPICION_FULL / (g->d->p->suspicion.denied_ports ?
					       g->d->p->suspicion.denied_ports : 1);

		if (suspicion_signal(g->eng, (size_t)node, SUSPICION_SIG_INVALID, w ? w : 1,
				     mono_ms(), &dec) == 1)
			(void)decide(g, &dec);
		return;
	}
	/* only what opens something names a port: a stray ACK or RST (a session
	 * whose conntrack entry is gone) lands on our ephemeral ports */
	if (suspicion_denied(g->eng, (size_t)node, pkt->proto,
			     pkt->has_l4 && (pkt->proto != IPPROTO_TCP || pkt->syn) ? pkt->dport : 0,
			     mono_ms(), &dec) == 1)
		(void)decide(g, &dec);
}

void guard_on_nflog(struct guard *g)
{
	int r = nflog_read(g->nf, on_packet, g);

	if (r < 0 && r != -EAGAIN)
		log_debug("nflog: %s", strerror(-r));
}

/* Packet threads: queue the event, wake the main thread. */
static void on_event(void *ctx, const uint8_t pub[32], enum device_event ev,
		     const uint8_t *inner, size_t len)
{
	struct guard *g = ctx;
	struct event e = { .src = { 0 } };
	uint64_t one = 1;

	(void)ev; /* DEVICE_EV_SPOOFED_SOURCE is the only one */
	memcpy(e.pub, pub, 32);
	if (len >= 20 && inner[0] >> 4 == 4) {
		e.src.family = AF_INET;
		memcpy(e.src.b, inner + 12, 4);
	} else if (len >= 40 && inner[0] >> 4 == 6) {
		e.src.family = AF_INET6;
		memcpy(e.src.b, inner + 8, 16);
	}
	pthread_mutex_lock(&g->lock);
	if (g->len < EVENT_RING)
		g->ring[(g->head + g->len++) % EVENT_RING] = e;
	else
		g->events_lost++;
	pthread_mutex_unlock(&g->lock);
	(void)!write(g->efd, &one, sizeof(one));
}

/* A peer that sends, under its own keys, a packet from another address of
 * the mesh poses as another node: that is held against it. A source outside
 * the mesh is not: the peer's kernel answers from its public address when
 * someone outside spoofs a mesh address at it (a SYN to an exposed port
 * brings a SYN-ACK into the tunnel), so an outsider could get it banned. */
static bool poses_as_node(const struct policy *p, const struct addr *src)
{
	if (src->family == AF_INET)
		return p->net.has_v4 && prefix_contains(&p->net.v4, src);
	if (src->family == AF_INET6)
		return p->net.has_v6 && prefix_contains(&p->net.v6, src);
	return false;
}

void guard_on_events(struct guard *g)
{
	const struct node **sorted = mesh_nodes_by_key(g->d->p);
	uint64_t n;

	(void)!read(g->efd, &n, sizeof(n));
	for (;;) {
		struct suspicion_decision dec;
		const struct node *nd;
		struct event e;

		pthread_mutex_lock(&g->lock);
		if (!g->len) {
			pthread_mutex_unlock(&g->lock);
			break;
		}
		e = g->ring[g->head];
		g->head = (g->head + 1) % EVENT_RING;
		g->len--;
		pthread_mutex_unlock(&g->lock);
		if (!sorted || !(nd = mesh_find(sorted, g->d->p->nnodes, e.pub)))
			continue;
		if (!poses_as_node(g->d->p, &e.src)) {
			g->spoof_outside++;
			continue;
		}
		if (suspicion_signal(g->eng, (size_t)(nd - g->d->p->nodes), SUSPICION_SIG_INVALID,
				     SPOOF_WEIGHT, mono_ms(), &dec) == 1)
			(void)decide(g, &dec);
	}
	free(sorted);
}

/* ---- admin verbs -------------------------------------------------------------------- */

int guard_flag(struct guard *g, const char *name, const char *reason, char *msg, size_t len)
{
	long node = policy_node_find(g->d->p, name);
	struct suspicion_decision dec;
	int r;

	if (node < 0 || (size_t)node == g->d->self) {
		snprintf(msg, len, "\"%.64s\" is not a peer of this node", name);
		return -ENOENT;
	}
	if ((r = suspicion_flag(g->eng, (size_t)node, reason, mono_ms(), &dec)) == -EALREADY) {
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

	if (node < 0 || (size_t)node == g->d->self) {
		snprintf(msg, len, "\"%.64s\" is not a peer of this node", name);
		return -ENOENT;
	}
	engine = suspicion_lift(g->eng, (size_t)node, mono_ms()) == 0;
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

/* Bans from the state file: back into the engine, and into the kernel with
 * what is left of them (the table may be new after a reboot). */
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
				(void)suspicion_lift(g->eng, (size_t)node, mono_ms());
			banstate_del(g->bans, b->name); /* the next ban moves to i */
			changed = true;
			continue;
		}
		if (restoring || !same_addrs(b, n)) {
			if (quarantine_node(g, n, left) < 0)
				log_error("the ban of %s could not be put back in the kernel", b->name);
			(void)unquarantine(g, b->addrs, b->naddrs, n); /* old addresses only */
			b->naddrs = 0;
			for (size_t k = 0; k < n->nips && k < BAN_ADDRS_MAX; k++)
				b->addrs[b->naddrs++] = n->ips[k];
			changed = true;
		}
		if (restoring) {
			suspicion_restore(g->eng, (size_t)node, banstate_count(g->bans, b->name),
					  mono_ms() + left);
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
	if ((r = suspicion_new(d->p, &g->eng)) < 0 || (r = owners_build(g, d->p)) < 0)
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
	suspicion_free(g->eng);
	nflog_close(g->nf);
	banstate_free(g->bans);
	if (g->efd >= 0)
		close(g->efd);
	pthread_mutex_destroy(&g->lock);
	free(g->owners);
	free(g);
}

void guard_policy(struct guard *g, const struct policy *p)
{
	if (suspicion_reload(g->eng, p) < 0 || owners_build(g, p) < 0)
		log_error("suspicion: out of memory on reload; the previous state stays");
	reconcile(g, false);
}

int guard_fds(const struct guard *g, struct pollfd *pfd)
{
	pfd[0] = (struct pollfd){ nflog_fd(g->nf), POLLIN, 0 };
	pfd[1] = (struct pollfd){ g->efd, POLLIN, 0 };
	return 2;
}

/* Bans that ran out leave the list; ms until the next one does (-1: none). */
int guard_tick(struct guard *g)
{
	time_t now = time(NULL), next = 0;

	if (banstate_expire(g->bans, now))
		state_save(g);
	for (size_t i = 0; i < g->bans->n; i++)
		if (!next || g->bans->v[i].expiry < next)
			next = (time_t)g->bans->v[i].expiry;
	if (!next)
		return -1;
	return next - now > 3600 ? 3600 * 1000 : (int)((next - now) * 1000 + 50);
}

void guard_status(struct guard *g, FILE *f)
{
	time_t now = time(NULL);
	const struct nflog_stats *st = nflog_stats(g->nf);
	fprintf(f, "quarantine: %zu banned\n", g->bans->n);
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
	fprintf(f, "denied-packet log: %llu packets, %llu lost to overflow, %llu not from a peer\n",
		(unsigned long long)st->packets, (unsigned long long)(st->overflows + st->lost),
		(unsigned long long)g->unknown);
	fprintf(f, "datapath events: %llu spoofed sources outside the mesh (not held against "
		   "the peer), %llu lost\n", (unsigned long long)g->spoof_outside,
		(unsigned long long)g->events_lost);
}
