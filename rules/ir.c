/* ir.c — small helpers on the intermediate representation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

void ir_free(struct ir *ir)
{
	if (!ir)
		return;
	for (size_t i = 0; i < ir->nsets; i++)
		free(ir->sets[i].v);
	free(ir->sets);
	free(ir->rules);
	free(ir->origins);
	free(ir);
}

long ir_set_find(const struct ir *ir, const char *name)
{
	for (size_t i = 0; i < ir->nsets; i++)
		if (!strcmp(ir->sets[i].name, name))
			return (long)i;
	return -1;
}

void ir_set_add(struct ir_set *s, const struct ir_elem *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct ir_elem *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			abort();
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *e;
}

void ir_elem_comment(const struct ir *ir, const struct ir_elem *e, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (uint8_t i = 0; i < e->norigin && e->origin[i] < ir->norigins; i++) {
		int w = snprintf(buf + n, len - n, "%s%s", i ? "," : "", ir->origins[e->origin[i]].id);

		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
	if (e->more_origins && n + 2 < len)
		snprintf(buf + n, len - n, "+");
}

size_t ir_elem_count(const struct ir *ir)
{
	size_t n = 0;

	for (size_t i = 0; i < ir->nsets; i++)
		n += ir->sets[i].n;
	return n;
}

void ir_origin_describe(const struct ir *ir, uint32_t origin, char *buf, size_t len)
{
	const struct ir_origin *o;

	if (origin >= ir->norigins) {
		snprintf(buf, len, "?");
		return;
	}
	o = &ir->origins[origin];
	if (o->index >= 0)
		snprintf(buf, len, "%s \"%s\" (%s/%ld)", o->kind, o->id, o->section, o->index);
	else
		snprintf(buf, len, "%s \"%s\" (%s)", o->kind, o->id, o->section);
}

void ir_quarantine_set(int family, struct ir_set *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s",
		 family == AF_INET ? IR_SET_QUARANTINE4 : IR_SET_QUARANTINE6);
	s->kind = IRS_ADDR;
	s->family = family;
	s->timeout = true;
}

void ir_glass_set(int family, struct ir_set *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", family == AF_INET ? IR_SET_GLASS4 : IR_SET_GLASS6);
	s->kind = IRS_CONCAT;
	s->family = family;
	s->interval = s->timeout = true;
}

void ir_meter_set(int family, struct ir_set *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s",
		 family == AF_INET ? IR_SET_LOGMETER4 : IR_SET_LOGMETER6);
	s->kind = IRS_ADDR;
	s->family = family;
	s->timeout = s->dynamic = true;
	s->size = IR_METER_SIZE;
	s->timeout_ms = IR_METER_TIMEOUT_MS;
}
