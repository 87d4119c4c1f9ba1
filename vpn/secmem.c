/* secmem.c — a free list threaded through the wiped objects themselves. */
#include <sodium.h>
#include <string.h>

#include "secmem.h"

#define SLAB 64

static size_t stride(const struct secpool *p)
{
	size_t s = p->size < sizeof(void *) ? sizeof(void *) : p->size;

	return (s + 15) & ~(size_t)15;
}

void *secpool_get(struct secpool *p)
{
	void *obj;

	pthread_mutex_lock(&p->lock);
	if (!p->free) {
		unsigned char *slab = sodium_malloc(SLAB * stride(p));

		for (int i = 0; slab && i < SLAB; i++) {
			void *o = slab + (size_t)i * stride(p);

			memcpy(o, &p->free, sizeof(void *));
			p->free = o;
		}
	}
	if ((obj = p->free))
		memcpy(&p->free, obj, sizeof(void *));
	pthread_mutex_unlock(&p->lock);
	if (obj)
		memset(obj, 0, p->size);
	return obj;
}

void secpool_put(struct secpool *p, void *obj)
{
	if (!obj)
		return;
	sodium_memzero(obj, p->size);
	pthread_mutex_lock(&p->lock);
	memcpy(obj, &p->free, sizeof(void *));
	p->free = obj;
	pthread_mutex_unlock(&p->lock);
}
