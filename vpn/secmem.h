/* secmem.h — fixed-size objects holding secrets, carved from slabs of
 * sodium_malloc() memory (locked, guarded, never swapped). One
 * sodium_malloc per object would cost three mappings, an mlock and 70-180 µs
 * each: more than a handshake's DH work, and 8 KB of RSS per peer. Released
 * objects are wiped and reused; slabs live as long as the process. */
#ifndef VPN_SECMEM_H
#define VPN_SECMEM_H
#include <pthread.h>
#include <stddef.h>
struct secpool {
	size_t size;                   /* object size, set at definition */
	pthread_mutex_t lock;
	void *free;
};
#define SECPOOL_INIT(type) { sizeof(type), PTHREAD_MUTEX_INITIALIZER, NULL }
/* A zeroed object, or NULL when out of memory. Thread-safe. */
void *secpool_get(struct secpool *p);
/* Wipe obj and give it back (NULL is fine). */
void secpool_put(struct secpool *p, void *obj);
#endif
