/*
 * Temporary mapping: a page table is reachable only while it is mapped into one of a few
 * virtual slots just below the top of the address space.  The walker holds at most one table
 * per level, so there is one slot per level; entering a table points that slot's PTE at the
 * table's frame and flushes the slot with invlpg.  A slot keeps its table after `leave`, so a
 * walk that revisits the same table (the common case) needs no invlpg.
 *
 * The slots' own page table must stay reachable without the slots: it maps itself into
 * SELF_SLOT.  It is set up once, at start-up, through the direct map; from then on the direct map
 * is never used to reach a page table.
 */
#include "arch/x86_64/cpu.h"
#include "kernel/pt_access.h"
#include "mm/layout.h"

#define SELF_SLOT 8   /* slot 1..4 hold tables of level 1..4 */

struct temporary_access {
	struct pt_access access;
	pte_t *slot_table;                   /* the slots' page table, at its SELF_SLOT address */
	uint64_t mapped[PT_LEVELS + 1];      /* frame each level's slot maps; 0 = none */
};

static struct temporary_access temporary;

uint64_t temporary_slot_address(unsigned slot)
{
	return TEMP_MAP_BASE + (uint64_t)slot * PAGE_SIZE;
}

static pte_t *temporary_enter(struct pt_access *self, uint64_t table_pa, unsigned level, uint64_t virt)
{
	struct temporary_access *t = (struct temporary_access *)self;
	uint64_t slot = temporary_slot_address(level);

	(void)virt;
	if (t->mapped[level] != table_pa) {
		t->slot_table[level] = pte_leaf(table_pa, PTE_WRITABLE | PTE_NX);
		invlpg(slot);
		t->mapped[level] = table_pa;
	}
	return (pte_t *)slot;
}

/* The table was freed: drop the slot's mapping so no alias to the frame survives. */
static void temporary_forget(struct pt_access *self, unsigned level, uint64_t virt)
{
	struct temporary_access *t = (struct temporary_access *)self;

	(void)virt;
	t->slot_table[level] = 0;
	invlpg(temporary_slot_address(level));
	t->mapped[level] = 0;
}

struct pt_access *pt_temporary_access(struct addr_space *space, enum paging_status *status)
{
	uint64_t first_slot = temporary_slot_address(1);
	uint64_t self_slot = temporary_slot_address(SELF_SLOT);
	struct pt_path path;

	/* Make the mapper build the slots' page table by mapping a slot (to the PML4's frame,
	 * read-only), map that table into SELF_SLOT, then drop the first mapping again. */
	*status = paging_map(space, first_slot, space->root, PAGE_SIZE, PAGE_NOEXEC);
	if (*status == PAGING_OK)
		*status = paging_walk_path(space, first_slot, &path);
	if (*status == PAGING_OK)
		*status = paging_map(space, self_slot, path.table[PT_LEVELS - 1], PAGE_SIZE, PAGE_WRITE | PAGE_NOEXEC);
	if (*status == PAGING_OK)
		*status = paging_unmap(space, first_slot, NULL, NULL);
	if (*status != PAGING_OK)
		return NULL;
	temporary.access.enter = temporary_enter;
	temporary.access.forget = temporary_forget;
	temporary.slot_table = (pte_t *)self_slot;
	return &temporary.access;
}
