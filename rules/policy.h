/* policy.h — the typed, validated policy (format: shared/POLICY.md, version 1).
 *
 * policy_load() parses HuJSON text, checks everything, and returns an
 * immutable snapshot or NULL with every problem in the diags. Nothing outside
 * the parser sees cJSON. Selectors are kept as written and resolved on demand
 * by select.c; names are validated, so lookups never fail after a load. */
#ifndef RULES_POLICY_H
#define RULES_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "diag.h"
#include "strmap.h"

#define POLICY_KEY_LEN 32
#define POLICY_IFNAMSIZ 16

struct range16 {
	uint16_t lo, hi;
};

/* Sorted, merged, inclusive port ranges. */
struct rangeset {
	struct range16 *v;
	size_t n, cap;
};

/* What a list of port specs allows. */
struct portset {
	bool all;   /* "*": every protocol and port */
	bool icmp;  /* "icmp": echo requests (errors are always accepted) */
	struct rangeset tcp, udp;
};

enum sel_kind { SEL_ALL, SEL_NODE, SEL_TAG, SEL_GROUP, SEL_HOST, SEL_CIDR };

struct sel {
	enum sel_kind kind;
	char *name;          /* node, tag, group or host name */
	size_t idx;          /* SEL_NODE: node index; SEL_GROUP/SEL_HOST: index */
	struct prefix cidr;  /* SEL_CIDR */
};

struct sellist {
	struct sel *v;
	size_t n;
};

struct node {
	char *name;
	uint8_t key[POLICY_KEY_LEN];
	struct prefix *ips;   /* host prefixes (/32, /128) or small ranges */
	size_t nips;
	char *endpoint;       /* "HOST:PORT" or NULL */
	char **tags;
	size_t ntags;
	char **public;        /* interface names; npublic == 0 means every interface */
	size_t npublic;
	int keepalive;        /* seconds, 0 = off */
};

struct group {
	char *name;
	struct sellist members;
};

struct host {
	char *name;
	struct prefix *v;
	size_t n;
};

struct service {
	char *name;
	struct portset ports;
};

struct expose {
	char *id;
	struct sellist on, from;
	struct portset ports;
};

struct acl {
	char *id;
	struct sellist src, dst;
	struct portset ports;
	int64_t expires;      /* unix seconds; 0 = never */
};

enum ptest_src { PTEST_NODE, PTEST_INTERNET, PTEST_ADDR };

struct ptest_target {
	size_t node;
	uint16_t port;
};

struct ptest {
	enum ptest_src kind;
	size_t node;          /* PTEST_NODE */
	struct addr addr;     /* PTEST_ADDR */
	char *src;            /* as written */
	uint8_t proto;        /* IPPROTO_TCP or IPPROTO_UDP */
	struct ptest_target *accept, *deny;
	size_t naccept, ndeny;
};

struct suspicion {
	uint32_t window, ban, max_ban;   /* seconds */
	uint32_t denied_ports, denied_packets;
	double backoff;
	struct sellist exempt;
	bool evict;
};

struct breakglass {
	bool present;
	struct sellist holders;
	struct portset ports;
	uint32_t ttl;                    /* seconds */
	uint32_t min_holders;
};

struct network {
	char interface[POLICY_IFNAMSIZ];
	uint16_t port;
	bool has_v4, has_v6;
	struct prefix v4, v6;
};

struct policy {
	int version;
	struct network net;
	struct node *nodes;
	size_t nnodes;
	struct group *groups;
	size_t ngroups;
	struct host *hosts;
	size_t nhosts;
	struct service *services;
	size_t nservices;
	struct expose *expose;
	size_t nexpose;
	struct acl *acls;
	size_t nacls;
	struct ptest *tests;
	size_t ntests;
	struct suspicion suspicion;
	struct breakglass breakglass;
	uint8_t hash[32];                /* BLAKE2b-256 of the file's bytes */
	/* name → index, built while parsing (keys borrowed from the arrays) */
	struct strmap node_names, group_names, host_names, service_names;
};

struct policy_opts {
	time_t now;                      /* for `expires` warnings; 0 = time(NULL) */
};

/* Parse and validate. Returns NULL if any error was recorded; warnings alone
 * do not fail. Positions in d are filled in before returning. */
struct policy *policy_load(const char *text, size_t len, const struct policy_opts *opts,
			   struct diags *d);
void policy_free(struct policy *p);
/* Fill in line:col of records added after policy_load (e.g. failing tests). */
void policy_diags_locate(const char *text, size_t len, struct diags *d);

/* Lookups (exact names; -1 if absent). */
long policy_node_find(const struct policy *p, const char *name);
long policy_node_by_key(const struct policy *p, const uint8_t key[POLICY_KEY_LEN]);

/* Port sets. */
void portset_free(struct portset *ps);
void portset_union(struct portset *dst, const struct portset *src);
bool portset_allows(const struct portset *ps, uint8_t proto, uint16_t port);
bool portset_is_empty(const struct portset *ps);
int rangeset_add(struct rangeset *rs, uint16_t lo, uint16_t hi);
bool rangeset_contains(const struct rangeset *rs, uint16_t port);

/* Parsers for the small grammars, shared with policyctl. */
int duration_parse(const char *s, uint32_t *seconds);        /* "30s" "10m" "1h" "7d" */
int rfc3339_parse(const char *s, int64_t *unix_seconds);
bool policy_name_ok(const char *s);                          /* [a-z0-9][a-z0-9-]{0,62} */

#endif
