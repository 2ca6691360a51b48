/*
 * fuzz_paging: the page-table walker and mapper, driven by the input as a program, against a model.
 *
 * The first bytes configure host/support/sim_space: the offset or the guarded (temporary-mapping
 * style) access, 1 GiB pages or not, the physical address width, and a budget of page-table
 * frames.  The rest is a sequence of map, unmap, protect, translate, map_range, unmap_range and
 * walk_path calls with every page size, valid and invalid: addresses are drawn near the interesting places
 * of the address space (the bottom, PML4 slot edges, the ends of both canonical halves, the hole
 * between them), sizes and flags are sometimes not sizes or flags at all, and the budget changes
 * on the way so that table allocation fails at every depth.
 *
 * The model is the list of mappings, page -> (frame, size, flags), sorted by address.  From it
 * alone it decides every status (in the order mm/paging.c documents its checks), which tables must
 * exist, and so how many frames a map needs and how many tables are in use.  After each call:
 * the status, the tables in use, the seam used in balanced pairs, translations of the touched
 * address and of a mapped page; after unmaps a TLB flush of every removed page, before any table
 * was freed.  Every VISIT_EVERY calls, and at the end, paging_visit must list exactly the model.
 * At the end everything is unmapped and only the root table may remain.
 */
#include <string.h>

#include "host/support/paging_rules.h"
#include "host/support/sim_space.h"
#include "mm/page.h"
#include "mm/paging.h"
#include "tests/fuzz/fuzz.h"

#define MODEL_MAX    512   /* mappings the model holds; calls that could exceed it are skipped */
#define MAX_PIECES   64    /* pages one map_range may create */
#define POOL_FRAMES  256   /* page-table frames in the simulation */
#define VISIT_EVERY  128   /* a visit walks the whole address space: costly with the guarded access */
#define UPPER_START  UINT64_C(0xffff800000000000)
#define LOWER_END    UINT64_C(0x0000800000000000)

struct mapping_model {
	uint64_t virt;
	uint64_t phys;
	uint64_t size;
	uint32_t flags;
};

struct model {
	struct mapping_model map[MODEL_MAX];
	size_t count;
	uint64_t budget;   /* table frames the simulation will still hand out, or SIM_UNLIMITED */
	uint64_t phys_limit;
	bool allow_1g;
};

static struct sim_space sim;
static struct model model;
static struct mapping visited[MODEL_MAX + 1];
static size_t visited_count;

static uint64_t span(unsigned level) { return pt_entry_span(level); }

static unsigned level_of(uint64_t size) { return size == PAGE_SIZE ? 1 : size == PAGE_SIZE_2M ? 2 : 3; }

/* ---------------------------------------------------------------------------------------------
 * The model.
 */

/* Index of the first mapping at or above `virt`. */
static size_t lower_bound(uint64_t virt)
{
	size_t lo = 0, hi = model.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (model.map[mid].virt < virt)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The mapping containing `virt`, or NULL. */
static const struct mapping_model *covering(uint64_t virt)
{
	size_t i = lower_bound(virt);

	if (i < model.count && model.map[i].virt == virt)
		return &model.map[i];
	if (i == 0)
		return NULL;
	const struct mapping_model *m = &model.map[i - 1];
	return virt - m->virt < m->size ? m : NULL;
}

/* True if a mapping starts in [virt, virt + size) (which may end at 2^64). */
static bool any_inside(uint64_t virt, uint64_t size)
{
	size_t i = lower_bound(virt);

	return i < model.count && model.map[i].virt - virt < size;
}

/* The table at `level` (1..3) on the walk for `virt` exists: tables are never left empty, so it
 * does when a mapping of its level or below lies in the region its parent entry covers. */
static bool table_exists(uint64_t virt, unsigned level)
{
	uint64_t region = align_down(virt, span(level + 1));

	for (size_t i = lower_bound(region); i < model.count && model.map[i].virt - region < span(level + 1); i++)
		if (model.map[i].size <= span(level))
			return true;
	return false;
}

/* Tables in use, the root included: per level, the regions holding a mapping of that level or below. */
static uint64_t tables_in_use(void)
{
	uint64_t tables = 1;

	for (unsigned level = 1; level <= 3; level++) {
		uint64_t last = 0;
		bool any = false;

		for (size_t i = 0; i < model.count; i++) {
			uint64_t region = align_down(model.map[i].virt, span(level + 1));
			if (model.map[i].size > span(level) || (any && region == last))
				continue;
			tables++;
			last = region;
			any = true;
		}
	}
	return tables;
}

static uint64_t frames_available(void)
{
	uint64_t pool = POOL_FRAMES - tables_in_use();

	return model.budget < pool ? model.budget : pool;
}

static void model_insert(uint64_t virt, uint64_t phys, uint64_t size, uint32_t flags)
{
	size_t i = lower_bound(virt);

	FUZZ_CHECK(model.count < MODEL_MAX, "model full");
	memmove(&model.map[i + 1], &model.map[i], (model.count - i) * sizeof model.map[0]);
	model.map[i] = (struct mapping_model){ virt, phys, size, flags };
	model.count++;
}

static void model_remove(size_t i)
{
	memmove(&model.map[i], &model.map[i + 1], (model.count - i - 1) * sizeof model.map[0]);
	model.count--;
}

static bool flags_valid(uint32_t flags) { return (flags & ~(uint32_t)PAGE_FLAGS_ALL) == 0; }

static uint64_t limit(void) { return model.phys_limit < PHYS_ADDR_LIMIT ? model.phys_limit : PHYS_ADDR_LIMIT; }

static bool phys_fits(uint64_t phys, uint64_t length) { return rules_phys_fits(phys, length, limit()); }

/* What paging_map must return, and how many table frames it takes from the budget: the tables it
 * adds, or, when they cannot all be had, the ones it got before giving them back. */
static enum paging_status expected_map(uint64_t virt, uint64_t phys, uint64_t size, uint32_t flags, uint64_t *spent)
{
	const struct mapping_model *cover;
	uint64_t needed = 0;

	*spent = 0;
	if (size != PAGE_SIZE && size != PAGE_SIZE_2M && !(size == PAGE_SIZE_1G && model.allow_1g))
		return PAGING_ERR_BAD_SIZE;
	if (!is_aligned(virt | phys, size))
		return PAGING_ERR_MISALIGNED;
	if (!is_canonical(virt))
		return PAGING_ERR_NONCANONICAL;
	if (!flags_valid(flags))
		return PAGING_ERR_BAD_FLAGS;
	if (!phys_fits(phys, size))
		return PAGING_ERR_BAD_PHYS;
	cover = covering(virt);
	if (cover != NULL && cover->size > size)
		return PAGING_ERR_PARENT_HUGE;
	if (cover != NULL || any_inside(virt, size))
		return PAGING_ERR_ALREADY_MAPPED;
	for (unsigned level = level_of(size); level <= 3; level++)
		needed += !table_exists(virt, level);
	if (needed > frames_available()) {
		*spent = frames_available();
		return PAGING_ERR_NO_FRAMES;
	}
	*spent = needed;
	return PAGING_OK;
}

/* The page paging_map_range uses at virt -> phys with `remaining` bytes to go: the largest that fits. */
static uint64_t piece_size(uint64_t virt, uint64_t phys, uint64_t remaining)
{
	for (unsigned level = model.allow_1g ? 3 : 2; level > 1; level--)
		if (is_aligned(virt | phys, span(level)) && remaining >= span(level))
			return span(level);
	return PAGE_SIZE;
}

/* ---------------------------------------------------------------------------------------------
 * Checks against the simulation.
 */

static void check_status(enum paging_status got, enum paging_status want, const char *call, uint64_t virt)
{
	FUZZ_CHECK(got == want, "%s(%#llx): \"%s\", the model says \"%s\"", call, (unsigned long long)virt,
	           paging_status_message(got), paging_status_message(want));
}

static void check_translation(uint64_t virt)
{
	struct translation t = paging_translate(&sim.space, virt);
	const struct mapping_model *m = covering(virt);

	if (!is_canonical(virt)) {
		FUZZ_CHECK(t.status == PAGING_ERR_NONCANONICAL, "translate(%#llx) of a non-canonical address: %s",
		           (unsigned long long)virt, paging_status_message(t.status));
		return;
	}
	if (m == NULL) {
		unsigned level = 4;
		while (level > 1 && table_exists(virt, level - 1))
			level--;
		FUZZ_CHECK(t.status == PAGING_ERR_NOT_MAPPED && t.level == level, "translate(%#llx): %s at level %u, the model says not mapped at level %u",
		           (unsigned long long)virt, paging_status_message(t.status), t.level, level);
		return;
	}
	FUZZ_CHECK(t.status == PAGING_OK && t.phys == m->phys + (virt - m->virt) && t.page_size == m->size &&
	                   t.level == level_of(m->size) && t.flags == m->flags,
	           "translate(%#llx): %s phys %#llx size %#llx flags %#x, the model says phys %#llx size %#llx flags %#x",
	           (unsigned long long)virt, paging_status_message(t.status), (unsigned long long)t.phys,
	           (unsigned long long)t.page_size, t.flags, (unsigned long long)(m->phys + (virt - m->virt)),
	           (unsigned long long)m->size, m->flags);
}

/* paging_walk_path agrees with the model: the entries from the PML4 down to the leaf, or to the
 * absent entry where the walk ends. */
static void check_walk_path(uint64_t virt)
{
	static struct pt_path path;
	enum paging_status s = paging_walk_path(&sim.space, virt, &path);
	const struct mapping_model *m = covering(virt);
	unsigned last_level = PT_LEVELS + 1 - path.depth;

	if (!is_canonical(virt)) {
		FUZZ_CHECK(s == PAGING_ERR_NONCANONICAL && path.depth == 0, "walk_path of a non-canonical address");
		return;
	}
	check_status(s, m ? PAGING_OK : PAGING_ERR_NOT_MAPPED, "walk_path", virt);
	FUZZ_CHECK(path.depth >= 1 && path.depth <= PT_LEVELS && path.table[0] == sim.space.root, "walk_path depth %u",
	           path.depth);
	for (unsigned i = 0; i < path.depth; i++)
		FUZZ_CHECK(path.index[i] == pt_index(virt, PT_LEVELS - i) && (i == 0 || path.table[i] == pte_addr(path.entry[i - 1])),
		           "walk_path step %u does not follow the entries", i);
	if (m) {
		FUZZ_CHECK(last_level == level_of(m->size) && pte_present(path.entry[path.depth - 1]) &&
		                   align_down(pte_addr(path.entry[path.depth - 1]), m->size) == m->phys,
		           "walk_path of %#llx does not end at its leaf", (unsigned long long)virt);
	} else {
		FUZZ_CHECK(!pte_present(path.entry[path.depth - 1]), "walk_path of an unmapped %#llx ends at a present entry",
		           (unsigned long long)virt);
	}
}

static void check_tables(void)
{
	FUZZ_CHECK(sim_tables_in_use(&sim) == tables_in_use(), "%llu tables in use, the model says %llu",
	           (unsigned long long)sim_tables_in_use(&sim), (unsigned long long)tables_in_use());
	FUZZ_CHECK(sim_guard_idle(&sim), "enter and leave unbalanced");
}

static bool record_mapping(void *ctx, const struct mapping *m)
{
	(void)ctx;
	visited[visited_count++] = *m;
	return visited_count < MODEL_MAX + 1;
}

/* paging_visit over everything lists exactly the model, in address order. */
static void check_visit(void)
{
	visited_count = 0;
	paging_visit(&sim.space, 0, 0, record_mapping, NULL);
	FUZZ_CHECK(visited_count == model.count, "visit found %zu mappings, the model has %zu", visited_count, model.count);
	for (size_t i = 0; i < model.count; i++) {
		const struct mapping *v = &visited[i];
		const struct mapping_model *m = &model.map[i];
		FUZZ_CHECK(v->virt == m->virt && v->phys == m->phys && v->size == m->size && v->level == level_of(m->size) &&
		                   v->flags == m->flags,
		           "visit %zu: %#llx -> %#llx size %#llx flags %#x, the model says %#llx -> %#llx size %#llx flags %#x", i,
		           (unsigned long long)v->virt, (unsigned long long)v->phys, (unsigned long long)v->size, v->flags,
		           (unsigned long long)m->virt, (unsigned long long)m->phys, (unsigned long long)m->size, m->flags);
	}
}

/* A table freed by the last call was freed after a TLB flush, never before. */
static void check_flush_before_free(uint64_t frees_before)
{
	if (sim.frames.frees != frees_before)
		FUZZ_CHECK(sim.frames.flushes_at_last_free > 0, "a page table was freed before any TLB flush");
}

/* ---------------------------------------------------------------------------------------------
 * Operations.
 */

static void spend(uint64_t frames)
{
	if (model.budget != SIM_UNLIMITED)
		model.budget -= frames;
}

static void op_map(uint64_t virt, uint64_t phys, uint64_t size, uint32_t flags)
{
	uint64_t spent;
	enum paging_status want = expected_map(virt, phys, size, flags, &spent);

	if (want == PAGING_OK && model.count == MODEL_MAX)
		return;
	check_status(paging_map(&sim.space, virt, phys, size, flags), want, "map", virt);
	spend(spent);
	if (want == PAGING_OK)
		model_insert(virt, phys, size, flags);
}

static void op_unmap(uint64_t virt)
{
	const struct mapping_model *m = covering(virt);
	enum paging_status want = !is_canonical(virt) ? PAGING_ERR_NONCANONICAL
	                          : m == NULL         ? PAGING_ERR_NOT_MAPPED
	                          : m->virt != virt   ? PAGING_ERR_MISALIGNED
	                                              : PAGING_OK;
	uint64_t phys = 1, size = 1, frees = sim.frames.frees;

	sim_records_reset(&sim);
	check_status(paging_unmap(&sim.space, virt, &phys, &size), want, "unmap", virt);
	if (want != PAGING_OK) {
		FUZZ_CHECK(phys == 1 && size == 1, "a refused unmap wrote its results");
		return;
	}
	FUZZ_CHECK(phys == m->phys && size == m->size, "unmap(%#llx) returned %#llx size %#llx, the model says %#llx size %#llx",
	           (unsigned long long)virt, (unsigned long long)phys, (unsigned long long)size,
	           (unsigned long long)m->phys, (unsigned long long)m->size);
	model_remove((size_t)(m - model.map));
	FUZZ_CHECK(sim_tlb_flushed(&sim, virt), "unmap(%#llx) did not flush it", (unsigned long long)virt);
	check_flush_before_free(frees);
}

static void op_protect(uint64_t virt, uint32_t flags)
{
	struct mapping_model *m = (struct mapping_model *)covering(virt);
	enum paging_status want = !flags_valid(flags)  ? PAGING_ERR_BAD_FLAGS
	                          : !is_canonical(virt) ? PAGING_ERR_NONCANONICAL
	                          : m == NULL           ? PAGING_ERR_NOT_MAPPED
	                          : m->virt != virt     ? PAGING_ERR_MISALIGNED
	                                                : PAGING_OK;

	sim_records_reset(&sim);
	check_status(paging_protect(&sim.space, virt, flags), want, "protect", virt);
	if (want != PAGING_OK)
		return;
	if (m->flags != flags)
		FUZZ_CHECK(sim_tlb_flushed(&sim, virt), "protect(%#llx) changed the flags without a flush", (unsigned long long)virt);
	m->flags = flags;
}

/* Runs the model of paging_map_range piece by piece; on a failure takes back the pieces mapped. */
static enum paging_status model_map_range(uint64_t virt, uint64_t phys, uint64_t length, uint32_t flags)
{
	size_t first = model.count;
	uint64_t done = 0, size, spent;

	for (; done < length; done += size) {
		size = piece_size(virt + done, phys + done, length - done);
		enum paging_status s = expected_map(virt + done, phys + done, size, flags, &spent);
		spend(spent);
		if (s != PAGING_OK) {
			for (size_t i = model.count; i-- > 0;)
				if (model.map[i].virt - virt < done)
					model_remove(i);
			FUZZ_CHECK(model.count == first, "model rollback went wrong");
			return s;
		}
		model_insert(virt + done, phys + done, size, flags);
	}
	return PAGING_OK;
}

/* How many pages map_range would create, up to MAX_PIECES + 1. */
static size_t count_pieces(uint64_t virt, uint64_t phys, uint64_t length)
{
	size_t n = 0;

	for (uint64_t done = 0; done < length && n <= MAX_PIECES; n++)
		done += piece_size(virt + done, phys + done, length - done);
	return n;
}

static void op_map_range(uint64_t virt, uint64_t phys, uint64_t length, uint32_t flags)
{
	enum paging_status want = !is_aligned(phys, PAGE_SIZE) ? PAGING_ERR_MISALIGNED : rules_virt_range(virt, length);

	if (want == PAGING_OK && !flags_valid(flags))
		want = PAGING_ERR_BAD_FLAGS;
	if (want == PAGING_OK && !phys_fits(phys, length))
		want = PAGING_ERR_BAD_PHYS;
	if (want == PAGING_OK) {
		size_t pieces = count_pieces(virt, phys, length);
		if (pieces > MAX_PIECES || model.count + pieces > MODEL_MAX)
			return;  /* more than the model holds */
		want = model_map_range(virt, phys, length, flags);
	}
	check_status(paging_map_range(&sim.space, virt, phys, length, flags), want, "map_range", virt);
}

/* A mapping that holds `virt` and reaches outside [first, last]. */
static bool sticks_out(uint64_t virt, uint64_t first, uint64_t last)
{
	const struct mapping_model *m = covering(virt);

	return m != NULL && (m->virt < first || m->virt + (m->size - 1) > last);
}

static void op_unmap_range(uint64_t virt, uint64_t length)
{
	enum paging_status want = rules_virt_range(virt, length);
	uint64_t last = virt + length - 1, frees = sim.frames.frees;
	static uint64_t removed[MODEL_MAX];
	size_t n = 0;

	if (want == PAGING_OK && length != 0 && (sticks_out(virt, virt, last) || sticks_out(last, virt, last)))
		want = PAGING_ERR_MISALIGNED;
	sim_records_reset(&sim);
	check_status(paging_unmap_range(&sim.space, virt, length), want, "unmap_range", virt);
	if (want != PAGING_OK || length == 0)
		return;
	for (size_t i = model.count; i-- > 0;) {
		if (model.map[i].virt - virt <= last - virt) {
			removed[n++] = model.map[i].virt;
			model_remove(i);
		}
	}
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(sim_tlb_flushed(&sim, removed[i]), "unmap_range did not flush %#llx", (unsigned long long)removed[i]);
	check_flush_before_free(frees);
}

static void op_budget(uint8_t byte)
{
	model.budget = byte == 0xff ? SIM_UNLIMITED : byte % 16;
	sim.frames.budget = model.budget;
}

/* ---------------------------------------------------------------------------------------------
 * Arguments from the input.
 */

/* Places where tables begin and end: the bottom, PML4 slot edges, both ends of each canonical
 * half, and the first non-canonical address. */
static const uint64_t areas[8] = {
	0,
	UINT64_C(512) << 30,
	UINT64_C(64) << 30,
	LOWER_END - (UINT64_C(512) << 30),
	LOWER_END,
	UPPER_START,
	UINT64_C(0xffffff8000000000),
	UINT64_C(0x0000400000000000),
};

static uint64_t read_unit(uint8_t bits)
{
	static const uint64_t units[4] = { PAGE_SIZE, PAGE_SIZE_2M, PAGE_SIZE_1G, 1 };

	return units[bits & 3];
}

/* Half of the time a mapped page, at its start or inside; else near one of the areas. */
static uint64_t read_virt(struct fuzz_input *in)
{
	uint8_t how = fuzz_u8(in);
	int64_t step = (int64_t)fuzz_u8(in) - 64;

	if ((how & 1) && model.count != 0) {
		const struct mapping_model *m = &model.map[fuzz_u16(in) % model.count];
		return how & 2 ? m->virt : m->virt + (uint64_t)(step & 0x7f) * read_unit(how >> 2) % m->size;
	}
	return areas[(how >> 1) & 7] + (uint64_t)step * read_unit(how >> 4);
}

static uint64_t read_phys(struct fuzz_input *in)
{
	uint8_t how = fuzz_u8(in);
	uint64_t step = fuzz_u8(in) * read_unit(how >> 2);

	switch (how & 3) {
	case 0:  return step;
	case 1:  return limit() - step - read_unit(how >> 4);  /* just below the limit, or crossing it */
	case 2:  return limit() + step;
	default: return fuzz_u64(in);
	}
}

static uint64_t read_size(struct fuzz_input *in)
{
	static const uint64_t sizes[16] = {
		PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE_2M, PAGE_SIZE_2M, PAGE_SIZE_2M,
		PAGE_SIZE_1G, PAGE_SIZE_1G, PAGE_SIZE_1G, 0, 2 * PAGE_SIZE, 4 * MIB, UINT64_C(512) << 30, UINT64_MAX,
	};

	return sizes[fuzz_u8(in) & 15];
}

/* Valid flags, most of the time. */
static uint32_t read_flags(struct fuzz_input *in)
{
	uint8_t byte = fuzz_u8(in);

	return (byte & 0xc0) == 0xc0 ? (uint32_t)byte << (byte & 7) : byte & PAGE_FLAGS_ALL;
}

static uint64_t read_length(struct fuzz_input *in)
{
	uint8_t how = fuzz_u8(in);
	uint64_t length = (fuzz_u8(in) % 24) * read_unit(how);

	if (how & 4)
		length += PAGE_SIZE * (how >> 5);
	if (how == 0xff)
		length = fuzz_u64(in);
	return length;
}

/* ---------------------------------------------------------------------------------------------
 * The run.
 */

static void step(struct fuzz_input *in)
{
	uint8_t op = fuzz_u8(in);
	uint64_t virt = read_virt(in);

	switch (op % 16) {
	case 0: case 1: case 2: case 3: {
		uint64_t phys = read_phys(in);
		uint64_t size = read_size(in);
		op_map(virt, phys, size, read_flags(in));
		break;
	}
	case 4: case 5:
		op_unmap(virt);
		break;
	case 6: case 7:
		op_protect(virt, read_flags(in));
		break;
	case 8: case 9: {
		uint64_t phys = read_phys(in);
		uint64_t length = read_length(in);
		op_map_range(virt, phys, length, read_flags(in));
		break;
	}
	case 10: case 11:
		op_unmap_range(virt, read_length(in));
		break;
	case 12:
		op_budget(fuzz_u8(in));
		break;
	case 13:
		check_walk_path(virt);
		break;
	case 14:
		break;  /* a translation only, below */
	default:
		if (op & 0x10)
			check_visit();
		break;
	}
	check_tables();
	check_translation(virt);
	if (model.count != 0) {
		const struct mapping_model *m = &model.map[(virt >> PAGE_SHIFT) % model.count];
		check_translation(m->virt + m->size - 1);
	}
}

/* Everything unmapped, one page at a time or both halves at once: only the root is left. */
static void unmap_everything(bool by_range)
{
	if (by_range) {
		op_unmap_range(0, LOWER_END);
		op_unmap_range(UPPER_START, 0 - UPPER_START);
	}
	while (model.count != 0)
		op_unmap(model.map[model.count - 1].virt);
	check_tables();
	check_visit();
	FUZZ_CHECK(sim_tables_in_use(&sim) == 1, "%llu tables left after unmapping everything",
	           (unsigned long long)sim_tables_in_use(&sim));
}

int fuzz_paging(const uint8_t *data, size_t size)
{
	static const uint64_t limits[4] = { UINT64_C(1) << 36, UINT64_C(1) << 40, UINT64_C(1) << 46, PHYS_ADDR_LIMIT };
	struct fuzz_input in = { data, size };
	uint8_t config = fuzz_u8(&in);
	struct sim_space_config cfg = {
		.access = config & 1 ? SIM_ACCESS_GUARDED : SIM_ACCESS_OFFSET,
		.allow_1g = config & 2,
		.phys_limit = limits[(config >> 2) & 3],
		.table_frames = POOL_FRAMES,
	};

	model = (struct model){ .phys_limit = cfg.phys_limit, .allow_1g = cfg.allow_1g, .budget = SIM_UNLIMITED };
	FUZZ_CHECK(sim_space_create(&sim, &cfg), "cannot create the simulated space");
	op_budget(fuzz_u8(&in));
	for (unsigned n = 1; !fuzz_done(&in); n++) {
		step(&in);
		if (n % VISIT_EVERY == 0)
			check_visit();
	}
	op_budget(0xff);
	unmap_everything(config & 16);
	sim_space_destroy(&sim);
	return 0;
}

FUZZ_ENTRY(fuzz_paging)
