/*
 * The heap interface, one suite over every design (bump, list, fixed, slab): each test below runs
 * once per design, as <design>::<test>.
 *
 * - A reference model drives thousands of random operations (alloc with sizes up to 64 KiB and
 *   alignments up to a page, calloc, realloc, free, and hostile frees) and checks what any heap
 *   owes its caller: contents survive, live objects never overlap (a shadow map of owners per 16
 *   bytes of the region), alignment, usable sizes, statistics, and heap_check after every
 *   operation in a short run and periodically in a long one.
 * - The tutorial's heap tests, in spirit: a few objects, a growing vector, many short-lived
 *   objects adding up to far more than the heap, and the same with one long-lived object, which
 *   the bump design must fail.
 * - The edges: size 0, NULL, overflowing calloc, realloc's corner cases, bad alignments, too
 *   large requests, a heap that runs out of pages or of region, a region of one page.
 * - Every refused free gives the right status, exactly one report naming the pointer, and
 *   changes nothing.  In debug mode, a one-byte overflow and a write after free are caught.
 *
 * Every heap lives on host pages with a guard page past its limit, so a touch of memory the heap
 * does not hold faults.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "tests/host/heap_harness.h"

#define LIMIT            (64 * MIB)
#define MAX_OBJECT       (64 * KIB)
#define EMPTY_MAPPED_MAX (64 * KIB)   /* what an empty heap may keep mapped */

#define FOR_EACH_DESIGN(test)                    \
	Test(bump, test) { test##_on(HEAP_BUMP); }   \
	Test(list, test) { test##_on(HEAP_LIST); }   \
	Test(fixed, test) { test##_on(HEAP_FIXED); } \
	Test(slab, test) { test##_on(HEAP_SLAB); }

/* ---- the model ------------------------------------------------------------------------------ */

struct object {
	uint8_t *p;
	size_t size;
	size_t usable;
	uint32_t id;
};

enum op { OP_ALLOC, OP_CALLOC, OP_REALLOC, OP_FREE, OP_HOSTILE, OP_FREE_ALL, OP_COUNT };

struct model {
	struct harness *t;
	struct rng rng;
	struct object *live;
	size_t count, cap;
	uint32_t *owner;          /* per 16 bytes of the region: id of the live object there, or 0 */
	uint32_t next_id;
	uint8_t *stale[32];       /* pointers freed lately: material for double frees */
	size_t stale_count;
	size_t ops[OP_COUNT];
};

static struct model *model_new(enum heap_design design, size_t limit, bool debug, uint64_t seed)
{
	struct model *m = calloc(1, sizeof(*m));

	cr_assert_not_null(m);
	m->t = harness_new(design, limit, debug);
	m->rng = rng_seed(seed);
	m->cap = 1024;
	m->live = malloc(m->cap * sizeof(*m->live));
	m->owner = calloc(limit / 16, sizeof(*m->owner));
	cr_assert(m->live && m->owner);
	return m;
}

static void model_delete(struct model *m)
{
	harness_delete(m->t);
	free(m->live);
	free(m->owner);
	free(m);
}

static struct heap *heap_of(struct model *m) { return &m->t->heap; }

/* Marks [p, p + usable) as owned by `id` (0: frees it); owning a byte that is owned is an overlap. */
static void set_owner(struct model *m, const struct object *o, uint32_t id)
{
	uintptr_t base = m->t->heap.region.base, p = (uintptr_t)o->p;
	size_t first = (p - base) / 16, last = (p - base + o->usable + 15) / 16;

	cr_assert(p >= base && o->usable <= m->t->limit && p - base <= m->t->limit - o->usable,
	          "%s: object %p + %zu is not inside the region", harness_design(m->t), (void *)o->p, o->usable);
	for (size_t g = first; g < last; g++) {
		if (id != 0)
			cr_assert_eq(m->owner[g], 0, "%s: object %u at %p overlaps object %u", harness_design(m->t), id,
			             (void *)o->p, m->owner[g]);
		m->owner[g] = id;
	}
}

/* Checks a fresh object: aligned, usable size, then makes it the model's. */
static void adopt(struct model *m, uint8_t *p, size_t size, size_t align)
{
	size_t want_align = align > HEAP_MIN_ALIGN ? align : HEAP_MIN_ALIGN;
	struct object o = { p, size, heap_usable_size(heap_of(m), p), ++m->next_id };

	cr_assert_not_null(p, "%s: alloc(%zu, %zu) failed", harness_design(m->t), size, align);
	cr_assert(is_aligned((uintptr_t)p, want_align), "%s: %p is not aligned to %zu", harness_design(m->t),
	          (void *)p, want_align);
	cr_assert_geq(o.usable, size ? size : 1, "%s: usable %zu < %zu", harness_design(m->t), o.usable, size);
	if (m->t->heap.cfg.debug)
		cr_assert_eq(o.usable, size ? size : 1, "%s debug: usable %zu, asked %zu", harness_design(m->t),
		             o.usable, size);
	set_owner(m, &o, o.id);
	fill_pattern(p, 0, size, o.id);
	if (m->count == m->cap) {
		m->cap *= 2;
		m->live = realloc(m->live, m->cap * sizeof(*m->live));
		cr_assert_not_null(m->live);
	}
	m->live[m->count++] = o;
}

static void forget(struct model *m, size_t i)
{
	set_owner(m, &m->live[i], 0);
	m->stale[m->stale_count++ % 32] = m->live[i].p;
	m->live[i] = m->live[--m->count];
}

/* Sizes weighted to small: most below 128 bytes, some up to a few pages, a few up to 64 KiB. */
static size_t random_size(struct rng *r)
{
	uint64_t pick = rng_below(r, 100);

	if (pick < 60)
		return rng_below(r, 129);
	if (pick < 85)
		return 129 + rng_below(r, 2048 - 128);
	if (pick < 97)
		return 2049 + rng_below(r, 16 * KIB - 2048);
	return 16 * KIB + 1 + rng_below(r, MAX_OBJECT - 16 * KIB);
}

/* Mostly 0 (the default), sometimes a power of two from 1 to a page. */
static size_t random_align(struct rng *r)
{
	return rng_one_in(r, 6) ? (size_t)1 << rng_below(r, 13) : 0;
}

static void op_alloc(struct model *m)
{
	size_t size = random_size(&m->rng), align = random_align(&m->rng);

	adopt(m, heap_alloc(heap_of(m), size, align), size, align);
}

static void op_calloc(struct model *m)
{
	size_t n = rng_below(&m->rng, 65), each = rng_below(&m->rng, 257);
	uint8_t *p = heap_calloc(heap_of(m), n, each);

	cr_assert_not_null(p, "%s: calloc(%zu, %zu) failed", harness_design(m->t), n, each);
	for (size_t i = 0; i < n * each; i++)
		cr_assert_eq(p[i], 0, "%s: calloc byte %zu of %zu is %#x", harness_design(m->t), i, n * each, p[i]);
	adopt(m, p, n * each, 0);
}

static void op_free(struct model *m)
{
	size_t i = rng_below(&m->rng, m->count);
	const struct object *o = &m->live[i];

	assert_pattern(o->p, o->size, o->id);
	cr_assert_eq(heap_free(heap_of(m), o->p), HEAP_OK, "%s: free of live object %u", harness_design(m->t), o->id);
	forget(m, i);
}

static void op_realloc(struct model *m)
{
	size_t i = rng_below(&m->rng, m->count);
	struct object o = m->live[i];
	size_t size = rng_one_in(&m->rng, 3) ? o.size + rng_below(&m->rng, 256) : random_size(&m->rng);

	assert_pattern(o.p, o.size, o.id);
	if (size == 0) {
		cr_assert_null(heap_realloc(heap_of(m), o.p, 0), "%s: realloc to 0 must free and return NULL",
		               harness_design(m->t));
		forget(m, i);
		return;
	}
	set_owner(m, &o, 0);
	uint8_t *q = heap_realloc(heap_of(m), o.p, size);
	cr_assert_not_null(q, "%s: realloc(%zu -> %zu) failed", harness_design(m->t), o.size, size);
	assert_pattern(q, o.size < size ? o.size : size, o.id);
	m->live[i] = m->live[--m->count];
	if (q != o.p)
		m->stale[m->stale_count++ % 32] = o.p;
	adopt(m, q, size, 0);   /* a new identity: refills it with a new pattern */
}

/* The expected outcome of freeing a pointer that is not a live object. */
static void expect_refused(struct model *m, void *p, bool double_is_possible)
{
	struct heap *h = heap_of(m);
	struct heap_stats before = harness_stats(m->t), after;
	enum heap_status status = heap_free(h, p);

	if (double_is_possible)
		cr_assert(status == HEAP_ERR_DOUBLE_FREE || status == HEAP_ERR_INVALID_FREE,
		          "%s: free of stale %p gave %s", harness_design(m->t), p, heap_status_message(status));
	else
		cr_assert_eq(status, HEAP_ERR_INVALID_FREE, "%s: free of %p gave %s", harness_design(m->t), p,
		             heap_status_message(status));
	assert_one_report(m->t, status, p);
	cr_assert_eq(heap_usable_size(h, p), 0, "%s: %p is not live but has a usable size", harness_design(m->t), p);
	after = harness_stats(m->t);
	cr_assert(after.objects_in_use == before.objects_in_use && after.bytes_requested == before.bytes_requested &&
	          after.bytes_mapped == before.bytes_mapped, "%s: a refused free changed the heap", harness_design(m->t));
	if (!h->cfg.debug)
		assert_heap_ok(m->t);
}

static bool is_live_pointer(const struct model *m, const uint8_t *p)
{
	for (size_t i = 0; i < m->count; i++)
		if (m->live[i].p == p)
			return true;
	return false;
}

/* A free that must be refused: inside a live object, a stale pointer, or something foreign. */
static void op_hostile(struct model *m)
{
	int local;
	uintptr_t base = m->t->heap.region.base;

	switch (rng_below(&m->rng, 4)) {
	case 0: {   /* inside a live object: the 16 bytes before it are the object's own */
		const struct object *o = &m->live[rng_below(&m->rng, m->count)];
		if (o->size < 32)
			return;
		size_t off = 16 * (1 + rng_below(&m->rng, o->size / 16 - 1));
		expect_refused(m, o->p + off, false);
		return;
	}
	case 1: {   /* misaligned */
		const struct object *o = &m->live[rng_below(&m->rng, m->count)];
		expect_refused(m, o->p + 1 + rng_below(&m->rng, 15), false);
		return;
	}
	case 2: {   /* freed lately: a double free, unless the memory went to another object */
		if (m->stale_count == 0)
			return;
		uint8_t *p = m->stale[rng_below(&m->rng, m->stale_count < 32 ? m->stale_count : 32)];
		if (!is_live_pointer(m, p))
			expect_refused(m, p, true);
		return;
	}
	default: {  /* foreign: the stack, the host heap, the unused end of the region, nowhere */
		void *foreign[] = { &local, m, (void *)(base + m->t->limit - 64), (void *)16,
		                    (void *)(uintptr_t)0xfffffffffffff000u };
		expect_refused(m, foreign[rng_below(&m->rng, 5)], false);
		return;
	}
	}
}

static void free_everything(struct model *m)
{
	while (m->count > 0) {
		const struct object *o = &m->live[m->count - 1];
		assert_pattern(o->p, o->size, o->id);
		cr_assert_eq(heap_free(heap_of(m), o->p), HEAP_OK);
		forget(m, m->count - 1);
	}
	struct heap_stats st = harness_stats(m->t);
	cr_assert_eq(st.objects_in_use, 0);
	cr_assert_eq(st.bytes_requested, 0);
	cr_assert_eq(st.bytes_in_use, 0);
	cr_assert_leq(st.bytes_mapped, EMPTY_MAPPED_MAX, "%s: %zu bytes mapped by an empty heap", harness_design(m->t),
	              st.bytes_mapped);
}

/* Outside debug mode the slab design does not keep the sizes asked for and reports
 * bytes_in_use as bytes_requested (docs/heap.md, "heap_check and heap_stats"); every other
 * design, and the slab in debug mode, knows them exactly. */
static bool knows_requested_sizes(const struct heap *h)
{
	return h->cfg.debug || h->cfg.design != HEAP_SLAB;
}

/* The statistics agree with the model and with the page seam. */
static void assert_stats(struct model *m)
{
	struct heap_stats st = harness_stats(m->t);
	size_t requested = 0, in_use = 0;

	for (size_t i = 0; i < m->count; i++) {
		requested += m->live[i].size ? m->live[i].size : 1;
		in_use += m->live[i].usable;
	}
	cr_assert_eq(st.design, m->t->heap.cfg.design);
	cr_assert_eq(st.requested_known, knows_requested_sizes(&m->t->heap));
	cr_assert_eq(st.objects_in_use, m->count, "%s: %zu objects, model %zu", harness_design(m->t), st.objects_in_use,
	             m->count);
	if (knows_requested_sizes(&m->t->heap))
		cr_assert_eq(st.bytes_requested, requested, "%s: bytes_requested %zu, model %zu", harness_design(m->t),
		             st.bytes_requested, requested);
	else
		cr_assert(st.bytes_requested >= requested && st.bytes_requested <= st.bytes_in_use,
		          "%s: bytes_requested %zu, model %zu", harness_design(m->t), st.bytes_requested, requested);
	cr_assert_eq(st.bytes_in_use, in_use, "%s: bytes_in_use %zu, model %zu", harness_design(m->t), st.bytes_in_use,
	             in_use);
	cr_assert_eq(st.bytes_mapped, m->t->pages.mapped, "%s: mapped %zu, the pages say %zu", harness_design(m->t),
	             st.bytes_mapped, m->t->pages.mapped);
	cr_assert_leq(st.bytes_mapped, st.peak_mapped);
}

/* One random operation; the live set hovers around `target` objects. */
static enum op random_op(struct model *m, size_t target)
{
	uint64_t pick = rng_below(&m->rng, 100);

	if (m->count == 0 || (pick < 45 && m->count < 2 * target))
		return pick < 40 ? OP_ALLOC : OP_CALLOC;
	if (pick < 45 || m->count > 2 * target || pick < 80)
		return OP_FREE;
	if (pick < 95)
		return OP_REALLOC;
	return OP_HOSTILE;
}

/*
 * `ops` random operations, with heap_check every `check_every`, and everything freed every
 * `phase` operations (the bump heap reuses nothing until then).
 */
static void run_model(enum heap_design design, bool debug, uint64_t seed, size_t ops, size_t check_every,
                      size_t phase)
{
	struct model *m = model_new(design, LIMIT, debug, seed);
	size_t target = design == HEAP_BUMP ? 40 : 300;

	for (size_t n = 1; n <= ops; n++) {
		enum op op = random_op(m, target);
		switch (op) {
		case OP_ALLOC: op_alloc(m); break;
		case OP_CALLOC: op_calloc(m); break;
		case OP_REALLOC: op_realloc(m); break;
		case OP_FREE: op_free(m); break;
		default: op_hostile(m); break;
		}
		m->ops[op]++;
		assert_no_report(m->t);
		if (n % phase == 0) {
			free_everything(m);
			m->ops[OP_FREE_ALL]++;
		}
		if (n % check_every == 0) {
			assert_heap_ok(m->t);
			assert_stats(m);
		}
	}
	for (enum op op = 0; op < OP_FREE_ALL; op++)
		cr_assert_gt(m->ops[op], ops / 100, "seed %#lx: operation %d ran only %zu times", (unsigned long)seed, op,
		             m->ops[op]);
	free_everything(m);
	assert_heap_ok(m->t);
	model_delete(m);
}

/* The bump heap frees memory only when it is empty: it gets short phases. */
static size_t phase_for(enum heap_design design) { return design == HEAP_BUMP ? 400 : 25000; }

static void random_operations_long_on(enum heap_design d)
{
	run_model(d, false, 0x1eaf + d, 100000, 500, phase_for(d));
}
FOR_EACH_DESIGN(random_operations_long)

static void random_operations_checked_every_op_on(enum heap_design d)
{
	run_model(d, false, 0xc0ffee + d, 4000, 1, phase_for(d));
}
FOR_EACH_DESIGN(random_operations_checked_every_op)

static void random_operations_debug_mode_on(enum heap_design d)
{
	run_model(d, true, 0xdeb0 + d, 20000, 250, phase_for(d));
}
FOR_EACH_DESIGN(random_operations_debug_mode)

/* ---- the tutorial's tests ------------------------------------------------------------------- */

static void simple_allocation_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, false);
	uint64_t *a = heap_alloc(&t->heap, sizeof(*a), 0);
	uint32_t *b = heap_alloc(&t->heap, sizeof(*b), 0);

	cr_assert(a && b && (void *)a != (void *)b);
	*a = 41;
	*b = 13;
	cr_assert_eq(*a, 41);
	cr_assert_eq(*b, 13);
	assert_heap_ok(t);
	cr_assert_eq(heap_free(&t->heap, a), HEAP_OK);
	cr_assert_eq(heap_free(&t->heap, b), HEAP_OK);
	assert_no_report(t);
	assert_heap_ok(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(simple_allocation)

/* A vector grown one element at a time with realloc, as Vec::push does without its doubling. */
static void growing_vector_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, false);
	uint64_t *v = NULL;
	const uint64_t n = 20000;

	for (uint64_t i = 0; i < n; i++) {
		v = heap_realloc(&t->heap, v, (i + 1) * sizeof(*v));
		cr_assert_not_null(v, "%s: push %lu failed", harness_design(t), (unsigned long)i);
		v[i] = i;
		if (i % 4096 == 0)
			assert_heap_ok(t);
	}
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++)
		sum += v[i];
	cr_assert_eq(sum, (n - 1) * n / 2);
	cr_assert_eq(heap_free(&t->heap, v), HEAP_OK);
	assert_heap_ok(t);
	assert_no_report(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(growing_vector)

#define BOXES_LIMIT (256 * KIB)
#define BOXES       (100 * 1000)   /* 100 000 boxes of 8 bytes: far more than the 256 KiB heap */

static void many_boxes_on(enum heap_design d)
{
	struct harness *t = harness_new(d, BOXES_LIMIT, false);

	for (uint64_t i = 0; i < BOXES; i++) {
		uint64_t *x = heap_alloc(&t->heap, sizeof(*x), 0);
		cr_assert_not_null(x, "%s: box %lu failed", harness_design(t), (unsigned long)i);
		*x = i;
		cr_assert_eq(*x, i);
		cr_assert_eq(heap_free(&t->heap, x), HEAP_OK);
	}
	assert_heap_ok(t);
	cr_assert_leq(harness_stats(t).bytes_mapped, EMPTY_MAPPED_MAX);
	harness_delete(t);
}
FOR_EACH_DESIGN(many_boxes)

/*
 * The same with one object that lives through it all.  The bump design cannot pass: it reuses
 * memory only when every object is freed, and the long-lived one never is, so the short-lived
 * boxes use up the region.  For bump this test asserts that failure.
 */
static void many_boxes_long_lived_on(enum heap_design d)
{
	struct harness *t = harness_new(d, BOXES_LIMIT, false);
	uint64_t *long_lived = heap_alloc(&t->heap, sizeof(*long_lived), 0);
	uint64_t i;

	cr_assert_not_null(long_lived);
	*long_lived = 1;
	for (i = 0; i < BOXES; i++) {
		uint64_t *x = heap_alloc(&t->heap, sizeof(*x), 0);
		if (x == NULL)
			break;
		*x = i;
		cr_assert_eq(heap_free(&t->heap, x), HEAP_OK);
	}
	if (d == HEAP_BUMP)
		cr_assert_lt(i, BOXES, "bump reused memory while an object was live");
	else
		cr_assert_eq(i, BOXES, "%s: box %lu failed", harness_design(t), (unsigned long)i);
	cr_assert_eq(*long_lived, 1);
	assert_no_report(t);
	assert_heap_ok(t);
	cr_assert_eq(heap_free(&t->heap, long_lived), HEAP_OK);
	assert_heap_ok(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(many_boxes_long_lived)

/* ---- edges ---------------------------------------------------------------------------------- */

static void size_zero_gives_unique_pointers_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, false);
	void *p[8];

	for (size_t i = 0; i < 8; i++) {
		p[i] = heap_alloc(&t->heap, 0, 0);
		cr_assert_not_null(p[i]);
		cr_assert(is_aligned((uintptr_t)p[i], HEAP_MIN_ALIGN));
		for (size_t j = 0; j < i; j++)
			cr_assert_neq(p[i], p[j], "%s: alloc(0) gave %p twice", harness_design(t), p[i]);
	}
	void *aligned = heap_alloc(&t->heap, 0, 4096);
	cr_assert(aligned && is_aligned((uintptr_t)aligned, 4096));
	cr_assert_eq(harness_stats(t).objects_in_use, 9);
	for (size_t i = 0; i < 8; i++)
		cr_assert_eq(heap_free(&t->heap, p[i]), HEAP_OK);
	cr_assert_eq(heap_free(&t->heap, aligned), HEAP_OK);
	assert_no_report(t);
	assert_heap_ok(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(size_zero_gives_unique_pointers)

static void null_is_nothing_to_free_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, false);

	cr_assert_eq(heap_free(&t->heap, NULL), HEAP_OK);
	cr_assert_eq(heap_usable_size(&t->heap, NULL), 0);
	uint8_t *p = heap_realloc(&t->heap, NULL, 100);   /* realloc(NULL, n) is alloc(n) */
	cr_assert_not_null(p);
	cr_assert_geq(heap_usable_size(&t->heap, p), 100);
	cr_assert_eq(heap_free(&t->heap, p), HEAP_OK);
	assert_no_report(t);
	assert_heap_ok(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(null_is_nothing_to_free)

static void calloc_refuses_overflow_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, false);

	cr_assert_null(heap_calloc(&t->heap, SIZE_MAX / 2 + 1, 2));
	cr_assert_null(heap_calloc(&t->heap, SIZE_MAX, SIZE_MAX));
	cr_assert_null(heap_calloc(&t->heap, (SIZE_MAX >> 32) + 2, (size_t)1 << 32));
	cr_assert_null(heap_calloc(&t->heap, LIMIT, 2));   /* no overflow, but more than the region */
	void *a = heap_calloc(&t->heap, 0, 10), *b = heap_calloc(&t->heap, 10, 0);
	cr_assert(a && b && a != b);
	uint8_t *z = heap_calloc(&t->heap, 100, 3);
	cr_assert_not_null(z);
	for (size_t i = 0; i < 300; i++)
		cr_assert_eq(z[i], 0);
	cr_assert_eq(harness_stats(t).objects_in_use, 3);
	cr_assert_eq(heap_free(&t->heap, a), HEAP_OK);
	cr_assert_eq(heap_free(&t->heap, b), HEAP_OK);
	cr_assert_eq(heap_free(&t->heap, z), HEAP_OK);
	assert_no_report(t);
	assert_heap_ok(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(calloc_refuses_overflow)

static void realloc_edges_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, false);
	struct heap *h = &t->heap;
	void *anchor = heap_alloc(h, 64, 0);   /* keeps the bump heap from starting over */
	uint8_t *p = heap_alloc(h, 300, 0);

	cr_assert(anchor && p);
	fill_pattern(p, 0, 300, 7);
	/* Same size, smaller, bigger: the contents up to the smaller size survive. */
	p = heap_realloc(h, p, 300);
	assert_pattern(p, 300, 7);
	p = heap_realloc(h, p, 100);
	cr_assert_not_null(p);
	assert_pattern(p, 100, 7);
	p = heap_realloc(h, p, 5000);
	cr_assert_not_null(p);
	assert_pattern(p, 100, 7);
	fill_pattern(p, 100, 5000, 7);
	/* Too big: NULL, and the object is untouched and still live. */
	cr_assert_null(heap_realloc(h, p, SIZE_MAX));
	cr_assert_null(heap_realloc(h, p, LIMIT + 1));
	cr_assert_null(heap_realloc(h, p, LIMIT));
	cr_assert_geq(heap_usable_size(h, p), 5000);
	assert_pattern(p, 5000, 7);
	assert_no_report(t);
	/* Not a live object: NULL, reported once, nothing changed. */
	cr_assert_null(heap_realloc(h, p + 16, 10));
	assert_one_report(t, HEAP_ERR_INVALID_FREE, p + 16);
	assert_pattern(p, 5000, 7);
	/* Size 0 frees: a second free is refused. */
	cr_assert_null(heap_realloc(h, p, 0));
	assert_no_report(t);
	enum heap_status status = heap_free(h, p);
	cr_assert(status == HEAP_ERR_DOUBLE_FREE || status == HEAP_ERR_INVALID_FREE, "%s", heap_status_message(status));
	assert_one_report(t, status, p);
	/* realloc(NULL, 0) is alloc(0): a unique pointer. */
	void *z = heap_realloc(h, NULL, 0);
	cr_assert_not_null(z);
	cr_assert_eq(heap_free(h, z), HEAP_OK);
	cr_assert_eq(heap_free(h, anchor), HEAP_OK);
	assert_no_report(t);
	assert_heap_ok(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(realloc_edges)

static void bad_alignment_and_size_are_refused_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, false);
	const size_t bad_align[] = { 3, 24, 48, 4095, 8192, (size_t)1 << 40, SIZE_MAX };
	const size_t too_big[] = { SIZE_MAX, SIZE_MAX / 2, SIZE_MAX / 4 + 1, LIMIT + 1 };

	for (size_t i = 0; i < sizeof(bad_align) / sizeof(bad_align[0]); i++)
		cr_assert_null(heap_alloc(&t->heap, 16, bad_align[i]), "%s: align %zu", harness_design(t), bad_align[i]);
	for (size_t i = 0; i < sizeof(too_big) / sizeof(too_big[0]); i++)
		cr_assert_null(heap_alloc(&t->heap, too_big[i], 0), "%s: size %zu", harness_design(t), too_big[i]);
	/* Alignments below the minimum are the minimum. */
	for (size_t align = 1; align <= HEAP_MAX_ALIGN; align *= 2) {
		void *p = heap_alloc(&t->heap, 40, align);
		cr_assert_not_null(p);
		cr_assert(is_aligned((uintptr_t)p, align > HEAP_MIN_ALIGN ? align : HEAP_MIN_ALIGN));
		cr_assert_eq(heap_free(&t->heap, p), HEAP_OK);
	}
	cr_assert_eq(harness_stats(t).objects_in_use, 0);
	assert_no_report(t);
	assert_heap_ok(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(bad_alignment_and_size_are_refused)

/* Fills the heap until even a 16-byte object fails; returns how many objects it holds. */
static size_t exhaust(struct harness *t, uint8_t **objects, size_t *sizes, size_t max, uint64_t seed)
{
	struct rng r = rng_seed(seed);
	size_t n = 0, size = 64 * KIB;

	while (n < max) {
		size_t want = size == 16 ? 16 : 1 + rng_below(&r, size);
		uint8_t *p = heap_alloc(&t->heap, want, 0);
		if (p == NULL) {
			if (size == 16)
				break;
			size /= 2;
			continue;
		}
		fill_pattern(p, 0, want, (uint32_t)n);
		objects[n] = p;
		sizes[n++] = want;
	}
	cr_assert_lt(n, max, "%s: the heap never ran out", harness_design(t));
	return n;
}

/* Runs out (of pages or of region), stays sound, gives everything back, and works again. */
static void run_out(struct harness *t)
{
	const size_t max = 200 * 1000;
	uint8_t **objects = malloc(max * sizeof(*objects));
	size_t *sizes = malloc(max * sizeof(*sizes));
	size_t mapped_at_start = harness_stats(t).bytes_mapped;

	cr_assert(objects && sizes);
	size_t n = exhaust(t, objects, sizes, max, 99);
	assert_no_report(t);   /* running out is not a problem to report */
	assert_heap_ok(t);
	cr_assert_null(heap_alloc(&t->heap, 16, 0));
	for (size_t i = 0; i < n; i++) {
		assert_pattern(objects[i], sizes[i], (uint32_t)i);
		cr_assert_eq(heap_free(&t->heap, objects[i]), HEAP_OK);
	}
	assert_heap_ok(t);
	cr_assert_leq(harness_stats(t).bytes_mapped, mapped_at_start + EMPTY_MAPPED_MAX,
	              "%s: %zu bytes still mapped", harness_design(t), harness_stats(t).bytes_mapped);
	n = exhaust(t, objects, sizes, max, 100);
	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(heap_free(&t->heap, objects[i]), HEAP_OK);
	assert_no_report(t);
	assert_heap_ok(t);
	free(objects);
	free(sizes);
}

static void out_of_pages_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, false);

	t->pages.budget = 2 * MIB;
	run_out(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(out_of_pages)

static void out_of_region_on(enum heap_design d)
{
	struct harness *t = harness_new(d, 1 * MIB, false);

	run_out(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(out_of_region)

/* A region of one page: what fits is handed out, nothing more, and nothing past the page is
 * touched (the guard page would fault). */
static void region_of_one_page_on(enum heap_design d)
{
	struct harness *t = harness_new(d, PAGE_SIZE, false);
	void *p[PAGE_SIZE / 16];
	size_t n = 0;

	cr_assert_null(heap_alloc(&t->heap, PAGE_SIZE, 0));
	cr_assert_null(heap_alloc(&t->heap, PAGE_SIZE - 8, 0));
	while (n < PAGE_SIZE / 16 && (p[n] = heap_alloc(&t->heap, 16, 0)) != NULL)
		memset(p[n++], 0xee, 16);
	cr_assert_lt(n, PAGE_SIZE / 16);
	assert_heap_ok(t);
	while (n > 0)
		cr_assert_eq(heap_free(&t->heap, p[--n]), HEAP_OK);
	assert_no_report(t);
	assert_heap_ok(t);
	cr_assert_leq(harness_stats(t).bytes_mapped, PAGE_SIZE);
	harness_delete(t);
}
FOR_EACH_DESIGN(region_of_one_page)

/* ---- refused frees -------------------------------------------------------------------------- */

struct three {
	struct harness *t;
	uint8_t *a, *b, *c;
};

/* Three live objects of 100 bytes, filled; b is freed when `free_b`. */
static struct three three_objects(enum heap_design d, bool debug)
{
	struct three s = { harness_new(d, LIMIT, debug), NULL, NULL, NULL };

	s.a = heap_alloc(&s.t->heap, 100, 0);
	s.b = heap_alloc(&s.t->heap, 100, 0);
	s.c = heap_alloc(&s.t->heap, 100, 0);
	cr_assert(s.a && s.b && s.c);
	fill_pattern(s.a, 0, 100, 1);
	fill_pattern(s.b, 0, 100, 2);
	fill_pattern(s.c, 0, 100, 3);
	return s;
}

/* a and c are intact and live, the heap is sound. */
static void assert_untouched(struct three *s)
{
	assert_pattern(s->a, 100, 1);
	assert_pattern(s->c, 100, 3);
	cr_assert_geq(heap_usable_size(&s->t->heap, s->a), 100);
	cr_assert_geq(heap_usable_size(&s->t->heap, s->c), 100);
	assert_heap_ok(s->t);
}

static void refuse(struct three *s, void *p, enum heap_status want)
{
	struct heap_stats before = harness_stats(s->t), after;
	enum heap_status status = heap_free(&s->t->heap, p);

	cr_assert_eq(status, want, "%s: free(%p) gave %s, want %s", harness_design(s->t), p,
	             heap_status_message(status), heap_status_message(want));
	assert_one_report(s->t, want, p);
	after = harness_stats(s->t);
	cr_assert_eq(after.objects_in_use, before.objects_in_use);
	cr_assert_eq(after.bytes_requested, before.bytes_requested);
	cr_assert_eq(after.bytes_mapped, before.bytes_mapped);
	assert_untouched(s);
}

static void exact_errors(enum heap_design d, bool debug)
{
	struct three s = three_objects(d, debug);
	uintptr_t base = s.t->heap.region.base;
	uint64_t on_stack = 0;
	void *elsewhere = malloc(64);

	cr_assert_eq(heap_free(&s.t->heap, s.b), HEAP_OK);
	refuse(&s, s.b, HEAP_ERR_DOUBLE_FREE);
	refuse(&s, s.b, HEAP_ERR_DOUBLE_FREE);
	refuse(&s, s.a + 16, HEAP_ERR_INVALID_FREE);     /* interior */
	refuse(&s, s.a + 64, HEAP_ERR_INVALID_FREE);
	refuse(&s, s.a + 1, HEAP_ERR_INVALID_FREE);      /* misaligned */
	refuse(&s, s.c + 8, HEAP_ERR_INVALID_FREE);
	refuse(&s, &on_stack, HEAP_ERR_INVALID_FREE);     /* foreign */
	refuse(&s, elsewhere, HEAP_ERR_INVALID_FREE);
	refuse(&s, (void *)(base - 16), HEAP_ERR_INVALID_FREE);
	refuse(&s, (void *)(base + s.t->limit), HEAP_ERR_INVALID_FREE);
	refuse(&s, (void *)(base + s.t->limit / 2), HEAP_ERR_INVALID_FREE);   /* never allocated */
	refuse(&s, (void *)(base + s.t->limit - 16), HEAP_ERR_INVALID_FREE);
	refuse(&s, (void *)(uintptr_t)16, HEAP_ERR_INVALID_FREE);
	cr_assert_null(heap_realloc(&s.t->heap, s.a + 32, 10));   /* realloc refuses the same way */
	assert_one_report(s.t, HEAP_ERR_INVALID_FREE, s.a + 32);
	assert_untouched(&s);
	cr_assert_eq(heap_free(&s.t->heap, s.a), HEAP_OK);
	cr_assert_eq(heap_free(&s.t->heap, s.c), HEAP_OK);
	assert_no_report(s.t);
	assert_heap_ok(s.t);
	free(elsewhere);
	harness_delete(s.t);
}

static void refused_frees_are_exact_on(enum heap_design d) { exact_errors(d, false); }
FOR_EACH_DESIGN(refused_frees_are_exact)

static void refused_frees_are_exact_in_debug_mode_on(enum heap_design d) { exact_errors(d, true); }
FOR_EACH_DESIGN(refused_frees_are_exact_in_debug_mode)

/* ---- debug mode ----------------------------------------------------------------------------- */

static void debug_usable_size_is_the_requested_size_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, true);
	const size_t sizes[] = { 1, 15, 16, 17, 100, 2048, 3000, 70000 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = heap_alloc(&t->heap, sizes[i], 0);
		cr_assert_not_null(p);
		cr_assert_eq(heap_usable_size(&t->heap, p), sizes[i], "%s: size %zu", harness_design(t), sizes[i]);
		p = heap_realloc(&t->heap, p, sizes[i] + 5);
		cr_assert_eq(heap_usable_size(&t->heap, p), sizes[i] + 5);
		cr_assert_eq(heap_free(&t->heap, p), HEAP_OK);
	}
	assert_no_report(t);
	assert_heap_ok(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(debug_usable_size_is_the_requested_size)

/* An overflow into the redzone is seen by heap_check, and by free, which reports it, frees the
 * object all the same (mm/heap.h) and leaves a sound heap. */
static void debug_catches_a_one_byte_overflow_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, true);
	const size_t sizes[] = { 1, 24, 100, 2048, 3000, 70000 };
	void *anchor = heap_alloc(&t->heap, 10, 0);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = heap_alloc(&t->heap, sizes[i], 0);
		cr_assert_not_null(p);
		memset(p, 0x11, sizes[i]);
		p[sizes[i]] ^= 0xff;   /* one byte past the end */
		cr_assert_eq(heap_check(&t->heap), HEAP_ERR_REDZONE, "%s: size %zu", harness_design(t), sizes[i]);
		assert_one_report(t, HEAP_ERR_REDZONE, p);
		size_t objects = harness_stats(t).objects_in_use;
		cr_assert_eq(heap_free(&t->heap, p), HEAP_ERR_REDZONE, "%s: size %zu", harness_design(t), sizes[i]);
		assert_one_report(t, HEAP_ERR_REDZONE, p);
		cr_assert_eq(heap_usable_size(&t->heap, p), 0, "%s: the object was not freed", harness_design(t));
		cr_assert_eq(harness_stats(t).objects_in_use, objects - 1);
		assert_heap_ok(t);
	}
	cr_assert_eq(heap_free(&t->heap, anchor), HEAP_OK);
	assert_no_report(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(debug_catches_a_one_byte_overflow)

/*
 * A write to a freed object is seen by heap_check and, in every design that reuses memory, when
 * the object is handed out again: reported, naming the object, and the allocation goes ahead.
 * The object has a live neighbour of its size, so that no design gives its page back (a write
 * to a page the heap gave back faults, as it should).
 */
static void debug_catches_a_write_after_free_on(enum heap_design d)
{
	struct harness *t = harness_new(d, LIMIT, true);
	const size_t sizes[] = { 48, 64, 100, 200 };
	void *anchor = heap_alloc(&t->heap, 10, 0);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = heap_alloc(&t->heap, sizes[i], 0);
		void *neighbour = heap_alloc(&t->heap, sizes[i], 0);
		cr_assert(p && neighbour);
		cr_assert_eq(heap_free(&t->heap, p), HEAP_OK);
		uint8_t saved = p[40];
		p[40] ^= 0x5a;   /* the bug: a write through a dangling pointer, past any free-list link */
		cr_assert_eq(heap_check(&t->heap), HEAP_ERR_USE_AFTER_FREE, "%s: size %zu", harness_design(t), sizes[i]);
		assert_one_report_in(t, HEAP_ERR_USE_AFTER_FREE, (uintptr_t)p, (uintptr_t)p + sizes[i]);
		if (d != HEAP_BUMP) {   /* bump reuses nothing: it has no reuse to check */
			uint8_t *again = heap_alloc(&t->heap, sizes[i], 0);
			cr_assert_eq(again, p, "%s: the freed object should come back first", harness_design(t));
			assert_one_report(t, HEAP_ERR_USE_AFTER_FREE, p);
			cr_assert_eq(heap_free(&t->heap, again), HEAP_OK);
		} else {
			p[40] = saved;
		}
		assert_heap_ok(t);
		cr_assert_eq(heap_free(&t->heap, neighbour), HEAP_OK);
		assert_heap_ok(t);
	}
	cr_assert_eq(heap_free(&t->heap, anchor), HEAP_OK);
	assert_no_report(t);
	assert_heap_ok(t);
	harness_delete(t);
}
FOR_EACH_DESIGN(debug_catches_a_write_after_free)
