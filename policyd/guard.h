/* guard.h — quarantine in the daemon (guard.c has the whole story). */
#ifndef POLICYD_GUARD_H
#define POLICYD_GUARD_H

#include <poll.h>
#include <stddef.h>
#include <stdio.h>

struct daemon;
struct guard;
struct policy;

/* After the first policy is in force and the device exists (before its
 * threads start): the engine, the NFLOG listener, the state file's bans
 * restored. 0 or -errno (logged). */
int guard_new(struct daemon *d, const char *state_path, struct guard **out);
void guard_free(struct guard *g);
/* A new policy is in force. */
void guard_policy(struct guard *g, const struct policy *p);
/* The two fds to poll (NFLOG, datapath events); returns 2. */
int guard_fds(const struct guard *g, struct pollfd *pfd);
void guard_on_nflog(struct guard *g);
void guard_on_events(struct guard *g);
/* Forget expired bans; ms until the next expiry, -1 if none. */
int guard_tick(struct guard *g);
/* policyctl flag / reauth: a message for the caller either way. */
int guard_flag(struct guard *g, const char *node, const char *reason, char *msg, size_t len);
int guard_reauth(struct guard *g, const char *node, char *msg, size_t len);
void guard_status(struct guard *g, FILE *f);

#endif
