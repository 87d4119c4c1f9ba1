/* diag.c — diagnostic records and JSON pointers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void diags_init(struct diags *d)
{
	memset(d, 0, sizeof(*d));
}

void diags_free(struct diags *d)
{
	for (size_t i = 0; d && i < d->n; i++) {
		free(d->v[i].ptr);
		free(d->v[i].msg);
	}
	if (d)
		free(d->v);
}

static struct diag *push(struct diags *d, enum diag_sev sev)
{
	struct diag *dg;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			abort(); /* out of memory while reporting: nothing sane left */
		d->v = v;
		d->cap = cap;
	}
	dg = &d->v[d->n++];
	memset(dg, 0, sizeof(*dg));
	dg->sev = sev;
	if (sev == DIAG_ERROR)
		d->nerr++;
	else
		d->nwarn++;
	return dg;
}

/* Messages quote user input: keep each one on one line, whatever it holds. */
static char *vfmt(const char *fmt, va_list ap)
{
	char *s = NULL, *out;
	size_t n = 0;

	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	if (!(out = malloc(strlen(s) * 4 + 1)))
		abort();
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p != 0x7f)
			out[n++] = (char)*p;
		else if (*p == '\n' || *p == '\t' || *p == '\r')
			n += (size_t)sprintf(out + n, "\\%c", *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r');
		else
			n += (size_t)sprintf(out + n, "\\x%02x", *p);
	}
	out[n] = '\0';
	free(s);
	return out;
}

void diag_add(struct diags *d, enum diag_sev sev, const char *ptr, const char *fmt, ...)
{
	struct diag *dg = push(d, sev);
	va_list ap;

	dg->ptr = ptr ? strdup(ptr) : NULL;
	if (ptr && !dg->ptr)
		abort();
	va_start(ap, fmt);
	dg->msg = vfmt(fmt, ap);
	va_end(ap);
}

void diag_at_key(struct diags *d, unsigned nth)
{
	if (d->n) {
		d->v[d->n - 1].at_key = true;
		d->v[d->n - 1].nth = nth;
	}
}

void diag_at_offset(struct diags *d, enum diag_sev sev, size_t off, const char *fmt, ...)
{
	struct diag *dg = push(d, sev);
	va_list ap;

	dg->off = off;
	dg->has_off = true;
	va_start(ap, fmt);
	dg->msg = vfmt(fmt, ap);
	va_end(ap);
}

void diags_sort(struct diags *d)
{
	/* insertion sort: stable, and the lists are short */
	for (size_t i = 1; i < d->n; i++) {
		struct diag x = d->v[i];
		size_t j = i;

		while (j > 0 && (d->v[j - 1].line > x.line ||
				 (d->v[j - 1].line == x.line && d->v[j - 1].col > x.col))) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = x;
	}
}

int diag_format(const struct diag *dg, const char *file, char *buf, size_t len)
{
	const char *sev = dg->sev == DIAG_WARNING ? "warning: " : "";

	if (dg->line && dg->ptr)
		return snprintf(buf, len, "%s:%d:%d: %s: %s%s", file, dg->line, dg->col,
				dg->ptr[0] ? dg->ptr : "/", sev, dg->msg);
	if (dg->line)
		return snprintf(buf, len, "%s:%d:%d: %s%s", file, dg->line, dg->col, sev, dg->msg);
	if (dg->ptr)
		return snprintf(buf, len, "%s: %s: %s%s", file, dg->ptr[0] ? dg->ptr : "/", sev,
				dg->msg);
	return snprintf(buf, len, "%s: %s%s", file, sev, dg->msg);
}

void jptr_init(struct jptr *p)
{
	p->s[0] = '\0';
	p->n = 0;
}

static void append(struct jptr *p, char c)
{
	if (p->n + 1 < sizeof(p->s)) {
		p->s[p->n++] = c;
		p->s[p->n] = '\0';
	}
}

size_t jptr_key(struct jptr *p, const char *key)
{
	size_t old = p->n;

	append(p, '/');
	for (; *key; key++) {
		if (*key == '~') {
			append(p, '~');
			append(p, '0');
		} else if (*key == '/') {
			append(p, '~');
			append(p, '1');
		} else {
			append(p, *key);
		}
	}
	return old;
}

size_t jptr_idx(struct jptr *p, size_t i)
{
	char num[24], *d = num + sizeof(num) - 1;

	*d = '\0';
	do /* by hand: this runs for every array element of a big policy */
		*--d = (char)('0' + i % 10);
	while ((i /= 10) && d > num);
	return jptr_key(p, d);
}

void jptr_pop(struct jptr *p, size_t n)
{
	if (n <= p->n) {
		p->n = n;
		p->s[n] = '\0';
	}
}
