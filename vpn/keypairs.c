/* keypairs.c — previous/current/next keypair slots. */
#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "keypairs.h"
#include "secmem.h"
#include "timers.h"

/* Keypairs come from a pool of locked slabs (secmem.h): one sodium_malloc
 * per handshake cost more than the handshake's DH work. */
static struct secpool pool = SECPOOL_INIT(struct keypair);

void keypair_get(struct keypair *kp)
{
	atomic_fetch_add_explicit(&kp->refs, 1, memory_order_relaxed);
}

void keypair_put(struct keypair *kp)
{
	if (kp && atomic_fetch_sub_explicit(&kp->refs, 1, memory_order_acq_rel) == 1)
		secpool_put(&pool, kp); /* wipes */
}

static void drop(struct keypair **kp)
{
	keypair_put(*kp);
	*kp = NULL;
}

int keypairs_add(struct keypairs *ks, const struct noise_keypair *nk, double now)
{
	struct keypair *kp = secpool_get(&pool);

	if (!kp)
		return -ENOMEM;
	memset(kp, 0, sizeof(*kp));
	kp->k = *nk;
	kp->birth = now;
	atomic_init(&kp->refs, 1);
	replay_init(&kp->replay);
	if (nk->initiator) {
		if (ks->next) { /* an unconfirmed session becomes the fallback */
			drop(&ks->prev);
			ks->prev = ks->next;
			ks->next = NULL;
			drop(&ks->cur);
		} else {
			drop(&ks->prev);
			ks->prev = ks->cur;
		}
		ks->cur = kp;
	} else {
		drop(&ks->next);
		ks->next = kp;
		drop(&ks->prev);
	}
	return 0;
}

struct keypair *keypairs_find(const struct keypairs *ks, uint32_t local_index)
{
	struct keypair *all[3] = { ks->cur, ks->next, ks->prev };

	for (int i = 0; i < 3; i++)
		if (all[i] && all[i]->k.local_index == local_index)
			return all[i];
	return NULL;
}

void keypairs_received_with(struct keypairs *ks, const struct keypair *kp)
{
	if (!kp || kp != ks->next)
		return;
	drop(&ks->prev);
	ks->prev = ks->cur;
	ks->cur = ks->next;
	ks->next = NULL;
}

static bool usable(const struct keypair *kp, double now)
{
	return kp && now - kp->birth < REJECT_AFTER_TIME &&
	       kp->send_counter < REJECT_AFTER_MESSAGES;
}

struct keypair *keypairs_for_send(const struct keypairs *ks, double now)
{
	return usable(ks->cur, now) ? ks->cur : NULL;
}

bool keypairs_rekey_on_send(const struct keypairs *ks, double now)
{
	const struct keypair *kp = ks->cur;

	return kp && (kp->send_counter > REKEY_AFTER_MESSAGES ||
		      (kp->k.initiator && now - kp->birth > REKEY_AFTER_TIME));
}

bool keypairs_rekey_on_receive(const struct keypairs *ks, double now)
{
	const struct keypair *kp = ks->cur;

	return kp && kp->k.initiator &&
	       now - kp->birth > REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT;
}

void keypairs_clear(struct keypairs *ks)
{
	drop(&ks->prev);
	drop(&ks->cur);
	drop(&ks->next);
}
