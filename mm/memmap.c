/*
 * The memory-map normalizer.  mm/memmap.h says what a normalized map is; docs/memory-map.md says
 * how each firmware mistake is resolved and why.
 *
 * The method is a sweep over boundaries.  Every entry's start and end is a boundary, and between
 * two neighbouring boundaries the set of entries covering an address cannot change.  So the sweep
 * steps from boundary to boundary, asks which kind owns that stretch (the most restrictive kind
 * covering it), and appends the stretch to the output.  Finding the next boundary scans every
 * entry: O(n^2) in all, but no sorting and no memory besides the output.
 */
#include <stdbool.h>

#include "lib/panic.h"
#include "mm/memmap.h"
#include "mm/page.h"

/* The addresses of an entry inside the physical address space: [start, end). */
struct span {
	uint64_t start;
	uint64_t end;
};

/* owner_at()'s answer for an address no entry covers. */
#define NO_OWNER MEM_KIND_COUNT

/* next_boundary()'s answer when no boundary is left; every real boundary is <= PHYS_ADDR_LIMIT. */
#define NO_BOUNDARY UINT64_MAX

static bool kind_valid(enum mem_kind kind)
{
	/* The cast also catches negative values forced into the enum. */
	return (unsigned)kind < MEM_KIND_COUNT;
}

/* The part of `e` below PHYS_ADDR_LIMIT; empty (start == end) when there is none. */
static struct span entry_span(const struct memmap_entry *e)
{
	uint64_t room;

	if (e->base >= PHYS_ADDR_LIMIT)
		return (struct span){ PHYS_ADDR_LIMIT, PHYS_ADDR_LIMIT };
	/* Compare lengths, not ends: base + length may pass 2^64. */
	room = PHYS_ADDR_LIMIT - e->base;
	return (struct span){ e->base, e->base + (e->length < room ? e->length : room) };
}

/* True if a non-empty entry has addresses at or above PHYS_ADDR_LIMIT. */
static bool entry_clipped(const struct memmap_entry *e)
{
	return e->length != 0 && (e->base >= PHYS_ADDR_LIMIT || e->length > PHYS_ADDR_LIMIT - e->base);
}

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* True if the spans share at least one address (an empty span shares none). */
static bool spans_overlap(struct span a, struct span b)
{
	return max_u64(a.start, b.start) < min_u64(a.end, b.end);
}

static bool kinds_valid(const struct memmap_entry *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!kind_valid(in[i].kind))
			return false;
	return true;
}

/* Counts what normalization drops or overrides.  An entry is zero-length or clipped, never both. */
static void count_notes(const struct memmap_entry *in, size_t n, struct memmap_notes *notes)
{
	for (size_t i = 0; i < n; i++) {
		if (in[i].length == 0)
			notes->zero_length++;
		else if (entry_clipped(&in[i]))
			notes->clipped++;
		for (size_t j = i + 1; j < n; j++)
			if (spans_overlap(entry_span(&in[i]), entry_span(&in[j])))
				notes->overlaps++;
	}
}

/* The smallest entry start or end above `pos`, or NO_BOUNDARY. */
static uint64_t next_boundary(const struct memmap_entry *in, size_t n, uint64_t pos)
{
	uint64_t next = NO_BOUNDARY;

	for (size_t i = 0; i < n; i++) {
		struct span s = entry_span(&in[i]);

		if (s.start == s.end)
			continue;
		if (s.start > pos)
			next = min_u64(next, s.start);
		else if (s.end > pos)
			next = min_u64(next, s.end);
	}
	return next;
}

/* The most restrictive kind among the entries covering `addr`, or NO_OWNER. */
static enum mem_kind owner_at(const struct memmap_entry *in, size_t n, uint64_t addr)
{
	enum mem_kind owner = NO_OWNER;

	for (size_t i = 0; i < n; i++) {
		struct span s = entry_span(&in[i]);

		if (s.start <= addr && addr < s.end && (owner == NO_OWNER || in[i].kind > owner))
			owner = in[i].kind;
	}
	return owner;
}

/*
 * The output under construction.  The sweep appends stretches in address order; the last range
 * stays pending while the next stretch may still extend it, because a usable range can only be
 * page-aligned once its final extent is known.
 */
struct builder {
	struct memmap *out;
	struct mem_range pending;
	bool has_pending;
	uint64_t unaligned_bytes;
};

/* Shrinks `r` inward to page boundaries and returns the bytes given up; a range holding no whole
 * page becomes empty. */
static uint64_t page_align_inward(struct mem_range *r)
{
	uint64_t before = r->end - r->start;
	uint64_t start = align_up(r->start, PAGE_SIZE);  /* r->start < PHYS_ADDR_LIMIT: cannot wrap */
	uint64_t end = align_down(r->end, PAGE_SIZE);

	r->start = start;
	r->end = end > start ? end : start;
	return before - (r->end - r->start);
}

/* Moves the pending range, if any, to the output.  False when the output is already full. */
static bool flush_pending(struct builder *b)
{
	struct mem_range r = b->pending;

	if (!b->has_pending)
		return true;
	b->has_pending = false;
	if (r.kind == MEM_USABLE) {
		b->unaligned_bytes += page_align_inward(&r);
		if (r.start == r.end)
			return true;
	}
	if (b->out->count == MEMMAP_MAX)
		return false;
	b->out->range[b->out->count++] = r;
	return true;
}

/* Appends [start, end) of `kind`, which must lie above everything appended before. */
static bool append(struct builder *b, uint64_t start, uint64_t end, enum mem_kind kind)
{
	if (b->has_pending && b->pending.end == start && b->pending.kind == kind) {
		b->pending.end = end;
		return true;
	}
	if (!flush_pending(b))
		return false;
	b->pending = (struct mem_range){ start, end, kind };
	b->has_pending = true;
	return true;
}

/* The sweep itself: fills b->out from `in`.  False when the result needs more than MEMMAP_MAX ranges. */
static bool sweep(const struct memmap_entry *in, size_t n, struct builder *b)
{
	uint64_t next;

	for (uint64_t pos = 0; (next = next_boundary(in, n, pos)) != NO_BOUNDARY; pos = next) {
		enum mem_kind owner = owner_at(in, n, pos);

		if (owner != NO_OWNER && !append(b, pos, next, owner))
			return false;
	}
	return flush_pending(b);
}

enum memmap_status memmap_normalize(const struct memmap_entry *in, size_t n, struct memmap *out,
                                    struct memmap_notes *notes)
{
	struct builder b = { .out = out };

	out->count = 0;
	if (!kinds_valid(in, n))
		return MEMMAP_ERR_BAD_KIND;
	if (!sweep(in, n, &b)) {
		out->count = 0;
		return MEMMAP_ERR_TOO_MANY;
	}
	if (out->count == 0)
		return MEMMAP_ERR_EMPTY;
	if (notes) {
		*notes = (struct memmap_notes){ .unaligned_bytes = b.unaligned_bytes };
		count_notes(in, n, notes);
	}
	return MEMMAP_OK;
}

enum memmap_status memmap_overlay(struct memmap *map, uint64_t start, uint64_t end, enum mem_kind kind)
{
	/* The map's ranges and the new one.  A normalized map normalizes to itself, so normalizing
	 * these raw entries applies the overlay and nothing else. */
	struct memmap_entry raw[MEMMAP_MAX + 1];
	size_t n = map->count;
	enum memmap_status status;

	if (end < start)
		return MEMMAP_ERR_BAD_RANGE;
	if (end == start)
		return MEMMAP_OK;
	if (n > MEMMAP_MAX)
		panic("memmap_overlay: map holds %zu ranges, more than MEMMAP_MAX", n);
	for (size_t i = 0; i < n; i++) {
		const struct mem_range *r = &map->range[i];

		raw[i] = (struct memmap_entry){ r->start, r->end - r->start, r->kind };
	}
	raw[n] = (struct memmap_entry){ start, end - start, kind };

	status = memmap_normalize(raw, n + 1, map, NULL);
	if (status != MEMMAP_OK) {
		/* Put the old map back from its copy. */
		for (size_t i = 0; i < n; i++)
			map->range[i] = (struct mem_range){ raw[i].base, raw[i].base + raw[i].length, raw[i].kind };
		map->count = n;
	}
	return status;
}

uint64_t memmap_total(const struct memmap *map, enum mem_kind kind)
{
	uint64_t total = 0;

	for (size_t i = 0; i < map->count; i++)
		if (map->range[i].kind == kind)
			total += map->range[i].end - map->range[i].start;
	return total;
}

const struct mem_range *memmap_find(const struct memmap *map, uint64_t addr)
{
	/* Binary search over the sorted, disjoint ranges.  Ranges below `lo` end at or below addr,
	 * ranges from `hi` on start above it. */
	size_t lo = 0, hi = map->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mem_range *r = &map->range[mid];

		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

const char *mem_kind_name(enum mem_kind kind)
{
	switch (kind) {
	case MEM_USABLE:           return "usable";
	case MEM_BOOTLOADER:       return "bootloader";
	case MEM_BOOT_PAGE_TABLES: return "boot page tables";
	case MEM_MODULE:           return "module";
	case MEM_KERNEL:           return "kernel";
	case MEM_ACPI_RECLAIMABLE: return "ACPI reclaimable";
	case MEM_ACPI_NVS:         return "ACPI NVS";
	case MEM_RESERVED:         return "reserved";
	case MEM_BAD:              return "bad";
	case MEM_KIND_COUNT:       break;
	}
	return "?";
}

const char *memmap_status_message(enum memmap_status status)
{
	switch (status) {
	case MEMMAP_OK:            return "ok";
	case MEMMAP_ERR_EMPTY:     return "memory map is empty";
	case MEMMAP_ERR_TOO_MANY:  return "memory map needs more than MEMMAP_MAX ranges";
	case MEMMAP_ERR_BAD_KIND:  return "memory map entry has an unknown kind";
	case MEMMAP_ERR_BAD_RANGE: return "range ends before it starts";
	}
	return "unknown memory map status";
}
