/* banstate.h — the ban list, and the state file that carries it over a
 * daemon restart.
 *
 * A ban names a node, the VPN addresses that went into the quarantine set,
 * why (reason, evidence), when it started and when it ends (unix seconds),
 * and how many bans of that node came before (`repeat`, for the backoff).
 * Besides the bans, the file keeps every node's ban count, so the backoff
 * is remembered after a ban ended.
 *
 * The file is JSON (version 1):
 *   { "version": 1,
 *     "bans": [ { "node": "bob", "addrs": ["100.64.0.3"], "reason": "...",
 *                 "evidence": "...", "start": 1764000000, "expiry": 1764003600,
 *                 "repeat": 0 } ],
 *     "counts": { "bob": 1 } }
 * Loading is strict: unknown or duplicate keys, wrong types, bad names or
 * addresses, control characters, over-long texts, start after expiry, two
 * bans of one node, trailing bytes: the whole file is refused with a reason
 * ("/bans/0/expiry: not an integer"), nothing is half-loaded. Bans that
 * have expired are dropped on load (their node's count stays). */
#ifndef POLICYD_QUARANTINE_BANSTATE_H
#define POLICYD_QUARANTINE_BANSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define BAN_NAME_MAX 64                /* node names: [a-z0-9][a-z0-9-]{0,62} */
#define BAN_ADDRS_MAX 16
#define BAN_REASON_MAX 256
#define BAN_EVIDENCE_MAX 512
#define BANSTATE_FILE_MAX (8u << 20)
#define BANSTATE_MAX 100000            /* bans, and nodes with counts */

struct ban {
	char name[BAN_NAME_MAX];
	struct prefix addrs[BAN_ADDRS_MAX];
	size_t naddrs;
	char reason[BAN_REASON_MAX];
	char evidence[BAN_EVIDENCE_MAX];
	int64_t start, expiry;         /* unix seconds; expiry > start */
	uint32_t repeat;               /* bans of this node before this one */
};

struct ban_count {
	char name[BAN_NAME_MAX];
	uint32_t bans;                 /* bans of this node so far */
};

struct banstate {
	struct ban *v;                 /* in the order added */
	size_t n, cap;
	struct ban_count *counts;      /* sorted by name (loading is O(n log n)) */
	size_t ncounts, capcounts;
};

struct banstate *banstate_new(void);   /* NULL on ENOMEM */
void banstate_free(struct banstate *b);

/* Add a ban (copied), replacing the node's current one; the node's count
 * becomes at least repeat + 1. 0, -EINVAL (bad name or addresses, texts not
 * terminated or with control characters, expiry <= start), -ENOSPC, -ENOMEM. */
int banstate_add(struct banstate *b, const struct ban *ban);
/* Remove the node's ban (reauth, expiry). 0 or -ENOENT. The count stays. */
int banstate_del(struct banstate *b, const char *name);
const struct ban *banstate_find(const struct banstate *b, const char *name);
/* Drop bans with expiry <= now; returns how many were dropped. */
size_t banstate_expire(struct banstate *b, int64_t now);
/* Bans of the node so far (0 if none), and setting it (e.g. from the engine). */
uint32_t banstate_count(const struct banstate *b, const char *name);
int banstate_count_set(struct banstate *b, const char *name, uint32_t bans);

/* The file's text (NUL-terminated, *len without the NUL); free it. 0 or -ENOMEM. */
int banstate_text(const struct banstate *b, char **out, size_t *len);
/* Write atomically: PATH.XXXXXX created 0600 in the same directory, written,
 * fsync'd, renamed over path, directory fsync'd. 0 or -errno. */
int banstate_save(const struct banstate *b, const char *path);
/* Read and validate. 0 and *out; -ENOENT if there is no file (the caller
 * starts empty); -EINVAL with why filled for a corrupt file; -EFBIG;
 * other -errno from reading. Bans with expiry <= now are dropped. */
int banstate_load(const char *path, int64_t now, struct banstate **out, char *why, size_t whylen);
/* The same on text in memory (what the fuzz target calls). */
int banstate_parse(const char *text, size_t len, int64_t now, struct banstate **out, char *why,
		   size_t whylen);

#endif
