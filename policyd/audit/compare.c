/* compare.c — per-port verdicts and their causes. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

const char *compare_status_name(enum audit_status s)
{
	switch (s) {
	case AUDIT_MATCH: return "match";
	case AUDIT_NOTICE: return "notice";
	case AUDIT_DRIFT: return "drift";
	case AUDIT_UNKNOWN: return "unknown";
	}
	return "?";
}

const char *compare_expected_name(const struct audit_row *row)
{
	return row->allowed ? "open" : "filtered";
}

/* An ICMP error, not silence: someone rejected rather than dropped. */
static bool is_reject(const char *reason)
{
	return reason[0] && strcmp(reason, "no-response") && strcmp(reason, "user-set");
}

struct verdict {
	enum audit_status status;
	enum audit_note note;
};

static struct verdict V(enum audit_status status, enum audit_note note)
{
	return (struct verdict){ status, note };
}

static struct verdict classify_tcp(bool allowed, enum nmap_state st, const char *reason)
{
	if (allowed) {
		switch (st) {
		case NMAP_OPEN: return V(AUDIT_MATCH, NOTE_NONE);
		case NMAP_CLOSED: return V(AUDIT_NOTICE, NOTE_NOTHING_LISTENS);
		case NMAP_UNFILTERED: return V(AUDIT_NOTICE, NOTE_ODD_STATE);
		default: return V(AUDIT_DRIFT, NOTE_DROPPED);
		}
	}
	switch (st) {
	case NMAP_FILTERED:
		return is_reject(reason) ? V(AUDIT_NOTICE, NOTE_REJECTED) : V(AUDIT_MATCH, NOTE_NONE);
	case NMAP_OPEN_FILTERED:
	case NMAP_CLOSED_FILTERED: return V(AUDIT_MATCH, NOTE_NONE);
	case NMAP_CLOSED: return V(AUDIT_DRIFT, NOTE_ANSWERED);
	default: return V(AUDIT_DRIFT, NOTE_OPENED);
	}
}

static struct verdict classify_udp(bool allowed, enum nmap_state st, const char *reason)
{
	if (allowed) {
		switch (st) {
		case NMAP_OPEN: return V(AUDIT_MATCH, NOTE_NONE);
		case NMAP_OPEN_FILTERED: return V(AUDIT_NOTICE, NOTE_UDP_SILENT);
		case NMAP_CLOSED: return V(AUDIT_NOTICE, NOTE_NOTHING_LISTENS);
		case NMAP_FILTERED: return V(AUDIT_DRIFT, NOTE_DROPPED);
		default: return V(AUDIT_NOTICE, NOTE_ODD_STATE);
		}
	}
	switch (st) {
	case NMAP_OPEN_FILTERED: return V(AUDIT_MATCH, NOTE_NONE);
	case NMAP_FILTERED:
		return is_reject(reason) ? V(AUDIT_NOTICE, NOTE_REJECTED) : V(AUDIT_MATCH, NOTE_NONE);
	case NMAP_OPEN: return V(AUDIT_DRIFT, NOTE_OPENED);
	case NMAP_CLOSED: return V(AUDIT_DRIFT, NOTE_ANSWERED);
	default: return V(AUDIT_NOTICE, NOTE_ODD_STATE);
	}
}

static bool answered(uint8_t proto, enum nmap_state st)
{
	return st == NMAP_OPEN || st == NMAP_CLOSED || (proto == IPPROTO_TCP && st == NMAP_UNFILTERED);
}

static bool same_row(const struct audit_row *a, const struct audit_row *b)
{
	return a->proto == b->proto && (uint32_t)a->hi + 1 == b->lo && a->allowed == b->allowed &&
	       a->rule == b->rule && a->observed == b->observed && a->reason == b->reason &&
	       a->status == b->status && a->note == b->note;
}

static int push(struct audit_diff *d, const struct audit_row *row, size_t *cap)
{
	struct audit_row *v;

	if (d->nrows && same_row(&d->rows[d->nrows - 1], row)) {
		d->rows[d->nrows - 1].hi = row->lo;
		return 0;
	}
	if (d->nrows == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if (!(v = realloc(d->rows, *cap * sizeof(*v))))
			return -ENOMEM;
		d->rows = v;
	}
	d->rows[d->nrows++] = *row;
	return 0;
}

int compare_run(const struct expect *e, const struct nmap_result *r, struct audit_diff *out)
{
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < e->n; i++) {
		const struct expect_port *ep = &e->v[i];
		const struct nmap_port *np =
			nmap_port(r, ep->proto == IPPROTO_UDP ? NMAP_UDP : NMAP_TCP, ep->port);
		struct audit_row row = {
			.proto = ep->proto, .lo = ep->port, .hi = ep->port, .allowed = ep->allowed,
			.rule = e->rules[ep->rule], .observed = np->state,
			.reason = nmap_reason(r, np), .ttl = np->ttl,
		};

		struct verdict v = np->state == NMAP_UNSEEN ? V(AUDIT_UNKNOWN, NOTE_NOT_REPORTED)
				   : ep->proto == IPPROTO_UDP
				   ? classify_udp(ep->allowed, np->state, row.reason)
				   : classify_tcp(ep->allowed, np->state, row.reason);

		row.status = v.status;
		row.note = v.note;
		out->count[row.status]++;
		out->answered += answered(ep->proto, np->state);
		out->allowed += ep->allowed;
		out->allowed_dropped += row.note == NOTE_DROPPED;
		if (push(out, &row, &cap) < 0) {
			compare_free(out);
			return -ENOMEM;
		}
	}
	return 0;
}

void compare_free(struct audit_diff *d)
{
	if (!d)
		return;
	free(d->rows);
	memset(d, 0, sizeof(*d));
}

static bool breakglass_port(const struct audit_row *row, const struct compare_ctx *c)
{
	return c->zone == EXPECT_PUBLIC && c->breakglass &&
	       portset_allows(c->breakglass, row->proto, row->lo);
}

static const char *breakglass_or(const struct audit_row *row, const struct compare_ctx *c)
{
	return breakglass_port(row, c) ? "; or a breakglass opening for this address" : "";
}

/* Dropped by policy, yet open. An accept in another table cannot undo
 * policyd's drop (a drop in any base chain is final), so policyd's own table
 * is missing or no longer the policy's, or a NAT rule before it sends the
 * port elsewhere. */
static void opened(const struct audit_row *row, const struct compare_ctx *c, char *buf,
		   size_t len)
{
	snprintf(buf, len, "policyd's table missing or changed on the target (another table's "
		 "accept cannot undo its drop; a NAT redirect to an allowed port can)%s",
		 breakglass_or(row, c));
}

/* Dropped by policy, yet answered with a reset or a port unreachable:
 * policyd drops silently, so either it never saw the probe's verdict (table
 * missing or changed) or a table before it rejected the probe — the two
 * look the same from outside. */
static void answered_text(const struct audit_row *row, const struct compare_ctx *c, char *buf,
			  size_t len)
{
	snprintf(buf, len, "policyd's table missing or changed on the target, or another table "
		 "rejects it (%s) before policyd's drop%s", row->reason[0] ? row->reason : "?",
		 breakglass_or(row, c));
}

/* Allowed by policy, yet dropped: someone else's drop. */
static void dropped(const struct audit_diff *d, const struct audit_row *row,
		    const struct compare_ctx *c, char *buf, size_t len)
{
	char rej[64] = "";
	bool all = c->zone == EXPECT_VPN && d->allowed && d->allowed_dropped == d->allowed;

	if (is_reject(row->reason))
		snprintf(rej, sizeof(rej), "rejected (%s), not policyd's silent drop: ", row->reason);
	snprintf(buf, len, "%sa drop outside policyd (another table or program on the target, "
		 "a cloud or network firewall on the path)%s", rej,
		 all ? "; or this peer is quarantined" : "");
}

void compare_note_text(const struct audit_diff *d, const struct audit_row *row,
		       const struct compare_ctx *c, char *buf, size_t len)
{
	switch (row->note) {
	case NOTE_NONE:
		snprintf(buf, len, "%s", "");
		break;
	case NOTE_NOTHING_LISTENS:
		snprintf(buf, len, "nothing listens (%s), or another table rejects it before "
			 "policyd: the two look the same", row->reason[0] ? row->reason : "?");
		break;
	case NOTE_UDP_SILENT:
		snprintf(buf, len, "no answer: open but silent to nmap's probe, or dropped; UDP "
			 "cannot tell");
		break;
	case NOTE_REJECTED:
		snprintf(buf, len, "rejected (%s) rather than dropped: something before policyd "
			 "answered", row->reason);
		break;
	case NOTE_OPENED:
		opened(row, c, buf, len);
		break;
	case NOTE_ANSWERED:
		answered_text(row, c, buf, len);
		break;
	case NOTE_DROPPED:
		dropped(d, row, c, buf, len);
		break;
	case NOTE_ODD_STATE:
		snprintf(buf, len, "nmap state \"%s\" was not expected from this scan",
			 nmap_state_name(row->observed));
		break;
	case NOTE_NOT_REPORTED:
		snprintf(buf, len, "nmap reported nothing for this port: scan incomplete");
		break;
	}
}
