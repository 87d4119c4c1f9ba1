/* compile.h — policy + node → IR (see compile.c for the table's shape). */
#ifndef RULES_COMPILE_H
#define RULES_COMPILE_H

#include <time.h>

#include "ir.h"
#include "policy.h"

struct compile_opts {
	time_t now;          /* expiry reference; 0 = time(NULL) */
	const char *ifname;  /* the VPN interface's actual name; NULL = the policy's */
};

/* Never fails on a loaded policy (allocation failure aborts). Caller frees
 * with ir_free(). */
struct ir *compile_node(const struct policy *p, size_t node, const struct compile_opts *opts);

#endif
