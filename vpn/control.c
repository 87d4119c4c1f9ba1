/* control.c — the control thread: every peer's timers, and the UAPI socket
 * that `wg` talks to (wireguard-facts.md §1.3). One request at a time; a
 * client gets a few seconds to send its request before it is dropped, so a
 * stuck client cannot stop the timers for long. */
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/time.h>
#include <unistd.h>

#include "device.h"
#include "uapi.h"

#define TICK VPN_TIME(0.1)         /* timer granularity, seconds */
#define MAX_REQUEST (64u << 20)    /* a set for tens of thousands of peers */
#define CLIENT_TIMEOUT 5

/* ---- timers ------------------------------------------------------------------- */

void timers_run_peer(struct peer *p, double now)
{
	unsigned act;
	bool retry;

	pthread_mutex_lock(&p->lock);
	retry = p->timers.retransmit && p->timers.retransmit <= now;
	act = timers_due(&p->timers, now, NULL);
	if (act & TIMERS_GIVE_UP) {
		for (unsigned i = 0; i < p->staged.n; i++)
			device_count(p->dev, DROP_GAVE_UP);
		send_purge_staged(p);
	}
	if (act & TIMERS_SEND_INITIATION)
		send_initiation(p, retry, now);
	if (act & TIMERS_SEND_KEEPALIVE)
		send_keepalive(p, now);
	if (act & TIMERS_ZERO_KEYS)
		peer_clear_keys(p);
	pthread_mutex_unlock(&p->lock);
}

void device_run_timers(struct device *dev, double now)
{
	pthread_rwlock_rdlock(&dev->cfg);
	for (size_t i = 0; i < dev->npeers; i++)
		timers_run_peer(dev->peers[i], now);
	pthread_rwlock_unlock(&dev->cfg);
}

/* ---- UAPI --------------------------------------------------------------------- */

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static int reply_errno(int fd, int err)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "errno=%d\n\n", err);

	return write_all(fd, line, (size_t)n);
}

/* One operation: req is "get=1\n\n", "set=1\n...\n\n" or "stats=1\n\n". */
static int serve_one(struct device *dev, int fd, char *req, size_t len)
{
	struct uapi_set set;
	size_t used;
	int r;

	if (!strncmp(req, "get=1\n", 6)) {
		if ((r = device_dump(dev, fd)) < 0)
			return r;
		return reply_errno(fd, 0);
	}
	if (!strncmp(req, "stats=1\n", 8)) {
		if ((r = device_dump_stats(dev, fd)) < 0)
			return r;
		return reply_errno(fd, 0);
	}
	if (strncmp(req, "set=1\n", 6))
		return reply_errno(fd, -EINVAL);
	r = uapi_parse_set(req + 6, len - 6, &set, &used);
	if (r == 0)
		r = device_apply(dev, &set);
	if (r < 0 && dev->log)
		dev->log(1, "%s: uapi set refused: %s (%d)", dev->ifname,
			 set.error[0] ? set.error : "cannot apply", r);
	uapi_set_free(&set);
	return reply_errno(fd, r);
}

/* Where the request starting at buf ends (just after "\n\n"), or 0. */
static size_t request_end(const char *buf, size_t len)
{
	for (size_t i = 1; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\n')
			return i + 1;
	return 0;
}

static void serve_client(struct device *dev, int fd)
{
	struct timeval tv = { CLIENT_TIMEOUT, 0 };
	size_t cap = 4096, len = 0, end, scanned = 0;
	char *buf = malloc(cap), *nb;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (buf) {
		ssize_t n;

		while ((end = request_end(buf + scanned, len - scanned)) > 0) {
			end += scanned;
			buf[end - 1] = '\0';
			if (serve_one(dev, fd, buf, end - 1) < 0)
				goto out;
			memmove(buf, buf + end, len - end);
			len -= end;
			scanned = 0;
		}
		scanned = len ? len - 1 : 0;
		if (len == cap) { /* grow without leaving key bytes in freed memory */
			if (cap >= MAX_REQUEST || !(nb = malloc(cap * 2)))
				goto out;
			memcpy(nb, buf, len);
			sodium_memzero(buf, cap);
			free(buf);
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		len += (size_t)n;
	}
out:
	if (buf) {
		sodium_memzero(buf, cap); /* private keys pass through here */
		free(buf);
	}
}

int device_run(struct device *dev, int listen_fd)
{
	double last_mtu = 0;

	while (!atomic_load(&dev->stop)) {
		struct pollfd pfd[2] = { { listen_fd, POLLIN, 0 }, { dev->wake_ctl, POLLIN, 0 } };
		double now;

		if (poll(pfd, 2, (int)(TICK * 1000)) > 0) {
			if (pfd[1].revents) {
				eventfd_t v;

				(void)eventfd_read(dev->wake_ctl, &v);
			}
			if (pfd[0].revents & POLLIN) {
				int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

				if (fd >= 0) {
					serve_client(dev, fd);
					close(fd);
				}
			}
		}
		device_run_timers(dev, device_now());
		now = device_now();
		if (now - last_mtu >= 1.0) {
			device_refresh_mtu(dev);
			last_mtu = now;
		}
	}
	return 0;
}

/* Listen on DEVICE_UAPI_DIR/IFNAME.sock; a live socket there means another
 * instance owns the name, a dead one is stale and replaced. */
int device_uapi_listen(const char *ifname, char *path, size_t pathlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (mkdir(DEVICE_UAPI_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(path, pathlen, "%s/%s.sock", DEVICE_UAPI_DIR, ifname) >= pathlen ||
	    strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 16) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int device_peers(struct device *dev, void (*fn)(void *ctx, const struct device_peer_info *pi),
		 void *ctx)
{
	pthread_rwlock_rdlock(&dev->cfg);
	for (size_t i = 0; i < dev->npeers; i++) {
		struct peer *p = dev->peers[i];
		struct device_peer_info pi;

		pthread_mutex_lock(&p->lock);
		memcpy(pi.public_key, p->noise->remote_pub, 32);
		pi.endpoint = p->endpoint;
		pi.last_handshake = p->last_handshake;
		pi.rx_bytes = atomic_load(&p->rx_bytes);
		pi.tx_bytes = atomic_load(&p->tx_bytes);
		pi.keepalive = p->keepalive;
		pthread_mutex_unlock(&p->lock);
		fn(ctx, &pi);
	}
	pthread_rwlock_unlock(&dev->cfg);
	return 0;
}
