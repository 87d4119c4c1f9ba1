/* nflog.h — the NFLOG listener (nfnetlink_log over libmnl) and a parser for
 * what it receives.
 *
 * The VPN chain logs denied packets to group IR_NFLOG_GROUP with a rate
 * limit and queue-threshold 1 (rules/compile.c). nflog_open binds the group
 * in the caller's network namespace and configures the instance: copy the
 * first NFLOG_COPY_RANGE bytes of each packet (IPv4/IPv6 header, a few
 * extension headers, the L4 header), queue threshold 1, flush timeout
 * 10 ms, per-instance sequence numbers (gaps = lost messages), a large
 * receive buffer. The fd is non-blocking: add nflog_fd() to epoll (EPOLLIN,
 * level-triggered) and call nflog_read() when it is readable.
 *
 * PF_BIND/PF_UNBIND are not sent: they only (un)register nfnetlink_log as a
 * family's default logger (nf_log_bind_pf) and are not needed for `log
 * group N`; sending PF_UNBIND would take the default logger away from
 * whoever else uses it.
 *
 * A flood cannot take the daemon down: the kernel rule is rate limited;
 * a full receive buffer makes recv() fail with ENOBUFS, which is counted
 * (stats.overflows) and reading simply goes on; nflog_read handles at most
 * NFLOG_READ_BUDGET datagrams per call so the event loop stays responsive
 * (epoll reports the fd again if more is queued). */
#ifndef POLICYD_QUARANTINE_NFLOG_H
#define POLICYD_QUARANTINE_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define NFLOG_COPY_RANGE 256   /* IPv6 with a few extension headers still shows its L4 header */
#define NFLOG_TIMEOUT_CS 1                  /* flush timeout, 1/100 s */
#define NFLOG_RCVBUF (8u << 20)
#define NFLOG_READ_BUDGET 256
#define NFLOG_PREFIX_MAX 64                 /* the kernel's limit is 128 with the NUL */
#define NFLOG_EARLY_MAX 16                  /* datagrams kept from before the config ack */

/* What one logged packet says. Only what the payload really contained is
 * set: check family (0: no usable L3 header) and has_l4. */
struct nflog_pkt {
	uint16_t group;                     /* from the message header */
	uint16_t hw_protocol;               /* ethertype, host order (0 if absent) */
	uint8_t hook;
	uint32_t indev;                     /* ifindex, 0 if absent */
	bool has_seq;
	uint32_t seq;                       /* per-instance sequence number */
	char prefix[NFLOG_PREFIX_MAX];      /* "" if absent; truncated if longer */
	uint32_t payload_len;               /* bytes of the packet that were copied */

	uint8_t family;                     /* AF_INET, AF_INET6, or 0 */
	struct addr src, dst;
	bool fragment;                      /* a non-first fragment: no L4 header */
	uint8_t proto;                      /* L4 protocol after IPv6 extension headers */
	bool has_l4;                        /* dport (and for TCP, syn) are valid */
	uint16_t dport;                     /* TCP/UDP/SCTP/UDP-Lite/DCCP port; ICMP/ICMPv6: type */
	bool syn;                           /* TCP SYN without ACK (a connection attempt) */
	bool has_flags;                     /* TCP: tcp_flags is valid */
	uint8_t tcp_flags;                  /* TCP header byte 13: CWR ECE URG ACK PSH RST SYN FIN */
};

/* Parse one netlink datagram as received from an NFLOG socket: any number
 * of messages (NLM_F_MULTI, NLMSG_DONE, NLMSG_NOOP, NLMSG_ERROR are skipped
 * or end the walk). cb is called once per NFULNL_MSG_PACKET with the parsed
 * packet; the struct is valid during the call only. Every length in the
 * input is checked; nothing is read outside [buf, buf + len).
 * Returns the number of packets passed to cb, or -EBADMSG if the framing is
 * broken (after the packets before the break were passed to cb). */
int nflog_parse(const void *buf, size_t len,
		void (*cb)(void *ctx, const struct nflog_pkt *p), void *ctx);

struct nflog_stats {
	uint64_t datagrams;                 /* recv() calls that returned data */
	uint64_t packets;                   /* packets passed to the callback */
	uint64_t malformed;                 /* datagrams nflog_parse refused */
	uint64_t overflows;                 /* ENOBUFS: the kernel dropped messages */
	uint64_t lost;                      /* messages missing by sequence number */
	uint64_t truncated;                 /* datagrams larger than the read buffer */
	uint64_t early;                     /* packets that came before the config ack */
};

struct nflog;

/* Bind `group` in the current netns. 0, or -errno: -EPERM without
 * CAP_NET_ADMIN or if another socket already listens to the group, or what
 * the kernel refused. */
int nflog_open(uint16_t group, struct nflog **out);
void nflog_close(struct nflog *n);
int nflog_fd(const struct nflog *n);
/* Read what is queued (up to NFLOG_READ_BUDGET datagrams) and call cb per
 * packet. Returns the number of packets, or -errno for a socket error other
 * than EAGAIN/EINTR/ENOBUFS (ENOBUFS is counted and reading goes on). */
int nflog_read(struct nflog *n, void (*cb)(void *ctx, const struct nflog_pkt *p), void *ctx);
const struct nflog_stats *nflog_stats(const struct nflog *n);
/* A datagram read while nflog_open waited for its configuration's ack
 * (the group was bound, so packets may come first): its packets are counted
 * (stats.early) and kept, and the next nflog_read hands them to its
 * callback before anything newer. At most NFLOG_EARLY_MAX datagrams are
 * kept; the packets of any more are counted as lost. Returns the packets
 * kept, 0 if it held none, -ENOBUFS if they were lost. nflog_open calls
 * it; it is public for the tests. */
int nflog_keep_early(struct nflog *n, const void *buf, size_t len);

#endif
