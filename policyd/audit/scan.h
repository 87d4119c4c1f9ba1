/* scan.h — running nmap: an argv array (never a shell), stdin from
 * /dev/null, the XML on a pipe into the parser as it arrives, stderr
 * captured, a deadline after which nmap is stopped by its PID. */
#ifndef POLICYD_AUDIT_SCAN_H
#define POLICYD_AUDIT_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "expect.h"
#include "nmapxml.h"

#define SCAN_STDERR_MAX 2048

struct scan_opts {
	const char *nmap;              /* program; NULL = "nmap" looked up in PATH */
	const char *target;            /* a numeric address */
	bool v6;
	const struct expect_ports *ports; /* NULL with discover */
	bool discover;                 /* host discovery only (-sn), no port scan */
	const struct rangeset *probe_tcp; /* discover: also SYN-ping these (at most 10 used) */
	bool raw;                      /* root: SYN (-sS) and UDP (-sU) scans; else connect (-sT) */
	const char *source;            /* -S ADDR, or NULL */
	const char *iface;             /* -e IFACE, or NULL */
	int timing;                    /* -T0..5; -1: nmap's default */
	unsigned min_rate;             /* --min-rate; 0: nmap's default */
	int max_retries;               /* --max-retries; -1: nmap's default */
	unsigned timeout;              /* seconds before nmap is stopped; 0: none */
};

struct scan_info {
	int status;                    /* exit status, or -1 */
	int signal;                    /* terminating signal, or 0 */
	double seconds;                /* wall clock */
	char stderr_text[SCAN_STDERR_MAX]; /* the start of what nmap wrote to stderr */
	unsigned long xml_line, xml_col; /* where the XML broke (with -EBADMSG) */
};

/* The NULL-terminated argv for o (argv[0] is o->nmap or "nmap"). 0, -EINVAL
 * (no ports, or a port list over 100,000 characters) or -ENOMEM. */
int scan_argv(const struct scan_opts *o, char ***out);
void scan_argv_free(char **argv);

/* Run nmap and parse its XML. 0 with *out (free() it) when nmap exited 0
 * and wrote a complete document; -ENOENT/-EACCES: nmap could not be run;
 * -ETIMEDOUT: stopped at the deadline; -EIO: nmap failed (see
 * info->status, info->stderr_text); -EBADMSG: its XML did not parse;
 * -EFBIG, -E2BIG: its XML is over the parser's bounds (nmapxml.h);
 * -ENOMEM. info is filled in every case. */
int scan_run(const struct scan_opts *o, struct nmap_result **out, struct scan_info *info);

#endif
