/* nl.c — nf_tables batches over NETLINK_NETFILTER with libmnl. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"

#define PAGE_SIZE_BATCH (128 * 1024)
#define PAGE_OVERRUN (65536 + 4096)   /* one message always fits */
#define DUMP_BUF_SIZE 32768

struct msginfo {
	const struct nlmsghdr *nlh;  /* in the batch's pages, which never move */
	uint32_t origin;
	uint16_t type;
	uint32_t elem_first, elem_n; /* element origins in elem_origin[] */
};

struct nlb {
	struct nftnl_batch *batch;
	uint32_t seq0, seq;
	struct msginfo *msg;         /* per message, index seq - seq0 */
	size_t cap;
	uint32_t *elem_origin;
	size_t nelem, elem_cap;
	size_t bytes;
};

struct rules_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
};

static uint32_t seq_base(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000) << 8;
}

struct nlb *nlb_new(void)
{
	struct nlb *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->batch = nftnl_batch_alloc(PAGE_SIZE_BATCH, PAGE_OVERRUN);
	if (!b->batch) {
		free(b);
		return NULL;
	}
	b->seq0 = b->seq = seq_base();
	/* slot 0 is BATCH_BEGIN, written at send time into its own buffer */
	b->seq++;
	return b;
}

void nlb_free(struct nlb *b)
{
	if (!b)
		return;
	nftnl_batch_free(b->batch);
	free(b->msg);
	free(b->elem_origin);
	free(b);
}

struct nlmsghdr *nlb_msg(struct nlb *b, uint16_t type, uint16_t family, uint16_t flags,
			 uint32_t origin)
{
	size_t idx = b->seq - b->seq0;

	if (idx >= b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct msginfo *m = realloc(b->msg, cap * sizeof(*m));

		if (!m)
			return NULL;
		b->msg = m;
		b->cap = cap;
	}
	b->msg[idx] = (struct msginfo){ .nlh = nftnl_batch_buffer(b->batch), .origin = origin,
					.type = type, .elem_first = (uint32_t)b->nelem };
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->batch), type, family, flags, b->seq++);
}

int nlb_elem_origin(struct nlb *b, uint32_t origin)
{
	if (b->nelem == b->elem_cap) {
		size_t cap = b->elem_cap ? b->elem_cap * 2 : 1024;
		uint32_t *v = realloc(b->elem_origin, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->elem_origin = v;
		b->elem_cap = cap;
	}
	b->elem_origin[b->nelem++] = origin;
	return 0;
}

int nlb_end_msg(struct nlb *b)
{
	const struct nlmsghdr *nlh = nftnl_batch_buffer(b->batch);
	struct msginfo *m = &b->msg[b->seq - 1 - b->seq0];

	m->elem_n = (uint32_t)(b->nelem - m->elem_first);
	b->bytes += nlh->nlmsg_len;
	return nftnl_batch_update(b->batch) < 0 ? -ENOMEM : 0;
}

size_t nlb_count(const struct nlb *b)
{
	return b->seq - b->seq0 - 1;
}

size_t nlb_bytes(const struct nlb *b)
{
	return b->bytes;
}

int nlb_walk(struct nlb *b, int (*fn)(const struct nlmsghdr *nlh, void *ctx), void *ctx)
{
	int n = nftnl_batch_iovec_len(b->batch);
	struct iovec *iov = calloc((size_t)n + 1, sizeof(*iov));
	int r = 0;

	if (!iov)
		return -ENOMEM;
	nftnl_batch_iovec(b->batch, iov, (uint32_t)n);
	for (int i = 0; i < n && r == 0; i++) {
		const struct nlmsghdr *nlh = iov[i].iov_base;
		int len = (int)iov[i].iov_len;

		for (; mnl_nlmsg_ok(nlh, len) && r == 0; nlh = mnl_nlmsg_next(nlh, &len))
			r = fn(nlh, ctx);
	}
	free(iov);
	return r;
}

void nl_errors_free(struct nl_errors *e)
{
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static void errors_add(struct nl_errors *e, int err, uint16_t type, uint32_t origin)
{
	if (!e)
		return;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct nl_error *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = (struct nl_error){ .err = err, .type = type, .origin = origin };
}

/* ---- socket ---------------------------------------------------------------- */

int rules_nl_open(struct rules_nl **out)
{
	struct rules_nl *nl = calloc(1, sizeof(*nl));
	int one = 1;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		if (nl->sock)
			mnl_socket_close(nl->sock);
		free(nl);
		return err ? err : -EIO;
	}
	/* errors without the echoed request, and with the offending attribute */
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = seq_base() ^ 0x5a5a5a00;
	*out = nl;
	return 0;
}

void rules_nl_close(struct rules_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

uint32_t rules_nl_portid(const struct rules_nl *nl)
{
	return nl->portid;
}

static void size_buffers(struct rules_nl *nl, size_t sndbytes, size_t nmsgs)
{
	int fd = mnl_socket_get_fd(nl->sock);
	int snd = sndbytes > 0x3fffffff ? 0x3fffffff : (int)sndbytes + 65536;
	int rcv = nmsgs > 0x100000 ? 0x3fffffff : (int)(nmsgs * 1024) + (1 << 20);

	/* a batch travels as one skb: the send buffer must hold all of it */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

static void put_getgen(char *buf, uint32_t seq)
{
	nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, seq);
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *gen = nftnl_gen_alloc();

	if (!gen)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, gen) == 0)
		*(uint32_t *)data = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	return MNL_CB_OK;
}

int rules_nl_genid(struct rules_nl *nl, uint32_t *genid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = nl->seq++;
	ssize_t n;
	int r;

	put_getgen(buf, seq);
	if (mnl_socket_sendto(nl->sock, buf, ((struct nlmsghdr *)buf)->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, gen_cb, genid);
	} while (r > 0);
	return r < 0 ? -errno : 0;
}

/* ---- sending a batch ----------------------------------------------------------- */

static void put_begin(char *buf, uint32_t seq, uint32_t genid)
{
	struct nlmsghdr *nlh = nftnl_batch_begin(buf, seq);

	if (genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
}

/* The extended ACK's offset into the failing message, or 0. */
static uint32_t ack_offset(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(struct nlmsgerr))
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_OFFS && mnl_attr_get_payload_len(a) >= 4)
			return mnl_attr_get_u32(a);
	return 0;
}

/* Which element of an element message contains byte offset offs? */
static long elem_at(const struct nlmsghdr *nlh, uint32_t offs)
{
	const struct nlattr *a, *e;
	long i = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a) {
			uint32_t start = (uint32_t)((const char *)e - (const char *)nlh);

			if (offs >= start && offs < start + e->nla_len)
				return i;
			i++;
		}
	}
	return -1;
}

static uint32_t error_origin(const struct nlb *b, size_t idx, uint32_t offs)
{
	const struct msginfo *m = &b->msg[idx];
	long e = offs && m->elem_n ? elem_at(m->nlh, offs) : -1;

	if (e >= 0 && (uint32_t)e < m->elem_n)
		return b->elem_origin[m->elem_first + (uint32_t)e];
	return m->origin;
}

/* Read replies until the GETGEN probe sent after the batch answers: the
 * kernel handles one socket's messages in order, so by then every error of
 * the batch has been queued. This holds on every kernel version, unlike
 * NLM_F_ACK on BATCH_END (6.10+). */
static int drain(struct rules_nl *nl, struct nlb *b, uint32_t probe_seq, struct nl_errors *errs)
{
	char *buf = malloc(1 << 16);
	int first = 0;
	bool done = false;

	if (!buf)
		return -ENOMEM;
	while (!done) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl->sock), .events = POLLIN };
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		ssize_t n;
		int len;

		if (poll(&pfd, 1, 30000) == 0) { /* the kernel always answers; never hang */
			first = first ? first : -ETIMEDOUT;
			break;
		}
		n = recv(pfd.fd, buf, 1 << 16, 0);
		len = (int)n;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			first = first ? first : -errno; /* ENOBUFS: errors were lost */
			break;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;
			size_t idx;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue; /* the probe's NEWGEN reply */
			if (nlh->nlmsg_seq == probe_seq) {
				done = true; /* its ACK: nothing of the batch can follow */
				continue;
			}
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error == 0)
				continue;
			idx = nlh->nlmsg_seq - b->seq0;
			if (idx > 0 && idx < b->seq - b->seq0)
				errors_add(errs, -e->error, b->msg[idx].type,
					   error_origin(b, idx, ack_offset(nlh)));
			else /* BATCH_BEGIN: the whole batch (e.g. a stale generation) */
				errors_add(errs, -e->error, NFNL_MSG_BATCH_BEGIN, 0);
			if (!first)
				first = e->error;
		}
	}
	free(buf);
	return first;
}

int rules_nl_send(struct rules_nl *nl, struct nlb *b, bool commit, uint32_t genid,
		  struct nl_errors *errs)
{
	char head[256], tail[256];
	struct iovec *iov;
	struct msghdr msg = { 0 };
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	uint32_t probe_seq = b->seq + 1;
	int n, r;

	put_begin(head, b->seq0, genid);
	if (commit)
		nftnl_batch_end(tail, b->seq);
	n = nftnl_batch_iovec_len(b->batch);
	iov = calloc((size_t)n + 3, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	iov[0] = (struct iovec){ head, ((struct nlmsghdr *)head)->nlmsg_len };
	nftnl_batch_iovec(b->batch, iov + 1, (uint32_t)n);
	if (commit) {
		iov[n + 1] = (struct iovec){ tail, ((struct nlmsghdr *)tail)->nlmsg_len };
		n++;
	}
	size_buffers(nl, b->bytes + 4096, nlb_count(b));
	msg.msg_name = &snl;
	msg.msg_namelen = sizeof(snl);
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)n + 1;
	r = (int)sendmsg(mnl_socket_get_fd(nl->sock), &msg, 0);
	free(iov);
	if (r < 0)
		return -errno;
	put_getgen(tail, probe_seq);
	if (mnl_socket_sendto(nl->sock, tail, ((struct nlmsghdr *)tail)->nlmsg_len) < 0)
		return -errno;
	r = drain(nl, b, probe_seq, errs);
	return r;
}

/* ---- dumping set elements --------------------------------------------------- */

struct dump_ctx {
	nl_elem_fn fn;
	void *ctx;
};

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	it = nftnl_set_elems_iter_create(s);
	for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e; e = nftnl_set_elems_iter_next(it)) {
		struct nl_elem ne = { 0 };

		ne.key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &ne.keylen);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END))
			ne.key_end = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &ne.endlen);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION)) {
			ne.expires_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
			/* about to expire, but it has a timeout */
			ne.expires_ms = ne.expires_ms ? ne.expires_ms : 1;
		}
		if (ne.key)
			d->fn(d->ctx, &ne);
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

int rules_nl_dump_set(struct rules_nl *nl, const char *table, const char *set, nl_elem_fn fn,
		      void *ctx)
{
	char *buf = malloc(DUMP_BUF_SIZE);
	struct nftnl_set *s = nftnl_set_alloc();
	struct dump_ctx d = { fn, ctx };
	struct nlmsghdr *nlh;
	uint32_t seq = nl->seq++;
	int r = 0;

	if (!buf || !s) {
		r = -ENOMEM;
		goto out;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK,
				    seq);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, DUMP_BUF_SIZE);

		if (n < 0) {
			r = -errno;
			break;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, elem_cb, &d);
		if (r <= 0) {
			r = r < 0 ? -errno : 0;
			break;
		}
	}
out:
	nftnl_set_free(s);
	free(buf);
	return r;
}
