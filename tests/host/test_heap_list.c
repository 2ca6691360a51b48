/*
 * The list design's own promises (mm/heap_list.c), beyond the shared suite in test_heap.c:
 * merging with both neighbours, first fit in address order, alignment padding that becomes a
 * free block, resize in place, the top of the heap going back to the region, and hostile
 * writes to its metadata (headers, links, boundary tags) caught before they do harm.
 *
 * White-box where it must be: a block's 16-byte header sits right before the object, and a free
 * block keeps its links in the 16 bytes after the header and its size in its last 8 bytes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/host/heap_harness.h"

#define LIMIT  (16 * MIB)
#define HEADER 16

static struct harness *list_heap(bool debug) { return harness_new(HEAP_LIST, LIMIT, debug); }

/* Bytes from one object to the next one allocated right after it. */
static size_t block_bytes(size_t size) { return (HEADER + size + 15) / 16 * 16; }

Test(list, frees_merge_with_both_neighbours_in_any_order)
{
	static const int orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };

	for (int o = 0; o < 6; o++) {
		struct harness *t = list_heap(false);
		uint8_t *x[3], *guard;

		for (int i = 0; i < 3; i++)
			x[i] = alloc_ok(t, 1000, 0);
		guard = alloc_ok(t, 1000, 0);
		for (int i = 0; i < 3; i++) {
			free_ok(t, x[orders[o][i]]);
			assert_heap_ok(t);
		}
		/* One free block now spans all three: the biggest object it can hold starts at x[0]. */
		size_t whole = 3 * block_bytes(1000) - HEADER;
		cr_assert_eq(heap_alloc(&t->heap, whole, 0), x[0], "order %d", o);
		cr_assert_eq(guard, x[0] + 3 * block_bytes(1000));
		assert_heap_ok(t);
		assert_no_report(t);
		harness_delete(t);
	}
}

Test(list, first_fit_takes_the_lowest_block_that_fits)
{
	struct harness *t = list_heap(false);
	uint8_t *x[8];

	for (int i = 0; i < 8; i++)
		x[i] = alloc_ok(t, i % 2 ? 64 : 500, 0);
	free_ok(t, x[2]);
	free_ok(t, x[4]);
	free_ok(t, x[6]);
	cr_assert_eq(heap_alloc(&t->heap, 400, 0), x[2]);
	cr_assert_eq(heap_alloc(&t->heap, 400, 0), x[4]);
	free_ok(t, x[1]);
	/* The tails of x[2] and x[4] would do too: x[1] is lower. */
	cr_assert_eq(heap_alloc(&t->heap, 40, 0), x[1]);
	cr_assert_eq(heap_alloc(&t->heap, 450, 0), x[6]);
	assert_heap_ok(t);
	harness_delete(t);
}

Test(list, alignment_padding_becomes_a_free_block)
{
	struct harness *t = list_heap(false);
	uint8_t *small = alloc_ok(t, 16, 0);
	uint8_t *aligned = alloc_ok(t, 100, 4096);

	cr_assert(is_aligned((uintptr_t)aligned, 4096));
	cr_assert_gt(aligned - small, 1024, "the test needs a real gap");
	/* The gap is a free block: small objects go there before anywhere else. */
	uint8_t *in_gap = alloc_ok(t, 500, 0);
	cr_assert(in_gap > small && in_gap < aligned, "%p is not in the gap [%p, %p)", (void *)in_gap, (void *)small,
	          (void *)aligned);
	assert_heap_ok(t);
	/* Nothing was lost: freed, it is all one block again, which one object can fill. */
	free_ok(t, aligned);
	free_ok(t, in_gap);
	free_ok(t, small);
	assert_heap_ok(t);
	size_t mapped = harness_stats(t).bytes_mapped;
	cr_assert_eq(alloc_ok(t, t->heap.region.top - t->heap.region.base - HEADER, 0), small);
	cr_assert_eq(harness_stats(t).bytes_mapped, mapped);
	harness_delete(t);
}

Test(list, small_gaps_are_not_left_in_front_of_aligned_objects)
{
	/* A gap of 16 or 32 bytes cannot be a free block: the object moves up to leave none or one
	 * of at least 48 bytes, and every byte stays accounted for (heap_check walks them all). */
	for (size_t lead = 0; lead < 256; lead += 16) {
		struct harness *t = list_heap(false);
		if (lead)
			alloc_ok(t, lead, 0);
		for (size_t align = 32; align <= 4096; align *= 2) {
			void *p = alloc_ok(t, 24, align);
			cr_assert(is_aligned((uintptr_t)p, align));
			assert_heap_ok(t);
		}
		harness_delete(t);
	}
}

Test(list, realloc_grows_into_a_free_neighbour_without_moving)
{
	struct harness *t = list_heap(false);
	uint8_t *p = alloc_ok(t, 100, 0);
	uint8_t *q = alloc_ok(t, 1000, 0);
	void *guard = alloc_ok(t, 10, 0);

	fill_pattern(p, 0, 100, 5);
	free_ok(t, q);
	cr_assert_eq(heap_realloc(&t->heap, p, 600), p);     /* part of q's block */
	assert_heap_ok(t);
	cr_assert_eq(heap_realloc(&t->heap, p, 1100), p);    /* all of it */
	assert_heap_ok(t);
	assert_pattern(p, 100, 5);
	cr_assert_neq(heap_realloc(&t->heap, p, 5000), p);   /* the guard is in the way */
	(void)guard;
	assert_heap_ok(t);
	assert_no_report(t);
	harness_delete(t);
}

Test(list, realloc_at_the_top_never_moves)
{
	struct harness *t = list_heap(false);
	void *anchor = alloc_ok(t, 100, 0);
	uint8_t *v = alloc_ok(t, 8, 0), *first = v;

	for (size_t n = 16; n <= 1 * MIB; n += 4000) {
		v = heap_realloc(&t->heap, v, n);
		cr_assert_eq(v, first, "moved at %zu bytes", n);
	}
	assert_heap_ok(t);
	free_ok(t, v);
	free_ok(t, anchor);
	harness_delete(t);
}

Test(list, realloc_shrink_gives_the_tail_back)
{
	struct harness *t = list_heap(false);
	uint8_t *p = alloc_ok(t, 10000, 0);
	uint8_t *guard = alloc_ok(t, 10, 0);

	fill_pattern(p, 0, 10000, 9);
	cr_assert_eq(heap_realloc(&t->heap, p, 100), p);
	assert_pattern(p, 100, 9);
	assert_heap_ok(t);
	uint8_t *tail = alloc_ok(t, 5000, 0);
	cr_assert(tail > p && tail < guard, "the tail was not given back");
	/* Shrinking by less than a block keeps the object as it is. */
	cr_assert_eq(heap_realloc(&t->heap, tail, 4990), tail);
	assert_heap_ok(t);
	harness_delete(t);
}

Test(list, a_big_free_block_at_the_top_goes_back_to_the_region)
{
	struct harness *t = list_heap(false);
	void *anchor = alloc_ok(t, 100, 0);
	size_t small = harness_stats(t).bytes_mapped;

	void *big = alloc_ok(t, 4 * MIB, 0);
	cr_assert_geq(harness_stats(t).bytes_mapped, 4 * MIB);
	free_ok(t, big);
	cr_assert_eq(harness_stats(t).bytes_mapped, small);
	/* A small one stays: the next allocation will want it. */
	void *x = alloc_ok(t, 20000, 0);
	size_t with_x = harness_stats(t).bytes_mapped;
	free_ok(t, x);
	cr_assert_eq(harness_stats(t).bytes_mapped, with_x);
	assert_heap_ok(t);
	/* Empty, the heap keeps what is below the trim threshold, and nothing above it. */
	free_ok(t, anchor);
	cr_assert_eq(harness_stats(t).bytes_mapped, with_x);
	big = alloc_ok(t, 4 * MIB, 0);
	free_ok(t, big);
	cr_assert_eq(harness_stats(t).bytes_mapped, 0);
	cr_assert_eq(t->pages.mapped, 0);
	assert_heap_ok(t);
	harness_delete(t);
}

Test(list, the_whole_region_can_be_one_object)
{
	struct harness *t = harness_new(HEAP_LIST, PAGE_SIZE, false);

	cr_assert_null(heap_alloc(&t->heap, PAGE_SIZE - HEADER + 1, 0));
	uint8_t *p = alloc_ok(t, PAGE_SIZE - HEADER, 0);
	memset(p, 0x77, PAGE_SIZE - HEADER);
	cr_assert_null(heap_alloc(&t->heap, 0, 0));
	assert_heap_ok(t);
	free_ok(t, p);
	cr_assert_eq(alloc_ok(t, PAGE_SIZE - HEADER, 0), p);
	cr_assert_eq(t->pages.mapped, PAGE_SIZE);
	harness_delete(t);
}

Test(list, bad_regions_are_refused)
{
	struct heap h;
	struct host_pages hp;
	struct heap_config cfg = { .design = HEAP_LIST };

	cr_assert(host_pages_reserve(&hp, 2 * PAGE_SIZE));
	cfg.region = (struct heap_region_config){ hp.base + 8, PAGE_SIZE, host_pages_seam(&hp) };
	cr_assert_eq(heap_init(&h, &cfg), HEAP_ERR_BAD_CONFIG);
	cfg.region = (struct heap_region_config){ hp.base, PAGE_SIZE + 8, host_pages_seam(&hp) };
	cr_assert_eq(heap_init(&h, &cfg), HEAP_ERR_BAD_CONFIG);
	cfg.region = (struct heap_region_config){ hp.base, 0, host_pages_seam(&hp) };
	cr_assert_eq(heap_init(&h, &cfg), HEAP_ERR_BAD_CONFIG);
	/* Sizes must fit the header's 44 bits, and no address may come near the end of memory. */
	cfg.region = (struct heap_region_config){ 0x100000000000, (size_t)1 << 50, host_pages_seam(&hp) };
	cr_assert_eq(heap_init(&h, &cfg), HEAP_ERR_BAD_CONFIG);
	cfg.region = (struct heap_region_config){ UINTPTR_MAX - 2 * PAGE_SIZE + 1, PAGE_SIZE, host_pages_seam(&hp) };
	cr_assert_eq(heap_init(&h, &cfg), HEAP_ERR_BAD_CONFIG);
	host_pages_release(&hp);
}

/* ---- hostile writes ------------------------------------------------------------------------ */

Test(list, a_double_free_after_a_merge_is_still_a_double_free)
{
	struct harness *t = list_heap(false);
	uint8_t *a = alloc_ok(t, 100, 0), *b = alloc_ok(t, 100, 0);
	void *guard = alloc_ok(t, 100, 0);

	free_ok(t, a);
	free_ok(t, b);   /* merges into a's block: b's header is inside it now */
	cr_assert_eq(heap_free(&t->heap, b), HEAP_ERR_DOUBLE_FREE);
	assert_one_report(t, HEAP_ERR_DOUBLE_FREE, b);
	cr_assert_eq(heap_free(&t->heap, a), HEAP_ERR_DOUBLE_FREE);
	assert_one_report(t, HEAP_ERR_DOUBLE_FREE, a);
	assert_heap_ok(t);
	(void)guard;
	harness_delete(t);
}

Test(list, an_overflow_into_the_next_header_is_caught)
{
	struct harness *t = list_heap(false);
	uint8_t *a = alloc_ok(t, 32, 0), *b = alloc_ok(t, 32, 0);
	void *guard = alloc_ok(t, 32, 0);

	memset(a, 0x41, heap_usable_size(&t->heap, a) + 4);   /* 4 bytes into b's header */
	cr_assert_eq(heap_free(&t->heap, b), HEAP_ERR_INVALID_FREE);
	assert_one_report(t, HEAP_ERR_INVALID_FREE, b);
	cr_assert_eq(heap_usable_size(&t->heap, b), 0);
	/* a's free must merge with b if b were free: it checks b and refuses. */
	cr_assert_eq(heap_free(&t->heap, a), HEAP_ERR_CORRUPT);
	assert_one_report(t, HEAP_ERR_CORRUPT, b - HEADER);
	cr_assert_eq(heap_check(&t->heap), HEAP_ERR_CORRUPT);
	assert_one_report(t, HEAP_ERR_CORRUPT, b - HEADER);
	(void)guard;
	harness_delete(t);
}

Test(list, a_header_copied_elsewhere_does_not_verify)
{
	struct harness *t = list_heap(false);
	uint8_t *a = alloc_ok(t, 500, 0), *b = alloc_ok(t, 500, 0);

	memcpy(a + 200, b - HEADER, HEADER);   /* a perfect copy of a real header, in the wrong place */
	cr_assert_eq(heap_free(&t->heap, a + 200 + HEADER), HEAP_ERR_INVALID_FREE);
	assert_one_report(t, HEAP_ERR_INVALID_FREE, a + 200 + HEADER);
	assert_heap_ok(t);
	harness_delete(t);
}

Test(list, an_overwritten_free_list_link_is_not_followed)
{
	struct harness *t = list_heap(false);
	uint8_t *a = alloc_ok(t, 100, 0), *b = alloc_ok(t, 100, 0), *c = alloc_ok(t, 100, 0);
	void *guard = alloc_ok(t, 100, 0);

	free_ok(t, b);
	memcpy(b, &c, sizeof(c));   /* b's next link now says c: plausible, but not encoded */
	cr_assert_null(heap_alloc(&t->heap, 200, 0));   /* does not fit b: the walk follows the link */
	assert_one_report_in(t, HEAP_ERR_CORRUPT, 0, UINTPTR_MAX);
	cr_assert_eq(heap_check(&t->heap), HEAP_ERR_CORRUPT);
	t->log.count = 0;
	/* Nothing was written through it: a and c are whole. */
	cr_assert_geq(heap_usable_size(&t->heap, a), 100);
	cr_assert_geq(heap_usable_size(&t->heap, c), 100);
	(void)guard;
	harness_delete(t);
}

Test(list, a_free_block_whose_links_do_not_agree_is_not_unlinked)
{
	struct harness *t = list_heap(false);
	uint8_t *a = alloc_ok(t, 100, 0), *b = alloc_ok(t, 100, 0), *c = alloc_ok(t, 100, 0);
	void *guard = alloc_ok(t, 100, 0);

	free_ok(t, b);
	memset(b + 8, 0x5c, 8);   /* b's back link: merging a or c with b must not write through it */
	cr_assert_eq(heap_free(&t->heap, a), HEAP_ERR_CORRUPT);
	assert_one_report(t, HEAP_ERR_CORRUPT, b - HEADER);
	cr_assert_eq(heap_free(&t->heap, c), HEAP_ERR_CORRUPT);
	assert_one_report(t, HEAP_ERR_CORRUPT, b - HEADER);
	cr_assert_geq(heap_usable_size(&t->heap, a), 100);   /* both refused: still live */
	cr_assert_geq(heap_usable_size(&t->heap, c), 100);
	(void)guard;
	harness_delete(t);
}

/* An attacker who knows the secret can encode a link; it must still lead to a free block.  A
 * free with no free neighbour walks the list to its place: past a forged link, it stops. */
static void forge_next_link(struct harness *t, uint8_t *free_object, const void *target)
{
	uintptr_t *slot = (uintptr_t *)free_object;

	*slot = heap_encode_link(&t->heap, slot, (uintptr_t)target - HEADER);
}

Test(list, a_well_encoded_link_to_anything_but_a_free_block_is_not_followed)
{
	for (int target = 0; target < 3; target++) {
		struct harness *t = list_heap(false);
		uint8_t *x[7];
		for (int i = 0; i < 7; i++)
			x[i] = alloc_ok(t, 100, 0);
		free_ok(t, x[1]);
		free_ok(t, x[5]);
		/* x[1]'s next link says x[2] (live, below x[3]), x[4] (live, above x[3]), or a page
		 * that is not mapped (below x[3]: reading it would fault). */
		const void *targets[] = { x[2], x[4], (void *)(uintptr_t)0x1010 };
		forge_next_link(t, x[1], targets[target]);
		cr_assert_eq(heap_free(&t->heap, x[3]), HEAP_ERR_CORRUPT);
		assert_one_report(t, HEAP_ERR_CORRUPT, x[3] - HEADER);
		cr_assert_geq(heap_usable_size(&t->heap, x[3]), 100);
		for (int i = 0; i < 7; i += 2)
			cr_assert_geq(heap_usable_size(&t->heap, x[i]), 100, "x[%d] is no longer live", i);
		harness_delete(t);
	}
}

Test(list, an_overwritten_boundary_tag_is_not_followed)
{
	struct harness *t = list_heap(false);
	uint8_t *a = alloc_ok(t, 100, 0), *b = alloc_ok(t, 100, 0);
	void *guard = alloc_ok(t, 100, 0);

	free_ok(t, a);
	uint64_t forged = 48;   /* "the free block below is 48 bytes": it is not */
	memcpy(b - HEADER - 8, &forged, 8);
	cr_assert_eq(heap_free(&t->heap, b), HEAP_ERR_CORRUPT);
	assert_one_report(t, HEAP_ERR_CORRUPT, b - HEADER - 8);
	cr_assert_eq(heap_usable_size(&t->heap, b), 100 + 12);   /* still live: refused, nothing changed */
	(void)guard;
	harness_delete(t);
}

/* ---- debug mode ----------------------------------------------------------------------------- */

Test(list, debug_reuse_of_a_written_free_block_is_reported_once)
{
	struct harness *t = list_heap(true);
	uint8_t *a = alloc_ok(t, 3000, 0);
	void *guard = alloc_ok(t, 10, 0);

	free_ok(t, a);
	a[2000] = 1;   /* deep inside the freed block */
	uint8_t *b = alloc_ok(t, 100, 0);   /* the front of the block: not the written part */
	cr_assert_eq(b, a);
	assert_no_report(t);
	uint8_t *c = alloc_ok(t, 2500, 0);   /* the rest: written to */
	assert_one_report(t, HEAP_ERR_USE_AFTER_FREE, c);
	cr_assert(c > b && c <= a + 2000);
	assert_heap_ok(t);
	(void)guard;
	harness_delete(t);
}

Test(list, debug_realloc_in_place_keeps_the_redzone_exact)
{
	struct harness *t = list_heap(true);
	uint8_t *p = alloc_ok(t, 100, 0);
	void *guard = alloc_ok(t, 10, 0);

	for (size_t n = 101; n < 400; n += 7) {
		p = heap_realloc(&t->heap, p, n);
		cr_assert_eq(heap_usable_size(&t->heap, p), n);
		assert_heap_ok(t);
	}
	p = heap_realloc(&t->heap, p, 50);
	p[50] = 0;
	cr_assert_eq(heap_free(&t->heap, p), HEAP_ERR_REDZONE);
	assert_one_report(t, HEAP_ERR_REDZONE, p);
	assert_heap_ok(t);
	(void)guard;
	harness_delete(t);
}
