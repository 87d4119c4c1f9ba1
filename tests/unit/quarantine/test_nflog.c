/* test_nflog.c — the NFLOG listener against the real kernel, in a private
 * network namespace (unshare(CLONE_NEWNET) first thing in main: nothing
 * outside is touched), and the parser on hand-made edge cases.
 *
 * Kernel part: an nft rule in our namespace logs packets to 127.0.0.0/8 and
 * ::1 ports 5000-5999 and ICMP echo to group 4120 with queue-threshold 1, as
 * the VPN chain does; we send TCP SYNs, UDP (one with an IPv6 destination
 * options header), ICMP and ICMPv6 echoes and check every field; a second
 * listener is refused; a flood into a tiny receive buffer is counted as
 * overflow and reading goes on; packets that came before the configuration's
 * ack are kept and read first.
 *
 * NFLOG_SEED_DIR=DIR writes every datagram (kernel and hand-made) to DIR:
 * that is how tests/fuzz/seeds/nflog/ was made. Needs root and nft. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <cmocka.h>

#include "quarantine/nflog.h"

#define GROUP 4120
#define PREFIX "policyd-deny "

static const char ruleset[] =
	"table inet nflogtest {\n"
	"  chain in {\n"
	"    type filter hook input priority 0; policy accept;\n"
	"    meta l4proto { tcp, udp } th dport 5000-5999 log prefix \"" PREFIX "\" group 4120 queue-threshold 1 drop\n"
	"    icmp type echo-request log prefix \"" PREFIX "\" group 4120 queue-threshold 1 drop\n"
	"    icmpv6 type echo-request log prefix \"" PREFIX "\" group 4120 queue-threshold 1 drop\n"
	"  }\n"
	"}\n";

static int seedno;

static void seed_write(const char *tag, const void *buf, size_t len)
{
	const char *dir = getenv("NFLOG_SEED_DIR");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%02d-%s.bin", dir, seedno++, tag);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len)
		fail_msg("cannot write seed %s", path);
	fclose(f);
}

/* ---- collecting packets ---------------------------------------------------- */

struct got {
	struct nflog_pkt v[64];
	int n;
};

static void collect(void *ctx, const struct nflog_pkt *p)
{
	struct got *g = ctx;

	if (g->n < 64)
		g->v[g->n++] = *p;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms);
}

/* Raw datagrams from the kernel through nflog_parse, until want packets. */
static void recv_raw(struct nflog *n, struct got *g, int want, const char *tag)
{
	static uint8_t buf[65536] __attribute__((aligned(8)));

	while (g->n < want) {
		ssize_t r;

		if (wait_readable(nflog_fd(n), 2000) <= 0)
			fail_msg("only %d of %d packets logged within 2 s", g->n, want);
		r = recv(nflog_fd(n), buf, sizeof(buf), 0);
		assert_true(r > 0);
		seed_write(tag, buf, (size_t)r);
		assert_true(nflog_parse(buf, (size_t)r, collect, g) >= 1);
	}
}

/* ---- sending ---------------------------------------------------------------- */

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), r;

	strcpy(ifr.ifr_name, "lo");
	r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (r == 0)
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return r;
}

static void sa_make(struct sockaddr_storage *ss, socklen_t *len, int family, const char *ip,
		    uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
		*len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s->sin6_addr), 1);
		*len = sizeof(*s);
	}
}

/* A socket bound to src (port 0), sending to dst:port. */
static int sock_from(int family, int type, const char *src)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, type | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	sa_make(&ss, &len, family, src, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static void udp_send(int family, const char *src, const char *dst, uint16_t port, bool dstopts)
{
	static const uint8_t opts[8] = { 0, 0, 1, 4, 0, 0, 0, 0 }; /* PadN */
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_from(family, SOCK_DGRAM, src);

	if (dstopts)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS, opts, sizeof(opts)), 0);
	sa_make(&ss, &len, family, dst, port);
	assert_int_equal(sendto(fd, "hello", 5, 0, (struct sockaddr *)&ss, len), 5);
	close(fd);
}

static int tcp_syn(int family, const char *src, const char *dst, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_from(family, SOCK_STREAM, src);

	sa_make(&ss, &len, family, dst, port);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), -1);
	assert_int_equal(errno, EINPROGRESS);
	return fd; /* closed by the caller after the SYN was logged */
}

static void echo_send(int family, const char *dst)
{
	uint8_t pkt[16] = { 0 };
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_RAW, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);

	assert_true(fd >= 0);
	if (family == AF_INET) {
		uint32_t sum = 0;

		pkt[0] = ICMP_ECHO;
		for (size_t i = 0; i < sizeof(pkt); i += 2)
			sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
		sum = (sum & 0xffff) + (sum >> 16);
		pkt[2] = (uint8_t)(~sum >> 8);
		pkt[3] = (uint8_t)~sum;
	} else {
		pkt[0] = ICMP6_ECHO_REQUEST;   /* the kernel fills in the checksum */
	}
	sa_make(&ss, &len, family, dst, 0);
	assert_int_equal(sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&ss, len), (ssize_t)sizeof(pkt));
	close(fd);
}

static void addr_is(const struct addr *a, int family, const char *s)
{
	char buf[ADDR_STRLEN];

	assert_int_equal(a->family, family);
	assert_string_equal(addr_str(a, buf), s);
}

/* ---- kernel tests ---------------------------------------------------------- */

static void test_receive(void **state)
{
	struct nflog *n;
	struct got g = { .n = 0 };
	int fds[2];

	(void)state;
	assert_int_equal(nflog_open(GROUP, &n), 0);

	fds[0] = tcp_syn(AF_INET, "127.0.0.2", "127.0.0.1", 5001);
	recv_raw(n, &g, 1, "tcp4-syn");
	udp_send(AF_INET, "127.0.0.2", "127.0.0.1", 5002, false);
	recv_raw(n, &g, 2, "udp4");
	fds[1] = tcp_syn(AF_INET6, "::1", "::1", 5003);
	recv_raw(n, &g, 3, "tcp6-syn");
	udp_send(AF_INET6, "::1", "::1", 5004, true);
	recv_raw(n, &g, 4, "udp6-dstopts");
	echo_send(AF_INET, "127.0.0.3");
	recv_raw(n, &g, 5, "icmp4-echo");
	echo_send(AF_INET6, "::1");
	recv_raw(n, &g, 6, "icmp6-echo");
	close(fds[0]);
	close(fds[1]);

	for (int i = 0; i < 6; i++) {
		const struct nflog_pkt *p = &g.v[i];

		assert_string_equal(p->prefix, PREFIX);
		assert_int_equal(p->group, GROUP);
		assert_int_equal(p->indev, if_nametoindex("lo"));
		assert_true(p->has_seq);
		assert_int_equal(p->seq, (uint32_t)i);
		assert_true(p->has_l4);
		assert_false(p->fragment);
		assert_true(p->payload_len > 0 && p->payload_len <= NFLOG_COPY_RANGE);
	}
	addr_is(&g.v[0].src, AF_INET, "127.0.0.2");
	addr_is(&g.v[0].dst, AF_INET, "127.0.0.1");
	assert_int_equal(g.v[0].proto, IPPROTO_TCP);
	assert_int_equal(g.v[0].dport, 5001);
	assert_true(g.v[0].syn);
	assert_int_equal(g.v[0].hw_protocol, 0x0800);
	assert_int_equal(g.v[1].proto, IPPROTO_UDP);
	assert_int_equal(g.v[1].dport, 5002);
	assert_false(g.v[1].syn);
	addr_is(&g.v[2].src, AF_INET6, "::1");
	assert_int_equal(g.v[2].proto, IPPROTO_TCP);
	assert_int_equal(g.v[2].dport, 5003);
	assert_true(g.v[2].syn);
	assert_int_equal(g.v[2].hw_protocol, 0x86dd);
	assert_int_equal(g.v[3].proto, IPPROTO_UDP);   /* after the destination options */
	assert_int_equal(g.v[3].dport, 5004);
	addr_is(&g.v[4].dst, AF_INET, "127.0.0.3");
	assert_int_equal(g.v[4].proto, IPPROTO_ICMP);
	assert_int_equal(g.v[4].dport, ICMP_ECHO);
	assert_int_equal(g.v[5].family, AF_INET6);
	assert_int_equal(g.v[5].proto, IPPROTO_ICMPV6);
	assert_int_equal(g.v[5].dport, ICMP6_ECHO_REQUEST);
	assert_int_equal(nflog_stats(n)->overflows, 0);
	nflog_close(n);
}

static void test_second_listener_refused(void **state)
{
	struct nflog *a, *b;

	(void)state;
	assert_int_equal(nflog_open(GROUP, &a), 0);
	assert_int_equal(nflog_open(GROUP, &b), -EPERM);
	nflog_close(a);
	/* closing the socket released the group */
	assert_int_equal(nflog_open(GROUP, &b), 0);
	nflog_close(b);
}

static void test_overflow_counted(void **state)
{
	struct nflog *n;
	struct got g = { .n = 0 };
	int small = 1024, total = 0;
	const struct nflog_stats *st;

	(void)state;
	assert_int_equal(nflog_open(GROUP, &n), 0);
	assert_int_equal(setsockopt(nflog_fd(n), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	for (int i = 0; i < 2000; i++)
		udp_send(AF_INET, "127.0.0.2", "127.0.0.1", 5100, false);
	for (int round = 0; round < 100; round++) {
		int r = nflog_read(n, collect, &g);

		assert_true(r >= 0);
		total += r;
		g.n = 0;
		if (wait_readable(nflog_fd(n), 0) <= 0)
			break;
	}
	st = nflog_stats(n);
	assert_true(st->overflows >= 1);
	assert_true(total >= 1 && total < 2000);
	assert_int_equal(st->packets, (uint64_t)total);
	/* the listener carries on */
	udp_send(AF_INET, "127.0.0.2", "127.0.0.1", 5101, false);
	assert_true(wait_readable(nflog_fd(n), 2000) > 0);
	assert_int_equal(nflog_read(n, collect, &g), 1);
	assert_int_equal(g.v[0].dport, 5101);
	assert_true(st->lost >= 1);                          /* seen in the sequence gap */
	assert_int_equal(st->lost + st->packets, 2001);
	assert_int_equal(nflog_read(n, collect, &g), 0);   /* EAGAIN is not an error */
	nflog_close(n);
}

/* ---- hand-made messages ----------------------------------------------------- */

static size_t msg_packet(uint8_t *buf, uint16_t flags, uint32_t seq, const char *prefix,
			 const void *payload, size_t plen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct nfulnl_msg_packet_hdr ph = { .hw_protocol = htons(0x0800), .hook = 1 };

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nlh->nlmsg_flags = flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_INET;
	g->res_id = htons(GROUP);
	mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	mnl_attr_put_u32(nlh, NFULA_SEQ, htonl(seq));
	if (prefix)
		mnl_attr_put_strz(nlh, NFULA_PREFIX, prefix);
	if (payload)
		mnl_attr_put(nlh, NFULA_PAYLOAD, plen, payload);
	return nlh->nlmsg_len;
}

static size_t ipv4(uint8_t *p, uint8_t ihl_words, uint8_t proto, uint16_t frag, const uint8_t *l4,
		   size_t l4len)
{
	size_t hl = (size_t)ihl_words * 4;

	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | ihl_words);
	p[2] = (uint8_t)((hl + l4len) >> 8);
	p[3] = (uint8_t)(hl + l4len);
	p[6] = (uint8_t)(frag >> 8);
	p[7] = (uint8_t)frag;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, (uint8_t[]){ 100, 64, 0, 2 }, 4);
	memcpy(p + 16, (uint8_t[]){ 100, 64, 0, 1 }, 4);
	memcpy(p + hl, l4, l4len);
	return hl + l4len;
}

static size_t ipv6(uint8_t *p, uint8_t nh, const uint8_t *rest, size_t rlen)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[4] = (uint8_t)(rlen >> 8);
	p[5] = (uint8_t)rlen;
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, (uint8_t[]){ 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0 }, 6);
	p[23] = 2;
	memcpy(p + 24, (uint8_t[]){ 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0 }, 6);
	p[39] = 1;
	memcpy(p + 40, rest, rlen);
	return 40 + rlen;
}

static const uint8_t tcp_syn_hdr[20] = { 0x9c, 0x40, 0x00, 0x16, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02 };

/* One datagram of one packet message; parse it, return the packet count. */
static int parse1(const char *tag, const void *payload, size_t plen, struct got *g)
{
	static uint8_t buf[4096] __attribute__((aligned(8)));
	size_t len = msg_packet(buf, 0, 0, PREFIX, payload, plen);

	seed_write(tag, buf, len);
	g->n = 0;
	return nflog_parse(buf, len, collect, g);
}

static void test_parse_multi_and_framing(void **state)
{
	static uint8_t buf[8192] __attribute__((aligned(8)));
	uint8_t pkt[128];
	size_t off = 0, plen = ipv4(pkt, 5, IPPROTO_TCP, 0, tcp_syn_hdr, 20);
	struct got g = { .n = 0 };
	struct nlmsghdr *done;

	(void)state;
	for (uint32_t i = 0; i < 3; i++)
		off += msg_packet(buf + off, NLM_F_MULTI, i, PREFIX, pkt, plen);
	done = mnl_nlmsg_put_header(buf + off);
	done->nlmsg_type = NLMSG_DONE;
	done->nlmsg_flags = NLM_F_MULTI;
	mnl_nlmsg_put_extra_header(done, sizeof(struct nfgenmsg));
	off += done->nlmsg_len;
	seed_write("multi-done", buf, off);
	assert_int_equal(nflog_parse(buf, off, collect, &g), 3);
	assert_int_equal(g.v[2].seq, 2);
	addr_is(&g.v[1].src, AF_INET, "100.64.0.2");
	assert_int_equal(g.v[1].dport, 22);
	assert_true(g.v[1].syn);
	/* after DONE nothing is read, not even garbage */
	memset(buf + off, 0xff, 100);
	g.n = 0;
	assert_int_equal(nflog_parse(buf, off + 100, collect, &g), 3);
	/* every cut of the datagram: never a packet from a cut message, and
	 * a cut inside a header is refused */
	for (size_t cut = 0; cut < off; cut++) {
		int r;

		g.n = 0;
		r = nflog_parse(buf, cut, collect, &g);
		assert_true(r == -EBADMSG || (r >= 0 && r <= 3));
		assert_true(g.n <= 3);
	}
	/* a message claiming more than there is */
	((struct nlmsghdr *)buf)->nlmsg_len = 9000;
	g.n = 0;
	assert_int_equal(nflog_parse(buf, off, collect, &g), -EBADMSG);
	assert_int_equal(g.n, 0);
	assert_int_equal(nflog_parse(buf, 0, collect, &g), 0);
	/* a length near 2^32 (libmnl's walker aligns it to 0 and never moves on) */
	((struct nlmsghdr *)buf)->nlmsg_len = 0xfffffffd;
	seed_write("huge-len", buf, off);
	assert_int_equal(nflog_parse(buf, off, collect, &g), -EBADMSG);
	/* a second message whose length is too small */
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)msg_packet(buf, 0, 0, PREFIX, pkt, plen);
	((struct nlmsghdr *)(buf + ((struct nlmsghdr *)buf)->nlmsg_len))->nlmsg_len = 3;
	g.n = 0;
	assert_int_equal(nflog_parse(buf, off, collect, &g), -EBADMSG);
	assert_int_equal(g.n, 1);
}

static void test_parse_ipv4_edges(void **state)
{
	uint8_t pkt[128], opt_tcp[40];
	struct got g = { .n = 0 };

	(void)state;
	/* IHL 15 (40 bytes of options) then TCP */
	memset(opt_tcp, 0, sizeof(opt_tcp));
	assert_int_equal(parse1("ip4-options", pkt, ipv4(pkt, 15, IPPROTO_TCP, 0, tcp_syn_hdr, 20), &g), 1);
	assert_true(g.v[0].has_l4 && g.v[0].syn);
	assert_int_equal(g.v[0].dport, 22);
	/* IHL longer than what was copied: addresses unknown */
	ipv4(pkt, 15, IPPROTO_TCP, 0, tcp_syn_hdr, 20);
	assert_int_equal(parse1("ip4-ihl-cut", pkt, 30, &g), 1);
	assert_int_equal(g.v[0].family, 0);
	/* IHL below 5 */
	ipv4(pkt, 5, IPPROTO_TCP, 0, tcp_syn_hdr, 20);
	pkt[0] = 0x44;
	assert_int_equal(parse1("ip4-ihl-small", pkt, 40, &g), 1);
	assert_int_equal(g.v[0].family, 0);
	/* TCP cut after the ports: port known, SYN not */
	assert_int_equal(parse1("tcp-cut", pkt, ipv4(pkt, 5, IPPROTO_TCP, 0, tcp_syn_hdr, 4), &g), 1);
	assert_true(g.v[0].has_l4);
	assert_int_equal(g.v[0].dport, 22);
	assert_false(g.v[0].syn);
	assert_false(g.v[0].has_flags);
	/* the flags byte as it came: a NULL scan, an Xmas scan */
	ipv4(pkt, 5, IPPROTO_TCP, 0, tcp_syn_hdr, 20);
	pkt[20 + 13] = 0;
	assert_int_equal(parse1("tcp-null", pkt, 40, &g), 1);
	assert_true(g.v[0].has_flags && g.v[0].tcp_flags == 0 && !g.v[0].syn);
	pkt[20 + 13] = 0x29;
	assert_int_equal(parse1("tcp-xmas", pkt, 40, &g), 1);
	assert_true(g.v[0].has_flags && g.v[0].tcp_flags == 0x29);
	/* TCP cut inside the ports */
	assert_int_equal(parse1("tcp-cut3", pkt, ipv4(pkt, 5, IPPROTO_TCP, 0, tcp_syn_hdr, 3), &g), 1);
	assert_int_equal(g.v[0].family, AF_INET);
	assert_false(g.v[0].has_l4);
	/* SYN+ACK is not a connection attempt */
	ipv4(pkt, 5, IPPROTO_TCP, 0, tcp_syn_hdr, 20);
	pkt[20 + 13] = 0x12;
	assert_int_equal(parse1("tcp-synack", pkt, 40, &g), 1);
	assert_false(g.v[0].syn);
	/* a non-first fragment has no ports */
	assert_int_equal(parse1("ip4-frag", pkt, ipv4(pkt, 5, IPPROTO_UDP, 0x00b9, tcp_syn_hdr, 8), &g), 1);
	assert_true(g.v[0].fragment);
	assert_false(g.v[0].has_l4);
	/* total length shorter than the header */
	ipv4(pkt, 5, IPPROTO_UDP, 0, tcp_syn_hdr, 8);
	pkt[2] = 0;
	pkt[3] = 10;
	assert_int_equal(parse1("ip4-totlen", pkt, 28, &g), 1);
	assert_int_equal(g.v[0].family, 0);
	/* total length shorter than the copy: the rest is padding */
	ipv4(pkt, 5, IPPROTO_UDP, 0, tcp_syn_hdr, 8);
	pkt[3] = 22;
	assert_int_equal(parse1("ip4-padding", pkt, 28, &g), 1);
	assert_false(g.v[0].has_l4);
	/* ICMP type; ICMPv6 in IPv4 means nothing */
	assert_int_equal(parse1("icmp4", pkt, ipv4(pkt, 5, IPPROTO_ICMP, 0, (uint8_t[]){ 8, 0 }, 2), &g), 1);
	assert_int_equal(g.v[0].dport, 8);
	assert_int_equal(parse1("icmp6-in-4", pkt, ipv4(pkt, 5, IPPROTO_ICMPV6, 0, (uint8_t[]){ 128 }, 1), &g), 1);
	assert_false(g.v[0].has_l4);
	/* no payload, empty payload, version 5, no prefix */
	assert_int_equal(parse1("no-payload", NULL, 0, &g), 1);
	assert_int_equal(g.v[0].family, 0);
	assert_int_equal(parse1("empty-payload", pkt, 0, &g), 1);
	pkt[0] = 0x55;
	assert_int_equal(parse1("version5", pkt, 40, &g), 1);
	assert_int_equal(g.v[0].family, 0);
}

static void test_parse_ipv6_edges(void **state)
{
	uint8_t pkt[256], rest[200];
	struct got g = { .n = 0 };

	(void)state;
	/* hop-by-hop (8) + routing (16) + UDP */
	memset(rest, 0, sizeof(rest));
	rest[0] = IPPROTO_ROUTING;
	rest[8] = IPPROTO_UDP;
	rest[9] = 1;
	memcpy(rest + 24, (uint8_t[]){ 0x13, 0x88, 0x00, 0x35 }, 4);
	assert_int_equal(parse1("ip6-hbh-rt-udp", pkt, ipv6(pkt, IPPROTO_HOPOPTS, rest, 32), &g), 1);
	assert_int_equal(g.v[0].proto, IPPROTO_UDP);
	assert_int_equal(g.v[0].dport, 53);
	addr_is(&g.v[0].src, AF_INET6, "fd7a:115c:a1e0::2");
	/* first fragment: ports; later fragment: none */
	memset(rest, 0, sizeof(rest));
	rest[0] = IPPROTO_TCP;
	memcpy(rest + 8, tcp_syn_hdr, 20);
	assert_int_equal(parse1("ip6-frag0", pkt, ipv6(pkt, IPPROTO_FRAGMENT, rest, 28), &g), 1);
	assert_true(g.v[0].syn);
	assert_int_equal(g.v[0].dport, 22);
	rest[3] = 0x08;
	assert_int_equal(parse1("ip6-frag1", pkt, ipv6(pkt, IPPROTO_FRAGMENT, rest, 28), &g), 1);
	assert_true(g.v[0].fragment);
	assert_false(g.v[0].has_l4);
	assert_int_equal(g.v[0].proto, IPPROTO_TCP);
	/* an extension header longer than the copy */
	memset(rest, 0, sizeof(rest));
	rest[0] = IPPROTO_TCP;
	rest[1] = 200;
	assert_int_equal(parse1("ip6-ext-long", pkt, ipv6(pkt, IPPROTO_DSTOPTS, rest, 40), &g), 1);
	assert_int_equal(g.v[0].family, AF_INET6);
	assert_false(g.v[0].has_l4);
	/* a chain of 9 destination options headers: more than we walk */
	memset(rest, 0, sizeof(rest));
	for (int i = 0; i < 9; i++)
		rest[i * 8] = i < 8 ? IPPROTO_DSTOPTS : IPPROTO_UDP;
	memcpy(rest + 72, (uint8_t[]){ 0, 1, 0, 2 }, 4);
	assert_int_equal(parse1("ip6-ext-chain", pkt, ipv6(pkt, IPPROTO_DSTOPTS, rest, 80), &g), 1);
	assert_false(g.v[0].has_l4);
	/* AH (length in 4-byte units + 2) then ICMPv6 echo */
	memset(rest, 0, sizeof(rest));
	rest[0] = IPPROTO_ICMPV6;
	rest[1] = 4;                          /* (4 + 2) * 4 = 24 bytes */
	rest[24] = 128;
	assert_int_equal(parse1("ip6-ah-icmp6", pkt, ipv6(pkt, IPPROTO_AH, rest, 32), &g), 1);
	assert_int_equal(g.v[0].proto, IPPROTO_ICMPV6);
	assert_int_equal(g.v[0].dport, 128);
	/* ESP and "no next header": no ports; cut inside the fixed header */
	assert_int_equal(parse1("ip6-esp", pkt, ipv6(pkt, IPPROTO_ESP, rest, 16), &g), 1);
	assert_int_equal(g.v[0].proto, IPPROTO_ESP);
	assert_false(g.v[0].has_l4);
	assert_int_equal(parse1("ip6-cut", pkt, 39, &g), 1);
	assert_int_equal(g.v[0].family, 0);
	/* payload length 0 (jumbogram style) with a cut fragment header */
	ipv6(pkt, IPPROTO_FRAGMENT, rest, 4);
	pkt[4] = pkt[5] = 0;
	assert_int_equal(parse1("ip6-frag-cut", pkt, 44, &g), 1);
	assert_false(g.v[0].has_l4);
}

static void test_parse_attrs(void **state)
{
	static uint8_t buf[4096] __attribute__((aligned(8)));
	char longp[200];
	struct got g = { .n = 0 };
	struct nlmsghdr *nlh;
	size_t len;

	(void)state;
	/* a prefix longer than we keep is cut, still terminated */
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	len = msg_packet(buf, 0, 7, longp, NULL, 0);
	assert_int_equal(nflog_parse(buf, len, collect, &g), 1);
	assert_int_equal(strlen(g.v[0].prefix), NFLOG_PREFIX_MAX - 1);
	/* a prefix without its NUL stops at the attribute's end */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	mnl_attr_put(nlh, NFULA_PREFIX, 3, "abc");
	mnl_attr_put(nlh, NFULA_SEQ, 2, "\x01\x02");            /* too short for a u32 */
	mnl_attr_put(nlh, NFULA_PACKET_HDR, 1, "\x08");          /* too short for the header */
	seed_write("bad-attrs", buf, nlh->nlmsg_len);
	g.n = 0;
	assert_int_equal(nflog_parse(buf, nlh->nlmsg_len, collect, &g), 1);
	assert_string_equal(g.v[0].prefix, "abc");
	assert_false(g.v[0].has_seq);
	assert_int_equal(g.v[0].hw_protocol, 0);
	/* a packet message too short for its nfgenmsg */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nlh->nlmsg_len += 2;
	assert_int_equal(nflog_parse(buf, nlh->nlmsg_len, collect, &g), -EBADMSG);
	/* other message types are skipped */
	nlh->nlmsg_type = NLMSG_NOOP;
	assert_int_equal(nflog_parse(buf, nlh->nlmsg_len, collect, &g), 0);
}

/* Datagrams read while nflog_open waited for its ack: their packets are
 * counted, kept (NFLOG_EARLY_MAX datagrams; beyond, counted lost) and the
 * next read hands them over first, then what the kernel sent since. */
static void test_early_packets(void **state)
{
	static uint8_t buf[8192] __attribute__((aligned(8)));
	uint8_t pkt[128];
	size_t off = 0, plen = ipv4(pkt, 5, IPPROTO_TCP, 0, tcp_syn_hdr, 20);
	struct got g = { .n = 0 };
	struct nlmsghdr *ack;
	struct nflog *n;

	(void)state;
	assert_int_equal(nflog_open(GROUP, &n), 0);
	for (uint32_t i = 0; i < 2; i++)
		off += msg_packet(buf + off, NLM_F_MULTI, i, PREFIX, pkt, plen);
	for (int i = 0; i < NFLOG_EARLY_MAX; i++)
		assert_int_equal(nflog_keep_early(n, buf, off), 2);
	assert_int_equal(nflog_keep_early(n, buf, off), -ENOBUFS);   /* one too many */
	assert_int_equal(nflog_stats(n)->early, 2 * (NFLOG_EARLY_MAX + 1));
	assert_int_equal(nflog_stats(n)->lost, 2);
	ack = mnl_nlmsg_put_header(buf);                      /* an ack holds no packet */
	ack->nlmsg_type = NLMSG_ERROR;
	mnl_nlmsg_put_extra_header(ack, sizeof(struct nlmsgerr));
	assert_int_equal(nflog_keep_early(n, buf, ack->nlmsg_len), 0);

	udp_send(AF_INET, "127.0.0.2", "127.0.0.1", 5002, false);
	assert_true(wait_readable(nflog_fd(n), 2000) > 0);
	assert_int_equal(nflog_read(n, collect, &g), 2 * NFLOG_EARLY_MAX + 1);
	for (int i = 0; i < 2 * NFLOG_EARLY_MAX; i++)
		assert_int_equal(g.v[i].dport, 22);
	assert_int_equal(g.v[2 * NFLOG_EARLY_MAX].dport, 5002);
	assert_int_equal(nflog_stats(n)->packets, 2 * NFLOG_EARLY_MAX + 1);
	g.n = 0;
	assert_int_equal(nflog_read(n, collect, &g), 0);      /* handed over once */
	nflog_close(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receive),
		cmocka_unit_test(test_second_listener_refused),
		cmocka_unit_test(test_overflow_counted),
		cmocka_unit_test(test_parse_multi_and_framing),
		cmocka_unit_test(test_parse_ipv4_edges),
		cmocka_unit_test(test_parse_ipv6_edges),
		cmocka_unit_test(test_parse_attrs),
		cmocka_unit_test(test_early_packets),
	};
	FILE *nft;

	if (unshare(CLONE_NEWNET) < 0) {
		printf("not ok - test_nflog needs root to create a private network namespace: %s\n",
		       strerror(errno));
		return 1;
	}
	if (lo_up() < 0) {
		printf("not ok - test_nflog: cannot bring lo up: %s\n", strerror(errno));
		return 1;
	}
	nft = popen("nft -f -", "w");
	if (!nft || fputs(ruleset, nft) < 0 || pclose(nft) != 0) {
		printf("not ok - test_nflog: nft could not load the logging rules\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
