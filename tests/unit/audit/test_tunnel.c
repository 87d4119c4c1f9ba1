/* test_tunnel.c — the auditor's view of its own datapath: a UAPI "get"
 * reply parsed for one peer, read from a stand-in datapath on a socket,
 * endpoints, and the rule that says a handshake happened during the audit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit/tunnel.h"

static const uint8_t node[32] = { 0xaa, 0x01, [31] = 0x7f };

static const char reply[] =
	"private_key=0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c\n"
	"listen_port=51820\n"
	"public_key=bb00000000000000000000000000000000000000000000000000000000000000\n"
	"last_handshake_time_sec=99\n"
	"rx_bytes=5\n"
	"public_key=aa0100000000000000000000000000000000000000000000000000000000007f\n"
	"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
	"protocol_version=1\n"
	"endpoint=203.0.113.1:51820\n"
	"last_handshake_time_sec=1764000000\n"
	"last_handshake_time_nsec=250000000\n"
	"tx_bytes=4096\n"
	"rx_bytes=1184\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=100.64.0.1/32\n"
	"errno=0\n\n";

static void test_parse(void **state)
{
	static const uint8_t other[32] = { 0xcc };
	struct tunnel_peer p;

	(void)state;
	char ep[ADDR_STRLEN];

	assert_int_equal(tunnel_parse(reply, strlen(reply), node, &p), 0);
	assert_true(p.found);
	assert_int_equal(p.handshake.tv_sec, 1764000000);
	assert_int_equal(p.handshake.tv_nsec, 250000000);
	assert_true(p.has_endpoint);
	assert_string_equal(addr_str(&p.endpoint, ep), "203.0.113.1");
	assert_int_equal(p.endpoint_port, 51820);
	assert_int_equal(tunnel_parse(reply, strlen(reply), other, &p), 0);
	assert_false(p.found);
	assert_false(p.has_endpoint);
	assert_int_equal(p.handshake.tv_sec, 0);
}

static void test_parse_bad(void **state)
{
	struct tunnel_peer p;
	char buf[2048];

	(void)state;
	/* cut before the blank line, or before the errno line */
	assert_int_equal(tunnel_parse(reply, strlen(reply) - 1, node, &p), -EBADMSG);
	assert_int_equal(tunnel_parse(reply, strlen(reply) - 9, node, &p), -EBADMSG);
	assert_int_equal(tunnel_parse("", 0, node, &p), -EBADMSG);
	assert_int_equal(tunnel_parse("errno=19\n\n", 10, node, &p), -EIO);
	assert_int_equal(tunnel_parse("errno=0\n\n", 9, node, &p), 0);
	assert_false(p.found);
	assert_int_equal(tunnel_parse("no equals sign\nerrno=0\n\n", 24, node, &p), -EBADMSG);
	snprintf(buf, sizeof(buf), "%.*slast_handshake_time_sec=18446744073709551616\nerrno=0\n\n",
		 (int)(strstr(reply, "allowed_ip") - reply), reply);
	assert_int_equal(tunnel_parse(buf, strlen(buf), node, &p), -EBADMSG); /* 2^64 */
	snprintf(buf, sizeof(buf), "%.*sendpoint=somewhere:51820\nerrno=0\n\n",
		 (int)(strstr(reply, "allowed_ip") - reply), reply);
	assert_int_equal(tunnel_parse(buf, strlen(buf), node, &p), -EBADMSG);
	snprintf(buf, sizeof(buf), "%.*slast_handshake_time_nsec=1000000000\nerrno=0\n\n",
		 (int)(strstr(reply, "allowed_ip") - reply), reply);
	assert_int_equal(tunnel_parse(buf, strlen(buf), node, &p), -EBADMSG);
}

/* A stand-in datapath: answers one "get=1" on path with text, in a child. */
static pid_t serve_once(const char *path, const char *text)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls = socket(AF_UNIX, SOCK_STREAM, 0), c;
	char req[16] = "";
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	if ((pid = fork()) == 0) {
		c = accept(ls, NULL, NULL);
		if (c < 0 || read(c, req, sizeof(req) - 1) != 7 || strcmp(req, "get=1\n\n"))
			_exit(1);
		_exit(write(c, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : 1);
	}
	close(ls);
	return pid;
}

static void test_read_path(void **state)
{
	char dir[] = "/tmp/test_tunnel.XXXXXX", path[64];
	struct tunnel_peer p;
	pid_t pid;
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pd0.sock", dir);
	pid = serve_once(path, reply);
	assert_int_equal(tunnel_read_path(path, node, &p), 0);
	assert_true(p.found);
	assert_int_equal(p.endpoint_port, 51820);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	/* a socket nobody listens on any more, and no socket at all */
	assert_int_equal(tunnel_read_path(path, node, &p), -ENOENT);
	unlink(path);
	assert_int_equal(tunnel_read_path(path, node, &p), -ENOENT);
	/* a reply cut short by the datapath closing */
	pid = serve_once(path, "listen_port=1\n");
	assert_int_equal(tunnel_read_path(path, node, &p), -EBADMSG);
	waitpid(pid, &st, 0);
	unlink(path);
	rmdir(dir);
}

static void test_endpoints(void **state)
{
	static const char *const bad[] = { "", ":51820", "203.0.113.1", "203.0.113.1:",
					   "203.0.113.1:0", "203.0.113.1:65536", "[fd00::1:51820",
					   "fd00::1]:51820", "[]:1", "host.example:51820",
					   "203.0.113.1:51x20" };
	struct addr a;
	uint16_t port;
	char s[ADDR_STRLEN];

	(void)state;
	assert_int_equal(tunnel_endpoint_parse("[fd7a:115c:a1e0::1]:443", 23, &a, &port), 0);
	assert_string_equal(addr_str(&a, s), "fd7a:115c:a1e0::1");
	assert_int_equal(port, 443);
	assert_int_equal(tunnel_endpoint_parse("198.51.100.1:65535", 18, &a, &port), 0);
	assert_int_equal(port, 65535);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tunnel_endpoint_parse(bad[i], strlen(bad[i]), &a, &port), -EINVAL);
}

static void test_handshake_since(void **state)
{
	struct tunnel_peer p = { .found = true, .handshake = { .tv_sec = 2000, .tv_nsec = 11 } };
	struct timespec t0 = { .tv_sec = 2000, .tv_nsec = 10 };

	(void)state;
	assert_true(tunnel_handshake_since(&p, &t0));
	p.handshake.tv_nsec = 10; /* at t0: not after it */
	assert_false(tunnel_handshake_since(&p, &t0));
	p.handshake = (struct timespec){ .tv_sec = 2001 };
	assert_true(tunnel_handshake_since(&p, &t0));
	p.found = false;
	assert_false(tunnel_handshake_since(&p, &t0));
	p = (struct tunnel_peer){ .found = true }; /* never */
	assert_false(tunnel_handshake_since(&p, &t0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_read_path),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_handshake_since),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
