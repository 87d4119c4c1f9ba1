/* keyfile.h — 32-byte keys as base64 text (WireGuard keys, admin signing
 * seeds, public keys) and the files that hold secret ones. */
#ifndef POLICYD_KEYFILE_H
#define POLICYD_KEYFILE_H
#include <stddef.h>
#include <stdint.h>
/* Decode n bytes of base64 (white space around it ignored) into exactly 32
 * bytes. 0, or -1. */
int key_from_base64(const char *s, size_t n, uint8_t out[32]);
/* The secret key in path: a regular file (not a symlink) of mode 0600
 * holding base64. what names the key in errors ("WireGuard private key"),
 * made_by the command that writes one. 0, or -1 with the reason in err.
 * The read buffer is wiped; out should be locked memory. */
int keyfile_read(const char *path, const char *what, const char *made_by, uint8_t out[32],
		 char *err, size_t errlen);
#endif
