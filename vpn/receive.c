/* receive.c — the way in: datagrams sorted by message type; data decrypted,
 * replay-checked and source-checked into the TUN, handshakes queued for the
 * handshake thread, cookie replies taken (kernel receive.c). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <time.h>
#include <unistd.h>

#include "allowedips.h"
#include "device.h"
#include "packet.h"

/* An IPv4-mapped IPv6 source (dual-stack socket) becomes plain IPv4, so
 * endpoints read as `wg` shows them and compare equal however they came. */
static void unmap(const struct sockaddr_storage *in, struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)in;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (in->ss_family == AF_INET6 && !memcmp(s6->sin6_addr.s6_addr, mapped, 12)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)out;
		uint16_t port = s6->sin6_port;
		struct in_addr a;

		memcpy(&a, &s6->sin6_addr.s6_addr[12], 4);
		memset(out, 0, sizeof(*out));
		s4->sin_family = AF_INET;
		s4->sin_port = port;
		s4->sin_addr = a;
		return;
	}
	if (in != out)
		memcpy(out, in, sizeof(*out));
}

bool handshake_enqueue(struct device *dev, const uint8_t *buf, size_t len,
		       const struct sockaddr_storage *src, const struct in6_pktinfo *dst)
{
	struct hs_msg *m;

	pthread_mutex_lock(&dev->hs_lock);
	if (dev->hs_len == DEVICE_HS_QUEUE) {
		pthread_mutex_unlock(&dev->hs_lock);
		device_count(dev, DROP_HS_QUEUE_FULL);
		return false;
	}
	m = &dev->hs_queue[(dev->hs_head + dev->hs_len++) % DEVICE_HS_QUEUE];
	memcpy(m->buf, buf, len);
	m->len = (uint16_t)len;
	m->src = *src;
	m->has_dst = dst != NULL;
	if (dst)
		m->dst = *dst;
	pthread_cond_signal(&dev->hs_cond);
	pthread_mutex_unlock(&dev->hs_lock);
	return true;
}

static void rx_cookie_reply(struct device *dev, const uint8_t *buf)
{
	struct peer *p = device_peer_by_index(dev, noise_le32(buf + 4));

	if (!p) {
		device_count(dev, DROP_UNKNOWN_INDEX);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (cookie_consume_reply(&p->cookie, buf, device_now()) < 0)
		device_count(dev, DROP_COOKIE_INVALID);
	pthread_mutex_unlock(&p->lock);
}

/* The peer's own allowed IPs must cover the inner source (crypto-routing). */
static bool source_ok(struct device *dev, struct peer *p, const uint8_t *ip)
{
	if (ip[0] >> 4 == 4)
		return allowedips_lookup(dev->aips, AF_INET, ip + 12) == p;
	return allowedips_lookup(dev->aips, AF_INET6, ip + 8) == p;
}

/* Bookkeeping after an authentic data message, under the peer's lock. */
static void rx_data_done(struct peer *p, struct keypair *kp, size_t wire_len, long inner,
			 const struct sockaddr_storage *src, const struct in6_pktinfo *dst,
			 double now)
{
	if (kp == p->keys.next) { /* the initiator has it: the session is confirmed */
		keypairs_received_with(&p->keys, kp);
		peer_refresh_indices(p);
		timers_handshake_complete(&p->timers);
		clock_gettime(CLOCK_REALTIME, &p->last_handshake);
		send_staged(p, now);
	}
	if (keypairs_rekey_on_receive(&p->keys, now))
		send_initiation(p, false, now); /* rate limited to one per 5 s */
	timers_any_authenticated_packet_received(&p->timers);
	timers_any_authenticated_packet_traversal(&p->timers, now);
	if (inner > 0)
		timers_data_received(&p->timers, now);
	peer_set_endpoint(p, src, dst); /* roaming: answer where it came from */
	atomic_fetch_add_explicit(&p->rx_bytes, wire_len, memory_order_relaxed);
}

/* Decrypt a data message in place; on success return the inner length and
 * set *out to the inner packet, which the caller writes to the TUN. */
static long rx_data(struct device *dev, uint8_t *buf, size_t len,
		    const struct sockaddr_storage *src, const struct in6_pktinfo *dst, double now)
{
	struct keypair *kp;
	struct peer *p;
	uint32_t index;
	long n;

	if (packet_receiver(buf, len, &index) < 0) {
		device_count(dev, DROP_SHORT);
		return -1;
	}
	if (!(p = device_peer_by_index(dev, index))) {
		device_count(dev, DROP_UNKNOWN_INDEX);
		return -1;
	}
	pthread_mutex_lock(&p->lock);
	kp = keypairs_find(&p->keys, index);
	if (kp && now - kp->birth >= REJECT_AFTER_TIME) {
		device_count(dev, DROP_KEY_EXPIRED);
		kp = NULL;
	} else if (!kp) {
		device_count(dev, DROP_UNKNOWN_INDEX);
	} else {
		keypair_get(kp);
	}
	pthread_mutex_unlock(&p->lock);
	if (!kp)
		return -1;
	/* only this thread touches kp->replay (device.h) */
	n = packet_open(&kp->k, &kp->replay, buf, len, buf + PACKET_HEADER);
	if (n >= 0 || n == -EPROTO) {
		pthread_mutex_lock(&p->lock);
		rx_data_done(p, kp, len, n, src, dst, now);
		pthread_mutex_unlock(&p->lock);
	}
	keypair_put(kp);
	if (n == -EPROTO && dev->event) /* authenticated, not replayed: p sent it */
		dev->event(dev->event_ctx, p->noise->remote_pub, DEVICE_EV_INNER_MALFORMED,
			   buf + PACKET_HEADER, len - PACKET_OVERHEAD);
	if (n < 0) {
		device_count(dev, n == -EBADMSG ? DROP_DATA_AUTH : n == -EPROTO ? DROP_INNER_MALFORMED
								   : DROP_DATA_REPLAY);
		return -1;
	}
	if (n > 0 && !source_ok(dev, p, buf + PACKET_HEADER)) {
		device_count(dev, DROP_SOURCE_NOT_ALLOWED);
		if (dev->event) /* authenticated under p's session: p sent it */
			dev->event(dev->event_ctx, p->noise->remote_pub, DEVICE_EV_SPOOFED_SOURCE,
				   buf + PACKET_HEADER, (size_t)n);
		return -1;
	}
	return n;
}

/* One datagram; cfg is held for reading. Returns the inner length of a data
 * message to deliver from buf + PACKET_HEADER, or <= 0. */
static long rx_one(struct device *dev, uint8_t *buf, size_t len,
		   const struct sockaddr_storage *src_in, const struct in6_pktinfo *dst, double now)
{
	struct sockaddr_storage src;

	if (len < 4 || buf[1] || buf[2] || buf[3]) {
		device_count(dev, DROP_SHORT);
		return -1;
	}
	unmap(src_in, &src);
	switch (buf[0]) {
	case NOISE_MSG_INITIATION:
	case NOISE_MSG_RESPONSE:
		if (len != (buf[0] == NOISE_MSG_INITIATION ? NOISE_INITIATION_LEN : NOISE_RESPONSE_LEN))
			break;
		handshake_enqueue(dev, buf, len, &src, dst);
		return -1;
	case COOKIE_MSG_REPLY:
		if (len != COOKIE_REPLY_LEN)
			break;
		rx_cookie_reply(dev, buf);
		return -1;
	case PACKET_MSG_DATA:
		return rx_data(dev, buf, len, &src, dst, now);
	}
	device_count(dev, DROP_SHORT);
	return -1;
}

static void deliver(struct device *dev, const uint8_t *pkt, size_t len)
{
	if (dev->deliver)
		dev->deliver(dev->hook_ctx, pkt, len);
	else if (write(dev->tun, pkt, len) != (ssize_t)len)
		device_count(dev, DROP_TUN_WRITE);
}

void device_receive(struct device *dev, uint8_t *buf, size_t len,
		    const struct sockaddr_storage *src)
{
	long n;

	pthread_rwlock_rdlock(&dev->cfg);
	n = rx_one(dev, buf, len, src, NULL, device_now());
	pthread_rwlock_unlock(&dev->cfg);
	if (n > 0)
		deliver(dev, buf + PACKET_HEADER, (size_t)n);
}

/* ---- the rx thread ------------------------------------------------------------- */

struct rxbatch {
	uint8_t *buf[DEVICE_BATCH];
	struct mmsghdr msg[DEVICE_BATCH];
	struct iovec iov[DEVICE_BATCH];
	struct sockaddr_storage src[DEVICE_BATCH];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cmsg[DEVICE_BATCH];
};

/* The segment size of a coalesced (UDP_GRO) datagram (0: not coalesced),
 * and the address of ours it was sent to (false: unknown). */
static size_t rx_cmsgs(struct msghdr *h, struct in6_pktinfo *dst, bool *has_dst)
{
	size_t seg = 0;

	*has_dst = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			seg = v > 0 ? (size_t)v : 0;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			memcpy(dst, CMSG_DATA(c), sizeof(*dst));
			*has_dst = true;
		}
	}
	return seg;
}

static void rx_batch(struct device *dev, struct rxbatch *b, unsigned n)
{
	double now = device_now();

	pthread_rwlock_rdlock(&dev->cfg);
	for (unsigned i = 0; i < n; i++) {
		struct in6_pktinfo dst;
		bool has_dst;
		size_t len = b->msg[i].msg_len, seg = rx_cmsgs(&b->msg[i].msg_hdr, &dst, &has_dst);

		if (!seg || seg > len)
			seg = len;
		/* a coalesced datagram is consecutive segments of seg bytes */
		for (size_t off = 0; off < len; off += seg) {
			size_t l = len - off < seg ? len - off : seg;
			long inner = rx_one(dev, b->buf[i] + off, l, &b->src[i],
					    has_dst ? &dst : NULL, now);

			if (inner > 0)
				deliver(dev, b->buf[i] + off + PACKET_HEADER, (size_t)inner);
		}
	}
	pthread_rwlock_unlock(&dev->cfg);
}

void *receive_thread(void *arg)
{
	struct device *dev = arg;
	struct rxbatch *b = calloc(1, sizeof(*b));

	for (unsigned i = 0; b && i < DEVICE_BATCH; i++)
		if (!(b->buf[i] = malloc(DEVICE_BUF)))
			goto out;
	while (b && !atomic_load(&dev->stop)) {
		int n;

		for (unsigned i = 0; i < DEVICE_BATCH; i++) {
			b->iov[i] = (struct iovec){ b->buf[i], DEVICE_BUF };
			b->msg[i].msg_hdr = (struct msghdr){ .msg_name = &b->src[i],
							     .msg_namelen = sizeof(b->src[i]),
							     .msg_iov = &b->iov[i],
							     .msg_iovlen = 1,
							     .msg_control = b->cmsg[i].buf,
							     .msg_controllen = sizeof(b->cmsg[i].buf) };
		}
		n = recvmmsg(dev->sock, b->msg, DEVICE_BATCH, MSG_DONTWAIT, NULL);
		if (n > 0) {
			rx_batch(dev, b, (unsigned)n);
			continue;
		}
		device_wait(dev->sock, dev->wake_rx);
	}
out:
	for (unsigned i = 0; b && i < DEVICE_BATCH; i++)
		free(b->buf[i]);
	free(b);
	return NULL;
}
