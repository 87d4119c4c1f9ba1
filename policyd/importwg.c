/* importwg.c — wg-quick configs → one policy: the migration path from
 * hand-written WireGuard (policyctl import-wg).
 *
 * Every config is one host: its [Interface] gives the node (name from the
 * file name, public key derived from PrivateKey, VPN addresses from
 * Address), and its [Peer] sections say how it reaches the others: their
 * keys, their addresses (host routes in AllowedIPs), the Endpoint others
 * dial, and PersistentKeepalive. A peer without a config of its own becomes
 * a node too. Plain WireGuard lets every peer reach every port, so the
 * policy says exactly that in one ACL, with a comment to tighten it; what
 * does not map (routed subnets, PSKs, DNS, hooks) is listed as comments.
 * Private keys never reach the output. The result is parsed and validated
 * before it is printed. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "file.h"
#include "importwg.h"
#include "keyfile.h"
#include "policy.h"

#define MAX_NODES 4096
#define MAX_IPS 8

struct inode {
	char name[64];
	uint8_t key[32];
	struct prefix ips[MAX_IPS];
	size_t nips;
	char endpoint[128];
	int keepalive;
	bool has_config;
};

struct imp {
	struct inode *n;
	size_t nn;
	struct prefix net4, net6;
	bool has4, has6;
	unsigned port;
	FILE *notes;                   /* "// ..." lines for the output */
	char *err;
	size_t errlen;
};

static struct inode *by_key(struct imp *m, const uint8_t key[32])
{
	for (size_t i = 0; i < m->nn; i++)
		if (!memcmp(m->n[i].key, key, 32))
			return &m->n[i];
	return NULL;
}

static void name_from(struct imp *m, const char *want, char out[64])
{
	char base[64];
	size_t k = 0;

	for (const char *s = want; *s && k < 40; s++)
		if (isalnum((unsigned char)*s) || *s == '-')
			base[k++] = (char)tolower((unsigned char)*s);
	base[k] = '\0';
	if (!k || !isalnum((unsigned char)base[0]))
		snprintf(base, sizeof(base), "node");
	snprintf(out, 64, "%s", base);
	for (int n = 2;; n++) {
		bool taken = false;

		for (size_t i = 0; i < m->nn; i++)
			taken |= !strcmp(m->n[i].name, out);
		if (!taken)
			return;
		snprintf(out, 64, "%s-%d", base, n);
	}
}

static struct inode *add_node(struct imp *m, const uint8_t key[32], const char *name)
{
	struct inode *n;

	if (m->nn == MAX_NODES)
		return NULL;
	n = memset(&m->n[m->nn], 0, sizeof(*n));
	memcpy(n->key, key, 32);
	name_from(m, name, n->name);
	m->nn++;
	return n;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* One config's [Interface] → a node; its peers are kept for the second pass. */
struct section {
	bool iface;
	char privkey[64], address[512], port[16];
	char pubkey[64], allowed[1024], endpoint[128], keepalive[16], psk[64];
};

static int fail(struct imp *m, const char *file, int line, const char *what)
{
	snprintf(m->err, m->errlen, "%s:%d: %s", file, line, what);
	return -EINVAL;
}

static void add_ips(struct imp *m, struct inode *n, char *list, bool iface, const char *file)
{
	char *save = NULL;

	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct prefix p;
		unsigned host;

		t = trim(t);
		if (prefix_parse(t, &p) < 0) {
			fprintf(m->notes, "  // %s: \"%s\" is not an address; left out\n", file, t);
			continue;
		}
		host = p.a.family == AF_INET ? 32 : 128;
		if (iface && p.len < host) { /* Address = 10.0.0.1/24: the mesh's prefix */
			struct prefix net = p;

			for (unsigned b = p.len; b < host; b++)
				net.a.b[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
			if (p.a.family == AF_INET && !m->has4)
				m->net4 = net, m->has4 = true;
			if (p.a.family == AF_INET6 && !m->has6)
				m->net6 = net, m->has6 = true;
			p.len = (uint8_t)host;
		}
		if (p.len < host) {
			const struct prefix *net = p.a.family == AF_INET ? &m->net4 : &m->net6;
			bool mesh = (p.a.family == AF_INET ? m->has4 : m->has6) &&
				    (prefix_within(net, &p) || prefix_within(&p, net));

			if (mesh)
				fprintf(m->notes, "  // %s: sends %s through %s (a hub); in policyd every "
					"node reaches the others directly\n", file, t, n->name);
			else
				fprintf(m->notes, "  // %s: routed subnet %s behind %s is not imported "
					"(policyd routes only the nodes' own addresses)\n", file, t,
					n->name);
			continue;
		}
		for (size_t i = 0; i < n->nips; i++)
			if (n->ips[i].a.family == p.a.family && !addr_cmp(&n->ips[i].a, &p.a))
				p.len = 0; /* already there */
		if (p.len && n->nips < MAX_IPS)
			n->ips[n->nips++] = p;
	}
}

static int flush_peer(struct imp *m, struct section *s, const char *file, int line)
{
	uint8_t key[32];
	struct inode *n;

	if (!s->pubkey[0])
		return fail(m, file, line, "a [Peer] without PublicKey");
	if (key_from_base64(s->pubkey, strlen(s->pubkey), key) < 0)
		return fail(m, file, line, "PublicKey is not a WireGuard key");
	if (!(n = by_key(m, key)) && !(n = add_node(m, key, "peer")))
		return fail(m, file, line, "too many nodes");
	add_ips(m, n, s->allowed, false, file);
	if (s->endpoint[0] && !n->endpoint[0])
		snprintf(n->endpoint, sizeof(n->endpoint), "%s", s->endpoint);
	if (s->keepalive[0] && !n->keepalive)
		n->keepalive = atoi(s->keepalive);
	if (s->psk[0])
		fprintf(m->notes, "  // %s: the preshared key with %s is not carried over\n", file,
			n->name);
	memset(s, 0, sizeof(*s));
	return 0;
}

/* Pass 1 (peers == false): the [Interface] of each file. Pass 2: the peers. */
static int read_conf(struct imp *m, const char *file, bool peers)
{
	char *text = NULL, *save = NULL, fname[256], *dot;
	struct section s = { 0 };
	size_t len;
	int r = file_read(file, &text, &len), line = 0;
	bool in_peer = false, in_iface = false;

	if (r < 0) {
		snprintf(m->err, m->errlen, "%s: %s", file, strerror(-r));
		return r;
	}
	text = realloc(text, len + 1);
	if (!text)
		return -ENOMEM;
	text[len] = '\0';
	for (char *l = strtok_r(text, "\n", &save); l && !r; l = strtok_r(NULL, "\n", &save)) {
		char *k, *v, *eq;

		line++;
		if ((k = strchr(l, '#')))
			*k = '\0';
		l = trim(l);
		if (!*l)
			continue;
		if (!strcasecmp(l, "[Interface]") || !strcasecmp(l, "[Peer]")) {
			if (in_peer && peers)
				r = flush_peer(m, &s, file, line);
			in_iface = !strcasecmp(l, "[Interface]");
			in_peer = !in_iface;
			continue;
		}
		if (!(eq = strchr(l, '='))) {
			r = fail(m, file, line, "expected KEY = VALUE");
			break;
		}
		*eq = '\0';
		k = trim(l);
		v = trim(eq + 1);
		if (in_iface && !strcasecmp(k, "PrivateKey"))
			snprintf(s.privkey, sizeof(s.privkey), "%s", v);
		else if (in_iface && !strcasecmp(k, "Address"))
			snprintf(s.address, sizeof(s.address), "%s", v);
		else if (in_iface && !strcasecmp(k, "ListenPort"))
			snprintf(s.port, sizeof(s.port), "%s", v);
		else if (in_peer && !strcasecmp(k, "PublicKey"))
			snprintf(s.pubkey, sizeof(s.pubkey), "%s", v);
		else if (in_peer && !strcasecmp(k, "AllowedIPs"))
			snprintf(s.allowed, sizeof(s.allowed), "%s", v);
		else if (in_peer && !strcasecmp(k, "Endpoint"))
			snprintf(s.endpoint, sizeof(s.endpoint), "%s", v);
		else if (in_peer && !strcasecmp(k, "PersistentKeepalive"))
			snprintf(s.keepalive, sizeof(s.keepalive), "%s", v);
		else if (in_peer && !strcasecmp(k, "PresharedKey"))
			snprintf(s.psk, sizeof(s.psk), "%s", v);
		else if (!peers)
			fprintf(m->notes, "  // %s:%d: %s is not imported\n", file, line, k);
	}
	if (!r && in_peer && peers)
		r = flush_peer(m, &s, file, line);
	if (!r && !peers) {
		uint8_t priv[32], pub[32];
		struct inode *n;

		if (!s.privkey[0] || key_from_base64(s.privkey, strlen(s.privkey), priv) < 0)
			r = fail(m, file, line, "[Interface] needs the host's PrivateKey (it is only "
				 "used to derive the public key)");
		if (!r) {
			crypto_scalarmult_base(pub, priv);
			snprintf(fname, sizeof(fname), "%s", file);
			if ((dot = strrchr(basename(fname), '.')) && !strcmp(dot, ".conf"))
				*dot = '\0';
			if (by_key(m, pub))
				r = fail(m, file, line, "two configs hold the same private key");
			else if (!(n = add_node(m, pub, basename(fname))))
				r = fail(m, file, line, "too many nodes");
			else {
				n->has_config = true;
				add_ips(m, n, s.address, true, file);
				if (s.port[0] && !m->port)
					m->port = (unsigned)atoi(s.port);
			}
		}
		sodium_memzero(priv, sizeof(priv));
	}
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(text, len);
	free(text);
	return r;
}

static void print_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void print_policy(struct imp *m, FILE *f, const char *notes)
{
	char a[ADDR_STRLEN], key[45];

	fprintf(f, "// imported from wg-quick configs by policyctl import-wg\n{\n  \"version\": 1,\n");
	fprintf(f, "  \"network\": { \"interface\": \"pd0\", \"port\": %u", m->port ? m->port : 51820);
	if (m->has4)
		fprintf(f, ", \"ipv4\": \"%s/%u\"", addr_str(&m->net4.a, a), m->net4.len);
	if (m->has6)
		fprintf(f, ", \"ipv6\": \"%s/%u\"", addr_str(&m->net6.a, a), m->net6.len);
	fprintf(f, " },\n  \"nodes\": {\n");
	for (size_t i = 0; i < m->nn; i++) {
		struct inode *n = &m->n[i];

		sodium_bin2base64(key, sizeof(key), n->key, 32, sodium_base64_VARIANT_ORIGINAL);
		fprintf(f, "    \"%s\": { \"key\": \"%s\", \"ips\": [", n->name, key);
		for (size_t k = 0; k < n->nips; k++)
			fprintf(f, "%s\"%s\"", k ? ", " : "", addr_str(&n->ips[k].a, a));
		fprintf(f, "]");
		if (n->endpoint[0]) {
			fprintf(f, ", \"endpoint\": ");
			print_json_str(f, n->endpoint);
		}
		if (n->keepalive > 0 && n->keepalive <= 65535)
			fprintf(f, ", \"keepalive\": %d", n->keepalive);
		fprintf(f, " },%s\n", n->has_config ? "" : "  // no config of its own was given");
	}
	fprintf(f, "  },\n");
	fprintf(f, "  // Plain WireGuard let every peer reach every port of every other; this\n"
		   "  // keeps that. Tighten it: name services, group people, allow only those.\n");
	fprintf(f, "  \"acls\": [\n    { \"id\": \"imported-any\", \"src\": [\"*\"], \"dst\": [\"*\"], "
		   "\"ports\": [\"*\"] },\n  ],\n");
	fprintf(f, "  // Nothing is exposed publicly until listed here (WireGuard's own port is\n"
		   "  // open on nodes with an endpoint), e.g.\n"
		   "  // { \"on\": [\"web1\"], \"ports\": [\"tcp:80,443\"] }\n  \"expose\": [],\n");
	if (notes && *notes)
		fprintf(f, "  // not imported:\n%s", notes);
	fprintf(f, "}\n");
}

int importwg(const char *const *files, size_t n, FILE *out, char *err, size_t errlen)
{
	struct imp m = { .err = err, .errlen = errlen };
	char *notes = NULL, *text = NULL;
	size_t nlen = 0, tlen = 0;
	FILE *tf;
	int r = 0;

	err[0] = '\0';
	if (!(m.n = calloc(MAX_NODES, sizeof(*m.n))) || !(m.notes = open_memstream(&notes, &nlen))) {
		free(m.n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && !r; i++)
		r = read_conf(&m, files[i], false);
	for (size_t i = 0; i < n && !r; i++)
		r = read_conf(&m, files[i], true);
	fclose(m.notes);
	if (!r && (tf = open_memstream(&text, &tlen))) {
		struct diags d;
		struct policy *p;

		print_policy(&m, tf, notes);
		fclose(tf);
		diags_init(&d);
		p = policy_load(text, tlen, NULL, &d);
		if (!p) { /* our bug or an input we could not map: say which */
			char line[256];

			diag_format(&d.v[0], "import-wg output", line, sizeof(line));
			snprintf(err, errlen, "the imported policy does not validate: %s", line);
			r = -EINVAL;
		} else {
			fwrite(text, 1, tlen, out);
		}
		policy_free(p);
		diags_free(&d);
	} else if (!r) {
		r = -ENOMEM;
	}
	free(text);
	free(notes);
	free(m.n);
	return r;
}
