/*
 * fuzz_heap: the heap (any of its designs), driven by the input as a program, against a model of
 * the live objects and their contents.
 *
 * The first bytes choose the design, debug mode, zero filling, the free-list secret, and how much
 * memory there is: a 64 MiB region with no page budget, or a smaller region or page budget that
 * runs out.  The region is host/support/host_pages, so a heap that touches a page it does not hold
 * faults at once.  The rest is a sequence of alloc (sizes and alignments, valid and not), calloc
 * (with products that overflow), realloc (grow, shrink, to and from NULL and 0), free, hostile
 * frees and reallocs (double, interior, foreign, unmapped), usable_size and stats queries.
 *
 * The model knows every live object's size and the pattern written into it.  heap_check() must
 * say HEAP_OK after every call (every DEBUG_CHECK_EVERY calls in debug mode, where it reads every
 * free byte).  A refused pointer is reported exactly once, with its address, and a good call
 * reports nothing; objects are aligned, inside the region, do not overlap, keep their contents,
 * come zeroed from calloc (and from every call under zero_fill); stats agree.  While the
 * memory asked for since the heap was last empty stays under GUARANTEED_BYTES, with no limit on
 * pages, valid requests must succeed.  At the end everything is freed and heap_destroy must give
 * every page back.
 *
 * While the designs are placeholders whose heap_init fails, the target returns at once.
 */
#include <string.h>

#include "host/support/host_pages.h"
#include "mm/heap.h"
#include "mm/page.h"
#include "tests/fuzz/fuzz.h"

#define REGION_BYTES     (64 * MIB)
#define GUARANTEED_BYTES (8 * MIB)   /* demand since empty under which valid requests must succeed */
#define OBJECT_OVERHEAD  64          /* what the guarantee allows each object for headers */
#define MAX_LIVE         1024
#define FILL_WHOLE       (64 * KIB)  /* objects up to this are written whole; bigger ones at both ends */
#define FILL_EDGE        (4 * KIB)
#define RECENT           8
#define DEBUG_CHECK_EVERY 16         /* a debug-mode heap_check scans every free byte for poison, */
#define DEBUG_SIZE_MAX    (4 * KIB)   /* so debug runs keep their heaps small */

struct object {
	uint8_t *p;
	size_t size;     /* asked for */
	uint8_t seed;    /* of its contents */
};

struct reports {
	size_t count;
	struct heap_error last;
};

struct model {
	struct host_pages pages;
	struct heap heap;
	struct heap_config cfg;
	bool limited;             /* the region or the page budget may run out */
	struct object live[MAX_LIVE];
	size_t live_count;
	size_t demand;            /* bytes asked for since the heap was last empty, with overheads */
	uint8_t *recent[RECENT];  /* freed a moment ago */
	size_t recent_count;
	uint8_t next_seed;
	uint8_t *foreign;         /* a host malloc block: memory that is not the heap's */
	struct reports reports;
};

static struct model m;
static uint8_t foreign_static[64];

static void record_report(void *ctx, const struct heap_error *e)
{
	struct reports *r = ctx;

	r->count++;
	r->last = *e;
}

/* ---------------------------------------------------------------------------------------------
 * Contents.
 */

static uint8_t pattern(uint8_t seed, size_t i) { return (uint8_t)(seed ^ (i * 131) ^ (i >> 8)); }

/* The offsets of an object of `size` bytes that hold its pattern: all, or both ends. */
static bool is_filled(size_t size, size_t i)
{
	return size <= FILL_WHOLE || i < FILL_EDGE || i >= size - FILL_EDGE;
}

static void fill(const struct object *o)
{
	for (size_t i = 0; i < o->size; i++) {
		if (!is_filled(o->size, i))
			i = o->size - FILL_EDGE;
		o->p[i] = pattern(o->seed, i);
	}
}

/* The pattern of `o` is intact in its first `upto` bytes (at `at`, where it may have moved). */
static bool intact(const struct object *o, const uint8_t *at, size_t upto)
{
	for (size_t i = 0; i < upto && i < o->size; i++) {
		if (!is_filled(o->size, i))
			i = o->size - FILL_EDGE;
		if (i < upto && at[i] != pattern(o->seed, i))
			return false;
	}
	return true;
}

static bool all_zero(const uint8_t *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * The model and the checks.
 */

static void check_heap(const char *after)
{
	enum heap_status s;

	m.reports.count = 0;
	s = heap_check(&m.heap);
	FUZZ_CHECK(s == HEAP_OK, "heap_check after %s: %s (reported: %s at %#lx)", after, heap_status_message(s),
	           m.reports.count ? m.reports.last.what : "nothing", (unsigned long)m.reports.last.addr);
	FUZZ_CHECK(m.reports.count == 0, "heap_check passed, yet reported \"%s\"", m.reports.last.what);
}

/* A good call reports nothing; a failed allocation at most that memory ran out. */
static void check_no_report(const char *call, bool failed)
{
	FUZZ_CHECK(m.reports.count == 0 || (failed && m.reports.last.status == HEAP_ERR_NO_MEMORY),
	           "%s reported \"%s\" (%s) at %#lx", call, m.reports.last.what,
	           heap_status_message(m.reports.last.status), (unsigned long)m.reports.last.addr);
}

static struct object *find_live(const void *p)
{
	for (size_t i = 0; i < m.live_count; i++)
		if (m.live[i].p == p)
			return &m.live[i];
	return NULL;
}

/* A new object must be aligned, inside the region, at least `size` usable bytes, and clear of
 * every live object. */
static void check_new(const uint8_t *p, size_t size, size_t align)
{
	size_t bytes = size ? size : 1;
	uintptr_t a = (uintptr_t)p;

	FUZZ_CHECK(is_aligned(a, align < HEAP_MIN_ALIGN ? HEAP_MIN_ALIGN : align), "%p not aligned to %zu", (const void *)p,
	           align);
	FUZZ_CHECK(a >= m.pages.base && a - m.pages.base + bytes <= m.cfg.region.limit, "%p (%zu bytes) outside the region",
	           (const void *)p, size);
	FUZZ_CHECK(heap_usable_size(&m.heap, p) >= bytes, "usable size %zu of a %zu-byte object",
	           heap_usable_size(&m.heap, p), size);
	for (size_t i = 0; i < m.live_count; i++) {
		const struct object *o = &m.live[i];
		size_t o_bytes = o->size ? o->size : 1;
		FUZZ_CHECK(p + bytes <= o->p || o->p + o_bytes <= p, "%p (%zu bytes) overlaps the live %p (%zu bytes)",
		           (const void *)p, size, (const void *)o->p, o->size);
	}
}

static void add_live(uint8_t *p, size_t size)
{
	struct object *o = &m.live[m.live_count++];

	*o = (struct object){ p, size, m.next_seed++ };
	fill(o);
}

static void remove_live(struct object *o)
{
	m.recent[m.recent_count++ % RECENT] = o->p;
	*o = m.live[--m.live_count];
	if (m.live_count == 0)
		m.demand = 0;
}

/* Valid requests that must not fail: plenty of memory, and not too much asked since empty. */
static bool guaranteed(size_t size, size_t align)
{
	return !m.limited && size <= REGION_BYTES / 16 && m.demand + size + align + OBJECT_OVERHEAD <= GUARANTEED_BYTES;
}

static bool align_valid(size_t align) { return (align & (align - 1)) == 0 && align <= HEAP_MAX_ALIGN; }

/* ---------------------------------------------------------------------------------------------
 * Operations.
 */

static void op_alloc(size_t size, size_t align)
{
	bool valid = align_valid(align) && size < m.cfg.region.limit;
	bool must = valid && guaranteed(size, align);
	uint8_t *p;

	if (m.live_count == MAX_LIVE)
		return;
	p = heap_alloc(&m.heap, size, align);
	check_no_report("alloc", p == NULL);
	if (!valid)
		FUZZ_CHECK(p == NULL, "alloc(%zu, %zu) should have failed", size, align);
	FUZZ_CHECK(p != NULL || !must, "alloc(%zu, %zu) failed with %zu bytes asked since empty", size, align, m.demand);
	if (p == NULL)
		return;
	check_new(p, size, align);
	if (m.cfg.zero_fill)
		FUZZ_CHECK(all_zero(p, 0, size), "alloc(%zu) not zero-filled", size);
	m.demand += size + align + OBJECT_OVERHEAD;
	add_live(p, size);
}

static void op_calloc(size_t n, size_t size)
{
	bool overflows = size != 0 && n > SIZE_MAX / size;
	bool valid = !overflows && n * size < m.cfg.region.limit;
	uint8_t *p;

	if (m.live_count == MAX_LIVE)
		return;
	p = heap_calloc(&m.heap, n, size);
	check_no_report("calloc", p == NULL);
	if (!valid)
		FUZZ_CHECK(p == NULL, "calloc(%zu, %zu) should have failed", n, size);
	FUZZ_CHECK(p != NULL || !valid || !guaranteed(n * size, HEAP_MIN_ALIGN), "calloc(%zu, %zu) failed", n, size);
	if (p == NULL)
		return;
	check_new(p, n * size, HEAP_MIN_ALIGN);
	FUZZ_CHECK(all_zero(p, 0, n * size), "calloc(%zu, %zu) not zeroed", n, size);
	m.demand += n * size + HEAP_MIN_ALIGN + OBJECT_OVERHEAD;
	add_live(p, n * size);
}

static void op_free(struct object *o)
{
	enum heap_status s;

	FUZZ_CHECK(intact(o, o->p, o->size), "live object %p (%zu bytes) was overwritten", (void *)o->p, o->size);
	s = heap_free(&m.heap, o->p);
	FUZZ_CHECK(s == HEAP_OK, "free of the live %p: %s", (void *)o->p, heap_status_message(s));
	check_no_report("free", false);
	remove_live(o);
}

/* realloc of a live object (or NULL, o == NULL) to `size`. */
static void op_realloc(struct object *o, size_t size)
{
	size_t old_usable = o ? heap_usable_size(&m.heap, o->p) : 0;
	bool valid = size < m.cfg.region.limit;
	struct object old = o ? *o : (struct object){ 0 };
	uint8_t *p;

	if (o == NULL && m.live_count == MAX_LIVE)
		return;
	p = heap_realloc(&m.heap, old.p, size);
	check_no_report("realloc", p == NULL);
	if (o != NULL && size == 0) {
		FUZZ_CHECK(p == NULL, "realloc(p, 0) returned %p", (void *)p);
		remove_live(o);
		return;
	}
	if (!valid)
		FUZZ_CHECK(p == NULL, "realloc to %zu should have failed", size);
	FUZZ_CHECK(p != NULL || !valid || !guaranteed(size, HEAP_MIN_ALIGN), "realloc to %zu failed", size);
	if (p == NULL) {
		FUZZ_CHECK(!o || intact(o, o->p, o->size), "a failed realloc changed the object");
		return;
	}
	if (o != NULL && p != old.p)
		remove_live(o);  /* moved: the old object is gone, the new one checked like any other */
	else if (o != NULL)
		*o = m.live[--m.live_count];  /* in place: out of the model while the new one is checked */
	check_new(p, size, HEAP_MIN_ALIGN);
	FUZZ_CHECK(intact(&old, p, size), "realloc lost the contents");
	if (m.cfg.zero_fill)
		FUZZ_CHECK(all_zero(p, old_usable < size ? old_usable : size, size), "realloc did not zero what it added");
	m.demand += size + HEAP_MIN_ALIGN + OBJECT_OVERHEAD;
	add_live(p, size);
}

/* A pointer that is not a live object: freeing or reallocating it must be refused, reported once
 * with its address, and change nothing. */
static void op_hostile(uint8_t *p, bool by_realloc)
{
	size_t objects = m.live_count;
	struct heap_stats before, after;
	enum heap_status s;

	if (p == NULL || find_live(p))
		return;
	heap_stats(&m.heap, &before);
	FUZZ_CHECK(heap_usable_size(&m.heap, p) == 0, "usable size of %p, which is not an object", (void *)p);
	if (by_realloc) {
		FUZZ_CHECK(heap_realloc(&m.heap, p, 32) == NULL, "realloc of %p, which is not an object", (void *)p);
		s = m.reports.count ? m.reports.last.status : HEAP_OK;
	} else {
		s = heap_free(&m.heap, p);
	}
	FUZZ_CHECK(s == HEAP_ERR_INVALID_FREE || s == HEAP_ERR_DOUBLE_FREE, "free of %p, which is not an object: %s",
	           (void *)p, heap_status_message(s));
	FUZZ_CHECK(m.reports.count == 1 && m.reports.last.status == s && m.reports.last.addr == (uintptr_t)p,
	           "%zu reports for a refused %p", m.reports.count, (void *)p);
	heap_stats(&m.heap, &after);
	FUZZ_CHECK(after.objects_in_use == before.objects_in_use && after.bytes_in_use == before.bytes_in_use &&
	                   m.live_count == objects,
	           "a refused free changed the heap");
}

/* ---------------------------------------------------------------------------------------------
 * Arguments from the input.
 */

/* Mostly small, sometimes large, now and then impossible. */
static size_t read_size(struct fuzz_input *in)
{
	uint8_t how = fuzz_u8(in);
	size_t size;

	if (how >= 252)
		return how & 1 ? SIZE_MAX - fuzz_u8(in) : SIZE_MAX / 4 + fuzz_u8(in);
	if (how < 128)
		size = how % 64;
	else if (how < 192)
		size = fuzz_u16(in) % 4096;
	else if (how < 240)
		size = (size_t)fuzz_u16(in) * 16 % (256 * KIB);
	else
		size = fuzz_u32(in) % (2 * MIB);
	return m.cfg.debug ? size % (DEBUG_SIZE_MAX + 1) : size;
}

static size_t read_align(struct fuzz_input *in)
{
	uint8_t how = fuzz_u8(in);

	if (how < 128)
		return 0;
	if (how < 240)
		return (size_t)1 << (how % 13);  /* 1 .. 4096 */
	return how & 1 ? (size_t)3 << (how % 8) : (size_t)8192 << (how % 4);
}

static struct object *pick_live(struct fuzz_input *in)
{
	return m.live_count ? &m.live[fuzz_u16(in) % m.live_count] : NULL;
}

/* Pointers a buggy caller might hand back. */
static uint8_t *read_hostile(struct fuzz_input *in)
{
	uint8_t how = fuzz_u8(in);
	struct object *o = pick_live(in);

	switch (how % 8) {
	case 0:  /* freed a moment ago */
		return m.recent_count ? m.recent[fuzz_u8(in) % (m.recent_count < RECENT ? m.recent_count : RECENT)] : NULL;
	case 1:  /* inside a live object */
		return o && o->size > 1 ? o->p + 1 + fuzz_u32(in) % (o->size - 1) : NULL;
	case 2:  /* just before one */
		return o ? o->p - 1 - fuzz_u8(in) % 16 : NULL;
	case 3:  /* somewhere in the region, mapped or not */
		return (uint8_t *)(m.pages.base + fuzz_u32(in) % m.cfg.region.limit);
	case 4:  /* the region's edges */
		return (uint8_t *)(how & 8 ? m.pages.base : m.pages.base + m.cfg.region.limit);
	case 5:  /* not the heap's at all: static data */
		return foreign_static + (how >> 4);
	case 6:  /* not the heap's at all: the host's heap */
		return m.foreign + (how >> 4);
	default:  /* an odd pointer */
		return (uint8_t *)(uintptr_t)(fuzz_u64(in) | 1);
	}
}

/* ---------------------------------------------------------------------------------------------
 * The run.
 */

static void check_stats(void)
{
	struct heap_stats st;
	size_t in_use = 0;

	for (size_t i = 0; i < m.live_count; i++) {
		size_t usable = heap_usable_size(&m.heap, m.live[i].p);
		FUZZ_CHECK(usable >= m.live[i].size, "usable size %zu of a %zu-byte object", usable, m.live[i].size);
		in_use += usable;
	}
	heap_stats(&m.heap, &st);
	FUZZ_CHECK(st.design == m.cfg.design && st.objects_in_use == m.live_count, "stats: %zu objects, the model has %zu",
	           st.objects_in_use, m.live_count);
	FUZZ_CHECK(st.bytes_in_use == in_use, "stats: %zu bytes in use, usable sizes add up to %zu", st.bytes_in_use, in_use);
	FUZZ_CHECK(st.bytes_mapped == m.pages.mapped && st.peak_mapped >= st.bytes_mapped,
	           "stats: %zu bytes mapped, the page seam says %zu", st.bytes_mapped, m.pages.mapped);
}

static void check_contents(void)
{
	for (size_t i = 0; i < m.live_count; i++)
		FUZZ_CHECK(intact(&m.live[i], m.live[i].p, m.live[i].size), "live object %p (%zu bytes) was overwritten",
		           (void *)m.live[i].p, m.live[i].size);
}

static void step(struct fuzz_input *in, unsigned number)
{
	uint8_t op = fuzz_u8(in);
	struct object *o;

	m.reports.count = 0;
	switch (op % 10) {
	case 0: case 1: case 2:
		op_alloc(read_size(in), read_align(in));
		break;
	case 3: {
		size_t n = op & 0x80 ? fuzz_u64(in) : fuzz_u8(in);
		op_calloc(n, read_size(in));
		break;
	}
	case 4:
		o = op & 0x80 ? NULL : pick_live(in);
		op_realloc(o, read_size(in));
		break;
	case 5: case 6:
		if ((o = pick_live(in)) != NULL)
			op_free(o);
		break;
	case 7:
		op_hostile(read_hostile(in), op & 0x80);
		break;
	case 8:
		check_stats();
		break;
	default:
		if (op & 0x80)  /* reads every live byte: now and then */
			check_contents();
		break;
	}
	if (!m.cfg.debug || number % DEBUG_CHECK_EVERY == 0)
		check_heap("an operation");
}

/* The configuration from the first bytes; false if the host will not reserve the region. */
static bool configure(struct fuzz_input *in)
{
	uint8_t design = fuzz_u8(in), flags = fuzz_u8(in);

	if (!host_pages_reserve(&m.pages, REGION_BYTES))
		return false;
	m.foreign = malloc(64);
	FUZZ_CHECK(m.foreign != NULL, "out of host memory");
	m.cfg = (struct heap_config){
		.design = (enum heap_design)(design % HEAP_DESIGN_COUNT),
		.region = { .base = m.pages.base, .limit = REGION_BYTES, .pages = host_pages_seam(&m.pages) },
		.debug = (flags & 0x11) == 0x11,  /* a quarter of the runs: its checks read every free byte */
		.zero_fill = flags & 2,
		.secret = fuzz_u64(in),
		.report = record_report,
		.report_ctx = &m.reports,
	};
	if (flags & 4)
		m.cfg.region.limit = (1 + fuzz_u8(in)) * 16 * KIB;
	if (flags & 8)
		m.pages.budget = (1 + fuzz_u8(in)) * 16 * KIB;
	m.limited = flags & 12;
	return true;
}

int fuzz_heap(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };

	memset(&m, 0, sizeof m);
	if (!configure(&in))
		return 0;
	if (heap_init(&m.heap, &m.cfg) != HEAP_OK) {
		free(m.foreign);
		host_pages_release(&m.pages);  /* a placeholder design: nothing to fuzz yet */
		return 0;
	}
	check_no_report("heap_init", false);
	check_heap("init");
	for (unsigned n = 1; !fuzz_done(&in); n++)
		step(&in, n);
	m.reports.count = 0;
	check_contents();
	check_stats();
	while (m.live_count != 0)
		op_free(&m.live[m.live_count - 1]);
	check_heap("freeing everything");
	check_stats();
	heap_destroy(&m.heap);
	FUZZ_CHECK(m.pages.mapped == 0, "heap_destroy left %zu bytes mapped", m.pages.mapped);
	free(m.foreign);
	host_pages_release(&m.pages);
	return 0;
}

FUZZ_ENTRY(fuzz_heap)
