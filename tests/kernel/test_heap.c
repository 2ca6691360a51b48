/*
 * The kernel heap, under whichever design the kernel booted with (heap=bump|list|fixed|slab):
 * the tutorial's heap tests in spirit, the kernel's guarantees (zeroed objects, alignment,
 * kmalloc(0)), refused frees, and recovery from running out of frames.
 */
#include "kernel/kheap.h"
#include "kernel/ktest.h"
#include "kernel/memory.h"
#include "kernel/options.h"
#include "lib/mem.h"

static bool all_bytes(const void *p, size_t n, uint8_t value)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != value)
			return false;
	return true;
}

KTEST(heap, simple_allocation)
{
	uint64_t *a = kmalloc(41 * sizeof(uint64_t));
	uint8_t *b = kmalloc(13);

	KT_ASSERT(a && b);
	for (int i = 0; i < 41; i++)
		a[i] = (uint64_t)i * 3;
	memset(b, 0x5a, 13);
	for (int i = 0; i < 41; i++)
		KT_ASSERT_EQ(a[i], (uint64_t)i * 3);
	KT_ASSERT(all_bytes(b, 13, 0x5a));
	KT_ASSERT(ksize(a) >= 41 * sizeof(uint64_t));
	kfree(a);
	kfree(b);
	KT_ASSERT_EQ(kheap_check(), HEAP_OK);
}

/* The tutorial's growing Vec: realloc keeps the contents and zeroes what it adds. */
KTEST(heap, growing_vector)
{
	uint32_t *v = NULL;
	size_t capacity = 0;

	for (uint32_t n = 0; n < 16384; n++) {
		if (n == capacity) {
			size_t grown = capacity ? capacity * 2 : 4;
			uint32_t *w = krealloc(v, grown * sizeof(*v));
			KT_ASSERT(w);
			KT_ASSERT(all_bytes(w + capacity, (grown - capacity) * sizeof(*v), 0));
			v = w;
			capacity = grown;
		}
		v[n] = n ^ 0x5555;
	}
	for (uint32_t n = 0; n < 16384; n++)
		KT_ASSERT_EQ(v[n], n ^ 0x5555);
	kfree(v);
}

static size_t heap_mapped(void)
{
	struct heap_stats st;

	kheap_stats(&st);
	return st.bytes_mapped;
}

/* Short-lived objects adding up to far more than the heap ever holds at once: memory is reused. */
KTEST(heap, many_short_lived_objects)
{
	size_t start = heap_mapped(), most = start, total = 0;

	for (unsigned i = 0; i < 20000; i++) {
		size_t size = 64 + (i % 7) * 512;
		uint8_t *p = kmalloc(size);
		KT_ASSERT_MSG(p, "allocation %u of %zu bytes failed", i, size);
		p[0] = (uint8_t)i;
		p[size - 1] = (uint8_t)i;
		total += size;
		size_t now = heap_mapped();
		most = now > most ? now : most;
		kfree(p);
	}
	KT_ASSERT_MSG(total > 100 * (most - start + PAGE_SIZE),
	              "%zu bytes went through the heap, but it grew by %zu bytes", total, most - start);
}

/*
 * One long-lived object among many short-lived ones.  A bump heap frees only when every object
 * is gone, so the long-lived one pins everything allocated after it: it must run out, and this
 * test checks that it does.  Every other design reuses the memory and must not.
 */
KTEST(heap, one_long_lived_among_short_lived)
{
	struct heap_stats st;
	uint64_t *keep = kmalloc(sizeof(*keep));
	bool ran_out = false;

	KT_ASSERT(keep);
	*keep = 0xfeed;
	kheap_stats(&st);
	for (unsigned i = 0; i < 200000 && !ran_out; i++) {
		void *p = kmalloc(4096);
		ran_out = p == NULL;
		kfree(p);
	}
	KT_ASSERT_EQ(*keep, 0xfeed);
	if (options.heap == HEAP_BUMP)
		KT_ASSERT_MSG(ran_out, "a bump heap cannot reuse memory while one object lives: it should have run out");
	else
		KT_ASSERT_MSG(!ran_out, "the %s heap ran out though at most two objects were alive", heap_design_names[options.heap]);
	kfree(keep);
}

/* No object shows an earlier user's data. */
KTEST(heap, objects_come_zeroed)
{
	for (size_t size = 1; size <= 8192; size *= 3) {
		uint8_t *p = kmalloc(size);
		KT_ASSERT(p);
		memset(p, 0xee, size);
		kfree(p);
		p = kmalloc(size);
		KT_ASSERT(p);
		KT_ASSERT_MSG(all_bytes(p, size, 0), "a %zu-byte object came back with old data", size);
		kfree(p);
	}
}

KTEST(heap, every_alignment_up_to_a_page)
{
	for (size_t align = 1; align <= 4096; align *= 2) {
		void *p = kmalloc_aligned(100, align);
		void *q = kmalloc_aligned(align * 3, align);
		KT_ASSERT(p && q);
		KT_ASSERT_EQ((uintptr_t)p % align, 0);
		KT_ASSERT_EQ((uintptr_t)q % align, 0);
		kfree(p);
		kfree(q);
	}
	KT_ASSERT(kmalloc_aligned(64, 3) == NULL);
	KT_ASSERT(kmalloc_aligned(64, 8192) == NULL);
}

KTEST(heap, kmalloc_zero_is_unique_and_kfree_null_is_nothing)
{
	void *a = kmalloc(0), *b = kmalloc(0);

	KT_ASSERT(a && b && a != b);
	kfree(a);
	kfree(b);
	kfree(NULL);
	KT_ASSERT_EQ(kfree_status(NULL), HEAP_OK);
	KT_ASSERT(kcalloc(SIZE_MAX / 2, 4) == NULL);
}

struct report_log {
	unsigned count;
	struct heap_error last;
};

static void log_report(void *ctx, const struct heap_error *e)
{
	struct report_log *log = ctx;

	log->count++;
	log->last = *e;
}

/* Expects `status` from freeing `ptr`, and exactly one report naming it. */
static void expect_refused(void *ptr, enum heap_status status)
{
	struct report_log log = { 0 };

	kheap_set_reporter(log_report, &log);
	enum heap_status s = kfree_status(ptr);
	kheap_set_reporter(NULL, NULL);
	KT_ASSERT_MSG(s == status, "kfree(%p): %s, expected %s", ptr, heap_status_message(s), heap_status_message(status));
	KT_ASSERT_EQ(log.count, 1);
	KT_ASSERT_EQ(log.last.addr, (uintptr_t)ptr);
}

KTEST(heap, bad_frees_are_refused_and_reported)
{
	uint8_t *p = kmalloc(100), *q = kmalloc(100);
	uint64_t on_stack;

	KT_ASSERT(p && q);
	memset(q, 0x33, 100);
	expect_refused(p + 16, HEAP_ERR_INVALID_FREE);      /* interior */
	expect_refused(&on_stack, HEAP_ERR_INVALID_FREE);   /* foreign */
	kfree(p);
	if (options.heap != HEAP_BUMP)   /* a bump heap may have reset once p went: p is just foreign then */
		expect_refused(p, HEAP_ERR_DOUBLE_FREE);
	KT_ASSERT(all_bytes(q, 100, 0x33));
	KT_ASSERT_EQ(kheap_check(), HEAP_OK);
	kfree(q);
}

/* Takes every free frame but `keep`, largest blocks first.  Returns how many blocks it took. */
static size_t hoard_frames(uint64_t *blocks, unsigned *orders, size_t max, uint64_t keep)
{
	struct frame_stats st;
	size_t n = 0;

	for (int order = FRAME_MAX_ORDER; order >= 0; order--) {
		for (;;) {
			frame_stats(&kernel_frames, &st);
			if (n == max || st.free_frames < keep + (UINT64_C(1) << order))
				break;
			if (frame_alloc(&kernel_frames, (unsigned)order, FRAME_UNINIT, &blocks[n]) != FRAME_OK)
				break;
			orders[n++] = (unsigned)order;
		}
	}
	return n;
}

/* kmalloc runs out when the frames do, corrupts nothing, and works again once they are back. */
KTEST(heap, out_of_frames_and_back)
{
	static uint64_t blocks[4096];
	static unsigned orders[4096];
	static void *objects[4096];
	size_t hoarded = hoard_frames(blocks, orders, 4096, 256);   /* leave 1 MiB */
	size_t n = 0;

	while (n < 4096 && (objects[n] = kmalloc(2000)) != NULL)
		n++;
	KT_ASSERT_MSG(n < 4096, "the heap never ran out");
	KT_ASSERT_EQ(kheap_check(), HEAP_OK);
	while (n > 0)
		kfree(objects[--n]);
	for (size_t i = 0; i < hoarded; i++)
		KT_ASSERT_EQ(frame_free(&kernel_frames, blocks[i], orders[i]), FRAME_OK);
	void *again = kmalloc(2000);
	KT_ASSERT(again);
	kfree(again);
	KT_ASSERT_EQ(kheap_check(), HEAP_OK);
}

KTEST(heap, debug_redzone_overflow_is_caught)
{
	struct report_log log = { 0 };
	uint8_t *p;

	if (!options.heap_debug)
		ktest_skip("needs heap.debug=1");
	p = kmalloc(24);
	KT_ASSERT(p);
	p[24] = 1;   /* one byte past the end */
	kheap_set_reporter(log_report, &log);
	enum heap_status s = kfree_status(p);
	kheap_set_reporter(NULL, NULL);
	KT_ASSERT_EQ(s, HEAP_ERR_REDZONE);
	KT_ASSERT_EQ(log.count, 1);
	KT_ASSERT_EQ(log.last.addr, (uintptr_t)p);
	KT_ASSERT_EQ(kheap_check(), HEAP_OK);   /* reported, repaired and freed all the same */
}

KTEST(heap, debug_write_after_free_is_caught)
{
	struct report_log log = { 0 };
	uint8_t *p, *again;

	if (!options.heap_debug)
		ktest_skip("needs heap.debug=1");
	if (options.heap == HEAP_BUMP)
		ktest_skip("a bump heap never reuses memory, so it has nothing to check on reuse");
	p = kmalloc(48);
	KT_ASSERT(p);
	kfree(p);
	p[20] = 1;   /* the bug: a write through a dangling pointer */
	kheap_set_reporter(log_report, &log);
	again = kmalloc(48);   /* the freed object comes back first, and its poison is checked */
	kheap_set_reporter(NULL, NULL);
	KT_ASSERT_EQ(log.count, 1);
	KT_ASSERT_EQ(log.last.status, HEAP_ERR_USE_AFTER_FREE);
	KT_ASSERT_EQ(log.last.addr, (uintptr_t)p);
	kfree(again);
}

/* With a small heap.max the region's limit, not the frames, is what runs out: kmalloc says no,
 * nothing is corrupted, and everything comes back. */
KTEST(heap, region_limit_and_back)
{
	static void *objects[4096];
	struct heap_stats before, after;
	size_t n = 0;

	if (options.heap_max == 0 || options.heap_max > 16 * MIB)
		ktest_skip("needs heap.max=16M or less");
	kheap_stats(&before);
	while (n < 4096 && (objects[n] = kmalloc(4000)) != NULL)
		n++;
	KT_ASSERT_MSG(n < 4096, "a heap of %lu bytes held 4096 objects of 4000 bytes", options.heap_max);
	kheap_stats(&after);
	KT_ASSERT_MSG(after.bytes_mapped <= options.heap_max, "mapped %zu bytes past the limit %lu", after.bytes_mapped,
	              options.heap_max);
	KT_ASSERT_EQ(kheap_check(), HEAP_OK);
	while (n > 0)
		kfree(objects[--n]);
	void *again = kmalloc(4000);
	KT_ASSERT(again);
	kfree(again);
	KT_ASSERT_EQ(kheap_check(), HEAP_OK);
}
