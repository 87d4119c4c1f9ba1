/* control.c — the control socket's request syntax, shared by the daemon and
 * its fuzzer. Nothing from a request ever reaches a shell or a format
 * string; the verbs and their arguments are checked by the daemon. */
#include <errno.h>
#include <string.h>

#include "control.h"

int ctl_request_parse(const char *in, size_t len, struct ctl_request *r, const char **why)
{
	const char *nl = memchr(in, '\n', len < CTL_MAX_REQUEST ? len : CTL_MAX_REQUEST);
	size_t n;
	char *w;

	memset(r, 0, sizeof(*r));
	if (!nl) {
		*why = "a request is one line ending in a newline, at most 1024 bytes";
		return -EINVAL;
	}
	n = (size_t)(nl - in);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\'' || c == '\\') {
			*why = "requests are printable ASCII without quotes or backslashes";
			return -EINVAL;
		}
	}
	memcpy(r->buf, in, n);
	r->buf[n] = '\0';
	if (n == 0 || r->buf[0] == ' ' || r->buf[n - 1] == ' ' || strstr(r->buf, "  ")) {
		*why = "words are separated by single spaces";
		return -EINVAL;
	}
	r->verb = w = r->buf;
	while ((w = strchr(w, ' '))) {
		*w++ = '\0';
		if (r->nargs == CTL_MAX_ARGS) {
			*why = "too many arguments";
			return -EINVAL;
		}
		r->args[r->nargs++] = w;
	}
	return 0;
}
