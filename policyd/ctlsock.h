/* ctlsock.h — the control socket's listener and connections (control.h has
 * the request syntax). Every connection is non-blocking and served from the
 * daemon's poll loop, so no client can stall the daemon. */
#ifndef POLICYD_CTLSOCK_H
#define POLICYD_CTLSOCK_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CTLSOCK_CLIENTS 16
#define CTLSOCK_POLLFDS (1 + CTLSOCK_CLIENTS)
#define CTLSOCK_NO_GROUP ((gid_t)-1)

struct ctlsock;

/* The request's bytes (up to and with its newline, or what came before EOF
 * or CTL_MAX_REQUEST bytes) → the whole reply, malloc'ed, its length in
 * *len; NULL drops the connection. admin: the client is root or the
 * daemon's uid (else a member of the control group). */
typedef char *(*ctlsock_answer_fn)(void *ctx, bool admin, const char *in, size_t len,
				   size_t *outlen);

/* Listen at path (its directory is made 0755 if missing; a stale socket is
 * replaced). group: CTLSOCK_NO_GROUP for a 0600 socket that root and our
 * own uid may use, or a gid whose members may use it too (0660, chowned to
 * the group unless it is already ours). 0 or -errno. */
int ctlsock_open(const char *path, gid_t group, struct ctlsock **out);
/* Closes every connection and removes the socket file. NULL is fine. */
void ctlsock_free(struct ctlsock *s);

/* Fill CTLSOCK_POLLFDS entries for poll() (free slots have fd -1). */
size_t ctlsock_pollfds(const struct ctlsock *s, struct pollfd *pfd);
/* The poll timeout, lowered to the nearest client deadline. */
int ctlsock_timeout(const struct ctlsock *s, int timeout);
/* After poll: accept, read, answer, write, and drop clients past their
 * deadline. pfd: the entries ctlsock_pollfds filled. */
void ctlsock_process(struct ctlsock *s, const struct pollfd *pfd, ctlsock_answer_fn answer,
		     void *ctx);
/* Connections dropped: too slow, or over CTLSOCK_CLIENTS at once. */
unsigned long ctlsock_dropped(const struct ctlsock *s);

/* A group name or number → gid. 0 or -ENOENT. */
int ctlsock_group_parse(const char *s, gid_t *gid);

#endif
