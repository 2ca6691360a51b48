/*
 * The list heap (mm/heap_list.h): address-ordered first fit over a brk-style region.
 *
 * The used part of the region, [base, top), is a row of blocks laid end to end.  Every block
 * starts with a sealed header; a free block also holds its list links and, in its last 8 bytes,
 * its size again (a boundary tag), so that the block after it can find its start:
 *
 *   allocated  | header 16 | the object ... | slack (redzone in debug mode) |
 *   free       | header 16 | next 8 | prev 8 | unused (poison in debug mode) ... | size 8 |
 *
 * - The free blocks are on one doubly linked list in address order.  Allocation takes the first
 *   that fits; free merges with both neighbours, so no two free blocks are ever adjacent.
 * - Alignment padding in front of an object becomes a free block (the object moves up until the
 *   gap is big enough to be one); a tail too small to be a block stays with the object as
 *   slack.  Nothing is lost: both come back when the object is freed.
 * - The region grows when no free block fits, and a free block at the top goes back to the
 *   region once it reaches LIST_TRIM_BYTES.  A smaller one stays, so that an empty heap keeps
 *   less than that mapped, and a loop that allocates and frees does not map and unmap pages.
 * - Nothing stored in the heap is trusted before it is checked: a header is valid only if its
 *   seal (heap_seal) matches, links and boundary tags are stored encoded (heap_encode_link) and
 *   every block they lead to must be a sealed free block that links back.  Every operation
 *   checks all it will touch before it writes anything, so a refused call changes nothing.
 */
#include "mm/heap.h"

#include "lib/mem.h"
#include "mm/heap_guard.h"
#include "mm/page.h"

#define HEADER_BYTES    16u
#define MIN_BLOCK       48u            /* header, two links and a boundary tag, rounded to 16 */
#define LIST_REDZONE    16u            /* debug: at least this much redzone after every object */
#define LIST_TRIM_BYTES (64u * 1024u)  /* a free block this big at the top goes back to the region */

/* A header's word: slack (bits 63..48) | size (47..4) | tag (3..2) | PREV_FREE | FREE. */
#define WORD_FREE      UINT64_C(1)   /* the block is free and on the list */
#define WORD_PREV_FREE UINT64_C(2)   /* the block just below is free: its boundary tag is valid */
#define TAG_SHIFT      2
#define SIZE_MASK      UINT64_C(0x0000fffffffffff0)
#define SLACK_SHIFT    48
#define SLACK_MAX      UINT64_C(0xffff)

/* Sizes fit in the header's 44 size bits, and a block address plus an alignment never wraps. */
#define LIST_LIMIT_MAX  (SIZE_MASK + 1 - PAGE_SIZE)
#define LIST_ADDR_SLACK (4 * HEAP_MAX_ALIGN)

_Static_assert(LIST_TAG_MAX == 3, "the tag has two bits");
_Static_assert(FIXED_LARGEST_CLASS + MIN_BLOCK + LIST_REDZONE < SLACK_MAX, "slack holds a class object's");

struct header {
	uint64_t word;
	uint64_t seal;   /* heap_seal(word) at this address */
};

/* A block, as decoded from its header. */
struct block {
	uintptr_t at;
	size_t size;        /* bytes, header included: a multiple of 16, at least MIN_BLOCK */
	size_t slack;       /* allocated: bytes of the payload past the requested size */
	unsigned tag;       /* allocated: the embedding design's */
	bool free;
	bool prev_free;
};

/* The state: a list heap's own, or the one a fixed heap runs over. */
static struct list_heap *state(struct heap *h)
{
	return h->cfg.design == HEAP_FIXED ? &h->design.fixed.list : &h->design.list;
}

static uintptr_t heap_top(const struct heap *h) { return h->region.top; }
static uintptr_t block_end(const struct block *b) { return b->at + b->size; }
static size_t payload_bytes(const struct block *b) { return b->size - HEADER_BYTES; }
static size_t requested_bytes(const struct block *b) { return payload_bytes(b) - b->slack; }
static void *payload(const struct block *b) { return (void *)(b->at + HEADER_BYTES); }

/* What heap_usable_size says: the payload, or in debug mode exactly what was asked for. */
static size_t usable_bytes(const struct heap *h, const struct block *b)
{
	return h->cfg.debug ? requested_bytes(b) : payload_bytes(b);
}

/* ---------------------------------------------------------------------------------------------
 * Headers, links and boundary tags. */

static uint64_t pack(const struct block *b)
{
	return (uint64_t)b->slack << SLACK_SHIFT | b->size | (uint64_t)b->tag << TAG_SHIFT |
	       (b->prev_free ? WORD_PREV_FREE : 0) | (b->free ? WORD_FREE : 0);
}

static struct block unpack(uintptr_t at, uint64_t word)
{
	return (struct block){
		.at = at,
		.size = word & SIZE_MASK,
		.slack = word >> SLACK_SHIFT,
		.tag = (unsigned)(word >> TAG_SHIFT) & LIST_TAG_MAX,
		.free = word & WORD_FREE,
		.prev_free = word & WORD_PREV_FREE,
	};
}

static uintptr_t *next_slot(uintptr_t at) { return (uintptr_t *)(at + HEADER_BYTES); }
static uintptr_t *prev_slot(uintptr_t at) { return (uintptr_t *)(at + HEADER_BYTES + 8); }
static uintptr_t *tag_slot(uintptr_t end) { return (uintptr_t *)(end - 8); }

static uintptr_t load_link(const struct heap *h, uintptr_t *slot) { return heap_encode_link(h, slot, *slot); }
static void store_link(const struct heap *h, uintptr_t *slot, uintptr_t v) { *slot = heap_encode_link(h, slot, v); }

static uintptr_t next_of(const struct heap *h, uintptr_t at) { return load_link(h, next_slot(at)); }
static uintptr_t prev_of(const struct heap *h, uintptr_t at) { return load_link(h, prev_slot(at)); }
static void set_next(const struct heap *h, uintptr_t at, uintptr_t v) { store_link(h, next_slot(at), v); }
static void set_prev(const struct heap *h, uintptr_t at, uintptr_t v) { store_link(h, prev_slot(at), v); }

/* Writes b's header and, for a free block, its boundary tag. */
static void store(const struct heap *h, const struct block *b)
{
	struct header *hdr = (struct header *)b->at;

	hdr->word = pack(b);
	hdr->seal = heap_seal(h, hdr, hdr->word);
	if (b->free)
		store_link(h, tag_slot(block_end(b)), b->size);
}

/*
 * Decodes the block at `at` into *b: false unless `at` is a place a block can start, its seal
 * matches and the block lies inside the heap.  The only way any address found in the heap (a
 * pointer to free, a link, a boundary tag) becomes a block.
 */
static bool load(const struct heap *h, uintptr_t at, struct block *b)
{
	uintptr_t base = h->region.base, top = heap_top(h);

	if (at < base || at >= top || top - at < MIN_BLOCK || !is_aligned(at, 16))
		return false;
	const struct header *hdr = (const struct header *)at;
	if (hdr->seal != heap_seal(h, hdr, hdr->word))
		return false;
	*b = unpack(at, hdr->word);
	return b->size >= MIN_BLOCK && b->size <= top - at;
}

/* A free block on the list at `at`, or false. */
static bool load_free(const struct heap *h, uintptr_t at, struct block *b)
{
	return load(h, at, b) && b->free;
}

/* True if the free block b's list neighbours are free blocks that point back at it, in address
 * order: only then may it be unlinked or replaced. */
static bool links_agree(struct heap *h, const struct block *b)
{
	const struct list_heap *L = state(h);
	uintptr_t prev = prev_of(h, b->at), next = next_of(h, b->at);
	struct block n;

	if (prev == 0 ? L->first_free != b->at : prev >= b->at || !load_free(h, prev, &n) || next_of(h, prev) != b->at)
		return false;
	if (next == 0 ? L->last_free != b->at : next <= b->at || !load_free(h, next, &n) || prev_of(h, next) != b->at)
		return false;
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * The free list.  Callers have checked the blocks involved (links_agree). */

/* Makes `a` and `b` neighbours on the list, a before b; 0 stands for the list's front or end. */
static void connect(struct heap *h, uintptr_t a, uintptr_t b)
{
	struct list_heap *L = state(h);

	if (a)
		set_next(h, a, b);
	else
		L->first_free = b;
	if (b)
		set_prev(h, b, a);
	else
		L->last_free = a;
}

/* Puts free block `at` on the list after `prev` (0: at the front). */
static void link_after(struct heap *h, uintptr_t prev, uintptr_t at)
{
	uintptr_t next = prev ? next_of(h, prev) : state(h)->first_free;

	connect(h, prev, at);
	connect(h, at, next);
	state(h)->free_blocks++;
}

static void unlink_block(struct heap *h, uintptr_t at)
{
	connect(h, prev_of(h, at), next_of(h, at));
	state(h)->free_blocks--;
}

/* The free block at `to` takes the list place of the one at `from`: a free block whose start
 * moves, with no other free block between the two addresses. */
static void relink(struct heap *h, uintptr_t from, uintptr_t to)
{
	uintptr_t prev = prev_of(h, from), next = next_of(h, from);

	connect(h, prev, to);
	connect(h, to, next);
}

/*
 * The free block just before address `at` in the list (0 if none) into *prev: a walk from the
 * front, checking every block it passes.  False if the list is broken.  This is the one step
 * that is not constant time: a free with no free neighbour pays for the free blocks below it.
 */
static bool find_list_prev(struct heap *h, uintptr_t at, uintptr_t *prev)
{
	const struct list_heap *L = state(h);
	uintptr_t cur = L->first_free, last = 0;
	struct block b;

	for (size_t steps = 0; cur != 0 && cur < at; steps++) {
		if (steps == L->free_blocks || cur <= last || !load_free(h, cur, &b))
			return false;
		last = cur;
		cur = next_of(h, cur);
	}
	/* The block that will follow `at` on the list must link back to `last`. */
	if (cur != 0 ? !load_free(h, cur, &b) || prev_of(h, cur) != last : L->last_free != last)
		return false;
	*prev = last;
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * Debug mode: redzones after objects, poison in free blocks. */

static bool debug(const struct heap *h) { return h->cfg.debug; }

/* The redzone of allocated block b: its slack. */
static void fill_redzone(const struct heap *h, const struct block *b)
{
	if (debug(h))
		memset((char *)payload(b) + requested_bytes(b), HEAP_REDZONE_BYTE, b->slack);
}

/* Offset past the object of the first redzone byte that was written, or b->slack if none. */
static size_t redzone_damage(const struct heap *h, const struct block *b)
{
	if (!debug(h))
		return b->slack;
	return heap_find_mismatch((char *)payload(b) + requested_bytes(b), b->slack, HEAP_REDZONE_BYTE);
}

static void poison(const struct heap *h, uintptr_t start, uintptr_t end)
{
	if (debug(h))
		memset((void *)start, HEAP_POISON_BYTE, end - start);
}

/* The unused bytes of free block f that lie in [start, end): where poison must be. */
static void unused_part(const struct block *f, uintptr_t *start, uintptr_t *end)
{
	uintptr_t lo = f->at + HEADER_BYTES + 16, hi = block_end(f) - 8;

	*start = *start > lo ? *start : lo;
	*end = *end < hi ? *end : hi;
}

/* Debug mode: the address of the first byte in [start, end) of free block f's unused part that
 * is not poison, or 0 if all are (or debug mode is off). */
static uintptr_t poison_damage(const struct heap *h, const struct block *f, uintptr_t start, uintptr_t end)
{
	if (!debug(h))
		return 0;
	unused_part(f, &start, &end);
	if (start >= end)
		return 0;
	size_t off = heap_find_mismatch((const void *)start, end - start, HEAP_POISON_BYTE);
	return off < end - start ? start + off : 0;
}

/* Debug mode: the part [start, end) of free block f about to become the object at `object` was
 * written to since it was freed.  Reported, naming the object; the allocation goes ahead. */
static void check_reuse(struct heap *h, const struct block *f, uintptr_t start, uintptr_t end, uintptr_t object)
{
	if (poison_damage(h, f, start, end))
		heap_report(h, HEAP_ERR_USE_AFTER_FREE, object, 0, "freed memory written to (use after free)");
}

/* ---------------------------------------------------------------------------------------------
 * Allocation. */

/* The block size that holds an object of `size` bytes (and its redzone in debug mode). */
static size_t block_need(const struct heap *h, size_t size)
{
	size_t need = (size_t)align_up(HEADER_BYTES + size + (debug(h) ? LIST_REDZONE : 0), 16);

	return need > MIN_BLOCK ? need : MIN_BLOCK;
}

/* Where a block for an object aligned to `align` goes in a free block starting at `start`: at
 * the start, or far enough up that the gap in front is a free block of its own. */
static uintptr_t place(uintptr_t start, size_t align)
{
	uintptr_t at = (uintptr_t)align_up(start + HEADER_BYTES, align) - HEADER_BYTES;

	if (at != start && at - start < MIN_BLOCK)
		at += align;   /* the gap was 16 or 32 bytes and align >= 32: now it is at least 48 */
	return at;
}

/* Marks the block at `at` (if below the top) as following a free block or not.  The block was
 * checked by the caller. */
static void set_prev_free(struct heap *h, uintptr_t at, bool prev_free)
{
	struct block b;

	if (at < heap_top(h) && load(h, at, &b) && b.prev_free != prev_free) {
		b.prev_free = prev_free;
		store(h, &b);
	}
}

/* True if the block at `at` is the top or a sealed allocated block: what must follow a free
 * block, checked before the free block is changed. */
static bool allocated_or_top(const struct heap *h, uintptr_t at)
{
	struct block b;

	return at == heap_top(h) || (load(h, at, &b) && !b.free);
}

static void count_in(struct heap *h, const struct block *b)
{
	struct list_heap *L = state(h);

	L->objects++;
	L->bytes_requested += requested_bytes(b);
	L->bytes_in_use += usable_bytes(h, b);
}

static void count_out(struct heap *h, const struct block *b)
{
	struct list_heap *L = state(h);

	L->objects--;
	L->bytes_requested -= requested_bytes(b);
	L->bytes_in_use -= usable_bytes(h, b);
}

/*
 * Hands out [at, at + need) of free block f (checked, with at from place() and the block
 * fitting) for an object of `size` bytes.  The gap in front stays a free block in f's place;
 * a tail of at least MIN_BLOCK becomes one after it, a smaller one joins the object as slack.
 */
static void *carve(struct heap *h, const struct block *f, uintptr_t at, size_t need, size_t size)
{
	uintptr_t f_end = block_end(f);
	size_t front = at - f->at, tail = f_end - at - need;

	if (tail < MIN_BLOCK) {
		need += tail;
		tail = 0;
	}
	check_reuse(h, f, at, at + need, at + HEADER_BYTES);
	if (front == 0 && tail == 0)
		unlink_block(h, f->at);
	else if (front == 0)
		relink(h, f->at, at + need);
	else if (tail != 0)
		link_after(h, f->at, at + need);
	if (front != 0)
		store(h, &(struct block){ .at = f->at, .size = front, .free = true, .prev_free = f->prev_free });
	if (tail != 0)
		store(h, &(struct block){ .at = at + need, .size = tail, .free = true });
	else
		set_prev_free(h, f_end, false);

	struct block a = { .at = at, .size = need, .slack = need - HEADER_BYTES - size, .prev_free = front != 0 };
	store(h, &a);
	fill_redzone(h, &a);
	count_in(h, &a);
	return payload(&a);
}

/*
 * No free block fits: grows the region so that the last block is a free block holding a block
 * of `need` bytes aligned for `align`, into *f.  False (nothing changed) if the region is full.
 */
static bool grow_last_free(struct heap *h, size_t need, size_t align, struct block *f)
{
	struct list_heap *L = state(h);
	uintptr_t base = h->region.base, top = heap_top(h);

	if (L->last_free != 0 && (!load_free(h, L->last_free, f) || !links_agree(h, f))) {
		heap_report(h, HEAP_ERR_CORRUPT, L->last_free, 0, "last free block overwritten");
		return false;
	}
	bool extend = L->last_free != 0 && block_end(f) == top;
	uintptr_t at = place(extend ? f->at : top, align);

	if (at - base > h->region.limit || need > h->region.limit - (at - base))
		return false;
	if (!region_grow(&h->region, at + need))
		return false;
	if (extend) {
		poison(h, top - 8, at + need);
		f->size = at + need - f->at;
	} else {
		poison(h, top, at + need);
		*f = (struct block){ .at = top, .size = at + need - top, .free = true };
		link_after(h, L->last_free, top);
	}
	store(h, f);
	return true;
}

static void *list_alloc(struct heap *h, size_t size, size_t align)
{
	size_t need = block_need(h, size);
	uintptr_t last = 0;
	struct block f;

	for (uintptr_t cur = state(h)->first_free; cur != 0; cur = next_of(h, cur)) {
		if (cur <= last || !load_free(h, cur, &f)) {
			heap_report(h, HEAP_ERR_CORRUPT, cur, 0, "free list link overwritten");
			return NULL;
		}
		uintptr_t at = place(cur, align);
		if (at < block_end(&f) && need <= block_end(&f) - at) {
			if (!links_agree(h, &f) || !allocated_or_top(h, block_end(&f))) {
				heap_report(h, HEAP_ERR_CORRUPT, cur, 0, "free block or its neighbours overwritten");
				return NULL;
			}
			return carve(h, &f, at, need, size);
		}
		last = cur;
	}
	if (!grow_last_free(h, need, align, &f))
		return NULL;
	return carve(h, &f, place(f.at, align), need, size);
}

/* ---------------------------------------------------------------------------------------------
 * Free. */

/* The allocated block whose object is at ptr, into *b; HEAP_OK or why not. */
static enum heap_status find_block(struct heap *h, const void *ptr, struct block *b, const char **what)
{
	uintptr_t p = (uintptr_t)ptr;

	if (p - h->region.base < HEADER_BYTES || p - h->region.base >= heap_top(h) - h->region.base ||
	    !is_aligned(p, 16)) {
		*what = "not a pointer into the heap";
		return HEAP_ERR_INVALID_FREE;
	}
	if (!load(h, p - HEADER_BYTES, b)) {
		*what = "not the start of an object";
		return HEAP_ERR_INVALID_FREE;
	}
	if (b->free) {
		*what = "double free";
		return HEAP_ERR_DOUBLE_FREE;
	}
	return HEAP_OK;
}

/*
 * What giving back block x does, worked out and checked before anything is written: the free
 * neighbours it merges with (size 0 if none), and the free block it follows on the list when it
 * merges with neither.
 */
struct release {
	struct block x, prev, next;
	uintptr_t list_prev;
};

/* Plans the release of block x (which need not be written in memory yet: resize gives back the
 * tail of an object this way).  HEAP_ERR_CORRUPT if a neighbour fails its checks. */
static enum heap_status plan_release(struct heap *h, const struct block *x, struct release *r, uintptr_t *bad)
{
	uintptr_t end = block_end(x);

	*r = (struct release){ .x = *x };
	*bad = end;
	if (end < heap_top(h)) {
		if (!load(h, end, &r->next) || r->next.prev_free)
			return HEAP_ERR_CORRUPT;
		if (!r->next.free)
			r->next.size = 0;
		else if (!links_agree(h, &r->next) || !allocated_or_top(h, block_end(&r->next)))
			return HEAP_ERR_CORRUPT;
	}
	*bad = x->at - 8;   /* the boundary tag of the free block below */
	if (x->prev_free) {
		if (x->at - h->region.base < MIN_BLOCK)
			return HEAP_ERR_CORRUPT;
		size_t size = load_link(h, tag_slot(x->at));
		if (size > x->at - h->region.base || !load_free(h, x->at - size, &r->prev) || r->prev.size != size)
			return HEAP_ERR_CORRUPT;
		*bad = r->prev.at;
		if (!links_agree(h, &r->prev))
			return HEAP_ERR_CORRUPT;
	}
	*bad = x->at;
	if (r->prev.size == 0 && r->next.size == 0 && !find_list_prev(h, x->at, &r->list_prev))
		return HEAP_ERR_CORRUPT;
	return HEAP_OK;
}

/* Gives a free block at the top back to the region when it is big. */
static void trim_top(struct heap *h)
{
	struct list_heap *L = state(h);
	struct block f;

	if (L->last_free == 0 || !load_free(h, L->last_free, &f) || block_end(&f) != heap_top(h))
		return;
	if (f.size >= LIST_TRIM_BYTES) {
		unlink_block(h, f.at);
		region_shrink(&h->region, f.at);
	}
}

/* Carries out a checked plan: x becomes free, merged with its free neighbours. */
static void release(struct heap *h, const struct release *r)
{
	const struct block *x = &r->x;
	struct block m = { .at = r->prev.size ? r->prev.at : x->at, .size = x->size + r->prev.size + r->next.size,
	                   .free = true, .prev_free = r->prev.size ? r->prev.prev_free : false };

	/* A tombstone: x's own header says free even when x merges into the block below, so that
	 * freeing x again reads as a double free.  Debug mode poisons it with the rest of x. */
	if (!debug(h))
		store(h, &(struct block){ .at = x->at, .size = x->size, .free = true });
	if (r->prev.size && r->next.size)
		unlink_block(h, r->next.at);
	else if (r->next.size)
		relink(h, r->next.at, x->at);
	else if (!r->prev.size)
		link_after(h, r->list_prev, x->at);
	/* What was x, the boundary tag below it and the header and links above it is unused now. */
	poison(h, r->prev.size ? x->at - 8 : x->at + HEADER_BYTES + 16,
	       block_end(x) + (r->next.size ? HEADER_BYTES + 16 : 0));
	store(h, &m);
	set_prev_free(h, block_end(&m), true);
	trim_top(h);
}

static enum heap_status list_free(struct heap *h, void *ptr)
{
	struct block x;
	struct release r;
	const char *what;
	uintptr_t bad;
	enum heap_status status = find_block(h, ptr, &x, &what);

	if (status != HEAP_OK)
		return heap_report(h, status, (uintptr_t)ptr, 0, what);
	if (plan_release(h, &x, &r, &bad) != HEAP_OK)
		return heap_report(h, HEAP_ERR_CORRUPT, bad, 0, "free list or a neighbouring block overwritten");
	/* An overflow into the redzone is reported, and the object freed all the same: its
	 * redzone becomes poison like the rest of it. */
	if (redzone_damage(h, &x) < x.slack)
		status = heap_report(h, HEAP_ERR_REDZONE, (uintptr_t)ptr, 0, "redzone overwritten");
	count_out(h, &x);
	release(h, &r);
	return status;
}

/* ---------------------------------------------------------------------------------------------
 * Resize in place. */

/* Gives allocated block x a new size (in bytes, header included) and a new requested size. */
static void reshape(struct heap *h, struct block *x, size_t size, size_t requested)
{
	count_out(h, x);
	x->size = size;
	x->slack = payload_bytes(x) - requested;
	store(h, x);
	fill_redzone(h, x);
	count_in(h, x);
}

/* Shrinks x to `need` bytes; the tail, if it can be a block, is given back. */
static bool shrink_in_place(struct heap *h, struct block *x, size_t need, size_t size)
{
	struct block tail = { .at = x->at + need, .size = x->size - need, .prev_free = false };
	struct release r;
	uintptr_t bad;

	if (tail.size < MIN_BLOCK) {
		reshape(h, x, x->size, size);
		return true;
	}
	if (plan_release(h, &tail, &r, &bad) != HEAP_OK)
		return false;
	reshape(h, x, need, size);
	release(h, &r);
	return true;
}

/* Grows x to `need` bytes from the free block after it and, when that is the top of the heap,
 * from the region.  False (nothing changed) if there is not enough. */
static bool grow_in_place(struct heap *h, struct block *x, size_t need, size_t size)
{
	uintptr_t end = block_end(x), top = heap_top(h);
	struct block n = { .at = end, .size = 0 };

	if (end < top && (!load(h, end, &n) || !n.free))
		return false;
	if (n.size && (!links_agree(h, &n) || !allocated_or_top(h, block_end(&n))))
		return false;
	size_t avail = x->size + n.size, rest = 0;
	if (need > avail) {
		/* Only the top of the heap can take more from the region. */
		if (end + n.size != top || need - avail > h->region.limit - (top - h->region.base) ||
		    !region_grow(&h->region, x->at + need))
			return false;
	} else {
		rest = avail - need;
		if (rest < MIN_BLOCK) {
			need = avail;
			rest = 0;
		}
	}
	if (n.size) {
		check_reuse(h, &n, n.at, x->at + need, (uintptr_t)payload(x));
		if (rest)
			relink(h, n.at, x->at + need);
		else
			unlink_block(h, n.at);
	}
	if (rest)
		store(h, &(struct block){ .at = x->at + need, .size = rest, .free = true });
	else
		set_prev_free(h, x->at + need, false);
	reshape(h, x, need, size);
	return true;
}

static bool list_resize(struct heap *h, void *ptr, size_t size)
{
	struct block x;
	const char *what;
	size_t need = block_need(h, size);

	if (find_block(h, ptr, &x, &what) != HEAP_OK || redzone_damage(h, &x) < x.slack)
		return false;   /* heap_realloc's free of it reports the problem */
	if (need <= x.size)
		return shrink_in_place(h, &x, need, size);
	return grow_in_place(h, &x, need, size);
}

/* ---------------------------------------------------------------------------------------------
 * For the fixed design. */

enum heap_status list_find(struct heap *h, const void *ptr, struct list_object *out, const char **what)
{
	struct block b;
	enum heap_status status = find_block(h, ptr, &b, what);

	if (status == HEAP_OK)
		*out = (struct list_object){ requested_bytes(&b), payload_bytes(&b), b.tag };
	return status;
}

bool list_redzone_intact(struct heap *h, const void *ptr, const struct list_object *o)
{
	struct block b = { .at = (uintptr_t)ptr - HEADER_BYTES, .size = o->payload + HEADER_BYTES,
	                   .slack = o->payload - o->requested };

	return redzone_damage(h, &b) == b.slack;
}

void list_set_object(struct heap *h, void *ptr, size_t requested, unsigned tag)
{
	struct block b;

	if (!load(h, (uintptr_t)ptr - HEADER_BYTES, &b) || b.free || requested > payload_bytes(&b) ||
	    payload_bytes(&b) - requested > SLACK_MAX || tag > LIST_TAG_MAX)
		return;   /* the caller found the object with list_find and keeps to its class */
	b.tag = tag;
	reshape(h, &b, b.size, requested);
}

/* ---------------------------------------------------------------------------------------------
 * The rest of the interface. */

static enum heap_status list_init(struct heap *h)
{
	const struct heap_region *r = &h->region;

	if (r->limit > LIST_LIMIT_MAX || r->base + r->limit > UINTPTR_MAX - LIST_ADDR_SLACK)
		return HEAP_ERR_BAD_CONFIG;
	*state(h) = (struct list_heap){ 0 };
	return HEAP_OK;
}

static void list_destroy(struct heap *h)
{
	*state(h) = (struct list_heap){ 0 };
}

static size_t list_usable_size(struct heap *h, const void *ptr)
{
	struct block b;
	const char *what;

	return find_block(h, ptr, &b, &what) == HEAP_OK ? usable_bytes(h, &b) : 0;
}

/* What heap_check counts while it walks the blocks. */
struct tally {
	size_t free_blocks, objects, bytes_requested, bytes_in_use;
};

static enum heap_status fail(struct heap *h, enum heap_status status, uintptr_t at, const char *what)
{
	return heap_report(h, status, at, 0, what);
}

/* Checks one block of the walk, b, which follows a free block or not. */
static enum heap_status check_block(struct heap *h, const struct block *b, bool after_free, struct tally *t)
{
	uintptr_t bad;

	if (b->prev_free != after_free)
		return fail(h, HEAP_ERR_CORRUPT, b->at, "block's PREV_FREE flag is wrong");
	if (b->free) {
		if (after_free)
			return fail(h, HEAP_ERR_CORRUPT, b->at, "two free blocks next to each other");
		if (load_link(h, tag_slot(block_end(b))) != b->size)
			return fail(h, HEAP_ERR_CORRUPT, block_end(b) - 8, "free block's boundary tag overwritten");
		if ((bad = poison_damage(h, b, b->at, block_end(b))) != 0)
			return fail(h, HEAP_ERR_USE_AFTER_FREE, bad, "freed memory written to (use after free)");
		t->free_blocks++;
		return HEAP_OK;
	}
	if (b->slack > payload_bytes(b) || (debug(h) && b->slack < LIST_REDZONE))
		return fail(h, HEAP_ERR_CORRUPT, b->at, "object's slack is impossible");
	if (redzone_damage(h, b) < b->slack)
		return fail(h, HEAP_ERR_REDZONE, (uintptr_t)payload(b), "redzone overwritten");
	t->objects++;
	t->bytes_requested += requested_bytes(b);
	t->bytes_in_use += usable_bytes(h, b);
	return HEAP_OK;
}

/* Walks the list: strictly ascending free blocks that link back, as many as the walk found. */
static enum heap_status check_list(struct heap *h, size_t free_blocks)
{
	const struct list_heap *L = state(h);
	uintptr_t prev = 0, cur = L->first_free;
	struct block b;

	for (size_t n = 0; n < free_blocks; n++) {
		if (cur <= prev || !load_free(h, cur, &b) || prev_of(h, cur) != prev)
			return fail(h, HEAP_ERR_CORRUPT, cur, "free list broken");
		prev = cur;
		cur = next_of(h, cur);
	}
	if (cur != 0 || L->last_free != prev || L->free_blocks != free_blocks)
		return fail(h, HEAP_ERR_CORRUPT, prev, "free list does not hold every free block");
	return HEAP_OK;
}

static enum heap_status list_check(struct heap *h)
{
	const struct list_heap *L = state(h);
	uintptr_t top = heap_top(h);
	struct tally t = { 0 };
	struct block b = { 0 };
	bool after_free = false;
	enum heap_status status;

	if (!is_aligned(top, 16) || region_mapped_bytes(&h->region) != align_up(top - h->region.base, PAGE_SIZE))
		return fail(h, HEAP_ERR_CORRUPT, top, "heap top does not match the region");
	for (uintptr_t at = h->region.base; at < top; at = block_end(&b)) {
		if (!load(h, at, &b))
			return fail(h, HEAP_ERR_CORRUPT, at, "block header overwritten");
		if ((status = check_block(h, &b, after_free, &t)) != HEAP_OK)
			return status;
		after_free = b.free;
	}
	if (after_free && b.size >= LIST_TRIM_BYTES)
		return fail(h, HEAP_ERR_CORRUPT, b.at, "free block at the top was not given back");
	if (t.objects != L->objects || t.bytes_requested != L->bytes_requested || t.bytes_in_use != L->bytes_in_use)
		return fail(h, HEAP_ERR_CORRUPT, h->region.base, "object counts do not match the blocks");
	return check_list(h, t.free_blocks);
}

static void list_stats(struct heap *h, struct heap_stats *out)
{
	const struct list_heap *L = state(h);

	out->objects_in_use = L->objects;
	out->bytes_requested = L->bytes_requested;
	out->bytes_in_use = L->bytes_in_use;
}

const struct heap_ops list_heap_ops = {
	.init = list_init,
	.destroy = list_destroy,
	.alloc = list_alloc,
	.free = list_free,
	.usable_size = list_usable_size,
	.resize = list_resize,
	.check = list_check,
	.stats = list_stats,
};
