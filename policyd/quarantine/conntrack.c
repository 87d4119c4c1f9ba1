/* conntrack.c — delete a source address's conntrack entries over ctnetlink. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "quarantine/conntrack.h"

#define CT_BUF 32768
#define TUPLE_MAX 256

/* One entry to delete: its original tuple as the kernel dumped it. */
struct ct_entry {
	uint8_t tuple[TUPLE_MAX];
	uint16_t tlen;
	bool has_id, has_zone;
	uint32_t id;                        /* network order, as dumped */
	uint16_t zone;                      /* network order */
};

struct dump {
	const struct addr *src;             /* any of these, all of one family */
	size_t nsrc;
	int family;
	struct ct_entry *v;                 /* NULL: only count */
	size_t n;                           /* matches (stored or counted) */
	bool more;                          /* matches beyond CONNTRACK_BATCH */
};

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= CTA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/* Does the nested CTA_TUPLE_ORIG have one of d's addresses as its source? */
static bool tuple_src_is(const struct nlattr *orig, const struct dump *d)
{
	const struct nlattr *tt[CTA_MAX + 1] = { 0 }, *ip[CTA_MAX + 1] = { 0 };
	const struct nlattr *a;
	size_t alen = addr_size(d->family);

	if (mnl_attr_parse_nested(orig, attr_cb, tt) < 0 || !tt[CTA_TUPLE_IP])
		return false;
	if (mnl_attr_parse_nested(tt[CTA_TUPLE_IP], attr_cb, ip) < 0)
		return false;
	a = ip[d->family == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC];
	if (!a || mnl_attr_get_payload_len(a) != alen)
		return false;
	for (size_t i = 0; i < d->nsrc; i++)
		if (!memcmp(mnl_attr_get_payload(a), d->src[i].b, alen))
			return true;
	return false;
}

static int entry_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };
	struct dump *d = data;
	struct ct_entry *e;
	uint16_t tlen;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0 || !tb[CTA_TUPLE_ORIG])
		return MNL_CB_OK;
	if (!tuple_src_is(tb[CTA_TUPLE_ORIG], d))
		return MNL_CB_OK;
	if (!d->v) {
		d->n++;
		return MNL_CB_OK;
	}
	tlen = mnl_attr_get_payload_len(tb[CTA_TUPLE_ORIG]);
	if (d->n == CONNTRACK_BATCH || tlen > TUPLE_MAX) {
		d->more = true;
		return MNL_CB_OK;
	}
	e = &d->v[d->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->tuple, mnl_attr_get_payload(tb[CTA_TUPLE_ORIG]), tlen);
	e->tlen = tlen;
	if (tb[CTA_ID] && mnl_attr_get_payload_len(tb[CTA_ID]) == 4) {
		e->has_id = true;
		memcpy(&e->id, mnl_attr_get_payload(tb[CTA_ID]), 4);
	}
	if (tb[CTA_ZONE] && mnl_attr_get_payload_len(tb[CTA_ZONE]) == 2) {
		e->has_zone = true;
		memcpy(&e->zone, mnl_attr_get_payload(tb[CTA_ZONE]), 2);
	}
	return MNL_CB_OK;
}

static struct nlmsghdr *msg_start(void *buf, uint8_t type, uint16_t flags, int family,
				  uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = (uint8_t)family;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	return nlh;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Until the socket has an answer: -ETIMEDOUT once the deadline has passed,
 * whether or not the kernel is quick (a huge table answers at once, but for
 * a long time). */
static int wait_reply(struct mnl_socket *nl, uint64_t deadline)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };

	for (;;) {
		uint64_t now = mono_ms();
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now));
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Send one request and run cb over the answers until the end of the dump
 * or the ack. 0 or -errno (-EINTR: the kernel says the dump was interrupted;
 * -ETIMEDOUT: the deadline passed). */
static int talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, void *buf,
		uint64_t deadline)
{
	uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	int r;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n;

		if ((r = wait_reply(nl, deadline)) < 0)
			return r;
		if ((n = mnl_socket_recvfrom(nl, buf, CT_BUF)) < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
	} while (r > MNL_CB_STOP);
	return r < 0 ? -errno : 0;
}

static int dump(struct mnl_socket *nl, struct dump *d, void *buf, uint32_t seq, uint64_t deadline)
{
	struct nlmsghdr *nlh = msg_start(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, d->family, seq);

	d->n = 0;
	d->more = false;
	return talk(nl, nlh, entry_cb, d, buf, deadline);
}

/* 1 deleted, 0 already gone, -errno. */
static int delete_one(struct mnl_socket *nl, const struct ct_entry *e, int family, void *buf,
		      uint32_t seq, uint64_t deadline)
{
	struct nlmsghdr *nlh = msg_start(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, family, seq);
	int r;

	mnl_attr_put(nlh, CTA_TUPLE_ORIG | NLA_F_NESTED, e->tlen, e->tuple);
	if (e->has_zone)
		mnl_attr_put(nlh, CTA_ZONE, 2, &e->zone);
	if (e->has_id)
		mnl_attr_put(nlh, CTA_ID, 4, &e->id);
	r = talk(nl, nlh, NULL, NULL, buf, deadline);
	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

static struct mnl_socket *ct_open(int *err)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);

	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0)
		return nl;
	*err = -errno;
	if (nl)
		mnl_socket_close(nl);
	return NULL;
}

/* One pass: dump (again if interrupted), delete what matched. Returns the
 * number deleted; *more if matches were left for another pass. */
static int kill_pass(const struct addr *src, size_t nsrc, struct ct_entry *v, void *buf,
		     uint32_t *seq, bool *more, uint64_t deadline)
{
	struct dump d = { .src = src, .nsrc = nsrc, .family = src->family, .v = v };
	struct mnl_socket *nl = NULL;
	int r = 0, deleted = 0;

	for (int tries = 0; tries < CONNTRACK_PASSES; tries++) {
		nl = ct_open(&r);
		if (!nl)
			return r;
		r = dump(nl, &d, buf, ++*seq, deadline);
		if (r != -EINTR)
			break;
		mnl_socket_close(nl);     /* drop the rest of the interrupted dump */
		nl = NULL;
	}
	if (r < 0) {
		if (nl)
			mnl_socket_close(nl);
		return r;
	}
	for (size_t i = 0; i < d.n; i++) {
		r = delete_one(nl, &v[i], d.family, buf, ++*seq, deadline);
		if (r < 0)
			break;
		deleted += r;
	}
	mnl_socket_close(nl);
	*more = d.more;
	return r < 0 ? r : deleted;
}

/* Every entry from any of src[0..n) (one family), in passes. */
static int kill_family(const struct addr *src, size_t n, struct ct_entry *v, void *buf,
		       uint32_t *seq, uint64_t deadline)
{
	int total = 0, r = 0;
	bool more = true;

	for (int pass = 0; n && more && pass < CONNTRACK_PASSES; pass++) {
		r = kill_pass(src, n, v, buf, seq, &more, deadline);
		if (r < 0)
			return r;
		total += r;
	}
	return total;
}

int conntrack_kill_srcs(const struct addr *src, size_t n, unsigned timeout_ms)
{
	uint64_t deadline = mono_ms() + timeout_ms;
	struct addr *fam = calloc(n ? n : 1, sizeof(*fam));
	struct ct_entry *v = calloc(CONNTRACK_BATCH, sizeof(*v));
	void *buf = malloc(CT_BUF);
	uint32_t seq = (uint32_t)time(NULL);
	int total = 0, r = 0;

	for (size_t i = 0; i < n && !r; i++)
		if (src[i].family != AF_INET && src[i].family != AF_INET6)
			r = -EAFNOSUPPORT;
	if (!r && (!fam || !v || !buf))
		r = -ENOMEM;
	/* one dump per family, matched against all of that family's addresses */
	for (int f = 0; f < 2 && !r; f++) {
		int family = f ? AF_INET6 : AF_INET;
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (src[i].family == family)
				fam[k++] = src[i];
		r = kill_family(fam, k, v, buf, &seq, deadline);
		total += r > 0 ? r : 0;
		r = r < 0 ? r : 0;
	}
	free(fam);
	free(v);
	free(buf);
	return r < 0 ? r : total;
}

int conntrack_kill_src(const struct addr *src)
{
	return conntrack_kill_srcs(src, 1, CONNTRACK_TIMEOUT_MS);
}

int conntrack_count_src(const struct addr *src)
{
	struct dump d = { .src = src, .nsrc = 1, .family = src->family };
	uint64_t deadline = mono_ms() + CONNTRACK_TIMEOUT_MS;
	struct mnl_socket *nl;
	void *buf;
	int r = 0;

	if (src->family != AF_INET && src->family != AF_INET6)
		return -EAFNOSUPPORT;
	buf = malloc(CT_BUF);
	if (!buf)
		return -ENOMEM;
	for (int tries = 0; tries < CONNTRACK_PASSES; tries++) {
		nl = ct_open(&r);
		if (!nl)
			break;
		r = dump(nl, &d, buf, (uint32_t)time(NULL) + (uint32_t)tries, deadline);
		mnl_socket_close(nl);
		if (r != -EINTR)
			break;
	}
	free(buf);
	return r < 0 ? r : (int)d.n;
}
