/* test_mesh.c — the policy as the device sees it: every other node a peer
 * with its key, endpoint, VPN addresses and keepalive; a reload yields a
 * difference (removed peers removed, the others updated in place, nothing
 * for ourselves). And the control socket's request syntax. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include <cmocka.h>

#include "control.h"
#include "mesh.h"

static uint8_t key[4][32];
static char b64[4][45];

static struct policy *load(const char *nodes)
{
	char text[4096];
	struct diags d;
	struct policy *p;

	snprintf(text, sizeof(text),
		 "{ \"version\": 1, \"network\": { \"ipv4\": \"100.64.0.0/24\", "
		 "\"ipv6\": \"fd7a:115c:a1e0::/64\" }, \"nodes\": { %s } }", nodes);
	diags_init(&d);
	p = policy_load(text, strlen(text), NULL, &d);
	if (!p)
		fail_msg("policy did not load: %s", d.n ? d.v[0].msg : "?");
	diags_free(&d);
	return p;
}

static const struct uapi_peer *peer_of(const struct uapi_set *s, int k)
{
	for (size_t i = 0; i < s->npeers; i++)
		if (!memcmp(s->peers[i].public_key, key[k], 32))
			return &s->peers[i];
	return NULL;
}

static void nodes3(char *out, size_t len, bool with_carol)
{
	snprintf(out, len,
		 "\"web1\": { \"key\": \"%s\", \"ips\": [\"100.64.0.1\", \"fd7a:115c:a1e0::1\"], "
		 "\"endpoint\": \"198.51.100.1:51820\", \"keepalive\": 25 },"
		 "\"alice\": { \"key\": \"%s\", \"ips\": [\"100.64.0.2\"] },"
		 "\"bob\": { \"key\": \"%s\", \"ips\": [\"100.64.0.3\"], \"endpoint\": \"[2001:db8::3]:4000\" }"
		 "%s%s%s",
		 b64[0], b64[1], b64[2], with_carol ? ", \"carol\": { \"key\": \"" : "",
		 with_carol ? b64[3] : "", with_carol ? "\", \"ips\": [\"100.64.0.4\"] }" : "");
}

static void test_initial(void **state)
{
	char nodes[2048];
	struct policy *p;
	struct uapi_set s;
	const struct uapi_peer *w, *b;
	long self;

	(void)state;
	nodes3(nodes, sizeof(nodes), false);
	p = load(nodes);
	self = mesh_node_by_key(p, key[1]);
	assert_int_equal(self, 1); /* alice */
	assert_int_equal(mesh_node_by_key(p, key[3]), -1);
	assert_int_equal(mesh_device_set(p, (size_t)self, NULL, &s, NULL, 0), 0);
	assert_true(s.has_listen_port);
	assert_int_equal(s.listen_port, 51820);
	assert_int_equal(s.npeers, 2);           /* web1, bob; never alice herself */
	assert_null(peer_of(&s, 1));
	w = peer_of(&s, 0);
	assert_non_null(w);
	assert_true(w->has_endpoint && w->endpoint.ss_family == AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&w->endpoint)->sin_port), 51820);
	assert_true(w->has_keepalive);
	assert_int_equal(w->keepalive, 25);
	assert_true(w->replace_allowed_ips);
	assert_int_equal(w->nallowed_ips, 2);
	assert_int_equal(w->allowed_ips[0].cidr, 32);
	assert_int_equal(w->allowed_ips[1].family, AF_INET6);
	assert_int_equal(w->allowed_ips[1].cidr, 128);
	b = peer_of(&s, 2);
	assert_true(b->has_endpoint && b->endpoint.ss_family == AF_INET6);
	assert_true(b->has_keepalive);
	assert_int_equal(b->keepalive, 0);      /* set explicitly: a reload can turn it off */
	uapi_set_free(&s);
	policy_free(p);
}

static void test_reload_diff(void **state)
{
	char nodes[2048], *ep;
	struct policy *old, *neu, *moved;
	struct uapi_set s;

	(void)state;
	nodes3(nodes, sizeof(nodes), true);
	old = load(nodes);
	nodes3(nodes, sizeof(nodes), false); /* carol leaves */
	neu = load(nodes);
	assert_int_equal(mesh_device_set(neu, 0, old, &s, NULL, 0), 0);
	assert_false(s.replace_peers);         /* the others' sessions survive */
	assert_int_equal(s.npeers, 1);          /* only carol, removed */
	assert_true(peer_of(&s, 3)->remove);
	uapi_set_free(&s);
	/* bob moves: only bob is updated, in place */
	ep = strstr(nodes, "[2001:db8::3]:4000");
	memcpy(ep, "[2001:db8::9]", 13);
	moved = load(nodes);
	assert_int_equal(mesh_device_set(moved, 0, neu, &s, NULL, 0), 0);
	assert_int_equal(s.npeers, 1);
	assert_non_null(peer_of(&s, 2));
	assert_false(peer_of(&s, 2)->remove);
	assert_true(peer_of(&s, 2)->has_endpoint);
	uapi_set_free(&s);
	/* the same policy again: nothing to do but the port */
	assert_int_equal(mesh_device_set(moved, 0, moved, &s, NULL, 0), 0);
	assert_int_equal(s.npeers, 0);
	uapi_set_free(&s);
	policy_free(old);
	policy_free(neu);
	policy_free(moved);
}

static void test_unresolvable_endpoint(void **state)
{
	char nodes[1024], warn[128];
	struct policy *p;
	struct uapi_set s;

	(void)state;
	snprintf(nodes, sizeof(nodes),
		 "\"a\": { \"key\": \"%s\", \"ips\": [\"100.64.0.1\"] },"
		 "\"b\": { \"key\": \"%s\", \"ips\": [\"100.64.0.2\"], "
		 "\"endpoint\": \"no-such-host.invalid:51820\" }", b64[0], b64[1]);
	p = load(nodes);
	assert_int_equal(mesh_device_set(p, 0, NULL, &s, warn, sizeof(warn)), 0);
	assert_int_equal(s.npeers, 1);
	assert_false(s.peers[0].has_endpoint);  /* left out, not fatal */
	assert_non_null(strstr(warn, "no-such-host.invalid"));
	uapi_set_free(&s);
	policy_free(p);
}

static void test_control_syntax(void **state)
{
	struct ctl_request r;
	const char *why;
	static const char *bad[] = {
		"", "\n", " status\n", "status \n", "status  x\n", "sta\ttus\n", "status",
		"rel\"oad\n", "a\\b\n", "\x80x\n",
	};
	char big[CTL_MAX_REQUEST + 10], many[4 * CTL_MAX_ARGS + 8] = "a";

	(void)state;
	assert_int_equal(ctl_request_parse("status\n", 7, &r, &why), 0);
	assert_string_equal(r.verb, "status");
	assert_int_equal(r.nargs, 0);
	assert_int_equal(ctl_request_parse("apply /p.json --confirm 60s\njunk", 33, &r, &why), 0);
	assert_string_equal(r.verb, "apply");
	assert_int_equal(r.nargs, 3);
	assert_string_equal(r.args[2], "60s");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (ctl_request_parse(bad[i], strlen(bad[i]), &r, &why) != -EINVAL)
			fail_msg("accepted bad request %zu", i);
	for (int i = 0; i < CTL_MAX_ARGS + 1; i++) /* one argument too many */
		strcat(many, " x");
	strcat(many, "\n");
	assert_int_equal(ctl_request_parse(many, strlen(many), &r, &why), -EINVAL);
	many[strlen(many) - 3] = '\n'; /* CTL_MAX_ARGS arguments: fine */
	many[strlen(many) - 2] = '\0';
	assert_int_equal(ctl_request_parse(many, strlen(many), &r, &why), 0);
	assert_int_equal(r.nargs, CTL_MAX_ARGS);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	assert_int_equal(ctl_request_parse(big, sizeof(big), &r, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial),
		cmocka_unit_test(test_reload_diff),
		cmocka_unit_test(test_unresolvable_endpoint),
		cmocka_unit_test(test_control_syntax),
	};

	if (sodium_init() < 0)
		return 1;
	for (int i = 0; i < 4; i++) {
		uint8_t priv[32];

		crypto_box_keypair(key[i], priv);
		sodium_bin2base64(b64[i], sizeof(b64[i]), key[i], 32, sodium_base64_VARIANT_ORIGINAL);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
