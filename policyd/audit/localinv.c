/* localinv.c — SOCK_DIAG_BY_FAMILY dumps for TCP LISTEN and UDP sockets. */
#include <dirent.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "localinv.h"

#define UDP_UNCONNECTED 7 /* TCP_CLOSE: what an unconnected UDP socket reports */

static int add(struct listeners *l, const struct listener *x)
{
	struct listener *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n++] = *x;
	return 0;
}

struct dump_ctx {
	struct listeners *out;
	uint8_t proto;
	int err;
};

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct dump_ctx *d = data;
	struct listener x = { .proto = d->proto };

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_ERROR;
	if (d->proto == IPPROTO_UDP && m->id.idiag_dport != 0)
		return MNL_CB_OK; /* connected: a client, not a service */
	x.addr.family = m->idiag_family;
	memcpy(x.addr.b, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	x.port = ntohs(m->id.idiag_sport);
	x.ifindex = m->id.idiag_if;
	x.inode = m->idiag_inode;
	if (add(d->out, &x) < 0) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int dump(struct mnl_socket *s, uint8_t family, uint8_t proto, struct listeners *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;
	struct dump_ctx d = { out, proto, 0 };
	uint32_t seq = (uint32_t)time(NULL) + family + proto;
	int r;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = proto;
	req->idiag_states = proto == IPPROTO_TCP ? 1u << TCP_LISTEN : 1u << UDP_UNCONNECTED;
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(s), diag_cb, &d);
		if (r <= 0)
			return d.err ? d.err : r < 0 ? (errno ? -errno : -EIO) : 0;
	}
}

static int cmp(const void *a, const void *b)
{
	const struct listener *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->port != y->port)
		return x->port - y->port;
	if (x->addr.family != y->addr.family)
		return x->addr.family - y->addr.family;
	return memcmp(x->addr.b, y->addr.b, sizeof(x->addr.b));
}

/* One entry per (proto, address, port, device): SO_REUSEPORT groups and
 * several workers show up once. */
static void uniq(struct listeners *l)
{
	size_t k = 0;

	qsort(l->v, l->n, sizeof(*l->v), cmp);
	for (size_t i = 0; i < l->n; i++)
		if (!k || cmp(&l->v[k - 1], &l->v[i]) || l->v[k - 1].ifindex != l->v[i].ifindex)
			l->v[k++] = l->v[i];
	l->n = k;
}

/* inode -> "comm[pid]" by walking /proc/PID/fd (what ss -p does). */
static void name_process(struct listeners *l, const char *pid, const char *target)
{
	unsigned long ino;
	char path[64], comm[32] = "";
	FILE *f;

	if (sscanf(target, "socket:[%lu]", &ino) != 1)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].inode != ino || l->v[i].process[0])
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/comm", pid);
		if ((f = fopen(path, "re"))) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
		}
		comm[strcspn(comm, "\n")] = '\0';
		snprintf(l->v[i].process, sizeof(l->v[i].process), "%.31s[%.20s]", comm, pid);
	}
}

static void find_processes(struct listeners *l)
{
	DIR *proc = opendir("/proc"), *fds;
	struct dirent *p, *fd;
	char path[600], target[64];

	if (!proc)
		return;
	while ((p = readdir(proc))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.255s/fd", p->d_name);
		if (!(fds = opendir(path)))
			continue;
		while ((fd = readdir(fds))) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%.255s/fd/%.255s", p->d_name, fd->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			name_process(l, p->d_name, target);
		}
		closedir(fds);
	}
	closedir(proc);
}

int localinv_list(struct listeners *out)
{
	static const uint8_t fams[] = { AF_INET, AF_INET6 }, protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	struct mnl_socket *s = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -errno;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0)
		r = -errno;
	for (size_t f = 0; f < 2 && !r; f++)
		for (size_t p = 0; p < 2 && !r; p++)
			r = dump(s, fams[f], protos[p], out);
	mnl_socket_close(s);
	if (r < 0) {
		localinv_free(out);
		return r;
	}
	uniq(out);
	find_processes(out);
	return 0;
}

void localinv_free(struct listeners *l)
{
	if (!l)
		return;
	free(l->v);
	memset(l, 0, sizeof(*l));
}

bool listener_is_wildcard(const struct listener *l)
{
	return addr_is_zero(&l->addr);
}

bool listener_is_loopback(const struct listener *l)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	return l->addr.family == AF_INET ? l->addr.b[0] == 127
					  : !memcmp(l->addr.b, v6lo, 16);
}
