/* file.h — reading a policy (or any input) whole: a regular file at its
 * size, stdin ("-") or a pipe in chunks, at most FILE_MAX bytes. */
#ifndef POLICYD_FILE_H
#define POLICYD_FILE_H
#include <stddef.h>
#define FILE_MAX (256u << 20)
/* 0, or -errno (-EFBIG over FILE_MAX). *out is malloc()ed, not terminated. */
int file_read(const char *path, char **out, size_t *len);
/* Replace path with text in one rename: a temporary PATH.XXXXXX beside it
 * written 0600 and synced first, the directory synced after. 0 or -errno;
 * on failure path is untouched. */
int file_write_atomic(const char *path, const char *text, size_t len);
#endif
