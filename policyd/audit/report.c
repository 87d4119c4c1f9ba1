/* report.c — the audit as a table and as JSON. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int vadd(char ***v, size_t *n, const char *fmt, va_list ap)
{
	char **nv, *s;

	if (vasprintf(&s, fmt, ap) < 0)
		return -ENOMEM;
	if (!(nv = realloc(*v, (*n + 1) * sizeof(*nv)))) {
		free(s);
		return -ENOMEM;
	}
	*v = nv;
	nv[(*n)++] = s;
	return 0;
}

int report_notice(struct report *r, const char *fmt, ...)
{
	va_list ap;
	int e;

	va_start(ap, fmt);
	e = vadd(&r->notices, &r->nnotices, fmt, ap);
	va_end(ap);
	return e;
}

int report_error(struct report *r, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int e;

	va_start(ap, fmt);
	e = vasprintf(&s, fmt, ap);
	va_end(ap);
	r->exit = 2;
	if (e < 0)
		return -1; /* the exit status still says it */
	free(r->error);
	r->error = s;
	return -1;
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nnotices; i++)
		free(r->notices[i]);
	free(r->notices);
	free(r->error);
	r->notices = NULL;
	r->nnotices = 0;
	r->error = NULL;
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

static const char *zone_name(enum expect_zone z)
{
	return z == EXPECT_VPN ? "vpn" : "public";
}

static void ports_str(const struct audit_row *row, char *buf, size_t len)
{
	if (row->lo == row->hi)
		snprintf(buf, len, "%u/%s", row->lo, proto_name(row->proto));
	else
		snprintf(buf, len, "%u-%u/%s", row->lo, row->hi, proto_name(row->proto));
}

static const char *status_word(enum audit_status s)
{
	switch (s) {
	case AUDIT_MATCH: return "ok";
	case AUDIT_NOTICE: return "notice";
	case AUDIT_DRIFT: return "DRIFT";
	case AUDIT_UNKNOWN: return "UNKNOWN";
	}
	return "?";
}

static const char *wg_word(enum wg_check c)
{
	switch (c) {
	case WG_VERIFIED: return "ok";
	case WG_DRIFT: return "DRIFT";
	case WG_NOT_VERIFIABLE:
	case WG_NOTICE: return "notice";
	case WG_NONE: break;
	}
	return "";
}

static const char *result_word(int exit)
{
	return exit == 0 ? "match" : exit == 1 ? "drift" : "error";
}

#define ROW_FMT "%-13s %-9s %-15s %-12s %-26s %s"

static void table_row(const struct report *r, const struct audit_row *row, FILE *f)
{
	char ports[24], note[512];

	ports_str(row, ports, sizeof(ports));
	compare_note_text(r->d, row, r->c, note, sizeof(note));
	fprintf(f, ROW_FMT "%s%s\n", ports, compare_expected_name(row),
		nmap_state_name(row->observed), row->reason[0] ? row->reason : "-", row->rule,
		status_word(row->status), note[0] ? "  " : "", note);
}

void report_table(const struct report *r, FILE *f)
{
	fprintf(f, "audit of node %s at %s, %s zone, from %s%s%s\n", r->node, r->target,
		zone_name(r->zone), r->source ? r->source : "?", r->as ? " as " : "",
		r->as ? r->as : "");
	if (r->nmap_version)
		fprintf(f, "nmap %s, %s scan of %zu tcp + %zu udp ports in %.1f s\n", r->nmap_version,
			r->scan_type ? r->scan_type : "?", r->ntcp, r->nudp, r->seconds);
	if (r->d && r->d->nrows) {
		fprintf(f, "\n" ROW_FMT "\n", "PORT", "EXPECTED", "OBSERVED", "REASON", "RULE",
			"RESULT");
		for (size_t i = 0; i < r->d->nrows; i++)
			table_row(r, &r->d->rows[i], f);
	}
	if (r->wg.check != WG_NONE) {
		char port[16];

		snprintf(port, sizeof(port), "%u/udp", r->wg.port);
		fprintf(f, ROW_FMT "  %s\n", port, "handshake", r->wg.observed, "-",
			"the WireGuard port", wg_word(r->wg.check), r->wg.text);
	}
	if (r->nnotices)
		fprintf(f, "\n");
	for (size_t i = 0; i < r->nnotices; i++)
		fprintf(f, "notice: %s\n", r->notices[i]);
	fprintf(f, "\n");
	if (r->error)
		fprintf(f, "error: %s\n", r->error);
	if (r->d)
		fprintf(f, "result: %s: %zu port(s) drift, %zu notice(s), %zu match%s\n",
			result_word(r->exit), r->d->count[AUDIT_DRIFT] + (r->wg.check == WG_DRIFT),
			r->d->count[AUDIT_NOTICE] + (r->wg.check == WG_NOTICE ||
						     r->wg.check == WG_NOT_VERIFIABLE),
			r->d->count[AUDIT_MATCH] + (r->wg.check == WG_VERIFIED),
			r->d->count[AUDIT_UNKNOWN] ? ", some not reported by nmap" : "");
	else
		fprintf(f, "result: %s\n", result_word(r->exit));
}

static cJSON *json_row(const struct report *r, const struct audit_row *row)
{
	cJSON *o = cJSON_CreateObject();
	char note[512];

	compare_note_text(r->d, row, r->c, note, sizeof(note));
	cJSON_AddStringToObject(o, "proto", proto_name(row->proto));
	cJSON_AddNumberToObject(o, "first", row->lo);
	cJSON_AddNumberToObject(o, "last", row->hi);
	cJSON_AddStringToObject(o, "expected", compare_expected_name(row));
	cJSON_AddStringToObject(o, "observed", nmap_state_name(row->observed));
	cJSON_AddStringToObject(o, "reason", row->reason);
	cJSON_AddStringToObject(o, "rule", row->rule);
	cJSON_AddStringToObject(o, "status", compare_status_name(row->status));
	cJSON_AddStringToObject(o, "note", note);
	return o;
}

static cJSON *json_wg(const struct report *r)
{
	static const char *const names[] = { "none", "verified", "not verifiable", "drift",
					     "notice" };
	cJSON *o;

	if (r->wg.check == WG_NONE)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "port", r->wg.port);
	cJSON_AddStringToObject(o, "observed", r->wg.observed);
	cJSON_AddStringToObject(o, "status", names[r->wg.check]);
	cJSON_AddStringToObject(o, "note", r->wg.text);
	return o;
}

static int json_print(cJSON *root, FILE *f)
{
	char *s = root ? cJSON_Print(root) : NULL;
	int r = 0;

	if (!s || fprintf(f, "%s\n", s) < 0)
		r = s ? -EIO : -ENOMEM;
	free(s);
	cJSON_Delete(root);
	return r;
}

int report_json(const struct report *r, FILE *f)
{
	cJSON *root = cJSON_CreateObject(), *ports = cJSON_CreateArray(), *notes, *sum;

	cJSON_AddStringToObject(root, "node", r->node);
	cJSON_AddStringToObject(root, "target", r->target);
	cJSON_AddStringToObject(root, "zone", zone_name(r->zone));
	cJSON_AddItemToObject(root, "source", r->source ? cJSON_CreateString(r->source)
							: cJSON_CreateNull());
	cJSON_AddItemToObject(root, "as", r->as ? cJSON_CreateString(r->as) : cJSON_CreateNull());
	if (r->nmap_version) {
		cJSON *n = cJSON_AddObjectToObject(root, "nmap");

		cJSON_AddStringToObject(n, "version", r->nmap_version);
		cJSON_AddStringToObject(n, "scan", r->scan_type ? r->scan_type : "");
		cJSON_AddNumberToObject(n, "seconds", r->seconds);
		cJSON_AddNumberToObject(n, "tcp_ports", (double)r->ntcp);
		cJSON_AddNumberToObject(n, "udp_ports", (double)r->nudp);
	}
	for (size_t i = 0; r->d && i < r->d->nrows; i++)
		cJSON_AddItemToArray(ports, json_row(r, &r->d->rows[i]));
	cJSON_AddItemToObject(root, "ports", ports);
	cJSON_AddItemToObject(root, "wireguard", json_wg(r));
	notes = cJSON_AddArrayToObject(root, "notices");
	for (size_t i = 0; i < r->nnotices; i++)
		cJSON_AddItemToArray(notes, cJSON_CreateString(r->notices[i]));
	sum = cJSON_AddObjectToObject(root, "summary");
	for (int s = AUDIT_MATCH; s <= AUDIT_UNKNOWN; s++)
		cJSON_AddNumberToObject(sum, compare_status_name(s), r->d ? (double)r->d->count[s] : 0);
	cJSON_AddStringToObject(root, "result", result_word(r->exit));
	cJSON_AddItemToObject(root, "error", r->error ? cJSON_CreateString(r->error)
						      : cJSON_CreateNull());
	cJSON_AddNumberToObject(root, "exit", r->exit);
	return json_print(root, f);
}

/* ---- --local ---------------------------------------------------------------- */

static void listener_addr(const struct listener *l, char *buf, size_t len)
{
	char a[ADDR_STRLEN], ifn[IF_NAMESIZE] = "";

	if (listener_is_wildcard(l))
		snprintf(a, sizeof(a), "%s", l->addr.family == AF_INET ? "0.0.0.0" : "[::]");
	else
		addr_str(&l->addr, a);
	if (l->ifindex && !if_indextoname(l->ifindex, ifn))
		snprintf(ifn, sizeof(ifn), "if%u", l->ifindex);
	snprintf(buf, len, "%s%s%s", a, ifn[0] ? "%" : "", ifn);
}

static const char *listener_where(const struct listener *l, const struct reach *rc)
{
	return listener_is_wildcard(l) ? "every address" : !rc->internet ? "a VPN address"
	       : l->ifindex ? "a public interface" : "a public address";
}

static void local_note(const struct local_report *r, const struct listener *l,
		       const struct reach *rc, char *buf, size_t len)
{
	const char *who = rc->cls == REACH_NOBODY ? "nobody"
			  : rc->cls == REACH_VPN ? "VPN peers only" : "some sources only";

	buf[0] = '\0';
	if (!rc->firewall_only)
		return;
	if (r->tables_known && !r->policyd_table)
		snprintf(buf, len, "EXPOSED: listens on %s, the policy gives it to %s; table "
			 "inet policyd is missing", listener_where(l, rc), who);
	else if (rc->internet_fw_only)
		snprintf(buf, len, "FIREWALL-ONLY: listens on %s, the policy gives it to %s: only "
			 "policyd's drop keeps the internet out%s", listener_where(l, rc), who,
			 rc->cls == REACH_VPN ? " (bind it to the VPN address)" : "");
	else
		snprintf(buf, len, "firewall-only: listens on %s, the policy gives it to %s",
			 listener_where(l, rc), who);
}

void report_local_table(const struct local_report *r, FILE *f)
{
	fprintf(f, "listening sockets of this host as node %s; ", r->node);
	if (!r->tables_known)
		fprintf(f, "nftables not readable (%s)\n", r->error ? r->error : "?");
	else
		fprintf(f, "table inet policyd %s; other tables: %s\n",
			r->policyd_table ? "present" : "MISSING",
			r->foreign && r->foreign[0] ? r->foreign : "none");
	fprintf(f, "\n%-5s %-30s %-5s %-18s %-21s %-26s %s\n", "PROTO", "ADDRESS", "PORT",
		"PROCESS", "REACHABLE BY", "RULES", "NOTE");
	for (size_t i = 0; i < r->l->n; i++) {
		const struct listener *l = &r->l->v[i];
		const struct reach *rc = &r->reach[i];
		char addr[80], rules[300], note[256];

		listener_addr(l, addr, sizeof(addr));
		snprintf(rules, sizeof(rules), "%s%s%s", rc->public_rule,
			 rc->public_rule[0] && rc->vpn_rules[0] ? ", " : "", rc->vpn_rules);
		local_note(r, l, rc, note, sizeof(note));
		fprintf(f, "%-5s %-30s %-5u %-18s %-21s %-26s %s\n", proto_name(l->proto), addr,
			l->port, l->process[0] ? l->process : "-", reach_class_name(rc->cls),
			rules[0] ? rules : "-", note);
	}
	fprintf(f, "\nresult: %s: %zu listener(s), %zu kept from the internet only by policyd's "
		"drop, %zu from others only by the firewall%s\n", result_word(r->exit), r->l->n,
		r->internet_fw_only, r->firewall_only,
		r->exposed ? ", EXPOSED now (no table inet policyd)" : "");
}

int report_local_json(const struct local_report *r, FILE *f)
{
	cJSON *root = cJSON_CreateObject(), *arr;

	cJSON_AddStringToObject(root, "node", r->node);
	cJSON_AddItemToObject(root, "policyd_table", r->tables_known
			      ? cJSON_CreateBool(r->policyd_table) : cJSON_CreateNull());
	cJSON_AddStringToObject(root, "other_tables", r->foreign ? r->foreign : "");
	arr = cJSON_AddArrayToObject(root, "listeners");
	for (size_t i = 0; i < r->l->n; i++) {
		const struct listener *l = &r->l->v[i];
		const struct reach *rc = &r->reach[i];
		cJSON *o = cJSON_CreateObject();
		char addr[80], note[256];

		listener_addr(l, addr, sizeof(addr));
		local_note(r, l, rc, note, sizeof(note));
		cJSON_AddStringToObject(o, "proto", proto_name(l->proto));
		cJSON_AddStringToObject(o, "address", addr);
		cJSON_AddNumberToObject(o, "port", l->port);
		cJSON_AddStringToObject(o, "process", l->process);
		cJSON_AddStringToObject(o, "reachable_by", reach_class_name(rc->cls));
		cJSON_AddStringToObject(o, "public_rule", rc->public_rule);
		cJSON_AddStringToObject(o, "vpn_rules", rc->vpn_rules);
		cJSON_AddBoolToObject(o, "firewall_only", rc->firewall_only);
		cJSON_AddBoolToObject(o, "internet_firewall_only", rc->internet_fw_only);
		cJSON_AddStringToObject(o, "note", note);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddNumberToObject(root, "internet_firewall_only", (double)r->internet_fw_only);
	cJSON_AddNumberToObject(root, "firewall_only", (double)r->firewall_only);
	cJSON_AddStringToObject(root, "result", result_word(r->exit));
	cJSON_AddNumberToObject(root, "exit", r->exit);
	return json_print(root, f);
}
