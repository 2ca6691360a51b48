/*
 * A heap over host pages for the heap tests: a reserved range with a guard page past the region's
 * limit (an access past the limit, or to a page the heap does not hold, faults), a log of the
 * reports the heap makes, and assertions shared by the suite and the design-specific tests.
 */
#ifndef FERRITE_TESTS_HEAP_HARNESS_H
#define FERRITE_TESTS_HEAP_HARNESS_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "host/support/host_pages.h"
#include "mm/heap.h"
#include "mm/heap_guard.h"
#include "mm/page.h"

#define HARNESS_SECRET UINT64_C(0x2545f4914f6cdd1d)

struct report_log {
	size_t count;
	struct heap_error first;
};

struct harness {
	struct host_pages pages;
	struct heap heap;
	struct report_log log;
	size_t limit;
};

static inline void harness_log_report(void *ctx, const struct heap_error *e)
{
	struct report_log *log = ctx;

	if (log->count++ == 0)
		log->first = *e;
}

/* A heap of `design` over a fresh region of `limit` bytes; debug mode as asked. */
static inline struct harness *harness_new(enum heap_design design, size_t limit, bool debug)
{
	struct harness *t = calloc(1, sizeof(*t));

	cr_assert_not_null(t);
	cr_assert(host_pages_reserve(&t->pages, limit + PAGE_SIZE), "cannot reserve %zu bytes", limit);
	t->limit = limit;
	struct heap_config cfg = {
		.design = design,
		.region = { .base = t->pages.base, .limit = limit, .pages = host_pages_seam(&t->pages) },
		.debug = debug,
		.secret = HARNESS_SECRET,
		.report = harness_log_report,
		.report_ctx = &t->log,
	};
	enum heap_status status = heap_init(&t->heap, &cfg);
	cr_assert_eq(status, HEAP_OK, "%s heap_init: %s", heap_design_name(design), heap_status_message(status));
	return t;
}

/* Destroys the heap, which must give every page back, and the region. */
static inline void harness_delete(struct harness *t)
{
	heap_destroy(&t->heap);
	cr_expect_eq(t->pages.mapped, 0, "%zu bytes still mapped after heap_destroy", t->pages.mapped);
	host_pages_release(&t->pages);
	free(t);
}

/* An object that must be allocated, and a free that must succeed. */
static inline void *alloc_ok(struct harness *t, size_t size, size_t align)
{
	void *p = heap_alloc(&t->heap, size, align);

	cr_assert_not_null(p, "alloc(%zu, %zu) failed", size, align);
	return p;
}

static inline void free_ok(struct harness *t, void *p)
{
	cr_assert_eq(heap_free(&t->heap, p), HEAP_OK);
}

static inline const char *harness_design(const struct harness *t)
{
	return heap_design_name(t->heap.cfg.design);
}

/* heap_check passes, and reports nothing. */
static inline void assert_heap_ok(struct harness *t)
{
	size_t before = t->log.count;
	enum heap_status status = heap_check(&t->heap);

	cr_assert_eq(status, HEAP_OK, "%s heap_check: %s (report: %s at %#lx)", harness_design(t),
	             heap_status_message(status), t->log.count > before ? t->log.first.what : "none",
	             (unsigned long)t->log.first.addr);
	cr_assert_eq(t->log.count, before, "%s heap_check reported %zu problems", harness_design(t),
	             t->log.count - before);
}

/* Exactly one report since the log was last cleared, of `status`, at an address in
 * [lo, hi]; then clears the log. */
static inline void assert_one_report_in(struct harness *t, enum heap_status status, uintptr_t lo, uintptr_t hi)
{
	const struct heap_error *e = &t->log.first;

	cr_assert_eq(t->log.count, 1, "%s: %zu reports, want one %s", harness_design(t), t->log.count,
	             heap_status_message(status));
	cr_assert_eq(e->status, status, "%s: reported %s, want %s", harness_design(t), heap_status_message(e->status),
	             heap_status_message(status));
	cr_assert(e->addr >= lo && e->addr <= hi, "%s: report names %#lx, want [%#lx, %#lx]", harness_design(t),
	          (unsigned long)e->addr, (unsigned long)lo, (unsigned long)hi);
	cr_assert(e->what != NULL && e->what[0] != '\0', "%s: report says nothing", harness_design(t));
	t->log.count = 0;
}

static inline void assert_one_report(struct harness *t, enum heap_status status, const void *addr)
{
	assert_one_report_in(t, status, (uintptr_t)addr, (uintptr_t)addr);
}

static inline void assert_no_report(const struct harness *t)
{
	cr_assert_eq(t->log.count, 0, "%s: unexpected report: %s at %#lx", harness_design(t), t->log.first.what,
	             (unsigned long)t->log.first.addr);
}

static inline struct heap_stats harness_stats(struct harness *t)
{
	struct heap_stats st;

	heap_stats(&t->heap, &st);
	return st;
}

/* The byte at offset i of the object with identity `id`: objects are filled with it, and checked
 * against it before they are freed or moved. */
static inline uint8_t pattern_byte(uint32_t id, size_t i)
{
	return (uint8_t)(id * 167u + i * 13u + (i >> 8));
}

static inline void fill_pattern(void *p, size_t from, size_t to, uint32_t id)
{
	uint8_t *b = p;

	for (size_t i = from; i < to; i++)
		b[i] = pattern_byte(id, i);
}

static inline void assert_pattern(const void *p, size_t n, uint32_t id)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != pattern_byte(id, i))
			cr_assert_fail("object %u at %p: byte %zu of %zu is %#x, want %#x", id, p, i, n, b[i],
			               pattern_byte(id, i));
}

#endif
