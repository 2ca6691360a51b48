/*
 * Frames for the boot-time page tables, before the frame allocator exists: a bump pointer through
 * one usable range below 4 GiB (which the early identity map reaches).  Afterwards the range it
 * used is marked MEM_BOOT_PAGE_TABLES in boot_info, and the frame allocator takes those frames
 * over as allocated.
 */
#ifndef FERRITE_BOOT_EARLY_FRAMES_H
#define FERRITE_BOOT_EARLY_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/memmap.h"
#include "mm/paging.h"

struct early_frames {
	uint64_t start;      /* [start, next) handed out so far */
	uint64_t next;
	uint64_t end;
	uint64_t free_list;  /* frames given back, linked through their first word; 0 = none */
};

/* Picks the largest usable range in [low, high).  False if there is none. */
bool early_frames_init(struct early_frames *ef, const struct memmap *map, uint64_t low, uint64_t high);

/* The mapper's frame source, backed by `ef`. */
struct table_frames early_frames_source(struct early_frames *ef);

#endif
