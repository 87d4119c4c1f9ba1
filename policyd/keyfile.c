/* keyfile.c — base64 keys and 0600 key files. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"

int key_from_base64(const char *s, size_t n, uint8_t out[32])
{
	size_t len = 0;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n && sodium_base642bin(out, 32, s, n, NULL, &len, NULL,
				      sodium_base64_VARIANT_ORIGINAL) == 0 && len == 32 ? 0 : -1;
}

int keyfile_read(const char *path, const char *what, const char *made_by, uint8_t out[32],
		 char *err, size_t errlen)
{
	char buf[128];
	struct stat st;
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r = -1;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (S_ISREG(st.st_mode) && !(st.st_mode & 077) &&
		 (n = read(fd, buf, sizeof(buf))) < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		snprintf(err, errlen, "%s: a key file must be a regular file of mode 0600 (it is "
			 "%o); chmod 600 it", path, (unsigned)(st.st_mode & 07777));
	close(fd);
	if (n > 0 && key_from_base64(buf, (size_t)n, out) == 0)
		r = 0;
	else if (n >= 0)
		snprintf(err, errlen, "%s: not a %s (44 characters of base64, as %s writes)", path,
			 what, made_by);
	sodium_memzero(buf, sizeof(buf));
	return r;
}
