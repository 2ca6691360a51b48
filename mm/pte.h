/*
 * x86_64 page-table entries (4-level paging).  Every bit twiddle on an entry goes through the
 * helpers here; the rest of the code reads and writes entries by name.
 *
 * Levels are numbered from the leaf up: 1 = page table (PT), 2 = page directory (PD),
 * 3 = page-directory-pointer table (PDPT), 4 = PML4.  A level-2 entry with PTE_HUGE maps
 * 2 MiB, a level-3 entry with PTE_HUGE maps 1 GiB.
 */
#ifndef FERRITE_MM_PTE_H
#define FERRITE_MM_PTE_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/page.h"

typedef uint64_t pte_t;

#define PTE_PRESENT   (UINT64_C(1) << 0)
#define PTE_WRITABLE  (UINT64_C(1) << 1)
#define PTE_USER      (UINT64_C(1) << 2)
#define PTE_PWT       (UINT64_C(1) << 3)   /* write-through */
#define PTE_PCD       (UINT64_C(1) << 4)   /* cache disable */
#define PTE_ACCESSED  (UINT64_C(1) << 5)
#define PTE_DIRTY     (UINT64_C(1) << 6)
#define PTE_HUGE      (UINT64_C(1) << 7)   /* PS: leaf at level 2 or 3 */
#define PTE_GLOBAL    (UINT64_C(1) << 8)
#define PTE_NX        (UINT64_C(1) << 63)

/* Bits 51..12 hold the frame address. */
#define PTE_ADDR_MASK UINT64_C(0x000ffffffffff000)

#define PT_ENTRIES 512
#define PT_LEVELS  4

/* Index of `virt` in the table at `level` (9 bits per level above the 12-bit page offset). */
static inline unsigned pt_index(uint64_t virt, unsigned level)
{
	return (unsigned)(virt >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

/* Bytes one entry at `level` covers: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
static inline uint64_t pt_entry_span(unsigned level)
{
	return UINT64_C(1) << (PAGE_SHIFT + 9 * (level - 1));
}

static inline bool pte_present(pte_t e) { return e & PTE_PRESENT; }
static inline bool pte_huge(pte_t e) { return e & PTE_HUGE; }
static inline uint64_t pte_addr(pte_t e) { return e & PTE_ADDR_MASK; }

/* An entry pointing to a next-level table.  Intermediate entries never restrict access: the
 * leaf decides, so they are writable, executable and user-accessible only if `user`. */
static inline pte_t pte_table(uint64_t table_pa, bool user)
{
	return (table_pa & PTE_ADDR_MASK) | PTE_PRESENT | PTE_WRITABLE | (user ? PTE_USER : 0);
}

/* A leaf entry; `bits` are PTE_* flag bits (PTE_HUGE included for 2 MiB and 1 GiB leaves). */
static inline pte_t pte_leaf(uint64_t frame_pa, uint64_t bits)
{
	return (frame_pa & PTE_ADDR_MASK) | bits | PTE_PRESENT;
}

#endif
