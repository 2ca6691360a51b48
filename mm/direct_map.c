#include "mm/direct_map.h"

#include <stdbool.h>

#include "lib/compiler.h"

static bool is_ram(enum mem_kind kind)
{
	return kind != MEM_RESERVED && kind != MEM_BAD;
}

/* Adds [start, end) to the sorted list `out`, merging with the last range when they touch. */
static size_t append_merged(struct mem_range *out, size_t n, size_t max, uint64_t start, uint64_t end)
{
	if (n > 0 && start <= out[n - 1].end) {
		if (end > out[n - 1].end)
			out[n - 1].end = end;
		return n;
	}
	if (n == max)
		return max + 1;
	out[n] = (struct mem_range){ start, end, MEM_USABLE };
	return n + 1;
}

size_t direct_map_ranges(const struct memmap *map, uint64_t limit, struct mem_range *out, size_t max)
{
	size_t n = append_merged(out, 0, max, 0, align_up(MIB, DIRECT_MAP_GRANULE));

	for (size_t i = 0; i < map->count && n <= max; i++) {
		const struct mem_range *r = &map->range[i];
		if (!is_ram(r->kind) || r->start >= limit)
			continue;
		uint64_t end = r->end < limit ? r->end : limit;
		n = append_merged(out, n, max, align_down(r->start, DIRECT_MAP_GRANULE),
		                  align_up(end, DIRECT_MAP_GRANULE));
	}
	return n;
}

enum paging_status direct_map_build(struct addr_space *space, const struct memmap *map, uint64_t offset,
                                    uint64_t limit, uint64_t *bytes)
{
	/* At most one range per memory-map range, plus the first MiB: this never overflows. */
	struct mem_range ranges[MEMMAP_MAX + 1];
	size_t n = direct_map_ranges(map, limit, ranges, ARRAY_SIZE(ranges));

	*bytes = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t length = ranges[i].end - ranges[i].start;
		enum paging_status s = paging_map_range(space, offset + ranges[i].start, ranges[i].start,
		                                        length, PAGE_WRITE | PAGE_GLOBAL | PAGE_NOEXEC);
		if (s != PAGING_OK)
			return s;
		*bytes += length;
	}
	return PAGING_OK;
}
