/* nmapxml.h — what one nmap run observed about one target, from its XML
 * output (-oX), parsed incrementally with libexpat as the bytes arrive.
 *
 * The XML comes from a program we run but describes a network we do not
 * trust, so it is parsed as untrusted bytes: bounded in size and depth, no
 * DTD or entities, every number range-checked, at most NMAPXML_REASONS
 * distinct reason strings. Only the first <host> counts (we scan one).
 * Ports collapsed into <extraports> are expanded from their <extrareasons
 * ports="..."> lists (nmap ≥ 7.80), so every scanned port has a state; at
 * most NMAPXML_MAX_PORTS states per protocol are written (nmap reports each
 * port once), so a document of repeated "1-65535" lists costs no more than
 * one real report. */
#ifndef POLICYD_AUDIT_NMAPXML_H
#define POLICYD_AUDIT_NMAPXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NMAPXML_MAX_BYTES (64u << 20)
#define NMAPXML_REASONS 32
#define NMAPXML_REASON_LEN 40     /* nmap's longest, "host-precedence-violation", fits */
#define NMAPXML_MAX_PORTS 65536u  /* port states per protocol in one document */

enum nmap_state {
	NMAP_UNSEEN = 0,       /* nmap said nothing about the port */
	NMAP_OPEN,
	NMAP_CLOSED,
	NMAP_FILTERED,
	NMAP_UNFILTERED,
	NMAP_OPEN_FILTERED,
	NMAP_CLOSED_FILTERED,
};

enum nmap_proto { NMAP_TCP, NMAP_UDP, NMAP_NPROTO };

enum nmap_host { NMAP_HOST_NONE, NMAP_HOST_UP, NMAP_HOST_DOWN, NMAP_HOST_UNKNOWN };

struct nmap_port {
	uint8_t state;          /* enum nmap_state */
	uint8_t reason;         /* index into nmap_result.reasons */
	uint8_t ttl;            /* reason_ttl */
};

struct nmap_result {
	struct nmap_port *ports[NMAP_NPROTO]; /* 65,536 each, allocated with the first port; use nmap_port() */
	char reasons[NMAPXML_REASONS][NMAPXML_REASON_LEN];
	size_t nreasons;
	size_t nseen[NMAP_NPROTO];          /* ports with a state */
	char version[16];                   /* nmaprun version="" */
	char scan_type[2][16];              /* scaninfo type="" per protocol (syn, connect, udp) */
	enum nmap_host host;
	char host_reason[NMAPXML_REASON_LEN];
	char host_addr[48];
	unsigned hosts_up, hosts_down, hosts_total;
	bool finished;                      /* <finished> seen */
	bool exit_error;                    /* finished exit="error" */
	char errmsg[256];                   /* finished errormsg, or a skipped target's reason */
	double elapsed;                     /* seconds */
};

struct nmapxml;

struct nmapxml *nmapxml_new(void);
/* The state of one port (NMAP_UNSEEN when nmap said nothing). */
const struct nmap_port *nmap_port(const struct nmap_result *r, int proto, unsigned port);
void nmap_result_free(struct nmap_result *r);

/* Feed the next chunk. 0, or -EBADMSG (not well-formed, or a DTD/entity),
 * -EFBIG (over NMAPXML_MAX_BYTES), -E2BIG (more than NMAPXML_MAX_PORTS port
 * states for one protocol), -ENOMEM. After an error, feeding stops. */
int nmapxml_feed(struct nmapxml *x, const void *buf, size_t len);
/* End of input: 0 if the document was complete and well-formed, and *out
 * is the result, now the caller's (nmap_result_free() it). */
int nmapxml_finish(struct nmapxml *x, struct nmap_result **out);
/* Line and column of the first error (for messages); 0 if unknown. */
void nmapxml_error_pos(const struct nmapxml *x, unsigned long *line, unsigned long *col);
void nmapxml_free(struct nmapxml *x);

/* Whole buffer at once (fixtures, fuzzing): 0 with *out (nmap_result_free()
 * it), or as nmapxml_feed/finish. */
int nmapxml_parse(const void *buf, size_t len, struct nmap_result **out);

const char *nmap_state_name(enum nmap_state s);
int nmap_state_parse(const char *s);   /* enum nmap_state, or -EINVAL */
const char *nmap_reason(const struct nmap_result *r, const struct nmap_port *p);

#endif
