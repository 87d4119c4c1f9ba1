/* ctlsock.c — the control socket's connections, served without blocking.
 *
 * The daemon's main loop also runs the commit-confirmed rollback, the
 * NFLOG listener and the quarantine; a client that sends its request one
 * byte a minute, or a `policyctl status | less` that stops reading a large
 * reply, must not stall any of them. So every connection is non-blocking
 * and polled with the rest: a request must arrive whole within
 * CTL_READ_MS, a reply be taken within CTL_WRITE_MS, or the connection is
 * dropped. At most CTLSOCK_CLIENTS are served at once; more are closed at
 * once.
 *
 * Who may connect: root, the daemon's own uid and, with a control group,
 * the members of that group (SO_PEERCRED's gid or SO_PEERGROUPS, the
 * groups the client had when it connected). The socket file is 0600, or
 * 0660 owned by the control group. The answer knows which kind of client
 * asks (serve.c keeps a few verbs for root). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "ctlsock.h"
#include "log.h"

#define CTL_READ_MS 5000
#define CTL_WRITE_MS 10000
#define PEER_GROUPS_MAX 256

struct client {
	int fd;                      /* -1: free */
	bool admin;                  /* root or our uid, not only the group */
	char in[CTL_MAX_REQUEST];
	size_t got;
	char *out;                   /* the reply, once the request is whole */
	size_t outlen, sent;
	uint64_t deadline_ms;
};

struct ctlsock {
	int fd;
	gid_t group;                 /* CTLSOCK_NO_GROUP: root and our uid only */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client c[CTLSOCK_CLIENTS];
	unsigned long dropped;       /* clients too slow, or too many */
	uint64_t pause_until_ms;     /* out of file descriptors: not accepting */
};

static int listen_at(struct ctlsock *s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	mode_t mode = s->group == CTLSOCK_NO_GROUP ? 0600 : 0660;
	struct stat st;

	memcpy(sun.sun_path, s->path, sizeof(sun.sun_path));
	memcpy(dir, s->path, sizeof(dir));
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		return -errno;
	(void)unlink(s->path);
	if ((s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -errno;
	if (bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(s->path, mode) < 0 ||
	    stat(s->path, &st) < 0)
		return -errno;
	/* under systemd, Group= makes it ours already; else root may chown */
	if (s->group != CTLSOCK_NO_GROUP && st.st_gid != s->group &&
	    chown(s->path, (uid_t)-1, s->group) < 0)
		return -errno;
	return listen(s->fd, 16) < 0 ? -errno : 0;
}

int ctlsock_open(const char *path, gid_t group, struct ctlsock **out)
{
	struct ctlsock *s;
	int r;

	*out = NULL;
	if (strlen(path) >= sizeof(s->path))
		return -ENAMETOOLONG;
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	memcpy(s->path, path, strlen(path) + 1);
	s->fd = -1;
	s->group = group;
	for (size_t i = 0; i < CTLSOCK_CLIENTS; i++)
		s->c[i].fd = -1;
	if ((r = listen_at(s)) < 0) {
		if (s->fd >= 0) {
			close(s->fd);
			(void)unlink(s->path);
		}
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

static void client_close(struct client *c)
{
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void ctlsock_free(struct ctlsock *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < CTLSOCK_CLIENTS; i++)
		if (s->c[i].fd >= 0)
			client_close(&s->c[i]);
	close(s->fd);
	(void)unlink(s->path);
	free(s);
}

/* Root, our own uid (*admin), or a member of the control group. */
static bool peer_allowed(const struct ctlsock *s, int fd, bool *admin)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[PEER_GROUPS_MAX];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	if ((*admin = cred.uid == 0 || cred.uid == geteuid()))
		return true;
	if (s->group == CTLSOCK_NO_GROUP)
		return false;
	if (cred.gid == s->group)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false; /* more than PEER_GROUPS_MAX groups: ERANGE, refused */
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == s->group)
			return true;
	return false;
}

/* false: nobody else is waiting */
static bool accept_one(struct ctlsock *s)
{
	int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct client *c = NULL;

	if (fd < 0 && (errno == EMFILE || errno == ENFILE)) /* out of fds: listen later */
		s->pause_until_ms = clock_ms() + 100;
	if (fd < 0)
		return errno == EINTR || errno == ECONNABORTED;
	for (size_t i = 0; i < CTLSOCK_CLIENTS && !c; i++)
		if (s->c[i].fd < 0)
			c = &s->c[i];
	if (!c) {
		s->dropped++;
		close(fd);
		return true;
	}
	c->fd = fd;
	c->deadline_ms = clock_ms() + CTL_READ_MS;
	if (!peer_allowed(s, fd, &c->admin)) {
		static const char deny[] = "error: permission denied\n";

		if (!(c->out = strdup(deny))) {
			client_close(c);
			return true;
		}
		c->outlen = sizeof(deny) - 1;
		c->deadline_ms = clock_ms() + CTL_WRITE_MS;
	}
	return true;
}

/* Bytes in; once the line (or CTL_MAX_REQUEST bytes, or EOF) is there, the
 * answer. A request the parser refuses is answered by the caller too. */
static void client_read(struct client *c, ctlsock_answer_fn answer, void *ctx)
{
	ssize_t n = read(c->fd, c->in + c->got, sizeof(c->in) - c->got);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		c->got += (size_t)n;
	if (n > 0 && c->got < sizeof(c->in) && !memchr(c->in + c->got - (size_t)n, '\n', (size_t)n))
		return;
	if (n < 0 || (n == 0 && c->got == 0)) {
		client_close(c);
		return;
	}
	c->out = answer(ctx, c->admin, c->in, c->got, &c->outlen);
	if (!c->out) {
		client_close(c);
		return;
	}
	c->deadline_ms = clock_ms() + CTL_WRITE_MS;
}

static void client_write(struct client *c)
{
	ssize_t n = write(c->fd, c->out + c->sent, c->outlen - c->sent);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		c->sent += (size_t)n;
	if (n <= 0 || c->sent == c->outlen)
		client_close(c);
}

size_t ctlsock_pollfds(const struct ctlsock *s, struct pollfd *pfd)
{
	size_t n = 0;

	pfd[n++] = (struct pollfd){ clock_ms() < s->pause_until_ms ? -1 : s->fd, POLLIN, 0 };
	for (size_t i = 0; i < CTLSOCK_CLIENTS; i++)
		pfd[n++] = (struct pollfd){ s->c[i].fd, s->c[i].out ? POLLOUT : POLLIN, 0 };
	return n;
}

int ctlsock_timeout(const struct ctlsock *s, int timeout)
{
	uint64_t now = clock_ms();

	if (now < s->pause_until_ms && (timeout < 0 || s->pause_until_ms - now < (uint64_t)timeout))
		timeout = (int)(s->pause_until_ms - now);
	for (size_t i = 0; i < CTLSOCK_CLIENTS; i++) {
		int left;

		if (s->c[i].fd < 0)
			continue;
		left = s->c[i].deadline_ms > now ? (int)(s->c[i].deadline_ms - now) : 0;
		if (timeout < 0 || left < timeout)
			timeout = left;
	}
	return timeout;
}

void ctlsock_process(struct ctlsock *s, const struct pollfd *pfd, ctlsock_answer_fn answer,
		     void *ctx)
{
	uint64_t now = clock_ms();

	for (size_t i = 0; i < CTLSOCK_CLIENTS; i++) {
		struct client *c = &s->c[i];
		short ev = pfd[1 + i].revents;

		if (c->fd < 0 || pfd[1 + i].fd != c->fd)
			continue; /* accepted after the poll: not polled yet */
		/* what a client gets is decided by its state, not by the event:
		 * one whose reply is ready is never answered twice */
		if (ev & (POLLERR | POLLNVAL))
			client_close(c);
		else if (c->out && (ev & (POLLOUT | POLLHUP)))
			client_write(c);
		else if (!c->out && (ev & (POLLIN | POLLHUP)))
			client_read(c, answer, ctx);
		if (c->fd >= 0 && now >= c->deadline_ms) {
			s->dropped++;
			client_close(c);
		}
	}
	if (pfd[0].fd >= 0 && (pfd[0].revents & POLLIN))
		for (int k = 0; k < CTLSOCK_CLIENTS && accept_one(s); k++) /* a burst */
			;
}

int ctlsock_group_parse(const char *s, gid_t *gid)
{
	struct group *gr;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] >= '0' && s[0] <= '9' && !*end && !errno && v < CTLSOCK_NO_GROUP) {
		*gid = (gid_t)v;
		return 0;
	}
	if (!(gr = getgrnam(s)))
		return -ENOENT;
	*gid = gr->gr_gid;
	return 0;
}

unsigned long ctlsock_dropped(const struct ctlsock *s)
{
	return s->dropped;
}
