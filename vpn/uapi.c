/* uapi.c — parsing `wg`'s set requests. */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uapi.h"

#define MAX_LINE 512

static int fail(struct uapi_set *s, int err, const char *what, const char *key)
{
	snprintf(s->error, sizeof(s->error), "%s: %.60s", what, key);
	return err;
}

static bool parse_hex_key(const char *v, uint8_t out[32])
{
	size_t len = 0;

	return strlen(v) == 64 && strspn(v, "0123456789abcdef") == 64 &&
	       sodium_hex2bin(out, 32, v, 64, NULL, &len, NULL) == 0 && len == 32;
}

static bool parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	unsigned long n = 0;

	if (!*v || strlen(v) > 10 || strspn(v, "0123456789") != strlen(v) ||
	    (v[0] == '0' && v[1]))
		return false;
	for (; *v; v++)
		n = n * 10 + (unsigned long)(*v - '0');
	*out = n;
	return n <= max;
}

static bool parse_bool_true(const char *v)
{
	return !strcmp(v, "true");
}

static bool parse_endpoint(const char *v, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(v, ':');
	unsigned long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (!colon || !parse_uint(colon + 1, 65535, &port) || port == 0)
		return false;
	if (v[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		hl = (size_t)(colon - v);
		if (hl < 3 || v[hl - 1] != ']' || hl - 2 >= sizeof(host))
			return false;
		memcpy(host, v + 1, hl - 2);
		host[hl - 2] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		hl = (size_t)(colon - v);
		if (hl == 0 || hl >= sizeof(host))
			return false;
		memcpy(host, v, hl);
		host[hl] = '\0';
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return inet_pton(AF_INET, host, &s4->sin_addr) == 1;
	}
}

static bool parse_prefix(const char *v, struct uapi_allowed_ip *a)
{
	char host[64];
	const char *slash;
	unsigned long cidr;
	size_t hl;

	memset(a, 0, sizeof(*a));
	if (*v == '-') {
		a->remove = true;
		v++;
	}
	slash = strchr(v, '/');
	if (!slash || (hl = (size_t)(slash - v)) == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, v, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = AF_INET6;
	else
		return false;
	if (!parse_uint(slash + 1, a->family == AF_INET ? 32 : 128, &cidr))
		return false;
	a->cidr = (uint8_t)cidr;
	return true;
}

static int add_peer(struct uapi_set *s, const char *v)
{
	struct uapi_peer *p = realloc(s->peers, (s->npeers + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	s->peers = p;
	p = &s->peers[s->npeers];
	memset(p, 0, sizeof(*p));
	if (!parse_hex_key(v, p->public_key))
		return fail(s, -EINVAL, "bad public_key", v);
	s->npeers++;
	return 0;
}

static int add_allowed_ip(struct uapi_set *s, struct uapi_peer *p, const char *v)
{
	struct uapi_allowed_ip a, *n;

	if (!parse_prefix(v, &a))
		return fail(s, -EINVAL, "bad allowed_ip", v);
	if (!(n = realloc(p->allowed_ips, (p->nallowed_ips + 1) * sizeof(*n))))
		return -ENOMEM;
	p->allowed_ips = n;
	p->allowed_ips[p->nallowed_ips++] = a;
	return 0;
}

static int device_key(struct uapi_set *s, const char *k, const char *v)
{
	unsigned long n;

	if (!strcmp(k, "private_key")) {
		if (!parse_hex_key(v, s->private_key))
			return fail(s, -EINVAL, "bad private_key", "(not shown)");
		s->has_private_key = true;
	} else if (!strcmp(k, "listen_port")) {
		if (!parse_uint(v, 65535, &n))
			return fail(s, -EINVAL, "bad listen_port", v);
		s->listen_port = (uint16_t)n;
		s->has_listen_port = true;
	} else if (!strcmp(k, "fwmark")) {
		if (!parse_uint(v, UINT32_MAX, &n))
			return fail(s, -EINVAL, "bad fwmark", v);
		s->fwmark = (uint32_t)n;
		s->has_fwmark = true;
	} else if (!strcmp(k, "replace_peers")) {
		if (!parse_bool_true(v))
			return fail(s, -EINVAL, "bad replace_peers", v);
		s->replace_peers = true;
	} else {
		return fail(s, -EPROTO, "unknown device key", k);
	}
	return 0;
}

static int peer_key(struct uapi_set *s, struct uapi_peer *p, const char *k, const char *v)
{
	unsigned long n;

	if (!strcmp(k, "remove") && parse_bool_true(v))
		p->remove = true;
	else if (!strcmp(k, "update_only") && parse_bool_true(v))
		p->update_only = true;
	else if (!strcmp(k, "replace_allowed_ips") && parse_bool_true(v))
		p->replace_allowed_ips = true;
	else if (!strcmp(k, "preshared_key")) {
		if (!parse_hex_key(v, p->psk))
			return fail(s, -EINVAL, "bad preshared_key", "(not shown)");
		p->has_psk = true;
	} else if (!strcmp(k, "endpoint")) {
		if (!parse_endpoint(v, &p->endpoint))
			return fail(s, -EINVAL, "bad endpoint", v);
		p->has_endpoint = true;
	} else if (!strcmp(k, "persistent_keepalive_interval")) {
		if (!parse_uint(v, 65535, &n))
			return fail(s, -EINVAL, "bad persistent_keepalive_interval", v);
		p->keepalive = (uint16_t)n;
		p->has_keepalive = true;
	} else if (!strcmp(k, "allowed_ip")) {
		return add_allowed_ip(s, p, v);
	} else if (!strcmp(k, "protocol_version")) {
		if (strcmp(v, "1"))
			return fail(s, -EPROTO, "unsupported protocol_version", v);
	} else {
		return fail(s, -EINVAL, "bad peer key or value", k);
	}
	return 0;
}

int uapi_parse_set(const char *body, size_t len, struct uapi_set *out, size_t *consumed)
{
	size_t off = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	while (off < len && r == 0) {
		const char *nl = memchr(body + off, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - (body + off)) : len - off;
		char line[MAX_LINE], *eq;

		if (!nl)
			return fail(out, -EPROTO, "unterminated line", "");
		off += ll + 1;
		if (ll == 0)
			break; /* the empty line ends the request */
		if (ll >= sizeof(line) || memchr(body + off - ll - 1, '\0', ll))
			return fail(out, -EPROTO, "line too long or with NUL", "");
		memcpy(line, body + off - ll - 1, ll);
		line[ll] = '\0';
		if (!(eq = strchr(line, '=')))
			return fail(out, -EPROTO, "no '=' in line", line);
		*eq = '\0';
		if (!strcmp(line, "public_key"))
			r = add_peer(out, eq + 1);
		else if (out->npeers)
			r = peer_key(out, &out->peers[out->npeers - 1], line, eq + 1);
		else
			r = device_key(out, line, eq + 1);
		sodium_memzero(line, sizeof(line));
	}
	if (consumed)
		*consumed = off;
	return r;
}

void uapi_set_free(struct uapi_set *s)
{
	for (size_t i = 0; i < s->npeers; i++) {
		free(s->peers[i].allowed_ips);
		sodium_memzero(s->peers[i].psk, sizeof(s->peers[i].psk));
	}
	free(s->peers);
	sodium_memzero(s, sizeof(*s));
}

void uapi_hex(char out[65], const uint8_t key[32])
{
	sodium_bin2hex(out, 65, key, 32);
}

int uapi_format_endpoint(char *buf, size_t len, const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		return snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		return snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	}
	return -EAFNOSUPPORT;
}
