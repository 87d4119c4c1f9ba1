/* handshake.c — the handshake thread: queued initiations and responses,
 * checked for mac1, answered with a cookie reply while under load, rate
 * limited per source, then consumed (kernel receive.c
 * wg_receive_handshake_packet). The DH work happens here, off the data path. */
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "device.h"
#include "index.h"
#include "ratelimit.h"

/* address bytes || port (network order): what a cookie is bound to */
static size_t src_bytes(const struct sockaddr_storage *ss, uint8_t out[18])
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		memcpy(out, &s4->sin_addr, 4);
		memcpy(out + 4, &s4->sin_port, 2);
		return 6;
	}
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	memcpy(out, &s6->sin6_addr, 16);
	memcpy(out + 16, &s6->sin6_port, 2);
	return 18;
}

struct lookup_ctx {
	struct device *dev;
	struct peer *locked;
	double now;
};

/* Called by noise_consume_initiation with the decrypted static key: returns
 * the peer, locked. */
static struct noise_peer *lookup(void *arg, const uint8_t pub[NOISE_KEY])
{
	struct lookup_ctx *c = arg;
	struct peer *p = device_peer_by_pub(c->dev, pub);

	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	c->locked = p;
	return p->noise;
}

/* Called once the initiation is proven the peer's own and fresh (kernel
 * noise.c checks its flood limit at the same point): at most
 * INITIATIONS_PER_SECOND consumed per peer. */
static bool admit(void *arg, struct noise_peer *np)
{
	const struct lookup_ctx *c = arg;
	const struct peer *p = c->locked;

	(void)np;
	return !p->last_initiation_consumed ||
	       c->now - p->last_initiation_consumed >= 1.0 / INITIATIONS_PER_SECOND;
}

/* An initiation refused. Over the flood limit, it was proven the peer's:
 * that is an event against the peer (only its key holder can send one). */
static void refused(struct device *dev, struct peer *p, int r)
{
	uint8_t pub[NOISE_KEY];
	bool flood = r == -EBUSY && p;

	if (flood)
		memcpy(pub, p->noise->remote_pub, sizeof(pub));
	if (p)
		pthread_mutex_unlock(&p->lock);
	device_count(dev, flood ? DROP_HS_FLOOD : r == -EALREADY ? DROP_HS_REPLAY : DROP_HS_INVALID);
	if (flood && dev->event)
		dev->event(dev->event_ctx, pub, DEVICE_EV_HANDSHAKE_FLOOD, NULL, 0);
}

/* The handshake's index now names the new keypair. Peer lock held. */
static int begin_session(struct peer *p, double now)
{
	struct noise_keypair nk;
	int r;

	if ((r = noise_derive_keypair(p->noise, &nk)) == 0)
		r = keypairs_add(&p->keys, &nk, now);
	sodium_memzero(&nk, sizeof(nk));
	if (r < 0)
		return r;
	p->hs_index = 0;
	peer_refresh_indices(p);
	atomic_fetch_add_explicit(&p->dev->sessions, 1, memory_order_relaxed);
	timers_session_derived(&p->timers, now);
	return 0;
}

static void consume_initiation(struct device *dev, const struct hs_msg *m, double now)
{
	struct lookup_ctx c = { dev, NULL, now };
	uint8_t resp[NOISE_RESPONSE_LEN];
	struct noise_peer *np;
	struct peer *p;
	uint32_t index;
	int r = noise_consume_initiation(dev->local, m->buf, lookup, admit, &c, &np);

	if (r < 0) {
		refused(dev, c.locked, r);
		return;
	}
	p = c.locked;
	p->last_initiation_consumed = now;
	peer_set_endpoint(p, &m->src, m->has_dst ? &m->dst : NULL);
	atomic_fetch_add_explicit(&p->rx_bytes, m->len, memory_order_relaxed);
	pthread_mutex_lock(&dev->index_lock);
	index_table_del(dev->index, p->hs_index, p);
	index = index_table_add(dev->index, p);
	pthread_mutex_unlock(&dev->index_lock);
	p->hs_index = index;
	if (index && noise_create_response(p->noise, index, resp) == 0 &&
	    begin_session(p, now) == 0) {
		cookie_add_macs(&p->cookie, resp, sizeof(resp), now);
		p->last_initiation_sent = now; /* a response counts as our handshake */
		timers_any_authenticated_packet_traversal(&p->timers, now);
		timers_any_authenticated_packet_sent(&p->timers);
		send_to_peer(p, resp, sizeof(resp));
	}
	timers_any_authenticated_packet_received(&p->timers);
	timers_any_authenticated_packet_traversal(&p->timers, now);
	sodium_memzero(resp, sizeof(resp));
	pthread_mutex_unlock(&p->lock);
}

static void consume_response(struct device *dev, const struct hs_msg *m, double now)
{
	uint32_t index = noise_le32(m->buf + 8);
	struct peer *p = device_peer_by_index(dev, index);

	if (!p) {
		device_count(dev, DROP_UNKNOWN_INDEX);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (index != p->hs_index || noise_consume_response(dev->local, p->noise, m->buf) < 0) {
		device_count(dev, DROP_HS_INVALID);
	} else if (begin_session(p, now) == 0) {
		peer_set_endpoint(p, &m->src, m->has_dst ? &m->dst : NULL);
		atomic_fetch_add_explicit(&p->rx_bytes, m->len, memory_order_relaxed);
		timers_handshake_complete(&p->timers);
		clock_gettime(CLOCK_REALTIME, &p->last_handshake);
		timers_any_authenticated_packet_received(&p->timers);
		timers_any_authenticated_packet_traversal(&p->timers, now);
		send_keepalive(p, now); /* the staged packets, or confirmation */
	}
	pthread_mutex_unlock(&p->lock);
}

/* One queued message; qlen is how many still wait behind it. */
static void process(struct device *dev, const struct hs_msg *m, unsigned qlen, double now)
{
	uint8_t src[18], reply[COOKIE_REPLY_LEN];
	size_t srclen = src_bytes(&m->src, src);
	enum cookie_verdict v;
	bool under_load;

	if (qlen + 1 >= DEVICE_HS_QUEUE / 8)
		dev->under_load_until = now + 1.0; /* and stays so for a second */
	under_load = now < dev->under_load_until;
	pthread_rwlock_rdlock(&dev->cfg);
	if (!dev->local) {
		device_count(dev, DROP_NO_KEY);
		goto out;
	}
	v = cookie_validate(&dev->cookie, m->buf, m->len, src, srclen, now);
	if (v == COOKIE_INVALID) {
		device_count(dev, DROP_BAD_MAC1);
		goto out;
	}
	if (under_load && v != COOKIE_VALID_MAC2) {
		cookie_create_reply(&dev->cookie, m->buf, m->len, noise_le32(m->buf + 4), src, srclen,
				    now, reply);
		send_to_addr(dev, reply, sizeof(reply), &m->src, m->has_dst ? &m->dst : NULL);
		device_count(dev, DROP_COOKIE_SENT);
		goto out;
	}
	if (under_load && !ratelimit_allow(dev->ratelimit, &m->src, now)) {
		device_count(dev, DROP_RATELIMIT);
		goto out;
	}
	if (m->buf[0] == NOISE_MSG_INITIATION)
		consume_initiation(dev, m, now);
	else
		consume_response(dev, m, now);
out:
	pthread_rwlock_unlock(&dev->cfg);
}

/* Take the next message off the queue; false if it is empty. */
static bool dequeue(struct device *dev, struct hs_msg *m, unsigned *left, bool wait)
{
	pthread_mutex_lock(&dev->hs_lock);
	while (wait && !dev->hs_len && !atomic_load(&dev->stop))
		pthread_cond_wait(&dev->hs_cond, &dev->hs_lock);
	if (!dev->hs_len || atomic_load(&dev->stop)) {
		pthread_mutex_unlock(&dev->hs_lock);
		return false;
	}
	*m = dev->hs_queue[dev->hs_head];
	dev->hs_head = (dev->hs_head + 1) % DEVICE_HS_QUEUE;
	*left = --dev->hs_len;
	pthread_mutex_unlock(&dev->hs_lock);
	return true;
}

void device_handshake_drain(struct device *dev)
{
	struct hs_msg m;
	unsigned left;

	while (dequeue(dev, &m, &left, false))
		process(dev, &m, left, device_now());
	sodium_memzero(&m, sizeof(m));
}

void *handshake_thread(void *arg)
{
	struct device *dev = arg;
	struct hs_msg m;
	unsigned left;

	while (dequeue(dev, &m, &left, true))
		process(dev, &m, left, device_now());
	sodium_memzero(&m, sizeof(m));
	return NULL;
}
