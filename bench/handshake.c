/* handshake.c — how many handshakes one core completes as responder.
 *
 *   handshake [N]      (default 5000)
 *
 * A responder device (detached: no TUN, no socket) is configured with N
 * peers; each peer's initiation is created beforehand, outside the timing.
 * The timed loop hands each initiation to the device's receive path and
 * runs the handshake queue, as the rx and handshake threads do: mac1 check,
 * the responder's DH work, the response, the keypair. Every response is
 * counted, so a handshake that failed would show as a shortfall, not as
 * speed. Prints handshakes/s and µs per handshake. */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device.h"
#include "uapi.h"

static size_t responses;

static void xmit(void *ctx, const uint8_t *buf, size_t len, const struct sockaddr_storage *to)
{
	(void)ctx, (void)to;
	if (len == NOISE_RESPONSE_LEN && buf[0] == NOISE_MSG_RESPONSE)
		responses++;
}

static void deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)pkt, (void)len;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000, used;
	uint8_t rpriv[32], rpub[32], (*init)[NOISE_INITIATION_LEN];
	struct sockaddr_storage src = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
	struct device *dev;
	struct uapi_set set;
	char *req, *w;
	double t0, t1;

	if (sodium_init() < 0 || n == 0 || !(init = calloc(n, sizeof(*init))) ||
	    !(req = malloc(100 + n * 100)) ||
	    device_new_detached(xmit, deliver, NULL, &dev) < 0)
		return 1;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(51820);
	inet_pton(AF_INET, "198.51.100.1", &s4->sin_addr);
	crypto_box_keypair(rpub, rpriv);
	w = req + sprintf(req, "private_key=");
	sodium_bin2hex(w, 65, rpriv, 32);
	w += strlen(w);
	for (size_t i = 0; i < n; i++) {
		uint8_t ipriv[32], ipub[32];
		struct noise_local *l;
		struct noise_peer *p;

		crypto_box_keypair(ipub, ipriv);
		if (!(l = noise_local_new(ipriv)) || !(p = noise_peer_new(l, rpub, NULL)) ||
		    noise_create_initiation(l, p, (uint32_t)i + 1, init[i]) < 0)
			return 1;
		w += sprintf(w, "\npublic_key=");
		sodium_bin2hex(w, 65, ipub, 32);
		w += strlen(w);
		noise_peer_free(p);
		noise_local_free(l);
	}
	strcpy(w, "\n\n");
	if (uapi_parse_set(req, strlen(req), &set, &used) < 0 || device_apply(dev, &set) < 0) {
		fprintf(stderr, "handshake: configuring %zu peers failed\n", n);
		return 1;
	}
	uapi_set_free(&set);
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		device_receive(dev, init[i], NOISE_INITIATION_LEN, &src);
		device_handshake_drain(dev);
	}
	t1 = now();
	printf("responder: %zu initiations, %zu responses in %.3f s: %.0f handshakes/s, %.1f us each\n",
	       n, responses, t1 - t0, (double)responses / (t1 - t0), (t1 - t0) * 1e6 / (double)n);
	device_free(dev);
	free(init);
	free(req);
	return responses == n ? 0 : 1;
}
