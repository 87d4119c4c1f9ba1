/* control_client.c — policyctl's end of the control socket. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

int ctl_request(const char *path, const char *line, FILE *out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { 30, 0 };
	char buf[4096];
	size_t got = 0;
	int fd, r = -EPROTO, first = 1;
	ssize_t n;

	if (strlen(path) >= sizeof(sun.sun_path) || strlen(line) >= CTL_MAX_REQUEST)
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line) || write(fd, "\n", 1) != 1) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
		char *nl;

		got += (size_t)n;
		buf[got] = '\0';
		if (first) { /* the status line decides */
			if (!(nl = strchr(buf, '\n')))
				continue;
			*nl = '\0';
			if (!strcmp(buf, "ok"))
				r = 0;
			else if (!strncmp(buf, "error: ", 7)) {
				fprintf(stderr, "policyd: %s\n", buf + 7);
				r = 1;
			}
			first = 0;
			got -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, got);
		}
		if (!first) {
			fwrite(buf, 1, got, out);
			got = 0;
		}
	}
	if (n < 0 && first)
		r = -errno;
	close(fd);
	return r;
}
