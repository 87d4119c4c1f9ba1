/* ir.h — one node's ruleset, between the policy and its two back ends.
 *
 * compile.c builds it; render.c prints it as nft text; emit.c turns it into
 * a libnftnl batch. The vocabulary is small on purpose: every match kind has
 * exactly one text form and one expression sequence, both checked against
 * nft 1.0.6 (`nft --debug=netlink`), so the two back ends cannot disagree. */
#ifndef RULES_IR_H
#define RULES_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define IR_TABLE "policyd"
#define IR_PRIORITY (-15)            /* distinct from firewalld (+10), crowdsec (-10) */
#define IR_NFLOG_GROUP 4120
#define IR_LOG_PREFIX "policyd-deny "      /* refused by the ACLs */
#define IR_LOG_PREFIX_INVALID "policyd-invalid " /* conntrack state invalid (NULL/Xmas scans) */
/* What reaches NFLOG from the VPN chain: per source address (a meter, one
 * element per source in a dynamic set), then per rule for all sources. */
#define IR_LOG_SRC_RATE 50           /* packets/second per source */
#define IR_LOG_SRC_BURST 100
#define IR_LOG_RATE 1000             /* packets/second per log rule, all sources */
#define IR_LOG_BURST 2000
#define IR_METER_SIZE 65535          /* sources metered at once (VPN sources are mesh nodes) */
#define IR_METER_TIMEOUT_MS 10000    /* a quiet source's meter is dropped after this */
#define IR_ORIGINS_PER_ELEM 3

enum ir_set_kind {
	IRS_CONCAT,  /* addr . inet_proto . inet_service, interval */
	IRS_ADDR,    /* addr, interval (or plain for quarantine) */
	IRS_ICMP,    /* icmp_type (family AF_INET) or icmpv6_type (AF_INET6) */
};

struct ir_elem {
	struct addr lo, hi;        /* IRS_CONCAT, IRS_ADDR */
	uint8_t proto;             /* IRS_CONCAT */
	uint16_t plo, phi;         /* IRS_CONCAT ports; IRS_ICMP: the type in plo */
	uint64_t timeout_ms;       /* 0 = permanent */
	uint32_t origin[IR_ORIGINS_PER_ELEM];
	uint8_t norigin;
	bool more_origins;
};

/* Where something in the IR came from. The id is borrowed from the policy:
 * an IR must not outlive the policy it was compiled from. */
struct ir_origin {
	const char *kind;         /* "acl", "expose", "breakglass", "table" */
	const char *id;
	const char *section;      /* "/acls", "/expose", or the whole pointer */
	long index;               /* -1: section is the whole pointer */
};

struct ir_set {
	char name[32];
	enum ir_set_kind kind;
	int family;
	bool interval, timeout;
	bool dynamic;             /* filled by the packet path (a meter) */
	uint32_t size;            /* 0: no cap */
	uint64_t timeout_ms;      /* the set's default element timeout; 0: none */
	struct ir_elem *v;
	size_t n, cap;
};

enum ir_match_kind {
	IRM_IIFNAME,      /* str (trailing '*' = prefix), neg */
	IRM_CT_STATE,     /* val: bits of enum ir_ct */
	IRM_SADDR_IN,     /* family, set */
	IRM_CONCAT_IN,    /* family, set: saddr . l4proto . th dport */
	IRM_ICMP_IN,      /* family, set: icmp(v6) type @set */
	IRM_ICMP_TYPE,    /* family, val: icmp(v6) type == val */
	IRM_UDP_DPORT,    /* val */
	IRM_LIMIT,        /* val packets/second, val2 burst */
	IRM_METER,        /* family, set: update @set { saddr limit rate val/second burst val2 } */
};

enum ir_ct { IR_CT_INVALID = 1, IR_CT_ESTABLISHED = 2, IR_CT_RELATED = 4 };

struct ir_match {
	enum ir_match_kind kind;
	int family;
	uint32_t val, val2;
	bool neg;
	char str[16];
	size_t set;
};

enum ir_verdict { IRV_NONE, IRV_ACCEPT, IRV_DROP, IRV_JUMP };

struct ir_rule {
	size_t chain;
	struct ir_match m[3];
	unsigned nm;
	bool counter;
	const char *log;          /* NFLOG prefix (IR_LOG_PREFIX...), NULL: no log */
	enum ir_verdict verdict;
	size_t target;            /* IRV_JUMP: chain index */
	char comment[64];
	uint32_t origin;
};

struct ir_chain {
	char name[16];
	bool base;
	int prio;
	bool policy_drop;
};

struct ir {
	struct ir_chain chains[4];
	size_t nchains;
	struct ir_set *sets;
	size_t nsets;
	struct ir_rule *rules;
	size_t nrules, caprules;
	struct ir_origin *origins; /* the policy rules behind elements and messages */
	size_t norigins;
};

/* The sets the daemon fills at run time (bans, breakglass openings):
 * compile.c declares them, apply.c changes them live and carries their
 * elements over table swaps. One description of each, here. */
#define IR_SET_QUARANTINE4 "quarantine4"
#define IR_SET_QUARANTINE6 "quarantine6"
#define IR_SET_GLASS4 "glass4"
#define IR_SET_GLASS6 "glass6"
/* Fill s (no elements) as the quarantine set (addresses, timeout) or the
 * glass set (addr . proto . port intervals, timeout) of a family. */
void ir_quarantine_set(int family, struct ir_set *s);
void ir_glass_set(int family, struct ir_set *s);
/* The NFLOG meter of a family: source addresses the packet path adds, each
 * with its own rate limit; a swap starts it empty (nothing to carry). */
#define IR_SET_LOGMETER4 "logmeter4"
#define IR_SET_LOGMETER6 "logmeter6"
void ir_meter_set(int family, struct ir_set *s);

void ir_free(struct ir *ir);
long ir_set_find(const struct ir *ir, const char *name);
void ir_set_add(struct ir_set *s, const struct ir_elem *e);
/* Element comment: the ids of the rules behind it ("a,b,c+"). */
void ir_elem_comment(const struct ir *ir, const struct ir_elem *e, char *buf, size_t len);
/* "acl \"id\" (/acls/3)" */
void ir_origin_describe(const struct ir *ir, uint32_t origin, char *buf, size_t len);
size_t ir_elem_count(const struct ir *ir);

/* intervals.c: boxes (address range x port range, each with an expiry and
 * an origin) for one protocol → disjoint set elements with the latest expiry
 * of the boxes that cover them (0 = never expires, which wins). */
struct ir_box {
	struct addr lo, hi;
	uint16_t plo, phi;
	int64_t expires;
	uint32_t origin;
};

void ir_boxes_to_set(struct ir_box *boxes, size_t n, uint8_t proto, int64_t now,
		     struct ir_set *out);

#endif
