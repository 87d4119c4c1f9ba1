/* timers.h — WireGuard's per-peer timers (whitepaper §6, kernel timers.c) as
 * a state machine over deadlines: the device reports what happened
 * (timers_data_sent, ...) and asks timers_due() what to do now. Times are
 * seconds on a monotonic clock, passed in; jitter comes from the caller's
 * RNG through timers_init, so tests are exact. */
#ifndef VPN_TIMERS_H
#define VPN_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

/* A test build (make rekey) divides every protocol time by VPN_FAST_TIMERS
 * so that key rotations happen within seconds; never in a release build. */
#ifdef VPN_FAST_TIMERS
#define VPN_TIME(s) ((s) / (double)VPN_FAST_TIMERS)
#else
#define VPN_TIME(s) (s)
#endif
#define REKEY_TIMEOUT VPN_TIME(5.0)
#define KEEPALIVE_TIMEOUT VPN_TIME(10.0)
#define REKEY_AFTER_TIME VPN_TIME(120.0)
#define REJECT_AFTER_TIME VPN_TIME(180.0)
#define MAX_TIMER_HANDSHAKES 18    /* 90 s / REKEY_TIMEOUT */

enum timers_action {
	TIMERS_SEND_INITIATION = 1,    /* a (re)try of the handshake */
	TIMERS_SEND_KEEPALIVE = 2,
	TIMERS_GIVE_UP = 4,            /* 18 tries failed: purge the staged packets */
	TIMERS_ZERO_KEYS = 8,          /* 540 s without a new session: wipe keypairs */
};

struct timers {
	double retransmit, keepalive, new_handshake, zero_keys, persistent; /* 0 = off */
	unsigned handshake_attempts;
	bool need_another_keepalive;
	uint16_t persistent_interval;  /* seconds; 0 = off */
	double (*jitter)(void *ctx);   /* 0 .. 1/3 s */
	void *jitter_ctx;
};

void timers_init(struct timers *t, double (*jitter)(void *), void *ctx);
void timers_data_sent(struct timers *t, double now);
void timers_data_received(struct timers *t, double now);
void timers_any_authenticated_packet_sent(struct timers *t);
void timers_any_authenticated_packet_received(struct timers *t);
void timers_any_authenticated_packet_traversal(struct timers *t, double now);
void timers_handshake_initiated(struct timers *t, double now);
void timers_handshake_complete(struct timers *t);
void timers_session_derived(struct timers *t, double now);
/* Every timer that expired by now, as actions (a bitmask); re-arms as the
 * protocol says. The earliest pending deadline is in *next (0: none). */
unsigned timers_due(struct timers *t, double now, double *next);

#endif
