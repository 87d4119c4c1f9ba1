/* diag.h — error and warning records for everything a policy can get wrong.
 *
 * Validators never stop at the first problem: they append records
 * {severity, JSON pointer, message} and go on. Line and column are filled in
 * later, once, by hujson_locate(), and only when there is something to report. */
#ifndef RULES_DIAG_H
#define RULES_DIAG_H

#include <stdbool.h>
#include <stddef.h>

enum diag_sev { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_sev sev;
	char *ptr;      /* JSON pointer, "" = whole document, NULL = no position */
	bool at_key;    /* position of the member's key rather than its value */
	unsigned nth;   /* which occurrence of ptr (duplicate keys) */
	char *msg;
	size_t off;     /* byte offset, when known */
	bool has_off;
	int line, col;  /* 1-based; 0 = unknown */
};

struct diags {
	struct diag *v;
	size_t n, cap;
	size_t nerr, nwarn;
};

void diags_init(struct diags *d);
void diags_free(struct diags *d);
void diag_add(struct diags *d, enum diag_sev sev, const char *ptr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define diag_err(d, ptr, ...) diag_add((d), DIAG_ERROR, (ptr), __VA_ARGS__)
#define diag_warn(d, ptr, ...) diag_add((d), DIAG_WARNING, (ptr), __VA_ARGS__)
/* Mark the last record as pointing at a member key (occurrence nth). */
void diag_at_key(struct diags *d, unsigned nth);
/* A record at a known byte offset (syntax errors). */
void diag_at_offset(struct diags *d, enum diag_sev sev, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Stable sort by line, then column, then insertion order. */
void diags_sort(struct diags *d);
/* "FILE:LINE:COL: /ptr: message" (warnings say "warning: "). */
int diag_format(const struct diag *dg, const char *file, char *buf, size_t len);

/* A JSON pointer built incrementally while walking a document. */
struct jptr {
	char s[1024];
	size_t n;
};

void jptr_init(struct jptr *p);
size_t jptr_key(struct jptr *p, const char *key);  /* returns the length to pop back to */
size_t jptr_idx(struct jptr *p, size_t i);
void jptr_pop(struct jptr *p, size_t n);

#endif
