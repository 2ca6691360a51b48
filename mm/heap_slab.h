/*
 * The slab heap design (see mm/heap.h and docs/heap.md, "slab"): the default heap.
 *
 * Objects of up to SLAB_SMALL_MAX bytes come from 27 size classes (16, 32, 48, ... 3584: steps
 * of 16 up to 128, then four classes per power of two), each packed in slabs of one to eight
 * pages; bigger objects, and objects whose alignment no class gives, get whole page runs.  Both
 * come from the region's page runs (mm/heap_region.h) and go back to it when empty.
 *
 * The metadata of every slab and page run, its record (`struct slab`), is kept out of band in
 * header pages, and found from any address in O(1) through the region's page owners.  A slab's
 * bitmap of objects in use is the only free-object bookkeeping there is: allocation takes the
 * lowest clear bit, free proves and clears one.  Nothing is ever stored inside a free object.
 *
 * The common cases of alloc and free are inline, in mm/heap_slab_fast.h (heap_alloc_fast and
 * heap_free_fast are built on them); everything else is in heap_slab.c.
 */
#ifndef FERRITE_MM_HEAP_SLAB_H
#define FERRITE_MM_HEAP_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/heap_region.h"

#define SLAB_CLASS_COUNT 27         /* object classes; the header class comes after them */
#define SLAB_SMALL_MAX   3584       /* the largest class: bigger objects get page runs */
#define SLAB_GRANULE     16         /* class sizes are multiples of this (HEAP_MIN_ALIGN) */
#define SLAB_WORDS       4          /* bitmap words of a record: at most 256 objects per slab */
#define SLAB_SPARE_PAGES 32         /* runs given up, up to this length, may be kept as spares */

/*
 * The record of a run of pages, in a header page.  For a slab: which objects are in use, and
 * where the slab stands on its class's list.  For a page run holding one big object, or a spare
 * (a run given up, kept mapped for the next slab or big object): its length and the size asked
 * for (0 for a spare).
 */
struct slab {
	union {
		uint64_t live[SLAB_WORDS];  /* slab: bit i set while object i is in use */
		struct {
			size_t pages;           /* page run: its length */
			size_t size;            /* the size asked for; 0 while the run is a spare */
		} large;
	};
	uintptr_t start;            /* the run's first byte, object 0 */
	struct slab *next;          /* the class's list of slabs with room, or the spare list */
	struct slab *prev;
	uint32_t reciprocal;        /* the class's, for the inline free; 0 where that must not serve:
	                             * page runs, header pages, debug mode */
	uint8_t in_use;             /* objects handed out, and the reserved ones */
	uint8_t carved;             /* objects [0, carved) have been handed out at some time */
	uint8_t class_id;           /* index into slab_heap.class[], or CLASS_LARGE (heap_slab.c) */
	uint8_t watch;              /* a free that finds in_use == watch needs the slow path */
};

struct slab_class {
	struct slab *first;     /* the slab allocations come from, first on the list of slabs with
	                         * room; &slab_heap.none while the list is empty */
	uint32_t size;          /* object size in bytes */
	uint32_t reciprocal;    /* 2^32 / size rounded up: offset / size by a multiplication */
	uint16_t capacity;      /* objects per slab, at most 255 */
	uint16_t pages;         /* pages per slab */
	uint8_t reserved;       /* objects a slab keeps for itself: 1 in the header class, else 0 */
	uint8_t cursor;         /* the word of first->live[] the inline alloc looks in */
	uint8_t room;           /* free objects that bring a slab that filled up back on the list */
	bool may_cache;         /* the first slab may stay when empty: one of the heap's cachers */
};

/* Pages the object classes may keep in cached empty slabs, all together: the classes that last
 * emptied a slab keep theirs, the oldest lose theirs.  Bounds what an empty heap holds. */
#define SLAB_CACHE_PAGES 8

struct slab_heap {
	struct slab_class class[SLAB_CLASS_COUNT + 1];   /* the object classes, then the header class */
	struct slab none;       /* the first slab of a class with none: every bit set, so it looks full */
	struct slab *spare[SLAB_SPARE_PAGES + 1];  /* [n]: spare runs of n pages, newest first */
	size_t spare_bytes;     /* in all spare runs (heap_slab.c, "Spare runs": their budget) */
	size_t large_bytes;     /* in the page runs holding objects */
	size_t slab_bytes;      /* in the slabs of the object classes */
	uint8_t cacher[SLAB_CACHE_PAGES];  /* classes that may cache, oldest first */
	uint8_t cachers;
	uint8_t cached_pages;   /* the slab pages of those classes */
	uint8_t class_of[SLAB_SMALL_MAX / SLAB_GRANULE]; /* [g]: the class of sizes 16g + 1 .. 16g + 16 */
	char what[64];          /* the text of the last report that needed numbers in it */
};

extern const struct heap_ops slab_heap_ops;

#endif
