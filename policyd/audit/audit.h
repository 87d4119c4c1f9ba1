/* audit.h — `policyctl audit`: scan a node with nmap and compare what is
 * observed with what the policy expects. */
#ifndef POLICYD_AUDIT_H
#define POLICYD_AUDIT_H

/* argv[0] is "audit". Returns the exit code: 0 match, 1 drift, 2 error. */
int audit_main(int argc, char **argv);

#endif
