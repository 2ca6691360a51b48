/*
 * The physical frame allocator: a binary buddy allocator whose per-frame state lives out of
 * band, plus a cache of order-0 frames.  docs/frame-allocator.md describes the design.
 *
 * Three structures, and who may trust whom:
 *   - state bytes (metadata area): one per frame, the truth about every block;
 *   - free lists: doubly linked through the first 16 bytes of each free block.  Free blocks are
 *     ordinary RAM a stray write can reach, so every link read from one is checked against the
 *     state bytes before it is followed or written through;
 *   - the cache (in struct frame_allocator): order-0 frames that are free but kept unmerged.
 *     Its slots are trusted: each pairs a frame with that frame's own state byte, even above
 *     the top, where frame_free finds the frame the last alloc handed out without a lookup.
 */
#include "mm/frame.h"

#include "lib/compiler.h"
#include "lib/mem.h"
#include "lib/panic.h"
#include "mm/page.h"

/* Metadata is grouped per chunk: 1 GiB of physical address space, the size of the largest block. */
#define CHUNK_ORDER  FRAME_MAX_ORDER
#define CHUNK_FRAMES (UINT64_C(1) << CHUNK_ORDER)
#define CHUNK_BYTES  (CHUNK_FRAMES * PAGE_SIZE)

/*
 * A state byte.  Only the first frame of a block, its head, has a non-zero state: the kind in the
 * top two bits and the order in the low five.  Every other frame of a block, and every frame in
 * a chunk's span that the allocator does not manage, is STATE_NONE.
 */
enum {
	STATE_NONE   = 0x00,
	STATE_FREE   = 0x40,  /* head of a free block, on free list [order] */
	STATE_ALLOC  = 0x80,  /* head of a block handed out with this order */
	STATE_CACHED = 0xc0,  /* an order-0 frame in the cache: free, but on no list */
	STATE_KIND   = 0xc0,
	STATE_ORDER  = 0x1f,
};

/*
 * The metadata of one chunk.  Its state bytes cover page frames [first, first + count): the
 * span of the frames it manages, so a machine with 128 MiB pays for 128 MiB, not 1 GiB.
 *
 * A chunk that starts out as one whole free 1 GiB block is "lazy": lookups see one state byte,
 * lazy_state, for its head, and nothing for its other frames, until the block is first split
 * (expose_chunk).  So frame_init writes neither the 256 KiB of state bytes of such a chunk nor,
 * while it is untouched, the chunk itself: 40 bytes per GiB instead.
 */
struct frame_chunk {
	uint64_t first;      /* frame number (physical address / PAGE_SIZE) */
	uint64_t count;      /* state bytes lookups see: 1 while lazy */
	uint8_t *state;      /* where lookups read: `bytes`, or &lazy_state while lazy */
	uint8_t *bytes;      /* the chunk's state bytes in the metadata area */
	uint8_t lazy_state;
};

/* The links of a free block, in its first bytes.  Physical addresses; NO_BLOCK ends a list. */
struct free_links {
	uint64_t next;
	uint64_t prev;
};

#define NO_BLOCK UINT64_MAX  /* not page-aligned, so never a block */

static uint64_t block_bytes(unsigned order) { return PAGE_SIZE << order; }

static void *virt(const struct frame_allocator *fa, uint64_t pa) { return (void *)(fa->offset + (uintptr_t)pa); }

static struct free_links *links_at(const struct frame_allocator *fa, uint64_t pa) { return virt(fa, pa); }

/*
 * The lookups and the list steps below are always inlined: alloc and free call them in a row,
 * and as calls they cost more than their own work (saved registers, spilled values), about a
 * tenth of an order-9 alloc+free.
 */

/* The state byte of the frame at `pa`, or NULL if the allocator keeps none for it. */
static ALWAYS_INLINE uint8_t *state_at(const struct frame_allocator *fa, uint64_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;
	uint64_t c = pfn >> CHUNK_ORDER;

	if (c >= fa->chunk_count)
		return NULL;
	const struct frame_chunk *chunk = &fa->chunks[c];
	uint64_t i = pfn - chunk->first;  /* wraps past count when below first */
	return i < chunk->count ? chunk->state + i : NULL;
}

/* The state byte of `pa` if it is the head of a free block of `order`, else NULL: whatever a
 * free block's links say, this is the check they pass before the allocator acts on them. */
static ALWAYS_INLINE uint8_t *free_head_state(const struct frame_allocator *fa, uint64_t pa, unsigned order)
{
	if (!is_aligned(pa, block_bytes(order)))
		return NULL;
	uint8_t *state = state_at(fa, pa);
	return state != NULL && *state == (STATE_FREE | order) ? state : NULL;
}

static ALWAYS_INLINE bool is_free_head(const struct frame_allocator *fa, uint64_t pa, unsigned order)
{
	return free_head_state(fa, pa, order) != NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Free lists. */

/* Puts the block at `pa`, already marked free, at the front of list `order`.  The old front is a
 * free head by invariant, so writing its back link is safe whatever its links say. */
static ALWAYS_INLINE void list_push(struct frame_allocator *fa, uint64_t pa, unsigned order)
{
	struct free_links *links = links_at(fa, pa);
	uint64_t old = fa->free_head[order];

	links->next = old;
	links->prev = NO_BLOCK;
	if (old != NO_BLOCK)
		links_at(fa, old)->prev = pa;
	fa->free_head[order] = pa;
	fa->free_count[order]++;
}

static ALWAYS_INLINE bool prev_agrees(const struct frame_allocator *fa, uint64_t pa, uint64_t prev, unsigned order)
{
	if (prev == NO_BLOCK)
		return fa->free_head[order] == pa;
	return is_free_head(fa, prev, order) && links_at(fa, prev)->next == pa;
}

static ALWAYS_INLINE bool next_agrees(const struct frame_allocator *fa, uint64_t pa, uint64_t next, unsigned order)
{
	if (next == NO_BLOCK)
		return true;
	return is_free_head(fa, next, order) && links_at(fa, next)->prev == pa;
}

/* Takes the free block at `pa` (a checked free head) off list `order`.  Both neighbours must
 * point back at it; if not, nothing is written and the lists are corrupt. */
static ALWAYS_INLINE enum frame_status list_remove(struct frame_allocator *fa, uint64_t pa, unsigned order)
{
	const struct free_links *links = links_at(fa, pa);
	uint64_t next = links->next;
	uint64_t prev = links->prev;

	if (!prev_agrees(fa, pa, prev, order) || !next_agrees(fa, pa, next, order))
		return FRAME_ERR_CORRUPT;
	if (prev == NO_BLOCK)
		fa->free_head[order] = next;
	else
		links_at(fa, prev)->next = next;
	if (next != NO_BLOCK)
		links_at(fa, next)->prev = prev;
	fa->free_count[order]--;
	return FRAME_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The buddy allocator proper. */

static unsigned first_nonempty_order(const struct frame_allocator *fa, unsigned order)
{
	while (order <= FRAME_MAX_ORDER && fa->free_count[order] == 0)
		order++;
	return order;
}

static bool chunk_is_lazy(const struct frame_chunk *chunk) { return chunk->state == &chunk->lazy_state; }

/* Gives every frame of a lazy chunk a state byte (zero: not a head), before its free 1 GiB block
 * at `pa` is split.  Returns the block's state byte: the chunk's first, since the block fills
 * the chunk (lazy or not), and no longer in the descriptor if the chunk was lazy. */
static uint8_t *expose_chunk(struct frame_allocator *fa, uint64_t pa)
{
	struct frame_chunk *chunk = &fa->chunks[pa / CHUNK_BYTES];

	if (chunk_is_lazy(chunk)) {
		memset(chunk->bytes, 0, CHUNK_FRAMES);
		chunk->bytes[0] = chunk->lazy_state;
		chunk->state = chunk->bytes;
		chunk->count = CHUNK_FRAMES;
	}
	return chunk->state;
}

/* Records chunk `c`, lazy and free, as untouched: its runs grow in address order. */
static void keep_untouched(struct frame_allocator *fa, uint64_t c)
{
	struct frame_chunk_run *last = fa->untouched_runs ? &fa->untouched[fa->untouched_runs - 1] : NULL;

	if (last != NULL && last->end == c) {
		last->end++;
	} else {
		if (fa->untouched_runs == MEMMAP_MAX)
			panic("more runs of untouched chunks than usable ranges");
		fa->untouched[fa->untouched_runs++] = (struct frame_chunk_run){ c, c + 1 };
	}
	fa->untouched_chunks++;
}

/* Puts the highest untouched chunk on list FRAME_MAX_ORDER; false if none is left. */
static bool take_untouched(struct frame_allocator *fa)
{
	if (fa->untouched_runs == 0)
		return false;
	struct frame_chunk_run *last = &fa->untouched[fa->untouched_runs - 1];
	uint64_t c = --last->end;
	if (last->end == last->next)
		fa->untouched_runs--;
	fa->untouched_chunks--;
	list_push(fa, c * CHUNK_BYTES, FRAME_MAX_ORDER);
	return true;
}

/* A block handed out by buddy_alloc, with the state byte of its head. */
struct block {
	uint64_t pa;
	uint8_t *state;
};

/* Takes a block of `order` off the lists, splitting a bigger one if needed. */
static enum frame_status buddy_alloc(struct frame_allocator *fa, unsigned order, struct block *out)
{
	unsigned have = first_nonempty_order(fa, order);

	if (have > FRAME_MAX_ORDER) {
		if (!take_untouched(fa))
			return FRAME_ERR_NO_MEMORY;
		have = FRAME_MAX_ORDER;
	}
	uint64_t pa = fa->free_head[have];
	uint8_t *state = free_head_state(fa, pa, have);
	if (state == NULL)
		return FRAME_ERR_CORRUPT;  /* the count says a block is there, the list does not */
	enum frame_status status = list_remove(fa, pa, have);
	if (status != FRAME_OK)
		return status;
	if (have == CHUNK_ORDER && order < have)
		state = expose_chunk(fa, pa);
	/* The frames of a block have consecutive state bytes (it lies inside one chunk's span), so
	 * the head of the upper half is 2^have bytes on from the head of the block. */
	while (have > order) {
		have--;
		state[UINT64_C(1) << have] = STATE_FREE | have;
		list_push(fa, pa + block_bytes(have), have);
	}
	*state = STATE_ALLOC | order;
	*out = (struct block){ pa, state };
	return FRAME_OK;
}

/*
 * Puts the block at `pa`, whose head is `state` (checked by the caller), on the lists, merged with
 * every free buddy.  If a buddy's links are corrupt, merging stops there: the block goes on the
 * list of the order reached so far, consistent, and the corruption is reported.
 */
static enum frame_status buddy_free(struct frame_allocator *fa, uint64_t pa, uint8_t *state, unsigned order)
{
	enum frame_status status = FRAME_OK;

	while (order < FRAME_MAX_ORDER) {
		uint64_t buddy = pa ^ block_bytes(order);
		uint8_t *buddy_state = free_head_state(fa, buddy, order);
		if (buddy_state == NULL)
			break;
		status = list_remove(fa, buddy, order);
		if (status != FRAME_OK)
			break;
		if (fa->poison_on_free)
			memset(links_at(fa, buddy), FRAME_POISON_BYTE, sizeof(struct free_links));
		/* The lower of the two heads the merged block; the upper one is a head no more. */
		if (buddy < pa) {
			*state = STATE_NONE;
			pa = buddy;
			state = buddy_state;
		} else {
			*buddy_state = STATE_NONE;
		}
		order++;
	}
	*state = STATE_FREE | order;
	list_push(fa, pa, order);
	return status;
}

/* ---------------------------------------------------------------------------------------------
 * The order-0 cache.
 *
 * A stack of (frame, state byte) pairs.  A pop leaves its pair in the slot, so every slot, in
 * use or not, pairs a frame with that frame's own state byte; slots never used pair NO_BLOCK
 * with no_frame_state, a state byte of no frame.  That invariant is what lets frame_free take
 * back the frame the last alloc handed out by looking at the slot above the top alone.
 */

/* Never written: its value, STATE_NONE, is never STATE_ALLOC, so no free matches it. */
static uint8_t no_frame_state = STATE_NONE;

static void cache_clear_slots(struct frame_allocator *fa)
{
	for (size_t i = 0; i < FRAME_CACHE_SIZE; i++) {
		fa->cache_pa[i] = NO_BLOCK;
		fa->cache_state[i] = &no_frame_state;
	}
}

static void cache_push(struct frame_allocator *fa, uint64_t pa, uint8_t *state)
{
	size_t top = fa->cache_count++;

	fa->cache_pa[top] = pa;
	fa->cache_state[top] = state;
	*state = STATE_CACHED;
}

/* The frame on top, now allocated; its state byte goes to *state if that is not NULL. */
static uint64_t cache_pop(struct frame_allocator *fa, uint8_t **state)
{
	size_t top = --fa->cache_count;

	*fa->cache_state[top] = STATE_ALLOC;
	if (state != NULL)
		*state = fa->cache_state[top];
	return fa->cache_pa[top];
}

/*
 * True if `pa` is the frame in the slot just above the top (the cache not full) and is allocated
 * at order 0, which is what STATE_ALLOC alone means: usually the frame the last order-0 alloc
 * handed out.  The slot's state pointer was checked against `pa` when the pair went in, and the
 * state byte is the truth about the frame, so this is the check a lookup would make, without it.
 */
static inline bool is_above_top(const struct frame_allocator *fa, uint64_t pa)
{
	size_t top = fa->cache_count;

	return fa->cache_pa[top] == pa && *fa->cache_state[top] == STATE_ALLOC;
}

/* Moves up to FRAME_CACHE_BATCH frames from the buddy lists into the cache. */
static enum frame_status cache_refill(struct frame_allocator *fa)
{
	while (fa->cache_count < FRAME_CACHE_BATCH) {
		struct block b;
		enum frame_status status = buddy_alloc(fa, 0, &b);
		if (status == FRAME_ERR_NO_MEMORY)
			break;
		if (status != FRAME_OK)
			return status;
		cache_push(fa, b.pa, b.state);
	}
	return fa->cache_count != 0 ? FRAME_OK : FRAME_ERR_NO_MEMORY;
}

/* Returns up to `n` cached frames to the buddy lists, where they merge. */
static enum frame_status cache_drain(struct frame_allocator *fa, size_t n)
{
	while (n-- != 0 && fa->cache_count != 0) {
		uint8_t *state;
		uint64_t pa = cache_pop(fa, &state);
		enum frame_status status = buddy_free(fa, pa, state, 0);
		if (status != FRAME_OK)
			return status;
	}
	return FRAME_OK;
}

/* ---------------------------------------------------------------------------------------------
 * alloc and free. */

static enum frame_status hand_out(const struct frame_allocator *fa, uint64_t pa, unsigned order,
                                  unsigned flags, uint64_t *out)
{
	*out = pa;
	if (!(flags & FRAME_UNINIT))
		memset(virt(fa, pa), 0, block_bytes(order));
	return FRAME_OK;
}

NOINLINE static enum frame_status alloc_slow(struct frame_allocator *fa, unsigned order, unsigned flags, uint64_t *out)
{
	enum frame_status status;
	struct block b;

	if (order > FRAME_MAX_ORDER)
		return FRAME_ERR_BAD_ORDER;
	if (order == 0) {
		status = fa->cache_count != 0 ? FRAME_OK : cache_refill(fa);
		return status == FRAME_OK ? hand_out(fa, cache_pop(fa, NULL), 0, flags, out) : status;
	}
	status = buddy_alloc(fa, order, &b);
	if (status == FRAME_ERR_NO_MEMORY && fa->cache_count != 0) {
		/* The cached frames may complete a block once merged. */
		status = cache_drain(fa, fa->cache_count);
		if (status == FRAME_OK)
			status = buddy_alloc(fa, order, &b);
	}
	return status == FRAME_OK ? hand_out(fa, b.pa, order, flags, out) : status;
}

enum frame_status frame_alloc(struct frame_allocator *fa, unsigned order, unsigned flags, uint64_t *pa)
{
	/* Uninitialized frames only: a zeroed one costs a 4 KiB memset, next to which the slow
	 * path is nothing, and with no call in it this path needs no stack frame. */
	if (likely(order == 0 && fa->cache_count != 0 && (flags & FRAME_UNINIT))) {
		*pa = cache_pop(fa, NULL);
		return FRAME_OK;
	}
	return alloc_slow(fa, order, flags, pa);
}

/*
 * Why `pa`, not the head of an allocated block of the order given, cannot be freed.  A head of
 * another order is WRONG_ORDER.  Otherwise find the block containing the frame: the first head at `pa` rounded
 * down to 2^k frames, k = 0, 1, ..., whose order is at least k.  A free one means the frame is
 * free already; an allocated one, or none (the frame is not managed), means it was never handed
 * out as a block of its own.  Only the error path pays for this walk.
 */
static enum frame_status why_not_freeable(const struct frame_allocator *fa, uint64_t pa)
{
	const uint8_t *state = state_at(fa, pa);

	if (state != NULL && (*state & STATE_KIND) == STATE_ALLOC)
		return FRAME_ERR_WRONG_ORDER;
	for (unsigned k = 0; k <= FRAME_MAX_ORDER; k++) {
		state = state_at(fa, align_down(pa, block_bytes(k)));
		if (state != NULL && *state != STATE_NONE && (*state & STATE_ORDER) >= k)
			return (*state & STATE_KIND) == STATE_ALLOC ? FRAME_ERR_NOT_ALLOCATED : FRAME_ERR_DOUBLE_FREE;
	}
	return FRAME_ERR_NOT_ALLOCATED;
}

static void poison(const struct frame_allocator *fa, uint64_t pa, unsigned order)
{
	if (fa->poison_on_free)
		memset(virt(fa, pa), FRAME_POISON_BYTE, block_bytes(order));
}

/* Frees the allocated order-0 frame at `pa` into the cache, drained first if full. */
NOINLINE static enum frame_status free_frame(struct frame_allocator *fa, uint64_t pa, uint8_t *state)
{
	if (fa->cache_count == FRAME_CACHE_SIZE) {
		enum frame_status status = cache_drain(fa, FRAME_CACHE_BATCH);
		if (status != FRAME_OK)
			return status;
	}
	poison(fa, pa, 0);
	cache_push(fa, pa, state);
	return FRAME_OK;
}

/* A free with every check, for what frame_free's fast paths do not take: any order but 0, a
 * full cache, poisoning, and every error.  Then the cache (free_frame) or the lists. */
NOINLINE static enum frame_status free_checked(struct frame_allocator *fa, uint64_t pa, unsigned order)
{
	if (order > FRAME_MAX_ORDER)
		return FRAME_ERR_BAD_ORDER;
	if (!is_aligned(pa, block_bytes(order)))
		return FRAME_ERR_MISALIGNED;
	uint8_t *state = state_at(fa, pa);
	if (state == NULL || *state != (STATE_ALLOC | order))
		return why_not_freeable(fa, pa);
	if (order == 0)
		return free_frame(fa, pa, state);
	poison(fa, pa, order);
	return buddy_free(fa, pa, state, order);
}

/* An order-0 free of any frame but the one above the top, while the cache has room and nothing
 * asks for poison: free_checked's checks, in short, then a push. */
NOINLINE static enum frame_status free_to_cache(struct frame_allocator *fa, uint64_t pa)
{
	uint8_t *state = is_aligned(pa, PAGE_SIZE) ? state_at(fa, pa) : NULL;

	if (likely(state != NULL && *state == STATE_ALLOC)) {
		cache_push(fa, pa, state);
		return FRAME_OK;
	}
	return free_checked(fa, pa, 0);
}

enum frame_status frame_free(struct frame_allocator *fa, uint64_t pa, unsigned order)
{
	if (likely(order == 0 && fa->cache_count < fa->fast_free_limit)) {
		if (likely(is_above_top(fa, pa))) {
			*fa->cache_state[fa->cache_count++] = STATE_CACHED;  /* the slot already holds pa */
			return FRAME_OK;
		}
		return free_to_cache(fa, pa);
	}
	return free_checked(fa, pa, order);
}

/* ---------------------------------------------------------------------------------------------
 * Building the allocator from the memory map. */

static bool is_managed_kind(enum mem_kind kind) { return kind == MEM_USABLE || kind == MEM_BOOT_PAGE_TABLES; }

/* Sorted, disjoint, neighbours of one kind merged, managed kinds page-aligned: what
 * memmap_normalize promises.  Anything else could make the allocator own a frame twice. */
static bool map_is_normalized(const struct memmap *map)
{
	if (map->count > MEMMAP_MAX)
		return false;
	for (size_t i = 0; i < map->count; i++) {
		const struct mem_range *r = &map->range[i];
		if ((unsigned)r->kind >= MEM_KIND_COUNT || r->start >= r->end || r->end > PHYS_ADDR_LIMIT)
			return false;
		if (is_managed_kind(r->kind) && !(is_aligned(r->start, PAGE_SIZE) && is_aligned(r->end, PAGE_SIZE)))
			return false;
		if (i > 0 && (r->start < r[-1].end || (r->start == r[-1].end && r->kind == r[-1].kind)))
			return false;
	}
	return true;
}

/* The part of `r` the allocator manages, [*start, *end) at or above `floor`; false if none. */
static bool managed_part(const struct mem_range *r, uint64_t floor, uint64_t *start, uint64_t *end)
{
	if (!is_managed_kind(r->kind))
		return false;
	*start = r->start > floor ? r->start : floor;
	*end = r->end;
	return *start < *end;
}

/* The managed frames of one chunk lie in [start, end). */
struct chunk_span {
	uint64_t chunk;
	uint64_t start;
	uint64_t end;
	bool whole_usable;  /* the chunk lies inside one usable range */
};

/* Walks the chunks that hold managed frames, in address order. */
struct span_cursor {
	const struct memmap *map;
	uint64_t floor;
	size_t range;  /* the range the walk is in */
	uint64_t pos;  /* everything below is walked */
};

/* The next managed piece at or above the cursor: [*start, *end), inside range c->range. */
static bool next_piece(struct span_cursor *c, uint64_t *start, uint64_t *end)
{
	for (; c->range < c->map->count; c->range++) {
		if (managed_part(&c->map->range[c->range], c->floor, start, end) && *end > c->pos) {
			if (*start < c->pos)
				*start = c->pos;
			return true;
		}
	}
	return false;
}

/* The next chunk that holds managed frames, with their span; false when the walk is done. */
static bool next_span(struct span_cursor *c, struct chunk_span *span)
{
	uint64_t start, end;

	if (!next_piece(c, &start, &end))
		return false;
	uint64_t base = align_down(start, CHUNK_BYTES);
	uint64_t limit = base + CHUNK_BYTES;
	span->chunk = start / CHUNK_BYTES;
	span->start = start;
	span->whole_usable = start == base && end >= limit && c->map->range[c->range].kind == MEM_USABLE;
	do {
		c->pos = end < limit ? end : limit;
		span->end = c->pos;
	} while (c->pos < limit && next_piece(c, &start, &end) && start < limit);
	return true;
}

/* Where the metadata goes and how it is laid out. */
struct layout {
	uint64_t chunk_count;
	uint64_t state_bytes;  /* sum of the spans */
	uint64_t usable_frames;
	uint64_t phys;
	uint64_t bytes;        /* chunk table + state bytes, whole pages */
};

static void measure(const struct memmap *map, uint64_t floor, struct layout *lay)
{
	struct span_cursor cursor = { .map = map, .floor = floor };
	struct chunk_span span;
	uint64_t start, end;

	while (next_span(&cursor, &span)) {
		lay->chunk_count = span.chunk + 1;
		lay->state_bytes += (span.end - span.start) / PAGE_SIZE;
	}
	for (size_t i = 0; i < map->count; i++)
		if (map->range[i].kind == MEM_USABLE && managed_part(&map->range[i], floor, &start, &end))
			lay->usable_frames += (end - start) / PAGE_SIZE;
	lay->bytes = align_up(lay->chunk_count * sizeof(struct frame_chunk) + lay->state_bytes, PAGE_SIZE);
}

/* Takes lay->bytes from the end of the highest usable range that can hold them: top-down, so
 * low memory stays for devices that can only reach low addresses. */
static bool place_metadata(const struct memmap *map, uint64_t floor, struct layout *lay)
{
	uint64_t start, end;

	for (size_t i = map->count; i-- > 0;) {
		if (map->range[i].kind == MEM_USABLE && managed_part(&map->range[i], floor, &start, &end) &&
		    end - start >= lay->bytes) {
			lay->phys = end - lay->bytes;
			return true;
		}
	}
	return false;
}

static bool overlaps(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end)
{
	return a_start < b_end && b_start < a_end;
}

/* Lays out the chunk table and the state bytes in the metadata area.  Chunks without managed
 * frames keep count 0; lazy chunks get count 1; the rest are zeroed over their span. */
static void build_chunks(struct frame_allocator *fa, const struct memmap *map, uint64_t floor,
                         const struct layout *lay)
{
	struct span_cursor cursor = { .map = map, .floor = floor };
	struct chunk_span span;

	fa->chunks = virt(fa, lay->phys);
	fa->chunk_count = lay->chunk_count;
	memset(fa->chunks, 0, lay->chunk_count * sizeof(struct frame_chunk));
	uint8_t *state = (uint8_t *)(fa->chunks + lay->chunk_count);
	while (next_span(&cursor, &span)) {
		struct frame_chunk *chunk = &fa->chunks[span.chunk];
		uint64_t frames = (span.end - span.start) / PAGE_SIZE;
		bool lazy = span.whole_usable && !overlaps(span.start, span.end, lay->phys, lay->phys + lay->bytes);
		chunk->first = span.start / PAGE_SIZE;
		chunk->count = lazy ? 1 : frames;
		chunk->bytes = state;
		chunk->state = lazy ? &chunk->lazy_state : state;
		if (!lazy)
			memset(state, 0, frames);
		state += frames;
	}
}

/* The largest block that starts at `pa` and fits in `bytes`. */
static unsigned largest_order(uint64_t pa, uint64_t bytes)
{
	unsigned order = 0;

	while (order < FRAME_MAX_ORDER && is_aligned(pa, block_bytes(order + 1)) && block_bytes(order + 1) <= bytes)
		order++;
	return order;
}

/* Frees [start, end) as the fewest naturally aligned blocks: on the lists, or, for whole lazy
 * chunks, untouched. */
static void add_free_range(struct frame_allocator *fa, uint64_t start, uint64_t end)
{
	while (start < end) {
		unsigned order = largest_order(start, end - start);
		*state_at(fa, start) = STATE_FREE | order;
		if (order == FRAME_MAX_ORDER && chunk_is_lazy(&fa->chunks[start / CHUNK_BYTES]))
			keep_untouched(fa, start / CHUNK_BYTES);
		else
			list_push(fa, start, order);
		start += block_bytes(order);
	}
}

/* Usable parts become free blocks, around the metadata; boot page tables become allocated
 * order-0 frames. */
static void add_managed_frames(struct frame_allocator *fa, const struct memmap *map, uint64_t floor,
                               const struct layout *lay)
{
	uint64_t meta_end = lay->phys + lay->bytes;
	uint64_t start, end;

	for (size_t i = 0; i < map->count; i++) {
		if (!managed_part(&map->range[i], floor, &start, &end))
			continue;
		if (map->range[i].kind == MEM_BOOT_PAGE_TABLES) {
			for (uint64_t pa = start; pa < end; pa += PAGE_SIZE)
				*state_at(fa, pa) = STATE_ALLOC;
			fa->managed_frames += (end - start) / PAGE_SIZE;
			continue;
		}
		if (overlaps(start, end, lay->phys, meta_end)) {
			add_free_range(fa, start, lay->phys);
			add_free_range(fa, meta_end, end);
		} else {
			add_free_range(fa, start, end);
		}
	}
	fa->managed_frames += lay->usable_frames - lay->bytes / PAGE_SIZE;
}

enum frame_status frame_init(struct frame_allocator *fa, const struct memmap *map,
                             const struct frame_config *cfg)
{
	struct layout lay = { 0 };

	memset(fa, 0, sizeof(*fa));
	cache_clear_slots(fa);
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
		fa->free_head[order] = NO_BLOCK;
	if (!map_is_normalized(map))
		return FRAME_ERR_BAD_MAP;
	uint64_t floor = cfg->reserve_below < PHYS_ADDR_LIMIT ? align_up(cfg->reserve_below, PAGE_SIZE)
	                                                      : PHYS_ADDR_LIMIT;
	measure(map, floor, &lay);
	if (lay.usable_frames == 0)
		return FRAME_ERR_NO_USABLE;
	if (!place_metadata(map, floor, &lay))
		return FRAME_ERR_NO_METADATA;
	fa->offset = cfg->offset;
	fa->poison_on_free = cfg->poison_on_free;
	fa->fast_free_limit = cfg->poison_on_free ? 0 : FRAME_CACHE_SIZE;
	fa->metadata_phys = lay.phys;
	fa->metadata_bytes = lay.bytes;
	build_chunks(fa, map, floor, &lay);
	add_managed_frames(fa, map, floor, &lay);
	return FRAME_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Statistics and the integrity check. */

enum frame_status frame_drain_cache(struct frame_allocator *fa)
{
	return cache_drain(fa, fa->cache_count);
}

void frame_stats(const struct frame_allocator *fa, struct frame_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->managed_frames = fa->managed_frames;
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++) {
		out->free_blocks[order] = fa->free_count[order];
		out->free_frames += fa->free_count[order] << order;
	}
	out->free_blocks[FRAME_MAX_ORDER] += fa->untouched_chunks;
	out->free_frames += fa->untouched_chunks * CHUNK_FRAMES;
	out->cached_frames = fa->cache_count;
	out->free_blocks[0] += fa->cache_count;
	out->free_frames += fa->cache_count;
	out->metadata_bytes = fa->metadata_bytes;
	out->metadata_phys = fa->metadata_phys;
}

/* List `order` is a chain of free heads of that order, back links agreeing, of free_count[order]
 * blocks.  The walk is bounded by that count, so a cycle cannot hang it. */
static bool list_is_sound(const struct frame_allocator *fa, unsigned order)
{
	uint64_t prev = NO_BLOCK;
	uint64_t n = 0;

	for (uint64_t pa = fa->free_head[order]; pa != NO_BLOCK; pa = links_at(fa, pa)->next) {
		if (n == fa->free_count[order] || !is_free_head(fa, pa, order) || links_at(fa, pa)->prev != prev)
			return false;
		prev = pa;
		n++;
	}
	return n == fa->free_count[order];
}

/* A slot pairs a page-aligned frame with its own state byte, or is one never used. */
static bool slot_is_sound(const struct frame_allocator *fa, size_t i)
{
	uint64_t pa = fa->cache_pa[i];

	if (pa == NO_BLOCK)
		return fa->cache_state[i] == &no_frame_state;
	return is_aligned(pa, PAGE_SIZE) && state_at(fa, pa) == fa->cache_state[i];
}

/* The cache holds cached frames, and every slot above it is sound too: frame_free trusts them. */
static bool cache_is_sound(const struct frame_allocator *fa)
{
	if (fa->cache_count > FRAME_CACHE_SIZE || no_frame_state != STATE_NONE)
		return false;
	for (size_t i = 0; i < FRAME_CACHE_SIZE; i++) {
		if (!slot_is_sound(fa, i))
			return false;
		if (i < fa->cache_count && (fa->cache_pa[i] == NO_BLOCK || *fa->cache_state[i] != STATE_CACHED))
			return false;
	}
	return true;
}

/* What the state bytes say, counted. */
struct census {
	uint64_t free_blocks[FRAME_MAX_ORDER + 1];
	uint64_t cached;
	uint64_t block_frames;  /* frames in blocks of any kind */
};

static bool is_valid_state(uint8_t state)
{
	unsigned kind = state & STATE_KIND;
	unsigned order = state & STATE_ORDER;

	return kind != STATE_NONE && (state & ~(STATE_KIND | STATE_ORDER)) == 0 && order <= FRAME_MAX_ORDER &&
	       (kind != STATE_CACHED || order == 0);
}

static bool all_zero(const uint8_t *bytes, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (bytes[i] != 0)
			return false;
	return true;
}

/* Counts the blocks of chunk `c` into `census`: every head valid, aligned, inside the chunk's
 * span, the frames after it zero.  A lazy chunk is one head whose block is the whole chunk. */
static bool census_chunk(const struct frame_allocator *fa, uint64_t c, struct census *census)
{
	const struct frame_chunk *chunk = &fa->chunks[c];
	uint64_t chunk_first = c * CHUNK_FRAMES;
	uint64_t end = chunk->first + chunk->count;
	bool lazy = chunk_is_lazy(chunk);

	if (chunk->count == 0)
		return true;
	if (chunk->first < chunk_first || end > chunk_first + CHUNK_FRAMES)
		return false;
	if (lazy) {
		if (chunk->first != chunk_first || chunk->count != 1 ||
		    (chunk->lazy_state & STATE_ORDER) != FRAME_MAX_ORDER)
			return false;
		end = chunk_first + CHUNK_FRAMES;
	}
	for (uint64_t i = 0; i < chunk->count;) {
		uint8_t state = chunk->state[i];
		if (state == STATE_NONE) {
			i++;
			continue;
		}
		unsigned order = state & STATE_ORDER;
		uint64_t frames = UINT64_C(1) << order;
		uint64_t head = chunk->first + i;
		if (!is_valid_state(state) || !is_aligned(head, frames) || head + frames > end)
			return false;
		if (!lazy && !all_zero(chunk->state + i + 1, frames - 1))
			return false;
		if ((state & STATE_KIND) == STATE_FREE)
			census->free_blocks[order]++;
		else if ((state & STATE_KIND) == STATE_CACHED)
			census->cached++;
		census->block_frames += frames;
		i += frames;
	}
	return true;
}

/* Every untouched chunk is lazy and free, and the count agrees with the runs. */
static bool untouched_are_sound(const struct frame_allocator *fa)
{
	uint64_t n = 0;

	if (fa->untouched_runs > MEMMAP_MAX)
		return false;
	for (size_t r = 0; r < fa->untouched_runs; r++) {
		const struct frame_chunk_run *run = &fa->untouched[r];
		if (run->next >= run->end || run->end > fa->chunk_count)
			return false;
		for (uint64_t c = run->next; c < run->end; c++, n++)
			if (!chunk_is_lazy(&fa->chunks[c]) || fa->chunks[c].lazy_state != (STATE_FREE | FRAME_MAX_ORDER))
				return false;
	}
	return n == fa->untouched_chunks;
}

static bool states_are_sound(const struct frame_allocator *fa)
{
	struct census census = { 0 };

	for (uint64_t c = 0; c < fa->chunk_count; c++)
		if (!census_chunk(fa, c, &census))
			return false;
	census.free_blocks[FRAME_MAX_ORDER] -= fa->untouched_chunks;  /* free heads not on list */
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
		if (census.free_blocks[order] != fa->free_count[order])
			return false;
	return census.cached == fa->cache_count && census.block_frames == fa->managed_frames;
}

enum frame_status frame_check(const struct frame_allocator *fa)
{
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
		if (!list_is_sound(fa, order))
			return FRAME_ERR_CORRUPT;
	if (!cache_is_sound(fa) || !untouched_are_sound(fa) || !states_are_sound(fa))
		return FRAME_ERR_CORRUPT;
	return FRAME_OK;
}

const char *frame_status_message(enum frame_status status)
{
	switch (status) {
	case FRAME_OK:                return "ok";
	case FRAME_ERR_NO_MEMORY:     return "no free block of that order";
	case FRAME_ERR_BAD_ORDER:     return "order above FRAME_MAX_ORDER";
	case FRAME_ERR_MISALIGNED:    return "address not aligned to the block size";
	case FRAME_ERR_NOT_ALLOCATED: return "not a block the allocator handed out";
	case FRAME_ERR_DOUBLE_FREE:   return "frame is free already";
	case FRAME_ERR_WRONG_ORDER:   return "block was allocated with another order";
	case FRAME_ERR_NO_METADATA:   return "no usable range can hold the metadata";
	case FRAME_ERR_NO_USABLE:     return "no usable memory above the reserved low area";
	case FRAME_ERR_CORRUPT:       return "free lists are corrupt";
	case FRAME_ERR_BAD_MAP:       return "memory map is not normalized";
	}
	return "unknown frame status";
}
