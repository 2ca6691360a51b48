/*
 * The slab design through the public heap API, over host_pages (unmapped pages fault): size
 * classes and their waste, slab reuse and return, the lists' room rule, spare page runs,
 * alignment, the exact report of every kind of bad pointer, the inline paths (every byte of a
 * slab tried against the inline free), writes into freed objects (which must change nothing),
 * damaged records found by heap_check, debug-mode redzones and poison, and a reference model run
 * of 100 000 random operations checking contents, overlap, alignment and heap_check().
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/support/host_pages.h"
#include "lib/rng.h"
#include "lib/compiler.h"
#include "mm/heap.h"
#include "mm/heap_guard.h"
#include "mm/page.h"

#define SECRET UINT64_C(0x9e3779b97f4a7c15)

/* The classes the design promises (mm/heap_slab.h), written out again to test against. */
static const size_t classes[] = {
	16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584,
};

/* ---- the rig: a slab heap over reserved pages, recording reports ---------------------------- */

struct reports {
	int count;
	struct heap_error last;
	char what[96];
};

struct rig {
	struct host_pages hp;
	struct heap h;
	struct reports rep;
};

static void record(void *ctx, const struct heap_error *e)
{
	struct reports *r = ctx;

	r->count++;
	r->last = *e;
	snprintf(r->what, sizeof(r->what), "%s", e->what);
}

static struct rig *rig_of(enum heap_design design, size_t limit, bool debug, bool zero_fill)
{
	struct rig *g = calloc(1, sizeof(*g));
	struct heap_config cfg;

	cr_assert_not_null(g);
	cr_assert(host_pages_reserve(&g->hp, limit));
	cfg = (struct heap_config){
		.design = design,
		.region = { g->hp.base, limit, host_pages_seam(&g->hp) },
		.debug = debug,
		.zero_fill = zero_fill,
		.secret = SECRET,
		.report = record,
		.report_ctx = &g->rep,
	};
	cr_assert_eq(heap_init(&g->h, &cfg), HEAP_OK);
	return g;
}

static struct rig *rig_new(size_t limit, bool debug)
{
	return rig_of(HEAP_SLAB, limit, debug, false);
}

static void rig_delete(struct rig *g)
{
	heap_destroy(&g->h);
	cr_assert_eq(g->hp.mapped, 0, "heap_destroy left %zu bytes mapped", g->hp.mapped);
	host_pages_release(&g->hp);
	free(g);
}

static void assert_ok(struct rig *g)
{
	enum heap_status st = heap_check(&g->h);

	cr_assert_eq(st, HEAP_OK, "heap_check: %s (%s at %#lx)", heap_status_message(st), g->rep.what,
	             (unsigned long)g->rep.last.addr);
	cr_assert_eq(g->rep.count, 0, "unexpected report: %s", g->rep.what);
}

/* Exactly one report since the last look, and exactly this one. */
static void expect_report(struct rig *g, enum heap_status status, const void *addr, size_t class_size, const char *what)
{
	cr_assert_eq(g->rep.count, 1, "%d reports, expected one (%s)", g->rep.count, what);
	cr_assert_eq(g->rep.last.status, status, "status %s, expected %s", heap_status_message(g->rep.last.status),
	             heap_status_message(status));
	cr_assert_eq(g->rep.last.addr, (uintptr_t)addr, "report names %#lx, expected %p", (unsigned long)g->rep.last.addr, addr);
	cr_assert_eq(g->rep.last.size_class, class_size, "class %zu, expected %zu", g->rep.last.size_class, class_size);
	cr_assert_str_eq(g->rep.what, what);
	g->rep.count = 0;
}

/* Exactly one report since the last look, of this status and this text. */
static void expect_finding(struct rig *g, enum heap_status status, const char *what)
{
	cr_assert_eq(g->rep.count, 1, "%d reports, expected one (%s)", g->rep.count, what);
	cr_assert_eq(g->rep.last.status, status, "status %s, expected %s", heap_status_message(g->rep.last.status),
	             heap_status_message(status));
	cr_assert_str_eq(g->rep.what, what);
	g->rep.count = 0;
}

static void *xalloc(struct rig *g, size_t size, size_t align)
{
	void *p = heap_alloc(&g->h, size, align);

	cr_assert_not_null(p, "alloc of %zu bytes at %zu failed", size, align);
	return p;
}

static void xfree(struct rig *g, void *p)
{
	cr_assert_eq(heap_free(&g->h, p), HEAP_OK, "free of %p: %s", p, g->rep.what);
}

static size_t expected_class(size_t size)
{
	for (size_t k = 0; k < ARRAY_SIZE(classes); k++)
		if (classes[k] >= size)
			return classes[k];
	return (size + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
}

/* Everything a refused call must leave as it was. */
struct snapshot {
	struct heap_stats stats;
	size_t mapped;
};

static void take_snapshot(struct rig *g, struct snapshot *s)
{
	heap_stats(&g->h, &s->stats);
	s->stats.peak_mapped = 0;
	s->mapped = g->hp.mapped;
}

static void assert_unchanged(struct rig *g, const struct snapshot *before)
{
	struct snapshot now;

	take_snapshot(g, &now);
	cr_assert_eq(memcmp(&now.stats, &before->stats, sizeof(now.stats)), 0, "a refused call changed the heap");
	cr_assert_eq(now.mapped, before->mapped);
	assert_ok(g);
}

/* A free that must be refused with exactly this report and change nothing. */
static void expect_refused(struct rig *g, const void *p, enum heap_status status, size_t class_size, const char *what)
{
	struct snapshot before;

	take_snapshot(g, &before);
	cr_assert_eq(heap_free(&g->h, (void *)p), status, "free of %p", p);
	expect_report(g, status, p, class_size, what);
	cr_assert_eq(heap_usable_size(&g->h, p), 0);
	assert_unchanged(g, &before);
}

static void fill(void *p, size_t n, unsigned id)
{
	memset(p, (int)(id & 0xff), n);
}

static void assert_filled(const void *p, size_t n, unsigned id)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		cr_assert_eq(b[i], (uint8_t)id, "object %u changed at +%zu", id, i);
}

/* ---- classes -------------------------------------------------------------------------------- */

Test(slab_classes, every_small_size_gets_the_smallest_class_that_holds_it)
{
	struct rig *g = rig_new(64 * MIB, false);

	for (size_t size = 0; size <= 5000; size++) {
		void *p = xalloc(g, size, 0);
		size_t usable = heap_usable_size(&g->h, p);
		cr_assert_eq(usable, expected_class(size ? size : 1), "size %zu got %zu bytes", size, usable);
		cr_assert(is_aligned((uintptr_t)p, HEAP_MIN_ALIGN));
		if (size > 128 && size <= classes[ARRAY_SIZE(classes) - 1])
			cr_assert_leq(usable * 4, size * 5, "size %zu wastes more than 25%%", size);
		xfree(g, p);
	}
	assert_ok(g);
	rig_delete(g);
}

/* Fills one slab of each class and a bit of the next: the first slab's objects, times the class
 * size, must cover all but 1/64 of its pages. */
Test(slab_classes, slabs_waste_at_most_a_64th)
{
	struct rig *g = rig_new(64 * MIB, false);
	static void *held[300];

	for (size_t k = 0; k < ARRAY_SIZE(classes); k++) {
		struct heap_stats st;
		size_t n = 0, pages = 0;

		do {
			cr_assert_lt(n, ARRAY_SIZE(held));
			held[n++] = xalloc(g, classes[k], 0);
			heap_stats(&g->h, &st);
			cr_assert_eq(st.class[k].size, classes[k]);
			if (st.class[k].slabs == 1)
				pages = st.class[k].bytes_held / PAGE_SIZE;
		} while (st.class[k].slabs == 1);
		size_t capacity = n - 1;
		cr_assert_leq(pages, 8);
		cr_assert_leq(capacity * classes[k], pages * PAGE_SIZE);
		cr_assert_geq(capacity * classes[k] * 64, pages * PAGE_SIZE * 63,
		              "class %zu: %zu objects in %zu pages", classes[k], capacity, pages);
		cr_assert_eq(st.class[k].objects_in_use, n);
		while (n > 0)
			xfree(g, held[--n]);
	}
	assert_ok(g);
	rig_delete(g);
}

Test(slab_classes, big_objects_get_whole_pages)
{
	struct rig *g = rig_new(64 * MIB, false);
	struct heap_stats st;
	void *p = xalloc(g, 3585, 0), *q = xalloc(g, 40000, 0);

	cr_assert(is_aligned((uintptr_t)p, PAGE_SIZE) && is_aligned((uintptr_t)q, PAGE_SIZE));
	cr_assert_eq(heap_usable_size(&g->h, p), PAGE_SIZE);
	cr_assert_eq(heap_usable_size(&g->h, q), 10 * PAGE_SIZE);
	heap_stats(&g->h, &st);
	cr_assert_eq(st.classes, ARRAY_SIZE(classes) + 1);
	cr_assert_eq(st.class[ARRAY_SIZE(classes)].size, 0, "the page-run entry");
	cr_assert_eq(st.class[ARRAY_SIZE(classes)].objects_in_use, 2);
	cr_assert_eq(st.class[ARRAY_SIZE(classes)].bytes_held, 11 * PAGE_SIZE);
	cr_assert_eq(st.objects_in_use, 2);
	xfree(g, p);
	xfree(g, q);
	cr_assert_eq(g->hp.mapped, 2 * PAGE_SIZE, "all but the cached header page and its descriptors");
	assert_ok(g);
	rig_delete(g);
}

/* ---- slabs come and go ---------------------------------------------------------------------- */

/* Three full slabs of 112-byte objects (36 each) freed: the first stays cached, the two others
 * go back to the region and come back to the same pages. */
Test(slab_life, freed_objects_and_pages_are_reused)
{
	struct rig *g = rig_new(64 * MIB, false);
	void *first[108], *again[108];
	size_t maps;

	for (int i = 0; i < 108; i++)
		first[i] = xalloc(g, 100, 0);
	maps = g->hp.map_calls;
	for (int i = 0; i < 108; i++)
		xfree(g, first[i]);
	cr_assert_eq(g->hp.unmap_calls, 2, "two slabs went back, one is cached");
	for (int i = 0; i < 108; i++) {
		again[i] = xalloc(g, 100, 0);
		bool seen = false;
		for (int j = 0; j < 108; j++)
			seen |= again[i] == first[j];
		cr_assert(seen, "object %d is not one freed before", i);
	}
	cr_assert_eq(g->hp.map_calls, maps + 2, "only the two slabs given back had to come again");
	for (int i = 0; i < 108; i++)
		xfree(g, again[i]);
	assert_ok(g);
	rig_delete(g);
}

/* Allocation takes the lowest free object of the slab, whatever the order of the frees. */
Test(slab_life, the_lowest_free_object_comes_back_first)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *a = xalloc(g, 64, 0), *b = xalloc(g, 64, 0), *c = xalloc(g, 64, 0);

	cr_assert(b == a + 64 && c == b + 64, "a fresh slab hands out its objects in address order");
	xfree(g, c);
	xfree(g, a);
	cr_assert_eq(xalloc(g, 64, 0), a);
	cr_assert_eq(xalloc(g, 64, 0), c);
	xfree(g, a);
	xfree(g, b);
	cr_assert_eq(xalloc(g, 64, 0), a);
	cr_assert_eq(xalloc(g, 64, 0), b);
	cr_assert_eq(xalloc(g, 64, 0), c + 64, "then the first object never handed out");
	assert_ok(g);
	rig_delete(g);
}

/* A slab of 255 objects of 16 bytes spans four bitmap words: the inline alloc looks in one, the
 * slow path finds the others.  Every free object is used before a new slab is mapped. */
Test(slab_life, every_free_object_is_used_before_a_new_slab)
{
	struct rig *g = rig_new(64 * MIB, false);
	struct rng rng = rng_seed(5);
	uint8_t *obj[255];
	bool freed[255] = { false };
	size_t maps;

	for (int i = 0; i < 255; i++) {
		obj[i] = xalloc(g, 16, 0);
		cr_assert_eq(obj[i], obj[0] + 16 * i, "one slab, in address order");
	}
	maps = g->hp.map_calls;
	for (int n = 0; n < 100;) {
		size_t i = rng_below(&rng, 255);
		if (!freed[i]) {
			xfree(g, obj[i]);
			freed[i] = true;
			n++;
		}
	}
	for (int n = 0; n < 100; n++) {
		uint8_t *p = xalloc(g, 16, 0);
		size_t i = (size_t)(p - obj[0]) / 16;
		cr_assert(p >= obj[0] && i < 255 && freed[i], "%p is not an object freed before", (void *)p);
		freed[i] = false;
		assert_ok(g);
	}
	cr_assert_eq(g->hp.map_calls, maps, "no new slab while the first had room");
	xalloc(g, 16, 0);
	cr_assert_eq(g->hp.map_calls, maps + 1, "a new slab once it is full");
	assert_ok(g);
	rig_delete(g);
}

Test(slab_life, one_object_churning_maps_nothing_new)
{
	struct rig *g = rig_new(64 * MIB, false);
	size_t maps;
	void *p = xalloc(g, 200, 0);

	xfree(g, p);
	maps = g->hp.map_calls;
	for (int i = 0; i < 10000; i++) {
		void *q = xalloc(g, 200, 0);
		cr_assert_eq(q, p, "the cached empty slab serves the churn");
		xfree(g, q);
	}
	cr_assert_eq(g->hp.map_calls, maps);
	cr_assert_eq(g->hp.unmap_calls, 0);
	assert_ok(g);
	rig_delete(g);
}

/* An empty heap keeps at most SLAB_CACHE_PAGES of object slabs, all empty. */
static void assert_cache_within_budget(struct rig *g)
{
	struct heap_stats st;
	size_t held = 0;

	heap_stats(&g->h, &st);
	cr_assert_eq(st.objects_in_use, 0);
	for (size_t k = 0; k < ARRAY_SIZE(classes); k++)
		held += st.class[k].bytes_held;
	cr_assert_leq(held, SLAB_CACHE_PAGES * PAGE_SIZE, "%zu bytes of empty slabs kept", held);
	cr_assert_eq(st.class[ARRAY_SIZE(classes)].bytes_held, 0, "an empty heap keeps no spare page run");
}

/* Classes that empty a slab in turn: while they fit the cache budget, nothing is mapped again;
 * beyond it, the oldest lose their cached slab, and the budget holds. */
static size_t maps_while_churning(struct rig *g, const size_t *sizes, size_t n)
{
	size_t maps;

	for (size_t k = 0; k < n; k++)
		xfree(g, xalloc(g, sizes[k], 0));
	maps = g->hp.map_calls;
	for (int round = 0; round < 100; round++)
		for (size_t k = 0; k < n; k++)
			xfree(g, xalloc(g, sizes[k], 0));
	assert_cache_within_budget(g);
	assert_ok(g);
	return g->hp.map_calls - maps;
}

Test(slab_life, classes_churning_in_turn_share_the_cache)
{
	static const size_t few[] = { 16, 100, 200, 500 };               /* 4 one-page slabs */
	static const size_t many[] = { 16, 32, 48, 64, 80, 96, 112, 128, 192, 224 };  /* 10 */
	struct rig *g = rig_new(64 * MIB, false);

	cr_assert_eq(maps_while_churning(g, few, ARRAY_SIZE(few)), 0);
	cr_assert_gt(maps_while_churning(g, many, ARRAY_SIZE(many)), 0, "ten one-page classes exceed the budget");
	rig_delete(g);
}

Test(slab_life, freeing_everything_gives_back_all_but_a_tenth)
{
	struct rig *g = rig_new(256 * MIB, false);
	struct rng rng = rng_seed(21);
	static void *held[60000];
	size_t n = 0, peak;

	while (n < ARRAY_SIZE(held)) {
		size_t size = rng_one_in(&rng, 20) ? rng_below(&rng, 20000) : rng_below(&rng, 600);
		held[n++] = xalloc(g, size, 0);
	}
	peak = g->hp.mapped;
	cr_assert_gt(peak, 16 * MIB);
	for (size_t i = n; i > 1; i--) {   /* shuffle, then free */
		size_t j = rng_below(&rng, i);
		void *t = held[i - 1];
		held[i - 1] = held[j];
		held[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		xfree(g, held[i]);
		if (i % 5000 == 0)
			assert_ok(g);
	}
	assert_ok(g);
	cr_assert_lt(g->hp.mapped * 10, peak, "%zu bytes still mapped of a %zu peak", g->hp.mapped, peak);
	cr_assert_lt(g->hp.mapped * 50, peak, "more than 2%% of the peak: %zu bytes", g->hp.mapped);
	assert_cache_within_budget(g);
	rig_delete(g);
}

Test(slab_life, a_tiny_region_fails_cleanly)
{
	struct rig *g = rig_new(3 * PAGE_SIZE, false);   /* descriptors, a header page, one slab */
	void *p = xalloc(g, 16, 0);

	cr_assert_null(heap_alloc(&g->h, 100, 0), "no room for a second class's slab");
	cr_assert_null(heap_alloc(&g->h, 5000, 0));
	assert_ok(g);
	xfree(g, p);
	assert_ok(g);
	rig_delete(g);
}

Test(slab_life, out_of_memory_changes_nothing_and_recovers)
{
	struct rig *g = rig_new(256 * MIB, false);
	struct rng rng = rng_seed(33);
	static void *held[20000];
	size_t n = 0, failures = 0;

	g->hp.budget = 2 * MIB;
	while (n < ARRAY_SIZE(held) && failures < 200) {
		size_t size = rng_one_in(&rng, 8) ? rng_below(&rng, 30000) : 1 + rng_below(&rng, 3000);
		struct snapshot before;
		take_snapshot(g, &before);
		void *p = heap_alloc(&g->h, size, rng_one_in(&rng, 4) ? (size_t)16 << rng_below(&rng, 9) : 0);
		if (p == NULL) {
			assert_unchanged(g, &before);
			failures++;
		} else {
			held[n++] = p;
		}
	}
	cr_assert_eq(failures, 200, "the budget never ran out");
	cr_assert_eq(g->rep.count, 0, "running out of memory is not reported as an error");
	while (n > 0)
		xfree(g, held[--n]);
	assert_ok(g);
	cr_assert_lt(g->hp.mapped, 512 * KIB, "cached slabs, 57 pages for all classes, and a little more");
	cr_assert_not_null(heap_alloc(&g->h, 30000, 0), "works again");
	rig_delete(g);
}

/* ---- alignment ------------------------------------------------------------------------------ */

Test(slab_align, every_power_of_two_up_to_a_page)
{
	struct rig *g = rig_new(64 * MIB, false);
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 40, 64, 100, 200, 500, 1000, 2000, 2049, 3000, 3584, 4096, 5000 };

	for (size_t align = 1; align <= HEAP_MAX_ALIGN; align *= 2) {
		void *held[ARRAY_SIZE(sizes) * 3];
		size_t n = 0;
		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			for (int rep = 0; rep < 3; rep++) {
				void *p = xalloc(g, sizes[i], align);
				cr_assert(is_aligned((uintptr_t)p, align < HEAP_MIN_ALIGN ? HEAP_MIN_ALIGN : align),
				          "%zu bytes at %zu: %p", sizes[i], align, p);
				cr_assert_geq(heap_usable_size(&g->h, p), sizes[i]);
				fill(p, sizes[i], (unsigned)n);
				held[n++] = p;
			}
		}
		for (size_t i = 0; i < n; i++) {
			assert_filled(held[i], sizes[i / 3], (unsigned)i);
			xfree(g, held[i]);
		}
	}
	assert_ok(g);
	rig_delete(g);
}

Test(slab_align, a_class_is_used_when_it_is_aligned_enough)
{
	struct rig *g = rig_new(64 * MIB, false);

	cr_assert_eq(heap_usable_size(&g->h, xalloc(g, 40, 32)), 64, "48 is not 32-aligned");
	cr_assert_eq(heap_usable_size(&g->h, xalloc(g, 130, 64)), 192);
	cr_assert_eq(heap_usable_size(&g->h, xalloc(g, 1100, 512)), 1536);
	cr_assert_eq(heap_usable_size(&g->h, xalloc(g, 2049, 2048)), PAGE_SIZE, "no class: a page run");
	cr_assert_eq(heap_usable_size(&g->h, xalloc(g, 16, 4096)), PAGE_SIZE);
	assert_ok(g);
	rig_delete(g);
}

Test(slab_align, bad_alignments_are_refused)
{
	struct rig *g = rig_new(64 * MIB, false);

	cr_assert_null(heap_alloc(&g->h, 16, 24));
	cr_assert_null(heap_alloc(&g->h, 16, 8192));
	cr_assert_null(heap_alloc(&g->h, SIZE_MAX, 0));
	cr_assert_null(heap_alloc(&g->h, SIZE_MAX / 4 + 1, 0));
	cr_assert_null(heap_alloc(&g->h, SIZE_MAX / 4, 0), "too big for the region");
	cr_assert_eq(g->rep.count, 0);
	assert_ok(g);
	rig_delete(g);
}

/* ---- exact errors --------------------------------------------------------------------------- */

Test(slab_errors, double_free)
{
	struct rig *g = rig_new(64 * MIB, false);
	void *keep = xalloc(g, 48, 0), *p = xalloc(g, 48, 0);

	fill(keep, 48, 7);
	xfree(g, p);
	expect_refused(g, p, HEAP_ERR_DOUBLE_FREE, 48, "double free");
	assert_filled(keep, 48, 7);
	xfree(g, keep);
	expect_refused(g, keep, HEAP_ERR_DOUBLE_FREE, 48, "double free");   /* in the cached empty slab */
	rig_delete(g);
}

Test(slab_errors, interior_pointers)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *p = xalloc(g, 100, 0), *run = xalloc(g, 20000, 0);

	expect_refused(g, p + 16, HEAP_ERR_INVALID_FREE, 112, "inside an object, not at its start");
	expect_refused(g, p + 1, HEAP_ERR_INVALID_FREE, 112, "inside an object, not at its start");
	expect_refused(g, p + 111, HEAP_ERR_INVALID_FREE, 112, "inside an object, not at its start");
	expect_refused(g, run + PAGE_SIZE, HEAP_ERR_INVALID_FREE, 5 * PAGE_SIZE, "inside a page run, not at its start");
	expect_refused(g, run + 16, HEAP_ERR_INVALID_FREE, 5 * PAGE_SIZE, "inside a page run, not at its start");
	expect_refused(g, run + 20479, HEAP_ERR_INVALID_FREE, 5 * PAGE_SIZE, "inside a page run, not at its start");
	xfree(g, p);
	xfree(g, run);
	assert_ok(g);
	rig_delete(g);
}

Test(slab_errors, slots_never_handed_out_and_the_end_of_a_slab)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *p = xalloc(g, 48, 0);
	uintptr_t page = (uintptr_t)p & ~(uintptr_t)(PAGE_SIZE - 1);

	cr_assert_eq((uintptr_t)p, page, "the first object of a fresh slab starts it");
	expect_refused(g, p + 48, HEAP_ERR_INVALID_FREE, 48, "never handed out");
	expect_refused(g, p + 84 * 48, HEAP_ERR_INVALID_FREE, 48, "never handed out");
	expect_refused(g, (void *)(page + 85 * 48), HEAP_ERR_INVALID_FREE, 48, "past the last object of a slab");
	xfree(g, p);
	rig_delete(g);
}

Test(slab_errors, foreign_pointers)
{
	struct rig *g = rig_new(64 * MIB, false);
	int local;
	void *libc = malloc(32);
	uint8_t *p = xalloc(g, 32, 0);

	expect_refused(g, &local, HEAP_ERR_INVALID_FREE, 0, "not a heap object");
	expect_refused(g, libc, HEAP_ERR_INVALID_FREE, 0, "not a heap object");
	expect_refused(g, (void *)g->hp.base, HEAP_ERR_INVALID_FREE, 0, "not a heap object");      /* descriptors */
	expect_refused(g, (void *)(g->hp.base + 32 * MIB), HEAP_ERR_INVALID_FREE, 0, "not a heap object");  /* unused */
	expect_refused(g, (void *)(g->hp.base + 64 * MIB), HEAP_ERR_INVALID_FREE, 0, "not a heap object");  /* past it */
	expect_refused(g, (void *)UINTPTR_MAX, HEAP_ERR_INVALID_FREE, 0, "not a heap object");
	expect_refused(g, (void *)16, HEAP_ERR_INVALID_FREE, 0, "not a heap object");
	/* The first slab came first, then the header page with its record. */
	expect_refused(g, p + PAGE_SIZE, HEAP_ERR_INVALID_FREE, 0, "inside heap metadata, not an object");
	expect_refused(g, p + PAGE_SIZE + 64, HEAP_ERR_INVALID_FREE, 0, "inside heap metadata, not an object");
	cr_assert_null(heap_realloc(&g->h, &local, 100), "realloc refuses a foreign pointer too");
	expect_report(g, HEAP_ERR_INVALID_FREE, &local, 0, "not a heap object");
	free(libc);
	xfree(g, p);
	assert_ok(g);
	rig_delete(g);
}

/* Three full one-page slabs of 1024-byte objects, the last still first on its list.  Slabs 0
 * and 1 empty behind it and go back to the region; slab 2 empties first and is cached. */
Test(slab_errors, pointers_into_free_slabs)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *obj[12];

	for (int i = 0; i < 12; i++)
		obj[i] = xalloc(g, 1024, 0);
	for (int s = 0; s < 3; s++)
		cr_assert_eq((uintptr_t)obj[4 * s + 3] - (uintptr_t)obj[4 * s], 3 * 1024, "slab %d is one page", s);
	for (int i = 0; i < 8; i++)
		xfree(g, obj[i]);
	cr_assert(region_page_owner(&g->h.region, (uintptr_t)obj[0]) == 0, "slab 0 went back to the region");
	cr_assert(region_page_owner(&g->h.region, (uintptr_t)obj[4]) == 0, "slab 1 went back to the region");
	expect_refused(g, obj[4], HEAP_ERR_INVALID_FREE, 0, "not a heap object");
	expect_refused(g, obj[1] + 8, HEAP_ERR_INVALID_FREE, 0, "not a heap object");
	for (int i = 8; i < 12; i++)
		xfree(g, obj[i]);
	cr_assert(region_page_owner(&g->h.region, (uintptr_t)obj[8]) != 0, "slab 2 is cached");
	expect_refused(g, obj[10], HEAP_ERR_DOUBLE_FREE, 1024, "double free");
	expect_refused(g, obj[10] + 100, HEAP_ERR_INVALID_FREE, 1024, "inside an object, not at its start");
	assert_ok(g);
	rig_delete(g);
}

/* A slab that fills up stays first on its list until an allocation finds it full, so objects
 * freed and allocated at the edge cost no list changes. */
Test(slab_life, a_full_slab_stays_first_until_it_must_go)
{
	struct rig *g = rig_new(64 * MIB, false);
	void *obj[5], *again;

	for (int i = 0; i < 4; i++)
		obj[i] = xalloc(g, 1024, 0);      /* slab 0, full */
	for (int round = 0; round < 100; round++) {
		xfree(g, obj[3]);
		cr_assert_eq(xalloc(g, 1024, 0), obj[3]);
		assert_ok(g);
	}
	obj[4] = xalloc(g, 1024, 0);          /* slab 0 leaves the list, slab 1 comes */
	xfree(g, obj[1]);                     /* slab 0 has room, but less than half of it */
	again = xalloc(g, 1024, 0);
	cr_assert_neq(again, obj[1], "slab 1 is first");
	assert_ok(g);
	rig_delete(g);
}

/* A slab that filled up and left its list comes back (second) once half of it is free, not at
 * the first free: frees spread over many full slabs then do not move a slab with every call.
 * 1024-byte objects: four to a one-page slab. */
Test(slab_life, a_slab_that_filled_up_comes_back_when_half_of_it_is_free)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *a[4], *b[4];

	for (int i = 0; i < 4; i++)
		a[i] = xalloc(g, 1024, 0);          /* slab A, full */
	b[0] = xalloc(g, 1024, 0);              /* A leaves the list: slab B */
	xfree(g, a[0]);
	assert_ok(g);
	b[1] = xalloc(g, 1024, 0);
	cr_assert_eq(b[1], b[0] + 1024, "A, one object free, is not on the list");
	xfree(g, a[2]);                         /* two free: A goes back, behind B */
	assert_ok(g);
	b[2] = xalloc(g, 1024, 0);
	b[3] = xalloc(g, 1024, 0);
	cr_assert_eq(b[3], b[0] + 3 * 1024, "B, first on the list, is used up first");
	cr_assert_eq(xalloc(g, 1024, 0), a[0], "then A, lowest object first");
	cr_assert_eq(xalloc(g, 1024, 0), a[2]);
	assert_ok(g);
	rig_delete(g);
}

Test(slab_errors, usable_size_and_realloc_of_bad_pointers)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *p = xalloc(g, 64, 0);

	cr_assert_eq(heap_usable_size(&g->h, p + 8), 0);
	cr_assert_eq(heap_usable_size(&g->h, (void *)g->hp.base), 0);
	cr_assert_eq(g->rep.count, 0, "usable_size does not report");
	cr_assert_null(heap_realloc(&g->h, p + 8, 200));
	expect_report(g, HEAP_ERR_INVALID_FREE, p + 8, 64, "inside an object, not at its start");
	xfree(g, p);
	cr_assert_null(heap_realloc(&g->h, p, 200));
	expect_report(g, HEAP_ERR_DOUBLE_FREE, p, 64, "double free");
	assert_ok(g);
	rig_delete(g);
}

/* ---- free objects hold nothing the heap reads ---------------------------------------------- */

/* What a stray write, or an attacker, might put into freed objects: pointers to a live object,
 * into it, to another slab, to the region's start, to the object itself, past the slab's last
 * object handed out; 0 ("end of list"), garbage, and a pointer encoded as a free-list link would
 * be.  Free objects hold no metadata, so none of it may change what the heap hands out. */
Test(slab_free_objects, writes_into_freed_objects_change_nothing)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *other = xalloc(g, 200, 0), *obj[40];
	bool back[40] = { false };

	for (unsigned i = 0; i < 40; i++) {
		obj[i] = xalloc(g, 96, 0);         /* one slab: 42 objects of 96 bytes */
		fill(obj[i], 96, i);
	}
	for (unsigned i = 0; i < 40; i += 2)
		xfree(g, obj[i]);
	for (unsigned i = 0; i < 40; i += 2) {
		uintptr_t *word = (uintptr_t *)obj[i];
		const uintptr_t lures[] = {
			(uintptr_t)obj[i + 1], (uintptr_t)obj[i + 1] + 8, (uintptr_t)other, g->hp.base, (uintptr_t)obj[i],
			(uintptr_t)obj[39] + 96, 0, UINT64_C(0x4141414141414141),
			heap_encode_link(&g->h, word, (uintptr_t)obj[i + 1]),
		};
		for (unsigned k = 0; k < 96 / sizeof(uintptr_t); k++)
			word[k] = lures[(i + k) % ARRAY_SIZE(lures)];
	}
	assert_ok(g);
	for (unsigned n = 0; n < 20; n++) {
		uint8_t *p = xalloc(g, 96, 0);
		unsigned i = (unsigned)((p - obj[0]) / 96);
		cr_assert(p >= obj[0] && i < 40 && p == obj[i] && i % 2 == 0 && !back[i],
		          "allocation %u gave %p, not a freed object", n, (void *)p);
		back[i] = true;
	}
	cr_assert_eq(xalloc(g, 96, 0), obj[39] + 96, "then the slab's next object never handed out");
	for (unsigned i = 1; i < 40; i += 2)
		assert_filled(obj[i], 96, i);
	cr_assert_eq(g->rep.count, 0, "nothing to report: nothing was damaged");
	assert_ok(g);
	rig_delete(g);
}

/* ---- records: the metadata, out of band, checked by heap_check ------------------------------ */

static struct slab *record_of(struct rig *g, const void *p)
{
	struct slab *s = (struct slab *)region_page_owner(&g->h.region, (uintptr_t)p);

	cr_assert_not_null(s, "%p has no record", p);
	return s;
}

/* Writes `damage` over `bytes` bytes of a record: heap_check must report it, as `what`, and be
 * content again once the bytes are put back. */
static void expect_damage_found(struct rig *g, void *field, size_t bytes, const void *damage, const char *what)
{
	uint8_t saved[16];

	cr_assert_leq(bytes, sizeof(saved));
	memcpy(saved, field, bytes);
	memcpy(field, damage, bytes);
	cr_assert_eq(heap_check(&g->h), HEAP_ERR_CORRUPT, "%s: heap_check saw nothing", what);
	expect_finding(g, HEAP_ERR_CORRUPT, what);
	memcpy(field, saved, bytes);
	assert_ok(g);
}

Test(slab_records, heap_check_finds_a_damaged_record)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *p = xalloc(g, 48, 0), *q = xalloc(g, 48, 0), *big = xalloc(g, 9000, 0), *gone = xalloc(g, 5000, 0);
	struct slab *s = record_of(g, p), *run = record_of(g, big), *spare = record_of(g, gone);
	uint64_t bitmap = s->live[0] | 4;                    /* object 2, never handed out, in use */
	uint8_t count = (uint8_t)(s->in_use + 1), watch = (uint8_t)(s->watch + 1);
	uint32_t no_reciprocal = 0;
	uintptr_t start = s->start + 48;
	struct slab *loop = s;
	size_t pages = 9, size = 5000, spare_bytes;

	cr_assert_eq(record_of(g, q), s);
	expect_damage_found(g, &s->live[0], sizeof(bitmap), &bitmap, "slab count disagrees with its bitmap");
	expect_damage_found(g, &s->in_use, sizeof(count), &count, "slab counts out of range");
	expect_damage_found(g, &s->watch, sizeof(watch), &watch, "slab record damaged");
	expect_damage_found(g, &s->reciprocal, sizeof(no_reciprocal), &no_reciprocal, "slab record damaged");
	expect_damage_found(g, &s->start, sizeof(start), &start, "record does not describe its pages");
	expect_damage_found(g, &s->next, sizeof(loop), &loop, "partial list damaged");
	expect_damage_found(g, &run->large.pages, sizeof(pages), &pages, "page run record damaged");
	xfree(g, gone);                                      /* a spare now: size 0, not in use */
	cr_assert_eq(record_of(g, gone), spare);
	expect_damage_found(g, &spare->large.size, sizeof(size), &size, "page run record damaged");
	spare_bytes = g->h.design.slab.spare_bytes + PAGE_SIZE;
	expect_damage_found(g, &g->h.design.slab.spare_bytes, sizeof(spare_bytes), &spare_bytes, "spare runs out of step");
	xfree(g, p);
	xfree(g, q);
	xfree(g, big);
	assert_ok(g);
	rig_delete(g);
}

/* ---- the inline paths ----------------------------------------------------------------------- */

/* Every byte of a slab of each class but the two live objects' starts is refused by the inline
 * free, which changes nothing: interior pointers, slots never handed out, the tail past the last
 * object.  So are page runs, header pages, the descriptors, NULL and foreign memory. */
Test(slab_inline, the_inline_free_takes_exactly_the_live_object_starts, .timeout = 60)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *run = xalloc(g, 20000, 0), local = 0;

	for (size_t k = 0; k < ARRAY_SIZE(classes); k++) {
		size_t size = classes[k];
		uint8_t *p = xalloc(g, size, 0), *q = xalloc(g, size, 0);
		struct heap_stats st;
		struct snapshot before;

		heap_stats(&g->h, &st);
		cr_assert(is_aligned((uintptr_t)p, PAGE_SIZE) && q == p + size, "class %zu: a fresh slab", size);
		take_snapshot(g, &before);
		for (size_t off = 0; off < st.class[k].bytes_held; off++)
			if (off != 0 && off != size)
				cr_assert(!heap_free_fast(&g->h, p + off), "class %zu: +%zu taken", size, off);
		assert_unchanged(g, &before);
		cr_assert(heap_free_fast(&g->h, q) && heap_free_fast(&g->h, p), "class %zu: live objects refused", size);
		cr_assert(!heap_free_fast(&g->h, p), "class %zu: a double free taken", size);
		assert_ok(g);
	}
	for (size_t off = 0; off < 5 * PAGE_SIZE; off += 16)
		cr_assert(!heap_free_fast(&g->h, run + off), "page run +%zu taken", off);
	cr_assert(!heap_free_fast(&g->h, (void *)record_of(g, run)), "a record taken");
	cr_assert(!heap_free_fast(&g->h, (void *)g->hp.base), "a descriptor taken");
	cr_assert(!heap_free_fast(&g->h, NULL) && !heap_free_fast(&g->h, &local));
	xfree(g, run);
	cr_assert_eq(g->rep.count, 0);
	assert_ok(g);
	rig_delete(g);
}

Test(slab_inline, which_heaps_and_sizes_the_inline_alloc_serves)
{
	static struct heap nothing;   /* all zero: not initialized */
	struct rig *plain = rig_new(64 * MIB, false), *debug = rig_new(64 * MIB, true);
	struct rig *zeroing = rig_of(HEAP_SLAB, 64 * MIB, false, true), *list = rig_of(HEAP_LIST, 64 * MIB, false, false);
	const size_t sizes[] = { 0, 1, 16, 17, 3584, 3585, 1 << 20, SIZE_MAX };
	void *p;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		bool small = sizes[i] >= 1 && sizes[i] <= 3584;
		cr_assert_eq(heap_alloc_is_fast(&plain->h, sizes[i]), small, "size %zu", sizes[i]);
		cr_assert_eq(heap_alloc_is_fast(&zeroing->h, sizes[i]), small, "size %zu (heap_alloc zeroes after)", sizes[i]);
		cr_assert(!heap_alloc_is_fast(&debug->h, sizes[i]) && !heap_alloc_is_fast(&list->h, sizes[i]) &&
		          !heap_alloc_is_fast(&nothing, sizes[i]));
	}
	p = xalloc(list, 64, 0);
	cr_assert(!heap_free_fast(&list->h, p), "a list heap's object");
	xfree(list, p);
	p = xalloc(debug, 64, 0);
	cr_assert(!heap_free_fast(&debug->h, p), "debug mode frees the slow way, to check the redzone");
	xfree(debug, p);
	cr_assert(!heap_free_fast(&nothing, p) && !heap_free_fast(&nothing, NULL));
	p = heap_alloc_fast(&plain->h, 40);
	cr_assert_not_null(p);
	cr_assert_eq(heap_usable_size(&plain->h, p), 48);
	xfree(plain, p);
	for (struct rig **g = (struct rig *[]){ plain, debug, zeroing, list, NULL }; *g; g++) {
		assert_ok(*g);
		rig_delete(*g);
	}
}

/* A zero-filling heap (the kernel's) zeroes what it reuses, inline path or not. */
Test(slab_inline, a_zero_filling_heap_hands_out_zeroed_objects)
{
	struct rig *g = rig_of(HEAP_SLAB, 64 * MIB, false, true);
	uint8_t *p[64];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 64; i++) {
			p[i] = xalloc(g, 1 + (size_t)i * 37, 0);
			for (size_t b = 0; b < 1 + (size_t)i * 37; b++)
				cr_assert_eq(p[i][b], 0, "round %d, object %d, byte %zu", round, i, b);
			memset(p[i], 0xa5, 1 + (size_t)i * 37);
		}
		for (int i = 0; i < 64; i++)
			xfree(g, p[i]);
	}
	assert_ok(g);
	rig_delete(g);
}

/* ---- spare page runs ------------------------------------------------------------------------ */

static size_t page_run_bytes(struct rig *g, size_t *objects)
{
	struct heap_stats st;

	heap_stats(&g->h, &st);
	*objects = st.class[ARRAY_SIZE(classes)].objects_in_use;
	return st.class[ARRAY_SIZE(classes)].bytes_held;
}

/* A freed run is kept mapped, with its record, for the next run of its length: a second free of
 * it is then an exact double free. */
Test(slab_spares, a_freed_page_run_is_kept_for_the_next_of_its_length)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *keep = xalloc(g, 64 * KIB, 0), *a = xalloc(g, 10000, 0), *b;
	size_t maps = g->hp.map_calls, unmaps = g->hp.unmap_calls, objects, mapped_empty;

	xfree(g, a);
	cr_assert_eq(g->hp.unmap_calls, unmaps, "kept: 3 pages, within half of the 16 in use");
	cr_assert_eq(page_run_bytes(g, &objects), 19 * PAGE_SIZE);
	cr_assert_eq(objects, 1);
	expect_refused(g, a, HEAP_ERR_DOUBLE_FREE, 3 * PAGE_SIZE, "double free");
	expect_refused(g, a + 16, HEAP_ERR_INVALID_FREE, 3 * PAGE_SIZE, "inside a page run, not at its start");
	cr_assert_null(heap_realloc(&g->h, a, 100));
	expect_report(g, HEAP_ERR_DOUBLE_FREE, a, 3 * PAGE_SIZE, "double free");
	b = xalloc(g, 9000, 0);
	cr_assert_eq(b, a, "the spare of the same length");
	cr_assert_eq(g->hp.map_calls, maps, "and nothing mapped");
	b[8999] = 1;
	b = xalloc(g, 5000, 0);
	cr_assert_eq(g->hp.map_calls, maps + 1, "no spare of two pages");
	xfree(g, b);
	xfree(g, a);
	xfree(g, keep);
	cr_assert_eq(page_run_bytes(g, &objects), 0, "no run in use: no spare");
	mapped_empty = g->hp.mapped;
	cr_assert_leq(mapped_empty, 2 * PAGE_SIZE, "the cached header page and its descriptors");
	assert_ok(g);
	rig_delete(g);
}

/* Only page runs here (and records): the spares may add up to half of the runs in use. */
Test(slab_spares, spares_stay_within_half_of_the_runs_in_use)
{
	struct rig *g = rig_new(256 * MIB, false);
	struct rng rng = rng_seed(77);
	uint8_t *held[64] = { NULL };
	size_t sizes[64] = { 0 };

	for (int op = 0; op < 20000; op++) {
		size_t i = rng_below(&rng, 64), in_use = 0, objects, held_bytes;
		if (held[i] != NULL) {
			cr_assert_eq(held[i][0], (uint8_t)i);
			cr_assert_eq(held[i][sizes[i] - 1], (uint8_t)i);
			xfree(g, held[i]);
			held[i] = NULL;
		} else {
			sizes[i] = 3585 + rng_below(&rng, rng_one_in(&rng, 8) ? 400 * KIB : 60 * KIB);
			held[i] = xalloc(g, sizes[i], 0);
			held[i][0] = held[i][sizes[i] - 1] = (uint8_t)i;
		}
		for (size_t k = 0; k < 64; k++)
			in_use += held[k] ? (sizes[k] + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE : 0;
		held_bytes = page_run_bytes(g, &objects);
		cr_assert_leq(held_bytes - in_use, in_use / 2, "%zu bytes of spares for %zu in use", held_bytes - in_use,
		              in_use);
		if (op % 100 == 0)
			assert_ok(g);
	}
	for (size_t k = 0; k < 64; k++)
		if (held[k])
			xfree(g, held[k]);
	assert_ok(g);
	assert_cache_within_budget(g);
	rig_delete(g);
}

/* When the page source runs out, the spares go back to it before an allocation fails. */
Test(slab_spares, running_out_gives_the_spares_back_first)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *keep = xalloc(g, 64 * KIB, 0), *a = xalloc(g, 12 * KIB, 0), *b;
	size_t objects;

	xfree(g, a);
	cr_assert_eq(page_run_bytes(g, &objects), 19 * PAGE_SIZE, "a spare of three pages");
	g->hp.budget = g->hp.mapped + 2 * PAGE_SIZE;
	b = xalloc(g, 20 * KIB, 0);   /* five pages: two from the budget, three the spare gave back */
	cr_assert_eq(page_run_bytes(g, &objects), 21 * PAGE_SIZE);
	cr_assert_eq(objects, 2, "no spare left");
	cr_assert_null(heap_alloc(&g->h, 20 * KIB, 0), "and nothing more");
	cr_assert_eq(g->rep.count, 0);
	xfree(g, b);
	xfree(g, keep);
	assert_ok(g);
	rig_delete(g);
}

/* An emptied slab is a spare too: the next slab of its length, of any class, takes its pages and
 * its record.  (The run of 64 KiB kept alive makes the budget.) */
Test(slab_spares, an_emptied_slab_is_kept_for_the_next_slab_of_its_length)
{
	struct rig *g = rig_new(64 * MIB, false);
	uint8_t *keep = xalloc(g, 64 * KIB, 0), *a[72], *b;
	size_t maps, unmaps, objects;

	for (int i = 0; i < 72; i++)
		a[i] = xalloc(g, 200, 0);           /* two slabs of 224-byte objects, two pages each */
	maps = g->hp.map_calls;
	unmaps = g->hp.unmap_calls;
	for (int i = 0; i < 36; i++)
		xfree(g, a[i]);                     /* the first slab empties behind the second */
	cr_assert_eq(g->hp.unmap_calls, unmaps, "kept as a spare");
	cr_assert_eq(page_run_bytes(g, &objects), 18 * PAGE_SIZE, "the spare counts with the page runs");
	expect_refused(g, a[0], HEAP_ERR_DOUBLE_FREE, 2 * PAGE_SIZE, "double free");
	expect_refused(g, a[1], HEAP_ERR_INVALID_FREE, 2 * PAGE_SIZE, "inside a page run, not at its start");
	b = xalloc(g, 250, 0);                  /* 256-byte objects: slabs of two pages */
	cr_assert_eq(b, a[0], "the new slab is the spare");
	cr_assert_eq(g->hp.map_calls, maps, "nothing mapped");
	xfree(g, b);
	for (int i = 36; i < 72; i++)
		xfree(g, a[i]);
	xfree(g, keep);
	assert_ok(g);
	assert_cache_within_budget(g);
	rig_delete(g);
}

Test(slab_spares, debug_mode_keeps_none)
{
	struct rig *g = rig_new(64 * MIB, true);
	uint8_t *keep = xalloc(g, 64 * KIB, 0), *a = xalloc(g, 10000, 0);
	size_t unmaps = g->hp.unmap_calls, objects;

	xfree(g, a);
	cr_assert_eq(g->hp.unmap_calls, unmaps + 1, "unmapped at once: a use after free faults");
	cr_assert_eq(page_run_bytes(g, &objects), 17 * PAGE_SIZE, "64 KiB and a page of redzone");
	expect_refused(g, a, HEAP_ERR_INVALID_FREE, 0, "not a heap object");
	xfree(g, keep);
	assert_ok(g);
	rig_delete(g);
}

/* ---- debug mode ----------------------------------------------------------------------------- */

Test(slab_debug, usable_size_is_exactly_what_was_asked)
{
	struct rig *g = rig_new(64 * MIB, true);

	for (size_t size = 0; size < 9000; size += 1 + size / 16) {
		uint8_t *p = xalloc(g, size, 0);
		cr_assert_eq(heap_usable_size(&g->h, p), size ? size : 1);
		if (size <= 3584 - 16)
			for (size_t i = 0; i < size; i++)
				cr_assert_eq(p[i], HEAP_POISON_BYTE, "a new object is all poison");
		memset(p, 0xee, size ? size : 1);
		assert_ok(g);
		xfree(g, p);
	}
	assert_ok(g);
	rig_delete(g);
}

Test(slab_debug, one_byte_past_an_object)
{
	struct rig *g = rig_new(64 * MIB, true);
	uint8_t *p = xalloc(g, 40, 0), *q = xalloc(g, 40, 0);

	p[40] = 0;
	cr_assert_eq(heap_check(&g->h), HEAP_ERR_REDZONE);
	expect_report(g, HEAP_ERR_REDZONE, p, 64, "redzone overwritten at +40");
	cr_assert_eq(heap_free(&g->h, p), HEAP_ERR_REDZONE);
	expect_report(g, HEAP_ERR_REDZONE, p, 64, "redzone overwritten at +40");
	assert_ok(g);   /* the object was freed anyway, and its slot poisoned afresh */
	q[47] = 1;
	cr_assert_eq(heap_free(&g->h, q), HEAP_ERR_REDZONE);
	expect_report(g, HEAP_ERR_REDZONE, q, 64, "redzone overwritten at +47");
	rig_delete(g);
}

Test(slab_debug, the_stored_size_is_part_of_the_redzone)
{
	struct rig *g = rig_new(64 * MIB, true);
	uint8_t *p = xalloc(g, 40, 0);

	p[64 - 3] ^= 0xff;
	cr_assert_eq(heap_free(&g->h, p), HEAP_ERR_REDZONE);
	expect_report(g, HEAP_ERR_REDZONE, p, 64, "redzone overwritten at +56");
	assert_ok(g);
	rig_delete(g);
}

Test(slab_debug, one_byte_past_a_page_run)
{
	struct rig *g = rig_new(64 * MIB, true);
	uint8_t *p = xalloc(g, 5000, 0);

	cr_assert_eq(heap_usable_size(&g->h, p), 5000);
	p[5000] = 0;
	cr_assert_eq(heap_free(&g->h, p), HEAP_ERR_REDZONE);
	expect_report(g, HEAP_ERR_REDZONE, p, 2 * PAGE_SIZE, "redzone overwritten at +5000");
	cr_assert_eq(g->hp.mapped, 2 * PAGE_SIZE, "freed anyway: the cached header page is left");
	assert_ok(g);
	rig_delete(g);
}

Test(slab_debug, write_after_free)
{
	struct rig *g = rig_new(64 * MIB, true);
	uint8_t *p = xalloc(g, 40, 0), *q;

	xfree(g, p);
	p[20] = 1;
	cr_assert_eq(heap_check(&g->h), HEAP_ERR_USE_AFTER_FREE);
	expect_report(g, HEAP_ERR_USE_AFTER_FREE, p, 64, "freed object written at +20");
	q = xalloc(g, 40, 0);
	cr_assert_eq(q, p);
	expect_report(g, HEAP_ERR_USE_AFTER_FREE, p, 64, "freed object written at +20");
	for (int i = 0; i < 40; i++)
		cr_assert_eq(q[i], HEAP_POISON_BYTE, "the poison was restored before the object was handed out");
	assert_ok(g);
	xfree(g, q);
	assert_ok(g);
	rig_delete(g);
}

Test(slab_debug, realloc_moves_the_redzone_with_the_size)
{
	struct rig *g = rig_new(64 * MIB, true);
	uint8_t *p = xalloc(g, 40, 0);

	memset(p, 3, 40);
	cr_assert_eq(heap_realloc(&g->h, p, 45), p, "the same class holds 45 + 16");
	cr_assert_eq(heap_usable_size(&g->h, p), 45);
	memset(p, 4, 45);
	assert_ok(g);
	cr_assert_eq(heap_realloc(&g->h, p, 33), p);
	p[33] = 0;
	cr_assert_eq(heap_free(&g->h, p), HEAP_ERR_REDZONE);
	expect_report(g, HEAP_ERR_REDZONE, p, 64, "redzone overwritten at +33");
	rig_delete(g);
}

Test(slab_debug, errors_and_double_frees_as_without_debug)
{
	struct rig *g = rig_new(64 * MIB, true);
	uint8_t *p = xalloc(g, 40, 0);

	expect_refused(g, p + 16, HEAP_ERR_INVALID_FREE, 64, "inside an object, not at its start");
	xfree(g, p);
	expect_refused(g, p, HEAP_ERR_DOUBLE_FREE, 64, "double free");
	rig_delete(g);
}

/* ---- the reference model -------------------------------------------------------------------- */

struct object {
	uint8_t *p;
	size_t size;
	unsigned id;
};

struct model {
	struct rig *g;
	struct object *live;
	size_t count;
	uint64_t *granule;   /* one bit per 16 bytes of the region: held by a live object */
	unsigned next_id;
	size_t peak;
};

static void mark_granules(struct model *m, const struct object *o, bool held)
{
	size_t usable = heap_usable_size(&m->g->h, o->p);
	size_t first = ((uintptr_t)o->p - m->g->hp.base) / 16, last = ((uintptr_t)o->p + usable - 1 - m->g->hp.base) / 16;

	for (size_t i = first; i <= last; i++) {
		bool was = (m->granule[i / 64] >> (i % 64)) & 1u;
		cr_assert_eq(was, !held, "object %u overlaps another at +%zu", o->id, (i - first) * 16);
		m->granule[i / 64] ^= UINT64_C(1) << (i % 64);
	}
}

/* Contents: bytes from the object's id, so a mix-up of two objects shows. */
static void pattern(uint8_t *p, size_t n, unsigned id)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(id * 131 + i * 7);
}

static void check_pattern(const struct object *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(o->p[i], (uint8_t)(o->id * 131 + i * 7), "object %u (%zu bytes) changed at +%zu", o->id,
		             o->size, i);
}

/* Sizes 0 .. 64 KiB, most of them small. */
static size_t random_size(struct rng *rng)
{
	switch (rng_below(rng, 10)) {
	case 0:  return rng_below(rng, 64 * KIB + 1);
	case 1:
	case 2:  return rng_below(rng, 4096);
	default: return rng_below(rng, 256);
	}
}

static void adopt(struct model *m, uint8_t *p, size_t size, size_t align)
{
	struct object *o = &m->live[m->count++];
	size_t usable = heap_usable_size(&m->g->h, p);

	*o = (struct object){ p, size, m->next_id++ };
	cr_assert(is_aligned((uintptr_t)p, align < HEAP_MIN_ALIGN ? HEAP_MIN_ALIGN : align));
	cr_assert_geq(usable, size ? size : 1);
	if (m->g->h.cfg.debug)
		cr_assert_eq(usable, size ? size : 1);
	mark_granules(m, o, true);
	pattern(p, size, o->id);
}

static void model_alloc(struct model *m, struct rng *rng)
{
	size_t size = random_size(rng), align = rng_one_in(rng, 4) ? (size_t)1 << rng_below(rng, 13) : 0;
	uint8_t *p;

	if (rng_one_in(rng, 10)) {
		size_t n = 1 + rng_below(rng, 8);
		size /= n;
		p = heap_calloc(&m->g->h, n, size);
		cr_assert_not_null(p);
		for (size_t i = 0; i < n * size; i++)
			cr_assert_eq(p[i], 0, "calloc left a byte set");
		size *= n;
		align = 0;
	} else {
		p = heap_alloc(&m->g->h, size, align);
		cr_assert_not_null(p, "alloc of %zu at %zu", size, align);
	}
	adopt(m, p, size, align);
}

static void model_free(struct model *m, size_t slot)
{
	struct object o = m->live[slot];

	check_pattern(&o, o.size);
	mark_granules(m, &o, false);
	xfree(m->g, o.p);
	m->live[slot] = m->live[--m->count];
}

static void model_realloc(struct model *m, size_t slot, struct rng *rng)
{
	struct object o = m->live[slot];
	size_t size = rng_one_in(rng, 3) ? o.size + rng_below(rng, 64) : random_size(rng);
	uint8_t *p;

	if (size == 0)
		size = 1;   /* realloc(p, 0) frees; that is tested elsewhere */
	check_pattern(&o, o.size);
	mark_granules(m, &o, false);
	p = heap_realloc(&m->g->h, o.p, size);
	cr_assert_not_null(p);
	o.p = p;
	check_pattern(&o, o.size < size ? o.size : size);
	m->live[slot] = m->live[--m->count];
	adopt(m, p, size, 0);
}

static void assert_stats(struct model *m)
{
	struct heap_stats st;
	size_t usable = 0;

	heap_stats(&m->g->h, &st);
	for (size_t i = 0; i < m->count; i++)
		usable += heap_usable_size(&m->g->h, m->live[i].p);
	cr_assert_eq(st.objects_in_use, m->count);
	cr_assert_eq(st.bytes_in_use, usable);
	cr_assert_eq(st.bytes_mapped, m->g->hp.mapped);
}

static void run_model(bool debug, uint64_t seed, int ops)
{
	struct model m = { .g = rig_new(128 * MIB, debug) };
	struct rng rng = rng_seed(seed);

	m.live = calloc(4096, sizeof(*m.live));
	m.granule = calloc(128 * MIB / 16 / 64, sizeof(uint64_t));
	cr_assert(m.live && m.granule);
	for (int op = 0; op < ops; op++) {
		unsigned dice = (unsigned)rng_below(&rng, 100);
		if (m.count == 0 || (dice < 50 && m.count < 4000))
			model_alloc(&m, &rng);
		else if (dice < 85)
			model_free(&m, rng_below(&rng, m.count));
		else
			model_realloc(&m, rng_below(&rng, m.count), &rng);
		if (op < 3000 || op % 64 == 0)
			assert_ok(m.g);
		if (op % 1000 == 0)
			assert_stats(&m);
		m.peak = m.g->hp.mapped > m.peak ? m.g->hp.mapped : m.peak;
	}
	while (m.count > 0)
		model_free(&m, rng_below(&rng, m.count));
	assert_ok(m.g);
	assert_stats(&m);
	cr_assert_lt(m.g->hp.mapped * 10, m.peak, "%zu bytes mapped after freeing all, of a %zu peak", m.g->hp.mapped,
	             m.peak);
	rig_delete(m.g);
	free(m.live);
	free(m.granule);
}

Test(slab_model, hundred_thousand_random_operations, .timeout = 120)
{
	run_model(false, 1, 100000);
}

Test(slab_model, debug_mode, .timeout = 120)
{
	run_model(true, 2, 30000);
}
