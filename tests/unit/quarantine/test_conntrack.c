/* test_conntrack.c — deleting a peer's conntrack entries, against the real
 * kernel in a private network namespace (unshare(CLONE_NEWNET) first thing
 * in main: the root namespace's table is never seen, let alone touched).
 *
 * An nft table in our namespace with `ct state new` rules makes conntrack
 * track loopback traffic. Flows from 127.0.0.2 (two UDP, one established
 * TCP) and from fd7a:115c:a1e0::2 are deleted; flows from 127.0.0.3 and
 * fd7a:115c:a1e0::3, and one *to* 127.0.0.2 (127.0.0.2 only its reply
 * source), survive. Needs root, nft and ip. */
#include <arpa/inet.h>
#include <errno.h>
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "quarantine/conntrack.h"

static const char ruleset[] =
	"table inet cttest {\n"
	"  chain in { type filter hook input priority 0; policy accept; ct state new counter; }\n"
	"  chain out { type filter hook output priority 0; policy accept; ct state new counter; }\n"
	"}\n";

static struct addr A(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a) < 0)
		fail_msg("bad address %s", s);
	return a;
}

static socklen_t sa_make(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s->sin6_addr), 1);
		return sizeof(*s);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
		return sizeof(*s);
	}
}

static int sock_bound(int type, const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sa_make(&ss, ip, port);
	int fd = socket(ss.ss_family, type, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static void udp_flow(const char *src, const char *dst, uint16_t dport)
{
	struct sockaddr_storage ss;
	socklen_t len = sa_make(&ss, dst, dport);
	int fd = sock_bound(SOCK_DGRAM, src, 0);

	assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len), 1);
	close(fd);
}

/* An established TCP connection src -> dst:port; fds kept open by the caller. */
static void tcp_flow(const char *src, const char *dst, uint16_t port, int fds[3])
{
	struct sockaddr_storage ss;
	socklen_t len = sa_make(&ss, dst, port);

	fds[0] = sock_bound(SOCK_STREAM, dst, port);
	assert_int_equal(listen(fds[0], 4), 0);
	fds[1] = sock_bound(SOCK_STREAM, src, 0);
	assert_int_equal(connect(fds[1], (struct sockaddr *)&ss, len), 0);
	fds[2] = accept(fds[0], NULL, NULL);
	assert_true(fds[2] >= 0);
}

static void test_kill_v4(void **state)
{
	struct addr peer = A("127.0.0.2"), other = A("127.0.0.3"), host = A("127.0.0.1");
	int tcp[3];

	(void)state;
	udp_flow("127.0.0.2", "127.0.0.1", 6000);
	udp_flow("127.0.0.2", "127.0.0.1", 6001);
	tcp_flow("127.0.0.2", "127.0.0.1", 7000, tcp);
	udp_flow("127.0.0.3", "127.0.0.1", 6000);
	udp_flow("127.0.0.1", "127.0.0.2", 6002);  /* the peer is only its reply source */
	assert_int_equal(conntrack_count_src(&peer), 3);
	assert_int_equal(conntrack_count_src(&other), 1);
	assert_int_equal(conntrack_count_src(&host), 1);

	assert_int_equal(conntrack_kill_src(&peer), 3);
	assert_int_equal(conntrack_count_src(&peer), 0);
	assert_int_equal(conntrack_count_src(&other), 1);
	assert_int_equal(conntrack_count_src(&host), 1);
	assert_int_equal(conntrack_kill_src(&peer), 0);   /* nothing left: not an error */
	/* conntrack alone does not end a TCP session: its next segment is
	 * picked up again (nf_conntrack_tcp_loose); the quarantine set's drop
	 * rule is what keeps it cut */
	for (int i = 0; i < 3; i++)
		close(tcp[i]);
}

static void test_kill_v6(void **state)
{
	struct addr peer = A("fd7a:115c:a1e0::2"), other = A("fd7a:115c:a1e0::3");
	struct addr peer4 = A("127.0.0.5");

	(void)state;
	udp_flow("fd7a:115c:a1e0::2", "::1", 6000);
	udp_flow("fd7a:115c:a1e0::2", "::1", 6001);
	udp_flow("fd7a:115c:a1e0::3", "::1", 6000);
	udp_flow("127.0.0.5", "127.0.0.1", 6003);
	assert_int_equal(conntrack_count_src(&peer), 2);
	assert_int_equal(conntrack_kill_src(&peer), 2);
	assert_int_equal(conntrack_count_src(&peer), 0);
	assert_int_equal(conntrack_count_src(&other), 1);
	assert_int_equal(conntrack_count_src(&peer4), 1);  /* the other family is untouched */
}

/* A node's addresses at once, both families, one dump each. */
static void test_kill_node(void **state)
{
	struct addr node[3] = { A("127.0.0.7"), A("fd7a:115c:a1e0::7"), A("127.0.0.8") };
	struct addr other = A("127.0.0.9"), other6 = A("fd7a:115c:a1e0::9");

	(void)state;
	udp_flow("127.0.0.7", "127.0.0.1", 6100);
	udp_flow("127.0.0.8", "127.0.0.1", 6101);
	udp_flow("fd7a:115c:a1e0::7", "::1", 6102);
	udp_flow("fd7a:115c:a1e0::7", "::1", 6103);
	udp_flow("127.0.0.9", "127.0.0.1", 6100);
	udp_flow("fd7a:115c:a1e0::9", "::1", 6100);
	assert_int_equal(conntrack_kill_srcs(node, 3, CONNTRACK_TIMEOUT_MS), 4);
	for (int i = 0; i < 3; i++)
		assert_int_equal(conntrack_count_src(&node[i]), 0);
	assert_int_equal(conntrack_count_src(&other), 1);
	assert_int_equal(conntrack_count_src(&other6), 1);
	assert_int_equal(conntrack_kill_srcs(node, 0, CONNTRACK_TIMEOUT_MS), 0);
}

/* More than CONNTRACK_BATCH entries: the second pass takes the rest. */
static void test_many(void **state)
{
	const int n = CONNTRACK_BATCH + 904;
	struct addr peer = A("127.0.0.4");

	(void)state;
	for (int i = 0; i < n; i++)
		udp_flow("127.0.0.4", "127.0.0.1", (uint16_t)(10000 + i));
	assert_int_equal(conntrack_count_src(&peer), n);
	assert_int_equal(conntrack_kill_src(&peer), n);
	assert_int_equal(conntrack_count_src(&peer), 0);
}

/* A deadline that passes mid-way stops the work with -ETIMEDOUT: what was
 * deleted stays deleted, the rest is left for the next call. */
static void test_deadline(void **state)
{
	const int n = CONNTRACK_BATCH;
	struct addr peer = A("127.0.0.10");
	int left;

	(void)state;
	for (int i = 0; i < n; i++)
		udp_flow("127.0.0.10", "127.0.0.1", (uint16_t)(20000 + i));
	assert_int_equal(conntrack_kill_srcs(&peer, 1, 0), -ETIMEDOUT);
	assert_int_equal(conntrack_count_src(&peer), n);        /* nothing done at all */
	/* 4096 deletes, one round trip each, take far more than 2 ms */
	assert_int_equal(conntrack_kill_srcs(&peer, 1, 2), -ETIMEDOUT);
	left = conntrack_count_src(&peer);
	print_message("# %d of %d entries left after a 2 ms deadline\n", left, n);
	assert_true(left > 0 && left <= n);
	assert_int_equal(conntrack_kill_src(&peer), left);
	assert_int_equal(conntrack_count_src(&peer), 0);
}

static void test_bad_family(void **state)
{
	struct addr a = { .family = AF_UNIX };

	(void)state;
	assert_int_equal(conntrack_kill_src(&a), -EAFNOSUPPORT);
	assert_int_equal(conntrack_count_src(&a), -EAFNOSUPPORT);
}

static int sh(const char *cmd, const char *input)
{
	FILE *f = popen(cmd, "w");

	if (!f)
		return -1;
	if (input)
		fputs(input, f);
	return pclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_v4),
		cmocka_unit_test(test_kill_v6),
		cmocka_unit_test(test_kill_node),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_bad_family),
	};

	if (unshare(CLONE_NEWNET) < 0) {
		printf("not ok - test_conntrack needs root to create a private network namespace: %s\n",
		       strerror(errno));
		return 1;
	}
	if (sh("ip link set lo up && ip addr add fd7a:115c:a1e0::2/128 dev lo nodad && "
	       "ip addr add fd7a:115c:a1e0::3/128 dev lo nodad && "
	       "ip addr add fd7a:115c:a1e0::7/128 dev lo nodad && "
	       "ip addr add fd7a:115c:a1e0::9/128 dev lo nodad", NULL) != 0 ||
	    sh("nft -f -", ruleset) != 0) {
		printf("not ok - test_conntrack: could not set up lo and the tracking rules\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
