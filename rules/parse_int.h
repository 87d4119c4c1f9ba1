/* parse_int.h — shared by parse.c and parse_rules.c only. */
#ifndef RULES_PARSE_INT_H
#define RULES_PARSE_INT_H

#include <cjson/cJSON.h>

#include "policy.h"

struct pctx {
	struct policy *p;
	struct diags *d;
	struct jptr ptr;
	time_t now;
};

/* selector kinds allowed at a place (bit per enum sel_kind) */
#define SELS_NODES ((1u << SEL_ALL) | (1u << SEL_NODE) | (1u << SEL_TAG) | (1u << SEL_GROUP))
#define SELS_ADDRS ((1u << SEL_ALL) | (1u << SEL_HOST) | (1u << SEL_CIDR))
#define SELS_ANY (SELS_NODES | SELS_ADDRS)

#define ERR(c, ...) diag_err((c)->d, (c)->ptr.s, __VA_ARGS__)
#define WARN(c, ...) diag_warn((c)->d, (c)->ptr.s, __VA_ARGS__)

const char *json_type_name(const cJSON *v);
/* Checks v is an object with only allowed keys and no duplicates. */
bool check_object(struct pctx *c, const cJSON *v, const char *const *allowed);
bool want_type(struct pctx *c, const cJSON *v, int type, const char *what);
bool get_int(struct pctx *c, const cJSON *v, long lo, long hi, long *out);
bool get_duration(struct pctx *c, const cJSON *v, uint32_t *out);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

/* Parses a list of selectors; the member is c->ptr (already pushed). */
void parse_sellist(struct pctx *c, const cJSON *v, unsigned kinds, struct sellist *out);
void parse_portlist(struct pctx *c, const cJSON *v, bool allow_services, struct portset *out);

void parse_network(struct pctx *c, const cJSON *v);
void parse_nodes(struct pctx *c, const cJSON *v);
void parse_expose(struct pctx *c, const cJSON *v);
void parse_acls(struct pctx *c, const cJSON *v);
void parse_tests(struct pctx *c, const cJSON *v);
void parse_suspicion(struct pctx *c, const cJSON *v);
void parse_breakglass(struct pctx *c, const cJSON *v);

void sellist_free(struct sellist *sl);

/* A repeated key is reported by check_object(); only its first occurrence
 * is read, so no member is ever parsed twice into the same struct. */
static inline bool first_member(const cJSON *obj, const cJSON *m)
{
	return cJSON_GetObjectItemCaseSensitive(obj, m->string) == m;
}

#endif
