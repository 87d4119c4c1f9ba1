/* sign.h — signed policies: Ed25519 (libsodium) detached signatures, so a
 * daemon configured with trusted admin keys applies only a policy an admin
 * signed, and a compromised host cannot hand its neighbours a weaker one.
 *
 * An admin key file holds the 32-byte Ed25519 seed in base64 (44 chars, mode
 * 0600, like a WireGuard key); its public key is 32 bytes in base64. The
 * signature of POLICY is the file POLICY.sig, one line:
 *
 *     v2 SECONDS BASE64
 *
 * SECONDS is when it was signed (Unix time, decimal), BASE64 the 64-byte
 * signature over the domain string SIGN_DOMAIN (with its NUL), SECONDS as a
 * big-endian u64, then the policy's exact bytes. The signing time is signed
 * too, so a daemon can refuse a policy signed before the one it already
 * accepted: an old, weaker policy replayed by whoever controls the channel
 * policies travel by. A trust file lists public keys, one per line; blank
 * lines and lines starting with # are ignored. */
#ifndef POLICYD_SIGN_H
#define POLICYD_SIGN_H
#include <stddef.h>
#include <stdint.h>
#define SIGN_DOMAIN "policyd policy signature v2"
#define SIGN_LINE_LEN 128          /* "v2 SECONDS BASE64", with its NUL */
/* A new admin key (base64 seed) into out[45]. */
void sign_keygen(char out[45]);
/* The public key of the seed in keyfile (must be mode 0600) into out[45].
 * 0, or -1 with a reason in err. */
int sign_pubkey(const char *keyfile, char out[45], char *err, size_t errlen);
/* Sign len bytes of text with the key in keyfile, as signed at `when`;
 * out gets the .sig line (without newline). 0, or -1 with a reason in err. */
int sign_text(const char *keyfile, const char *text, size_t len, uint64_t when,
	      char out[SIGN_LINE_LEN], char *err, size_t errlen);
/* Check sig (the .sig file's contents) over text against every key of the
 * trust file. 0 if one of them signed it (*when: the signing time), else -1
 * with the reason in err. */
int sign_verify(const char *trustfile, const char *text, size_t len, const char *sig,
		size_t siglen, uint64_t *when, char *err, size_t errlen);
#endif
