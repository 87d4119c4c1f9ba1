/* vantage.c — source addresses and local interfaces. */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vantage.h"

static socklen_t to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->b, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, a->b, 16);
	return sizeof(*s6);
}

static bool from_sockaddr(const struct sockaddr *sa, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		a->family = AF_INET6;
		memcpy(a->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

int vantage_route_source(const struct addr *dst, struct addr *src)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(dst, 9, &ss);
	int fd = socket(dst->family, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		r = -errno;
	len = sizeof(ss);
	if (!r && getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		r = -errno;
	if (!r && !from_sockaddr((struct sockaddr *)&ss, src))
		r = -EAFNOSUPPORT;
	close(fd);
	return r;
}

bool vantage_local_iface(const struct addr *a, char ifname[IF_NAMESIZE])
{
	struct ifaddrs *ifs, *i;
	bool found = false;
	struct addr b;

	if (getifaddrs(&ifs) < 0)
		return false;
	for (i = ifs; i && !found; i = i->ifa_next) {
		if (!from_sockaddr(i->ifa_addr, &b) || b.family != a->family ||
		    memcmp(a->b, b.b, sizeof(b.b)))
			continue;
		strncpy(ifname, i->ifa_name, IF_NAMESIZE - 1);
		ifname[IF_NAMESIZE - 1] = '\0';
		found = true;
	}
	freeifaddrs(ifs);
	return found;
}
