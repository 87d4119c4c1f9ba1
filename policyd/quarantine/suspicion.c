/* suspicion.c — per-peer sliding windows, scores and ban decisions.
 * See suspicion.h for the window and the memory bounds. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quarantine/suspicion.h"
#include "select.h"

struct port_seen {
	uint32_t slot;                    /* low 32 bits of the slot it was last seen in */
	uint16_t port;
	uint8_t proto;
};

struct window {
	uint64_t head;                    /* newest slot seen */
	uint32_t packets;                 /* sum of pkt[] */
	uint32_t weight[SUSPICION_NSIG];  /* sums of sig[k][] */
	uint32_t pkt[SUSPICION_SLOTS];
	uint32_t sig[SUSPICION_NSIG][SUSPICION_SLOTS];
	struct port_seen *ports;          /* sorted by (proto, port) */
	uint32_t nports, cap;
	bool saturated;                   /* a new port found the table full */
	char note[SUSPICION_NSIG][SUSPICION_NOTE_MAX]; /* of each kind's latest signal */
};

struct peer {
	char *name;
	bool exempt, holder;
	bool episode;                     /* decided; no new decision until it ends */
	uint32_t repeats;
	uint64_t banned_until;            /* ms; 0 = not banned */
	struct window *w;                 /* NULL until the first event */
};

struct suspicion_engine {
	struct suspicion cfg;             /* exempt list not used (resolved per peer) */
	uint64_t slot_ms;
	uint32_t eff_ports;               /* min(deniedPorts, SUSPICION_PORTS_MAX) */
	struct peer *peers;
	size_t npeers;
};

static const char *const sig_names[SUSPICION_NSIG] = {
	[SUSPICION_SIG_HEADERLESS] = "probes without a port",
	[SUSPICION_SIG_SPOOFED] = "spoofed sources",
	[SUSPICION_SIG_HANDSHAKE_FLOOD] = "handshake flood",
	[SUSPICION_SIG_MALFORMED] = "malformed packets",
};

static void configure(struct suspicion_engine *e, const struct suspicion *s)
{
	uint64_t wms = (uint64_t)(s->window ? s->window : 1) * 1000;

	e->cfg = *s;
	e->cfg.exempt = (struct sellist){ 0 };
	if (!e->cfg.denied_packets)
		e->cfg.denied_packets = 1;
	if (e->cfg.backoff < 1)
		e->cfg.backoff = 1;
	e->slot_ms = (wms + SUSPICION_SLOTS - 1) / SUSPICION_SLOTS;
	e->eff_ports = s->denied_ports < SUSPICION_PORTS_MAX ? s->denied_ports : SUSPICION_PORTS_MAX;
	if (!e->eff_ports)
		e->eff_ports = 1;
}

static void window_free(struct window *w)
{
	if (w)
		free(w->ports);
	free(w);
}

static int peers_build(const struct policy *p, struct peer **out)
{
	struct peer *v = calloc(p->nnodes ? p->nnodes : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->nnodes; i++) {
		v[i].name = strdup(p->nodes[i].name);
		if (!v[i].name) {
			while (i--)
				free(v[i].name);
			free(v);
			return -ENOMEM;
		}
		v[i].exempt = select_node(p, &p->suspicion.exempt, i);
		v[i].holder = p->breakglass.present && select_node(p, &p->breakglass.holders, i);
	}
	*out = v;
	return 0;
}

static void peers_free(struct peer *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		window_free(v[i].w);
	}
	free(v);
}

int suspicion_new(const struct policy *p, struct suspicion_engine **out)
{
	struct suspicion_engine *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	configure(e, &p->suspicion);
	r = peers_build(p, &e->peers);
	if (r < 0) {
		free(e);
		return r;
	}
	e->npeers = p->nnodes;
	*out = e;
	return 0;
}

void suspicion_free(struct suspicion_engine *e)
{
	if (!e)
		return;
	peers_free(e->peers, e->npeers);
	free(e);
}

struct suspicion_reload {
	struct suspicion cfg;
	struct peer *v;
	size_t n;
	long *from;                       /* new peer j was old peer from[j], or -1 */
};

int suspicion_reload_prepare(const struct suspicion_engine *e, const struct policy *p,
			     struct suspicion_reload **out)
{
	struct suspicion_reload *r = calloc(1, sizeof(*r));

	if (!r || !(r->from = calloc(p->nnodes ? p->nnodes : 1, sizeof(*r->from))) ||
	    peers_build(p, &r->v) < 0) {
		if (r)
			free(r->from);
		free(r);
		return -ENOMEM;
	}
	r->cfg = p->suspicion;
	r->n = p->nnodes;
	for (size_t j = 0; j < r->n; j++)
		r->from[j] = -1;
	for (size_t i = 0; i < e->npeers; i++) {
		long j = policy_node_find(p, e->peers[i].name);

		if (j >= 0)
			r->from[j] = (long)i;
	}
	*out = r;
	return 0;
}

void suspicion_reload_abort(struct suspicion_reload *r)
{
	if (!r)
		return;
	peers_free(r->v, r->n);
	free(r->from);
	free(r);
}

/* Old state into the new peer (nothing here can fail). */
static void peer_carry(struct peer *nw, struct peer *old, bool keep_window)
{
	nw->repeats = old->repeats;
	nw->banned_until = old->banned_until;
	nw->episode = old->episode;
	if (keep_window) {
		nw->w = old->w;
		old->w = NULL;
	} else if (!old->banned_until) {
		nw->episode = false;
	}
	if (!nw->banned_until && (nw->exempt != old->exempt || nw->holder != old->holder))
		nw->episode = false;   /* reported as exempt, or banned: now judged anew */
}

void suspicion_reload_commit(struct suspicion_engine *e, struct suspicion_reload *r)
{
	bool keep = r->cfg.window == e->cfg.window && r->cfg.denied_ports == e->cfg.denied_ports;

	for (size_t j = 0; j < r->n; j++)
		if (r->from[j] >= 0)
			peer_carry(&r->v[j], &e->peers[r->from[j]], keep);
	peers_free(e->peers, e->npeers);
	e->peers = r->v;
	e->npeers = r->n;
	configure(e, &r->cfg);
	free(r->from);
	free(r);
}

int suspicion_reload(struct suspicion_engine *e, const struct policy *p)
{
	struct suspicion_reload *r;
	int ret = suspicion_reload_prepare(e, p, &r);

	if (ret < 0)
		return ret;
	suspicion_reload_commit(e, r);
	return 0;
}

/* ---- the window ---------------------------------------------------------- */

/* Modular: entries are purged whenever the head moves, and all of them when
 * it jumps a whole window, so no stored slot is ever 2^32 slots old. */
static bool in_window(const struct window *w, uint32_t slot)
{
	return (uint32_t)w->head - slot < SUSPICION_SLOTS;
}

static void ports_purge(struct window *w)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < w->nports; i++)
		if (in_window(w, w->ports[i].slot))
			w->ports[k++] = w->ports[i];
	w->nports = k;
	if (k < w->cap)
		w->saturated = false;
}

/* Move the window's head to now's slot, expiring what fell out. */
static void window_advance(struct window *w, uint64_t slot)
{
	uint64_t k;

	if (slot <= w->head)
		return; /* same slot, or a clock that went back: count it as now */
	k = slot - w->head;
	if (k >= SUSPICION_SLOTS) {
		memset(w->pkt, 0, sizeof(w->pkt));
		memset(w->sig, 0, sizeof(w->sig));
		w->packets = 0;
		memset(w->weight, 0, sizeof(w->weight));
		w->nports = 0;
	} else {
		for (uint64_t i = 1; i <= k; i++) {
			size_t idx = (size_t)((w->head + i) % SUSPICION_SLOTS);

			w->packets -= w->pkt[idx];
			w->pkt[idx] = 0;
			for (int s = 0; s < SUSPICION_NSIG; s++) {
				w->weight[s] -= w->sig[s][idx];
				w->sig[s][idx] = 0;
			}
		}
	}
	w->head = slot;
	ports_purge(w);
}

static bool window_empty(const struct window *w)
{
	uint32_t sig = 0;

	for (int s = 0; s < SUSPICION_NSIG; s++)
		sig |= w->weight[s];
	return !w->packets && !w->nports && !sig;
}

static uint32_t port_key(uint8_t proto, uint16_t port)
{
	return (uint32_t)proto << 16 | port;
}

/* Binary search: index of the key, or where it would go (*found false). */
static uint32_t ports_find(const struct window *w, uint32_t key, bool *found)
{
	uint32_t lo = 0, hi = w->nports;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint32_t k = port_key(w->ports[mid].proto, w->ports[mid].port);

		if (k == key) {
			*found = true;
			return mid;
		}
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void ports_note(struct window *w, uint8_t proto, uint16_t port)
{
	bool found;
	uint32_t i = ports_find(w, port_key(proto, port), &found);

	if (found) {
		w->ports[i].slot = (uint32_t)w->head;
		return;
	}
	if (w->nports == w->cap) {
		w->saturated = true;
		return;
	}
	memmove(&w->ports[i + 1], &w->ports[i], (w->nports - i) * sizeof(*w->ports));
	w->ports[i] = (struct port_seen){ .slot = (uint32_t)w->head, .port = port, .proto = proto };
	w->nports++;
}

/* The peer's window at now, created on first use. NULL only on ENOMEM. */
static struct window *peer_window(struct suspicion_engine *e, struct peer *pr, uint64_t now)
{
	uint64_t slot = now / e->slot_ms;

	if (!pr->w) {
		pr->w = calloc(1, sizeof(*pr->w));
		if (!pr->w)
			return NULL;
		pr->w->ports = calloc(e->eff_ports, sizeof(*pr->w->ports));
		if (!pr->w->ports) {
			free(pr->w);
			pr->w = NULL;
			return NULL;
		}
		pr->w->cap = e->eff_ports;
		pr->w->head = slot;
		if (!pr->banned_until)
			pr->episode = false; /* a report-only episode without a window (a flag) */
		return pr->w;
	}
	window_advance(pr->w, slot);
	if (pr->episode && !pr->banned_until && window_empty(pr->w))
		pr->episode = false; /* a report-only episode ends with a quiet window */
	return pr->w;
}

static void window_clear(struct peer *pr)
{
	window_free(pr->w);
	pr->w = NULL;
}

/* It is logged and saved: one line, no escapes. */
static void text_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void text_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
	text_clean(dst);
}

/* ---- decisions ---------------------------------------------------------- */

static uint32_t score_of(const struct suspicion_engine *e, const struct window *w)
{
	uint64_t a = (uint64_t)w->packets * SUSPICION_FULL / e->cfg.denied_packets;
	uint64_t b = (uint64_t)w->nports * SUSPICION_FULL / e->eff_ports;
	uint64_t s = a > b ? a : b;

	for (int k = 0; k < SUSPICION_NSIG; k++)
		s += w->weight[k];
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

uint32_t suspicion_ban_length(const struct suspicion_engine *e, uint32_t repeats)
{
	double b = e->cfg.ban;

	for (uint32_t i = 0; i < repeats && b < e->cfg.max_ban && e->cfg.backoff > 1; i++)
		b *= e->cfg.backoff;
	if (b > e->cfg.max_ban)
		b = e->cfg.max_ban;
	return (uint32_t)b;
}

/* Peer state at now: a ban that ran out ends the episode and the window;
 * a report-only episode ends when its window is empty. */
static void peer_settle(struct peer *pr, uint64_t now)
{
	if (pr->banned_until && now >= pr->banned_until) {
		pr->banned_until = 0;
		pr->episode = false;
		window_clear(pr);
	}
}

static void evidence_fill(const struct suspicion_engine *e, const struct window *w,
			  struct suspicion_decision *d)
{
	d->window_s = e->cfg.window;
	if (!w)
		return;
	d->packets = w->packets;
	d->nports = w->nports;
	d->ports_saturated = w->saturated;
	for (int k = 0; k < SUSPICION_NSIG; k++)
		d->signals[k] = w->weight[k];
	d->score = score_of(e, w);
	for (uint32_t i = 0; i < w->nports && d->nlisted < SUSPICION_EVIDENCE_PORTS; i++)
		d->ports[d->nlisted++] = (struct suspicion_port){ w->ports[i].proto, w->ports[i].port };
	for (int k = 0; k < SUSPICION_NSIG; k++)
		if (w->weight[k])
			memcpy(d->note[k], w->note[k], sizeof(d->note[k]));
}

static void decide(struct suspicion_engine *e, size_t peer, enum suspicion_cause cause,
		   uint64_t now, struct suspicion_decision *d)
{
	struct peer *pr = &e->peers[peer];

	memset(d, 0, sizeof(*d));
	d->peer = peer;
	d->name = pr->name;
	d->cause = cause;
	d->exempt = pr->exempt;
	d->holder = pr->holder;
	d->report_only = pr->exempt || pr->holder;
	d->repeat = pr->repeats;
	evidence_fill(e, pr->w, d);
	pr->episode = true;
	if (d->report_only)
		return;
	d->evict = e->cfg.evict;
	d->ban_s = suspicion_ban_length(e, pr->repeats);
	pr->banned_until = now + (uint64_t)d->ban_s * 1000;
	if (!pr->banned_until) /* a ban of 0 s at time 0 would read as "not banned" */
		pr->banned_until = 1;
	/* repeats: only once the ban took effect (suspicion_confirm) */
}

static void reason_auto(const struct suspicion_engine *e, struct suspicion_decision *d)
{
	char *r = d->reason;
	size_t n = sizeof(d->reason);

	switch (d->cause) {
	case SUSPICION_CAUSE_PORTS:
		snprintf(r, n, "%s%u distinct denied ports in %us", d->ports_saturated ? "over " : "",
			 d->nports, e->cfg.window);
		break;
	case SUSPICION_CAUSE_PACKETS:
		snprintf(r, n, "%u denied packets in %us", d->packets, e->cfg.window);
		break;
	default: {
		size_t off = (size_t)snprintf(r, n, "score %u.%03u in %us:", d->score / 1000,
					      d->score % 1000, e->cfg.window);
		const char *sep = " ";

		for (int k = 0; k < SUSPICION_NSIG && off < n; k++)
			if (d->signals[k]) {
				off += (size_t)snprintf(r + off, n - off, "%s%s", sep, sig_names[k]);
				sep = ", ";
			}
		if (off < n && (d->packets || d->nports))
			snprintf(r + off, n - off, "%sdenied traffic", sep);
	}
	}
}

/* After an event: is the line crossed for the first time in this episode? */
static int check(struct suspicion_engine *e, size_t peer, uint64_t now,
		 struct suspicion_decision *d)
{
	struct peer *pr = &e->peers[peer];
	const struct window *w = pr->w;
	enum suspicion_cause cause;

	if (pr->episode)
		return 0;
	if (score_of(e, w) < SUSPICION_FULL)
		return 0;
	if (w->nports >= e->eff_ports)
		cause = SUSPICION_CAUSE_PORTS;
	else if (w->packets >= e->cfg.denied_packets)
		cause = SUSPICION_CAUSE_PACKETS;
	else
		cause = SUSPICION_CAUSE_SCORE;
	decide(e, peer, cause, now, d);
	reason_auto(e, d);
	return 1;
}

static struct peer *peer_get(struct suspicion_engine *e, size_t peer, uint64_t now)
{
	if (peer >= e->npeers)
		return NULL;
	peer_settle(&e->peers[peer], now);
	return &e->peers[peer];
}

int suspicion_denied(struct suspicion_engine *e, size_t peer, uint8_t proto, uint16_t port,
		     uint64_t now_ms, struct suspicion_decision *d)
{
	struct peer *pr = peer_get(e, peer, now_ms);
	struct window *w;

	if (!pr)
		return -ENOENT;
	if (pr->banned_until)
		return 0;
	w = peer_window(e, pr, now_ms);
	if (!w)
		return -ENOMEM;
	if (w->packets < UINT32_MAX) { /* slot and total saturate together */
		w->pkt[w->head % SUSPICION_SLOTS]++;
		w->packets++;
	}
	ports_note(w, proto, port);
	return check(e, peer, now_ms, d);
}

int suspicion_signal(struct suspicion_engine *e, size_t peer, enum suspicion_signal_kind kind,
		     uint32_t weight, const char *note, uint64_t now_ms,
		     struct suspicion_decision *d)
{
	struct peer *pr = peer_get(e, peer, now_ms);
	struct window *w;
	size_t idx;

	if (!pr)
		return -ENOENT;
	if ((unsigned)kind >= SUSPICION_NSIG)
		return -EINVAL;
	if (pr->banned_until)
		return 0;
	w = peer_window(e, pr, now_ms);
	if (!w)
		return -ENOMEM;
	idx = (size_t)(w->head % SUSPICION_SLOTS);
	/* per-slot and total saturate together, so advancing never underflows */
	weight = w->weight[kind] > UINT32_MAX - weight ? UINT32_MAX - w->weight[kind] : weight;
	w->sig[kind][idx] += weight;
	w->weight[kind] += weight;
	text_copy(w->note[kind], sizeof(w->note[kind]), note ? note : "");
	return check(e, peer, now_ms, d);
}

int suspicion_flag(struct suspicion_engine *e, size_t peer, const char *reason, uint64_t now_ms,
		   struct suspicion_decision *d)
{
	struct peer *pr = peer_get(e, peer, now_ms);

	if (!pr)
		return -ENOENT;
	if (pr->banned_until)
		return -EALREADY;
	if (pr->w)
		window_advance(pr->w, now_ms / e->slot_ms);
	decide(e, peer, SUSPICION_CAUSE_FLAG, now_ms, d);
	snprintf(d->reason, sizeof(d->reason), "flagged: %s", reason && *reason ? reason : "(no reason)");
	text_clean(d->reason);
	return 0;
}

int suspicion_confirm(struct suspicion_engine *e, size_t peer)
{
	struct peer *pr = peer < e->npeers ? &e->peers[peer] : NULL;

	if (!pr || !pr->banned_until)
		return -ENOENT;
	if (pr->repeats < UINT32_MAX)
		pr->repeats++;
	return 0;
}

int suspicion_lift(struct suspicion_engine *e, size_t peer, uint64_t now_ms)
{
	struct peer *pr = peer_get(e, peer, now_ms);

	if (!pr || !pr->banned_until)
		return -ENOENT;
	pr->banned_until = 0;
	pr->episode = false;
	window_clear(pr);
	return 0;
}

int suspicion_restore(struct suspicion_engine *e, size_t peer, uint32_t repeats,
		      uint64_t banned_until_ms)
{
	struct peer *pr;

	if (peer >= e->npeers)
		return -ENOENT;
	pr = &e->peers[peer];
	pr->repeats = repeats;
	pr->banned_until = banned_until_ms;
	pr->episode = banned_until_ms != 0;
	window_clear(pr);
	return 0;
}

bool suspicion_banned(const struct suspicion_engine *e, size_t peer, uint64_t now_ms)
{
	return peer < e->npeers && e->peers[peer].banned_until && now_ms < e->peers[peer].banned_until;
}

uint32_t suspicion_repeats(const struct suspicion_engine *e, size_t peer)
{
	return peer < e->npeers ? e->peers[peer].repeats : 0;
}

uint32_t suspicion_score(struct suspicion_engine *e, size_t peer, uint64_t now_ms)
{
	struct peer *pr = peer_get(e, peer, now_ms);

	if (!pr || !pr->w)
		return 0;
	window_advance(pr->w, now_ms / e->slot_ms);
	return score_of(e, pr->w);
}

size_t suspicion_peer_memory(const struct suspicion_engine *e, size_t peer)
{
	const struct window *w;

	if (peer >= e->npeers || !(w = e->peers[peer].w))
		return 0;
	return sizeof(*w) + (size_t)w->cap * sizeof(*w->ports);
}

static const char *proto_name(uint8_t proto, char buf[8])
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	case IPPROTO_UDPLITE: return "udplite";
	case IPPROTO_DCCP: return "dccp";
	}
	snprintf(buf, 8, "p%u", proto);
	return buf;
}

struct sbuf {
	char *p;
	size_t len, off;
};

__attribute__((format(printf, 2, 3)))
static void put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (b->off >= b->len)
		return;
	va_start(ap, fmt);
	r = vsnprintf(b->p + b->off, b->len - b->off, fmt, ap);
	va_end(ap);
	b->off = r < 0 ? b->len : b->off + (size_t)r;
}

int suspicion_evidence_format(const struct suspicion_decision *d, char *buf, size_t len)
{
	struct sbuf b = { buf, len, 0 };
	char pb[8];

	if (!len)
		return 0;
	buf[0] = 0;
	put(&b, "ports");
	for (size_t i = 0; i < d->nlisted; i++)
		put(&b, "%s%s:%u", i ? "," : " ", proto_name(d->ports[i].proto, pb), d->ports[i].port);
	if (!d->nlisted)
		put(&b, " none");
	if (d->nports > d->nlisted || d->ports_saturated)
		put(&b, " (%s%u distinct)", d->ports_saturated ? "over " : "", d->nports);
	put(&b, " packets %u", d->packets);
	for (int k = 0; k < SUSPICION_NSIG; k++) {
		if (!d->signals[k])
			continue;
		put(&b, " %s %u.%03u", sig_names[k], d->signals[k] / 1000, d->signals[k] % 1000);
		if (d->note[k][0])
			put(&b, " (%s)", d->note[k]);
	}
	put(&b, " window %us", d->window_s);
	return (int)b.off;
}
