/*
 * The slab heap (mm/heap_slab.h; docs/heap.md, "slab").
 *
 * Everything the heap holds is a run of pages from the region, and every run has a record,
 * `struct slab`, that its pages point to through the region's owner words:
 *   - a slab of objects of one class: a bitmap of objects in use, counts, list links;
 *   - a page run holding one big object, or kept as a spare: its length and the size asked for;
 *   - a header page: 64 records.  Records are themselves objects of a class, the header class,
 *     whose slabs describe themselves: a header page's record is its own object 0.
 * So metadata never sits inside a slab's pages, an object overflow cannot reach it, and every
 * pointer is traced to its record in O(1) without trusting a byte of the object.  Free objects
 * hold nothing at all: the bitmap is the only account of which objects are free.
 *
 * Allocation takes the lowest free object of the first slab on the class's list; the inline
 * path (mm/heap_slab_fast.h) looks in one bitmap word of it, the one the class's cursor names.
 * A slab that fills up leaves the list, and comes back (second) once `room` of its objects are
 * free again, not at the first free: otherwise, with frees spread over many full slabs, nearly
 * every alloc and free would move a slab on or off the list.  Each slab has a `watch`: the count
 * of objects in use at which a free changes the slab's place (it empties, or gets enough room
 * to go back), so the inline free needs one comparison to know that it can finish alone.
 *
 * A run the heap gives up, an emptied slab or a freed big object, may stay mapped as a spare for
 * the next run of its length ("Spare runs" below).  Everything but the inline paths is out of
 * line here: words used up, new, full and empty slabs, spares, page runs, alignment, debug
 * mode, errors.
 */
#include "mm/heap.h"

#include "lib/format.h"
#include "lib/mem.h"
#include "lib/panic.h"
#include "mm/heap_guard.h"

#define CLASS_HEADER   SLAB_CLASS_COUNT       /* slab_heap.class[] entry of the record class */
#define CLASS_LARGE    (SLAB_CLASS_COUNT + 1) /* a record of a page run: no class entry */
#define MAX_OBJECTS    255u                   /* per slab: the counts are bytes */
#define SLAB_MAX_PAGES 8u
#define SLAB_FILL_PAGES 4u                    /* a slab of small objects: up to this long ... */
#define SLAB_FILL_OBJECTS 32u                 /* ... to hold at least this many */
#define WATCH_NEVER    0u                     /* a slab with a live object has in_use >= 1 */
#define SIZE_WORD      sizeof(uintptr_t)      /* debug: the size asked for, at the slot's end */
#define DEBUG_EXTRA    16u                    /* debug: at least 8 redzone bytes + the size word */

_Static_assert(sizeof(struct slab) == 64, "a record is one cache line; a header page holds 64");
_Static_assert(MAX_OBJECTS < SLAB_WORDS * 64, "the bitmap has a bit for every object");
_Static_assert(SLAB_MAX_PAGES * PAGE_SIZE <= (1u << 15), "object_at is exact for offsets below 2^15");
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

/*
 * offset / size in *i by one multiplication, and true if size divides offset.  With reciprocal
 * = floor(2^32 / size) + 1 = (2^32 + e) / size, 0 < e <= size, offset * reciprocal = quotient *
 * 2^32 + quotient * e + remainder * reciprocal: for offsets below 2^15 the high half is exactly
 * the quotient, and the low half is below the reciprocal exactly when the remainder is 0.
 */
static bool object_at(const struct slab_class *c, size_t offset, unsigned *i)
{
	uint64_t q = offset * (uint64_t)c->reciprocal;

	*i = (unsigned)(q >> 32);
	return (uint32_t)q < c->reciprocal;
}

static bool is_live(const struct slab *s, unsigned i)
{
	return (s->live[i / 64] >> (i % 64)) & 1u;
}

static void set_live(struct slab *s, unsigned i)
{
	s->live[i / 64] |= UINT64_C(1) << (i % 64);
}

static void clear_live(struct slab *s, unsigned i)
{
	s->live[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* The bits of word w of a bitmap that stand for objects of c. */
static uint64_t object_bits(const struct slab_class *c, unsigned w)
{
	unsigned below = w * 64;

	if (c->capacity >= below + 64)
		return ~UINT64_C(0);
	if (c->capacity <= below)
		return 0;
	return (UINT64_C(1) << (c->capacity - below)) - 1;
}

/* The first word of s's bitmap with a free object, or SLAB_WORDS if s is full. */
static unsigned word_with_room(const struct slab_class *c, const struct slab *s)
{
	unsigned w = 0;

	while (w < SLAB_WORDS && (~s->live[w] & object_bits(c, w)) == 0)
		w++;
	return w;
}

static unsigned free_objects(const struct slab_class *c, const struct slab *s)
{
	return (unsigned)c->capacity - s->in_use;
}

static bool is_header_class(const struct heap *h, const struct slab_class *c)
{
	return c == &h->design.slab.class[CLASS_HEADER];
}

static struct slab *none(struct heap *h)
{
	return &h->design.slab.none;
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
 * Lists.  A class's list holds its slabs with room; allocation takes from the first only, so
 * only the first fills up, and it stays first until an allocation finds it full.  It then
 * leaves the list, and comes back second once it has `room` free objects.  Every slab on the
 * list but the first has at least `room` free objects and is not empty: the first is the only
 * one that may be, the class's cached empty slab. */

static bool is_listed(const struct slab_class *c, const struct slab *s)
{
	return s == c->first || s->prev != NULL;
}

/* The in_use count at which a free changes s's place: the first slab's emptying, unless its
 * class may cache it; any other listed slab's emptying; an unlisted slab's `room`th free. */
static uint8_t watch_for(const struct slab_class *c, const struct slab *s)
{
	if (s == c->first)
		return (uint8_t)(c->may_cache ? WATCH_NEVER : c->reserved + 1u);
	if (s->prev != NULL)
		return (uint8_t)(c->reserved + 1u);
	return (uint8_t)(c->capacity - c->room + 1u);
}

static void set_watch(const struct slab_class *c, struct slab *s)
{
	s->watch = watch_for(c, s);
}

/* Makes s (or, for NULL, the stand-in `none`) the first slab: allocation starts at its word 0. */
static void set_first(struct heap *h, struct slab_class *c, struct slab *s)
{
	c->first = s ? s : none(h);
	c->cursor = 0;
	if (s)
		set_watch(c, s);
}

/* Puts the unlisted s on c's list: second, or first if the list is empty. */
static void link_partial(struct heap *h, struct slab_class *c, struct slab *s)
{
	struct slab *head = c->first;

	if (head == none(h)) {
		s->prev = s->next = NULL;
		set_first(h, c, s);
		return;
	}
	s->prev = head;
	s->next = head->next;
	if (head->next)
		head->next->prev = s;
	head->next = s;
	set_watch(c, s);
}

static void unlink_partial(struct heap *h, struct slab_class *c, struct slab *s)
{
	struct slab *next = s->next;

	if (s->prev)
		s->prev->next = next;
	if (next)
		next->prev = s->prev;
	s->next = s->prev = NULL;
	if (s == c->first)
		set_first(h, c, next);
	set_watch(c, s);
}

/* ---------------------------------------------------------------------------------------------
 * Spare runs.  A run the heap gives up (an emptied slab, a freed big object) is kept, mapped and
 * with its record, as a spare for the next slab or big object of its length, while the spares
 * add up to at most half of what the heap uses for objects: the page runs holding objects and
 * the slabs, but for the cacher classes' slabs (SLAB_CACHE_PAGES bounds those).  A program whose
 * objects move from run to run (a growing vector, objects moving through the classes) then maps
 * and unmaps nothing, and an empty heap keeps no spare.  Debug mode keeps none, so that a use
 * after free of a big object faults. */

static void record_free(struct heap *h, struct slab *rec);

static size_t run_bytes(const struct slab *s)
{
	return s->large.pages * PAGE_SIZE;
}

static size_t spare_budget(const struct slab_heap *sh)
{
	size_t used = sh->large_bytes + sh->slab_bytes, cached = (size_t)sh->cached_pages * PAGE_SIZE;

	return used > cached ? (used - cached) / 2 : 0;
}

/* Gives a run (its pages and its record) back. */
static void release_run(struct heap *h, struct slab *s)
{
	region_free_pages(&h->region, s->start, s->large.pages);
	record_free(h, s);
}

/* Releases spares, the longest first, until they add up to at most `budget` bytes; true if it
 * released any. */
static bool drop_spares(struct heap *h, size_t budget)
{
	struct slab_heap *sh = &h->design.slab;
	bool dropped = false;

	for (size_t n = SLAB_SPARE_PAGES; n > 0 && sh->spare_bytes > budget; n--) {
		while (sh->spare[n] != NULL && sh->spare_bytes > budget) {
			struct slab *s = sh->spare[n];
			sh->spare[n] = s->next;
			sh->spare_bytes -= run_bytes(s);
			release_run(h, s);
			dropped = true;
		}
	}
	return dropped;
}

/* After the heap has used less: the spares over the budget go. */
static void trim_spares(struct heap *h)
{
	drop_spares(h, spare_budget(&h->design.slab));
}

/* The heap no longer needs the `pages` pages of run s, a slab or a big object that the counters
 * no longer count (its record now describes a page run): kept as a spare if its length allows,
 * else given back. */
static void give_up_run(struct heap *h, struct slab *s, size_t pages)
{
	struct slab_heap *sh = &h->design.slab;

	s->class_id = CLASS_LARGE;
	s->reciprocal = 0;
	s->in_use = 0;
	s->large.pages = pages;
	s->large.size = 0;
	if (h->cfg.debug || pages > SLAB_SPARE_PAGES) {
		release_run(h, s);
	} else {
		s->next = sh->spare[pages];
		sh->spare[pages] = s;
		sh->spare_bytes += run_bytes(s);
	}
	trim_spares(h);   /* the heap uses less: the budget may be lower */
}

/* A spare run of exactly `pages` pages, taken off its list, or NULL. */
static struct slab *take_spare(struct heap *h, size_t pages)
{
	struct slab_heap *sh = &h->design.slab;
	struct slab *s;

	if (pages > SLAB_SPARE_PAGES || (s = sh->spare[pages]) == NULL)
		return NULL;
	sh->spare[pages] = s->next;
	sh->spare_bytes -= run_bytes(s);
	s->next = NULL;
	return s;
}

/* A run of `pages` pages from the region; if it has none, the spare runs go back to it first.
 * 0 if there is still none. */
static uintptr_t take_pages(struct heap *h, size_t pages)
{
	uintptr_t start = region_alloc_pages(&h->region, pages);

	if (start == 0 && drop_spares(h, 0))
		start = region_alloc_pages(&h->region, pages);
	return start;
}

/* ---------------------------------------------------------------------------------------------
 * Slabs and records. */

static uintptr_t take_object(struct heap *h, struct slab_class *c);
static void put_object(struct heap *h, struct slab_class *c, struct slab *s, unsigned i);

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

	if (hs == NULL || hs->class_id != CLASS_HEADER || !object_at(c, (uintptr_t)rec - hs->start, &i) ||
	    !is_live(hs, i))
		panic("slab: record %p is not a live record", (void *)rec);
	put_object(h, c, hs, i);
}

/* Fills in the record of a new slab of c at `start` and makes it the owner of its pages.  The
 * reserved objects (a header page's own record) start in use. */
static void init_slab(struct heap *h, struct slab_class *c, struct slab *s, uintptr_t start)
{
	memset(s->live, 0, sizeof(s->live));
	for (unsigned i = 0; i < c->reserved; i++)
		set_live(s, i);
	s->start = start;
	s->next = s->prev = NULL;
	s->reciprocal = h->cfg.debug || is_header_class(h, c) ? 0 : c->reciprocal;
	s->in_use = s->carved = c->reserved;
	s->class_id = (uint8_t)(c - h->design.slab.class);
	region_set_owner(&h->region, start, (uintptr_t)s);
	if (h->cfg.debug && !is_header_class(h, c))
		memset((void *)start, HEAP_POISON_BYTE, (size_t)c->capacity * c->size);
}

/* A new slab for c, whose list is empty, made its first: a spare run of its length, or new
 * pages; NULL if the region or the page source is out of memory, and then nothing changed but
 * the spares, given back first.  A header page is its own record; any other slab takes one from
 * the header class, after its pages, so that a failure has only the pages to give back.  Out of
 * line: take_object, which calls it rarely, stays small. */
static NOINLINE struct slab *add_slab(struct heap *h, struct slab_class *c)
{
	struct slab *s = is_header_class(h, c) ? NULL : take_spare(h, c->pages);
	uintptr_t start = s ? s->start : take_pages(h, c->pages);

	if (start == 0)
		return NULL;
	if (s == NULL)
		s = is_header_class(h, c) ? (struct slab *)start : record_alloc(h);
	if (s == NULL) {
		region_free_pages(&h->region, start, c->pages);
		return NULL;
	}
	init_slab(h, c, s, start);
	link_partial(h, c, s);
	if (!is_header_class(h, c))
		h->design.slab.slab_bytes += c->pages * PAGE_SIZE;
	return s;
}

/* Gives up an empty slab, taking it off its list.  A header page goes back to the region (its
 * record goes with it); any other slab's run becomes a spare, or goes back. */
static void release_slab(struct heap *h, struct slab_class *c, struct slab *s)
{
	unlink_partial(h, c, s);
	if (is_header_class(h, c)) {
		region_free_pages(&h->region, s->start, c->pages);
		return;
	}
	h->design.slab.slab_bytes -= c->pages * PAGE_SIZE;
	give_up_run(h, s, c->pages);
}

/* An object of class c from its first slab, after taking full slabs off the list and adding a
 * slab if none is left; 0 if out of memory. */
static uintptr_t take_object(struct heap *h, struct slab_class *c)
{
	struct slab *s;
	unsigned w;

	while ((s = c->first) == none(h) || s->in_use == c->capacity) {
		if (s != none(h))
			unlink_partial(h, c, s);   /* full: back on the list when `room` objects are free */
		else if (add_slab(h, c) == NULL)
			return 0;
	}
	w = word_with_room(c, s);
	c->cursor = (uint8_t)w;
	return slab_take_in_word(c, s, w);
}

/* Takes the right to cache from the class that has had it longest; its cached slab, if it has
 * one now, is given up. */
static void revoke_oldest_cacher(struct heap *h)
{
	struct slab_heap *sh = &h->design.slab;
	struct slab_class *c = &sh->class[sh->cacher[0]];

	memmove(sh->cacher, sh->cacher + 1, --sh->cachers);
	sh->cached_pages = (uint8_t)(sh->cached_pages - c->pages);
	c->may_cache = false;
	if (c->first == none(h))
		return;
	if (c->first->in_use == c->reserved)
		release_slab(h, c, c->first);
	else
		set_watch(c, c->first);
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
	set_watch(c, c->first);
	trim_spares(h);   /* a cacher's slab no longer counts for the budget */
}

/* s has just become empty.  Behind the first slab of its list it is given up; as the first, it
 * stays, and its class becomes the newest cacher. */
static void slab_emptied(struct heap *h, struct slab_class *c, struct slab *s)
{
	if (s != c->first)
		release_slab(h, c, s);
	else if (!c->may_cache)
		grant_cache(h, c);
}

/* Takes back object i of s, in use: an unlisted slab with `room` free objects goes back on the
 * list, a listed slab that is now empty is cached or released.  (The inline free does the
 * same for every free that changes none of this.) */
static void put_object(struct heap *h, struct slab_class *c, struct slab *s, unsigned i)
{
	clear_live(s, i);
	s->in_use--;
	if (!is_listed(c, s)) {
		if (free_objects(c, s) >= c->room)
			link_partial(h, c, s);
	} else if (s->in_use == c->reserved) {
		slab_emptied(h, c, s);
	}
}

void *slab_refill(struct heap *h, struct slab_class *c)
{
	return (void *)take_object(h, c);
}

void slab_free_watched(struct heap *h, struct slab *s, unsigned i)
{
	put_object(h, &h->design.slab.class[s->class_id], s, i);
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
	bool at_start;

	*o = (struct object){ s, NULL, 0 };
	if (s == NULL) {
		*what = "not a heap object";
		return HEAP_ERR_INVALID_FREE;
	}
	if (s->class_id == CLASS_LARGE) {
		if (p != s->start) {
			*what = "inside a page run, not at its start";
			return HEAP_ERR_INVALID_FREE;
		}
		*what = "double free";   /* if the run is a spare (size 0), given up since */
		return s->large.size == 0 ? HEAP_ERR_DOUBLE_FREE : HEAP_OK;
	}
	if (s->class_id == CLASS_HEADER) {
		*what = "inside heap metadata, not an object";
		return HEAP_ERR_INVALID_FREE;
	}
	o->c = &h->design.slab.class[s->class_id];
	at_start = object_at(o->c, p - s->start, &o->index);
	if (o->index >= o->c->capacity)
		*what = "past the last object of a slab";
	else if (!at_start)
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
 * A free slot is all HEAP_POISON_BYTE.  A page run keeps n in its record and has redzone from n
 * to its end. */

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

/* Reports HEAP_ERR_USE_AFTER_FREE if the free slot at p is no longer all poison. */
static enum heap_status check_poison(struct heap *h, const struct slab_class *c, uintptr_t p)
{
	size_t bad = heap_find_mismatch((const void *)p, c->size, HEAP_POISON_BYTE);

	if (bad == c->size)
		return HEAP_OK;
	return heap_report(h, HEAP_ERR_USE_AFTER_FREE, p, c->size, describe(h, "freed object written at +%zu", bad));
}

/* Debug: readies the slot at p, just taken from c, for n bytes.  A write to it while it was free
 * is reported, and the slot is made all poison again first. */
static void hand_out_slot(struct heap *h, const struct slab_class *c, uintptr_t p, size_t n)
{
	if (check_poison(h, c, p) != HEAP_OK)
		memset((void *)p, HEAP_POISON_BYTE, c->size);
	set_slot_size(h, c, p, n);
}

/* ---------------------------------------------------------------------------------------------
 * Page runs for big and over-aligned objects. */

static size_t pages_for(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* A new page run of `pages` pages with its record, or NULL (and nothing changed). */
static struct slab *add_run(struct heap *h, size_t pages)
{
	uintptr_t start = take_pages(h, pages);
	struct slab *s;

	if (start == 0)
		return NULL;
	s = record_alloc(h);
	if (s == NULL) {
		region_free_pages(&h->region, start, pages);
		return NULL;
	}
	s->start = start;
	s->class_id = CLASS_LARGE;
	s->large.pages = pages;
	region_set_owner(&h->region, start, (uintptr_t)s);
	return s;
}

static void *alloc_run(struct heap *h, size_t size, size_t need)
{
	size_t pages = pages_for(need);
	struct slab *s = take_spare(h, pages);

	if (s == NULL && (s = add_run(h, pages)) == NULL)
		return NULL;
	s->in_use = 1;
	s->large.size = size;
	h->design.slab.large_bytes += run_bytes(s);
	if (h->cfg.debug)
		memset((void *)(s->start + size), HEAP_REDZONE_BYTE, run_bytes(s) - size);
	return (void *)s->start;
}

static enum heap_status free_run(struct heap *h, struct slab *s)
{
	enum heap_status status = h->cfg.debug ? check_run_redzone(h, s, s->start) : HEAP_OK;

	h->design.slab.large_bytes -= run_bytes(s);
	give_up_run(h, s, s->large.pages);
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

/* Every alloc the inline path does not finish: a word of the first slab used up, full and new
 * slabs, page runs, alignment, debug mode. */
static void *slab_alloc(struct heap *h, size_t size, size_t align)
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

/* ---------------------------------------------------------------------------------------------
 * Free. */

static enum heap_status free_object(struct heap *h, const struct object *o, uintptr_t p)
{
	enum heap_status status = HEAP_OK;

	if (h->cfg.debug) {
		status = check_slot_redzone(h, o->c, p);
		memset((void *)p, HEAP_POISON_BYTE, o->c->size);
	}
	put_object(h, o->c, o->s, o->index);
	return status;
}

/* Every free the inline path does not finish: errors, page runs, debug mode, and slabs that
 * change their place.  A debug-mode object with a damaged redzone is reported and still freed. */
static enum heap_status slab_free(struct heap *h, void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;
	struct object o;
	const char *what;
	enum heap_status status = locate(h, p, &o, &what);

	if (status != HEAP_OK)
		return heap_report(h, status, p, class_bytes(&o), what);
	if (o.c == NULL)
		return free_run(h, o.s);
	return free_object(h, &o, p);
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
		return h->cfg.debug ? o.s->large.size : run_bytes(o.s);
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
		memset((void *)(p + size), HEAP_REDZONE_BYTE, run_bytes(o.s) - size);
	}
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * heap_check. */

/* What the walk over the runs counts, to hold the lists and counters against. */
struct census {
	size_t open[SLAB_CLASS_COUNT + 1];   /* slabs with at least `room` free objects */
	size_t spares;
	size_t spare_bytes;
	size_t large_bytes;
	size_t slab_bytes;
};

/* True if rec is a record in use in a header page. */
static bool is_record(const struct heap *h, const struct slab *rec)
{
	const struct slab_class *c = &h->design.slab.class[CLASS_HEADER];
	const struct slab *hs = slab_of(h, (uintptr_t)rec);
	unsigned i;

	if (hs == NULL || hs->class_id != CLASS_HEADER)
		return false;
	return object_at(c, (uintptr_t)rec - hs->start, &i) && i < hs->carved && is_live(hs, i);
}

/* Bits set in the bitmap.  No __builtin_popcount: without -mpopcnt it calls libgcc, which the
 * kernel does not link. */
static unsigned count_live(const struct slab *s)
{
	unsigned n = 0;

	for (unsigned w = 0; w < SLAB_WORDS; w++)
		for (uint64_t bits = s->live[w]; bits != 0; bits &= bits - 1)
			n++;
	return n;
}

/* Bits at or above `carved` must be clear: those objects were never handed out. */
static bool bitmap_ends_at_carved(const struct slab *s)
{
	for (unsigned i = s->carved; i < SLAB_WORDS * 64; i++)
		if (is_live(s, i))
			return false;
	return true;
}

/* Debug: the redzone of every object in use, the poison of every free one. */
static enum heap_status check_slots(struct heap *h, const struct slab_class *c, const struct slab *s)
{
	enum heap_status status = HEAP_OK;

	for (unsigned i = 0; i < c->capacity && status == HEAP_OK; i++) {
		uintptr_t p = s->start + (uintptr_t)i * c->size;
		status = is_live(s, i) ? check_slot_redzone(h, c, p) : check_poison(h, c, p);
	}
	return status;
}

static enum heap_status check_slab(struct heap *h, const struct slab_class *c, const struct slab *s)
{
	uint32_t reciprocal = h->cfg.debug || is_header_class(h, c) ? 0 : c->reciprocal;

	if (s->carved > c->capacity || s->in_use > s->carved || s->in_use < c->reserved)
		return corrupt(h, s->start, c->size, "slab counts out of range");
	if (count_live(s) != s->in_use || !bitmap_ends_at_carved(s) || (c->reserved && !is_live(s, 0)))
		return corrupt(h, s->start, c->size, "slab count disagrees with its bitmap");
	if (s->reciprocal != reciprocal || s->watch != watch_for(c, s))
		return corrupt(h, s->start, c->size, "slab record damaged");
	if (h->cfg.debug && !is_header_class(h, c))
		return check_slots(h, c, s);
	return HEAP_OK;
}

/* A page run holds an object (size asked for, in use) or is a spare (size 0, not in use). */
static enum heap_status check_page_run(struct heap *h, const struct slab *s, size_t pages, struct census *n)
{
	bool spare = s->large.size == 0;

	if (s->in_use != !spare || s->large.pages != pages || s->large.size > pages * PAGE_SIZE || s->reciprocal != 0)
		return corrupt(h, s->start, pages * PAGE_SIZE, "page run record damaged");
	if (spare) {
		n->spares++;
		n->spare_bytes += pages * PAGE_SIZE;
		return HEAP_OK;
	}
	n->large_bytes += pages * PAGE_SIZE;
	return h->cfg.debug ? check_run_redzone(h, s, s->start) : HEAP_OK;
}

/* Checks the run in use at `start` and its record, and counts it. */
static enum heap_status check_run(struct heap *h, uintptr_t start, size_t pages, struct census *n)
{
	const struct slab *s = slab_of(h, start);
	const struct slab_class *c;

	if (s == NULL || !is_record(h, s))
		return corrupt(h, start, 0, "page run without a record");
	if (s->start != start || s->class_id > CLASS_LARGE)
		return corrupt(h, start, 0, "record does not describe its pages");
	if (s->class_id == CLASS_LARGE)
		return check_page_run(h, s, pages, n);
	c = &h->design.slab.class[s->class_id];
	if (pages != c->pages)
		return corrupt(h, start, c->size, "slab of the wrong length");
	if (free_objects(c, s) >= c->room)
		n->open[s->class_id]++;
	if (!is_header_class(h, c))
		n->slab_bytes += pages * PAGE_SIZE;
	return check_slab(h, c, s);
}

/* Class k's list must hold exactly the `open` slabs with `room` free objects, and its first
 * slab whatever its room; linked both ways, none empty but the first. */
static enum heap_status check_partial_list(struct heap *h, unsigned k, size_t open)
{
	const struct slab_class *c = &h->design.slab.class[k];
	const struct slab *prev = NULL;
	size_t n = 0;

	if (c->first == none(h))
		return open == 0 ? HEAP_OK : corrupt(h, 0, c->size, "slab with room missing from its list");
	if (free_objects(c, c->first) < c->room)
		open++;
	for (const struct slab *s = c->first; s != NULL; prev = s, s = s->next) {
		if (++n > open || !is_record(h, s) || s->class_id != k || s->prev != prev ||
		    (s != c->first && free_objects(c, s) < c->room))
			return corrupt(h, (uintptr_t)s, c->size, "partial list damaged");
		if (s->in_use == c->reserved && (s != c->first || !c->may_cache))
			return corrupt(h, s->start, c->size, "empty slab kept without the right to");
	}
	if (n != open)
		return corrupt(h, 0, c->size, "slab with room missing from its list");
	return c->cursor < SLAB_WORDS ? HEAP_OK : corrupt(h, 0, c->size, "class cursor out of range");
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

/* The spare lists hold every spare run, each on the list of its length; the counters agree with
 * the walk, and the spares are within their budget.  `none` still looks full. */
static enum heap_status check_spares(struct heap *h, const struct census *n)
{
	struct slab_heap *sh = &h->design.slab;
	size_t count = 0, bytes = 0;

	for (size_t pages = 1; pages <= SLAB_SPARE_PAGES; pages++) {
		for (const struct slab *s = sh->spare[pages]; s != NULL; s = s->next) {
			if (++count > n->spares || !is_record(h, s) || s->class_id != CLASS_LARGE || s->large.size != 0 ||
			    s->large.pages != pages)
				return corrupt(h, (uintptr_t)s, pages * PAGE_SIZE, "spare list damaged");
			bytes += pages * PAGE_SIZE;
		}
	}
	if (count != n->spares || bytes != sh->spare_bytes || n->spare_bytes != bytes ||
	    n->large_bytes != sh->large_bytes || n->slab_bytes != sh->slab_bytes || sh->spare_bytes > spare_budget(sh))
		return corrupt(h, 0, 0, "spare runs out of step");
	for (unsigned w = 0; w < SLAB_WORDS; w++)
		if (sh->none.live[w] != ~UINT64_C(0))
			return corrupt(h, 0, 0, "the stand-in for no slab has room");
	return HEAP_OK;
}

static enum heap_status slab_check(struct heap *h)
{
	struct census census = { 0 };
	size_t pages;
	uintptr_t where, start = h->region.data_base;
	const char *bad = region_check(&h->region, &where);
	enum heap_status status = HEAP_OK;

	if (bad != NULL)
		return corrupt(h, where, 0, bad);
	while (status == HEAP_OK && (start = region_next_run(&h->region, start, &pages)) != 0) {
		status = check_run(h, start, pages, &census);
		start += pages * PAGE_SIZE;
	}
	for (unsigned k = 0; k <= CLASS_HEADER && status == HEAP_OK; k++)
		status = check_partial_list(h, k, census.open[k]);
	if (status == HEAP_OK)
		status = check_spares(h, &census);
	return status == HEAP_OK ? check_cachers(h) : status;
}

/* ---------------------------------------------------------------------------------------------
 * heap_stats.  The entries are the classes in order, then one for page runs (size 0), spares
 * included in its bytes held.  Records and the region's descriptors count only in
 * bytes_mapped. */

static void count_slab(struct heap *h, const struct slab *s, struct heap_stats *out)
{
	const struct slab_class *c = &h->design.slab.class[s->class_id];
	struct heap_class_stats *cs = &out->class[s->class_id];

	cs->slabs++;
	cs->bytes_held += c->pages * PAGE_SIZE;
	cs->objects_in_use += s->in_use;
	out->objects_in_use += s->in_use;
	for (unsigned i = 0; i < s->carved; i++) {
		if (is_live(s, i)) {
			size_t n = h->cfg.debug ? stored_size(h, c, s->start + (uintptr_t)i * c->size) : c->size;
			out->bytes_requested += n;
			out->bytes_in_use += n;
		}
	}
}

static void count_page_run(struct heap *h, const struct slab *s, struct heap_stats *out)
{
	struct heap_class_stats *cs = &out->class[SLAB_CLASS_COUNT];
	size_t n = h->cfg.debug ? s->large.size : run_bytes(s);

	cs->slabs++;
	cs->bytes_held += run_bytes(s);
	if (s->in_use == 0)
		return;
	cs->objects_in_use++;
	out->objects_in_use++;
	out->bytes_requested += n;
	out->bytes_in_use += n;
}

/* Outside debug mode the heap does not know the sizes asked for: bytes_requested is then the
 * usable size, like bytes_in_use. */
static void slab_stats(struct heap *h, struct heap_stats *out)
{
	uintptr_t start = h->region.data_base;
	size_t pages;

	out->requested_known = h->cfg.debug;
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

/* True if a slab of `pages` pages of `size`-byte objects wastes at most 1/64 of itself. */
static bool wastes_little(unsigned pages, size_t size)
{
	size_t bytes = pages * PAGE_SIZE;

	return (bytes - objects_in(bytes, size) * size) * 64 <= bytes;
}

/*
 * The fewest pages, up to SLAB_FILL_PAGES, that hold at least SLAB_FILL_OBJECTS objects and
 * waste at most 1/64: a slab of few objects fills and empties often, and every time costs a
 * slow call.  For bigger objects, the fewest pages that waste at most 1/64, else the least
 * wasteful length.  No length holds more than 256 object slots, so object numbers fit the bitmap.
 */
static unsigned slab_pages_for(size_t size)
{
	unsigned best = 1;
	size_t best_waste = SIZE_MAX;

	for (unsigned pages = 1; pages <= SLAB_FILL_PAGES; pages++)
		if (objects_in(pages * PAGE_SIZE, size) >= SLAB_FILL_OBJECTS && wastes_little(pages, size))
			return pages;
	for (unsigned pages = 1; pages <= SLAB_MAX_PAGES && pages * PAGE_SIZE / size <= SLAB_WORDS * 64; pages++) {
		size_t bytes = pages * PAGE_SIZE, waste = bytes - objects_in(bytes, size) * size;
		if (wastes_little(pages, size))
			return pages;
		if (waste < best_waste) {
			best = pages;
			best_waste = waste;
		}
	}
	return best;
}

/* A slab that filled up comes back on the list with a quarter of its objects free: list moves
 * then cost one slow call per quarter slab of frees, and such slabs waste at most a quarter. */
static void set_geometry(struct heap *h, struct slab_class *c, size_t size, unsigned pages, unsigned reserved)
{
	c->first = none(h);
	c->size = (uint32_t)size;
	c->reciprocal = (uint32_t)((UINT64_C(1) << 32) / size + 1);
	c->pages = (uint16_t)pages;
	c->capacity = (uint16_t)objects_in(pages * PAGE_SIZE, size);
	c->reserved = (uint8_t)reserved;
	c->room = (uint8_t)(c->capacity >= 4 ? c->capacity / 2 : 1);
	c->cursor = 0;
	c->may_cache = false;
}

static enum heap_status slab_init(struct heap *h)
{
	struct slab_heap *sh = &h->design.slab;
	unsigned k = 0;

	*sh = (struct slab_heap){ 0 };
	memset(sh->none.live, 0xff, sizeof(sh->none.live));
	for (unsigned i = 0; i < SLAB_CLASS_COUNT; i++)
		set_geometry(h, &sh->class[i], class_sizes[i], slab_pages_for(class_sizes[i]), 0);
	set_geometry(h, &sh->class[CLASS_HEADER], sizeof(struct slab), 1, 1);
	sh->class[CLASS_HEADER].may_cache = true;   /* one header page, outside the budget */
	for (unsigned g = 0; g < SLAB_SMALL_MAX / SLAB_GRANULE; g++) {
		while (class_sizes[k] < (g + 1) * SLAB_GRANULE)
			k++;
		sh->class_of[g] = (uint8_t)k;
	}
	h->inline_max = h->cfg.debug ? 0 : SLAB_SMALL_MAX;
	return HEAP_OK;
}

/* The pages go with the region (region_destroy), spares and slabs alike: the lists, spares and
 * counters start over. */
static void slab_destroy(struct heap *h)
{
	slab_init(h);
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
