/*
 * A hash map from uint64_t keys to uint64_t values: an address to a page, a frame to its owner,
 * an id to an object pointer (cast through uintptr_t).  Every key value is allowed, 0 included.
 *
 * Open addressing with linear probing, kept in Robin Hood order: an entry that is further from
 * its home slot takes the place of one that is nearer, so probe lengths stay short and even,
 * and a lookup can stop as soon as it meets an entry nearer home than the key would be.
 * Removal shifts the rest of the run back by one slot (no tombstones), so a map under heavy
 * insert/remove churn is as fast as a fresh one.
 *
 * Growth: the table doubles when an insert would take it past 3/4 full (HASHMAP_MAX_LOAD_*);
 * it never shrinks by itself.  A failed call (no memory, too large) changes nothing, and
 * lookup, replace and remove never allocate.  The fields are private.  Not thread-safe.
 */
#ifndef FERRITE_LIB_HASHMAP_H
#define FERRITE_LIB_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/alloc.h"

enum hashmap_status {
	HASHMAP_OK,
	HASHMAP_ERR_NO_MEMORY,  /* the allocator failed */
	HASHMAP_ERR_TOO_LARGE,  /* more than HASHMAP_MAX_CAPACITY slots would be needed */
	HASHMAP_ERR_EXISTS,     /* hashmap_insert: the key is already there */
	HASHMAP_ERR_CORRUPT,    /* hashmap_check: an invariant does not hold */
};

/* The table grows when count would exceed capacity * NUM / DEN. */
#define HASHMAP_MAX_LOAD_NUM 3
#define HASHMAP_MAX_LOAD_DEN 4

/* Slots in the first table; the capacity is always a power of two. */
#define HASHMAP_MIN_CAPACITY 8

/* Probe distances are kept in 32 bits, and are less than the capacity. */
#define HASHMAP_MAX_CAPACITY ((size_t)1 << 31)

/* A hash function.  Its low bits pick a key's home slot, so every key bit must reach them:
 * page addresses, which differ only above bit 11, must not all land on the same slot. */
typedef uint64_t hashmap_hash_fn(uint64_t key);

struct hashmap_slot {
	uint64_t key;
	uint64_t value;
};

struct hashmap {
	struct hashmap_slot *slots;
	uint32_t *dist;             /* per slot: 0 if empty, else 1 + distance from the key's home */
	size_t capacity;            /* 0 (nothing allocated) or a power of two */
	size_t count;
	hashmap_hash_fn *hash;
	const struct allocator *alloc;
};

/* An empty map; allocates nothing.  hash NULL means hashmap_hash64.  The allocator must
 * outlive the map. */
void hashmap_init(struct hashmap *m, const struct allocator *alloc, hashmap_hash_fn *hash);

/* Gives the table back; the map is empty and usable again. */
void hashmap_free(struct hashmap *m);

/* The default hash: a multiply-xorshift finalizer, every input bit affecting every output bit. */
uint64_t hashmap_hash64(uint64_t key);

static inline size_t hashmap_count(const struct hashmap *m)
{
	return m->count;
}

/* Adds key -> value.  HASHMAP_ERR_EXISTS, and the old value kept, if the key is there. */
enum hashmap_status hashmap_insert(struct hashmap *m, uint64_t key, uint64_t value);

/* Adds key -> value, or replaces the value if the key is there (which never allocates). */
enum hashmap_status hashmap_put(struct hashmap *m, uint64_t key, uint64_t value);

/* Whether key is there; if so and value is not NULL, its value goes to *value. */
bool hashmap_get(const struct hashmap *m, uint64_t key, uint64_t *value);

/* Removes key; whether it was there.  Its value goes to *value unless value is NULL. */
bool hashmap_remove(struct hashmap *m, uint64_t key, uint64_t *value);

/* Removes every entry; the table stays. */
void hashmap_clear(struct hashmap *m);

/* Makes room for `count` entries in all, so that inserts up to that count cannot fail. */
enum hashmap_status hashmap_reserve(struct hashmap *m, size_t count);

/*
 * Calls keep(ctx, key, &value) exactly once for every entry, in table order, and removes the
 * entries for which it returns false.  keep may change the value; it must not use the map.
 * Returns how many entries were removed.  Never allocates.
 */
size_t hashmap_retain(struct hashmap *m, bool (*keep)(void *ctx, uint64_t key, uint64_t *value), void *ctx);

/* Iteration in table order:
 *     struct hashmap_iter it;
 *     for (hashmap_iter_init(&it, m); hashmap_iter_next(&it, &key, &value); ) ...
 * The map must not change during a walk (hashmap_retain removes while walking). */
struct hashmap_iter {
	const struct hashmap *map;
	size_t slot;
};

void hashmap_iter_init(struct hashmap_iter *it, const struct hashmap *m);

/* The next entry into *key and *value (either may be NULL); false at the end. */
bool hashmap_iter_next(struct hashmap_iter *it, uint64_t *key, uint64_t *value);

/* Checks every invariant of the table (counts, probe distances, Robin Hood order, each key
 * found where it sits, the load limit).  O(count * probe length): for tests and debugging. */
enum hashmap_status hashmap_check(const struct hashmap *m);

const char *hashmap_status_message(enum hashmap_status status);

#endif
