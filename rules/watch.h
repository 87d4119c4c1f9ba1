/* watch.h — who else changed our table: the ruleset events of the current
 * network namespace (NETLINK_NETFILTER, group NFNLGRP_NFTABLES: what
 * `nft monitor` reads).
 *
 * A diff (rules_update) is only right against a table that holds exactly
 * what we last put there. The watch vouches for that: since the last table
 * replacement it saw (rules_update reports each one to it), every event that
 * touched table inet policyd came from our own rules_nl socket, whose port id
 * the kernel stamps on the events of our batches. Anything else is
 * tampering: a change from another socket (`nft add rule inet policyd ...`,
 * `nft flush ruleset`, another policyctl), events the kernel could not
 * deliver (ENOBUFS: unknown, so tampered), or a watch that has not yet seen
 * our table put in place.
 *
 * Changes the kernel makes by itself are not tampering. Measured on 6.18:
 * element timeouts expiring and dynamic-set adds from the packet path send
 * no event at all; element events with port id 0 would be of that kind and
 * are ignored. Changes to other tables are not tampering either.
 *
 * Each transaction's events end with NFT_MSG_NEWGEN, which carries the new
 * generation id and the committing process (NFTA_GEN_PROC_PID/_NAME): that
 * is where "changed by nft (pid N)" comes from.
 *
 * Subscribing has a cost: the kernel builds the events only when someone
 * listens, one per element of a table being loaded. rules_update() pauses
 * the watch around its own replacements (the generation id accounts for
 * that window), so only diffs and foreign changes are ever read.
 *
 * The daemon puts rules_watch_fd() in its event loop (EPOLLIN) and calls
 * rules_watch_drain() when it is readable; rules_update() drains it too. */
#ifndef RULES_WATCH_H
#define RULES_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"

struct rules_watch;

/* One foreign change of table inet policyd. */
struct rules_tamper {
	uint32_t genid;     /* the generation that committed it */
	uint32_t portid;    /* netlink port of the sender (0: the kernel) */
	uint32_t pid;       /* NFTA_GEN_PROC_PID of that generation; 0 unknown */
	char comm[16];      /* NFTA_GEN_PROC_NAME, e.g. "nft"; "" unknown */
	uint16_t type;      /* NFT_MSG_* of its first event on our table */
};

struct rules_watch_stats {
	uint64_t events;    /* nf_tables events read */
	uint64_t gens;      /* of which NFT_MSG_NEWGEN */
	uint64_t ours;      /* object events from our rules_nl socket */
	uint64_t foreign;   /* object events from anyone else, any table */
	uint64_t tampers;   /* of which on table inet policyd */
	uint64_t lost;      /* ENOBUFS reports */
};

/* Subscribe to the ruleset events of the current network namespace; nl is
 * the socket our batches go through (only its port id and the current
 * generation are taken; nl may be closed before the watch). rcvbuf: the
 * socket's receive buffer in bytes, 0 for the default (8 MiB, forced with
 * CAP_NET_ADMIN). A new watch vouches for nothing until it has seen a
 * replacement. 0 or -errno (EPERM without CAP_NET_ADMIN). */
int rules_watch_new(struct rules_nl *nl, int rcvbuf, struct rules_watch **out);
void rules_watch_free(struct rules_watch *w);
/* Readable when events are queued; never block on it, call drain. */
int rules_watch_fd(const struct rules_watch *w);
/* Read every queued event without blocking. Returns how many new foreign
 * changes of our table (and event losses) this call found, 0 when none
 * (log rules_watch_describe() then), or -errno. */
int rules_watch_drain(struct rules_watch *w);
/* Whether the table may hold something we did not put there. */
bool rules_watch_tampered(const struct rules_watch *w);
/* The latest foreign change of our table seen, or NULL. */
const struct rules_tamper *rules_watch_last(const struct rules_watch *w);
/* One line: why the table is not vouched for ("changed by nft (pid 812),
 * generation 57", "ruleset events were lost (ENOBUFS)", ...), or "" when
 * it is. */
void rules_watch_describe(const struct rules_watch *w, char *buf, size_t len);
void rules_watch_stats(const struct rules_watch *w, struct rules_watch_stats *out);

/* For rules_update (apply.c). Drain until the NEWGEN of generation genid
 * has been read, so that every change up to it is known; if it does not
 * come within half a second, events count as lost. 0 or -errno. */
int rules_watch_sync(struct rules_watch *w, uint32_t genid);
/* Around a replacement of ours: stop listening first (genid: the generation
 * read just before). With nobody subscribed the kernel does not even build
 * the events, one per element of the new table; the replacement undoes
 * whatever we miss before it commits. Resume right after it. */
int rules_watch_pause(struct rules_watch *w, uint32_t genid);
int rules_watch_resume(struct rules_watch *w);
/* After a batch of ours, once the watch has been drained: gen is the
 * generation it committed (0: it failed), now_gen the generation read after
 * the drain. replaced: the batch replaced the whole table, which undoes
 * every change before it, and the watch vouches for the table from gen on.
 * When nobody committed after us (now_gen == gen), events lost meanwhile
 * can only have been ours and are forgiven; anything missed while paused
 * that is not accounted for this way counts as lost. */
void rules_watch_committed(struct rules_watch *w, uint32_t gen, uint32_t now_gen, bool replaced);

#endif
