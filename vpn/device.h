/* device.h — one WireGuard interface: a TUN device, a UDP socket, the peers
 * and the threads that move packets between them (kernel device.h).
 *
 * Threads and what they own:
 *   tx         reads the TUN, routes by allowed IPs, encrypts, sendmmsg()s
 *   rx         recvmmsg()s, decrypts data into the TUN, queues handshakes
 *   handshake  answers the queued handshake messages (the DH work), sends
 *              cookie replies under load
 *   control    the caller's thread: device_run() serves the UAPI socket and
 *              runs every peer's timers
 * Locks, always taken in this order:
 *   dev->cfg (rwlock, writer-preferring): the peer set, the allowed-IPs trie,
 *     the static identity, the socket. Packet threads hold it for reading
 *     across one batch; a UAPI set holds it for writing.
 *   peer->lock: that peer's handshake, keypair slots, timers, endpoint,
 *     staged packets.
 *   dev->index_lock: the index table.
 * A keypair is used outside the peer lock only through a reference
 * (keypair_get/put). Only the rx thread touches a keypair's replay window. */
#ifndef VPN_DEVICE_H
#define VPN_DEVICE_H

#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "cookie.h"
#include "keypairs.h"
#include "noise.h"
#include "timers.h"

struct allowedips;
struct index_table;
struct ratelimit;
struct uapi_set;

#define DEVICE_MTU_DEFAULT 1420
#define DEVICE_BATCH 64
#define DEVICE_GSO_SEGS 64       /* datagrams per UDP_SEGMENT send */
#define DEVICE_MAX_STAGED 128
#define DEVICE_HS_QUEUE 1024
#define DEVICE_BUF 65536          /* one datagram or TUN packet, with room */
#define INITIATIONS_PER_SECOND 50

/* Why a packet was dropped: counted per device, reported by `stats`. */
enum drop_reason {
	DROP_SHORT,           /* too short or unknown message type */
	DROP_NO_KEY,          /* the device has no private key */
	DROP_BAD_MAC1,
	DROP_COOKIE_SENT,     /* under load without mac2: a cookie reply instead */
	DROP_RATELIMIT,       /* handshakes from one source over the limit */
	DROP_HS_QUEUE_FULL,
	DROP_HS_INVALID,      /* handshake failed to authenticate, unknown peer */
	DROP_HS_REPLAY,       /* initiation not newer than the peer's last */
	DROP_HS_FLOOD,        /* the peer's own fresh initiation, over 50/s */
	DROP_COOKIE_INVALID,
	DROP_UNKNOWN_INDEX,   /* data or response for no session of ours */
	DROP_DATA_AUTH,       /* data failed authentication */
	DROP_DATA_REPLAY,     /* counter replayed, too old, or over the limit */
	DROP_KEY_EXPIRED,     /* data under a keypair past REJECT_AFTER_TIME */
	DROP_INNER_MALFORMED, /* decrypted, but not a well-formed IP packet */
	DROP_SOURCE_NOT_ALLOWED, /* inner source outside the peer's allowed IPs */
	DROP_NO_ROUTE,        /* TUN packet to an address no peer has */
	DROP_NO_ENDPOINT,     /* a peer with no known endpoint */
	DROP_STAGED_OVERFLOW, /* more than 128 packets waiting for a handshake */
	DROP_GAVE_UP,         /* handshake failed for 90 s: staged packets purged */
	DROP_TUN_WRITE,
	DROP_UDP_SEND,
	DROP_MAX
};
extern const char *const drop_reason_names[DROP_MAX];

/* Misbehaviour proven to come from a peer: only what its own keys vouch
 * for counts. A data packet failing authentication, or an initiation that
 * fails to authenticate or replays an old one, proves nothing (anyone who
 * saw an index, knows a public key or captured a packet can send one), so
 * they are counted as drops but never blamed. */
enum device_event {
	DEVICE_EV_SPOOFED_SOURCE,  /* authenticated data whose inner source is not its allowed IPs */
	DEVICE_EV_HANDSHAKE_FLOOD, /* an initiation authenticated under its static key, newer than
				      its last, refused for the 50/s limit */
	DEVICE_EV_INNER_MALFORMED, /* authenticated, not replayed data whose inner packet is not
				      well-formed IPv4/IPv6 (version, header, length) */
};

struct staged {
	uint8_t *pkt[DEVICE_MAX_STAGED];
	uint16_t len[DEVICE_MAX_STAGED];
	unsigned n;
};

struct peer {
	struct device *dev;
	pthread_mutex_t lock;
	struct noise_peer *noise;      /* sodium_malloc: keys, handshake in flight */
	struct cookie_maker cookie;
	struct keypairs keys;
	struct timers timers;
	struct staged staged;
	struct sockaddr_storage endpoint;  /* ss_family 0: none */
	struct in6_pktinfo src;        /* our address it last reached us at */
	bool has_src;                  /* (kernel: endpoint src; replies leave from it) */
	uint32_t hs_index;             /* our index of the handshake in flight, 0: none */
	uint32_t key_index[3];         /* indices registered for keys prev/cur/next */
	double last_initiation_sent, last_initiation_consumed;
	struct timespec last_handshake; /* wall clock, for `wg show` */
	uint16_t keepalive;            /* persistent keepalive, seconds */
	_Atomic uint64_t rx_bytes, tx_bytes;
};

struct hs_msg {
	uint8_t buf[NOISE_INITIATION_LEN];
	uint16_t len;
	bool has_dst;
	struct sockaddr_storage src;
	struct in6_pktinfo dst;        /* the address of ours it was sent to */
};

struct device {
	char ifname[IFNAMSIZ];
	int tun, sock, sock_family;    /* sock: AF_INET6 dual stack, or AF_INET */
	int wake_tx, wake_rx, wake_ctl;    /* eventfds */
	_Atomic bool stop;
	_Atomic unsigned mtu;
	_Atomic bool gso, gro;         /* UDP_SEGMENT on send, UDP_GRO on receive */

	pthread_rwlock_t cfg;
	struct noise_local *local;     /* NULL: no private key */
	struct cookie_checker cookie;
	uint16_t listen_port;
	uint32_t fwmark;
	struct peer **peers;           /* sorted by public key */
	size_t npeers;
	struct allowedips *aips;

	pthread_mutex_t index_lock;
	struct index_table *index;

	pthread_mutex_t hs_lock;
	pthread_cond_t hs_cond;
	struct hs_msg *hs_queue;       /* ring of DEVICE_HS_QUEUE */
	unsigned hs_head, hs_len;
	double under_load_until;
	struct ratelimit *ratelimit;

	pthread_t tx_thread, rx_thread, hs_thread;
	bool threads;
	_Atomic uint64_t drops[DROP_MAX];
	_Atomic uint64_t sessions;     /* keypairs derived: rotations are visible */
	_Atomic uint64_t evicted;      /* keypairs dropped by device_peer_evict */
	/* a detached device (tests, fuzzing) has no TUN or socket: these get
	 * what would be sent to the network and written to the TUN */
	void (*xmit)(void *ctx, const uint8_t *buf, size_t len, const struct sockaddr_storage *to);
	void (*deliver)(void *ctx, const uint8_t *pkt, size_t len);
	void *hook_ctx;
	void (*log)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	/* what a peer did that only that peer can have done (device_set_events) */
	void (*event)(void *ctx, const uint8_t pub[32], enum device_event ev,
		      const uint8_t *inner, size_t len);
	void *event_ctx;
};

/* Create the TUN device ifname (MTU 1420) and an unbound UDP socket; start
 * no threads yet. -errno. log may be NULL. */
int device_new(const char *ifname, void (*log)(int, const char *, ...), struct device **out);
/* A device without TUN or socket, wired to callbacks; no threads. */
int device_new_detached(void (*xmit)(void *, const uint8_t *, size_t,
				     const struct sockaddr_storage *),
			void (*deliver)(void *, const uint8_t *, size_t), void *ctx,
			struct device **out);
/* Inject one packet as if read from the TUN (the tx path). */
void device_xmit(struct device *dev, const uint8_t *pkt, size_t len);
/* Run every peer's timers as the control thread does, at time now. */
void device_run_timers(struct device *dev, double now);
/* Start the packet threads. */
int device_start(struct device *dev);
/* Ask every thread, device_run included, to finish. Async-signal-safe. */
void device_stop(struct device *dev);
/* Serve the UAPI on listen_fd and run the timers until device_stop(). */
int device_run(struct device *dev, int listen_fd);
void device_free(struct device *dev);

#define DEVICE_UAPI_DIR "/var/run/wireguard"
/* Listen on DEVICE_UAPI_DIR/IFNAME.sock (path gets the name); a live socket
 * there means another instance owns the name, a dead one is replaced.
 * The listening fd, or -errno. */
int device_uapi_listen(const char *ifname, char *path, size_t pathlen);

/* What `policyctl status` shows of a peer. */
struct device_peer_info {
	uint8_t public_key[32];
	struct sockaddr_storage endpoint;   /* ss_family 0: none */
	struct timespec last_handshake;     /* wall clock; 0: never */
	uint64_t rx_bytes, tx_bytes;
	uint16_t keepalive;
};
int device_peers(struct device *dev, void (*fn)(void *ctx, const struct device_peer_info *pi),
		 void *ctx);

/* Call ev (from a packet thread: it must be quick and thread-safe) for
 * every device_event, with the decrypted inner packet: for a spoofed source
 * a well-formed IPv4 or IPv6 header at least; for a malformed one the
 * decrypted bytes as they are (padding included); for a flood NULL, 0.
 * Set before device_start. */
void device_set_events(struct device *dev,
		       void (*ev)(void *ctx, const uint8_t pub[32], enum device_event e,
				  const uint8_t *inner, size_t len),
		       void *ctx);
/* Forget the peer's sessions and any handshake in flight, so it must
 * handshake again (quarantine with evict); the keypairs dropped are counted
 * (`evicted` in stats). 0 or -ENOENT. */
int device_peer_evict(struct device *dev, const uint8_t pub[32]);
/* Start a handshake with the peer now, if it has an endpoint (after a
 * quarantine is lifted, so the peer need not wait for its own timers).
 * 0 or -ENOENT. */
int device_peer_handshake(struct device *dev, const uint8_t pub[32]);
/* Apply a parsed UAPI set request: all of it, or (on error) none. -errno. */
int device_apply(struct device *dev, const struct uapi_set *s);
/* Write the UAPI get reply (without the final errno line) to fd. */
int device_dump(struct device *dev, int fd);
/* Drop counters as "name=value\n" lines. */
int device_dump_stats(struct device *dev, int fd);

/* Receive one datagram as if it came from src: the rx path, for the fuzzer
 * and the in-memory tests; handshakes are queued, as on the wire. */
void device_receive(struct device *dev, uint8_t *buf, size_t len,
		    const struct sockaddr_storage *src);
/* Process every queued handshake message now (the handshake thread's job). */
void device_handshake_drain(struct device *dev);

/* internal, between device.c, send.c, receive.c and handshake.c */
double device_now(void);
/* A packet thread's idle wait: until fd is readable or the wake eventfd
 * (new socket, stop) fires; the wake-up is consumed. */
void device_wait(int fd, int wake);
void device_count(struct device *dev, enum drop_reason r);
struct peer *device_peer_by_pub(struct device *dev, const uint8_t pub[32]);
struct peer *device_peer_by_index(struct device *dev, uint32_t index);
void peer_refresh_indices(struct peer *p);
void send_to_peer(struct peer *p, const uint8_t *buf, size_t len);
void send_to_addr(struct device *dev, const uint8_t *buf, size_t len,
		  const struct sockaddr_storage *to, const struct in6_pktinfo *from);
void peer_clear_keys(struct peer *p);
void device_refresh_mtu(struct device *dev);
void send_initiation(struct peer *p, bool retry, double now);
void send_keepalive(struct peer *p, double now);
void send_staged(struct peer *p, double now);
void send_stage(struct peer *p, const uint8_t *pkt, size_t len);
void send_purge_staged(struct peer *p);
void *send_thread(void *arg);
void *receive_thread(void *arg);
void *handshake_thread(void *arg);
bool handshake_enqueue(struct device *dev, const uint8_t *buf, size_t len,
		       const struct sockaddr_storage *src, const struct in6_pktinfo *dst);
/* An authenticated packet came from src to our address dst (NULL: unknown). */
void peer_set_endpoint(struct peer *p, const struct sockaddr_storage *src,
		       const struct in6_pktinfo *dst);
/* An IPV6_PKTINFO control message choosing the source address; 0 if none. */
size_t send_src_cmsg(const struct device *dev, const struct in6_pktinfo *src, bool has,
		     void *buf, size_t buflen);
void timers_run_peer(struct peer *p, double now);

#endif
