/* watch.c — ruleset events of this network namespace → "was our table
 * changed by someone else since we last replaced it?"
 *
 * State, in generation ids (serial numbers, they wrap):
 *   seen      the last NEWGEN read: every event of generations up to it is
 *             known (or was lost, see lost)
 *   vouch     the generation of our last replacement; nothing is vouched
 *             for before the first one
 *   last      the latest foreign change of our table, closed by the NEWGEN
 *             of its transaction; pending while that NEWGEN has not come
 *   lost      events after generation lost_after may be missing (the
 *             kernel dropped them: ENOBUFS; or they came while deaf):
 *             anything may have happened after it
 *   deaf      unsubscribed around a replacement of ours (pause, resume)
 *
 * Tampered = no vouch, or lost, or pending, or last after vouch. Our own
 * commits settle it (rules_watch_committed): when the generation read after
 * them is theirs, nothing else can have been missed. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ir.h"
#include "watch.h"

#define WATCH_RCVBUF (8 << 20)
#define WATCH_BUF (64 * 1024)     /* the kernel's event skbs are at most a page or two */
#define SYNC_TIMEOUT_MS 500

struct rules_watch {
	int fd;
	uint32_t portid;              /* our rules_nl socket's */
	uint32_t seen, vouch, lost_after;
	const char *lost_why;
	bool vouched, lost, pending, has_last;
	bool deaf;                    /* unsubscribed: from pause to resume */
	bool broken;                  /* could not subscribe again: never vouches */
	uint32_t deaf_from;           /* the generation read before pausing */
	struct rules_tamper cur, last; /* cur: pending, waiting for its NEWGEN */
	unsigned fresh;               /* found by the current drain */
	struct rules_watch_stats st;
	char buf[WATCH_BUF];
};

/* a after b, in serial number arithmetic */
static bool gen_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

int rules_watch_new(struct rules_nl *nl, int rcvbuf, struct rules_watch **out)
{
	struct rules_watch *w = calloc(1, sizeof(*w));
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	int group = NFNLGRP_NFTABLES, size = rcvbuf ? rcvbuf : WATCH_RCVBUF, r;

	if (!w)
		return -ENOMEM;
	w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
	if (w->fd < 0 || bind(w->fd, (struct sockaddr *)&snl, sizeof(snl)) < 0 ||
	    setsockopt(w->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = -errno;
		rules_watch_free(w);
		return r;
	}
	if (setsockopt(w->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	w->portid = rules_nl_portid(nl);
	/* subscribed first: generations after this one all reach us */
	if ((r = rules_nl_genid(nl, &w->seen)) < 0) {
		rules_watch_free(w);
		return r;
	}
	*out = w;
	return 0;
}

void rules_watch_free(struct rules_watch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

int rules_watch_fd(const struct rules_watch *w)
{
	return w->fd;
}

/* ---- events ------------------------------------------------------------------- */

/* Every nf_tables object message (table, chain, rule, set, element, object,
 * flowtable) names its table in attribute 1. */
static bool on_our_table(const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*g)) || g->nfgen_family != NFPROTO_INET)
		return false;
	mnl_attr_for_each(a, nlh, sizeof(*g))
		if (mnl_attr_get_type(a) == 1) {
			const char *s = mnl_attr_get_payload(a);
			size_t n = mnl_attr_get_payload_len(a);

			return strnlen(s, n) == strlen(IR_TABLE) && !memcmp(s, IR_TABLE, strlen(IR_TABLE));
		}
	return false;
}

static void on_gen(struct rules_watch *w, const struct nlmsghdr *nlh)
{
	const struct nlattr *a;
	uint32_t id = 0, pid = 0;
	const char *comm = NULL;
	bool has_id = false;

	w->st.gens++;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_payload_len(a) >= 4 && mnl_attr_get_type(a) == NFTA_GEN_ID) {
			id = ntohl(mnl_attr_get_u32(a));
			has_id = true;
		} else if (mnl_attr_get_payload_len(a) >= 4 && mnl_attr_get_type(a) == NFTA_GEN_PROC_PID) {
			pid = ntohl(mnl_attr_get_u32(a));
		} else if (mnl_attr_get_type(a) == NFTA_GEN_PROC_NAME &&
			   mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) {
			comm = mnl_attr_get_str(a);
		}
	}
	if (!has_id)
		return;
	w->seen = id;
	if (!w->pending || nlh->nlmsg_pid != w->cur.portid)
		return;
	w->cur.genid = id;
	w->cur.pid = pid;
	snprintf(w->cur.comm, sizeof(w->cur.comm), "%s", comm ? comm : "");
	w->last = w->cur;
	w->has_last = true;
	w->pending = false;
}

static void on_event(struct rules_watch *w, const struct nlmsghdr *nlh)
{
	uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return;
	w->st.events++;
	if (type == NFT_MSG_NEWGEN) {
		on_gen(w, nlh);
		return;
	}
	if (type == NFT_MSG_TRACE)
		return;
	if (nlh->nlmsg_pid == w->portid) {
		w->st.ours++;
		return;
	}
	w->st.foreign++;
	if (!on_our_table(nlh))
		return;
	/* the kernel's own element changes (expiry, packet path), if it ever
	 * reported them */
	if (nlh->nlmsg_pid == 0 && (type == NFT_MSG_NEWSETELEM || type == NFT_MSG_DELSETELEM))
		return;
	w->st.tampers++;
	if (w->pending)
		return;
	w->cur = (struct rules_tamper){ .portid = nlh->nlmsg_pid, .type = type };
	w->pending = true;
	w->fresh++;
}

/* Events after generation after may be missing. */
static void mark_lost(struct rules_watch *w, uint32_t after, const char *why)
{
	if (!w->lost) {
		w->lost = true;
		w->lost_after = after;
		w->lost_why = why;
		w->fresh++;
	}
}

int rules_watch_drain(struct rules_watch *w)
{
	w->fresh = 0;
	for (;;) {
		ssize_t n = recv(w->fd, w->buf, sizeof(w->buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)w->buf;
		int len = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno != ENOBUFS)
				return -errno;
			w->st.lost++; /* everything up to seen was read before */
			mark_lost(w, w->seen, "the kernel dropped ruleset events (ENOBUFS)");
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			on_event(w, nlh);
	}
	return (int)w->fresh;
}

/* ---- state ------------------------------------------------------------------------ */

bool rules_watch_tampered(const struct rules_watch *w)
{
	return w->broken || !w->vouched || w->lost || w->pending ||
	       (w->has_last && gen_after(w->last.genid, w->vouch));
}

const struct rules_tamper *rules_watch_last(const struct rules_watch *w)
{
	return w->has_last ? &w->last : w->pending ? &w->cur : NULL;
}

static const char *msg_name(uint16_t type)
{
	static const char *const names[] = {
		[NFT_MSG_NEWTABLE] = "added the table", [NFT_MSG_DELTABLE] = "deleted the table",
		[NFT_MSG_NEWCHAIN] = "added a chain", [NFT_MSG_DELCHAIN] = "deleted a chain",
		[NFT_MSG_NEWRULE] = "added a rule", [NFT_MSG_DELRULE] = "deleted a rule",
		[NFT_MSG_NEWSET] = "added a set", [NFT_MSG_DELSET] = "deleted a set",
		[NFT_MSG_NEWSETELEM] = "added set elements",
		[NFT_MSG_DELSETELEM] = "deleted set elements",
	};

	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "changed it";
}

void rules_watch_describe(const struct rules_watch *w, char *buf, size_t len)
{
	const struct rules_tamper *t = w->pending ? &w->cur : &w->last;

	if (w->broken)
		snprintf(buf, len, "the watch could not subscribe to ruleset events again");
	else if (w->lost)
		snprintf(buf, len, "%s after generation %u: changes to table inet %s unknown",
			 w->lost_why, w->lost_after, IR_TABLE);
	else if (w->pending || (w->has_last && w->vouched && gen_after(w->last.genid, w->vouch)))
		snprintf(buf, len, "table inet %s changed by %s (pid %u, netlink port %u): %s, "
			 "generation %u", IR_TABLE, t->comm[0] ? t->comm : "another process", t->pid,
			 t->portid, msg_name(t->type), t->genid);
	else if (!w->vouched)
		snprintf(buf, len, "the watch has not seen table inet %s put in place", IR_TABLE);
	else
		snprintf(buf, len, "%s", "");
}

void rules_watch_stats(const struct rules_watch *w, struct rules_watch_stats *out)
{
	*out = w->st;
}

/* ---- for rules_update -------------------------------------------------------------- */

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int rules_watch_sync(struct rules_watch *w, uint32_t genid)
{
	struct timespec t0;
	unsigned fresh = 0;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* a commit makes its generation visible a moment before its events */
	while ((r = rules_watch_drain(w)) >= 0) {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };
		long left = SYNC_TIMEOUT_MS - ms_since(&t0);

		fresh += (unsigned)r;
		if (rules_watch_tampered(w) || !gen_after(genid, w->seen))
			break; /* known, or nothing to wait for */
		if (left <= 0) {
			mark_lost(w, w->seen, "ruleset events did not arrive in time");
			break;
		}
		poll(&p, 1, (int)left);
	}
	w->fresh = fresh;
	return r < 0 ? r : 0;
}

static int membership(struct rules_watch *w, int opt)
{
	int group = NFNLGRP_NFTABLES;

	return setsockopt(w->fd, SOL_NETLINK, opt, &group, sizeof(group)) < 0 ? -errno : 0;
}

int rules_watch_pause(struct rules_watch *w, uint32_t genid)
{
	int r = membership(w, NETLINK_DROP_MEMBERSHIP);

	if (r == 0) {
		w->deaf = true;
		w->deaf_from = genid;
	}
	return r;
}

int rules_watch_resume(struct rules_watch *w)
{
	int r = membership(w, NETLINK_ADD_MEMBERSHIP);

	if (r < 0) /* deaf for good */
		w->broken = true;
	return r;
}

void rules_watch_committed(struct rules_watch *w, uint32_t gen, uint32_t now_gen, bool replaced)
{
	if (w->deaf) { /* what was missed: after ours, or anything if ours failed */
		w->deaf = false;
		if (now_gen != (gen ? gen : w->deaf_from))
			mark_lost(w, gen ? gen : w->deaf_from,
				  "the ruleset changed while the watch was not listening");
		else if (gen_after(now_gen, w->seen))
			w->seen = now_gen;
	}
	if (!gen)
		return;
	if (now_gen == gen) { /* nobody after us: all that was lost was ours, or undone */
		if (w->lost && (replaced || !gen_after(gen - 1, w->lost_after)))
			w->lost = false;
		if (gen_after(gen, w->seen))
			w->seen = gen; /* its NEWGEN was among the lost */
		if (replaced)
			w->pending = false; /* its NEWGEN was lost too: before ours */
	}
	if (replaced) {
		w->vouch = gen;
		w->vouched = true;
	}
}
