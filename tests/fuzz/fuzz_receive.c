/* fuzz_receive.c — libFuzzer target for everything the network can hand
 * the device's receive path: all four message types, any length, any bytes,
 * against a responder that has a live session with a peer.
 *
 * The first input byte picks how far the rest may get:
 *   0  raw datagram
 *   1  as 0, but a handshake message gets a correct mac1 and a data or
 *      cookie message the receiver index of the live session
 *   2  the rest is an inner packet, encrypted under the live session, so the
 *      inner-packet checks (IP header, length, source) are reached
 * Then the handshake queue is drained, as the handshake thread would. */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "device.h"
#include "packet.h"
#include "uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct side {
	struct device *dev;
	struct sockaddr_storage addr;
	uint8_t last[2048];
	size_t lastlen, nout;
};

static struct side A, B;

static void xmit(void *ctx, const uint8_t *buf, size_t len, const struct sockaddr_storage *to)
{
	struct side *s = ctx;

	(void)to;
	if (len <= sizeof(s->last)) {
		memcpy(s->last, buf, len);
		s->lastlen = len;
		s->nout++;
	}
}

static void deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)pkt, (void)len;
}

static void addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s4->sin_addr);
}


static void apply(struct device *dev, const char *text)
{
	struct uapi_set s;
	size_t used;

	if (uapi_parse_set(text, strlen(text), &s, &used) == 0)
		(void)device_apply(dev, &s);
	uapi_set_free(&s);
}

/* A and B configured, then one handshake: A -> B -> A. */
static void setup(void)
{
	uint8_t ka[32], kb[32], pa[32], pb[32], pkt[40] = { 0x45, 0, 0, 40 };
	char h[4][65], req[1024];

	if (A.dev)
		return;
	if (sodium_init() < 0 ||
	    device_new_detached(xmit, deliver, &A, &A.dev) < 0 ||
	    device_new_detached(xmit, deliver, &B, &B.dev) < 0)
		__builtin_trap();
	addr(&A.addr, "198.51.100.1", 51820);
	addr(&B.addr, "198.51.100.2", 51821);
	crypto_box_keypair(pa, ka);
	crypto_box_keypair(pb, kb);
	sodium_bin2hex(h[0], 65, ka, 32), sodium_bin2hex(h[1], 65, kb, 32);
	sodium_bin2hex(h[2], 65, pa, 32), sodium_bin2hex(h[3], 65, pb, 32);
	snprintf(req, sizeof(req), "private_key=%s\npublic_key=%s\nendpoint=198.51.100.2:51821\n"
		 "allowed_ip=100.64.0.2/32\n\n", h[0], h[3]);
	apply(A.dev, req);
	snprintf(req, sizeof(req), "private_key=%s\npublic_key=%s\nallowed_ip=100.64.0.1/32\n"
		 "allowed_ip=fd7a:115c:a1e0::/48\n\n", h[1], h[2]);
	apply(B.dev, req);
	inet_pton(AF_INET, "100.64.0.1", pkt + 12);
	inet_pton(AF_INET, "100.64.0.2", pkt + 16);
	device_xmit(A.dev, pkt, sizeof(pkt));               /* initiation */
	device_receive(B.dev, A.last, A.lastlen, &A.addr);
	device_handshake_drain(B.dev);                      /* response */
	device_receive(A.dev, B.last, B.lastlen, &B.addr);
	device_handshake_drain(A.dev);                      /* staged data */
	device_receive(B.dev, A.last, A.lastlen, &A.addr);  /* confirms */
	if (!B.dev->peers[0]->keys.cur)
		__builtin_trap(); /* the harness itself must reach a session */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[4096];
	struct peer *pb;
	struct keypair *kp;

	setup();
	if (size < 1 || size - 1 > sizeof(buf) - 64)
		return 0;
	memcpy(buf, data + 1, size - 1);
	size--;
	pb = B.dev->peers[0];
	kp = pb->keys.cur;
	switch (data[0] % 3) {
	case 1:
		if (size == NOISE_INITIATION_LEN && buf[0] == NOISE_MSG_INITIATION)
			noise_set_mac1(buf, NOISE_MAC1_OFF_INITIATION, B.dev->local->mac1_key);
		else if (size == NOISE_RESPONSE_LEN && buf[0] == NOISE_MSG_RESPONSE)
			noise_set_mac1(buf, NOISE_MAC1_OFF_RESPONSE, B.dev->local->mac1_key);
		else if (size >= 8 && kp)
			memcpy(buf + 4, &kp->k.local_index, 4); /* little endian hosts */
		break;
	case 2: {
		struct keypair *ka = A.dev->peers[0]->keys.cur;
		uint8_t inner[4096];

		if (!ka || size > 1500)
			return 0;
		memcpy(inner, buf, size);
		size = packet_seal(&ka->k, ka->send_counter++, inner, size, 1420, buf);
		break;
	}
	}
	device_receive(B.dev, buf, size, &A.addr);
	device_handshake_drain(B.dev);
	return 0;
}
