/* test_update.c — reloads as differences (rules_update) and the watch that
 * vouches for the table (rules_watch), against the real kernel in a private
 * network namespace (unshare(CLONE_NEWNET), as test_kernel.c: unnamed, gone
 * with the process). Needs root, nft and ip.
 *
 * The yardstick of a diff is a full replacement: after rules_update(A → B)
 * took the diff path, `nft --debug=netlink list table inet policyd` (raw
 * elements with their flags, rule bytecode, then the listing with comments)
 * must be the same as after rules_apply(B), up to the order of elements in
 * a hash set, rule handles and the "expires" countdown. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply.h"
#include "compile.h"
#include "watch.h"

#define NODES                                                                                \
	"\"nodes\":{\"s\":{\"key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\","         \
	"\"ips\":[\"100.64.0.1\",\"fd7a:115c:a1e0::1\"]},"                                    \
	"\"c\":{\"key\":\"HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=\","                   \
	"\"ips\":[\"100.64.0.2\",\"fd7a:115c:a1e0::2\"]},"                                    \
	"\"d\":{\"key\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=\","                   \
	"\"ips\":[\"100.64.0.3\",\"fd7a:115c:a1e0::3\"]}}"

/* every kind of policy set: hash (acl4/acl6), pipapo (acl4r), rbtree
 * (aclping4/6, aclall4, puball4) */
#define ACLS_A                                                                               \
	"{\"id\":\"ssh\",\"src\":[\"c\"],\"dst\":[\"s\"],\"ports\":[\"tcp:22\"]},"            \
	"{\"id\":\"db\",\"src\":[\"100.64.0.128/25\"],\"dst\":[\"s\"],\"ports\":[\"tcp:5432\"]}," \
	"{\"id\":\"ping\",\"src\":[\"c\"],\"dst\":[\"s\"],\"ports\":[\"icmp\"]},"             \
	"{\"id\":\"all\",\"src\":[\"100.64.0.64/27\"],\"dst\":[\"s\"],\"ports\":[\"*\"]}"
/* each of those sets one element out, one in; a new rule adds to acl4 */
#define ACLS_B                                                                               \
	"{\"id\":\"ssh\",\"src\":[\"d\"],\"dst\":[\"s\"],\"ports\":[\"tcp:22\"]},"            \
	"{\"id\":\"db\",\"src\":[\"100.64.0.0/26\"],\"dst\":[\"s\"],\"ports\":[\"tcp:5432\"]}," \
	"{\"id\":\"ping\",\"src\":[\"d\"],\"dst\":[\"s\"],\"ports\":[\"icmp\"]},"             \
	"{\"id\":\"all\",\"src\":[\"100.64.0.96/27\"],\"dst\":[\"s\"],\"ports\":[\"*\"]},"     \
	"{\"id\":\"dns\",\"src\":[\"d\"],\"dst\":[\"s\"],\"ports\":[\"udp:53\"]}"
#define EXPOSE_ANY "{\"id\":\"web\",\"on\":[\"s\"],\"ports\":[\"tcp:443\"]},"              \
		   "{\"id\":\"any\",\"on\":[\"s\"],\"ports\":[\"*\"],\"from\":[\"*\"]}"
#define EXPOSE_NET "{\"id\":\"web\",\"on\":[\"s\"],\"ports\":[\"tcp:443\"]},"              \
		   "{\"id\":\"any\",\"on\":[\"s\"],\"ports\":[\"*\"],\"from\":[\"10.0.0.0/8\"]}"

struct pol {
	struct policy *p;
	struct ir *ir;
	int64_t at;
};

struct fx {
	struct rules_nl *nl;
	struct rules_watch *w;
	struct pol a, b;
};

static void pol_load(struct pol *x, const char *acls, const char *expose, const char *ifname,
		     int64_t at)
{
	struct policy_opts po = { .now = (time_t)at };
	struct compile_opts co = { .now = (time_t)at, .ifname = ifname };
	char text[4096];
	struct diags d;
	int n = snprintf(text, sizeof(text),
			 "{\"version\":1,\"network\":{\"ipv4\":\"100.64.0.0/24\","
			 "\"ipv6\":\"fd7a:115c:a1e0::/64\"}," NODES ",\"expose\":[%s],\"acls\":[%s],"
			 "\"breakglass\":{\"holders\":[\"c\"],\"ports\":[\"tcp:22\"],\"minHolders\":1}}",
			 expose, acls);

	assert_true(n > 0 && (size_t)n < sizeof(text));
	diags_init(&d);
	x->p = policy_load(text, (size_t)n, &po, &d);
	for (size_t i = 0; !x->p && i < d.n; i++)
		print_message("policy: %s: %s\n", d.v[i].ptr ? d.v[i].ptr : "", d.v[i].msg);
	diags_free(&d);
	assert_non_null(x->p);
	x->ir = compile_node(x->p, 0, &co);
	x->at = at;
}

static void pol_free(struct pol *x)
{
	ir_free(x->ir);
	policy_free(x->p);
	memset(x, 0, sizeof(*x));
}

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	sh("nft delete table inet policyd 2>/dev/null");
	if (!f || rules_nl_open(&f->nl) < 0 || rules_watch_new(f->nl, 0, &f->w) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rules_watch_free(f->w);
	rules_nl_close(f->nl);
	pol_free(&f->a);
	pol_free(&f->b);
	free(f);
	return 0;
}

/* ---- the kernel's view, made comparable ------------------------------------------- */

static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	assert_non_null(p);
	do {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, cap - len - 1, p);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	assert_int_equal(pclose(p), 0);
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a, b, c" → sorted, into out (an item's comment may hold commas, never ", ") */
static void sort_items(char *items, char *out, size_t cap)
{
	char *v[512], *p = items;
	size_t n = 0, len = 0;

	while (p && n < 512) {
		char *sep = strstr(p, ", ");
		size_t l;

		if (sep)
			*sep = '\0';
		for (l = strlen(p); l && p[l - 1] == ' '; l--)
			p[l - 1] = '\0';
		v[n++] = p;
		p = sep ? sep + 2 : NULL;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap > len ? cap - len : 0, "%s%s", i ? " | " : "", v[i]);
}

/* Element lists and raw element lines sorted (hash order differs between
 * two sets), rule handles dropped, the "expires" countdown dropped, and an
 * element list wrapped over lines joined. */
static char *canon(const char *raw)
{
	size_t len = strlen(raw), o = 0, nl = 0, k = 0;
	char *t = malloc(len + 1), **lines, *out, *save = NULL;
	bool in_list = false;

	assert_non_null(t);
	for (size_t i = 0; i < len; i++) {
		if (!strncmp(raw + i, "expires ", 8)) {
			for (i += 8; i < len && !strchr(" ,}\n", raw[i]); i++)
				;
			i--;
			continue;
		}
		if (!strncmp(raw + i, "elements = {", 12))
			in_list = true;
		if (raw[i] == '}')
			in_list = false;
		if (in_list && raw[i] == '\n') { /* a continuation line */
			while (i + 1 < len && (raw[i + 1] == '\t' || raw[i + 1] == ' '))
				i++;
			t[o++] = ' ';
			continue;
		}
		t[o++] = raw[i];
	}
	t[o] = '\0';
	for (size_t i = 0; i < o; i++)
		nl += t[i] == '\n';
	lines = calloc(nl + 2, sizeof(*lines));
	out = calloc(1, 2 * o + 64);
	assert_true(lines && out);
	for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		lines[k++] = l;
	for (size_t i = 0; i < k;) {
		char *l = lines[i], *open = strstr(l, "elements = { ");
		size_t j = i;

		if (!strncmp(l, "\telement ", 9)) { /* a run of raw elements */
			while (j < k && !strncmp(lines[j], "\telement ", 9))
				j++;
			qsort(lines + i, j - i, sizeof(*lines), cmp_str);
			for (; i < j; i++)
				strcat(strcat(out, lines[i]), "\n");
			continue;
		}
		if (!strncmp(l, "inet policyd ", 13) && !strchr(l, '@')) {
			char chain[64] = "";

			sscanf(l + 13, "%63s", chain); /* rule bytecode header: no handles */
			strcat(strcat(strcat(out, "inet policyd "), chain), "\n");
		} else if (open) {
			char *close = strrchr(open, '}'), items[8192];

			assert_non_null(close);
			*close = '\0';
			open[12] = '\0';
			strcat(out, l);
			sort_items(open + 13, items, sizeof(items));
			strcat(strcat(strcat(out, items), " }"), close + 1);
			strcat(out, "\n");
		} else {
			strcat(strcat(out, l), "\n");
		}
		i++;
	}
	free(lines);
	free(t);
	return out;
}

static char *table_now(void)
{
	char *raw = run("nft --debug=netlink list table inet policyd 2>&1");
	char *c = canon(raw);

	free(raw);
	return c;
}

/* What a full replacement of ir gives, then back to what was there (by
 * another full replacement of back), vouched for again. */
static char *table_of_replace(struct fx *f, struct pol *x, struct pol *back)
{
	struct apply_report rep;
	char *c;

	assert_int_equal(rules_apply(f->nl, x->ir, true, &rep), 0);
	apply_report_free(&rep);
	c = table_now();
	assert_int_equal(rules_update(f->nl, f->w, NULL, 0, back->ir, back->at, &rep), 0);
	assert_int_equal(rep.path, APPLY_REPLACE);
	apply_report_free(&rep);
	return c;
}

static void assert_same_table(const char *diffed, const char *replaced)
{
	if (strcmp(diffed, replaced)) {
		print_message("---- after the diff:\n%s\n---- after a replacement:\n%s\n", diffed,
			      replaced);
		fail_msg("the diff left a different table than a replacement");
	}
}

static void update(struct fx *f, struct pol *from, struct pol *to, struct apply_report *rep)
{
	assert_int_equal(rules_update(f->nl, f->w, from ? from->ir : NULL, from ? from->at : 0,
				      to->ir, to->at, rep), 0);
	print_message("update: %s, +%zu -%zu (expired %zu), %zu messages, %zu bytes%s%s\n",
		      apply_path_name(rep->path), rep->added, rep->removed, rep->expired,
		      rep->messages, rep->bytes, rep->why[0] ? ": " : "", rep->why);
}

struct sized {
	size_t n;
};

static void count_elem(void *ctx, const struct nl_elem *e)
{
	(void)e;
	((struct sized *)ctx)->n++;
}

static size_t set_size(struct fx *f, const char *set)
{
	struct sized c = { 0 };

	assert_int_equal(rules_nl_dump_set(f->nl, IR_TABLE, set, count_elem, &c), 0);
	return c.n;
}

/* ---- diffs ------------------------------------------------------------------------ */

static void check_diff_like_replace(struct fx *f, size_t add, size_t del)
{
	struct apply_report rep;
	char *after_diff, *after_replace;

	update(f, NULL, &f->a, &rep);
	assert_int_equal(rep.path, APPLY_REPLACE);
	apply_report_free(&rep);
	after_replace = table_of_replace(f, &f->b, &f->a);
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_DIFF);
	assert_int_equal(rep.added, add);
	assert_int_equal(rep.removed, del);
	assert_true(rep.messages >= 2 && rep.messages <= 2 * (add + del) + 2);
	apply_report_free(&rep);
	after_diff = table_now();
	assert_same_table(after_diff, after_replace);
	free(after_diff);
	/* and back */
	update(f, &f->b, &f->a, &rep);
	assert_int_equal(rep.path, APPLY_DIFF);
	assert_int_equal(rep.added, del);
	assert_int_equal(rep.removed, add);
	apply_report_free(&rep);
	free(after_replace);
	after_diff = table_now();
	after_replace = table_of_replace(f, &f->a, &f->a);
	assert_same_table(after_diff, after_replace);
	free(after_diff);
	free(after_replace);
}

/* +1/-1 in the hash sets (acl4: c out, d and dns in; acl6: c out, d in),
 * the pipapo set (acl4r) and the rbtree sets (aclping4/6, aclall4) */
static void test_diff_every_backend(void **state)
{
	struct fx *f = *state;
	int64_t now = time(NULL);

	pol_load(&f->a, ACLS_A, EXPOSE_NET, NULL, now);
	pol_load(&f->b, ACLS_B, EXPOSE_NET, NULL, now);
	/* acl4 and acl6: c's tcp:22 loses "ssh" from its comment (-1+1), d gets
	 * tcp:22 and udp:53 (+2); acl4r, aclping4, aclping6, aclall4: -1+1 */
	check_diff_like_replace(f, 10, 6);
}

/* puball4 from "*" starts at 0.0.0.0: no leading end element at 0; from a
 * network it has one. The diff adds and removes it. */
static void test_diff_rbtree_zero_end(void **state)
{
	struct fx *f = *state;
	int64_t now = time(NULL);

	pol_load(&f->a, ACLS_A, EXPOSE_ANY, NULL, now);
	pol_load(&f->b, ACLS_A, EXPOSE_NET, NULL, now);
	check_diff_like_replace(f, 1, 2); /* puball4 -1+1 (and the end at 0), puball6 -1 */
}

static void test_unchanged_sends_nothing(void **state)
{
	struct fx *f = *state;
	struct apply_report rep;
	uint32_t g0, g1;

	pol_load(&f->a, ACLS_A, EXPOSE_NET, NULL, time(NULL));
	pol_load(&f->b, ACLS_A, EXPOSE_NET, NULL, time(NULL) + 5); /* later, same policy */
	update(f, NULL, &f->a, &rep);
	apply_report_free(&rep);
	assert_int_equal(rules_nl_genid(f->nl, &g0), 0);
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_UNCHANGED);
	assert_int_equal(rep.messages, 0);
	assert_int_equal(rep.added + rep.removed, 0);
	apply_report_free(&rep);
	assert_int_equal(rules_nl_genid(f->nl, &g1), 0);
	assert_int_equal(g1, g0);
}

static void test_shape_change_replaces(void **state)
{
	struct fx *f = *state;
	struct apply_report rep;

	pol_load(&f->a, ACLS_A, EXPOSE_NET, NULL, time(NULL));
	pol_load(&f->b, ACLS_B, EXPOSE_NET, "wg7", time(NULL)); /* another interface name */
	update(f, NULL, &f->a, &rep);
	apply_report_free(&rep);
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_REPLACE);
	assert_non_null(strstr(rep.why, "chain input"));
	apply_report_free(&rep);
	assert_int_equal(sh("nft list chain inet policyd input | grep -q '\"wg7\"'"), 0);
	update(f, &f->b, &f->a, &rep); /* and back: the shape differs again */
	assert_int_equal(rep.path, APPLY_REPLACE);
	apply_report_free(&rep);
}

/* ---- counters ----------------------------------------------------------------------- */

/* A veth pair inside the private namespace; a frame written on pdt1 arrives
 * on pdt0 (192.0.2.1), which the table sends to its public chain. */
static void veth_up(void)
{
	assert_int_equal(sh("ip link add pdt0 address 02:00:00:00:00:01 type veth peer name pdt1 "
			    "&& ip addr add 192.0.2.1/24 dev pdt0 && ip link set pdt0 up "
			    "&& ip link set pdt1 up && ip link set lo up"), 0);
}

static uint16_t csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

static void inject_udp(unsigned n)
{
	uint8_t pkt[28] = { 0x45, 0, 0, 28, 0, 1, 0, 0, 64, IPPROTO_UDP, 0, 0, 192, 0, 2, 99,
			    192, 0, 2, 1, 0x30, 0x39, 0, 9, 0, 8, 0, 0 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				   .sll_halen = 6, .sll_addr = { 2, 0, 0, 0, 0, 1 } };
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	uint16_t c = csum(pkt, 20);

	assert_true(fd >= 0);
	memcpy(pkt + 10, &c, 2);
	sll.sll_ifindex = (int)if_nametoindex("pdt1");
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&sll, sizeof(sll)),
				 (ssize_t)sizeof(pkt));
	close(fd);
}

static unsigned long not_exposed_count(void)
{
	char *out = run("nft list chain inet policyd public");
	char *l = strstr(out, "not exposed");
	unsigned long n = 0;

	assert_non_null(l);
	while (l > out && l[-1] != '\n')
		l--;
	assert_int_equal(sscanf(strstr(l, "counter packets"), "counter packets %lu", &n), 1);
	free(out);
	return n;
}

static void wait_count(unsigned long want)
{
	for (int i = 0; i < 100 && not_exposed_count() < want; i++)
		usleep(10000);
	assert_int_equal(not_exposed_count(), want);
}

static void test_counters_survive_diff(void **state)
{
	struct fx *f = *state;
	struct apply_report rep;

	pol_load(&f->a, ACLS_A, EXPOSE_NET, NULL, time(NULL));
	pol_load(&f->b, ACLS_B, EXPOSE_NET, NULL, time(NULL));
	veth_up();
	update(f, NULL, &f->a, &rep);
	apply_report_free(&rep);
	inject_udp(3);
	wait_count(3);
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_DIFF);
	apply_report_free(&rep);
	assert_int_equal(not_exposed_count(), 3);
	inject_udp(2);
	wait_count(5);
	/* a replacement starts the counters again: what the diff avoids */
	assert_int_equal(rules_apply(f->nl, f->a.ir, true, &rep), 0);
	apply_report_free(&rep);
	assert_int_equal(not_exposed_count(), 0);
	sh("ip link del pdt0");
}

/* ---- elements the kernel dropped, or does not have ------------------------------- */

static void rfc3339(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Rules that expired in the kernel (hash, pipapo and rbtree elements) are
 * still in the old IR: the diff must not try to delete them (ENOENT would
 * refuse the whole batch), and the table ends up as a replacement's. */
static void test_expired_elements_skipped(void **state)
{
	struct fx *f = *state;
	struct apply_report rep;
	char acls[2048], exp[32];
	int64_t t0 = time(NULL);
	char *after_diff, *after_replace;

	rfc3339(t0 + 2, exp, sizeof(exp));
	snprintf(acls, sizeof(acls),
		 ACLS_A ",{\"id\":\"tmp\",\"src\":[\"d\"],\"dst\":[\"s\"],\"ports\":[\"tcp:8080\"],"
		 "\"expires\":\"%s\"},{\"id\":\"tmpr\",\"src\":[\"100.64.0.16/28\"],\"dst\":[\"s\"],"
		 "\"ports\":[\"udp:1000-2000\"],\"expires\":\"%s\"},{\"id\":\"tmpp\",\"src\":[\"d\"],"
		 "\"dst\":[\"s\"],\"ports\":[\"icmp\"],\"expires\":\"%s\"}",
		 exp, exp, exp);
	pol_load(&f->a, acls, EXPOSE_NET, NULL, t0);
	update(f, NULL, &f->a, &rep);
	apply_report_free(&rep);
	assert_int_equal(set_size(f, "acl4"), 2);
	sleep(4); /* expired, and the kernel's garbage collection ran */
	assert_int_equal(set_size(f, "acl4"), 1);
	pol_load(&f->b, ACLS_B, EXPOSE_NET, NULL, time(NULL)); /* the tmp rules are gone */
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_DIFF);
	assert_int_equal(rep.expired, 5); /* tmp v4+v6, tmpr v4, tmpp v4+v6 */
	apply_report_free(&rep);
	after_diff = table_now();
	after_replace = table_of_replace(f, &f->b, &f->b);
	assert_same_table(after_diff, after_replace);
	free(after_diff);
	free(after_replace);
}

/* An element the old IR has but the kernel does not (removed behind the
 * IR's back through our own socket, so the watch has nothing to say): the
 * kernel refuses the diff (ENOENT), nothing of it is applied, and the table
 * is replaced instead. */
static void test_refused_diff_falls_back(void **state)
{
	struct fx *f = *state;
	const struct ir_set *s;
	struct apply_report rep;
	char *after, *want;

	pol_load(&f->a, ACLS_A, EXPOSE_NET, NULL, time(NULL));
	pol_load(&f->b, ACLS_B, EXPOSE_NET, NULL, time(NULL));
	update(f, NULL, &f->a, &rep);
	apply_report_free(&rep);
	s = &f->a.ir->sets[ir_set_find(f->a.ir, "acl4")];
	assert_int_equal(rules_set_update(f->nl, s, s->v, 1, false), 0); /* c's ssh */
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_REPLACE);
	assert_non_null(strstr(rep.why, "refused the diff"));
	assert_non_null(strstr(rep.why, strerror(ENOENT)));
	apply_report_free(&rep);
	after = table_now();
	want = table_of_replace(f, &f->b, &f->b);
	assert_same_table(after, want);
	free(after);
	free(want);
}

/* Bans and openings are not in the diff at all: they stay, with the time
 * they had. */
static void test_diff_leaves_bans_alone(void **state)
{
	struct fx *f = *state;
	struct addr a = { .family = AF_INET, .b = { 100, 64, 0, 3 } };
	struct apply_report rep;
	struct prefix net;

	pol_load(&f->a, ACLS_A, EXPOSE_NET, NULL, time(NULL));
	pol_load(&f->b, ACLS_B, EXPOSE_NET, NULL, time(NULL));
	update(f, NULL, &f->a, &rep);
	apply_report_free(&rep);
	assert_int_equal(rules_quarantine_add(f->nl, &a, 600000), 0);
	assert_int_equal(prefix_parse("203.0.113.0/24", &net), 0);
	assert_int_equal(rules_glass_open(f->nl, &f->b.p->breakglass.ports, &net, 600000), 0);
	update(f, &f->a, &f->b, &rep); /* our own changes: not tampering */
	assert_int_equal(rep.path, APPLY_DIFF);
	assert_int_equal(rep.carried, 0);
	apply_report_free(&rep);
	assert_int_equal(set_size(f, "quarantine4"), 1);
	assert_int_equal(set_size(f, "glass4"), 1);
}

/* ---- the watch ------------------------------------------------------------------------ */

/* nft as a child whose pid we know */
static pid_t nft_run(const char *args)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "exec nft %s", args);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return pid;
}

static size_t rules_in(const char *chain)
{
	char cmd[128], *out;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "nft -a list chain inet policyd %s", chain);
	out = run(cmd);
	for (char *p = out; (p = strstr(p, "# handle ")); p++)
		n++;
	free(out);
	return n;
}

static void test_foreign_rule_is_tampering(void **state)
{
	struct fx *f = *state;
	const struct rules_tamper *t;
	struct apply_report rep;
	char why[64];
	size_t n;
	pid_t pid;

	pol_load(&f->a, ACLS_A, EXPOSE_NET, NULL, time(NULL));
	pol_load(&f->b, ACLS_B, EXPOSE_NET, NULL, time(NULL));
	update(f, NULL, &f->a, &rep);
	apply_report_free(&rep);
	assert_int_equal(rules_watch_drain(f->w), 0);
	assert_false(rules_watch_tampered(f->w));
	n = rules_in("vpn");
	pid = nft_run("add rule inet policyd vpn accept");
	assert_int_equal(rules_in("vpn"), n + 1);
	assert_int_equal(rules_watch_drain(f->w), 1);
	assert_true(rules_watch_tampered(f->w));
	t = rules_watch_last(f->w);
	assert_non_null(t);
	assert_string_equal(t->comm, "nft");
	assert_int_equal(t->pid, (uint32_t)pid);
	assert_int_not_equal(t->portid, rules_nl_portid(f->nl));
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_REPLACE);
	snprintf(why, sizeof(why), "by nft (pid %d", (int)pid);
	assert_non_null(strstr(rep.why, why));
	apply_report_free(&rep);
	assert_int_equal(rules_in("vpn"), n); /* the foreign rule went with the old table */
	assert_false(rules_watch_tampered(f->w));
	update(f, &f->b, &f->a, &rep); /* vouched for again: a diff */
	assert_int_equal(rep.path, APPLY_DIFF);
	apply_report_free(&rep);
}

/* Not tampering: our own batches and live changes, another table's
 * changes, and what the kernel does by itself (an element timing out, a
 * packet adding to a dynamic set), which sends no event at all. */
static void test_watch_ignores_ours_and_the_kernel(void **state)
{
	struct fx *f = *state;
	struct addr a = { .family = AF_INET, .b = { 100, 64, 0, 3 } };
	struct rules_watch_stats s0, s1;
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct apply_report rep;
	int fd;

	pol_load(&f->a, ACLS_A, EXPOSE_NET, NULL, time(NULL));
	pol_load(&f->b, ACLS_B, EXPOSE_NET, NULL, time(NULL));
	update(f, NULL, &f->a, &rep);
	apply_report_free(&rep);
	assert_int_equal(sh("ip link set lo up"), 0);
	nft_run("-f - <<'EOF'\ntable inet pdtscratch {\n"
		"set dyn { type ipv4_addr; flags dynamic,timeout; timeout 1s; }\n"
		"chain out { type filter hook output priority 0; policy accept;\n"
		"ip daddr 127.0.0.1 add @dyn { ip daddr }\n}\n}\nEOF");
	assert_int_equal(rules_quarantine_add(f->nl, &a, 1000), 0);
	assert_true(rules_watch_drain(f->w) == 0);
	rules_watch_stats(f->w, &s0);
	assert_true(s0.foreign > 0); /* the scratch table */
	assert_true(s0.ours > 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	close(fd);
	assert_int_equal(sh("nft list set inet pdtscratch dyn | grep -q 127.0.0.1"), 0);
	sleep(3); /* the ban and the dynamic element time out and are collected */
	assert_int_equal(set_size(f, "quarantine4"), 0);
	assert_int_equal(sh("nft list set inet pdtscratch dyn | grep -q 127.0.0.1"), 1);
	assert_int_equal(rules_watch_drain(f->w), 0);
	rules_watch_stats(f->w, &s1);
	print_message("events while a ban expired and a packet filled a dynamic set: %llu\n",
		      (unsigned long long)(s1.events - s0.events));
	assert_int_equal(s1.events, s0.events);
	assert_int_equal(s1.tampers, 0);
	assert_false(rules_watch_tampered(f->w));
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_DIFF);
	apply_report_free(&rep);
	sh("nft delete table inet pdtscratch");
}

static void many_ports(char *buf, size_t len, const char *proto)
{
	size_t n = (size_t)snprintf(buf, len, "{\"id\":\"many\",\"src\":[\"c\"],\"dst\":[\"s\"],"
				    "\"ports\":[\"%s:1", proto);

	for (int p = 3; p < 400 && n < len; p += 2)
		n += (size_t)snprintf(buf + n, len - n, ",%d", p);
	snprintf(buf + n, len > n ? len - n : 0, "\"]}");
}

/* A watch whose buffer overflows cannot vouch for anything: the next
 * update replaces. Events lost to our own diff, with nobody committing
 * after it, are forgiven. */
static void test_lost_events_mean_replace(void **state)
{
	struct fx *f = *state;
	struct rules_watch_stats s0, s1;
	struct apply_report rep;
	char tcp[2048], udp[2048];
	FILE *p;

	rules_watch_free(f->w);
	assert_int_equal(rules_watch_new(f->nl, 1, &f->w), 0); /* the smallest buffer */
	many_ports(tcp, sizeof(tcp), "tcp");
	many_ports(udp, sizeof(udp), "udp");
	pol_load(&f->a, tcp, EXPOSE_NET, NULL, time(NULL));
	pol_load(&f->b, udp, EXPOSE_NET, NULL, time(NULL));
	update(f, NULL, &f->a, &rep);
	apply_report_free(&rep);
	assert_false(rules_watch_tampered(f->w));
	p = popen("nft -f -", "w"); /* a foreign batch of 2000 events, another table */
	assert_non_null(p);
	fprintf(p, "table inet pdtscratch {\nset big { type ipv4_addr; elements = { ");
	for (int i = 0; i < 2000; i++)
		fprintf(p, "%s10.9.%d.%d", i ? ", " : "", i / 256, i % 256);
	fprintf(p, " }; }\n}\n");
	assert_int_equal(pclose(p), 0);
	assert_true(rules_watch_drain(f->w) >= 1);
	assert_true(rules_watch_tampered(f->w));
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_REPLACE);
	assert_non_null(strstr(rep.why, "ENOBUFS"));
	apply_report_free(&rep);
	assert_false(rules_watch_tampered(f->w));
	rules_watch_stats(f->w, &s0);
	update(f, &f->b, &f->a, &rep); /* 400 elements out, 400 in: more than the buffer */
	assert_int_equal(rep.path, APPLY_DIFF);
	assert_int_equal(rep.added + rep.removed, 800);
	apply_report_free(&rep);
	rules_watch_stats(f->w, &s1);
	assert_true(s1.lost > s0.lost);
	assert_false(rules_watch_tampered(f->w));
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_DIFF);
	apply_report_free(&rep);
	sh("nft delete table inet pdtscratch");
}

/* Around our replacement the watch does not listen (the kernel then builds
 * no events for it); what it missed meanwhile is caught by the generation:
 * a foreign commit while it was deaf means "unknown". */
static void test_deaf_window(void **state)
{
	struct fx *f = *state;
	struct rules_watch_stats st;
	struct apply_report rep;
	uint32_t g0, now;
	char why[256];

	pol_load(&f->a, ACLS_A, EXPOSE_NET, NULL, time(NULL));
	update(f, NULL, &f->a, &rep);
	apply_report_free(&rep);
	rules_watch_stats(f->w, &st);
	assert_int_equal(st.events, 0); /* the replacement sent it nothing */
	/* ours, then nobody: vouched */
	assert_int_equal(rules_nl_genid(f->nl, &g0), 0);
	assert_int_equal(rules_watch_pause(f->w, g0), 0);
	assert_int_equal(rules_apply(f->nl, f->a.ir, true, &rep), 0);
	assert_int_equal(rules_watch_resume(f->w), 0);
	assert_int_equal(rules_watch_drain(f->w), 0);
	assert_int_equal(rules_nl_genid(f->nl, &now), 0);
	rules_watch_committed(f->w, rep.genid + 1, now, true);
	apply_report_free(&rep);
	assert_false(rules_watch_tampered(f->w));
	/* ours, then a foreign commit while deaf */
	assert_int_equal(rules_nl_genid(f->nl, &g0), 0);
	assert_int_equal(rules_watch_pause(f->w, g0), 0);
	assert_int_equal(rules_apply(f->nl, f->a.ir, true, &rep), 0);
	nft_run("add table inet pdtother");
	assert_int_equal(rules_watch_resume(f->w), 0);
	assert_int_equal(rules_watch_drain(f->w), 0); /* it heard nothing */
	assert_int_equal(rules_nl_genid(f->nl, &now), 0);
	rules_watch_committed(f->w, rep.genid + 1, now, true);
	apply_report_free(&rep);
	assert_true(rules_watch_tampered(f->w));
	rules_watch_describe(f->w, why, sizeof(why));
	assert_non_null(strstr(why, "not listening"));
	/* a replacement through rules_update makes it whole again */
	update(f, &f->a, &f->a, &rep);
	assert_int_equal(rep.path, APPLY_REPLACE);
	apply_report_free(&rep);
	assert_false(rules_watch_tampered(f->w));
	/* our replacement failed, and someone committed while deaf */
	assert_int_equal(rules_nl_genid(f->nl, &g0), 0);
	assert_int_equal(rules_watch_pause(f->w, g0), 0);
	nft_run("delete table inet pdtother");
	assert_int_equal(rules_watch_resume(f->w), 0);
	assert_int_equal(rules_watch_drain(f->w), 0);
	assert_int_equal(rules_nl_genid(f->nl, &now), 0);
	rules_watch_committed(f->w, 0, now, true);
	assert_true(rules_watch_tampered(f->w));
}

/* A watch opened after the table was put in place vouches for nothing. */
static void test_new_watch_vouches_for_nothing(void **state)
{
	struct fx *f = *state;
	struct apply_report rep;
	char why[256];

	pol_load(&f->a, ACLS_A, EXPOSE_NET, NULL, time(NULL));
	pol_load(&f->b, ACLS_B, EXPOSE_NET, NULL, time(NULL));
	assert_int_equal(rules_apply(f->nl, f->a.ir, true, &rep), 0);
	apply_report_free(&rep);
	assert_true(rules_watch_tampered(f->w));
	rules_watch_describe(f->w, why, sizeof(why));
	assert_non_null(strstr(why, "not seen"));
	update(f, &f->a, &f->b, &rep);
	assert_int_equal(rep.path, APPLY_REPLACE);
	apply_report_free(&rep);
	update(f, &f->b, &f->a, &rep);
	assert_int_equal(rep.path, APPLY_DIFF);
	apply_report_free(&rep);
	update(f, &f->a, &f->b, &rep); /* without a watch: never a diff */
	apply_report_free(&rep);
	assert_int_equal(rules_update(f->nl, NULL, f->b.ir, f->b.at, f->a.ir, f->a.at, &rep), 0);
	assert_int_equal(rep.path, APPLY_REPLACE);
	apply_report_free(&rep);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_diff_every_backend),
		T(test_diff_rbtree_zero_end),
		T(test_unchanged_sends_nothing),
		T(test_shape_change_replaces),
		T(test_counters_survive_diff),
		T(test_expired_elements_skipped),
		T(test_refused_diff_falls_back),
		T(test_diff_leaves_bans_alone),
		T(test_foreign_rule_is_tampering),
		T(test_watch_ignores_ours_and_the_kernel),
		T(test_lost_events_mean_replace),
		T(test_deaf_window),
		T(test_new_watch_vouches_for_nothing),
	};

	if (unshare(CLONE_NEWNET) < 0) {
		printf("not ok - test_update needs root to create a private network namespace: %s\n",
		       strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
