/* incr.c — time of one live quarantine change on a table whose ACL set is big.
 *
 * Run inside a scratch network namespace (see bench/README.md):
 *   incr POLICY NODE N
 * applies the node's table, then adds N quarantine elements one batch each
 * (rules_quarantine_add, what the daemon does on a ban) and deletes them,
 * timing every call with CLOCK_MONOTONIC; prints min/median/p99/max in µs.
 * The same run also times `nft add element` for the same kind of change, so
 * the result is a ratio against the peer, not an absolute number alone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "compile.h"
#include "policy.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	printf("%-34s n=%zu min %.1f  median %.1f  p99 %.1f  max %.1f  (µs)\n", what, n, v[0],
	       v[n / 2], v[(n * 99) / 100], v[n - 1]);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)sz + 1)) && fread(buf, 1, (size_t)sz, f) == (size_t)sz)
		*len = (size_t)sz;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static double time_nft(const char *cmd)
{
	double t0 = now_us();
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execl("/usr/sbin/nft", "nft", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "nft %s failed\n", cmd);
		exit(1);
	}
	return now_us() - t0;
}

int main(int argc, char **argv)
{
	struct policy_opts po = { 0 };
	struct apply_report rep;
	struct rules_nl *nl;
	struct diags d;
	struct policy *p;
	struct ir *ir;
	size_t len = 0, n, nft_n;
	double *add, *del, *nft;
	char *text;
	long node;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: incr POLICY NODE N\n");
		return 2;
	}
	n = strtoul(argv[3], NULL, 10);
	nft_n = n < 50 ? n : 50;
	text = slurp(argv[1], &len);
	diags_init(&d);
	p = text ? policy_load(text, len, &po, &d) : NULL;
	if (!p || (node = policy_node_find(p, argv[2])) < 0) {
		fprintf(stderr, "cannot load %s / node %s\n", argv[1], argv[2]);
		return 2;
	}
	ir = compile_node(p, (size_t)node, NULL);
	if ((r = rules_nl_open(&nl)) < 0 || (r = rules_apply(nl, ir, true, &rep)) < 0) {
		fprintf(stderr, "apply: %s\n", strerror(-r));
		return 1;
	}
	printf("table applied: %zu set elements\n", ir_elem_count(ir));
	add = calloc(n, sizeof(*add));
	del = calloc(n, sizeof(*del));
	nft = calloc(nft_n, sizeof(*nft));
	for (size_t i = 0; i < n; i++) {
		struct addr a = { .family = AF_INET, .b = { 198, 18, (uint8_t)(i >> 8), (uint8_t)i } };
		double t0 = now_us();

		if ((r = rules_quarantine_add(nl, &a, 3600 * 1000)) < 0) {
			fprintf(stderr, "quarantine add: %s\n", strerror(-r));
			return 1;
		}
		add[i] = now_us() - t0;
	}
	for (size_t i = 0; i < n; i++) {
		struct addr a = { .family = AF_INET, .b = { 198, 18, (uint8_t)(i >> 8), (uint8_t)i } };
		double t0 = now_us();

		if ((r = rules_quarantine_del(nl, &a)) < 0) {
			fprintf(stderr, "quarantine del: %s\n", strerror(-r));
			return 1;
		}
		del[i] = now_us() - t0;
	}
	for (size_t i = 0; i < nft_n; i++) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "add element inet policyd quarantine4 { 198.19.%zu.%zu timeout 1h }",
			 i >> 8, i & 255);
		nft[i] = time_nft(cmd);
	}
	report("policyd quarantine add (in-process)", add, n);
	report("policyd quarantine delete", del, n);
	report("nft add element (process)", nft, nft_n);
	printf("ratio nft/policyd (median): %.1f\n", nft[nft_n / 2] / add[n / 2]);
	apply_report_free(&rep);
	rules_nl_close(nl);
	ir_free(ir);
	policy_free(p);
	diags_free(&d);
	free(text);
	free(add);
	free(del);
	free(nft);
	return 0;
}
