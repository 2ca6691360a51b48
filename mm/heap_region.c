/*
 * The heap region (mm/heap_region.h): brk style, and page runs.
 *
 * Page runs keep three structures, all out of band (free runs are unmapped, so nothing can be
 * kept inside them):
 *   - descriptors, one per data page, at the start of the region: run length and state on the
 *     first and last page of every run, so both neighbours of a run are found in O(1);
 *   - bins: doubly linked lists of free runs of similar lengths, through the descriptors of the
 *     runs' first pages, with a two-level bitmap saying which bins hold anything;
 *   - used_pages: the data area above it is one implicit free run, the tail.  A freed run that
 *     reaches the tail joins it, so after everything is freed nothing is mapped at all.
 */
#include "mm/heap_region.h"

#include "lib/panic.h"

#define NO_RUN UINT32_MAX                         /* ends a bin list */
#define DESCS_PER_PAGE (PAGE_SIZE / sizeof(struct region_page))

_Static_assert(sizeof(struct region_page) == 16, "a descriptor page holds 256 descriptors");

static void note_mapped(struct heap_region *r, size_t bytes)
{
	r->mapped += bytes;
	if (r->mapped > r->peak)
		r->peak = r->mapped;
}

static void note_unmapped(struct heap_region *r, size_t bytes)
{
	r->mapped -= bytes;
}

/* Maps [addr, addr + bytes) and counts it; false (nothing mapped) if the seam has no memory. */
static bool map_range(struct heap_region *r, uintptr_t addr, size_t bytes)
{
	if (!r->pages.map(r->pages.ctx, addr, bytes))
		return false;
	note_mapped(r, bytes);
	return true;
}

static void unmap_range(struct heap_region *r, uintptr_t addr, size_t bytes)
{
	r->pages.unmap(r->pages.ctx, addr, bytes);
	note_unmapped(r, bytes);
}

/* Descriptor pages and data pages, for a region of `total` pages: every data page needs 16
 * bytes of descriptor.  Counting the descriptor pages' own descriptors too wastes at most one
 * page and keeps the sum simple. */
static void plan_page_runs(struct heap_region *r, uint64_t total)
{
	uint64_t runs = total < REGION_RUN_PAGES_MAX ? total : REGION_RUN_PAGES_MAX;
	uint64_t descs = (runs + DESCS_PER_PAGE - 1) / DESCS_PER_PAGE;

	r->page = (struct region_page *)r->base;
	r->data_base = r->base + descs * PAGE_SIZE;
	r->data_pages = (uint32_t)(runs - descs);
}

bool region_init(struct heap_region *r, const struct heap_region_config *cfg)
{
	if (!is_aligned(cfg->base | cfg->limit, PAGE_SIZE) || cfg->limit == 0 || cfg->base + cfg->limit < cfg->base)
		return false;
	*r = (struct heap_region){
		.base = cfg->base,
		.limit = cfg->limit,
		.pages = cfg->pages,
		.top = cfg->base,
	};
	plan_page_runs(r, cfg->limit / PAGE_SIZE);
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * brk style. */

/* The first page boundary at or above addr. */
static uintptr_t page_end(uintptr_t addr)
{
	return (uintptr_t)align_up(addr, PAGE_SIZE);
}

bool region_grow(struct heap_region *r, uintptr_t new_top)
{
	uintptr_t mapped_end = page_end(r->top), wanted_end;

	if (new_top < r->top || new_top - r->base > r->limit)
		return false;
	wanted_end = page_end(new_top);
	if (wanted_end > mapped_end && !map_range(r, mapped_end, wanted_end - mapped_end))
		return false;
	r->top = new_top;
	return true;
}

void region_shrink(struct heap_region *r, uintptr_t new_top)
{
	uintptr_t mapped_end = page_end(r->top), kept_end;

	if (new_top >= r->top || new_top < r->base)
		return;
	kept_end = page_end(new_top);
	if (mapped_end > kept_end)
		unmap_range(r, kept_end, mapped_end - kept_end);
	r->top = new_top;
}

/* ---------------------------------------------------------------------------------------------
 * Page runs: descriptors. */

static size_t run_bytes(uint32_t pages)
{
	return (size_t)pages * PAGE_SIZE;
}

/* Marks [i, i + n) as one run in `state` in the descriptors of its first and last page.  The
 * first page's owner word is cleared: it may have held bin links. */
static void mark_run(struct heap_region *r, uint32_t i, uint32_t n, uint32_t state)
{
	r->page[i] = (struct region_page){ .run = n, .state = state };
	r->page[i + n - 1] = (struct region_page){ .run = n, .state = state };
}

/* Zeroes the descriptors of the first and last page of a run that is being merged away. */
static void forget_run(struct heap_region *r, uint32_t i, uint32_t n)
{
	r->page[i] = (struct region_page){ 0 };
	r->page[i + n - 1] = (struct region_page){ 0 };
}

/* Descriptor pages needed for data pages [0, used). */
static uint32_t desc_pages_for(uint32_t used)
{
	return (uint32_t)((used + DESCS_PER_PAGE - 1) / DESCS_PER_PAGE);
}

static uintptr_t desc_page_address(const struct heap_region *r, uint32_t k)
{
	return r->base + (uintptr_t)k * PAGE_SIZE;
}

/* ---------------------------------------------------------------------------------------------
 * Page runs: bins. */

static unsigned floor_log2(uint64_t n)
{
	return 63u - (unsigned)__builtin_clzll(n);
}

/* The bin a free run of n pages is kept in. */
static void bin_of(uint64_t n, unsigned *fl, unsigned *sl)
{
	unsigned f;

	if (n < REGION_SL_COUNT) {
		*fl = 0;
		*sl = (unsigned)n;
		return;
	}
	f = floor_log2(n);
	*fl = f - REGION_SL_SHIFT + 1;
	*sl = (unsigned)(n >> (f - REGION_SL_SHIFT)) - REGION_SL_COUNT;
}

/* The first bin whose every run has at least n pages: n rounded up to the next bin floor. */
static void bin_at_least(uint64_t n, unsigned *fl, unsigned *sl)
{
	if (n >= REGION_SL_COUNT)
		n += (UINT64_C(1) << (floor_log2(n) - REGION_SL_SHIFT)) - 1;
	bin_of(n, fl, sl);
}

/* The first non-empty bin at or above (fl, sl), by two bit scans; false if there is none. */
static bool first_full_bin(const struct heap_region *r, unsigned *fl, unsigned *sl)
{
	uint32_t sl_bits, fl_bits;

	if (*fl >= REGION_FL_COUNT)
		return false;
	sl_bits = r->sl_bits[*fl] & (0xffu << *sl);
	if (sl_bits == 0) {
		fl_bits = r->fl_bits & ~((UINT32_C(2) << *fl) - 1);
		if (fl_bits == 0)
			return false;
		*fl = (unsigned)__builtin_ctz(fl_bits);
		sl_bits = r->sl_bits[*fl];
	}
	*sl = (unsigned)__builtin_ctz(sl_bits);
	return true;
}

/* Makes [i, i + n) a free run and puts it first in its bin. */
static void insert_free_run(struct heap_region *r, uint32_t i, uint32_t n)
{
	unsigned fl, sl;

	bin_of(n, &fl, &sl);
	mark_run(r, i, n, RUN_FREE);
	r->page[i].bin.prev = NO_RUN;
	r->page[i].bin.next = NO_RUN;
	if (r->sl_bits[fl] & (1u << sl)) {
		r->page[i].bin.next = r->bin[fl][sl];
		r->page[r->bin[fl][sl]].bin.prev = i;
	}
	r->bin[fl][sl] = i;
	r->sl_bits[fl] |= (uint8_t)(1u << sl);
	r->fl_bits |= UINT32_C(1) << fl;
}

/* Takes the free run starting at i out of its bin and zeroes its descriptors; returns its
 * length. */
static uint32_t remove_free_run(struct heap_region *r, uint32_t i)
{
	uint32_t n = r->page[i].run, next = r->page[i].bin.next, prev = r->page[i].bin.prev;
	unsigned fl, sl;

	bin_of(n, &fl, &sl);
	if (prev == NO_RUN)
		r->bin[fl][sl] = next;
	else
		r->page[prev].bin.next = next;
	if (next != NO_RUN)
		r->page[next].bin.prev = prev;
	else if (prev == NO_RUN) {
		r->sl_bits[fl] &= (uint8_t)~(1u << sl);
		if (r->sl_bits[fl] == 0)
			r->fl_bits &= ~(UINT32_C(1) << fl);
	}
	forget_run(r, i, n);
	return n;
}

/* ---------------------------------------------------------------------------------------------
 * Page runs: allocation. */

/* A free run in the bins with at least n pages (good fit, O(1)); false if none. */
static bool find_free_run(const struct heap_region *r, uint32_t n, uint32_t *i)
{
	unsigned fl, sl;

	bin_at_least(n, &fl, &sl);
	if (!first_full_bin(r, &fl, &sl))
		return false;
	*i = r->bin[fl][sl];
	return true;
}

/* Hands out the first n pages of the free run at i, putting the rest back in a bin.  False
 * (nothing changed) if the pages cannot be mapped. */
static bool claim_free_run(struct heap_region *r, uint32_t i, uint32_t n)
{
	uint32_t length = r->page[i].run;

	if (!map_range(r, region_page_address(r, i), run_bytes(n)))
		return false;
	remove_free_run(r, i);
	mark_run(r, i, n, RUN_USED);
	if (length > n)
		insert_free_run(r, i + n, length - n);
	return true;
}

/* Hands out n pages from the tail, mapping the descriptor pages they need first.  False
 * (nothing changed) if the tail is too short or the pages cannot be mapped. */
static bool claim_tail(struct heap_region *r, uint32_t n, uint32_t *i)
{
	uint32_t had = r->desc_pages, needs;
	size_t peak = r->peak;

	if (r->data_pages - r->used_pages < n)
		return false;
	needs = desc_pages_for(r->used_pages + n);
	if (needs > had && !map_range(r, desc_page_address(r, had), run_bytes(needs - had)))
		return false;
	if (!map_range(r, region_page_address(r, r->used_pages), run_bytes(n))) {
		if (needs > had)
			unmap_range(r, desc_page_address(r, had), run_bytes(needs - had));
		r->peak = peak;   /* nothing changed, the record included */
		return false;
	}
	r->desc_pages = needs > had ? needs : had;
	*i = r->used_pages;
	r->used_pages += n;
	mark_run(r, *i, n, RUN_USED);   /* the descriptors above used_pages were all zero */
	return true;
}

uintptr_t region_alloc_pages(struct heap_region *r, size_t pages)
{
	uint32_t i;

	if (pages == 0 || pages > r->data_pages)
		return 0;
	if (find_free_run(r, (uint32_t)pages, &i))
		return claim_free_run(r, i, (uint32_t)pages) ? region_page_address(r, i) : 0;
	return claim_tail(r, (uint32_t)pages, &i) ? region_page_address(r, i) : 0;
}

/* ---------------------------------------------------------------------------------------------
 * Page runs: free. */

/* The index of the run in use [addr, addr + pages * PAGE_SIZE); panics if there is none. */
static uint32_t checked_run(const struct heap_region *r, uintptr_t addr, size_t pages)
{
	uint32_t i = region_page_index(r, addr);

	if (addr < r->data_base || !is_aligned(addr, PAGE_SIZE) || i >= r->used_pages || pages == 0 ||
	    pages > r->used_pages - i || r->page[i].state != RUN_USED || r->page[i].run != pages ||
	    r->page[i + pages - 1].state != RUN_USED || r->page[i + pages - 1].run != pages)
		panic("heap region: %zu pages at %#lx are not a run in use", pages, (unsigned long)addr);
	return i;
}

/* Lowers used_pages to i (the free run [i, used_pages) joins the tail) and unmaps the
 * descriptor pages no longer needed.  The descriptors above i are already zero. */
static void shrink_to(struct heap_region *r, uint32_t i)
{
	uint32_t keep = desc_pages_for(i);

	r->used_pages = i;
	if (r->desc_pages > keep)
		unmap_range(r, desc_page_address(r, keep), run_bytes(r->desc_pages - keep));
	r->desc_pages = keep;
}

void region_free_pages(struct heap_region *r, uintptr_t addr, size_t pages)
{
	uint32_t i = checked_run(r, addr, pages), n = (uint32_t)pages;

	unmap_range(r, addr, run_bytes(n));
	for (uint32_t k = 0; k < n; k++)   /* owners go: a lookup in a free run must see none */
		r->page[i + k] = (struct region_page){ 0 };
	if (i > 0 && r->page[i - 1].state == RUN_FREE) {
		uint32_t left = r->page[i - 1].run;
		i -= left;
		n += remove_free_run(r, i);
	}
	if (i + n == r->used_pages) {
		shrink_to(r, i);
		return;
	}
	if (r->page[i + n].state == RUN_FREE)
		n += remove_free_run(r, i + n);
	insert_free_run(r, i, n);
}

void region_set_owner(struct heap_region *r, uintptr_t addr, uintptr_t owner)
{
	uint32_t i = region_page_index(r, addr), n;

	if (addr < r->data_base || i >= r->used_pages || !is_aligned(addr, PAGE_SIZE) || r->page[i].state != RUN_USED)
		panic("heap region: no run in use starts at %#lx", (unsigned long)addr);
	n = r->page[i].run;
	for (uint32_t k = 0; k < n; k++)
		r->page[i + k].owner = owner;
}

/* ---------------------------------------------------------------------------------------------
 * Page runs: walks. */

uintptr_t region_next_run(const struct heap_region *r, uintptr_t from, size_t *pages)
{
	uint32_t i = region_page_index(r, from);

	while (from >= r->data_base && i < r->used_pages) {
		const struct region_page *d = &r->page[i];
		if (d->run == 0 || d->run > r->used_pages - i)
			panic("heap region: no run starts at data page %u", (unsigned)i);
		if (d->state == RUN_USED) {
			*pages = d->run;
			return region_page_address(r, i);
		}
		i += d->run;
	}
	return 0;
}

/* Unmaps every run in use and the descriptors: the page-run half of region_destroy. */
static void release_page_runs(struct heap_region *r)
{
	uintptr_t addr = r->data_base;
	size_t pages;

	while ((addr = region_next_run(r, addr, &pages)) != 0) {
		unmap_range(r, addr, pages * PAGE_SIZE);
		addr += pages * PAGE_SIZE;
	}
	if (r->desc_pages > 0)
		unmap_range(r, r->base, run_bytes(r->desc_pages));
	r->used_pages = 0;
	r->desc_pages = 0;
	r->fl_bits = 0;
	for (unsigned f = 0; f < REGION_FL_COUNT; f++)
		r->sl_bits[f] = 0;
}

void region_destroy(struct heap_region *r)
{
	release_page_runs(r);
	region_shrink(r, r->base);
}

/* ---------------------------------------------------------------------------------------------
 * Page runs: the consistency check. */

struct run_census {
	uint32_t free_runs;
	uint64_t used_pages;
};

/* Checks the run starting at i (its descriptors, inner pages and neighbours); NULL if sound. */
static const char *check_run(const struct heap_region *r, uint32_t i, struct run_census *census)
{
	const struct region_page *first = &r->page[i], *last;
	uint32_t n = first->run;

	if (n == 0 || n > r->used_pages - i || (first->state != RUN_USED && first->state != RUN_FREE))
		return "run descriptor damaged";
	last = &r->page[i + n - 1];
	if (last->run != n || last->state != first->state)
		return "first and last page of a run disagree";
	for (uint32_t k = 1; k + 1 < n; k++)
		if (r->page[i + k].run != 0 || r->page[i + k].state != RUN_NONE)
			return "page inside a run looks like a run boundary";
	if (first->state == RUN_USED) {
		for (uint32_t k = 1; k < n; k++)
			if (r->page[i + k].owner != first->owner)
				return "pages of one run have different owners";
		census->used_pages += n;
		return NULL;
	}
	if (n > 1 && last->owner != 0)
		return "free page has an owner";
	for (uint32_t k = 1; k + 1 < n; k++)
		if (r->page[i + k].owner != 0)
			return "free page has an owner";
	if (i + n == r->used_pages)
		return "free run next to the tail";
	if (r->page[i + n].state == RUN_FREE)
		return "two free runs side by side";
	census->free_runs++;
	return NULL;
}

/* Checks bin (fl, sl): every run on it is free, belongs there and links back; counts them. */
static const char *check_bin(const struct heap_region *r, unsigned fl, unsigned sl, uint32_t *count, uint32_t *where)
{
	uint32_t prev = NO_RUN, i = r->bin[fl][sl];
	unsigned f, s;

	if (!(r->sl_bits[fl] & (1u << sl)))
		return NULL;
	while (i != NO_RUN) {
		*where = i;
		if (i >= r->used_pages || r->page[i].state != RUN_FREE || r->page[i].bin.prev != prev)
			return "bin list damaged";
		bin_of(r->page[i].run, &f, &s);
		if (f != fl || s != sl)
			return "free run in the wrong bin";
		if (++*count > r->used_pages)
			return "bin list loops";
		prev = i;
		i = r->page[i].bin.next;
	}
	return prev == NO_RUN ? "bin marked full is empty" : NULL;
}

const char *region_check(const struct heap_region *r, uintptr_t *where)
{
	struct run_census census = { 0, 0 };
	uint32_t binned = 0, at = 0;
	const char *bad = NULL;

	*where = r->data_base;
	if (r->used_pages > r->data_pages || r->desc_pages != desc_pages_for(r->used_pages))
		return "used part and descriptor pages disagree";
	for (uint32_t i = 0; i < r->used_pages && !bad; i += r->page[i].run) {
		at = i;
		bad = check_run(r, i, &census);
	}
	for (unsigned fl = 0; fl < REGION_FL_COUNT && !bad; fl++) {
		if (((r->fl_bits >> fl) & 1u) != (r->sl_bits[fl] != 0))
			bad = "bin bitmaps disagree";
		for (unsigned sl = 0; sl < REGION_SL_COUNT && !bad; sl++)
			bad = check_bin(r, fl, sl, &binned, &at);
	}
	if (!bad && binned != census.free_runs)
		bad = "free runs missing from the bins";
	if (!bad && r->mapped != run_bytes(r->desc_pages) + census.used_pages * PAGE_SIZE + (page_end(r->top) - r->base))
		bad = "mapped bytes disagree with the runs";
	if (bad)
		*where = region_page_address(r, at);
	return bad;
}

size_t region_mapped_bytes(const struct heap_region *r)
{
	return r->mapped;
}

size_t region_peak_bytes(const struct heap_region *r)
{
	return r->peak;
}

bool region_contains(const struct heap_region *r, uintptr_t addr)
{
	return addr - r->base < r->limit;
}
