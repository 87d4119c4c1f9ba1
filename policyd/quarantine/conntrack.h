/* conntrack.h — cutting a quarantined peer's sessions: delete the conntrack
 * entries whose original source is one of its addresses, in the caller's
 * network namespace, over ctnetlink (libmnl).
 *
 * How: dump the table of that address family (IPCTNL_MSG_CT_GET, NLM_F_DUMP),
 * match the original-direction source in userspace, then delete each match
 * by its original tuple, zone and id (IPCTNL_MSG_CT_DELETE; an entry that
 * went away meanwhile is not an error). Matches are collected in passes of
 * at most CONNTRACK_BATCH entries; a dump the kernel marks interrupted is
 * run again. A dump reads the whole table of the family: fine for the rare
 * ban (one dump per family for all of a node's addresses); CTA_FILTER
 * (kernel >= 5.8) could move the match into the kernel.
 *
 * Every call has a deadline (the daemon's event loop waits for it): past
 * it, the work stops and -ETIMEDOUT is returned; what was deleted stays
 * deleted. */
#ifndef POLICYD_QUARANTINE_CONNTRACK_H
#define POLICYD_QUARANTINE_CONNTRACK_H

#include "addr.h"

#define CONNTRACK_BATCH 4096
#define CONNTRACK_PASSES 16
#define CONNTRACK_TIMEOUT_MS 1000      /* conntrack_kill_src, conntrack_count_src */

/* Number of entries deleted, or -errno (-EPERM without CAP_NET_ADMIN,
 * -EAFNOSUPPORT for a bad address, -ETIMEDOUT after CONNTRACK_TIMEOUT_MS,
 * or what the kernel refused). */
int conntrack_kill_src(const struct addr *src);
/* The same for every address of src[0..n), with one dump per family (a
 * node's addresses at once), within timeout_ms. Deleted in all, or the
 * first -errno. */
int conntrack_kill_srcs(const struct addr *src, size_t n, unsigned timeout_ms);
/* Number of entries whose original source is src, or -errno. */
int conntrack_count_src(const struct addr *src);

#endif
