/* tunnel.c — a UAPI "get" to this host's datapath, for one peer. */
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "device.h"
#include "tunnel.h"
#include "uapi.h"

#define REPLY_MAX (1u << 20)   /* a mesh of thousands of peers fits */
#define READ_MS 2000

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* A decimal value of at most max; false if it is not one. */
static bool number(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

int tunnel_endpoint_parse(const char *s, size_t n, struct addr *a, uint16_t *port)
{
	const char *colon = n ? memrchr(s, ':', n) : NULL;
	char host[ADDR_STRLEN];
	size_t hl = colon ? (size_t)(colon - s) : 0;
	uint64_t p;

	if (!colon || !number(colon + 1, n - hl - 1, 65535, &p) || p == 0)
		return -EINVAL;
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') { /* [v6]:port */
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return addr_parse(host, a) < 0 ? -EINVAL : 0;
}

/* One "key=value" line of the peer we are reading. */
static int peer_line(const char *k, size_t kn, const char *v, size_t vn, struct tunnel_peer *out)
{
	uint64_t x;

	if (kn == 23 && !memcmp(k, "last_handshake_time_sec", kn)) {
		if (!number(v, vn, INT64_MAX, &x))
			return -EBADMSG;
		out->handshake.tv_sec = (time_t)x;
	} else if (kn == 24 && !memcmp(k, "last_handshake_time_nsec", kn)) {
		if (!number(v, vn, 999999999, &x))
			return -EBADMSG;
		out->handshake.tv_nsec = (long)x;
	} else if (kn == 8 && !memcmp(k, "endpoint", kn)) {
		if (tunnel_endpoint_parse(v, vn, &out->endpoint, &out->endpoint_port) < 0)
			return -EBADMSG;
		out->has_endpoint = true;
	}
	return 0;
}

int tunnel_parse(const char *text, size_t len, const uint8_t pub[32], struct tunnel_peer *out)
{
	char want[65];
	bool in = false, end = false;
	uint64_t err = UINT64_MAX; /* no errno line yet */

	memset(out, 0, sizeof(*out));
	uapi_hex(want, pub);
	for (size_t off = 0; off < len && !end;) {
		const char *line = text + off, *nl = memchr(line, '\n', len - off), *eq;
		size_t n;
		int r;

		if (!nl)
			return -EBADMSG;
		n = (size_t)(nl - line);
		off += n + 1;
		if (n == 0) {
			end = true; /* the blank line that ends the reply */
			continue;
		}
		if (!(eq = memchr(line, '=', n)))
			return -EBADMSG;
		if (eq - line == 10 && !memcmp(line, "public_key", 10)) {
			in = n == 11 + 64 && !memcmp(eq + 1, want, 64);
			out->found |= in;
		} else if (eq - line == 5 && !memcmp(line, "errno", 5)) {
			if (!number(eq + 1, n - 6, UINT32_MAX, &err))
				return -EBADMSG;
		} else if (in && (r = peer_line(line, (size_t)(eq - line), eq + 1,
						n - (size_t)(eq - line) - 1, out)) < 0) {
			return r;
		}
	}
	if (!end || err == UINT64_MAX)
		return -EBADMSG;
	return err ? -EIO : 0;
}

/* Read the reply into buf (sodium memory, REPLY_MAX): its length, or -errno. */
static ssize_t read_reply(int fd, char *buf)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	double end = mono_ms() + READ_MS;
	size_t len = 0;

	while (len < 2 || memcmp(buf + len - 2, "\n\n", 2)) {
		int left = (int)(end - mono_ms()), r;
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if ((r = poll(&pf, 1, left)) < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		n = read(fd, buf + len, REPLY_MAX - len);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n == 0 || (n > 0 && (len += (size_t)n) == REPLY_MAX))
			return -EBADMSG; /* ended early, or too long */
	}
	return (ssize_t)len;
}

int tunnel_read_path(const char *path, const uint8_t pub[32], struct tunnel_peer *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *buf = NULL;
	ssize_t n;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, "get=1\n\n", 7) != 7) {
		r = errno == ECONNREFUSED ? -ENOENT : -errno;
		goto out;
	}
	if (!(buf = sodium_malloc(REPLY_MAX))) {
		r = -ENOMEM;
		goto out;
	}
	n = read_reply(fd, buf);
	r = n < 0 ? (int)n : tunnel_parse(buf, (size_t)n, pub, out);
out:
	if (buf) {
		sodium_memzero(buf, REPLY_MAX); /* the device's private key was in it */
		sodium_free(buf);
	}
	close(fd);
	return r;
}

int tunnel_read(const char *ifname, const uint8_t pub[32], struct tunnel_peer *out)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s.sock", DEVICE_UAPI_DIR, ifname) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	return tunnel_read_path(path, pub, out);
}

bool tunnel_handshake_since(const struct tunnel_peer *p, const struct timespec *t0)
{
	return p->found && (p->handshake.tv_sec > t0->tv_sec ||
			    (p->handshake.tv_sec == t0->tv_sec && p->handshake.tv_nsec > t0->tv_nsec));
}
