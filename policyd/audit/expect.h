/* expect.h — what the policy says one vantage point should see on each port
 * of a node: which ports to scan, and for each whether policyd lets a new
 * connection through (and which rule decides) or drops it.
 *
 * The verdicts come from rules/ptest (the offline evaluator the policy's own
 * `tests` use), never from the compiled ruleset, so the audit checks the
 * kernel against the policy as written. */
#ifndef POLICYD_AUDIT_EXPECT_H
#define POLICYD_AUDIT_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "policy.h"

enum expect_zone { EXPECT_PUBLIC, EXPECT_VPN };

/* The ports to scan. */
struct expect_ports {
	struct rangeset tcp, udp;
	bool udp_star;         /* a declared "*" / udp:* that was not expanded */
};

struct expect_port {
	uint16_t port;
	uint8_t proto;         /* IPPROTO_TCP or IPPROTO_UDP */
	bool allowed;          /* policyd accepts a new connection from the vantage point */
	uint16_t rule;         /* expect.rules[rule]: the deciding rule, as ptest names it */
};

struct expect {
	struct expect_port *v; /* tcp ports ascending, then udp ports ascending */
	size_t n;
	char **rules;          /* distinct rule descriptions */
	size_t nrules;
	size_t nallowed;
};

/* Where the scan comes from. */
struct expect_vantage {
	enum expect_zone zone;
	const struct addr *src; /* the scanner's source address; public: NULL = any address */
	time_t now;             /* for acl expiry */
};

/* "all" (every TCP port), "declared" (what the node's rules mention), or a
 * LIST of N, N-M, tcp:N-M, udp:N-M separated by commas. In "all" and
 * "declared", UDP is the declared UDP ports. 0, or -EINVAL with a message. */
int expect_ports_parse(const struct policy *p, size_t node, const char *spec,
		       struct expect_ports *out, char *err, size_t errlen);
/* The ports the node's expose rules, acls (as destination) and breakglass
 * mention. 0 or -ENOMEM. */
int expect_ports_declared(const struct policy *p, size_t node, struct expect_ports *out);
size_t expect_ports_count(const struct expect_ports *ps);
void expect_ports_free(struct expect_ports *ps);

/* One verdict per port of ports. 0 or -ENOMEM. */
int expect_build(const struct policy *p, size_t node, const struct expect_vantage *v,
		 const struct expect_ports *ports, struct expect **out);
void expect_free(struct expect *e);
/* The entry for (proto, port), or NULL. */
const struct expect_port *expect_find(const struct expect *e, uint8_t proto, uint16_t port);

/* The node (index) that owns a VPN address, or -1. */
long expect_node_by_addr(const struct policy *p, const struct addr *a);
/* Is a in the mesh's ipv4/ipv6 prefix? */
bool expect_in_mesh(const struct policy *p, const struct addr *a);

#endif
