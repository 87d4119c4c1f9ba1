/* link.c — RTM_NEWLINK / RTM_NEWADDR / RTM_DELADDR requests, each acknowledged. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "link.h"

/* Send one request and wait for its acknowledgement. */
static int rtnl_talk(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned portid;
	int r;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	r = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (r > 0)
		r = mnl_cb_run(buf, (size_t)r, nlh->nlmsg_seq, portid, NULL, NULL) < 0 ? -errno : 0;
	else if (r < 0)
		r = -errno;
out:
	mnl_socket_close(nl);
	return r;
}

int link_up(const char *ifname, unsigned mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	unsigned idx = if_nametoindex(ifname);

	if (!idx)
		return -ENODEV;
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)idx;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return rtnl_talk(nlh);
}

static int addr_msg(const char *ifname, uint16_t type, uint16_t flags, const struct addr *a,
		    unsigned prefixlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	unsigned idx = if_nametoindex(ifname);
	size_t alen = a->family == AF_INET ? 4 : 16;

	if (!idx)
		return -ENODEV;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_index = idx;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/* IPv6: usable at once, no duplicate address detection on a tunnel */
	if (a->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, alen, a->b);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, a->b);
	return rtnl_talk(nlh);
}

int link_addr_add(const char *ifname, const struct addr *a, unsigned prefixlen)
{
	int r = addr_msg(ifname, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, a, prefixlen);

	return r == -EEXIST ? 0 : r;
}

int link_addr_del(const char *ifname, const struct addr *a, unsigned prefixlen)
{
	int r = addr_msg(ifname, RTM_DELADDR, 0, a, prefixlen);

	return r == -EADDRNOTAVAIL ? 0 : r;
}
