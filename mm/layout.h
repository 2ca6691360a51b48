/*
 * ferrite's virtual address space.  Every fixed virtual address lives here.
 *
 *   0x0000000000000000  user half, unused by the kernel; page 0 is never mapped,
 *                       so a NULL dereference faults
 *   0x00007fffffffffff
 *   ------------------  non-canonical hole
 *   0xffff800000000000  PHYS_OFFSET: the direct map.  Physical address p is at
 *                       PHYS_OFFSET + p.  PML4 slots 256..383, 64 TiB, RW, NX.
 *   0xffffc00000000000  HEAP_BASE: the kernel heap, grown on demand up to a limit
 *                       set at boot.  PML4 slot 384, 512 GiB at most.
 *   0xffffc08000000000  SCRATCH_BASE: free-for-all window for tests and the
 *                       monitor's `map`.  PML4 slot 385.
 *   0xffffff0000000000  RECURSIVE_BASE: PML4 slot 510.  When paging=recursive,
 *                       PML4[510] points at the PML4 itself, and every page table
 *                       appears somewhere in this 512 GiB window.
 *   0xffffffff80000000  KERNEL_VMA: the kernel image, physical address p at
 *                       KERNEL_VMA + p (the top 2 GiB, for -mcmodel=kernel).
 *   0xffffffffffe00000  TEMP_MAP_BASE: the last 2 MiB.  When paging=temporary,
 *                       page tables are mapped one at a time into a few slots here.
 *
 * See docs/address-space.md for the reasons behind each choice.
 */
#ifndef FERRITE_MM_LAYOUT_H
#define FERRITE_MM_LAYOUT_H

#include "mm/page.h"

/* Slot 256 is the first slot of the higher half: the direct map starts right at the bottom
 * of kernel space, the place Linux's x86_64 layout also gives it. */
#define PHYS_OFFSET       UINT64_C(0xffff800000000000)
/* 128 PML4 slots.  Physical memory above this is not mapped and not used. */
#define DIRECT_MAP_SIZE   (UINT64_C(64) * TIB)

#define HEAP_BASE         UINT64_C(0xffffc00000000000)
#define HEAP_MAX_SIZE     (UINT64_C(512) * GIB)

#define SCRATCH_BASE      UINT64_C(0xffffc08000000000)
#define SCRATCH_SIZE      (UINT64_C(512) * GIB)

/* Not 511, which holds the kernel image, and not next to the direct map, so a stray index
 * into the direct map cannot land in the page tables. */
#define RECURSIVE_SLOT    510u
#define RECURSIVE_BASE    UINT64_C(0xffffff0000000000)

#define KERNEL_VMA        UINT64_C(0xffffffff80000000)

#define TEMP_MAP_BASE     UINT64_C(0xffffffffffe00000)

_Static_assert(PHYS_OFFSET + DIRECT_MAP_SIZE <= HEAP_BASE, "direct map runs into the heap");
_Static_assert(HEAP_BASE + HEAP_MAX_SIZE <= SCRATCH_BASE, "heap runs into the scratch window");
_Static_assert(SCRATCH_BASE + SCRATCH_SIZE <= RECURSIVE_BASE, "scratch window runs into the recursive window");
_Static_assert(RECURSIVE_BASE == (UINT64_C(0xffff000000000000) | ((uint64_t)RECURSIVE_SLOT << 39)),
               "RECURSIVE_BASE must be the start of PML4 slot RECURSIVE_SLOT");
_Static_assert(TEMP_MAP_BASE > KERNEL_VMA, "temporary-mapping slots must sit above the kernel image");

#endif
