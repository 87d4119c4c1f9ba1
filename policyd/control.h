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
/* Send line, copy the body of the reply to out. 0 ("ok"), 1 ("error: ..."
 * printed to stderr), or -errno (no daemon, or it did not answer). */
int ctl_request(const char *path, const char *line, FILE *out);
#endif
