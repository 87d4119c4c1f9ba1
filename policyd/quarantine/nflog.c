/* nflog.c — NFLOG listener on libmnl, and the parser of what it receives.
 *
 * The parser treats every byte as untrusted: netlink framing by libmnl's
 * checked walkers, attribute values by length before use, and the packet
 * itself (a copy of at most NFLOG_COPY_RANGE bytes, so usually cut short)
 * by explicit bounds on every header field it reads. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "quarantine/nflog.h"

#define NFLOG_BUF (64u << 10)
#define IPV6_EXT_MAX 8                      /* extension headers walked before giving up */

struct nflog {
	struct mnl_socket *nl;
	uint16_t group;
	uint32_t req_seq;
	bool have_seq;
	uint32_t next_seq;                  /* expected NFULA_SEQ */
	struct nflog_stats st;
	uint8_t *early[NFLOG_EARLY_MAX];    /* datagrams read before the config ack */
	size_t early_len[NFLOG_EARLY_MAX];
	unsigned nearly;
	uint8_t buf[NFLOG_BUF];
};

/* ---- the packet ------------------------------------------------------------ */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const void *v)
{
	uint32_t x;

	memcpy(&x, v, 4);
	return ntohl(x);
}

/* L4 header at p, len bytes available. */
static void parse_l4(const uint8_t *p, size_t len, struct nflog_pkt *pk)
{
	switch (pk->proto) {
	case IPPROTO_TCP:
		if (len < 4)
			return;
		pk->dport = be16(p + 2);
		pk->has_l4 = true;
		if (len < 14)
			return;
		/* flags at byte 13: FIN 0x01, SYN 0x02, ACK 0x10 */
		pk->has_flags = true;
		pk->tcp_flags = p[13];
		pk->syn = (p[13] & 0x02) && !(p[13] & 0x10);
		return;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		if (len < 4)
			return;
		pk->dport = be16(p + 2);
		pk->has_l4 = true;
		return;
	case IPPROTO_ICMP:
		if (pk->family != AF_INET || len < 1)
			return;
		pk->dport = p[0];
		pk->has_l4 = true;
		return;
	case IPPROTO_ICMPV6:
		if (pk->family != AF_INET6 || len < 1)
			return;
		pk->dport = p[0];
		pk->has_l4 = true;
		return;
	}
}

static void parse_ipv4(const uint8_t *p, size_t len, struct nflog_pkt *pk)
{
	size_t ihl, tot;

	if (len < 20)
		return;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	tot = be16(p + 2);
	if (ihl < 20 || ihl > len || tot < ihl)
		return;
	if (tot < len)
		len = tot;                  /* link-layer padding after the packet */
	pk->family = AF_INET;
	pk->src.family = pk->dst.family = AF_INET;
	memcpy(pk->src.b, p + 12, 4);
	memcpy(pk->dst.b, p + 16, 4);
	pk->proto = p[9];
	if (be16(p + 6) & 0x1fff) {
		pk->fragment = true;
		return;
	}
	parse_l4(p + ihl, len - ihl, pk);
}

/* Walk IPv6 extension headers. Returns the L4 offset, or 0 if there is no
 * L4 header to read (fragment, ESP, no next header, too many or cut short). */
static size_t ipv6_skip_ext(const uint8_t *p, size_t len, struct nflog_pkt *pk)
{
	size_t off = 40;

	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		size_t hlen;

		switch (pk->proto) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case 135: /* mobility */
		case 139: /* HIP */
		case 140: /* shim6 */
			if (len - off < 2)
				return 0;
			hlen = ((size_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (len - off < 2)
				return 0;
			hlen = ((size_t)p[off + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (len - off < 8)
				return 0;
			if (be16(p + off + 2) & 0xfff8) {
				pk->fragment = true;
				pk->proto = p[off];
				return 0;
			}
			hlen = 8;
			break;
		default:
			return off;         /* an upper-layer protocol (or ESP, NONE: no ports) */
		}
		if (hlen > len - off)
			return 0;
		pk->proto = p[off];
		off += hlen;
	}
	return 0;
}

static void parse_ipv6(const uint8_t *p, size_t len, struct nflog_pkt *pk)
{
	size_t plen, off;

	if (len < 40)
		return;
	plen = be16(p + 4);
	if (plen && 40 + plen < len)
		len = 40 + plen;
	pk->family = AF_INET6;
	pk->src.family = pk->dst.family = AF_INET6;
	memcpy(pk->src.b, p + 8, 16);
	memcpy(pk->dst.b, p + 24, 16);
	pk->proto = p[6];
	off = ipv6_skip_ext(p, len, pk);
	if (off)
		parse_l4(p + off, len - off, pk);
}

static void parse_payload(const uint8_t *p, size_t len, struct nflog_pkt *pk)
{
	pk->payload_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	if (len < 1)
		return;
	if (p[0] >> 4 == 4)
		parse_ipv4(p, len, pk);
	else if (p[0] >> 4 == 6)
		parse_ipv6(p, len, pk);
}

/* ---- the netlink message ------------------------------------------------ */

/* The attributes of a message, bounded by its own nlmsg_len (libmnl's
 * walker bounds them by the aligned length, up to 3 bytes past the end of a
 * last message that is not padded). */
static void attrs_walk(const struct nlmsghdr *nlh, size_t off, const struct nlattr **tb)
{
	const uint8_t *p = (const uint8_t *)nlh + off;
	const uint8_t *end = (const uint8_t *)nlh + nlh->nlmsg_len;

	while ((size_t)(end - p) >= sizeof(struct nlattr)) {
		const struct nlattr *a = (const void *)p;
		uint16_t type = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < sizeof(*a) || a->nla_len > (size_t)(end - p))
			return;
		if (type <= NFULA_MAX)
			tb[type] = a;
		if ((size_t)MNL_ALIGN(a->nla_len) >= (size_t)(end - p))
			return;
		p += MNL_ALIGN(a->nla_len);
	}
}

static void attrs_to_pkt(const struct nlattr **tb, struct nflog_pkt *pk)
{
	const uint8_t *v;
	uint16_t n;

	if (tb[NFULA_PACKET_HDR] && mnl_attr_get_payload_len(tb[NFULA_PACKET_HDR]) >=
				    sizeof(struct nfulnl_msg_packet_hdr)) {
		v = mnl_attr_get_payload(tb[NFULA_PACKET_HDR]);
		pk->hw_protocol = be16(v);
		pk->hook = v[2];
	}
	if (tb[NFULA_IFINDEX_INDEV] && mnl_attr_get_payload_len(tb[NFULA_IFINDEX_INDEV]) >= 4)
		pk->indev = be32(mnl_attr_get_payload(tb[NFULA_IFINDEX_INDEV]));
	if (tb[NFULA_SEQ] && mnl_attr_get_payload_len(tb[NFULA_SEQ]) >= 4) {
		pk->has_seq = true;
		pk->seq = be32(mnl_attr_get_payload(tb[NFULA_SEQ]));
	}
	if (tb[NFULA_PREFIX]) {
		/* a NUL-terminated string; copy what fits, stop at the first NUL */
		v = mnl_attr_get_payload(tb[NFULA_PREFIX]);
		n = mnl_attr_get_payload_len(tb[NFULA_PREFIX]);
		for (uint16_t i = 0; i < n && i < NFLOG_PREFIX_MAX - 1 && v[i]; i++)
			pk->prefix[i] = (char)v[i];
	}
	if (tb[NFULA_PAYLOAD])
		parse_payload(mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			      mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), pk);
}

/* One NFULNL_MSG_PACKET. -EBADMSG if it cannot even hold its nfgenmsg. */
static int parse_packet(const struct nlmsghdr *nlh, struct nflog_pkt *pk)
{
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	const struct nfgenmsg *g;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*g)))
		return -EBADMSG;
	g = mnl_nlmsg_get_payload(nlh);
	memset(pk, 0, sizeof(*pk));
	pk->group = ntohs(g->res_id);
	attrs_walk(nlh, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*g)), tb);
	attrs_to_pkt(tb, pk);
	return 0;
}

int nflog_parse(const void *buf, size_t len,
		void (*cb)(void *ctx, const struct nflog_pkt *p), void *ctx)
{
	const uint8_t *p = buf;
	size_t off = 0;
	int count = 0;

	/* not mnl_nlmsg_ok/next: they take nlmsg_len as an int and align it,
	 * so a length near 2^32 passes the check and steps by 0 */
	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)(p + off);
		struct nflog_pkt pk;

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			return -EBADMSG;
		if (nlh->nlmsg_type == NLMSG_DONE)
			return count;
		if (nlh->nlmsg_type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) {
			if (parse_packet(nlh, &pk) < 0)
				return -EBADMSG;
			cb(ctx, &pk);
			if (count < INT_MAX)
				count++;
		} /* else NOOP, acks, anything else: skipped */
		if (MNL_ALIGN(nlh->nlmsg_len) >= len - off)
			return count;       /* the last one (its padding may be missing) */
		off += MNL_ALIGN(nlh->nlmsg_len);
	}
	return off == len ? count : -EBADMSG;
}

/* ---- the socket ------------------------------------------------------------ */

static void rcvbuf_grow(int fd)
{
	int sz = NFLOG_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/* BIND and the whole configuration in one message: the kernel creates the
 * instance for the BIND command, then applies the other attributes. */
static size_t config_msg(struct nflog *n, void *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = { .copy_range = htonl(NFLOG_COPY_RANGE),
					       .copy_mode = NFULNL_COPY_PACKET };

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++n->req_seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(n->group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(NFLOG_TIMEOUT_CS));
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	return nlh->nlmsg_len;
}

static void count_pkt(void *ctx, const struct nflog_pkt *p)
{
	(void)p;
	(*(int *)ctx)++;
}

int nflog_keep_early(struct nflog *n, const void *buf, size_t len)
{
	int pkts = 0;
	uint8_t *copy;

	(void)nflog_parse(buf, len, count_pkt, &pkts);
	if (!pkts)
		return 0;
	n->st.early += (uint64_t)pkts;
	if (n->nearly == NFLOG_EARLY_MAX || !(copy = malloc(len ? len : 1))) {
		n->st.lost += (uint64_t)pkts;  /* not scored: say so */
		return -ENOBUFS;
	}
	memcpy(copy, buf, len);
	n->early[n->nearly] = copy;
	n->early_len[n->nearly++] = len;
	return pkts;
}

/* The ack of our request in a datagram: 1 and *err set, or 0. */
static int find_ack(const struct nflog *n, const uint8_t *buf, size_t len, int *err)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	int rem = (int)len;

	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != n->req_seq)
			continue;
		*err = nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*e) ? -EBADMSG : e->error;
		return 1;
	}
	return 0;
}

/* The kernel answers a request before sendto() returns, so the ack is
 * already queued; packets logged between the BIND and the ack come before
 * it: they are kept for the first nflog_read. 0 or -errno. */
static int config_ack(struct nflog *n)
{
	for (;;) {
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(mnl_socket_get_fd(n->nl), n->buf, sizeof(n->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		int err;

		if (r < 0 && errno == ENOBUFS) {
			n->st.overflows++;
			continue;
		}
		if (r < 0)
			return errno == EAGAIN ? -EIO : -errno;
		if (fl < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;           /* only the kernel speaks here */
		(void)nflog_keep_early(n, n->buf, (size_t)r);
		if (find_ack(n, n->buf, (size_t)r, &err))
			return err;
	}
}

int nflog_open(uint16_t group, struct nflog **out)
{
	struct nflog *n = calloc(1, sizeof(*n));
	char msg[MNL_SOCKET_BUFFER_SIZE];
	size_t len;
	int r;

	if (!n)
		return -ENOMEM;
	n->group = group;
	n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto fail;
	}
	rcvbuf_grow(mnl_socket_get_fd(n->nl));
	len = config_msg(n, msg);
	if (mnl_socket_sendto(n->nl, msg, len) < 0) {
		r = -errno;
		goto fail;
	}
	r = config_ack(n);
	if (r < 0)
		goto fail;
	*out = n;
	return 0;
fail:
	nflog_close(n);
	return r;
}

void nflog_close(struct nflog *n)
{
	if (!n)
		return;
	if (n->nl)
		mnl_socket_close(n->nl); /* the kernel drops the instance with the socket */
	for (unsigned i = 0; i < n->nearly; i++)
		free(n->early[i]);
	free(n);
}

int nflog_fd(const struct nflog *n)
{
	return mnl_socket_get_fd(n->nl);
}

const struct nflog_stats *nflog_stats(const struct nflog *n)
{
	return &n->st;
}

struct relay {
	struct nflog *n;
	void (*cb)(void *ctx, const struct nflog_pkt *p);
	void *ctx;
	int count;
};

static void relay_pkt(void *ctx, const struct nflog_pkt *p)
{
	struct relay *rl = ctx;
	struct nflog *n = rl->n;

	if (p->has_seq) {
		if (n->have_seq && p->seq != n->next_seq)
			n->st.lost += (uint32_t)(p->seq - n->next_seq);
		n->have_seq = true;
		n->next_seq = p->seq + 1;
	}
	n->st.packets++;
	rl->count++;
	rl->cb(rl->ctx, p);
}

/* What came before the config ack, in order, before anything newer. */
static void early_replay(struct nflog *n, struct relay *rl)
{
	for (unsigned i = 0; i < n->nearly; i++) {
		n->st.datagrams++;
		if (nflog_parse(n->early[i], n->early_len[i], relay_pkt, rl) < 0)
			n->st.malformed++;
		free(n->early[i]);
		n->early[i] = NULL;
	}
	n->nearly = 0;
}

int nflog_read(struct nflog *n, void (*cb)(void *ctx, const struct nflog_pkt *p), void *ctx)
{
	struct relay rl = { n, cb, ctx, 0 };

	early_replay(n, &rl);
	for (int i = 0; i < NFLOG_READ_BUDGET; i++) {
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(mnl_socket_get_fd(n->nl), n->buf, sizeof(n->buf),
				     MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fl);

		if (r < 0) {
			if (errno == ENOBUFS) {
				n->st.overflows++;  /* messages lost; the socket still works */
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		if (fl < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;           /* only the kernel speaks here */
		if ((size_t)r > sizeof(n->buf)) {
			n->st.truncated++;
			r = (ssize_t)sizeof(n->buf);
		}
		n->st.datagrams++;
		if (nflog_parse(n->buf, (size_t)r, relay_pkt, &rl) < 0)
			n->st.malformed++;
	}
	return rl.count;
}
