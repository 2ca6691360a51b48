/*
 * The bump design's own promises (mm/heap_bump.c), beyond the shared suite in test_heap.c:
 * objects go one after the other, nothing is reused until the heap is empty, and then every page
 * goes back at once; the last object resizes in place; every free is proved by a sealed record.
 *
 * White-box where it must be: the 16-byte record of an object sits right before it.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/host/heap_harness.h"

#define LIMIT  (16 * MIB)
#define RECORD 16

static struct harness *bump_heap(bool debug) { return harness_new(HEAP_BUMP, LIMIT, debug); }

Test(bump, objects_follow_one_another_and_memory_is_not_reused)
{
	struct harness *t = bump_heap(false);
	uintptr_t base = t->heap.region.base;
	uint8_t *a = alloc_ok(t, 100, 0), *b = alloc_ok(t, 1, 0);

	cr_assert_eq((uintptr_t)a, base + RECORD);
	cr_assert_eq(b, a + 112 + RECORD);
	cr_assert_eq(heap_usable_size(&t->heap, a), 112);
	free_ok(t, a);
	uint8_t *c = alloc_ok(t, 100, 0);
	cr_assert_eq(c, b + 16 + RECORD, "freed memory was reused");
	assert_heap_ok(t);
	harness_delete(t);
}

Test(bump, the_heap_starts_over_when_the_last_object_is_freed)
{
	struct harness *t = bump_heap(false);
	uint8_t *p[100];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 100; i++)
			p[i] = alloc_ok(t, 1000 * (size_t)i, 0);
		cr_assert_gt(t->pages.mapped, 4 * MIB);
		cr_assert_eq((uintptr_t)p[0], t->heap.region.base + RECORD, "round %d did not start over", round);
		for (int i = 99; i >= 0; i--) {
			cr_assert_gt(t->pages.mapped, 0);
			free_ok(t, p[i]);
		}
		cr_assert_eq(t->pages.mapped, 0);
		cr_assert_eq(harness_stats(t).bytes_mapped, 0);
		assert_heap_ok(t);
	}
	harness_delete(t);
}

Test(bump, alignment_padding_is_walked_over)
{
	struct harness *t = bump_heap(false);
	uint8_t *a = alloc_ok(t, 1, 0);

	for (size_t align = 32; align <= 4096; align *= 2) {
		uint8_t *p = alloc_ok(t, 24, align);
		cr_assert(is_aligned((uintptr_t)p, align));
		assert_heap_ok(t);
		/* The padding is no object: a pointer into it is refused. */
		if (p - a > 2 * RECORD + 16) {
			cr_assert_eq(heap_free(&t->heap, p - RECORD), HEAP_ERR_INVALID_FREE);
			assert_one_report(t, HEAP_ERR_INVALID_FREE, p - RECORD);
		}
		a = p;
	}
	assert_heap_ok(t);
	harness_delete(t);
}

Test(bump, the_last_object_resizes_in_place)
{
	struct harness *t = bump_heap(false);
	uint8_t *first = alloc_ok(t, 10, 0);
	uint8_t *p = alloc_ok(t, 100, 0);

	fill_pattern(p, 0, 100, 4);
	cr_assert_eq(heap_realloc(&t->heap, p, 100000), p);
	cr_assert_geq(t->pages.mapped, 100000);
	cr_assert_eq(heap_realloc(&t->heap, p, 50), p);
	cr_assert_lt(t->pages.mapped, 2 * PAGE_SIZE + 1, "shrinking the last object gives its pages back");
	assert_pattern(p, 50, 4);
	/* An object that is not the last keeps its place only while its span stays the same. */
	cr_assert_eq(heap_realloc(&t->heap, first, 16), first);
	uint8_t *moved = heap_realloc(&t->heap, first, 17);
	cr_assert_neq(moved, first);
	cr_assert_eq(heap_usable_size(&t->heap, first), 0);
	assert_heap_ok(t);
	harness_delete(t);
}

Test(bump, a_record_copied_elsewhere_does_not_verify)
{
	struct harness *t = bump_heap(false);
	uint8_t *a = alloc_ok(t, 500, 0), *b = alloc_ok(t, 500, 0);

	memcpy(a + 200, b - RECORD, RECORD);
	cr_assert_eq(heap_free(&t->heap, a + 200 + RECORD), HEAP_ERR_INVALID_FREE);
	assert_one_report(t, HEAP_ERR_INVALID_FREE, a + 200 + RECORD);
	assert_heap_ok(t);
	harness_delete(t);
}

Test(bump, an_overflow_into_the_next_record_is_caught)
{
	struct harness *t = bump_heap(false);
	uint8_t *a = alloc_ok(t, 32, 0), *b = alloc_ok(t, 32, 0);

	a[32] = 0xaa;   /* the first byte of b's record */
	cr_assert_eq(heap_free(&t->heap, b), HEAP_ERR_INVALID_FREE);
	assert_one_report(t, HEAP_ERR_INVALID_FREE, b);
	cr_assert_eq(heap_check(&t->heap), HEAP_ERR_CORRUPT);
	assert_one_report(t, HEAP_ERR_CORRUPT, b - RECORD);
	free_ok(t, a);
	harness_delete(t);
}

Test(bump, a_pointer_past_the_top_is_refused_without_being_read)
{
	struct harness *t = bump_heap(false);
	uint8_t *a = alloc_ok(t, 4000, 0);
	uint8_t *past = a + 4096;   /* the next page: not mapped, and reading it would fault */

	cr_assert_eq(heap_free(&t->heap, past), HEAP_ERR_INVALID_FREE);
	assert_one_report(t, HEAP_ERR_INVALID_FREE, past);
	cr_assert_eq(heap_usable_size(&t->heap, past), 0);
	free_ok(t, a);
	/* Started over: the old pointer is past the top now. */
	cr_assert_eq(heap_free(&t->heap, a), HEAP_ERR_INVALID_FREE);
	assert_one_report(t, HEAP_ERR_INVALID_FREE, a);
	harness_delete(t);
}

Test(bump, debug_freed_objects_are_poisoned_and_checked)
{
	struct harness *t = bump_heap(true);
	uint8_t *a = alloc_ok(t, 100, 0), *b = alloc_ok(t, 100, 0);

	cr_assert_eq(heap_usable_size(&t->heap, a), 100);
	free_ok(t, a);
	for (size_t i = 0; i < 100; i++)
		cr_assert_eq(a[i], HEAP_POISON_BYTE);
	a[99] = 0;
	cr_assert_eq(heap_check(&t->heap), HEAP_ERR_USE_AFTER_FREE);
	assert_one_report(t, HEAP_ERR_USE_AFTER_FREE, a);
	a[99] = HEAP_POISON_BYTE;
	assert_heap_ok(t);
	free_ok(t, b);
	harness_delete(t);
}
