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
 *
 * Page runs, in short (docs/heap.md, "The heap region", has the long form): the region's first
 * pages hold a descriptor for every page of the rest, the data area.  Descriptors are mapped
 * only as far as the data area has been used: data pages [0, used_pages) hold runs in use and
 * free runs, and everything above is one implicit free run that costs nothing.  Free runs are
 * unmapped, so their bookkeeping lives in the descriptors of their first and last pages, and
 * they wait in TLSF-style bins of similar lengths.  Allocation is a good fit found with two bit
 * scans, else a cut from the tail; free merges with both neighbours.  Every call is O(1) apart
 * from the seam's work and one descriptor write per page of the run.
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

/*
 * Page runs: the descriptor of one data page.  Only the first and the last page of a run say
 * anything about the run; the pages between are all zero but for the owner word of a run in use.
 */
struct region_page {
	union {
		uintptr_t owner;        /* a page of a run in use: what region_set_owner put there */
		struct {
			uint32_t next;      /* the first page of a free run: the neighbours in its bin */
			uint32_t prev;
		} bin;
	};
	uint32_t run;               /* first and last page of a run: its length in pages; else 0 */
	uint32_t state;             /* first and last page of a run: RUN_USED or RUN_FREE; else 0 */
};

enum { RUN_NONE, RUN_USED, RUN_FREE };

/* The bins of free runs, as in TLSF: a first level per power of two of the length and eight
 * second-level bins inside it, so a run in a bin is at most 1/8 longer than its bin's floor.
 * Lengths below 8 pages have a bin each (first level 0). */
#define REGION_SL_SHIFT 3
#define REGION_SL_COUNT (1u << REGION_SL_SHIFT)
#define REGION_FL_COUNT 30u                    /* enough for any length below 2^32 pages */
#define REGION_RUN_PAGES_MAX (UINT32_MAX - 1)  /* data pages a region can have for page runs */

struct heap_region {
	uintptr_t base;
	size_t limit;
	struct heap_pages pages;
	uintptr_t top;          /* brk style: [base, top) is in use */
	size_t mapped;          /* bytes mapped now */
	size_t peak;            /* most bytes ever mapped at once */

	/* Page runs.  Data page i is at data_base + i * PAGE_SIZE; its descriptor is page[i]. */
	struct region_page *page;   /* at base: the descriptor pages */
	uintptr_t data_base;        /* the first page past the descriptors */
	uint32_t data_pages;        /* pages in the data area */
	uint32_t used_pages;        /* [0, used_pages) holds runs; above is never used, or given back */
	uint32_t desc_pages;        /* descriptor pages mapped: exactly those for [0, used_pages) */
	uint32_t fl_bits;           /* bit f set: some bin of first level f holds a run */
	uint8_t sl_bits[REGION_FL_COUNT];           /* bit s set: bin[f][s] holds a run */
	uint32_t bin[REGION_FL_COUNT][REGION_SL_COUNT];  /* first run of each bin, while its bit is set */
};

/* An empty region: nothing mapped, top = base.  False if base or limit is not page-aligned.
 * For page runs, the descriptors take limit / 4096 / 256 pages (rounded up) at the start; a
 * region above 16 TiB lends page runs only its first 16 TiB. */
bool region_init(struct heap_region *r, const struct heap_region_config *cfg);

/* Unmaps everything still mapped: the brk area, or every run in use and the descriptors. */
void region_destroy(struct heap_region *r);

/* brk style: makes [base, new_top) usable, mapping the pages past the current top.  False
 * (nothing changed) if new_top is past the limit or the pages run out. */
bool region_grow(struct heap_region *r, uintptr_t new_top);

/* brk style: lowers the top to new_top, unmapping whole pages above it. */
void region_shrink(struct heap_region *r, uintptr_t new_top);

/* Page runs: a mapped, zeroed run of `pages` pages whose pages all have owner 0, or 0 if the
 * region has no such run or the page source is out of memory (then nothing changed). */
uintptr_t region_alloc_pages(struct heap_region *r, size_t pages);

/* Page runs: unmaps and takes back a run handed out by region_alloc_pages, whole: `addr` and
 * `pages` exactly as handed out.  Anything else is a broken invariant of the caller: panic. */
void region_free_pages(struct heap_region *r, uintptr_t addr, size_t pages);

/* Page runs: gives every page of the run in use that starts at `addr` the owner word `owner`
 * (panic if no run in use starts there).  Costs one store per page. */
void region_set_owner(struct heap_region *r, uintptr_t addr, uintptr_t owner);

/* Page runs: the owner word of the page holding addr, or 0 if that page is not in a run in use
 * (outside the data area, in a free run, above the used part).  O(1), never faults. */
static inline uintptr_t region_page_owner(const struct heap_region *r, uintptr_t addr)
{
	size_t i = (addr - r->data_base) / PAGE_SIZE;   /* wraps far above used_pages below data_base */

	if (i >= r->used_pages)
		return 0;
	return r->page[i].state == RUN_FREE ? 0 : r->page[i].owner;
}

/* Page runs: data page number <-> address. */
static inline uint32_t region_page_index(const struct heap_region *r, uintptr_t addr)
{
	return (uint32_t)((addr - r->data_base) / PAGE_SIZE);
}

static inline uintptr_t region_page_address(const struct heap_region *r, uint32_t index)
{
	return r->data_base + (uintptr_t)index * PAGE_SIZE;
}

/* Page runs, for walks: the first run in use at or above `from`, which is data_base or the end
 * of a run; 0 if there is none.  Its length in pages goes to *pages. */
uintptr_t region_next_run(const struct heap_region *r, uintptr_t from, size_t *pages);

/* Page runs: checks every descriptor, bin and counter.  NULL if all is consistent, else what is
 * wrong, with the address of the page concerned in *where.  Cost: O(used pages). */
const char *region_check(const struct heap_region *r, uintptr_t *where);

/* Bytes currently mapped, and the most ever mapped at once. */
size_t region_mapped_bytes(const struct heap_region *r);
size_t region_peak_bytes(const struct heap_region *r);

/* True if addr lies in [base, base + limit). */
bool region_contains(const struct heap_region *r, uintptr_t addr);

#endif
