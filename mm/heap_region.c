/*
 * The heap region (mm/heap_region.h).  brk style lives here in full; the page-run allocator is
 * added by the slab design's work.
 */
#include "mm/heap_region.h"

static void note_mapped(struct heap_region *r, size_t bytes)
{
	r->mapped += bytes;
	if (r->mapped > r->peak)
		r->peak = r->mapped;
}

bool region_init(struct heap_region *r, const struct heap_region_config *cfg)
{
	if (!is_aligned(cfg->base | cfg->limit, PAGE_SIZE) || cfg->limit == 0 || cfg->base + cfg->limit < cfg->base)
		return false;
	*r = (struct heap_region){
		.base = cfg->base,
		.limit = cfg->limit,
		.pages = cfg->pages,
		.top = cfg->base,
	};
	return true;
}

void region_destroy(struct heap_region *r)
{
	region_shrink(r, r->base);
}

/* The first page boundary at or above addr. */
static uintptr_t page_end(uintptr_t addr)
{
	return (uintptr_t)align_up(addr, PAGE_SIZE);
}

bool region_grow(struct heap_region *r, uintptr_t new_top)
{
	uintptr_t mapped_end = page_end(r->top), wanted_end;

	if (new_top < r->top || new_top - r->base > r->limit)
		return false;
	wanted_end = page_end(new_top);
	if (wanted_end > mapped_end) {
		if (!r->pages.map(r->pages.ctx, mapped_end, wanted_end - mapped_end))
			return false;
		note_mapped(r, wanted_end - mapped_end);
	}
	r->top = new_top;
	return true;
}

void region_shrink(struct heap_region *r, uintptr_t new_top)
{
	uintptr_t mapped_end = page_end(r->top), kept_end;

	if (new_top >= r->top || new_top < r->base)
		return;
	kept_end = page_end(new_top);
	if (mapped_end > kept_end) {
		r->pages.unmap(r->pages.ctx, kept_end, mapped_end - kept_end);
		r->mapped -= mapped_end - kept_end;
	}
	r->top = new_top;
}

size_t region_mapped_bytes(const struct heap_region *r)
{
	return r->mapped;
}

size_t region_peak_bytes(const struct heap_region *r)
{
	return r->peak;
}

bool region_contains(const struct heap_region *r, uintptr_t addr)
{
	return addr - r->base < r->limit;
}
