/* vpn_test.h — helpers shared by the vpn/ unit tests (header-only: every
 * tests/unit/vpn/test_*.c is its own program). Include after <cmocka.h>.
 *
 *  - hex encode / compare for readable failure messages;
 *  - a seeded PRNG: the seed comes from VPN_TEST_SEED or the clock, and the
 *    randomized checks print it when they fail, so a failure can be replayed;
 *  - a python3 oracle: write one case per line to a temp file, run a python3
 *    script with it on stdin, read its answers back line by line. python3 is
 *    required: its absence is a test failure, not a skip. */
#ifndef VPN_TEST_H
#define VPN_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef PYTHON3
#define PYTHON3 "/usr/bin/python3"
#endif
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static inline void hex_encode(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* assert that the n bytes at b read as the lowercase hex string want */
#define assert_hex_equal(b, n, want)                                       \
	do {                                                               \
		char got_[2 * 256 + 1];                                    \
		assert_true((n) <= 256);                                   \
		hex_encode(got_, (b), (n));                                \
		assert_string_equal(got_, (want));                         \
	} while (0)

/* ---- seeded PRNG (splitmix64) ---------------------------------------------- */

static inline uint64_t test_seed(void)
{
	static uint64_t seed;
	const char *env = getenv("VPN_TEST_SEED");

	if (!seed)
		seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	return seed ? seed : 1;
}

static inline uint64_t prng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline size_t prng_below(uint64_t *s, size_t n)
{
	return (size_t)(prng_next(s) % n);
}

static inline void prng_fill(uint64_t *s, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)prng_next(s);
}

/* ---- python3 oracle ------------------------------------------------------------ */

struct oracle {
	char path[64];
	FILE *in;  /* write the cases here, one per line */
	FILE *out; /* then read python's answers here */
};

static inline void oracle_begin(struct oracle *o)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int fd;

	if (access(PYTHON3, X_OK) != 0)
		fail_msg("%s is missing: the python3 oracle is required (apt-get install python3)",
			 PYTHON3);
	snprintf(o->path, sizeof(o->path), "%s/vpn-oracle.XXXXXX", dir);
	fd = mkstemp(o->path);
	assert_true(fd >= 0);
	o->in = fdopen(fd, "w");
	assert_non_null(o->in);
	o->out = NULL;
}

/* Run script (python3 source, passed through the environment to avoid shell
 * quoting) with the cases on stdin. */
static inline void oracle_run(struct oracle *o, const char *script)
{
	char cmd[160];

	assert_int_equal(fclose(o->in), 0);
	o->in = NULL;
	assert_int_equal(setenv("VPN_ORACLE_PY", script, 1), 0);
	snprintf(cmd, sizeof(cmd), PYTHON3 " -c \"$VPN_ORACLE_PY\" < '%s'", o->path);
	o->out = popen(cmd, "r");
	assert_non_null(o->out);
}

/* The next answer line (newline stripped) or fail. */
static inline void oracle_line(struct oracle *o, char *buf, size_t size)
{
	if (!fgets(buf, (int)size, o->out))
		fail_msg("python3 oracle gave fewer answers than cases (seed %llu)",
			 (unsigned long long)test_seed());
	buf[strcspn(buf, "\n")] = '\0';
	if (o->path[0]) { /* python has its stdin open: the name can go now */
		unlink(o->path);
		o->path[0] = '\0';
	}
}

static inline void oracle_end(struct oracle *o)
{
	int status = pclose(o->out);

	if (o->path[0])
		unlink(o->path);
	if (status != 0)
		fail_msg("python3 oracle exited with status %d", status);
}

#endif
