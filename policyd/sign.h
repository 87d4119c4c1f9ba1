/* sign.h — signed policies: Ed25519 (libsodium) detached signatures, so a
 * daemon configured with trusted admin keys applies only a policy an admin
 * signed, and a compromised host cannot hand its neighbours a weaker one.
 *
 * An admin key file holds the 32-byte Ed25519 seed in base64 (44 chars, mode
 * 0600, like a WireGuard key); its public key is 32 bytes in base64. The
 * signature of POLICY is the file POLICY.sig: one line, the base64 of the
 * 64-byte signature over the domain string SIGN_DOMAIN followed by the
 * policy's exact bytes. A trust file lists public keys, one per line;
 * blank lines and lines starting with # are ignored. */
#ifndef POLICYD_SIGN_H
#define POLICYD_SIGN_H
#include <stddef.h>
#define SIGN_DOMAIN "policyd policy signature v1"
#define SIGN_B64_LEN 89            /* 64 bytes in base64, with its NUL */
/* A new admin key (base64 seed) into out[45]. */
void sign_keygen(char out[45]);
/* The public key of the seed in keyfile (must be mode 0600) into out[45].
 * 0, or -1 with a reason in err. */
int sign_pubkey(const char *keyfile, char out[45], char *err, size_t errlen);
/* Sign len bytes of text with the key in keyfile; out gets the base64
 * signature. 0, or -1 with a reason in err. */
int sign_text(const char *keyfile, const char *text, size_t len, char out[SIGN_B64_LEN],
	      char *err, size_t errlen);
/* Check sig (the .sig file's contents) over text against every key of the
 * trust file. 0 if one of them signed it, else -1 with the reason in err. */
int sign_verify(const char *trustfile, const char *text, size_t len, const char *sig,
		size_t siglen, char *err, size_t errlen);
#endif
