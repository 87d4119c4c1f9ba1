/* daemon.h — the daemon's state, shared by its parts:
 *
 *   policyd.c     start, the event loop, privileges, systemd
 *   reload.c      reading, checking and switching policies
 *   confirm.c     commit-confirmed applies and their rollback
 *   serve.c       the control socket's verbs: status, reload, apply, ...
 *   ctlsock.c     the control socket's connections, never blocking the loop
 *   breakglass.c  public openings for a locked-out admin
 *   guard.c       quarantine: denied packets and events in, bans out
 *
 * Everything runs on the daemon's main thread; the datapath has its own
 * threads behind the device API. */
#ifndef POLICYD_DAEMON_H
#define POLICYD_DAEMON_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "policy.h"

#define VPN_MTU 1420
#define STATE_DEFAULT_PATH "/var/lib/policyd/bans.json"

/* A policy file's bytes and, with --trust, the signature that was verified
 * against them (reload.c). */
struct policy_bytes {
	char *text, *sig;
	size_t len, siglen;
	uint64_t signed_at;            /* the signature's time; 0 without --trust */
};

struct device;
struct guard;
struct ir;
struct rules_nl;
struct rules_watch;

struct daemon {
	const char *policy_path, *key_path, *ifname_opt, *ctl_path;
	const char *trust_path;        /* admin keys; set: only signed policies */
	uint64_t signed_floor;         /* no policy signed before this is applied */
	char signed_path[4200];        /* STATE.signed: signed_floor, across restarts */
	char ifname[IFNAMSIZ];
	uint8_t *priv;                 /* sodium_malloc */
	uint8_t pub[32];
	struct policy *p;              /* in force */
	size_t self;
	time_t loaded_at;
	unsigned reloads, failures;
	char last_error[1024];         /* of the last reload; empty: it worked */
	/* commit-confirmed: the policy in force before `apply --confirm`, back
	 * in force at confirm_by unless `confirm` comes first */
	struct policy *rollback;
	size_t rollback_self;
	uint64_t confirm_by_ms;        /* CLOCK_MONOTONIC */
	bool reload_deferred;          /* asked for while an apply awaited confirm */
	struct policy_bytes pending;   /* the new policy's bytes and signature, for confirm */
	char pending_from[256];
	char last_rollback[512];
	struct device *dev;
	pthread_t dev_thread;
	int uapi_fd, sig_fd, ino_fd, ino_wd;
	struct ctlsock *ctl;           /* the control socket (ctlsock.c) */
	gid_t ctl_group;               /* --control-group, or CTLSOCK_NO_GROUP */
	char uapi_path[128];
	struct rules_nl *nl;
	struct rules_watch *watch;     /* who else changed our table */
	struct ir *ir, *ir_next;       /* the table in force (borrows from p); one applied,
					  not yet in force */
	int64_t ir_at, ir_next_at;     /* their compile times */
	unsigned long applies[3];      /* by enum apply_path: replace, diff, unchanged */
	unsigned long repairs;         /* foreign changes of our table undone */
	time_t repaired_at;
	uint64_t last_repair_ms;       /* clock_ms() */
	uint64_t repair_every_ms;      /* 1 s, doubled while repairs do not help */
	char last_tamper[256];
	const char *state_path;        /* quarantine bans, kept across restarts */
	struct guard *guard;           /* quarantine (guard.c) */
};

/* reload.c */
void policy_bytes_free(struct policy_bytes *b);
/* Parse, validate, test and verify a policy file (its bytes kept in *keep
 * if not NULL) and find this host's node in it. NULL with the reason in err;
 * the policy's own diagnostics are logged here, err is for the caller. */
struct policy *daemon_policy_read(struct daemon *d, const char *path, long *self, char *err,
				  size_t errlen, struct policy_bytes *keep);
/* --trust: load the newest signing time accepted so far (0 or -errno), and
 * raise it when a signed policy goes in force for good. */
int daemon_signed_floor_load(struct daemon *d);
void daemon_signed_floor_raise(struct daemon *d, uint64_t when);
/* Make p the policy in force: rules first (the kernel may still refuse),
 * then peers and addresses. On failure the old policy stays. The old one is
 * freed, or handed to *old if old is not NULL. */
int daemon_policy_switch(struct daemon *d, struct policy *p, size_t self, char *err,
			 size_t errlen, struct policy **old);
/* After the watch saw a foreign change of our table: restore it. */
void daemon_table_repair(struct daemon *d);
/* Reload the policy file; on failure the old one stays and status says why. */
int daemon_reload(struct daemon *d, const char *why);

/* confirm.c */
int daemon_apply_confirm(struct daemon *d, const char *file, const char *secs, char *err,
			 size_t errlen);
int daemon_confirm(struct daemon *d, char *err, size_t errlen);
void daemon_rollback_if_due(struct daemon *d);
void daemon_pending_free(struct daemon *d);

/* breakglass.c: open (ttl "-" = the policy's) / close; a message for the
 * caller either way, 0 or -errno. */
int daemon_glass_open(struct daemon *d, const char *cidr, const char *ttl, char *msg,
		      size_t msglen);
int daemon_glass_close(struct daemon *d, const char *cidr, char *msg, size_t msglen);
void daemon_glass_status(struct daemon *d, FILE *f);
/* After a policy switch: openings cut to the new breakglass ports and ttl. */
void daemon_glass_policy(struct daemon *d);

/* serve.c: one request's whole reply (ctlsock_answer_fn; ctx: the daemon). */
char *daemon_answer(void *ctx, bool admin, const char *in, size_t len, size_t *outlen);

#endif
