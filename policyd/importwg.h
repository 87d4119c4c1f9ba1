/* importwg.h — wg-quick configs to a policy (policyctl import-wg). */
#ifndef POLICYD_IMPORTWG_H
#define POLICYD_IMPORTWG_H
#include <stddef.h>
#include <stdio.h>
/* Read the n wg-quick configs (one per host), write the policy to out.
 * 0, or -errno with the file, line and problem in err. Nothing is written
 * to out unless the result validates as a policy. */
int importwg(const char *const *files, size_t n, FILE *out, char *err, size_t errlen);
#endif
