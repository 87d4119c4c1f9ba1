/* reload.c — a reload where one ACL element changed, on a big table: as a
 * diff (rules_update) against a full replacement (rules_apply, what every
 * reload did before), alternating, in the same run.
 *
 * Run inside a scratch network namespace (bench/reload.sh makes one):
 *   reload POLICY_A POLICY_B NODE ROUNDS
 * A and B differ in one ACL element. Each step switches the table between
 * A and B, as one of: a diff (rules_update), a replacement through
 * rules_update (the path of a new shape or a tampered table: the kernel
 * builds an event per element for the watch, which reads them), and a plain
 * rules_apply with no watch open (a reload as before). Every round does
 * each once, in an order that rotates. Timed with
 * CLOCK_MONOTONIC around the call only; compiling is the same for all and
 * timed once. Fails unless every diff took the diff path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "compile.h"
#include "policy.h"
#include "watch.h"

struct side {
	struct policy *p;
	struct ir *ir;
	int64_t at;
	char *text;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
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

static int load(const char *path, const char *node, struct side *s)
{
	struct policy_opts po = { 0 };
	struct compile_opts co = { 0 };
	struct diags d;
	size_t len = 0;
	long k;
	double t0;

	if (!(s->text = slurp(path, &len)))
		return -1;
	diags_init(&d);
	s->p = policy_load(s->text, len, &po, &d);
	diags_free(&d);
	if (!s->p || (k = policy_node_find(s->p, node)) < 0)
		return -1;
	s->at = co.now = time(NULL);
	t0 = now_ms();
	s->ir = compile_node(s->p, (size_t)k, &co);
	printf("%s: %zu set elements, compiled in %.1f ms\n", path, ir_elem_count(s->ir),
	       now_ms() - t0);
	return 0;
}

enum kind { DIFF, REPLACE, BARE, NKIND };
static const char *const kind_name[NKIND] = { "diff (rules_update)",
					      "replace (rules_update, watched)",
					      "replace (rules_apply, no watch)" };

struct run {
	struct rules_nl *nl;
	struct rules_watch *w;
	struct side *cur, *other;
	size_t msgs[NKIND], bytes[NKIND];
};

static void watch_open(struct run *r)
{
	int e = rules_watch_new(r->nl, 0, &r->w);

	if (e < 0) {
		fprintf(stderr, "watch: %s\n", strerror(-e));
		exit(1);
	}
}

/* One step: the table goes from cur to other. BARE is a reload as before
 * the watch existed: with nobody subscribed to the ruleset events, the
 * kernel does not build them either. */
static double step(struct run *r, enum kind k)
{
	struct apply_report rep;
	double t0, t;
	int e;

	if (k == BARE) {
		rules_watch_free(r->w);
		r->w = NULL;
	}
	t0 = now_ms();
	if (k == DIFF)
		e = rules_update(r->nl, r->w, r->cur->ir, r->cur->at, r->other->ir, r->other->at, &rep);
	else if (k == REPLACE) /* no old IR: the path of a new shape or a tampered table */
		e = rules_update(r->nl, r->w, NULL, 0, r->other->ir, r->other->at, &rep);
	else
		e = rules_apply(r->nl, r->other->ir, true, &rep);
	t = now_ms() - t0;
	if (e < 0 || (k == DIFF && rep.path != APPLY_DIFF)) {
		fprintf(stderr, "%s: %s, path %s: %s\n", kind_name[k], strerror(-e),
			apply_path_name(rep.path), rep.why);
		exit(1);
	}
	r->msgs[k] = rep.messages;
	r->bytes[k] = rep.bytes;
	apply_report_free(&rep);
	if (k == BARE) { /* untimed: a new watch, vouching after a replacement */
		watch_open(r);
		if (rules_update(r->nl, r->w, NULL, 0, r->other->ir, r->other->at, &rep) < 0)
			exit(1);
		apply_report_free(&rep);
	}
	{
		struct side *s = r->cur;

		r->cur = r->other;
		r->other = s;
	}
	return t;
}

int main(int argc, char **argv)
{
	struct side a = { 0 }, b = { 0 };
	struct run r = { .cur = &a, .other = &b };
	struct rules_watch_stats st;
	struct apply_report rep;
	double *t[NKIND], t0, md[NKIND];
	unsigned long rounds;
	int e;

	if (argc != 5) {
		fprintf(stderr, "usage: reload POLICY_A POLICY_B NODE ROUNDS\n");
		return 2;
	}
	rounds = strtoul(argv[4], NULL, 10);
	if (!rounds || load(argv[1], argv[3], &a) < 0 || load(argv[2], argv[3], &b) < 0) {
		fprintf(stderr, "cannot load %s / %s, node %s\n", argv[1], argv[2], argv[3]);
		return 2;
	}
	if ((e = rules_nl_open(&r.nl)) < 0) {
		fprintf(stderr, "netlink: %s\n", strerror(-e));
		return 1;
	}
	watch_open(&r);
	t0 = now_ms();
	if ((e = rules_update(r.nl, r.w, NULL, 0, a.ir, a.at, &rep)) < 0) {
		fprintf(stderr, "first apply: %s\n", strerror(-e));
		return 1;
	}
	rules_watch_stats(r.w, &st);
	printf("first apply (replace, watched): %.1f ms, %zu messages, %zu bytes; the watch read "
	       "%llu events (%llu ours), ENOBUFS %llu\n", now_ms() - t0, rep.messages, rep.bytes,
	       (unsigned long long)st.events, (unsigned long long)st.ours,
	       (unsigned long long)st.lost);
	apply_report_free(&rep);
	for (int k = 0; k < NKIND; k++)
		t[k] = calloc(rounds, sizeof(double));
	for (unsigned long i = 0; i < rounds; i++) /* the order rotates every round */
		for (int j = 0; j < NKIND; j++) {
			enum kind k = (enum kind)((i + (unsigned long)j) % NKIND);

			t[k][i] = step(&r, k);
		}
	rules_watch_stats(r.w, &st);
	for (int k = 0; k < NKIND; k++) {
		printf("%-34s %5zu messages %9zu bytes  median %8.2f ms  sorted:", kind_name[k],
		       r.msgs[k], r.bytes[k], md[k] = median(t[k], rounds));
		for (unsigned long i = 0; i < rounds; i++)
			printf(" %.2f", t[k][i]);
		printf("\n");
		free(t[k]);
	}
	printf("ratio (medians): rules_apply/diff %.0f, watched replace/diff %.0f\n",
	       md[BARE] / md[DIFF], md[REPLACE] / md[DIFF]);
	printf("watch: %llu events read, ENOBUFS %llu, tampered %s\n",
	       (unsigned long long)st.events, (unsigned long long)st.lost,
	       rules_watch_tampered(r.w) ? "yes" : "no");
	rules_watch_free(r.w);
	rules_nl_close(r.nl);
	ir_free(a.ir);
	ir_free(b.ir);
	policy_free(a.p);
	policy_free(b.p);
	free(a.text);
	free(b.text);
	return 0;
}
