/* reach.h — who the policy lets reach a listening socket of the node:
 * the internet (an expose rule), some VPN peers (acls, breakglass), or
 * nobody; and whether the socket listens more widely than that, so that
 * only the firewall keeps it from the rest (a service on 0.0.0.0 that the
 * policy exposes to nobody). */
#ifndef POLICYD_AUDIT_REACH_H
#define POLICYD_AUDIT_REACH_H

#include <stdbool.h>
#include <time.h>

#include "localinv.h"
#include "policy.h"

enum reach_class { REACH_LOOPBACK, REACH_PUBLIC, REACH_PUBLIC_SOME, REACH_VPN, REACH_NOBODY };

struct reach {
	enum reach_class cls;
	bool firewall_only;      /* reachable at the socket level beyond what the policy allows */
	char public_rule[96];    /* the expose rule (or "the WireGuard port"), or "" */
	char vpn_rules[160];     /* acl ids (and "breakglass") that reach it over the VPN, or "" */
};

void reach_classify(const struct policy *p, size_t node, const struct listener *l, time_t now,
		    struct reach *out);
const char *reach_class_name(enum reach_class c);

#endif
