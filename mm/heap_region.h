/*
 * The heap region: a range of virtual addresses [base, base + limit) that is backed by memory
 * only where the heap uses it.  Pages come and go through the seam `struct heap_pages`:
 *   kernel      map = a frame from the frame allocator + a mapping; unmap gives both back;
 *   host malloc map = mprotect a reserved range read/write; unmap = MADV_DONTNEED + PROT_NONE;
 *   host tests  the same over a reserved range, so a touch of an unmapped page faults.
 *
 * Two ways to use it, one per heap design:
 *   brk style (bump, list, fixed): the used part is [base, top); region_grow and region_shrink
 *     move top and map or unmap the pages past it.
 *   page runs (slab): region_alloc_pages / region_free_pages hand out and take back runs of
 *     whole pages anywhere in the region, mapping on allocation and unmapping on free.
 * A region is used one way or the other, never both.
 */
#ifndef FERRITE_MM_HEAP_REGION_H
#define FERRITE_MM_HEAP_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/page.h"

struct heap_pages {
	/* Backs [addr, addr + len) (page-aligned) with zeroed, writable memory; false if there is
	 * no memory left, in which case nothing stays mapped. */
	bool (*map)(void *ctx, uintptr_t addr, size_t len);
	/* Gives [addr, addr + len) back; the range was mapped by `map`. */
	void (*unmap)(void *ctx, uintptr_t addr, size_t len);
	void *ctx;
};

struct heap_region_config {
	uintptr_t base;      /* page-aligned */
	size_t limit;        /* bytes of virtual address space; a multiple of the page size */
	struct heap_pages pages;
};

struct heap_region {
	uintptr_t base;
	size_t limit;
	struct heap_pages pages;
	uintptr_t top;          /* brk style: [base, top) is in use */
	size_t mapped;          /* bytes mapped now */
	size_t peak;            /* most bytes ever mapped at once */
	/* page runs: filled in by mm/heap_region.c */
};

/* An empty region: nothing mapped, top = base.  False if base or limit is not page-aligned. */
bool region_init(struct heap_region *r, const struct heap_region_config *cfg);

/* Unmaps everything still mapped. */
void region_destroy(struct heap_region *r);

/* brk style: makes [base, new_top) usable, mapping the pages past the current top.  False
 * (nothing changed) if new_top is past the limit or the pages run out. */
bool region_grow(struct heap_region *r, uintptr_t new_top);

/* brk style: lowers the top to new_top, unmapping whole pages above it. */
void region_shrink(struct heap_region *r, uintptr_t new_top);

/* Page runs: a mapped run of `pages` pages, or 0 if the region or the page source is full. */
uintptr_t region_alloc_pages(struct heap_region *r, size_t pages);

/* Page runs: unmaps and takes back a run handed out by region_alloc_pages. */
void region_free_pages(struct heap_region *r, uintptr_t addr, size_t pages);

/* Bytes currently mapped, and the most ever mapped at once. */
size_t region_mapped_bytes(const struct heap_region *r);
size_t region_peak_bytes(const struct heap_region *r);

/* True if addr lies in [base, base + limit). */
bool region_contains(const struct heap_region *r, uintptr_t addr);

#endif
