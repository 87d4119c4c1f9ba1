/* ratelimit.c — token buckets in an open-addressing table keyed by a
 * SipHash of the source (keyed at random, so sources cannot be chosen to
 * collide). Expired entries are swept when the table is half full. */
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define SLOTS (2 * RATELIMIT_MAX_ENTRIES)

struct bucket {
	uint8_t key[9];        /* family byte + 8 bytes of address (v4 or v6 /64) */
	bool used;
	double tokens, last;
};

struct ratelimit {
	uint8_t hashkey[crypto_shorthash_KEYBYTES];
	struct bucket *b;
	size_t n;
};

struct ratelimit *ratelimit_new(void)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (!rl || !(rl->b = calloc(SLOTS, sizeof(*rl->b)))) {
		free(rl);
		return NULL;
	}
	randombytes_buf(rl->hashkey, sizeof(rl->hashkey));
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->b);
	free(rl);
}

static void key_of(const struct sockaddr_storage *ss, uint8_t key[9])
{
	memset(key, 0, 9);
	key[0] = (uint8_t)ss->ss_family;
	if (ss->ss_family == AF_INET)
		memcpy(key + 1, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(key + 1, &((const struct sockaddr_in6 *)ss)->sin6_addr, 8);
}

static size_t slot_of(const struct ratelimit *rl, const uint8_t key[9])
{
	uint8_t h[8];
	uint64_t v;

	crypto_shorthash(h, key, 9, rl->hashkey);
	memcpy(&v, h, 8);
	return (size_t)(v % SLOTS);
}

/* Drop idle buckets, then rebuild the table so probe runs stay intact. */
static void sweep(struct ratelimit *rl, double now)
{
	struct bucket *old = rl->b;
	struct bucket *nb = calloc(SLOTS, sizeof(*nb));

	if (!nb)
		return;
	rl->b = nb;
	rl->n = 0;
	for (size_t i = 0; i < SLOTS; i++) {
		size_t j;

		if (!old[i].used || now - old[i].last > 1.0)
			continue;
		for (j = slot_of(rl, old[i].key); nb[j].used; j = (j + 1) % SLOTS)
			;
		nb[j] = old[i];
		rl->n++;
	}
	free(old);
}

bool ratelimit_allow(struct ratelimit *rl, const struct sockaddr_storage *src, double now)
{
	uint8_t key[9];
	struct bucket *b;
	size_t i;

	key_of(src, key);
	if (rl->n >= RATELIMIT_MAX_ENTRIES)
		sweep(rl, now);
	for (i = slot_of(rl, key); rl->b[i].used; i = (i + 1) % SLOTS)
		if (!memcmp(rl->b[i].key, key, 9))
			break;
	b = &rl->b[i];
	if (!b->used) {
		if (rl->n >= RATELIMIT_MAX_ENTRIES)
			return false;
		memcpy(b->key, key, 9);
		b->used = true;
		b->tokens = RATELIMIT_BURST;
		b->last = now;
		rl->n++;
	}
	b->tokens += (now - b->last) * RATELIMIT_PER_SECOND;
	if (b->tokens > RATELIMIT_BURST)
		b->tokens = RATELIMIT_BURST;
	b->last = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

size_t ratelimit_count(const struct ratelimit *rl)
{
	return rl->n;
}
