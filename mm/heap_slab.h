/*
 * The slab heap design (see mm/heap.h and docs/heap.md, "slab"): the default heap.
 *
 * Objects of up to SLAB_SMALL_MAX bytes come from 27 size classes (16, 32, 48, ... 3584: steps
 * of 16 up to 128, then four classes per power of two), each packed in slabs of one to eight
 * pages; bigger objects, and objects whose alignment no class gives, get whole page runs.  Both
 * come from the region's page runs (mm/heap_region.h) and go back to it when empty.
 *
 * The metadata of every slab and page run, its `struct slab`, is kept out of band in header
 * pages, and found from any address in O(1) through the region's page owners.  A slab's
 * bitmap of objects in use makes every free exact; free-list links inside objects are encoded
 * (heap_encode_link) and checked before they are followed.
 */
#ifndef FERRITE_MM_HEAP_SLAB_H
#define FERRITE_MM_HEAP_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLAB_CLASS_COUNT 27         /* object classes; the header class comes after them */
#define SLAB_SMALL_MAX   3584       /* the largest class: bigger objects get page runs */
#define SLAB_GRANULE     16         /* class sizes are multiples of this (HEAP_MIN_ALIGN) */

struct slab;

struct slab_class {
	struct slab *partial;   /* slabs with room; the first is allocated from, and is the only one
	                         * that may be full (until an alloc finds it so) or empty (cached) */
	uint32_t size;          /* object size in bytes */
	uint32_t reciprocal;    /* 2^32 / size rounded up: (offset * reciprocal) >> 32 == offset / size */
	uint16_t capacity;      /* objects per slab, at most 255 */
	uint16_t pages;         /* pages per slab */
	uint16_t reserved;      /* objects a slab keeps for itself: 1 in the header class, else 0 */
	bool may_cache;         /* the first slab may stay when empty: one of the heap's cachers */
};

/* Pages the object classes may keep in cached empty slabs, all together: the classes that last
 * emptied a slab keep theirs, the oldest lose theirs.  Bounds what an empty heap holds. */
#define SLAB_CACHE_PAGES 8

struct slab_heap {
	struct slab_class class[SLAB_CLASS_COUNT + 1];   /* the object classes, then the header class */
	size_t fast_max;        /* the largest size the inline alloc serves: SLAB_SMALL_MAX, 0 in debug */
	unsigned fast_classes;  /* classes the inline free serves: SLAB_CLASS_COUNT, 0 in debug */
	uint8_t cacher[SLAB_CACHE_PAGES];  /* classes that may cache, oldest first */
	uint8_t cachers;
	uint8_t cached_pages;   /* the slab pages of those classes */
	uint8_t class_of[SLAB_SMALL_MAX / SLAB_GRANULE]; /* [g]: the class of sizes 16g + 1 .. 16g + 16 */
	char what[64];          /* the text of the last report that needed numbers in it */
};

extern const struct heap_ops slab_heap_ops;

#endif
