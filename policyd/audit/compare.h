/* compare.h — expected against observed, port by port, and why they differ.
 *
 * TCP: a port the policy allows should be open (closed = nothing listens, a
 * notice); a port it drops should be filtered (open or closed there = drift).
 * UDP: silence (open|filtered) is what a drop looks like, and also what an
 * open port that ignores nmap's probe looks like, so UDP can only prove
 * drift in one direction: an answer (open, or closed by ICMP) where the
 * policy drops.
 *
 * Consecutive ports with the same verdict become one row (1-21/tcp ...), so
 * a full scan is a handful of rows. */
#ifndef POLICYD_AUDIT_COMPARE_H
#define POLICYD_AUDIT_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expect.h"
#include "nmapxml.h"

enum audit_status { AUDIT_MATCH, AUDIT_NOTICE, AUDIT_DRIFT, AUDIT_UNKNOWN };

enum audit_note {
	NOTE_NONE,
	NOTE_NOTHING_LISTENS,   /* allowed, closed: nothing listens (or a reject before policyd) */
	NOTE_UDP_SILENT,        /* allowed UDP, no answer: open or dropped, UDP cannot tell */
	NOTE_REJECTED,          /* filtered, but by an ICMP reject: policyd drops silently */
	NOTE_OPENED,            /* dropped by policy, yet open */
	NOTE_ANSWERED,          /* dropped by policy, yet closed: a reset or port unreachable */
	NOTE_DROPPED,           /* allowed by policy, yet filtered */
	NOTE_ODD_STATE,         /* a state this scan type should not give */
	NOTE_NOT_REPORTED,      /* nmap said nothing about the port */
};

/* What is known about the audit, to name causes. The scan sees only
 * packets, never the target's ruleset, so a cause is what the answer nmap
 * got allows: an answer (syn-ack, reset, port unreachable) where policyd
 * drops, silence where it accepts. */
struct compare_ctx {
	enum expect_zone zone;
	const struct portset *breakglass; /* ports a breakglass opening may open, or NULL */
};

struct audit_row {
	uint8_t proto;            /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t lo, hi;          /* ports lo..hi */
	bool allowed;
	const char *rule;         /* from the expect (borrowed) */
	enum nmap_state observed;
	const char *reason;       /* nmap's reason (borrowed from the result) */
	uint8_t ttl;              /* reason_ttl of the first port */
	enum audit_status status;
	enum audit_note note;
};

struct audit_diff {
	struct audit_row *rows;
	size_t nrows;
	size_t count[4];          /* ports per enum audit_status */
	size_t answered;          /* ports where the target itself answered (syn-ack, reset, ICMP port unreachable) */
	size_t allowed, allowed_dropped;
};

/* 0 or -ENOMEM. The diff borrows strings from e and r. */
int compare_run(const struct expect *e, const struct nmap_result *r, struct audit_diff *out);
void compare_free(struct audit_diff *d);
/* A sentence for the row's note: the notice, or the likely cause of drift. */
void compare_note_text(const struct audit_diff *d, const struct audit_row *row,
		       const struct compare_ctx *c, char *buf, size_t len);
const char *compare_status_name(enum audit_status s);
const char *compare_expected_name(const struct audit_row *row);

#endif
