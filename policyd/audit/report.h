/* report.h — the audit's findings for people (a table to read at a glance)
 * and for machines (--json, libcjson). Writes only to the FILE it is given. */
#ifndef POLICYD_AUDIT_REPORT_H
#define POLICYD_AUDIT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "compare.h"
#include "localinv.h"
#include "reach.h"

/* The WireGuard port, checked by a handshake rather than by nmap. */
enum wg_check { WG_NONE, WG_VERIFIED, WG_NOT_VERIFIABLE, WG_DRIFT, WG_NOTICE };

struct report_wg {
	enum wg_check check;
	uint16_t port;
	char observed[24];         /* handshake, silence, refused, not probed */
	char text[200];
};

struct report {
	/* what was audited */
	const char *node, *target, *source, *as;
	enum expect_zone zone;
	const char *nmap_version, *scan_type;
	double seconds;
	size_t ntcp, nudp;
	/* findings */
	const struct audit_diff *d;
	const struct compare_ctx *c;
	struct report_wg wg;
	char **notices;
	size_t nnotices;
	char *error;               /* why the audit could not conclude (exit 2) */
	int exit;                  /* 0 match, 1 drift, 2 error */
};

/* A general notice (printf format): 0 or -ENOMEM. */
int report_notice(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Why the audit cannot conclude (exit 2; the last one is kept). Returns -1,
 * so that a caller can `return report_error(...)`. */
int report_error(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_free(struct report *r);

void report_table(const struct report *r, FILE *f);
/* 0, or -ENOMEM / -EIO. */
int report_json(const struct report *r, FILE *f);

/* --local: the listeners and who reaches them. */
struct local_report {
	const char *node;
	const struct listeners *l;
	const struct reach *reach;  /* one per listener */
	bool tables_known, policyd_table;
	const char *foreign;        /* other tables, or "" */
	const char *error;          /* tables could not be listed: why */
	size_t firewall_only, exposed;
	size_t internet_fw_only;    /* kept from the internet only by policyd's drop */
	int exit;
};

void report_local_table(const struct local_report *r, FILE *f);
int report_local_json(const struct local_report *r, FILE *f);

#endif
