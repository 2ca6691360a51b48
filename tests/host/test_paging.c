/*
 * Host tests of the page-table walker and mapper (mm/paging.c), over host/support/sim_space.
 *
 * The heart is a reference model (a sorted list of mappings) driven by 100 000 random
 * operations per configuration, valid and hostile, over both access techniques; every result,
 * a sample of translations and the page-table frame count are checked against the model after
 * each operation.  The rest are targeted cases: seL4-style argument errors, out-of-frames
 * rollback at every depth, effective flags, TLB flushing, table freeing, ranges and visiting.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "lib/rng.h"
#include "host/support/paging_rules.h"
#include "host/support/sim_space.h"
#include "lib/compiler.h"
#include "mm/paging.h"

#define LOWER_END   UINT64_C(0x0000800000000000)  /* first address above the lower half */
#define UPPER_START UINT64_C(0xffff800000000000)  /* first address of the upper half */
#define SLOT_SPAN   (UINT64_C(512) * GIB)         /* what one PML4 entry covers */
#define TOP_PAGE    UINT64_C(0xfffffffffffff000)

#define TEST_PHYS_LIMIT (UINT64_C(1) << 40)

static const enum sim_access accesses[] = { SIM_ACCESS_OFFSET, SIM_ACCESS_GUARDED };

/* ---------------------------------------------------------------------------------------------
 * Helpers.
 */

static void open_space(struct sim_space *s, enum sim_access access, bool allow_1g)
{
	struct sim_space_config cfg = { .access = access, .allow_1g = allow_1g, .phys_limit = TEST_PHYS_LIMIT };

	cr_assert(sim_space_create(s, &cfg), "cannot create the simulated space");
}

/* Every test ends here: the seam was used in balanced pairs, then the space goes away. */
static void close_space(struct sim_space *s)
{
	cr_assert(sim_guard_idle(s), "enter/leave unbalanced: %llu enters, %llu leaves",
	          (unsigned long long)s->guard.enters, (unsigned long long)s->guard.leaves);
	sim_space_destroy(s);
}

static uint64_t flushes(const struct sim_space *s)
{
	return s->tlb.page_flushes + s->tlb.full_flushes;
}

static void expect_status(enum paging_status got, enum paging_status want, const char *what)
{
	cr_assert_eq(got, want, "%s: got \"%s\", want \"%s\"", what, paging_status_message(got),
	             paging_status_message(want));
}

static unsigned size_level(uint64_t size)
{
	return size == PAGE_SIZE_1G ? 3 : size == PAGE_SIZE_2M ? 2 : 1;
}

static void map_ok(struct sim_space *s, uint64_t virt, uint64_t phys, uint64_t size, uint32_t flags)
{
	expect_status(paging_map(&s->space, virt, phys, size, flags), PAGING_OK, "map");
}

static void expect_mapped(struct sim_space *s, uint64_t virt, uint64_t phys, uint64_t size, uint32_t flags)
{
	struct translation t = paging_translate(&s->space, virt);

	expect_status(t.status, PAGING_OK, "translate");
	cr_assert_eq(t.phys, phys, "translate %#llx: phys %#llx, want %#llx", (unsigned long long)virt,
	             (unsigned long long)t.phys, (unsigned long long)phys);
	cr_assert_eq(t.page_size, size, "translate %#llx: size %#llx, want %#llx", (unsigned long long)virt,
	             (unsigned long long)t.page_size, (unsigned long long)size);
	cr_assert_eq(t.flags, flags, "translate %#llx: flags %#x, want %#x", (unsigned long long)virt, t.flags,
	             flags);
	cr_assert_eq(t.level, size_level(size), "translate %#llx: level %u", (unsigned long long)virt, t.level);
}

static void expect_unmapped(struct sim_space *s, uint64_t virt, unsigned absent_level)
{
	struct translation t = paging_translate(&s->space, virt);

	expect_status(t.status, PAGING_ERR_NOT_MAPPED, "translate");
	cr_assert_eq(t.level, absent_level, "translate %#llx: absent at level %u, want %u",
	             (unsigned long long)virt, t.level, absent_level);
}

/* Collects what paging_visit reports. */
struct visit_log {
	struct mapping *m;
	size_t count;
	size_t cap;
	size_t stop_after;  /* the callback returns false once it has this many; 0: never */
};

static bool log_mapping(void *ctx, const struct mapping *m)
{
	struct visit_log *log = ctx;

	if (log->count == log->cap) {
		log->cap = log->cap ? 2 * log->cap : 64;
		log->m = realloc(log->m, log->cap * sizeof(*log->m));
		cr_assert_not_null(log->m);
	}
	log->m[log->count++] = *m;
	return log->stop_after == 0 || log->count < log->stop_after;
}

static struct visit_log visit_range(struct sim_space *s, uint64_t start, uint64_t end)
{
	struct visit_log log = { 0 };

	paging_visit(&s->space, start, end, log_mapping, &log);
	return log;
}

/* ---------------------------------------------------------------------------------------------
 * The reference model: the mappings, sorted by virtual address, never overlapping.
 */

struct model_map {
	uint64_t virt;
	uint64_t phys;
	uint64_t size;
	uint32_t flags;
};

#define MODEL_MAX 20000

struct model {
	struct model_map m[MODEL_MAX];
	size_t n;
	bool allow_1g;
};

/* Index of the first mapping starting at or above `virt`. */
static size_t model_lower_bound(const struct model *md, uint64_t virt)
{
	size_t lo = 0, hi = md->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (md->m[mid].virt < virt)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The mapping holding `virt`, or NULL. */
static const struct model_map *model_find(const struct model *md, uint64_t virt)
{
	size_t i = model_lower_bound(md, virt);

	if (i < md->n && md->m[i].virt == virt)
		return &md->m[i];
	if (i > 0 && virt - md->m[i - 1].virt < md->m[i - 1].size)
		return &md->m[i - 1];
	return NULL;
}

/* A mapping overlapping [virt, virt + size), or NULL. */
static const struct model_map *model_overlap(const struct model *md, uint64_t virt, uint64_t size)
{
	const struct model_map *hit = model_find(md, virt);
	size_t i = model_lower_bound(md, virt);

	if (hit == NULL && i < md->n && md->m[i].virt - virt < size)
		hit = &md->m[i];
	return hit;
}

static void model_insert(struct model *md, uint64_t virt, uint64_t phys, uint64_t size, uint32_t flags)
{
	size_t i = model_lower_bound(md, virt);

	cr_assert_lt(md->n, MODEL_MAX, "model full");
	memmove(&md->m[i + 1], &md->m[i], (md->n - i) * sizeof(md->m[0]));
	md->m[i] = (struct model_map){ virt, phys, size, flags };
	md->n++;
}

static void model_remove(struct model *md, const struct model_map *m)
{
	size_t i = (size_t)(m - md->m);

	memmove(&md->m[i], &md->m[i + 1], (md->n - i - 1) * sizeof(md->m[0]));
	md->n--;
}

/* Whether the level-`level` table on the walk for `virt` exists.  Tables are created for the
 * mappings below them and freed when they empty, so it exists exactly when a mapping smaller
 * than its parent entry's span lies in that span.  The root always exists. */
static bool model_has_table(const struct model *md, uint64_t virt, unsigned level)
{
	if (level == PT_LEVELS)
		return true;

	uint64_t span = pt_entry_span(level + 1);
	uint64_t region = align_down(virt, span);
	size_t i = model_lower_bound(md, region);

	return i < md->n && md->m[i].virt - region < span && md->m[i].size < span;
}

/* The level whose entry is absent on the walk for an unmapped `virt`. */
static unsigned model_absent_level(const struct model *md, uint64_t virt)
{
	for (unsigned level = PT_LEVELS; level > 1; level--) {
		if (!model_has_table(md, virt, level - 1))
			return level;
	}
	return 1;
}

/* Tables a map of a page at `level` has to create. */
static unsigned model_tables_needed(const struct model *md, uint64_t virt, unsigned level)
{
	unsigned needed = 0;

	for (unsigned l = level; l < PT_LEVELS; l++)
		needed += !model_has_table(md, virt, l);
	return needed;
}

/* The page-table frames the model implies: the root, plus one table per distinct span that
 * holds mappings smaller than the span (mappings in one span are adjacent in sorted order). */
static uint64_t model_table_count(const struct model *md)
{
	uint64_t count = 1;

	for (unsigned level = 1; level < PT_LEVELS; level++) {
		uint64_t span = pt_entry_span(level + 1);
		bool any = false;
		uint64_t last = 0;

		for (size_t i = 0; i < md->n; i++) {
			uint64_t region = align_down(md->m[i].virt, span);

			if (md->m[i].size < span && (!any || region != last)) {
				count++;
				any = true;
				last = region;
			}
		}
	}
	return count;
}

/* What paging_map must answer, in its documented order of checks. */
static enum paging_status model_map_status(const struct model *md, uint64_t virt, uint64_t phys, uint64_t size,
                                           uint32_t flags, uint64_t budget)
{
	const struct model_map *hit;

	if (size != PAGE_SIZE && size != PAGE_SIZE_2M && !(size == PAGE_SIZE_1G && md->allow_1g))
		return PAGING_ERR_BAD_SIZE;
	if (!is_aligned(virt | phys, size))
		return PAGING_ERR_MISALIGNED;
	if (!is_canonical(virt))
		return PAGING_ERR_NONCANONICAL;
	if (flags & ~(uint32_t)PAGE_FLAGS_ALL)
		return PAGING_ERR_BAD_FLAGS;
	if (!rules_phys_fits(phys, size, TEST_PHYS_LIMIT))
		return PAGING_ERR_BAD_PHYS;
	hit = model_overlap(md, virt, size);
	if (hit != NULL)
		return hit->size > size ? PAGING_ERR_PARENT_HUGE : PAGING_ERR_ALREADY_MAPPED;
	if (model_tables_needed(md, virt, size_level(size)) > budget)
		return PAGING_ERR_NO_FRAMES;
	return PAGING_OK;
}

/* What paging_unmap and paging_protect find at `virt` once their arguments are valid. */
static enum paging_status model_start_status(const struct model *md, uint64_t virt, const struct model_map **hit)
{
	if (!is_canonical(virt))
		return PAGING_ERR_NONCANONICAL;
	*hit = model_find(md, virt);
	if (*hit == NULL)
		return PAGING_ERR_NOT_MAPPED;
	return (*hit)->virt == virt ? PAGING_OK : PAGING_ERR_MISALIGNED;
}

/* The page paging_map_range uses at each step. */
static uint64_t model_piece(const struct model *md, uint64_t virt, uint64_t phys, uint64_t remaining)
{
	if (md->allow_1g && is_aligned(virt | phys, PAGE_SIZE_1G) && remaining >= PAGE_SIZE_1G)
		return PAGE_SIZE_1G;
	if (is_aligned(virt | phys, PAGE_SIZE_2M) && remaining >= PAGE_SIZE_2M)
		return PAGE_SIZE_2M;
	return PAGE_SIZE;
}

/* ---------------------------------------------------------------------------------------------
 * Checking the real tables against the model.
 */

static void check_translation(struct sim_space *s, const struct model *md, uint64_t virt)
{
	const struct model_map *m = model_find(md, virt);

	if (!is_canonical(virt))
		expect_status(paging_translate(&s->space, virt).status, PAGING_ERR_NONCANONICAL, "translate");
	else if (m != NULL)
		expect_mapped(s, virt, m->phys + (virt - m->virt), m->size, m->flags);
	else
		expect_unmapped(s, virt, model_absent_level(md, virt));
}

/* paging_visit over [start, end) lists exactly the model's mappings overlapping it, in order. */
static void check_visit(struct sim_space *s, const struct model *md, uint64_t start, uint64_t end)
{
	struct visit_log log = visit_range(s, start, end);
	const struct model_map *holding_start = model_find(md, start);
	size_t i = holding_start ? (size_t)(holding_start - md->m) : model_lower_bound(md, start);
	size_t k = 0;

	if (end != 0 && end <= start)
		i = md->n;  /* an empty range */
	for (; i < md->n && (end == 0 || md->m[i].virt < end); i++, k++) {
		const struct model_map *m = &md->m[i];

		cr_assert_lt(k, log.count, "visit missed the mapping at %#llx", (unsigned long long)m->virt);
		cr_assert_eq(log.m[k].virt, m->virt, "visit #%zu: virt %#llx, want %#llx", k,
		             (unsigned long long)log.m[k].virt, (unsigned long long)m->virt);
		cr_assert_eq(log.m[k].phys, m->phys);
		cr_assert_eq(log.m[k].size, m->size);
		cr_assert_eq(log.m[k].level, size_level(m->size));
		cr_assert_eq(log.m[k].flags, m->flags);
	}
	cr_assert_eq(k, log.count, "visit reported %zu mappings, the model has %zu", log.count, k);
	free(log.m);
}

static void check_state(struct sim_space *s, const struct model *md)
{
	cr_assert(sim_guard_idle(s), "enter/leave unbalanced");
	cr_assert_eq(sim_tables_in_use(s), model_table_count(md), "%llu tables in use, the model implies %llu",
	             (unsigned long long)sim_tables_in_use(s), (unsigned long long)model_table_count(md));
}

/* ---------------------------------------------------------------------------------------------
 * Random operations.  Addresses come from a small arena so that operations collide often: four
 * PML4 slots (both ends of both halves), in each the first 4 GiB, in each GiB the first eight
 * 2 MiB, in each of those the first sixteen pages.
 */

static const uint64_t arena_slots[] = { 0, LOWER_END - SLOT_SPAN, UPPER_START, UINT64_C(0) - SLOT_SPAN };

static uint64_t arena_address(struct rng *r, uint64_t size)
{
	uint64_t virt = arena_slots[rng_below(r, 4)] + rng_below(r, 4) * PAGE_SIZE_1G;

	if (size <= PAGE_SIZE_2M)
		virt += rng_below(r, 8) * PAGE_SIZE_2M;
	if (size <= PAGE_SIZE)
		virt += rng_below(r, 16) * PAGE_SIZE;
	return virt;
}

static uint64_t random_size(struct rng *r)
{
	static const uint64_t sizes[] = { PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE_2M, PAGE_SIZE_2M, PAGE_SIZE_1G };

	return sizes[rng_below(r, ARRAY_SIZE(sizes))];
}

static uint32_t random_flags(struct rng *r)
{
	return (uint32_t)rng_below(r, PAGE_FLAGS_ALL + 1);
}

/* A non-canonical address of some alignment. */
static uint64_t random_noncanonical(struct rng *r)
{
	uint64_t v = LOWER_END + align_down(rng_below(r, UPPER_START - LOWER_END), PAGE_SIZE_1G);

	return rng_one_in(r, 4) ? UINT64_C(1) << (48 + rng_below(r, 16)) : v;
}

/* An address where something may be: a mapping's start, a page inside one, or the arena. */
static uint64_t random_target(struct rng *r, const struct model *md)
{
	if (md->n > 0 && !rng_one_in(r, 3)) {
		const struct model_map *m = &md->m[rng_below(r, md->n)];

		return rng_one_in(r, 5) ? m->virt + align_down(rng_below(r, m->size), PAGE_SIZE) : m->virt;
	}
	return arena_address(r, PAGE_SIZE);
}

/* Spoils one argument of a map in one of the ways the mapper must refuse. */
static void spoil(struct rng *r, uint64_t *virt, uint64_t *phys, uint64_t *size, uint32_t *flags)
{
	switch (rng_below(r, 6)) {
	case 0:
		*virt += *size == PAGE_SIZE ? 1 + rng_below(r, PAGE_SIZE - 1) : PAGE_SIZE * (1 + rng_below(r, 3));
		break;
	case 1:
		*phys += *size == PAGE_SIZE ? 8 : PAGE_SIZE;
		break;
	case 2:
		*virt = random_noncanonical(r);
		break;
	case 3:
		*flags |= 1u << (6 + rng_below(r, 26));
		break;
	case 4:  /* at or past the limit, or straddling it (then also misaligned) */
		*phys = TEST_PHYS_LIMIT - (rng_one_in(r, 2) ? 0 : *size / 2) + rng_below(r, 4) * *size;
		break;
	default:
		*size = rng_one_in(r, 2) ? 8 * KIB : 2 * PAGE_SIZE_1G;
		break;
	}
}

static enum paging_status random_map(struct sim_space *s, struct model *md, struct rng *r)
{
	uint64_t size = random_size(r);
	uint64_t virt = arena_address(r, size);
	uint64_t phys = rng_below(r, TEST_PHYS_LIMIT / size) * size;
	uint32_t flags = random_flags(r);
	uint64_t budget = SIM_UNLIMITED;

	if (rng_one_in(r, 8))
		spoil(r, &virt, &phys, &size, &flags);
	if (rng_one_in(r, 6))
		budget = rng_below(r, 4);

	enum paging_status want = model_map_status(md, virt, phys, size, flags, budget);
	uint64_t tables = sim_tables_in_use(s);

	s->frames.budget = budget;
	sim_records_reset(s);
	expect_status(paging_map(&s->space, virt, phys, size, flags), want, "random map");
	s->frames.budget = SIM_UNLIMITED;
	if (want == PAGING_OK)
		model_insert(md, virt, phys, size, flags);
	else
		cr_assert_eq(sim_tables_in_use(s), tables, "a failed map changed the table count");
	if (want != PAGING_OK || !(flags & PAGE_USER))
		cr_assert_eq(flushes(s), 0, "a kernel or failed map flushed the TLB");
	return want;
}

static enum paging_status random_unmap(struct sim_space *s, struct model *md, struct rng *r)
{
	uint64_t virt = rng_one_in(r, 10) ? random_noncanonical(r) : random_target(r, md);
	const struct model_map *hit = NULL;
	enum paging_status want = model_start_status(md, virt, &hit);
	uint64_t phys = 1, size = 1;

	sim_records_reset(s);
	expect_status(paging_unmap(&s->space, virt, &phys, &size), want, "random unmap");
	if (want != PAGING_OK) {
		cr_assert(phys == 1 && size == 1, "a failed unmap wrote its results");
		return want;
	}
	cr_assert_eq(phys, hit->phys);
	cr_assert_eq(size, hit->size);
	cr_assert(sim_tlb_flushed(s, virt), "unmap did not flush %#llx", (unsigned long long)virt);
	cr_assert_eq(s->tlb.page_flushes, 1);
	model_remove(md, hit);
	return want;
}

static enum paging_status random_protect(struct sim_space *s, struct model *md, struct rng *r)
{
	uint64_t virt = rng_one_in(r, 10) ? random_noncanonical(r) : random_target(r, md);
	uint32_t flags = rng_one_in(r, 12) ? PAGE_FLAGS_ALL + 1 : random_flags(r);
	const struct model_map *hit = NULL;
	enum paging_status want = flags & ~(uint32_t)PAGE_FLAGS_ALL ? PAGING_ERR_BAD_FLAGS
	                                                            : model_start_status(md, virt, &hit);

	sim_records_reset(s);
	expect_status(paging_protect(&s->space, virt, flags), want, "random protect");
	if (want != PAGING_OK) {
		cr_assert_eq(flushes(s), 0, "a failed protect flushed");
		return want;
	}
	if (hit->flags != flags)
		cr_assert(sim_tlb_flushed(s, virt), "protect did not flush %#llx", (unsigned long long)virt);
	else if (!(flags & PAGE_USER))
		cr_assert_eq(flushes(s), 0, "protect without a change flushed");
	md->m[hit - md->m].flags = flags;
	return want;
}

/* A range around the arena: from a page of it, a few pages or a few 2 MiB long. */
static void random_range(struct rng *r, uint64_t *virt, uint64_t *length)
{
	*virt = arena_address(r, rng_one_in(r, 3) ? PAGE_SIZE_2M : PAGE_SIZE);
	*length = rng_one_in(r, 4) ? rng_below(r, 4) * PAGE_SIZE_2M + rng_below(r, 3) * PAGE_SIZE
	                           : rng_below(r, 24) * PAGE_SIZE;
	if (rng_one_in(r, 16))
		*virt = rng_one_in(r, 2) ? random_noncanonical(r) : LOWER_END - PAGE_SIZE;  /* crosses the hole */
	if (rng_one_in(r, 16))
		*length += 1 + rng_below(r, PAGE_SIZE - 1);
}

/* Removes the model's mappings that start in [virt, virt + length). */
static void model_remove_range(struct model *md, uint64_t virt, uint64_t length)
{
	for (size_t i = model_lower_bound(md, virt); i < md->n && md->m[i].virt - virt < length;)
		model_remove(md, &md->m[i]);
}

static enum paging_status random_map_range(struct sim_space *s, struct model *md, struct rng *r)
{
	uint64_t virt, length, done = 0;
	uint64_t phys = rng_below(r, TEST_PHYS_LIMIT / PAGE_SIZE_2M) * PAGE_SIZE_2M;
	uint32_t flags = random_flags(r);
	const uint64_t budget = rng_one_in(r, 4) ? rng_below(r, 3) : SIM_UNLIMITED;
	uint64_t frames_left = budget;
	enum paging_status want;

	random_range(r, &virt, &length);
	if (rng_one_in(r, 4))
		phys += PAGE_SIZE * rng_below(r, 512);  /* virt and phys aligned differently */
	if (rng_one_in(r, 16))
		phys = TEST_PHYS_LIMIT - PAGE_SIZE * rng_below(r, 8);
	if (rng_one_in(r, 32))
		flags |= 1u << (6 + rng_below(r, 26));

	want = rules_virt_range(virt, length);
	if (want == PAGING_OK && flags & ~(uint32_t)PAGE_FLAGS_ALL)
		want = PAGING_ERR_BAD_FLAGS;
	if (want == PAGING_OK && !rules_phys_fits(phys, length, TEST_PHYS_LIMIT))
		want = PAGING_ERR_BAD_PHYS;
	/* Piece by piece, as the mapper goes: each may meet a mapping or run out of frames. */
	while (want == PAGING_OK && done < length) {
		uint64_t size = model_piece(md, virt + done, phys + done, length - done);
		const struct model_map *hit = model_overlap(md, virt + done, size);
		unsigned needed = model_tables_needed(md, virt + done, size_level(size));

		if (hit != NULL) {
			want = hit->size > size ? PAGING_ERR_PARENT_HUGE : PAGING_ERR_ALREADY_MAPPED;
		} else if (needed > frames_left) {
			want = PAGING_ERR_NO_FRAMES;
		} else {
			model_insert(md, virt + done, phys + done, size, flags);
			if (frames_left != SIM_UNLIMITED)
				frames_left -= needed;
			done += size;
		}
	}
	if (want != PAGING_OK)
		model_remove_range(md, virt, done);

	s->frames.budget = budget;
	expect_status(paging_map_range(&s->space, virt, phys, length, flags), want, "random map_range");
	s->frames.budget = SIM_UNLIMITED;
	return want;
}

static enum paging_status random_unmap_range(struct sim_space *s, struct model *md, struct rng *r)
{
	uint64_t virt, length;
	enum paging_status want;

	random_range(r, &virt, &length);
	want = rules_virt_range(virt, length);
	if (want == PAGING_OK && length != 0) {
		const struct model_map *first = model_find(md, virt);
		const struct model_map *last = model_find(md, virt + length - 1);

		if ((first && first->virt < virt) || (last && last->virt + last->size - 1 > virt + length - 1))
			want = PAGING_ERR_MISALIGNED;
	}
	expect_status(paging_unmap_range(&s->space, virt, length), want, "random unmap_range");
	if (want == PAGING_OK)
		model_remove_range(md, virt, length);
	return want;
}

enum random_op { OP_MAP, OP_UNMAP, OP_PROTECT, OP_MAP_RANGE, OP_UNMAP_RANGE, OP_COUNT };

static enum paging_status (*const random_ops[OP_COUNT])(struct sim_space *, struct model *, struct rng *) = {
	random_map, random_unmap, random_protect, random_map_range, random_unmap_range,
};

/* How often each operation ended in each status: the run must have reached them all. */
typedef uint64_t outcome_counts[OP_COUNT][PAGING_ERR_NOT_MAPPED + 1];

static void random_step(struct sim_space *s, struct model *md, struct rng *r, outcome_counts counts)
{
	static const unsigned weights[OP_COUNT] = { 40, 22, 18, 10, 10 };
	unsigned pick = (unsigned)rng_below(r, 100);
	enum random_op op = OP_MAP;

	while (pick >= weights[op]) {
		pick -= weights[op];
		op++;
	}
	counts[op][random_ops[op](s, md, r)]++;
}

/* Every operation must have met each outcome it can have, a fair number of times. */
static void check_coverage(outcome_counts counts)
{
	static const uint32_t expected[OP_COUNT] = {
		[OP_MAP] = 1u << PAGING_OK | 1u << PAGING_ERR_NONCANONICAL | 1u << PAGING_ERR_MISALIGNED |
		           1u << PAGING_ERR_BAD_SIZE | 1u << PAGING_ERR_BAD_FLAGS | 1u << PAGING_ERR_BAD_PHYS |
		           1u << PAGING_ERR_ALREADY_MAPPED | 1u << PAGING_ERR_PARENT_HUGE | 1u << PAGING_ERR_NO_FRAMES,
		[OP_UNMAP] = 1u << PAGING_OK | 1u << PAGING_ERR_NONCANONICAL | 1u << PAGING_ERR_MISALIGNED |
		             1u << PAGING_ERR_NOT_MAPPED,
		[OP_PROTECT] = 1u << PAGING_OK | 1u << PAGING_ERR_NONCANONICAL | 1u << PAGING_ERR_MISALIGNED |
		               1u << PAGING_ERR_BAD_FLAGS | 1u << PAGING_ERR_NOT_MAPPED,
		[OP_MAP_RANGE] = 1u << PAGING_OK | 1u << PAGING_ERR_NONCANONICAL | 1u << PAGING_ERR_MISALIGNED |
		                 1u << PAGING_ERR_BAD_FLAGS | 1u << PAGING_ERR_BAD_PHYS | 1u << PAGING_ERR_ALREADY_MAPPED |
		                 1u << PAGING_ERR_PARENT_HUGE | 1u << PAGING_ERR_NO_FRAMES,
		[OP_UNMAP_RANGE] = 1u << PAGING_OK | 1u << PAGING_ERR_NONCANONICAL | 1u << PAGING_ERR_MISALIGNED,
	};

	for (unsigned op = 0; op < OP_COUNT; op++) {
		for (unsigned st = 0; st <= PAGING_ERR_NOT_MAPPED; st++) {
			if (!(expected[op] & 1u << st))
				continue;
			cr_assert_geq(counts[op][st], 20u, "operation %u reached \"%s\" only %llu times", op,
			              paging_status_message((enum paging_status)st), (unsigned long long)counts[op][st]);
		}
	}
}

#define RANDOM_OPS 100000

static struct model the_model;

static void run_random(enum sim_access access, bool allow_1g, uint64_t seed)
{
	struct sim_space s;
	struct model *md = &the_model;
	struct rng r = rng_seed(seed);
	outcome_counts counts = { { 0 } };

	open_space(&s, access, allow_1g);
	md->n = 0;
	md->allow_1g = allow_1g;
	for (unsigned op = 0; op < RANDOM_OPS; op++) {
		random_step(&s, md, &r, counts);
		check_state(&s, md);
		check_translation(&s, md, random_target(&r, md) + rng_below(&r, PAGE_SIZE));
		check_translation(&s, md, rng_one_in(&r, 8) ? random_noncanonical(&r) : arena_address(&r, PAGE_SIZE));
		if (op % 4096 == 0) {
			uint64_t start = arena_address(&r, PAGE_SIZE);

			check_visit(&s, md, start, rng_one_in(&r, 2) ? 0 : start + rng_below(&r, 8) * PAGE_SIZE_1G);
		}
	}
	check_coverage(counts);
	check_visit(&s, md, 0, 0);
	while (md->n > 0) {  /* from the back, so that the model's entries stay where they are */
		const struct model_map *m = &md->m[md->n - 1];
		uint64_t phys, size;

		expect_status(paging_unmap(&s.space, m->virt, &phys, &size), PAGING_OK, "clean up");
		cr_assert(phys == m->phys && size == m->size);
		md->n--;
	}
	check_visit(&s, md, 0, 0);
	cr_assert_eq(sim_tables_in_use(&s), 1u, "%llu tables left after unmapping everything",
	             (unsigned long long)sim_tables_in_use(&s));
	close_space(&s);
}

Test(paging_random, offset_access_with_1g)
{
	run_random(SIM_ACCESS_OFFSET, true, 0x5eed0001);
}

Test(paging_random, guarded_access_with_1g)
{
	run_random(SIM_ACCESS_GUARDED, true, 0x5eed0002);
}

Test(paging_random, offset_access_without_1g)
{
	run_random(SIM_ACCESS_OFFSET, false, 0x5eed0003);
}

/* ---------------------------------------------------------------------------------------------
 * Targeted cases.  Each body runs once per access technique on a fresh space.
 */

#define TEST_BOTH(suite, name, allow_1g)                              \
	static void suite##_##name##_body(struct sim_space *s);       \
	Test(suite, name)                                             \
	{                                                             \
		for (size_t a = 0; a < ARRAY_SIZE(accesses); a++) {   \
			struct sim_space s;                           \
			open_space(&s, accesses[a], allow_1g);        \
			suite##_##name##_body(&s);                    \
			close_space(&s);                              \
		}                                                     \
	}                                                             \
	static void suite##_##name##_body(struct sim_space *s)

/* A 512 GiB-aligned base in the lower half, and one in the upper half. */
#define BASE       UINT64_C(0x0000100000000000)
#define UPPER_BASE UINT64_C(0xffffc08000000000)

/* The entry the guarded or offset walk would read, seen directly in simulated memory. */
static pte_t *entry_at(struct sim_space *s, const struct pt_path *p, unsigned step)
{
	return &sim_table(s, p->table[step])[p->index[step]];
}

static struct pt_path path_of(struct sim_space *s, uint64_t virt)
{
	struct pt_path p;

	paging_walk_path(&s->space, virt, &p);
	return p;
}

static void expect_nothing_mapped(struct sim_space *s)
{
	struct visit_log log = visit_range(s, 0, 0);

	cr_assert_eq(log.count, 0, "%zu mappings left", log.count);
	cr_assert_eq(sim_tables_in_use(s), 1u, "%llu tables in use", (unsigned long long)sim_tables_in_use(s));
	free(log.m);
}

TEST_BOTH(map, each_page_size_translates, true)
{
	map_ok(s, BASE, 0x12345000, PAGE_SIZE, PAGE_WRITE | PAGE_NOEXEC);
	map_ok(s, BASE + 3 * PAGE_SIZE_2M, 0x40200000, PAGE_SIZE_2M, PAGE_GLOBAL);
	map_ok(s, BASE + 5 * PAGE_SIZE_1G, 7 * PAGE_SIZE_1G, PAGE_SIZE_1G, PAGE_USER);

	expect_mapped(s, BASE + 0x123, 0x12345123, PAGE_SIZE, PAGE_WRITE | PAGE_NOEXEC);
	expect_mapped(s, BASE + 3 * PAGE_SIZE_2M + 0x1abcde, 0x40200000 + 0x1abcde, PAGE_SIZE_2M, PAGE_GLOBAL);
	expect_mapped(s, BASE + 5 * PAGE_SIZE_1G + 0x3fedcba9, 7 * PAGE_SIZE_1G + 0x3fedcba9, PAGE_SIZE_1G,
	              PAGE_USER);
	expect_unmapped(s, BASE + PAGE_SIZE, 1);
	expect_unmapped(s, BASE + PAGE_SIZE_2M, 2);
	expect_unmapped(s, BASE + 2 * PAGE_SIZE_1G, 3);
	expect_unmapped(s, BASE + SLOT_SPAN, 4);
	cr_assert_eq(sim_tables_in_use(s), 4u, "root, PDPT, one PD, one PT");

	/* The extremes of both halves. */
	map_ok(s, 0, 0x5000, PAGE_SIZE, 0);
	map_ok(s, LOWER_END - PAGE_SIZE, 0x6000, PAGE_SIZE, 0);
	map_ok(s, UPPER_START, 0x7000, PAGE_SIZE, 0);
	map_ok(s, TOP_PAGE, 0x8000, PAGE_SIZE, 0);
	expect_mapped(s, 0, 0x5000, PAGE_SIZE, 0);
	expect_mapped(s, LOWER_END - 1, 0x6fff, PAGE_SIZE, 0);
	expect_mapped(s, UPPER_START + 8, 0x7008, PAGE_SIZE, 0);
	expect_mapped(s, UINT64_MAX, 0x8fff, PAGE_SIZE, 0);
}

TEST_BOTH(map, misaligned_virt_or_phys_is_refused, true)
{
	static const uint64_t sizes[] = { PAGE_SIZE, PAGE_SIZE_2M, PAGE_SIZE_1G };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t size = sizes[i];
		uint64_t off = size == PAGE_SIZE ? 0x800 : PAGE_SIZE;

		expect_status(paging_map(&s->space, BASE + off, 0, size, 0), PAGING_ERR_MISALIGNED, "virt");
		expect_status(paging_map(&s->space, BASE + 1, 0, size, 0), PAGING_ERR_MISALIGNED, "virt + 1");
		expect_status(paging_map(&s->space, BASE, off, size, 0), PAGING_ERR_MISALIGNED, "phys");
		expect_status(paging_map(&s->space, BASE, size + 8, size, 0), PAGING_ERR_MISALIGNED, "phys + 8");
	}
	expect_nothing_mapped(s);
}

TEST_BOTH(map, remap_is_already_mapped, true)
{
	static const uint64_t sizes[] = { PAGE_SIZE, PAGE_SIZE_2M, PAGE_SIZE_1G };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t virt = BASE + i * PAGE_SIZE_1G;
		uint64_t tables;

		map_ok(s, virt, sizes[i], sizes[i], PAGE_WRITE);
		tables = sim_tables_in_use(s);
		expect_status(paging_map(&s->space, virt, 2 * sizes[i], sizes[i], 0), PAGING_ERR_ALREADY_MAPPED,
		              "remap");
		expect_mapped(s, virt, sizes[i], sizes[i], PAGE_WRITE);
		cr_assert_eq(sim_tables_in_use(s), tables);
	}
}

TEST_BOTH(map, page_under_a_huge_page_is_parent_huge, true)
{
	uint64_t tables;

	map_ok(s, BASE, 0, PAGE_SIZE_2M, PAGE_WRITE);
	map_ok(s, BASE + PAGE_SIZE_1G, PAGE_SIZE_1G, PAGE_SIZE_1G, PAGE_WRITE);
	tables = sim_tables_in_use(s);

	expect_status(paging_map(&s->space, BASE + PAGE_SIZE, 0, PAGE_SIZE, 0), PAGING_ERR_PARENT_HUGE, "4K in 2M");
	expect_status(paging_map(&s->space, BASE + PAGE_SIZE_1G + 5 * PAGE_SIZE, 0, PAGE_SIZE, 0),
	              PAGING_ERR_PARENT_HUGE, "4K in 1G");
	expect_status(paging_map(&s->space, BASE + PAGE_SIZE_1G + PAGE_SIZE_2M, 0, PAGE_SIZE_2M, 0),
	              PAGING_ERR_PARENT_HUGE, "2M in 1G");
	cr_assert_eq(sim_tables_in_use(s), tables, "a refused map created tables");
	expect_mapped(s, BASE + PAGE_SIZE, PAGE_SIZE, PAGE_SIZE_2M, PAGE_WRITE);
	expect_mapped(s, BASE + PAGE_SIZE_1G + 5 * PAGE_SIZE, PAGE_SIZE_1G + 5 * PAGE_SIZE, PAGE_SIZE_1G, PAGE_WRITE);
}

TEST_BOTH(map, huge_page_over_a_table_is_already_mapped, true)
{
	uint64_t tables;

	map_ok(s, BASE + PAGE_SIZE, 0x1000, PAGE_SIZE, 0);
	tables = sim_tables_in_use(s);
	expect_status(paging_map(&s->space, BASE, 0, PAGE_SIZE_2M, 0), PAGING_ERR_ALREADY_MAPPED, "2M over a PT");
	expect_status(paging_map(&s->space, BASE, 0, PAGE_SIZE_1G, 0), PAGING_ERR_ALREADY_MAPPED, "1G over a PD");
	cr_assert_eq(sim_tables_in_use(s), tables);
	expect_unmapped(s, BASE, 1);
}

TEST_BOTH(map, noncanonical_addresses_are_refused, true)
{
	static const uint64_t bad[] = { LOWER_END, UPPER_START - PAGE_SIZE, UINT64_C(1) << 63,
	                                LOWER_END + PAGE_SIZE_1G, UINT64_C(0x00ff000000000000) };
	struct pt_path path;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		expect_status(paging_map(&s->space, bad[i], 0, PAGE_SIZE, 0), PAGING_ERR_NONCANONICAL, "map");
		expect_status(paging_translate(&s->space, bad[i]).status, PAGING_ERR_NONCANONICAL, "translate");
		expect_status(paging_unmap(&s->space, bad[i], NULL, NULL), PAGING_ERR_NONCANONICAL, "unmap");
		expect_status(paging_protect(&s->space, bad[i], 0), PAGING_ERR_NONCANONICAL, "protect");
		expect_status(paging_walk_path(&s->space, bad[i], &path), PAGING_ERR_NONCANONICAL, "walk_path");
		cr_assert_eq(path.depth, 0);
		expect_status(paging_map_range(&s->space, bad[i], 0, PAGE_SIZE, 0), PAGING_ERR_NONCANONICAL,
		              "map_range");
		expect_status(paging_unmap_range(&s->space, bad[i], PAGE_SIZE), PAGING_ERR_NONCANONICAL,
		              "unmap_range");
	}
	/* Ranges that cross the hole or wrap around the top. */
	expect_status(paging_map_range(&s->space, LOWER_END - PAGE_SIZE, 0, 2 * PAGE_SIZE, 0),
	              PAGING_ERR_NONCANONICAL, "map_range across the hole");
	expect_status(paging_unmap_range(&s->space, LOWER_END - PAGE_SIZE, 2 * PAGE_SIZE), PAGING_ERR_NONCANONICAL,
	              "unmap_range across the hole");
	expect_status(paging_map_range(&s->space, TOP_PAGE, 0, 2 * PAGE_SIZE, 0), PAGING_ERR_NONCANONICAL,
	              "map_range wrapping");
	expect_status(paging_map_range(&s->space, 0, 0, UINT64_C(0) - PAGE_SIZE, 0), PAGING_ERR_NONCANONICAL,
	              "map_range of nearly everything");
	expect_nothing_mapped(s);
}

TEST_BOTH(map, unsupported_sizes_are_bad_size, false)
{
	static const uint64_t sizes[] = { 0, 1, 8 * KIB, 4 * MIB, PAGE_SIZE_1G, SLOT_SPAN, UINT64_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		expect_status(paging_map(&s->space, 0, 0, sizes[i], 0), PAGING_ERR_BAD_SIZE, "size");
	s->space.allow_1g = true;
	map_ok(s, 0, 0, PAGE_SIZE_1G, 0);
}

TEST_BOTH(map, unknown_flags_are_refused, true)
{
	map_ok(s, BASE, 0, PAGE_SIZE, PAGE_FLAGS_ALL);
	for (unsigned bit = 6; bit < 32; bit++) {
		uint32_t flags = PAGE_WRITE | 1u << bit;

		expect_status(paging_map(&s->space, BASE + PAGE_SIZE, 0, PAGE_SIZE, flags), PAGING_ERR_BAD_FLAGS, "map");
		expect_status(paging_protect(&s->space, BASE, flags), PAGING_ERR_BAD_FLAGS, "protect");
		expect_status(paging_map_range(&s->space, BASE + PAGE_SIZE, 0, PAGE_SIZE, flags), PAGING_ERR_BAD_FLAGS,
		              "map_range");
	}
	expect_mapped(s, BASE, 0, PAGE_SIZE, PAGE_FLAGS_ALL);
	expect_unmapped(s, BASE + PAGE_SIZE, 1);
}

TEST_BOTH(map, phys_beyond_the_limit_is_refused, true)
{
	const uint64_t limit = TEST_PHYS_LIMIT;

	expect_status(paging_map(&s->space, BASE, limit, PAGE_SIZE, 0), PAGING_ERR_BAD_PHYS, "4K at the limit");
	expect_status(paging_map(&s->space, BASE, limit, PAGE_SIZE_2M, 0), PAGING_ERR_BAD_PHYS, "2M at the limit");
	expect_status(paging_map(&s->space, BASE, TOP_PAGE & ~(PAGE_SIZE_1G - 1), PAGE_SIZE_1G, 0),
	              PAGING_ERR_BAD_PHYS, "1G near 2^64");
	expect_status(paging_map_range(&s->space, BASE, limit - PAGE_SIZE, 2 * PAGE_SIZE, 0), PAGING_ERR_BAD_PHYS,
	              "range over the limit");
	expect_status(paging_map_range(&s->space, BASE, TOP_PAGE, 2 * PAGE_SIZE, 0), PAGING_ERR_BAD_PHYS,
	              "range wrapping");
	expect_nothing_mapped(s);

	map_ok(s, BASE, limit - PAGE_SIZE, PAGE_SIZE, 0);
	map_ok(s, BASE + PAGE_SIZE_2M, limit - PAGE_SIZE_2M, PAGE_SIZE_2M, 0);
	map_ok(s, BASE + PAGE_SIZE_1G, limit - PAGE_SIZE_1G, PAGE_SIZE_1G, 0);

	/* A limit beyond what an entry can hold is cut to it, never truncating an address. */
	s->space.phys_limit = UINT64_MAX;
	expect_status(paging_map(&s->space, BASE + 2 * PAGE_SIZE_1G, PHYS_ADDR_LIMIT, PAGE_SIZE, 0),
	              PAGING_ERR_BAD_PHYS, "phys of 2^52");
	map_ok(s, BASE + 2 * PAGE_SIZE_1G, PHYS_ADDR_LIMIT - PAGE_SIZE, PAGE_SIZE, 0);
	expect_mapped(s, BASE + 2 * PAGE_SIZE_1G, PHYS_ADDR_LIMIT - PAGE_SIZE, PAGE_SIZE, 0);
}

/* Running out of frames after each of the tables a map needs, whatever already exists: the map
 * fails with NO_FRAMES, every frame it took is back, and the tables read as before. */
static void out_of_frames_case(enum sim_access access, unsigned level, unsigned existing)
{
	const uint64_t size = pt_entry_span(level);
	const unsigned needed = PT_LEVELS - level - existing;
	struct sim_space s;

	open_space(&s, access, true);
	if (existing > 0)  /* a neighbour that shares the walk down to the level-(4 - existing) table */
		map_ok(&s, BASE + pt_entry_span(PT_LEVELS - existing), 0, PAGE_SIZE, 0);

	struct pt_path before = path_of(&s, BASE);
	uint64_t tables = sim_tables_in_use(&s);

	for (unsigned budget = 0; budget < needed; budget++) {
		uint64_t allocs = s.frames.allocs;

		sim_records_reset(&s);
		s.frames.budget = budget;
		expect_status(paging_map(&s.space, BASE, 0, size, PAGE_USER), PAGING_ERR_NO_FRAMES, "map");
		cr_assert_eq(s.frames.allocs - allocs, budget, "the map did not use up its budget first");
		cr_assert_eq(sim_tables_in_use(&s), tables, "level %u, %u existing, budget %u: tables leaked", level,
		             existing, budget);
		cr_assert_eq(flushes(&s), 0);

		struct pt_path after = path_of(&s, BASE);

		cr_assert_eq(after.depth, before.depth);
		cr_assert_arr_eq(after.entry, before.entry, after.depth * sizeof(pte_t), "an entry changed");
		expect_unmapped(&s, BASE, PT_LEVELS - existing);
	}
	s.frames.budget = needed;
	map_ok(&s, BASE, 0, size, 0);
	cr_assert_eq(sim_tables_in_use(&s), tables + needed);
	close_space(&s);
}

Test(map, out_of_frames_at_every_depth_rolls_back)
{
	for (size_t a = 0; a < ARRAY_SIZE(accesses); a++) {
		for (unsigned level = 1; level <= 3; level++) {
			for (unsigned existing = 0; existing < PT_LEVELS - level; existing++)
				out_of_frames_case(accesses[a], level, existing);
		}
	}
}

TEST_BOTH(flags, effective_flags_combine_the_levels, true)
{
	const uint32_t rwu = PAGE_WRITE | PAGE_USER;
	struct pt_path p;

	map_ok(s, BASE, 0x1000, PAGE_SIZE, rwu);
	p = path_of(s, BASE);
	cr_assert_eq(p.depth, 4u);

	*entry_at(s, &p, 1) &= ~PTE_WRITABLE;  /* a read-only PDPT entry */
	expect_mapped(s, BASE, 0x1000, PAGE_SIZE, PAGE_USER);
	*entry_at(s, &p, 1) |= PTE_WRITABLE;

	*entry_at(s, &p, 2) &= ~PTE_USER;  /* a kernel-only PD entry */
	expect_mapped(s, BASE, 0x1000, PAGE_SIZE, PAGE_WRITE);
	*entry_at(s, &p, 2) |= PTE_USER;

	*entry_at(s, &p, 0) |= PTE_NX;  /* no execution anywhere under this PML4 entry */
	expect_mapped(s, BASE, 0x1000, PAGE_SIZE, rwu | PAGE_NOEXEC);

	struct visit_log log = visit_range(s, 0, 0);

	cr_assert_eq(log.count, 1u);
	cr_assert_eq(log.m[0].flags, rwu | PAGE_NOEXEC, "visit reports the effective flags too");
	free(log.m);
	*entry_at(s, &p, 0) &= ~PTE_NX;

	/* Caching and global come from the leaf alone. */
	for (unsigned step = 0; step < 3; step++)
		*entry_at(s, &p, step) |= PTE_PWT | PTE_PCD | PTE_GLOBAL;
	expect_mapped(s, BASE, 0x1000, PAGE_SIZE, rwu);
	map_ok(s, BASE + PAGE_SIZE, 0x2000, PAGE_SIZE, PAGE_WRITETHROUGH | PAGE_NOCACHE | PAGE_GLOBAL);
	expect_mapped(s, BASE + PAGE_SIZE, 0x2000, PAGE_SIZE, PAGE_WRITETHROUGH | PAGE_NOCACHE | PAGE_GLOBAL);

	/* The same for a huge page: a read-only PML4 entry takes WRITE from a 2 MiB page. */
	map_ok(s, UPPER_BASE, 0, PAGE_SIZE_2M, rwu);
	p = path_of(s, UPPER_BASE);
	cr_assert_eq(p.depth, 3u);
	*entry_at(s, &p, 0) &= ~PTE_WRITABLE;
	expect_mapped(s, UPPER_BASE + 0x12345, 0x12345, PAGE_SIZE_2M, PAGE_USER);
}

TEST_BOTH(flags, user_page_opens_kernel_only_tables, true)
{
	struct pt_path p;

	/* In an empty subtree the new tables are made user-accessible as they are linked. */
	map_ok(s, UPPER_BASE, 0, PAGE_SIZE, PAGE_USER);
	cr_assert_eq(flushes(s), 0, "new entries for a user page need no flush");
	p = path_of(s, UPPER_BASE);
	for (unsigned step = 0; step < 3; step++)
		cr_assert_neq(p.entry[step] & PTE_USER, 0, "step %u made kernel-only", step);

	map_ok(s, BASE, 0x1000, PAGE_SIZE, PAGE_WRITE);
	p = path_of(s, BASE);
	for (unsigned step = 0; step < 3; step++)
		cr_assert_eq(p.entry[step] & PTE_USER, 0, "a kernel page made a user table entry");

	sim_records_reset(s);
	map_ok(s, BASE + PAGE_SIZE, 0x2000, PAGE_SIZE, PAGE_USER);
	p = path_of(s, BASE + PAGE_SIZE);
	for (unsigned step = 0; step < 3; step++)
		cr_assert_neq(p.entry[step] & PTE_USER, 0, "step %u not opened to user", step);
	cr_assert_eq(s->tlb.page_flushes, 1u, "opening present entries must be flushed");
	cr_assert(sim_tlb_flushed(s, BASE + PAGE_SIZE));
	expect_mapped(s, BASE, 0x1000, PAGE_SIZE, PAGE_WRITE);  /* the kernel page stays kernel-only */
	expect_mapped(s, BASE + PAGE_SIZE, 0x2000, PAGE_SIZE, PAGE_USER);

	sim_records_reset(s);
	map_ok(s, BASE + 2 * PAGE_SIZE, 0x3000, PAGE_SIZE, PAGE_USER);
	cr_assert_eq(flushes(s), 0, "nothing present changed");

	/* protect to USER opens the way too. */
	map_ok(s, UPPER_BASE + SLOT_SPAN, 0, PAGE_SIZE_2M, 0);
	expect_status(paging_protect(&s->space, UPPER_BASE + SLOT_SPAN, PAGE_USER), PAGING_OK, "protect");
	expect_mapped(s, UPPER_BASE + SLOT_SPAN, 0, PAGE_SIZE_2M, PAGE_USER);
}

TEST_BOTH(tlb, flushes_follow_changes_to_present_entries, true)
{
	uint64_t phys = 0, size = 0;

	map_ok(s, BASE, 0x1000, PAGE_SIZE, PAGE_WRITE);
	cr_assert_eq(flushes(s), 0, "a new mapping needs no flush");

	expect_status(paging_protect(&s->space, BASE, PAGE_WRITE), PAGING_OK, "protect");
	cr_assert_eq(flushes(s), 0, "protect without a change needs no flush");
	expect_status(paging_protect(&s->space, BASE, 0), PAGING_OK, "protect");
	cr_assert_eq(s->tlb.page_flushes, 1u);
	cr_assert_eq(s->tlb.log[0], BASE);

	sim_records_reset(s);
	expect_status(paging_unmap(&s->space, BASE, &phys, &size), PAGING_OK, "unmap");
	cr_assert_eq(phys, 0x1000);
	cr_assert_eq(size, PAGE_SIZE);
	cr_assert_eq(s->tlb.page_flushes, 1u);
	cr_assert_eq(s->tlb.full_flushes, 0u);
	cr_assert_eq(s->tlb.log[0], BASE);
	cr_assert_eq(s->frames.flushes_at_last_free, 1u, "tables were freed before the flush");
}

/* unmap_range of `pages` pages, with a neighbour keeping the page table alive. */
static void unmap_pages_and_count(struct sim_space *s, uint64_t pages)
{
	map_ok(s, BASE, 0, PAGE_SIZE, 0);
	expect_status(paging_map_range(&s->space, BASE + PAGE_SIZE, 0x100000, pages * PAGE_SIZE, 0), PAGING_OK,
	              "map_range");
	sim_records_reset(s);
	expect_status(paging_unmap_range(&s->space, BASE + PAGE_SIZE, pages * PAGE_SIZE), PAGING_OK, "unmap_range");
	expect_mapped(s, BASE, 0, PAGE_SIZE, 0);
	expect_status(paging_unmap(&s->space, BASE, NULL, NULL), PAGING_OK, "unmap");
}

TEST_BOTH(tlb, range_flushes_page_by_page_up_to_the_threshold, true)
{
	unmap_pages_and_count(s, 10);
	cr_assert_eq(s->tlb.page_flushes, 10u + 1, "ten pages, then the neighbour");
	for (uint64_t i = 0; i < 10; i++)
		cr_assert_eq(s->tlb.log[i], BASE + (i + 1) * PAGE_SIZE);

	unmap_pages_and_count(s, PAGING_FLUSH_ALL_THRESHOLD);
	cr_assert_eq(s->tlb.page_flushes, PAGING_FLUSH_ALL_THRESHOLD + 1u);
	cr_assert_eq(s->tlb.full_flushes, 0u);

	unmap_pages_and_count(s, PAGING_FLUSH_ALL_THRESHOLD + 1);
	cr_assert_eq(s->tlb.page_flushes, 1u, "only the neighbour page by page");
	cr_assert_eq(s->tlb.full_flushes, 1u, "past the threshold: one full flush");
	expect_nothing_mapped(s);
}

TEST_BOTH(tlb, range_flushes_before_freeing_tables, true)
{
	/* 40 pages over two page tables, nothing else: the first table empties after 20 pages, which
	 * are flushed before it is freed; the other 20 (and the rest of the tables) at the end. */
	uint64_t start = BASE + PAGE_SIZE_2M - 20 * PAGE_SIZE;

	expect_status(paging_map_range(&s->space, start, 0, 40 * PAGE_SIZE, 0), PAGING_OK, "map_range");
	expect_status(paging_unmap_range(&s->space, start, 40 * PAGE_SIZE), PAGING_OK, "unmap_range");
	cr_assert_eq(s->tlb.page_flushes, 40u);
	cr_assert_eq(s->tlb.full_flushes, 0u);
	cr_assert_eq(s->frames.flushes_at_last_free, 40u, "the last tables were freed before the last flushes");
	expect_nothing_mapped(s);
}

TEST_BOTH(tlb, failed_map_range_flushes_what_it_undid, true)
{
	uint64_t pages = PAGING_FLUSH_ALL_THRESHOLD + 8;

	map_ok(s, BASE + pages * PAGE_SIZE, 0, PAGE_SIZE, 0);
	sim_records_reset(s);
	expect_status(paging_map_range(&s->space, BASE, 0, (pages + 1) * PAGE_SIZE, 0), PAGING_ERR_ALREADY_MAPPED,
	              "map_range into a mapped page");
	cr_assert_eq(s->tlb.full_flushes, 1u);
	expect_unmapped(s, BASE, 1);
}

TEST_BOTH(tables, emptied_tables_are_freed_upward, true)
{
	map_ok(s, BASE, 0, PAGE_SIZE, 0);
	cr_assert_eq(sim_tables_in_use(s), 4u);
	sim_records_reset(s);
	expect_status(paging_unmap(&s->space, BASE, NULL, NULL), PAGING_OK, "unmap");
	cr_assert_eq(sim_tables_in_use(s), 1u);
	cr_assert_eq(s->forgets, 3u, "forget once per freed table");
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(s->forget_log[i].level, i + 1, "freed bottom-up");
		cr_assert_eq(s->forget_log[i].virt, BASE);
	}
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		cr_assert_eq(sim_table(s, s->space.root)[i], 0, "root entry %u left behind", i);

	/* A 1 GiB page: one table (the PDPT) to free. */
	map_ok(s, BASE, 0, PAGE_SIZE_1G, 0);
	cr_assert_eq(sim_tables_in_use(s), 2u);
	sim_records_reset(s);
	expect_status(paging_unmap(&s->space, BASE, NULL, NULL), PAGING_OK, "unmap 1G");
	cr_assert_eq(sim_tables_in_use(s), 1u);
	cr_assert_eq(s->forgets, 1u);
	cr_assert_eq(s->forget_log[0].level, 3u);
}

TEST_BOTH(tables, tables_with_entries_left_stay, true)
{
	/* A neighbour next door, and one at the far end of the same page table. */
	map_ok(s, BASE, 0, PAGE_SIZE, 0);
	map_ok(s, BASE + PAGE_SIZE, 0, PAGE_SIZE, 0);
	map_ok(s, BASE + 511 * PAGE_SIZE, 0, PAGE_SIZE, 0);
	sim_records_reset(s);
	expect_status(paging_unmap(&s->space, BASE + PAGE_SIZE, NULL, NULL), PAGING_OK, "unmap");
	expect_status(paging_unmap(&s->space, BASE, NULL, NULL), PAGING_OK, "unmap");
	cr_assert_eq(sim_tables_in_use(s), 4u);
	cr_assert_eq(s->forgets, 0u);
	expect_status(paging_unmap(&s->space, BASE + 511 * PAGE_SIZE, NULL, NULL), PAGING_OK, "unmap the last");
	cr_assert_eq(sim_tables_in_use(s), 1u);

	/* A 2 MiB page and a page table side by side in one page directory. */
	map_ok(s, BASE, 0, PAGE_SIZE_2M, 0);
	map_ok(s, BASE + PAGE_SIZE_2M + PAGE_SIZE, 0, PAGE_SIZE, 0);
	expect_status(paging_unmap(&s->space, BASE, NULL, NULL), PAGING_OK, "unmap 2M");
	cr_assert_eq(sim_tables_in_use(s), 4u, "the page directory still holds the page table");
	expect_status(paging_unmap(&s->space, BASE + PAGE_SIZE_2M + PAGE_SIZE, NULL, NULL), PAGING_OK, "unmap 4K");
	expect_nothing_mapped(s);
}

TEST_BOTH(unmap, only_at_the_start_of_a_mapping, true)
{
	uint64_t phys = 7, size = 7;

	map_ok(s, BASE, PAGE_SIZE_2M, PAGE_SIZE_2M, 0);
	expect_status(paging_unmap(&s->space, BASE + PAGE_SIZE, &phys, &size), PAGING_ERR_MISALIGNED, "interior");
	expect_status(paging_unmap(&s->space, BASE + 1, &phys, &size), PAGING_ERR_MISALIGNED, "interior byte");
	expect_status(paging_unmap(&s->space, BASE + PAGE_SIZE_2M, &phys, &size), PAGING_ERR_NOT_MAPPED, "next");
	expect_status(paging_protect(&s->space, BASE + PAGE_SIZE, 0), PAGING_ERR_MISALIGNED, "protect interior");
	expect_status(paging_protect(&s->space, BASE + PAGE_SIZE_2M, 0), PAGING_ERR_NOT_MAPPED, "protect next");
	cr_assert(phys == 7 && size == 7, "results written on failure");
	cr_assert_eq(flushes(s), 0);
	expect_status(paging_unmap(&s->space, BASE, &phys, &size), PAGING_OK, "unmap");
	cr_assert_eq(phys, PAGE_SIZE_2M);
	cr_assert_eq(size, PAGE_SIZE_2M);
	expect_nothing_mapped(s);
}

TEST_BOTH(protect, keeps_the_frame_and_hardware_bits, true)
{
	struct pt_path p;
	pte_t *leaf;

	map_ok(s, BASE, 3 * PAGE_SIZE_2M, PAGE_SIZE_2M, PAGE_WRITE);
	p = path_of(s, BASE);
	leaf = entry_at(s, &p, p.depth - 1);
	*leaf |= PTE_ACCESSED | PTE_DIRTY | UINT64_C(1) << 12;  /* as the MMU would; bit 12 is PAT here */
	expect_mapped(s, BASE + 0x1234, 3 * PAGE_SIZE_2M + 0x1234, PAGE_SIZE_2M, PAGE_WRITE);

	expect_status(paging_protect(&s->space, BASE, PAGE_NOEXEC | PAGE_GLOBAL), PAGING_OK, "protect");
	cr_assert_eq(*leaf & (PTE_ACCESSED | PTE_DIRTY | PTE_HUGE | UINT64_C(1) << 12),
	             PTE_ACCESSED | PTE_DIRTY | PTE_HUGE | UINT64_C(1) << 12, "protect lost hardware bits");
	cr_assert_eq(*leaf & PTE_WRITABLE, 0);
	expect_mapped(s, BASE + 0x1234, 3 * PAGE_SIZE_2M + 0x1234, PAGE_SIZE_2M, PAGE_NOEXEC | PAGE_GLOBAL);

	uint64_t phys = 0;

	expect_status(paging_unmap(&s->space, BASE, &phys, NULL), PAGING_OK, "unmap");
	cr_assert_eq(phys, 3 * PAGE_SIZE_2M, "the PAT bit is not part of the frame");
}

TEST_BOTH(ranges, map_range_picks_the_largest_pages, true)
{
	/* From 8 KiB below a GiB boundary: two pages, a GiB, two 2 MiB pages, three pages. */
	const uint64_t virt = BASE + PAGE_SIZE_1G - 2 * PAGE_SIZE;
	const uint64_t phys = 5 * PAGE_SIZE_1G - 2 * PAGE_SIZE;
	const uint64_t sizes[] = { PAGE_SIZE, PAGE_SIZE, PAGE_SIZE_1G, PAGE_SIZE_2M, PAGE_SIZE_2M,
	                           PAGE_SIZE, PAGE_SIZE, PAGE_SIZE };
	uint64_t length = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		length += sizes[i];
	expect_status(paging_map_range(&s->space, virt, phys, length, PAGE_WRITE), PAGING_OK, "map_range");

	struct visit_log log = visit_range(s, 0, 0);
	uint64_t offset = 0;

	cr_assert_eq(log.count, ARRAY_SIZE(sizes));
	for (size_t i = 0; i < log.count; offset += sizes[i], i++) {
		cr_assert_eq(log.m[i].size, sizes[i], "piece %zu: size %#llx", i, (unsigned long long)log.m[i].size);
		cr_assert_eq(log.m[i].virt, virt + offset);
		cr_assert_eq(log.m[i].phys, phys + offset);
		cr_assert_eq(log.m[i].flags, PAGE_WRITE);
	}
	free(log.m);
	expect_status(paging_unmap_range(&s->space, virt, length), PAGING_OK, "unmap_range");
	expect_nothing_mapped(s);

	/* Without 1 GiB pages, 2 MiB ones; with phys aligned differently from virt, 4 KiB ones. */
	s->space.allow_1g = false;
	expect_status(paging_map_range(&s->space, virt, phys, length, 0), PAGING_OK, "map_range without 1G");
	log = visit_range(s, 0, 0);
	cr_assert_eq(log.count, 2 + 514 + 3);
	cr_assert_eq(log.m[2].size, PAGE_SIZE_2M);
	cr_assert_eq(log.m[515].size, PAGE_SIZE_2M);
	free(log.m);
	expect_status(paging_unmap_range(&s->space, virt, length), PAGING_OK, "unmap_range");
	expect_status(paging_map_range(&s->space, BASE, PAGE_SIZE, 4 * MIB, 0), PAGING_OK, "map_range skewed");
	log = visit_range(s, 0, 0);
	cr_assert_eq(log.count, 1024u, "all 4 KiB pages");
	free(log.m);
}

TEST_BOTH(ranges, map_range_is_all_or_nothing, true)
{
	map_ok(s, BASE + 3 * MIB, 0, PAGE_SIZE, 0);
	uint64_t tables = sim_tables_in_use(s);

	expect_status(paging_map_range(&s->space, BASE, 0, 8 * MIB, 0), PAGING_ERR_ALREADY_MAPPED, "overlap");
	cr_assert_eq(sim_tables_in_use(s), tables);
	expect_status(paging_map_range(&s->space, BASE + 2 * MIB, 0, 4 * MIB, 0), PAGING_ERR_ALREADY_MAPPED,
	              "2M over a table");
	cr_assert_eq(sim_tables_in_use(s), tables);

	struct visit_log log = visit_range(s, 0, 0);

	cr_assert_eq(log.count, 1u, "the failed range left mappings behind");
	free(log.m);
	expect_status(paging_unmap(&s->space, BASE + 3 * MIB, NULL, NULL), PAGING_OK, "unmap");

	/* Two 2 MiB pages need a PDPT and a PD; the page after them a PT, which is not there. */
	s->frames.budget = 2;
	expect_status(paging_map_range(&s->space, UPPER_BASE, 0, 4 * MIB + PAGE_SIZE, 0), PAGING_ERR_NO_FRAMES,
	              "out of frames half way");
	s->frames.budget = SIM_UNLIMITED;
	expect_nothing_mapped(s);
}

TEST_BOTH(ranges, unmap_range_refuses_huge_pages_sticking_out, true)
{
	map_ok(s, BASE + PAGE_SIZE_2M, 0, PAGE_SIZE_2M, 0);
	map_ok(s, BASE + 2 * PAGE_SIZE_2M, PAGE_SIZE_2M, PAGE_SIZE_2M, 0);
	map_ok(s, BASE + 3 * PAGE_SIZE_2M, 0x5000, PAGE_SIZE, 0);

	expect_status(paging_unmap_range(&s->space, BASE + PAGE_SIZE_2M + PAGE_SIZE, PAGE_SIZE_2M),
	              PAGING_ERR_MISALIGNED, "first page sticks out");
	expect_status(paging_unmap_range(&s->space, BASE, 2 * PAGE_SIZE_2M + PAGE_SIZE), PAGING_ERR_MISALIGNED,
	              "last page sticks out");
	expect_status(paging_unmap_range(&s->space, BASE + 2 * PAGE_SIZE_2M, 4097), PAGING_ERR_MISALIGNED,
	              "unaligned length");
	cr_assert_eq(flushes(s), 0);

	struct visit_log log = visit_range(s, 0, 0);

	cr_assert_eq(log.count, 3u, "a refused unmap_range changed something");
	free(log.m);
	expect_status(paging_unmap_range(&s->space, BASE, 0), PAGING_OK, "empty range");
	expect_status(paging_unmap_range(&s->space, BASE + PAGE_SIZE_2M, 2 * PAGE_SIZE_2M), PAGING_OK, "exact range");
	expect_mapped(s, BASE + 3 * PAGE_SIZE_2M, 0x5000, PAGE_SIZE, 0);
}

TEST_BOTH(ranges, unmap_range_skips_holes, true)
{
	static const uint64_t pages[] = { BASE, BASE + 5 * MIB, BASE + 3 * GIB, BASE + 600 * GIB, BASE + 1000 * GIB };

	for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
		map_ok(s, pages[i], 0, PAGE_SIZE, 0);
	sim_records_reset(s);
	expect_status(paging_unmap_range(&s->space, 0, LOWER_END), PAGING_OK, "unmap the lower half");
	cr_assert_eq(s->tlb.page_flushes, ARRAY_SIZE(pages));
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
		cr_assert(sim_tlb_flushed(s, pages[i]));
	expect_nothing_mapped(s);
	sim_records_reset(s);
	expect_status(paging_unmap_range(&s->space, UPPER_START, UINT64_C(0) - UPPER_START), PAGING_OK,
	              "unmap the empty upper half");
	cr_assert_eq(flushes(s), 0);
}

TEST_BOTH(visit, lists_both_halves_in_order, true)
{
	static const struct model_map maps[] = {
		{ 0, 0x1000, PAGE_SIZE, 0 },
		{ LOWER_END - PAGE_SIZE_2M, 0x200000, PAGE_SIZE_2M, PAGE_WRITE },
		{ UPPER_START, 0x3000, PAGE_SIZE, PAGE_GLOBAL },
		{ UPPER_BASE, PAGE_SIZE_1G, PAGE_SIZE_1G, PAGE_NOEXEC },
		{ TOP_PAGE, 0x5000, PAGE_SIZE, PAGE_USER },
	};
	struct visit_log log;

	for (size_t i = 0; i < ARRAY_SIZE(maps); i++)
		map_ok(s, maps[i].virt, maps[i].phys, maps[i].size, maps[i].flags);
	log = visit_range(s, 0, 0);
	cr_assert_eq(log.count, ARRAY_SIZE(maps));
	for (size_t i = 0; i < log.count; i++) {
		cr_assert_eq(log.m[i].virt, maps[i].virt);
		cr_assert_eq(log.m[i].phys, maps[i].phys);
		cr_assert_eq(log.m[i].size, maps[i].size);
		cr_assert_eq(log.m[i].flags, maps[i].flags);
	}
	free(log.m);

	log = visit_range(s, UPPER_START, 0);
	cr_assert_eq(log.count, 3u, "the upper half only");
	free(log.m);
	log = visit_range(s, 0, LOWER_END);
	cr_assert_eq(log.count, 2u, "the lower half only");
	free(log.m);
	log = visit_range(s, LOWER_END - PAGE_SIZE, UPPER_START + 1);
	cr_assert_eq(log.count, 2u, "overlapping at both ends");
	cr_assert_eq(log.m[0].virt, LOWER_END - PAGE_SIZE_2M, "a huge page starting before `start`");
	free(log.m);
	log = visit_range(s, UPPER_BASE + PAGE_SIZE_1G, TOP_PAGE);
	cr_assert_eq(log.count, 0u, "end is exclusive");
	free(log.m);
	log = visit_range(s, UPPER_START, UPPER_START);
	cr_assert_eq(log.count, 0u, "an empty range");
	free(log.m);

	log = (struct visit_log){ .stop_after = 2 };
	paging_visit(&s->space, 0, 0, log_mapping, &log);
	cr_assert_eq(log.count, 2u, "the callback stops the visit");
	free(log.m);
}

TEST_BOTH(walk_path, shows_every_entry_on_the_way, true)
{
	struct pt_path p;

	map_ok(s, BASE + 5 * PAGE_SIZE, 0x9000, PAGE_SIZE, PAGE_WRITE);
	expect_status(paging_walk_path(&s->space, BASE + 5 * PAGE_SIZE + 7, &p), PAGING_OK, "walk_path");
	cr_assert_eq(p.depth, 4u);
	cr_assert_eq(p.table[0], s->space.root);
	for (unsigned step = 0; step < p.depth; step++) {
		cr_assert_eq(p.index[step], pt_index(BASE + 5 * PAGE_SIZE, PT_LEVELS - step));
		cr_assert_eq(p.entry[step], *entry_at(s, &p, step));
		if (step + 1 < p.depth)
			cr_assert_eq(p.table[step + 1], pte_addr(p.entry[step]));
	}
	cr_assert_eq(pte_addr(p.entry[3]), 0x9000);

	map_ok(s, UPPER_BASE, 0, PAGE_SIZE_2M, 0);
	expect_status(paging_walk_path(&s->space, UPPER_BASE + 99, &p), PAGING_OK, "walk_path 2M");
	cr_assert_eq(p.depth, 3u);
	cr_assert(pte_huge(p.entry[2]));

	expect_status(paging_walk_path(&s->space, BASE + PAGE_SIZE_1G, &p), PAGING_ERR_NOT_MAPPED, "absent");
	cr_assert_eq(p.depth, 2u, "down to the absent PDPT entry");
	cr_assert(!pte_present(p.entry[1]));
}

Test(paging, status_messages_are_distinct)
{
	const char *seen[PAGING_ERR_NOT_MAPPED + 2];

	for (int st = PAGING_OK; st <= PAGING_ERR_NOT_MAPPED + 1; st++) {
		seen[st] = paging_status_message((enum paging_status)st);
		cr_assert(seen[st] != NULL && seen[st][0] != '\0');
		for (int other = 0; other < st; other++)
			cr_assert_str_neq(seen[st], seen[other]);
	}
}

/* ---------------------------------------------------------------------------------------------
 * The test support must catch what it claims to catch.
 */

Test(sim_space, guard_poisons_the_slot_on_leave)
{
	struct sim_space s;
	pte_t *table;

	open_space(&s, SIM_ACCESS_GUARDED, true);
	table = s.access.enter(&s.access, s.space.root, PT_LEVELS, 0);
	cr_assert_eq(table[1], 0, "enter shows the table");
	table[1] = 1;
	cr_assert(!sim_guard_idle(&s));
	s.access.leave(&s.access, table, PT_LEVELS);
	cr_assert_eq(sim_table(&s, s.space.root)[1], 1u, "leave writes the slot back");
	cr_assert_eq(table[1], SIM_POISON_ENTRY, "a stale pointer reads poison");
	cr_assert(pte_present(table[1]) && pte_huge(table[1]), "poison that cannot pass for an absent entry");
	sim_table(&s, s.space.root)[1] = 0;
	close_space(&s);
}

Test(sim_space, guard_aborts_on_a_write_after_leave, .signal = SIGABRT)
{
	struct sim_space s;
	pte_t *table;

	open_space(&s, SIM_ACCESS_GUARDED, true);
	table = s.access.enter(&s.access, s.space.root, PT_LEVELS, 0);
	s.access.leave(&s.access, table, PT_LEVELS);
	table[7] = 0;
	s.access.enter(&s.access, s.space.root, PT_LEVELS, 0);
}

Test(sim_space, guard_aborts_on_double_enter, .signal = SIGABRT)
{
	struct sim_space s;

	open_space(&s, SIM_ACCESS_GUARDED, true);
	s.access.enter(&s.access, s.space.root, PT_LEVELS, 0);
	s.access.enter(&s.access, s.space.root, PT_LEVELS, 0);
}

Test(sim_space, guard_aborts_on_a_table_off_the_walk, .signal = SIGABRT)
{
	struct sim_space s;
	struct pt_path p;

	open_space(&s, SIM_ACCESS_GUARDED, true);
	map_ok(&s, BASE, 0, PAGE_SIZE, 0);
	p = path_of(&s, BASE);
	s.access.enter(&s.access, p.table[3], 1, BASE + PAGE_SIZE_1G);
}

Test(sim_space, frames_abort_on_double_free, .signal = SIGABRT)
{
	struct sim_space s;
	uint64_t pa;

	open_space(&s, SIM_ACCESS_OFFSET, true);
	cr_assert(s.space.frames.alloc(s.space.frames.ctx, &pa));
	s.space.frames.free(s.space.frames.ctx, pa);
	s.space.frames.free(s.space.frames.ctx, pa);
}
