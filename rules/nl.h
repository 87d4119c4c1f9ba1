/* nl.h — the nf_tables netlink transport: batches, one sendmsg, errors.
 *
 * A batch is BEGIN, messages, END in libnftnl's paged buffer, sent with a
 * single sendmsg() so the kernel applies it as one transaction or not at
 * all. Every message records the origin (policy rule) that produced it, so
 * a kernel error is reported against the ACL id or JSON pointer behind it. */
#ifndef RULES_NL_H
#define RULES_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;
struct nlb;
struct rules_nl;

/* One error the kernel returned for a message of the batch. */
struct nl_error {
	int err;            /* positive errno */
	uint16_t type;      /* NFT_MSG_* of the failing message */
	uint32_t origin;    /* what the caller recorded for that message */
};

struct nl_errors {
	struct nl_error *v;
	size_t n, cap;
};

struct nlb *nlb_new(void);
void nlb_free(struct nlb *b);
/* Start a message (NFT_MSG_*, NFPROTO_*, NLM_F_*), remembering its origin.
 * Build the payload into the returned header, then call nlb_end_msg(). */
struct nlmsghdr *nlb_msg(struct nlb *b, uint16_t type, uint16_t family, uint16_t flags,
			 uint32_t origin);
int nlb_end_msg(struct nlb *b);
/* Record the origin of the next set element of the current message, in the
 * order the elements are written; a kernel error that points at an element
 * (extended ACK offset) is then reported against that element's origin. */
int nlb_elem_origin(struct nlb *b, uint32_t origin);
size_t nlb_count(const struct nlb *b);
size_t nlb_bytes(const struct nlb *b);
/* Walk the messages built so far, in order (tests, debugging). */
int nlb_walk(struct nlb *b, int (*fn)(const struct nlmsghdr *nlh, void *ctx), void *ctx);

int rules_nl_open(struct rules_nl **out);
void rules_nl_close(struct rules_nl *nl);
/* The socket's netlink port id: the kernel stamps it on the ruleset events
 * (NFNLGRP_NFTABLES) of every batch sent here, so a watch can tell our
 * changes from everyone else's (watch.h). */
uint32_t rules_nl_portid(const struct rules_nl *nl);
/* Current generation id of the ruleset (NFT_MSG_GETGEN). */
int rules_nl_genid(struct rules_nl *nl, uint32_t *genid);

/* Send the batch. commit=false: the kernel checks every message and then
 * aborts (no BATCH_END). genid != 0: refused with -ERESTART if the ruleset
 * changed since that generation. Returns 0 when the kernel accepted every
 * message; otherwise the first error as -errno and every error in errs. */
int rules_nl_send(struct rules_nl *nl, struct nlb *b, bool commit, uint32_t genid,
		  struct nl_errors *errs);

/* One element of a dumped set: its key, the end of its range (pipapo
 * interval sets; NULL otherwise) and its remaining lifetime in ms (0 = no
 * timeout). The bytes live only during the callback. */
struct nl_elem {
	const void *key, *key_end;
	uint32_t keylen, endlen;
	uint64_t expires_ms;
};

/* Dump the elements of a set: calls fn for each element. -ENOENT if no such
 * set. */
typedef void (*nl_elem_fn)(void *ctx, const struct nl_elem *e);
int rules_nl_dump_set(struct rules_nl *nl, const char *table, const char *set, nl_elem_fn fn,
		      void *ctx);

void nl_errors_free(struct nl_errors *e);

#endif
