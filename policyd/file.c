/* file.c — whole-file reads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

#define MAX_POLICY_SIZE FILE_MAX

static int read_stream(FILE *f, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap), *nb;

	while (buf) {
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (r == 0)
			break;
		if (n < cap)
			continue;
		if (cap >= MAX_POLICY_SIZE || !(nb = realloc(buf, cap * 2))) {
			free(buf);
			return cap >= MAX_POLICY_SIZE ? -EFBIG : -ENOMEM;
		}
		buf = nb;
		cap *= 2;
	}
	if (!buf)
		return -ENOMEM;
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* A regular file is read in one go at its size; stdin or a pipe in chunks. */
int file_read(const char *path, char **out, size_t *len)
{
	struct stat st;
	FILE *f;
	char *buf;
	int r;

	if (!strcmp(path, "-"))
		return read_stream(stdin, out, len);
	if (!(f = fopen(path, "rb")))
		return -errno;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		r = read_stream(f, out, len);
		fclose(f);
		return r;
	}
	if ((size_t)st.st_size > MAX_POLICY_SIZE) {
		fclose(f);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	r = !buf ? -ENOMEM
		 : fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size ? -EIO : 0;
	fclose(f);
	if (r) {
		free(buf);
		return r;
	}
	*out = buf;
	*len = (size_t)st.st_size;
	return 0;
}


static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The rename itself is durable only once the directory is synced. */
static int dir_sync(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

int file_write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) /* created 0600 */
		return -errno;
	r = write_all(fd, text, len);
	if (!r && (fchmod(fd, 0600) < 0 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	else
		r = dir_sync(path);
	return r;
}
