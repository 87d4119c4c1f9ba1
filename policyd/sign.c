/* sign.c — Ed25519 over SIGN_DOMAIN || signing time || policy bytes. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "keyfile.h"
#include "sign.h"

void sign_keygen(char out[45])
{
	unsigned char seed[32];

	randombytes_buf(seed, sizeof(seed));
	sodium_bin2base64(out, 45, seed, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(seed, sizeof(seed));
}

/* The Ed25519 secret key (64 bytes, sodium_malloc) from a 0600 seed file. */
static unsigned char *load_secret(const char *keyfile, unsigned char pk[32], char *err,
				  size_t errlen)
{
	unsigned char seed[32], *sk = NULL;

	if (keyfile_read(keyfile, "admin key", "policyctl sign-keygen", seed, err, errlen) == 0 &&
	    (sk = sodium_malloc(64)))
		crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
	return sk;
}

int sign_pubkey(const char *keyfile, char out[45], char *err, size_t errlen)
{
	unsigned char pk[32], *sk = load_secret(keyfile, pk, err, errlen);

	if (!sk)
		return -1;
	sodium_free(sk);
	sodium_bin2base64(out, 45, pk, 32, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

/* SIGN_DOMAIN || BE64(when) || text, the signed message. */
static unsigned char *message(const char *text, size_t len, uint64_t when, size_t *mlen)
{
	size_t d = sizeof(SIGN_DOMAIN); /* with its NUL: the domain is delimited */
	unsigned char *m = malloc(d + 8 + len + 1);

	if (m) {
		memcpy(m, SIGN_DOMAIN, d);
		for (int i = 0; i < 8; i++)
			m[d + (size_t)i] = (unsigned char)(when >> (56 - 8 * i));
		memcpy(m + d + 8, text, len);
		*mlen = d + 8 + len;
	}
	return m;
}

/* "v2 SECONDS BASE64" (a trailing newline is fine) → when, sig. */
static int sig_parse(const char *txt, size_t len, uint64_t *when, unsigned char sig[64])
{
	char line[SIGN_LINE_LEN], *sp, *end;
	size_t slen = 0;

	while (len && (txt[len - 1] == '\n' || txt[len - 1] == '\r'))
		len--;
	if (len < 4 || len >= sizeof(line) || memchr(txt, '\0', len) || memcmp(txt, "v2 ", 3))
		return -1;
	memcpy(line, txt, len);
	line[len] = '\0';
	if (line[3] < '0' || line[3] > '9' || !(sp = strchr(line + 3, ' ')))
		return -1;
	errno = 0;
	*when = strtoull(line + 3, &end, 10);
	if (errno || end != sp)
		return -1;
	return sodium_base642bin(sig, 64, sp + 1, strlen(sp + 1), NULL, &slen, NULL,
				 sodium_base64_VARIANT_ORIGINAL) != 0 || slen != 64 ? -1 : 0;
}

int sign_text(const char *keyfile, const char *text, size_t len, uint64_t when,
	      char out[SIGN_LINE_LEN], char *err, size_t errlen)
{
	unsigned char pk[32], sig[64], *sk = load_secret(keyfile, pk, err, errlen), *m;
	char b64[89];
	size_t mlen;

	if (!sk)
		return -1;
	if (!(m = message(text, len, when, &mlen))) {
		sodium_free(sk);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	crypto_sign_detached(sig, NULL, m, mlen, sk);
	sodium_free(sk);
	free(m);
	sodium_bin2base64(b64, sizeof(b64), sig, 64, sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, SIGN_LINE_LEN, "v2 %llu %s", (unsigned long long)when, b64);
	return 0;
}

int sign_verify(const char *trustfile, const char *text, size_t len, const char *sigtxt,
		size_t siglen, uint64_t *when, char *err, size_t errlen)
{
	unsigned char sig[64], pk[32], *m = NULL;
	char *trust = NULL, *line, *save = NULL, *t;
	size_t mlen, tlen, keys = 0;
	int r = -1, fr;

	if (sig_parse(sigtxt, siglen, when, sig) < 0) {
		snprintf(err, errlen, "the signature file is not one line \"v2 SECONDS BASE64\" "
			 "(policyctl sign)");
		return -1;
	}
	if ((fr = file_read(trustfile, &trust, &tlen)) < 0) {
		snprintf(err, errlen, "%s: %s", trustfile, strerror(-fr));
		return -1;
	}
	if (!(t = realloc(trust, tlen + 1)) || !(m = message(text, len, *when, &mlen))) {
		free(t ? t : trust);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	trust = t;
	trust[tlen] = '\0';
	for (line = strtok_r(trust, "\n", &save); line && r; line = strtok_r(NULL, "\n", &save)) {
		if (!line[strspn(line, " \t\r")] || line[0] == '#')
			continue;
		if (key_from_base64(line, strlen(line), pk) < 0) {
			snprintf(err, errlen, "%s: \"%.50s\" is not a base64 Ed25519 public key",
				 trustfile, line);
			goto out;
		}
		keys++;
		if (crypto_sign_verify_detached(sig, m, mlen, pk) == 0)
			r = 0;
	}
	if (r && keys)
		snprintf(err, errlen, "the signature is not from any of the %zu trusted keys in %s",
			 keys, trustfile);
	else if (r)
		snprintf(err, errlen, "%s lists no trusted key", trustfile);
out:
	free(trust);
	free(m);
	return r;
}
