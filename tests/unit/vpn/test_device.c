/* test_device.c — two whole devices, detached from TUN and socket and wired
 * to each other in memory: configured through the UAPI parser, they must
 * handshake (both as initiator and responder), carry packets both ways,
 * refuse tampered, replayed and spoofed messages (counted by reason), follow
 * a roaming peer, answer with cookies under load and accept the retry with
 * mac2, and report themselves as `wg` expects. What only a peer's keys can
 * have made (a spoofed inner source, a malformed inner packet, a fresh
 * initiation over the flood limit) is reported against it; replays and
 * forgeries are not. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

#include <cmocka.h>

#include "device.h"
#include "packet.h"
#include "tai64n.h"
#include "uapi.h"

#define MAXQ 4096

struct msg {
	uint8_t buf[1600];
	size_t len;
	struct sockaddr_storage to;
};

struct side {
	struct device *dev;
	struct sockaddr_storage addr; /* where the other side sees us */
	struct msg *out;              /* what we sent to the network */
	size_t nout;
	uint8_t got[8][1600];         /* what we wrote to the TUN */
	size_t gotlen[8], ngot;
};

static struct side A, B;

static void xmit(void *ctx, const uint8_t *buf, size_t len, const struct sockaddr_storage *to)
{
	struct side *s = ctx;

	assert_true(s->nout < MAXQ && len <= sizeof(s->out[0].buf));
	memcpy(s->out[s->nout].buf, buf, len);
	s->out[s->nout].len = len;
	s->out[s->nout].to = *to;
	s->nout++;
}

static void deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct side *s = ctx;

	if (s->ngot < 8) {
		memcpy(s->got[s->ngot], pkt, len);
		s->gotlen[s->ngot] = len;
	}
	s->ngot++;
}

static void set_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s4->sin_addr);
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* Everything `from` sent is received by `to`, from from->addr. Handshakes
 * are processed as the handshake thread would. Returns how many moved. */
static size_t pump(struct side *from, struct side *to)
{
	size_t n = from->nout;

	for (size_t i = 0; i < n; i++)
		device_receive(to->dev, from->out[i].buf, from->out[i].len, &from->addr);
	from->nout = 0;
	device_handshake_drain(to->dev);
	return n;
}

static void pump_all(void)
{
	for (int i = 0; i < 8 && (pump(&A, &B) + pump(&B, &A)); i++)
		;
}

static void configure(struct side *s, const char *text)
{
	struct uapi_set set;
	size_t used;

	assert_int_equal(uapi_parse_set(text, strlen(text), &set, &used), 0);
	assert_int_equal(device_apply(s->dev, &set), 0);
	uapi_set_free(&set);
}

static void hexkey(char out[65], const uint8_t k[32])
{
	sodium_bin2hex(out, 65, k, 32);
}

/* A: 100.64.0.1 at 198.51.100.1:51820; B: 100.64.0.2 at 198.51.100.2:51821 */
static int setup(void **state)
{
	uint8_t ka[32], kb[32], pa[32], pb[32];
	char hka[65], hkb[65], hpa[65], hpb[65], req[1024];

	(void)state;
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	A.out = calloc(MAXQ, sizeof(struct msg));
	B.out = calloc(MAXQ, sizeof(struct msg));
	assert_int_equal(device_new_detached(xmit, deliver, &A, &A.dev), 0);
	assert_int_equal(device_new_detached(xmit, deliver, &B, &B.dev), 0);
	set_addr(&A.addr, "198.51.100.1", 51820);
	set_addr(&B.addr, "198.51.100.2", 51821);
	crypto_box_keypair(pa, ka);
	crypto_box_keypair(pb, kb);
	hexkey(hka, ka), hexkey(hkb, kb), hexkey(hpa, pa), hexkey(hpb, pb);
	snprintf(req, sizeof(req),
		 "private_key=%s\nlisten_port=51820\npublic_key=%s\nendpoint=198.51.100.2:51821\n"
		 "allowed_ip=100.64.0.2/32\nallowed_ip=fd7a:115c:a1e0::2/128\n\n", hka, hpb);
	configure(&A, req);
	snprintf(req, sizeof(req),
		 "private_key=%s\nlisten_port=51821\npublic_key=%s\n"
		 "allowed_ip=100.64.0.1/32\nallowed_ip=fd7a:115c:a1e0::1/128\n\n", hkb, hpa);
	configure(&B, req);
	sodium_memzero(ka, 32), sodium_memzero(kb, 32);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	device_free(A.dev);
	device_free(B.dev);
	free(A.out);
	free(B.out);
	return 0;
}

/* A minimal IPv4 packet src -> dst with n bytes of payload. */
static size_t ip4(uint8_t *p, const char *src, const char *dst, size_t n, uint8_t fill)
{
	memset(p, 0, 20 + n);
	p[0] = 0x45;
	p[2] = (uint8_t)((20 + n) >> 8);
	p[3] = (uint8_t)(20 + n);
	p[8] = 64;
	p[9] = 17;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	memset(p + 20, fill, n);
	return 20 + n;
}

static uint64_t drops(struct side *s, enum drop_reason r)
{
	return atomic_load(&s->dev->drops[r]);
}

static void handshake_from_a(void)
{
	uint8_t pkt[200];
	size_t n = ip4(pkt, "100.64.0.1", "100.64.0.2", 100, 0xab);

	device_xmit(A.dev, pkt, n);      /* staged, initiation sent */
	assert_int_equal(A.nout, 1);
	assert_int_equal(A.out[0].len, 148);
	assert_int_equal(port_of(&A.out[0].to), 51821);
	pump_all();
	assert_int_equal(B.ngot, 1);     /* the staged packet, after the handshake */
	assert_int_equal(B.gotlen[0], n);
	assert_memory_equal(B.got[0], pkt, n);
}

static void test_handshake_and_data(void **state)
{
	uint8_t pkt[200];
	size_t n;

	(void)state;
	handshake_from_a();
	/* B learnt A's endpoint from the initiation and answers over the session */
	n = ip4(pkt, "100.64.0.2", "100.64.0.1", 33, 0xcd);
	device_xmit(B.dev, pkt, n);
	assert_int_equal(B.nout, 1);
	assert_int_equal(B.out[0].len, 32 + 64); /* 53 padded to 64 */
	pump_all();
	assert_int_equal(A.ngot, 1);
	assert_memory_equal(A.got[0], pkt, n);
	for (int r = 0; r < DROP_MAX; r++)
		if (r != DROP_NO_ROUTE && (drops(&A, r) || drops(&B, r)))
			fail_msg("unexpected drop %s", drop_reason_names[r]);
}

static void test_responder_initiates(void **state)
{
	uint8_t pkt[200];
	size_t n = ip4(pkt, "100.64.0.2", "100.64.0.1", 10, 1);

	(void)state;
	/* B has no endpoint for A: it cannot start */
	device_xmit(B.dev, pkt, n);
	assert_int_equal(B.nout, 0);
	assert_true(drops(&B, DROP_NO_ENDPOINT) >= 1);
	handshake_from_a(); /* now it knows one, and its staged packet follows */
	pump_all();
	assert_int_equal(A.ngot, 1);
	assert_memory_equal(A.got[0], pkt, n);
}

static void test_tampered_and_replayed(void **state)
{
	uint8_t pkt[200], saved[1600];
	size_t n = ip4(pkt, "100.64.0.1", "100.64.0.2", 40, 7), slen;

	(void)state;
	device_xmit(A.dev, pkt, n);
	A.out[0].buf[60] ^= 1; /* inside the encrypted static key: mac1 breaks */
	pump(&A, &B);
	assert_int_equal(B.nout, 0);
	assert_int_equal(drops(&B, DROP_BAD_MAC1), 1);
	/* a fresh, intact handshake (REKEY_TIMEOUT rate limit: force a retry) */
	device_run_timers(A.dev, device_now() + 6);
	assert_int_equal(A.nout, 1);
	pump_all();
	assert_true(B.ngot >= 1);
	B.ngot = 0;
	device_xmit(A.dev, pkt, n);
	memcpy(saved, A.out[0].buf, A.out[0].len);
	slen = A.out[0].len;
	pump(&A, &B);
	assert_int_equal(B.ngot, 1);
	device_receive(B.dev, saved, slen, &A.addr);        /* replay */
	assert_int_equal(B.ngot, 1);
	assert_int_equal(drops(&B, DROP_DATA_REPLAY), 1);
	saved[20] ^= 0x80;                                     /* forgery */
	saved[8] ^= 1;                                         /* new counter */
	device_receive(B.dev, saved, slen, &A.addr);
	assert_int_equal(B.ngot, 1);
	assert_int_equal(drops(&B, DROP_DATA_AUTH), 1);
	saved[0] = 9;                                          /* unknown type */
	device_receive(B.dev, saved, slen, &A.addr);
	assert_int_equal(drops(&B, DROP_SHORT), 1);
}

static uint8_t ev_pub[32];
static int ev_n;
static enum device_event ev_kind;
static size_t ev_len;
static uint8_t ev_src[4];

static void on_event(void *ctx, const uint8_t pub[32], enum device_event ev,
		     const uint8_t *inner, size_t len)
{
	(void)ctx;
	ev_kind = ev;
	ev_len = len;
	if (ev == DEVICE_EV_SPOOFED_SOURCE) {
		assert_true(len >= 20);
		memcpy(ev_src, inner + 12, 4); /* the spoofed source, for the daemon to judge */
	}
	if (ev == DEVICE_EV_HANDSHAKE_FLOOD)
		assert_true(!inner && !len);
	memcpy(ev_pub, pub, 32);
	ev_n++;
}

/* B receives one copy of msg (it may decrypt in place) from A. */
static void receive_copy(const uint8_t *msg, size_t len)
{
	uint8_t buf[1600];

	memcpy(buf, msg, len);
	device_receive(B.dev, buf, len, &A.addr);
	device_handshake_drain(B.dev);
}

/* Data under A's session whose inner packet is not IP: reported against A,
 * once; its replay and a forgery are not. */
static void test_malformed_event(void **state)
{
	uint8_t junk[24] = { 0 }, msg[200];
	struct keypair *kp;
	size_t len;

	(void)state;
	device_set_events(B.dev, on_event, NULL);
	handshake_from_a();
	ev_n = 0;
	kp = A.dev->peers[0]->keys.cur;
	len = packet_seal(&kp->k, kp->send_counter + 1000, junk, sizeof(junk), 1420, msg);
	receive_copy(msg, len);
	assert_int_equal(drops(&B, DROP_INNER_MALFORMED), 1);
	assert_int_equal(ev_n, 1);
	assert_int_equal(ev_kind, DEVICE_EV_INNER_MALFORMED);
	assert_memory_equal(ev_pub, B.dev->peers[0]->noise->remote_pub, 32);
	assert_int_equal(ev_len, 32);                      /* 24 bytes, padded to 16 */
	receive_copy(msg, len);                            /* replayed */
	assert_int_equal(drops(&B, DROP_DATA_REPLAY), 1);
	msg[8] ^= 1;                                       /* forged: a new counter */
	receive_copy(msg, len);
	assert_int_equal(drops(&B, DROP_DATA_AUTH), 1);
	assert_int_equal(ev_n, 1);
	assert_int_equal(B.ngot, 1);                       /* only the handshake's packet */
}

/* A fresh initiation of A's within 20 ms of the last one B consumed is
 * refused and reported against A; nothing of it was kept, so the same
 * message is taken once the limit allows, and its replay is only a replay. */
static void test_flood_event(void **state)
{
	uint8_t init[148], bpub[32];
	struct peer *ba;

	(void)state;
	device_set_events(B.dev, on_event, NULL);
	handshake_from_a();
	ev_n = 0;
	ba = B.dev->peers[0];
	memcpy(bpub, A.dev->peers[0]->noise->remote_pub, 32);
	usleep(TAI64N_ROUND_NS / 1000 + 2000);             /* a newer timestamp */
	A.nout = 0;
	assert_int_equal(device_peer_handshake(A.dev, bpub), 0);
	assert_int_equal(A.nout, 1);
	memcpy(init, A.out[0].buf, sizeof(init));
	A.nout = 0;
	B.nout = 0;
	ba->last_initiation_consumed = device_now();       /* as if one came just now */
	receive_copy(init, sizeof(init));
	assert_int_equal(drops(&B, DROP_HS_FLOOD), 1);
	assert_int_equal(B.nout, 0);
	assert_int_equal(ev_n, 1);
	assert_int_equal(ev_kind, DEVICE_EV_HANDSHAKE_FLOOD);
	assert_memory_equal(ev_pub, ba->noise->remote_pub, 32);
	ba->last_initiation_consumed = device_now() - 1;
	receive_copy(init, sizeof(init));
	assert_int_equal(B.nout, 1);                       /* answered */
	assert_int_equal(B.out[0].len, 92);
	ba->last_initiation_consumed = device_now();
	receive_copy(init, sizeof(init));
	assert_int_equal(drops(&B, DROP_HS_REPLAY), 1);
	assert_int_equal(drops(&B, DROP_HS_FLOOD), 1);
	assert_int_equal(ev_n, 1);
}

/* Evicted, a peer's sessions are gone: its data is refused until it
 * handshakes again. */
static void test_evict(void **state)
{
	uint8_t pkt[200], nobody[32] = { 1 };
	size_t n = ip4(pkt, "100.64.0.1", "100.64.0.2", 20, 8);

	(void)state;
	handshake_from_a();
	assert_int_equal(device_peer_evict(B.dev, B.dev->peers[0]->noise->remote_pub), 0);
	assert_int_equal(atomic_load(&B.dev->evicted), 1);  /* its one session */
	assert_int_equal(device_peer_evict(B.dev, nobody), -ENOENT);
	assert_int_equal(device_peer_evict(B.dev, B.dev->peers[0]->noise->remote_pub), 0);
	assert_int_equal(atomic_load(&B.dev->evicted), 1);  /* nothing left to drop */
	device_xmit(A.dev, pkt, n);
	pump(&A, &B);
	assert_int_equal(B.ngot, 1); /* only the staged packet of the first handshake */
	assert_int_equal(drops(&B, DROP_UNKNOWN_INDEX), 1);
	/* B has no session for A now: sending to A starts a new handshake,
	 * after which A's data gets through again */
	n = ip4(pkt, "100.64.0.2", "100.64.0.1", 20, 9);
	/* it answered A's handshake a moment ago, and WireGuard lets it start
	 * one only REKEY_TIMEOUT after that: skip the wait */
	B.dev->peers[0]->last_initiation_sent = 0;
	device_xmit(B.dev, pkt, n);
	assert_int_equal(B.nout, 1);
	assert_int_equal(B.out[0].len, 148);
	pump_all();
	assert_int_equal(A.ngot, 1);
	n = ip4(pkt, "100.64.0.1", "100.64.0.2", 20, 10);
	device_xmit(A.dev, pkt, n);
	pump_all();
	assert_int_equal(B.ngot, 2);
}

static void test_source_check_and_roaming(void **state)
{
	uint8_t pkt[200];
	size_t n;
	struct sockaddr_storage roamed;

	(void)state;
	device_set_events(B.dev, on_event, NULL);
	ev_n = 0;
	handshake_from_a();
	/* inner source outside what B allows for A: dropped after decryption,
	 * and blamed on A, whose session key it was under */
	n = ip4(pkt, "100.64.0.99", "100.64.0.2", 20, 3);
	device_xmit(A.dev, pkt, n);
	pump(&A, &B);
	assert_int_equal(B.ngot, 1);
	assert_int_equal(drops(&B, DROP_SOURCE_NOT_ALLOWED), 1);
	assert_int_equal(ev_n, 1);
	assert_memory_equal(ev_pub, B.dev->peers[0]->noise->remote_pub, 32);
	assert_memory_equal(ev_src, ((const uint8_t[]){ 100, 64, 0, 99 }), 4);
	/* A moves to another address: B follows it */
	set_addr(&roamed, "203.0.113.7", 40000);
	A.addr = roamed;
	n = ip4(pkt, "100.64.0.1", "100.64.0.2", 20, 4);
	device_xmit(A.dev, pkt, n);
	pump(&A, &B);
	assert_int_equal(B.ngot, 2);
	n = ip4(pkt, "100.64.0.2", "100.64.0.1", 20, 5);
	device_xmit(B.dev, pkt, n);
	assert_int_equal(B.nout, 1);
	assert_int_equal(port_of(&B.out[0].to), 40000);
	/* no peer for the destination */
	n = ip4(pkt, "100.64.0.2", "100.64.9.9", 20, 6);
	device_xmit(B.dev, pkt, n);
	assert_true(drops(&B, DROP_NO_ROUTE) >= 1);
}

static void test_cookie_under_load(void **state)
{
	uint8_t pkt[200], init[148];
	size_t n = ip4(pkt, "100.64.0.1", "100.64.0.2", 20, 1);

	(void)state;
	device_xmit(A.dev, pkt, n);
	assert_int_equal(A.nout, 1);
	memcpy(init, A.out[0].buf, 148);
	A.nout = 0;
	/* a queue 1/8 full puts B under load: valid mac1, no mac2 -> cookie */
	for (int i = 0; i < DEVICE_HS_QUEUE / 8; i++)
		device_receive(B.dev, init, 148, &A.addr);
	device_handshake_drain(B.dev);
	assert_int_equal(drops(&B, DROP_COOKIE_SENT), DEVICE_HS_QUEUE / 8);
	assert_int_equal(B.nout, DEVICE_HS_QUEUE / 8);
	assert_int_equal(B.out[0].len, 64);
	B.nout = 1; /* A takes one cookie reply */
	pump(&B, &A);
	assert_int_equal(drops(&A, DROP_COOKIE_INVALID), 0);
	/* A's retry carries mac2 and gets through while B is still loaded */
	device_run_timers(A.dev, device_now() + 6);
	assert_int_equal(A.nout, 1);
	assert_false(sodium_is_zero(A.out[0].buf + 132, 16));
	pump_all();
	assert_int_equal(B.ngot, 1);
	assert_int_equal(drops(&B, DROP_COOKIE_SENT), DEVICE_HS_QUEUE / 8);
}

static void test_dump(void **state)
{
	char buf[8192] = { 0 };
	int fds[2];
	ssize_t n;

	(void)state;
	handshake_from_a();
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(device_dump(B.dev, fds[1]), 0);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	assert_true(n > 0);
	assert_true(strncmp(buf, "private_key=", 12) == 0 && strlen(buf) > 77 && buf[76] == '\n');
	assert_non_null(strstr(buf, "listen_port=51821\n"));
	assert_non_null(strstr(buf, "endpoint=198.51.100.1:51820\n"));
	assert_non_null(strstr(buf, "allowed_ip=100.64.0.1/32\n"));
	assert_non_null(strstr(buf, "allowed_ip=fd7a:115c:a1e0::1/128\n"));
	assert_null(strstr(buf, "last_handshake_time_sec=0\n")); /* confirmed by data */
	assert_null(strstr(buf, "rx_bytes=0\n"));
	assert_non_null(strstr(buf, "protocol_version=1\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_and_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_responder_initiates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_and_replayed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_check_and_roaming, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_under_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
