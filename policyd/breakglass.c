/* breakglass.c — `policyctl breakglass open --from CIDR [--ttl 30m]`.
 *
 * Opens the policy's breakglass ports on this node's public side for one
 * source range, for a while: an admin locked out of the mesh (lost laptop,
 * broken tunnel) gets SSH back from where they are. The opening is an
 * element of the glass4/glass6 sets with a kernel-side timeout, so it closes
 * on time even if the daemon is gone, and a reload carries it over (cut
 * to the new policy's breakglass ports and ttl). The kernel is the only
 * record: status lists what is in its sets; close removes every element
 * made for the prefix.
 *
 * What is refused: a policy without a breakglass section; a range broader
 * than GLASS_MIN_V4/V6 (an opening is for one admin, not the internet); a
 * range overlapping the mesh (those packets come over the VPN, where holders
 * are already allowed); host bits after the prefix; a ttl longer than the
 * policy's breakglass.ttl; an overlap with an opening in force. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "apply.h"
#include "daemon.h"
#include "log.h"

#define GLASS_MIN_V4 24  /* an office or a NAT at most; an admin's own address is a /32 */
#define GLASS_MIN_V6 64  /* one network; a /128 for one host */

/* Two prefixes overlap when one holds the other's first address. */
static bool overlap(const struct prefix *a, const struct prefix *b)
{
	return prefix_contains(a, &b->a) || prefix_contains(b, &a->a);
}

static int glass_prefix(const struct daemon *d, const char *cidr, struct prefix *out, char *err,
			size_t errlen)
{
	const struct network *net = &d->p->net;
	int min;

	if (prefix_parse(cidr, out) < 0) {
		snprintf(err, errlen, "--from \"%.60s\" is not an address or CIDR", cidr);
		return -EINVAL;
	}
	min = out->a.family == AF_INET ? GLASS_MIN_V4 : GLASS_MIN_V6;
	if (prefix_has_host_bits(out)) {
		snprintf(err, errlen, "--from \"%.60s\" has bits set after /%u", cidr, out->len);
		return -EINVAL;
	}
	if (out->len < min) {
		snprintf(err, errlen, "--from \"%.60s\" is broader than /%d: an opening is for one "
				      "admin's network, not the internet", cidr, min);
		return -EINVAL;
	}
	if ((out->a.family == AF_INET && net->has_v4 && overlap(&net->v4, out)) ||
	    (out->a.family == AF_INET6 && net->has_v6 && overlap(&net->v6, out))) {
		snprintf(err, errlen, "--from \"%.60s\" overlaps the mesh: holders already reach "
				      "the breakglass ports over the VPN", cidr);
		return -EINVAL;
	}
	return 0;
}

static void ports_str(const struct portset *ps, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	if (ps->all) {
		snprintf(buf, len, "tcp:*,udp:*");
		return;
	}
	for (int u = 0; u < 2; u++) {
		const struct rangeset *rs = u ? &ps->udp : &ps->tcp;

		for (size_t i = 0; i < rs->n && o < len; i++) {
			const struct range16 *r = &rs->v[i];

			o += (size_t)snprintf(buf + o, len - o, "%s%s%u", o ? "," : "",
					      i ? "" : (u ? "udp:" : "tcp:"), r->lo);
			if (r->hi != r->lo && o < len)
				o += (size_t)snprintf(buf + o, len - o, "-%u", r->hi);
		}
	}
}

int daemon_glass_open(struct daemon *d, const char *cidr, const char *ttl_text, char *msg,
		      size_t msglen)
{
	const struct breakglass *bg = &d->p->breakglass;
	struct prefix from;
	uint32_t ttl = bg->ttl;
	char ports[128];
	int r;

	if (!bg->present) {
		snprintf(msg, msglen, "the policy has no breakglass section");
		return -ENOENT;
	}
	if ((r = glass_prefix(d, cidr, &from, msg, msglen)) < 0)
		return r;
	if (strcmp(ttl_text, "-") && (duration_parse(ttl_text, &ttl) < 0 || !ttl)) {
		snprintf(msg, msglen, "--ttl \"%.20s\" is not a duration (30s, 10m, 1h)", ttl_text);
		return -EINVAL;
	}
	if (ttl > bg->ttl) {
		snprintf(msg, msglen, "--ttl %us is longer than the policy's breakglass.ttl (%us)",
			 ttl, bg->ttl);
		return -EINVAL;
	}
	ports_str(&bg->ports, ports, sizeof(ports));
	r = rules_glass_open(d->nl, &bg->ports, &from, (uint64_t)ttl * 1000);
	if (r == -EEXIST || r == -ENOTEMPTY) {
		snprintf(msg, msglen, "%s overlaps an opening in force (see status; close it first)",
			 cidr);
		return r;
	}
	if (r < 0) {
		snprintf(msg, msglen, "the kernel refused the opening: %s", strerror(-r));
		return r;
	}
	log_warn("breakglass OPEN: %s may reach %s on the public side for %us", cidr, ports, ttl);
	snprintf(msg, msglen, "%s may reach %s for %us (the kernel closes it then)", cidr, ports,
		 ttl);
	return 0;
}

int daemon_glass_close(struct daemon *d, const char *cidr, char *msg, size_t msglen)
{
	struct prefix from;
	int r;

	if (!d->p->breakglass.present) {
		snprintf(msg, msglen, "the policy has no breakglass section");
		return -ENOENT;
	}
	if (prefix_parse(cidr, &from) < 0 || prefix_has_host_bits(&from)) {
		snprintf(msg, msglen, "--from \"%.60s\" is not a CIDR as it was opened", cidr);
		return -EINVAL;
	}
	if ((r = rules_glass_close(d->nl, &from)) < 0) {
		snprintf(msg, msglen, "no opening for exactly %s (see status)", cidr);
		return r;
	}
	log_warn("breakglass closed: %s", cidr);
	snprintf(msg, msglen, "closed %s", cidr);
	return 0;
}

struct glass_print {
	FILE *f;
	size_t n;
};

static void print_opening(void *ctx, const struct ir_elem *e)
{
	struct glass_print *g = ctx;
	char range[RANGE_STRLEN];
	uint64_t s = e->timeout_ms / 1000;

	fprintf(g->f, "  %-24s %s:%u", range_str(&e->lo, &e->hi, range),
		e->proto == 17 ? "udp" : "tcp", e->plo);
	if (e->phi != e->plo)
		fprintf(g->f, "-%u", e->phi);
	fprintf(g->f, "  closes in %llum%02llus\n", (unsigned long long)(s / 60),
		(unsigned long long)(s % 60));
	g->n++;
}

/* A new policy: openings keep only the ports and the time it allows. */
void daemon_glass_policy(struct daemon *d)
{
	const struct breakglass *bg = &d->p->breakglass;
	int r;

	if (!bg->present)
		return; /* no glass sets in the new table: nothing was carried */
	r = rules_glass_trim(d->nl, &bg->ports, (uint64_t)bg->ttl * 1000);
	if (r > 0)
		log_warn("breakglass: %d opening(s) on ports the policy no longer has were closed", r);
	else if (r < 0)
		log_error("breakglass: openings not checked against the new policy: %s",
			  strerror(-r));
}

void daemon_glass_status(struct daemon *d, FILE *f)
{
	struct glass_print g = { f, 0 };

	if (!d->p->breakglass.present)
		return;
	fprintf(f, "breakglass openings:\n");
	if (rules_glass_list(d->nl, AF_INET, print_opening, &g) < 0 ||
	    rules_glass_list(d->nl, AF_INET6, print_opening, &g) < 0)
		fprintf(f, "  (cannot read the kernel's sets)\n");
	else if (!g.n)
		fprintf(f, "  none\n");
}
