/* audit.c — scaffolding only: the audit verb is being written (issue 6). */
#include <stdio.h>

#include "audit.h"

int audit_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "policyctl: audit: not implemented yet\n");
	return 2;
}
