/*
 * The physical frame allocator: a buddy allocator over the usable ranges of the memory map.
 *
 * Blocks are 2^order contiguous, naturally aligned 4 KiB frames, order 0 (4 KiB) up to
 * FRAME_MAX_ORDER (1 GiB, enough for a huge page).  alloc and free are O(log n) at worst;
 * freed blocks merge with their buddies.  Frames are reached through the direct map
 * (virtual = physical + offset), which on the host is a buffer of simulated memory.
 *
 * Every frame has one state byte, kept out of band in a metadata area the allocator carves
 * from the memory map, so that every free is checked exactly against what was handed out.
 * Order-0 frames pass through a small cache that makes the common alloc/free pair cheap.
 * docs/frame-allocator.md describes the design and its costs.
 *
 * Not thread-safe: callers serialize every call on one allocator.
 */
#ifndef FERRITE_MM_FRAME_H
#define FERRITE_MM_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/memmap.h"

#define FRAME_MAX_ORDER 18  /* 2^18 frames = 1 GiB */

enum frame_status {
	FRAME_OK,
	FRAME_ERR_NO_MEMORY,      /* no free block of the requested order */
	FRAME_ERR_BAD_ORDER,      /* order above FRAME_MAX_ORDER */
	FRAME_ERR_MISALIGNED,     /* the address is not aligned to the block size */
	FRAME_ERR_NOT_ALLOCATED,  /* not a block this allocator handed out: a frame it does not manage
	                           * (foreign, reserved, metadata) or one inside a bigger allocated block */
	FRAME_ERR_DOUBLE_FREE,    /* the frame is free already: freed twice, or never handed out */
	FRAME_ERR_WRONG_ORDER,    /* the block was handed out with another order */
	FRAME_ERR_NO_METADATA,    /* init: no usable range can hold the metadata */
	FRAME_ERR_NO_USABLE,      /* init: the map has no usable frame at or above reserve_below */
	FRAME_ERR_CORRUPT,        /* a free list failed its checks (frame_check, or found on alloc/free) */
	FRAME_ERR_BAD_MAP,        /* init: the map is not normalized (unsorted, overlapping, unaligned) */
};

enum frame_alloc_flags {
	/* Skip zeroing: only for callers that write the whole block before reading it, or never read
	 * it (the exhaustion tests, the benchmarks).  Everyone else gets zeroed frames. */
	FRAME_UNINIT = 1u << 0,
};

struct frame_config {
	uintptr_t offset;         /* frame at physical p is at virtual offset + p */
	uint64_t reserve_below;   /* frames below this address are never handed out (the first MiB) */
	bool poison_on_free;      /* debug: fill freed blocks with FRAME_POISON_BYTE */
};

#define FRAME_POISON_BYTE 0x6b

struct frame_stats {
	uint64_t managed_frames;                    /* frames the allocator owns, free or not */
	uint64_t free_frames;                       /* including cached_frames */
	uint64_t free_blocks[FRAME_MAX_ORDER + 1];  /* free blocks per order; [0] includes cached_frames */
	uint64_t cached_frames;                     /* free order-0 frames waiting in the cache, unmerged */
	uint64_t metadata_bytes;
	uint64_t metadata_phys;                     /* where the metadata lies */
};

/* The order-0 cache: frees push, allocs pop; a batch moves to or from the buddy lists when it
 * is full or empty. */
#define FRAME_CACHE_SIZE  64
#define FRAME_CACHE_BATCH 32

struct frame_chunk;  /* the metadata of one 1 GiB chunk of physical memory (mm/frame.c) */

/* Chunk numbers [next, end): whole free 1 GiB chunks nobody has touched yet. */
struct frame_chunk_run {
	uint64_t next;
	uint64_t end;
};

/* Internal state; callers only allocate it (statically, or on the host stack) and pass it in. */
struct frame_allocator {
	/* What the order-0 fast paths read, first. */
	size_t cache_count;
	size_t fast_free_limit;  /* frees take the fast path only below this count: FRAME_CACHE_SIZE,
	                          * or 0 with poison_on_free (every free must poison) */
	/* Slots [0, cache_count) are the cache.  Every slot, in use or not, pairs a frame with its
	 * own state byte (or holds a pair that matches no frame), so the slot just above the top
	 * can take back the frame it last handed out without a lookup (mm/frame.c). */
	uint64_t cache_pa[FRAME_CACHE_SIZE];
	uint8_t *cache_state[FRAME_CACHE_SIZE];

	struct frame_chunk *chunks;   /* chunks[c] describes physical [c GiB, (c + 1) GiB) */
	uint64_t chunk_count;
	uintptr_t offset;
	bool poison_on_free;

	uint64_t free_head[FRAME_MAX_ORDER + 1];   /* first block of each free list (physical) */
	uint64_t free_count[FRAME_MAX_ORDER + 1];  /* blocks on each free list */
	/* Free 1 GiB chunks kept off the lists, so that frame_init writes nothing into them; one
	 * joins list FRAME_MAX_ORDER when no other block will do.  One run per usable range at most. */
	struct frame_chunk_run untouched[MEMMAP_MAX];
	size_t untouched_runs;
	uint64_t untouched_chunks;
	uint64_t managed_frames;
	uint64_t metadata_phys;
	uint64_t metadata_bytes;
};

/*
 * Builds the allocator from `map`, a normalized memory map: sorted, non-overlapping, its usable
 * and boot-page-table ranges page-aligned (else FRAME_ERR_BAD_MAP; memmap_normalize aligns usable
 * ranges, and the boot path's page tables are whole frames).  Usable ranges at or above
 * cfg->reserve_below become free frames, except the frames its own metadata takes (carved from
 * the end of the highest usable range that can hold it); MEM_BOOT_PAGE_TABLES ranges at or
 * above reserve_below are counted as allocated order-0 frames (so the mapper may free those
 * tables later).  Never touches frames outside usable and boot-page-table ranges.  Runs in
 * O(ranges + GiB of memory), not O(frames).  On error `fa` is left empty: it allocates nothing.
 */
enum frame_status frame_init(struct frame_allocator *fa, const struct memmap *map,
                             const struct frame_config *cfg);

/*
 * Allocates a block of 2^order frames, zeroed unless `flags` has FRAME_UNINIT; its physical
 * address goes to *pa (left alone on error).  NO_MEMORY only if no free block of that order
 * exists, after merging the cached frames.
 */
enum frame_status frame_alloc(struct frame_allocator *fa, unsigned order, unsigned flags, uint64_t *pa);

/*
 * Frees a block handed out by frame_alloc with the same order (or a boot page table, order 0).
 * Any other address is refused with an error status and changes nothing.  FRAME_ERR_CORRUPT
 * means a damaged free list was met while merging: the block is freed, merged only up to the
 * damage, and the allocator should be treated as broken.
 */
enum frame_status frame_free(struct frame_allocator *fa, uint64_t pa, unsigned order);

/*
 * Returns the cached order-0 frames to the buddy lists, where they merge with their buddies, so
 * that free_blocks shows the real fragmentation (the monitor, tests).  FRAME_ERR_CORRUPT if a
 * damaged list is found on the way.
 */
enum frame_status frame_drain_cache(struct frame_allocator *fa);

/* Counts of the moment, O(FRAME_MAX_ORDER). */
void frame_stats(const struct frame_allocator *fa, struct frame_stats *out);

/*
 * Walks every free list, the cache and the state bytes and checks they agree; FRAME_OK if they
 * do, FRAME_ERR_CORRUPT if not.  O(frames): for tests and debugging.
 */
enum frame_status frame_check(const struct frame_allocator *fa);

/* A short human message; "unknown frame status" for values outside the enum. */
const char *frame_status_message(enum frame_status status);

#endif
