/* timers.c — the five per-peer timers and what their expiry means. */
#include "timers.h"

void timers_init(struct timers *t, double (*jitter)(void *), void *ctx)
{
	*t = (struct timers){ .jitter = jitter, .jitter_ctx = ctx };
}

static double jitter(const struct timers *t)
{
	return t->jitter ? t->jitter(t->jitter_ctx) : 0;
}

/* data sent and nothing heard for 15 s: assume the session is dead */
void timers_data_sent(struct timers *t, double now)
{
	if (!t->new_handshake)
		t->new_handshake = now + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter(t);
}

/* data received: answer with a keepalive if we have nothing to say for 10 s */
void timers_data_received(struct timers *t, double now)
{
	if (!t->keepalive)
		t->keepalive = now + KEEPALIVE_TIMEOUT;
	else
		t->need_another_keepalive = true;
}

void timers_any_authenticated_packet_sent(struct timers *t)
{
	t->keepalive = 0;
}

void timers_any_authenticated_packet_received(struct timers *t)
{
	t->new_handshake = 0;
}

void timers_any_authenticated_packet_traversal(struct timers *t, double now)
{
	if (t->persistent_interval)
		t->persistent = now + t->persistent_interval;
}

void timers_handshake_initiated(struct timers *t, double now)
{
	t->retransmit = now + REKEY_TIMEOUT + jitter(t);
}

void timers_handshake_complete(struct timers *t)
{
	t->retransmit = 0;
	t->handshake_attempts = 0;
}

void timers_session_derived(struct timers *t, double now)
{
	t->zero_keys = now + REJECT_AFTER_TIME * 3;
}

static bool expired(double *deadline, double now)
{
	if (!*deadline || *deadline > now)
		return false;
	*deadline = 0;
	return true;
}

static void earliest(double *next, double d)
{
	if (d && (!*next || d < *next))
		*next = d;
}

unsigned timers_due(struct timers *t, double now, double *next)
{
	unsigned act = 0;

	if (expired(&t->retransmit, now)) {
		if (t->handshake_attempts > MAX_TIMER_HANDSHAKES) { /* as the kernel: ">" */
			act |= TIMERS_GIVE_UP;
			t->keepalive = 0;
			if (!t->zero_keys)
				t->zero_keys = now + REJECT_AFTER_TIME * 3;
		} else {
			t->handshake_attempts++;
			act |= TIMERS_SEND_INITIATION; /* the sender calls handshake_initiated */
		}
	}
	if (expired(&t->keepalive, now)) {
		act |= TIMERS_SEND_KEEPALIVE;
		if (t->need_another_keepalive) {
			t->need_another_keepalive = false;
			t->keepalive = now + KEEPALIVE_TIMEOUT;
		}
	}
	if (expired(&t->new_handshake, now))
		act |= TIMERS_SEND_INITIATION;
	if (expired(&t->zero_keys, now))
		act |= TIMERS_ZERO_KEYS;
	if (expired(&t->persistent, now))
		act |= TIMERS_SEND_KEEPALIVE;
	if (next) {
		*next = 0;
		earliest(next, t->retransmit);
		earliest(next, t->keepalive);
		earliest(next, t->new_handshake);
		earliest(next, t->zero_keys);
		earliest(next, t->persistent);
	}
	return act;
}
