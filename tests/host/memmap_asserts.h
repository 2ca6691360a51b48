/* Criterion assertions about normalized memory maps, shared by the memory-map tests. */
#ifndef FERRITE_TESTS_MEMMAP_ASSERTS_H
#define FERRITE_TESTS_MEMMAP_ASSERTS_H

#include <criterion/criterion.h>
#include <inttypes.h>

#include "host/support/memmap_check.h"
#include "mm/memmap.h"

/* Asserts that `map` keeps every promise of a normalized map. */
static inline void check_map(const struct memmap *map)
{
	size_t index;
	const char *problem = memmap_check_normalized(map, &index);

	cr_assert_null(problem, "range %zu of %zu: %s", index, map->count, problem);
}

/* Asserts that `map` is normalized and holds exactly the `n` ranges of `want`. */
static inline void assert_ranges(const struct memmap *map, const struct mem_range *want, size_t n)
{
	check_map(map);
	cr_assert_eq(map->count, n, "count %zu, want %zu", map->count, n);
	for (size_t i = 0; i < n; i++) {
		const struct mem_range *r = &map->range[i];

		cr_assert(r->start == want[i].start && r->end == want[i].end && r->kind == want[i].kind,
		          "range %zu: [%#" PRIx64 ", %#" PRIx64 ") %s, want [%#" PRIx64 ", %#" PRIx64 ") %s", i,
		          r->start, r->end, mem_kind_name(r->kind), want[i].start, want[i].end,
		          mem_kind_name(want[i].kind));
	}
}

#endif
