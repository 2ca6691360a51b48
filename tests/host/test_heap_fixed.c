/*
 * The fixed design's own promises (mm/heap_fixed.c), beyond the shared suite in test_heap.c:
 * classes 16 .. 2048 reused last-in first-out, a cap on what a class keeps, blocks going back to
 * the list heap beyond the cap, when the heap is idle and when the list runs out, large and
 * over-aligned objects served by the list directly, and exact double frees of kept blocks.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/host/heap_harness.h"

#define LIMIT (16 * MIB)

static struct harness *fixed_heap(bool debug) { return harness_new(HEAP_FIXED, LIMIT, debug); }

static unsigned class_index(size_t size)
{
	unsigned k = 0;

	while ((size_t)(FIXED_SMALLEST_CLASS << k) < size)
		k++;
	return k;
}

Test(fixed, stats_list_the_classes)
{
	struct harness *t = fixed_heap(false);
	struct heap_stats st = harness_stats(t);

	cr_assert_eq(st.classes, FIXED_CLASSES);
	for (unsigned k = 0; k < FIXED_CLASSES; k++)
		cr_assert_eq(st.class[k].size, (size_t)16 << k);
	cr_assert_eq(st.class[FIXED_CLASSES - 1].size, 2048);
	harness_delete(t);
}

Test(fixed, every_size_gets_the_smallest_class_that_holds_it)
{
	struct harness *t = fixed_heap(false);
	void *anchor = alloc_ok(t, 5000, 0);

	for (size_t size = 0; size <= 2048; size++) {
		void *p = alloc_ok(t, size, 0);
		unsigned k = class_index(size ? size : 1);
		struct heap_stats st = harness_stats(t);
		cr_assert_eq(st.class[k].objects_in_use, 1, "size %zu", size);
		cr_assert_eq(heap_usable_size(&t->heap, p), (size_t)16 << k, "size %zu", size);
		cr_assert(is_aligned((uintptr_t)p, 16));
		free_ok(t, p);
	}
	assert_heap_ok(t);
	free_ok(t, anchor);
	harness_delete(t);
}

Test(fixed, eight_byte_objects_share_the_16_byte_class)
{
	struct harness *t = fixed_heap(false);
	void *a = alloc_ok(t, 8, 8), *b = alloc_ok(t, 16, 0);

	cr_assert(is_aligned((uintptr_t)a, 16));
	cr_assert_eq(harness_stats(t).class[0].objects_in_use, 2);
	free_ok(t, a);
	cr_assert_eq(alloc_ok(t, 16, 0), a);   /* the same class: a comes back */
	(void)b;
	harness_delete(t);
}

Test(fixed, a_freed_block_is_the_next_one_of_its_class)
{
	struct harness *t = fixed_heap(false);
	void *anchor = alloc_ok(t, 10, 0);
	void *p = alloc_ok(t, 100, 0), *q = alloc_ok(t, 100, 0);

	free_ok(t, p);
	free_ok(t, q);
	cr_assert_eq(alloc_ok(t, 120, 0), q);   /* class 128, last in first out */
	cr_assert_eq(alloc_ok(t, 65, 0), p);
	cr_assert_eq(harness_stats(t).class[3].slabs, 0);
	assert_heap_ok(t);
	(void)anchor;
	harness_delete(t);
}

Test(fixed, large_and_over_aligned_objects_go_to_the_list)
{
	struct harness *t = fixed_heap(false);
	void *big = alloc_ok(t, 2049, 0), *aligned = alloc_ok(t, 64, 256);

	cr_assert(is_aligned((uintptr_t)aligned, 256));
	struct heap_stats st = harness_stats(t);
	cr_assert_eq(st.objects_in_use, 2);
	for (unsigned k = 0; k < FIXED_CLASSES; k++)
		cr_assert_eq(st.class[k].objects_in_use, 0);
	cr_assert_geq(heap_usable_size(&t->heap, big), 2049);
	void *small = alloc_ok(t, 64, 0);
	free_ok(t, aligned);
	free_ok(t, big);
	st = harness_stats(t);
	for (unsigned k = 0; k < FIXED_CLASSES; k++)
		cr_assert_eq(st.class[k].slabs, 0, "a direct object was kept by class %u", k);
	assert_heap_ok(t);
	free_ok(t, small);
	harness_delete(t);
}

Test(fixed, a_class_keeps_no_more_than_its_cap)
{
	struct harness *t = fixed_heap(false);
	const unsigned k = 2;   /* 64 bytes */
	const size_t cap = FIXED_CLASS_KEEP_BYTES / 64, n = cap + 100;
	void **p = malloc(n * sizeof(*p));
	void *anchor = alloc_ok(t, 3000, 0);   /* keeps the heap from going idle */

	for (size_t i = 0; i < n; i++)
		p[i] = alloc_ok(t, 64, 0);
	for (size_t i = 0; i < n; i++) {
		free_ok(t, p[i]);
		cr_assert_eq(harness_stats(t).class[k].slabs, i + 1 < cap ? i + 1 : cap);
	}
	assert_heap_ok(t);
	/* The blocks beyond the cap (80 bytes of list each) went back to the list, so they merged:
	 * an object as big as all of them fits there. */
	size_t mapped_before = harness_stats(t).bytes_mapped;
	void *big = alloc_ok(t, 100 * 80 - 16, 0);
	cr_assert_eq(harness_stats(t).bytes_mapped, mapped_before, "the list heap had to grow");
	free_ok(t, big);
	free_ok(t, anchor);
	free(p);
	harness_delete(t);
}

Test(fixed, an_idle_heap_gives_every_block_back)
{
	struct harness *t = fixed_heap(false);
	void *p[600];

	for (size_t i = 0; i < 600; i++)
		p[i] = alloc_ok(t, 1 + i % 2048, 0);
	for (size_t i = 0; i < 599; i++)
		free_ok(t, p[i]);
	cr_assert_gt(harness_stats(t).bytes_mapped, 0);
	free_ok(t, p[599]);
	struct heap_stats st = harness_stats(t);
	for (unsigned k = 0; k < FIXED_CLASSES; k++)
		cr_assert_eq(st.class[k].slabs, 0);
	/* All merged into one free block, far above the list's trim threshold: all given back. */
	cr_assert_eq(st.bytes_mapped, 0);
	cr_assert_eq(t->pages.mapped, 0);
	assert_heap_ok(t);
	harness_delete(t);
}

Test(fixed, running_out_gives_kept_blocks_back_and_tries_again)
{
	struct harness *t = fixed_heap(false);
	const size_t cap = FIXED_CLASS_KEEP_BYTES / 64, max = 10000;
	void **p = malloc(max * sizeof(*p));
	size_t n = 0;

	t->pages.budget = 256 * KIB;
	while (n < max && (p[n] = heap_alloc(&t->heap, 64, 0)) != NULL)
		n++;
	cr_assert(n > 4 * cap && n < max);
	/* Every (n / cap)-th block is kept by its class, spread over the heap; the rest go back to
	 * the list and merge, but only into short runs between kept blocks.  The last one stays. */
	size_t stride = n / cap;
	for (size_t i = 0; i < n - 1; i += stride)
		free_ok(t, p[i]);
	cr_assert_eq(harness_stats(t).class[2].slabs, cap);
	for (size_t i = 0; i < n - 1; i++)
		if (i % stride != 0)
			free_ok(t, p[i]);
	assert_heap_ok(t);
	/* No run is this long and the pages are out: only the kept blocks can make room. */
	void *big = alloc_ok(t, 64 * KIB, 0);
	cr_assert_eq(harness_stats(t).class[2].slabs, 0);
	assert_no_report(t);
	assert_heap_ok(t);
	free_ok(t, big);
	free_ok(t, p[n - 1]);
	cr_assert_eq(t->pages.mapped, 0);
	free(p);
	harness_delete(t);
}

Test(fixed, double_free_of_a_kept_block_is_exact)
{
	struct harness *t = fixed_heap(false);
	void *anchor = alloc_ok(t, 10, 0);
	void *p = alloc_ok(t, 300, 0);

	free_ok(t, p);
	cr_assert_eq(heap_free(&t->heap, p), HEAP_ERR_DOUBLE_FREE);
	cr_assert_eq(t->log.first.size_class, 512);
	assert_one_report(t, HEAP_ERR_DOUBLE_FREE, p);
	cr_assert_eq(heap_usable_size(&t->heap, p), 0);
	cr_assert_null(heap_realloc(&t->heap, p, 10));
	assert_one_report(t, HEAP_ERR_DOUBLE_FREE, p);
	assert_heap_ok(t);
	(void)anchor;
	harness_delete(t);
}

Test(fixed, realloc_stays_in_place_within_the_class)
{
	struct harness *t = fixed_heap(false);
	uint8_t *p = alloc_ok(t, 100, 0);

	fill_pattern(p, 0, 100, 3);
	cr_assert_eq(heap_realloc(&t->heap, p, 128), p);
	cr_assert_eq(heap_realloc(&t->heap, p, 65), p);
	cr_assert_eq(harness_stats(t).bytes_requested, 65);
	uint8_t *q = heap_realloc(&t->heap, p, 129);   /* class 256 */
	cr_assert_neq(q, p);
	assert_pattern(q, 65, 3);
	uint8_t *r = heap_realloc(&t->heap, q, 64);   /* class 64 */
	cr_assert_neq(r, q);
	assert_pattern(r, 64, 3);
	r = heap_realloc(&t->heap, r, 5000);   /* direct */
	assert_pattern(r, 64, 3);
	cr_assert_eq(heap_realloc(&t->heap, r, 6000), r);   /* the list grows it at the top */
	assert_heap_ok(t);
	free_ok(t, r);
	harness_delete(t);
}

Test(fixed, an_overwritten_class_link_is_not_followed)
{
	struct harness *t = fixed_heap(false);
	void *anchor = alloc_ok(t, 10, 0);
	uint8_t *p = alloc_ok(t, 200, 0), *q = alloc_ok(t, 200, 0);

	free_ok(t, p);
	free_ok(t, q);   /* q is the head of class 256, p after it */
	memcpy(q, &anchor, sizeof(anchor));   /* q's link now says anchor, not encoded */
	cr_assert_eq(alloc_ok(t, 200, 0), q);
	cr_assert_eq(heap_check(&t->heap), HEAP_ERR_CORRUPT);
	t->log.count = 0;
	void *r = alloc_ok(t, 200, 0);   /* the head is garbage: reported, and the list serves */
	assert_one_report_in(t, HEAP_ERR_CORRUPT, 0, UINTPTR_MAX);
	cr_assert_neq(r, anchor);
	cr_assert_eq(heap_usable_size(&t->heap, anchor), 16);
	harness_delete(t);
}

Test(fixed, debug_a_kept_block_written_to_is_reported_when_it_comes_back)
{
	struct harness *t = fixed_heap(true);
	void *anchor = alloc_ok(t, 10, 0);
	uint8_t *p = alloc_ok(t, 1000, 0);

	free_ok(t, p);
	p[999] = 0;
	cr_assert_eq(alloc_ok(t, 700, 0), p);
	cr_assert_eq(t->log.first.size_class, 1024);
	assert_one_report(t, HEAP_ERR_USE_AFTER_FREE, p);
	cr_assert_eq(heap_usable_size(&t->heap, p), 700);
	assert_heap_ok(t);
	(void)anchor;
	harness_delete(t);
}
