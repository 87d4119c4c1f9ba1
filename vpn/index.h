/* index.h — the device's table of local session indices.
 *
 * Every handshake we start or answer, and every keypair it yields, is named
 * on the wire by a random 32-bit index of ours; a response, cookie reply or
 * data message carries it back as its receiver index. This table maps an
 * index to its owner (a peer) in O(1) and hands out fresh random indices
 * that are not in use. Not thread-safe: the device holds its index lock. */
#ifndef VPN_INDEX_H
#define VPN_INDEX_H
#include <stddef.h>
#include <stdint.h>
struct index_table;
struct index_table *index_table_new(void);
void index_table_free(struct index_table *t);
/* A fresh random index now owned by owner, or 0 on ENOMEM (0 is never used). */
uint32_t index_table_add(struct index_table *t, void *owner);
void *index_table_lookup(const struct index_table *t, uint32_t index);
/* Forget index if owner holds it (0 is ignored). */
void index_table_del(struct index_table *t, uint32_t index, void *owner);
size_t index_table_count(const struct index_table *t);
#endif
