/*
 * The slab design through the public heap API, over host_pages (unmapped pages fault): size
 * classes and their waste, slab reuse and return, alignment, the exact report of every kind of
 * bad pointer, free-list corruption, debug-mode redzones and poison, and a reference model run
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

static struct rig *rig_new(size_t limit, bool debug)
{
	struct rig *g = calloc(1, sizeof(*g));
	struct heap_config cfg;

	cr_assert_not_null(g);
	cr_assert(host_pages_reserve(&g->hp, limit));
	cfg = (struct heap_config){
		.design = HEAP_SLAB,
		.region = { g->hp.base, limit, host_pages_seam(&g->hp) },
		.debug = debug,
		.secret = SECRET,
		.report = record,
		.report_ctx = &g->rep,
	};
	cr_assert_eq(heap_init(&g->h, &cfg), HEAP_OK);
	return g;
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

Test(slab_life, the_last_freed_object_comes_back_first)
{
	struct rig *g = rig_new(64 * MIB, false);
	void *a = xalloc(g, 64, 0), *b = xalloc(g, 64, 0);

	xfree(g, a);
	cr_assert_eq(xalloc(g, 64, 0), a);
	xfree(g, b);
	xfree(g, a);
	cr_assert_eq(xalloc(g, 64, 0), a);
	cr_assert_eq(xalloc(g, 64, 0), b);
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
	cr_assert_eq(st.class[ARRAY_SIZE(classes)].bytes_held, 0, "page runs are never kept");
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
	xfree(g, obj[1]);                     /* slab 0 goes back on, behind slab 1 */
	again = xalloc(g, 1024, 0);
	cr_assert_neq(again, obj[1], "slab 1 is first");
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

/* ---- free-list corruption ------------------------------------------------------------------- */

static void write_link(struct rig *g, void *slot, uintptr_t target)
{
	*(uintptr_t *)slot = heap_encode_link(&g->h, slot, target);
}

/* a, b and live in a fresh slab of 96-byte objects (after `before` of them), a and b freed in
 * that order: b heads the list and links to a. */
struct corruption {
	struct rig *g;
	void *a, *b, *live, *other;
};

static struct corruption corruption_rig(int before)
{
	struct corruption k = { .g = rig_new(64 * MIB, false) };

	for (int i = 0; i < before; i++)
		xalloc(k.g, 96, 0);
	k.other = xalloc(k.g, 200, 0);
	k.a = xalloc(k.g, 96, 0);
	k.b = xalloc(k.g, 96, 0);
	k.live = xalloc(k.g, 96, 0);
	xfree(k.g, k.a);
	xfree(k.g, k.b);
	fill(k.live, 96, 0x5a);
	return k;
}

/* After b's link was overwritten: the next alloc reports b, the list is rebuilt from the bitmap,
 * and the heap carries on with nothing lost: a and b come back, then a fresh object. */
static void expect_repaired(struct corruption *k)
{
	void *x = heap_alloc(&k->g->h, 96, 0), *y, *z;

	expect_report(k->g, HEAP_ERR_CORRUPT, k->b, 96, "free list link corrupted");
	y = heap_alloc(&k->g->h, 96, 0);
	z = heap_alloc(&k->g->h, 96, 0);
	cr_assert((x == k->a && y == k->b) || (x == k->b && y == k->a), "the two free objects come back");
	cr_assert(z != NULL && z != k->a && z != k->b && z != k->live);
	assert_filled(k->live, 96, 0x5a);
	assert_ok(k->g);
	xfree(k->g, x);
	xfree(k->g, y);
	xfree(k->g, z);
	xfree(k->g, k->live);
	assert_ok(k->g);
	rig_delete(k->g);
}

Test(slab_corruption, a_raw_pointer_written_over_a_link)
{
	struct corruption k = corruption_rig(1);

	*(uintptr_t *)k.b = (uintptr_t)k.a;   /* plausible, but not encoded */
	expect_repaired(&k);
}

Test(slab_corruption, garbage_over_a_link)
{
	struct corruption k = corruption_rig(0);

	memset(k.b, 0x41, 8);
	expect_repaired(&k);
}

Test(slab_corruption, a_link_to_an_object_in_use)
{
	struct corruption k = corruption_rig(0);

	write_link(k.g, k.b, (uintptr_t)k.live);
	expect_repaired(&k);
}

Test(slab_corruption, a_link_inside_an_object)
{
	struct corruption k = corruption_rig(0);

	write_link(k.g, k.b, (uintptr_t)k.a + 8);
	expect_repaired(&k);
}

Test(slab_corruption, a_link_to_another_slab)
{
	struct corruption k = corruption_rig(0);

	write_link(k.g, k.b, (uintptr_t)k.other);
	expect_repaired(&k);
}

Test(slab_corruption, a_link_outside_the_heap)
{
	struct corruption k = corruption_rig(0);

	write_link(k.g, k.b, (uintptr_t)k.g->hp.base);
	expect_repaired(&k);
}

Test(slab_corruption, a_link_to_itself)
{
	struct corruption k = corruption_rig(0);

	write_link(k.g, k.b, (uintptr_t)k.b);
	expect_repaired(&k);
}

Test(slab_corruption, a_link_to_a_slot_never_handed_out)
{
	struct corruption k = corruption_rig(0);

	write_link(k.g, k.b, (uintptr_t)k.live + 96);
	expect_repaired(&k);
}

/* A link rewritten to say "end of list": the objects behind it are found again from the bitmap
 * once the slab seems to have no free object left. */
Test(slab_corruption, a_list_cut_short)
{
	struct rig *g = rig_new(64 * MIB, false);
	void *obj[8], *got[3];

	for (int i = 0; i < 8; i++)
		obj[i] = xalloc(g, 3584, 0);     /* one slab, full */
	for (int i = 0; i < 3; i++)
		xfree(g, obj[i]);                /* list: 2 -> 1 -> 0 */
	write_link(g, obj[2], 0);
	got[0] = xalloc(g, 3584, 0);
	cr_assert_eq(got[0], obj[2]);
	cr_assert_eq(g->rep.count, 0, "an end of list is a valid link");
	got[1] = xalloc(g, 3584, 0);
	expect_report(g, HEAP_ERR_CORRUPT, obj[0], 3584, "free list lost objects");
	got[2] = xalloc(g, 3584, 0);
	cr_assert((got[1] == obj[0] && got[2] == obj[1]) || (got[1] == obj[1] && got[2] == obj[0]));
	assert_ok(g);
	rig_delete(g);
}

Test(slab_corruption, heap_check_finds_a_bad_link_before_it_is_used)
{
	struct corruption k = corruption_rig(0);

	*(uintptr_t *)k.a ^= 0x100;
	cr_assert_eq(heap_check(&k.g->h), HEAP_ERR_CORRUPT);
	expect_report(k.g, HEAP_ERR_CORRUPT, k.a, 96, "free list link corrupted");
	rig_delete(k.g);
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
