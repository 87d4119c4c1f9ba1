/* control.h — the daemon's control socket, and policyctl's side of it.
 *
 * A Unix stream socket (default CTL_DEFAULT_PATH, mode 0600; the daemon also
 * checks the caller's uid with SO_PEERCRED). One request per connection: a
 * line "VERB [ARGS]\n" of at most CTL_MAX_REQUEST bytes. The reply is text:
 * a first line "ok" or "error: WHAT", then the body; the daemon closes. */
#ifndef POLICYD_CONTROL_H
#define POLICYD_CONTROL_H
#include <stdio.h>
#define CTL_DEFAULT_PATH "/run/policyd/policyd.sock"
#define CTL_MAX_REQUEST 1024
#define CTL_MAX_ARGS 32

/* A parsed request line: the verb and its arguments, split at spaces. */
struct ctl_request {
	char buf[CTL_MAX_REQUEST + 1];   /* the line, cut into words */
	const char *verb;
	const char *args[CTL_MAX_ARGS];
	int nargs;
};

/* Parse the bytes of one request up to its newline. Words are printable
 * ASCII without quotes or backslashes, separated by single spaces.
 * 0, or -EINVAL (and a reason in why) for anything else: an empty or
 * over-long line, control or non-ASCII bytes, too many words, or no newline
 * within CTL_MAX_REQUEST bytes. */
int ctl_request_parse(const char *in, size_t len, struct ctl_request *r, const char **why);

/* Send line, copy the body of the reply to out. 0 ("ok"), 1 ("error: ..."
 * printed to stderr), or -errno (no daemon, or it did not answer). */
int ctl_request(const char *path, const char *line, FILE *out);
#endif
