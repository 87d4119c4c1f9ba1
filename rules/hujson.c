/* hujson.c — comment/trailing-comma stripping and pointer → position mapping. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hujson.h"

static bool bad_control(char c)
{
	return (unsigned char)c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

static size_t skip_string(const char *t, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (t[i] == '\\')
			i++;
		else if (t[i] == '"')
			return i + 1;
	}
	return len;
}

/* Blank a comment starting at t[i] == '/'; returns the index after it. */
static int blank_comment(char *t, size_t len, size_t i, size_t *next)
{
	if (t[i + 1] == '/') {
		for (; i < len && t[i] != '\n'; i++)
			t[i] = ' ';
		*next = i;
		return 0;
	}
	for (size_t j = i + 2; j + 1 < len; j++) {
		if (t[j] == '*' && t[j + 1] == '/') {
			for (size_t k = i; k <= j + 1; k++)
				if (t[k] != '\n')
					t[k] = ' ';
			*next = j + 2;
			return 0;
		}
	}
	return -EINVAL;
}

int hujson_strip(char *t, size_t len, size_t *err_off)
{
	size_t comma = SIZE_MAX; /* last ',' with only blanks after it */
	char prev = '{';         /* last significant character */
	size_t i = 0;

	/* NUL and other control bytes are not JSON, and cJSON would take them
	 * for white space: refuse them before anything else looks */
	for (size_t k = 0; k < len; k++)
		if (bad_control(t[k])) {
			*err_off = k;
			return -EINVAL;
		}

	while (i < len) {
		char c = t[i];

		if (c == '"') {
			i = skip_string(t, len, i);
			comma = SIZE_MAX;
			prev = '"';
		} else if (c == '/' && i + 1 < len && (t[i + 1] == '/' || t[i + 1] == '*')) {
			if (blank_comment(t, len, i, &i) < 0) {
				*err_off = i;
				return -EINVAL;
			}
		} else {
			bool blank = c == ' ' || c == '\t' || c == '\n' || c == '\r';

			if ((c == '}' || c == ']') && comma != SIZE_MAX)
				t[comma] = ' ';
			/* only a comma after a value may trail: "{,}" and "[1,,]" stay errors */
			if (c == ',' && !strchr("{[,:", prev))
				comma = i;
			else if (!blank)
				comma = SIZE_MAX;
			if (!blank)
				prev = c;
			i++;
		}
	}
	return 0;
}

void hujson_linecol(const char *t, size_t len, size_t off, int *line, int *col)
{
	int l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (t[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)t[i] & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

/* ---- the walker -------------------------------------------------------- */

struct walker {
	const char *t;
	size_t len, i;
	struct jptr p;
	struct diags *d;
	unsigned *seen;   /* per diag: occurrences of its pointer met so far */
	size_t *best;     /* per diag: length of the longest ancestor met */
	unsigned depth;
};

static void ws(struct walker *w)
{
	while (w->i < w->len && strchr(" \t\r\n", w->t[w->i]) && w->t[w->i])
		w->i++;
}

static unsigned hexval(const char *s)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		char c = s[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
	}
	return v;
}

static void put_utf8(char *out, size_t cap, size_t *n, unsigned cp)
{
	char tmp[4];
	size_t k = 0;

	if (cp < 0x80) {
		tmp[k++] = (char)cp;
	} else if (cp < 0x800) {
		tmp[k++] = (char)(0xc0 | (cp >> 6));
		tmp[k++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		tmp[k++] = (char)(0xe0 | (cp >> 12));
		tmp[k++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[k++] = (char)(0x80 | (cp & 0x3f));
	} else {
		tmp[k++] = (char)(0xf0 | (cp >> 18));
		tmp[k++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		tmp[k++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[k++] = (char)(0x80 | (cp & 0x3f));
	}
	for (size_t j = 0; j < k && *n + 1 < cap; j++)
		out[(*n)++] = tmp[j];
}

/* Decode the string at w->i into out (UTF-8, NUL-terminated, truncated). */
static void read_string(struct walker *w, char *out, size_t cap)
{
	const char *t = w->t;
	size_t n = 0, i = w->i + 1;

	while (i < w->len && t[i] != '"') {
		if (t[i] != '\\') {
			if (n + 1 < cap)
				out[n++] = t[i];
			i++;
			continue;
		}
		i++;
		if (i >= w->len)
			break;
		if (t[i] == 'u' && i + 4 < w->len) {
			unsigned cp = hexval(t + i + 1);

			i += 5;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 5 < w->len && t[i] == '\\' &&
			    t[i + 1] == 'u') {
				unsigned lo = hexval(t + i + 2);

				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			put_utf8(out, cap, &n, cp);
			continue;
		}
		{
			static const char esc[] = "b\bf\fn\nr\rt\t\"\"\\\\//";
			const char *e = strchr(esc, t[i]);
			char c = (e && ((e - esc) % 2 == 0)) ? e[1] : t[i];

			if (n + 1 < cap)
				out[n++] = c;
			i++;
		}
	}
	out[n] = '\0';
	w->i = i < w->len ? i + 1 : w->len;
}

static void visit(struct walker *w, size_t key_off, size_t val_off)
{
	for (size_t k = 0; k < w->d->n; k++) {
		struct diag *dg = &w->d->v[k];
		size_t pl = w->p.n;

		if (dg->has_off || !dg->ptr)
			continue;
		if (strcmp(dg->ptr, w->p.s) == 0) {
			if (w->seen[k]++ == dg->nth) {
				dg->off = (dg->at_key && key_off != SIZE_MAX) ? key_off : val_off;
				dg->has_off = true;
			}
		} else if ((pl == 0 || (strncmp(dg->ptr, w->p.s, pl) == 0 && dg->ptr[pl] == '/')) &&
			   (w->best[k] == SIZE_MAX || pl > w->best[k])) {
			/* the closest existing ancestor stands in for a missing member */
			w->best[k] = pl;
			dg->off = val_off;
		}
	}
}

static void value(struct walker *w, size_t key_off);

static void object(struct walker *w)
{
	char key[512];

	w->i++; /* { */
	for (;;) {
		size_t key_off, mark;

		ws(w);
		if (w->i >= w->len || w->t[w->i] == '}')
			break;
		key_off = w->i;
		if (w->t[w->i] != '"')
			break; /* not JSON after all: stop rather than spin */
		read_string(w, key, sizeof(key));
		ws(w);
		w->i++; /* : */
		mark = jptr_key(&w->p, key);
		value(w, key_off);
		jptr_pop(&w->p, mark);
		ws(w);
		if (w->i < w->len && w->t[w->i] == ',')
			w->i++;
	}
	w->i++;
}

static void array(struct walker *w)
{
	size_t idx = 0;

	w->i++; /* [ */
	for (;;) {
		size_t mark, before;

		ws(w);
		if (w->i >= w->len || w->t[w->i] == ']')
			break;
		before = w->i;
		mark = jptr_idx(&w->p, idx++);
		value(w, SIZE_MAX);
		jptr_pop(&w->p, mark);
		if (w->i == before)
			break; /* no progress: stop rather than spin */
		ws(w);
		if (w->i < w->len && w->t[w->i] == ',')
			w->i++;
	}
	w->i++;
}

static void value(struct walker *w, size_t key_off)
{
	ws(w);
	if (w->i >= w->len)
		return;
	visit(w, key_off, w->i);
	if (++w->depth > 2000) { /* cJSON already limits nesting; stay safe anyway */
		w->i = w->len;
		return;
	}
	switch (w->t[w->i]) {
	case '{':
		object(w);
		break;
	case '[':
		array(w);
		break;
	case '"':
		w->i = skip_string(w->t, w->len, w->i);
		break;
	default:
		while (w->i < w->len && !strchr(",]} \t\r\n", w->t[w->i]) && w->t[w->i])
			w->i++;
	}
	w->depth--;
}

void hujson_locate(const char *text, size_t len, struct diags *d)
{
	struct walker w = { .t = text, .len = len, .d = d };
	bool need = false;

	for (size_t k = 0; k < d->n; k++)
		need |= !d->v[k].has_off && d->v[k].ptr;
	if (need) {
		w.seen = calloc(d->n, sizeof(*w.seen));
		w.best = malloc(d->n * sizeof(*w.best));
		if (!w.seen || !w.best)
			abort();
		for (size_t k = 0; k < d->n; k++)
			w.best[k] = SIZE_MAX;
		jptr_init(&w.p);
		value(&w, SIZE_MAX);
		for (size_t k = 0; k < d->n; k++)
			if (w.best[k] != SIZE_MAX)
				d->v[k].has_off = true;
		free(w.seen);
		free(w.best);
	}
	for (size_t k = 0; k < d->n; k++)
		if (d->v[k].has_off)
			hujson_linecol(text, len, d->v[k].off, &d->v[k].line, &d->v[k].col);
}
