/*
 * The slab heap (mm/heap_slab.h; docs/heap.md, "slab").
 *
 * Everything the heap holds is a run of pages from the region, and every run has a record,
 * `struct slab`, that its pages point to through the region's owner words:
 *   - a slab of objects of one class: a free list, a bitmap of objects in use, counts;
 *   - a page run holding one big object: its length and the size asked for;
 *   - a header page: 64 records.  Records are themselves objects of a class, the header class,
 *     whose slabs describe themselves: a header page's record is its own object 0.
 * So metadata never sits inside a slab's pages, an object overflow cannot reach it, and every
 * pointer is traced to its record in O(1) without trusting a byte of the object.
 *
 * Who may trust whom: the records, the bitmaps and the region's descriptors are the truth.  The
 * free-list links are inside free objects, ordinary memory a stray write can reach, so each is
 * stored encoded (heap_encode_link) and checked against the bitmap before it becomes a slab's
 * list head.  A head (`free`) is therefore always a free object of its slab, or 0.
 *
 * Alloc and free have an inline path for the common case (alloc: the first slab of the class has
 * an object on its free list; free: the object's slab keeps its place on the lists) and one
 * out-of-line slow path each for everything else: carving, new, full and empty slabs, page runs,
 * alignment, debug mode, errors.
 */
#include "mm/heap.h"

#include "lib/compiler.h"
#include "lib/format.h"
#include "lib/mem.h"
#include "lib/panic.h"
#include "mm/heap_guard.h"

#define CLASS_HEADER   SLAB_CLASS_COUNT       /* slab_heap.class[] entry of the record class */
#define CLASS_LARGE    (SLAB_CLASS_COUNT + 1) /* a record of a page run: no class entry */
#define MAX_OBJECTS    255u                   /* per slab: the counts are bytes */
#define SLAB_MAX_PAGES 8u
#define LINK_BYTES     sizeof(uintptr_t)      /* a free object's encoded link, at its start */
#define SIZE_WORD      sizeof(uintptr_t)      /* debug: the size asked for, at the slot's end */
#define DEBUG_EXTRA    16u                    /* debug: at least 8 redzone bytes + the size word */

struct slab {
	uintptr_t free;             /* first free object on the list (checked), or 0 */
	struct slab *next;          /* the class's partial list */
	struct slab *prev;
	uint32_t first_page;        /* region data page where the run starts */
	uint8_t free_index;         /* object number of `free`, so alloc need not divide */
	uint8_t in_use;             /* objects handed out, and the reserved ones */
	uint8_t carved;             /* objects [0, carved) have been handed out at some time */
	uint8_t class_id;           /* index into slab_heap.class[], or CLASS_LARGE */
	union {
		uint64_t live[4];       /* slab: bit i set while object i is in use */
		struct {
			size_t pages;       /* page run: its length */
			size_t size;        /* the size asked for */
		} large;
	};
};

_Static_assert(sizeof(struct slab) == 64, "a record is one cache line; a header page holds 64");
_Static_assert(MAX_OBJECTS < 4 * 64, "the bitmap has 256 bits");
_Static_assert(HEAP_MAX_ALIGN <= PAGE_SIZE, "page runs give at most page alignment");
_Static_assert(SLAB_CLASS_COUNT + 1 <= HEAP_STATS_CLASSES, "heap_stats has room for every class");
_Static_assert(SLAB_MAX_PAGES <= SLAB_CACHE_PAGES, "the cache budget holds any one slab");

/* Steps of 16 up to 128, then four classes per power of two: an object wastes at most 15 bytes
 * up to 128 and at most 20% above, and every size is a multiple of 16, so every object is
 * 16-aligned. */
static const uint16_t class_sizes[SLAB_CLASS_COUNT] = {
	16, 32, 48, 64, 80, 96, 112, 128,
	160, 192, 224, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1280, 1536, 1792, 2048,
	2560, 3072, 3584,
};

_Static_assert(sizeof(class_sizes) / sizeof(class_sizes[0]) == SLAB_CLASS_COUNT, "one size per class");

/* ---------------------------------------------------------------------------------------------
 * Records, objects and bits. */

static struct slab *slab_of(const struct heap *h, uintptr_t addr)
{
	return (struct slab *)region_page_owner(&h->region, addr);
}

static uintptr_t slab_start(const struct heap *h, const struct slab *s)
{
	return region_page_address(&h->region, s->first_page);
}

/* offset / size by a multiplication: exact for offsets below 2^20, and slabs are 32 KiB at most.
 * For a bigger offset the result is wrong, so callers confirm it with index * size == offset. */
static ALWAYS_INLINE unsigned object_index(const struct slab_class *c, size_t offset)
{
	return (unsigned)((offset * c->reciprocal) >> 32);
}

static ALWAYS_INLINE bool is_live(const struct slab *s, unsigned i)
{
	return (s->live[i / 64] >> (i % 64)) & 1u;
}

static ALWAYS_INLINE void set_live(struct slab *s, unsigned i)
{
	s->live[i / 64] |= UINT64_C(1) << (i % 64);
}

static ALWAYS_INLINE void clear_live(struct slab *s, unsigned i)
{
	s->live[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

static bool is_header_class(const struct heap *h, const struct slab_class *c)
{
	return c == &h->design.slab.class[CLASS_HEADER];
}

/* Formats the `what` of a report that needs a number. */
static const char *describe(struct heap *h, const char *fmt, size_t n)
{
	format_buf(h->design.slab.what, sizeof(h->design.slab.what), fmt, n);
	return h->design.slab.what;
}

static enum heap_status corrupt(struct heap *h, uintptr_t addr, size_t class_size, const char *what)
{
	return heap_report(h, HEAP_ERR_CORRUPT, addr, class_size, what);
}

/* ---------------------------------------------------------------------------------------------
 * Free lists. */

/* True if `link`, as decoded from a free list, ends the list (0) or is an object of s that has
 * been carved, is not in use and is not `self`, the object it was read from; its index goes to
 * *j.  Anything else is a corrupted link. */
static ALWAYS_INLINE bool is_free_link(const struct heap *h, const struct slab_class *c, const struct slab *s,
                                       uintptr_t link, uintptr_t self, unsigned *j)
{
	size_t offset = link - slab_start(h, s);

	*j = object_index(c, offset);
	if (link == 0)
		return true;
	return *j < s->carved && (size_t)*j * c->size == offset && !is_live(s, *j) && link != self;
}

/* Takes the head of s's free list and marks it in use; 0 if the list is empty or the head's link
 * fails its check, and then nothing changed. */
static ALWAYS_INLINE uintptr_t pop_free(const struct heap *h, const struct slab_class *c, struct slab *s)
{
	uintptr_t p = s->free, next;
	unsigned j;

	if (unlikely(p == 0))
		return 0;
	next = heap_encode_link(h, (void *)p, *(const uintptr_t *)p);
	if (unlikely(!is_free_link(h, c, s, next, p, &j)))
		return 0;
	set_live(s, s->free_index);
	s->free = next;
	s->free_index = (uint8_t)j;
	return p;
}

/* Puts object i at p, already marked free, at the head of s's list. */
static ALWAYS_INLINE void push_free(const struct heap *h, struct slab *s, uintptr_t p, unsigned i)
{
	*(uintptr_t *)p = heap_encode_link(h, (void *)p, s->free);
	s->free = p;
	s->free_index = (uint8_t)i;
}

/* Hands out the next never-used object of s, which has one. */
static uintptr_t carve(const struct heap *h, const struct slab_class *c, struct slab *s)
{
	unsigned i = s->carved++;

	set_live(s, i);
	return slab_start(h, s) + (uintptr_t)i * c->size;
}

/* Relinks every carved object that is not in use, from the bitmap: the repair of a corrupted
 * list.  The links written are all fresh; nothing read from the old list is used. */
static void rebuild_free_list(const struct heap *h, const struct slab_class *c, struct slab *s)
{
	uintptr_t start = slab_start(h, s);

	s->free = 0;
	for (unsigned i = s->carved; i-- > 0;)
		if (!is_live(s, i))
			push_free(h, s, start + (uintptr_t)i * c->size, i);
}

/* pop_free failed on s, which has room: carve a new object, or report a corrupted list, repair
 * it and pop again. */
static uintptr_t pop_slow(struct heap *h, const struct slab_class *c, struct slab *s)
{
	uintptr_t p;

	if (s->free != 0 || s->carved == c->capacity) {
		corrupt(h, s->free ? s->free : slab_start(h, s), c->size,
		        s->free ? "free list link corrupted" : "free list lost objects");
		rebuild_free_list(h, c, s);
		p = pop_free(h, c, s);
		if (p != 0)
			return p;
	}
	if (s->carved == c->capacity)
		panic("slab: a slab with room has no free object");
	return carve(h, c, s);
}

/* ---------------------------------------------------------------------------------------------
 * Partial lists.  Allocation takes from the first slab only, so only the first can fill up; it
 * stays first until an allocation finds it full (so that a slab at the edge does not hop on and
 * off the list with every alloc and free).  Every other slab on the list has room, and none is
 * empty: the first is the only one that may be, the class's cached empty slab.  A full slab that
 * gets room back goes second. */

static void link_partial(struct slab_class *c, struct slab *s)
{
	struct slab *head = c->partial;

	s->prev = head;
	s->next = head ? head->next : NULL;
	if (head == NULL)
		c->partial = s;
	else {
		if (head->next)
			head->next->prev = s;
		head->next = s;
	}
}

static void unlink_partial(struct slab_class *c, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->partial = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

/* The first slab of c's list with room for one more object, after taking full ones off the
 * list; NULL if there is none. */
static struct slab *slab_with_room(struct slab_class *c)
{
	struct slab *s;

	while ((s = c->partial) != NULL && s->in_use == c->capacity)
		unlink_partial(c, s);
	return s;
}

/* ---------------------------------------------------------------------------------------------
 * Slabs and records. */

static uintptr_t take_object(struct heap *h, struct slab_class *c);
static void put_object(struct heap *h, struct slab_class *c, struct slab *s, uintptr_t p, unsigned i);

/* A zeroed record from the header class, or NULL. */
static struct slab *record_alloc(struct heap *h)
{
	struct slab *rec = (struct slab *)take_object(h, &h->design.slab.class[CLASS_HEADER]);

	if (rec)
		memset(rec, 0, sizeof(*rec));
	return rec;
}

static void record_free(struct heap *h, struct slab *rec)
{
	struct slab_class *c = &h->design.slab.class[CLASS_HEADER];
	struct slab *hs = slab_of(h, (uintptr_t)rec);
	unsigned i;

	if (hs == NULL || hs->class_id != CLASS_HEADER)
		panic("slab: record %p is not in a header page", (void *)rec);
	i = object_index(c, (uintptr_t)rec - slab_start(h, hs));
	if (!is_live(hs, i))
		panic("slab: record %p freed twice", (void *)rec);
	put_object(h, c, hs, (uintptr_t)rec, i);
}

/* Fills in the record of a new slab of c at `start`, whose pages are fresh, and makes it the
 * owner of its pages.  The reserved objects (a header page's own record) start in use. */
static void init_slab(struct heap *h, struct slab_class *c, struct slab *s, uintptr_t start)
{
	s->first_page = region_page_index(&h->region, start);
	s->class_id = (uint8_t)(c - h->design.slab.class);
	s->free = 0;
	s->next = s->prev = NULL;
	for (unsigned i = 0; i < c->reserved; i++)
		set_live(s, i);
	s->in_use = s->carved = (uint8_t)c->reserved;
	region_set_owner(&h->region, start, (uintptr_t)s);
	if (h->cfg.debug && !is_header_class(h, c))
		memset((void *)start, HEAP_POISON_BYTE, (size_t)c->capacity * c->size);
}

/* A new slab for c, which has none with room, made the first on its list; NULL if the region
 * or the page source is out of memory, and then nothing changed.  A header page is its own
 * record; any other slab takes one from the header class, after its pages, so that a failure
 * has only the pages to give back. */
static struct slab *add_slab(struct heap *h, struct slab_class *c)
{
	uintptr_t start = region_alloc_pages(&h->region, c->pages);
	struct slab *s;

	if (start == 0)
		return NULL;
	s = is_header_class(h, c) ? (struct slab *)start : record_alloc(h);
	if (s == NULL) {
		region_free_pages(&h->region, start, c->pages);
		return NULL;
	}
	init_slab(h, c, s, start);
	link_partial(c, s);
	return s;
}

/* Gives an empty slab back to the region, taking it off its list. */
static void release_slab(struct heap *h, struct slab_class *c, struct slab *s)
{
	unlink_partial(c, s);
	region_free_pages(&h->region, slab_start(h, s), c->pages);   /* a header page's s goes here */
	if (!is_header_class(h, c))
		record_free(h, s);
}

/* An object of class c, with the class's counts and lists up to date; 0 if out of memory. */
static uintptr_t take_object(struct heap *h, struct slab_class *c)
{
	struct slab *s = slab_with_room(c);
	uintptr_t p;

	if (s == NULL && (s = add_slab(h, c)) == NULL)
		return 0;
	p = pop_free(h, c, s);
	if (p == 0)
		p = pop_slow(h, c, s);
	s->in_use++;
	return p;
}

/* Takes the right to cache from the class that has had it longest; its cached slab, if it has
 * one now, goes back to the region. */
static void revoke_oldest_cacher(struct heap *h)
{
	struct slab_heap *sh = &h->design.slab;
	struct slab_class *c = &sh->class[sh->cacher[0]];

	memmove(sh->cacher, sh->cacher + 1, --sh->cachers);
	sh->cached_pages = (uint8_t)(sh->cached_pages - c->pages);
	c->may_cache = false;
	if (c->partial != NULL && c->partial->in_use == c->reserved)
		release_slab(h, c, c->partial);
}

/* Lets c cache its empty first slab, within SLAB_CACHE_PAGES for all classes together. */
static void grant_cache(struct heap *h, struct slab_class *c)
{
	struct slab_heap *sh = &h->design.slab;

	while (sh->cached_pages + c->pages > SLAB_CACHE_PAGES)
		revoke_oldest_cacher(h);
	sh->cacher[sh->cachers++] = (uint8_t)(c - sh->class);
	sh->cached_pages = (uint8_t)(sh->cached_pages + c->pages);
	c->may_cache = true;
}

/* s has just become empty.  Behind the first slab of its list it goes back to the region; as
 * the first, it stays, and its class becomes the newest cacher. */
static void slab_emptied(struct heap *h, struct slab_class *c, struct slab *s)
{
	if (s != c->partial)
		release_slab(h, c, s);
	else if (!c->may_cache)
		grant_cache(h, c);
}

/* Takes back object i at p of s, in use: a full slab that left its list goes back on it, a
 * slab that is now empty is cached or released. */
static void put_object(struct heap *h, struct slab_class *c, struct slab *s, uintptr_t p, unsigned i)
{
	bool off_list = s->in_use == c->capacity && s != c->partial;

	clear_live(s, i);
	push_free(h, s, p, i);
	s->in_use--;
	if (off_list)
		link_partial(c, s);
	else if (s->in_use == c->reserved)
		slab_emptied(h, c, s);
}

/* ---------------------------------------------------------------------------------------------
 * Finding an object from a pointer. */

struct object {
	struct slab *s;             /* the record of p's run, or NULL */
	struct slab_class *c;       /* p's class, or NULL for page runs and records */
	unsigned index;             /* p's object number in its slab */
};

/* Finds the live object at p; otherwise says why p is not one (*what). */
static enum heap_status locate(struct heap *h, uintptr_t p, struct object *o, const char **what)
{
	struct slab *s = slab_of(h, p);
	size_t offset;

	*o = (struct object){ s, NULL, 0 };
	if (s == NULL) {
		*what = "not a heap object";
		return HEAP_ERR_INVALID_FREE;
	}
	offset = p - slab_start(h, s);
	if (s->class_id == CLASS_LARGE) {
		*what = "inside a page run, not at its start";
		return offset == 0 ? HEAP_OK : HEAP_ERR_INVALID_FREE;
	}
	if (s->class_id == CLASS_HEADER) {
		*what = "inside heap metadata, not an object";
		return HEAP_ERR_INVALID_FREE;
	}
	o->c = &h->design.slab.class[s->class_id];
	o->index = object_index(o->c, offset);
	if (o->index >= o->c->capacity)
		*what = "past the last object of a slab";
	else if ((size_t)o->index * o->c->size != offset)
		*what = "inside an object, not at its start";
	else if (o->index >= s->carved)
		*what = "never handed out";
	else if (!is_live(s, o->index)) {
		*what = "double free";
		return HEAP_ERR_DOUBLE_FREE;
	} else
		return HEAP_OK;
	return HEAP_ERR_INVALID_FREE;
}

/* The class size a report names for o: the object size, a page run's bytes, or 0. */
static size_t class_bytes(const struct object *o)
{
	if (o->c)
		return o->c->size;
	if (o->s && o->s->class_id == CLASS_LARGE)
		return o->s->large.pages * PAGE_SIZE;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Debug mode.  A slot of class size C holding n bytes:
 *   [0, n)           the object, HEAP_POISON_BYTE when handed out
 *   [n, C - 8)       redzone: HEAP_REDZONE_BYTE, at least 8 of them
 *   [C - 8, C)       n, encoded like a link, so that usable_size returns exactly n
 * A free slot is HEAP_POISON_BYTE but for its link in [0, 8).  A page run keeps n in its record
 * and has redzone from n to its end. */

static uintptr_t *size_word(const struct slab_class *c, uintptr_t p)
{
	return (uintptr_t *)(p + c->size - SIZE_WORD);
}

/* The size stored in the slot at p, or 0 if the word does not hold a possible size. */
static size_t stored_size(const struct heap *h, const struct slab_class *c, uintptr_t p)
{
	uintptr_t *word = size_word(c, p);
	size_t n = heap_encode_link(h, word, *word);

	return n >= 1 && n <= c->size - DEBUG_EXTRA ? n : 0;
}

static void set_slot_size(const struct heap *h, const struct slab_class *c, uintptr_t p, size_t n)
{
	memset((void *)(p + n), HEAP_REDZONE_BYTE, c->size - SIZE_WORD - n);
	*size_word(c, p) = heap_encode_link(h, size_word(c, p), n);
}

/* Reports HEAP_ERR_REDZONE if [from, to) past the object at p is not all redzone bytes. */
static enum heap_status check_redzone_bytes(struct heap *h, uintptr_t p, size_t from, size_t to, size_t class_size)
{
	size_t bad = from + heap_find_mismatch((const void *)(p + from), to - from, HEAP_REDZONE_BYTE);

	if (bad == to)
		return HEAP_OK;
	return heap_report(h, HEAP_ERR_REDZONE, p, class_size, describe(h, "redzone overwritten at +%zu", bad));
}

static enum heap_status check_slot_redzone(struct heap *h, const struct slab_class *c, uintptr_t p)
{
	size_t n = stored_size(h, c, p);

	if (n == 0)
		return heap_report(h, HEAP_ERR_REDZONE, p, c->size,
		                   describe(h, "redzone overwritten at +%zu", c->size - SIZE_WORD));
	return check_redzone_bytes(h, p, n, c->size - SIZE_WORD, c->size);
}

static enum heap_status check_run_redzone(struct heap *h, const struct slab *s, uintptr_t p)
{
	return check_redzone_bytes(h, p, s->large.size, s->large.pages * PAGE_SIZE, s->large.pages * PAGE_SIZE);
}

/* Reports HEAP_ERR_USE_AFTER_FREE if the free slot at p is no longer all poison past its link. */
static enum heap_status check_poison(struct heap *h, const struct slab_class *c, uintptr_t p)
{
	size_t bad = heap_find_mismatch((const void *)(p + LINK_BYTES), c->size - LINK_BYTES, HEAP_POISON_BYTE);

	if (bad == c->size - LINK_BYTES)
		return HEAP_OK;
	return heap_report(h, HEAP_ERR_USE_AFTER_FREE, p, c->size,
	                   describe(h, "freed object written at +%zu", bad + LINK_BYTES));
}

/* Debug: readies the slot at p, just taken from c, for n bytes.  A write to it while it was free
 * is reported, and the slot is made all poison again either way. */
static void hand_out_slot(struct heap *h, const struct slab_class *c, uintptr_t p, size_t n)
{
	bool written = check_poison(h, c, p) != HEAP_OK;

	memset((void *)p, HEAP_POISON_BYTE, written ? c->size : LINK_BYTES);
	set_slot_size(h, c, p, n);
}

/* ---------------------------------------------------------------------------------------------
 * Page runs for big and over-aligned objects. */

static size_t pages_for(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

static void *alloc_run(struct heap *h, size_t size, size_t need)
{
	size_t pages = pages_for(need);
	uintptr_t start = region_alloc_pages(&h->region, pages);
	struct slab *s;

	if (start == 0)
		return NULL;
	s = record_alloc(h);
	if (s == NULL) {
		region_free_pages(&h->region, start, pages);
		return NULL;
	}
	s->first_page = region_page_index(&h->region, start);
	s->class_id = CLASS_LARGE;
	s->in_use = 1;
	s->large.pages = pages;
	s->large.size = size;
	region_set_owner(&h->region, start, (uintptr_t)s);
	if (h->cfg.debug)
		memset((void *)(start + size), HEAP_REDZONE_BYTE, pages * PAGE_SIZE - size);
	return (void *)start;
}

static enum heap_status free_run(struct heap *h, struct slab *s, uintptr_t p)
{
	enum heap_status status = h->cfg.debug ? check_run_redzone(h, s, p) : HEAP_OK;

	region_free_pages(&h->region, p, s->large.pages);
	record_free(h, s);
	return status;
}

/* ---------------------------------------------------------------------------------------------
 * Alloc. */

/* The smallest class whose objects hold `need` bytes at `align`, or CLASS_LARGE.  Objects of a
 * class sit at multiples of its size from a page boundary, so a size that is a multiple of
 * `align` aligns them all. */
static unsigned class_for(const struct slab_heap *sh, size_t need, size_t align)
{
	if (need > SLAB_SMALL_MAX)
		return CLASS_LARGE;
	for (unsigned k = sh->class_of[(need - 1) / SLAB_GRANULE]; k < SLAB_CLASS_COUNT; k++)
		if (is_aligned(sh->class[k].size, align))
			return k;
	return CLASS_LARGE;
}

static NOINLINE void *alloc_slow(struct heap *h, size_t size, size_t align)
{
	struct slab_heap *sh = &h->design.slab;
	size_t need = h->cfg.debug ? size + DEBUG_EXTRA : size;
	unsigned k = class_for(sh, need, align);
	uintptr_t p;

	if (k == CLASS_LARGE)
		return alloc_run(h, size, need);
	p = take_object(h, &sh->class[k]);
	if (p != 0 && h->cfg.debug)
		hand_out_slot(h, &sh->class[k], p, size);
	return (void *)p;
}

static void *slab_alloc(struct heap *h, size_t size, size_t align)
{
	struct slab_heap *sh = &h->design.slab;

	if (likely(size <= sh->fast_max && align == HEAP_MIN_ALIGN)) {
		struct slab_class *c = &sh->class[sh->class_of[(size - 1) / SLAB_GRANULE]];
		struct slab *s = c->partial;

		if (likely(s != NULL)) {
			uintptr_t p = pop_free(h, c, s);
			if (likely(p != 0)) {
				s->in_use++;
				return (void *)p;
			}
		}
	}
	return alloc_slow(h, size, align);
}

/* ---------------------------------------------------------------------------------------------
 * Free. */

static enum heap_status free_object(struct heap *h, const struct object *o, uintptr_t p)
{
	enum heap_status status = HEAP_OK;

	if (h->cfg.debug) {
		status = check_slot_redzone(h, o->c, p);
		memset((void *)p, HEAP_POISON_BYTE, o->c->size);
	}
	put_object(h, o->c, o->s, p, o->index);
	return status;
}

/* Every free the inline path does not finish: errors, page runs, debug mode, and slabs that
 * change lists.  A debug-mode object with a damaged redzone is reported and still freed. */
static NOINLINE enum heap_status free_slow(struct heap *h, uintptr_t p)
{
	struct object o;
	const char *what;
	enum heap_status status = locate(h, p, &o, &what);

	if (status != HEAP_OK)
		return heap_report(h, status, p, class_bytes(&o), what);
	if (o.c == NULL)
		return free_run(h, o.s, p);
	return free_object(h, &o, p);
}

/* True if freeing one object of s needs no list change: s is neither full (it may be off its
 * list) nor about to empty, or it is the first slab and may stay so. */
static ALWAYS_INLINE bool stays_put(const struct slab_class *c, const struct slab *s)
{
	unsigned n = s->in_use;

	if (likely(n - 2u < c->capacity - 2u))
		return true;
	return s == c->partial && (n != 1 || c->may_cache);
}

static enum heap_status slab_free(struct heap *h, void *ptr)
{
	const struct slab_heap *sh = &h->design.slab;
	uintptr_t p = (uintptr_t)ptr;
	struct slab *s = slab_of(h, p);

	if (likely(s != NULL && s->class_id < sh->fast_classes)) {
		const struct slab_class *c = &sh->class[s->class_id];
		size_t offset = p - slab_start(h, s);
		unsigned i = object_index(c, offset);   /* below 256: the offset is inside s's pages */

		if (likely((size_t)i * c->size == offset && is_live(s, i) && stays_put(c, s))) {
			clear_live(s, i);
			push_free(h, s, p, i);
			s->in_use--;
			return HEAP_OK;
		}
	}
	return free_slow(h, p);
}

/* ---------------------------------------------------------------------------------------------
 * Sizes. */

static size_t slab_usable_size(struct heap *h, const void *ptr)
{
	struct object o;
	const char *what;

	if (locate(h, (uintptr_t)ptr, &o, &what) != HEAP_OK)
		return 0;
	if (o.c == NULL)
		return h->cfg.debug ? o.s->large.size : o.s->large.pages * PAGE_SIZE;
	return h->cfg.debug ? stored_size(h, o.c, (uintptr_t)ptr) : o.c->size;
}

/* In place while a new object would get the same class, or, for a page run, while the new size
 * is too big for a class and needs more than half of the run's pages; else heap_realloc moves
 * the object. */
static bool slab_resize(struct heap *h, void *ptr, size_t size)
{
	struct object o;
	const char *what;
	uintptr_t p = (uintptr_t)ptr;
	size_t need = h->cfg.debug ? size + DEBUG_EXTRA : size;

	if (locate(h, p, &o, &what) != HEAP_OK)
		return false;
	if (o.c != NULL) {
		if (class_for(&h->design.slab, need, HEAP_MIN_ALIGN) != o.s->class_id)
			return false;
		if (h->cfg.debug)
			set_slot_size(h, o.c, p, size);
		return true;
	}
	if (need <= SLAB_SMALL_MAX || pages_for(need) > o.s->large.pages || 2 * pages_for(need) <= o.s->large.pages)
		return false;
	if (h->cfg.debug) {
		o.s->large.size = size;
		memset((void *)(p + size), HEAP_REDZONE_BYTE, o.s->large.pages * PAGE_SIZE - size);
	}
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * heap_check. */

/* True if rec is a record in use in a header page. */
static bool is_record(const struct heap *h, const struct slab *rec)
{
	const struct slab_class *c = &h->design.slab.class[CLASS_HEADER];
	const struct slab *hs = slab_of(h, (uintptr_t)rec);
	size_t offset;
	unsigned i;

	if (hs == NULL || hs->class_id != CLASS_HEADER)
		return false;
	offset = (uintptr_t)rec - slab_start(h, hs);
	i = object_index(c, offset);
	return i < hs->carved && (size_t)i * c->size == offset && is_live(hs, i);
}

/* Bits set in the bitmap.  No __builtin_popcount: without -mpopcnt it calls libgcc, which the
 * kernel does not link. */
static unsigned count_live(const struct slab *s)
{
	unsigned n = 0;

	for (unsigned w = 0; w < 4; w++)
		for (uint64_t bits = s->live[w]; bits != 0; bits &= bits - 1)
			n++;
	return n;
}

/* Bits at or above `carved` must be clear: those objects were never handed out. */
static bool bitmap_ends_at_carved(const struct slab *s)
{
	for (unsigned i = s->carved; i < 4 * 64; i++)
		if (is_live(s, i))
			return false;
	return true;
}

static enum heap_status check_free_list(struct heap *h, const struct slab_class *c, const struct slab *s)
{
	uint64_t seen[4] = { 0 };
	unsigned count = 0, free_objects = (unsigned)s->carved - s->in_use, i = s->free_index, j;
	uintptr_t p = s->free;

	if (!is_free_link(h, c, s, p, 0, &j) || (p != 0 && j != i))
		return corrupt(h, slab_start(h, s), c->size, "free list head damaged");
	while (p != 0) {
		uintptr_t next = heap_encode_link(h, (void *)p, *(const uintptr_t *)p);
		if (++count > free_objects || ((seen[i / 64] >> (i % 64)) & 1u))
			return corrupt(h, p, c->size, "free list loops");
		seen[i / 64] |= UINT64_C(1) << (i % 64);
		if (!is_free_link(h, c, s, next, p, &j))
			return corrupt(h, p, c->size, "free list link corrupted");
		p = next;
		i = j;
	}
	if (count != free_objects)
		return corrupt(h, slab_start(h, s), c->size, "free list lost objects");
	return HEAP_OK;
}

/* Debug: the redzone of every object in use, the poison of every free one. */
static enum heap_status check_slots(struct heap *h, const struct slab_class *c, const struct slab *s)
{
	uintptr_t start = slab_start(h, s);
	enum heap_status status = HEAP_OK;

	for (unsigned i = 0; i < c->capacity && status == HEAP_OK; i++) {
		uintptr_t p = start + (uintptr_t)i * c->size;
		status = is_live(s, i) ? check_slot_redzone(h, c, p) : check_poison(h, c, p);
	}
	return status;
}

static enum heap_status check_slab(struct heap *h, const struct slab_class *c, const struct slab *s)
{
	uintptr_t start = slab_start(h, s);
	enum heap_status status;

	if (s->carved > c->capacity || s->in_use > s->carved || s->in_use < c->reserved)
		return corrupt(h, start, c->size, "slab counts out of range");
	if (count_live(s) != s->in_use || !bitmap_ends_at_carved(s) || (c->reserved && !is_live(s, 0)))
		return corrupt(h, start, c->size, "slab count disagrees with its bitmap");
	status = check_free_list(h, c, s);
	if (status == HEAP_OK && h->cfg.debug && !is_header_class(h, c))
		status = check_slots(h, c, s);
	return status;
}

static enum heap_status check_page_run(struct heap *h, const struct slab *s, uintptr_t start, size_t pages)
{
	if (s->in_use != 1 || s->large.pages != pages || s->large.size == 0 || s->large.size > pages * PAGE_SIZE)
		return corrupt(h, start, pages * PAGE_SIZE, "page run record damaged");
	return h->cfg.debug ? check_run_redzone(h, s, start) : HEAP_OK;
}

/* Checks the run in use at `start` and its record; counts the slabs with room in open[]. */
static enum heap_status check_run(struct heap *h, uintptr_t start, size_t pages, size_t *open)
{
	const struct slab *s = slab_of(h, start);
	const struct slab_class *c;

	if (s == NULL || !is_record(h, s))
		return corrupt(h, start, 0, "page run without a record");
	if (s->first_page != region_page_index(&h->region, start) || s->class_id > CLASS_LARGE)
		return corrupt(h, start, 0, "record does not describe its pages");
	if (s->class_id == CLASS_LARGE)
		return check_page_run(h, s, start, pages);
	c = &h->design.slab.class[s->class_id];
	if (pages != c->pages)
		return corrupt(h, start, c->size, "slab of the wrong length");
	if (s->in_use < c->capacity)
		open[s->class_id]++;
	return check_slab(h, c, s);
}

/* The partial list of class k must hold exactly the `open` slabs with room, and perhaps a full
 * one first; linked both ways, none empty but the first. */
static enum heap_status check_partial_list(struct heap *h, unsigned k, size_t open)
{
	const struct slab_class *c = &h->design.slab.class[k];
	const struct slab *prev = NULL;
	size_t n = 0;

	if (c->partial != NULL && c->partial->in_use == c->capacity)
		open++;
	for (const struct slab *s = c->partial; s != NULL; prev = s, s = s->next) {
		if (++n > open || !is_record(h, s) || s->class_id != k || s->prev != prev ||
		    (s->in_use == c->capacity && s != c->partial))
			return corrupt(h, (uintptr_t)s, c->size, "partial list damaged");
		if (s->in_use == c->reserved && (s != c->partial || !c->may_cache))
			return corrupt(h, slab_start(h, s), c->size, "empty slab kept without the right to");
	}
	if (n != open)
		return corrupt(h, 0, c->size, "slab with room missing from its list");
	return HEAP_OK;
}

/* The cachers are distinct object classes that know it, within the page budget; the header
 * class always caches and is not one of them. */
static enum heap_status check_cachers(struct heap *h)
{
	const struct slab_heap *sh = &h->design.slab;
	unsigned pages = 0, granted = 0;
	bool ok = sh->class[CLASS_HEADER].may_cache;

	for (unsigned k = 0; k < SLAB_CLASS_COUNT; k++)
		granted += sh->class[k].may_cache;
	for (unsigned i = 0; i < sh->cachers && ok; i++) {
		ok = sh->cacher[i] < SLAB_CLASS_COUNT && sh->class[sh->cacher[i]].may_cache;
		pages += ok ? sh->class[sh->cacher[i]].pages : 0;
	}
	if (!ok || granted != sh->cachers || pages != sh->cached_pages || pages > SLAB_CACHE_PAGES)
		return corrupt(h, 0, 0, "cache rights out of step");
	return HEAP_OK;
}

static enum heap_status slab_check(struct heap *h)
{
	size_t open[SLAB_CLASS_COUNT + 1] = { 0 }, pages;
	uintptr_t where, start = h->region.data_base;
	const char *bad = region_check(&h->region, &where);
	enum heap_status status = HEAP_OK;

	if (bad != NULL)
		return corrupt(h, where, 0, bad);
	while (status == HEAP_OK && (start = region_next_run(&h->region, start, &pages)) != 0) {
		status = check_run(h, start, pages, open);
		start += pages * PAGE_SIZE;
	}
	for (unsigned k = 0; k <= CLASS_HEADER && status == HEAP_OK; k++)
		status = check_partial_list(h, k, open[k]);
	return status == HEAP_OK ? check_cachers(h) : status;
}

/* ---------------------------------------------------------------------------------------------
 * heap_stats.  The entries are the classes in order, then one for page runs (size 0).  Records
 * and the region's descriptors count only in bytes_mapped. */

static void count_slab(struct heap *h, const struct slab *s, struct heap_stats *out)
{
	const struct slab_class *c = &h->design.slab.class[s->class_id];
	struct heap_class_stats *cs = &out->class[s->class_id];
	uintptr_t start = slab_start(h, s);

	cs->slabs++;
	cs->bytes_held += c->pages * PAGE_SIZE;
	cs->objects_in_use += s->in_use;
	out->objects_in_use += s->in_use;
	for (unsigned i = 0; i < s->carved; i++) {
		if (is_live(s, i)) {
			size_t n = h->cfg.debug ? stored_size(h, c, start + (uintptr_t)i * c->size) : c->size;
			out->bytes_requested += n;
			out->bytes_in_use += n;
		}
	}
}

static void count_page_run(struct heap *h, const struct slab *s, struct heap_stats *out)
{
	struct heap_class_stats *cs = &out->class[SLAB_CLASS_COUNT];
	size_t bytes = s->large.pages * PAGE_SIZE;

	cs->slabs++;
	cs->bytes_held += bytes;
	cs->objects_in_use++;
	out->objects_in_use++;
	out->bytes_requested += h->cfg.debug ? s->large.size : bytes;
	out->bytes_in_use += h->cfg.debug ? s->large.size : bytes;
}

/* Outside debug mode the heap does not know the sizes asked for: bytes_requested is then the
 * usable size, like bytes_in_use. */
static void slab_stats(struct heap *h, struct heap_stats *out)
{
	uintptr_t start = h->region.data_base;
	size_t pages;

	out->classes = SLAB_CLASS_COUNT + 1;
	for (unsigned k = 0; k < SLAB_CLASS_COUNT; k++)
		out->class[k].size = h->design.slab.class[k].size;
	while ((start = region_next_run(&h->region, start, &pages)) != 0) {
		const struct slab *s = slab_of(h, start);
		if (s->class_id == CLASS_LARGE)
			count_page_run(h, s, out);
		else if (s->class_id != CLASS_HEADER)
			count_slab(h, s, out);
		start += pages * PAGE_SIZE;
	}
}

/* ---------------------------------------------------------------------------------------------
 * Set-up. */

static unsigned objects_in(size_t bytes, size_t size)
{
	size_t n = bytes / size;

	return n < MAX_OBJECTS ? (unsigned)n : MAX_OBJECTS;
}

/* The fewest pages whose slab wastes at most 1/64 of itself, else the least wasteful length.
 * No length holds more than 256 object slots, so object numbers fit the bitmap. */
static unsigned slab_pages_for(size_t size)
{
	unsigned best = 1;
	size_t best_waste = SIZE_MAX;

	for (unsigned pages = 1; pages <= SLAB_MAX_PAGES && pages * PAGE_SIZE / size <= 4 * 64; pages++) {
		size_t bytes = pages * PAGE_SIZE, waste = bytes - objects_in(bytes, size) * size;
		if (waste * 64 <= bytes)
			return pages;
		if (waste < best_waste) {
			best = pages;
			best_waste = waste;
		}
	}
	return best;
}

static void set_geometry(struct slab_class *c, size_t size, unsigned pages, unsigned reserved)
{
	c->size = (uint32_t)size;
	c->reciprocal = (uint32_t)((UINT64_C(1) << 32) / size + 1);
	c->pages = (uint16_t)pages;
	c->capacity = (uint16_t)objects_in(pages * PAGE_SIZE, size);
	c->reserved = (uint16_t)reserved;
	c->partial = NULL;
	c->may_cache = false;
}

static enum heap_status slab_init(struct heap *h)
{
	struct slab_heap *sh = &h->design.slab;
	unsigned k = 0;

	for (unsigned i = 0; i < SLAB_CLASS_COUNT; i++)
		set_geometry(&sh->class[i], class_sizes[i], slab_pages_for(class_sizes[i]), 0);
	set_geometry(&sh->class[CLASS_HEADER], sizeof(struct slab), 1, 1);
	sh->class[CLASS_HEADER].may_cache = true;   /* one header page, outside the budget */
	sh->cachers = 0;
	sh->cached_pages = 0;
	for (unsigned g = 0; g < SLAB_SMALL_MAX / SLAB_GRANULE; g++) {
		while (class_sizes[k] < (g + 1) * SLAB_GRANULE)
			k++;
		sh->class_of[g] = (uint8_t)k;
	}
	sh->fast_max = h->cfg.debug ? 0 : SLAB_SMALL_MAX;
	sh->fast_classes = h->cfg.debug ? 0 : SLAB_CLASS_COUNT;
	return HEAP_OK;
}

/* The pages go with the region (region_destroy); only the lists need forgetting. */
static void slab_destroy(struct heap *h)
{
	for (unsigned k = 0; k <= CLASS_HEADER; k++)
		h->design.slab.class[k].partial = NULL;
	h->design.slab.cachers = 0;
}

const struct heap_ops slab_heap_ops = {
	.init = slab_init,
	.destroy = slab_destroy,
	.alloc = slab_alloc,
	.free = slab_free,
	.usable_size = slab_usable_size,
	.resize = slab_resize,
	.check = slab_check,
	.stats = slab_stats,
};
