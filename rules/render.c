/* render.c — the IR as nft text (`policyctl show`, golden tests, `nft -f`). */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "render.h"

static const char *icmp_name(int family, unsigned type)
{
	if (family == AF_INET) {
		switch (type) {
		case 3: return "destination-unreachable";
		case 8: return "echo-request";
		case 11: return "time-exceeded";
		case 12: return "parameter-problem";
		}
		return NULL;
	}
	switch (type) {
	case 1: return "destination-unreachable";
	case 2: return "packet-too-big";
	case 3: return "time-exceeded";
	case 4: return "parameter-problem";
	case 128: return "echo-request";
	case 130: return "mld-listener-query";
	case 134: return "nd-router-advert";
	case 135: return "nd-neighbor-solicit";
	case 136: return "nd-neighbor-advert";
	}
	return NULL;
}

static void ports(FILE *f, uint16_t lo, uint16_t hi)
{
	if (lo == hi)
		fprintf(f, "%u", lo);
	else
		fprintf(f, "%u-%u", lo, hi);
}

static void elem(FILE *f, const struct ir *ir, const struct ir_set *s, const struct ir_elem *e)
{
	char buf[RANGE_STRLEN], comment[160];
	const char *name;

	switch (s->kind) {
	case IRS_CONCAT:
		fprintf(f, "%s . %s . ", range_str(&e->lo, &e->hi, buf),
			e->proto == IPPROTO_TCP ? "tcp" : "udp");
		ports(f, e->plo, e->phi);
		break;
	case IRS_ADDR:
		fputs(range_str(&e->lo, &e->hi, buf), f);
		break;
	case IRS_ICMP:
		name = icmp_name(s->family, e->plo);
		if (name)
			fputs(name, f);
		else
			fprintf(f, "%u", e->plo);
		break;
	}
	if (e->timeout_ms)
		fprintf(f, " timeout %llus", (unsigned long long)(e->timeout_ms / 1000));
	ir_elem_comment(ir, e, comment, sizeof(comment));
	if (comment[0])
		fprintf(f, " comment \"%s\"", comment);
}

static const char *type_name(const struct ir_set *s)
{
	switch (s->kind) {
	case IRS_CONCAT:
		return s->family == AF_INET ? "ipv4_addr . inet_proto . inet_service"
					    : "ipv6_addr . inet_proto . inet_service";
	case IRS_ADDR:
		return s->family == AF_INET ? "ipv4_addr" : "ipv6_addr";
	case IRS_ICMP:
		return s->family == AF_INET ? "icmp_type" : "icmpv6_type";
	}
	return "?";
}

static void set(FILE *f, const struct ir *ir, const struct ir_set *s)
{
	fprintf(f, "\tset %s {\n\t\ttype %s\n", s->name, type_name(s));
	if (s->size)
		fprintf(f, "\t\tsize %u\n", s->size);
	if (s->interval || s->timeout || s->dynamic)
		fprintf(f, "\t\tflags %s%s%s%s%s\n", s->interval ? "interval" : "",
			s->interval && s->dynamic ? "," : "", s->dynamic ? "dynamic" : "",
			(s->interval || s->dynamic) && s->timeout ? "," : "",
			s->timeout ? "timeout" : "");
	if (s->timeout_ms)
		fprintf(f, "\t\ttimeout %llus\n", (unsigned long long)(s->timeout_ms / 1000));
	if (s->n) {
		fputs("\t\telements = { ", f);
		for (size_t i = 0; i < s->n; i++) {
			if (i)
				fputs(",\n\t\t\t     ", f);
			elem(f, ir, s, &s->v[i]);
		}
		fputs(" }\n", f);
	}
	fputs("\t}\n\n", f);
}

static const char *fam_ip(int family)
{
	return family == AF_INET ? "ip" : "ip6";
}

static void match(FILE *f, const struct ir *ir, const struct ir_match *m)
{
	const char *set = ir->sets[m->set].name;

	switch (m->kind) {
	case IRM_IIFNAME:
		fprintf(f, "iifname %s\"%s\" ", m->neg ? "!= " : "", m->str);
		break;
	case IRM_CT_STATE:
		fputs("ct state ", f);
		if (m->val & IR_CT_INVALID)
			fputs("invalid", f);
		else
			fprintf(f, "%s%s%s", m->val & IR_CT_ESTABLISHED ? "established" : "",
				(m->val & IR_CT_ESTABLISHED) && (m->val & IR_CT_RELATED) ? "," : "",
				m->val & IR_CT_RELATED ? "related" : "");
		fputc(' ', f);
		break;
	case IRM_SADDR_IN:
		fprintf(f, "%s saddr @%s ", fam_ip(m->family), set);
		break;
	case IRM_CONCAT_IN:
		fprintf(f, "%s saddr . meta l4proto . th dport @%s ", fam_ip(m->family), set);
		break;
	case IRM_ICMP_IN:
		fprintf(f, "%s type @%s ", m->family == AF_INET ? "icmp" : "icmpv6", set);
		break;
	case IRM_ICMP_TYPE:
		fprintf(f, "%s type %s ", m->family == AF_INET ? "icmp" : "icmpv6",
			icmp_name(m->family, m->val));
		break;
	case IRM_UDP_DPORT:
		fprintf(f, "udp dport %u ", m->val);
		break;
	case IRM_LIMIT:
		fprintf(f, "limit rate %u/second burst %u packets ", m->val, m->val2);
		break;
	case IRM_METER:
		fprintf(f, "update @%s { %s saddr limit rate %u/second burst %u packets } ", set,
			fam_ip(m->family), m->val, m->val2);
		break;
	}
}

static void rule_body(FILE *f, const struct ir *ir, const struct ir_rule *r)
{
	for (unsigned i = 0; i < r->nm; i++)
		match(f, ir, &r->m[i]);
	if (r->log)
		fprintf(f, "log prefix \"%s\" group %u queue-threshold 1 ", r->log, IR_NFLOG_GROUP);
	if (r->counter)
		fputs("counter ", f);
	switch (r->verdict) {
	case IRV_ACCEPT:
		fputs("accept", f);
		break;
	case IRV_DROP:
		fputs("drop", f);
		break;
	case IRV_JUMP:
		fprintf(f, "jump %s", ir->chains[r->target].name);
		break;
	case IRV_NONE:
		break;
	}
	if (r->comment[0])
		fprintf(f, " comment \"%s\"", r->comment);
}

static void rule(FILE *f, const struct ir *ir, const struct ir_rule *r)
{
	char *line = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&line, &len);

	if (!m)
		return;
	rule_body(m, ir, r);
	fclose(m);
	while (len && line[len - 1] == ' ')
		line[--len] = '\0';
	fprintf(f, "\t\t%s\n", line);
	free(line);
}

int render_ir(const struct ir *ir, FILE *f)
{
	fprintf(f, "table inet %s {\n", IR_TABLE);
	for (size_t i = 0; i < ir->nsets; i++)
		set(f, ir, &ir->sets[i]);
	for (size_t c = 0; c < ir->nchains; c++) {
		const struct ir_chain *ch = &ir->chains[c];

		fprintf(f, "%s\tchain %s {\n", c ? "\n" : "", ch->name);
		if (ch->base)
			fprintf(f, "\t\ttype filter hook input priority %d; policy %s;\n", ch->prio,
				ch->policy_drop ? "drop" : "accept");
		for (size_t i = 0; i < ir->nrules; i++)
			if (ir->rules[i].chain == c)
				rule(f, ir, &ir->rules[i]);
		fputs("\t}\n", f);
	}
	fputs("}\n", f);
	return ferror(f) ? -5 /* -EIO */ : 0;
}
