/*
 * The heap region's page runs over host_pages (a reserved range where unmapped pages fault),
 * against a reference model: one owner per data page, the runs in use, and from them what the
 * region must have mapped.  The model decides on its own when an allocation must succeed
 * (TLSF's good-fit promise: a free run at least n rounded up to its bin's step, or a long
 * enough tail) and checks every answer, the seam's counters, the pages themselves (mapped and
 * zeroed when handed out, contents kept while held, unreachable after free) and region_check()
 * after every operation.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/support/host_pages.h"
#include "lib/rng.h"
#include "mm/heap_region.h"
#include "mm/page.h"

#define DESCS_PER_PAGE (PAGE_SIZE / sizeof(struct region_page))

/* ---- helpers -------------------------------------------------------------------------------- */

/* True if the byte at addr can be read: a write() from it to a pipe fails with EFAULT instead of
 * faulting, so this probes unmapped pages safely (under ASan too). */
static bool readable(uintptr_t addr)
{
	int fds[2];
	bool ok;

	cr_assert_eq(pipe(fds), 0);
	ok = write(fds[1], (const void *)addr, 1) == 1;
	close(fds[0]);
	close(fds[1]);
	return ok;
}

static size_t desc_pages_for(size_t used)
{
	return (used + DESCS_PER_PAGE - 1) / DESCS_PER_PAGE;
}

static void assert_consistent(const struct heap_region *r)
{
	uintptr_t where;
	const char *bad = region_check(r, &where);

	cr_assert_null(bad, "region_check: %s at %#lx", bad, (unsigned long)where);
}

/* ---- the model ------------------------------------------------------------------------------ */

struct run {
	uintptr_t addr;
	size_t pages;
	uint32_t id;
};

struct model {
	struct host_pages hp;
	struct heap_region r;
	uint32_t *owner;      /* per data page: id of the run holding it, 0 when free */
	struct run *live;
	size_t live_count;
	uint32_t next_id;
	size_t allocs, refusals, frees;
};

static struct model *model_new(size_t limit)
{
	struct model *m = calloc(1, sizeof(*m));
	struct heap_region_config cfg;

	cr_assert_not_null(m);
	cr_assert(host_pages_reserve(&m->hp, limit));
	cfg = (struct heap_region_config){ m->hp.base, limit, host_pages_seam(&m->hp) };
	cr_assert(region_init(&m->r, &cfg));
	m->owner = calloc(m->r.data_pages + 1, sizeof(*m->owner));
	m->live = calloc(m->r.data_pages + 1, sizeof(*m->live));
	cr_assert(m->owner && m->live);
	m->next_id = 1;
	return m;
}

static void model_delete(struct model *m)
{
	region_destroy(&m->r);
	cr_assert_eq(m->hp.mapped, 0, "region_destroy left %zu bytes mapped", m->hp.mapped);
	host_pages_release(&m->hp);
	free(m->owner);
	free(m->live);
	free(m);
}

static size_t page_of(const struct model *m, uintptr_t addr)
{
	return (addr - m->r.data_base) / PAGE_SIZE;
}

/* The used part as the model sees it: one past the highest page in use. */
static size_t model_used(const struct model *m)
{
	size_t used = 0;

	for (size_t i = 0; i < m->live_count; i++) {
		size_t end = page_of(m, m->live[i].addr) + m->live[i].pages;
		used = end > used ? end : used;
	}
	return used;
}

static size_t model_live_pages(const struct model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->live_count; i++)
		n += m->live[i].pages;
	return n;
}

/* What the region must have mapped: the runs in use and the descriptors up to the used part. */
static void assert_mapped(const struct model *m)
{
	size_t expect = (model_live_pages(m) + desc_pages_for(model_used(m))) * PAGE_SIZE;

	cr_assert_eq(m->hp.mapped, expect, "seam has %zu bytes mapped, the model expects %zu", m->hp.mapped, expect);
	cr_assert_eq(region_mapped_bytes(&m->r), expect);
	cr_assert_geq(region_peak_bytes(&m->r), expect);
}

/* The longest free stretch below the used part, and the tail above it. */
static size_t longest_hole(const struct model *m)
{
	size_t best = 0, run = 0, used = model_used(m);

	for (size_t i = 0; i < used; i++) {
		run = m->owner[i] ? 0 : run + 1;
		best = run > best ? run : best;
	}
	return best;
}

/* The shortest free run that TLSF's good fit promises to find for n pages: n rounded up to the
 * step of its bin (eight bins per power of two; one page apart below 8). */
static size_t promised_fit(size_t n)
{
	size_t step = 1;

	while (n >= 16 * step)
		step *= 2;
	return (n + step - 1) / step * step;
}

static bool must_fit(const struct model *m, size_t n)
{
	return m->r.data_pages - model_used(m) >= n || longest_hole(m) >= promised_fit(n);
}

/* Each page of a run held: its first words say which run and which page. */
static void stamp(const struct run *run)
{
	for (size_t k = 0; k < run->pages; k++) {
		uint64_t *w = (uint64_t *)(run->addr + k * PAGE_SIZE);
		cr_assert_eq(w[0] | w[1] | w[511], 0, "page %zu of a new run is not zeroed", k);
		w[0] = run->id;
		w[1] = k;
		w[511] = ~(uint64_t)run->id;
	}
}

static void check_stamp(const struct run *run)
{
	for (size_t k = 0; k < run->pages; k++) {
		const uint64_t *w = (const uint64_t *)(run->addr + k * PAGE_SIZE);
		cr_assert(w[0] == run->id && w[1] == k && w[511] == ~(uint64_t)run->id,
		          "run %u lost its contents in page %zu", run->id, k);
	}
}

/* A snapshot of everything a refused call must leave as it was. */
struct snapshot {
	struct heap_region r;
	size_t hp_mapped;
	void *descs;
};

static void take_snapshot(const struct model *m, struct snapshot *s)
{
	size_t bytes = m->r.desc_pages * PAGE_SIZE;

	s->r = m->r;
	s->hp_mapped = m->hp.mapped;
	s->descs = malloc(bytes ? bytes : 1);
	memcpy(s->descs, (const void *)m->r.base, bytes);
}

static void assert_unchanged(const struct model *m, struct snapshot *s)
{
	cr_assert_eq(memcmp(&s->r, &m->r, sizeof(m->r)), 0, "a refused call changed the region");
	cr_assert_eq(m->hp.mapped, s->hp_mapped, "a refused call changed what is mapped");
	cr_assert_eq(memcmp(s->descs, (const void *)m->r.base, m->r.desc_pages * PAGE_SIZE), 0,
	             "a refused call changed a descriptor");
	free(s->descs);
}

/* Allocates n pages; checks the answer against the model and records the run.  Returns it, or
 * 0 when the region refused, which the model must agree with (no fit, or the seam's budget). */
static uintptr_t model_alloc(struct model *m, size_t n)
{
	struct snapshot snap;
	bool fits = n > 0 && n <= m->r.data_pages && must_fit(m, n);
	uintptr_t addr;
	struct run *run;

	take_snapshot(m, &snap);
	addr = region_alloc_pages(&m->r, n);
	if (addr == 0) {
		bool budget_short = m->hp.budget - m->hp.mapped < (n + 1) * PAGE_SIZE;
		cr_assert(!fits || budget_short, "%zu pages refused though a run must fit", n);
		assert_unchanged(m, &snap);
		m->refusals++;
		return 0;
	}
	free(snap.descs);
	cr_assert(n > 0 && n <= m->r.data_pages);
	cr_assert(addr >= m->r.data_base && is_aligned(addr, PAGE_SIZE));
	cr_assert_leq(page_of(m, addr) + n, m->r.data_pages, "run past the end of the region");
	for (size_t k = 0; k < n; k++) {
		cr_assert_eq(m->owner[page_of(m, addr) + k], 0, "page %zu handed out twice", page_of(m, addr) + k);
		cr_assert_eq(region_page_owner(&m->r, addr + k * PAGE_SIZE), 0, "a new run has an owner");
	}
	run = &m->live[m->live_count++];
	*run = (struct run){ addr, n, m->next_id++ };
	for (size_t k = 0; k < n; k++)
		m->owner[page_of(m, addr) + k] = run->id;
	stamp(run);
	region_set_owner(&m->r, addr, run->id);
	m->allocs++;
	return addr;
}

static void model_free(struct model *m, size_t slot)
{
	struct run run = m->live[slot];

	check_stamp(&run);
	for (size_t k = 0; k < run.pages; k++)
		cr_assert_eq(region_page_owner(&m->r, run.addr + k * PAGE_SIZE), run.id);
	region_free_pages(&m->r, run.addr, run.pages);
	for (size_t k = 0; k < run.pages; k++) {
		m->owner[page_of(m, run.addr) + k] = 0;
		cr_assert_eq(region_page_owner(&m->r, run.addr + k * PAGE_SIZE), 0, "a free page kept its owner");
	}
	cr_assert(!readable(run.addr) && !readable(run.addr + run.pages * PAGE_SIZE - 1),
	          "a freed run is still mapped");
	m->live[slot] = m->live[--m->live_count];
	m->frees++;
}

static void model_free_at(struct model *m, uintptr_t addr)
{
	for (size_t i = 0; i < m->live_count; i++)
		if (m->live[i].addr == addr) {
			model_free(m, i);
			return;
		}
	cr_assert_fail("no run at %#lx", (unsigned long)addr);
}

static void model_free_all(struct model *m, struct rng *rng)
{
	while (m->live_count > 0)
		model_free(m, rng_below(rng, m->live_count));
	assert_consistent(&m->r);
	assert_mapped(m);
}

/* Probes owners at random addresses, in the region and around it. */
static void probe_owners(const struct model *m, struct rng *rng)
{
	for (int k = 0; k < 8; k++) {
		uintptr_t addr = m->r.base + rng_below(rng, m->r.limit + 2 * PAGE_SIZE) - PAGE_SIZE;
		uint32_t expect = 0;

		if (addr >= m->r.data_base && page_of(m, addr) < m->r.data_pages)
			expect = m->owner[page_of(m, addr)];
		cr_assert_eq(region_page_owner(&m->r, addr), expect, "owner of %#lx", (unsigned long)addr);
	}
}

/* Run lengths: mostly slab-sized, sometimes long, now and then huge. */
static size_t random_length(struct rng *rng, size_t longest)
{
	size_t n;

	if (rng_one_in(rng, 50))
		n = 1 + rng_below(rng, longest / 4);
	else if (rng_one_in(rng, 6))
		n = 9 + rng_below(rng, 56);
	else
		n = 1 + rng_below(rng, 8);
	return n;
}

/* Random allocs and frees, the model checking each, region_check after each. */
static void workout(struct model *m, uint64_t seed, int ops, unsigned alloc_percent)
{
	struct rng rng = rng_seed(seed);

	for (int op = 0; op < ops; op++) {
		if (m->live_count == 0 || rng_below(&rng, 100) < alloc_percent)
			model_alloc(m, random_length(&rng, m->r.data_pages));
		else
			model_free(m, rng_below(&rng, m->live_count));
		assert_consistent(&m->r);
		assert_mapped(m);
		probe_owners(m, &rng);
	}
	cr_assert_gt(m->allocs, (size_t)ops / 4, "the workout hardly allocated");
	cr_assert_gt(m->frees, (size_t)ops / 4, "the workout hardly freed");
	model_free_all(m, &rng);
	cr_assert_eq(m->hp.mapped, 0, "everything freed, yet %zu bytes are mapped", m->hp.mapped);
}

/* ---- layout --------------------------------------------------------------------------------- */

static bool no_map(void *ctx, uintptr_t addr, size_t len) { (void)ctx; (void)addr; (void)len; return false; }
static void no_unmap(void *ctx, uintptr_t addr, size_t len) { (void)ctx; (void)addr; (void)len; }

static struct heap_region_config fake_config(uintptr_t base, size_t limit)
{
	return (struct heap_region_config){ base, limit, { no_map, no_unmap, NULL } };
}

Test(region_layout, descriptors_take_one_page_per_256)
{
	struct heap_region r;
	struct heap_region_config cfg = fake_config(0x40000000, 1024 * PAGE_SIZE);

	cr_assert(region_init(&r, &cfg));
	cr_assert_eq(r.data_base, cfg.base + 4 * PAGE_SIZE);
	cr_assert_eq(r.data_pages, 1020);
	cr_assert_eq(r.used_pages, 0);
	cr_assert_eq(region_mapped_bytes(&r), 0);

	cfg.limit = 1025 * PAGE_SIZE;
	cr_assert(region_init(&r, &cfg));
	cr_assert_eq(r.data_base, cfg.base + 5 * PAGE_SIZE);
	cr_assert_eq(r.data_pages, 1020);
}

Test(region_layout, a_one_page_region_has_no_room_for_runs)
{
	struct heap_region r;
	struct heap_region_config cfg = fake_config(0x40000000, PAGE_SIZE);

	cr_assert(region_init(&r, &cfg));
	cr_assert_eq(r.data_pages, 0);
	cr_assert_eq(region_alloc_pages(&r, 1), 0);
	cr_assert_eq(region_page_owner(&r, cfg.base), 0);
}

Test(region_layout, page_runs_use_the_first_16_tib_of_a_bigger_region)
{
	struct heap_region r;
	struct heap_region_config cfg = fake_config(0x100000000000, 64 * TIB);
	uint64_t descs = ((uint64_t)REGION_RUN_PAGES_MAX + DESCS_PER_PAGE - 1) / DESCS_PER_PAGE;

	cr_assert(region_init(&r, &cfg));
	cr_assert_eq(r.data_pages, REGION_RUN_PAGES_MAX - descs);
	cr_assert_eq(r.data_base, cfg.base + descs * PAGE_SIZE);
	cr_assert_eq(region_alloc_pages(&r, REGION_RUN_PAGES_MAX), 0, "more pages than the data area");
}

Test(region_layout, refuses_bad_configurations)
{
	struct heap_region r;
	struct heap_region_config cfg = fake_config(0x40000000 + 8, 16 * PAGE_SIZE);

	cr_assert_not(region_init(&r, &cfg), "unaligned base");
	cfg = fake_config(0x40000000, 16 * PAGE_SIZE + 1);
	cr_assert_not(region_init(&r, &cfg), "unaligned limit");
	cfg = fake_config(0x40000000, 0);
	cr_assert_not(region_init(&r, &cfg), "empty region");
	cfg = fake_config(UINTPTR_MAX - 4 * PAGE_SIZE + 1, 8 * PAGE_SIZE);
	cr_assert_not(region_init(&r, &cfg), "region wraps");
}

/* ---- allocation and free -------------------------------------------------------------------- */

Test(region_runs, first_runs_come_from_the_tail_in_address_order)
{
	struct model *m = model_new(1024 * PAGE_SIZE);
	uintptr_t a = model_alloc(m, 1), b = model_alloc(m, 2), c = model_alloc(m, 3);

	cr_assert_eq(a, m->r.data_base);
	cr_assert_eq(b, a + PAGE_SIZE);
	cr_assert_eq(c, b + 2 * PAGE_SIZE);
	assert_mapped(m);
	cr_assert_eq(m->hp.mapped, 7 * PAGE_SIZE, "six pages and one descriptor page");
	cr_assert(readable(c + 3 * PAGE_SIZE - 1) && !readable(c + 3 * PAGE_SIZE));
	model_delete(m);
}

Test(region_runs, a_hole_is_reused_and_the_rest_of_it_stays_free)
{
	struct model *m = model_new(1024 * PAGE_SIZE);
	uintptr_t a = model_alloc(m, 5);

	model_alloc(m, 1);
	model_free(m, 0);                              /* a 5-page hole below the used part */
	cr_assert_eq(model_alloc(m, 2), a, "the hole is a better fit than the tail");
	cr_assert_eq(model_alloc(m, 3), a + 2 * PAGE_SIZE, "the rest of the hole");
	cr_assert_eq(model_alloc(m, 1), a + 6 * PAGE_SIZE, "no hole left: the tail");
	assert_consistent(&m->r);
	assert_mapped(m);
	model_delete(m);
}

Test(region_runs, neighbours_merge_on_both_sides)
{
	struct model *m = model_new(1024 * PAGE_SIZE);
	uintptr_t a = model_alloc(m, 3), b = model_alloc(m, 4), c = model_alloc(m, 5);

	model_alloc(m, 1);     /* keeps the three off the tail */
	model_free_at(m, b);
	model_free_at(m, a);   /* merges right */
	model_free_at(m, c);   /* merges left */
	assert_consistent(&m->r);
	cr_assert_eq(model_alloc(m, 12), a, "3 + 4 + 5 pages merged into one run");
	assert_mapped(m);
	model_delete(m);
}

Test(region_runs, a_run_reaching_the_tail_joins_it_and_descriptors_go_back)
{
	struct model *m = model_new(4096 * PAGE_SIZE);
	struct rng rng = rng_seed(7);

	model_alloc(m, 1);
	model_alloc(m, 600);            /* the used part needs three descriptor pages */
	cr_assert_eq(m->r.desc_pages, 3);
	model_free(m, 1);
	cr_assert_eq(m->r.used_pages, 1, "the freed run joined the tail");
	cr_assert_eq(m->r.desc_pages, 1);
	assert_mapped(m);
	model_free_all(m, &rng);
	cr_assert_eq(m->r.used_pages, 0);
	cr_assert_eq(m->hp.mapped, 0);
	model_delete(m);
}

Test(region_runs, after_freeing_everything_the_whole_data_area_is_one_run)
{
	struct model *m = model_new(2048 * PAGE_SIZE);
	struct rng rng = rng_seed(11);

	while (model_alloc(m, 1 + rng_below(&rng, 12)) != 0)
		;
	while (model_alloc(m, 1) != 0)  /* fill the last gaps */
		;
	cr_assert_eq(model_live_pages(m), m->r.data_pages, "the region is full");
	cr_assert_eq(region_alloc_pages(&m->r, 1), 0);
	/* free every other run first, so that the later frees merge on both sides */
	for (size_t i = 0; i < m->live_count; i++)
		if (m->live[i].id % 2 == 0)
			model_free(m, i--);
	assert_consistent(&m->r);
	model_free_all(m, &rng);
	cr_assert_eq(model_alloc(m, m->r.data_pages), m->r.data_base, "one run of every data page");
	model_delete(m);
}

Test(region_runs, random_runs_against_the_model)
{
	struct model *m = model_new(2048 * PAGE_SIZE);

	workout(m, 1, 20000, 55);
	model_delete(m);
}

Test(region_runs, random_runs_in_a_crowded_region)
{
	struct model *m = model_new(512 * PAGE_SIZE);

	workout(m, 2, 20000, 70);
	cr_assert_gt(m->refusals, 100, "the region never filled up");
	model_delete(m);
}

Test(region_runs, random_runs_with_a_short_budget)
{
	struct model *m = model_new(2048 * PAGE_SIZE);

	m->hp.budget = 300 * PAGE_SIZE;
	workout(m, 3, 20000, 60);
	cr_assert_gt(m->refusals, 100, "the budget never ran out");
	model_delete(m);
}

/* ---- refusals ------------------------------------------------------------------------------- */

Test(region_refusals, zero_pages_and_more_than_the_region)
{
	struct model *m = model_new(256 * PAGE_SIZE);

	cr_assert_eq(model_alloc(m, 0), 0);
	cr_assert_eq(model_alloc(m, m->r.data_pages + 1), 0);
	cr_assert_eq(model_alloc(m, SIZE_MAX), 0);
	cr_assert_eq(model_alloc(m, (size_t)UINT32_MAX + 2), 0, "does not wrap to 1 page");
	cr_assert_eq(m->hp.map_calls, 0);
	cr_assert_neq(model_alloc(m, m->r.data_pages), 0, "exactly the data area fits");
	cr_assert_eq(model_alloc(m, 1), 0, "full");
	model_delete(m);
}

Test(region_refusals, seam_refuses_the_descriptor_page)
{
	struct model *m = model_new(256 * PAGE_SIZE);

	m->hp.budget = 0;
	cr_assert_eq(model_alloc(m, 1), 0);
	cr_assert_eq(m->hp.mapped, 0);
	m->hp.budget = SIZE_MAX;
	cr_assert_eq(model_alloc(m, 1), m->r.data_base, "works once memory is back");
	model_delete(m);
}

Test(region_refusals, seam_refuses_the_run_after_the_descriptor_page)
{
	struct model *m = model_new(256 * PAGE_SIZE);

	m->hp.budget = 2 * PAGE_SIZE;   /* the descriptor page fits, two more pages do not */
	cr_assert_eq(model_alloc(m, 2), 0);
	cr_assert_eq(m->hp.mapped, 0, "the descriptor page went back");
	cr_assert_eq(m->hp.unmap_calls, 1);
	cr_assert_eq(model_alloc(m, 1), m->r.data_base);
	model_delete(m);
}

Test(region_refusals, seam_refuses_a_hole)
{
	struct model *m = model_new(256 * PAGE_SIZE);

	model_alloc(m, 6);
	model_alloc(m, 1);
	model_free(m, 0);
	m->hp.budget = m->hp.mapped + 2 * PAGE_SIZE;
	cr_assert_eq(model_alloc(m, 3), 0, "the hole fits, the budget does not");
	cr_assert_eq(model_alloc(m, 2), m->r.data_base, "a smaller run from the same hole");
	assert_consistent(&m->r);
	model_delete(m);
}

/* ---- owners and walks ----------------------------------------------------------------------- */

Test(region_owners, every_page_of_a_run_has_its_owner_and_nothing_else_does)
{
	struct model *m = model_new(256 * PAGE_SIZE);
	uintptr_t a = model_alloc(m, 3), b = model_alloc(m, 2);

	region_set_owner(&m->r, a, 0xa11ce);
	for (int k = 0; k < 3; k++)
		cr_assert_eq(region_page_owner(&m->r, a + k * PAGE_SIZE + 123), 0xa11ce);
	cr_assert_eq(region_page_owner(&m->r, b), m->live[1].id);
	cr_assert_eq(region_page_owner(&m->r, b + 2 * PAGE_SIZE), 0, "above the used part");
	cr_assert_eq(region_page_owner(&m->r, m->r.base), 0, "a descriptor page");
	cr_assert_eq(region_page_owner(&m->r, a - 1), 0, "just below the data area");
	cr_assert_eq(region_page_owner(&m->r, 0), 0);
	cr_assert_eq(region_page_owner(&m->r, UINTPTR_MAX), 0);
	cr_assert_eq(region_page_owner(&m->r, m->r.base + m->r.limit), 0);
	region_set_owner(&m->r, a, m->live[0].id);   /* what model_free checks */
	model_delete(m);
}

Test(region_owners, a_free_run_has_no_owner_even_where_its_bin_links_are)
{
	struct model *m = model_new(256 * PAGE_SIZE);
	uintptr_t a = model_alloc(m, 2), b;

	model_alloc(m, 1);
	b = model_alloc(m, 2);
	model_alloc(m, 1);
	model_free_at(m, a);
	model_free_at(m, b);   /* two free runs in one bin, linked to each other */
	cr_assert_eq(m->r.page[page_of(m, b)].bin.next, page_of(m, a), "the runs share a bin");
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(region_page_owner(&m->r, a + k * PAGE_SIZE), 0);
		cr_assert_eq(region_page_owner(&m->r, b + k * PAGE_SIZE), 0);
	}
	model_delete(m);
}

Test(region_owners, walks_see_the_runs_in_use_in_address_order)
{
	struct model *m = model_new(1024 * PAGE_SIZE);
	struct rng rng = rng_seed(5);
	uintptr_t addr = m->r.data_base, prev = 0;
	size_t pages, seen = 0, seen_pages = 0;

	for (int i = 0; i < 200; i++)
		model_alloc(m, 1 + rng_below(&rng, 5));
	for (int i = 0; i < 80; i++)
		model_free(m, rng_below(&rng, m->live_count));
	while ((addr = region_next_run(&m->r, addr, &pages)) != 0) {
		cr_assert_gt(addr, prev);
		cr_assert_neq(m->owner[page_of(m, addr)], 0);
		cr_assert(page_of(m, addr) == 0 || m->owner[page_of(m, addr) - 1] != m->owner[page_of(m, addr)]);
		prev = addr;
		seen++;
		seen_pages += pages;
		addr += pages * PAGE_SIZE;
	}
	cr_assert_eq(seen, m->live_count);
	cr_assert_eq(seen_pages, model_live_pages(m));
	model_delete(m);
}

Test(region_owners, destroy_unmaps_runs_and_descriptors)
{
	struct model *m = model_new(4096 * PAGE_SIZE);
	struct rng rng = rng_seed(9);

	for (int i = 0; i < 300; i++)
		model_alloc(m, 1 + rng_below(&rng, 20));
	for (int i = 0; i < 100; i++)
		model_free(m, rng_below(&rng, m->live_count));
	cr_assert_gt(m->r.desc_pages, 1);
	region_destroy(&m->r);
	cr_assert_eq(m->hp.mapped, 0);
	cr_assert_eq(region_mapped_bytes(&m->r), 0);
	cr_assert(!readable(m->r.base));
	m->live_count = 0;
	model_delete(m);   /* a second destroy finds nothing to do */
}

Test(region_owners, a_big_region_maps_only_what_it_uses)
{
	struct host_pages hp;
	struct heap_region r;
	struct heap_region_config cfg;
	uintptr_t a;

	cr_assert(host_pages_reserve(&hp, 1 * TIB));
	cfg = (struct heap_region_config){ hp.base, 1 * TIB, host_pages_seam(&hp) };
	cr_assert(region_init(&r, &cfg));
	cr_assert_eq(r.data_base - r.base, 1 * TIB / PAGE_SIZE / DESCS_PER_PAGE * PAGE_SIZE);
	a = region_alloc_pages(&r, 1);
	cr_assert_eq(a, r.data_base);
	cr_assert_eq(hp.mapped, 2 * PAGE_SIZE, "one descriptor page, one data page");
	region_free_pages(&r, a, 1);
	cr_assert_eq(hp.mapped, 0);
	assert_consistent(&r);
	region_destroy(&r);
	host_pages_release(&hp);
}

/* ---- broken invariants of the caller panic -------------------------------------------------- */

static struct model *two_runs(void)
{
	struct model *m = model_new(256 * PAGE_SIZE);

	model_alloc(m, 3);
	model_alloc(m, 1);
	return m;
}

Test(region_panics, free_of_a_run_interior, .signal = SIGABRT)
{
	struct model *m = two_runs();

	region_free_pages(&m->r, m->live[0].addr + PAGE_SIZE, 2);
}

Test(region_panics, free_with_the_wrong_length, .signal = SIGABRT)
{
	struct model *m = two_runs();

	region_free_pages(&m->r, m->live[0].addr, 2);
}

Test(region_panics, free_twice, .signal = SIGABRT)
{
	struct model *m = two_runs();
	uintptr_t a = m->live[0].addr;

	model_free(m, 0);
	region_free_pages(&m->r, a, 3);
}

Test(region_panics, free_above_the_used_part, .signal = SIGABRT)
{
	struct model *m = two_runs();

	region_free_pages(&m->r, m->r.data_base + 10 * PAGE_SIZE, 1);
}

Test(region_panics, free_of_a_descriptor_page, .signal = SIGABRT)
{
	struct model *m = two_runs();

	region_free_pages(&m->r, m->r.base, 1);
}

Test(region_panics, owner_for_a_run_that_is_not_there, .signal = SIGABRT)
{
	struct model *m = two_runs();

	region_set_owner(&m->r, m->live[0].addr + PAGE_SIZE, 1);
}

/* ---- brk style still works beside the page runs --------------------------------------------- */

Test(region_brk, grows_and_shrinks_by_whole_pages)
{
	struct host_pages hp;
	struct heap_region r;
	struct heap_region_config cfg;

	cr_assert(host_pages_reserve(&hp, 64 * PAGE_SIZE));
	cfg = (struct heap_region_config){ hp.base, 64 * PAGE_SIZE, host_pages_seam(&hp) };
	cr_assert(region_init(&r, &cfg));
	cr_assert(region_grow(&r, hp.base + 100));
	cr_assert_eq(hp.mapped, PAGE_SIZE);
	cr_assert(region_grow(&r, hp.base + 3 * PAGE_SIZE + 1));
	cr_assert_eq(hp.mapped, 4 * PAGE_SIZE);
	cr_assert_not(region_grow(&r, hp.base + 65 * PAGE_SIZE));
	region_shrink(&r, hp.base + PAGE_SIZE);
	cr_assert_eq(hp.mapped, PAGE_SIZE);
	region_destroy(&r);
	cr_assert_eq(hp.mapped, 0);
	cr_assert_eq(region_peak_bytes(&r), 4 * PAGE_SIZE);
	host_pages_release(&hp);
}
