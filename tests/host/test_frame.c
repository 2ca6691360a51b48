/*
 * The frame allocator over simulated memory, against a reference model: one byte per frame
 * saying unmanaged, free or used, and the head and order of every live block.  The model decides
 * on its own, from the map, what every free must return; the allocator must agree, and
 * frame_check() must pass, after thousands of random operations mixed with hostile ones.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "host/support/simmem.h"
#include "lib/compiler.h"
#include "mm/frame.h"
#include "mm/page.h"

#define R(start, end, kind) { (start), (end), (kind) }

#define LINKS_BYTES 16        /* what a free block on a list keeps for itself; the rest may be poisoned */
#define LIST_END    UINT64_MAX  /* how mm/frame.c ends a free list, for the corruption tests */

/* ---- the model ------------------------------------------------------------------------------ */

enum model_frame { UNMANAGED, FREE, USED };

struct block {
	uint64_t pa;
	unsigned order;
};

struct model {
	struct simmem mem;
	struct memmap map;
	struct frame_config cfg;
	struct frame_allocator fa;

	uint64_t frames;      /* frames [0, frames) are modelled: up to the top of the map */
	uint8_t *frame;       /* enum model_frame per frame */
	uint8_t *head;        /* order + 1 at the head of each live block, else 0 */
	uint32_t *slot;       /* index into live[] of the block whose head this is */
	struct block *live;   /* blocks handed out (boot page tables count as order-0 blocks) */
	size_t live_count;
	uint64_t managed;
	uint64_t used;
	struct block recent[8];  /* recently freed, for double frees */
	size_t recent_count;
	uint64_t seen[FRAME_ERR_BAD_MAP + 1];  /* statuses met by alloc and free, so a workout can show
	                                        * it went where it meant to */
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	cr_assert_not_null(p);
	return p;
}

static uint64_t map_top(const struct memmap *map)
{
	return map->count ? map->range[map->count - 1].end : PAGE_SIZE;
}

static void mark_live(struct model *m, uint64_t pa, unsigned order)
{
	uint64_t f = pa / PAGE_SIZE;

	for (uint64_t i = 0; i < (UINT64_C(1) << order); i++) {
		cr_assert_eq(m->frame[f + i], FREE, "frame %#" PRIx64 " handed out twice or unmanaged",
		             (f + i) * PAGE_SIZE);
		m->frame[f + i] = USED;
	}
	m->head[f] = (uint8_t)(order + 1);
	m->slot[f] = (uint32_t)m->live_count;
	m->live[m->live_count++] = (struct block){ pa, order };
	m->used += UINT64_C(1) << order;
}

static void mark_freed(struct model *m, uint64_t pa)
{
	uint64_t f = pa / PAGE_SIZE;
	unsigned order = m->head[f] - 1u;
	uint32_t slot = m->slot[f];

	for (uint64_t i = 0; i < (UINT64_C(1) << order); i++)
		m->frame[f + i] = FREE;
	m->head[f] = 0;
	m->live[slot] = m->live[--m->live_count];
	m->slot[m->live[slot].pa / PAGE_SIZE] = slot;
	m->used -= UINT64_C(1) << order;
	m->recent[m->recent_count++ % ARRAY_SIZE(m->recent)] = (struct block){ pa, order };
}

/* What frame_init must have made of `m->map`, worked out from the map alone, except where the
 * metadata went, which is checked: page-aligned, the end of the highest usable range above the
 * reserve that can hold it. */
static void model_from_map(struct model *m)
{
	struct frame_stats st;
	uint64_t floor = align_up(m->cfg.reserve_below, PAGE_SIZE);
	bool meta_placed = false;

	frame_stats(&m->fa, &st);
	cr_assert(is_aligned(st.metadata_phys, PAGE_SIZE) && is_aligned(st.metadata_bytes, PAGE_SIZE));
	cr_assert_gt(st.metadata_bytes, 0);
	for (size_t i = 0; i < m->map.count; i++) {
		const struct mem_range *r = &m->map.range[i];
		uint64_t start = r->start > floor ? r->start : floor;

		if (r->kind == MEM_USABLE && start <= st.metadata_phys && st.metadata_phys + st.metadata_bytes == r->end)
			meta_placed = true;
		else if (r->kind == MEM_USABLE && meta_placed)
			cr_assert_lt(r->end - start, st.metadata_bytes, "a higher range could hold the metadata");
		for (uint64_t pa = start; pa < r->end; pa += PAGE_SIZE) {
			bool in_meta = pa >= st.metadata_phys && pa < st.metadata_phys + st.metadata_bytes;
			if (r->kind == MEM_USABLE && !in_meta) {
				m->frame[pa / PAGE_SIZE] = FREE;
				m->managed++;
			} else if (r->kind == MEM_BOOT_PAGE_TABLES) {
				m->frame[pa / PAGE_SIZE] = FREE;
				m->managed++;
				mark_live(m, pa, 0);
			}
		}
	}
	cr_assert(meta_placed, "metadata [%#" PRIx64 ", +%#" PRIx64 ") is not the end of a usable range",
	          st.metadata_phys, st.metadata_bytes);
}

/* A model of `n` ranges and an allocator built on them, which must succeed. */
static struct model *model_new(const struct mem_range *ranges, size_t n, uint64_t reserve_below, bool poison)
{
	struct model *m = xcalloc(1, sizeof(*m));

	m->map.count = n;
	memcpy(m->map.range, ranges, n * sizeof(*ranges));
	cr_assert(simmem_create(&m->mem, map_top(&m->map)));
	m->cfg = (struct frame_config){ simmem_offset(&m->mem), reserve_below, poison };
	enum frame_status status = frame_init(&m->fa, &m->map, &m->cfg);
	cr_assert_eq(status, FRAME_OK, "frame_init: %s", frame_status_message(status));
	m->frames = map_top(&m->map) / PAGE_SIZE;
	m->frame = xcalloc(m->frames, 1);
	m->head = xcalloc(m->frames, 1);
	m->slot = xcalloc(m->frames, sizeof(*m->slot));
	m->live = xcalloc(m->frames, sizeof(*m->live));
	model_from_map(m);
	return m;
}

static void model_delete(struct model *m)
{
	simmem_destroy(&m->mem);
	free(m->frame);
	free(m->head);
	free(m->slot);
	free(m->live);
	free(m);
}

static bool model_is_free(const struct model *m, uint64_t f)
{
	return f < m->frames && m->frame[f] == FREE;
}

/* The status frame_free(pa, order) must return, from the model alone. */
static enum frame_status expected_free(const struct model *m, uint64_t pa, unsigned order)
{
	if (order > FRAME_MAX_ORDER)
		return FRAME_ERR_BAD_ORDER;
	if (!is_aligned(pa, PAGE_SIZE << order))
		return FRAME_ERR_MISALIGNED;
	uint64_t f = pa / PAGE_SIZE;
	if (f < m->frames && m->head[f] != 0)
		return m->head[f] - 1u == order ? FRAME_OK : FRAME_ERR_WRONG_ORDER;
	if (model_is_free(m, f))
		return FRAME_ERR_DOUBLE_FREE;
	return FRAME_ERR_NOT_ALLOCATED;
}

/* True if some naturally aligned run of 2^order frames is all free: then alloc must not fail. */
static bool model_has_free_block(const struct model *m, unsigned order)
{
	uint64_t n = UINT64_C(1) << order;

	for (uint64_t f = 0; f + n <= m->frames; f += n) {
		uint64_t i = 0;
		while (i < n && m->frame[f + i] == FREE)
			i++;
		if (i == n)
			return true;
	}
	return false;
}

static void assert_stats_agree(const struct model *m)
{
	struct frame_stats st;
	uint64_t sum = 0;

	frame_stats(&m->fa, &st);
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
		sum += st.free_blocks[order] << order;
	cr_assert_eq(st.managed_frames, m->managed);
	cr_assert_eq(st.free_frames, m->managed - m->used, "free %" PRIu64 ", model %" PRIu64, st.free_frames,
	             m->managed - m->used);
	cr_assert_eq(sum, st.free_frames);
	cr_assert_leq(st.cached_frames, st.free_blocks[0]);
	cr_assert_leq(st.cached_frames, FRAME_CACHE_SIZE);
}

static void assert_sound(const struct model *m)
{
	enum frame_status status = frame_check(&m->fa);

	cr_assert_eq(status, FRAME_OK, "frame_check: %s", frame_status_message(status));
	assert_stats_agree(m);
}

/* ---- operations through the model --------------------------------------------------------- */

static uint8_t pattern_of(uint64_t pa) { return (uint8_t)(0xa1 ^ (pa >> PAGE_SHIFT)); }

static bool bytes_are(const uint8_t *p, size_t n, uint8_t value)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != value)
			return false;
	return true;
}

/* Zeroed blocks are checked whole up to 64 KiB, beyond that their first and last frames. */
static void assert_zeroed(const struct model *m, uint64_t pa, unsigned order)
{
	uint64_t bytes = PAGE_SIZE << order;
	const uint8_t *p = simmem_ptr(&m->mem, pa);

	if (order <= 4) {
		cr_assert(bytes_are(p, bytes, 0), "block %#" PRIx64 " order %u not zeroed", pa, order);
	} else {
		cr_assert(bytes_are(p, PAGE_SIZE, 0) && bytes_are(p + bytes - PAGE_SIZE, PAGE_SIZE, 0),
		          "block %#" PRIx64 " order %u not zeroed", pa, order);
	}
}

/* What a user does with a block: writes over it (small blocks whole, big ones at both ends). */
static void scribble(const struct model *m, uint64_t pa, unsigned order)
{
	uint64_t bytes = PAGE_SIZE << order;
	uint8_t *p = simmem_ptr(&m->mem, pa);

	if (order <= 4) {
		memset(p, pattern_of(pa), bytes);
	} else {
		memset(p, pattern_of(pa), PAGE_SIZE);
		memset(p + bytes - PAGE_SIZE, pattern_of(pa), PAGE_SIZE);
	}
}

/* Allocates through the model: a block must be free in the model, naturally aligned and zeroed
 * unless FRAME_UNINIT; NO_MEMORY only if the model has no free aligned run of that order. */
static enum frame_status model_alloc(struct model *m, unsigned order, unsigned flags, uint64_t *out)
{
	uint64_t pa = UINT64_MAX;
	enum frame_status status = frame_alloc(&m->fa, order, flags, &pa);

	cr_assert_leq(status, FRAME_ERR_BAD_MAP);
	m->seen[status]++;
	if (status == FRAME_ERR_NO_MEMORY) {
		cr_assert(!model_has_free_block(m, order), "NO_MEMORY for order %u, yet the model has a free block",
		          order);
		cr_assert_eq(pa, UINT64_MAX, "*pa written on error");
		return status;
	}
	cr_assert_eq(status, FRAME_OK, "alloc order %u: %s", order, frame_status_message(status));
	cr_assert(is_aligned(pa, PAGE_SIZE << order), "block %#" PRIx64 " misaligned for order %u", pa, order);
	cr_assert_lt(pa / PAGE_SIZE + (UINT64_C(1) << order) - 1, m->frames);
	mark_live(m, pa, order);
	if (!(flags & FRAME_UNINIT))
		assert_zeroed(m, pa, order);
	scribble(m, pa, order);
	if (out != NULL)
		*out = pa;
	return status;
}

/* Frees through the model: the status must be what the model predicts, and a refused free
 * must change nothing. */
static void model_free(struct model *m, uint64_t pa, unsigned order)
{
	struct frame_stats before, after;
	enum frame_status want = expected_free(m, pa, order);

	frame_stats(&m->fa, &before);
	enum frame_status got = frame_free(&m->fa, pa, order);
	cr_assert_eq(got, want, "free(%#" PRIx64 ", %u): \"%s\", want \"%s\"", pa, order, frame_status_message(got),
	             frame_status_message(want));
	m->seen[got]++;
	if (got == FRAME_OK) {
		mark_freed(m, pa);
	} else {
		frame_stats(&m->fa, &after);
		cr_assert(memcmp(&before, &after, sizeof(before)) == 0, "a refused free changed the stats");
	}
}

/* model_free, when the test knows the answer too. */
static void assert_free(struct model *m, uint64_t pa, unsigned order, enum frame_status want)
{
	cr_assert_eq(expected_free(m, pa, order), want, "the model disagrees with the test about %#" PRIx64, pa);
	model_free(m, pa, order);
	assert_sound(m);
}

static void free_everything(struct model *m, struct rng *rng)
{
	while (m->live_count != 0) {
		const struct block *b = &m->live[rng_below(rng, m->live_count)];
		model_free(m, b->pa, b->order);
	}
}

/* Orders weighted toward small ones, as a kernel asks for them; now and then a huge one. */
static unsigned random_order(struct rng *rng)
{
	uint64_t r = rng_below(rng, 1000);

	if (r < 550)
		return 0;
	if (r < 700)
		return 1;
	if (r < 800)
		return 2;
	if (r < 870)
		return 3;
	if (r < 940)
		return 4 + (unsigned)rng_below(rng, 4);
	if (r < 990)
		return 8 + (unsigned)rng_below(rng, 4);
	return 12 + (unsigned)rng_below(rng, FRAME_MAX_ORDER - 12 + 1);
}

/* An address a buggy or hostile caller might pass to frame_free. */
static void hostile_free(struct model *m, struct rng *rng)
{
	uint64_t top = m->frames * PAGE_SIZE;
	unsigned order = (unsigned)rng_below(rng, 6);
	uint64_t pa;
	struct frame_stats st;

	frame_stats(&m->fa, &st);
	switch (rng_below(rng, 10)) {
	case 0:  /* a live block, any order */
		if (m->live_count == 0)
			return;
		pa = m->live[rng_below(rng, m->live_count)].pa;
		order = (unsigned)rng_below(rng, FRAME_MAX_ORDER + 3);
		break;
	case 1:  /* inside a live block */
		if (m->live_count == 0)
			return;
		pa = m->live[rng_below(rng, m->live_count)].pa + PAGE_SIZE * rng_below(rng, 4);
		break;
	case 2:  /* a live block, misaligned */
		if (m->live_count == 0)
			return;
		pa = m->live[rng_below(rng, m->live_count)].pa + 1 + rng_below(rng, PAGE_SIZE - 1);
		order = 0;
		break;
	case 3:  /* freed a moment ago */
		if (m->recent_count == 0)
			return;
	{
		const struct block *b = &m->recent[rng_below(rng, m->recent_count < 8 ? m->recent_count : 8)];
		pa = b->pa;
		order = b->order;
		break;
	}
	case 4:  /* anywhere in the map, or a little past it */
		pa = align_down(rng_below(rng, top + top / 8), PAGE_SIZE);
		break;
	case 5:  /* the metadata */
		pa = st.metadata_phys + align_down(rng_below(rng, st.metadata_bytes), PAGE_SIZE);
		order = 0;
		break;
	case 6:  /* below the reserve */
		pa = align_down(rng_below(rng, m->cfg.reserve_below + 1), PAGE_SIZE);
		break;
	case 7:  /* far outside: the top of the physical address space and beyond */
		pa = align_down(PHYS_ADDR_LIMIT - 1 - rng_below(rng, GIB), PAGE_SIZE) << rng_below(rng, 12);
		break;
	case 8:  /* an order too big */
		pa = top / 2;
		order = FRAME_MAX_ORDER + 1 + (unsigned)rng_below(rng, 100);
		break;
	default:  /* any free frame: never handed out, or inside a free block */
		pa = align_down(rng_below(rng, top), PAGE_SIZE);
		order = 0;
		break;
	}
	model_free(m, pa, order);
}

/*
 * The random workout: phases that lean on alloc then on free, so the allocator both runs dry
 * and empties; about one operation in eight is hostile.  frame_check every 1024 operations.
 */
static void workout(struct model *m, uint64_t seed, unsigned ops)
{
	struct rng rng = rng_seed(seed);

	assert_sound(m);
	for (unsigned i = 1; i <= ops; i++) {
		bool filling = (i / 4096) % 2 == 0;
		uint64_t r = rng_below(&rng, 8);

		if (r == 0) {
			hostile_free(m, &rng);
		} else if (m->live_count == 0 || r <= (filling ? 5u : 2u)) {
			unsigned order = random_order(&rng);
			unsigned flags = order >= 8 || rng_one_in(&rng, 2) ? FRAME_UNINIT : 0;
			model_alloc(m, order, flags, NULL);
		} else {
			const struct block *b = &m->live[rng_below(&rng, m->live_count)];
			model_free(m, b->pa, b->order);
		}
		assert_stats_agree(m);
		if (i % 1024 == 0)
			assert_sound(m);
	}
	assert_sound(m);
	free_everything(m, &rng);
	cr_assert_eq(frame_drain_cache(&m->fa), FRAME_OK);
	assert_sound(m);
	/* the workout met every answer alloc and free can give on a sound allocator */
	for (int status = FRAME_OK; status <= FRAME_ERR_WRONG_ORDER; status++)
		cr_assert_gt(m->seen[status], 0, "never saw \"%s\"", frame_status_message(status));
}

/* ---- maps ----------------------------------------------------------------------------------- */

/* A PC: low memory, the legacy hole, then RAM up to 128 MiB. */
static const struct mem_range pc_map[] = {
	R(0, 0x9f000, MEM_USABLE),
	R(0x9f000, 0x100000, MEM_RESERVED),
	R(0x100000, 128 * MIB, MEM_USABLE),
};

/* Many ranges and holes, edges on odd pages, none aligned to anything big. */
static const struct mem_range holes_map[] = {
	R(0, 0x9f000, MEM_USABLE),
	R(0xf0000, 0x100000, MEM_RESERVED),
	R(0x100000, 0x1000000 + 0x3000, MEM_USABLE),
	R(0x1000000 + 0x3000, 0x1000000 + 0x5000, MEM_ACPI_RECLAIMABLE),
	R(0x1000000 + 0x5000, 0x2345000, MEM_USABLE),
	R(0x2345000, 0x2400000, MEM_KERNEL),
	R(0x2400000, 0x2400000 + 0x7000, MEM_USABLE),
	R(0x2500000, 0x3fff000, MEM_USABLE),
	R(0x3fff000, 0x4000000, MEM_BAD),
	R(0x4001000, 0x5ffd000, MEM_USABLE),
	R(0x6000000, 0x6100000, MEM_ACPI_NVS),
	R(0x6100000 + 0x1000, 0x6100000 + 0x2000, MEM_USABLE),
	R(0x6200000, 0x7f00000 + 0x9000, MEM_USABLE),
	R(0x8000000, 0x8001000, MEM_RESERVED),
};

/* Boot page tables inside and beside usable memory, one of them below the reserve. */
static const struct mem_range boot_pt_map[] = {
	R(0x1000, 0x2000, MEM_BOOT_PAGE_TABLES),
	R(0x2000, 0x9f000, MEM_USABLE),
	R(0x100000, 0x200000, MEM_USABLE),
	R(0x200000, 0x206000, MEM_BOOT_PAGE_TABLES),
	R(0x206000, 0x2000000, MEM_USABLE),
	R(0x2000000, 0x2001000, MEM_BOOT_PAGE_TABLES),
	R(0x2100000, 0x2103000, MEM_BOOT_PAGE_TABLES),
	R(0x2103000, 0x4000000, MEM_USABLE),
};

/* A handful of frames: the metadata takes one, seven are left. */
static const struct mem_range tiny_map[] = {
	R(0, 0x9f000, MEM_USABLE),
	R(0x100000, 0x108000, MEM_USABLE),
};

/* Two GiB-sized ranges around a hole: whole chunks, lazy and untouched at first. */
static const struct mem_range gib_map[] = {
	R(0x100000, 0xc0000000, MEM_USABLE),
	R(0xc0000000, 0x100000000, MEM_RESERVED),
	R(0x100000000, 0x180000000 + 0x5000, MEM_USABLE),
};

#define MODEL(map) model_new((map), ARRAY_SIZE(map), MIB, false)

/* ---- init ----------------------------------------------------------------------------------- */

Test(frame_init, single_range_is_all_free_but_the_metadata)
{
	struct model *m = MODEL(pc_map);
	struct frame_stats st;

	frame_stats(&m->fa, &st);
	/* a chunk descriptor and a byte per frame of [1 MiB, 128 MiB): 32552 bytes, 8 pages */
	cr_assert_eq(st.metadata_bytes, 8 * PAGE_SIZE);
	cr_assert_eq(st.metadata_phys, 128 * MIB - 8 * PAGE_SIZE, "metadata not at the top");
	cr_assert_eq(st.managed_frames, (127 * MIB - st.metadata_bytes) / PAGE_SIZE);
	cr_assert_eq(st.free_frames, st.managed_frames);
	cr_assert_eq(st.cached_frames, 0);
	/* up from 1 MiB, blocks of orders 8, 9, ..., 13 (at 32 MiB), then down again: 13 (at 64 MiB),
	 * 12, ..., 3 (ending at 128 MiB - 32 KiB) */
	static const uint64_t want[FRAME_MAX_ORDER + 1] = { [3] = 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2 };
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
		cr_assert_eq(st.free_blocks[order], want[order], "order %u: %" PRIu64 " blocks, want %" PRIu64, order,
		             st.free_blocks[order], want[order]);
	assert_sound(m);
	model_delete(m);
}

Test(frame_init, tiny_map_gives_exactly_its_frames)
{
	struct model *m = MODEL(tiny_map);
	struct frame_stats st;
	uint64_t got = 0, pa;

	frame_stats(&m->fa, &st);
	cr_assert_eq(st.metadata_bytes, PAGE_SIZE);
	cr_assert_eq(st.managed_frames, 7);
	while (model_alloc(m, 0, 0, &pa) == FRAME_OK)
		got++;
	cr_assert_eq(got, 7);
	assert_sound(m);
	model_delete(m);
}

static void init_fails(const struct mem_range *ranges, size_t n, uint64_t reserve_below, enum frame_status want)
{
	struct memmap map = { .count = n };
	struct simmem mem;
	struct frame_allocator fa;
	struct frame_stats st;
	uint64_t pa = 0;

	if (n != 0)
		memcpy(map.range, ranges, n * sizeof(*ranges));
	cr_assert(simmem_create(&mem, GIB));
	struct frame_config cfg = { simmem_offset(&mem), reserve_below, false };
	enum frame_status got = frame_init(&fa, &map, &cfg);
	cr_assert_eq(got, want, "frame_init: \"%s\", want \"%s\"", frame_status_message(got), frame_status_message(want));
	/* an allocator that failed to build is empty, and safe to use */
	frame_stats(&fa, &st);
	cr_assert_eq(st.managed_frames, 0);
	cr_assert_eq(st.free_frames, 0);
	cr_assert_eq(frame_alloc(&fa, 0, 0, &pa), FRAME_ERR_NO_MEMORY);
	cr_assert_eq(frame_alloc(&fa, 5, 0, &pa), FRAME_ERR_NO_MEMORY);
	cr_assert_eq(frame_free(&fa, MIB, 0), FRAME_ERR_NOT_ALLOCATED);
	cr_assert_eq(frame_check(&fa), FRAME_OK);
	simmem_destroy(&mem);
}

#define INIT_FAILS(reserve, want, ...) do {                                  \
		static const struct mem_range ranges_[] = { __VA_ARGS__ };           \
		init_fails(ranges_, ARRAY_SIZE(ranges_), (reserve), (want));         \
	} while (0)

Test(frame_init, nothing_usable_above_the_reserve)
{
	INIT_FAILS(MIB, FRAME_ERR_NO_USABLE, R(0x1000, 0x9f000, MEM_USABLE), R(0x9f000, 0x100000, MEM_RESERVED));
	INIT_FAILS(MIB, FRAME_ERR_NO_USABLE, R(0, 64 * MIB, MEM_RESERVED));
	INIT_FAILS(MIB, FRAME_ERR_NO_USABLE, R(2 * MIB, 3 * MIB, MEM_BOOT_PAGE_TABLES));
	INIT_FAILS(64 * MIB, FRAME_ERR_NO_USABLE, R(MIB, 64 * MIB, MEM_USABLE));
	INIT_FAILS(UINT64_MAX, FRAME_ERR_NO_USABLE, R(MIB, 64 * MIB, MEM_USABLE));
	init_fails(NULL, 0, MIB, FRAME_ERR_NO_USABLE);
}

Test(frame_init, no_range_can_hold_the_metadata)
{
	/* two lone frames 512 GiB apart: the chunk table alone needs more than a frame */
	INIT_FAILS(MIB, FRAME_ERR_NO_METADATA, R(2 * MIB, 2 * MIB + PAGE_SIZE, MEM_USABLE),
	           R(512 * GIB, 512 * GIB + PAGE_SIZE, MEM_USABLE));
	/* one frame of usable memory, and boot page tables that need 254 KiB of state bytes */
	INIT_FAILS(MIB, FRAME_ERR_NO_METADATA, R(2 * MIB, 2 * MIB + PAGE_SIZE, MEM_USABLE),
	           R(4 * MIB, GIB, MEM_BOOT_PAGE_TABLES));
}

Test(frame_init, the_metadata_may_take_every_usable_frame)
{
	static const struct mem_range one_frame[] = { R(2 * MIB, 2 * MIB + PAGE_SIZE, MEM_USABLE) };
	struct model *m = MODEL(one_frame);
	uint64_t pa;

	cr_assert_eq(m->managed, 0);
	cr_assert_eq(model_alloc(m, 0, 0, &pa), FRAME_ERR_NO_MEMORY);
	assert_free(m, 2 * MIB, 0, FRAME_ERR_NOT_ALLOCATED);
	model_delete(m);
}

Test(frame_init, refuses_maps_that_are_not_normalized)
{
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(4 * MIB, 8 * MIB, MEM_USABLE), R(2 * MIB, 3 * MIB, MEM_USABLE));
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(2 * MIB, 8 * MIB, MEM_USABLE), R(4 * MIB, 5 * MIB, MEM_RESERVED));
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(2 * MIB, 4 * MIB, MEM_USABLE), R(4 * MIB, 5 * MIB, MEM_USABLE));
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(2 * MIB, 2 * MIB, MEM_USABLE));
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(3 * MIB, 2 * MIB, MEM_USABLE));
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(2 * MIB + 1, 4 * MIB, MEM_USABLE));
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(2 * MIB, 4 * MIB - 1, MEM_USABLE));
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(2 * MIB, 4 * MIB, MEM_USABLE), R(5 * MIB, 5 * MIB + 8, MEM_BOOT_PAGE_TABLES));
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(2 * MIB, 4 * MIB, MEM_USABLE), R(GIB, PHYS_ADDR_LIMIT + PAGE_SIZE, MEM_RESERVED));
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(2 * MIB, 4 * MIB, MEM_USABLE), R(5 * MIB, 6 * MIB, MEM_KIND_COUNT));
	INIT_FAILS(MIB, FRAME_ERR_BAD_MAP, R(2 * MIB, 4 * MIB, (enum mem_kind)-1));

	struct memmap map = { .count = MEMMAP_MAX + 1 };
	struct frame_allocator fa;
	struct frame_config cfg = { 0, MIB, false };
	cr_assert_eq(frame_init(&fa, &map, &cfg), FRAME_ERR_BAD_MAP);
}

Test(frame_init, boot_page_tables_start_allocated_and_free_into_merges)
{
	struct model *m = MODEL(boot_pt_map);
	struct frame_stats st;
	struct rng rng = rng_seed(7);

	/* 6 + 1 + 3 tables above the reserve; the one at 4 KiB is not managed */
	cr_assert_eq(m->live_count, 10);
	frame_stats(&m->fa, &st);
	cr_assert_eq(st.managed_frames, st.free_frames + 10);
	model_free(m, 0x1000, 0);   /* below the reserve: not ours */
	model_free(m, 0x200000, 1); /* a table, with the wrong order */
	model_free(m, 0x200000, 0);
	model_free(m, 0x200000, 0); /* twice */
	free_everything(m, &rng);
	cr_assert_eq(frame_drain_cache(&m->fa), FRAME_OK);
	assert_sound(m);

	/* freed, the tables merged with their neighbours: the free blocks are those of a map where
	 * the tables were usable all along */
	static const struct mem_range merged_map[] = {
		R(0x1000, 0x9f000, MEM_USABLE),
		R(0x100000, 0x2001000, MEM_USABLE),
		R(0x2100000, 0x4000000, MEM_USABLE),
	};
	struct model *merged = MODEL(merged_map);
	struct frame_stats want;
	frame_stats(&m->fa, &st);
	frame_stats(&merged->fa, &want);
	cr_assert(memcmp(&st, &want, sizeof(st)) == 0, "freed boot page tables did not merge");
	model_delete(merged);
	model_delete(m);
}

/* ---- random workouts against the model --------------------------------------------------------- */

Test(frame_random, pc_map) { struct model *m = MODEL(pc_map); workout(m, 1, 100000); model_delete(m); }
Test(frame_random, holes_map) { struct model *m = MODEL(holes_map); workout(m, 2, 100000); model_delete(m); }
Test(frame_random, boot_pt_map) { struct model *m = MODEL(boot_pt_map); workout(m, 3, 100000); model_delete(m); }
Test(frame_random, tiny_map) { struct model *m = MODEL(tiny_map); workout(m, 4, 100000); model_delete(m); }
Test(frame_random, gib_map) { struct model *m = MODEL(gib_map); workout(m, 5, 100000); model_delete(m); }

Test(frame_random, poisoned_holes_map)
{
	struct model *m = model_new(holes_map, ARRAY_SIZE(holes_map), MIB, true);

	workout(m, 6, 30000);
	model_delete(m);
}

Test(frame_random, reserve_zero_manages_frame_zero)
{
	struct model *m = model_new(holes_map, ARRAY_SIZE(holes_map), 0, false);

	cr_assert_eq(m->frame[0], FREE);
	workout(m, 8, 30000);
	model_delete(m);
}

Test(frame_random, unaligned_reserve_rounds_up)
{
	struct model *m = model_new(pc_map, ARRAY_SIZE(pc_map), MIB + 1, false);

	cr_assert_eq(m->frame[MIB / PAGE_SIZE], UNMANAGED);
	cr_assert_eq(m->frame[MIB / PAGE_SIZE + 1], FREE);
	assert_free(m, MIB, 0, FRAME_ERR_NOT_ALLOCATED);
	workout(m, 9, 30000);
	model_delete(m);
}

/* ---- exact errors --------------------------------------------------------------------------- */

Test(frame_errors, double_free_of_order_0_in_and_out_of_the_cache)
{
	struct model *m = MODEL(pc_map);
	uint64_t a, b;

	model_alloc(m, 0, 0, &a);
	model_alloc(m, 0, 0, &b);
	assert_free(m, a, 0, FRAME_OK);
	assert_free(m, a, 0, FRAME_ERR_DOUBLE_FREE);  /* a sits in the cache */
	assert_free(m, a, 3, a % (8 * PAGE_SIZE) ? FRAME_ERR_MISALIGNED : FRAME_ERR_DOUBLE_FREE);
	cr_assert_eq(frame_drain_cache(&m->fa), FRAME_OK);
	assert_free(m, a, 0, FRAME_ERR_DOUBLE_FREE);  /* a is on a list now, maybe merged */
	assert_free(m, b, 0, FRAME_OK);
	assert_free(m, b, 0, FRAME_ERR_DOUBLE_FREE);
	model_delete(m);
}

/*
 * frame_free takes back the frame the last order-0 alloc handed out by looking at the cache slot
 * that alloc left behind, without a lookup.  That shortcut must refuse exactly what the lookup
 * refuses: freeing the same frame again, freeing it with another order, and freeing frames
 * allocated earlier, which must come back by the ordinary path.
 */
Test(frame_errors, the_last_allocated_frame_takes_the_shortcut_and_nothing_else_does)
{
	struct model *m = MODEL(pc_map);
	uint64_t a, b, c;

	model_alloc(m, 0, FRAME_UNINIT, &a);
	model_alloc(m, 0, FRAME_UNINIT, &b);
	assert_free(m, b, 0, FRAME_OK);                       /* the shortcut */
	assert_free(m, b, 0, FRAME_ERR_DOUBLE_FREE);          /* b is cached now, not above the top */
	model_alloc(m, 0, FRAME_UNINIT, &c);                  /* b again, most likely */
	assert_free(m, a, 0, FRAME_OK);                       /* not the last one: the lookup */
	assert_free(m, c, 1, c % (2 * PAGE_SIZE) ? FRAME_ERR_MISALIGNED : FRAME_ERR_WRONG_ORDER);
	assert_free(m, c, 0, FRAME_OK);
	assert_free(m, c, 0, FRAME_ERR_DOUBLE_FREE);
	assert_free(m, a, 0, FRAME_ERR_DOUBLE_FREE);
	for (int i = 0; i < 200; i++) {                       /* past a cache refill and drain */
		model_alloc(m, 0, FRAME_UNINIT, &a);
		assert_free(m, a, 0, FRAME_OK);
		assert_free(m, a, 0, FRAME_ERR_DOUBLE_FREE);
	}
	cr_assert_eq(frame_check(&m->fa), FRAME_OK);
	model_delete(m);
}

Test(frame_errors, double_free_of_a_bigger_block)
{
	struct model *m = MODEL(pc_map);
	uint64_t a, b;

	model_alloc(m, 3, 0, &a);
	model_alloc(m, 3, 0, &b);
	assert_free(m, a, 3, FRAME_OK);
	assert_free(m, a, 3, FRAME_ERR_DOUBLE_FREE);
	assert_free(m, b, 3, FRAME_OK);             /* merges with a, most likely */
	assert_free(m, b, 3, FRAME_ERR_DOUBLE_FREE);
	assert_free(m, a, 3, FRAME_ERR_DOUBLE_FREE);
	model_delete(m);
}

Test(frame_errors, interior_wrong_order_and_misaligned)
{
	struct model *m = MODEL(pc_map);
	uint64_t a;

	model_alloc(m, 3, 0, &a);
	assert_free(m, a + PAGE_SIZE, 0, FRAME_ERR_NOT_ALLOCATED);
	assert_free(m, a + 2 * PAGE_SIZE, 1, FRAME_ERR_NOT_ALLOCATED);
	assert_free(m, a + 4 * PAGE_SIZE, 2, FRAME_ERR_NOT_ALLOCATED);
	assert_free(m, a, 0, FRAME_ERR_WRONG_ORDER);
	assert_free(m, a, 2, FRAME_ERR_WRONG_ORDER);
	assert_free(m, a + 1, 0, FRAME_ERR_MISALIGNED);
	assert_free(m, a + 8, 3, FRAME_ERR_MISALIGNED);
	assert_free(m, a + PAGE_SIZE, 3, FRAME_ERR_MISALIGNED);
	assert_free(m, a, 3, FRAME_OK);
	model_delete(m);
}

Test(frame_errors, addresses_the_allocator_does_not_own)
{
	struct model *m = MODEL(holes_map);
	struct frame_stats st;

	frame_stats(&m->fa, &st);
	assert_free(m, 0, 0, FRAME_ERR_NOT_ALLOCATED);                       /* below the reserve */
	assert_free(m, 0x5000, 0, FRAME_ERR_NOT_ALLOCATED);
	assert_free(m, 0xff000, 0, FRAME_ERR_NOT_ALLOCATED);                 /* reserved */
	assert_free(m, 0x1000000 + 0x3000, 0, FRAME_ERR_NOT_ALLOCATED);      /* ACPI, between usable ranges */
	assert_free(m, 0x2400000 + 0x7000, 0, FRAME_ERR_NOT_ALLOCATED);      /* a hole inside a chunk's span */
	assert_free(m, st.metadata_phys, 0, FRAME_ERR_NOT_ALLOCATED);        /* the metadata */
	assert_free(m, st.metadata_phys + st.metadata_bytes - PAGE_SIZE, 0, FRAME_ERR_NOT_ALLOCATED);
	assert_free(m, 0x8000000, 0, FRAME_ERR_NOT_ALLOCATED);               /* past the last usable range */
	assert_free(m, 7 * GIB, 0, FRAME_ERR_NOT_ALLOCATED);                 /* past the map */
	assert_free(m, GIB, FRAME_MAX_ORDER, FRAME_ERR_NOT_ALLOCATED);
	assert_free(m, PHYS_ADDR_LIMIT, 0, FRAME_ERR_NOT_ALLOCATED);
	assert_free(m, UINT64_MAX & ~(PAGE_SIZE - 1), 0, FRAME_ERR_NOT_ALLOCATED);
	assert_free(m, UINT64_MAX, 0, FRAME_ERR_MISALIGNED);
	model_delete(m);
}

Test(frame_errors, never_allocated_frames_are_free_already)
{
	struct model *m = MODEL(pc_map);

	assert_free(m, 2 * MIB, 9, FRAME_ERR_DOUBLE_FREE);   /* the head of a free block */
	assert_free(m, 2 * MIB, 0, FRAME_ERR_DOUBLE_FREE);
	assert_free(m, 2 * MIB + 5 * PAGE_SIZE, 0, FRAME_ERR_DOUBLE_FREE);  /* inside one */
	assert_free(m, 64 * MIB + 64 * PAGE_SIZE, 6, FRAME_ERR_DOUBLE_FREE);
	model_delete(m);
}

Test(frame_errors, bad_orders)
{
	struct model *m = MODEL(pc_map);
	uint64_t pa = 42;

	cr_assert_eq(frame_alloc(&m->fa, FRAME_MAX_ORDER + 1, 0, &pa), FRAME_ERR_BAD_ORDER);
	cr_assert_eq(frame_alloc(&m->fa, ~0u, FRAME_UNINIT, &pa), FRAME_ERR_BAD_ORDER);
	cr_assert_eq(pa, 42);
	assert_free(m, 0, FRAME_MAX_ORDER + 1, FRAME_ERR_BAD_ORDER);
	assert_free(m, 4 * MIB, ~0u, FRAME_ERR_BAD_ORDER);
	model_delete(m);
}

Test(frame_errors, no_memory)
{
	struct model *m = MODEL(tiny_map);
	uint64_t pa;

	cr_assert_eq(model_alloc(m, 3, 0, &pa), FRAME_ERR_NO_MEMORY);  /* 7 frames never make 8 */
	cr_assert_eq(model_alloc(m, FRAME_MAX_ORDER, 0, &pa), FRAME_ERR_NO_MEMORY);
	cr_assert_eq(model_alloc(m, 2, 0, &pa), FRAME_OK);
	cr_assert_eq(model_alloc(m, 2, 0, &pa), FRAME_ERR_NO_MEMORY);
	assert_sound(m);
	model_delete(m);
}

/* ---- exhaustion ----------------------------------------------------------------------------- */

/* Allocates everything at `order` and below, biggest first; every frame must come out. */
static void exhaust(struct model *m, unsigned order)
{
	for (unsigned o = order + 1; o-- > 0;)
		while (model_alloc(m, o, FRAME_UNINIT, NULL) == FRAME_OK)
			continue;
	cr_assert_eq(m->used, m->managed);
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		cr_assert_eq(model_alloc(m, o, 0, NULL), FRAME_ERR_NO_MEMORY);
	assert_sound(m);
}

static unsigned largest_free_order(const struct frame_stats *st)
{
	unsigned order = FRAME_MAX_ORDER;

	while (st->free_blocks[order] == 0)
		order--;
	return order;
}

/* Exhausts and frees everything twice over; the free blocks must come back exactly. */
static void exhaust_and_recover(const struct mem_range *ranges, size_t n, uint64_t seed)
{
	struct model *m = model_new(ranges, n, MIB, false);
	struct rng rng = rng_seed(seed);
	struct frame_stats start, now;

	frame_stats(&m->fa, &start);
	unsigned top = largest_free_order(&start);
	const unsigned orders[] = { 0, top };  /* one frame at a time, then biggest first */
	for (size_t i = 0; i < ARRAY_SIZE(orders); i++) {
		exhaust(m, orders[i]);
		free_everything(m, &rng);
		cr_assert_eq(frame_drain_cache(&m->fa), FRAME_OK);
		assert_sound(m);
		frame_stats(&m->fa, &now);
		cr_assert(memcmp(&start, &now, sizeof(start)) == 0, "the free blocks did not merge back");
	}
	/* merging works: the biggest block is there again */
	cr_assert_eq(model_alloc(m, top, FRAME_UNINIT, NULL), FRAME_OK);
	model_delete(m);
}

Test(frame_exhaust, pc_map) { exhaust_and_recover(pc_map, ARRAY_SIZE(pc_map), 11); }
Test(frame_exhaust, holes_map) { exhaust_and_recover(holes_map, ARRAY_SIZE(holes_map), 12); }
Test(frame_exhaust, tiny_map) { exhaust_and_recover(tiny_map, ARRAY_SIZE(tiny_map), 13); }

Test(frame_exhaust, the_cache_gives_back_what_a_big_alloc_needs)
{
	struct model *m = MODEL(tiny_map);
	uint64_t pa;

	/* take every frame one by one, give them back: they wait in the cache, unmerged */
	exhaust(m, 0);
	free_everything(m, &(struct rng){ 99 });
	struct frame_stats st;
	frame_stats(&m->fa, &st);
	cr_assert_eq(st.cached_frames, 7);
	/* an order-2 alloc must merge them rather than fail */
	cr_assert_eq(model_alloc(m, 2, 0, &pa), FRAME_OK);
	assert_sound(m);
	model_delete(m);
}

/* ---- contents ------------------------------------------------------------------------------- */

/* Every frame handed out a second time reads `want` beyond the list links (or whole, if zero). */
static void realloc_all_and_expect(struct model *m, unsigned flags, bool zero)
{
	while (m->used < m->managed) {
		uint64_t pa = UINT64_MAX;
		cr_assert_eq(frame_alloc(&m->fa, 0, flags, &pa), FRAME_OK);
		const uint8_t *p = simmem_ptr(&m->mem, pa);
		if (zero)
			cr_assert(bytes_are(p, PAGE_SIZE, 0), "frame %#" PRIx64 " not zeroed", pa);
		else
			cr_assert(bytes_are(p + LINKS_BYTES, PAGE_SIZE - LINKS_BYTES, pattern_of(pa)),
			          "frame %#" PRIx64 " lost what its last user wrote", pa);
		mark_live(m, pa, 0);
	}
}

Test(frame_contents, frames_come_back_zeroed_after_use)
{
	struct model *m = MODEL(holes_map);
	struct rng rng = rng_seed(21);

	exhaust(m, 6);  /* model_alloc scribbles on every block */
	free_everything(m, &rng);
	realloc_all_and_expect(m, 0, true);
	model_delete(m);
}

Test(frame_contents, uninit_leaves_the_old_contents)
{
	struct model *m = MODEL(holes_map);
	struct rng rng = rng_seed(22);

	for (uint64_t i = 0; i < m->managed; i++)
		model_alloc(m, 0, FRAME_UNINIT, NULL);
	free_everything(m, &rng);
	realloc_all_and_expect(m, FRAME_UNINIT, false);
	model_delete(m);
}

/* Two order-2 blocks that are buddies, both allocated. */
static void alloc_buddies(struct model *m, uint64_t *a, uint64_t *b)
{
	for (;;) {
		cr_assert_eq(model_alloc(m, 2, 0, a), FRAME_OK);
		cr_assert_eq(model_alloc(m, 2, 0, b), FRAME_OK);
		if ((*a ^ *b) == 4 * PAGE_SIZE)
			return;
	}
}

Test(frame_contents, poison_fills_freed_blocks_and_merged_links)
{
	struct model *m = model_new(pc_map, ARRAY_SIZE(pc_map), MIB, true);
	uint64_t a, b, f;

	model_alloc(m, 0, 0, &f);
	model_free(m, f, 0);  /* cached: the whole frame is poison */
	cr_assert(bytes_are(simmem_ptr(&m->mem, f), PAGE_SIZE, FRAME_POISON_BYTE));

	alloc_buddies(m, &a, &b);
	uint64_t low = a < b ? a : b, high = a ^ b ^ low;
	model_free(m, high, 2);
	cr_assert(bytes_are(simmem_ptr(&m->mem, high) + LINKS_BYTES, 4 * PAGE_SIZE - LINKS_BYTES, FRAME_POISON_BYTE));
	/* merges with high, whose links now lie inside the merged block: they must be poisoned too */
	model_free(m, low, 2);
	cr_assert(bytes_are(simmem_ptr(&m->mem, low) + LINKS_BYTES, 8 * PAGE_SIZE - LINKS_BYTES, FRAME_POISON_BYTE));
	assert_sound(m);

	/* zeroing on alloc still wins over poison */
	model_alloc(m, 0, 0, &f);
	model_delete(m);
}

/* ---- corruption ----------------------------------------------------------------------------- */

/* Frees the lower half of `n` pairs of order-2 buddies, keeping the upper halves: the n blocks
 * cannot merge and head list 2, the last freed first. */
static void free_unmergeable(struct model *m, uint64_t *lower, uint64_t *upper, size_t n)
{
	for (size_t i = 0; i < n; i++)
		alloc_buddies(m, &lower[i], &upper[i]);
	for (size_t i = 0; i < n; i++)
		model_free(m, lower[i], 2);
}

static uint64_t *links_of(struct model *m, uint64_t pa) { return simmem_ptr(&m->mem, pa); }

/* Overwrites the links of a free block with (next, prev) and expects every door to say CORRUPT,
 * without a write anywhere it should not be: the victim frame, full of a pattern, stays so. */
static void corrupt_and_expect(uint64_t next, bool next_is_in_victim, uint64_t prev)
{
	struct model *m = MODEL(pc_map);
	uint64_t victim, block, buddy, pa = 7;

	model_alloc(m, 0, 0, &victim);  /* scribbled: pattern_of(victim) throughout */
	free_unmergeable(m, &block, &buddy, 1);
	links_of(m, block)[0] = next_is_in_victim ? victim + next : next;
	links_of(m, block)[1] = prev;

	cr_assert_eq(frame_check(&m->fa), FRAME_ERR_CORRUPT);
	cr_assert_eq(frame_alloc(&m->fa, 2, 0, &pa), FRAME_ERR_CORRUPT);
	cr_assert_eq(pa, 7);
	/* freeing the buddy wants to merge with the damaged block: the links are not followed, the
	 * buddy goes on its list unmerged, and the damage is reported */
	cr_assert_eq(frame_free(&m->fa, buddy, 2), FRAME_ERR_CORRUPT);
	cr_assert(bytes_are(simmem_ptr(&m->mem, victim), PAGE_SIZE, pattern_of(victim)), "a wild write hit the victim");
	model_delete(m);
}

Test(frame_corruption, next_points_at_an_allocated_frame) { corrupt_and_expect(0, true, LIST_END); }
Test(frame_corruption, next_points_inside_an_allocated_frame) { corrupt_and_expect(0x10, true, LIST_END); }
Test(frame_corruption, next_points_outside_memory) { corrupt_and_expect(PHYS_ADDR_LIMIT - 16 * PAGE_SIZE, false, LIST_END); }
Test(frame_corruption, next_points_at_the_metadata) { corrupt_and_expect(128 * MIB - PAGE_SIZE, false, LIST_END); }
Test(frame_corruption, prev_is_set_on_the_first_block) { corrupt_and_expect(LIST_END, false, 16 * MIB); }
Test(frame_corruption, poisoned_links) { corrupt_and_expect(0x6b6b6b6b6b6b6b6b, false, 0x6b6b6b6b6b6b6b6b); }

Test(frame_corruption, a_back_link_that_lies)
{
	struct model *m = MODEL(pc_map);
	uint64_t lower[2], upper[2], pa = 7;

	free_unmergeable(m, lower, upper, 2);  /* list 2: lower[1], lower[0], ... */
	cr_assert_eq(links_of(m, lower[1])[0], lower[0]);
	cr_assert_eq(frame_check(&m->fa), FRAME_OK);
	links_of(m, lower[0])[1] = upper[0];
	cr_assert_eq(frame_check(&m->fa), FRAME_ERR_CORRUPT);
	cr_assert_eq(frame_alloc(&m->fa, 2, 0, &pa), FRAME_ERR_CORRUPT);
	cr_assert_eq(pa, 7);
	model_delete(m);
}

Test(frame_corruption, a_truncated_list_is_found_by_alloc)
{
	struct model *m = MODEL(pc_map);
	uint64_t lower[2], upper[2], pa = 7;
	struct frame_stats st;

	free_unmergeable(m, lower, upper, 2);
	frame_stats(&m->fa, &st);
	links_of(m, lower[1])[0] = LIST_END;  /* the list ends early */
	cr_assert_eq(frame_check(&m->fa), FRAME_ERR_CORRUPT);
	/* alloc takes lower[1], sound on its own, then finds the count says more than the list has */
	enum frame_status status = FRAME_OK;
	for (uint64_t i = 0; i <= st.free_blocks[2] && status == FRAME_OK; i++)
		status = frame_alloc(&m->fa, 2, FRAME_UNINIT, &pa);
	cr_assert_eq(status, FRAME_ERR_CORRUPT);
	model_delete(m);
}

/* ---- lazy chunks and a terabyte ---------------------------------------------------------------- */

static const struct mem_range lazy_map[] = {
	R(GIB, 2 * GIB, MEM_USABLE),
	R(2 * GIB, 2 * GIB + PAGE_SIZE, MEM_RESERVED),
	R(2 * GIB + PAGE_SIZE, 2 * GIB + 16 * MIB, MEM_USABLE),
};

Test(frame_lazy, a_whole_free_gib_is_checked_exactly_before_and_after_it_splits)
{
	struct model *m = MODEL(lazy_map);
	struct frame_stats st;
	struct rng rng = rng_seed(31);
	uint64_t pa;

	frame_stats(&m->fa, &st);
	cr_assert_eq(st.free_blocks[FRAME_MAX_ORDER], 1);
	cr_assert_lt(st.metadata_phys, 2 * GIB + 16 * MIB);
	cr_assert_geq(st.metadata_phys, 2 * GIB);
	assert_free(m, GIB, FRAME_MAX_ORDER, FRAME_ERR_DOUBLE_FREE);
	assert_free(m, GIB, 0, FRAME_ERR_DOUBLE_FREE);
	assert_free(m, GIB + 77 * PAGE_SIZE, 0, FRAME_ERR_DOUBLE_FREE);
	assert_free(m, GIB + 64 * PAGE_SIZE, 6, FRAME_ERR_DOUBLE_FREE);

	cr_assert_eq(model_alloc(m, FRAME_MAX_ORDER, FRAME_UNINIT, &pa), FRAME_OK);
	cr_assert_eq(pa, GIB);
	assert_free(m, GIB + PAGE_SIZE, 0, FRAME_ERR_NOT_ALLOCATED);
	assert_free(m, GIB + 512 * PAGE_SIZE, 9, FRAME_ERR_NOT_ALLOCATED);
	assert_free(m, GIB, 0, FRAME_ERR_WRONG_ORDER);
	assert_free(m, GIB, FRAME_MAX_ORDER, FRAME_OK);

	/* use up the small range, then the GiB must split */
	exhaust(m, 9);
	free_everything(m, &rng);
	assert_free(m, GIB + 77 * PAGE_SIZE, 0, FRAME_ERR_DOUBLE_FREE);
	cr_assert_eq(frame_drain_cache(&m->fa), FRAME_OK);
	frame_stats(&m->fa, &st);
	cr_assert_eq(st.free_blocks[FRAME_MAX_ORDER], 1, "the split GiB did not merge back");
	workout(m, 32, 20000);
	model_delete(m);
}

/* About 1 TiB of RAM with holes, edges on odd pages: it must build quickly (not timed here;
 * see the benchmarks) and use at most 0.1% of it for metadata. */
static const struct mem_range tib_map[] = {
	R(0, 0x9f000, MEM_USABLE),
	R(0x9f000, 0x100000, MEM_RESERVED),
	R(0x100000, 3 * GIB - 0x5000, MEM_USABLE),
	R(3 * GIB - 0x5000, 4 * GIB, MEM_RESERVED),
	R(4 * GIB, 300 * GIB + 0x3000, MEM_USABLE),
	R(300 * GIB + 0x3000, 300 * GIB + 0x10000, MEM_ACPI_NVS),
	R(300 * GIB + 0x10000, 700 * GIB, MEM_USABLE),
	R(700 * GIB, 700 * GIB + 0x2000, MEM_BOOT_PAGE_TABLES),
	R(701 * GIB, 1030 * GIB - 0x7000, MEM_USABLE),
};

Test(frame_lazy, a_terabyte_with_holes)
{
	struct memmap map = { .count = ARRAY_SIZE(tib_map) };
	struct simmem mem;
	struct frame_allocator fa;
	struct frame_stats st;
	uint64_t usable = 0, pa[FRAME_MAX_ORDER + 1];

	memcpy(map.range, tib_map, sizeof(tib_map));
	for (size_t i = 0; i < map.count; i++)
		if (map.range[i].kind == MEM_USABLE && map.range[i].end > MIB)
			usable += map.range[i].end - (map.range[i].start > MIB ? map.range[i].start : MIB);
	cr_assert(simmem_create(&mem, map_top(&map)));
	struct frame_config cfg = { simmem_offset(&mem), MIB, false };
	cr_assert_eq(frame_init(&fa, &map, &cfg), FRAME_OK);
	frame_stats(&fa, &st);
	cr_assert_eq(st.managed_frames, (usable - st.metadata_bytes) / PAGE_SIZE + 2);
	cr_assert_eq(st.free_frames, st.managed_frames - 2);
	cr_assert_leq(st.metadata_bytes * 1000, st.managed_frames * PAGE_SIZE, "metadata %" PRIu64 " bytes",
	              st.metadata_bytes);
	cr_assert_gt(st.free_blocks[FRAME_MAX_ORDER], 1000);
	cr_assert_eq(frame_check(&fa), FRAME_OK);
	/* whole free GiBs are not even written: that is what makes init fast */
	for (uint64_t gib = 4; gib < 1000; gib += 99)
		cr_assert(bytes_are(simmem_ptr(&mem, gib * GIB), PAGE_SIZE, 0), "init wrote into GiB %" PRIu64, gib);

	/* one block of every order; the biggest ones come from untouched chunks */
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
		cr_assert_eq(frame_alloc(&fa, order, FRAME_UNINIT, &pa[order]), FRAME_OK);
	cr_assert_eq(frame_free(&fa, 700 * GIB, 0), FRAME_OK);  /* the two boot page tables */
	cr_assert_eq(frame_free(&fa, 700 * GIB, 0), FRAME_ERR_DOUBLE_FREE);
	cr_assert_eq(frame_free(&fa, 700 * GIB + PAGE_SIZE, 0), FRAME_OK);
	cr_assert_eq(frame_check(&fa), FRAME_OK);
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
		cr_assert_eq(frame_free(&fa, pa[order], order), FRAME_OK);
	cr_assert_eq(frame_check(&fa), FRAME_OK);
	frame_stats(&fa, &st);
	cr_assert_eq(st.free_frames, st.managed_frames);
	simmem_destroy(&mem);
}

/* ---- messages ------------------------------------------------------------------------------- */

Test(frame_status, every_status_has_its_own_message)
{
	for (int a = FRAME_OK; a <= FRAME_ERR_BAD_MAP; a++) {
		cr_assert_str_neq(frame_status_message(a), "unknown frame status");
		for (int b = FRAME_OK; b < a; b++)
			cr_assert_str_neq(frame_status_message(a), frame_status_message(b));
	}
	cr_assert_str_eq(frame_status_message((enum frame_status)999), "unknown frame status");
}
