/* reach.h — who the policy lets reach a listening socket of the node:
 * the internet (an expose rule), some VPN peers (acls, breakglass), or
 * nobody; and whether the socket listens more widely than that, so that
 * only the firewall keeps it from the rest (a service on 0.0.0.0 that the
 * policy exposes to nobody).
 *
 * The internet is what arrives on the node's `public` interfaces (default:
 * every interface but lo and the VPN interface, network.interface). A
 * socket faces it when it listens on every address, on an address of a
 * public interface, or on a public interface (SO_BINDTODEVICE); one bound
 * to a non-public interface or its address does not. */
#ifndef POLICYD_AUDIT_REACH_H
#define POLICYD_AUDIT_REACH_H

#include <stdbool.h>
#include <time.h>

#include "localinv.h"
#include "policy.h"

enum reach_class {
	REACH_LOOPBACK, REACH_PUBLIC, REACH_PUBLIC_SOME, REACH_VPN, REACH_NOBODY,
	REACH_OTHER_IF,          /* bound to a non-public interface, which policyd does not filter */
};

struct reach {
	enum reach_class cls;
	bool internet;           /* faces the internet, firewall aside */
	bool firewall_only;      /* reachable at the socket level beyond what the policy allows */
	bool internet_fw_only;   /* faces the internet, which the policy gives nothing of it:
				    only policyd's drop keeps the internet out */
	char public_rule[96];    /* the expose rule (or "the WireGuard port"), or "" */
	char vpn_rules[160];     /* acl ids (and "breakglass") that reach it over the VPN, or "" */
};

void reach_classify(const struct policy *p, size_t node, const struct listener *l, time_t now,
		    struct reach *out);
const char *reach_class_name(enum reach_class c);

#endif
