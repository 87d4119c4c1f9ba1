/* tables.c — list the nftables tables of this namespace with libmnl. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "tables.h"

static const char *family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_ARP: return "arp";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_NETDEV: return "netdev";
	default: return "unknown";
	}
}

static int add(struct tables *t, const char *family, const char *name)
{
	char **v = realloc(t->names, (t->n + 1) * sizeof(*v));
	size_t len = strlen(family) + strlen(name) + 2;

	if (!v)
		return -ENOMEM;
	t->names = v;
	if (!(v[t->n] = malloc(len)))
		return -ENOMEM;
	snprintf(v[t->n++], len, "%s %s", family, name);
	return 0;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *tb = nftnl_table_alloc();
	struct tables *t = data;
	const char *name;
	int r = MNL_CB_OK;

	if (!tb)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, tb) == 0) {
		name = nftnl_table_get_str(tb, NFTNL_TABLE_NAME);
		if (add(t, family_name(nftnl_table_get_u32(tb, NFTNL_TABLE_FAMILY)),
			name ? name : "?") < 0)
			r = MNL_CB_ERROR;
	}
	nftnl_table_free(tb);
	return r;
}

static int dump(struct mnl_socket *s, struct tables *out)
{
	size_t len = MNL_SOCKET_BUFFER_SIZE;
	char *buf = malloc(len);
	uint32_t seq = (uint32_t)time(NULL), portid = mnl_socket_get_portid(s);
	struct nlmsghdr *nlh;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NLM_F_DUMP, seq);
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s, buf, len);

		if (n < 0) {
			r = -errno;
			break;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, table_cb, out);
		if (r <= 0) {
			r = r < 0 ? (errno ? -errno : -EIO) : 0;
			break;
		}
	}
out:
	free(buf);
	return r;
}

int tables_list(struct tables *out)
{
	struct mnl_socket *s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	int r;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -errno;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0)
		r = -errno;
	else
		r = dump(s, out);
	mnl_socket_close(s);
	if (r < 0)
		tables_free(out);
	return r;
}

void tables_free(struct tables *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	memset(t, 0, sizeof(*t));
}

bool tables_has(const struct tables *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->names[i], name))
			return true;
	return false;
}

size_t tables_foreign(const struct tables *t, char *buf, size_t len)
{
	size_t k = 0, off = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		int n;

		if (!strcmp(t->names[i], "inet policyd"))
			continue;
		k++;
		if (off >= len)
			continue;
		n = snprintf(buf + off, len - off, "%stable %s", off ? ", " : "", t->names[i]);
		off += n > 0 ? (size_t)n : 0;
	}
	return k;
}
