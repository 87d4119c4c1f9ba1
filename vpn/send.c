/* send.c — the way out: TUN packets routed by allowed IPs, staged while a
 * handshake is in flight, encrypted and sent in batches (kernel send.c). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "allowedips.h"
#include "device.h"
#include "index.h"
#include "packet.h"

/* The address to hand sendto() for an endpoint, given the socket's family. */
static socklen_t wire_addr(const struct device *dev, const struct sockaddr_storage *ep,
			   struct sockaddr_storage *to)
{
	if (ep->ss_family == AF_INET && dev->sock_family == AF_INET6) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ep;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)to;

		memset(s6, 0, sizeof(*s6));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = s4->sin_port;
		s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], &s4->sin_addr, 4);
		return sizeof(*s6);
	}
	if (ep->ss_family != dev->sock_family)
		return 0; /* an IPv6 endpoint on a host without IPv6 */
	memcpy(to, ep, sizeof(*to));
	return ep->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

size_t send_src_cmsg(const struct device *dev, const struct in6_pktinfo *src, bool has,
		     void *buf, size_t buflen)
{
	struct msghdr h = { .msg_control = buf, .msg_controllen = buflen };
	struct cmsghdr *c = CMSG_FIRSTHDR(&h);

	if (!has || dev->sock_family != AF_INET6 || !c ||
	    buflen < CMSG_SPACE(sizeof(struct in6_pktinfo)))
		return 0;
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(*src));
	memcpy(CMSG_DATA(c), src, sizeof(*src));
	return CMSG_SPACE(sizeof(*src));
}

/* One datagram, from our address src if known. -errno. */
static int send_one(struct device *dev, const uint8_t *buf, size_t len,
		    const struct sockaddr_storage *to, const struct in6_pktinfo *src)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cm;
	struct sockaddr_storage w;
	struct iovec iov = { (void *)buf, len };
	struct msghdr h = { .msg_name = &w, .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cm.buf };

	if (!(h.msg_namelen = wire_addr(dev, to, &w)))
		return -EAFNOSUPPORT;
	h.msg_controllen = send_src_cmsg(dev, src, src != NULL, cm.buf, sizeof(cm.buf));
	if (!h.msg_controllen)
		h.msg_control = NULL;
	return sendmsg(dev->sock, &h, 0) < 0 ? -errno : 0;
}

void send_to_addr(struct device *dev, const uint8_t *buf, size_t len,
		  const struct sockaddr_storage *to, const struct in6_pktinfo *from)
{
	if (dev->xmit) {
		dev->xmit(dev->hook_ctx, buf, len, to);
		return;
	}
	if (send_one(dev, buf, len, to, from) < 0 && (!from || send_one(dev, buf, len, to, NULL) < 0))
		device_count(dev, DROP_UDP_SEND);
}

/* One datagram to the peer's endpoint; the peer's lock is held. */
void send_to_peer(struct peer *p, const uint8_t *buf, size_t len)
{
	int r;

	if (!p->endpoint.ss_family) {
		device_count(p->dev, DROP_NO_ENDPOINT);
		return;
	}
	if (p->dev->xmit) {
		p->dev->xmit(p->dev->hook_ctx, buf, len, &p->endpoint);
		atomic_fetch_add_explicit(&p->tx_bytes, len, memory_order_relaxed);
		return;
	}
	r = send_one(p->dev, buf, len, &p->endpoint, p->has_src ? &p->src : NULL);
	if (r == -EINVAL && p->has_src) { /* that address of ours is gone: any will do */
		p->has_src = false;
		r = send_one(p->dev, buf, len, &p->endpoint, NULL);
	}
	if (r < 0) {
		device_count(p->dev, DROP_UDP_SEND);
		return;
	}
	atomic_fetch_add_explicit(&p->tx_bytes, len, memory_order_relaxed);
}

/* A new handshake, unless one went out less than REKEY_TIMEOUT ago (kernel
 * send.c). Peer lock held. A fresh attempt (not a timer's retry) resets the
 * retry count, so the 90 s give-up only runs once nothing wants to be sent. */
void send_initiation(struct peer *p, bool retry, double now)
{
	struct device *dev = p->dev;
	uint8_t msg[NOISE_INITIATION_LEN];
	uint32_t index;

	if (!retry)
		p->timers.handshake_attempts = 0;
	if (p->last_initiation_sent && now - p->last_initiation_sent < REKEY_TIMEOUT)
		return;
	if (!dev->local || !p->endpoint.ss_family) {
		device_count(dev, dev->local ? DROP_NO_ENDPOINT : DROP_NO_KEY);
		return;
	}
	pthread_mutex_lock(&dev->index_lock);
	index_table_del(dev->index, p->hs_index, p);
	index = index_table_add(dev->index, p);
	pthread_mutex_unlock(&dev->index_lock);
	p->hs_index = index;
	if (!index || noise_create_initiation(dev->local, p->noise, index, msg) < 0)
		return;
	cookie_add_macs(&p->cookie, msg, sizeof(msg), now);
	p->last_initiation_sent = now;
	timers_any_authenticated_packet_traversal(&p->timers, now);
	timers_any_authenticated_packet_sent(&p->timers);
	send_to_peer(p, msg, sizeof(msg));
	timers_handshake_initiated(&p->timers, now);
	sodium_memzero(msg, sizeof(msg));
}

/* After sending under the current keypair: time for a new one? */
static void keep_key_fresh(struct peer *p, double now)
{
	if (keypairs_rekey_on_send(&p->keys, now))
		send_initiation(p, false, now);
}

void send_stage(struct peer *p, const uint8_t *pkt, size_t len)
{
	struct staged *s = &p->staged;
	uint8_t *copy;

	if (s->n == DEVICE_MAX_STAGED) { /* the kernel drops the oldest */
		free(s->pkt[0]);
		memmove(s->pkt, s->pkt + 1, (DEVICE_MAX_STAGED - 1) * sizeof(*s->pkt));
		memmove(s->len, s->len + 1, (DEVICE_MAX_STAGED - 1) * sizeof(*s->len));
		s->n--;
		device_count(p->dev, DROP_STAGED_OVERFLOW);
	}
	if (!(copy = malloc(len ? len : 1)))
		return;
	if (len)
		memcpy(copy, pkt, len);
	s->pkt[s->n] = copy;
	s->len[s->n++] = (uint16_t)len;
}

void send_purge_staged(struct peer *p)
{
	for (unsigned i = 0; i < p->staged.n; i++)
		free(p->staged.pkt[i]);
	p->staged.n = 0;
}

/* Encrypt one packet (len 0: a keepalive) under kp and send it. Peer lock held. */
static void seal_and_send(struct peer *p, struct keypair *kp, const uint8_t *pkt, size_t len,
			  double now)
{
	uint8_t *out = malloc(PACKET_OVERHEAD + len + 16);

	if (!out)
		return;
	send_to_peer(p, out, packet_seal(&kp->k, kp->send_counter++, pkt, len,
					 atomic_load(&p->dev->mtu), out));
	free(out);
	timers_any_authenticated_packet_traversal(&p->timers, now);
	timers_any_authenticated_packet_sent(&p->timers);
	if (len)
		timers_data_sent(&p->timers, now);
}

/* Send what waited for a session, or start one. Peer lock held. */
void send_staged(struct peer *p, double now)
{
	struct keypair *kp = keypairs_for_send(&p->keys, now);

	if (!kp) {
		send_initiation(p, false, now);
		return;
	}
	for (unsigned i = 0; i < p->staged.n; i++)
		seal_and_send(p, kp, p->staged.pkt[i], p->staged.len[i], now);
	send_purge_staged(p);
	keep_key_fresh(p, now);
}

void send_keepalive(struct peer *p, double now)
{
	if (!p->staged.n)
		send_stage(p, NULL, 0);
	send_staged(p, now);
}

/* ---- the tx thread ------------------------------------------------------------- */

struct txbatch {
	uint8_t *buf[DEVICE_BATCH];
	size_t len[DEVICE_BATCH];
	struct mmsghdr msg[DEVICE_BATCH];
	struct iovec iov[DEVICE_BATCH];
	struct sockaddr_storage to[DEVICE_BATCH];
	socklen_t tolen[DEVICE_BATCH];
	uint64_t counter[DEVICE_BATCH];
	struct in6_pktinfo src[DEVICE_BATCH];
	bool has_src[DEVICE_BATCH];
	struct keypair *kp[DEVICE_BATCH];
	struct peer *peer[DEVICE_BATCH];
	/* per message: its first datagram, segment size and bytes (GSO groups) */
	unsigned gfirst[DEVICE_BATCH];
	size_t gseg[DEVICE_BATCH], gbytes[DEVICE_BATCH];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cmsg[DEVICE_BATCH];
};

static struct peer *route(struct device *dev, const uint8_t *pkt, size_t len)
{
	if (len >= 20 && pkt[0] >> 4 == 4)
		return allowedips_lookup(dev->aips, AF_INET, pkt + 16);
	if (len >= 40 && pkt[0] >> 4 == 6)
		return allowedips_lookup(dev->aips, AF_INET6, pkt + 24);
	return NULL;
}

/* Decide, under the peer's lock, what happens to packet i: reserve a counter
 * under the current keypair, or stage it and start a handshake. */
static bool claim(struct txbatch *b, unsigned i, struct peer *p, double now)
{
	uint8_t *pkt = b->buf[i] + PACKET_HEADER;
	struct keypair *kp;
	bool go = false;

	pthread_mutex_lock(&p->lock);
	kp = keypairs_for_send(&p->keys, now);
	if (!kp || p->staged.n) { /* keep order behind what is already waiting */
		send_stage(p, pkt, b->len[i]);
		if (kp)
			send_staged(p, now);
		else
			send_initiation(p, false, now);
	} else if (!(b->tolen[i] = wire_addr(p->dev, &p->endpoint, &b->to[i]))) {
		device_count(p->dev, DROP_NO_ENDPOINT);
	} else {
		/* the counter is taken here; sealing happens outside the lock */
		keypair_get(kp);
		b->kp[i] = kp;
		b->counter[i] = kp->send_counter++;
		b->has_src[i] = p->has_src;
		b->src[i] = p->src;
		timers_any_authenticated_packet_traversal(&p->timers, now);
		timers_any_authenticated_packet_sent(&p->timers);
		timers_data_sent(&p->timers, now);
		keep_key_fresh(p, now);
		go = true;
	}
	pthread_mutex_unlock(&p->lock);
	return go;
}

/* Datagrams k and k+1 can share one UDP_SEGMENT send: same destination,
 * and every segment but the last of the group has the group's size. */
/* May datagram i (len bytes) join message g? Same destination and source,
 * and every segment but the last of a message has the first one's size. */
static bool gso_fits(const struct txbatch *b, unsigned g, unsigned i, size_t len)
{
	const struct msghdr *h = &b->msg[g].msg_hdr;
	unsigned f = b->gfirst[g];

	return h->msg_iovlen < DEVICE_GSO_SEGS && b->gbytes[g] + len <= 65000 &&
	       len <= b->gseg[g] && h->msg_iov[h->msg_iovlen - 1].iov_len == b->gseg[g] &&
	       b->tolen[i] == b->tolen[f] && !memcmp(&b->to[i], &b->to[f], b->tolen[i]) &&
	       b->has_src[i] == b->has_src[f] &&
	       (!b->has_src[i] || !memcmp(&b->src[i], &b->src[f], sizeof(b->src[i])));
}

/* The control messages of message g: UDP_SEGMENT if it is a group, the
 * source address if the peer has one. */
static void tx_cmsgs(struct device *dev, struct txbatch *b, unsigned g)
{
	struct msghdr *h = &b->msg[g].msg_hdr;
	char *cm = b->cmsg[g].buf;
	unsigned f = b->gfirst[g];
	size_t used = 0;

	if (h->msg_iovlen > 1) {
		struct cmsghdr *c = (struct cmsghdr *)(void *)cm;

		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		*(uint16_t *)(void *)CMSG_DATA(c) = (uint16_t)b->gseg[g];
		used = CMSG_SPACE(sizeof(uint16_t));
	}
	used += send_src_cmsg(dev, &b->src[f], b->has_src[f], cm + used,
			      sizeof(b->cmsg[g].buf) - used);
	h->msg_control = used ? cm : NULL;
	h->msg_controllen = used;
}

/* Group the sealed datagrams into messages: with UDP GSO, a run to one
 * endpoint becomes one message the kernel segments (one trip through the
 * stack instead of one per packet). Returns the number of messages. */
static unsigned tx_group(struct device *dev, struct txbatch *b, unsigned m, const unsigned *idx)
{
	unsigned g = 0;

	for (unsigned k = 0; k < m; k++) {
		unsigned i = idx[k];
		size_t len = b->iov[k].iov_len;

		if (g && atomic_load(&dev->gso) && gso_fits(b, g - 1, i, len)) {
			b->msg[g - 1].msg_hdr.msg_iovlen++;
			b->gbytes[g - 1] += len;
			continue;
		}
		b->msg[g].msg_hdr = (struct msghdr){ .msg_name = &b->to[i],
						     .msg_namelen = b->tolen[i],
						     .msg_iov = &b->iov[k], .msg_iovlen = 1 };
		b->peer[g] = b->peer[k];
		b->gfirst[g] = i;
		b->gseg[g] = b->gbytes[g] = len;
		g++;
	}
	for (unsigned k = 0; k < g; k++)
		tx_cmsgs(dev, b, k);
	return g;
}

/* Message g was refused (errno). Sent with a source address and EINVAL:
 * that address of ours is gone, so the peer forgets it. Otherwise a GSO
 * message: GSO off for good. Either way its datagrams go alone. */
static void tx_ungroup(struct device *dev, struct txbatch *b, unsigned g)
{
	struct msghdr *h = &b->msg[g].msg_hdr;
	struct peer *p = b->peer[g];

	if (b->has_src[b->gfirst[g]] && errno == EINVAL) {
		pthread_mutex_lock(&p->lock);
		p->has_src = false;
		pthread_mutex_unlock(&p->lock);
	} else {
		atomic_store(&dev->gso, false);
		if (dev->log)
			dev->log(1, "%s: UDP GSO refused (%s); sending datagrams one by one",
				 dev->ifname, strerror(errno));
	}
	for (size_t j = 0; j < h->msg_iovlen; j++)
		if (sendto(dev->sock, h->msg_iov[j].iov_base, h->msg_iov[j].iov_len, 0,
			   h->msg_name, h->msg_namelen) < 0)
			device_count(dev, DROP_UDP_SEND);
}

static void tx_send(struct device *dev, struct txbatch *b, unsigned g)
{
	struct mmsghdr *out = b->msg;

	for (unsigned sent = 0; sent < g;) {
		int r = sendmmsg(dev->sock, out + sent, g - sent, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			struct pollfd pfd = { dev->sock, POLLOUT, 0 };

			(void)poll(&pfd, 1, 10);
			continue;
		}
		if (r <= 0) { /* the message at `sent` was refused */
			if (out[sent].msg_hdr.msg_control && errno != EMSGSIZE)
				tx_ungroup(dev, b, sent);
			else
				device_count(dev, DROP_UDP_SEND);
			atomic_fetch_add_explicit(&b->peer[sent]->tx_bytes, b->gbytes[sent],
						  memory_order_relaxed);
			sent++;
			continue;
		}
		for (unsigned k = sent; k < sent + (unsigned)r; k++)
			atomic_fetch_add_explicit(&b->peer[k]->tx_bytes, b->gbytes[k],
						  memory_order_relaxed);
		sent += (unsigned)r;
	}
}

static void tx_batch(struct device *dev, struct txbatch *b, size_t *lens, unsigned n)
{
	unsigned m = 0, mtu = atomic_load(&dev->mtu), idx[DEVICE_BATCH];
	double now = device_now();

	pthread_rwlock_rdlock(&dev->cfg);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *pkt = b->buf[i] + PACKET_HEADER;
		struct peer *p = route(dev, pkt, lens[i]);

		b->len[i] = lens[i];
		b->kp[i] = NULL;
		if (!p) {
			device_count(dev, DROP_NO_ROUTE);
			continue;
		}
		if (!claim(b, i, p, now))
			continue;
		b->len[i] = packet_seal(&b->kp[i]->k, b->counter[i], pkt, lens[i], mtu, b->buf[i]);
		keypair_put(b->kp[i]);
		b->peer[m] = p;
		b->iov[m] = (struct iovec){ b->buf[i], b->len[i] };
		idx[m++] = i;
	}
	if (dev->xmit) {
		for (unsigned k = 0; k < m; k++) {
			dev->xmit(dev->hook_ctx, b->iov[k].iov_base, b->iov[k].iov_len,
				  &b->peer[k]->endpoint);
			atomic_fetch_add_explicit(&b->peer[k]->tx_bytes, b->iov[k].iov_len,
						  memory_order_relaxed);
		}
	} else if (m) {
		tx_send(dev, b, tx_group(dev, b, m, idx));
	}
	pthread_rwlock_unlock(&dev->cfg);
}

void device_xmit(struct device *dev, const uint8_t *pkt, size_t len)
{
	struct txbatch *b = calloc(1, sizeof(*b));

	if (b && len <= DEVICE_BUF - PACKET_OVERHEAD - 16 && (b->buf[0] = malloc(DEVICE_BUF))) {
		memcpy(b->buf[0] + PACKET_HEADER, pkt, len);
		tx_batch(dev, b, &len, 1);
		free(b->buf[0]);
	}
	free(b);
}

void *send_thread(void *arg)
{
	struct device *dev = arg;
	struct txbatch *b = calloc(1, sizeof(*b));
	size_t lens[DEVICE_BATCH];

	for (unsigned i = 0; b && i < DEVICE_BATCH; i++)
		if (!(b->buf[i] = malloc(DEVICE_BUF)))
			goto out;
	while (b && !atomic_load(&dev->stop)) {
		unsigned n = 0;

		while (n < DEVICE_BATCH) {
			ssize_t r = read(dev->tun, b->buf[n] + PACKET_HEADER,
					 DEVICE_BUF - PACKET_OVERHEAD - 16);

			if (r < 0 && errno != EAGAIN && errno != EINTR) {
				/* EBADFD: the interface was deleted (wg-quick down) */
				if (dev->log)
					dev->log(1, "%s: TUN read: %s; shutting down", dev->ifname,
						 strerror(errno));
				device_stop(dev);
				break;
			}
			if (r <= 0)
				break;
			lens[n++] = (size_t)r;
		}
		if (n) {
			tx_batch(dev, b, lens, n);
			continue;
		}
		device_wait(dev->tun, dev->wake_tx);
	}
out:
	for (unsigned i = 0; b && i < DEVICE_BATCH; i++)
		free(b->buf[i]);
	free(b);
	return NULL;
}
