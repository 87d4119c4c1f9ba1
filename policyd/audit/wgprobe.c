/* wgprobe.c — one WireGuard handshake against a node, as its peer. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cookie.h"
#include "noise.h"
#include "packet.h"
#include "wgprobe.h"

struct probe {
	struct noise_local *local;
	struct noise_peer *peer;
	struct cookie_maker cm;
	int fd;
	uint32_t index;
	bool confirm;
};

const char *wgprobe_result_name(enum wgprobe_result r)
{
	switch (r) {
	case WGPROBE_HANDSHAKE: return "handshake";
	case WGPROBE_SILENCE: return "silence";
	case WGPROBE_REFUSED: return "refused";
	case WGPROBE_BOGUS: return "bogus";
	}
	return "?";
}

int wgprobe_public_key(const uint8_t priv[32], uint8_t pub[32])
{
	struct noise_local *l = noise_local_new(priv);

	if (!l)
		return -ENOMEM;
	memcpy(pub, l->pub, 32);
	noise_local_free(l);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int udp_connect(const struct addr *a, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, e;

	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->b, 4);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->b, 16);
		len = sizeof(*s6);
	}
	if ((fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int send_initiation(struct probe *p)
{
	uint8_t msg[NOISE_INITIATION_LEN];
	int r;

	p->index = randombytes_random();
	if ((r = noise_create_initiation(p->local, p->peer, p->index, msg)) < 0)
		return r;
	cookie_add_macs(&p->cm, msg, sizeof(msg), now_s());
	if (send(p->fd, msg, sizeof(msg), 0) < 0)
		return errno == ECONNREFUSED ? 1 : -errno;
	return 0;
}

/* A keepalive under the new keys, so the node's side of the session is
 * confirmed and forgotten as usual rather than left half open. */
static void send_keepalive(struct probe *p)
{
	struct noise_keypair *kp = sodium_malloc(sizeof(*kp));
	uint8_t out[PACKET_OVERHEAD];

	if (kp && noise_derive_keypair(p->peer, kp) == 0 &&
	    packet_seal(kp, 0, NULL, 0, 1420, out) == sizeof(out))
		(void)!send(p->fd, out, sizeof(out), 0);
	sodium_free(kp);
}

/* One datagram from the node: 1 decided (rep filled), 0 keep waiting,
 * 2 a cookie reply was taken (send again). */
static int take(struct probe *p, const uint8_t *buf, size_t n, struct wgprobe_report *rep)
{
	if (n == NOISE_RESPONSE_LEN && noise_le32(buf) == NOISE_MSG_RESPONSE &&
	    noise_le32(buf + 8) == p->index) {
		if (noise_consume_response(p->local, p->peer, buf) == 0) {
			rep->result = WGPROBE_HANDSHAKE;
			if (p->confirm)
				send_keepalive(p);
			return 1;
		}
		rep->result = WGPROBE_BOGUS;
		return 0;
	}
	if (n == COOKIE_REPLY_LEN && noise_le32(buf) == COOKIE_MSG_REPLY &&
	    cookie_consume_reply(&p->cm, buf, now_s()) == 0) {
		rep->cookie = true;
		return 2;
	}
	rep->result = WGPROBE_BOGUS;
	return 0;
}

/* Wait for an answer to the initiation sent at t0. */
static int await(struct probe *p, double t0, unsigned wait_ms, struct wgprobe_report *rep)
{
	struct pollfd pf = { .fd = p->fd, .events = POLLIN };
	uint8_t buf[256];

	for (;;) {
		int left = (int)(wait_ms - (now_s() - t0) * 1000), r;
		ssize_t n;

		if (left <= 0 || (r = poll(&pf, 1, left)) == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = recv(p->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == ECONNREFUSED) {
			rep->result = WGPROBE_REFUSED;
			return 1;
		}
		if (n < 0)
			continue;
		rep->rtt_ms = (now_s() - t0) * 1000;
		if ((r = take(p, buf, (size_t)n, rep)) != 0)
			return r;
	}
}

static int run(struct probe *p, const struct wgprobe_opts *o, struct wgprobe_report *rep)
{
	unsigned cookies = 0;

	for (unsigned t = 0; t < o->tries;) {
		double t0 = now_s();
		int r = send_initiation(p);

		if (r == 1) { /* an earlier ICMP error surfaced on send */
			rep->result = WGPROBE_REFUSED;
			return 0;
		}
		if (r < 0)
			return r;
		rep->sent++;
		r = await(p, t0, o->wait_ms, rep);
		if (r < 0 || r == 1)
			return r < 0 ? r : 0;
		if (r == 2 && cookies++ < 2)
			continue; /* answer the cookie at once, as WireGuard does */
		t++;
	}
	return 0;
}

int wgprobe_run(const struct wgprobe_opts *o, struct wgprobe_report *rep)
{
	struct probe p = { .fd = -1, .confirm = !o->unconfirmed };
	int r;

	memset(rep, 0, sizeof(*rep));
	rep->result = WGPROBE_SILENCE;
	p.local = noise_local_new(o->priv);
	p.peer = p.local ? noise_peer_new(p.local, o->node_pub, NULL) : NULL;
	if (!p.peer) {
		r = -ENOMEM;
		goto out;
	}
	cookie_maker_init(&p.cm, o->node_pub);
	if ((p.fd = udp_connect(&o->target, o->port)) < 0) {
		r = p.fd;
		goto out;
	}
	r = run(&p, o, rep);
out:
	if (p.fd >= 0)
		close(p.fd);
	noise_peer_free(p.peer);
	noise_local_free(p.local);
	sodium_memzero(&p.cm, sizeof(p.cm));
	return r;
}
