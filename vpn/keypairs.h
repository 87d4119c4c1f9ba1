/* keypairs.h — a peer's three keypair slots and when to use, rotate or drop
 * them (kernel noise.c add_new_keypair / received_with_keypair, send.c and
 * receive.c keep_key_fresh). Keys live in sodium_malloc memory. */
#ifndef VPN_KEYPAIRS_H
#define VPN_KEYPAIRS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "noise.h"
#include "replay.h"

#define REKEY_AFTER_MESSAGES (1ULL << 60)

struct keypair {
	struct noise_keypair k;
	_Atomic int refs;              /* one per slot holding it, one per user */
	double birth;
	uint64_t send_counter;
	struct replay replay;
};

struct keypairs {
	struct keypair *prev, *cur, *next;
};

/* A new session from a finished handshake. The initiator uses it at once;
 * the responder keeps it in `next` until the first data packet proves the
 * initiator has it too. -ENOMEM. */
int keypairs_add(struct keypairs *ks, const struct noise_keypair *nk, double now);
/* The keypair a data packet's receiver index names, or NULL. */
struct keypair *keypairs_find(const struct keypairs *ks, uint32_t local_index);
/* A packet authenticated under kp: confirms `next`. */
void keypairs_received_with(struct keypairs *ks, const struct keypair *kp);
/* The keypair to send with now, or NULL (expired / exhausted / none). */
struct keypair *keypairs_for_send(const struct keypairs *ks, double now);
/* Should sending now start a new handshake? (counter or, as initiator, age) */
bool keypairs_rekey_on_send(const struct keypairs *ks, double now);
/* Should receiving now start one? (initiator, key older than 165 s) */
bool keypairs_rekey_on_receive(const struct keypairs *ks, double now);
void keypairs_clear(struct keypairs *ks);
/* A keypair outlives its slot while a sending or receiving thread still uses
 * it: take a reference under the peer's lock, drop it when done. The last
 * put wipes and frees it. */
void keypair_get(struct keypair *kp);
void keypair_put(struct keypair *kp);

#endif
