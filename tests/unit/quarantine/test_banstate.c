/* test_banstate.c — the ban list and its state file: round trip through a
 * real file (0600, atomic), expired bans dropped on load while the counts
 * stay, corrupt files refused with a reason (never half-loaded), the list
 * operations, and a file at the size limits loading in O(n log n) time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "quarantine/banstate.h"

#define NOW 1764000000

static char dir[] = "/tmp/test_banstate.XXXXXX";

static struct ban mkban(const char *name, const char *a1, const char *a2, int64_t start,
			int64_t expiry, uint32_t repeat)
{
	struct ban b;

	memset(&b, 0, sizeof(b));
	snprintf(b.name, sizeof(b.name), "%s", name);
	assert_int_equal(prefix_parse(a1, &b.addrs[b.naddrs++]), 0);
	if (a2)
		assert_int_equal(prefix_parse(a2, &b.addrs[b.naddrs++]), 0);
	snprintf(b.reason, sizeof(b.reason), "12 distinct denied ports in 60s");
	snprintf(b.evidence, sizeof(b.evidence), "ports tcp:21,tcp:22,tcp:23 \"quoted\" \\ ünïcode packets 40 window 60s");
	b.start = start;
	b.expiry = expiry;
	b.repeat = repeat;
	return b;
}

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_round_trip(void **state)
{
	struct banstate *b = banstate_new(), *l = NULL;
	struct ban x = mkban("bob", "100.64.0.3", "fd7a:115c:a1e0::3", NOW, NOW + 3600, 0);
	struct ban y = mkban("carol", "100.64.0.4", "100.64.1.0/30", NOW - 10, NOW + 7200, 1);
	char path[256], why[200];
	struct stat st;

	(void)state;
	assert_int_equal(banstate_add(b, &x), 0);
	assert_int_equal(banstate_add(b, &y), 0);
	assert_int_equal(banstate_count_set(b, "dave", 5), 0);
	path_of(path, sizeof(path), "bans.json");
	assert_int_equal(banstate_save(b, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* save again over it: still one file, nothing left behind */
	assert_int_equal(banstate_save(b, path), 0);

	assert_int_equal(banstate_load(path, NOW, &l, why, sizeof(why)), 0);
	assert_int_equal(l->n, 2);
	assert_memory_equal(&l->v[0], &x, sizeof(x));
	assert_memory_equal(&l->v[1], &y, sizeof(y));
	assert_int_equal(banstate_count(l, "bob"), 1);
	assert_int_equal(banstate_count(l, "carol"), 2);
	assert_int_equal(banstate_count(l, "dave"), 5);
	assert_int_equal(banstate_count(l, "erin"), 0);
	banstate_free(l);
	banstate_free(b);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);             /* no temporary file was left */
	assert_non_null(mkdtemp(strcpy(dir, "/tmp/test_banstate.XXXXXX")));
}

static void test_expired_dropped_on_load(void **state)
{
	struct banstate *b = banstate_new(), *l = NULL;
	struct ban x = mkban("bob", "100.64.0.3", NULL, NOW - 7200, NOW - 3600, 2);
	struct ban y = mkban("carol", "100.64.0.4", NULL, NOW - 10, NOW, 0);       /* ends now */
	struct ban z = mkban("dave", "100.64.0.5", NULL, NOW - 10, NOW + 1, 0);
	char path[256], why[200];

	(void)state;
	assert_int_equal(banstate_add(b, &x), 0);
	assert_int_equal(banstate_add(b, &y), 0);
	assert_int_equal(banstate_add(b, &z), 0);
	path_of(path, sizeof(path), "expired.json");
	assert_int_equal(banstate_save(b, path), 0);
	assert_int_equal(banstate_load(path, NOW, &l, why, sizeof(why)), 0);
	assert_int_equal(l->n, 1);
	assert_string_equal(l->v[0].name, "dave");
	assert_int_equal(banstate_count(l, "bob"), 3);         /* the backoff is remembered */
	assert_int_equal(banstate_count(l, "carol"), 1);
	banstate_free(l);
	assert_int_equal(banstate_expire(b, NOW), 2);
	assert_int_equal(b->n, 1);
	banstate_free(b);
	unlink(path);
}

static void test_corrupt_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"null",
		"[]",
		"{",
		"{\"version\":1,\"bans\":[],\"counts\":{}} x",
		"{\"version\":2,\"bans\":[],\"counts\":{}}",
		"{\"version\":1,\"bans\":[]}",
		"{\"version\":1,\"bans\":{},\"counts\":{}}",
		"{\"version\":1,\"bans\":[],\"counts\":{},\"extra\":1}",
		"{\"version\":1,\"version\":1,\"bans\":[],\"counts\":{}}",
		"{\"version\":1,\"bans\":[],\"counts\":{\"Bob\":1}}",
		"{\"version\":1,\"bans\":[],\"counts\":{\"bob\":-1}}",
		"{\"version\":1,\"bans\":[],\"counts\":{\"bob\":1.5}}",
		"{\"version\":1,\"bans\":[],\"counts\":{\"bob\":4294967296}}",
		"{\"version\":1,\"bans\":[],\"counts\":{\"bob\":1,\"bob\":2}}",
		"{\"version\":1,\"bans\":[1],\"counts\":{}}",
#define BAN(fields) "{\"version\":1,\"counts\":{},\"bans\":[{" fields "}]}"
#define OK_ADDRS "\"addrs\":[\"100.64.0.3\"],"
#define OK_TEXT "\"reason\":\"r\",\"evidence\":\"e\","
#define OK_TIME "\"start\":1764000000,\"expiry\":1764003600,\"repeat\":0"
		BAN("\"node\":\"bob\"," OK_ADDRS OK_TEXT "\"start\":1764000000,\"expiry\":1764003600"),
		BAN("\"node\":\"bob\"," OK_ADDRS OK_TEXT OK_TIME ",\"x\":1"),
		BAN("\"node\":\"bob\",\"node\":\"bob\"," OK_ADDRS OK_TEXT OK_TIME),
		BAN("\"node\":\"-bob\"," OK_ADDRS OK_TEXT OK_TIME),
		BAN("\"node\":\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\"," OK_ADDRS OK_TEXT OK_TIME),
		BAN("\"node\":7," OK_ADDRS OK_TEXT OK_TIME),
		BAN("\"node\":\"bob\",\"addrs\":[]," OK_TEXT OK_TIME),
		BAN("\"node\":\"bob\",\"addrs\":\"100.64.0.3\"," OK_TEXT OK_TIME),
		BAN("\"node\":\"bob\",\"addrs\":[\"100.64.0.300\"]," OK_TEXT OK_TIME),
		BAN("\"node\":\"bob\",\"addrs\":[\"100.64.0.3/24\"]," OK_TEXT OK_TIME),
		BAN("\"node\":\"bob\",\"addrs\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]," OK_TEXT OK_TIME),
		BAN("\"node\":\"bob\"," OK_ADDRS "\"reason\":\"line\\nbreak\",\"evidence\":\"e\"," OK_TIME),
		BAN("\"node\":\"bob\"," OK_ADDRS "\"reason\":\"r\",\"evidence\":\"\\u001b[31m\"," OK_TIME),
		BAN("\"node\":\"bob\"," OK_ADDRS "\"reason\":null,\"evidence\":\"e\"," OK_TIME),
		BAN("\"node\":\"bob\"," OK_ADDRS OK_TEXT "\"start\":1764000000,\"expiry\":1764000000,\"repeat\":0"),
		BAN("\"node\":\"bob\"," OK_ADDRS OK_TEXT "\"start\":-1,\"expiry\":1764000000,\"repeat\":0"),
		BAN("\"node\":\"bob\"," OK_ADDRS OK_TEXT "\"start\":\"1764000000\",\"expiry\":1764003600,\"repeat\":0"),
		BAN("\"node\":\"bob\"," OK_ADDRS OK_TEXT "\"start\":1e300,\"expiry\":1e301,\"repeat\":0"),
		BAN("\"node\":\"bob\"," OK_ADDRS OK_TEXT "\"start\":1764000000,\"expiry\":1764003600,\"repeat\":-3"),
		"{\"version\":1,\"counts\":{},\"bans\":[{\"node\":\"bob\"," OK_ADDRS OK_TEXT OK_TIME "},"
		"{\"node\":\"bob\"," OK_ADDRS OK_TEXT OK_TIME "}]}",
	};
	char why[200], path[256];
	struct banstate *l = NULL;
	const char *good = BAN("\"node\":\"bob\"," OK_ADDRS OK_TEXT OK_TIME);

	(void)state;
	assert_int_equal(banstate_parse(good, strlen(good), NOW, &l, why, sizeof(why)), 0);
	assert_int_equal(l->n, 1);
	banstate_free(l);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		l = NULL;
		if (banstate_parse(bad[i], strlen(bad[i]), NOW, &l, why, sizeof(why)) != -EINVAL)
			fail_msg("accepted corrupt state %zu: %s", i, bad[i]);
		assert_null(l);
		if (!why[0])
			fail_msg("no reason for corrupt state %zu", i);
	}
	/* every cut of a good file is refused */
	for (size_t cut = 0; cut < strlen(good); cut++)
		assert_int_equal(banstate_parse(good, cut, NOW, &l, why, sizeof(why)), -EINVAL);
	/* a NUL inside */
	assert_int_equal(banstate_parse("{\"version\":1}\0", 14, NOW, &l, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "contains a NUL byte");
	/* the reasons point at the place */
	assert_int_equal(banstate_parse(bad[30], strlen(bad[30]), NOW, &l, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "/bans/0: expiry 1764000000 is not after start 1764000000");
	/* through a file; and no file at all */
	path_of(path, sizeof(path), "corrupt.json");
	write_file(path, "{\"version\":1,\"bans\":[{\"node\":\"bob\"");
	assert_int_equal(banstate_load(path, NOW, &l, why, sizeof(why)), -EINVAL);
	assert_true(strstr(why, "not JSON") != NULL);
	unlink(path);
	assert_int_equal(banstate_load(path, NOW, &l, why, sizeof(why)), -ENOENT);
	assert_int_equal(banstate_load(dir, NOW, &l, why, sizeof(why)), -EINVAL);   /* a directory */
}

static void test_list_operations(void **state)
{
	struct banstate *b = banstate_new();
	struct ban x = mkban("bob", "100.64.0.3", NULL, NOW, NOW + 3600, 0), bad;

	(void)state;
	assert_int_equal(banstate_add(b, &x), 0);
	x.expiry = NOW + 7200;
	x.repeat = 4;
	assert_int_equal(banstate_add(b, &x), 0);             /* replaces */
	assert_int_equal(b->n, 1);
	assert_int_equal(banstate_find(b, "bob")->expiry, NOW + 7200);
	assert_int_equal(banstate_count(b, "bob"), 5);
	x.repeat = 0;
	assert_int_equal(banstate_add(b, &x), 0);             /* a count never goes down here */
	assert_int_equal(banstate_count(b, "bob"), 5);
	assert_int_equal(banstate_del(b, "bob"), 0);
	assert_int_equal(banstate_del(b, "bob"), -ENOENT);
	assert_null(banstate_find(b, "bob"));
	assert_int_equal(banstate_count(b, "bob"), 5);        /* the count stays */

	bad = x;
	bad.expiry = bad.start;
	assert_int_equal(banstate_add(b, &bad), -EINVAL);
	bad = x;
	strcpy(bad.name, "Bob");
	assert_int_equal(banstate_add(b, &bad), -EINVAL);
	bad = x;
	bad.naddrs = 0;
	assert_int_equal(banstate_add(b, &bad), -EINVAL);
	bad = x;
	strcpy(bad.reason, "a\tb");
	assert_int_equal(banstate_add(b, &bad), -EINVAL);
	bad = x;
	memset(bad.evidence, 'e', sizeof(bad.evidence));      /* not terminated */
	assert_int_equal(banstate_add(b, &bad), -EINVAL);
	assert_int_equal(banstate_count_set(b, "no such!", 1), -EINVAL);
	assert_int_equal(b->n, 0);
	banstate_free(b);
	banstate_free(NULL);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* BANSTATE_MAX counts and as many bans as fit in BANSTATE_FILE_MAX: a load
 * with a linear search per entry (5e9 name compares) takes minutes; sorted,
 * well under a second. Then a duplicate anywhere is still found. */
static void test_large_file(void **state)
{
	const size_t nbans = 55000;
	size_t cap = BANSTATE_FILE_MAX, off = 0;
	char *text = malloc(cap), why[200];
	struct banstate *l = NULL;
	double t0, dt;

	(void)state;
	assert_non_null(text);
	off += (size_t)snprintf(text + off, cap - off, "{\"version\":1,\"counts\":{");
	for (size_t i = 0; i < BANSTATE_MAX; i++)      /* descending: no sorted input */
		off += (size_t)snprintf(text + off, cap - off, "%s\"n%zu\":%zu", i ? "," : "",
					(size_t)BANSTATE_MAX - i, i % 7);
	off += (size_t)snprintf(text + off, cap - off, "},\"bans\":[");
	for (size_t i = 0; i < nbans; i++)
		off += (size_t)snprintf(text + off, cap - off,
					"%s{\"node\":\"n%zu\",\"addrs\":[\"10.%zu.%zu.%zu\"],"
					"\"reason\":\"r\",\"evidence\":\"e\",\"start\":%d,"
					"\"expiry\":%d,\"repeat\":2}", i ? "," : "", i + 1, i >> 16,
					(i >> 8) & 255, i & 255, NOW, NOW + 60);
	off += (size_t)snprintf(text + off, cap - off, "]}");
	assert_true(off < cap - 1);
	t0 = mono();
	assert_int_equal(banstate_parse(text, off, NOW, &l, why, sizeof(why)), 0);
	dt = mono() - t0;
	print_message("# %zu counts and %zu bans (%zu bytes) loaded in %.3f s\n",
		      (size_t)BANSTATE_MAX, nbans, off, dt);
	assert_true(dt < 10.0);
	assert_int_equal(l->n, nbans);
	assert_int_equal(l->ncounts, BANSTATE_MAX);
	assert_int_equal(banstate_count(l, "n5"), 3);   /* 0, raised by its ban (repeat 2) */
	assert_int_equal(banstate_count(l, "n99999"), 1);
	banstate_free(l);
	free(text);
}

/* Fewer counts, so the bans' nodes fit; one duplicate at the very end. */
static void test_large_duplicates(void **state)
{
	const size_t nbans = 50000;
	size_t cap = BANSTATE_FILE_MAX, off = 0;
	char *text = malloc(cap), why[200], want[100];
	struct banstate *l = NULL;

	(void)state;
	assert_non_null(text);
	off += (size_t)snprintf(text + off, cap - off, "{\"version\":1,\"counts\":{\"b7\":9},\"bans\":[");
	for (size_t i = 0; i <= nbans; i++)
		off += (size_t)snprintf(text + off, cap - off,
					"%s{\"node\":\"b%zu\",\"addrs\":[\"10.0.0.1\"],"
					"\"reason\":\"r\",\"evidence\":\"e\",\"start\":%d,"
					"\"expiry\":%d,\"repeat\":%d}", i ? "," : "",
					i < nbans ? nbans - 1 - i : 17, NOW, NOW + 60, i == 3 ? 40 : 0);
	off += (size_t)snprintf(text + off, cap - off, "]}");
	assert_true(off < cap - 1);
	assert_int_equal(banstate_parse(text, off, NOW, &l, why, sizeof(why)), -EINVAL);
	snprintf(want, sizeof(want), "/bans/%zu: a second ban of \"b17\"", nbans);
	assert_string_equal(why, want);
	/* without the duplicate: every node's count covers its ban, sorted */
	off = (size_t)(strrchr(text, '{') - text) - 1;
	off += (size_t)snprintf(text + off, cap - off, "]}");
	assert_int_equal(banstate_parse(text, off, NOW, &l, why, sizeof(why)), 0);
	assert_int_equal(l->n, nbans);
	assert_int_equal(l->ncounts, nbans);
	assert_int_equal(banstate_count(l, "b7"), 9);
	assert_int_equal(banstate_count(l, "b0"), 1);
	assert_int_equal(banstate_count(l, "b49996"), 41);   /* the 4th ban: repeat 40 */
	for (size_t i = 1; i < l->ncounts; i++)
		assert_true(strcmp(l->counts[i - 1].name, l->counts[i].name) < 0);
	banstate_free(l);
	free(text);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_expired_dropped_on_load),
		cmocka_unit_test(test_corrupt_refused),
		cmocka_unit_test(test_list_operations),
		cmocka_unit_test(test_large_file),
		cmocka_unit_test(test_large_duplicates),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
