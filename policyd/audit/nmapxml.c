/* nmapxml.c — nmap's XML output (-oX) to a struct nmap_result.
 *
 * A streaming libexpat parser that keeps a stack of the elements it is in
 * and reacts to the dozen it knows; everything else is skipped. The DTD
 * nmap writes (<!DOCTYPE nmaprun>) has no internal subset; any entity
 * declaration stops the parse (no expansion games). */
#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmapxml.h"

#define DEPTH_MAX 16

enum elem {
	E_OTHER, E_NMAPRUN, E_SCANINFO, E_HOST, E_HOSTHINT, E_STATUS, E_ADDRESS, E_PORTS,
	E_EXTRAPORTS, E_EXTRAREASONS, E_PORT, E_STATE, E_TARGET, E_RUNSTATS, E_FINISHED,
	E_HOSTS,
};

static const char *const elem_names[] = {
	[E_NMAPRUN] = "nmaprun", [E_SCANINFO] = "scaninfo", [E_HOST] = "host",
	[E_HOSTHINT] = "hosthint", [E_STATUS] = "status", [E_ADDRESS] = "address",
	[E_PORTS] = "ports", [E_EXTRAPORTS] = "extraports", [E_EXTRAREASONS] = "extrareasons",
	[E_PORT] = "port", [E_STATE] = "state", [E_TARGET] = "target",
	[E_RUNSTATS] = "runstats", [E_FINISHED] = "finished", [E_HOSTS] = "hosts",
};

static const char *const state_names[] = {
	[NMAP_UNSEEN] = "unseen", [NMAP_OPEN] = "open", [NMAP_CLOSED] = "closed",
	[NMAP_FILTERED] = "filtered", [NMAP_UNFILTERED] = "unfiltered",
	[NMAP_OPEN_FILTERED] = "open|filtered", [NMAP_CLOSED_FILTERED] = "closed|filtered",
};

struct nmapxml {
	XML_Parser xp;
	struct nmap_result *r;
	enum elem stack[DEPTH_MAX];
	size_t depth;           /* may exceed DEPTH_MAX: deeper elements are E_OTHER */
	size_t bytes;
	int err;
	unsigned hosts_seen;
	int extra_state;        /* state of the <extraports> we are in, or -1 */
	int port_proto;         /* the <port> we are in: proto or -1 */
	uint16_t port_id;
	size_t nset[NMAP_NPROTO]; /* port states written per protocol (bounded) */
};

const char *nmap_state_name(enum nmap_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

int nmap_state_parse(const char *s)
{
	for (int i = NMAP_OPEN; i <= NMAP_CLOSED_FILTERED; i++)
		if (!strcmp(s, state_names[i]))
			return i;
	return -EINVAL;
}

const char *nmap_reason(const struct nmap_result *r, const struct nmap_port *p)
{
	return p->reason < r->nreasons ? r->reasons[p->reason] : "";
}

static enum elem elem_of(const char *name)
{
	for (size_t i = 1; i < sizeof(elem_names) / sizeof(elem_names[0]); i++)
		if (!strcmp(name, elem_names[i]))
			return (enum elem)i;
	return E_OTHER;
}

static const char *attr(const XML_Char **a, const char *name)
{
	for (; a[0] && a[1]; a += 2)
		if (!strcmp(a[0], name))
			return a[1];
	return NULL;
}

/* A decimal number in [0, max], nothing else. */
static int num(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

static void copy(char *dst, size_t len, const char *src)
{
	size_t n = src ? strnlen(src, len - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static int proto_of(const char *s)
{
	if (s && !strcmp(s, "tcp"))
		return NMAP_TCP;
	if (s && !strcmp(s, "udp"))
		return NMAP_UDP;
	return -1;
}

/* Index of a reason string, added if new; 0 ("") when the table is full. */
static uint8_t reason_intern(struct nmap_result *r, const char *s)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < r->nreasons; i++)
		if (!strncmp(r->reasons[i], s, NMAPXML_REASON_LEN - 1) &&
		    strlen(s) < NMAPXML_REASON_LEN)
			return (uint8_t)i;
	if (r->nreasons == NMAPXML_REASONS || strlen(s) >= NMAPXML_REASON_LEN)
		return 0;
	copy(r->reasons[r->nreasons], NMAPXML_REASON_LEN, s);
	return (uint8_t)r->nreasons++;
}

const struct nmap_port *nmap_port(const struct nmap_result *r, int proto, unsigned port)
{
	static const struct nmap_port unseen;

	return r->ports[proto] && port < 65536 ? &r->ports[proto][port] : &unseen;
}

void nmap_result_free(struct nmap_result *r)
{
	if (!r)
		return;
	for (int i = 0; i < NMAP_NPROTO; i++)
		free(r->ports[i]);
	free(r);
}

/* Out of memory, or a bound hit, inside a callback: stop the parse. */
static void stop(struct nmapxml *x, int err)
{
	x->err = err;
	XML_StopParser(x->xp, XML_FALSE);
}

/* Room for n more port states of proto? nmap writes each port of its one
 * host once, so more than NMAPXML_MAX_PORTS is not nmap: refuse the
 * document rather than spend time on it. */
static bool budget(struct nmapxml *x, int proto, size_t n)
{
	if (n > NMAPXML_MAX_PORTS - x->nset[proto]) {
		stop(x, -E2BIG);
		return false;
	}
	x->nset[proto] += n;
	return true;
}

static int port_set(struct nmap_result *r, int proto, unsigned port, int state, uint8_t reason,
		    uint8_t ttl)
{
	struct nmap_port *p;

	if (!r->ports[proto] && !(r->ports[proto] = calloc(65536, sizeof(struct nmap_port))))
		return -ENOMEM;
	p = &r->ports[proto][port];
	if (p->state == NMAP_UNSEEN)
		r->nseen[proto]++;
	p->state = (uint8_t)state;
	p->reason = reason;
	p->ttl = ttl;
	return 0;
}

/* Parent of the element being opened (the top of the stack before the push). */
static enum elem parent(const struct nmapxml *x, size_t up)
{
	return x->depth >= up && x->depth - up < DEPTH_MAX ? x->stack[x->depth - up] : E_OTHER;
}

static bool in_first_host(const struct nmapxml *x)
{
	return x->hosts_seen == 1;
}

/* <extrareasons reason="reset" count="95" proto="tcp" ports="20-21,23-25"/> */
static void on_extrareasons(struct nmapxml *x, const XML_Char **a)
{
	int proto = proto_of(attr(a, "proto"));
	const char *s = attr(a, "ports");
	uint8_t reason;

	if (proto < 0 || !s || x->extra_state <= 0 || !in_first_host(x))
		return;
	reason = reason_intern(x->r, attr(a, "reason"));
	while (*s) {
		unsigned long lo, hi;
		char item[16], *dash;
		size_t n = strcspn(s, ",");

		if (n == 0 || n >= sizeof(item))
			return;
		memcpy(item, s, n);
		item[n] = '\0';
		dash = strchr(item, '-');
		if (dash)
			*dash = '\0';
		if (num(item, 65535, &lo) < 0 || num(dash ? dash + 1 : item, 65535, &hi) < 0 ||
		    hi < lo || !budget(x, proto, hi - lo + 1))
			return;
		for (unsigned long p = lo; p <= hi; p++)
			if (port_set(x->r, proto, (unsigned)p, x->extra_state, reason, 0) < 0) {
				stop(x, -ENOMEM);
				return;
			}
		s += n;
		if (*s == ',')
			s++;
	}
}

static void on_state(struct nmapxml *x, const XML_Char **a)
{
	const char *st = attr(a, "state");
	int state = st ? nmap_state_parse(st) : -EINVAL;
	unsigned long ttl = 0;

	if (x->port_proto < 0 || state < 0 || !in_first_host(x))
		return;
	if (num(attr(a, "reason_ttl"), 255, &ttl) < 0)
		ttl = 0;
	if (budget(x, x->port_proto, 1) &&
	    port_set(x->r, x->port_proto, x->port_id, state,
		     reason_intern(x->r, attr(a, "reason")), (uint8_t)ttl) < 0)
		stop(x, -ENOMEM);
}

static void on_port(struct nmapxml *x, const XML_Char **a)
{
	unsigned long id;

	x->port_proto = -1;
	if (num(attr(a, "portid"), 65535, &id) < 0)
		return;
	x->port_proto = proto_of(attr(a, "protocol"));
	x->port_id = (uint16_t)id;
}

static void on_status(struct nmapxml *x, const XML_Char **a)
{
	const char *st = attr(a, "state");
	struct nmap_result *r = x->r;

	if (!in_first_host(x))
		return;
	r->host = !st ? NMAP_HOST_UNKNOWN : !strcmp(st, "up") ? NMAP_HOST_UP
		: !strcmp(st, "down") ? NMAP_HOST_DOWN : NMAP_HOST_UNKNOWN;
	copy(r->host_reason, sizeof(r->host_reason), attr(a, "reason"));
}

static void on_finished(struct nmapxml *x, const XML_Char **a)
{
	const char *ex = attr(a, "exit"), *el = attr(a, "elapsed"), *msg = attr(a, "errormsg");
	struct nmap_result *r = x->r;
	char *end;
	double d;

	r->finished = true;
	r->exit_error = ex && strcmp(ex, "success");
	if (msg)
		copy(r->errmsg, sizeof(r->errmsg), msg);
	if (el) {
		d = strtod(el, &end);
		if (end != el && !*end && d >= 0 && d < 1e9)
			r->elapsed = d;
	}
}

static void on_hosts(struct nmapxml *x, const XML_Char **a)
{
	unsigned long v;

	if (!num(attr(a, "up"), 1u << 30, &v))
		x->r->hosts_up = (unsigned)v;
	if (!num(attr(a, "down"), 1u << 30, &v))
		x->r->hosts_down = (unsigned)v;
	if (!num(attr(a, "total"), 1u << 30, &v))
		x->r->hosts_total = (unsigned)v;
}

static void on_scaninfo(struct nmapxml *x, const XML_Char **a)
{
	int proto = proto_of(attr(a, "protocol"));

	if (proto >= 0)
		copy(x->r->scan_type[proto], sizeof(x->r->scan_type[proto]), attr(a, "type"));
}

static void on_target(struct nmapxml *x, const XML_Char **a)
{
	const char *st = attr(a, "status"), *why = attr(a, "reason"), *spec = attr(a, "specification");
	char msg[sizeof(x->r->errmsg)];

	if (!st || strcmp(st, "skipped") || x->r->errmsg[0])
		return;
	snprintf(msg, sizeof(msg), "target %.64s skipped: %.64s", spec ? spec : "?",
		 why ? why : "?");
	copy(x->r->errmsg, sizeof(x->r->errmsg), msg);
}

static void on_address(struct nmapxml *x, const XML_Char **a)
{
	const char *t = attr(a, "addrtype");

	if (in_first_host(x) && t && (!strcmp(t, "ipv4") || !strcmp(t, "ipv6")))
		copy(x->r->host_addr, sizeof(x->r->host_addr), attr(a, "addr"));
}

static void start(void *ctx, const XML_Char *name, const XML_Char **a)
{
	struct nmapxml *x = ctx;
	enum elem e = x->depth < DEPTH_MAX && !x->err ? elem_of(name) : E_OTHER;
	enum elem up = parent(x, 1), up2 = parent(x, 2);

	switch (e) {
	case E_NMAPRUN:
		if (x->depth == 0)
			copy(x->r->version, sizeof(x->r->version), attr(a, "version"));
		break;
	case E_SCANINFO: if (up == E_NMAPRUN) on_scaninfo(x, a); break;
	case E_HOST: if (up == E_NMAPRUN) x->hosts_seen++; break;
	case E_STATUS: if (up == E_HOST) on_status(x, a); break;
	case E_ADDRESS: if (up == E_HOST) on_address(x, a); break;
	case E_EXTRAPORTS:
		if (up == E_PORTS && up2 == E_HOST) {
			const char *st = attr(a, "state");

			x->extra_state = st ? nmap_state_parse(st) : -1;
		}
		break;
	case E_EXTRAREASONS: if (up == E_EXTRAPORTS) on_extrareasons(x, a); break;
	case E_PORT: if (up == E_PORTS && up2 == E_HOST) on_port(x, a); break;
	case E_STATE: if (up == E_PORT) on_state(x, a); break;
	case E_TARGET: if (up == E_NMAPRUN) on_target(x, a); break;
	case E_FINISHED: if (up == E_RUNSTATS) on_finished(x, a); break;
	case E_HOSTS: if (up == E_RUNSTATS) on_hosts(x, a); break;
	default: break;
	}
	if (x->depth < DEPTH_MAX)
		x->stack[x->depth] = e;
	x->depth++;
}

static void end(void *ctx, const XML_Char *name)
{
	struct nmapxml *x = ctx;
	enum elem e;

	(void)name;
	if (x->depth == 0)
		return;
	x->depth--;
	e = x->depth < DEPTH_MAX ? x->stack[x->depth] : E_OTHER;
	if (e == E_EXTRAPORTS)
		x->extra_state = -1;
	else if (e == E_PORT)
		x->port_proto = -1;
}

static void entity_decl(void *ctx, const XML_Char *name, int is_param, const XML_Char *value,
			int value_len, const XML_Char *base, const XML_Char *system_id,
			const XML_Char *public_id, const XML_Char *notation)
{
	struct nmapxml *x = ctx;

	(void)name, (void)is_param, (void)value, (void)value_len, (void)base;
	(void)system_id, (void)public_id, (void)notation;
	stop(x, -EBADMSG);
}

struct nmapxml *nmapxml_new(void)
{
	struct nmapxml *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->r = calloc(1, sizeof(*x->r));
	x->xp = XML_ParserCreate("UTF-8");
	if (!x->r || !x->xp) {
		nmapxml_free(x);
		return NULL;
	}
	x->r->nreasons = 1; /* reasons[0] = "" */
	x->extra_state = -1;
	x->port_proto = -1;
	XML_SetUserData(x->xp, x);
	XML_SetElementHandler(x->xp, start, end);
	XML_SetEntityDeclHandler(x->xp, entity_decl);
	XML_SetParamEntityParsing(x->xp, XML_PARAM_ENTITY_PARSING_NEVER);
	return x;
}

void nmapxml_free(struct nmapxml *x)
{
	if (!x)
		return;
	if (x->xp)
		XML_ParserFree(x->xp);
	nmap_result_free(x->r);
	free(x);
}

static int feed(struct nmapxml *x, const void *buf, size_t len, bool final)
{
	if (x->err)
		return x->err;
	if (len > NMAPXML_MAX_BYTES - x->bytes)
		return x->err = -EFBIG;
	x->bytes += len;
	if (XML_Parse(x->xp, buf, (int)len, final) != XML_STATUS_OK) {
		if (!x->err)
			x->err = XML_GetErrorCode(x->xp) == XML_ERROR_NO_MEMORY ? -ENOMEM : -EBADMSG;
		return x->err;
	}
	return 0;
}

int nmapxml_feed(struct nmapxml *x, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) { /* XML_Parse takes an int */
		size_t n = len > (1u << 20) ? (1u << 20) : len;
		int r = feed(x, p, n, false);

		if (r < 0)
			return r;
		p += n;
		len -= n;
	}
	return 0;
}

int nmapxml_finish(struct nmapxml *x, struct nmap_result **out)
{
	int r = feed(x, "", 0, true);

	if (r < 0)
		return r;
	*out = x->r;
	x->r = NULL;
	x->err = -EINVAL; /* nothing more to feed */
	return 0;
}

void nmapxml_error_pos(const struct nmapxml *x, unsigned long *line, unsigned long *col)
{
	*line = XML_GetCurrentLineNumber(x->xp);
	*col = XML_GetCurrentColumnNumber(x->xp);
}

int nmapxml_parse(const void *buf, size_t len, struct nmap_result **out)
{
	struct nmapxml *x = nmapxml_new();
	int r;

	if (!x)
		return -ENOMEM;
	r = nmapxml_feed(x, buf, len);
	if (!r)
		r = nmapxml_finish(x, out);
	nmapxml_free(x);
	return r;
}
