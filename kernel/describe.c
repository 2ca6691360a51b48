#include "kernel/describe.h"

#include "kernel/console.h"
#include "lib/format.h"
#include "lib/units.h"
#include "mm/page.h"

const char *format_page_flags(char buf[PAGE_FLAGS_TEXT_SIZE], uint32_t flags)
{
	format_buf(buf, PAGE_FLAGS_TEXT_SIZE, "%s %s%s%s%s%s",
	           flags & PAGE_WRITE ? "RW" : "R",
	           flags & PAGE_NOEXEC ? "NX" : "X",
	           flags & PAGE_USER ? " U" : "",
	           flags & PAGE_GLOBAL ? " G" : "",
	           flags & PAGE_WRITETHROUGH ? " WT" : "",
	           flags & PAGE_NOCACHE ? " UC" : "");
	return buf;
}

const char *page_size_name(uint64_t size)
{
	switch (size) {
	case PAGE_SIZE:
		return "4K";
	case PAGE_SIZE_2M:
		return "2M";
	case PAGE_SIZE_1G:
		return "1G";
	}
	return "?";
}

void print_translation(struct addr_space *space, uint64_t virt)
{
	struct translation t = paging_translate(space, virt);
	char flags[PAGE_FLAGS_TEXT_SIZE];

	if (t.status == PAGING_OK)
		kprintf("0x%016lx -> 0x%016lx %s %s\n", virt, t.phys, page_size_name(t.page_size),
		        format_page_flags(flags, t.flags));
	else if (t.status == PAGING_ERR_NONCANONICAL)
		kprintf("0x%016lx -> non-canonical\n", virt);
	else
		kprintf("0x%016lx -> not mapped\n", virt);
}

void print_memmap(const struct memmap *map)
{
	char size[UNITS_BUF_SIZE];

	kprintf("  %-18s  %-18s  %10s  %s\n", "start", "end", "size", "kind");
	for (size_t i = 0; i < map->count; i++) {
		const struct mem_range *r = &map->range[i];
		kprintf("  0x%016lx  0x%016lx  %10s  %s\n", r->start, r->end, format_bytes(size, r->end - r->start),
		        mem_kind_name(r->kind));
	}
}

void print_frame_stats(const struct frame_allocator *fa)
{
	struct frame_stats st;
	char free[UNITS_BUF_SIZE], managed[UNITS_BUF_SIZE], meta[UNITS_BUF_SIZE];

	frame_stats(fa, &st);
	kprintf("  %lu of %lu frames free (%s of %s); metadata %s at 0x%lx\n", st.free_frames, st.managed_frames,
	        format_bytes(free, st.free_frames * PAGE_SIZE), format_bytes(managed, st.managed_frames * PAGE_SIZE),
	        format_bytes(meta, st.metadata_bytes), st.metadata_phys);
	kprintf("  free blocks per order:");
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
		if (st.free_blocks[order])
			kprintf(" %u:%lu", order, st.free_blocks[order]);
	kprintf("\n");
}
