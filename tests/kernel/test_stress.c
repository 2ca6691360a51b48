/*
 * A bounded, randomized stress test of the whole memory model on the live kernel: kmalloc and
 * kfree, frame alloc and free, map and unmap, mixed at random, every object's contents checked
 * before it goes, then a full consistency check.  The bookkeeping uses the kernel's own
 * collections (lib/vec.h, lib/hashmap.h) on the heap under test.
 */
#include "kernel/kalloc.h"
#include "kernel/kheap.h"
#include "kernel/ktest.h"
#include "kernel/memory.h"
#include "kernel/options.h"
#include "lib/hashmap.h"
#include "lib/rng.h"
#include "lib/vec.h"
#include "mm/layout.h"

#define OPERATIONS   60000
#define SCRATCH_PAGES 4096   /* pages of the scratch window the test maps into */

struct object {
	uint8_t *p;
	size_t size;
	uint8_t pattern;
};

struct block {
	uint64_t pa;
	unsigned order;
	uint8_t pattern;
};

struct stress {
	struct rng rng;
	size_t budget;             /* bytes of live objects allowed: a quarter of the heap's limit */
	size_t live_bytes;
	struct vec objects;        /* struct object */
	struct vec blocks;         /* struct block */
	struct hashmap mappings;   /* scratch page -> frame */
	uint64_t done[5];          /* operations that succeeded, by kind */
};

static void fill(void *p, size_t n, uint8_t pattern)
{
	memset(p, pattern, n);
}

static void expect_filled(const void *p, size_t n, uint8_t pattern, const char *what)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		KT_ASSERT_MSG(b[i] == pattern, "%s at %p: byte %zu is 0x%02x, expected 0x%02x", what, p, i, b[i], pattern);
}

static void new_object(struct stress *s)
{
	struct object o = { .size = 1 + rng_below(&s->rng, rng_one_in(&s->rng, 8) ? 16384 : 256),
	                    .pattern = (uint8_t)rng_next(&s->rng) };

	if (s->live_bytes + o.size > s->budget)
		return;
	o.p = kmalloc(o.size);
	if (!o.p && options.heap == HEAP_BUMP)
		return;   /* a bump heap reuses nothing while objects live: running out is its nature */
	KT_ASSERT_MSG(o.p, "kmalloc(%zu) failed with %zu bytes live", o.size, s->live_bytes);
	s->live_bytes += o.size;
	expect_filled(o.p, o.size, 0, "a fresh object");
	fill(o.p, o.size, o.pattern);
	KT_ASSERT_EQ(vec_push(&s->objects, &o), VEC_OK);
	s->done[0]++;
}

static void free_object(struct stress *s, size_t i)
{
	struct object o;

	KT_ASSERT_EQ(vec_get(&s->objects, i, &o), VEC_OK);
	expect_filled(o.p, o.size, o.pattern, "an object");
	kfree(o.p);
	s->live_bytes -= o.size;
	KT_ASSERT_EQ(vec_remove(&s->objects, i, NULL), VEC_OK);
	s->done[1]++;
}

static void new_block(struct stress *s)
{
	struct block b = { .order = (unsigned)rng_below(&s->rng, 5), .pattern = (uint8_t)rng_next(&s->rng) };

	if (frame_alloc(&kernel_frames, b.order, 0, &b.pa) != FRAME_OK)
		return;   /* fragmentation may refuse a large order: fine */
	expect_filled(phys_to_virt(b.pa), PAGE_SIZE << b.order, 0, "a fresh frame");
	fill(phys_to_virt(b.pa), PAGE_SIZE << b.order, b.pattern);
	KT_ASSERT_EQ(vec_push(&s->blocks, &b), VEC_OK);
	s->done[2]++;
}

/* Mappings point at frames of live blocks: they go before a block is freed. */
static void unmap_all(struct stress *s)
{
	struct hashmap_iter it;
	uint64_t virt, frame;

	hashmap_iter_init(&it, &s->mappings);
	while (hashmap_iter_next(&it, &virt, &frame))
		KT_ASSERT_EQ(paging_unmap(&kernel_space, virt, NULL, NULL), PAGING_OK);
	hashmap_clear(&s->mappings);
}

/* The block may be mapped in the scratch window: the mappings go first. */
static void free_block(struct stress *s, size_t i)
{
	struct block b;

	unmap_all(s);
	KT_ASSERT_EQ(vec_get(&s->blocks, i, &b), VEC_OK);
	expect_filled(phys_to_virt(b.pa), PAGE_SIZE << b.order, b.pattern, "a frame block");
	KT_ASSERT_EQ(frame_free(&kernel_frames, b.pa, b.order), FRAME_OK);
	KT_ASSERT_EQ(vec_remove(&s->blocks, i, NULL), VEC_OK);
	s->done[3]++;
}

/* Maps a random scratch page to the first frame of a random live block, or unmaps it; then
 * checks what the page reads against the model. */
static void toggle_mapping(struct stress *s)
{
	uint64_t virt = SCRATCH_BASE + rng_below(&s->rng, SCRATCH_PAGES) * PAGE_SIZE, frame, phys;
	struct block b;

	if (hashmap_get(&s->mappings, virt, &frame)) {
		KT_ASSERT_EQ(paging_unmap(&kernel_space, virt, &phys, NULL), PAGING_OK);
		KT_ASSERT_EQ(phys, frame);
		KT_ASSERT(hashmap_remove(&s->mappings, virt, NULL));
	} else if (vec_len(&s->blocks) > 0) {
		KT_ASSERT_EQ(vec_get(&s->blocks, rng_below(&s->rng, vec_len(&s->blocks)), &b), VEC_OK);
		KT_ASSERT_EQ(paging_map(&kernel_space, virt, b.pa, PAGE_SIZE, PAGE_NOEXEC), PAGING_OK);
		KT_ASSERT_EQ(hashmap_put(&s->mappings, virt, b.pa), HASHMAP_OK);
		KT_ASSERT_EQ(*(volatile uint8_t *)virt, b.pattern);
	}
	s->done[4]++;
}

KTEST(stress, mixed_memory_operations)
{
	static struct stress s;

	s = (struct stress){ .rng = rng_seed(20261124), .budget = kheap_limit() / 4 };
	KT_ASSERT_EQ(vec_init_for(&s.objects, struct object, &kernel_allocator), VEC_OK);
	KT_ASSERT_EQ(vec_init_for(&s.blocks, struct block, &kernel_allocator), VEC_OK);
	hashmap_init(&s.mappings, &kernel_allocator, NULL);

	for (unsigned op = 0; op < OPERATIONS; op++) {
		uint64_t dice = rng_below(&s.rng, 100);
		if (dice < 35 && vec_len(&s.objects) < 2000)
			new_object(&s);
		else if (dice < 65 && vec_len(&s.objects) > 0)
			free_object(&s, rng_below(&s.rng, vec_len(&s.objects)));
		else if (dice < 75 && vec_len(&s.blocks) < 200)
			new_block(&s);
		else if (dice < 82 && vec_len(&s.blocks) > 0)
			free_block(&s, rng_below(&s.rng, vec_len(&s.blocks)));
		else
			toggle_mapping(&s);
		if (op % 10000 == 0) {
			KT_ASSERT_EQ(kheap_check(), HEAP_OK);
			KT_ASSERT_EQ(frame_check(&kernel_frames), FRAME_OK);
		}
	}

	unmap_all(&s);
	while (vec_len(&s.objects) > 0)
		free_object(&s, vec_len(&s.objects) - 1);
	while (vec_len(&s.blocks) > 0)
		free_block(&s, vec_len(&s.blocks) - 1);
	vec_free(&s.objects);
	vec_free(&s.blocks);
	hashmap_free(&s.mappings);
	for (unsigned kind = 0; kind < 5; kind++)
		KT_ASSERT_MSG(s.done[kind] > 500, "operation kind %u ran only %lu times", kind, s.done[kind]);
	KT_ASSERT_EQ(kheap_check(), HEAP_OK);
	KT_ASSERT_EQ(frame_check(&kernel_frames), FRAME_OK);
}
