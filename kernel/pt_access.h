/*
 * The kernel's three ways to reach its page tables, each a `struct pt_access` for the portable
 * walker (mm/paging.h).  docs/paging.md compares them.
 */
#ifndef FERRITE_KERNEL_PT_ACCESS_H
#define FERRITE_KERNEL_PT_ACCESS_H

#include "mm/paging.h"

/* Tables through the direct map: table at physical p is at PHYS_OFFSET + p. */
struct pt_access *pt_offset_access(void);

/* Installs PML4[RECURSIVE_SLOT] -> PML4 in the PML4 at `root` and returns the recursive access. */
struct pt_access *pt_recursive_access(uint64_t root);

/* Sets up the temporary-mapping slots in `space`, whose access must still be the offset one,
 * and returns the temporary access.  On error, returns NULL with *status set. */
struct pt_access *pt_temporary_access(struct addr_space *space, enum paging_status *status);

/* The virtual address of temporary slot `slot`. */
uint64_t temporary_slot_address(unsigned slot);

/* The virtual address at which the recursive technique sees the table at `level` on the walk
 * for `virt`. */
uint64_t recursive_table_address(unsigned level, uint64_t virt);

#endif
