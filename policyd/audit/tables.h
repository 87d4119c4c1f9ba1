/* tables.h — the nftables tables of this network namespace (a GETTABLE
 * dump over nf_tables netlink), to explain drift when the audit runs where
 * the target is: is `table inet policyd` there, and whose tables are not ours. */
#ifndef POLICYD_AUDIT_TABLES_H
#define POLICYD_AUDIT_TABLES_H

#include <stdbool.h>
#include <stddef.h>

struct tables {
	char **names;          /* "inet policyd", "ip filter", ... in dump order */
	size_t n;
};

/* 0, or -errno (-EPERM without CAP_NET_ADMIN). */
int tables_list(struct tables *out);
void tables_free(struct tables *t);
bool tables_has(const struct tables *t, const char *family_and_name);
/* The tables other than "inet policyd", comma separated, into buf. Returns
 * how many there are. */
size_t tables_foreign(const struct tables *t, char *buf, size_t len);

#endif
