/* index.c — open addressing over a power-of-two array, linear probing,
 * backward-shift deletion (no tombstones). Load stays at most 1/2. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>

#include "index.h"

struct slot {
	uint32_t index;      /* 0: empty */
	void *owner;
};

struct index_table {
	struct slot *slots;
	size_t mask, n;
};

static size_t home(const struct index_table *t, uint32_t index)
{
	/* indices are random already; mix anyway so a chosen set cannot cluster */
	return (size_t)((index * 0x9e3779b1u) ^ (index >> 16)) & t->mask;
}

struct index_table *index_table_new(void)
{
	struct index_table *t = calloc(1, sizeof(*t));

	if (!t || !(t->slots = calloc(64, sizeof(*t->slots)))) {
		free(t);
		return NULL;
	}
	t->mask = 63;
	return t;
}

void index_table_free(struct index_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static void put(struct index_table *t, uint32_t index, void *owner)
{
	size_t i = home(t, index);

	while (t->slots[i].index)
		i = (i + 1) & t->mask;
	t->slots[i] = (struct slot){ index, owner };
	t->n++;
}

static int grow(struct index_table *t)
{
	struct slot *old = t->slots;
	size_t oldn = t->mask + 1, newn = oldn * 2;

	if (!(t->slots = calloc(newn, sizeof(*t->slots)))) {
		t->slots = old;
		return -ENOMEM;
	}
	t->mask = newn - 1;
	t->n = 0;
	for (size_t i = 0; i < oldn; i++)
		if (old[i].index)
			put(t, old[i].index, old[i].owner);
	free(old);
	return 0;
}

static struct slot *find(const struct index_table *t, uint32_t index)
{
	size_t i = home(t, index);

	for (; t->slots[i].index; i = (i + 1) & t->mask)
		if (t->slots[i].index == index)
			return &t->slots[i];
	return NULL;
}

uint32_t index_table_add(struct index_table *t, void *owner)
{
	uint32_t index;

	if (2 * (t->n + 1) > t->mask + 1 && grow(t) < 0)
		return 0;
	do
		index = randombytes_random();
	while (index == 0 || find(t, index));
	put(t, index, owner);
	return index;
}

void *index_table_lookup(const struct index_table *t, uint32_t index)
{
	const struct slot *s = index ? find(t, index) : NULL;

	return s ? s->owner : NULL;
}

void index_table_del(struct index_table *t, uint32_t index, void *owner)
{
	struct slot *s = index ? find(t, index) : NULL;
	size_t i, j, h;

	if (!s || s->owner != owner)
		return;
	/* backward shift: pull later members of the run into the hole */
	i = (size_t)(s - t->slots);
	j = i;
	for (;;) {
		j = (j + 1) & t->mask;
		if (!t->slots[j].index)
			break;
		h = home(t, t->slots[j].index);
		/* move j to i unless its home lies cyclically in (i, j] */
		if ((i < j) ? (h <= i || h > j) : (h <= i && h > j)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i] = (struct slot){ 0, NULL };
	t->n--;
}

size_t index_table_count(const struct index_table *t)
{
	return t->n;
}
