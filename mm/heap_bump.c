/*
 * The bump heap (mm/heap_bump.h).  The region's top is the bump pointer, and [base, top) is a
 * row of sealed 16-byte records, each followed by what it describes:
 *
 *   object  | record: requested size, live or freed | the object, rounded up to 16 | redzone |
 *   gap     | record: length of the gap, this record included | unused |
 *
 * A gap is the padding that puts an object at the alignment it asked for.  The redzone exists
 * in debug mode only.  Since every record says how far the next one is, heap_check walks them
 * all, and since nothing is reused before the heap starts over, a freed record stays in place
 * and proves a second free of its object to be a double free.
 */
#include "mm/heap.h"

#include "lib/mem.h"
#include "mm/heap_guard.h"
#include "mm/page.h"

#define RECORD_BYTES 16u
#define BUMP_REDZONE 16u   /* debug: at least this much redzone after every object */

/* A record address plus an alignment never wraps. */
#define BUMP_ADDR_SLACK (4 * HEAP_MAX_ALIGN)

enum record_kind { RECORD_LIVE = 1, RECORD_FREED = 2, RECORD_GAP = 3 };

struct record {
	uint64_t word;   /* size << 2 | kind: an object's requested size, or a gap's length */
	uint64_t seal;   /* heap_seal(word) at this address */
};

static struct bump_heap *state(struct heap *h) { return &h->design.bump; }
static uintptr_t heap_top(const struct heap *h) { return h->region.top; }
static bool debug(const struct heap *h) { return h->cfg.debug; }

/* Bytes an object of `size` takes after its record. */
static size_t object_span(const struct heap *h, size_t size)
{
	return (size_t)align_up(size + (debug(h) ? BUMP_REDZONE : 0), 16);
}

/* What heap_usable_size says: the object rounded up to 16, or in debug mode exactly its size. */
static size_t usable(const struct heap *h, size_t size)
{
	return debug(h) ? size : (size_t)align_up(size, 16);
}

static void write_record(const struct heap *h, uintptr_t at, size_t size, enum record_kind kind)
{
	struct record *r = (struct record *)at;

	r->word = (uint64_t)size << 2 | kind;
	r->seal = heap_seal(h, r, r->word);
}

/* Decodes the record at `at`, which lies in [base, top - RECORD_BYTES]: false if its seal does not
 * match, which is what any bytes that are not a record written here give. */
static bool read_record(const struct heap *h, uintptr_t at, size_t *size, enum record_kind *kind)
{
	const struct record *r = (const struct record *)at;

	if (r->seal != heap_seal(h, r, r->word))
		return false;
	*size = (size_t)(r->word >> 2);
	*kind = (enum record_kind)(r->word & 3);
	return true;
}

static void fill_redzone(const struct heap *h, void *p, size_t size)
{
	if (debug(h))
		memset((char *)p + size, HEAP_REDZONE_BYTE, object_span(h, size) - size);
}

static bool redzone_intact(const struct heap *h, const void *p, size_t size)
{
	size_t n = object_span(h, size) - size;

	return !debug(h) || heap_find_mismatch((const char *)p + size, n, HEAP_REDZONE_BYTE) == n;
}

static void count_in(struct heap *h, size_t size)
{
	struct bump_heap *b = state(h);

	b->objects++;
	b->bytes_requested += size;
	b->bytes_in_use += usable(h, size);
}

static void count_out(struct heap *h, size_t size)
{
	struct bump_heap *b = state(h);

	b->objects--;
	b->bytes_requested -= size;
	b->bytes_in_use -= usable(h, size);
}

/* The live object at ptr: HEAP_OK and its size, or why not.  Never reads outside the heap. */
static enum heap_status find_object(const struct heap *h, const void *ptr, size_t *size, const char **what)
{
	uintptr_t p = (uintptr_t)ptr, base = h->region.base;
	enum record_kind kind;

	if (p - base < RECORD_BYTES || p - base >= heap_top(h) - base || !is_aligned(p, 16)) {
		*what = "not a pointer into the heap";
		return HEAP_ERR_INVALID_FREE;
	}
	if (!read_record(h, p - RECORD_BYTES, size, &kind) || kind == RECORD_GAP ||
	    object_span(h, *size) > heap_top(h) - p) {
		*what = "not the start of an object";
		return HEAP_ERR_INVALID_FREE;
	}
	if (kind == RECORD_FREED) {
		*what = "double free";
		return HEAP_ERR_DOUBLE_FREE;
	}
	return HEAP_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The interface. */

static void *bump_alloc(struct heap *h, size_t size, size_t align)
{
	uintptr_t top = heap_top(h), base = h->region.base;
	uintptr_t at = (uintptr_t)align_up(top + RECORD_BYTES, align) - RECORD_BYTES;
	size_t span = object_span(h, size);

	if (at - base > h->region.limit || RECORD_BYTES + span > h->region.limit - (at - base))
		return NULL;
	if (!region_grow(&h->region, at + RECORD_BYTES + span))
		return NULL;
	if (at != top)
		write_record(h, top, at - top, RECORD_GAP);
	write_record(h, at, size, RECORD_LIVE);

	void *p = (void *)(at + RECORD_BYTES);
	fill_redzone(h, p, size);
	count_in(h, size);
	return p;
}

static enum heap_status bump_free(struct heap *h, void *ptr)
{
	size_t size;
	const char *what;
	enum heap_status status = find_object(h, ptr, &size, &what);

	if (status != HEAP_OK)
		return heap_report(h, status, (uintptr_t)ptr, 0, what);
	/* An overflow into the redzone is reported, and the object freed all the same. */
	if (!redzone_intact(h, ptr, size))
		status = heap_report(h, HEAP_ERR_REDZONE, (uintptr_t)ptr, 0, "redzone overwritten");
	if (debug(h))
		memset(ptr, HEAP_POISON_BYTE, object_span(h, size));
	write_record(h, (uintptr_t)ptr - RECORD_BYTES, size, RECORD_FREED);
	count_out(h, size);
	if (state(h)->objects == 0)
		region_shrink(&h->region, h->region.base);   /* start over: every page goes back */
	return status;
}

static size_t bump_usable_size(struct heap *h, const void *ptr)
{
	size_t size;
	const char *what;

	return find_object(h, ptr, &size, &what) == HEAP_OK ? usable(h, size) : 0;
}

/* In place when the object keeps its span, or when it is the last one: then the top moves. */
static bool bump_resize(struct heap *h, void *ptr, size_t size)
{
	size_t old_size;
	const char *what;

	if (find_object(h, ptr, &old_size, &what) != HEAP_OK || !redzone_intact(h, ptr, old_size))
		return false;   /* heap_realloc's free of it reports the problem */

	uintptr_t p = (uintptr_t)ptr, top = heap_top(h);
	size_t old_span = object_span(h, old_size), span = object_span(h, size);
	if (span != old_span) {
		if (p + old_span != top)
			return false;
		if (span > old_span && (span - old_span > h->region.limit - (top - h->region.base) ||
		                        !region_grow(&h->region, p + span)))
			return false;
		if (span < old_span)
			region_shrink(&h->region, p + span);
	}
	write_record(h, p - RECORD_BYTES, size, RECORD_LIVE);
	fill_redzone(h, ptr, size);
	count_out(h, old_size);
	count_in(h, size);
	return true;
}

static enum heap_status fail(struct heap *h, enum heap_status status, uintptr_t at, const char *what)
{
	return heap_report(h, status, at, 0, what);
}

/* Checks the object after the record at `at`: its redzone if live, its poison if freed. */
static enum heap_status check_object(struct heap *h, uintptr_t at, size_t size, enum record_kind kind)
{
	const char *p = (const char *)(at + RECORD_BYTES);
	size_t span = object_span(h, size);

	if (kind == RECORD_LIVE && !redzone_intact(h, p, size))
		return fail(h, HEAP_ERR_REDZONE, (uintptr_t)p, "redzone overwritten");
	if (kind == RECORD_FREED && debug(h)) {
		size_t bad = heap_find_mismatch(p, span, HEAP_POISON_BYTE);
		if (bad < span)
			return fail(h, HEAP_ERR_USE_AFTER_FREE, (uintptr_t)p, "freed object written to (use after free)");
	}
	return HEAP_OK;
}

static enum heap_status bump_check(struct heap *h)
{
	const struct bump_heap *b = state(h);
	uintptr_t top = heap_top(h);
	size_t objects = 0, requested = 0, in_use = 0, size;
	enum record_kind kind;
	enum heap_status status;

	if (region_mapped_bytes(&h->region) != align_up(top - h->region.base, PAGE_SIZE))
		return fail(h, HEAP_ERR_CORRUPT, top, "heap top does not match the region");
	for (uintptr_t at = h->region.base; at < top;) {
		if (top - at < RECORD_BYTES || !read_record(h, at, &size, &kind))
			return fail(h, HEAP_ERR_CORRUPT, at, "record overwritten");
		if (kind == RECORD_GAP) {
			if (size < RECORD_BYTES || !is_aligned(size, 16) || size > top - at)
				return fail(h, HEAP_ERR_CORRUPT, at, "gap record impossible");
			at += size;
			continue;
		}
		if (object_span(h, size) > top - at - RECORD_BYTES)
			return fail(h, HEAP_ERR_CORRUPT, at, "object runs past the top");
		if ((status = check_object(h, at, size, kind)) != HEAP_OK)
			return status;
		if (kind == RECORD_LIVE) {
			objects++;
			requested += size;
			in_use += usable(h, size);
		}
		at += RECORD_BYTES + object_span(h, size);
	}
	if (objects != b->objects || requested != b->bytes_requested || in_use != b->bytes_in_use)
		return fail(h, HEAP_ERR_CORRUPT, h->region.base, "object counts do not match the records");
	if (objects == 0 && top != h->region.base)
		return fail(h, HEAP_ERR_CORRUPT, top, "empty heap did not start over");
	return HEAP_OK;
}

static void bump_stats(struct heap *h, struct heap_stats *out)
{
	const struct bump_heap *b = state(h);

	out->objects_in_use = b->objects;
	out->bytes_requested = b->bytes_requested;
	out->bytes_in_use = b->bytes_in_use;
}

static enum heap_status bump_init(struct heap *h)
{
	if (h->region.base + h->region.limit > UINTPTR_MAX - BUMP_ADDR_SLACK)
		return HEAP_ERR_BAD_CONFIG;
	*state(h) = (struct bump_heap){ 0 };
	return HEAP_OK;
}

static void bump_destroy(struct heap *h)
{
	*state(h) = (struct bump_heap){ 0 };
}

const struct heap_ops bump_heap_ops = {
	.init = bump_init,
	.destroy = bump_destroy,
	.alloc = bump_alloc,
	.free = bump_free,
	.usable_size = bump_usable_size,
	.resize = bump_resize,
	.check = bump_check,
	.stats = bump_stats,
};
