/* hujson.h — JSON with comments and trailing commas, and positions.
 *
 * The policy is "HuJSON": strict JSON plus // and block comments and trailing
 * commas. hujson_strip() blanks those out in place (comments become spaces,
 * newlines are kept), so every byte keeps its offset and the result is plain
 * JSON for cJSON. hujson_locate() maps JSON pointers back to line:col by
 * walking the stripped text; it runs only when there is something to report. */
#ifndef RULES_HUJSON_H
#define RULES_HUJSON_H

#include <stddef.h>

#include "diag.h"

/* 0, or -EINVAL with *err_off at an unterminated comment or a NUL byte. */
int hujson_strip(char *text, size_t len, size_t *err_off);
/* Fill line/col of every record in d; text must be valid (stripped) JSON. */
void hujson_locate(const char *text, size_t len, struct diags *d);
void hujson_linecol(const char *text, size_t len, size_t off, int *line, int *col);

#endif
