/*
 * The heap: objects created and removed in a region of virtual memory, by one of four designs.
 *
 *   bump   the tutorial's first design: a pointer that only moves up; memory comes back only
 *          when every object is freed.
 *   list   the tutorial's linked list, done properly: address-ordered, first fit, neighbours
 *          merge on free, alignment padding is not lost.
 *   fixed  the tutorial's fixed-size blocks: classes of 8 .. 2048 bytes over the list design,
 *          with blocks going back to the list when a class holds too many.
 *   slab   the default, what production kernels use: size classes, O(1) alloc and free,
 *          objects packed in slabs of pages, empty slabs returned, large objects as whole pages.
 *
 * All four sit behind one interface (heap_alloc, heap_free, ...) and pass one test suite.  The
 * heap is portable: its pages come through `struct heap_pages` (the kernel maps frames, the
 * host malloc uses mmap, host tests use simulated memory).  It is not thread-safe; the kernel
 * and the host malloc wrap it in a lock.
 *
 * Every free proves its pointer: a pointer that is not a live object of this heap (foreign,
 * interior, already freed) is refused with HEAP_ERR_INVALID_FREE or HEAP_ERR_DOUBLE_FREE,
 * reported through `report`, and changes nothing.  In debug mode, a live object whose redzone
 * was overwritten is reported (HEAP_ERR_REDZONE), its redzone restored, and freed all the same;
 * a freed object written to is reported when it is handed out again (HEAP_ERR_USE_AFTER_FREE),
 * its poison restored first, and the allocation goes ahead.  docs/heap.md compares the designs.
 */
#ifndef FERRITE_MM_HEAP_H
#define FERRITE_MM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/heap_region.h"

enum heap_design {
	HEAP_BUMP,
	HEAP_LIST,
	HEAP_FIXED,
	HEAP_SLAB,
	HEAP_DESIGN_COUNT
};

enum heap_status {
	HEAP_OK,
	HEAP_ERR_NO_MEMORY,      /* the region's limit or the page source ran out; nothing changed */
	HEAP_ERR_BAD_ALIGN,      /* alignment not a power of two, or above HEAP_MAX_ALIGN */
	HEAP_ERR_TOO_LARGE,      /* size (or n * size for calloc) overflows */
	HEAP_ERR_INVALID_FREE,   /* not a live object of this heap: foreign or interior pointer */
	HEAP_ERR_DOUBLE_FREE,    /* the object was already freed */
	HEAP_ERR_REDZONE,        /* debug: bytes past the object were overwritten */
	HEAP_ERR_USE_AFTER_FREE, /* debug: a freed object was written to before its reuse */
	HEAP_ERR_CORRUPT,        /* heap metadata failed a check (free list, header, counts) */
	HEAP_ERR_BAD_CONFIG,     /* heap_init: unaligned region, unknown design, ... */
};

/* The largest alignment heap_alloc supports: a page, or more (any power of two up to this). */
#define HEAP_MAX_ALIGN 4096

/* The alignment every object gets without asking, as malloc's max_align_t. */
#define HEAP_MIN_ALIGN 16

/* A detected problem, as `report` receives it: one line a person can act on is
 * "heap: <what> at <addr> (<design> class <size_class>)". */
struct heap_error {
	enum heap_status status;
	uintptr_t addr;         /* the pointer concerned */
	size_t size_class;      /* the object's size class in bytes, or 0 when unknown */
	const char *what;       /* a short phrase: "double free", "redzone overwritten at +17", ... */
};

struct heap_config {
	enum heap_design design;
	struct heap_region_config region;
	bool debug;             /* redzones, poisoning checked on reuse, full heap_check */
	bool zero_fill;         /* objects are handed out zeroed (the kernel's policy; malloc's is not) */
	uint64_t secret;        /* per-boot random value that keys free-list pointer encoding */
	void (*report)(void *ctx, const struct heap_error *e);
	void *report_ctx;
};

struct heap_class_stats {
	size_t size;            /* object size of the class; 0 for objects served as whole page runs */
	size_t objects_in_use;
	size_t slabs;           /* slabs (or blocks kept by the class) */
	size_t bytes_held;      /* bytes of pages the class holds */
};

#define HEAP_STATS_CLASSES 48

struct heap_stats {
	enum heap_design design;
	size_t objects_in_use;
	bool requested_known;       /* the design keeps the sizes asked for (not the slab outside
	                             * debug mode, which gives bytes_in_use as bytes_requested) */
	size_t bytes_requested;     /* sum of sizes asked for by live objects */
	size_t bytes_in_use;        /* sum of heap_usable_size of live objects */
	size_t bytes_mapped;        /* bytes of the region backed by pages now */
	size_t peak_mapped;
	size_t classes;             /* entries used in class[] */
	struct heap_class_stats class[HEAP_STATS_CLASSES];
};

/* What each design provides; heap.c dispatches to it.  The designs' own headers declare
 * their state structs and their `struct heap_ops`. */
struct heap;
struct heap_ops {
	enum heap_status (*init)(struct heap *h);
	void (*destroy)(struct heap *h);
	/* size and align are already checked: align is a power of two in [HEAP_MIN_ALIGN,
	 * HEAP_MAX_ALIGN], size > 0 and small enough that size + align cannot overflow. */
	void *(*alloc)(struct heap *h, size_t size, size_t align);
	enum heap_status (*free)(struct heap *h, void *ptr);   /* ptr != NULL */
	size_t (*usable_size)(struct heap *h, const void *ptr);
	/* Optional (may be NULL): grows or shrinks a live object in place to at least `size` bytes;
	 * false if it cannot, and then nothing changed.  heap_realloc tries it before moving. */
	bool (*resize)(struct heap *h, void *ptr, size_t size);
	enum heap_status (*check)(struct heap *h);
	void (*stats)(struct heap *h, struct heap_stats *out);
};

#include "mm/heap_bump.h"
#include "mm/heap_list.h"
#include "mm/heap_fixed.h"
#include "mm/heap_slab.h"

struct heap {
	size_t inline_max;      /* heap_alloc_fast serves sizes 1 .. inline_max: a slab heap's small
	                         * sizes; 0 (none) in debug mode and for the other designs */
	const struct heap_ops *ops;
	struct heap_config cfg;
	struct heap_region region;
	union {
		struct bump_heap bump;
		struct list_heap list;
		struct fixed_heap fixed;
		struct slab_heap slab;
	} design;
};

#include "mm/heap_slab_fast.h"   /* needs struct heap */

/* Builds an empty heap over the region.  Maps nothing until the first allocation. */
enum heap_status heap_init(struct heap *h, const struct heap_config *cfg);

/* Releases every page the heap holds; the heap must be initialized again before use. */
void heap_destroy(struct heap *h);

/*
 * An object of at least `size` bytes aligned to `align` (a power of two up to HEAP_MAX_ALIGN;
 * 0 means HEAP_MIN_ALIGN), or NULL: out of memory, bad alignment, or size too large.
 * heap_alloc(h, 0, 0) returns a unique pointer that must be freed like any other.  With
 * cfg.zero_fill the first `size` bytes are zero (and heap_realloc zeroes what it adds).
 */
void *heap_alloc(struct heap *h, size_t size, size_t align);

/* Frees a live object.  NULL does nothing (HEAP_OK).  Anything else wrong is reported. */
enum heap_status heap_free(struct heap *h, void *ptr);

/*
 * The common cases of heap_alloc(h, size, 0) and heap_free(h, ptr), inline, for callers on a hot
 * path (malloc, kmalloc): the slab design's paths (mm/heap_slab_fast.h).  heap_alloc and
 * heap_free take them first themselves.
 *
 * heap_alloc_is_fast says whether heap_alloc_fast serves a size on h: the small sizes of a slab
 * heap outside debug mode (inline_max).  heap_alloc_fast is then all of heap_alloc(h, size, 0)
 * but the zero fill: NULL means out of memory.  heap_free_fast either frees a live object
 * of a slab (calling out of line only when its slab changes place) and returns true, or returns
 * false and changes nothing: heap_free decides, and reports what is wrong.  A heap that is all
 * zero bytes, not yet initialized, gets nothing done by either.
 */
static inline bool heap_alloc_is_fast(const struct heap *h, size_t size)
{
	return size - 1 < h->inline_max;   /* size 0 wraps */
}

static inline void *heap_alloc_fast(struct heap *h, size_t size)
{
	return slab_alloc_fast(h, size);
}

/* Only the slab uses page runs, so for the other designs the owner lookup never finds a slab. */
static inline bool heap_free_fast(struct heap *h, void *ptr)
{
	return slab_free_fast(h, ptr);
}

/* C realloc semantics: NULL ptr allocates, size 0 frees and returns NULL; on failure the old
 * object is untouched and NULL is returned.  The result is aligned to HEAP_MIN_ALIGN, as C's is;
 * an object that may move keeps no larger alignment it was allocated with. */
void *heap_realloc(struct heap *h, void *ptr, size_t size);

/* n * size zeroed bytes; NULL if the product overflows. */
void *heap_calloc(struct heap *h, size_t n, size_t size);

/* Bytes usable at ptr (at least what was asked for), or 0 if ptr is not a live object. */
size_t heap_usable_size(struct heap *h, const void *ptr);

/* Walks all of the heap's metadata and checks it; HEAP_OK if consistent.  Problems are also
 * reported.  Cost is proportional to the heap's size: for tests and debug mode. */
enum heap_status heap_check(struct heap *h);

void heap_stats(struct heap *h, struct heap_stats *out);

const char *heap_status_message(enum heap_status status);
const char *heap_design_name(enum heap_design design);

#endif
