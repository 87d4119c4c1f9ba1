/* suspicion.h — the per-peer scoring engine behind quarantine (issue 5).
 *
 * Pure: no I/O, no clock. Every call takes `now_ms`, a monotonic time in
 * milliseconds (CLOCK_MONOTONIC in the daemon, made-up values in tests).
 *
 * Peers are the nodes of the policy, by index (the same index as
 * p->nodes[]); suspicion_reload() carries each node's state over by name.
 *
 * Sliding window: the policy's `window` is cut into SUSPICION_SLOTS slots of
 * ceil(window / SUSPICION_SLOTS) ms. An event counts while the current slot
 * is less than SUSPICION_SLOTS slots after its own; so an event at the start
 * of a slot counts for exactly `window` (60 s default: 1 s slots, a packet
 * at t=0 still counts at 59.999 s, no longer at 60.000 s), one later in the
 * slot for up to one slot less. Per peer the window holds:
 *   - denied packets per slot (a running total, O(1) per packet);
 *   - the distinct denied (proto, port) pairs with the slot each was last
 *     seen in: a sorted array of at most min(deniedPorts, SUSPICION_PORTS_MAX)
 *     entries (8 bytes each, 32 KiB at most per peer), allocated on the
 *     peer's first denied packet. Reaching the cap means the threshold is
 *     reached; further new ports are counted as `saturated`, not stored.
 *     A deniedPorts above SUSPICION_PORTS_MAX acts as SUSPICION_PORTS_MAX.
 *   - the weight of other signals per slot (suspicion_signal_kind), and the
 *     note of each kind's latest one ("last as web1's 100.64.0.1") for the
 *     evidence.
 *
 * Score (milli-units, 1000 = quarantine):
 *   max(1000 * packets / deniedPackets, 1000 * ports / deniedPorts) + signal weights
 * so either threshold alone triggers, as POLICY.md says, and datapath signals
 * push a peer that is already half way over the line.
 *
 * Episodes: a peer crossing the line yields one decision; the next one comes
 * only after the episode ends: its ban ended (expiry or suspicion_lift), or
 * for a report-only peer (exempt, breakglass holder) its window emptied, a
 * new window began (a flag reported with no window yet), or it stopped
 * being exempt or a holder. While banned, the peer's events are ignored (its
 * packets are dropped before they are logged anyway).
 *
 * Ban length: ban * backoff^repeats, capped at maxBan, where repeats is the
 * number of earlier bans of that node that took effect: a decision counts
 * only once the caller says the kernel acted (suspicion_confirm); a ban the
 * kernel refused is undone with suspicion_lift and leaves no trace in the
 * backoff. Repeats are kept across reloads; the daemon saves them in the ban
 * state file and gives them back with suspicion_restore. */
#ifndef POLICYD_QUARANTINE_SUSPICION_H
#define POLICYD_QUARANTINE_SUSPICION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define SUSPICION_SLOTS 60
#define SUSPICION_PORTS_MAX 4096
#define SUSPICION_EVIDENCE_PORTS 16   /* ports listed in a decision */
#define SUSPICION_REASON_MAX 160
#define SUSPICION_FULL 1000           /* score at which a peer is quarantined */
#define SUSPICION_NOTE_MAX 64         /* the latest signal's note, with the NUL */

/* What the daemon scores besides denied packets with a port. The last three
 * are proven by the peer's own keys (vpn/device.h device_event). */
enum suspicion_signal_kind {
	SUSPICION_SIG_HEADERLESS,         /* denied packets showing no port (no L4 header copied) */
	SUSPICION_SIG_SPOOFED,            /* data posing as another node's address */
	SUSPICION_SIG_HANDSHAKE_FLOOD,    /* fresh initiations over the 50/s per-peer limit */
	SUSPICION_SIG_MALFORMED,          /* data whose inner packet is not well-formed IP */
	SUSPICION_NSIG,
};

enum suspicion_cause {
	SUSPICION_CAUSE_PORTS,            /* deniedPorts distinct ports reached */
	SUSPICION_CAUSE_PACKETS,          /* deniedPackets packets reached */
	SUSPICION_CAUSE_SCORE,            /* signals (with denied traffic) reached the line */
	SUSPICION_CAUSE_FLAG,             /* policyctl flag */
};

struct suspicion_port {
	uint8_t proto;                    /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, ... */
	uint16_t port;                    /* destination port; ICMP: the type */
};

struct suspicion_decision {
	size_t peer;                      /* node index */
	const char *name;                 /* node name; valid until the next reload/free */
	enum suspicion_cause cause;
	bool report_only;                 /* exempt or holder: log it, do not ban */
	bool exempt, holder;
	bool evict;                       /* policy's suspicion.evict (false if report_only) */
	uint32_t ban_s;                   /* ban length; 0 if report_only */
	uint32_t repeat;                  /* bans before this one */
	/* evidence: the window at the moment of the decision */
	uint32_t window_s;
	uint32_t packets;                 /* denied packets in the window */
	uint32_t nports;                  /* distinct denied ports in the window */
	bool ports_saturated;             /* more distinct ports than could be stored */
	uint32_t signals[SUSPICION_NSIG]; /* signal weight in the window, milli-units */
	uint32_t score;                   /* milli-units */
	size_t nlisted;                   /* ports[] entries, lowest first */
	struct suspicion_port ports[SUSPICION_EVIDENCE_PORTS];
	char note[SUSPICION_NSIG][SUSPICION_NOTE_MAX]; /* each signal's latest note, "" if none */
	char reason[SUSPICION_REASON_MAX];/* "12 distinct denied ports in 60s", "flagged: TEXT" */
};

struct suspicion_engine;

/* Engine for the policy's nodes and its `suspicion` section (exempt and
 * breakglass holders resolved here). 0 or -ENOMEM. The policy is not kept. */
int suspicion_new(const struct policy *p, struct suspicion_engine **out);
void suspicion_free(struct suspicion_engine *e);
/* A new policy: nodes kept by name keep their state (windows are cleared if
 * `window` changed), removed nodes are forgotten. 0 or -ENOMEM (then the
 * engine is unchanged). In two steps for a caller that must change other
 * state with it: suspicion_reload_prepare builds the new state without
 * touching the engine (0 or -ENOMEM), then suspicion_reload_commit (cannot
 * fail) or suspicion_reload_abort. */
int suspicion_reload(struct suspicion_engine *e, const struct policy *p);
struct suspicion_reload;
int suspicion_reload_prepare(const struct suspicion_engine *e, const struct policy *p,
			     struct suspicion_reload **out);
void suspicion_reload_commit(struct suspicion_engine *e, struct suspicion_reload *r);
void suspicion_reload_abort(struct suspicion_reload *r);

/* One denied packet from peer to (proto, port). Returns 1 and fills *d when
 * this packet makes the decision, 0 otherwise, -ENOENT for an unknown peer,
 * -ENOMEM. */
int suspicion_denied(struct suspicion_engine *e, size_t peer, uint8_t proto, uint16_t port,
		     uint64_t now_ms, struct suspicion_decision *d);
/* A signal from elsewhere, weight in milli-units (SUSPICION_FULL alone
 * quarantines); note (may be NULL, copied, truncated) says what it was, for
 * the evidence. Same returns as suspicion_denied. */
int suspicion_signal(struct suspicion_engine *e, size_t peer, enum suspicion_signal_kind kind,
		     uint32_t weight, const char *note, uint64_t now_ms,
		     struct suspicion_decision *d);
/* policyctl flag NODE --reason TEXT: a decision at once (report-only for
 * exempt peers and holders). 0 and *d filled, -EALREADY if the peer is
 * banned, -ENOENT for an unknown peer. The reason is copied, truncated,
 * control characters replaced by '?'. */
int suspicion_flag(struct suspicion_engine *e, size_t peer, const char *reason, uint64_t now_ms,
		   struct suspicion_decision *d);

/* The ban of a decision took effect in the kernel: it counts for the
 * backoff from now on (repeats + 1). 0, or -ENOENT if the peer is unknown or
 * not banned. */
int suspicion_confirm(struct suspicion_engine *e, size_t peer);
/* policyctl reauth NODE, or a ban the kernel refused: ends the ban and the
 * episode, clears the window; the repeat count stays. 0, or -ENOENT if the
 * peer is unknown or not banned. */
int suspicion_lift(struct suspicion_engine *e, size_t peer, uint64_t now_ms);
/* From the ban state file after a restart: the node's earlier bans and, if
 * still banned, until when (monotonic ms; 0 = not banned). -ENOENT for an
 * unknown peer. */
int suspicion_restore(struct suspicion_engine *e, size_t peer, uint32_t repeats,
		      uint64_t banned_until_ms);

/* Queries. */
bool suspicion_banned(const struct suspicion_engine *e, size_t peer, uint64_t now_ms);
uint32_t suspicion_repeats(const struct suspicion_engine *e, size_t peer);
/* Current score of a peer in milli-units (0 for unknown peers). */
uint32_t suspicion_score(struct suspicion_engine *e, size_t peer, uint64_t now_ms);
/* Ban length for a peer with `repeats` earlier bans under the engine's policy. */
uint32_t suspicion_ban_length(const struct suspicion_engine *e, uint32_t repeats);
/* Bytes held for one peer's window (tests: the memory bound). */
size_t suspicion_peer_memory(const struct suspicion_engine *e, size_t peer);

/* "ports tcp:22,tcp:23,udp:53,icmp:8 (12 distinct) packets 37 spoofed
 * sources 0.300 (last as web1's 100.64.0.1) window 60s", always
 * NUL-terminated; returns what snprintf returns. */
int suspicion_evidence_format(const struct suspicion_decision *d, char *buf, size_t len);

#endif
