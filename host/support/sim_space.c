#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/support/sim_space.h"
#include "lib/compiler.h"

static _Noreturn PRINTF_LIKE(1, 2) void sim_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sim_space: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

pte_t *sim_table(const struct sim_space *s, uint64_t pa)
{
	return simmem_ptr(&s->mem, pa);
}

/* ---------------------------------------------------------------------------------------------
 * The frame source.  Frame i (1..count) is at physical i * PAGE_SIZE; frame 0 is never handed
 * out, so a zero address in an entry can never be mistaken for a table.
 */

static bool frame_is_live(const struct sim_space *s, uint64_t pa)
{
	uint64_t i = pa / PAGE_SIZE;

	return is_aligned(pa, PAGE_SIZE) && i >= 1 && i <= s->frames.count && s->frames.live[i];
}

static bool table_is_zero(const struct sim_space *s, uint64_t pa)
{
	const pte_t *t = sim_table(s, pa);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		if (t[i] != 0)
			return false;
	}
	return true;
}

static bool frames_alloc(void *ctx, uint64_t *pa)
{
	struct sim_space *s = ctx;
	struct sim_frames *f = &s->frames;
	uint64_t frame = f->free_head;

	if (f->budget == 0 || frame == 0)
		return false;
	f->free_head = *sim_table(s, frame);  /* the free list runs through the free frames */
	if (f->budget != SIM_UNLIMITED)
		f->budget--;
	f->live[frame / PAGE_SIZE] = 1;
	f->allocs++;
	memset(sim_table(s, frame), 0, PAGE_SIZE);
	*pa = frame;
	return true;
}

static void frames_free(void *ctx, uint64_t pa)
{
	struct sim_space *s = ctx;
	struct sim_frames *f = &s->frames;

	if (!frame_is_live(s, pa))
		sim_fail("free of %#llx, which is not a live page-table frame", (unsigned long long)pa);
	if (!table_is_zero(s, pa))
		sim_fail("free of table %#llx, which still has entries", (unsigned long long)pa);
	f->live[pa / PAGE_SIZE] = 0;
	f->frees++;
	f->flushes_at_last_free = s->tlb.page_flushes + s->tlb.full_flushes;
	*sim_table(s, pa) = f->free_head;
	f->free_head = pa;
}

uint64_t sim_tables_in_use(const struct sim_space *s)
{
	return s->frames.allocs - s->frames.frees;
}

/* ---------------------------------------------------------------------------------------------
 * The TLB recorder.
 */

static void tlb_flush_page(void *ctx, uint64_t virt)
{
	struct sim_space *s = ctx;

	if (s->tlb.page_flushes < SIM_TLB_LOG)
		s->tlb.log[s->tlb.page_flushes] = virt;
	s->tlb.page_flushes++;
}

static void tlb_flush_all(void *ctx)
{
	struct sim_space *s = ctx;

	s->tlb.full_flushes++;
}

bool sim_tlb_flushed(const struct sim_space *s, uint64_t virt)
{
	uint64_t logged = s->tlb.page_flushes < SIM_TLB_LOG ? s->tlb.page_flushes : SIM_TLB_LOG;

	if (s->tlb.full_flushes > 0)
		return true;
	for (uint64_t i = 0; i < logged; i++) {
		if (s->tlb.log[i] == virt)
			return true;
	}
	return false;
}

void sim_records_reset(struct sim_space *s)
{
	s->tlb.page_flushes = 0;
	s->tlb.full_flushes = 0;
	s->forgets = 0;
}

/* ---------------------------------------------------------------------------------------------
 * The guarded access.
 */

static uint8_t *guard_slot(const struct sim_space *s, unsigned level)
{
	return s->guard.slots + (uint64_t)(level - 1) * PAGE_SIZE;
}

/* The current contents of the table at `pa`: its slot's copy while it is entered. */
static const pte_t *table_view(const struct sim_space *s, uint64_t pa)
{
	for (unsigned level = 1; level <= PT_LEVELS; level++) {
		if (s->guard.entered[level] == pa)
			return (const pte_t *)guard_slot(s, level);
	}
	return sim_table(s, pa);
}

/* The level-`level` table on the walk for `virt`, found by walking from the root independently
 * of the mapper; 0 if the walk ends (absent entry or huge page) above that level. */
static uint64_t table_on_walk(const struct sim_space *s, uint64_t virt, unsigned level)
{
	uint64_t pa = s->space.root;

	for (unsigned l = PT_LEVELS; l > level; l--) {
		pte_t e = table_view(s, pa)[pt_index(virt, l)];

		if (!pte_present(e) || (pte_huge(e) && l != PT_LEVELS))
			return 0;
		pa = pte_addr(e);
	}
	return pa;
}

static void check_level(unsigned level)
{
	if (level < 1 || level > PT_LEVELS)
		sim_fail("level %u out of range", level);
}

/* A slot not in use holds nothing but poison; anything else was written through a stale pointer. */
static void check_poisoned(const struct sim_space *s, unsigned level)
{
	const pte_t *slot = (const pte_t *)guard_slot(s, level);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		if (slot[i] != SIM_POISON_ENTRY)
			sim_fail("the slot of level %u was written after leave", level);
	}
}

static pte_t *guard_enter(struct pt_access *self, uint64_t table_pa, unsigned level, uint64_t virt)
{
	struct sim_space *s = self->ctx;
	uint8_t *slot;

	check_level(level);
	if (s->guard.entered[level] != 0)
		sim_fail("enter at level %u while its slot is in use", level);
	if (!frame_is_live(s, table_pa))
		sim_fail("enter of %#llx, which is not a live page table", (unsigned long long)table_pa);
	if (table_on_walk(s, virt, level) != table_pa)
		sim_fail("enter of %#llx at level %u, but the walk for %#llx does not lead there",
		         (unsigned long long)table_pa, level, (unsigned long long)virt);
	for (unsigned l = 1; l <= PT_LEVELS; l++) {
		if (s->guard.entered[l] == table_pa)
			sim_fail("table %#llx entered at levels %u and %u", (unsigned long long)table_pa, l, level);
	}
	check_poisoned(s, level);
	slot = guard_slot(s, level);
	memcpy(slot, sim_table(s, table_pa), PAGE_SIZE);
	s->guard.entered[level] = table_pa;
	s->guard.enters++;
	return (pte_t *)slot;
}

static void guard_leave(struct pt_access *self, pte_t *table, unsigned level)
{
	struct sim_space *s = self->ctx;
	uint8_t *slot;

	check_level(level);
	slot = guard_slot(s, level);
	if (s->guard.entered[level] == 0)
		sim_fail("leave at level %u, which was not entered", level);
	if ((uint8_t *)table != slot)
		sim_fail("leave at level %u with a pointer enter did not return", level);
	memcpy(sim_table(s, s->guard.entered[level]), slot, PAGE_SIZE);
	memset(slot, SIM_POISON_BYTE, PAGE_SIZE);
	s->guard.entered[level] = 0;
	s->guard.leaves++;
}

bool sim_guard_idle(const struct sim_space *s)
{
	for (unsigned level = 1; level <= PT_LEVELS; level++) {
		if (s->guard.entered[level] != 0)
			return false;
	}
	return s->guard.enters == s->guard.leaves;
}

/* Both accesses check forget: the table must be off the walk already, and not entered. */
static void record_forget(struct pt_access *self, unsigned level, uint64_t virt)
{
	struct sim_space *s = self->ctx;

	check_level(level);
	if (level == PT_LEVELS)
		sim_fail("forget of the root");
	if (table_on_walk(s, virt, level) != 0)
		sim_fail("forget at level %u while the walk for %#llx still reaches a table there", level,
		         (unsigned long long)virt);
	if (s->guard.entered[level] != 0)
		sim_fail("forget at level %u while its slot is in use", level);
	if (s->forgets < SIM_FORGET_LOG)
		s->forget_log[s->forgets] = (struct sim_forget){ .level = level, .virt = virt };
	s->forgets++;
}

/* ---------------------------------------------------------------------------------------------
 * Setting up.
 */

static bool frames_create(struct sim_space *s, uint64_t count)
{
	s->frames = (struct sim_frames){ .count = count, .budget = SIM_UNLIMITED };
	s->frames.live = calloc(count + 1, 1);
	if (s->frames.live == NULL)
		return false;
	for (uint64_t i = count; i >= 1; i--) {  /* lowest address first on the list */
		*sim_table(s, i * PAGE_SIZE) = s->frames.free_head;
		s->frames.free_head = i * PAGE_SIZE;
	}
	return true;
}

static bool access_create(struct sim_space *s, enum sim_access kind)
{
	s->access = (struct pt_access){ .forget = record_forget, .ctx = s };
	if (kind == SIM_ACCESS_OFFSET) {
		s->access.offset = simmem_offset(&s->mem);
		return true;
	}
	s->access.enter = guard_enter;
	s->access.leave = guard_leave;
	s->guard.slots = aligned_alloc(PAGE_SIZE, PT_LEVELS * PAGE_SIZE);
	if (s->guard.slots == NULL)
		return false;
	memset(s->guard.slots, SIM_POISON_BYTE, PT_LEVELS * PAGE_SIZE);
	return true;
}

bool sim_space_create(struct sim_space *s, const struct sim_space_config *cfg)
{
	uint64_t count = cfg->table_frames ? cfg->table_frames : SIM_DEFAULT_TABLE_FRAMES;
	uint64_t root;

	memset(s, 0, sizeof(*s));
	if (!simmem_create(&s->mem, (count + 1) * PAGE_SIZE))
		return false;
	if (!frames_create(s, count) || !access_create(s, cfg->access) || !frames_alloc(s, &root)) {
		sim_space_destroy(s);
		return false;
	}
	s->space = (struct addr_space){
		.root = root,
		.access = &s->access,
		.frames = { .alloc = frames_alloc, .free = frames_free, .ctx = s },
		.tlb = { .flush_page = tlb_flush_page, .flush_all = tlb_flush_all, .ctx = s },
		.allow_1g = cfg->allow_1g,
		.phys_limit = cfg->phys_limit ? cfg->phys_limit : PHYS_ADDR_LIMIT,
	};
	return true;
}

void sim_space_destroy(struct sim_space *s)
{
	free(s->guard.slots);
	free(s->frames.live);
	if (s->mem.base != NULL)
		simmem_destroy(&s->mem);
	memset(s, 0, sizeof(*s));
}
