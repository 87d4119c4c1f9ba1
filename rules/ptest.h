/* ptest.h — evaluating a policy's `tests` (and single packets) offline. */
#ifndef RULES_PTEST_H
#define RULES_PTEST_H

#include <time.h>

#include "policy.h"

/* Would `node` accept a new connection from src over the VPN / on its public
 * side? why names the deciding rule. A NULL src on the public side means
 * "any internet address". */
bool ptest_vpn_verdict(const struct policy *p, size_t node, const struct addr *src,
		       uint8_t proto, uint16_t port, time_t now, char *why, size_t len);
bool ptest_public_verdict(const struct policy *p, size_t node, const struct addr *src,
			  uint8_t proto, uint16_t port, char *why, size_t len);

/* Every assertion of every test; each failure becomes an error at its JSON
 * pointer. Returns the number of failures; *checked the number of assertions. */
size_t ptest_run(const struct policy *p, time_t now, struct diags *d, size_t *checked);
/* Warnings for nodes nobody can reach on tcp:22 over the mesh (only when
 * the policy has no breakglass section). Returns how many. */
size_t ptest_lockout_warnings(const struct policy *p, time_t now, struct diags *d);

#endif
