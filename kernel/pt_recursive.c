/*
 * Recursive page tables: PML4[RECURSIVE_SLOT] points at the PML4 itself.  A virtual address
 * whose top index is the recursive slot makes the MMU stop one level early, so the "page" it
 * reaches is a page table.  Using the slot k times reaches the tables at level k:
 *
 *   PT   on the walk for v:  R  i4 i3 i2  (offset 0)
 *   PD                       R  R  i4 i3
 *   PDPT                     R  R  R  i4
 *   PML4                     R  R  R  R
 *
 * where R is RECURSIVE_SLOT and i4..i2 are v's own indices.  No physical address is needed:
 * tables are found by their position, which only works for the active address space.
 */
#include "arch/x86_64/cpu.h"
#include "kernel/pt_access.h"
#include "mm/layout.h"

uint64_t recursive_table_address(unsigned level, uint64_t virt)
{
	uint64_t va = RECURSIVE_BASE;
	unsigned walk_bits = 9 * (PT_LEVELS - level);   /* index bits of v that remain */

	for (unsigned i = 1; i < level; i++)
		va |= (uint64_t)RECURSIVE_SLOT << (39 - 9 * i);
	va |= (virt >> (9 * level)) & (((UINT64_C(1) << walk_bits) - 1) << PAGE_SHIFT);
	return va;
}

static pte_t *recursive_enter(struct pt_access *self, uint64_t table_pa, unsigned level, uint64_t virt)
{
	(void)self;
	(void)table_pa;
	return (pte_t *)recursive_table_address(level, virt);
}

/* A freed table's window address may still be in the TLB; the next table at that position
 * would otherwise be read through the stale translation. */
static void recursive_forget(struct pt_access *self, unsigned level, uint64_t virt)
{
	(void)self;
	invlpg(recursive_table_address(level, virt));
}

static struct pt_access recursive_access = {
	.enter = recursive_enter,
	.forget = recursive_forget,
};

/* The recursive entry is written once, at start-up, through the direct map. */
struct pt_access *pt_recursive_access(uint64_t root)
{
	pte_t *pml4 = (pte_t *)(PHYS_OFFSET + root);

	/* Writable so the mapper can edit tables through the window; never executable. */
	pml4[RECURSIVE_SLOT] = pte_table(root, false) | PTE_NX;
	return &recursive_access;
}
