/* device.c — the interface's lifecycle, its socket and its peer set, and
 * the UAPI's view of it (device_apply / device_dump). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "allowedips.h"
#include "device.h"
#include "index.h"
#include "ratelimit.h"
#include "uapi.h"

const char *const drop_reason_names[DROP_MAX] = {
	[DROP_SHORT] = "malformed", [DROP_NO_KEY] = "no_private_key",
	[DROP_BAD_MAC1] = "bad_mac1", [DROP_COOKIE_SENT] = "cookie_sent",
	[DROP_RATELIMIT] = "ratelimited", [DROP_HS_QUEUE_FULL] = "handshake_queue_full",
	[DROP_HS_INVALID] = "handshake_invalid", [DROP_HS_REPLAY] = "handshake_replay",
	[DROP_HS_FLOOD] = "handshake_flood",
	[DROP_COOKIE_INVALID] = "cookie_invalid", [DROP_UNKNOWN_INDEX] = "unknown_index",
	[DROP_DATA_AUTH] = "data_auth", [DROP_DATA_REPLAY] = "data_replay",
	[DROP_KEY_EXPIRED] = "key_expired", [DROP_INNER_MALFORMED] = "inner_malformed",
	[DROP_SOURCE_NOT_ALLOWED] = "source_not_allowed", [DROP_NO_ROUTE] = "no_route",
	[DROP_NO_ENDPOINT] = "no_endpoint", [DROP_STAGED_OVERFLOW] = "staged_overflow",
	[DROP_GAVE_UP] = "handshake_gave_up", [DROP_TUN_WRITE] = "tun_write",
	[DROP_UDP_SEND] = "udp_send",
};

double device_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void device_count(struct device *dev, enum drop_reason r)
{
	atomic_fetch_add_explicit(&dev->drops[r], 1, memory_order_relaxed);
}

static double jitter(void *ctx)
{
	(void)ctx;
	return VPN_TIME((double)randombytes_uniform(334) / 1000.0);
}

/* ---- TUN and socket ----------------------------------------------------------- */

static int tun_open(const char *ifname, int *fd_out)
{
	struct ifreq ifr = { 0 };
	int fd, s, r = 0;

	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK)) < 0)
		return -errno;
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	/* MTU 1420 as wireguard-go; the interface is ours, in our namespace */
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0) {
		ifr.ifr_mtu = DEVICE_MTU_DEFAULT;
		(void)ioctl(s, SIOCSIFMTU, &ifr);
		close(s);
	}
	*fd_out = fd;
	return 0;
}

static unsigned tun_mtu(const struct device *dev)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned mtu = DEVICE_MTU_DEFAULT;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev->ifname);
	if (s >= 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = (unsigned)ifr.ifr_mtu;
	if (s >= 0)
		close(s);
	return mtu;
}

static void bufsize(int fd, int opt_force, int opt)
{
	int size = 4 << 20;

	if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

/* A UDP socket on port (0: any), dual stack if the host has IPv6. */
static int socket_open(uint16_t port, uint32_t fwmark, int *fd_out, int *family_out)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, off = 0, r;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == 0 &&
		    bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0) {
			*family_out = AF_INET6;
			goto bound;
		}
		r = -errno;
		close(fd);
		if (r == -EADDRINUSE)
			return r;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*family_out = AF_INET;
bound:
	bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	if (fwmark)
		(void)setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark));
	/* coalesced receive; the rx thread splits by the UDP_GRO cmsg */
	(void)setsockopt(fd, SOL_UDP, UDP_GRO, &(int){ 1 }, sizeof(int));
	/* which of our addresses a datagram came to, so replies leave from it */
	if (*family_out == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &(int){ 1 }, sizeof(int));
	*fd_out = fd;
	return 0;
}

static uint16_t socket_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

/* Replace the socket under the same descriptor number, so the rx thread's
 * descriptor stays valid; it is woken to pick up the new one. */
static int socket_rebind(struct device *dev, uint16_t port)
{
	int fd, family, r;

	if ((r = socket_open(port, dev->fwmark, &fd, &family)) < 0)
		return r;
	if (dup3(fd, dev->sock, O_CLOEXEC) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	dev->sock_family = family;
	dev->listen_port = socket_port(dev->sock);
	(void)eventfd_write(dev->wake_rx, 1);
	return 0;
}

/* ---- device ------------------------------------------------------------------ */

static int device_alloc(struct device **out)
{
	struct device *dev;
	pthread_rwlockattr_t attr;

	if (!(dev = calloc(1, sizeof(*dev))))
		return -ENOMEM;
	dev->tun = dev->sock = dev->wake_tx = dev->wake_rx = dev->wake_ctl = -1;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&dev->cfg, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&dev->index_lock, NULL);
	pthread_mutex_init(&dev->hs_lock, NULL);
	pthread_cond_init(&dev->hs_cond, NULL);
	atomic_init(&dev->mtu, DEVICE_MTU_DEFAULT);
	*out = dev;
	if (!(dev->aips = allowedips_new()) || !(dev->index = index_table_new()) ||
	    !(dev->ratelimit = ratelimit_new()) ||
	    !(dev->hs_queue = calloc(DEVICE_HS_QUEUE, sizeof(*dev->hs_queue)))) {
		device_free(dev);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int device_new_detached(void (*xmit)(void *, const uint8_t *, size_t,
				     const struct sockaddr_storage *),
			void (*deliver)(void *, const uint8_t *, size_t), void *ctx,
			struct device **out)
{
	int r = device_alloc(out);

	if (r == 0) {
		snprintf((*out)->ifname, sizeof((*out)->ifname), "detached");
		(*out)->sock_family = AF_INET6;
		(*out)->xmit = xmit;
		(*out)->deliver = deliver;
		(*out)->hook_ctx = ctx;
	}
	return r;
}

int device_new(const char *ifname, void (*log)(int, const char *, ...), struct device **out)
{
	struct device *dev;
	int r;

	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/'))
		return -EINVAL;
	if ((r = device_alloc(out)) < 0)
		return r;
	dev = *out;
	snprintf(dev->ifname, sizeof(dev->ifname), "%s", ifname);
	dev->log = log;
	if ((dev->wake_tx = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    (dev->wake_rx = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    (dev->wake_ctl = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = tun_open(ifname, &dev->tun)) < 0)
		goto fail;
	if ((r = socket_open(0, 0, &dev->sock, &dev->sock_family)) < 0)
		goto fail;
	dev->listen_port = socket_port(dev->sock);
	atomic_store(&dev->mtu, tun_mtu(dev));
	atomic_store(&dev->gso, getenv("POLICYD_VPN_NO_GSO") == NULL);
	return 0;
fail:
	device_free(dev);
	*out = NULL;
	return r;
}

int device_start(struct device *dev)
{
	if (pthread_create(&dev->rx_thread, NULL, receive_thread, dev) ||
	    pthread_create(&dev->tx_thread, NULL, send_thread, dev) ||
	    pthread_create(&dev->hs_thread, NULL, handshake_thread, dev))
		return -EAGAIN; /* a partial start is torn down by device_free */
	dev->threads = true;
	return 0;
}

void device_wait(int fd, int wake)
{
	struct pollfd pfd[2] = { { fd, POLLIN, 0 }, { wake, POLLIN, 0 } };
	eventfd_t v;

	if (poll(pfd, 2, -1) > 0 && pfd[1].revents)
		(void)eventfd_read(wake, &v);
}

void device_stop(struct device *dev)
{
	atomic_store(&dev->stop, true);
	(void)eventfd_write(dev->wake_tx, 1);
	(void)eventfd_write(dev->wake_rx, 1);
	(void)eventfd_write(dev->wake_ctl, 1);
}

static void peer_free(struct peer *p);

void device_free(struct device *dev)
{
	if (!dev)
		return;
	if (dev->threads) {
		device_stop(dev);
		pthread_mutex_lock(&dev->hs_lock);
		pthread_cond_broadcast(&dev->hs_cond);
		pthread_mutex_unlock(&dev->hs_lock);
		pthread_join(dev->rx_thread, NULL);
		pthread_join(dev->tx_thread, NULL);
		pthread_join(dev->hs_thread, NULL);
	}
	for (size_t i = 0; i < dev->npeers; i++)
		peer_free(dev->peers[i]);
	free(dev->peers);
	allowedips_free(dev->aips);
	index_table_free(dev->index);
	ratelimit_free(dev->ratelimit);
	if (dev->hs_queue) {
		sodium_memzero(dev->hs_queue, DEVICE_HS_QUEUE * sizeof(*dev->hs_queue));
		free(dev->hs_queue);
	}
	noise_local_free(dev->local);
	sodium_memzero(&dev->cookie, sizeof(dev->cookie));
	{
		int fds[] = { dev->tun, dev->sock, dev->wake_tx, dev->wake_rx, dev->wake_ctl };

		for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	pthread_rwlock_destroy(&dev->cfg);
	pthread_mutex_destroy(&dev->index_lock);
	pthread_mutex_destroy(&dev->hs_lock);
	pthread_cond_destroy(&dev->hs_cond);
	free(dev);
}

/* ---- peers ------------------------------------------------------------------- */

static int cmp_key_peer(const void *key, const void *b)
{
	const struct peer *const *pb = b;

	return memcmp(key, (*pb)->noise->remote_pub, NOISE_KEY);
}

struct peer *device_peer_by_pub(struct device *dev, const uint8_t pub[32])
{
	struct peer **pp = dev->npeers ? bsearch(pub, dev->peers, dev->npeers, sizeof(*pp),
						 cmp_key_peer) : NULL;

	return pp ? *pp : NULL;
}

struct peer *device_peer_by_index(struct device *dev, uint32_t index)
{
	struct peer *p;

	pthread_mutex_lock(&dev->index_lock);
	p = index_table_lookup(dev->index, index);
	pthread_mutex_unlock(&dev->index_lock);
	return p;
}

/* Register the indices of the keypair slots, forget those no longer used.
 * Called with the peer's lock held after any change of its keypairs. */
void peer_refresh_indices(struct peer *p)
{
	struct keypair *slots[3] = { p->keys.prev, p->keys.cur, p->keys.next };
	struct device *dev = p->dev;

	pthread_mutex_lock(&dev->index_lock);
	for (int i = 0; i < 3; i++) {
		bool used = false;

		for (int j = 0; j < 3; j++)
			used |= slots[j] && slots[j]->k.local_index == p->key_index[i];
		if (!used && p->key_index[i] != p->hs_index)
			index_table_del(dev->index, p->key_index[i], p);
		p->key_index[i] = 0;
	}
	for (int i = 0; i < 3; i++)
		if (slots[i])
			p->key_index[i] = slots[i]->k.local_index;
	pthread_mutex_unlock(&dev->index_lock);
}

void peer_clear_keys(struct peer *p)
{
	keypairs_clear(&p->keys);
	peer_refresh_indices(p);
	pthread_mutex_lock(&p->dev->index_lock);
	index_table_del(p->dev->index, p->hs_index, p);
	pthread_mutex_unlock(&p->dev->index_lock);
	p->hs_index = 0;
}

void device_set_events(struct device *dev,
		       void (*ev)(void *ctx, const uint8_t pub[32], enum device_event e,
				  const uint8_t *inner, size_t len),
		       void *ctx)
{
	dev->event = ev;
	dev->event_ctx = ctx;
}

int device_peer_evict(struct device *dev, const uint8_t pub[32])
{
	struct peer *p;
	int r = -ENOENT;

	pthread_rwlock_rdlock(&dev->cfg);
	if ((p = device_peer_by_pub(dev, pub))) {
		pthread_mutex_lock(&p->lock);
		atomic_fetch_add_explicit(&dev->evicted, (uint64_t)!!p->keys.prev +
					  !!p->keys.cur + !!p->keys.next, memory_order_relaxed);
		peer_clear_keys(p);
		noise_handshake_clear(p->noise);
		send_purge_staged(p);
		pthread_mutex_unlock(&p->lock);
		r = 0;
	}
	pthread_rwlock_unlock(&dev->cfg);
	return r;
}

int device_peer_handshake(struct device *dev, const uint8_t pub[32])
{
	struct peer *p;
	int r = -ENOENT;

	pthread_rwlock_rdlock(&dev->cfg);
	if ((p = device_peer_by_pub(dev, pub))) {
		pthread_mutex_lock(&p->lock);
		p->last_initiation_sent = 0; /* an admin's decision, not a retry */
		send_initiation(p, false, device_now());
		pthread_mutex_unlock(&p->lock);
		r = 0;
	}
	pthread_rwlock_unlock(&dev->cfg);
	return r;
}

/* Where pub sits, or would sit, in the sorted peer array. */
static size_t peer_slot(const struct device *dev, const uint8_t pub[32])
{
	size_t lo = 0, hi = dev->npeers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(dev->peers[mid]->noise->remote_pub, pub, NOISE_KEY) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct peer *peer_new(struct device *dev, const uint8_t pub[32])
{
	struct peer *p = calloc(1, sizeof(*p)), **v;
	size_t at;

	if (!p)
		return NULL;
	v = realloc(dev->peers, (dev->npeers + 1) * sizeof(*v));
	if (v)
		dev->peers = v;
	/* a low-order key gets a peer that can never complete a handshake */
	if (!v || !(p->noise = noise_peer_new(NULL, pub, NULL))) {
		free(p);
		return NULL;
	}
	(void)noise_peer_set_local(p->noise, dev->local);
	p->dev = dev;
	pthread_mutex_init(&p->lock, NULL);
	cookie_maker_init(&p->cookie, pub);
	timers_init(&p->timers, jitter, NULL);
	at = peer_slot(dev, pub);
	memmove(dev->peers + at + 1, dev->peers + at, (dev->npeers - at) * sizeof(*v));
	dev->peers[at] = p;
	dev->npeers++;
	return p;
}

static void peer_free(struct peer *p)
{
	if (!p)
		return;
	peer_clear_keys(p);
	send_purge_staged(p);
	noise_peer_free(p->noise);
	sodium_memzero(&p->cookie, sizeof(p->cookie));
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Remove peer i (cfg held for writing: no packet thread holds it). */
static void peer_remove(struct device *dev, struct peer *p)
{
	size_t i = peer_slot(dev, p->noise->remote_pub);

	if (i == dev->npeers || dev->peers[i] != p)
		return;
	allowedips_remove_peer(dev->aips, p);
	memmove(dev->peers + i, dev->peers + i + 1, (dev->npeers - i - 1) * sizeof(*dev->peers));
	dev->npeers--;
	peer_free(p);
}

void peer_set_endpoint(struct peer *p, const struct sockaddr_storage *src,
		       const struct in6_pktinfo *dst)
{
	size_t len = src->ss_family == AF_INET ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6);

	if (memcmp(&p->endpoint, src, len))
		memcpy(&p->endpoint, src, len);
	p->has_src = dst != NULL;
	if (dst)
		p->src = *dst;
}

/* ---- UAPI set ---------------------------------------------------------------- */

static int set_private_key(struct device *dev, const uint8_t key[32])
{
	struct noise_local *l = NULL;

	if (!sodium_is_zero(key, 32) && !(l = noise_local_new(key)))
		return -ENOMEM;
	if (l && dev->local && !sodium_memcmp(l->pub, dev->local->pub, 32)) {
		noise_local_free(l); /* the same key again: keep the sessions */
		return 0;
	}
	noise_local_free(dev->local);
	dev->local = l;
	if (l) {
		struct peer *self = device_peer_by_pub(dev, l->pub);

		if (self) /* the kernel and wireguard-go drop a peer that is us */
			peer_remove(dev, self);
		cookie_checker_init(&dev->cookie, l->pub);
	}
	for (size_t i = 0; i < dev->npeers; i++) {
		struct peer *p = dev->peers[i];

		pthread_mutex_lock(&p->lock);
		(void)noise_peer_set_local(p->noise, l);
		peer_clear_keys(p);
		pthread_mutex_unlock(&p->lock);
	}
	return 0;
}

static int apply_allowed_ips(struct device *dev, struct peer *p, const struct uapi_peer *u,
			     bool created)
{
	int r;

	if (u->replace_allowed_ips && !created) /* a walk of the whole trie */
		allowedips_remove_peer(dev->aips, p);
	for (size_t i = 0; i < u->nallowed_ips; i++) {
		const struct uapi_allowed_ip *a = &u->allowed_ips[i];

		if (a->remove)
			(void)allowedips_remove(dev->aips, a->family, a->addr, a->cidr, p);
		else if ((r = allowedips_insert(dev->aips, a->family, a->addr, a->cidr, p)) < 0)
			return r;
	}
	return 0;
}

static int apply_peer(struct device *dev, const struct uapi_peer *u, struct peer **kick)
{
	struct peer *p = device_peer_by_pub(dev, u->public_key);
	bool created = false;

	*kick = NULL;
	if (dev->local && !sodium_memcmp(u->public_key, dev->local->pub, 32))
		return 0; /* ourselves: ignored, as wireguard-go does */
	if (u->remove) {
		if (p)
			peer_remove(dev, p);
		return 0;
	}
	if (!p) {
		if (u->update_only)
			return 0;
		if (!(p = peer_new(dev, u->public_key)))
			return -ENOMEM;
		created = true;
	}
	pthread_mutex_lock(&p->lock);
	if (u->has_psk)
		memcpy(p->noise->psk, u->psk, 32);
	if (u->has_endpoint)
		peer_set_endpoint(p, &u->endpoint, NULL);
	if (u->has_keepalive) {
		if (u->keepalive && u->keepalive != p->keepalive)
			*kick = p; /* the kernel sends one keepalive at once */
		p->keepalive = u->keepalive;
		p->timers.persistent_interval = u->keepalive;
	}
	pthread_mutex_unlock(&p->lock);
	return apply_allowed_ips(dev, p, u, created);
}

int device_apply(struct device *dev, const struct uapi_set *s)
{
	struct peer *kick[64];
	size_t nkick = 0;
	int r = 0;

	pthread_rwlock_wrlock(&dev->cfg);
	if (s->has_fwmark) {
		dev->fwmark = s->fwmark;
		if (dev->sock >= 0)
			(void)setsockopt(dev->sock, SOL_SOCKET, SO_MARK, &dev->fwmark,
					 sizeof(dev->fwmark));
	}
	if (s->has_listen_port && dev->sock < 0)
		dev->listen_port = s->listen_port;
	else if (s->has_listen_port && (s->listen_port != dev->listen_port || !s->listen_port) &&
		 (r = socket_rebind(dev, s->listen_port)) < 0)
		goto out; /* first, so a port in use changes nothing */
	if (s->has_private_key && (r = set_private_key(dev, s->private_key)) < 0)
		goto out;
	if (s->replace_peers)
		while (dev->npeers)
			peer_remove(dev, dev->peers[dev->npeers - 1]);
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *k;

		if ((r = apply_peer(dev, &s->peers[i], &k)) < 0)
			goto out;
		if (k && nkick < sizeof(kick) / sizeof(*kick))
			kick[nkick++] = k;
	}
out:
	pthread_rwlock_unlock(&dev->cfg);
	if (nkick) {
		double now = device_now();

		pthread_rwlock_rdlock(&dev->cfg);
		for (size_t i = 0; i < nkick; i++) {
			/* still there? a later line of the same request may have removed it */
			for (size_t j = 0; j < dev->npeers; j++) {
				if (dev->peers[j] != kick[i])
					continue;
				pthread_mutex_lock(&kick[i]->lock);
				send_keepalive(kick[i], now);
				pthread_mutex_unlock(&kick[i]->lock);
			}
		}
		pthread_rwlock_unlock(&dev->cfg);
	}
	return r;
}

/* ---- UAPI get ---------------------------------------------------------------- */

struct dump_ctx {
	FILE *f;
};

static int dump_aip(void *ctx, void *peer, int family, const uint8_t *addr, unsigned cidr)
{
	char buf[INET6_ADDRSTRLEN];

	(void)peer;
	inet_ntop(family, addr, buf, sizeof(buf));
	fprintf(((struct dump_ctx *)ctx)->f, "allowed_ip=%s/%u\n", buf, cidr);
	return 0;
}

static void dump_peer(struct device *dev, struct peer *p, FILE *f)
{
	char hex[65], ep[INET6_ADDRSTRLEN + 16];
	struct dump_ctx ctx = { f };

	pthread_mutex_lock(&p->lock);
	uapi_hex(hex, p->noise->remote_pub);
	fprintf(f, "public_key=%s\n", hex);
	uapi_hex(hex, p->noise->psk);
	fprintf(f, "preshared_key=%s\n", hex);
	sodium_memzero(hex, sizeof(hex));
	fprintf(f, "protocol_version=1\n");
	if (p->endpoint.ss_family && uapi_format_endpoint(ep, sizeof(ep), &p->endpoint) > 0)
		fprintf(f, "endpoint=%s\n", ep);
	fprintf(f, "last_handshake_time_sec=%lld\nlast_handshake_time_nsec=%ld\n",
		(long long)p->last_handshake.tv_sec, p->last_handshake.tv_nsec);
	fprintf(f, "tx_bytes=%llu\nrx_bytes=%llu\npersistent_keepalive_interval=%u\n",
		(unsigned long long)atomic_load(&p->tx_bytes),
		(unsigned long long)atomic_load(&p->rx_bytes), p->keepalive);
	pthread_mutex_unlock(&p->lock);
	allowedips_walk_peer(dev->aips, p, dump_aip, &ctx);
}

int device_dump(struct device *dev, int fd)
{
	char *buf = NULL, hex[65];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r = 0;

	if (!f)
		return -ENOMEM;
	pthread_rwlock_rdlock(&dev->cfg);
	if (dev->local) { /* straight to fd: a growing memstream would leave copies */
		char line[12 + 64 + 2];
		int n;

		uapi_hex(hex, dev->local->priv);
		n = snprintf(line, sizeof(line), "private_key=%s\n", hex);
		if (write(fd, line, (size_t)n) != n)
			r = -EIO;
		sodium_memzero(hex, sizeof(hex));
		sodium_memzero(line, sizeof(line));
	}
	fprintf(f, "listen_port=%u\n", dev->listen_port);
	if (dev->fwmark)
		fprintf(f, "fwmark=%u\n", dev->fwmark);
	for (size_t i = 0; i < dev->npeers; i++)
		dump_peer(dev, dev->peers[i], f);
	pthread_rwlock_unlock(&dev->cfg);
	if (fclose(f) != 0 && !r)
		r = -ENOMEM;
	for (size_t off = 0; !r && off < len;) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = -EIO;
		else
			off += (size_t)n;
	}
	free(buf);
	return r;
}

int device_dump_stats(struct device *dev, int fd)
{
	char line[96];
	int len = snprintf(line, sizeof(line), "sessions=%llu\nevicted=%llu\n",
			   (unsigned long long)atomic_load(&dev->sessions),
			   (unsigned long long)atomic_load(&dev->evicted));

	if (write(fd, line, (size_t)len) != len)
		return -EIO;

	for (int i = 0; i < DROP_MAX; i++) {
		int n = snprintf(line, sizeof(line), "drop_%s=%llu\n", drop_reason_names[i],
				 (unsigned long long)atomic_load(&dev->drops[i]));

		if (write(fd, line, (size_t)n) != n)
			return -EIO;
	}
	return 0;
}

/* Refresh the MTU now and then: `ip link set mtu` can change it any time. */
void device_refresh_mtu(struct device *dev)
{
	if (dev->tun < 0)
		return;
	atomic_store(&dev->mtu, tun_mtu(dev));
}
