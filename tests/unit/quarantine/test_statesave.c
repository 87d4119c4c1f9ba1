/* test_statesave.c — the state file written off the event loop: the latest
 * text is what ends in the file, a failed write is reported, and a writer
 * that outlasts statesave_free's wait finishes and frees itself. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "file.h"
#include "quarantine/statesave.h"

static char dir[] = "/tmp/test_statesave.XXXXXX";

static char *dup_text(const char *s)
{
	char *t = strdup(s);

	assert_non_null(t);
	return t;
}

static void file_is(const char *path, const char *want)
{
	char *got;
	size_t len;

	assert_int_equal(file_read(path, &got, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
	free(got);
}

static void test_latest_wins(void **state)
{
	struct statesave *s;
	char path[256];
	uint64_t done;

	(void)state;
	snprintf(path, sizeof(path), "%s/bans.json", dir);
	assert_int_equal(statesave_new(path, &s), 0);
	for (int i = 0; i < 100; i++) {
		char text[32];

		snprintf(text, sizeof(text), "{\"n\": %d}\n", i);
		statesave_put(s, dup_text(text), strlen(text));
	}
	assert_int_equal(statesave_free(s, 5000), 0);        /* flushed at the end */
	file_is(path, "{\"n\": 99}\n");
	assert_int_equal(statesave_new(path, &s), 0);
	statesave_put(s, dup_text("x\n"), 2);
	for (int i = 0; i < 500 && statesave_error(s, &done) == 0 && !done; i++)
		usleep(10000);
	assert_int_equal(done, 1);
	assert_int_equal(statesave_error(s, NULL), 0);
	file_is(path, "x\n");
	assert_int_equal(statesave_free(s, 5000), 0);
	assert_int_equal(statesave_free(NULL, 0), 0);
	unlink(path);
}

static void test_error_reported(void **state)
{
	struct statesave *s;
	char path[256];
	uint64_t done = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such-dir/bans.json", dir);
	assert_int_equal(statesave_new(path, &s), 0);
	statesave_put(s, dup_text("x\n"), 2);
	assert_int_equal(statesave_free(s, 5000), 0);
	assert_int_equal(statesave_new(path, &s), 0);
	statesave_put(s, dup_text("x\n"), 2);
	for (int i = 0; i < 500 && !done; i++) {
		(void)statesave_error(s, &done);
		usleep(10000);
	}
	assert_int_equal(statesave_error(s, &done), -ENOENT);
	assert_int_equal(done, 1);
	assert_int_equal(statesave_free(s, 5000), 0);
}

/* 32 MB and no time to wait: statesave_free gives up at once, the writer
 * goes on, writes the file whole and frees itself (LeakSanitizer checks). */
static void test_slow_disk(void **state)
{
	const size_t n = 32u << 20;
	struct statesave *s;
	char path[256], *big = malloc(n);
	struct stat st;
	int i;

	(void)state;
	assert_non_null(big);
	memset(big, 'b', n);
	snprintf(path, sizeof(path), "%s/big.json", dir);
	assert_int_equal(statesave_new(path, &s), 0);
	statesave_put(s, big, n);
	assert_int_equal(statesave_free(s, 0), -ETIMEDOUT);
	for (i = 0; i < 1000 && (stat(path, &st) < 0 || (size_t)st.st_size != n); i++)
		usleep(10000);
	assert_true(i < 1000);
	usleep(200000);                                 /* its last steps: free, return */
	unlink(path);
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
		cmocka_unit_test(test_latest_wins),
		cmocka_unit_test(test_error_reported),
		cmocka_unit_test(test_slow_disk),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
