/*
 * The walker, the mapper and the frame allocator together, as the kernel uses them: page tables
 * and mapped frames both come from the real frame allocator over simulated memory.  A reference
 * model (page -> frame) checks every translation, and frame accounting checks that no frame is
 * handed out twice and none is lost: free + tables + mapped frames stays equal to what was free
 * at the start, and unmapping everything gives every frame back.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "lib/rng.h"
#include "host/support/simmem.h"
#include "lib/compiler.h"
#include "mm/frame.h"
#include "mm/paging.h"

#define MEMORY      (UINT64_C(3) * GIB)   /* 1 GiB blocks exist, so 1 GiB pages get mapped */
#define VIRT_BASE   UINT64_C(0xffffc00000000000)
#define VIRT_SPAN   (UINT64_C(8) * GIB)   /* where mappings go: 8 slots of 1 GiB */
#define MAX_MAPS    4096
#define OPERATIONS  100000

struct mapped {
	uint64_t virt, phys, size;
	unsigned order;
	uint32_t flags;
};

struct world {
	struct simmem mem;
	struct frame_allocator fa;
	struct pt_access access;
	struct addr_space space;
	uint64_t tables;            /* page-table frames in use, the root included */
	struct mapped map[MAX_MAPS];
	size_t count;
	uint64_t mapped_frames;     /* frames behind live mappings */
	uint64_t free_at_start;
	uint64_t maps_by_order[19]; /* successful maps, so the run shows it went everywhere */
	uint64_t refused;           /* maps over a mapping, correctly refused */
};

static bool table_alloc(void *ctx, uint64_t *pa)
{
	struct world *w = ctx;

	if (frame_alloc(&w->fa, 0, 0, pa) != FRAME_OK)
		return false;
	w->tables++;
	return true;
}

static void table_free(void *ctx, uint64_t pa)
{
	struct world *w = ctx;

	cr_assert_eq(frame_free(&w->fa, pa, 0), FRAME_OK, "the mapper freed a table it does not own");
	w->tables--;
}

static uint64_t free_frames(struct world *w)
{
	struct frame_stats st;

	frame_stats(&w->fa, &st);
	return st.free_frames;
}

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	struct memmap map = { .count = 1, .range = { { MIB, MEMORY, MEM_USABLE } } };

	cr_assert_not_null(w);
	cr_assert(simmem_create(&w->mem, MEMORY));
	struct frame_config cfg = { .offset = simmem_offset(&w->mem), .reserve_below = MIB };
	cr_assert_eq(frame_init(&w->fa, &map, &cfg), FRAME_OK);
	w->free_at_start = free_frames(w);
	w->access = (struct pt_access){ .offset = simmem_offset(&w->mem) };
	w->space = (struct addr_space){
		.access = &w->access,
		.frames = { table_alloc, table_free, w },
		.allow_1g = true,
		.phys_limit = PHYS_ADDR_LIMIT,
	};
	cr_assert(table_alloc(w, &w->space.root));
	return w;
}

static void world_delete(struct world *w)
{
	simmem_destroy(&w->mem);
	free(w);
}

/* Frames are all accounted for: free, page tables, or behind a mapping. */
static void assert_accounted(struct world *w)
{
	cr_assert_eq(free_frames(w) + w->tables + w->mapped_frames, w->free_at_start,
	             "free %lu + tables %lu + mapped %lu != %lu", free_frames(w), w->tables, w->mapped_frames,
	             w->free_at_start);
}

static int find(struct world *w, uint64_t virt, uint64_t size)
{
	for (size_t i = 0; i < w->count; i++)
		if (virt < w->map[i].virt + w->map[i].size && w->map[i].virt < virt + size)
			return (int)i;
	return -1;
}

static void try_map(struct world *w, struct rng *rng)
{
	static const unsigned orders[] = { 0, 0, 0, 0, 0, 0, 9, 9, 18 };
	unsigned order = orders[rng_below(rng, ARRAY_SIZE(orders))];
	uint64_t size = PAGE_SIZE << order;
	uint64_t virt = VIRT_BASE + align_down(rng_below(rng, VIRT_SPAN), size);
	uint32_t flags = (uint32_t)rng_below(rng, PAGE_FLAGS_ALL + 1);
	uint64_t phys;
	int overlap = find(w, virt, size);

	if (w->count == MAX_MAPS || frame_alloc(&w->fa, order, FRAME_UNINIT, &phys) != FRAME_OK)
		return;
	enum paging_status s = paging_map(&w->space, virt, phys, size, flags);
	if (overlap >= 0) {
		cr_assert(s == PAGING_ERR_ALREADY_MAPPED || s == PAGING_ERR_PARENT_HUGE, "map over a mapping: %d", s);
		cr_assert_eq(frame_free(&w->fa, phys, order), FRAME_OK);
		w->refused++;
		return;
	}
	if (s == PAGING_ERR_NO_FRAMES) {   /* memory is nearly full: nothing may have changed */
		cr_assert_eq(frame_free(&w->fa, phys, order), FRAME_OK);
		return;
	}
	cr_assert_eq(s, PAGING_OK);
	w->map[w->count++] = (struct mapped){ virt, phys, size, order, flags };
	w->mapped_frames += UINT64_C(1) << order;
	w->maps_by_order[order]++;
}

static void unmap_one(struct world *w, size_t i)
{
	uint64_t phys, size;

	cr_assert_eq(paging_unmap(&w->space, w->map[i].virt, &phys, &size), PAGING_OK);
	cr_assert_eq(phys, w->map[i].phys);
	cr_assert_eq(size, w->map[i].size);
	cr_assert_eq(frame_free(&w->fa, phys, w->map[i].order), FRAME_OK, "a mapped frame was handed out twice");
	w->mapped_frames -= UINT64_C(1) << w->map[i].order;
	w->map[i] = w->map[--w->count];
}

static void check_translation(struct world *w, struct rng *rng)
{
	uint64_t virt = VIRT_BASE + rng_below(rng, VIRT_SPAN);
	int i = find(w, virt, 1);
	struct translation t = paging_translate(&w->space, virt);

	if (i < 0) {
		cr_assert_eq(t.status, PAGING_ERR_NOT_MAPPED);
		return;
	}
	cr_assert_eq(t.status, PAGING_OK);
	cr_assert_eq(t.phys, w->map[i].phys + (virt - w->map[i].virt));
	cr_assert_eq(t.page_size, w->map[i].size);
	cr_assert_eq(t.flags, w->map[i].flags);
}

Test(memory_model, mapper_and_frame_allocator_against_a_model, .timeout = 120)
{
	struct world *w = world_new();
	struct rng rng = rng_seed(42);

	for (unsigned op = 0; op < OPERATIONS; op++) {
		uint64_t dice = rng_below(&rng, 10);
		if (dice < 4)
			try_map(w, &rng);
		else if (dice < 7 && w->count > 0)
			unmap_one(w, rng_below(&rng, w->count));
		else
			check_translation(w, &rng);
		if (op % 1000 == 0) {
			assert_accounted(w);
			cr_assert_eq(frame_check(&w->fa), FRAME_OK);
		}
	}
	assert_accounted(w);
	cr_assert_gt(w->maps_by_order[0], 10000);
	cr_assert_gt(w->maps_by_order[9], 1000);
	cr_assert_gt(w->maps_by_order[18], 10);
	cr_assert_gt(w->refused, 1000);
	while (w->count > 0)
		unmap_one(w, w->count - 1);
	cr_assert_eq(w->tables, 1, "only the root table is left");
	cr_assert_eq(free_frames(w), w->free_at_start - 1);
	cr_assert_eq(frame_check(&w->fa), FRAME_OK);
	world_delete(w);
}
