/*
 * The mapper's argument rules, stated the way its documentation states them and not the way
 * mm/paging.c checks them, so the models of the host tests and of the paging fuzzer have an
 * oracle that does not share the code it judges.
 */
#ifndef FERRITE_HOST_PAGING_RULES_H
#define FERRITE_HOST_PAGING_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/page.h"
#include "mm/paging.h"

#define RULES_LOWER_END   UINT64_C(0x0000800000000000)  /* first address above the lower half */
#define RULES_UPPER_START UINT64_C(0xffff800000000000)  /* first address of the upper half */

/* What paging_map_range and paging_unmap_range answer for [virt, virt + length) before they
 * look at any table: misaligned first, then noncanonical unless the whole range lies in one
 * canonical half (an empty range needs a canonical start). */
static inline enum paging_status rules_virt_range(uint64_t virt, uint64_t length)
{
	if (virt % PAGE_SIZE != 0 || length % PAGE_SIZE != 0)
		return PAGING_ERR_MISALIGNED;
	bool in_lower = virt < RULES_LOWER_END && length <= RULES_LOWER_END - virt;
	bool in_upper = virt >= RULES_UPPER_START && (length == 0 || length - 1 <= UINT64_MAX - virt);
	return in_lower || in_upper ? PAGING_OK : PAGING_ERR_NONCANONICAL;
}

/* [phys, phys + length) lies below `limit`, the CPU's physical address width. */
static inline bool rules_phys_fits(uint64_t phys, uint64_t length, uint64_t limit)
{
	return phys <= limit && length <= limit - phys;
}

#endif
