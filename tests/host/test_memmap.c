/*
 * memmap_normalize and memmap_overlay against hostile firmware maps and against a byte-granular
 * reference model.  Every map produced is passed through memmap_check_normalized().
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "lib/rng.h"
#include "lib/compiler.h"
#include "mm/memmap.h"
#include "mm/page.h"
#include "tests/host/memmap_asserts.h"

#define E(base, length, kind) { (base), (length), (kind) }
#define R(start, end, kind)   { (start), (end), (kind) }

/* Normalizes and expects success with exactly `want`. */
#define NORMALIZE_OK(in, notes, ...) do {                                                     \
		static const struct mem_range want_[] = { __VA_ARGS__ };                              \
		struct memmap map_;                                                                   \
		cr_assert_eq(memmap_normalize((in), ARRAY_SIZE(in), &map_, (notes)), MEMMAP_OK);       \
		assert_ranges(&map_, want_, ARRAY_SIZE(want_));                                       \
	} while (0)

/* Normalizes and expects `status` with an empty map, even if the map held ranges before. */
static void normalize_fails(const struct memmap_entry *in, size_t n, enum memmap_status status)
{
	struct memmap map = { .count = 7 };
	enum memmap_status got_status = memmap_normalize(in, n, &map, NULL);

	cr_assert_eq(got_status, status, "status \"%s\", want \"%s\"", memmap_status_message(got_status),
	             memmap_status_message(status));
	cr_assert_eq(map.count, 0);
}

/* ---- overlaps ------------------------------------------------------------------------------ */

Test(memmap, overlap_reserved_inside_usable_splits_it)
{
	const struct memmap_entry in[] = {
		E(0, 0x10000, MEM_USABLE),
		E(0x4000, 0x2000, MEM_RESERVED),
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes,
	             R(0, 0x4000, MEM_USABLE), R(0x4000, 0x6000, MEM_RESERVED), R(0x6000, 0x10000, MEM_USABLE));
	cr_assert_eq(notes.overlaps, 1);
}

Test(memmap, overlap_usable_listed_after_reserved_still_loses)
{
	const struct memmap_entry in[] = {
		E(0x4000, 0x2000, MEM_RESERVED),
		E(0, 0x10000, MEM_USABLE),
	};

	NORMALIZE_OK(in, NULL,
	             R(0, 0x4000, MEM_USABLE), R(0x4000, 0x6000, MEM_RESERVED), R(0x6000, 0x10000, MEM_USABLE));
}

/* Every pair of kinds, in both orders: the larger enum value owns the shared middle. */
Test(memmap, overlap_every_pair_of_kinds_both_orders)
{
	for (unsigned lo = 0; lo < MEM_KIND_COUNT; lo++) {
		for (unsigned hi = lo + 1; hi < MEM_KIND_COUNT; hi++) {
			const struct memmap_entry outer = E(0, 0x3000, (enum mem_kind)lo);
			const struct memmap_entry inner = E(0x1000, 0x1000, (enum mem_kind)hi);
			const struct memmap_entry orders[2][2] = { { outer, inner }, { inner, outer } };
			const struct mem_range want[] = {
				R(0, 0x1000, lo), R(0x1000, 0x2000, hi), R(0x2000, 0x3000, lo),
			};

			for (int o = 0; o < 2; o++) {
				struct memmap map;
				struct memmap_notes notes;

				cr_assert_eq(memmap_normalize(orders[o], 2, &map, &notes), MEMMAP_OK);
				assert_ranges(&map, want, ARRAY_SIZE(want));
				cr_assert_eq(notes.overlaps, 1, "%s over %s", mem_kind_name(hi), mem_kind_name(lo));
			}
		}
	}
}

Test(memmap, overlap_partial_at_both_ends)
{
	const struct memmap_entry in[] = {
		E(0x2000, 0x4000, MEM_ACPI_RECLAIMABLE),  /* [0x2000, 0x6000) */
		E(0x5000, 0x3000, MEM_USABLE),            /* [0x5000, 0x8000) */
		E(0x0000, 0x3000, MEM_ACPI_NVS),          /* [0, 0x3000) */
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes,
	             R(0, 0x3000, MEM_ACPI_NVS), R(0x3000, 0x6000, MEM_ACPI_RECLAIMABLE),
	             R(0x6000, 0x8000, MEM_USABLE));
	cr_assert_eq(notes.overlaps, 2);
}

Test(memmap, unsorted_entries_come_out_sorted)
{
	const struct memmap_entry in[] = {
		E(0x100000000, 0x40000000, MEM_USABLE),
		E(0xf0000, 0x10000, MEM_RESERVED),
		E(0x100000, 0x7ff00000, MEM_USABLE),
		E(0, 0x9f000, MEM_USABLE),
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes,
	             R(0, 0x9f000, MEM_USABLE), R(0xf0000, 0x100000, MEM_RESERVED),
	             R(0x100000, 0x80000000, MEM_USABLE), R(0x100000000, 0x140000000, MEM_USABLE));
	cr_assert_eq(notes.overlaps, 0);
}

Test(memmap, duplicates_become_one_range)
{
	const struct memmap_entry in[] = {
		E(0x1000, 0x3000, MEM_RESERVED),
		E(0x1000, 0x3000, MEM_RESERVED),
		E(0x1000, 0x3000, MEM_RESERVED),
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes, R(0x1000, 0x4000, MEM_RESERVED));
	cr_assert_eq(notes.overlaps, 3, "three entries make three overlapping pairs");
}

Test(memmap, adjacent_ranges_merge_only_when_of_one_kind)
{
	const struct memmap_entry in[] = {
		E(0x0000, 0x1000, MEM_RESERVED),
		E(0x1000, 0x1000, MEM_RESERVED),
		E(0x2000, 0x1000, MEM_ACPI_NVS),
		E(0x3000, 0x1000, MEM_RESERVED),
		E(0x5000, 0x1000, MEM_RESERVED),  /* a hole before it: not merged */
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes,
	             R(0, 0x2000, MEM_RESERVED), R(0x2000, 0x3000, MEM_ACPI_NVS),
	             R(0x3000, 0x4000, MEM_RESERVED), R(0x5000, 0x6000, MEM_RESERVED));
	cr_assert_eq(notes.overlaps, 0, "touching is not overlapping");
}

/* ---- zero lengths -------------------------------------------------------------------------- */

Test(memmap, zero_length_entries_are_dropped_and_counted)
{
	const struct memmap_entry in[] = {
		E(0x1000, 0, MEM_BAD),               /* inside the usable range: must not split it */
		E(0, 0x4000, MEM_USABLE),
		E(0x8000, 0, MEM_RESERVED),          /* alone in a hole: must not appear */
		E(PHYS_ADDR_LIMIT, 0, MEM_RESERVED), /* zero-length first, not clipped */
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes, R(0, 0x4000, MEM_USABLE));
	cr_assert_eq(notes.zero_length, 3);
	cr_assert_eq(notes.clipped, 0);
	cr_assert_eq(notes.overlaps, 0);
}

Test(memmap, only_zero_length_entries_is_empty)
{
	const struct memmap_entry in[] = { E(0, 0, MEM_USABLE), E(0x1000, 0, MEM_RESERVED) };

	normalize_fails(in, ARRAY_SIZE(in), MEMMAP_ERR_EMPTY);
}

Test(memmap, no_entries_is_empty)
{
	normalize_fails(NULL, 0, MEMMAP_ERR_EMPTY);
}

/* ---- page alignment of usable memory ------------------------------------------------------- */

Test(memmap, unaligned_usable_range_shrinks_inward)
{
	const struct memmap_entry in[] = { E(0x1234, 0x5678 - 0x1234, MEM_USABLE) };
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes, R(0x2000, 0x5000, MEM_USABLE));
	cr_assert_eq(notes.unaligned_bytes, (0x2000 - 0x1234) + (0x5678 - 0x5000));
}

Test(memmap, unaligned_reserved_range_is_kept_exactly)
{
	const struct memmap_entry in[] = {
		E(0, 0x9fc00, MEM_USABLE),
		E(0x9fc00, 0x400, MEM_RESERVED),
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes, R(0, 0x9f000, MEM_USABLE), R(0x9fc00, 0xa0000, MEM_RESERVED));
	cr_assert_eq(notes.unaligned_bytes, 0xc00);
}

Test(memmap, usable_sliver_without_a_whole_page_vanishes)
{
	const struct memmap_entry in[] = {
		E(0x1100, 0xe00, MEM_USABLE),    /* inside one page */
		E(0x5800, 0x1000, MEM_USABLE),   /* crosses a page boundary, holds no whole page */
		E(0x9000, 0x1000, MEM_RESERVED),
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes, R(0x9000, 0xa000, MEM_RESERVED));
	cr_assert_eq(notes.unaligned_bytes, 0xe00 + 0x1000);
}

Test(memmap, only_usable_slivers_is_empty)
{
	const struct memmap_entry in[] = { E(0x10, 0x100, MEM_USABLE), E(0x3001, 0xffe, MEM_USABLE) };

	normalize_fails(in, ARRAY_SIZE(in), MEMMAP_ERR_EMPTY);
}

/* Pieces of usable memory are merged first and aligned after, so halves of a page add up. */
Test(memmap, usable_pieces_merge_before_alignment)
{
	const struct memmap_entry halves[] = { E(0x800, 0x800, MEM_USABLE), E(0, 0x800, MEM_USABLE) };
	const struct memmap_entry straddling[] = { E(0x800, 0x800, MEM_USABLE), E(0x1000, 0x800, MEM_USABLE) };
	struct memmap_notes notes;
	struct memmap map;

	NORMALIZE_OK(halves, &notes, R(0, 0x1000, MEM_USABLE));
	cr_assert_eq(notes.unaligned_bytes, 0);
	cr_assert_eq(memmap_normalize(straddling, 2, &map, &notes), MEMMAP_ERR_EMPTY);
}

Test(memmap, unaligned_kernel_inside_usable_memory)
{
	const struct memmap_entry in[] = {
		E(0, 0x100000, MEM_USABLE),
		E(0x10800, 0x20400 - 0x10800, MEM_KERNEL),
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes,
	             R(0, 0x10000, MEM_USABLE), R(0x10800, 0x20400, MEM_KERNEL), R(0x21000, 0x100000, MEM_USABLE));
	cr_assert_eq(notes.unaligned_bytes, 0x800 + 0xc00);
	cr_assert_eq(notes.overlaps, 1);
}

/* ---- the top of the physical address space ------------------------------------------------- */

Test(memmap, length_past_2_pow_64_is_clipped_at_the_limit)
{
	const struct memmap_entry in[] = { E(0x1000, UINT64_MAX, MEM_USABLE) };
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes, R(0x1000, PHYS_ADDR_LIMIT, MEM_USABLE));
	cr_assert_eq(notes.clipped, 1);
}

Test(memmap, base_plus_length_wrapping_to_a_small_end_is_clipped)
{
	/* base + length = 2^64 + 0x2000 would wrap to 0x2000 with a naive end. */
	const struct memmap_entry in[] = {
		E(0x1000, 0x1000, MEM_USABLE),
		E(0x80000000, UINT64_MAX - 0x80000000 + 1 + 0x2000, MEM_RESERVED),
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes, R(0x1000, 0x2000, MEM_USABLE), R(0x80000000, PHYS_ADDR_LIMIT, MEM_RESERVED));
	cr_assert_eq(notes.clipped, 1);
	cr_assert_eq(notes.overlaps, 0);
}

Test(memmap, entries_at_or_above_the_limit_are_dropped_as_clipped)
{
	const struct memmap_entry in[] = {
		E(PHYS_ADDR_LIMIT, 0x1000, MEM_USABLE),
		E(0x0000800000000000, 0x1000, MEM_RESERVED),  /* below: kept */
		E(UINT64_MAX - 0xfff, 0x2000, MEM_RESERVED),  /* wraps past 2^64 from near the top */
		E(UINT64_MAX, UINT64_MAX, MEM_BAD),
	};
	struct memmap_notes notes;

	NORMALIZE_OK(in, &notes, R(0x0000800000000000, 0x0000800000001000, MEM_RESERVED));
	cr_assert_eq(notes.clipped, 3);
}

Test(memmap, only_entries_above_the_limit_is_empty)
{
	const struct memmap_entry in[] = {
		E(PHYS_ADDR_LIMIT, 0x100000, MEM_USABLE),
		E(UINT64_MAX, 1, MEM_RESERVED),
	};

	normalize_fails(in, ARRAY_SIZE(in), MEMMAP_ERR_EMPTY);
}

Test(memmap, entry_ending_exactly_at_the_limit_is_not_clipped)
{
	const struct memmap_entry exact[] = { E(PHYS_ADDR_LIMIT - 0x1000, 0x1000, MEM_USABLE) };
	const struct memmap_entry one_over[] = { E(PHYS_ADDR_LIMIT - 0x1000, 0x1001, MEM_RESERVED) };
	struct memmap_notes notes;

	NORMALIZE_OK(exact, &notes, R(PHYS_ADDR_LIMIT - 0x1000, PHYS_ADDR_LIMIT, MEM_USABLE));
	cr_assert_eq(notes.clipped, 0);
	NORMALIZE_OK(one_over, &notes, R(PHYS_ADDR_LIMIT - 0x1000, PHYS_ADDR_LIMIT, MEM_RESERVED));
	cr_assert_eq(notes.clipped, 1);
}

/* ---- capacity ------------------------------------------------------------------------------ */

/* n pages, alternately usable and reserved: n ranges after normalization. */
static void alternating_pages(struct memmap_entry *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		in[i] = (struct memmap_entry)E(i * PAGE_SIZE, PAGE_SIZE, i % 2 ? MEM_RESERVED : MEM_USABLE);
}

Test(memmap, exactly_memmap_max_ranges_fit)
{
	struct memmap_entry in[MEMMAP_MAX];
	struct memmap map;

	alternating_pages(in, MEMMAP_MAX);
	cr_assert_eq(memmap_normalize(in, MEMMAP_MAX, &map, NULL), MEMMAP_OK);
	check_map(&map);
	cr_assert_eq(map.count, MEMMAP_MAX);
	cr_assert_eq(map.range[MEMMAP_MAX - 1].end, MEMMAP_MAX * PAGE_SIZE);
}

Test(memmap, one_range_more_than_memmap_max_is_refused_not_truncated)
{
	struct memmap_entry in[MEMMAP_MAX + 1];

	alternating_pages(in, MEMMAP_MAX + 1);
	normalize_fails(in, MEMMAP_MAX + 1, MEMMAP_ERR_TOO_MANY);
}

Test(memmap, input_count_is_not_limited_only_output)
{
	struct memmap_entry in[4 * MEMMAP_MAX];
	struct memmap map;

	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		in[i] = (struct memmap_entry)E((ARRAY_SIZE(in) - 1 - i) * PAGE_SIZE, PAGE_SIZE, MEM_USABLE);
	cr_assert_eq(memmap_normalize(in, ARRAY_SIZE(in), &map, NULL), MEMMAP_OK);
	cr_assert_eq(map.count, 1);
	cr_assert_eq(map.range[0].end, ARRAY_SIZE(in) * PAGE_SIZE);
}

/* Usable slivers that vanish never take an output slot, even transiently. */
Test(memmap, vanishing_slivers_do_not_count_against_capacity)
{
	struct memmap_entry in[2 * MEMMAP_MAX];
	struct memmap_notes notes;
	struct memmap map;

	for (size_t i = 0; i < MEMMAP_MAX; i++) {
		in[2 * i] = (struct memmap_entry)E(2 * i * PAGE_SIZE, PAGE_SIZE, MEM_RESERVED);
		in[2 * i + 1] = (struct memmap_entry)E((2 * i + 1) * PAGE_SIZE, 0x100, MEM_USABLE);
	}
	cr_assert_eq(memmap_normalize(in, ARRAY_SIZE(in), &map, &notes), MEMMAP_OK);
	check_map(&map);
	cr_assert_eq(map.count, MEMMAP_MAX);
	cr_assert_eq(notes.unaligned_bytes, MEMMAP_MAX * 0x100);
}

/* ---- other hostile input ------------------------------------------------------------------- */

Test(memmap, bad_kind_is_refused_even_among_good_entries)
{
	const enum mem_kind bad[] = { MEM_KIND_COUNT, (enum mem_kind)1000, (enum mem_kind)-1 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const struct memmap_entry in[] = { E(0, 0x10000, MEM_USABLE), E(0x20000, 0, bad[i]) };

		normalize_fails(in, ARRAY_SIZE(in), MEMMAP_ERR_BAD_KIND);
	}
}

Test(memmap, only_reserved_memory_is_a_valid_map)
{
	const struct memmap_entry in[] = {
		E(0xf0000, 0x10000, MEM_RESERVED),
		E(0xfffc0000, 0x40000, MEM_RESERVED),
	};
	struct memmap map;

	cr_assert_eq(memmap_normalize(in, ARRAY_SIZE(in), &map, NULL), MEMMAP_OK);
	check_map(&map);
	cr_assert_eq(map.count, 2);
	cr_assert_eq(memmap_total(&map, MEM_USABLE), 0);
	cr_assert_eq(memmap_total(&map, MEM_RESERVED), 0x50000);
}

Test(memmap, notes_are_zero_for_a_clean_map)
{
	const struct memmap_entry in[] = { E(0, 0x9f000, MEM_USABLE), E(0x100000, 0x100000, MEM_USABLE) };
	struct memmap_notes notes = { 9, 9, 9, 9 };

	NORMALIZE_OK(in, &notes, R(0, 0x9f000, MEM_USABLE), R(0x100000, 0x200000, MEM_USABLE));
	cr_assert(notes.zero_length == 0 && notes.clipped == 0 && notes.overlaps == 0 && notes.unaligned_bytes == 0);
}

/* ---- find, total, names -------------------------------------------------------------------- */

Test(memmap, find_at_every_boundary)
{
	const struct memmap_entry in[] = {
		E(0x1000, 0x1000, MEM_USABLE), E(0x2000, 0x800, MEM_RESERVED), E(0x4000, 0x1000, MEM_BAD),
	};
	struct memmap map;

	cr_assert_eq(memmap_normalize(in, ARRAY_SIZE(in), &map, NULL), MEMMAP_OK);
	cr_assert_null(memmap_find(&map, 0));
	cr_assert_null(memmap_find(&map, 0xfff));
	cr_assert_eq(memmap_find(&map, 0x1000), &map.range[0]);
	cr_assert_eq(memmap_find(&map, 0x1fff), &map.range[0]);
	cr_assert_eq(memmap_find(&map, 0x2000), &map.range[1]);
	cr_assert_eq(memmap_find(&map, 0x27ff), &map.range[1]);
	cr_assert_null(memmap_find(&map, 0x2800));
	cr_assert_null(memmap_find(&map, 0x3fff));
	cr_assert_eq(memmap_find(&map, 0x4000), &map.range[2]);
	cr_assert_null(memmap_find(&map, 0x5000));
	cr_assert_null(memmap_find(&map, UINT64_MAX));
	map.count = 0;
	cr_assert_null(memmap_find(&map, 0x1000));
}

Test(memmap, totals_per_kind)
{
	const struct memmap_entry in[] = {
		E(0, 0x3000, MEM_USABLE), E(0x1000, 0x1000, MEM_KERNEL), E(0x10000, 0x5000, MEM_USABLE),
	};
	struct memmap map;

	cr_assert_eq(memmap_normalize(in, ARRAY_SIZE(in), &map, NULL), MEMMAP_OK);
	cr_assert_eq(memmap_total(&map, MEM_USABLE), 0x7000);
	cr_assert_eq(memmap_total(&map, MEM_KERNEL), 0x1000);
	cr_assert_eq(memmap_total(&map, MEM_BAD), 0);
}

Test(memmap, every_kind_and_status_has_its_own_name)
{
	const enum memmap_status statuses[] = {
		MEMMAP_OK, MEMMAP_ERR_EMPTY, MEMMAP_ERR_TOO_MANY, MEMMAP_ERR_BAD_KIND, MEMMAP_ERR_BAD_RANGE,
	};

	for (unsigned a = 0; a < MEM_KIND_COUNT; a++) {
		cr_assert_str_neq(mem_kind_name(a), "?");
		for (unsigned b = 0; b < a; b++)
			cr_assert_str_neq(mem_kind_name(a), mem_kind_name(b));
	}
	cr_assert_str_eq(mem_kind_name(MEM_KIND_COUNT), "?");
	cr_assert_str_eq(mem_kind_name((enum mem_kind)-1), "?");
	for (size_t a = 0; a < ARRAY_SIZE(statuses); a++)
		for (size_t b = 0; b < a; b++)
			cr_assert_str_neq(memmap_status_message(statuses[a]), memmap_status_message(statuses[b]));
}

/* ---- memmap_overlay ------------------------------------------------------------------------ */

static struct memmap two_gigabytes_with_a_hole(void)
{
	const struct memmap_entry in[] = {
		E(0, 0x9f000, MEM_USABLE),
		E(0x100000, 0x7ff00000, MEM_USABLE),
	};
	struct memmap map;

	cr_assert_eq(memmap_normalize(in, ARRAY_SIZE(in), &map, NULL), MEMMAP_OK);
	return map;
}

Test(memmap, overlay_splits_a_usable_range)
{
	struct memmap map = two_gigabytes_with_a_hole();
	const struct mem_range want[] = {
		R(0, 0x9f000, MEM_USABLE), R(0x100000, 0x200000, MEM_USABLE),
		R(0x200000, 0x212345, MEM_KERNEL), R(0x213000, 0x80000000, MEM_USABLE),
	};

	cr_assert_eq(memmap_overlay(&map, 0x200000, 0x212345, MEM_KERNEL), MEMMAP_OK);
	assert_ranges(&map, want, ARRAY_SIZE(want));
}

Test(memmap, overlay_does_not_override_a_more_restrictive_kind)
{
	struct memmap map = two_gigabytes_with_a_hole();
	struct memmap before;
	const struct mem_range want[] = {
		R(0, 0x9f000, MEM_USABLE), R(0x100000, 0x200000, MEM_USABLE), R(0x200000, 0x300000, MEM_KERNEL),
		R(0x300000, 0x400000, MEM_BAD), R(0x400000, 0x500000, MEM_KERNEL), R(0x500000, 0x80000000, MEM_USABLE),
	};

	cr_assert_eq(memmap_overlay(&map, 0x300000, 0x400000, MEM_BAD), MEMMAP_OK);
	cr_assert_eq(memmap_overlay(&map, 0x200000, 0x500000, MEM_KERNEL), MEMMAP_OK);
	assert_ranges(&map, want, ARRAY_SIZE(want));
	before = map;
	cr_assert_eq(memmap_overlay(&map, 0x100000, 0x80000000, MEM_USABLE), MEMMAP_OK);
	assert_ranges(&map, before.range, before.count);  /* usable loses to every kind */
}

Test(memmap, overlay_fills_a_hole_and_merges_with_neighbours)
{
	struct memmap map = two_gigabytes_with_a_hole();
	const struct mem_range want[] = { R(0, 0x80000000, MEM_USABLE) };

	cr_assert_eq(memmap_overlay(&map, 0x9f000, 0x100000, MEM_USABLE), MEMMAP_OK);
	assert_ranges(&map, want, ARRAY_SIZE(want));
}

Test(memmap, overlay_errors_leave_the_map_unchanged)
{
	struct memmap map = two_gigabytes_with_a_hole();
	struct memmap before = map;

	cr_assert_eq(memmap_overlay(&map, 0x2000, 0x1000, MEM_KERNEL), MEMMAP_ERR_BAD_RANGE);
	assert_ranges(&map, before.range, before.count);
	cr_assert_eq(memmap_overlay(&map, 0x1000, 0x2000, MEM_KIND_COUNT), MEMMAP_ERR_BAD_KIND);
	assert_ranges(&map, before.range, before.count);
	cr_assert_eq(memmap_overlay(&map, 0x1000, 0x1000, MEM_KERNEL), MEMMAP_OK, "empty range");
	assert_ranges(&map, before.range, before.count);
}

Test(memmap, overlay_that_needs_too_many_ranges_leaves_the_map_unchanged)
{
	struct memmap_entry in[MEMMAP_MAX];
	struct memmap map, before;

	alternating_pages(in, MEMMAP_MAX - 1);
	in[MEMMAP_MAX - 1] = (struct memmap_entry)E(MEMMAP_MAX * PAGE_SIZE, 4 * PAGE_SIZE, MEM_USABLE);
	cr_assert_eq(memmap_normalize(in, MEMMAP_MAX, &map, NULL), MEMMAP_OK);
	cr_assert_eq(map.count, MEMMAP_MAX);
	before = map;
	cr_assert_eq(memmap_overlay(&map, (MEMMAP_MAX + 1) * PAGE_SIZE, (MEMMAP_MAX + 2) * PAGE_SIZE, MEM_KERNEL),
	             MEMMAP_ERR_TOO_MANY);
	assert_ranges(&map, before.range, before.count);
	/* Over the first page of the last range: one range more, also too many. */
	cr_assert_eq(memmap_overlay(&map, MEMMAP_MAX * PAGE_SIZE, (MEMMAP_MAX + 1) * PAGE_SIZE, MEM_KERNEL),
	             MEMMAP_ERR_TOO_MANY);
	assert_ranges(&map, before.range, before.count);
	/* Over the whole last range it replaces it: fits. */
	cr_assert_eq(memmap_overlay(&map, MEMMAP_MAX * PAGE_SIZE, (MEMMAP_MAX + 4) * PAGE_SIZE, MEM_KERNEL),
	             MEMMAP_OK);
	check_map(&map);
	cr_assert_eq(map.range[MEMMAP_MAX - 1].kind, MEM_KERNEL);
}

Test(memmap, overlay_usable_is_page_aligned_and_clipped)
{
	const struct memmap_entry in[] = { E(0x10000, 0x1000, MEM_RESERVED) };
	const struct mem_range want[] = {
		R(0x10000, 0x11000, MEM_RESERVED), R(PHYS_ADDR_LIMIT - 0x2000, PHYS_ADDR_LIMIT, MEM_USABLE),
	};
	struct memmap map;

	cr_assert_eq(memmap_normalize(in, ARRAY_SIZE(in), &map, NULL), MEMMAP_OK);
	cr_assert_eq(memmap_overlay(&map, PHYS_ADDR_LIMIT - 0x2800, UINT64_MAX, MEM_USABLE), MEMMAP_OK);
	assert_ranges(&map, want, ARRAY_SIZE(want));
}

/* ---- the reference model ------------------------------------------------------------------- */

/*
 * A window of WINDOW bytes starting at `origin`, one cell per byte: which entries cover the
 * byte, and which kind owns it.  Random maps are kept inside the window, so the window sees all of
 * them.  Built byte by byte from the definition, with no boundary arithmetic to get wrong.
 */
#define WINDOW_PAGES 8
#define WINDOW       (WINDOW_PAGES * PAGE_SIZE)
#define NO_KIND      (-1)
#define MAX_ENTRIES  10

struct model {
	uint64_t origin;
	int8_t owner[WINDOW];     /* the most restrictive kind covering the byte, or NO_KIND */
	uint16_t cover[WINDOW];   /* bit i: entry i covers the byte */
};
_Static_assert(MAX_ENTRIES <= 16, "one cover bit per entry");

static struct model model;
static int8_t expect[WINDOW];
static int8_t got[WINDOW];

static bool covers(const struct memmap_entry *e, uint64_t addr)
{
	return addr < PHYS_ADDR_LIMIT && addr >= e->base && addr - e->base < e->length;
}

static void model_reset(uint64_t origin)
{
	model.origin = origin;
	memset(model.owner, NO_KIND, sizeof model.owner);
	memset(model.cover, 0, sizeof model.cover);
}

/* Adds entry number `index` to the model. */
static void model_add(const struct memmap_entry *e, size_t index)
{
	for (uint64_t b = 0; b < WINDOW; b++) {
		if (!covers(e, model.origin + b))
			continue;
		model.cover[b] |= (uint16_t)(1u << index);
		if ((int)e->kind > model.owner[b])
			model.owner[b] = (int8_t)e->kind;
	}
}

static void model_build(uint64_t origin, const struct memmap_entry *in, size_t n)
{
	model_reset(origin);
	for (size_t i = 0; i < n; i++)
		model_add(&in[i], i);
}

/* The model's owners with every maximal run of usable bytes cut to its whole pages. */
static void model_expect(void)
{
	memcpy(expect, model.owner, sizeof expect);
	for (uint64_t b = 0; b < WINDOW;) {
		uint64_t end = b, keep_start, keep_end;

		if (expect[b] != MEM_USABLE) {
			b++;
			continue;
		}
		while (end < WINDOW && expect[end] == MEM_USABLE)
			end++;
		keep_start = align_up(model.origin + b, PAGE_SIZE) - model.origin;
		keep_end = align_down(model.origin + end, PAGE_SIZE) - model.origin;
		for (uint64_t i = b; i < end; i++)
			if (i < keep_start || i >= keep_end)
				expect[i] = NO_KIND;
		b = end;
	}
}

static uint64_t count_kind(const int8_t *cells, int kind)
{
	uint64_t count = 0;

	for (uint64_t b = 0; b < WINDOW; b++)
		count += cells[b] == kind;
	return count;
}

static bool any_cell(const int8_t *cells)
{
	return count_kind(cells, NO_KIND) != WINDOW;
}

/* Pairs of entries that share a byte, from the cover bits. */
static size_t model_overlaps(size_t n)
{
	uint16_t shares[MAX_ENTRIES] = { 0 };
	size_t pairs = 0;

	for (uint64_t b = 0; b < WINDOW; b++)
		for (size_t i = 0; i < n; i++)
			if (model.cover[b] & (1u << i))
				shares[i] |= model.cover[b] & ~(uint16_t)(1u << i);
	for (size_t i = 0; i < n; i++)
		pairs += (size_t)__builtin_popcount(shares[i]);
	return pairs / 2;
}

/* Paints the map into `cells`; every range must lie inside the window. */
static void paint(const struct memmap *map, int8_t *cells)
{
	memset(cells, NO_KIND, WINDOW);
	for (size_t i = 0; i < map->count; i++) {
		const struct mem_range *r = &map->range[i];

		cr_assert(r->start >= model.origin && r->end <= model.origin + WINDOW,
		          "range [%#" PRIx64 ", %#" PRIx64 ") outside the window", r->start, r->end);
		memset(cells + (r->start - model.origin), (int)r->kind, r->end - r->start);
	}
}

static void assert_matches_model(const struct memmap *map, uint64_t seed)
{
	uint64_t b = 0;

	paint(map, got);
	while (b < WINDOW && got[b] == expect[b])
		b++;
	if (b < WINDOW)
		cr_assert_fail("seed %" PRIu64 ": byte %#" PRIx64 " is %s, model says %s", seed,
		               model.origin + b, got[b] == NO_KIND ? "absent" : mem_kind_name(got[b]),
		               expect[b] == NO_KIND ? "absent" : mem_kind_name(expect[b]));
}

/* An offset in [0, WINDOW], often on or next to a page boundary. */
static uint64_t random_offset(struct rng *rng)
{
	uint64_t page = rng_below(rng, WINDOW_PAGES + 1) * PAGE_SIZE;
	uint64_t offset;

	switch (rng_below(rng, 8)) {
	case 0: offset = 1; break;
	case 1: offset = PAGE_SIZE - 1; break;
	case 2: case 3: offset = rng_below(rng, PAGE_SIZE); break;
	default: offset = 0; break;
	}
	return page + offset < WINDOW ? page + offset : WINDOW;
}

static enum mem_kind random_kind(struct rng *rng)
{
	return rng_one_in(rng, 3) ? MEM_USABLE : (enum mem_kind)rng_below(rng, MEM_KIND_COUNT);
}

/* An entry inside [origin, origin + WINDOW]; near the limit also lengths that run past 2^64. */
static struct memmap_entry random_entry(struct rng *rng, uint64_t origin)
{
	uint64_t a = random_offset(rng), b = random_offset(rng);
	struct memmap_entry e = E(origin + (a < b ? a : b), a < b ? b - a : a - b, random_kind(rng));

	if (origin + WINDOW > PHYS_ADDR_LIMIT && rng_one_in(rng, 4))
		e.length = UINT64_MAX - rng_below(rng, 2 * WINDOW);
	return e;
}

static size_t random_map(struct rng *rng, uint64_t origin, struct memmap_entry *in)
{
	size_t n = 1 + rng_below(rng, MAX_ENTRIES);

	for (size_t i = 0; i < n; i++)
		in[i] = random_entry(rng, origin);
	return n;
}

/* The model's notes, each counted from its definition. */
static struct memmap_notes model_notes(const struct memmap_entry *in, size_t n)
{
	struct memmap_notes notes = { 0 };

	for (size_t i = 0; i < n; i++) {
		unsigned __int128 end = (unsigned __int128)in[i].base + in[i].length;

		if (in[i].length == 0)
			notes.zero_length++;
		else if (end > PHYS_ADDR_LIMIT)
			notes.clipped++;
	}
	notes.overlaps = model_overlaps(n);
	notes.unaligned_bytes = count_kind(model.owner, MEM_USABLE) - count_kind(expect, MEM_USABLE);
	return notes;
}

static void check_against_model(uint64_t origin, const struct memmap_entry *in, size_t n, uint64_t seed)
{
	struct memmap map, again;
	struct memmap_notes notes, want;
	struct memmap_entry raw[MEMMAP_MAX];
	enum memmap_status status = memmap_normalize(in, n, &map, &notes);

	model_build(origin, in, n);
	model_expect();
	if (!any_cell(expect)) {
		cr_assert_eq(status, MEMMAP_ERR_EMPTY, "seed %" PRIu64 ": status %d", seed, status);
		cr_assert_eq(map.count, 0);
		return;
	}
	cr_assert_eq(status, MEMMAP_OK, "seed %" PRIu64 ": status %s", seed, memmap_status_message(status));
	check_map(&map);
	assert_matches_model(&map, seed);
	want = model_notes(in, n);
	cr_assert_eq(notes.zero_length, want.zero_length, "seed %" PRIu64, seed);
	cr_assert_eq(notes.clipped, want.clipped, "seed %" PRIu64, seed);
	cr_assert_eq(notes.overlaps, want.overlaps, "seed %" PRIu64, seed);
	cr_assert_eq(notes.unaligned_bytes, want.unaligned_bytes, "seed %" PRIu64, seed);

	/* A normalized map is a fixed point. */
	for (size_t i = 0; i < map.count; i++)
		raw[i] = (struct memmap_entry)E(map.range[i].start, map.range[i].end - map.range[i].start,
		                                 map.range[i].kind);
	cr_assert_eq(memmap_normalize(raw, map.count, &again, NULL), MEMMAP_OK);
	assert_ranges(&again, map.range, map.count);
}

Test(memmap, random_maps_match_the_model)
{
	for (uint64_t seed = 1; seed <= 3000; seed++) {
		struct rng rng = rng_seed(seed);
		struct memmap_entry in[MAX_ENTRIES];
		size_t n = random_map(&rng, 0, in);

		check_against_model(0, in, n, seed);
	}
}

Test(memmap, random_maps_at_the_limit_match_the_model)
{
	const uint64_t origin = PHYS_ADDR_LIMIT - WINDOW / 2;

	for (uint64_t seed = 1; seed <= 1500; seed++) {
		struct rng rng = rng_seed(seed * 7919);
		struct memmap_entry in[MAX_ENTRIES];
		size_t n = random_map(&rng, origin, in);

		check_against_model(origin, in, n, seed);
	}
}

Test(memmap, random_overlays_match_the_model)
{
	for (uint64_t seed = 1; seed <= 2000; seed++) {
		struct rng rng = rng_seed(seed * 104729);
		struct memmap_entry in[MAX_ENTRIES], overlay;
		size_t n = random_map(&rng, 0, in);
		struct memmap map;

		if (memmap_normalize(in, n, &map, NULL) != MEMMAP_OK)
			continue;
		/* The model: the normalized map painted byte by byte, then the overlay added on top. */
		overlay = random_entry(&rng, 0);
		model_reset(0);
		paint(&map, model.owner);
		model_add(&overlay, 0);
		model_expect();

		cr_assert_eq(memmap_overlay(&map, overlay.base, overlay.base + overlay.length, overlay.kind), MEMMAP_OK,
		             "seed %" PRIu64, seed);
		check_map(&map);
		assert_matches_model(&map, seed);
	}
}

Test(memmap, overlay_on_a_map_with_a_corrupt_count_panics, .signal = SIGABRT)
{
	struct memmap map = { .count = MEMMAP_MAX + 1 };

	memmap_overlay(&map, 0, PAGE_SIZE, MEM_KERNEL);
}
