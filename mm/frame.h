/*
 * The physical frame allocator: a buddy allocator over the usable ranges of the memory map.
 *
 * Blocks are 2^order contiguous, naturally aligned 4 KiB frames, order 0 (4 KiB) up to
 * FRAME_MAX_ORDER (1 GiB, enough for a huge page).  alloc and free are O(log n) at worst;
 * freed blocks merge with their buddies.  Frames are reached through the direct map
 * (virtual = physical + offset), which on the host is a buffer of simulated memory.
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
	FRAME_ERR_NOT_ALLOCATED,  /* not a block this allocator handed out: foreign, interior, never allocated */
	FRAME_ERR_DOUBLE_FREE,    /* the block is already free */
	FRAME_ERR_WRONG_ORDER,    /* the block was handed out with another order */
	FRAME_ERR_NO_METADATA,    /* init: no usable range can hold the metadata */
	FRAME_ERR_NO_USABLE,      /* init: the map has no usable frame */
	FRAME_ERR_CORRUPT,        /* a free list failed its checks (frame_check, or found on alloc) */
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
	uint64_t free_frames;
	uint64_t free_blocks[FRAME_MAX_ORDER + 1];  /* free blocks per order */
	uint64_t metadata_bytes;
	uint64_t metadata_phys;                     /* where the metadata lies */
};

/* Internal state; callers only allocate it (statically, or on the host stack) and pass it in. */
struct frame_allocator {
	/* filled in by mm/frame.c */
	uint64_t todo;
};

/*
 * Builds the allocator from `map`: usable ranges above cfg->reserve_below become free frames,
 * except the frames its own metadata takes; MEM_BOOT_PAGE_TABLES ranges are counted as
 * allocated (so the mapper may free those tables later).  Never touches frames outside usable
 * and boot-page-table ranges.
 */
enum frame_status frame_init(struct frame_allocator *fa, const struct memmap *map,
                             const struct frame_config *cfg);

/* Allocates a block of 2^order frames; its physical address goes to *pa. */
enum frame_status frame_alloc(struct frame_allocator *fa, unsigned order, unsigned flags, uint64_t *pa);

/* Frees a block handed out by frame_alloc with the same order. */
enum frame_status frame_free(struct frame_allocator *fa, uint64_t pa, unsigned order);

void frame_stats(const struct frame_allocator *fa, struct frame_stats *out);

/* Walks every free list and the metadata and checks they agree; FRAME_OK if they do. */
enum frame_status frame_check(const struct frame_allocator *fa);

const char *frame_status_message(enum frame_status status);

#endif
