/* The normalized-map integrity check; see memmap_check.h. */
#include "host/support/memmap_check.h"
#include "mm/page.h"

/* What is wrong with one range on its own, or NULL. */
static const char *range_problem(const struct mem_range *r)
{
	if ((unsigned)r->kind >= MEM_KIND_COUNT)
		return "kind is not an enum mem_kind";
	if (r->start >= r->end)
		return "range is empty or reversed";
	if (r->end > PHYS_ADDR_LIMIT)
		return "range ends above PHYS_ADDR_LIMIT";
	if (r->kind == MEM_USABLE && !(is_aligned(r->start, PAGE_SIZE) && is_aligned(r->end, PAGE_SIZE)))
		return "usable range is not page-aligned";
	return NULL;
}

/* What is wrong between a range and the one before it, or NULL. */
static const char *pair_problem(const struct mem_range *prev, const struct mem_range *r)
{
	if (prev->end > r->start)
		return "range overlaps or precedes the one before it";
	if (prev->end == r->start && prev->kind == r->kind)
		return "range touches the one before it and has its kind: not merged";
	return NULL;
}

const char *memmap_check_normalized(const struct memmap *map, size_t *index)
{
	const char *problem = NULL;

	*index = 0;
	if (map->count > MEMMAP_MAX)
		return "count exceeds MEMMAP_MAX";
	for (size_t i = 0; i < map->count && !problem; i++) {
		*index = i;
		problem = range_problem(&map->range[i]);
		if (!problem && i > 0)
			problem = pair_problem(&map->range[i - 1], &map->range[i]);
	}
	return problem;
}
